package check

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// testClients builds the clients verify builds (adaptive retries, the throttle counter), aimed
// at endpoint: a local backend, or a fault proxy in front of one. attempts bounds retries so
// that tests of total failure end in seconds.
// hangGuard bounds the runs that must end promptly (a missing table, a table that never becomes
// ACTIVE within --timeout). It is a hang guard, not a performance figure: what it catches is a
// retry loop or a waiter that ignores its bound, which takes minutes.
const hangGuard = 30 * time.Second

func testClients(t *testing.T, endpoint string, attempts int) (Clients, *dynamodb.Client) {
	t.Helper()
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Adaptive: true, MaxAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	c := NewClients(cfg)
	return c, c.DynamoDB.(*dynamodb.Client)
}

type tableOpts struct {
	key         string
	onDemand    bool
	read, write int64
}

func createTable(t *testing.T, db *dynamodb.Client, name string, o tableOpts) {
	t.Helper()
	if o.key == "" {
		o.key = wallet.KeyAttribute
	}
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(o.key), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(o.key), AttributeType: types.ScalarAttributeTypeS}},
	}
	if o.onDemand {
		in.BillingMode = types.BillingModePayPerRequest
	} else {
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(max(o.read, 1)), WriteCapacityUnits: aws.Int64(max(o.write, 1))}
	}
	if _, err := db.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// items lists every key in a test's own table, read straight from the backend (not through any
// proxy or wrapper). Scanning is fine here: the table belongs to the test.
func items(t *testing.T, db *dynamodb.Client, table string) []string {
	t.Helper()
	var keys []string
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		for _, it := range page.Items {
			for _, v := range it {
				if s, ok := v.(*types.AttributeValueMemberS); ok {
					keys = append(keys, s.Value)
				}
			}
		}
	}
	return keys
}

func noItemsLeft(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	if left := items(t, db, table); len(left) > 0 {
		t.Fatalf("items left in %s: %v", table, left)
	}
}

func tableOptions(table string) Options {
	o := Defaults()
	o.Stack, o.Table, o.Region = "", table, "us-east-1"
	o.Timeout, o.CleanupTimeout = 30*time.Second, 15*time.Second
	return o
}

var writingChecks = []string{Roundtrip, ConditionalCreate, NoOverdraft, Transfer, ConcurrentIncrements, Cleanup}

var allChecks = append([]string{Discover, Active, Conformance}, writingChecks...)

func names(rep *Report) []string {
	var n []string
	for _, c := range rep.Checks {
		n = append(n, c.Name)
	}
	return n
}

// wantResults asserts which checks ran, in order, and which failed; on a mismatch it prints
// the whole report.
func wantResults(t *testing.T, rep *Report, ran []string, failed ...string) {
	t.Helper()
	var text strings.Builder
	_ = rep.WriteText(&text)
	t.Log("\n" + text.String())
	if strings.Join(names(rep), ",") != strings.Join(ran, ",") || strings.Join(rep.Failed(), ",") != strings.Join(failed, ",") {
		t.Fatalf("ran %v, failed %v; want ran %v, failed %v", names(rep), rep.Failed(), ran, failed)
	}
	if rep.Passed != (len(failed) == 0 && rep.LeftoverItems == 0 && !rep.Interrupted) {
		t.Fatalf("report Passed=%v with failed %v and %d left over", rep.Passed, rep.Failed(), rep.LeftoverItems)
	}
}

func detail(t *testing.T, rep *Report, name string) string {
	t.Helper()
	c, ok := rep.Check(name)
	if !ok {
		t.Fatalf("check %s did not run", name)
	}
	return c.Detail
}

func wantDetail(t *testing.T, rep *Report, name string, subs ...string) {
	t.Helper()
	d := detail(t, rep, name)
	for _, s := range subs {
		if !strings.Contains(d, s) {
			t.Errorf("%s detail %q does not mention %q", name, d, s)
		}
	}
}

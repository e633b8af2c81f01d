package sweep

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// moto is the package's one moto. moto keeps each account's and region's tables and stacks
// apart, so every test works in a lease of its own (newCloud) and a sweep in one never sees
// another test's tables, nor an earlier run's of the same test.
var moto *localcloud.Server

func TestMain(m *testing.M) {
	os.Exit(localcloud.MotoMain(m, func(s *localcloud.Server) { moto = s }))
}

type cloud struct {
	fixture.Cloud
	cw    *cloudwatch.Client
	lease localcloud.Lease
}

// newCloud leases the test its own account and region of the package's moto, points the
// environment at it (for the clients the code under test loads itself), and has the test's own
// clients there and, for the code under test, the CloudWatch client the sweep builds (moto
// needs its awsQuery protocol).
func newCloud(t testing.TB) *cloud {
	t.Helper()
	l := moto.Lease(t)
	l.SetEnv(t)
	fx := fixture.NewCloud(t, l.Region)
	return &cloud{fx, NewRegionClients(fx.Config).CloudWatch.(*cloudwatch.Client), l}
}

func (c *cloud) clients() RegionClients {
	return RegionClients{Region: c.Config.Region, DynamoDB: c.DynamoDB, CloudFormation: c.CloudFormation, CloudWatch: c.cw}
}

func (c *cloud) exists(t testing.TB, table string) bool {
	t.Helper()
	gone, err := isGone(context.Background(), c.DynamoDB, table)
	if err != nil {
		t.Fatal(err)
	}
	return !gone
}

func (c *cloud) stackLive(t testing.TB, stack string) bool {
	t.Helper()
	out, err := c.CloudFormation.DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		if strings.Contains(err.Error(), "does not exist") {
			return false
		}
		t.Fatal(err)
	}
	return out.Stacks[0].StackStatus != cfntypes.StackStatusDeleteComplete
}

func sweepOnce(t testing.TB, c *cloud, f Filter, o Options, includeProtected, yes bool) Report {
	t.Helper()
	ctx := context.Background()
	found := Survey(ctx, c.clients(), f, o)
	p := NewPlan([]Inventory{found}, f, cost.USEast1(), includeProtected)
	if !yes {
		return p.DryRun()
	}
	return Act(ctx, p, map[string]RegionClients{c.Config.Region: c.clients()}, o)
}

func byTable(r Report) map[string]Candidate {
	m := map[string]Candidate{}
	for _, c := range r.Candidates {
		m[c.Table] = c
	}
	return m
}

var wallet7d = map[string]string{"Project": "wallet", "Stack": "Wallet-live", "ExpiresAfter": "168h"}

func TestDecoysSurviveAndDryRunChangesNothing(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "decoy-untagged", nil, false)
	c.CreateTable(t, "decoy-other-project", map[string]string{"Project": "other", "Stack": "Gone-stack"}, false)
	c.CreateStack(t, "Wallet-live", fixture.TableDecl{Name: "decoy-live-wallet", Tags: wallet7d})
	c.CreateTable(t, "orphan-a", map[string]string{"Project": "wallet", "Stack": "Gone-stack"}, false)
	c.CreateTable(t, "orphan-b", map[string]string{"Project": "wallet", "aws:cloudformation:stack-name": "Gone-stack"}, false)
	c.CreateStack(t, "Wallet-expired", fixture.TableDecl{Name: "expired-dev", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-expired", "ExpiresAfter": "1s"}})

	f := Filter{Now: time.Now().Add(5 * time.Second)} // past the 1s expiry, far from the 168h one
	before := c.State(t)
	r := sweepOnce(t, c, f, Options{}, false, false)
	if after := c.State(t); after != before {
		t.Fatalf("a dry run changed the cloud:\nbefore\n%s\nafter\n%s", before, after)
	}
	got := byTable(r)
	if len(got) != 3 || got["orphan-a"].Action != WouldDelete || got["orphan-b"].Action != WouldDelete || got["expired-dev"].Stack != "Wallet-expired" {
		t.Fatalf("dry run candidates: %+v", r.Candidates)
	}
	if !slices.Equal(got["expired-dev"].Reasons, []Reason{Expired}) || r.MonthlySavingsUSD != cost.Round(3*0.5694) {
		t.Fatalf("expired-dev reasons %v, savings %v", got["expired-dev"].Reasons, r.MonthlySavingsUSD)
	}

	r = sweepOnce(t, c, f, Options{}, false, true)
	if r.Failures() != 0 || r.DryRun {
		t.Fatalf("sweep --yes: %+v", r)
	}
	for _, d := range []string{"decoy-untagged", "decoy-other-project", "decoy-live-wallet"} {
		if !c.exists(t, d) {
			t.Errorf("decoy %s was deleted", d)
		}
	}
	if !c.stackLive(t, "Wallet-live") {
		t.Error("the live, unexpired stack was deleted")
	}
	for _, gone := range []string{"orphan-a", "orphan-b", "expired-dev"} {
		if c.exists(t, gone) || byTable(r)[gone].Action != Deleted {
			t.Errorf("%s: still exists or not reported deleted (%+v)", gone, byTable(r)[gone])
		}
	}
	if c.stackLive(t, "Wallet-expired") {
		t.Error("the expired table's stack was not deleted: the table must go through its stack")
	}
}

// countingDB passes every call to the real client and counts ListTables pages.
type countingDB struct {
	DynamoDB
	lists atomic.Int32
}

func (d *countingDB) ListTables(ctx context.Context, in *dynamodb.ListTablesInput, o ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error) {
	d.lists.Add(1)
	return d.DynamoDB.ListTables(ctx, in, o...)
}

func TestEveryListTablesPageIsRead(t *testing.T) {
	c := newCloud(t)
	for i := range 7 {
		c.CreateTable(t, fmt.Sprintf("paged-%d", i), map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	}
	c.CreateTable(t, "paged-decoy", nil, false)
	cl := c.clients()
	spy := &countingDB{DynamoDB: c.DynamoDB}
	cl.DynamoDB = spy
	f := Filter{}
	found := Survey(t.Context(), cl, f, Options{PageLimit: 2})
	p := NewPlan([]Inventory{found}, f, cost.USEast1(), false)
	if len(p.Candidates) != 7 {
		t.Fatalf("found %d of 7 orphaned tables across pages of 2: %+v", len(p.Candidates), p.Candidates)
	}
	if n := spy.lists.Load(); n < 4 {
		t.Fatalf("8 tables in pages of 2 need at least 4 ListTables calls, made %d", n)
	}
}

// 105 tables: more than ListTables' default page of 100, with no Limit set at all.
func TestMoreThanOneDefaultPageIsFoundAndDeleted(t *testing.T) {
	c := newCloud(t)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range 105 {
		g.Go(func() error {
			c.CreateTable(t, fmt.Sprintf("many-%03d", i), map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
			return nil
		})
	}
	g.Wait()
	spy := &countingDB{DynamoDB: c.DynamoDB}
	cl := c.clients()
	cl.DynamoDB = spy
	found := Survey(t.Context(), cl, Filter{}, Options{})
	p := NewPlan([]Inventory{found}, Filter{}, cost.USEast1(), false)
	if len(p.Candidates) != 105 || spy.lists.Load() < 2 {
		t.Fatalf("found %d of 105 in %d ListTables calls", len(p.Candidates), spy.lists.Load())
	}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
	if r.Failures() != 0 || r.MonthlySavingsUSD != cost.Round(105*0.5694) {
		t.Fatalf("failures %d, savings %v: %+v", r.Failures(), r.MonthlySavingsUSD, r.Problems)
	}
	if left := c.State(t); left != "" {
		t.Fatalf("left behind:\n%s", left)
	}
}

func TestProtectedOrphanIsKeptUntilIncluded(t *testing.T) {
	c := newCloud(t)
	c.CreateStack(t, "Wallet-prod", fixture.TableDecl{Name: "prod-wallet", Retain: true, Protected: true, Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-prod"}})
	if err := deleteStackAndWait(t.Context(), c.CloudFormation, "Wallet-prod", time.Minute); err != nil {
		t.Fatal(err)
	}
	if !c.exists(t, "prod-wallet") {
		t.Fatal("moto did not honour DeletionPolicy Retain; the test needs it")
	}
	r := sweepOnce(t, c, Filter{}, Options{}, false, true)
	cd := byTable(r)["prod-wallet"]
	if !slices.Equal(cd.Reasons, []Reason{Orphaned}) || cd.Action != SkippedProtected || !cd.Protected || r.Failures() != 0 {
		t.Fatalf("protected orphan: %+v", cd)
	}
	if !c.exists(t, "prod-wallet") {
		t.Fatal("a protected table was deleted without --include-protected")
	}
	r = sweepOnce(t, c, Filter{}, Options{}, true, true)
	cd = byTable(r)["prod-wallet"]
	if cd.Action != Deleted || c.exists(t, "prod-wallet") || !strings.Contains(strings.Join(cd.Notes, ";"), "protection turned off") {
		t.Fatalf("with --include-protected: %+v", cd)
	}
}

func TestIdleTablesAreTheOnesWithoutConsumedCapacity(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "idle-busy", map[string]string{"Project": "wallet"}, false)
	c.CreateTable(t, "idle-quiet", map[string]string{"Project": "wallet"}, false)
	_, err := c.cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/DynamoDB"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("ConsumedReadCapacityUnits"),
			Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("idle-busy")}},
			Value:      aws.Float64(2),
			// Read since it was created: what was consumed before is an earlier table's.
			Timestamp: aws.Time(time.Now()),
			Unit:      cwtypes.StandardUnitCount,
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := Filter{IdleFor: time.Hour}
	r := sweepOnce(t, c, f, Options{}, false, false)
	got := byTable(r)
	if _, ok := got["idle-busy"]; ok {
		t.Errorf("a table read since it was created is not idle for an hour: %+v", got["idle-busy"])
	}
	if q, ok := got["idle-quiet"]; !ok || !slices.Equal(q.Reasons, []Reason{Idle}) {
		t.Errorf("idle-quiet should be a candidate for being idle: %+v", r.Candidates)
	}
	// Without --idle-for neither is a candidate: they have no stack and no expiry.
	if r := sweepOnce(t, c, Filter{}, Options{}, false, false); len(r.Candidates) != 0 {
		t.Errorf("without --idle-for: %+v", r.Candidates)
	}
}

// The idle check reads use as cost does (usage.Read): a global secondary index's reads are the
// table's use, and what a name consumed before the table was created is an earlier table's,
// which says nothing about this one.
func TestIdlenessIsJudgedOnTheTablesOwnLifeAndIndexes(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "idle-reborn", map[string]string{"Project": "wallet"}, false)
	createIndexedTable(t, c, "idle-indexed", "by-owner")
	now := time.Now()
	use := func(table, index string, at time.Time) cwtypes.MetricDatum {
		d := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}}
		if index != "" {
			d = append(d, cwtypes.Dimension{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String(index)})
		}
		return cwtypes.MetricDatum{MetricName: aws.String("ConsumedReadCapacityUnits"), Dimensions: d,
			Value: aws.Float64(3), Timestamp: aws.Time(at), Unit: cwtypes.StandardUnitCount}
	}
	_, err := c.cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/DynamoDB"),
		MetricData: []cwtypes.MetricDatum{
			use("idle-reborn", "", now.Add(-20*time.Minute)), // the name's previous table
			use("idle-indexed", "by-owner", now),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := byTable(sweepOnce(t, c, Filter{IdleFor: time.Hour}, Options{}, false, false))
	if r, ok := got["idle-reborn"]; !ok || !slices.Equal(r.Reasons, []Reason{Idle}) {
		t.Errorf("a table unused since its creation is idle, whatever an earlier table of its name did: %+v", r)
	}
	if i, ok := got["idle-indexed"]; ok {
		t.Errorf("a table read through its index is not idle: %+v", i)
	}
}

// createIndexedTable makes an on-demand table of ours with one global secondary index.
func createIndexedTable(t *testing.T, c *cloud, name, index string) {
	t.Helper()
	key := func(attr string) []dtypes.KeySchemaElement {
		return []dtypes.KeySchemaElement{{AttributeName: aws.String(attr), KeyType: dtypes.KeyTypeHash}}
	}
	err := fixture.CreateTableOnce(t, c.DynamoDB, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: dtypes.BillingModePayPerRequest,
		AttributeDefinitions: []dtypes.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: dtypes.ScalarAttributeTypeS},
			{AttributeName: aws.String("owner"), AttributeType: dtypes.ScalarAttributeTypeS},
		},
		KeySchema: key("pk"),
		GlobalSecondaryIndexes: []dtypes.GlobalSecondaryIndex{{IndexName: aws.String(index), KeySchema: key("owner"),
			Projection: &dtypes.Projection{ProjectionType: dtypes.ProjectionTypeAll}}},
		Tags: []dtypes.Tag{{Key: aws.String("Project"), Value: aws.String("wallet")}},
	})
	if err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

// failingDB makes DescribeTable fail for one table, as AccessDenied would on real AWS for a
// table outside the caller's policy: moto has no IAM enforcement by default, so this fault
// needs a fake in front of the real client.
type failingDB struct {
	DynamoDB
	table string
}

func (d failingDB) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if aws.ToString(in.TableName) == d.table {
		return nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed"}
	}
	return d.DynamoDB.DescribeTable(ctx, in, o...)
}

func TestOneUnreadableTableDoesNotStopTheListing(t *testing.T) {
	c := newCloud(t)
	for _, n := range []string{"unreadable-a", "unreadable-b", "unreadable-c"} {
		c.CreateTable(t, n, map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	}
	cl := c.clients()
	cl.DynamoDB = failingDB{c.DynamoDB, "unreadable-b"}
	found := Survey(t.Context(), cl, Filter{}, Options{})
	p := NewPlan([]Inventory{found}, Filter{}, cost.USEast1(), false)
	r := p.DryRun()
	if len(r.Candidates) != 2 || len(r.Problems) != 1 || r.Problems[0].Table != "unreadable-b" || !strings.Contains(r.Problems[0].Error, "AccessDenied") {
		t.Fatalf("candidates %+v, problems %+v", r.Candidates, r.Problems)
	}
	if r.Failures() != 1 {
		t.Fatal("a table the sweep could not read must count as a failure (exit 1)")
	}
}

func TestFailedExportKeepsTheTable(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "export-fails", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	c.CreateStack(t, "Wallet-exp-fail", fixture.TableDecl{Name: "export-fails-stack", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-exp-fail", "ExpiresAfter": "1s"}})
	o := Options{Export: func(context.Context, string, string) (string, error) { return "", errors.New("disk full") }}
	r := sweepOnce(t, c, Filter{Now: time.Now().Add(5 * time.Second)}, o, false, true)
	if r.Failures() != 2 {
		t.Fatalf("want both deletions failed, got %+v", r.Candidates)
	}
	for _, cd := range r.Candidates {
		if cd.Action != Failed || !strings.Contains(cd.Error, "disk full") || !c.exists(t, cd.Table) {
			t.Errorf("%s: %+v (and it must still exist)", cd.Table, cd)
		}
	}
	if !c.stackLive(t, "Wallet-exp-fail") {
		t.Error("the stack was deleted although its table's export failed")
	}
}

// scriptedProxy stands in front of moto and answers DynamoDB calls as script says, forwarding
// the rest: the honest way to produce what neither moto nor DynamoDB Local ever does (refuse for
// being busy, lose an answer), while the real SDK client, retryer and waiter run unchanged.
type scriptedProxy struct {
	URL   string
	calls map[string]*atomic.Int32
}

// proxyAnswer is what the script does with one call: forward it (zero value), answer with an
// error code instead, or forward it and then never answer (a frozen endpoint, a lost answer).
type proxyAnswer struct {
	code   string
	freeze bool
}

func newScriptedProxy(t *testing.T, upstream string, script func(op string, n int32) proxyAnswer) *scriptedProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &scriptedProxy{calls: map[string]*atomic.Int32{}}
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		op := target[strings.LastIndex(target, ".")+1:]
		mu.Lock()
		if p.calls[op] == nil {
			p.calls[op] = &atomic.Int32{}
		}
		n := p.calls[op].Add(1)
		mu.Unlock()
		a := script(op, n)
		switch {
		case a.code != "":
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"scripted"}`, a.code)
		case a.freeze:
			rp.ServeHTTP(httptest.NewRecorder(), r) // it happens upstream...
			<-r.Context().Done()                    // ...and the answer never comes
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

func (p *scriptedProxy) count(op string) int32 {
	if c := p.calls[op]; c != nil {
		return c.Load()
	}
	return 0
}

// proxiedClients are the sweep's own clients (NewRegionClients: its retryer, codes and attempts),
// aimed at the proxy. Only the back-off is cut to milliseconds, so a test of eight busy answers
// takes a second rather than the minute of real waiting.
func proxiedClients(t *testing.T, c *cloud, proxy string) RegionClients {
	t.Helper()
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Region: c.Config.Region})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(proxy)
	return NewRegionClients(cfg, func(o *dynamodb.Options) {
		if b, ok := o.Retryer.(busyDelays); ok {
			b.backoff = retry.NewExponentialJitterBackoff(20 * time.Millisecond)
			o.Retryer = b
		}
	})
}

// LimitExceededException and ResourceInUseException mean "try again shortly": the client the
// sweep builds retries them (and nothing else), a bounded number of times.
func TestBusyAnswersAreRetried(t *testing.T) {
	c := newCloud(t)
	for _, n := range []string{"busy-then-fine", "never-free", "denied"} {
		c.CreateTable(t, n, map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	}
	proxy := newScriptedProxy(t, os.Getenv("AWS_ENDPOINT_URL"), func(op string, n int32) proxyAnswer {
		if op != "DeleteTable" {
			return proxyAnswer{}
		}
		return proxyAnswer{code: []string{"LimitExceededException", "ResourceInUseException", "LimitExceededException"}[min(n-1, 2)]}
	})
	cl := proxiedClients(t, c, proxy.URL)
	attempts := int32(cl.DynamoDB.(*dynamodb.Client).Options().Retryer.MaxAttempts())
	if err := deleteTableAndWait(t.Context(), cl.DynamoDB, "never-free", time.Minute); err == nil || proxy.count("DeleteTable") != attempts {
		t.Fatalf("retries must be bounded: err %v after %d calls, want %d", err, proxy.count("DeleteTable"), attempts)
	}

	proxy = newScriptedProxy(t, os.Getenv("AWS_ENDPOINT_URL"), func(op string, n int32) proxyAnswer {
		if op == "DeleteTable" && n <= 3 {
			return proxyAnswer{code: []string{"LimitExceededException", "ResourceInUseException", "LimitExceededException"}[n-1]}
		}
		return proxyAnswer{}
	})
	cl = proxiedClients(t, c, proxy.URL)
	if err := deleteTableAndWait(t.Context(), cl.DynamoDB, "busy-then-fine", time.Minute); err != nil || proxy.count("DeleteTable") != 4 || c.exists(t, "busy-then-fine") {
		t.Fatalf("after 3 busy answers: err %v, %d calls (want nil, 4)", err, proxy.count("DeleteTable"))
	}

	proxy = newScriptedProxy(t, os.Getenv("AWS_ENDPOINT_URL"), func(op string, n int32) proxyAnswer {
		if op == "DeleteTable" {
			return proxyAnswer{code: "AccessDeniedException"}
		}
		return proxyAnswer{}
	})
	cl = proxiedClients(t, c, proxy.URL)
	if err := deleteTableAndWait(t.Context(), cl.DynamoDB, "denied", time.Minute); err == nil || proxy.count("DeleteTable") != 1 {
		t.Fatalf("a refusal must not be retried: err %v, %d calls", err, proxy.count("DeleteTable"))
	}
}

// A deletion whose answer is lost (the endpoint froze after acting, the sweep ran out of time) is
// re-checked on a fresh context: the table is gone, so it is reported deleted, not failed.
func TestALostAnswerIsRecheckedNotReportedFailed(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "lost-answer", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	proxy := newScriptedProxy(t, os.Getenv("AWS_ENDPOINT_URL"), func(op string, n int32) proxyAnswer {
		return proxyAnswer{freeze: op == "DeleteTable"}
	})
	cl := proxiedClients(t, c, proxy.URL)
	found := Survey(t.Context(), cl, Filter{}, Options{})
	p := NewPlan([]Inventory{found}, Filter{}, cost.USEast1(), false)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second) // the whole sweep's bound
	defer cancel()
	r := Act(ctx, p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	cd := byTable(r)["lost-answer"]
	if cd.Action != Deleted || !strings.Contains(strings.Join(cd.Notes, ";"), "the answer was lost") || c.exists(t, "lost-answer") {
		t.Fatalf("a table that is gone was reported %s (%q, notes %v)", cd.Action, cd.Error, cd.Notes)
	}
	if r.Failures() != 0 {
		t.Fatalf("failures %d: %+v", r.Failures(), r.Candidates)
	}
}

// The sweep lists the janitor's backups and earlier sweeps' (and only those), each kind apart,
// with what they cost to keep; it never deletes one.
func TestTheJanitorsAndTheSweepsBackupsAreListedAndKept(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "backed-up", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	janitors, err := TakeBackup(t.Context(), c.DynamoDB, "backed-up", BackupName(wallet.JanitorBackupPrefix, "backed-up", time.Now(), NewRun()), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sweeps, err := TakeBackup(t.Context(), c.DynamoDB, "backed-up", BackupName(wallet.SweepBackupPrefix, "backed-up", time.Now(), NewRun()), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TakeBackup(t.Context(), c.DynamoDB, "backed-up", "someone-elses-backup", time.Minute); err != nil {
		t.Fatal(err)
	}
	r := sweepOnce(t, c, Filter{}, Options{}, false, true)
	if len(r.JanitorBackups) != 1 || r.JanitorBackups[0].ARN != janitors || r.JanitorBackups[0].Table != "backed-up" {
		t.Fatalf("janitor backups %+v, want exactly %s", r.JanitorBackups, janitors)
	}
	if len(r.SweepBackups) != 1 || r.SweepBackups[0].ARN != sweeps || r.SweepBackupsMonthly != r.SweepBackups[0].MonthlyCostUSD {
		t.Fatalf("sweep backups %+v ($%v a month), want exactly %s, priced", r.SweepBackups, r.SweepBackupsMonthly, sweeps)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil || !strings.Contains(text.String(), "The janitor's backups, kept") || !strings.Contains(text.String(), janitors) ||
		!strings.Contains(text.String(), "Earlier sweeps' backups, kept") || !strings.Contains(text.String(), sweeps) {
		t.Fatalf("text report:\n%s", text.String())
	}
	all, err := c.DynamoDB.ListBackups(t.Context(), &dynamodb.ListBackupsInput{})
	if err != nil || len(all.BackupSummaries) != 3 {
		t.Fatalf("the sweep touched a backup: %v (%v)", all, err)
	}
}

// A stack replaced between the plan and the deletion (deleted and made again under the same
// name, as a redeploy does) is not what was planned: nothing of it is deleted.
func TestAStackReplacedSinceThePlanIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	decl := fixture.TableDecl{Name: "replaced-table", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-replaced"}}
	c.CreateStack(t, "Wallet-replaced", decl)
	p, err := PlanTeardown(t.Context(), c.clients(), "Wallet-replaced", cost.USEast1(), TeardownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := deleteStackAndWait(t.Context(), c.CloudFormation, "Wallet-replaced", time.Minute); err != nil {
		t.Fatal(err)
	}
	c.CreateStack(t, "Wallet-replaced", decl)
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
	if r.Stacks[0].Action != Failed || !strings.Contains(r.Stacks[0].Error, "replaced since it was planned") || !c.stackLive(t, "Wallet-replaced") || !c.exists(t, "replaced-table") {
		t.Fatalf("stack %+v, candidates %+v", r.Stacks[0], r.Candidates)
	}
}

// A table whose deletion fails is left as it was found: protection turned off for it is turned
// back on. The refusal is scripted in front of moto.
func TestProtectionComesBackWhenTheDeletionFails(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "protected-refused", map[string]string{"Project": "wallet", "Stack": "Gone"}, true)
	proxy := newScriptedProxy(t, os.Getenv("AWS_ENDPOINT_URL"), func(op string, n int32) proxyAnswer {
		if op == "DeleteTable" {
			return proxyAnswer{code: "ValidationException"}
		}
		return proxyAnswer{}
	})
	cl := proxiedClients(t, c, proxy.URL)
	p := NewPlan([]Inventory{Survey(t.Context(), cl, Filter{}, Options{})}, Filter{}, cost.USEast1(), true)
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	cd := byTable(r)["protected-refused"]
	out, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("protected-refused")})
	if err != nil {
		t.Fatal(err)
	}
	if cd.Action != Failed || !aws.ToBool(out.Table.DeletionProtectionEnabled) || !strings.Contains(strings.Join(cd.Notes, ";"), "turned back on") {
		t.Fatalf("%+v; protection now %v", cd, aws.ToBool(out.Table.DeletionProtectionEnabled))
	}
}

// The TeardownPolicy reads wallet stacks only: a Project=wallet table naming someone else's
// stack meets a refusal there, which is the policy working, not a missing permission. The
// table is left unjudged with a note, and nothing fails. The refusal is a fake in front of
// moto's CloudFormation (the enforced-IAM e2e suite covers real refusals).
type refusesForeignStacks struct{ CloudFormation }

func (f refusesForeignStacks) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	if !strings.HasPrefix(aws.ToString(in.StackName), wallet.StackPrefix) {
		return nil, &awsconf.Denied{Service: "CloudFormation", Operation: "DescribeStacks", Action: "cloudformation:DescribeStacks", Err: errors.New("refused")}
	}
	return f.CloudFormation.DescribeStacks(ctx, in, o...)
}

func TestAForeignStackThePolicyMayNotReadIsANote(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "in-big-app", map[string]string{"Project": "wallet", "Stack": "BigApp"}, false)
	cl := c.clients()
	cl.CloudFormation = refusesForeignStacks{c.CloudFormation}
	p := NewPlan([]Inventory{Survey(t.Context(), cl, Filter{}, Options{})}, Filter{}, cost.USEast1(), false)
	if len(p.Candidates) != 0 || len(p.Problems) != 0 || !strings.Contains(strings.Join(p.Notes, "\n"), "in-big-app: not judged: its stack BigApp is not a wallet stack") {
		t.Fatalf("candidates %+v, problems %+v, notes %v", p.Candidates, p.Problems, p.Notes)
	}
}

// wallet:keep=true holds a stack in a teardown too: naming the stack is not removing the tag.
func TestTeardownOfAStackHoldingAKeptTableDeletesNothing(t *testing.T) {
	c := newCloud(t)
	c.CreateStack(t, "Wallet-keeps", fixture.TableDecl{Name: "kept-in-stack", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-keeps", wallet.TagKeep: "true"}})
	p, err := PlanTeardown(t.Context(), c.clients(), "Wallet-keeps", cost.USEast1(), TeardownOptions{DeleteRetained: true, IncludeProtected: true})
	if err != nil {
		t.Fatal(err)
	}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
	if r.Stacks[0].Action != Kept || r.Candidates[0].Action != Kept || !c.stackLive(t, "Wallet-keeps") || !c.exists(t, "kept-in-stack") || r.Failures() != 0 {
		t.Fatalf("stack %+v, candidates %+v", r.Stacks[0], r.Candidates)
	}
}

package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// devTable mirrors what the CDK app synthesises for a dev stack: the table with its stack tags
// copied onto it, TTL on expires_at, point-in-time recovery, provisioned 1/1.
var devTable = fixture.TableDecl{
	Tags: map[string]string{"ExpiresAfter": "168h", "ManagedBy": "cdk", "Project": "wallet", "Stack": "Wallet-dev", "Stage": "dev"},
	TTL:  true,
	PITR: true,
}

// The checks against a stack created through moto's CloudFormation, so discovery, GetTemplate
// and conformance run for real. One moto for all cases, a stack per case.
func TestOnMotoStack(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	c := testClients(t, srv.Endpoint, 0)
	fx := fixture.NewCloud(t, "")
	db := fx.DynamoDB
	ctx := t.Context()

	stackOptions := func(stack string) Options {
		o := Defaults()
		o.Stack, o.AppDir, o.Region = stack, t.TempDir(), localcloud.Region
		o.Timeout, o.CleanupTimeout = 30*time.Second, 15*time.Second
		return o
	}

	t.Run("every check passes on a deployed stack", func(t *testing.T) {
		table := fx.Deploy(t, "Wallet-pass", devTable)[0]
		rep, err := Run(ctx, c, onMoto(stackOptions("Wallet-pass")))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		if rep.Table != table {
			t.Fatalf("report table %s, deployed %s", rep.Table, table)
		}
		wantDetail(t, rep, Discover, "stack Wallet-pass (CREATE_COMPLETE) → table "+table)
		wantDetail(t, rep, Conformance, "against the deployed template of stack Wallet-pass: 18 of 18 fields match")
		// moto does not implement idempotency tokens; the check says so instead of failing.
		wantDetail(t, rep, Transfer, "not supported by this endpoint: ClientRequestToken", "cancelled as a whole")
		fx.NoItems(t, table)
	})

	t.Run("drifted capacity fails conformance", func(t *testing.T) {
		table := fx.Deploy(t, "Wallet-drift", devTable)[0]
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}}); err != nil {
			t.Fatal(err)
		}
		o := stackOptions("Wallet-drift")
		o.ReadOnly = true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		wantDetail(t, rep, Conformance, "ProvisionedThroughput.ReadCapacityUnits declared 1, live 5")
		want := []Difference{
			{"ProvisionedThroughput.ReadCapacityUnits", "1", "5"},
			{"ProvisionedThroughput.WriteCapacityUnits", "1", "5"},
		}
		if !slices.Equal(rep.Differences, want) {
			t.Fatalf("differences %v, want %v", rep.Differences, want)
		}
	})

	t.Run("changed and undeclared tags are drift", func(t *testing.T) {
		table := fx.Deploy(t, "Wallet-tags", devTable)[0]
		arn := tableArn(t, db, table)
		if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: []types.Tag{
			{Key: aws.String("Project"), Value: aws.String("other")},
			{Key: aws.String("Owner"), Value: aws.String("someone")},
		}}); err != nil {
			t.Fatal(err)
		}
		o := stackOptions("Wallet-tags")
		o.ReadOnly = true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		want := []Difference{{"Tags.Project", "wallet", "other"}, {"Tags.Owner", "(absent)", "someone"}}
		if !slices.Equal(rep.Differences, want) {
			t.Fatalf("differences %v, want %v", rep.Differences, want)
		}
	})

	// moto's CloudFormation creates the table but ignores TimeToLiveSpecification and
	// PointInTimeRecoverySpecification: a real gap between declared and live, which
	// conformance must report where every difference counts (any endpoint that is not local).
	t.Run("settings the stack declared but the table lacks are drift", func(t *testing.T) {
		fx.CreateStack(t, "Wallet-nottl", devTable)
		strict := c
		strict.LocalEndpoint = "" // as on AWS
		o := stackOptions("Wallet-nottl")
		o.ReadOnly = true
		rep, err := Run(ctx, strict, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		wantDetail(t, rep, Conformance,
			"TimeToLiveSpecification.Enabled declared true, live false",
			"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled declared true, live false")
	})

	// What a user gets from a plain `cdk deploy` on moto: the table without TTL and PITR. On a
	// loopback endpoint that exact gap is reported, not failed; anything else still is drift.
	t.Run("on a local endpoint moto's CloudFormation gaps are noted, other drift still fails", func(t *testing.T) {
		if c.LocalEndpoint != srv.Endpoint {
			t.Fatalf("NewClients on %s: LocalEndpoint %q", srv.Endpoint, c.LocalEndpoint)
		}
		fx.CreateStack(t, "Wallet-localgap", devTable) // TTL and PITR never applied
		o := stackOptions("Wallet-localgap")
		o.ReadOnly = true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "not counted on the local endpoint "+srv.Endpoint,
			"TimeToLiveSpecification.Enabled declared true, live false",
			"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled declared true, live false")
		if len(rep.Differences) != 0 {
			t.Fatalf("the local gaps must not count as drift: %v", rep.Differences)
		}

		table := fx.CreateStack(t, "Wallet-localdrift", devTable)[0]
		if _, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)}}); err != nil {
			t.Fatal(err)
		}
		o = stackOptions("Wallet-localdrift")
		o.ReadOnly = true
		if rep, err = Run(ctx, c, o); err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		wantDetail(t, rep, Conformance, "ProvisionedThroughput.ReadCapacityUnits declared 1, live 5")
	})

	t.Run("without the deployed template, cdk.out then the essentials", func(t *testing.T) {
		fx.Deploy(t, "Wallet-notemplate", devTable)
		broken := Clients{DynamoDB: c.DynamoDB, CloudFormation: noTemplate{c.CloudFormation}, AutoScaling: c.AutoScaling}
		o := stackOptions("Wallet-notemplate")
		o.ReadOnly = true
		path := discover.CDKOutTemplate(o.AppDir, "Wallet-notemplate")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(fixture.Template(devTable)), 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := Run(ctx, broken, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "deployed template not used", "against "+path, "18 of 18 fields match")

		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		rep, err = Run(ctx, broken, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "essentials", "no template available")
	})

	t.Run("a --template file is the declared spec", func(t *testing.T) {
		table := fx.Deploy(t, "Wallet-file", devTable)[0]
		file := filepath.Join(t.TempDir(), "wallet.template.json")
		declared := devTable
		declared.Read = 2
		if err := os.WriteFile(file, []byte(fixture.Template(declared)), 0o644); err != nil {
			t.Fatal(err)
		}
		o := stackOptions("")
		o.Table, o.Template, o.ReadOnly = table, file, true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		wantDetail(t, rep, Conformance, "against --template "+file, "ProvisionedThroughput.ReadCapacityUnits declared 2, live 1")
	})

	t.Run("a missing stack is a discovery error, at once", func(t *testing.T) {
		start := time.Now()
		rep, err := Run(ctx, c, stackOptions("Wallet-missing"))
		var de *DiscoveryError
		if !errors.As(err, &de) || !errors.Is(err, discover.ErrStackNotFound) {
			t.Fatalf("want a DiscoveryError for a missing stack, got %v", err)
		}
		wantResults(t, rep, []string{Discover}, Discover)
		wantDetail(t, rep, Discover, "Wallet-missing", "--stack")
		if d := time.Since(start); d > hangGuard {
			t.Fatalf("took %s", d)
		}
	})
}

func tableArn(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Table.TableArn)
}

// noTemplate is a CloudFormation whose GetTemplate fails, as moto's sometimes does. (A refusal
// is not this: it stops the run, see iam_test.go.)
type noTemplate struct{ CloudFormation }

func (noTemplate) GetTemplate(context.Context, *cloudformation.GetTemplateInput, ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error) {
	return nil, errors.New("ValidationError: template not available")
}

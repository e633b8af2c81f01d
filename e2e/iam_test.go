package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/policy"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// teardownPolicyStack is the stack whose TeardownPolicy these tests hold to account: the
// janitor's, outside the wallet stacks the policy deletes.
const teardownPolicyStack = wallet.JanitorStackID

// denialHangGuard is a hang guard, not a performance figure: a denied command stops at its
// first refusal (well under a second on this machine); the guard only catches one that does not.
const denialHangGuard = 30 * time.Second

// TestLeastPrivilegeEnforced proves the shipped policies by enforcement, not by reading them: a
// real `cdk deploy`, then users holding copies of the deployed VerifyPolicy and TeardownPolicy
// (whole, or missing one action), then moto refusing whatever their policies do not allow while
// the verify binary runs as those users, exactly as a user's pipeline would.
//
// moto checks actions only: it sees every request's resource as "*", so each user's copy has
// Resource "*" in every statement and nothing else changed (policy.AnyResource). Which ARNs each
// statement names is the template tests' to prove (infra). IAM enforcement is switched on for
// the whole moto process, and this test has its moto to itself (setup starts one per test).
func TestLeastPrivilegeEnforced(t *testing.T) {
	e := setup(t)
	stack := wallet.StackName(wallet.StageDev)
	e.deploy(t, stack, nil)
	// The janitor's function is built for this machine: nothing here runs it, and a native build
	// is the one the Go build cache already holds.
	arch, err := lambdarie.Arch()
	if err != nil {
		t.Fatal(err)
	}
	e.deploy(t, teardownPolicyStack, map[string]string{contract.CtxJanitorArch: string(arch)})
	table := e.stackTable(t, stack)

	cfn, iamc := cloudformation.NewFromConfig(e.cfg), iam.NewFromConfig(e.cfg)
	verifyPolicy := deployedPolicy(t, cfn, iamc, stack, "VerifyPolicy").AnyResource().
		// moto asks for dynamodb:TransactWriteItems, an action AWS does not have: AWS authorises
		// a transaction by its items' own actions (PutItem, UpdateItem, DeleteItem,
		// ConditionCheckItem; "Using IAM with DynamoDB transactions"), which the policy grants.
		// Only this copy gets it, for moto's sake.
		With(policy.Statement{Sid: "MotoOnlyTransactWriteItems", Effect: "Allow", Action: policy.Strings{"dynamodb:TransactWriteItems"}, Resource: policy.Strings{"*"}})
	teardownPolicy := deployedPolicy(t, cfn, iamc, teardownPolicyStack, "TeardownPolicy").AnyResource().
		// moto names CloudWatch's actions by its endpoint prefix (monitoring:GetMetricData for
		// IAM's cloudwatch:GetMetricData): the copy allows each under both names, so taking the
		// IAM action out of the policy still takes it away.
		WithAlias("cloudwatch:", "monitoring:")

	users := map[string]policy.Document{
		"admin":    policy.AllowAll(), // the test's own hands: the test credentials stop working
		"verifier": verifyPolicy,
		"janitor":  teardownPolicy,
	}
	for _, m := range []struct {
		from   policy.Document
		prefix string
		action string
	}{
		{verifyPolicy, "verifier", "dynamodb:PutItem"},
		{verifyPolicy, "verifier", "dynamodb:UpdateItem"},
		{teardownPolicy, "janitor", "dynamodb:DeleteTable"},
		{teardownPolicy, "janitor", "cloudformation:DeleteStack"},
		{teardownPolicy, "janitor", "cloudformation:GetTemplate"},
		{teardownPolicy, "janitor", "dynamodb:Scan"},
		{teardownPolicy, "janitor", "dynamodb:CreateTable"},
	} {
		d, err := m.from.Without(m.action)
		if err != nil {
			t.Fatal(err)
		}
		users[without(m.prefix, m.action)] = d
	}
	as := map[string]policy.User{}
	for name, d := range users {
		u, err := policy.NewUser(t.Context(), iamc, name, d)
		if err != nil {
			t.Fatal(err)
		}
		as[name] = u
	}

	// A forgotten table of a stack long gone, holding wallets: what the sweep exists for.
	orphan := "wallet-orphan"
	c := fixture.NewCloud(t, "")
	c.CreateTable(t, orphan, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: wallet.StackPrefix + "gone"}, false)
	balances := map[string]string{"alice": "100", "bob": "0", "carol": "12345678901234567890.5"}
	for user, b := range balances {
		if _, err := e.ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(orphan), Item: map[string]types.AttributeValue{
			wallet.KeyAttribute: &types.AttributeValueMemberS{Value: user}, wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: b},
		}}); err != nil {
			t.Fatal(err)
		}
	}

	if err := e.cloud.EnforceIAM(t.Context()); err != nil {
		t.Fatal(err)
	}
	admin := e.actAs(t, as["admin"])
	if _, err := c.DynamoDB.ListTables(t.Context(), &dynamodb.ListTablesInput{}); err == nil {
		t.Fatal("moto still takes the test credentials: IAM is not enforced, so nothing below would prove anything")
	}

	t.Run("the verify policy suffices for every check", func(t *testing.T) {
		// --concurrency 1: moto's UpdateItem is a read, a change and a write without a lock, so
		// concurrent ADDs on one item lose updates there (2 runs in 20 under enforced IAM, where
		// each request takes longer). DynamoDB does them atomically; internal/check proves the
		// concurrent case on DynamoDB Local. Every check, and every call, still runs.
		code, stdout, stderr := e.runVerifyWith(t, 3*time.Minute, as["verifier"].Env(), "--stack", stack, "--json", "--concurrency", "1")
		if code != 0 {
			t.Fatalf("verify as the verifier: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		var r struct {
			Passed        bool `json:"passed"`
			LeftoverItems int  `json:"leftover_items"`
			Checks        []struct {
				Name   string `json:"name"`
				Passed bool   `json:"passed"`
			} `json:"checks"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("verify --json: %v\n%s", err, stdout)
		}
		var ran []string
		for _, ch := range r.Checks {
			if !ch.Passed {
				t.Errorf("check %s failed", ch.Name)
			}
			ran = append(ran, ch.Name)
		}
		for _, want := range []string{"conformance", "roundtrip", "no-overdraft", "transfer", "concurrent-increments", "cleanup"} {
			if !slices.Contains(ran, want) {
				t.Errorf("check %s did not run (ran %v)", want, ran)
			}
		}
		if !r.Passed || r.LeftoverItems != 0 || e.itemCount(t, table) != 0 {
			t.Fatalf("report passed=%v leftover=%d, items in the table %d", r.Passed, r.LeftoverItems, e.itemCount(t, table))
		}
	})

	t.Run("the verify policy allows nothing else", func(t *testing.T) {
		before := admin.State(t)
		cfg, err := awsconf.Load(t.Context(), awsconf.Options{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Credentials = as["verifier"].Credentials()
		db, cf := dynamodb.NewFromConfig(cfg), cloudformation.NewFromConfig(cfg)
		for action, call := range map[string]func() error{
			"dynamodb:DeleteTable": func() error {
				_, err := db.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
				return err
			},
			"dynamodb:Scan": func() error {
				_, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
				return err
			},
			"dynamodb:ListTables": func() error {
				_, err := db.ListTables(t.Context(), &dynamodb.ListTablesInput{})
				return err
			},
			"cloudformation:DeleteStack": func() error {
				_, err := cf.DeleteStack(t.Context(), &cloudformation.DeleteStackInput{StackName: aws.String(stack)})
				return err
			},
		} {
			if d, ok := awsconf.AsDenied(call()); !ok || d.Action != action {
				t.Errorf("%s as the verifier: want a denial naming it, got %v", action, d)
			}
		}
		if after := admin.State(t); after != before {
			t.Fatalf("denied calls changed the cloud:\nbefore %s\nafter  %s", before, after)
		}
	})

	verifyHint := "attach the stack's VerifyPolicy (the " + wallet.OutputVerifyPolicyArn + " output of stack " + stack + ")"
	teardownHint := "attach the TeardownPolicy (the " + wallet.OutputTeardownPolicyArn + " output of stack " + teardownPolicyStack + ")"
	exportDir := t.TempDir()
	finished := e.exportAs(t, as["admin"], orphan) // for the restore to be denied: the denial is the restore's own
	for _, d := range []struct {
		name, user string
		args       []string
		// what the one error line must name: the call, the resource, the IAM action, the policy.
		call, resource, action, hint string
	}{
		{"verify", without("verifier", "dynamodb:PutItem"), []string{"--stack", stack},
			"DynamoDB PutItem", "table " + table, "dynamodb:PutItem", verifyHint},
		// UpdateItem is first needed after the round trips and a conditional create have
		// written wallets: those must still be deleted.
		{"verify after writing", without("verifier", "dynamodb:UpdateItem"), []string{"--stack", stack},
			"DynamoDB UpdateItem", "table " + table, "dynamodb:UpdateItem", verifyHint},
		{"sweep --yes", without("janitor", "dynamodb:DeleteTable"), []string{"sweep", "--yes"},
			"DynamoDB DeleteTable", "table " + orphan, "dynamodb:DeleteTable", teardownHint},
		{"teardown --yes", without("janitor", "cloudformation:DeleteStack"), []string{"teardown", "--stack", stack, "--yes"},
			"CloudFormation DeleteStack", "stack " + stack, "cloudformation:DeleteStack", teardownHint},
		// Without the template, which tables the stack retains is unknown: a refusal, not a guess.
		{"teardown without the template", without("janitor", "cloudformation:GetTemplate"), []string{"teardown", "--stack", stack, "--yes"},
			"CloudFormation GetTemplate", "stack " + stack, "cloudformation:GetTemplate", teardownHint},
		{"export", without("janitor", "dynamodb:Scan"), []string{"export", "--table", orphan, "--to", exportDir},
			"DynamoDB Scan", "table " + orphan, "dynamodb:Scan", teardownHint},
		{"restore", without("janitor", "dynamodb:CreateTable"), []string{"restore", "--from", finished, "--table", "wallet-restored"},
			"DynamoDB CreateTable", "table wallet-restored", "dynamodb:CreateTable", teardownHint},
	} {
		t.Run("denied "+d.name+" as "+d.user, func(t *testing.T) {
			before, items, orphanItems := admin.State(t), e.itemCount(t, table), e.itemCount(t, orphan)
			start := time.Now()
			code, stdout, stderr := e.runVerifyWith(t, denialHangGuard, as[d.user].Env(), d.args...)
			took := time.Since(start)
			var lines []string
			for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.HasPrefix(l, "verify: ") {
					lines = append(lines, l)
				}
			}
			t.Logf("exit %d after %.2fs: %s", code, took.Seconds(), strings.Join(lines, " | "))
			if code != 2 {
				t.Errorf("exit %d, want 2 (an IAM denial is a configuration error, not a failed check)\nstdout: %s\nstderr: %s", code, stdout, stderr)
			}
			if len(lines) != 1 {
				t.Fatalf("want one line saying what to attach, got %d:\n%s", len(lines), stderr)
			}
			for _, want := range []string{d.call + " on " + d.resource + " ", "needs IAM action " + d.action + ";", d.hint} {
				if !strings.Contains(lines[0], want) {
					t.Errorf("the error line does not say %q:\n%s", want, lines[0])
				}
			}
			// Nothing deleted, nothing created, no test item left.
			if after := admin.State(t); after != before {
				t.Errorf("a denied run changed the cloud:\nbefore %s\nafter  %s", before, after)
			}
			if n := e.itemCount(t, table); n != items {
				t.Errorf("%d items in %s after a denied run, %d before", n, table, items)
			}
			if n := e.itemCount(t, orphan); n != orphanItems {
				t.Errorf("%d wallets in %s after a denied run, %d before", n, orphan, orphanItems)
			}
			if _, err := os.Stat(filepath.Join(exportDir, orphan, archive.MetadataFile)); err == nil {
				t.Errorf("a denied export left a finished-looking export in %s", exportDir)
			}
		})
	}

	t.Run("the teardown policy suffices for export, restore, sweep, teardown and undo", func(t *testing.T) {
		janitor := as["janitor"]
		dir := e.exportAs(t, janitor, orphan)
		if code, stdout, stderr := e.runVerifyWith(t, 3*time.Minute, janitor.Env(), "restore", "--from", dir, "--table", "wallet-restored"); code != 0 {
			t.Fatalf("restore as the janitor: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if n := e.itemCount(t, "wallet-restored"); n != len(balances) {
			t.Fatalf("restored %d wallets, want %d", n, len(balances))
		}

		// --idle-for: every call the sweep can make, CloudWatch's metrics included.
		code, stdout, stderr := e.runVerifyWith(t, 3*time.Minute, janitor.Env(), "sweep", "--yes", "--idle-for", "7d", "--backup", "--json")
		var swept fixture.SweepJSON
		if err := json.Unmarshal([]byte(stdout), &swept); code != 0 || err != nil {
			t.Fatalf("sweep --yes as the janitor: exit %d (%v)\n%s\n%s", code, err, stdout, stderr)
		}
		if len(swept.Candidates) != 1 || swept.Candidates[0].Table != orphan || swept.Candidates[0].Action != "deleted" {
			t.Fatalf("sweep --yes: %+v", swept.Candidates)
		}

		code, stdout, stderr = e.runVerifyWith(t, 3*time.Minute, janitor.Env(), "teardown", "--stack", stack, "--yes", "--json")
		var down fixture.SweepJSON
		if err := json.Unmarshal([]byte(stdout), &down); code != 0 || err != nil {
			t.Fatalf("teardown --yes as the janitor: exit %d (%v)\n%s\n%s", code, err, stdout, stderr)
		}
		if len(down.Stacks) != 1 || down.Stacks[0].Action != "deleted" {
			t.Fatalf("teardown --yes: %+v", down)
		}
		// Left: the table restore made, which is the user's now, and the janitor stack's
		// ledger, which holds both deletions, written with this policy alone.
		if names := e.tableNames(t); !slices.Equal(names, []string{wallet.LedgerTable, "wallet-restored"}) {
			t.Fatalf("tables left: %v", names)
		}
		l, err := ledger.FindTable(t.Context(), admin.DynamoDB, "123456789012", e.cfg.Region)
		if err != nil {
			t.Fatal(err)
		}
		// The denied runs above wrote their records too, then were refused: each is noted as
		// not deleted, and undo takes the one that was.
		recs := ledger.Collect(t.Context(), []ledger.Table{l}, nil, ledger.Filter{})
		var by, noted []string
		for _, r := range recs.Records {
			if r.NotDeleted != "" {
				noted = append(noted, r.By+":"+r.Table+": "+r.NotDeleted)
				continue
			}
			by = append(by, r.By+":"+r.Table)
		}
		slices.Sort(by)
		if len(recs.Problems) > 0 || len(by) != 2 || by[1] != "teardown:"+table || by[0] != "sweep:"+orphan {
			t.Fatalf("the ledger's records: %v %v, want the sweep's of %s and the teardown's of %s (and noted: %v)", by, recs.Problems, orphan, table, noted)
		}
		for _, n := range noted {
			if !strings.Contains(n, "failed") || !strings.Contains(n, "access denied") {
				t.Errorf("a denied run's record is noted otherwise: %s", n)
			}
		}
		t.Logf("records of deletions that did not happen (the denied runs): %v", noted)
		// And it brings the swept table back, with its wallets.
		if code, stdout, stderr := e.runVerifyWith(t, 3*time.Minute, janitor.Env(), "undo", orphan, "--yes"); code != 0 || !strings.Contains(stdout, "Restored:") {
			t.Fatalf("undo as the janitor: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if n := e.itemCount(t, orphan); n != len(balances) {
			t.Fatalf("undo restored %d wallets, want %d", n, len(balances))
		}
		if s := admin.State(t); strings.Contains(s, "stack "+stack+" ") {
			t.Fatalf("stack %s still there: %s", stack, s)
		}
	})
}

// without names a user holding the policy of prefix minus action: "janitor-without-Scan".
func without(prefix, action string) string {
	return prefix + "-without-" + action[strings.Index(action, ":")+1:]
}

// deployedPolicy is the document of the stack's managed policy whose logical ID starts with
// prefix, as CloudFormation deployed it.
func deployedPolicy(t *testing.T, cfn policy.CloudFormation, iamc policy.IAM, stack, prefix string) policy.Document {
	t.Helper()
	d, err := policy.Deployed(t.Context(), cfn, iamc, stack, prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s of %s allows %s", prefix, stack, strings.Join(d.Actions(), ", "))
	return d
}

// actAs makes u the test's own hands from now on (the env's helpers and the returned fixture):
// once IAM is enforced the test credentials no longer work.
func (e *env) actAs(t *testing.T, u policy.User) fixture.Cloud {
	t.Helper()
	e.cfg.Credentials = u.Credentials()
	e.ddb = dynamodb.NewFromConfig(e.cfg)
	return fixture.Cloud{Config: e.cfg, DynamoDB: e.ddb, CloudFormation: cloudformation.NewFromConfig(e.cfg)}
}

// exportAs exports table as u into a directory of its own and returns the table's export.
func (e *env) exportAs(t *testing.T, u policy.User, table string) string {
	t.Helper()
	dir := t.TempDir()
	if code, stdout, stderr := e.runVerifyWith(t, 3*time.Minute, u.Env(), "export", "--table", table, "--to", dir); code != 0 {
		t.Fatalf("export %s as %s: exit %d\n%s\n%s", table, u.Name, code, stdout, stderr)
	}
	return archive.Dir(dir, table)
}

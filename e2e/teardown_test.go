package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// teardown runs `verify teardown --json`; its report is the sweep's documented shape.
func (e *env) teardown(t *testing.T, wantCode int, args ...string) fixture.SweepJSON {
	t.Helper()
	code, stdout, stderr := e.runVerify(t, append([]string{"teardown", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("teardown %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout, stderr)
	}
	var r fixture.SweepJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("teardown --json: %v\n%s", err, stdout)
	}
	return r
}

// TestProdTeardownExportsThenRestores tears down what `cdk deploy -c stage=prod` made, the way a
// careful user would: look first, let the stack go but keep the retained table, then export and
// delete it too, and prove the wallets come back with `verify restore`.
func TestProdTeardownExportsThenRestores(t *testing.T) {
	e := setup(t)
	stack := wallet.StackName(wallet.StageProd)
	e.deploy(t, stack, map[string]string{contract.CtxStage: string(wallet.StageProd)})
	table := e.stackTable(t, stack)

	// Real wallets, one with a balance no float64 can hold.
	balances := map[string]string{"alice": "100", "bob": "0", "carol": "12345678901234567890123456789.000000001"}
	for user, b := range balances {
		if _, err := e.ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			wallet.KeyAttribute: &types.AttributeValueMemberS{Value: user}, wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: b},
		}}); err != nil {
			t.Fatal(err)
		}
	}

	plan := e.teardown(t, 0, "--stack", stack)
	if !plan.DryRun || len(plan.Candidates) != 1 || plan.Candidates[0].Table != table || plan.Candidates[0].DeletionPolicy != "Retain" ||
		!plan.Candidates[0].Protected || plan.Candidates[0].MonthlyCostUSD <= 0 || plan.Candidates[0].Action != "would-retain" {
		t.Fatalf("dry-run plan: %+v", plan)
	}
	if !slices.Contains(e.tableNames(t), table) || e.itemCount(t, table) != len(balances) {
		t.Fatal("the dry run changed something")
	}

	// --yes deletes the stack but the prod table is retained: listed with its cost, exit 1.
	kept := e.teardown(t, 1, "--stack", stack, "--yes")
	if len(kept.Stacks) != 1 || kept.Stacks[0].Action != "deleted" || kept.MonthlyLeftUSD == nil || *kept.MonthlyLeftUSD <= 0 ||
		kept.Candidates[0].Action != "retained" || !slices.Contains(e.tableNames(t), table) {
		t.Fatalf("teardown --yes of prod: %+v", kept)
	}

	// The stack is gone; the retained table is an orphan now, removed by the sweep with an export.
	dir := t.TempDir()
	r := e.sweep(t, 0, "--yes", "--include-protected", "--export", dir)
	if len(r.Candidates) != 1 || r.Candidates[0].Table != table || r.Candidates[0].Action != "deleted" {
		t.Fatalf("sweep of the retained table: %+v", r)
	}
	if slices.Contains(e.tableNames(t), table) {
		t.Fatalf("%s still exists", table)
	}

	// Nothing lost: restore into a new table and compare every wallet.
	restored := "wallets-restored"
	if code, stdout, stderr := e.runVerify(t, "restore", "--from", filepath.Join(dir, table), "--table", restored); code != 0 {
		t.Fatalf("restore: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := e.itemCount(t, restored); n != len(balances) {
		t.Fatalf("restored %d items, want %d", n, len(balances))
	}
	for user, want := range balances {
		out, err := e.ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(restored), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{wallet.KeyAttribute: &types.AttributeValueMemberS{Value: user}}})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := out.Item[wallet.BalanceAttribute].(*types.AttributeValueMemberN)
		if !ok || got.Value != want {
			t.Fatalf("%s: balance %v, want %s exactly", user, out.Item[wallet.BalanceAttribute], want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, table)); err != nil {
		t.Fatalf("export directory: %v", err)
	}
	t.Logf("exported and restored %d wallets", len(balances))
}

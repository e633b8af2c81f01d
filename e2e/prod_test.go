package e2e

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func (e *env) sweep(t *testing.T, wantCode int, args ...string) fixture.SweepJSON {
	t.Helper()
	code, stdout, stderr := e.runVerify(t, append([]string{"sweep", "--json"}, args...)...)
	if code != wantCode {
		t.Fatalf("sweep %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, wantCode, stdout, stderr)
	}
	var r fixture.SweepJSON
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("sweep --json: %v\n%s", err, stdout)
	}
	return r
}

// TestProdRetainsTableAndSweepFindsIt reproduces the tutorial's trap on purpose: prod's table is
// RETAINed with deletion protection, so `cdk destroy` leaves it billing. The sweep must find it
// as orphaned, price it, keep it while protected, and remove it only when told to.
func TestProdRetainsTableAndSweepFindsIt(t *testing.T) {
	e := setup(t)
	stack := wallet.StackName(wallet.StageProd)
	prod := map[string]string{contract.CtxStage: string(wallet.StageProd)}
	e.deploy(t, stack, prod)
	table := e.stackTable(t, stack)

	if code, stdout, stderr := e.runVerify(t, "--stack", stack, "--read-only"); code != 0 {
		t.Fatalf("verify --read-only on prod: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := e.runVerify(t, "--stack", stack); code != 0 {
		t.Fatalf("verify on prod: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// A live, unexpired stack's table is never a candidate.
	if r := e.sweep(t, 0); len(r.Candidates) != 0 {
		t.Fatalf("sweep with the prod stack live found %+v", r.Candidates)
	}

	timed(t, "cdk destroy "+stack, func() error { return e.cdk.Destroy(t.Context(), stack, prod) })
	desc, err := e.ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("prod table %s should survive cdk destroy (RETAIN): %v", table, err)
	}
	if !aws.ToBool(desc.Table.DeletionProtectionEnabled) {
		t.Fatalf("retained prod table %s is not deletion-protected", table)
	}

	dry := e.sweep(t, 0)
	if !dry.DryRun || len(dry.Candidates) != 1 || dry.Candidates[0].Table != table ||
		!slices.Contains(dry.Candidates[0].Reasons, "orphaned") || !dry.Candidates[0].Protected ||
		dry.Candidates[0].MonthlyCostUSD <= 0 {
		t.Fatalf("dry-run sweep after destroying prod: %+v", dry)
	}

	kept := e.sweep(t, 0, "--yes")
	if len(kept.Candidates) != 1 || kept.Candidates[0].Action != "skipped-protected" {
		t.Fatalf("sweep --yes must keep a protected table: %+v", kept)
	}
	if !slices.Contains(e.tableNames(t), table) {
		t.Fatalf("protected table %s was deleted without --include-protected", table)
	}

	gone := e.sweep(t, 0, "--yes", "--include-protected")
	if len(gone.Candidates) != 1 || gone.Candidates[0].Action != "deleted" || gone.MonthlySavingsUSD == nil || *gone.MonthlySavingsUSD <= 0 {
		t.Fatalf("sweep --yes --include-protected: %+v", gone)
	}
	if names := e.tableNames(t); len(names) != 0 {
		t.Fatalf("tables left after the sweep: %v", names)
	}
}

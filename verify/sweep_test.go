package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The teardown, sweep, export and restore commands, run in-process as a user would run them,
// against one moto. moto keeps regions apart, so each subtest works in a region of its own.
func TestSweepFamilyCommands(t *testing.T) {
	moto := localcloud.Moto(t)
	clearPriceEnv(t)
	t.Run("bad flags are usage errors with no side effects", leased(moto, testSweepUsageErrors))
	t.Run("sweep dry run, JSON, then --yes", leased(moto, testSweepJSONAndYes))
	t.Run("sweep reads every ListTables page", leased(moto, testSweepPages))
	t.Run("sweep removes an expired table through its live stack", leased(moto, testSweepExpiredViaStack))
	t.Run("a failed export fails the action and keeps the table", leased(moto, testSweepFailedExport))
	t.Run("teardown: retained tables exit 1 until --delete-retained", leased(moto, testTeardownRetained))
	t.Run("teardown and sweep of a protected prod table", leased(moto, testTeardownProtected))
	t.Run("teardown refuses a protected table the stack would delete", leased(moto, testTeardownBlocked))
	t.Run("export, delete, restore", leased(moto, testExportRestoreCommands))
}

// leased runs test in a lease of its own of the shared moto (an account and region no other
// subtest, nor an earlier run, has had), the environment pointed at it.
func leased(moto *localcloud.Server, test func(*testing.T, localcloud.Lease), opts ...localcloud.LeaseOption) func(*testing.T) {
	return func(t *testing.T) {
		l := moto.Lease(t, opts...)
		l.SetEnv(t)
		test(t, l)
	}
}

func sweepRun(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// sweepRunAt runs `verify sweep` with its clock at now, through the command's runF seam: the
// flags are parsed and the run is the real one; errors map to exit codes by the one rule.
func sweepRunAt(t *testing.T, now time.Time, args ...string) (int, string, string) {
	t.Helper()
	if len(args) == 0 || args[0] != "sweep" {
		t.Fatalf("sweepRunAt runs the sweep command: %v", args)
	}
	return execute(func(s streams) *cobra.Command {
		return newSweepCmd(s, func(ctx context.Context, o *sweepOptions) error {
			o.now = func() time.Time { return now }
			return runSweep(ctx, o)
		})
	}, args[1:])
}

// sweepCloud is the test's own view of one region, apart from the clients the commands build.
type sweepCloud struct{ fixture.Cloud }

func newSweepCloud(t *testing.T, region string) sweepCloud {
	t.Helper()
	return sweepCloud{fixture.NewCloud(t, region)}
}

func (c sweepCloud) has(t *testing.T, table string) bool {
	t.Helper()
	return strings.Contains(c.State(t)+"\n", "table "+table+" ")
}

func (c sweepCloud) hasStack(t *testing.T, stack string) bool {
	t.Helper()
	return strings.Contains(c.State(t)+"\n", "stack "+stack+" ")
}

func testSweepUsageErrors(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateTable(t, "usage-orphan", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	before := c.State(t)
	for _, tc := range []struct {
		env  string
		args []string
		want []string // in the message: the bad value, and what is allowed
	}{
		{"", []string{"sweep", "--region", l.Region, "--yes", "--older-than", "abc"}, []string{`"abc"`, "72h"}},
		{"", []string{"sweep", "--region", l.Region, "--yes", "--idle-for", "-1h"}, []string{`"-1h"`, "positive"}},
		// Overflowed time.Duration and wrapped to half a second: every table was "older than" it.
		{"", []string{"sweep", "--region", l.Region, "--yes", "--older-than", "616385997d"}, []string{`"616385997d"`}},
		{"", []string{"sweep", "--region", l.Region, "--all-regions", "--yes"}, []string{"--all-regions"}},
		{"", []string{"sweep", "--region", "Mars", "--yes"}, []string{`"Mars"`, "us-east-1"}},
		{"", []string{"sweep", "--region", l.Region, "--yes", "--concurrency", "0"}, []string{"1 to 64"}},
		{"", []string{"sweep", "--region", l.Region, "--yes", "--price-rcu-hour", "-5"}, []string{`"-5"`, "non-negative"}},
		{"WALLET_PRICE_GB_MONTH=lots", []string{"sweep", "--region", l.Region, "--yes"}, []string{"WALLET_PRICE_GB_MONTH", `"lots"`}},
		{"", []string{"sweep", "--region", l.Region, "--yes", "--bogus"}, []string{"unknown flag"}},
		{"", []string{"teardown", "--yes"}, []string{"--stack is required"}},
		{"", []string{"teardown", "--stack", "Wallet-none", "--region", l.Region, "--yes"}, []string{"not found"}},
		{"", []string{"export", "--table", "usage-orphan"}, []string{"--to"}},
		{"", []string{"restore", "--from", t.TempDir(), "--table", "wallet-x"}, []string{"no finished export"}},
		{"", []string{"restore", "--from", ".", "--table", "wallet-x", "--billing", "cheap"}, []string{`"cheap"`, "on-demand"}},
	} {
		if k, v, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(k, v)
		}
		code, _, stderr := sweepRun(t, "", tc.args...)
		if k, _, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(k, "")
		}
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, exitUsage, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not mention %q", tc.args, stderr, w)
			}
		}
	}
	if after := c.State(t); after != before {
		t.Fatalf("a rejected command changed the cloud:\n%s\n→\n%s", before, after)
	}
}

// decodeSweep reads `verify sweep --json` against the documented contract: every documented key
// of the report and of each candidate must be there (absent is not the same as zero), and the
// values must decode into the documented types.
func decodeSweep(t *testing.T, out string) fixture.SweepJSON {
	t.Helper()
	var raw struct {
		Report     map[string]json.RawMessage
		Candidates []map[string]json.RawMessage `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(out), &raw.Report); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range fixture.SweepReportKeys {
		if _, ok := raw.Report[k]; !ok {
			t.Fatalf("JSON lacks %q:\n%s", k, out)
		}
	}
	if err := json.Unmarshal(raw.Report["candidates"], &raw.Candidates); err != nil {
		t.Fatalf("candidates: %v\n%s", err, out)
	}
	for i, c := range raw.Candidates {
		for _, k := range fixture.SweepCandidateKeys {
			if _, ok := c[k]; !ok {
				t.Fatalf("candidate %d lacks %q:\n%s", i, k, out)
			}
		}
	}
	var r fixture.SweepJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("the report does not decode into the documented types: %v\n%s", err, out)
	}
	for _, c := range r.Candidates {
		if c.Table == "" || c.Region == "" || len(c.Reasons) == 0 || c.Action == "" {
			t.Fatalf("candidate with empty fields: %+v", c)
		}
	}
	return r
}

func testSweepJSONAndYes(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateTable(t, "json-orphan", map[string]string{"Project": "wallet", "Stack": "Wallet-gone"}, false)
	c.CreateTable(t, "json-protected", map[string]string{"Project": "wallet", "Stack": "Wallet-gone"}, true)
	c.CreateTable(t, "json-decoy", map[string]string{"Project": "other", "Stack": "Wallet-gone"}, false)
	before := c.State(t)

	// Not a terminal: even the account id on stdin does not make it delete.
	code, out, stderr := sweepRun(t, l.Account+"\n", "sweep", "--region", l.Region, "--json")
	if code != exitOK {
		t.Fatalf("dry run exit %d: %s", code, stderr)
	}
	if after := c.State(t); after != before {
		t.Fatalf("the dry run changed the cloud:\n%s\n→\n%s", before, after)
	}
	r := decodeSweep(t, out)
	// A 1/1 table at the region's prices (moto has no Price List API: the shipped table's).
	p, _ := cost.Shipped(l.Region, wallet.ClassStandard)
	each := cost.Round((p.RCUHour + p.WCUHour) * 730)
	if !r.DryRun || len(r.Candidates) != 2 || *r.MonthlySavingsUSD != each {
		t.Fatalf("dry run report: %s", out)
	}
	for _, cd := range r.Candidates {
		want := map[string]string{"json-orphan": "would-delete", "json-protected": "skipped-protected"}[cd.Table]
		if cd.Action != want || cd.Reasons[0] != "orphaned" || cd.MonthlyCostUSD != each || cd.Region != l.Region || cd.Protected != (cd.Table == "json-protected") {
			t.Errorf("%+v, want action %s", cd, want)
		}
	}

	code, out, stderr = sweepRun(t, "", "sweep", "--region", l.Region, "--json", "--yes")
	if code != exitOK {
		t.Fatalf("--yes exit %d: %s\n%s", code, stderr, out)
	}
	r = decodeSweep(t, out)
	if r.DryRun || *r.MonthlySavingsUSD != each {
		t.Fatalf("--yes report: %s", out)
	}
	if c.has(t, "json-orphan") || !c.has(t, "json-protected") || !c.has(t, "json-decoy") {
		t.Fatalf("after --yes:\n%s", c.State(t))
	}

	// Every region, each with its own clients: a dry run over all of them finds, in this one, the
	// protected table left and not the other project's.
	code, out, stderr = sweepRun(t, "", "sweep", "--all-regions", "--json")
	if code != exitOK {
		t.Fatalf("--all-regions: exit %d: %s", code, stderr)
	}
	var all struct{ Regions []string }
	json.Unmarshal([]byte(out), &all)
	var here []string
	for _, cd := range decodeSweep(t, out).Candidates {
		if cd.Region == l.Region {
			here = append(here, cd.Table)
		}
	}
	if len(all.Regions) != len(sweep.Regions()) || len(here) != 1 || here[0] != "json-protected" {
		t.Fatalf("--all-regions: %d regions, candidates in %s %v", len(all.Regions), l.Region, here)
	}

	// The text report says what was found, done and what it costs.
	code, out, _ = sweepRun(t, "", "sweep", "--region", l.Region)
	if code != exitOK || !strings.Contains(out, "json-protected") || !strings.Contains(out, "skipped-protected") || !strings.Contains(out, fmt.Sprintf("%.2f", each)) {
		t.Fatalf("text report (exit %d):\n%s", code, out)
	}
}

func testSweepPages(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	for i := range 5 {
		c.CreateTable(t, fmt.Sprintf("page-%d", i), map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	}
	code, out, stderr := sweepRun(t, "", "sweep", "--region", l.Region, "--list-page-size", "2", "--json", "--yes")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if r := decodeSweep(t, out); len(r.Candidates) != 5 {
		t.Fatalf("found %d of 5 tables in pages of 2", len(r.Candidates))
	}
	if left := c.State(t); left != "" {
		t.Fatalf("left: %s", left)
	}
}

func testSweepExpiredViaStack(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateStack(t, "Wallet-dev", fixture.TableDecl{LogicalID: "WalletTable", Name: "expiring-dev", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-dev", "ExpiresAfter": "1s"}})
	c.CreateStack(t, "Wallet-keep", fixture.TableDecl{LogicalID: "WalletTable", Name: "fresh-dev", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-keep", "ExpiresAfter": "168h"}})
	// A minute on, the 1s ExpiresAfter and --older-than 1s have passed; 168h has not.
	code, out, stderr := sweepRunAt(t, time.Now().Add(time.Minute), "sweep", "--region", l.Region, "--yes", "--older-than", "1s", "--idle-for", "1h")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	if c.hasStack(t, "Wallet-dev") || c.has(t, "expiring-dev") {
		t.Fatalf("the expired table and its stack should be gone:\n%s", c.State(t))
	}
	// Old and idle, but its live stack has not expired: never a candidate.
	if !c.hasStack(t, "Wallet-keep") || !c.has(t, "fresh-dev") {
		t.Fatalf("the live, unexpired stack must survive --older-than and --idle-for:\n%s", c.State(t))
	}
	if !strings.Contains(out, "Wallet-dev") || !strings.Contains(out, "deleted with stack Wallet-dev") {
		t.Fatalf("the report should say the table went with its stack:\n%s", out)
	}
}

func testSweepFailedExport(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateTable(t, "export-blocked", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	c.CreateTable(t, "export-fine", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	dir := t.TempDir()
	// A file where the table's export directory must go: the export fails, so must the delete.
	if err := os.WriteFile(filepath.Join(dir, "export-blocked"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := sweepRun(t, "", "sweep", "--region", l.Region, "--yes", "--export", dir, "--json")
	if code != exitFailed {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	r := decodeSweep(t, out)
	for _, cd := range r.Candidates {
		want := map[string]string{"export-blocked": "failed", "export-fine": "deleted"}[cd.Table]
		if cd.Action != want {
			t.Errorf("%s: %s, want %s; the report:\n%s", cd.Table, cd.Action, want, out)
		}
	}
	if !c.has(t, "export-blocked") || c.has(t, "export-fine") {
		t.Fatalf("state:\n%s", c.State(t))
	}
	if _, err := os.Stat(filepath.Join(dir, "export-fine", "metadata.json")); err != nil {
		t.Fatalf("the deleted table's export is missing: %v", err)
	}
}

func testTeardownRetained(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	tags := map[string]string{"Project": "wallet", "Stack": "Wallet-td"}
	c.CreateStack(t, "Wallet-td",
		fixture.TableDecl{LogicalID: "Kept", Name: "td-kept", Retain: true, Tags: tags},
		fixture.TableDecl{LogicalID: "Gone", Name: "td-gone", Tags: tags})
	before := c.State(t)
	code, out, stderr := sweepRun(t, "", "teardown", "--stack", "Wallet-td", "--region", l.Region)
	if code != exitOK || c.State(t) != before {
		t.Fatalf("dry run: exit %d, changed=%v\n%s%s", code, c.State(t) != before, out, stderr)
	}
	// Each 1/1 table at the region's prices (moto has no Price List API: the shipped table's).
	p, _ := cost.Shipped(l.Region, wallet.ClassStandard)
	each := fmt.Sprintf("%.2f", (p.RCUHour+p.WCUHour)*730)
	for _, w := range []string{"td-kept", "Retain", "would-retain", "td-gone", "would-delete", each} {
		if !strings.Contains(out, w) {
			t.Errorf("dry-run plan lacks %q:\n%s", w, out)
		}
	}

	export := t.TempDir()
	code, out, _ = sweepRun(t, "", "teardown", "--stack", "Wallet-td", "--region", l.Region, "--yes", "--export", export)
	if code != exitFailed {
		t.Fatalf("a retained table must make teardown exit 1, got %d:\n%s", code, out)
	}
	if !strings.Contains(out, "td-kept ($"+each+"/month)") || !strings.Contains(out, "retained") {
		t.Fatalf("the retained table and its cost should be listed:\n%s", out)
	}
	if c.hasStack(t, "Wallet-td") || c.has(t, "td-gone") || !c.has(t, "td-kept") {
		t.Fatalf("after teardown --yes:\n%s", c.State(t))
	}
	for _, tb := range []string{"td-kept", "td-gone"} {
		if _, err := os.Stat(filepath.Join(export, tb, "metadata.json")); err != nil {
			t.Errorf("--export: %v", err)
		}
	}

	c.CreateStack(t, "Wallet-td2", fixture.TableDecl{LogicalID: "Kept", Name: "td2-kept", Retain: true, Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-td2"}})
	code, out, _ = sweepRun(t, "", "teardown", "--stack", "Wallet-td2", "--region", l.Region, "--yes", "--delete-retained", "--json")
	if code != exitOK {
		t.Fatalf("--delete-retained: exit %d\n%s", code, out)
	}
	td := decodeSweep(t, out) // a teardown's report is the sweep's, with its stack
	if td.Teardown != "Wallet-td2" || len(td.Stacks) != 1 || td.Stacks[0].Action != "deleted" || len(td.Candidates) != 1 || td.Candidates[0].Action != "deleted" {
		t.Fatalf("teardown --json:\n%s", out)
	}
	if c.has(t, "td2-kept") {
		t.Fatal("--delete-retained left the retained table")
	}
}

func testTeardownProtected(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateStack(t, "Wallet-prod", fixture.TableDecl{LogicalID: "WalletTable", Name: "prod-table", Retain: true, Protected: true,
		Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-prod", "Stage": "prod"}})
	code, out, _ := sweepRun(t, "", "teardown", "--stack", "Wallet-prod", "--region", l.Region, "--yes", "--delete-retained")
	if code != exitFailed || !strings.Contains(out, "skipped-protected") || !c.has(t, "prod-table") || c.hasStack(t, "Wallet-prod") {
		t.Fatalf("a protected retained table survives teardown without --include-protected (exit %d):\n%s\n%s", code, out, c.State(t))
	}

	// Its stack is gone: the sweep finds it orphaned, and keeps it while it is protected.
	code, out, _ = sweepRun(t, "", "sweep", "--region", l.Region, "--yes", "--json")
	r := decodeSweep(t, out)
	if code != exitOK || len(r.Candidates) != 1 || r.Candidates[0].Action != "skipped-protected" || r.Candidates[0].Reasons[0] != "orphaned" || !c.has(t, "prod-table") {
		t.Fatalf("protected orphan (exit %d): %s", code, out)
	}
	code, out, _ = sweepRun(t, "", "sweep", "--region", l.Region, "--yes", "--include-protected")
	if code != exitOK || c.has(t, "prod-table") || !strings.Contains(out, "deletion protection turned off") {
		t.Fatalf("--include-protected (exit %d):\n%s", code, out)
	}
}

func testTeardownBlocked(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	c.CreateStack(t, "Wallet-locked", fixture.TableDecl{LogicalID: "WalletTable", Name: "locked-table", Protected: true,
		Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-locked"}})
	before := c.State(t)
	code, out, _ := sweepRun(t, "", "teardown", "--stack", "Wallet-locked", "--region", l.Region, "--yes")
	if code != exitFailed || c.State(t) != before || !strings.Contains(out, "--include-protected") {
		t.Fatalf("blocked teardown must exit 1 and change nothing (exit %d):\n%s", code, out)
	}
	code, out, _ = sweepRun(t, "", "teardown", "--stack", "Wallet-locked", "--region", l.Region, "--yes", "--include-protected")
	if code != exitOK || c.has(t, "locked-table") || c.hasStack(t, "Wallet-locked") || !strings.Contains(out, "deletion protection turned off") {
		t.Fatalf("--include-protected (exit %d):\n%s\n%s", code, out, c.State(t))
	}
}

func testExportRestoreCommands(t *testing.T, l localcloud.Lease) {
	c := newSweepCloud(t, l.Region)
	ctx := context.Background()
	c.CreateTable(t, "archive-cmd", nil, false)
	items := []map[string]types.AttributeValue{
		{"user_id": &types.AttributeValueMemberS{Value: "a"}, "balance": &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"}},
		{"user_id": &types.AttributeValueMemberS{Value: "b"}, "tags": &types.AttributeValueMemberSS{Value: []string{"x"}}, "raw": &types.AttributeValueMemberB{Value: []byte{0, 255}}},
	}
	for _, it := range items {
		if _, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("archive-cmd"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	code, out, stderr := sweepRun(t, "", "export", "--region", l.Region, "--table", "archive-cmd", "--to", dir)
	if code != exitOK || !strings.Contains(out, "Exported 2 items") {
		t.Fatalf("export: exit %d %s %s", code, out, stderr)
	}
	if _, err := c.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("archive-cmd")}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = sweepRun(t, "", "restore", "--region", l.Region, "--from", dir, "--table", "archive-cmd")
	if code != exitOK || !strings.Contains(out, "Restored 2 items") || !strings.Contains(out, "new table") {
		t.Fatalf("restore: exit %d %s %s", code, out, stderr)
	}
	for _, it := range items {
		got, err := c.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("archive-cmd"), Key: map[string]types.AttributeValue{"user_id": it["user_id"]}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(got.Item)
		b, _ := json.Marshal(it)
		if string(a) != string(b) {
			t.Errorf("restored %s, exported %s", a, b)
		}
	}
}

func TestSweepConfirmWantsTheAccountID(t *testing.T) {
	for in, want := range map[string]bool{"123456789012\n": true, "  123456789012  \n": true, "123456789012": true, "yes\n": false, "": false, "12345678901\n": false} {
		var prompt bytes.Buffer
		ok, err := confirmTyped(strings.NewReader(in), &prompt, "This deletes 3 tables in account 123456789012. Type the account id to go ahead: ", "123456789012")
		if err != nil || ok != want {
			t.Errorf("answer %q: %v, %v; want %v", in, ok, err, want)
		}
		if !strings.Contains(prompt.String(), "3 tables in account 123456789012") {
			t.Errorf("the prompt must be shown: %q", prompt.String())
		}
	}
}

// --backup: each table is deleted only after its native backup is AVAILABLE; the report names
// the backup, and the backup restores the table's items.
func TestSweepBackupBeforeDeleting(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	c := newSweepCloud(t, "us-east-1")
	c.CreateTable(t, "backed-orphan", map[string]string{"Project": "wallet", "Stack": "Wallet-gone"}, false)
	if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("backed-orphan"),
		Item: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "alice"}, "balance": &types.AttributeValueMemberN{Value: "7"}}}); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := sweepRun(t, "", "sweep", "--yes", "--backup", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeSweep(t, out)
	if len(r.Candidates) != 1 || r.Candidates[0].Action != "deleted" || !strings.Contains(r.Candidates[0].BackupARN, "backed-orphan/backup/") || c.has(t, "backed-orphan") {
		t.Fatalf("report %s", out)
	}
	if _, err := c.DynamoDB.RestoreTableFromBackup(t.Context(), &dynamodb.RestoreTableFromBackupInput{
		BackupArn: aws.String(r.Candidates[0].BackupARN), TargetTableName: aws.String("backed-orphan-restored")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.DynamoDB.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("backed-orphan-restored"), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "alice"}}})
	if err != nil || got.Item == nil {
		t.Fatalf("the backup did not restore alice: %v", err)
	}
}

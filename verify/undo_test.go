package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// fullTable is fixture.FullTable, read back as the ledger reads it.
func fullTable(t *testing.T, c fixture.Cloud, name string, tags map[string]string, items int) ledger.Config {
	t.Helper()
	c.FullTable(t, name, tags, items)
	return captured(t, c, name)
}

// captured is the table's whole configuration as the ledger reads it (what a record holds and
// an undo must bring back); the test fails when it cannot be read.
func captured(t *testing.T, c fixture.Cloud, name string) ledger.Config {
	t.Helper()
	_, cfg, err := ledger.Capture(t.Context(), c.DynamoDB, applicationautoscaling.NewFromConfig(c.Config), name)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// undoJSON is the part of `verify undo --json` the tests read.
type undoJSON struct {
	DryRun        bool     `json:"dry_run"`
	Restored      bool     `json:"restored"`
	Table         string   `json:"table"`
	Resume        bool     `json:"resume"`
	Applied       []string `json:"applied"`
	Differences   []string `json:"differences"`
	Items         int64    `json:"items"`
	ItemsRecorded int64    `json:"items_recorded"`
	Digest        string   `json:"digest"`
	Notes         []string `json:"notes"`
	Record        struct {
		ID    string `json:"id"`
		Where string `json:"where"`
	} `json:"record"`
}

func readUndo(t *testing.T, out string) undoJSON {
	t.Helper()
	var u undoJSON
	if err := json.Unmarshal([]byte(out), &u); err != nil {
		t.Fatalf("undo --json: %v\n%s", err, out)
	}
	return u
}

// The "done when", for a sweep with --backup in an account with no ledger: a table with
// items, a GSI, capacity 3/2, TTL on expires_at, PITR on, a stream, tags and a scalable target is
// swept, its record written to the record directory (the report says where), listed by `verify
// history`; `verify undo` (a dry run first, which changes nothing) restores it from the backup,
// re-applies what moto's restore drops, as AWS's does (tags, TTL, PITR, stream), and proves
// every setting and the item count. A second undo changes nothing and says it is restored; the
// refusals exit 2 with nothing changed.
func TestUndoBringsBackASweptTableExactly(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "eu-west-3"
	c := fixture.NewCloud(t, region)
	name := "undo-swept"
	want := fullTable(t, c, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone", "team": "payments"}, 25)
	if want.TTL == nil || !want.TTL.Enabled || want.PITR == nil || !want.PITR.Enabled || !want.Stream.Enabled || len(want.AutoScaling) != 1 || len(want.AutoScaling[0].Policies) != 1 {
		t.Fatalf("the fixture is not the table the issue names: %+v", want)
	}
	records := t.TempDir()

	code, out, stderr := sweepRun(t, "", "sweep", "--region", region, "--yes", "--backup", "--record-dir", records, "--json")
	if code != exitOK {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, stderr)
	}
	var swept struct {
		Candidates []struct {
			Table      string `json:"table"`
			Action     string `json:"action"`
			BackupARN  string `json:"backup_arn"`
			RecordID   string `json:"record_id"`
			RecordedIn string `json:"recorded_in"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(out), &swept); err != nil {
		t.Fatal(err)
	}
	var id, where string
	for _, cd := range swept.Candidates {
		if cd.Table == name {
			if cd.Action != "deleted" || cd.BackupARN == "" || cd.RecordID == "" {
				t.Fatalf("the sweep: %+v", cd)
			}
			id, where = cd.RecordID, cd.RecordedIn
		}
	}
	if want := filepath.Join(records, name+"@"+id+ledger.Suffix); where != want {
		t.Errorf("recorded in %q, want the file %q (no ledger here)", where, want)
	}
	rec, err := ledger.ReadFile(where)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Saved.Items != 25 || rec.Saved.BackupAvailable == nil || rec.Who == "" || rec.By != "sweep" || !slices.Equal(rec.Reasons, []string{"orphaned"}) || rec.MonthlyCostUSD <= 0 {
		t.Errorf("the record: items %d, backup available %v, who %q, by %q, reasons %v, $%.2f", rec.Saved.Items, rec.Saved.BackupAvailable, rec.Who, rec.By, rec.Reasons, rec.MonthlyCostUSD)
	}
	if d := ledger.Diff(want, rec.Config); len(d) > 0 {
		t.Errorf("the record's configuration is not the table's: %v", d)
	}

	code, out, _ = sweepRun(t, "", "history", "--region", region, "--record-dir", records, "--table", name)
	if code != exitOK || !strings.Contains(out, id) || !strings.Contains(out, "orphaned") || !strings.Contains(out, rec.Saved.BackupARN) {
		t.Errorf("history: exit %d\n%s", code, out)
	}
	t.Logf("verify history --table %s:\n%s", name, out)

	// The dry run changes nothing.
	code, out, stderr = sweepRun(t, "", "undo", name, "--region", region, "--record-dir", records)
	if code != exitOK || !strings.Contains(out, "dry run") || !strings.Contains(out, "time to live on expires_at") {
		t.Fatalf("undo dry run: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("verify undo %s (dry run):\n%s", name, out)
	if d, _ := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); d != nil {
		t.Fatal("the dry run restored the table")
	}

	code, out, stderr = sweepRun(t, "", "undo", name, "--region", region, "--record-dir", records, "--yes", "--json")
	if code != exitOK {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, stderr)
	}
	u := readUndo(t, out)
	if !u.Restored || len(u.Differences) != 0 || u.Items != 25 || u.ItemsRecorded != 25 || u.Record.ID != id {
		t.Fatalf("undo: %+v", u)
	}
	if d := ledger.Diff(want, captured(t, c, name)); len(d) > 0 {
		t.Errorf("the table as it is now differs from what it was: %v", d)
	}
	for _, part := range []string{"time to live", "point-in-time recovery", "stream", "tags"} {
		if !slices.ContainsFunc(u.Applied, func(a string) bool { return strings.Contains(a, part) }) {
			t.Errorf("undo did not re-apply %s (moto's restore drops it, as AWS's does): applied %v", part, u.Applied)
		}
	}

	// Again: nothing to do, and it says restored.
	_, text, _ := sweepRun(t, "", "undo", name, "--region", region, "--record-dir", records, "--yes")
	t.Logf("verify undo %s --yes, again:\n%s", name, text)
	code, out, stderr = sweepRun(t, "", "undo", name, "--region", region, "--record-dir", records, "--yes", "--json")
	if u := readUndo(t, out); code != exitOK || !u.Restored || !u.Resume {
		t.Errorf("a second undo: exit %d %+v\n%s", code, u, stderr)
	}

	// Refused, exit 2, nothing changed.
	other := "undo-swept-other"
	c.CreateTable(t, other, nil, false)
	before := c.State(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"undo", "never-swept", "--region", region, "--record-dir", records, "--yes"}, "no record"},
		{[]string{"undo", "--record", strings.Repeat("0", 20), "--region", region, "--record-dir", records, "--yes"}, "no record"},
		{[]string{"undo", "--record", "not-an-id", "--region", region, "--record-dir", records}, "20 hex digits"},
		{[]string{"undo", name, "--record", id, "--region", region}, "cannot be used together"},
		{[]string{"undo", "--region", region}, "name the table"},
		{[]string{"undo", name, "--as", "x", "--region", region, "--record-dir", records}, "--as"},
	} {
		code, out, stderr := sweepRun(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want 2 naming %q\n%s\n%s", tc.args, code, tc.want, out, stderr)
		}
	}
	// A table of that name that is not this undo's own: refused, naming --as.
	otherRec := rec
	otherRec.Table, otherRec.TableARN = other, strings.Replace(rec.TableARN, name, other, 1)
	otherRec.ID = ledger.NewID(otherRec)
	if _, _, err := (ledger.Dir{Path: records}).Put(otherRec); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sweepRun(t, "", "undo", other, "--region", region, "--record-dir", records, "--yes"); code != exitUsage ||
		!strings.Contains(stderr, "exists") || !strings.Contains(stderr, "--as") {
		t.Errorf("undo onto someone's table: exit %d %s", code, stderr)
	}
	// The record restored already (as undo-swept): another copy under --as is refused.
	if code, _, stderr := sweepRun(t, "", "undo", name, "--as", "undo-swept-copy", "--region", region, "--record-dir", records, "--yes"); code != exitUsage ||
		!strings.Contains(stderr, "restored already") {
		t.Errorf("a second copy: exit %d %s", code, stderr)
	}
	// A record of another account.
	foreign := rec
	foreign.Account = "999999999999"
	foreign.ID = ledger.NewID(foreign)
	if _, _, err := (ledger.Dir{Path: records}).Put(foreign); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sweepRun(t, "", "undo", "--record", foreign.ID, "--region", region, "--record-dir", records, "--yes"); code != exitUsage ||
		!strings.Contains(stderr, "999999999999") || !strings.Contains(stderr, "not of this account") {
		t.Errorf("a record of another account: exit %d %s", code, stderr)
	}
	if after := c.State(t); after != before {
		t.Errorf("a refused undo changed something:\nbefore %s\nafter %s", before, after)
	}
}

// The same for an export instead of a backup: with no ledger and no --record-dir, the record is
// written beside the export (the report says where); undo creates the table from the export,
// re-applies the rest, and proves the items by their order-free digest, the export's.
func TestUndoBringsBackAnExportedTableExactly(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "ap-southeast-4"
	c := fixture.NewCloud(t, region)
	name := "undo-exported"
	want := fullTable(t, c, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone", "team": "ledger"}, 40)
	root := t.TempDir()

	code, out, stderr := sweepRun(t, "", "sweep", "--region", region, "--yes", "--export", root, "--json")
	if code != exitOK {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, stderr)
	}
	var swept struct {
		Candidates []struct {
			Table      string `json:"table"`
			Action     string `json:"action"`
			SavedTo    string `json:"saved_to"`
			RecordID   string `json:"record_id"`
			RecordedIn string `json:"recorded_in"`
		} `json:"candidates"`
	}
	if err := json.Unmarshal([]byte(out), &swept); err != nil {
		t.Fatal(err)
	}
	if len(swept.Candidates) != 1 || swept.Candidates[0].Action != "deleted" {
		t.Fatalf("the sweep: %+v", swept.Candidates)
	}
	cd := swept.Candidates[0]
	if want := filepath.Join(root, name+"@"+cd.RecordID+ledger.Suffix); cd.RecordedIn != want {
		t.Errorf("recorded in %q, want beside the export, %q", cd.RecordedIn, want)
	}
	rec, err := ledger.ReadFile(cd.RecordedIn)
	if err != nil || rec.Saved.ExportDigest == "" || rec.Saved.ExportItems != 40 || rec.Saved.Items != 40 {
		t.Fatalf("the record: %+v %v", rec.Saved, err)
	}

	code, out, stderr = sweepRun(t, "", "undo", name, "--region", region, "--record-dir", root, "--yes", "--json")
	if code != exitOK {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, stderr)
	}
	u := readUndo(t, out)
	if !u.Restored || u.Items != 40 || u.Digest != rec.Saved.ExportDigest || len(u.Differences) != 0 {
		t.Fatalf("undo: %+v", u)
	}
	if d := ledger.Diff(want, captured(t, c, name)); len(d) > 0 {
		t.Errorf("the table as it is now differs from what it was: %v", d)
	}

	// An export changed since its record: refused, nothing changed.
	if err := os.WriteFile(filepath.Join(cd.SavedTo, "items.jsonl"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := sweepRun(t, "", "undo", name, "--as", "undo-exported-again", "--region", region, "--record-dir", root, "--yes"); code != exitUsage || !strings.Contains(stderr, "its export") {
		t.Errorf("a damaged export: exit %d %s", code, stderr)
	}
}

// One path for an organization: a member account's table, swept from the management account
// (--accounts) with --backup, is written down in the member account's own ledger; `verify
// history --org` lists it with its account, and `verify undo --org` finds the record there and
// brings the table back in that account, proven.
func TestUndoFindsTheRecordInAMemberAccount(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "eu-north-1"
	o := fixture.NewOrg(t, "undo", 1)
	member := o.Members[0]
	m := fixture.InAccount(t, member, org.DefaultRole, region)
	m.Ledger(t)
	name := "undo-member-table"
	want := fullTable(t, m, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, 7)

	if code, out, stderr := sweepRun(t, "", "sweep", "--accounts", member, "--region", region, "--yes", "--backup", "--json"); code != exitOK {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, out, stderr)
	}
	l, err := ledger.FindTable(t.Context(), m.DynamoDB, member, region)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := l.List(t.Context())
	if err != nil || len(recs) != 1 || recs[0].Table != name || recs[0].Account != member {
		t.Fatalf("the member's ledger: %+v %v", recs, err)
	}
	code, out, _ := sweepRun(t, "", "history", "--org", "--region", region, "--json")
	var h struct {
		Records []struct {
			ID      string `json:"id"`
			Account string `json:"account"`
			Where   string `json:"where"`
		} `json:"records"`
	}
	if err := json.Unmarshal([]byte(out), &h); err != nil || code != exitOK {
		t.Fatalf("history --org: exit %d %v\n%s", code, err, out)
	}
	found := false
	for _, r := range h.Records {
		found = found || (r.ID == recs[0].ID && r.Account == member && strings.Contains(r.Where, member))
	}
	if !found {
		t.Errorf("history --org does not list the member's record: %s", out)
	}

	code, out, stderr := sweepRun(t, "", "undo", name, "--org", "--region", region, "--yes", "--json")
	if u := readUndo(t, out); code != exitOK || !u.Restored {
		t.Fatalf("undo --org: exit %d %+v\n%s", code, u, stderr)
	}
	if d := ledger.Diff(want, captured(t, m, name)); len(d) > 0 {
		t.Errorf("the member's table came back otherwise: %v", d)
	}
}

// Shapes besides the issue's: an on-demand table with a local secondary index, a keys-only
// stream and deletion protection on (swept with --include-protected, which turns protection off
// first: the record says it was on, and undo turns it on again, last); and, from an export, a
// table encrypted with a customer's KMS key in the infrequent-access class.
func TestUndoBringsBackOtherShapes(t *testing.T) {
	moto := localcloud.Moto(t)
	tags := []types.Tag{{Key: aws.String(wallet.TagProject), Value: aws.String(wallet.ProjectName)}, {Key: aws.String(wallet.TagStack), Value: aws.String("Wallet-gone")}}
	keys := []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}}
	attrs := []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
		{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}, {AttributeName: aws.String("at"), AttributeType: types.ScalarAttributeTypeS}}
	for _, tc := range []struct {
		table func(c fixture.Cloud) *dynamodb.CreateTableInput
		check func(ledger.Config) bool
		save  func(dir string) []string
	}{
		{func(fixture.Cloud) *dynamodb.CreateTableInput {
			return &dynamodb.CreateTableInput{TableName: aws.String("undo-on-demand"), KeySchema: keys, AttributeDefinitions: attrs, BillingMode: types.BillingModePayPerRequest,
				LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("by-at"),
					KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("at"), KeyType: types.KeyTypeRange}},
					Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: []string{"note"}}}},
				StreamSpecification:       &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeKeysOnly},
				DeletionProtectionEnabled: aws.Bool(true), Tags: tags}
		}, func(c ledger.Config) bool {
			return c.DeletionProtection && len(c.LocalIndexes) == 1 && c.BillingMode == "PAY_PER_REQUEST" && c.Stream.ViewType == "KEYS_ONLY"
		}, func(dir string) []string { return []string{"--include-protected", "--backup", "--record-dir", dir} }},
		{func(c fixture.Cloud) *dynamodb.CreateTableInput {
			key, err := kms.NewFromConfig(c.Config).CreateKey(t.Context(), &kms.CreateKeyInput{Description: aws.String("undo test")})
			if err != nil {
				t.Fatal(err)
			}
			return &dynamodb.CreateTableInput{TableName: aws.String("undo-encrypted"), KeySchema: keys, AttributeDefinitions: attrs[:2], BillingMode: types.BillingModePayPerRequest,
				SSESpecification: &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSETypeKms, KMSMasterKeyId: key.KeyMetadata.Arn},
				TableClass:       types.TableClassStandardInfrequentAccess, Tags: tags}
		}, func(c ledger.Config) bool { return c.SSE.Type == "KMS" && c.SSE.KMSKey != "" },
			func(dir string) []string { return []string{"--export", dir} }},
	} {
		l := moto.Lease(t) // each shape in its own account and region of the one moto
		l.SetEnv(t)
		c := fixture.NewCloud(t, l.Region)
		ctx := t.Context()
		in := tc.table(c)
		name := aws.ToString(in.TableName)
		if err := fixture.CreateTableOnce(t, c.DynamoDB, in); err != nil {
			t.Fatal(err)
		}
		for i := range 12 {
			if _, err := c.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: in.TableName, Item: map[string]types.AttributeValue{
				"pk": &types.AttributeValueMemberS{Value: "p"}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(i)},
				"at": &types.AttributeValueMemberS{Value: fmt.Sprintf("2026-01-%02d", i+1)}, "note": &types.AttributeValueMemberS{Value: "n"}}}); err != nil {
				t.Fatal(err)
			}
		}
		want := captured(t, c, name)
		if !tc.check(want) {
			t.Fatalf("%s is not the shape meant: %+v", name, want)
		}
		dir := t.TempDir()
		if code, out, stderr := sweepRun(t, "", append([]string{"sweep", "--region", l.Region, "--yes"}, tc.save(dir)...)...); code != exitOK {
			t.Fatalf("sweep %s: exit %d\n%s\n%s", name, code, out, stderr)
		}
		code, out, stderr := sweepRun(t, "", "undo", name, "--region", l.Region, "--record-dir", dir, "--yes", "--json")
		if code == exitUsage {
			t.Fatalf("undo %s refused: %s", name, stderr)
		}
		if u := readUndo(t, out); code != exitOK || !u.Restored {
			t.Fatalf("undo %s: exit %d %+v\n%s", name, code, u, stderr)
		}
		if d := ledger.Diff(want, captured(t, c, name)); len(d) > 0 {
			t.Errorf("%s came back otherwise: %v", name, d)
		}
	}
}

// A wallet stack's table that went with its stack (verify teardown --backup) comes back as a
// table of its own: undo restores it, proves it, and says how to bring it under the stack again
// (an import naming its logical id, which the record keeps) and that redeploying would instead
// make a new, empty table.
func TestUndoOfAStacksTableSaysHowToImportIt(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "sa-east-1"
	c := fixture.NewCloud(t, region)
	c.CreateStack(t, "Wallet-undo", fixture.TableDecl{LogicalID: "Table", Name: "undo-stack-table",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-undo"}})
	records := t.TempDir()
	if code, out, stderr := sweepRun(t, "", "teardown", "--stack", "Wallet-undo", "--region", region, "--yes", "--backup", "--record-dir", records); code != exitOK {
		t.Fatalf("teardown: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr := sweepRun(t, "", "undo", "undo-stack-table", "--region", region, "--record-dir", records, "--yes")
	if code != exitOK || !strings.Contains(out, "Restored:") {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"table Table of stack Wallet-undo", "cdk import Wallet-undo", "new, empty table"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
	recs, _, bad, err := (ledger.Dir{Path: records}).List()
	if err != nil || len(bad) > 0 || len(recs) != 1 || recs[0].By != "teardown" || recs[0].Stack != "Wallet-undo" || recs[0].LogicalID != "Table" {
		t.Errorf("the teardown's record: %+v %v %v", recs, bad, err)
	}
}

package ledger_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// moto is the package's one moto; each test works in a lease of its own (an account and region
// no other test, nor an earlier run of the same test, has had).
var moto *localcloud.Server

func TestMain(m *testing.M) {
	os.Exit(localcloud.MotoMain(m, func(s *localcloud.Server) { moto = s }))
}

func record(table string) ledger.Record {
	r := ledger.Record{Format: ledger.Format, Account: "123456789012", Region: "ca-central-1", Table: table,
		TableARN: "arn:aws:dynamodb:ca-central-1:123456789012:table/" + table, TableCreated: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		By: "sweep", Reasons: []string{"orphaned"}, Who: "arn:aws:iam::123456789012:user/test", At: time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC),
		Saved: ledger.Saved{BackupARN: "arn:aws:dynamodb:ca-central-1:123456789012:table/" + table + "/backup/01", Items: 3}}
	r.ID = ledger.NewID(r)
	return r
}

// ledgerIn is the ledger of the lease's account and region, created as the janitor stack
// declares it, reached through endpoint.
func ledgerIn(t *testing.T, lease localcloud.Lease, endpoint string) ledger.Table {
	t.Helper()
	fixture.NewCloud(t, lease.Region).Ledger(t)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion(lease.Region), config.WithBaseEndpoint(endpoint))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ledger.FindTable(t.Context(), dynamodb.NewFromConfig(cfg), lease.Account, lease.Region)
	if err != nil {
		t.Fatalf("find the ledger: %v", err)
	}
	return l
}

// A record written by a PutItem whose answer was lost (the server wrote it, the client saw a
// dropped connection, the SDK's retry met its own record as a condition failure) ends as one
// record and a success: the failure is a question ("is the record under this id this one?"),
// and the answer is yes. On moto; the drop is the fault proxy's (no local backend drops an
// answer on its own).
func TestARecordWhosePutItemAnswerIsLostIsOneRecordAndASuccess(t *testing.T) {
	lease := moto.Lease(t)
	lease.SetEnv(t)
	p, err := faultproxy.Start(os.Getenv("AWS_ENDPOINT_URL"), faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DynamoDB_20120810.PutItem"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	l := ledgerIn(t, lease, p.URL)
	r := record("lost-answer")
	got, err := l.Put(t.Context(), r)
	if err != nil {
		t.Fatalf("put whose answer was lost: %v", err)
	}
	if c := p.Counts(); c.DroppedAfter != 1 || c.Forwarded["PutItem"] != 2 {
		t.Fatalf("the fault did not happen as meant: %+v", c)
	}
	if got.ID != r.ID {
		t.Errorf("returned record %s, want %s", got.ID, r.ID)
	}
	all, bad, err := l.List(t.Context())
	if err != nil || len(bad) > 0 {
		t.Fatal(err, bad)
	}
	if len(all) != 1 || all[0].ID != r.ID {
		t.Errorf("the ledger holds %d records (%v), want the one", len(all), all)
	}
}

// A record of another deletion under the same id (a collision, or a record written over by
// hand) is never taken for this one: the write fails, and the record there stays as it was.
func TestARecordOfAnotherDeletionUnderTheIDIsRefused(t *testing.T) {
	lease := moto.Lease(t)
	lease.SetEnv(t)
	l := ledgerIn(t, lease, lease.Endpoint)
	r := record("collided")
	if _, err := l.Put(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	other := r
	other.Saved.BackupARN += "-another"
	if _, err := l.Put(t.Context(), other); err == nil || !strings.Contains(err.Error(), "of another deletion") {
		t.Fatalf("a second deletion's record under the id: %v, want refused", err)
	}
	there, found, err := l.Get(t.Context(), r.ID)
	if err != nil || !found || there.Saved.BackupARN != r.Saved.BackupARN {
		t.Errorf("the record there: %+v %v %v", there, found, err)
	}
	// The same deletion written again (a rerun with the same backup) is this one: success.
	again := r
	again.At = r.At.Add(time.Hour)
	if got, err := l.Put(t.Context(), again); err != nil || !got.At.Equal(r.At) {
		t.Errorf("the same deletion again: %v (record at %s), want the first record, unchanged", err, got.At)
	}
}

// A table named like the ledger that is not it (not tagged wallet:ledger, or keyed otherwise)
// takes no record: FindTable refuses it, so a deletion it would record does not happen.
func TestATableNamedLikeTheLedgerIsNotTheLedger(t *testing.T) {
	lease := moto.Lease(t)
	lease.SetEnv(t)
	c := fixture.NewCloud(t, lease.Region)
	if _, err := ledger.FindTable(t.Context(), c.DynamoDB, lease.Account, lease.Region); err != ledger.ErrNoLedger {
		t.Fatalf("no table: %v, want ErrNoLedger", err)
	}
	c.CreateTable(t, wallet.LedgerTable, map[string]string{wallet.TagProject: wallet.ProjectName}, false)
	_, err := ledger.FindTable(t.Context(), c.DynamoDB, lease.Account, lease.Region)
	if err == nil || !strings.Contains(err.Error(), "is not the ledger") {
		t.Fatalf("someone's table named %s: %v, want refused", wallet.LedgerTable, err)
	}
}

// A record file is written once, whole, and read back only from a regular file of its own
// name: a rerun of the same deletion finds its own file; a FIFO, a link or a renamed file is no
// record.
func TestRecordFilesAreWrittenOnceAndReadBackStrictly(t *testing.T) {
	dir := t.TempDir()
	d := ledger.Dir{Path: dir}
	r := record("in-a-file")
	_, path, err := d.Put(r)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(path) != "in-a-file@"+r.ID+ledger.Suffix {
		t.Errorf("file %s", path)
	}
	again := r
	again.Who = "someone else"
	if got, _, err := d.Put(again); err != nil || got.Who != r.Who {
		t.Errorf("the same deletion again: %v, %q", err, got.Who)
	}
	other := r
	other.Saved.ExportDigest = "other"
	if _, _, err := d.Put(other); err == nil || !strings.Contains(err.Error(), "another deletion") {
		t.Errorf("another deletion's record under the same file name: %v, want refused", err)
	}
	back, err := ledger.ReadFile(path)
	if err != nil || back.ID != r.ID {
		t.Fatalf("read back: %v %v", back, err)
	}
	fifo := filepath.Join(dir, "fifo@"+strings.Repeat("a", 20)+ledger.Suffix)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link@"+r.ID+ledger.Suffix)
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "renamed@"+r.ID+ledger.Suffix)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(renamed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan struct{})
	var records []ledger.Record
	var bad []string
	go func() {
		records, _, bad, err = d.List()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("listing the records blocked (on the FIFO?)")
	}
	if err != nil || len(records) != 1 || len(bad) != 3 {
		t.Errorf("listed %d records, %d refused (%v), %v; want the one record, the FIFO, the link and the renamed file refused", len(records), len(bad), bad, err)
	}
	// Beside an export of several accounts and regions (DIR/<account>/<region>/) a record is
	// found; deeper, inside an export's own directory or in a directory that is not a record
	// directory at all, none is looked for.
	near, deep := record("near"), record("deep")
	if _, _, err := (ledger.Dir{Path: filepath.Join(dir, "123456789012", "ca-central-1")}).Put(near); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (ledger.Dir{Path: filepath.Join(dir, "123456789012", "ca-central-1", "some-export")}).Put(deep); err != nil {
		t.Fatal(err)
	}
	records, _, _, err = d.List()
	var got []string
	for _, r := range records {
		got = append(got, r.Table)
	}
	if err != nil || strings.Join(got, ",") != "in-a-file,near" && strings.Join(got, ",") != "near,in-a-file" {
		t.Errorf("listed %v (%v), want in-a-file and near, not deep", got, err)
	}
}

// Diff names every difference, one a line, and ignores the tags undo never re-applies.
func TestDiffNamesEveryDifference(t *testing.T) {
	want := ledger.Config{BillingMode: "PROVISIONED", Capacity: &ledger.Capacity{Read: 3, Write: 2}, TableClass: "STANDARD",
		Stream: ledger.Stream{Enabled: true, ViewType: "NEW_IMAGE"}, TTL: &ledger.TTL{Enabled: true, Attribute: "expires_at"},
		PITR: &ledger.PITR{Enabled: true}, DeletionProtection: true,
		Tags:        map[string]string{"Project": "wallet", "aws:cloudformation:stack-name": "Wallet-dev", wallet.TagJanitorDeleteAfter: "x"},
		AutoScaling: []ledger.ScalableTarget{{Resource: "table", Dimension: "dynamodb:table:ReadCapacityUnits", Min: 3, Max: 9}}}
	got := ledger.Config{BillingMode: "PROVISIONED", Capacity: &ledger.Capacity{Read: 3, Write: 2}, TableClass: "STANDARD",
		TTL: &ledger.TTL{}, PITR: &ledger.PITR{}, Tags: map[string]string{"Project": "wallet", wallet.TagUndoRecord: "abc"}}
	d := ledger.Diff(want, got)
	joined := strings.Join(d, "\n")
	for _, part := range []string{"stream", "time to live", "point-in-time recovery", "deletion protection", "auto scaling of table"} {
		if !strings.Contains(joined, part) {
			t.Errorf("no difference named for %s:\n%s", part, joined)
		}
	}
	for _, not := range []string{"aws:cloudformation", wallet.TagJanitorDeleteAfter, wallet.TagUndoRecord} {
		if strings.Contains(joined, not) {
			t.Errorf("%s is not re-applied, so not compared:\n%s", not, joined)
		}
	}
	if len(d) != 5 {
		t.Errorf("%d differences, want 5:\n%s", len(d), joined)
	}
	if d := ledger.Diff(want, want); len(d) != 0 {
		t.Errorf("a configuration differs from itself: %v", d)
	}
	// A part the record could not read is not compared; one it read that cannot be read now is
	// a difference.
	want.Unread, got.Unread = []string{ledger.PartContributorInsights}, []string{ledger.PartTTL}
	if j := strings.Join(ledger.Diff(want, got), "\n"); !strings.Contains(j, "time to live: recorded on expires_at, now unreadable") || strings.Contains(j, "contributor") {
		t.Errorf("unread parts:\n%s", j)
	}
}

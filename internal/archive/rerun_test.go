package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The tests below run on the DynamoDB Local of TestOnDynamoDBLocal.

// counting passes every call through and counts the scans and writes, to show that a refusal
// came before any of them.
type counting struct {
	DynamoDB
	scans, writes atomic.Int32
}

func (c *counting) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.scans.Add(1)
	return c.DynamoDB.Scan(ctx, in, o...)
}

func (c *counting) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.BatchWriteItem(ctx, in, o...)
}

func (c *counting) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.CreateTable(ctx, in, o...)
}

// killedExport leaves beside dir what a kill -9 mid-export leaves: the temporary directory the
// export was writing into, named as Export names it, half full.
func killedExport(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".*"+partialSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, ItemsFile), []byte(`{"Item":{"pk":{"S":"half`), 0o600); err != nil {
		t.Fatal(err)
	}
	return tmp
}

// A run killed between its export and the deletion is run again: the complete export of this
// very table is accepted (and kept as it is), the leftover of an export killed earlier is named
// and left alone. An export of the table as it was before a write, of an earlier table of the
// same name, or one that does not say which table it is, is refused, and stays untouched.
func testExportRerun(t *testing.T, db *dynamodb.Client) {
	dir := exported(t, db, "rerun", wallets(40))
	leftover := killedExport(t, dir)
	before, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	md, err := ReadMetadata(dir)
	if err != nil || md.TableARN == "" || (md.TableID == "" && md.TableCreated == nil) {
		t.Fatalf("metadata must record the table's identity: %+v, %v", md, err)
	}

	e, err := Export(t.Context(), db, "rerun", dir)
	if err != nil || !e.Reused || e.ItemCount != 40 || !slices.Equal(e.Leftovers, []string{leftover}) {
		t.Fatalf("rerun: %+v, %v; want the export kept and %s named", e, err, leftover)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, MetadataFile)); string(after) != string(before) {
		t.Fatal("a rerun rewrote the export it accepted")
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Fatalf("the leftover is not ours to remove: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 2 {
		t.Fatalf("the rerun left its own temporary directory: %v", entries)
	}

	refused := func(what string, dir string, wants ...string) {
		t.Helper()
		before, _ := os.ReadFile(filepath.Join(dir, MetadataFile))
		_, err := Export(t.Context(), db, "rerun", dir)
		var r *Refused
		if !errors.As(err, &r) {
			t.Fatalf("%s: want a refusal, got %v", what, err)
		}
		for _, w := range append(wants, dir) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", what, err, w)
			}
		}
		if after, _ := os.ReadFile(filepath.Join(dir, MetadataFile)); string(after) != string(before) {
			t.Errorf("%s: the export there was changed", what)
		}
	}

	// Written to since: the export no longer holds what a deletion would lose.
	put(t, db, "rerun", key("late", 1))
	refused("a write since", dir, "changed since", "(40 items)", "41 items", leftover)

	// An export from before exports recorded the table's identity.
	old := copyDir(t, dir)
	rewriteMetadata(t, old, func(md map[string]any) { delete(md, "table_id"); delete(md, "table_created") })
	refused("no identity", old, "cannot be matched")

	// A damaged export of this table.
	damaged := copyDir(t, dir)
	rewriteItems(t, damaged, func(lines []string) []string { return lines[:len(lines)-1] })
	rewriteMetadata(t, damaged, func(md map[string]any) { md["item_count"] = 40 })
	refused("damaged", damaged, "damaged")

	// The table deleted and created again: same name, same ARN, another table.
	deleteTable(t, db, "rerun")
	createTable(t, db, "rerun")
	put(t, db, "rerun", wallets(40)...) // even with the very same items
	refused("another table", dir, "earlier table named rerun")
}

// The identity is the TableId where DynamoDB gives one; the creation time stands in only where
// it does not (moto).
func TestSameTable(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	later := at.Add(time.Millisecond)
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/t1"
	for _, tc := range []struct {
		name     string
		exp, now Metadata
		want     string // "" = the same table
	}{
		{"same id", Metadata{TableARN: arn, TableID: "a", TableCreated: &at}, Metadata{TableARN: arn, TableID: "a", TableCreated: &at}, ""},
		{"other id", Metadata{TableARN: arn, TableID: "a", TableCreated: &at}, Metadata{TableARN: arn, TableID: "b", TableCreated: &at}, "TableId a"},
		{"same time, no id", Metadata{TableARN: arn, TableCreated: &at}, Metadata{TableARN: arn, TableCreated: &at}, ""},
		{"other time, no id", Metadata{TableARN: arn, TableCreated: &at}, Metadata{TableARN: arn, TableCreated: &later}, "created 2026-12-01T10:00:00.123456789Z"},
		{"other ARN", Metadata{TableARN: arn, TableID: "a"}, Metadata{TableARN: arn + "x", TableID: "a"}, "not of " + arn + "x"},
		{"no identity", Metadata{TableARN: arn}, Metadata{TableARN: arn, TableID: "a"}, "cannot be matched"},
	} {
		err := tc.exp.sameTable(&tc.now)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A symbolic link where the table's export directory goes is refused before any scan, naming
// the path: before, the whole table was scanned and then the rename failed ("was filled while
// exporting").
func testExportSymlinkRefusedUpFront(t *testing.T, db *dynamodb.Client) {
	createTable(t, db, "linked")
	put(t, db, "linked", wallets(3)...)
	root := t.TempDir()
	target := t.TempDir() // an empty directory: the case a Stat-based check let through
	dir := Dir(root, "linked")
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	c := &counting{DynamoDB: db}
	_, err := Export(t.Context(), c, "linked", dir)
	var r *Refused
	if !errors.As(err, &r) || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "symbolic link") || c.scans.Load() != 0 {
		t.Fatalf("want a refusal naming %s before any scan, got %v after %d scans", dir, err, c.scans.Load())
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Fatalf("the link's target was written to: %v", entries)
	}
}

// fifoGuard bounds a read of a FIFO nobody writes to. It is a hang guard, not a timing
// assertion: without the fix the read blocks forever, past any deadline or signal.
const fifoGuard = time.Minute

// A FIFO as metadata.json or items.jsonl is refused at once, naming it, with nothing written:
// a read of it would block beyond --timeout and SIGTERM, as nobody writes to it.
func testRestoreRefusesFIFOs(t *testing.T, db *dynamodb.Client) {
	src := exported(t, db, "fifo", wallets(5))
	for _, name := range []string{MetadataFile, ItemsFile} {
		dir := copyDir(t, src)
		path := filepath.Join(dir, name)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		c := &counting{DynamoDB: db}
		done := make(chan error, 1)
		go func() {
			_, err := Restore(t.Context(), c, dir, "fifo-copy", RestoreOptions{})
			done <- err
		}()
		select {
		case err := <-done:
			var r *Refused
			if !errors.As(err, &r) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "FIFO") {
				t.Errorf("%s: want a refusal naming %s as a FIFO, got %v", name, path, err)
			}
		case <-time.After(fifoGuard):
			// Release the blocked reader, so the test ends: open the write end and close it.
			if w, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
			<-done
			t.Errorf("%s: the restore still blocked reading the FIFO after %v", name, fifoGuard)
		}
		if c.writes.Load() != 0 || exists(t, db, "fifo-copy") {
			t.Errorf("%s: the refused restore wrote something", name)
		}
	}
}

// inStatus stands in for a table held in a status DynamoDB Local cannot keep it in (it creates
// and deletes tables at once, and archives none): DescribeTable answers as DynamoDB's would for
// a table being created, deleted or archived; every other call reaches DynamoDB Local.
type inStatus struct {
	counting
	status types.TableStatus
}

func (s *inStatus) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := s.counting.DescribeTable(ctx, in, o...)
	if err == nil {
		out.Table.TableStatus = s.status
	}
	return out, err
}

// A restore into a table that is not ACTIVE is refused up front, naming its status: before, it
// began writing and stopped "partial".
func testRestoreRefusesInactiveTable(t *testing.T, db *dynamodb.Client) {
	dir := exported(t, db, "inactive", wallets(30))
	createTable(t, db, "inactive-target")
	for _, status := range []types.TableStatus{types.TableStatusCreating, types.TableStatusDeleting, types.TableStatusArchived, types.TableStatusArchiving, types.TableStatusInaccessibleEncryptionCredentials} {
		s := &inStatus{counting: counting{DynamoDB: db}, status: status}
		r, err := Restore(t.Context(), s, dir, "inactive-target", RestoreOptions{})
		var refused *Refused
		if !errors.As(err, &refused) || r != nil || !strings.Contains(err.Error(), string(status)) || !strings.Contains(err.Error(), "nothing written") {
			t.Errorf("%s: want a refusal naming the status, got %+v, %v", status, r, err)
		}
		if s.writes.Load() != 0 || s.scans.Load() != 0 {
			t.Errorf("%s: %d writes and %d scans before the refusal, want none", status, s.writes.Load(), s.scans.Load())
		}
	}
	if n := len(scanAll(t, db, "inactive-target")); n != 0 {
		t.Fatalf("the target holds %d items", n)
	}
}

// replacing drops the table and makes another of the same name, with another item, just before
// the export's first Scan: the stand-in for someone doing that while the export runs. Every call
// then goes to DynamoDB Local unchanged.
type replacing struct {
	DynamoDB
	t    *testing.T
	db   *dynamodb.Client
	done atomic.Bool
}

func (r *replacing) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	if !r.done.Swap(true) {
		table := *in.TableName
		if _, err := r.db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName}); err != nil {
			r.t.Fatal(err)
		}
		createTable(r.t, r.db, table)
		put(r.t, r.db, table, wallets(1)...)
	}
	return r.DynamoDB.Scan(ctx, in, o...)
}

// A Scan reads by name: a table replaced between the export's description and its scan would
// leave another table's items under this one's metadata. That export is discarded, not kept.
func testExportOfAReplacedTableIsDiscarded(t *testing.T, db *dynamodb.Client) {
	createTable(t, db, "replaced-midway")
	put(t, db, "replaced-midway", wallets(10)...)
	dir := Dir(t.TempDir(), "replaced-midway")
	_, err := Export(t.Context(), &replacing{DynamoDB: db, t: t, db: db}, "replaced-midway", dir)
	if err == nil || !strings.Contains(err.Error(), "replaced while it was read") {
		t.Fatalf("export of a table replaced while read: %v; want it refused", err)
	}
	if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the discarded export left %s (%v)", dir, serr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 0 {
		t.Fatalf("the discarded export left %v", entries)
	}
}

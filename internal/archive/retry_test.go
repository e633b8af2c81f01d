package archive

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Creates that survive their own retries. The fault proxy forwards a call, lets the backend
// act and answer, and closes the connection before the answer (faultproxy.DropAfter): the SDK's
// retryer sends the call again, and it meets what its first try made.

// dropFirst is a client of the backend at endpoint whose first call of op loses its answer.
func dropFirst(t *testing.T, endpoint, op string) (*dynamodb.Client, *faultproxy.Proxy) {
	t.Helper()
	p, err := faultproxy.Start(endpoint, faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DynamoDB_20120810." + op}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return dynamodb.NewFromConfig(loadConfig(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) }), p
}

// restoreRunTag is the table's TagRestoreRun tag: which restore made it.
func restoreRunTag(t *testing.T, db *dynamodb.Client, table string) string {
	t.Helper()
	d, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := db.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: d.Table.TableArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range out.Tags {
		if aws.ToString(tg.Key) == TagRestoreRun {
			return aws.ToString(tg.Value)
		}
	}
	return ""
}

// On moto, which keeps tags: a restore whose CreateTable answer is lost finds the table its
// first try made by its run's tag and carries on (every item written, reported created, a note
// saying so); a table someone else creates while the restore creates it is refused, and
// nothing is written into it.
func TestRestoreCreatesSurviveTheirRetriesOnMoto(t *testing.T) {
	moto := localcloud.Moto(t)
	moto.SetEnv(t)
	db := fixture.NewCloud(t, "").DynamoDB

	t.Run("a lost CreateTable answer: the restore carries on with the table it made", func(t *testing.T) {
		dir := exported(t, db, "lost-create", wallets(30))
		lossy, p := dropFirst(t, moto.Endpoint, "CreateTable")
		r, err := Restore(t.Context(), lossy, dir, "lost-create-copy", RestoreOptions{})
		if err != nil || !r.Created || r.Items != 30 || r.Partial {
			t.Fatalf("restore: %+v, %v; want every item written into the table it created", r, err)
		}
		if c := p.Counts(); c.DroppedAfter != 1 || c.Forwarded["CreateTable"] != 2 {
			t.Fatalf("proxy %+v: the first CreateTable's answer was not lost and retried", c)
		}
		if got := len(scanAll(t, db, "lost-create-copy")); got != 30 {
			t.Fatalf("the table holds %d items, want 30", got)
		}
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "answer was lost") || !strings.Contains(r.Notes[0], TagRestoreRun) {
			t.Fatalf("notes %q: want one saying the answer was lost and how the table was proven", r.Notes)
		}
		if run := restoreRunTag(t, db, "lost-create-copy"); run == "" || !strings.Contains(r.Notes[0], run) {
			t.Fatalf("the table's %s tag %q is not the run the note names: %q", TagRestoreRun, run, r.Notes[0])
		}
	})

	t.Run("a table someone else creates meanwhile is refused, nothing written", func(t *testing.T) {
		dir := exported(t, db, "raced-create", wallets(5))
		cloud := fixture.NewCloud(t, "")
		raced := &creating{DynamoDB: db, before: func() { cloud.CreateForeignTable(t, "raced-create-copy") }}
		r, err := Restore(t.Context(), raced, dir, "raced-create-copy", RestoreOptions{})
		var refused *Refused
		if !errors.As(err, &refused) || r != nil || !strings.Contains(err.Error(), "created by someone else") || !strings.Contains(err.Error(), "nothing written") {
			t.Fatalf("restore: %+v, %v; want it refused, naming someone else's table", r, err)
		}
		items := scanAll(t, db, "raced-create-copy")
		if len(items) != 1 || !reflect.DeepEqual(items[0][wallet.KeyAttribute], &types.AttributeValueMemberS{Value: fixture.ForeignItem}) {
			t.Fatalf("someone else's table holds %v, want only their own item", items)
		}
	})
}

// creating calls before just ahead of CreateTable: someone else acting between the restore's
// check that the table is missing and its create.
type creating struct {
	DynamoDB
	before func()
}

func (c *creating) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.before()
	return c.DynamoDB.CreateTable(ctx, in, o...)
}

// DynamoDB Local keeps no tags, and nothing else in a table's description says who made it:
// there a lost CreateTable answer cannot be proven to have made the table now there. The
// restore refuses (exit 2 at the command), writes nothing, and says how to go on; run again,
// it restores into the empty table as into any empty one.
func testRestoreLostCreateOnDynamoDBLocal(t *testing.T, endpoint string) {
	db := dynamodb.NewFromConfig(loadConfig(t))
	dir := exported(t, db, "untagged", wallets(20))
	lossy, p := dropFirst(t, endpoint, "CreateTable")
	r, err := Restore(t.Context(), lossy, dir, "untagged-copy", RestoreOptions{})
	var refused *Refused
	if !errors.As(err, &refused) || r != nil || !strings.Contains(err.Error(), "keeps no tags") || !strings.Contains(err.Error(), "run the same restore again") {
		t.Fatalf("restore: %+v, %v; want it refused, saying why nothing proves the table its own", r, err)
	}
	if c := p.Counts(); c.DroppedAfter != 1 {
		t.Fatalf("proxy %+v: no answer was lost", c)
	}
	if got := len(scanAll(t, db, "untagged-copy")); got != 0 {
		t.Fatalf("a refused restore wrote %d items", got)
	}
	r, err = Restore(t.Context(), db, dir, "untagged-copy", RestoreOptions{})
	if err != nil || r.Created || r.Items != 20 {
		t.Fatalf("the same restore again: %+v, %v; want every item restored into the empty table", r, err)
	}
}

// An export's files are written by this process, not by DynamoDB: a Scan whose answer is lost is
// read again, and the export is whole; run again, it keeps that export as it is.
func testExportLostScanAnswer(t *testing.T, endpoint string) {
	db := dynamodb.NewFromConfig(loadConfig(t))
	createTable(t, db, "lost-scan")
	put(t, db, "lost-scan", wallets(25)...)
	lossy, p := dropFirst(t, endpoint, "Scan")
	dir := Dir(t.TempDir(), "lost-scan")
	e, err := Export(t.Context(), lossy, "lost-scan", dir)
	if err != nil || e.ItemCount != 25 || p.Counts().DroppedAfter != 1 {
		t.Fatalf("export: %+v, %v, proxy %+v", e, err, p.Counts())
	}
	before, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		t.Fatal(err)
	}
	again, err := Export(t.Context(), db, "lost-scan", dir)
	if err != nil || !again.Reused {
		t.Fatalf("rerun: %+v, %v; want the export kept", again, err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, MetadataFile)); string(after) != string(before) {
		t.Fatal("the rerun rewrote metadata.json")
	}
	if md, err := ReadMetadata(dir); err != nil || md.ItemCount != 25 {
		t.Fatalf("metadata: %+v, %v", md, err)
	}
}

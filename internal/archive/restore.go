package archive

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"golang.org/x/sync/errgroup"
)

// RestoreOptions tune a restore. The zero value restores into a missing or empty table,
// creating it on demand.
type RestoreOptions struct {
	// OriginalBilling creates a missing table with the exported table's own billing mode and
	// capacity. Without it the table is created on demand: no capacity to throttle the restore,
	// nothing billed at rest. A table that exists keeps its billing either way.
	OriginalBilling bool
	// Overwrite lets a restore write into a table that already holds items: those with an
	// export's key are replaced by the exported ones, the others are kept.
	Overwrite bool
	// Workers is how many BatchWriteItem calls run at once (default 4).
	Workers int
	// MaxNoProgress bounds the retries of a batch whose unprocessed items do not shrink (default 10).
	MaxNoProgress int
	// Tags are put on a table the restore creates, besides TagRestoreRun (`verify undo` puts
	// the record's id there, so a later run finds its own half-restored table).
	Tags map[string]string
	// Shape, when set, finishes the CreateTable request of a table the restore creates (undo
	// gives it the recorded encryption, table class, stream and indexes' capacity), after the
	// export's keys, indexes and billing are in it.
	Shape func(*dynamodb.CreateTableInput)
}

// Restored says what a restore did, also when it stopped part way.
type Restored struct {
	Table   string `json:"table"`
	Created bool   `json:"created"`
	Items   int64  `json:"items"` // written, as DynamoDB acknowledged them
	Total   int64  `json:"total"` // in the export
	Held    int64  `json:"held"`  // items the table held before (0 for a table restore created)
	// Replaced is how many of those had a key in the export, and were overwritten.
	Replaced int64 `json:"replaced"`
	// Partial is true when the restore stopped before writing every item: the table holds
	// Items of Total.
	Partial bool `json:"partial"`
	// Notes say what the user should know of a restore that succeeded: a lost CreateTable
	// answer, and how the table was proven to be this restore's.
	Notes []string `json:"notes,omitempty"`
}

// NotEmpty refuses a restore into a table that already holds items, without Overwrite.
type NotEmpty struct {
	Table                    string
	Held, Replaced, Exported int64
}

func (e *NotEmpty) Error() string {
	return fmt.Sprintf("restore %s: the table already holds %d items, %d of them with a key in the export (of %d items) that the restore would overwrite; nothing was written",
		e.Table, e.Held, e.Replaced, e.Exported)
}

// Restore writes every item of the export in dir into table, creating the table if it is
// missing. Everything that can be checked is checked before the table is created or an item
// written: the table name, metadata.json, every line of items.jsonl against its count and
// checksum, the target's key schema and types, and that the target is empty unless
// o.Overwrite. Errors found then are *Refused (a non-empty target: *NotEmpty inside one).
func Restore(ctx context.Context, db DynamoDB, dir, table string, o RestoreOptions) (*Restored, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	md, err := ReadMetadata(dir)
	if err != nil {
		return nil, err
	}
	target, err := checkTarget(ctx, db, table, md)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ItemsFile)
	exported, err := checkItems(ctx, path, table, md, target)
	if err != nil {
		return nil, err
	}
	r := &Restored{Table: table, Total: md.ItemCount}
	if err := prepareTarget(ctx, db, table, md, target, exported, o, newRun(), r); err != nil {
		return nil, err
	}
	written, err := writeItems(ctx, db, path, table, target.schema, md, o)
	r.Items = written
	if err != nil {
		r.Partial = true
		return r, fmt.Errorf("restore %s: stopped after writing %d of %d items, so the table is partial: %w", table, written, md.ItemCount, err)
	}
	return r, nil
}

// restoreTarget is the table a restore writes into, as checkTarget found it.
type restoreTarget struct {
	exists bool
	// schema is the keys DynamoDB will enforce: the export's, or, for a table that exists, its
	// own index keys.
	schema schema
}

// checkTarget describes the table to restore into and, if it exists, checks that it takes
// writes and that its keys fit the export's.
func checkTarget(ctx context.Context, db DynamoDB, table string, md *Metadata) (restoreTarget, error) {
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return restoreTarget{schema: schemaOf(md.KeySchema, md.AttributeDefinitions)}, nil
	}
	if err != nil {
		return restoreTarget{}, fmt.Errorf("restore %s: describe: %w", table, err)
	}
	if err := writable(desc.Table); err != nil {
		return restoreTarget{}, err
	}
	if err := fits(desc.Table, md); err != nil {
		return restoreTarget{}, err
	}
	// The live table's index keys, not the exported ones, are what DynamoDB will enforce.
	return restoreTarget{exists: true, schema: schemaOf(md.KeySchema, attributes(desc.Table.AttributeDefinitions))}, nil
}

// checkItems reads every line of the export against the target's schema, its count and its
// checksum before anything is written. For a table that exists it returns the export's keys,
// which prepareTarget counts among the items the table holds.
func checkItems(ctx context.Context, path, table string, md *Metadata, target restoreTarget) (map[string]struct{}, error) {
	var exported map[string]struct{}
	if target.exists {
		exported = make(map[string]struct{}, md.ItemCount)
	}
	n, sum, err := readItems(ctx, path, target.schema, func(item map[string]types.AttributeValue, _ int) error {
		if exported != nil {
			exported[keyOf(item, md.KeySchema)] = struct{}{}
		}
		return nil
	})
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("restore %s: nothing written: %w", table, ctx.Err())
	case err != nil:
		return nil, refuse("restore %s: nothing written: %w", table, err)
	case n != md.ItemCount || sum != md.ItemsSHA256:
		return nil, refuse("restore %s: nothing written: %s has %d items with sha256 %s, %s says %d items with sha256 %s: the export is damaged",
			table, path, n, sum, MetadataFile, md.ItemCount, md.ItemsSHA256)
	}
	return exported, nil
}

// prepareTarget makes the table ready for the items: a table that exists must be empty unless
// o.Overwrite (r learns what it holds); a missing one is created, tagged with run.
func prepareTarget(ctx context.Context, db DynamoDB, table string, md *Metadata, target restoreTarget, exported map[string]struct{}, o RestoreOptions, run string, r *Restored) error {
	if !target.exists {
		note, err := create(ctx, db, md, table, o, run)
		if err != nil {
			return err
		}
		if note != "" {
			r.Notes = append(r.Notes, note)
		}
		r.Created = true
		return nil
	}
	var err error
	if r.Held, r.Replaced, err = heldKeys(ctx, db, table, md.KeySchema, exported); err != nil {
		return fmt.Errorf("restore %s: nothing written: %w", table, err)
	}
	if r.Held > 0 && !o.Overwrite {
		return &Refused{&NotEmpty{Table: table, Held: r.Held, Replaced: r.Replaced, Exported: md.ItemCount}}
	}
	return nil
}

func writable(d *types.TableDescription) error {
	if d.TableStatus != types.TableStatusActive {
		return refuse("restore %s: nothing written: the table is %s, not ACTIVE; restore once it is ACTIVE, or into another --table", aws.ToString(d.TableName), d.TableStatus)
	}
	return nil
}

// fits refuses an existing table whose key does not match the export's, by name, role or type.
func fits(d *types.TableDescription, md *Metadata) error {
	live, exp := schemaOf(keys(d.KeySchema), attributes(d.AttributeDefinitions)), schemaOf(md.KeySchema, md.AttributeDefinitions)
	if !slices.Equal(live.keys, exp.keys) || slices.ContainsFunc(exp.keys, func(k Key) bool { return live.types[k.AttributeName] != exp.types[k.AttributeName] }) {
		return refuse("restore %s: nothing written: the table exists with key schema %s, the export has %s", aws.ToString(d.TableName), live, exp)
	}
	return nil
}

// String writes a key schema with its types: "pk S HASH, sk N RANGE".
func (s schema) String() string {
	parts := make([]string, len(s.keys))
	for i, k := range s.keys {
		parts[i] = fmt.Sprintf("%s %s %s", k.AttributeName, s.types[k.AttributeName], k.KeyType)
	}
	return strings.Join(parts, ", ")
}

// heldKeys reads the keys of the items table holds (a Scan projecting the key attributes only)
// and counts them and those that are also keys of the export.
func heldKeys(ctx context.Context, db DynamoDB, table string, ks []Key, exported map[string]struct{}) (held, replaced int64, err error) {
	names := map[string]string{}
	var proj []string
	for i, k := range ks {
		ph := fmt.Sprintf("#k%d", i)
		names[ph] = k.AttributeName
		proj = append(proj, ph)
	}
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{
		TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(strings.Join(proj, ", ")), ExpressionAttributeNames: names,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return held, replaced, fmt.Errorf("scan the keys it holds: %w", err)
		}
		for _, item := range page.Items {
			held++
			if _, ok := exported[keyOf(item, ks)]; ok {
				replaced++
			}
		}
	}
	return held, replaced, nil
}

// createWait bounds the wait for a table restore created to become ACTIVE, when the caller's
// context sets no deadline: seconds for a new table, minutes with many indexes.
const createWait = 10 * time.Minute

// TagRestoreRun is the tag a restore puts on a table it creates, valued with the run's id
// (newRun). CreateTable takes no client token, and the SDK's retryer sends it again when its
// answer is lost (a dropped connection, a timeout): the retry then meets the table its own
// first try made, as "already exists". The tag is how the restore tells that table, which it
// carries on with, from one someone else made at the same moment, which it must not write into.
const TagRestoreRun = "wallet:restore-run"

// newRun is one restore's id: when it started, and a random part for two at the same second.
func newRun() string {
	return fmt.Sprintf("%s-%08x", time.Now().UTC().Format("20060102T150405Z"), rand.Uint32())
}

// create makes the table restore writes into, and waits until it is ACTIVE. A create that
// failed is a question, not an answer: its first try may have made the table before its answer
// was lost. So after any error the table is looked for, and carried on with (a note says so)
// only when it carries this run's tag; otherwise the error stands, or, if a table is there
// that is not this run's, the restore is refused.
func create(ctx context.Context, db DynamoDB, md *Metadata, table string, o RestoreOptions, run string) (string, error) {
	originalBilling := o.OriginalBilling
	in := &dynamodb.CreateTableInput{TableName: aws.String(table), KeySchema: keySchema(md.KeySchema),
		Tags: []types.Tag{{Key: aws.String(TagRestoreRun), Value: aws.String(run)}}}
	for _, k := range slices.Sorted(maps.Keys(o.Tags)) {
		if k != TagRestoreRun {
			in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(o.Tags[k])})
		}
	}
	for _, a := range md.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	provisioned := originalBilling && md.Billing == types.BillingModeProvisioned
	if provisioned {
		in.BillingMode = types.BillingModeProvisioned
		in.ProvisionedThroughput = throughput(md.ReadCapacity, md.WriteCapacity)
	} else {
		in.BillingMode = types.BillingModePayPerRequest
	}
	for _, ix := range md.GlobalSecondaryIndexes {
		g := types.GlobalSecondaryIndex{IndexName: aws.String(ix.Name), KeySchema: keySchema(ix.KeySchema), Projection: proj(ix)}
		if provisioned {
			g.ProvisionedThroughput = throughput(ix.ReadCapacity, ix.WriteCapacity)
		}
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, g)
	}
	for _, ix := range md.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: aws.String(ix.Name), KeySchema: keySchema(ix.KeySchema), Projection: proj(ix)})
	}
	if o.Shape != nil {
		o.Shape(in)
	}
	_, cerr := db.CreateTable(ctx, in)
	if cerr != nil && ctx.Err() != nil {
		return "", fmt.Errorf("restore %s: create table (a table of that name may have been made: run the same restore again, it restores into an empty one): %w", table, cerr)
	}
	if cerr != nil {
		if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}); err != nil {
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				return "", fmt.Errorf("restore %s: create table: %w", table, cerr) // nothing was made
			}
			return "", fmt.Errorf("restore %s: create table: %w; whether it was made anyway could not be found out: %v", table, cerr, err)
		}
	}
	if err := waitActive(ctx, db, table); err != nil {
		return "", err
	}
	if cerr == nil {
		return "", nil
	}
	if err := madeByRun(ctx, db, table, run); err != nil {
		return "", fmt.Errorf("%w (CreateTable answered: %v)", err, cerr)
	}
	return fmt.Sprintf("CreateTable's answer was lost (%v); the table %s there is the one this restore made (tag %s=%s), so the restore went on", cerr, table, TagRestoreRun, run), nil
}

// waitActive waits for a table restore created (or found being created) to become ACTIVE.
func waitActive(ctx context.Context, db DynamoDB, table string) error {
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	// The waiter stops at ctx's deadline too; createWait bounds a caller that set none.
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, createWait); err != nil {
		return fmt.Errorf("restore %s: created, but it did not become active: %w", table, err)
	}
	return nil
}

// settledTags reads a table's tags, and twice more over 3 seconds while TagRestoreRun is not
// among them: ListTagsOfResource is eventually consistent on AWS and may answer a table's tags
// as empty for a few seconds, even tags given at creation, and a tag not yet visible must not
// be taken for a tag never set.
func settledTags(ctx context.Context, db DynamoDB, arn string) (map[string]string, error) {
	tags, err := discover.TableTags(ctx, db, arn)
	for _, pause := range []time.Duration{time.Second, 2 * time.Second} {
		if _, ok := tags[TagRestoreRun]; ok || err != nil {
			break
		}
		select {
		case <-ctx.Done():
			return tags, nil
		case <-time.After(pause):
		}
		tags, err = discover.TableTags(ctx, db, arn)
	}
	return tags, err
}

// madeByRun proves that the table found after a failed CreateTable is the one this run made: it
// carries TagRestoreRun=run. Anything else is refused (nothing has been written): a table
// without the tag, or with another run's, is someone else's; and where the endpoint keeps no
// tags (DynamoDB Local answers ListTagsOfResource with UnknownOperationException) nothing can
// prove it: neither its description nor its creation time says who created it.
func madeByRun(ctx context.Context, db DynamoDB, table, run string) error {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("restore %s: nothing written: describe the table found after CreateTable failed: %w", table, err)
	}
	tags, err := settledTags(ctx, db, aws.ToString(d.Table.TableArn))
	switch {
	case discover.Unsupported(err):
		return refuse("restore %s: nothing written: CreateTable failed, yet a table %s is there (created %s), and this endpoint keeps no tags (%v), so nothing proves it is the one this restore made rather than someone else's: if it is yours and empty, run the same restore again (it restores into an empty table); otherwise restore into another --table",
			table, table, aws.ToTime(d.Table.CreationDateTime).UTC().Format(time.RFC3339Nano), err)
	case err != nil:
		return fmt.Errorf("restore %s: nothing written: CreateTable failed and a table %s is there; its tags, which would say whether this restore made it, could not be read: %w", table, table, err)
	case tags[TagRestoreRun] == run:
		return nil
	}
	whose := "it has no " + TagRestoreRun + " tag"
	if other, ok := tags[TagRestoreRun]; ok {
		whose = fmt.Sprintf("its %s tag is %q, another restore's", TagRestoreRun, other)
	}
	return refuse("restore %s: nothing written: a table %s was created by someone else while this restore was creating it (%s; this restore is %s): restore into another --table",
		table, table, whose, run)
}

func throughput(r, w int64) *types.ProvisionedThroughput {
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(max(r, 1)), WriteCapacityUnits: aws.Int64(max(w, 1))}
}

func keySchema(ks []Key) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, len(ks))
	for i, k := range ks {
		out[i] = types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)}
	}
	return out
}

func proj(ix Index) *types.Projection {
	return &types.Projection{ProjectionType: types.ProjectionType(ix.ProjectionType), NonKeyAttributes: ix.NonKeyAttributes}
}

const (
	// batchSize is BatchWriteItem's limit.
	batchSize = 25
	// batchBytes closes a batch early: items.jsonl never counts fewer bytes than DynamoDB does,
	// so this keeps every call far below BatchWriteItem's 16 MB, and bounds the memory each
	// worker holds when items are large. An item larger than this goes alone.
	batchBytes = 4 << 20
)

// writeItems reads items.jsonl again, with the same checks, and writes it in batches. It returns
// how many items DynamoDB acknowledged, also when it stops.
func writeItems(ctx context.Context, db DynamoDB, path, table string, s schema, md *Metadata, o RestoreOptions) (int64, error) {
	workers := o.Workers
	if workers <= 0 {
		workers = 4
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var written atomic.Int64
	var batch []types.WriteRequest
	size := 0
	flush := func() {
		b := batch
		batch, size = nil, 0
		g.Go(func() error {
			return writeBatch(gctx, db, table, b, o.MaxNoProgress, func(n int) { written.Add(int64(n)) })
		})
	}
	n, sum, rerr := readItems(gctx, path, s, func(item map[string]types.AttributeValue, bytes int) error {
		if len(batch) == batchSize || len(batch) > 0 && size+bytes > batchBytes {
			flush()
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		size += bytes
		return nil
	})
	if rerr == nil && len(batch) > 0 {
		flush()
	}
	werr := g.Wait()
	switch {
	case werr != nil:
		return written.Load(), werr
	case rerr != nil:
		return written.Load(), rerr
	case n != md.ItemCount || sum != md.ItemsSHA256:
		return written.Load(), fmt.Errorf("%s changed while it was being restored: %d items with sha256 %s, %s says %d with sha256 %s",
			path, n, sum, MetadataFile, md.ItemCount, md.ItemsSHA256)
	}
	return written.Load(), nil
}

// writeBatch puts one batch, retrying what DynamoDB leaves unprocessed with jittered
// exponential backoff, and gives up after maxNoProgress rounds that write nothing. It reports
// each call's written items to wrote, so a restore that stops knows how far it got.
func writeBatch(ctx context.Context, db DynamoDB, table string, reqs []types.WriteRequest, maxNoProgress int, wrote func(int)) error {
	if maxNoProgress <= 0 {
		maxNoProgress = 10
	}
	delay := 50 * time.Millisecond
	stalled := 0
	for len(reqs) > 0 {
		out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
		if err != nil {
			return fmt.Errorf("batch write: %w", err)
		}
		left := out.UnprocessedItems[table]
		wrote(len(reqs) - len(left))
		if len(left) == 0 {
			return nil
		}
		if len(left) < len(reqs) {
			stalled, delay = 0, 50*time.Millisecond
		} else if stalled++; stalled >= maxNoProgress {
			return fmt.Errorf("batch write: %d items still unprocessed after %d tries without progress", len(left), stalled)
		}
		reqs = left
		t := time.NewTimer(delay/2 + rand.N(delay/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
	return nil
}

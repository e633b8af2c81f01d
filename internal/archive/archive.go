// Package archive saves a DynamoDB table's items to a directory and puts them back, so that
// deleting a table never has to mean losing its data. An export is a directory holding
// items.jsonl (one item per line in DynamoDB JSON, the typed form DynamoDB's own S3 export
// writes) and metadata.json (what is needed to recreate the table). metadata.json is written
// last: a directory without it is an export that did not finish.
package archive

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// DynamoDB is every call export and restore make.
type DynamoDB interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// File names inside an export directory.
const (
	MetadataFile = "metadata.json"
	ItemsFile    = "items.jsonl"
	// Format names this layout, so a future change can be told apart.
	Format = "wallet-archive/1 (DynamoDB JSON lines)"
)

// Metadata describes an export: enough to recreate the table and to check the items are whole.
type Metadata struct {
	Format                 string            `json:"format"`
	Table                  string            `json:"table"`
	TableARN               string            `json:"table_arn"`
	KeySchema              []Key             `json:"key_schema"`
	AttributeDefinitions   []Attribute       `json:"attribute_definitions"`
	Billing                types.BillingMode `json:"billing"` // PROVISIONED or PAY_PER_REQUEST
	ReadCapacity           int64             `json:"read_capacity,omitempty"`
	WriteCapacity          int64             `json:"write_capacity,omitempty"`
	GlobalSecondaryIndexes []Index           `json:"global_secondary_indexes,omitempty"`
	LocalSecondaryIndexes  []Index           `json:"local_secondary_indexes,omitempty"`
	ItemCount              int64             `json:"item_count"`
	ItemsSHA256            string            `json:"items_sha256"`
	ExportedAt             time.Time         `json:"exported_at"`
}

// Key is one element of a key schema.
type Key struct {
	AttributeName string `json:"attribute_name"`
	KeyType       string `json:"key_type"` // HASH or RANGE
}

// Attribute is one attribute definition (S, N or B).
type Attribute struct {
	AttributeName string `json:"attribute_name"`
	AttributeType string `json:"attribute_type"`
}

// Index is a secondary index as far as recreating it needs.
type Index struct {
	Name             string   `json:"name"`
	KeySchema        []Key    `json:"key_schema"`
	ProjectionType   string   `json:"projection_type"`
	NonKeyAttributes []string `json:"non_key_attributes,omitempty"`
	ReadCapacity     int64    `json:"read_capacity,omitempty"`
	WriteCapacity    int64    `json:"write_capacity,omitempty"`
}

// Dir is where an export of table goes under root: one directory per table.
func Dir(root, table string) string { return filepath.Join(root, table) }

// Export scans the whole table with consistent reads into dir, which must not already hold
// an export. It returns the metadata it wrote.
func Export(ctx context.Context, db DynamoDB, table, dir string) (*Metadata, error) {
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err == nil {
		return nil, fmt.Errorf("export %s: %s already holds an export; choose another directory", table, dir)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("export %s: describe: %w", table, err)
	}
	md := metadataFrom(desc.Table)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	partial := filepath.Join(dir, ItemsFile+".partial")
	f, err := os.OpenFile(partial, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	defer os.Remove(partial) // a no-op once renamed
	defer f.Close()
	sum := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, sum))
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("export %s: scan: %w", table, err)
		}
		for _, item := range page.Items {
			line, err := marshalLine(item)
			if err != nil {
				return nil, fmt.Errorf("export %s: item %d: %w", table, md.ItemCount+1, err)
			}
			w.Write(line)
			md.ItemCount++
		}
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	if err := os.Rename(partial, filepath.Join(dir, ItemsFile)); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	md.ItemsSHA256 = hex.EncodeToString(sum.Sum(nil))
	md.ExportedAt = time.Now().UTC()
	if err := writeMetadata(dir, md); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	return md, nil
}

// exportLine is one line of items.jsonl, shaped as DynamoDB's S3 export writes it.
type exportLine struct {
	Item json.RawMessage `json:"Item"`
}

func marshalLine(item map[string]types.AttributeValue) ([]byte, error) {
	b, err := MarshalItem(item)
	if err != nil {
		return nil, err
	}
	line, err := json.Marshal(exportLine{Item: b})
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

func writeMetadata(dir string, md *Metadata) error {
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, MetadataFile+".partial")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, MetadataFile))
}

func metadataFrom(d *types.TableDescription) *Metadata {
	md := &Metadata{Format: Format, Table: aws.ToString(d.TableName), TableARN: aws.ToString(d.TableArn), Billing: wallet.BillingOf(d).Mode()}
	md.KeySchema = keys(d.KeySchema)
	for _, a := range d.AttributeDefinitions {
		md.AttributeDefinitions = append(md.AttributeDefinitions, Attribute{aws.ToString(a.AttributeName), string(a.AttributeType)})
	}
	if md.Billing == types.BillingModeProvisioned && d.ProvisionedThroughput != nil {
		md.ReadCapacity = aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits)
		md.WriteCapacity = aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)
	}
	for _, g := range d.GlobalSecondaryIndexes {
		ix := Index{Name: aws.ToString(g.IndexName), KeySchema: keys(g.KeySchema)}
		projection(&ix, g.Projection)
		if g.ProvisionedThroughput != nil {
			ix.ReadCapacity = aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits)
			ix.WriteCapacity = aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits)
		}
		md.GlobalSecondaryIndexes = append(md.GlobalSecondaryIndexes, ix)
	}
	for _, l := range d.LocalSecondaryIndexes {
		ix := Index{Name: aws.ToString(l.IndexName), KeySchema: keys(l.KeySchema)}
		projection(&ix, l.Projection)
		md.LocalSecondaryIndexes = append(md.LocalSecondaryIndexes, ix)
	}
	return md
}

func keys(ks []types.KeySchemaElement) []Key {
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = Key{aws.ToString(k.AttributeName), string(k.KeyType)}
	}
	return out
}

func projection(ix *Index, p *types.Projection) {
	if p == nil {
		ix.ProjectionType = string(types.ProjectionTypeAll)
		return
	}
	ix.ProjectionType = string(p.ProjectionType)
	ix.NonKeyAttributes = p.NonKeyAttributes
}

// ReadMetadata reads dir's metadata.json; its absence means the export is missing or unfinished.
func ReadMetadata(dir string) (*Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: not an export, or one that did not finish", dir, MetadataFile)
		}
		return nil, err
	}
	var md Metadata
	if err := json.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, MetadataFile), err)
	}
	if len(md.KeySchema) == 0 {
		return nil, fmt.Errorf("%s: no key schema", filepath.Join(dir, MetadataFile))
	}
	return &md, nil
}

// RestoreBilling is how a table that restore creates is billed.
type RestoreBilling string

const (
	RestoreOnDemand RestoreBilling = "on-demand" // no capacity to throttle the restore, nothing billed at rest
	RestoreOriginal RestoreBilling = "original"  // the exported table's own billing mode and capacity
)

// RestoreOptions tune a restore. The zero value restores into an on-demand table.
type RestoreOptions struct {
	Billing RestoreBilling
	// Workers is how many BatchWriteItem calls run at once (default 4).
	Workers int
	// MaxNoProgress bounds the retries of a batch whose unprocessed items do not shrink (default 10).
	MaxNoProgress int
}

// Restored says what a restore did.
type Restored struct {
	Table   string `json:"table"`
	Created bool   `json:"created"`
	Items   int64  `json:"items"`
}

// Restore writes every item of the export in dir into table, creating the table first if it is
// missing. The items file is checked against the metadata before anything is written.
func Restore(ctx context.Context, db DynamoDB, dir, table string, o RestoreOptions) (*Restored, error) {
	md, err := ReadMetadata(dir)
	if err != nil {
		return nil, err
	}
	if err := checkItems(dir, md); err != nil {
		return nil, err
	}
	r := &Restored{Table: table}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		if err := create(ctx, db, md, table, o.Billing); err != nil {
			return nil, err
		}
		r.Created = true
	case err != nil:
		return nil, fmt.Errorf("restore %s: describe: %w", table, err)
	default:
		if got := keys(desc.Table.KeySchema); !slices.Equal(got, md.KeySchema) {
			return nil, fmt.Errorf("restore %s: the table exists with key schema %s, the export has %s", table,
				wallet.KeySchema(desc.Table.KeySchema), wallet.KeySchema(keySchema(md.KeySchema)))
		}
	}
	n, err := writeItems(ctx, db, dir, table, o)
	r.Items = n
	if err != nil {
		return r, fmt.Errorf("restore %s: %w", table, err)
	}
	return r, nil
}

func checkItems(dir string, md *Metadata) error {
	f, err := os.Open(filepath.Join(dir, ItemsFile))
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.New()
	lines, err := countLines(io.TeeReader(f, sum))
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != md.ItemsSHA256 || lines != md.ItemCount {
		return fmt.Errorf("%s: %d items with sha256 %s, metadata says %d items with sha256 %s: the export is damaged",
			filepath.Join(dir, ItemsFile), lines, got, md.ItemCount, md.ItemsSHA256)
	}
	return nil
}

func countLines(r io.Reader) (int64, error) {
	var n int64
	buf := make([]byte, 64<<10)
	for {
		k, err := r.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func create(ctx context.Context, db DynamoDB, md *Metadata, table string, billing RestoreBilling) error {
	in := &dynamodb.CreateTableInput{TableName: aws.String(table)}
	for _, k := range md.KeySchema {
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
	}
	for _, a := range md.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	provisioned := billing == RestoreOriginal && md.Billing == types.BillingModeProvisioned
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
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("restore %s: create table: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 10*time.Minute); err != nil {
		return fmt.Errorf("restore %s: wait for the table: %w", table, err)
	}
	return nil
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

// batchSize is BatchWriteItem's limit.
const batchSize = 25

func writeItems(ctx context.Context, db DynamoDB, dir, table string, o RestoreOptions) (int64, error) {
	f, err := os.Open(filepath.Join(dir, ItemsFile))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	workers := o.Workers
	if workers <= 0 {
		workers = 4
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var written atomic.Int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 2<<20) // an item is at most 400 KB; its JSON a few times that
	var batch []types.WriteRequest
	line := 0
	flush := func() {
		b := batch
		batch = nil
		g.Go(func() error {
			if err := writeBatch(gctx, db, table, b, o.MaxNoProgress); err != nil {
				return err
			}
			written.Add(int64(len(b)))
			return nil
		})
	}
	for sc.Scan() {
		line++
		var l exportLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Item == nil {
			_ = g.Wait()
			return written.Load(), fmt.Errorf("%s line %d: want {\"Item\": {...}}: %v", ItemsFile, line, err)
		}
		item, err := UnmarshalItem(l.Item)
		if err != nil {
			_ = g.Wait()
			return written.Load(), fmt.Errorf("%s line %d: %w", ItemsFile, line, err)
		}
		batch = append(batch, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(batch) == batchSize {
			flush()
		}
		if gctx.Err() != nil {
			break
		}
	}
	if len(batch) > 0 && gctx.Err() == nil {
		flush()
	}
	if err := g.Wait(); err != nil {
		return written.Load(), err
	}
	if err := sc.Err(); err != nil {
		return written.Load(), err
	}
	return written.Load(), ctx.Err()
}

// writeBatch puts one batch, retrying what DynamoDB leaves unprocessed with jittered
// exponential backoff, and gives up after maxNoProgress rounds that write nothing.
func writeBatch(ctx context.Context, db DynamoDB, table string, reqs []types.WriteRequest, maxNoProgress int) error {
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
		if len(left) == 0 {
			return nil
		}
		if len(left) < len(reqs) {
			stalled, delay = 0, 50*time.Millisecond
		} else if stalled++; stalled >= maxNoProgress {
			return fmt.Errorf("batch write: %d items still unprocessed after %d tries without progress", len(left), stalled)
		}
		reqs = left
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay/2 + rand.N(delay/2+1)):
		}
		delay = min(2*delay, 5*time.Second)
	}
	return nil
}

package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TableAPI is every call made on the ledger table: reading it, and writing a record once.
// There is no UpdateItem, DeleteItem or BatchWriteItem here, and the project's policies deny
// them on the ledger.
type TableAPI interface {
	discover.TableDescriber
	discover.TagLister
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Table is the ledger of one account and region.
type Table struct {
	DB              TableAPI
	Account, Region string
}

// Where names the ledger for a report.
func (t Table) Where() string {
	return fmt.Sprintf("ledger %s (account %s, %s)", wallet.LedgerTable, t.Account, t.Region)
}

// The attributes of a record's item: its key, what a listing filters by, and the record.
const (
	attrTable  = "table"
	attrAt     = "at"
	attrRecord = "record"
)

// ErrNoLedger: no ledger is deployed in the account and region.
var ErrNoLedger = errors.New("no ledger")

// FindTable finds the ledger of an account and region: the table named wallet.LedgerTable, keyed
// by wallet.LedgerKey and tagged wallet.TagLedger. ErrNoLedger when there is none; an error when
// a table of that name is there but is not the ledger (no record is written into someone else's
// table), or when whether there is one could not be found out.
func FindTable(ctx context.Context, db TableAPI, account, region string) (Table, error) {
	d, err := discover.DescribeTable(ctx, db, wallet.LedgerTable)
	switch {
	case err != nil:
		return Table{}, fmt.Errorf("look for the ledger %s in %s: %w", wallet.LedgerTable, region, err)
	case d == nil:
		return Table{}, ErrNoLedger
	}
	ks := keysOf(d.KeySchema)
	if len(ks) != 1 || ks[0].Attribute != wallet.LedgerKey || ks[0].Type != string(types.KeyTypeHash) {
		return Table{}, fmt.Errorf("table %s in %s is not the ledger: its key is %v, the ledger's is %s HASH", wallet.LedgerTable, region, ks, wallet.LedgerKey)
	}
	tags, err := discover.TableTags(ctx, db, aws.ToString(d.TableArn))
	if err != nil {
		return Table{}, fmt.Errorf("tags of %s in %s: %w", wallet.LedgerTable, region, err)
	}
	if tags[wallet.TagLedger] != wallet.LedgerTagValue {
		return Table{}, fmt.Errorf("table %s in %s is not the ledger: it is not tagged %s=%s", wallet.LedgerTable, region, wallet.TagLedger, wallet.LedgerTagValue)
	}
	return Table{DB: db, Account: account, Region: region}, nil
}

// Put writes r once: PutItem on the condition that its id is not there yet. A write that failed
// is a question, not an answer (a retried PutItem whose first try was written meets its own
// record, as a condition failure; a timeout may hide a write that happened): the record under
// the id is read, consistently, and if it is this deletion's (same), that is success, and the
// record there is returned. Anything else under the id is a collision, refused.
func (t Table) Put(ctx context.Context, r Record) (Record, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	_, perr := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(wallet.LedgerTable),
		Item: map[string]types.AttributeValue{
			wallet.LedgerKey: &types.AttributeValueMemberS{Value: r.ID},
			attrTable:        &types.AttributeValueMemberS{Value: r.Table},
			attrAt:           &types.AttributeValueMemberS{Value: r.At.UTC().Format(time.RFC3339Nano)},
			attrRecord:       &types.AttributeValueMemberS{Value: string(body)},
		},
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": wallet.LedgerKey},
	})
	if perr == nil {
		return r, nil
	}
	perr = fmt.Errorf("write record %s to %s: %w", r.ID, t.Where(), perr)
	// Asked on a context of its own: an interrupted write's answer still comes.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	there, found, err := t.Get(qctx, r.ID)
	switch {
	case err != nil:
		return Record{}, fmt.Errorf("%w; whether it was written anyway could not be found out: %v", perr, err)
	case !found:
		return Record{}, perr
	case !same(there, r):
		return Record{}, fmt.Errorf("%w: the record already under id %s is of another deletion (%s %s, %s): not this one", perr, r.ID, there.Table, there.TableARN, there.Saved.What())
	}
	// This deletion's record, by an earlier run: still open (a run killed before its deletion),
	// or noted not deleted, and then this is another attempt, with a record of its own.
	if noted, err := t.noted(qctx, r.ID); err != nil {
		return Record{}, fmt.Errorf("%w; whether record %s was noted not deleted could not be read: %v", perr, r.ID, err)
	} else if noted {
		return Record{}, errAttemptClosed
	}
	return there, nil
}

// errAttemptClosed: the record of this deletion under the id was noted not deleted; the next
// attempt is written under the next id.
var errAttemptClosed = errors.New("an earlier attempt, noted not deleted")

// noted reports whether the record id carries a note that its deletion did not happen.
func (t Table) noted(ctx context.Context, id string) (bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(wallet.LedgerTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{wallet.LedgerKey: &types.AttributeValueMemberS{Value: id + notDeletedSuffix}}})
	if err != nil {
		return false, err
	}
	return len(out.Item) > 0, nil
}

// Get reads one record by id, consistently.
func (t Table) Get(ctx context.Context, id string) (Record, bool, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(wallet.LedgerTable), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{wallet.LedgerKey: &types.AttributeValueMemberS{Value: id}}})
	if err != nil {
		return Record{}, false, fmt.Errorf("read record %s from %s: %w", id, t.Where(), err)
	}
	if len(out.Item) == 0 {
		return Record{}, false, nil
	}
	r, err := decodeItem(out.Item)
	if err != nil {
		return Record{}, false, fmt.Errorf("record %s in %s: %w", id, t.Where(), err)
	}
	return r, true, nil
}

// List reads every record of the ledger (a Scan: the ledger holds a record per deletion, small).
// An item that does not decode is named in bad, not dropped silently.
func (t Table) List(ctx context.Context) (records []Record, bad []string, err error) {
	records, _, bad, err = t.ListWithNotes(ctx)
	return records, bad, err
}

// ListWithNotes is List, with the notes of recorded deletions that did not happen.
func (t Table) ListWithNotes(ctx context.Context) (records []Record, notes []NotDeleted, bad []string, err error) {
	p := dynamodb.NewScanPaginator(t.DB, &dynamodb.ScanInput{TableName: aws.String(wallet.LedgerTable), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return records, notes, bad, fmt.Errorf("read %s: %w", t.Where(), err)
		}
		for _, item := range page.Items {
			if n, ok := notDeletedOf(item); ok {
				notes = append(notes, n)
				continue
			}
			r, err := decodeItem(item)
			if err != nil {
				id, _ := item[wallet.LedgerKey].(*types.AttributeValueMemberS)
				name := "?"
				if id != nil {
					name = id.Value
				}
				bad = append(bad, fmt.Sprintf("%s: item %s: %v", t.Where(), cutText(name), err))
				continue
			}
			records = append(records, r)
		}
	}
	return records, notes, bad, nil
}

func decodeItem(item map[string]types.AttributeValue) (Record, error) {
	id, _ := item[wallet.LedgerKey].(*types.AttributeValueMemberS)
	body, _ := item[attrRecord].(*types.AttributeValueMemberS)
	if id == nil || body == nil {
		return Record{}, fmt.Errorf("not a record (no %s or %s string)", wallet.LedgerKey, attrRecord)
	}
	r, err := decode([]byte(body.Value))
	if err != nil {
		return Record{}, err
	}
	if r.ID != id.Value {
		return Record{}, fmt.Errorf("its record says id %q, its key %q", cutText(r.ID), cutText(id.Value))
	}
	return r, nil
}

// decode reads one record strictly: a known format, the fields a record must have.
func decode(b []byte) (Record, error) {
	var r Record
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("not a record: %v", err)
	}
	switch {
	case r.Format != Format:
		return Record{}, fmt.Errorf("format %q, want %q", cutText(r.Format), Format)
	case CheckID(r.ID) != nil:
		return Record{}, CheckID(r.ID)
	case !wallet.ValidTableName(r.Table) || r.Account == "" || r.Region == "" || r.TableARN == "":
		return Record{}, fmt.Errorf("record %s lacks its table, account, region or ARN", r.ID)
	}
	return r, nil
}

// Dir is where records go as files, where no ledger is deployed: DIR/<table>@<id>.record.json
// ("@" is not allowed in a table name, so a record never collides with an export directory
// beside it). A file is written whole or not at all (a temporary file, then a hard link to its
// name, which fails if the name is taken) and never written over.
type Dir struct {
	Path  string
	notes []NotDeleted // what List found beside the records
}

// Where names the directory for a report.
func (d Dir) Where() string { return "file in " + d.Path }

// Suffix ends every record file's name.
const Suffix = ".record.json"

// FileName is a record's file name.
func FileName(r Record) string { return r.Table + "@" + r.ID + Suffix }

// maxRecordBytes bounds a record file read back: a record is a few kilobytes; anything past
// this is not one.
const maxRecordBytes = 4 << 20

// Put writes r into the directory, once; a file of that name holding this deletion's record is
// success (its record returned), any other is refused.
func (d Dir) Put(r Record) (Record, string, error) {
	if err := os.MkdirAll(d.Path, 0o700); err != nil {
		return Record{}, "", fmt.Errorf("record directory %s: %w", d.Path, err)
	}
	path := filepath.Join(d.Path, FileName(r))
	body, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Record{}, "", fmt.Errorf("encode record %s: %w", r.ID, err)
	}
	tmp, err := os.CreateTemp(d.Path, ".record-*.tmp")
	if err != nil {
		return Record{}, "", fmt.Errorf("record directory %s: %w", d.Path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(body, '\n')); err != nil {
		tmp.Close()
		return Record{}, "", fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Record{}, "", fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return Record{}, "", fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if !errors.Is(err, fs.ErrExist) {
			return Record{}, "", fmt.Errorf("write record %s: %w", path, err)
		}
		there, rerr := ReadFile(path)
		switch {
		case rerr != nil:
			return Record{}, "", fmt.Errorf("write record %s: a file of that name is there and is not a record: %v", path, rerr)
		case !same(there, r):
			return Record{}, "", fmt.Errorf("write record %s: the file there is of another deletion", path)
		}
		if _, err := os.Lstat(filepath.Join(d.Path, r.Table+"@"+r.ID+notDeletedSuffix+".json")); err == nil {
			return Record{}, "", errAttemptClosed
		}
		return there, path, nil
	}
	if dir, err := os.Open(d.Path); err == nil {
		_ = dir.Sync()
		dir.Close()
	}
	return r, path, nil
}

// ReadFile reads one record file: a regular file (not a link, a FIFO or a device), of a
// record's size.
func ReadFile(path string) (Record, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return Record{}, err
	}
	if !st.Mode().IsRegular() {
		return Record{}, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscallNoFollow, 0)
	if err != nil {
		return Record{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRecordBytes+1))
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > maxRecordBytes {
		return Record{}, fmt.Errorf("%s: larger than a record", path)
	}
	r, err := decode(b)
	if err != nil {
		return Record{}, fmt.Errorf("%s: %w", path, err)
	}
	if filepath.Base(path) != FileName(r) {
		return Record{}, fmt.Errorf("%s: its record is %s, whose file is named %s", path, r.ID, FileName(r))
	}
	return r, nil
}

// maxRecordDepth is how deep under a record directory records are looked for: an export root
// holds them in itself, in <region>/ and in <account>/<region>/. Deeper is an export's own
// directory, or a directory that is not a record directory at all (--record-dir /).
const maxRecordDepth = 2

// List reads every record file in the directory and up to maxRecordDepth below it (an export
// root holds them beside each region's and account's exports). Symbolic links are not
// followed. A missing directory holds no records.
func (d Dir) List() (records []Record, paths []string, bad []string, err error) {
	records, paths, _, bad, err = d.ListWithNotes()
	return records, paths, bad, err
}

// ListWithNotes is List, with the notes of recorded deletions that did not happen.
func (d Dir) ListWithNotes() (records []Record, paths []string, notes []NotDeleted, bad []string, err error) {
	d.notes = nil
	root := filepath.Clean(d.Path)
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipAll
			}
			bad = append(bad, err.Error())
			return nil
		}
		if e.IsDir() {
			if rel, rerr := filepath.Rel(root, path); rerr == nil && rel != "." && strings.Count(rel, string(filepath.Separator)) >= maxRecordDepth {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(e.Name(), notDeletedSuffix+".json") && strings.Contains(e.Name(), "@") {
			n, err := readNotDeleted(path)
			if err != nil {
				bad = append(bad, err.Error())
				return nil
			}
			d.notes = append(d.notes, n)
			return nil
		}
		if !strings.HasSuffix(e.Name(), Suffix) || !strings.Contains(e.Name(), "@") {
			return nil
		}
		r, err := ReadFile(path)
		if err != nil {
			bad = append(bad, err.Error())
			return nil
		}
		records, paths = append(records, r), append(paths, path)
		return nil
	})
	return records, paths, d.notes, bad, err
}

// Sort orders records newest first, by when they were written, then by id.
func Sort(rs []Record) {
	slices.SortStableFunc(rs, func(a, b Record) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

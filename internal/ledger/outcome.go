package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A record is written before its deletion, and a deletion can then not happen: a re-check holds
// the table back (kept, replaced, protected since), DeleteTable is refused, the stack stays. The
// run then appends what became of it, NotDeleted, beside the record (records are never changed):
// `verify history` shows the record as not deleted, and `verify undo` does not take it. A run
// killed between its record and its deletion appends nothing: history shows the record, and
// undo refuses it while the table is there.

// NotDeleted is the note that a recorded deletion did not happen, and why.
type NotDeleted struct {
	Of  string    `json:"of"`
	Why string    `json:"why"`
	At  time.Time `json:"at"`
}

// notDeletedSuffix ends a NotDeleted's key in the ledger and its file's name: never a record's
// id (20 hex digits), never a record file's name.
const notDeletedSuffix = ".not-deleted"

// attrOf names, on a NotDeleted's item, the record it is of.
const (
	attrOf  = "of"
	attrWhy = "why"
)

// PutNotDeleted appends the note that record id's deletion did not happen. Written once, as a
// record is: a note already there for the record is success.
func (t Table) PutNotDeleted(ctx context.Context, n NotDeleted) error {
	_, err := t.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(wallet.LedgerTable),
		Item: map[string]types.AttributeValue{
			wallet.LedgerKey: &types.AttributeValueMemberS{Value: n.Of + notDeletedSuffix},
			attrOf:           &types.AttributeValueMemberS{Value: n.Of},
			attrWhy:          &types.AttributeValueMemberS{Value: n.Why},
			attrAt:           &types.AttributeValueMemberS{Value: n.At.UTC().Format(time.RFC3339Nano)},
		},
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": wallet.LedgerKey},
	})
	var cf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &cf) {
		return fmt.Errorf("note in %s that %s was not deleted: %w", t.Where(), n.Of, err)
	}
	return nil
}

// notDeletedOf reads a NotDeleted from a ledger item, if it is one.
func notDeletedOf(item map[string]types.AttributeValue) (NotDeleted, bool) {
	of, _ := item[attrOf].(*types.AttributeValueMemberS)
	why, _ := item[attrWhy].(*types.AttributeValueMemberS)
	if of == nil || why == nil {
		return NotDeleted{}, false
	}
	n := NotDeleted{Of: of.Value, Why: why.Value}
	if at, ok := item[attrAt].(*types.AttributeValueMemberS); ok {
		n.At, _ = time.Parse(time.RFC3339Nano, at.Value)
	}
	return n, true
}

// PutNotDeleted writes the note beside the record file of r: <table>@<id>.not-deleted.json.
func (d Dir) PutNotDeleted(r Written, table string, n NotDeleted) error {
	path := filepath.Join(d.Path, table+"@"+n.Of+notDeletedSuffix+".json")
	b, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("note beside %s that it was not deleted: %w", r.Where, err)
	}
	_, werr := f.Write(append(b, '\n'))
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}

// readNotDeleted reads a note file, strictly.
func readNotDeleted(path string) (NotDeleted, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return NotDeleted{}, err
	}
	if !st.Mode().IsRegular() || st.Size() > 64<<10 {
		return NotDeleted{}, fmt.Errorf("%s: not a note", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return NotDeleted{}, err
	}
	var n NotDeleted
	if err := json.Unmarshal(b, &n); err != nil || CheckID(n.Of) != nil || !strings.Contains(filepath.Base(path), "@"+n.Of+notDeletedSuffix) {
		return NotDeleted{}, fmt.Errorf("%s: not a note of a record", path)
	}
	return n, nil
}

// Package archive saves a DynamoDB table's items to a directory and puts them back, so that
// deleting a table never has to mean losing its data. An export is a directory holding
// items.jsonl (one item per line in DynamoDB JSON, the typed form DynamoDB's own S3 export
// writes) and metadata.json (what is needed to recreate the table). The directory appears
// whole or not at all: it is written under a temporary name and renamed into place once
// items.jsonl has been read back by the reader restore uses.
package archive

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DynamoDB is every call export and restore make.
type DynamoDB interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	// ListTagsOfResource reads the tag restore put on a table it created (TagRestoreRun), to
	// tell it, after a CreateTable whose answer was lost, from someone else's.
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// File names inside an export directory.
const (
	MetadataFile = "metadata.json"
	ItemsFile    = "items.jsonl"
	// Format names this layout, so a future change can be told apart.
	Format = "wallet-archive/1 (DynamoDB JSON lines)"
)

// Dir is where an export of table goes under root: one directory per table.
func Dir(root, table string) string { return filepath.Join(root, table) }

// Refused is an error found before anything was created or written: a bad table name, an
// export that is damaged or of an unknown format, a target table that does not fit it. It is
// the user's input that is wrong, so the command maps it to exit 2.
type Refused struct{ Err error }

func (e *Refused) Error() string { return e.Err.Error() }
func (e *Refused) Unwrap() error { return e.Err }

func refuse(format string, a ...any) error { return &Refused{fmt.Errorf(format, a...)} }

// TableNameRule is DynamoDB's table naming rule, as the error for a bad name states it.
const TableNameRule = "want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)"

func checkTableName(table string) error {
	if !wallet.ValidTableName(table) {
		return refuse("table name %q: %s", table, TableNameRule)
	}
	return nil
}

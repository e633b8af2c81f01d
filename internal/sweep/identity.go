package sweep

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Identity is which table a name stood for when it was judged. A name is not a table: one
// deleted and created again under the same name (another project's, with other data) has the
// same name and ARN, but another TableId and CreationDateTime.
type Identity struct {
	ARN string `json:"arn"`
	// TableID is DynamoDB's unique id of the table; AWS returns one, moto does not.
	TableID string `json:"table_id,omitempty"`
	// Created is its CreationDateTime: what tells two tables of one name apart without a TableID.
	Created time.Time `json:"created"`
}

func identityOf(d *types.TableDescription) Identity {
	return Identity{ARN: aws.ToString(d.TableArn), TableID: aws.ToString(d.TableId), Created: aws.ToTime(d.CreationDateTime)}
}

// Same reports whether b is provably the table a is. TableIDs decide when both are known;
// otherwise the creation times must both be known and equal. Not knowing is not the same.
func (a Identity) Same(b Identity) bool {
	switch {
	case a.ARN == "" || a.ARN != b.ARN:
		return false
	case a.TableID != "" && b.TableID != "":
		return a.TableID == b.TableID
	default:
		return !a.Created.IsZero() && a.Created.Equal(b.Created)
	}
}

func (a Identity) String() string {
	if a.TableID != "" {
		return "table id " + a.TableID
	}
	return "created " + a.Created.UTC().Format(time.RFC3339Nano)
}

// ErrNotPlannedTable: a backup's source is another table than the one planned (the name was
// given to a new table in the meantime, or the answer does not say which table it was).
var ErrNotPlannedTable = errors.New("not the planned table")

// Target is the table a backup is asked for: by name, and by the identity it was planned with,
// so that a backup taken (or reused) is provably of that table.
type Target struct {
	Region, Table string
	Identity      Identity
}

// CheckBackupSource proves that an AVAILABLE backup is of the planned table: DescribeBackup's source
// details name its ARN, and its TableId or creation time. A backup whose source the answer
// does not identify (no ARN, or neither id nor creation time to compare) is not proof.
func CheckBackupSource(ctx context.Context, db BackupAPI, arn string, want Identity) error {
	out, err := db.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("describe backup %s: %w", arn, err)
	}
	if out.BackupDescription == nil || out.BackupDescription.SourceTableDetails == nil {
		return fmt.Errorf("backup %s: the answer does not say which table it is of", arn)
	}
	src := out.BackupDescription.SourceTableDetails
	got := Identity{ARN: aws.ToString(src.TableArn), TableID: aws.ToString(src.TableId), Created: aws.ToTime(src.TableCreationDateTime)}
	if got.ARN == "" || (got.TableID == "" && got.Created.IsZero()) {
		return fmt.Errorf("backup %s: the answer does not identify its source table (ARN %q, no TableId and no TableCreationDateTime): no proof it is of %s", arn, got.ARN, want.ARN)
	}
	if !want.Same(got) {
		return fmt.Errorf("backup %s is of %s (%s), not of the planned table %s (%s): %w", arn, dash(got.ARN), got, want.ARN, want, ErrNotPlannedTable)
	}
	return nil
}

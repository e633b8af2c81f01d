package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BackupAPI is what taking a native backup calls.
type BackupAPI interface {
	CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
}

// BackupName is prefix + table + "-" + the UTC time, cut to DynamoDB's 255-character limit for
// backup names (which allow the same characters as table names).
func BackupName(prefix, table string, at time.Time) string {
	suffix := "-" + at.UTC().Format("20060102T150405Z")
	if room := 255 - len(prefix) - len(suffix); len(table) > room {
		table = table[:room]
	}
	return prefix + table + suffix
}

// NativeBackup is an Options.Backup that takes an on-demand backup of each table, named
// BackupName(prefix, table, now), and returns its ARN once DynamoDB says it is AVAILABLE.
func NativeBackup(clients map[string]RegionClients, prefix string, wait time.Duration) func(context.Context, Target) (string, error) {
	return func(ctx context.Context, t Target) (string, error) {
		c, ok := clients[t.Region]
		if !ok {
			return "", fmt.Errorf("no clients for region %s", t.Region)
		}
		return TakeBackup(ctx, c.DynamoDB, t.Table, BackupName(prefix, t.Table, time.Now()), wait)
	}
}

// TakeBackup creates a backup and waits until it is AVAILABLE: only then may a deletion depend
// on it. The SDK has no waiter for backups, so this polls DescribeBackup with a growing delay,
// bounded by wait and ctx.
func TakeBackup(ctx context.Context, db BackupAPI, table, name string, wait time.Duration) (string, error) {
	out, err := db.CreateBackup(ctx, &dynamodb.CreateBackupInput{TableName: aws.String(table), BackupName: aws.String(name)})
	if err != nil {
		return "", fmt.Errorf("create backup %s of %s: %w", name, table, err)
	}
	d := out.BackupDetails
	if d == nil {
		return "", fmt.Errorf("create backup %s of %s: no backup details in the answer", name, table)
	}
	arn := aws.ToString(d.BackupArn)
	if arn == "" {
		// Whatever its status says, a backup nobody can name cannot be restored from.
		return "", fmt.Errorf("create backup %s of %s: the answer (status %s) has no backup ARN: not a backup", name, table, d.BackupStatus)
	}
	return arn, WaitBackup(ctx, db, arn, d.BackupStatus, wait)
}

// DefaultBackupWait is how long a backup may take to become AVAILABLE when no wait is given:
// minutes for a large table on AWS.
const DefaultBackupWait = 10 * time.Minute

// WaitBackup polls a backup until it is AVAILABLE; status is what is already known of it. A
// wait of zero means DefaultBackupWait, never "give up at once".
func WaitBackup(ctx context.Context, db BackupAPI, arn string, status types.BackupStatus, wait time.Duration) error {
	if wait <= 0 {
		wait = DefaultBackupWait
	}
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	delay := time.Second
	for status != types.BackupStatusAvailable {
		if status == types.BackupStatusDeleted {
			return fmt.Errorf("backup %s was deleted before it became available", arn)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("backup %s still %s: %w", arn, status, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 15*time.Second)
		out, err := db.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(arn)})
		if err != nil {
			return fmt.Errorf("describe backup %s: %w", arn, err)
		}
		if out.BackupDescription == nil || out.BackupDescription.BackupDetails == nil {
			return fmt.Errorf("describe backup %s: no details in the answer", arn)
		}
		status = out.BackupDescription.BackupDetails.BackupStatus
	}
	return nil
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// BackupAPI is what taking a native backup calls.
type BackupAPI interface {
	CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	// ListBackups answers "did it happen?" after a CreateBackup that failed, and finds an
	// earlier run's backup to reuse.
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
}

// SavedBackup is the backup a deletion depends on. Note says how it came to be when that is
// worth telling (an earlier run's backup reused, or why one was not), for the candidate's notes.
type SavedBackup struct {
	ARN, Note string
}

// NewRun is one run's id, carried in the name of every backup it takes (BackupName):
// CreateBackup takes no client token, so the name is what tells this run's backup apart from
// every other after an answer was lost.
func NewRun() string { return fmt.Sprintf("%08x", rand.Uint32()) }

// BackupName is prefix + table + "-" + the UTC time + "-" + run, the table cut so that the
// whole fits DynamoDB's 255-character limit for backup names (which allow the same characters
// as table names).
func BackupName(prefix, table string, at time.Time, run string) string {
	suffix := "-" + at.UTC().Format("20060102T150405Z") + "-" + run
	if room := 255 - len(prefix) - len(suffix); len(table) > room {
		table = table[:room]
	}
	return prefix + table + suffix
}

// NativeBackup is an Options.Backup that takes an on-demand backup of each table, named
// BackupName(prefix, table, now, run) for one run id, and returns its ARN once DynamoDB says
// it is AVAILABLE. An earlier run's AVAILABLE backup of the very table is reused instead (a
// rerun after a kill between backup and deletion), when nothing was written since (Reusable).
func NativeBackup(clients map[string]RegionClients, prefix string, wait time.Duration) func(context.Context, Target) (SavedBackup, error) {
	run := NewRun()
	return func(ctx context.Context, t Target) (SavedBackup, error) {
		c, ok := clients[t.Region]
		if !ok {
			return SavedBackup{}, fmt.Errorf("no clients for region %s", t.Region)
		}
		now := time.Now()
		arn, note := Reusable(ctx, c, prefix, t, now)
		if arn != "" {
			return SavedBackup{ARN: arn, Note: note}, nil
		}
		arn, err := TakeBackup(ctx, c.DynamoDB, t.Table, BackupName(prefix, t.Table, now, run), wait)
		return SavedBackup{ARN: arn, Note: note}, err
	}
}

// reuseDays bounds how old a backup Reusable considers may be: CloudWatch keeps its one-minute
// data this long, and "nothing written since" is read from it.
const reuseDays = usage.MinuteDataDays

// Reusable finds the backup a rerun may depend on instead of taking a second one: AVAILABLE,
// named by prefix (taken by this tool), of t's very table (DescribeBackup's source details:
// CheckBackupSource), and taken after the table's last write: CloudWatch shows no consumed
// write capacity on the table since the backup's minute. A deletion must depend on a backup
// that holds what the table holds, so a table written since, or one whose writes cannot be read
// (CloudWatch refused, not served), gets a new backup; note says which backup was reused, or
// why none was. CloudWatch's data arrives minutes late: it is what the idle rule judges by too.
func Reusable(ctx context.Context, c RegionClients, prefix string, t Target, now time.Time) (arn, note string) {
	earlier, err := discover.Backups(ctx, c.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String(t.Table),
		BackupType: types.BackupTypeFilterUser, TimeRangeLowerBound: aws.Time(now.Add(-reuseDays * 24 * time.Hour))})
	if err != nil {
		return "", fmt.Sprintf("earlier backups of %s could not be listed, so none was reused: %v", t.Table, err)
	}
	// Newest first: the one nearest the table's present.
	slices.SortFunc(earlier, func(a, b types.BackupSummary) int {
		return aws.ToTime(b.BackupCreationDateTime).Compare(aws.ToTime(a.BackupCreationDateTime))
	})
	for _, b := range earlier {
		taken := aws.ToTime(b.BackupCreationDateTime)
		if !strings.HasPrefix(aws.ToString(b.BackupName), prefix) || b.BackupStatus != types.BackupStatusAvailable ||
			aws.ToString(b.TableArn) != t.Identity.ARN || taken.IsZero() || now.Sub(taken) > reuseDays*24*time.Hour {
			continue
		}
		arn := aws.ToString(b.BackupArn)
		if CheckBackupSource(ctx, c.DynamoDB, arn, t.Identity) != nil {
			continue // of an earlier table of the same name, or unproven: not this table's
		}
		name := aws.ToString(b.BackupName)
		if c.CloudWatch == nil {
			return "", fmt.Sprintf("backup %s of this table was not reused: no CloudWatch to read whether it was written since", name)
		}
		w := usage.Window{Start: taken.UTC().Truncate(usage.Period), End: now.UTC().Truncate(usage.Period).Add(usage.Period)}
		used, err := usage.Read(ctx, c.CloudWatch, w, []usage.Source{{Table: t.Table}}, 1)
		switch {
		case err != nil:
			return "", fmt.Sprintf("backup %s of this table was not reused: whether the table was written since could not be read from CloudWatch: %v", name, err)
		case used[usage.Source{Table: t.Table}].WriteUnits > 0:
			return "", fmt.Sprintf("backup %s of this table was not reused: it was written since (CloudWatch: %.0f write units)", name, used[usage.Source{Table: t.Table}].WriteUnits)
		}
		return arn, fmt.Sprintf("reused backup %s (%s), taken %s by an earlier run: AVAILABLE, of this very table (%s), no write since (CloudWatch)",
			name, arn, taken.UTC().Format(time.RFC3339), t.Identity)
	}
	return "", ""
}

// TakeBackup creates a backup and waits until it is AVAILABLE: only then may a deletion depend
// on it. CreateBackup takes no client token, and AWS makes a second backup of the same name
// without a word, so the SDK's automatic retry is off for it: after a CreateBackup that failed
// (its answer lost, a timeout, a refusal), the backups of the table are asked whether one of
// this name exists, and only if none does is it created again, at the client's own retryer's
// pace and within its attempts. The name must be this run's own (BackupName's run id). The SDK
// has no waiter for backups, so this polls DescribeBackup with a growing delay, bounded by wait
// and ctx.
func TakeBackup(ctx context.Context, db BackupAPI, table, name string, wait time.Duration) (string, error) {
	in := &dynamodb.CreateBackupInput{TableName: aws.String(table), BackupName: aws.String(name)}
	// Backups of this name made before now are another run's; the margin is for clocks that differ.
	since := time.Now().Add(-5 * time.Minute)
	var retryer aws.Retryer
	once := func(o *dynamodb.Options) {
		retryer = o.Retryer
		o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
	}
	for attempt := 1; ; attempt++ {
		out, err := db.CreateBackup(ctx, in, once)
		if err == nil {
			return created(ctx, db, table, name, out, wait)
		}
		err = fmt.Errorf("create backup %s of %s: %w", name, table, err)
		if retryer == nil {
			retryer = retry.NewStandard() // a client that applies no options (a test's fake)
		}
		again := ctx.Err() == nil && attempt < retryer.MaxAttempts() && retryer.IsErrorRetryable(err)
		if again {
			// Before asking: a backup just made may take a moment to be listed.
			delay, derr := retryer.RetryDelay(attempt, err)
			if derr != nil {
				delay = time.Second
			}
			select {
			case <-ctx.Done():
				return "", errors.Join(err, ctx.Err())
			case <-time.After(delay):
			}
		}
		b, found, lerr := thisRunsBackup(ctx, db, table, name, since)
		switch {
		case lerr != nil:
			return "", fmt.Errorf("%w; whether it was made anyway could not be found out: %v", err, lerr)
		case found:
			arn := aws.ToString(b.BackupArn)
			return arn, WaitBackup(ctx, db, arn, b.BackupStatus, wait)
		case !again:
			return "", err
		}
	}
}

// created is a CreateBackup answer's backup, once AVAILABLE.
func created(ctx context.Context, db BackupAPI, table, name string, out *dynamodb.CreateBackupOutput, wait time.Duration) (string, error) {
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

// thisRunsBackup is the backup of table named name made since since: the one a CreateBackup
// whose answer was lost made. (moto ignores ListBackups' time range; the name, which carries
// the run's id, decides.) Of two, should a listing have lagged behind a retry, the first taken.
func thisRunsBackup(ctx context.Context, db BackupAPI, table, name string, since time.Time) (types.BackupSummary, bool, error) {
	all, err := discover.Backups(ctx, db, dynamodb.ListBackupsInput{TableName: aws.String(table),
		BackupType: types.BackupTypeFilterUser, TimeRangeLowerBound: aws.Time(since)})
	if err != nil {
		return types.BackupSummary{}, false, fmt.Errorf("list backups of %s: %w", table, err)
	}
	var mine []types.BackupSummary
	for _, b := range all {
		if aws.ToString(b.BackupName) == name && !aws.ToTime(b.BackupCreationDateTime).Before(since) {
			mine = append(mine, b)
		}
	}
	if len(mine) == 0 {
		return types.BackupSummary{}, false, nil
	}
	return slices.MinFunc(mine, func(a, b types.BackupSummary) int {
		return aws.ToTime(a.BackupCreationDateTime).Compare(aws.ToTime(b.BackupCreationDateTime))
	}), true, nil
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

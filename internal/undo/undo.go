// Package undo brings a deleted table back exactly, from its record (internal/ledger): the
// items from the backup (RestoreTableFromBackup) or the export (internal/archive's restore), then
// everything a restore drops — tags, TTL, PITR, auto scaling, stream, deletion protection,
// encryption, table class, capacity, contributor insights, Kinesis destinations — re-applied and
// waited for until it is in effect, and then proven: the configuration read back equals the
// record's (Diff names every difference), the item count equals the record's, and an export's
// order-free digest is the export's.
//
// Every step is idempotent and the table it restores carries the record's id
// (wallet:undo-record), so a run killed at any step leaves either no table or one the next run
// finds and finishes: it is recognised by that tag, or, before the tag is on, as the table
// restored from the record's own backup (RestoreSummary). Never a second copy: a record whose
// id another table carries is refused. Never a table reported restored whose settings differ:
// restored is said only after the comparison.
package undo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DynamoDB is every DynamoDB call an undo makes.
type DynamoDB interface {
	ledger.Reader
	archive.DynamoDB
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	RestoreTableFromBackup(ctx context.Context, in *dynamodb.RestoreTableFromBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
	UpdateContributorInsights(ctx context.Context, in *dynamodb.UpdateContributorInsightsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContributorInsightsOutput, error)
	EnableKinesisStreamingDestination(ctx context.Context, in *dynamodb.EnableKinesisStreamingDestinationInput, optFns ...func(*dynamodb.Options)) (*dynamodb.EnableKinesisStreamingDestinationOutput, error)
	TagResource(ctx context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
}

// Scaling is every Application Auto Scaling call: reading the targets and policies, and
// registering them again.
type Scaling interface {
	ledger.ScalingReader
	RegisterScalableTarget(ctx context.Context, in *applicationautoscaling.RegisterScalableTargetInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.RegisterScalableTargetOutput, error)
	PutScalingPolicy(ctx context.Context, in *applicationautoscaling.PutScalingPolicyInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.PutScalingPolicyOutput, error)
}

// Clients are the clients of the record's account and region.
type Clients struct {
	DynamoDB DynamoDB
	Scaling  Scaling
}

// Refused is an undo refused before anything changed: no record, a table of that name that is
// not this undo's own, a backup gone or not AVAILABLE, an export that is not the record's, a
// record not of this account. The command maps it to exit 2.
type Refused struct{ Err error }

func (e *Refused) Error() string { return e.Err.Error() }
func (e *Refused) Unwrap() error { return e.Err }

func refuse(format string, a ...any) error { return &Refused{fmt.Errorf(format, a...)} }

// Plan is what an undo of one record would do, found out without changing anything.
type Plan struct {
	Record ledger.Located `json:"record"`
	// Table is the name it comes back under: the record's, or --as.
	Table string `json:"table"`
	// From is what the items come back from: the backup's ARN or the export's directory.
	From string `json:"from"`
	// Resume: a table of this name is there that an earlier undo of this record left (killed
	// midway, or finished): it is finished, not made again.
	Resume bool `json:"resume"`
	// Steps are what the undo will do, in order, as far as can be said before it starts.
	Steps []string `json:"steps"`
	Notes []string `json:"notes,omitempty"`
}

// Check plans the undo of rec in account, under the name as ("": the record's), refusing
// (*Refused) what must not go ahead: a record of another account; one whose items nothing saved;
// a backup gone or not AVAILABLE; an export missing, damaged or not the record's; a table of the
// name there that no undo of this record made; another table that carries this record's id (it
// was restored already, under another name).
func Check(ctx context.Context, c Clients, rec ledger.Located, account, as string) (Plan, error) {
	r := rec.Record
	p := Plan{Record: rec, Table: r.Table}
	if as != "" {
		p.Table = as
	}
	switch {
	case r.Account != account:
		return p, refuse("record %s is of account %s, not of this account %s: run it with credentials of %s (or --accounts %s)", r.ID, r.Account, account, r.Account, r.Account)
	case r.Saved.Nothing():
		return p, refuse("record %s: nothing saved the items of %s when it was deleted (%s): there is nothing to restore it from", r.ID, r.Table, r.Saved.What())
	case !wallet.ValidTableName(p.Table):
		return p, refuse("--as %q: %s", p.Table, archive.TableNameRule)
	case wallet.IsLedger(p.Table, nil):
		return p, refuse("--as %s: that is the ledger's name", p.Table)
	}
	d, err := discover.DescribeTable(ctx, c.DynamoDB, p.Table)
	if err != nil {
		return p, err
	}
	if d != nil {
		mine, why, err := ownTable(ctx, c.DynamoDB, r, d)
		if err != nil {
			return p, err
		}
		if !mine {
			return p, refuse("table %s exists (created %s; %s): nothing changed; restore under another name with --as NEW", p.Table,
				aws.ToTime(d.CreationDateTime).UTC().Format(time.RFC3339), why)
		}
		p.Resume = true
		p.Notes = append(p.Notes, fmt.Sprintf("table %s is there, left by an earlier undo of this record (%s): this run finishes it", p.Table, why))
	}
	// What saved the items must be there to restore from; a table an earlier undo restored
	// has them already (an export's are written again only if they differ, and then it must be).
	if !p.Resume {
		if err := checkSaved(ctx, c, r, &p); err != nil {
			return p, err
		}
	} else {
		p.From = r.Saved.BackupARN
		if p.From == "" {
			p.From = r.Saved.ExportDir
		}
	}
	if other, err := copyElsewhere(ctx, c.DynamoDB, r, p.Table); err != nil {
		return p, err
	} else if other != "" {
		return p, refuse("record %s was restored already, as table %s (it carries %s=%s): nothing changed; to finish that undo run `verify undo --record %s --as %s --yes`; to restore it again, delete %s first",
			r.ID, other, wallet.TagUndoRecord, r.ID, r.ID, other, other)
	}
	p.Steps = steps(r, p)
	return p, nil
}

// checkSaved proves what saved the items is there and is the record's: the backup AVAILABLE and
// of the recorded table; or the export whole, of the recorded table, with the recorded digest.
func checkSaved(ctx context.Context, c Clients, r ledger.Record, p *Plan) error {
	if r.Saved.BackupARN != "" {
		p.From = r.Saved.BackupARN
		out, err := c.DynamoDB.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(r.Saved.BackupARN)})
		var nf *types.BackupNotFoundException
		switch {
		case errors.As(err, &nf):
			return refuse("record %s: its backup %s is gone: nothing changed", r.ID, r.Saved.BackupARN)
		case err != nil:
			return fmt.Errorf("describe backup %s: %w", r.Saved.BackupARN, err)
		case out.BackupDescription == nil || out.BackupDescription.BackupDetails == nil:
			return fmt.Errorf("describe backup %s: no details in the answer", r.Saved.BackupARN)
		}
		if st := out.BackupDescription.BackupDetails.BackupStatus; st != types.BackupStatusAvailable {
			return refuse("record %s: its backup %s is %s, not AVAILABLE: nothing changed", r.ID, r.Saved.BackupARN, st)
		}
		if src := out.BackupDescription.SourceTableDetails; src != nil && aws.ToString(src.TableArn) != "" && aws.ToString(src.TableArn) != r.TableARN {
			return refuse("record %s: its backup %s is of %s, not of %s: nothing changed", r.ID, r.Saved.BackupARN, aws.ToString(src.TableArn), r.TableARN)
		}
		return nil
	}
	p.From = r.Saved.ExportDir
	md, dg, err := archive.Digest(ctx, r.Saved.ExportDir)
	var refused *archive.Refused
	switch {
	case errors.Is(err, os.ErrNotExist):
		return refuse("record %s: its export %s is gone: nothing changed", r.ID, r.Saved.ExportDir)
	case errors.As(err, &refused):
		return refuse("record %s: its export %s: %v: nothing changed", r.ID, r.Saved.ExportDir, err)
	case err != nil:
		return refuse("record %s: its export %s cannot be read: %v: nothing changed", r.ID, r.Saved.ExportDir, err)
	case md.TableARN != r.TableARN || (r.TableID != "" && md.TableID != "" && md.TableID != r.TableID):
		return refuse("record %s: the export in %s is of %s, not of the recorded table %s: nothing changed", r.ID, r.Saved.ExportDir, md.TableARN, r.TableARN)
	case dg.Content != r.Saved.ExportDigest || dg.Items != r.Saved.ExportItems:
		return refuse("record %s: the export in %s holds %d items with digest %s, the record says %d with %s: it changed since: nothing changed",
			r.ID, r.Saved.ExportDir, dg.Items, dg.Content, r.Saved.ExportItems, r.Saved.ExportDigest)
	}
	return nil
}

// ownTable says whether a table found under the undo's name is this record's own undo's: it
// carries the record's id (wallet:undo-record), or, restored from the record's own backup before
// the tag could be put on (a kill between), its RestoreSummary names that backup. why says what
// decided, for the message either way.
func ownTable(ctx context.Context, db DynamoDB, r ledger.Record, d *types.TableDescription) (bool, string, error) {
	tags, err := discover.TableTags(ctx, db, aws.ToString(d.TableArn))
	if err != nil {
		return false, "", fmt.Errorf("tags of %s: %w", aws.ToString(d.TableName), err)
	}
	switch id, ok := tags[wallet.TagUndoRecord]; {
	case ok && id == r.ID:
		return true, fmt.Sprintf("it carries %s=%s", wallet.TagUndoRecord, r.ID), nil
	case ok:
		return false, fmt.Sprintf("it is the undo of another record, %s", id), nil
	}
	if s := d.RestoreSummary; s != nil && r.Saved.BackupARN != "" && aws.ToString(s.SourceBackupArn) == r.Saved.BackupARN {
		return true, "restored from this record's backup " + r.Saved.BackupARN, nil
	}
	return false, "not restored from this record", nil
}

// copyElsewhere is another table of the region that carries this record's id: the record was
// restored already under that name. Every table's tags are read (discover.Tables, the one
// lister): an undo is rare, a second copy is what must never be.
func copyElsewhere(ctx context.Context, db DynamoDB, r ledger.Record, name string) (string, error) {
	l := discover.Tables(ctx, db, r.Region, discover.ListOptions{})
	if !l.Listed {
		return "", fmt.Errorf("list the tables of %s (to be sure record %s was not restored already): %s", r.Region, r.ID, l.Problems[0].Error)
	}
	for _, t := range l.Tables {
		if t.Name() != name && t.Tags[wallet.TagUndoRecord] == r.ID {
			return t.Name(), nil
		}
		if t.Name() != name && r.Saved.BackupARN != "" && t.Desc.RestoreSummary != nil && aws.ToString(t.Desc.RestoreSummary.SourceBackupArn) == r.Saved.BackupARN &&
			t.Tags[wallet.TagUndoRecord] == "" && !t.Desc.RestoreSummary.RestoreDateTime.Before(r.At) {
			return t.Name(), nil
		}
	}
	return "", nil
}

// steps says what the undo will do, before it starts.
func steps(r ledger.Record, p Plan) []string {
	var s []string
	switch {
	case p.Resume:
		s = append(s, "finish table "+p.Table+", which an earlier undo of this record left")
	case r.Saved.BackupARN != "":
		s = append(s, fmt.Sprintf("restore %s from backup %s (RestoreTableFromBackup), tagged %s=%s", p.Table, r.Saved.BackupARN, wallet.TagUndoRecord, r.ID))
	default:
		s = append(s, fmt.Sprintf("create %s and write the %d items of the export %s into it, tagged %s=%s", p.Table, r.Saved.ExportItems, r.Saved.ExportDir, wallet.TagUndoRecord, r.ID))
	}
	c := r.Config
	s = append(s, fmt.Sprintf("billing %s, capacity %s, table class %s", c.BillingMode, c.Capacity, c.TableClass))
	if c.Stream.Enabled {
		s = append(s, "stream on ("+c.Stream.ViewType+")")
	}
	if c.SSE.Type != "" {
		s = append(s, "encryption "+c.SSE.Type+" "+c.SSE.KMSKey)
	}
	if c.TTL != nil && c.TTL.Enabled {
		s = append(s, "time to live on "+c.TTL.Attribute)
	}
	if c.PITR != nil && c.PITR.Enabled {
		s = append(s, "point-in-time recovery on")
	}
	for k, v := range c.ContributorInsights {
		if v == string(types.ContributorInsightsStatusEnabled) {
			s = append(s, "contributor insights on "+strings.TrimSpace("the table "+k))
		}
	}
	for _, k := range c.Kinesis {
		s = append(s, "kinesis destination "+k.StreamARN)
	}
	for _, t := range c.AutoScaling {
		s = append(s, fmt.Sprintf("auto scaling of %s %s: %d to %d, %d policies", t.Resource, t.Dimension, t.Min, t.Max, len(t.Policies)))
	}
	if n := len(c.CarriedTags()); n > 0 {
		s = append(s, fmt.Sprintf("%d tags", n))
	}
	if c.DeletionProtection {
		s = append(s, "deletion protection on")
	}
	s = append(s, "wait until all of it is in effect, then compare the configuration with the record's, and the items")
	return s
}

// sortedKeys is for messages that list a map.
func sortedKeys(m map[string]string) []string {
	k := make([]string, 0, len(m))
	for x := range m {
		k = append(k, x)
	}
	slices.Sort(k)
	return k
}

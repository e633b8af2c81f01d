package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
)

// DynamoDB is every DynamoDB call a recorder makes: reading the table's configuration and its
// backup, counting its items, finding the ledger and writing the record.
type DynamoDB interface {
	Reader
	TableAPI
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
}

// Clients are one region's clients of a recorder.
type Clients struct {
	DynamoDB DynamoDB
	Scaling  ScalingReader
}

// Deletion is one table about to be deleted, as the engine knows it.
type Deletion struct {
	Region, Table string
	// ARN, TableID and Created are the identity the deletion is bound to: the configuration is
	// read only from that table.
	ARN, TableID string
	Created      time.Time
	// Stack is the stack it goes with (or went with), LogicalID its logical id there.
	Stack, LogicalID string
	Reasons          []string
	Detail           string
	MonthlyCostUSD   float64
	// BackupARN and ExportDir are what saved its items (empty: nothing).
	BackupARN, ExportDir string
	// Unprotected: its deletion protection was on, and the run turned it off to delete it
	// (--include-protected): the record says it was on, as the table had it.
	Unprotected bool
}

// Written says where a record went.
type Written struct {
	ID    string `json:"id"`
	Where string `json:"where"`
	// region is the ledger's, path the file's: where a note that the deletion did not happen
	// goes (NotDeleted).
	region, path, table string
}

// Recorder writes the record of each deletion of one account before it happens: the sweep's
// engine calls Record just before DeleteTable and DeleteStack. It is safe for concurrent use.
type Recorder struct {
	// By names what deletes: sweep, teardown or janitor.
	By      string
	Account string
	// Who is the caller's ARN (STS GetCallerIdentity), asked once.
	Who func(context.Context) (string, error)
	// Clients are the account's clients, by region.
	Clients map[string]Clients
	// LedgerRegions are regions whose ledger takes a record when the table's own region has none
	// (the organization's janitor writes its own account's other regions' records into the
	// ledger of the region it is deployed in).
	LedgerRegions []string
	// Dir, where no ledger takes the record, is the directory it is written into as a file;
	// BesideExport puts it beside the table's export instead, when there is one. With neither
	// (the janitor), a deletion no ledger can record does not happen.
	Dir          string
	BesideExport bool
	// Count counts the table's items before the deletion (a consistent Scan with Select COUNT,
	// reading no item), for undo to prove the restored table holds as many.
	Count bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu      sync.Mutex
	ledgers map[string]ledgerFound // by region
	who     string
}

type ledgerFound struct {
	t   Table
	err error // ErrNoLedger, or why it could not be found out
}

// ErrNotPlanned: the table under the name is not the one the deletion was planned on.
var ErrNotPlanned = errors.New("not the planned table")

// Record captures the table's configuration (only if it is the planned table), counts its
// items, reads what saved them, and writes the record: to the ledger of the table's region,
// else of LedgerRegions, else as a file. It returns the record's id and where it went; an error
// means no record, and so no deletion.
func (rc *Recorder) Record(ctx context.Context, d Deletion) (Written, error) {
	c, ok := rc.Clients[d.Region]
	if !ok || c.DynamoDB == nil {
		return Written{}, fmt.Errorf("record the deletion of %s: no clients for region %s", d.Table, d.Region)
	}
	desc, cfg, err := Capture(ctx, c.DynamoDB, c.Scaling, d.Table)
	switch {
	case err != nil:
		return Written{}, fmt.Errorf("record the deletion of %s: read its configuration: %w", d.Table, err)
	case desc == nil:
		return Written{}, fmt.Errorf("record the deletion of %s: it is gone: %w", d.Table, ErrNotPlanned)
	case aws.ToString(desc.TableArn) != d.ARN ||
		(d.TableID != "" && aws.ToString(desc.TableId) != "" && d.TableID != aws.ToString(desc.TableId)) ||
		(d.TableID == "" && !aws.ToTime(desc.CreationDateTime).Equal(d.Created)):
		return Written{}, fmt.Errorf("record the deletion of %s: the name stands for another table now (created %s): %w",
			d.Table, aws.ToTime(desc.CreationDateTime).UTC().Format(time.RFC3339Nano), ErrNotPlanned)
	}
	if d.Unprotected {
		cfg.DeletionProtection = true
	}
	who, err := rc.caller(ctx)
	if err != nil {
		return Written{}, fmt.Errorf("record the deletion of %s: who is deleting: %w", d.Table, err)
	}
	r := Record{Format: Format, Account: rc.Account, Region: d.Region, Table: d.Table, TableARN: d.ARN,
		TableID: aws.ToString(desc.TableId), TableCreated: aws.ToTime(desc.CreationDateTime).UTC(),
		Stack: d.Stack, LogicalID: d.LogicalID, By: rc.By, Reasons: slices.Clone(d.Reasons), Detail: d.Detail,
		Who: who, At: rc.now().UTC(), MonthlyCostUSD: d.MonthlyCostUSD, Config: cfg, Saved: Saved{Items: -1}}
	if err := rc.saved(ctx, c, d, &r.Saved); err != nil {
		return Written{}, fmt.Errorf("record the deletion of %s: %w", d.Table, err)
	}
	// A deletion noted not deleted before (a refused or held-back run) is another attempt now,
	// under an id of its own.
	for attempt := 0; ; attempt++ {
		r.Attempt = attempt
		r.ID = NewID(r)
		w, err := rc.write(ctx, d, r)
		if !errors.Is(err, errAttemptClosed) || attempt >= maxAttempts {
			return w, err
		}
	}
}

// maxAttempts bounds the records of one deletion (the same table and save) that were noted not
// deleted: a run refused this often is refused for a reason no rerun fixes.
const maxAttempts = 1000

// saved reads what saved the items: the backup (AVAILABLE now) and the export (read whole, its
// order-free digest), and counts the table's items.
func (rc *Recorder) saved(ctx context.Context, c Clients, d Deletion, s *Saved) error {
	if d.BackupARN != "" {
		out, err := c.DynamoDB.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(d.BackupARN)})
		if err != nil {
			return fmt.Errorf("describe its backup %s: %w", d.BackupARN, err)
		}
		if out.BackupDescription == nil || out.BackupDescription.BackupDetails == nil {
			return fmt.Errorf("describe its backup %s: no details in the answer", d.BackupARN)
		}
		bd := out.BackupDescription.BackupDetails
		if bd.BackupStatus != types.BackupStatusAvailable {
			return fmt.Errorf("its backup %s is %s, not AVAILABLE", d.BackupARN, bd.BackupStatus)
		}
		at := rc.now().UTC()
		s.BackupARN, s.BackupName, s.BackupAvailable = d.BackupARN, aws.ToString(bd.BackupName), &at
	}
	if d.ExportDir != "" {
		_, dg, err := archive.Digest(ctx, d.ExportDir)
		if err != nil {
			return fmt.Errorf("read its export back: %w", err)
		}
		abs, err := filepath.Abs(d.ExportDir)
		if err != nil {
			abs = d.ExportDir
		}
		s.ExportDir, s.ExportDigest, s.ExportItems, s.ExportSHA256 = abs, dg.Content, dg.Items, dg.SHA256
		s.Items, s.ItemsNote = dg.Items, "the export's items"
	}
	if !rc.Count || d.ExportDir != "" {
		if s.ItemsNote == "" {
			s.ItemsNote = "not counted"
		}
		return nil
	}
	n, err := archive.Count(ctx, c.DynamoDB, d.Table)
	if err != nil {
		// A count is for undo's proof, not the deletion's safety: a refusal is noted.
		s.ItemsNote = fmt.Sprintf("not counted: %v", err)
		return nil
	}
	s.Items, s.ItemsNote = n, "counted (consistent Scan, Select COUNT) just before the deletion"
	return nil
}

func (rc *Recorder) now() time.Time {
	if rc.Now != nil {
		return rc.Now()
	}
	return time.Now()
}

func (rc *Recorder) caller(ctx context.Context) (string, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.who != "" {
		return rc.who, nil
	}
	if rc.Who == nil {
		return "", errors.New("no way to ask STS who the caller is")
	}
	who, err := rc.Who(ctx)
	if err != nil {
		return "", err
	}
	if who == "" {
		return "", errors.New("STS named no caller")
	}
	rc.who = who
	return who, nil
}

// write puts the record in the first place that takes it.
func (rc *Recorder) write(ctx context.Context, d Deletion, r Record) (Written, error) {
	var missing []string
	for _, region := range append([]string{d.Region}, rc.LedgerRegions...) {
		t, err := rc.ledger(ctx, region)
		if errors.Is(err, ErrNoLedger) {
			missing = append(missing, region)
			continue
		}
		if err != nil {
			return Written{}, fmt.Errorf("record the deletion of %s: %w", d.Table, err)
		}
		got, err := t.Put(ctx, r)
		if err != nil {
			return Written{}, fmt.Errorf("record the deletion of %s: %w", d.Table, err)
		}
		return Written{ID: got.ID, Where: t.Where(), region: region, table: d.Table}, nil
	}
	dir := rc.Dir
	if rc.BesideExport && d.ExportDir != "" {
		dir = filepath.Dir(d.ExportDir)
	}
	if dir == "" {
		return Written{}, fmt.Errorf("record the deletion of %s: no ledger %s in account %s (%v) to write it to, and no directory: nothing deleted; deploy the janitor stack, whose ledger this is",
			d.Table, "wallet-ledger", rc.Account, missing)
	}
	got, path, err := Dir{Path: dir}.Put(r)
	if err != nil {
		return Written{}, fmt.Errorf("record the deletion of %s (no ledger in account %s, %v): %w", d.Table, rc.Account, missing, err)
	}
	return Written{ID: got.ID, Where: path, path: path, table: d.Table}, nil
}

// NotDeleted appends, beside the record w, that its deletion did not happen, and why: a
// re-check held the table back, DeleteTable or DeleteStack was refused or failed.
func (rc *Recorder) NotDeleted(ctx context.Context, w Written, why string) error {
	n := NotDeleted{Of: w.ID, Why: why, At: rc.now().UTC()}
	if w.path != "" {
		return Dir{Path: filepath.Dir(w.path)}.PutNotDeleted(w, w.table, n)
	}
	t, err := rc.ledger(ctx, w.region)
	if err != nil {
		return err
	}
	return t.PutNotDeleted(ctx, n)
}

// ledger finds (once per region) the account's ledger there.
func (rc *Recorder) ledger(ctx context.Context, region string) (Table, error) {
	rc.mu.Lock()
	if f, ok := rc.ledgers[region]; ok {
		rc.mu.Unlock()
		return f.t, f.err
	}
	rc.mu.Unlock()
	c, ok := rc.Clients[region]
	if !ok || c.DynamoDB == nil {
		return Table{}, fmt.Errorf("no clients for the ledger's region %s", region)
	}
	t, err := FindTable(ctx, c.DynamoDB, rc.Account, region)
	if err != nil && !errors.Is(err, ErrNoLedger) && !awsconf.IsDenied(err) {
		return t, err // not remembered: the next deletion asks again
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ledgers == nil {
		rc.ledgers = map[string]ledgerFound{}
	}
	rc.ledgers[region] = ledgerFound{t, err}
	return t, err
}

// STS is the one STS call: who the caller is.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Caller is the caller's ARN, as STS names it: a record's "who".
func Caller(ctx context.Context, c STS) (string, error) {
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	return aws.ToString(out.Arn), nil
}

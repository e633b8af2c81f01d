package discover

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// Problem is something that could not be found out about a table, or about a whole region when
// Table is empty (its tables could not be listed). It never stops the rest: the sweep, cost and
// the janitor report it and go on.
type Problem struct {
	Region  string `json:"region"`
	Account string `json:"account,omitempty"`
	Table   string `json:"table,omitempty"`
	Error   string `json:"error"`
	err     error
}

// NewProblem records err as a problem with table (empty: the region) in region.
func NewProblem(region, table string, err error) Problem {
	return Problem{Region: region, Table: table, Error: err.Error(), err: err}
}

// Err is the problem as an error, for the caller to classify (a denial, an endpoint that does
// not answer).
func (p Problem) Err() error { return p.err }

// TableLister is every DynamoDB call Tables makes: all of them reads.
type TableLister interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	TableDescriber
	TagLister
}

// ListOptions choose how Tables reads a region. The zero value is sensible.
type ListOptions struct {
	// NamePrefix also makes tables with this name prefix ours, tagged or not.
	NamePrefix string
	// PageLimit is ListTables' page size (0: the service's default, 100).
	PageLimit int32
	// Concurrency bounds the calls in flight (default 8).
	Concurrency int
	// SkipClosedRegions makes a region whose tables cannot be listed because it is closed to the
	// account a note rather than a problem: asked about every region, some are always closed
	// (opt-in regions not enabled, regions an organization policy denies).
	SkipClosedRegions bool
	// Progress, when set, is told how far a stage has got.
	Progress func(stage string, done, total int)
}

func (o ListOptions) concurrency() int {
	if o.Concurrency <= 0 {
		return 8
	}
	return o.Concurrency
}

func (o ListOptions) progress(stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// Table is one table as listed: its description and its tags.
type Table struct {
	Desc *dtypes.TableDescription
	Tags map[string]string
	// Ours: tagged Project=wallet, or named by the NamePrefix.
	Ours bool
}

// Name is the table's name.
func (t Table) Name() string { return aws.ToString(t.Desc.TableName) }

// Listing is one region's tables, and what could not be found out there.
type Listing struct {
	Region string
	// Tables are every table that could be read, ours or not, by name. A table that vanished
	// while it was read is left out; one that could not be read is a Problem instead.
	Tables   []Table
	Problems []Problem
	Notes    []string
	// Listed is false when the region's tables could not be listed: a Problem, or (closed to
	// the account, with SkipClosedRegions) a Note.
	Listed bool
}

// Tables lists every table of the region (every ListTables page: aws-nuke's lister reads only
// the first, its #991), then reads each one's description and tags, concurrently. It is the one
// lister of the sweep, the janitor and cost, so that they agree on which tables exist, which
// are ours, and what becomes of a region that is closed or a table that cannot be read. Only
// what could not be read is in the Listing, as a Problem or a Note, and the rest goes on.
func Tables(ctx context.Context, db TableLister, region string, o ListOptions) Listing {
	l := Listing{Region: region}
	names, err := tableNames(ctx, db, region, o)
	if err != nil {
		if why, closed := RegionClosed(err); closed && o.SkipClosedRegions {
			l.Notes = append(l.Notes, fmt.Sprintf("%s: skipped, %s", region, why))
			return l
		}
		l.Problems = append(l.Problems, NewProblem(region, "", fmt.Errorf("list tables: %w", err)))
		return l
	}
	l.Listed = true
	l.read(ctx, db, names, o)
	return l
}

// tableNames reads every ListTables page.
func tableNames(ctx context.Context, db TableLister, region string, o ListOptions) ([]string, error) {
	var names []string
	p := dynamodb.NewListTablesPaginator(db, &dynamodb.ListTablesInput{}, func(po *dynamodb.ListTablesPaginatorOptions) {
		po.Limit = o.PageLimit
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		names = append(names, page.TableNames...)
		o.progress(region+": listing tables", len(names), len(names))
	}
	return names, nil
}

// read describes each named table and reads its tags. An endpoint that keeps no tags at all
// (DynamoDB Local) is one problem of the region, not one per table.
func (l *Listing) read(ctx context.Context, db TableLister, names []string, o ListOptions) {
	var (
		mu     sync.Mutex
		done   int
		noTags sync.Once
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for _, name := range names {
		g.Go(func() error {
			t, ok, err := readTable(gctx, db, name, o.NamePrefix)
			mu.Lock()
			defer mu.Unlock()
			done++
			o.progress(l.Region+": reading tables", done, len(names))
			switch {
			case Unsupported(err):
				noTags.Do(func() {
					l.Problems = append(l.Problems, NewProblem(l.Region, "", fmt.Errorf("this endpoint keeps no tags, so no table can be recognised by %s=%s: %w", wallet.TagProject, wallet.ProjectName, err)))
				})
			case err != nil:
				l.Problems = append(l.Problems, NewProblem(l.Region, name, err))
			case ok:
				l.Tables = append(l.Tables, t)
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(l.Tables, func(i, j int) bool { return l.Tables[i].Name() < l.Tables[j].Name() })
	sort.SliceStable(l.Problems, func(i, j int) bool { return l.Problems[i].Table < l.Problems[j].Table })
}

// readTable reads one table; ok is false when it vanished in the meantime or could not be read.
func readTable(ctx context.Context, db TableLister, name, prefix string) (Table, bool, error) {
	d, err := DescribeTable(ctx, db, name)
	if d == nil {
		return Table{}, false, err // vanished in the meantime (nil error), or unreadable
	}
	tags, err := TableTags(ctx, db, aws.ToString(d.TableArn))
	var nf *dtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return Table{}, false, nil
	case Unsupported(err):
		return Table{}, false, err
	case err != nil:
		// Without its tags nobody can tell whether the table is ours: say so, judge nothing.
		return Table{}, false, fmt.Errorf("list tags: %w", err)
	}
	return Table{Desc: d, Tags: tags, Ours: Ours(name, tags, prefix)}, true, nil
}

// Ours: tagged Project=wallet, or named by the prefix.
func Ours(name string, tags map[string]string, prefix string) bool {
	return tags[wallet.TagProject] == wallet.ProjectName || (prefix != "" && strings.HasPrefix(name, prefix))
}

// RegionClosed reports whether err is a region closed to the account, and why: an opt-in region
// the account has not enabled (the credentials are unknown there), or one an organization's
// policy (an SCP) denies. Asked about every region, either is a note, never a failure of the
// others.
func RegionClosed(err error) (why string, closed bool) {
	switch {
	case RegionDisabled(err):
		return fmt.Sprintf("not enabled for this account (%v)", err), true
	case awsconf.IsDenied(err):
		return fmt.Sprintf("listing tables there was refused (an organization policy?): %v", err), true
	}
	return "", false
}

// RegionDisabled reports whether err is how AWS answers in an opt-in region the account has
// not enabled: the credentials are unknown there.
func RegionDisabled(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure":
		return true
	}
	return false
}

// Unsupported reports an endpoint that does not serve an operation at all, as DynamoDB Local
// answers for tags, point-in-time recovery and backups.
func Unsupported(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException"
}

// JanitorBackups are the backups the janitor took before its deletions (named by its prefix):
// kept forever, and billed by size.
func JanitorBackups(ctx context.Context, db BackupLister) ([]dtypes.BackupSummary, error) {
	janitor, _, err := OwnBackups(ctx, db)
	return janitor, err
}

// OwnBackups are the backups this project took before its deletions, in one listing: the
// janitor's and the sweep's (`verify sweep --backup`, `verify teardown --backup`), told apart by
// their names' prefixes. Nothing deletes them: they are kept, and billed by size, until someone
// does.
func OwnBackups(ctx context.Context, db BackupLister) (janitor, sweep []dtypes.BackupSummary, err error) {
	all, err := Backups(ctx, db, dynamodb.ListBackupsInput{BackupType: dtypes.BackupTypeFilterUser})
	if err != nil {
		return nil, nil, err
	}
	for _, b := range all {
		switch {
		case IsJanitorBackup(b):
			janitor = append(janitor, b)
		case IsSweepBackup(b):
			sweep = append(sweep, b)
		}
	}
	return janitor, sweep, nil
}

// IsJanitorBackup: the backup is one the janitor took (its name carries the janitor's prefix).
func IsJanitorBackup(b dtypes.BackupSummary) bool {
	return strings.HasPrefix(aws.ToString(b.BackupName), wallet.JanitorBackupPrefix)
}

// IsSweepBackup: the backup is one a sweep or teardown took (its name carries the sweep's prefix).
func IsSweepBackup(b dtypes.BackupSummary) bool {
	return strings.HasPrefix(aws.ToString(b.BackupName), wallet.SweepBackupPrefix)
}

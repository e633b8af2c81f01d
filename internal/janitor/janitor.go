// Package janitor is one scheduled run of the WalletJanitor function in its own account and
// region: the sweep that nobody has to remember. It is a third caller of the sweep's engine, not
// a copy of it: its candidates are exactly `verify sweep`'s (orphaned or expired; the live-stack,
// foreign-stack and wallet:keep rules hold), and deletion is sweep.Act's. What it adds is time:
//
//	discover → plan → reprieve what stopped qualifying → mark what is new → back up and delete
//	what is due → report → announce
//
// Tags on the tables are its whole state, so a run that died halfway is safe to repeat, and a
// second run right after changes nothing. Its mark is signed with a KMS HMAC key only its role
// may use (wallet/mark.go): a mark it did not write for that table is never believed. It never deletes a backup, never touches a protected
// table, and in report mode never deletes anything.
package janitor

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DynamoDB is what a run calls beyond the sweep's own clients: its marks (tags) and its
// backups. There is no DeleteBackup here.
type DynamoDB interface {
	sweep.BackupAPI
	TagResource(ctx context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
	UntagResource(ctx context.Context, in *dynamodb.UntagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UntagResourceOutput, error)
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
}

// MarkKey is the KMS HMAC key the janitor signs its marks with (internal/mark).
type MarkKey = mark.Key

// Topic is the one SNS call: announcing the run.
type Topic interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Clients are one unit's clients: the sweep's, the janitor's own DynamoDB calls, and what a
// deletion's record is written with.
type Clients struct {
	Region   string
	Sweep    sweep.RegionClients
	DynamoDB DynamoDB
	// Record are the clients the record of a deletion is read and written with
	// (internal/ledger), by region: the unit's own, and the janitor's own region's (whose
	// ledger takes the record where the unit's region has none), both in the unit's account.
	Record map[string]ledger.Clients
	// STS names who deletes: the role the unit runs with in its account.
	STS ledger.STS
}

// NewClients builds the clients from cfg (cfg.Region is the region the unit looks at).
func NewClients(cfg aws.Config) Clients {
	db := dynamodb.NewFromConfig(cfg)
	return Clients{Region: cfg.Region, Sweep: sweep.NewRegionClients(cfg), DynamoDB: db,
		Record: map[string]ledger.Clients{cfg.Region: {DynamoDB: db, Scaling: applicationautoscaling.NewFromConfig(cfg)}},
		STS:    sts.NewFromConfig(cfg)}
}

// recordIn adds to c the clients of region (the janitor's own), from the unit's configuration,
// for the ledger there.
func (c Clients) recordIn(cfg aws.Config, region string) Clients {
	if _, ok := c.Record[region]; ok || region == "" {
		return c
	}
	cfg = cfg.Copy()
	cfg.Region = region
	c.Record = maps.Clone(c.Record)
	if c.Record == nil {
		c.Record = map[string]ledger.Clients{}
	}
	c.Record[region] = ledger.Clients{DynamoDB: dynamodb.NewFromConfig(cfg), Scaling: applicationautoscaling.NewFromConfig(cfg)}
	return c
}

// UnitReport is one (account, region) unit of a run: the sweep's report of what it deleted (or,
// in report mode, would delete) and skipped, in `verify sweep --json`'s vocabulary, plus the
// janitor's own: what it marked, what stays marked, what it reprieved, and the backups it keeps.
type UnitReport struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Error is why the unit could not run at all.
	Error string `json:"error,omitempty"`
	sweep.Report
	// Marked are the tables this run marked: they go after their grace, unless they stop
	// qualifying or are tagged wallet:keep=true first.
	Marked []Mark `json:"marked"`
	// Waiting are tables marked earlier whose time has not come.
	Waiting []Mark `json:"waiting"`
	// Reprieved lost their mark: they no longer qualify.
	Reprieved []Reprieve `json:"reprieved"`
	// Errors are the unit's own failures (a mark that could not be set or checked); the
	// sweep's are in its candidates and problems.
	Errors []string `json:"errors,omitempty"`
	// Omitted is, in a notification only, how many entries of each list were left out so the
	// message fits SNS's limit; the logged report holds them all.
	Omitted map[string]int `json:"omitted,omitempty"`
}

// Mark is a table the janitor has marked.
type Mark struct {
	Table          string         `json:"table"`
	Stack          string         `json:"stack,omitempty"`
	Reasons        []sweep.Reason `json:"reasons"`
	MonthlyCostUSD float64        `json:"monthly_cost_usd"`
	DeleteAfter    string         `json:"delete_after"`
	// Replaced is a value of the mark's tag the janitor did not write, which this mark replaced.
	Replaced string `json:"replaced_mark,omitempty"`
}

// Reprieve is a mark taken off.
type Reprieve struct {
	Table       string `json:"table"`
	DeleteAfter string `json:"was_to_be_deleted_after"`
	Why         string `json:"why"`
}

// Changed reports whether the unit did or found anything a person should hear about: a quiet
// unit (nothing new, nothing due, nothing failed) is left out of the notification.
func (r UnitReport) Changed() bool {
	if len(r.Marked)+len(r.Reprieved)+len(r.Errors)+len(r.Problems) > 0 || r.Error != "" {
		return true
	}
	for _, c := range r.Candidates {
		if c.Action != sweep.SkippedProtected {
			return true // deleted, failed, or due in report mode
		}
	}
	return false
}

// Failed reports whether anything of the unit failed: the run then returns an error, so the
// Errors alarm fires.
func (r UnitReport) Failed() bool { return r.Error != "" || len(r.Errors) > 0 || r.Failures() > 0 }

// unit is what one unit's run needs: its clients, the run's mark key, clock and prices.
type unit struct {
	Clients
	account    string
	key        mark.Signer
	now        time.Time
	prices     cost.Prices
	backupWait time.Duration
	// home is the janitor's own region: its ledger takes the records of a region that has none.
	home string
}

// run is one unit's work: discover → plan → reprieve what stopped qualifying → mark what is new
// → back up and delete what is due.
func (d unit) run(ctx context.Context, cfg contract.Janitor) UnitReport {
	now := d.now
	r := UnitReport{Account: d.account, Region: d.Region}
	filter := sweep.Filter{Now: now}
	so := sweep.Options{StopOn: awsconf.IsDenied}
	inv := sweep.Survey(ctx, d.Sweep, filter, so)
	plan := sweep.NewPlan([]sweep.Inventory{inv}, filter, d.prices, false)

	book := readMarks(ctx, d.key, inv, &r.Errors)
	r.Reprieved = reprieve(ctx, d.DynamoDB, inv, plan, book, &r.Errors)
	r.Marked, r.Waiting = markNew(ctx, d.DynamoDB, d.key, inv, plan, book, now, cfg.Grace, &r.Errors)
	marks := book.due

	// A table marked in this run is never due in it, whatever the grace (even 0): the mark is
	// announced first, and the table goes in a later run at the earliest.
	due := func(c sweep.Candidate) bool {
		m, ok := marks[c.Table]
		return c.Action == sweep.WouldDelete && ok && !book.fresh[c.Table] && !now.Before(m)
	}
	// A stack kept for what it holds is reported with its tables on every run while it lasts: it
	// will not go, and keeps billing, until a person acts.
	held := heldStacks(inv, plan)
	acted := plan.Only(func(c sweep.Candidate) bool {
		return due(c) || c.Action == sweep.SkippedProtected || (c.Action == sweep.Kept && held[c.Stack])
	})
	if cfg.Mode == contract.JanitorDelete {
		so.Backup = janitorBackup(d, now, marks)
		so.Record = d.recorder()
		r.Report = sweep.Act(ctx, acted, map[string]sweep.RegionClients{d.Region: d.Sweep}, so)
	} else {
		r.Report = acted.DryRun()
	}
	r.Waiting = notDue(r.Waiting, r.Candidates)
	// Listed after the run, so the backups it took are among them.
	backups, err := sweep.JanitorBackups(ctx, d.DynamoDB, d.Region, d.prices)
	if err != nil {
		r.Errors = append(r.Errors, fmt.Sprintf("list backups: %v", err))
	}
	r.SetJanitorBackups(backups)
	// The janitor reports the backups it keeps; the sweep's are `verify sweep`'s and `verify
	// cost`'s to list, and would only lengthen every notification.
	r.SetSweepBackups(nil)
	r.Report = r.Report.In(r.Account)
	return r
}

// recorder writes each deletion of the unit down before it happens, into the ledger of the
// unit's account: in the unit's region, else in the janitor's own region. There is no file to
// fall back on: a deletion no ledger records does not happen. The janitor counts a table's items
// (Scan with Select COUNT, all its policy lets it read) for undo's proof.
func (d unit) recorder() *ledger.Recorder {
	rc := &ledger.Recorder{By: "janitor", Account: d.account, Clients: d.Record, Count: true,
		Now: func() time.Time { return time.Now().UTC() }}
	if d.home != "" && d.home != d.Region {
		rc.LedgerRegions = []string{d.home}
	}
	if d.STS != nil {
		rc.Who = func(ctx context.Context) (string, error) { return ledger.Caller(ctx, d.STS) }
	}
	return rc
}

// heldStacks are the stacks the plan keeps for what they hold (a queue, a bucket, a table not
// ours: sweep's KeptBy), by name. One that also holds a table tagged wallet:keep=true is kept by
// request, and is as quiet as that table.
func heldStacks(inv sweep.Inventory, plan sweep.Plan) map[string]bool {
	held := map[string]bool{}
	for _, s := range plan.Stacks {
		if s.Action == sweep.Kept && len(s.KeptBy) > 0 {
			held[s.Stack] = !slices.ContainsFunc(inv.Tables, func(t sweep.Observed) bool {
				return t.StackLive && t.Stack == s.Stack && wallet.Kept(t.Tags)
			})
		}
	}
	return held
}

// reportTime is how long before the function's end the work stops, for the report and the
// notification: a few calls, seconds on AWS.
const reportTime = 2 * time.Minute

// reserve is ctx with its deadline moved reportTime earlier (a quarter of what is left, when
// that is less); ctx itself is left for the report.
func reserve(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, dl.Add(-min(reportTime, time.Until(dl)/4)))
}

// boundTo is a table as its mark is bound to it.
func boundTo(t sweep.Observed) mark.Table {
	return mark.Table{Name: t.Name, ARN: t.ARN, TableID: t.TableID, Created: t.Created}
}

// markBook is what a run knows of the marks on our tables, by table name.
type markBook struct {
	// due are the marks the janitor wrote, verified: the due time of each.
	due map[string]time.Time
	// foreign are values it did not write: never believed, so such a table is marked afresh,
	// its deletion put off, never brought forward.
	foreign map[string]string
	// unsure are the tables whose mark KMS could not check: nothing is decided on them this run.
	unsure map[string]bool
	// fresh are the tables this run marked: none of them is due in it.
	fresh map[string]bool
}

// readMarks reads and verifies the marks of our tables.
func readMarks(ctx context.Context, s mark.Signer, inv sweep.Inventory, errs *[]string) markBook {
	b := markBook{due: map[string]time.Time{}, foreign: map[string]string{}, unsure: map[string]bool{}, fresh: map[string]bool{}}
	for _, t := range inv.Tables {
		v, ok := t.Tags[wallet.TagJanitorDeleteAfter]
		if !ok || !t.Ours {
			continue
		}
		due, genuine, err := s.Verify(ctx, boundTo(t), v)
		switch {
		case err != nil:
			*errs = append(*errs, err.Error())
			b.unsure[t.Name] = true
		case genuine:
			b.due[t.Name] = due
		default:
			b.foreign[t.Name] = v
		}
	}
	return b
}

// reprieve takes the mark off every marked table of ours that no longer qualifies: its stack
// came back, its ExpiresAfter was extended, it was tagged wallet:keep=true or protected. A table
// that could not be read, or whose mark could not be checked, keeps its mark: nothing is decided
// on a guess. A table no longer tagged Project=wallet is left alone: its mark is inert (only our
// tables are candidates), and the janitor's role may not touch it.
func reprieve(ctx context.Context, db DynamoDB, inv sweep.Inventory, plan sweep.Plan, book markBook, errs *[]string) []Reprieve {
	deletable := map[string]bool{}
	protected := map[string]bool{}
	heldBy := map[string]string{} // the reason a stack stays, for its tables
	for _, c := range plan.Candidates {
		deletable[c.Table] = c.Action == sweep.WouldDelete
		protected[c.Table] = c.Action == sweep.SkippedProtected
		if c.Action == sweep.Kept || c.Action == sweep.Failed {
			heldBy[c.Table] = strings.Join(append(c.Notes, c.Error), " ")
		}
	}
	out := []Reprieve{}
	for _, t := range inv.Tables {
		_, marked := t.Tags[wallet.TagJanitorDeleteAfter]
		if !marked || !t.Ours || deletable[t.Name] || t.Unjudged || book.unsure[t.Name] {
			continue
		}
		due, genuine := book.due[t.Name]
		why := reprieveReason(t, protected[t.Name], heldBy[t.Name])
		if !genuine {
			why += " (its mark was not the janitor's)"
		}
		if _, err := db.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(t.ARN), TagKeys: []string{wallet.TagJanitorDeleteAfter}}); err != nil {
			*errs = append(*errs, fmt.Sprintf("reprieve %s: %v", t.Name, err))
			continue
		}
		delete(book.due, t.Name)
		r := Reprieve{Table: t.Name, Why: why}
		if genuine {
			r.DeleteAfter = due.Format(time.RFC3339)
		}
		out = append(out, r)
	}
	return out
}

// reprieveReason is the true reason one of our marked tables no longer qualifies.
func reprieveReason(t sweep.Observed, protected bool, heldBy string) string {
	switch {
	case wallet.Kept(t.Tags):
		return "it is tagged " + wallet.TagKeep + "=true"
	case strings.TrimSpace(heldBy) != "":
		return strings.TrimSpace(heldBy)
	case protected || t.Protected:
		return "deletion protection is on"
	case t.StackLive && !strings.HasPrefix(t.Stack, wallet.StackPrefix):
		return "it belongs to live stack " + t.Stack + ", which is not a wallet stack (" + wallet.StackPrefix + "*): only that stack's owner deletes it"
	case t.StackLive:
		return "its stack " + t.Stack + " is live and it has not expired"
	}
	return "it is no longer orphaned or expired"
}

// mark tags with a fresh mark (due now + grace, signed) every candidate the plan would delete
// that carries no mark of the janitor's yet, replacing any value it did not write, and lists
// those already marked whose time has not come. It records the marks it wrote in book.
func markNew(ctx context.Context, db DynamoDB, keys mark.Signer, inv sweep.Inventory, plan sweep.Plan, book markBook,
	now time.Time, grace time.Duration, errs *[]string) (marked, waiting []Mark) {
	tables := map[string]sweep.Observed{}
	for _, t := range inv.Tables {
		tables[t.Name] = t
	}
	marked, waiting = []Mark{}, []Mark{}
	for _, c := range plan.Candidates {
		if c.Action != sweep.WouldDelete || book.unsure[c.Table] {
			continue
		}
		m := Mark{Table: c.Table, Stack: c.Stack, Reasons: c.Reasons, MonthlyCostUSD: c.MonthlyCostUSD}
		if at, ok := book.due[c.Table]; ok {
			m.DeleteAfter = at.Format(time.RFC3339)
			waiting = append(waiting, m)
			continue
		}
		at := mark.Due(now.Add(grace))
		m.DeleteAfter = at.Format(time.RFC3339)
		m.Replaced = book.foreign[c.Table]
		value, err := keys.Sign(ctx, boundTo(tables[c.Table]), at)
		if err == nil {
			_, err = db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(tables[c.Table].ARN),
				Tags: []types.Tag{{Key: aws.String(wallet.TagJanitorDeleteAfter), Value: aws.String(value)}}})
		}
		if err != nil {
			*errs = append(*errs, fmt.Sprintf("mark %s: %v", c.Table, err))
			continue
		}
		book.due[c.Table] = at
		book.fresh[c.Table] = true
		marked = append(marked, m)
	}
	return marked, waiting
}

// notDue drops from waiting the tables the run acted on.
func notDue(waiting []Mark, acted []sweep.Candidate) []Mark {
	return slices.DeleteFunc(waiting, func(m Mark) bool {
		return slices.ContainsFunc(acted, func(c sweep.Candidate) bool { return c.Table == m.Table })
	})
}

// janitorBackup takes the backup a deletion depends on, named for now and this run (so a
// CreateBackup whose answer was lost is found, not taken twice: sweep.TakeBackup). One a run that died
// halfway left still being taken (CREATING) is waited for instead of starting another, but only
// one started for this table's mark and of this table: created at or after the mark's due time
// (marks: table → the verified due time; a run backs up only once a mark is due), and whose
// source is the planned table's identity. A week-old CREATING backup, or one of an earlier table
// of the same name, is not this deletion's. One that is already AVAILABLE is not reused either:
// the table may have been written to since, and the deletion must depend on a backup taken now.
func janitorBackup(d unit, now time.Time, marks map[string]time.Time) func(context.Context, sweep.Target) (sweep.SavedBackup, error) {
	run := sweep.NewRun()
	return func(ctx context.Context, t sweep.Target) (sweep.SavedBackup, error) {
		existing, err := discover.Backups(ctx, d.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String(t.Table)})
		if err != nil {
			return sweep.SavedBackup{}, fmt.Errorf("list backups of %s: %w", t.Table, err)
		}
		due, marked := marks[t.Table]
		for _, b := range existing {
			if !marked || !resumable(b, t, due) {
				continue
			}
			arn := aws.ToString(b.BackupArn)
			if sweep.CheckBackupSource(ctx, d.DynamoDB, arn, t.Identity) != nil {
				continue // of another table of the same name: not this deletion's
			}
			return sweep.SavedBackup{ARN: arn}, sweep.WaitBackup(ctx, d.DynamoDB, arn, b.BackupStatus, d.backupWait)
		}
		arn, err := sweep.TakeBackup(ctx, d.DynamoDB, t.Table, sweep.BackupName(wallet.JanitorBackupPrefix, t.Table, now, run), d.backupWait)
		return sweep.SavedBackup{ARN: arn}, err
	}
}

// resumable: a backup of the janitor's, still being taken, of the planned table's ARN, started
// for the mark due at due (not before it).
func resumable(b types.BackupSummary, t sweep.Target, due time.Time) bool {
	return strings.HasPrefix(aws.ToString(b.BackupName), wallet.JanitorBackupPrefix) &&
		b.BackupStatus == types.BackupStatusCreating &&
		aws.ToString(b.TableArn) == t.Identity.ARN &&
		!aws.ToTime(b.BackupCreationDateTime).Before(due)
}

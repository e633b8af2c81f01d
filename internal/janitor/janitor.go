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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
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

// MarkKey is the KMS HMAC key the janitor signs its marks with (wallet/mark.go): the calls that
// only the function's role may make on it.
type MarkKey interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, optFns ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, optFns ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

// Topic is the one SNS call: announcing the run.
type Topic interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// Clients are one region's clients.
type Clients struct {
	Region   string
	Sweep    sweep.RegionClients
	DynamoDB DynamoDB
	Topic    Topic
	MarkKey  MarkKey
}

// NewClients builds the clients from cfg (cfg.Region is the region the run looks at).
func NewClients(cfg aws.Config) Clients {
	return Clients{Region: cfg.Region, Sweep: sweep.NewRegionClients(cfg), DynamoDB: dynamodb.NewFromConfig(cfg), Topic: sns.NewFromConfig(cfg),
		MarkKey: kms.NewFromConfig(cfg)}
}

// Deps is what a run needs besides its configuration.
type Deps struct {
	Clients
	// Log receives the report as one JSON line (stdout under Lambda, hence CloudWatch Logs).
	Log io.Writer
	// Now is the run's clock (default time.Now).
	Now func() time.Time
	// Prices turn tables and backups into $/month (default: the written-down us-east-1 prices).
	Prices *cost.Prices
	// BackupWait bounds the wait for one backup to become AVAILABLE (default 10m).
	BackupWait time.Duration
}

// Report is one run: the sweep's report of what it deleted (or, in report mode, would delete)
// and skipped, in `verify sweep --json`'s vocabulary, plus the janitor's own: what it marked,
// what stays marked, what it reprieved, and the backups it keeps.
type Report struct {
	Mode      wallet.JanitorMode `json:"mode"`
	Grace     string             `json:"grace"`
	StartedAt time.Time          `json:"started_at"`
	sweep.Report
	// Marked are the tables this run marked: they go after their grace, unless they stop
	// qualifying or are tagged wallet:keep=true first.
	Marked []Mark `json:"marked"`
	// Waiting are tables marked earlier whose time has not come.
	Waiting []Mark `json:"waiting"`
	// Reprieved lost their mark: they no longer qualify.
	Reprieved []Reprieve `json:"reprieved"`
	// Errors are the run's own failures (a mark that could not be set, a notification that
	// could not be sent); the sweep's are in its candidates and problems.
	Errors []string `json:"errors,omitempty"`
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

// Changed reports whether the run did or found anything a person should hear about: a quiet
// run (nothing new, nothing due, nothing failed) sends no notification.
func (r Report) Changed() bool {
	if len(r.Marked)+len(r.Reprieved)+len(r.Errors)+len(r.Problems) > 0 {
		return true
	}
	for _, c := range r.Candidates {
		if c.Action != sweep.SkippedProtected {
			return true // deleted, failed, or due in report mode
		}
	}
	return false
}

// Failed reports whether any action failed: the run then returns an error, so the Errors alarm
// fires.
func (r Report) Failed() bool { return len(r.Errors) > 0 || r.Failures() > 0 }

// Run is one scheduled run. It returns the report and, when anything failed, an error too.
func Run(ctx context.Context, d Deps, cfg wallet.JanitorConfig) (Report, error) {
	now := time.Now().UTC()
	if d.Now != nil {
		now = d.Now().UTC()
	}
	prices := cost.USEast1()
	if d.Prices != nil {
		prices = *d.Prices
	}
	r := Report{Mode: cfg.Mode, Grace: wallet.FormatDuration(cfg.Grace), StartedAt: now}
	// Under Lambda the context ends when the function is stopped. The work gets a deadline a
	// little earlier, so the report is still logged and announced, backup ARNs and all.
	work, cancel := reserve(ctx)
	defer cancel()

	filter := sweep.Filter{Now: now}
	so := sweep.Options{StopOn: awsconf.IsDenied}
	inv := sweep.Survey(work, d.Sweep, filter, so)
	plan := sweep.NewPlan([]sweep.Inventory{inv}, filter, prices, false)

	keys := signer{key: d.MarkKey, arn: cfg.MarkKey}
	book := readMarks(work, keys, inv, &r.Errors)
	r.Reprieved = reprieve(work, d.DynamoDB, inv, plan, book, &r.Errors)
	r.Marked, r.Waiting = mark(work, d.DynamoDB, keys, inv, plan, book, now, cfg.Grace, &r.Errors)
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
	if cfg.Mode == wallet.JanitorDelete {
		so.Backup = janitorBackup(d, now, marks)
		r.Report = sweep.Act(work, acted, map[string]sweep.RegionClients{d.Region: d.Sweep}, so)
	} else {
		r.Report = acted.DryRun()
	}
	r.Waiting = notDue(r.Waiting, r.Candidates)
	// Listed after the run, so the backups it took are among them.
	backups, err := sweep.JanitorBackups(ctx, d.DynamoDB, d.Region, prices)
	if err != nil {
		r.Errors = append(r.Errors, fmt.Sprintf("list backups: %v", err))
	}
	r.SetJanitorBackups(backups)
	// The janitor reports the backups it keeps; the sweep's are `verify sweep`'s and `verify
	// cost`'s to list, and would only lengthen every notification.
	r.SetSweepBackups(nil)

	if d.Log != nil {
		b, err := json.Marshal(r)
		if err != nil {
			return r, fmt.Errorf("encode report: %w", err)
		}
		fmt.Fprintf(d.Log, "%s\n", b)
	}
	if r.Changed() {
		if err := notify(ctx, d.Topic, cfg.TopicArn, r); err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	if r.Failed() {
		return r, fmt.Errorf("janitor run in %s: %d actions failed or could not be found out (see the report)", d.Region, len(r.Errors)+r.Failures())
	}
	return r, nil
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

// signer signs and verifies marks with the janitor's KMS HMAC key (arn).
type signer struct {
	key MarkKey
	arn string
}

// identity is what the MAC binds a mark to besides the ARN: a table dropped and created again
// under the same name is another table, and its predecessor's mark is not its own. It is
// DynamoDB's TableId where the service returns one (AWS does), else the creation time (moto).
func identity(t sweep.Observed) string {
	if t.TableID != "" {
		return "id:" + t.TableID
	}
	return t.Created.UTC().Format(time.RFC3339Nano)
}

// sign is the mark of t, due at due.
func (s signer) sign(ctx context.Context, t sweep.Observed, due time.Time) (string, error) {
	out, err := s.key.GenerateMac(ctx, &kms.GenerateMacInput{
		KeyId: aws.String(s.arn), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: wallet.MarkMessage(t.ARN, identity(t), due),
	})
	if err != nil {
		return "", fmt.Errorf("sign the mark of %s with %s: %w", t.Name, s.arn, err)
	}
	return wallet.FormatMark(due, out.Mac)
}

// verify is the due time of the mark v on t when the janitor wrote it for t; genuine is false
// when it did not (another shape, a MAC for another table or time, a time before the table
// existed), and err is set only when KMS could not say.
func (s signer) verify(ctx context.Context, t sweep.Observed, v string) (due time.Time, genuine bool, err error) {
	due, mac, err := wallet.ParseMark(v)
	if err != nil || due.Before(t.Created) {
		return time.Time{}, false, nil
	}
	out, err := s.key.VerifyMac(ctx, &kms.VerifyMacInput{
		KeyId: aws.String(s.arn), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: wallet.MarkMessage(t.ARN, identity(t), due), Mac: mac,
	})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("verify the mark of %s with %s: %w", t.Name, s.arn, err)
	}
	return due, out.MacValid, nil
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
func readMarks(ctx context.Context, s signer, inv sweep.Inventory, errs *[]string) markBook {
	b := markBook{due: map[string]time.Time{}, foreign: map[string]string{}, unsure: map[string]bool{}, fresh: map[string]bool{}}
	for _, t := range inv.Tables {
		v, ok := t.Tags[wallet.TagJanitorDeleteAfter]
		if !ok || !t.Ours {
			continue
		}
		due, genuine, err := s.verify(ctx, t, v)
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
func mark(ctx context.Context, db DynamoDB, keys signer, inv sweep.Inventory, plan sweep.Plan, book markBook,
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
		at := wallet.MarkDue(now.Add(grace))
		m.DeleteAfter = at.Format(time.RFC3339)
		m.Replaced = book.foreign[c.Table]
		value, err := keys.sign(ctx, tables[c.Table], at)
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
func janitorBackup(d Deps, now time.Time, marks map[string]time.Time) func(context.Context, sweep.Target) (sweep.SavedBackup, error) {
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
			return sweep.SavedBackup{ARN: arn}, sweep.WaitBackup(ctx, d.DynamoDB, arn, b.BackupStatus, d.BackupWait)
		}
		arn, err := sweep.TakeBackup(ctx, d.DynamoDB, t.Table, sweep.BackupName(wallet.JanitorBackupPrefix, t.Table, now, run), d.BackupWait)
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

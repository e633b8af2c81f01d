// Package janitor is one scheduled run of the WalletJanitor function in its own account and
// region: the sweep that nobody has to remember. It is a third caller of the sweep's engine, not
// a copy of it: its candidates are exactly `verify sweep`'s (orphaned or expired; the live-stack,
// foreign-stack and wallet:keep rules hold), and deletion is sweep.Act's. What it adds is time:
//
//	discover → plan → reprieve what stopped qualifying → mark what is new → back up and delete
//	what is due → report → announce
//
// Tags on the tables are its whole state, so a run that died halfway is safe to repeat, and a
// second run right after changes nothing. It never deletes a backup, never touches a protected
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
}

// NewClients builds the clients from cfg (cfg.Region is the region the run looks at).
func NewClients(cfg aws.Config) Clients {
	return Clients{Region: cfg.Region, Sweep: sweep.NewRegionClients(cfg), DynamoDB: dynamodb.NewFromConfig(cfg), Topic: sns.NewFromConfig(cfg)}
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

// Config is what the janitor stack configures the function with.
type Config struct {
	Mode     wallet.JanitorMode
	Grace    time.Duration
	TopicArn string
}

// ConfigFromEnv reads the function's configuration from its environment (os.LookupEnv under
// Lambda), naming every bad or missing variable in one error.
func ConfigFromEnv(get wallet.Lookup) (Config, error) {
	var c Config
	var errs []error
	bad := func(name, value, allowed string) {
		errs = append(errs, fmt.Errorf("invalid environment %s=%q: %s", name, value, allowed))
	}
	if v, ok := get(wallet.EnvJanitorMode); !ok {
		bad(wallet.EnvJanitorMode, "", "not set; want one of delete, report")
	} else if m, err := wallet.ParseJanitorMode(v); err != nil {
		bad(wallet.EnvJanitorMode, v, err.Error())
	} else {
		c.Mode = m
	}
	if v, ok := get(wallet.EnvJanitorGrace); !ok {
		bad(wallet.EnvJanitorGrace, "", "not set; want a duration such as 24h")
	} else if d, err := wallet.ParseDuration(v); err != nil {
		bad(wallet.EnvJanitorGrace, v, err.Error())
	} else {
		c.Grace = d
	}
	if v, _ := get(wallet.EnvJanitorTopicArn); !strings.HasPrefix(v, "arn:") {
		bad(wallet.EnvJanitorTopicArn, v, "want the ARN of the janitor's SNS topic")
	} else {
		c.TopicArn = v
	}
	return c, errors.Join(errs...)
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
func Run(ctx context.Context, d Deps, cfg Config) (Report, error) {
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
	inv := sweep.Discover(work, d.Sweep, filter, so)
	plan := sweep.NewPlan([]sweep.Inventory{inv}, filter, prices, false)

	marks := readMarks(inv)
	r.Reprieved = reprieve(work, d.DynamoDB, inv, plan, marks, &r.Errors)
	r.Marked, r.Waiting = mark(work, d.DynamoDB, inv, plan, marks, now, cfg.Grace, &r.Errors)

	due := func(c sweep.Candidate) bool {
		m, ok := marks[c.Table]
		return c.Action == sweep.WouldDelete && ok && !now.Before(m)
	}
	acted := plan.Only(func(c sweep.Candidate) bool { return due(c) || c.Action == sweep.SkippedProtected })
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

// readMarks are the marks the tables carry, parsed; a mark that does not parse is treated as
// absent, so the table is marked afresh (its deletion is put off, never brought forward).
func readMarks(inv sweep.Inventory) map[string]time.Time {
	marks := map[string]time.Time{}
	for _, t := range inv.Tables {
		if v, ok := t.Tags[wallet.TagJanitorDeleteAfter]; ok {
			if at, err := time.Parse(time.RFC3339, v); err == nil {
				marks[t.Name] = at
			}
		}
	}
	return marks
}

// reprieve takes the mark off every marked table that no longer qualifies: its stack came back,
// its ExpiresAfter was extended, it was tagged wallet:keep=true or protected, it left the
// project. A table that could not be read keeps its mark: nothing is decided on a guess.
func reprieve(ctx context.Context, db DynamoDB, inv sweep.Inventory, plan sweep.Plan, marks map[string]time.Time, errs *[]string) []Reprieve {
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
		raw, marked := t.Tags[wallet.TagJanitorDeleteAfter]
		if !marked || deletable[t.Name] || t.Unjudged {
			continue
		}
		if _, parsed := marks[t.Name]; !parsed && t.Ours && !protected[t.Name] && !wallet.Kept(t.Tags) {
			continue // an unreadable mark on a table that still qualifies is replaced by mark
		}
		why := "it is no longer orphaned or expired"
		switch {
		case !t.Ours:
			why = "it is no longer tagged " + wallet.TagProject + "=" + wallet.ProjectName
		case wallet.Kept(t.Tags):
			why = "it is tagged " + wallet.TagKeep + "=true"
		case heldBy[t.Name] != "":
			why = strings.TrimSpace(heldBy[t.Name])
		case protected[t.Name] || t.Protected:
			why = "deletion protection is on"
		case t.StackLive:
			why = "its stack " + t.Stack + " is live and it has not expired"
		}
		if _, err := db.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: aws.String(t.ARN), TagKeys: []string{wallet.TagJanitorDeleteAfter}}); err != nil {
			*errs = append(*errs, fmt.Sprintf("reprieve %s: %v", t.Name, err))
			continue
		}
		delete(marks, t.Name)
		out = append(out, Reprieve{Table: t.Name, DeleteAfter: raw, Why: why})
	}
	return out
}

// mark tags every candidate the plan would delete that carries no mark yet with now + grace,
// and lists those already marked whose time has not come.
func mark(ctx context.Context, db DynamoDB, inv sweep.Inventory, plan sweep.Plan, marks map[string]time.Time, now time.Time, grace time.Duration, errs *[]string) (marked, waiting []Mark) {
	arns := map[string]string{}
	for _, t := range inv.Tables {
		arns[t.Name] = t.ARN
	}
	marked, waiting = []Mark{}, []Mark{}
	for _, c := range plan.Candidates {
		if c.Action != sweep.WouldDelete {
			continue
		}
		m := Mark{Table: c.Table, Stack: c.Stack, Reasons: c.Reasons, MonthlyCostUSD: c.MonthlyCostUSD}
		if at, ok := marks[c.Table]; ok {
			m.DeleteAfter = at.Format(time.RFC3339)
			waiting = append(waiting, m)
			continue
		}
		at := now.Add(grace).Truncate(time.Second)
		m.DeleteAfter = at.Format(time.RFC3339)
		if _, err := db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arns[c.Table]),
			Tags: []types.Tag{{Key: aws.String(wallet.TagJanitorDeleteAfter), Value: aws.String(m.DeleteAfter)}}}); err != nil {
			*errs = append(*errs, fmt.Sprintf("mark %s: %v", c.Table, err))
			continue
		}
		marks[c.Table] = at
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

// janitorBackup takes the backup a deletion depends on, named for now. One a run that died
// halfway left still being taken (CREATING) is waited for instead of starting another, but only
// one started for this table's mark and of this table: created at or after the mark's due time
// (marks: table → the verified due time; a run backs up only once a mark is due), and whose
// source is the planned table's identity. A week-old CREATING backup, or one of an earlier table
// of the same name, is not this deletion's. One that is already AVAILABLE is not reused either:
// the table may have been written to since, and the deletion must depend on a backup taken now.
func janitorBackup(d Deps, now time.Time, marks map[string]time.Time) func(context.Context, sweep.Target) (string, error) {
	return func(ctx context.Context, t sweep.Target) (string, error) {
		existing, err := discover.Backups(ctx, d.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String(t.Table)})
		if err != nil {
			return "", fmt.Errorf("list backups of %s: %w", t.Table, err)
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
			return arn, sweep.WaitBackup(ctx, d.DynamoDB, arn, b.BackupStatus, d.BackupWait)
		}
		return sweep.TakeBackup(ctx, d.DynamoDB, t.Table, sweep.BackupName(wallet.JanitorBackupPrefix, t.Table, now), d.BackupWait)
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

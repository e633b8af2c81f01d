package janitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The organization's janitor is a layer over Run: the fan-out (internal/org) gives every
// (account, region) a configuration that acts there, and each unit is today's per-region run,
// unchanged, its marks and backups in the table's own account. What is added is one digest and
// one report for the organization, and the scale-out: the scheduled run takes UnitsPerRun units
// itself and sends the rest to an SQS queue, where a worker function with reserved concurrency
// takes them; units are ordered so that those a run cannot reach are the queue's, next.

// Queue is the one SQS call of the scheduled run: handing units to the worker.
type Queue interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// OrgConfig is the organization's janitor: the per-region configuration, the member role, the
// regions, how many units one scheduled run takes, and the worker's queue.
type OrgConfig struct {
	wallet.JanitorConfig
	Role        string
	Regions     []string
	UnitsPerRun int
	QueueURL    string
}

// OrgConfigFromEnv reads the organization's part of the function's environment.
func OrgConfigFromEnv(get wallet.Lookup) (OrgConfig, error) {
	base, err := wallet.JanitorConfigFromEnv(get)
	c := OrgConfig{JanitorConfig: base, Role: wallet.JanitorMemberRole, UnitsPerRun: wallet.DefaultJanitorUnitsPerRun}
	errs := []error{err}
	if v, ok := get(wallet.EnvJanitorOrgRole); ok {
		if err := org.CheckRoleName(wallet.EnvJanitorOrgRole, v); err != nil {
			errs = append(errs, err)
		}
		c.Role = v
	}
	if v, _ := get(wallet.EnvJanitorOrgRegions); v == "" {
		errs = append(errs, fmt.Errorf("invalid environment %s=%q: want regions, comma-separated", wallet.EnvJanitorOrgRegions, v))
	} else {
		c.Regions = strings.Split(v, ",")
	}
	if v, ok := get(wallet.EnvJanitorUnitsPerRun); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs = append(errs, fmt.Errorf("invalid environment %s=%q: want a whole number ≥ 1", wallet.EnvJanitorUnitsPerRun, v))
		}
		c.UnitsPerRun = n
	}
	c.QueueURL, _ = get(wallet.EnvJanitorOrgQueueURL)
	return c, errors.Join(errs...)
}

// OrgDeps is what an organization run needs besides its configuration.
type OrgDeps struct {
	// Base is the function's own configuration: its own account, its own role. Its HTTP client
	// is given the run's one bound.
	Base          aws.Config
	Organizations org.Organizations
	STS           org.STS
	Queue         Queue
	// MarkKey signs and checks every unit's marks (default: KMS with Base's credentials).
	MarkKey MarkKey
	Topic   Topic
	Log     io.Writer
	Now     func() time.Time
	Prices  *cost.Prices
	// Bound is the calls in flight for the whole run (default 8).
	Bound int
}

// UnitMessage is one unit on the queue.
type UnitMessage struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// UnitReport is one (account, region) run: today's report, `account` on everything in it.
type UnitReport struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Error   string `json:"error,omitempty"`
	Report
}

// OrgReport is one organization run: every account (with its status and error), every unit's
// report, and the units handed to the worker queue.
type OrgReport struct {
	Mode      wallet.JanitorMode `json:"mode"`
	Grace     string             `json:"grace"`
	StartedAt time.Time          `json:"started_at"`
	// Role is "central" (the scheduled run) or "worker" (units from the queue).
	Role     string        `json:"role"`
	Accounts []org.Account `json:"accounts"`
	Units    []UnitReport  `json:"units"`
	Queued   []UnitMessage `json:"queued"`
	Errors   []string      `json:"errors,omitempty"`
}

// Failed: any account not run, unit failed, or the run's own error: the Errors alarm fires.
func (r OrgReport) Failed() bool {
	if len(r.Errors) > 0 {
		return true
	}
	for _, a := range r.Accounts {
		if a.Error != "" {
			return true
		}
	}
	for _, u := range r.Units {
		if u.Error != "" || u.Report.Failed() {
			return true
		}
	}
	return false
}

// Changed: anything a person should hear about, in any unit.
func (r OrgReport) Changed() bool {
	if r.Failed() || len(r.Queued) > 0 {
		return true
	}
	return slices.ContainsFunc(r.Units, func(u UnitReport) bool { return u.Report.Changed() })
}

// RunOrg is the scheduled run: list the organization's accounts, enter each (its own account
// with its own role, the others through cfg.Role), run the first UnitsPerRun units, queue the
// rest for the worker, and send one digest.
func RunOrg(ctx context.Context, d OrgDeps, cfg OrgConfig) (OrgReport, error) {
	r := d.newReport(cfg, wallet.JanitorOrgCentral)
	base := d.bounded()
	caller, err := org.Identify(ctx, d.STS)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	accounts, err := org.List(ctx, d.Organizations)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	units := d.enter(ctx, base, caller, cfg, accounts, &r)
	now, later := split(units, cfg.UnitsPerRun)
	if len(later) > 0 {
		if err := d.enqueue(ctx, cfg.QueueURL, later); err != nil {
			r.Errors = append(r.Errors, err.Error())
		} else {
			for _, u := range later {
				r.Queued = append(r.Queued, UnitMessage{u.Account.ID, u.Region})
			}
		}
	}
	r.Units = d.runUnits(ctx, base, now, cfg.JanitorConfig)
	return d.finish(ctx, r, cfg, nil)
}

// RunWorker runs the units the scheduled run queued: the worker function, one SQS batch.
func RunWorker(ctx context.Context, d OrgDeps, cfg OrgConfig, msgs []UnitMessage) (OrgReport, error) {
	r := d.newReport(cfg, wallet.JanitorOrgWorker)
	base := d.bounded()
	caller, err := org.Identify(ctx, d.STS)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	var ids []string
	for _, m := range msgs {
		// A message that names no account or no region of this janitor is refused, not run
		// somewhere it was never meant to be.
		if err := org.CheckAccountID("account", m.Account); err != nil || !slices.Contains(cfg.Regions, m.Region) {
			r.Errors = append(r.Errors, fmt.Sprintf("unit %s/%s: not a unit of this janitor (regions %s)", m.Account, m.Region, strings.Join(cfg.Regions, ",")))
			continue
		}
		ids = append(ids, m.Account)
	}
	units := d.enter(ctx, base, caller, cfg, org.Named(ids), &r)
	units = slices.DeleteFunc(units, func(u org.Unit) bool {
		return !slices.Contains(msgs, UnitMessage{u.Account.ID, u.Region})
	})
	r.Units = d.runUnits(ctx, base, units, cfg.JanitorConfig)
	return d.finish(ctx, r, cfg, nil)
}

func (d OrgDeps) newReport(cfg OrgConfig, role string) OrgReport {
	now := time.Now().UTC()
	if d.Now != nil {
		now = d.Now().UTC()
	}
	return OrgReport{Mode: cfg.Mode, Grace: wallet.FormatDuration(cfg.Grace), StartedAt: now, Role: role,
		Units: []UnitReport{}, Queued: []UnitMessage{}}
}

func (d OrgDeps) bounded() aws.Config {
	base := d.Base.Copy()
	n := d.Bound
	if n <= 0 {
		n = 8
	}
	base.HTTPClient = org.Bound(base.HTTPClient, n)
	return base
}

// enter assumes the member role in each account and returns the units, the caller's own
// account first (its units are the ones a run must never leave to others).
func (d OrgDeps) enter(ctx context.Context, base aws.Config, caller org.Caller, cfg OrgConfig, accounts []org.Account, r *OrgReport) []org.Unit {
	if !slices.ContainsFunc(accounts, func(a org.Account) bool { return a.ID == caller.Account }) && r.Role == wallet.JanitorOrgCentral {
		accounts = append(accounts, org.Account{ID: caller.Account, Status: org.Active})
	}
	entered, cfgs := org.Enter(ctx, base, d.STS, caller, cfg.Role, accounts)
	slices.SortStableFunc(entered, func(a, b org.Account) int {
		switch {
		case a.Self == b.Self:
			return strings.Compare(a.ID, b.ID)
		case a.Self:
			return -1
		}
		return 1
	})
	r.Accounts = entered
	return org.Units(entered, cfgs, cfg.Regions)
}

// split takes the first n units for this run; the rest go to the queue.
func split(units []org.Unit, n int) (now, later []org.Unit) {
	if n <= 0 || n >= len(units) {
		return units, nil
	}
	return units[:n], units[n:]
}

// enqueue hands units to the worker, ten a batch (SQS's most).
func (d OrgDeps) enqueue(ctx context.Context, url string, units []org.Unit) error {
	if d.Queue == nil || url == "" {
		return fmt.Errorf("%d units beyond this run's %s and no worker queue to hand them to", len(units), wallet.EnvJanitorUnitsPerRun)
	}
	for batch := range slices.Chunk(units, 10) {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(url)}
		for i, u := range batch {
			body, _ := json.Marshal(UnitMessage{u.Account.ID, u.Region})
			in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(body))})
		}
		out, err := d.Queue.SendMessageBatch(ctx, in)
		if err != nil {
			return fmt.Errorf("queue %d units: %w", len(batch), err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("queue units: %d of %d refused: %s", len(out.Failed), len(batch), aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// runUnits is today's per-region run in every unit, under the run's one bound. A unit's own
// notification is not sent (the digest is): its topic is a sink. Its marks are signed and
// checked with the central mark key, called with the central function's own credentials (base):
// the key lives in this account, and only this function's role may use it, so no member
// account can sign a mark.
func (d OrgDeps) runUnits(ctx context.Context, base aws.Config, units []org.Unit, cfg wallet.JanitorConfig) []UnitReport {
	key := d.MarkKey
	if key == nil {
		key = kms.NewFromConfig(base)
	}
	results := org.Run(ctx, units, org.UnitsAtOnce(d.Bound), func(ctx context.Context, u org.Unit) (Report, error) {
		return Run(ctx, Deps{Clients: unitClients(u.Config, key), Now: d.Now, Prices: d.Prices}, cfg)
	})
	out := []UnitReport{}
	for _, res := range results {
		ur := UnitReport{Account: res.Unit.Account.ID, Region: res.Unit.Region, Report: stamp(res.Value, res.Unit.Account.ID)}
		if res.Err != nil {
			ur.Error = res.Err.Error()
		}
		out = append(out, ur)
	}
	return out
}

// unitClients are the unit's clients, its notification held back for the digest.
func unitClients(cfg aws.Config, key MarkKey) Clients {
	c := NewClients(cfg)
	c.Topic = heldBack{}
	c.MarkKey = key
	return c
}

// heldBack takes a unit's notification and sends nothing: the organization's run sends one
// digest instead.
type heldBack struct{}

func (heldBack) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return &sns.PublishOutput{}, nil
}

// stamp sets account on every candidate, stack, problem and backup of a unit's report.
func stamp(r Report, account string) Report {
	r.Candidates = slices.Clone(r.Candidates)
	for i := range r.Candidates {
		r.Candidates[i].Account = account
	}
	r.Stacks = slices.Clone(r.Stacks)
	for i := range r.Stacks {
		r.Stacks[i].Account = account
	}
	r.Problems = slices.Clone(r.Problems)
	for i := range r.Problems {
		r.Problems[i].Account = account
	}
	r.JanitorBackups = slices.Clone(r.JanitorBackups)
	for i := range r.JanitorBackups {
		r.JanitorBackups[i].Account = account
	}
	return r
}

// finish logs the report as one JSON line, sends the digest when anything changed, and
// returns an error when anything failed.
func (d OrgDeps) finish(ctx context.Context, r OrgReport, cfg OrgConfig, err error) (OrgReport, error) {
	if err != nil {
		r.Errors = append(r.Errors, err.Error())
	}
	if d.Log != nil {
		b, err := json.Marshal(r)
		if err != nil {
			return r, fmt.Errorf("encode report: %w", err)
		}
		fmt.Fprintf(d.Log, "%s\n", b)
	}
	if r.Changed() && d.Topic != nil {
		if err := publishDigest(ctx, d.Topic, cfg.TopicArn, r); err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	if r.Failed() {
		return r, fmt.Errorf("janitor %s run over the organization: %d accounts or units failed (see the report)", r.Role, r.failures())
	}
	return r, nil
}

func (r OrgReport) failures() int {
	n := len(r.Errors)
	for _, a := range r.Accounts {
		if a.Error != "" {
			n++
		}
	}
	for _, u := range r.Units {
		if u.Error != "" || u.Report.Failed() {
			n++
		}
	}
	return n
}

// publishDigest sends the one notification of the run: readable text grouped by account for
// email, the JSON report for every other protocol.
func publishDigest(ctx context.Context, t Topic, arn string, r OrgReport) error {
	report, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	msg, err := json.Marshal(map[string]string{"default": string(report), "email": DigestText(r)})
	if err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	subject := fmt.Sprintf("wallet janitor, organization (%s): %d accounts, %d units, %d queued", r.Role, len(r.Accounts), len(r.Units), len(r.Queued))
	if r.Failed() {
		subject += ", FAILED"
	}
	if _, err := t.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(arn), Subject: aws.String(subject),
		Message: aws.String(string(msg)), MessageStructure: aws.String("json")}); err != nil {
		return fmt.Errorf("publish the digest to %s: %w", arn, err)
	}
	return nil
}

// DigestText is the digest as a person reads it: per account, each unit's own text (the tables
// marked, deleted or reprieved), then what was not run and what went to the worker.
func DigestText(r OrgReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The wallet janitor ran over the organization at %s (%s run, mode %s, grace %s): %d accounts, %d units.\n",
		r.StartedAt.Format(time.RFC3339), r.Role, r.Mode, r.Grace, len(r.Accounts), len(r.Units))
	for _, a := range r.Accounts {
		var units []UnitReport
		for _, u := range r.Units {
			if u.Account == a.ID && (u.Error != "" || u.Report.Changed()) {
				units = append(units, u)
			}
		}
		if a.Error == "" && len(units) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n== Account %s%s ==\n", a.ID, map[bool]string{true: " (" + a.Name + ")", false: ""}[a.Name != ""])
		if a.Error != "" {
			fmt.Fprintf(&b, "Not run: %s\n", a.Error)
		}
		for _, u := range units {
			if u.Error != "" {
				fmt.Fprintf(&b, "%s FAILED: %s\n", u.Region, u.Error)
			}
			b.WriteString(Text(u.Report))
		}
	}
	if len(r.Queued) > 0 {
		fmt.Fprintf(&b, "\n%d units were beyond this run and went to the worker queue; the worker's digest follows.\n", len(r.Queued))
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "Error: %s\n", e)
	}
	return b.String()
}

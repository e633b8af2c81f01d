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
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/strictjson"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A run is the same for one account and for an organization: the fan-out (internal/org) gives
// every (account, region) unit a configuration that acts there, and each unit is one
// per-region run (janitor.go), its marks and backups in the table's own account. The
// single-account janitor is a run over the function's own account and region; the organization's
// lists the accounts, enters each through the member role, and scales out: the scheduled run
// takes UnitsPerRun units itself and sends the rest to an SQS queue, where a worker function
// with reserved concurrency takes them. Either way: one report, one notification.

// Queue is the one SQS call of the scheduled run: handing units to the worker.
type Queue interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Config is a run's whole configuration: the rules every unit follows, and the fleet. Org false:
// the function's own account, in Regions (its own region). Org true: every ACTIVE account of the
// organization, entered through Role, in Regions, UnitsPerRun units a scheduled run, the rest
// through QueueURL.
type Config struct {
	contract.Janitor
	Org         bool
	Role        string
	Regions     []string
	UnitsPerRun int
	QueueURL    string
}

// ConfigFromEnv reads the function's environment. region is the function's own: the
// single-account janitor's one region.
func ConfigFromEnv(get contract.Lookup, region string) (Config, error) {
	base, err := contract.JanitorFromEnv(get)
	run, isOrg, oerr := contract.JanitorOrgRunFromEnv(get)
	c := Config{Janitor: base, Regions: []string{region}}
	if isOrg {
		c.Org, c.Role, c.Regions, c.UnitsPerRun, c.QueueURL = true, run.Role, run.Regions, run.UnitsPerRun, run.QueueURL
	}
	return c, errors.Join(err, oerr)
}

// Deps is what a run needs besides its configuration.
type Deps struct {
	// Base is the function's own configuration: its own account, its own role. Its HTTP client
	// is given the run's one bound.
	Base aws.Config
	STS  org.STS
	// Organizations lists the accounts: the organization's janitor only.
	Organizations org.Organizations
	Queue         Queue
	// MarkKey signs and checks every unit's marks (default: KMS with Base's credentials): the
	// key lives in the function's account, and only its role may use it, so no member account
	// can sign a mark.
	MarkKey MarkKey
	Topic   Topic
	// Log receives the report as one JSON line (stdout under Lambda, hence CloudWatch Logs).
	Log io.Writer
	// Now is the run's clock (default time.Now).
	Now func() time.Time
	// Prices turn tables and backups into $/month (default: the written-down us-east-1 prices).
	Prices *cost.Prices
	// Bound is the calls in flight for the whole run (default 8).
	Bound int
	// BackupWait bounds the wait for one backup to become AVAILABLE (default 10m).
	BackupWait time.Duration
	// Clients builds a unit's clients (default NewClients of its configuration): tests wrap
	// them to play a concurrent user.
	Clients func(org.Unit) Clients
}

// UnitMessage is one unit on the queue.
type UnitMessage struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// Report is one run: every account (with its status and error), every unit's report, the units
// handed to the worker queue, and the run's own errors.
type Report struct {
	Mode      contract.JanitorMode `json:"mode"`
	Grace     string               `json:"grace"`
	StartedAt time.Time            `json:"started_at"`
	// Role is "account" (the single-account janitor), "central" (the organization's scheduled
	// run) or "worker" (units from the queue).
	Role string `json:"role"`
	// Organization is the organization's id, for the organization's janitor.
	Organization string        `json:"organization"`
	Accounts     []org.Account `json:"accounts"`
	Units        []UnitReport  `json:"units"`
	Queued       []UnitMessage `json:"queued"`
	// Errors are the run's own failures (accounts could not be listed, units not queued, the
	// notification not sent); each unit's are in its report.
	Errors []string `json:"errors,omitempty"`
}

// RoleAccount is the single-account janitor's Report.Role.
const RoleAccount = "account"

// Failed: any account not run, unit failed, or the run's own error: the Errors alarm fires.
func (r Report) Failed() bool { return r.failures() > 0 }

func (r Report) failures() int {
	n := len(r.Errors)
	for _, a := range r.Accounts {
		if a.Error != "" {
			n++
		}
	}
	for _, u := range r.Units {
		if u.Failed() {
			n++
		}
	}
	return n
}

// Changed: anything a person should hear about, in any unit. A quiet run sends nothing.
func (r Report) Changed() bool {
	if r.Failed() || len(r.Queued) > 0 {
		return true
	}
	return slices.ContainsFunc(r.Units, func(u UnitReport) bool { return u.Changed() })
}

// Run is one scheduled run: find the accounts (the function's own, or the organization's),
// enter each, run the first UnitsPerRun units, queue the rest for the worker, log one report
// and send one notification. It returns the report and, when anything failed, an error too.
func Run(ctx context.Context, d Deps, cfg Config) (Report, error) {
	role := RoleAccount
	if cfg.Org {
		role = contract.JanitorOrgCentral
	}
	r := d.newReport(cfg, role)
	base := d.bounded()
	caller, err := org.Identify(ctx, d.STS)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	accounts := []org.Account{{ID: caller.Account, Status: org.Active}}
	if cfg.Org {
		if accounts, err = org.List(ctx, d.Organizations); err != nil {
			return d.finish(ctx, r, cfg, err)
		}
		r.Organization = org.ID(accounts)
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
	r.Units = d.runUnits(ctx, base, now, cfg.Janitor)
	return d.finish(ctx, r, cfg, nil)
}

// RunWorker runs the units the scheduled run queued: the worker function, one SQS batch. Each
// unit's account must be an ACTIVE account of the organization, as ListAccounts says now, and
// its region one of this janitor's: a message anybody could write to the queue never makes the
// janitor act anywhere it was not meant to.
func RunWorker(ctx context.Context, d Deps, cfg Config, msgs []UnitMessage) (Report, error) {
	r := d.newReport(cfg, contract.JanitorOrgWorker)
	base := d.bounded()
	caller, err := org.Identify(ctx, d.STS)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	members, err := org.List(ctx, d.Organizations)
	if err != nil {
		return d.finish(ctx, r, cfg, err)
	}
	r.Organization = org.ID(members)
	var chosen []org.Account
	var want []UnitMessage
	// The function's own account is the organization's janitor's too (the central run takes
	// its units first), listed or not.
	if !slices.ContainsFunc(members, func(a org.Account) bool { return a.ID == caller.Account }) {
		members = append(members, org.Account{ID: caller.Account, Status: org.Active})
	}
	for _, m := range slices.Compact(slices.Clone(msgs)) {
		i := slices.IndexFunc(members, func(a org.Account) bool { return a.ID == m.Account })
		switch {
		case org.CheckAccountID("account", m.Account) != nil || !slices.Contains(cfg.Regions, m.Region):
			r.Errors = append(r.Errors, fmt.Sprintf("unit %s/%s: not a unit of this janitor (regions %s)", cut(m.Account), cut(m.Region), strings.Join(cfg.Regions, ",")))
			continue
		case i < 0:
			r.Errors = append(r.Errors, fmt.Sprintf("unit %s/%s: account %s is not an account of organization %s: not run", m.Account, m.Region, m.Account, r.Organization))
			continue
		case !members[i].Runnable():
			r.Errors = append(r.Errors, fmt.Sprintf("unit %s/%s: account %s is %s: not run", m.Account, m.Region, m.Account, members[i].Status))
			continue
		}
		if !slices.ContainsFunc(chosen, func(a org.Account) bool { return a.ID == m.Account }) {
			chosen = append(chosen, members[i])
		}
		want = append(want, m)
	}
	units := d.enter(ctx, base, caller, cfg, chosen, &r)
	units = slices.DeleteFunc(units, func(u org.Unit) bool {
		return !slices.Contains(want, UnitMessage{u.Account.ID, u.Region})
	})
	r.Units = d.runUnits(ctx, base, units, cfg.Janitor)
	return d.finish(ctx, r, cfg, nil)
}

// cut keeps what a forged message says short in the report.
func cut(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func (d Deps) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d Deps) newReport(cfg Config, role string) Report {
	return Report{Mode: cfg.Mode, Grace: wallet.FormatDuration(cfg.Grace), StartedAt: d.now(), Role: role,
		Accounts: []org.Account{}, Units: []UnitReport{}, Queued: []UnitMessage{}}
}

func (d Deps) bounded() aws.Config {
	base := d.Base.Copy()
	base.HTTPClient = org.Bound(base.HTTPClient, d.bound())
	return base
}

func (d Deps) bound() int {
	if d.Bound <= 0 {
		return 8
	}
	return d.Bound
}

// enter assumes the member role in each account and returns the units, the caller's own
// account first (its units are the ones a run must never leave to others).
func (d Deps) enter(ctx context.Context, base aws.Config, caller org.Caller, cfg Config, accounts []org.Account, r *Report) []org.Unit {
	if !slices.ContainsFunc(accounts, func(a org.Account) bool { return a.ID == caller.Account }) && r.Role == contract.JanitorOrgCentral {
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

// split takes the first n units for this run; the rest go to the queue. n of 0 takes all.
func split(units []org.Unit, n int) (now, later []org.Unit) {
	if n <= 0 || n >= len(units) {
		return units, nil
	}
	return units[:n], units[n:]
}

// enqueue hands units to the worker, ten a batch (SQS's most).
func (d Deps) enqueue(ctx context.Context, url string, units []org.Unit) error {
	if d.Queue == nil || url == "" {
		return fmt.Errorf("%d units beyond this run's %s and no worker queue to hand them to", len(units), contract.EnvJanitorUnitsPerRun)
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

// runUnits is the per-region run in every unit, under the run's one bound. Under Lambda the
// context ends when the function is stopped: the work gets a deadline a little earlier, so the
// report is still logged and announced, backup ARNs and all.
func (d Deps) runUnits(ctx context.Context, base aws.Config, units []org.Unit, cfg contract.Janitor) []UnitReport {
	work, cancel := reserve(ctx)
	defer cancel()
	key := d.MarkKey
	if key == nil {
		key = kms.NewFromConfig(base)
	}
	// The janitor asks no network for prices (a function in a VPC may have none, and its role
	// no pricing:GetProducts): each unit's region is priced from the shipped table.
	prices := cost.ShippedPrices(base.Region)
	if d.Prices != nil {
		prices = *d.Prices
	}
	clients := d.Clients
	if clients == nil {
		clients = func(u org.Unit) Clients { return NewClients(u.Config) }
	}
	now := d.now()
	results := org.Run(work, units, org.UnitsAtOnce(d.bound()), func(ctx context.Context, u org.Unit) (UnitReport, error) {
		home := d.Base.Region
		un := unit{Clients: clients(u).recordIn(u.Config, home), account: u.Account.ID, key: mark.Signer{Key: key, KeyARN: cfg.MarkKey}, now: now,
			prices: prices, backupWait: d.BackupWait, home: home}
		return un.run(ctx, cfg), nil
	})
	out := []UnitReport{}
	for _, res := range results {
		out = append(out, res.Value)
	}
	return out
}

// finish logs the report as one JSON line, sends the notification when anything changed, and
// returns an error when anything failed.
func (d Deps) finish(ctx context.Context, r Report, cfg Config, err error) (Report, error) {
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
		if err := notify(ctx, d.Topic, cfg.TopicArn, r); err != nil {
			r.Errors = append(r.Errors, err.Error())
		}
	}
	if r.Failed() {
		return r, fmt.Errorf("janitor %s run: %d accounts, units or actions failed or could not be found out (see the report)", r.Role, r.failures())
	}
	return r, nil
}

// ParseUnitMessage reads one queue message strictly: one JSON object with exactly the account
// and region, nothing after it. Anything else says what was wrong without echoing it whole.
func ParseUnitMessage(body string) (UnitMessage, error) {
	var m UnitMessage
	if err := strictjson.Decode([]byte(body), &m, `a unit, {"account":"<12 digits>","region":"<region>"}`, strictjson.Options{DisallowUnknownFields: true}); err != nil {
		return UnitMessage{}, fmt.Errorf("not a unit: %w", err)
	}
	return m, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// accountSweep is one account's part of an organization's sweep: its plan and report, made
// and carried out by the one engine exactly as a single-account sweep is.
type accountSweep struct {
	account org.Account
	clients regions
	plan    sweep.Plan
	report  sweep.Report
	planned bool // its units ran (a plan exists)
}

// runOrgSweep is `verify sweep --org|--accounts`: discover in every (account, region) unit
// under one bound of calls in flight, plan per account, confirm once for the organization, and
// carry each account's plan out with sweep.Act.
func runOrgSweep(ctx context.Context, o *sweepOptions, flt sweep.Filter, prices cost.Prices) error {
	cfg, err := o.cloud.load(ctx, awsconf.Options{Region: firstOr(o.regions, "")})
	if err != nil {
		return err
	}
	fl, err := o.org.enter(ctx, cfg, o.regionNames(cfg.Region), o.concurrency)
	if err != nil {
		return err
	}
	progress, clear := progressLine(o.s.err)
	so := o.engineOptions(progress)
	found := org.Run(ctx, fl.units, org.UnitsAtOnce(o.concurrency), func(ctx context.Context, u org.Unit) (sweep.Inventory, error) {
		return sweep.Survey(ctx, sweep.NewRegionClients(u.Config), flt, so), nil
	})
	clear()
	sweeps := planAccounts(fl, found, flt, prices, o.includeProtected)
	dry := newOrgSweepReport(fl, sweeps, true, prices)
	if dry.noneRead() {
		_ = render(o.s.out, o.json, dry, dry.WriteText)
		return dry.err("sweep")
	}
	act, err := o.confirmOrg(fl, dry)
	if err != nil {
		return err
	}
	if !act {
		if err := render(o.s.out, o.json, dry, dry.WriteText); err != nil {
			return err
		}
		return dry.err("sweep")
	}
	actAccounts(ctx, sweeps, o, so)
	clear()
	done := newOrgSweepReport(fl, sweeps, false, prices)
	if err := render(o.s.out, o.json, done, done.WriteText); err != nil {
		return err
	}
	return done.err("sweep")
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// planAccounts makes one plan per account from its units' inventories.
func planAccounts(fl fleet, found []org.Result[sweep.Inventory], flt sweep.Filter, prices cost.Prices, includeProtected bool) []*accountSweep {
	idx := fl.byAccount()
	var out []*accountSweep
	for _, a := range fl.accounts {
		as := &accountSweep{account: a}
		out = append(out, as)
		units := idx[a.ID]
		if !a.Runnable() || len(units) == 0 {
			continue
		}
		var invs []sweep.Inventory
		var names []string
		for _, i := range units {
			invs = append(invs, found[i].Value)
			names = append(names, found[i].Unit.Region)
		}
		as.clients = regions{names: names, sweep: map[string]sweep.RegionClients{}, archive: map[string]archive.DynamoDB{}}
		for _, i := range units {
			u := fl.units[i]
			as.clients.sweep[u.Region] = sweep.NewRegionClients(u.Config)
			as.clients.archive[u.Region] = dynamodb.NewFromConfig(u.Config)
		}
		as.plan = sweep.NewPlan(invs, flt, prices, includeProtected)
		as.report = as.plan.DryRun()
		as.planned = true
	}
	return out
}

// actAccounts carries out every account's plan at once (the bound on calls is the run's), each
// through sweep.Act. An account whose plan met a denial, or that could list nothing, is not
// acted on: its permission must be fixed first, as for a single account.
func actAccounts(ctx context.Context, sweeps []*accountSweep, o *sweepOptions, base sweep.Options) {
	var units []org.Unit
	byID := map[string]*accountSweep{}
	for _, as := range sweeps {
		if !as.planned || as.report.Pending() == 0 || blocked(as.report) {
			continue
		}
		byID[as.account.ID] = as
		units = append(units, org.Unit{Account: as.account})
	}
	org.Run(ctx, units, org.UnitsAtOnce(o.concurrency), func(ctx context.Context, u org.Unit) (struct{}, error) {
		as := byID[u.Account.ID]
		so := base
		// DIR/<account>/<region>/<table>: one table name can exist in every account and region.
		save := o.save
		if save.export != "" {
			save.export = filepath.Join(save.export, as.account.ID)
		}
		save.options(&so, as.clients, true)
		as.report = sweep.Act(ctx, as.plan, as.clients.sweep, so)
		return struct{}{}, nil
	})
}

// blocked: a plan that met a denial or listed nothing deletes nothing.
func blocked(r sweep.Report) bool {
	if r.Unlisted() {
		return true
	}
	return slices.ContainsFunc(r.Errs(), awsconf.IsDenied)
}

// confirmOrg decides whether to act: --yes, or on a terminal the organization's id typed back.
func (o *sweepOptions) confirmOrg(fl fleet, dry orgSweepReport) (bool, error) {
	if o.yes {
		return true, nil
	}
	tables, accounts := dry.pending()
	if tables == 0 || !isTerminal(o.s.in) {
		return false, nil
	}
	if err := dry.WriteText(o.s.err); err != nil {
		return false, err
	}
	ok, err := confirmOrg(o.s.in, o.s.err, fl, tables, accounts)
	if err != nil {
		return false, failed(fmt.Errorf("read the confirmation: %w", err))
	}
	if !ok {
		_ = render(o.s.out, o.json, dry, dry.WriteText)
		return false, failed(fmt.Errorf("not confirmed: nothing deleted"))
	}
	return true, nil
}

// accountEntry is one account in an organization's report.
type accountEntry struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Candidates, MonthlySavingsUSD and MonthlyLeftUSD are the account's totals.
	Candidates        int     `json:"candidates"`
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	MonthlyLeftUSD    float64 `json:"monthly_cost_left_usd"`
}

// orgSweepReport is an organization's sweep: sweep.Report's vocabulary with `account` on every
// candidate, stack, problem and backup, and the accounts with their totals.
type orgSweepReport struct {
	DryRun       bool                `json:"dry_run"`
	Organization string              `json:"organization,omitempty"`
	Regions      []string            `json:"regions"`
	Accounts     []accountEntry      `json:"accounts"`
	Stacks       []sweep.StackAction `json:"stacks,omitempty"`
	Candidates   []sweep.Candidate   `json:"candidates"`
	// MonthlySavingsUSD and MonthlyLeftUSD are the organization's totals.
	MonthlySavingsUSD     float64         `json:"monthly_savings_usd"`
	MonthlyLeftUSD        float64         `json:"monthly_cost_left_usd"`
	Problems              []sweep.Problem `json:"problems,omitempty"`
	Notes                 []string        `json:"notes,omitempty"`
	Prices                cost.Prices     `json:"prices"`
	JanitorBackups        []sweep.Backup  `json:"janitor_backups,omitempty"`
	JanitorBackupsMonthly float64         `json:"janitor_backups_monthly_cost_usd,omitempty"`
	SweepBackups          []sweep.Backup  `json:"sweep_backups,omitempty"`
	SweepBackupsMonthly   float64         `json:"sweep_backups_monthly_cost_usd,omitempty"`

	what     string
	accounts []*accountSweep
}

func newOrgSweepReport(fl fleet, sweeps []*accountSweep, dry bool, prices cost.Prices) orgSweepReport {
	r := orgSweepReport{DryRun: dry, Organization: fl.organization, Prices: prices, what: fl.what(), accounts: sweeps,
		Candidates: []sweep.Candidate{}}
	seen := map[string]bool{}
	for _, u := range fl.units {
		if !seen[u.Region] {
			seen[u.Region] = true
			r.Regions = append(r.Regions, u.Region)
		}
	}
	var saved, left, backups float64
	for _, as := range sweeps {
		a := as.account
		e := accountEntry{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}
		rep := as.report
		if as.planned && rep.Unlisted() && e.Error == "" {
			e.Error = "no region could be listed: " + rep.Problems[0].Error
		}
		for _, c := range rep.Candidates {
			c.Account = a.ID
			r.Candidates = append(r.Candidates, c)
		}
		for _, s := range rep.Stacks {
			s.Account = a.ID
			r.Stacks = append(r.Stacks, s)
		}
		for _, p := range rep.Problems {
			p.Account = a.ID
			r.Problems = append(r.Problems, p)
		}
		for _, b := range rep.JanitorBackups {
			b.Account = a.ID
			r.JanitorBackups = append(r.JanitorBackups, b)
		}
		for _, b := range rep.SweepBackups {
			b.Account = a.ID
			r.SweepBackups = append(r.SweepBackups, b)
		}
		r.SweepBackupsMonthly += rep.SweepBackupsMonthly
		for _, n := range rep.Notes {
			r.Notes = append(r.Notes, a.ID+": "+n)
		}
		e.Candidates, e.MonthlySavingsUSD, e.MonthlyLeftUSD = len(rep.Candidates), rep.MonthlySavingsUSD, rep.MonthlyLeftUSD
		saved += rep.MonthlySavingsUSD
		left += rep.MonthlyLeftUSD
		backups += rep.JanitorBackupsMonthly
		r.Accounts = append(r.Accounts, e)
	}
	r.MonthlySavingsUSD, r.MonthlyLeftUSD, r.JanitorBackupsMonthly = cost.Round(saved), cost.Round(left), cost.Round(backups)
	r.SweepBackupsMonthly = cost.Round(r.SweepBackupsMonthly)
	return r
}

// pending counts what a confirmed run would delete, and in how many accounts.
func (r orgSweepReport) pending() (tables, accounts int) {
	for _, as := range r.accounts {
		if n := as.report.Pending(); n > 0 && !blocked(as.report) {
			tables += n
			accounts++
		}
	}
	return tables, accounts
}

// noneRead: not one unit could be read (every account failed or listed nothing).
func (r orgSweepReport) noneRead() bool {
	for _, as := range r.accounts {
		if as.planned && !as.report.Unlisted() {
			return false
		}
	}
	return true
}

// err is the run's outcome: exit 2 only when no unit could be read; exit 1 when any account
// or unit failed, a denial in one account included (the others were swept).
func (r orgSweepReport) err(what string) error {
	if r.noneRead() {
		for _, a := range r.Accounts {
			if a.Error != "" {
				return &exitError{exitUsage, fmt.Errorf("%s of %s: no account could be read; %s: %s", what, r.what, a.ID, a.Error)}
			}
		}
		return &exitError{exitUsage, fmt.Errorf("%s of %s: no account could be read", what, r.what)}
	}
	n := 0
	for _, as := range r.accounts {
		if !as.account.Runnable() {
			n++
			continue
		}
		n += as.report.Failures()
	}
	if n > 0 {
		return failed(fmt.Errorf("%s of %s: %d accounts, planned actions or tables failed or could not be read (see the report)", what, r.what, n))
	}
	// As for one account: a table replaced since the plan is not the user's failure, but not
	// everything planned was done.
	replaced := 0
	for _, as := range r.accounts {
		replaced += as.report.Replaced()
	}
	if replaced > 0 {
		return failed(fmt.Errorf("%s of %s: tables replaced by another of the same name since they were planned: %d; none of them was deleted: plan again", what, r.what, replaced))
	}
	return nil
}

// WriteText groups the report by account: each account's own sweep report, its totals, then
// the organization's.
func (r orgSweepReport) WriteText(w io.Writer) error {
	ew := &textWriter{w: w}
	mode := map[bool]string{true: "dry run, nothing changed", false: "deleting"}[r.DryRun]
	ew.printf("Sweep of %s, %d accounts (%s)\n", r.what, len(r.Accounts), mode)
	for i, as := range r.accounts {
		e := r.Accounts[i]
		ew.printf("\n== Account %s%s, %s ==\n", e.ID, nameOf(e.Name), e.Status)
		if !as.planned {
			ew.printf("Not run: %s\n", e.Error)
			continue
		}
		if err := as.report.WriteText(ew); err != nil {
			return err
		}
		ew.printf("Account %s total: %d tables, $%.2f/month %s, $%.2f/month left billing.\n",
			e.ID, e.Candidates, e.MonthlySavingsUSD, map[bool]string{true: "would be saved", false: "saved"}[r.DryRun], e.MonthlyLeftUSD)
	}
	notRun := 0
	for _, e := range r.Accounts {
		if e.Error != "" {
			notRun++
		}
	}
	ew.printf("\nOrganization total: %d accounts (%d not run or not read), %d tables; $%.2f/month %s, $%.2f/month left billing.\n",
		len(r.Accounts), notRun, len(r.Candidates), r.MonthlySavingsUSD,
		map[bool]string{true: "would be saved", false: "saved"}[r.DryRun], r.MonthlyLeftUSD)
	if tables, accounts := r.pending(); r.DryRun && tables > 0 {
		ew.printf("Nothing was deleted. Pass --yes to delete %d tables in %d accounts (on a terminal, you may confirm with the organization id instead).\n", tables, accounts)
	}
	return ew.err
}

func nameOf(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

// textWriter keeps the first write error, so rendering reads straight through.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) Write(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.w.Write(p)
	t.err = err
	return n, err
}

func (t *textWriter) printf(format string, a ...any) { fmt.Fprintf(t, format, a...) }

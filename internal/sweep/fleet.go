package sweep

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Fleet is a sweep or a teardown over a fleet of accounts: each account's plan made and carried
// out by the one engine (Survey, NewPlan or PlanTeardown, Act) with that account's own clients,
// so every re-check happens in the table's own account, and one Report over them all. The
// caller's own account is a fleet of one: there is no other path.
type Fleet struct {
	fleet    org.Fleet
	prices   cost.Prices
	accounts []*accountPlan
	// applied is the saved plan the run is narrowed to (Apply); nil for a sweep of its own.
	applied *AppliedPlan
}

// accountPlan is one account's part of a fleet's run.
type accountPlan struct {
	account org.Account
	units   []org.Unit
	clients map[string]RegionClients // by region
	plan    Plan
	report  Report
	planned bool // its units ran: a plan exists
}

// ClientsOf builds the sweep's clients of one unit. UnitClients is production's; tests wrap the
// real clients to play the concurrent user at a named step.
type ClientsOf func(org.Unit) RegionClients

// UnitClients are the sweep's clients of a unit, from its configuration.
func UnitClients(u org.Unit) RegionClients { return NewRegionClients(u.Config) }

func newFleet(fl org.Fleet, prices cost.Prices, clientsOf ClientsOf) *Fleet {
	if clientsOf == nil {
		clientsOf = UnitClients
	}
	f := &Fleet{fleet: fl, prices: prices}
	idx := fl.ByAccount()
	for _, a := range fl.Accounts {
		ap := &accountPlan{account: a, clients: map[string]RegionClients{}}
		for _, i := range idx[a.ID] {
			u := fl.Units[i]
			ap.units = append(ap.units, u)
			ap.clients[u.Region] = clientsOf(u)
		}
		f.accounts = append(f.accounts, ap)
	}
	return f
}

// SurveyFleet surveys every unit of the fleet (its tables, their stacks and use), under the
// fleet's one bound of calls in flight, and plans each account.
func SurveyFleet(ctx context.Context, fl org.Fleet, flt Filter, o Options, prices cost.Prices, includeProtected bool, clientsOf ClientsOf) *Fleet {
	f := newFleet(fl, prices, clientsOf)
	var units []org.Unit
	var where []*accountPlan
	for _, a := range f.accounts {
		for _, u := range a.units {
			units = append(units, u)
			where = append(where, a)
		}
	}
	found := org.Run(ctx, units, org.UnitsAtOnce(o.concurrency()), func(ctx context.Context, u org.Unit) (Inventory, error) {
		return Survey(ctx, f.clientsOfUnit(u), flt, o), nil
	})
	invs := map[*accountPlan][]Inventory{}
	for i, r := range found {
		invs[where[i]] = append(invs[where[i]], r.Value)
	}
	for _, a := range f.accounts {
		if !a.account.Runnable() || len(a.units) == 0 {
			continue
		}
		a.plan = NewPlan(invs[a], flt, prices, includeProtected)
		a.report, a.planned = a.plan.DryRun(), true
	}
	return f
}

func (f *Fleet) clientsOfUnit(u org.Unit) RegionClients {
	for _, a := range f.accounts {
		if a.account.ID == u.Account.ID {
			return a.clients[u.Region]
		}
	}
	return RegionClients{Region: u.Region}
}

// TeardownFleet plans the teardown of one named stack: a teardown runs over a fleet of one
// account in one region, the caller's.
func TeardownFleet(ctx context.Context, fl org.Fleet, stack string, prices cost.Prices, rules TeardownOptions, clientsOf ClientsOf) (*Fleet, error) {
	if len(fl.Units) != 1 {
		return nil, fmt.Errorf("teardown of %s: a stack lives in one account and region, and %d were given", stack, len(fl.Units))
	}
	f := newFleet(fl, prices, clientsOf)
	for _, a := range f.accounts {
		if len(a.units) == 0 {
			continue
		}
		plan, err := PlanTeardown(ctx, a.clients[a.units[0].Region], stack, prices, rules)
		if err != nil {
			return nil, err
		}
		a.plan, a.report, a.planned = plan, plan.DryRun(), true
	}
	return f, nil
}

// Save is how a run keeps each table's data before deleting it.
type Save struct {
	// ExportRoot, when set, exports each table's items under it before it is deleted (see
	// ExportDir for where).
	ExportRoot string
	// Backup takes a native on-demand backup of each table, AVAILABLE before it is deleted.
	Backup bool
	// BackupPrefix names the backups (default wallet.SweepBackupPrefix).
	BackupPrefix string
	// RecordDir is where a deletion's record is written as a file where the account and region
	// have no ledger (internal/ledger); RecordBesideExport puts it beside the table's export
	// instead, when there is one. With neither, a deletion no ledger records does not happen.
	RecordDir          string
	RecordBesideExport bool
}

// ExportDir is where a table's export goes under root: root/<table> for one account in one
// region; root/<region>/<table> for several regions, as one name can exist in each;
// root/<account>/<region>/<table> for several accounts, for the same reason.
func ExportDir(root, account, region, table string, byAccount, byRegion bool) string {
	dir := root
	if byAccount {
		dir = archive.Dir(dir, account)
	}
	if byAccount || byRegion {
		dir = archive.Dir(dir, region)
	}
	return archive.Dir(dir, table)
}

// savers fills an account's Options with the run's savers, with that account's clients.
func (f *Fleet) savers(a *accountPlan, s Save, o *Options) {
	if s.ExportRoot != "" {
		dbs := map[string]archive.DynamoDB{}
		for _, u := range a.units {
			dbs[u.Region] = dynamodb.NewFromConfig(u.Config)
		}
		byAccount, byRegion := f.fleet.Many(), len(f.fleet.Regions()) > 1
		account := a.account.ID
		o.Export = func(ctx context.Context, region, table string) (string, error) {
			db, ok := dbs[region]
			if !ok {
				return "", fmt.Errorf("no client for region %s", region)
			}
			dir := ExportDir(s.ExportRoot, account, region, table, byAccount, byRegion)
			if _, err := archive.Export(ctx, db, table, dir); err != nil {
				return "", err
			}
			return dir, nil
		}
	}
	o.Record = f.recorder(a, s)
	if s.Backup {
		prefix := s.BackupPrefix
		if prefix == "" {
			prefix = wallet.SweepBackupPrefix
		}
		// A backup's own wait, not the deletion's: minutes for a large table; the command's
		// bound holds both.
		o.Backup = NativeBackup(a.clients, prefix, DefaultBackupWait)
	}
}

// recorder writes down each deletion of the account before it happens, with the account's own
// clients, into the ledger of the table's region (or as a file, s says where, where there is
// none).
func (f *Fleet) recorder(a *accountPlan, s Save) *ledger.Recorder {
	by := "sweep"
	if a.plan.Teardown != "" {
		by = "teardown"
	}
	rc := &ledger.Recorder{By: by, Account: a.account.ID, Clients: map[string]ledger.Clients{}, Dir: s.RecordDir,
		BesideExport: s.RecordBesideExport, Count: true}
	for _, u := range a.units {
		rc.Clients[u.Region] = ledger.Clients{DynamoDB: dynamodb.NewFromConfig(u.Config), Scaling: applicationautoscaling.NewFromConfig(u.Config)}
		if rc.Who == nil {
			who := sts.NewFromConfig(u.Config)
			rc.Who = func(ctx context.Context) (string, error) { return ledger.Caller(ctx, who) }
		}
	}
	return rc
}

// Act carries out every account's plan at once, each through Act with its own clients and
// savers; the fleet's one bound holds the calls in flight. An account whose plan met a denial,
// or that could list nothing, is not acted on: its permission must be fixed first. One with
// nothing to delete still reports what it did (nothing), and what it leaves billing.
func (f *Fleet) Act(ctx context.Context, o Options, s Save) {
	var units []org.Unit
	byID := map[string]*accountPlan{}
	for _, a := range f.accounts {
		if !a.planned || blocked(a.report) {
			continue
		}
		byID[a.account.ID] = a
		units = append(units, org.Unit{Account: a.account})
	}
	org.Run(ctx, units, org.UnitsAtOnce(o.concurrency()), func(ctx context.Context, u org.Unit) (struct{}, error) {
		a := byID[u.Account.ID]
		ao := o
		f.savers(a, s, &ao)
		a.report = Act(ctx, a.plan, a.clients, ao)
		return struct{}{}, nil
	})
}

// blocked: a plan that met a denial or listed nothing deletes nothing.
func blocked(r Report) bool {
	return r.Unlisted() || slices.ContainsFunc(r.Errs(), awsconf.IsDenied)
}

// Pending counts what a confirmed run would delete, and in how many accounts.
func (f *Fleet) Pending() (tables, accounts int) {
	for _, a := range f.accounts {
		if n := a.report.Pending(); a.planned && n > 0 && !blocked(a.report) {
			tables += n
			accounts++
		}
	}
	return tables, accounts
}

// Report is the fleet's report as it stands: the plan before Act, what was done after.
func (f *Fleet) Report() Report {
	r := Report{Organization: f.fleet.Organization, Regions: f.fleet.Regions(), Prices: f.prices.Entries(f.fleet.Regions()...), Candidates: []Candidate{},
		Accounts: []AccountSummary{}, Notes: slices.Clone(f.fleet.Notes), fleet: f, Applied: f.applied}
	r.DryRun = true
	var saved, left, backups, sweepBackups float64
	for _, a := range f.accounts {
		e := AccountSummary{ID: a.account.ID, Name: a.account.Name, Status: a.account.Status, Error: a.account.Error}
		rep := a.report
		if a.planned {
			r.DryRun = r.DryRun && rep.DryRun
			r.Teardown = rep.Teardown
			if rep.Unlisted() && e.Error == "" {
				e.Error = "no region could be listed: " + rep.Problems[0].Error
			}
		}
		own := rep.In(a.account.ID)
		r.Candidates = append(r.Candidates, own.Candidates...)
		r.Stacks = append(r.Stacks, own.Stacks...)
		r.Problems = append(r.Problems, own.Problems...)
		r.JanitorBackups = append(r.JanitorBackups, own.JanitorBackups...)
		r.SweepBackups = append(r.SweepBackups, own.SweepBackups...)
		sweepBackups += rep.SweepBackupsMonthly
		for _, n := range rep.Notes {
			if f.fleet.Many() {
				n = a.account.Prefix() + n
			}
			r.Notes = append(r.Notes, n)
		}
		e.Candidates, e.MonthlySavingsUSD, e.MonthlyLeftUSD = len(rep.Candidates), rep.MonthlySavingsUSD, rep.MonthlyLeftUSD
		saved += rep.MonthlySavingsUSD
		left += rep.MonthlyLeftUSD
		backups += rep.JanitorBackupsMonthly
		r.Accounts = append(r.Accounts, e)
	}
	r.Notes = dedupe(r.Notes)
	r.MonthlySavingsUSD, r.MonthlyLeftUSD, r.JanitorBackupsMonthly = cost.Round(saved), cost.Round(left), cost.Round(backups)
	r.SweepBackupsMonthly = cost.Round(sweepBackups)
	return r
}

// AccountSummary is one account of a fleet's report: who it is, why it was not run if it was
// not, and its totals.
type AccountSummary struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Candidates, MonthlySavingsUSD and MonthlyLeftUSD are the account's totals.
	Candidates        int     `json:"candidates"`
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	MonthlyLeftUSD    float64 `json:"monthly_cost_left_usd"`
}

// noneRead: not one account could be read (every one failed, listed nothing, or met a denial).
func (f *Fleet) noneRead() bool {
	for _, a := range f.accounts {
		if a.planned && !blocked(a.report) {
			return false
		}
	}
	return true
}

// Blocked reports whether nothing of the run may go ahead: no account could be read, or every
// account read met a denial. Nothing is confirmed or deleted then.
func (f *Fleet) Blocked() bool { return f.noneRead() }

// Outcome is the run's end, for the edge to map to an exit code: Unread when no account could
// be read (nothing was found out, or every account met a denial: configuration to fix);
// Incomplete when any account was not run, or any action failed, or a table was replaced since
// it was planned; nil otherwise. what names the command ("sweep", "teardown of Wallet-dev").
func (f *Fleet) Outcome(what string) error {
	what = what + " of " + f.fleet.What()
	if f.noneRead() {
		for _, a := range f.accounts {
			if a.planned {
				for _, err := range a.report.Errs() {
					if awsconf.IsDenied(err) {
						return org.Unread(fmt.Errorf("%s: %w", what, err))
					}
				}
				if a.report.Unlisted() {
					return org.Unread(fmt.Errorf("%s: no region could be listed: %s", what, a.report.Problems[0].Error))
				}
			}
		}
		if e := f.fleet.FirstError(); e != "" {
			return org.Unread(fmt.Errorf("%s: no account could be read; %s", what, e))
		}
		return org.Unread(fmt.Errorf("%s: no account could be read", what))
	}
	n, replaced, notAsPlanned := f.fleet.Failed(), 0, 0
	for _, a := range f.accounts {
		if a.planned {
			n += a.report.Failures()
			replaced += a.report.Replaced()
			notAsPlanned += a.report.NotAsPlanned()
		}
		if a.planned && blocked(a.report) {
			n++
		}
	}
	if n > 0 {
		return org.Incomplete(fmt.Errorf("%s: %d accounts, planned actions or tables failed or could not be read (see the report)", what, n))
	}
	// A table replaced since the plan is not the user's failure, but not everything planned
	// was done (nothing of the new table was touched).
	if replaced > 0 {
		return org.Incomplete(fmt.Errorf("%s: tables replaced by another of the same name since they were planned: %d; none of them was deleted: plan again", what, replaced))
	}
	// A table of a saved plan the rules do not make a candidate (added to the file by hand, or
	// changed since): refused, and the plan was not done as reviewed.
	if notAsPlanned > 0 {
		return org.Incomplete(fmt.Errorf("%s: tables of the plan that are not candidates now, or not as planned: %d; none of them was deleted (see each)", what, notAsPlanned))
	}
	return nil
}

// Confirm is what a prompt tells the person before they type the confirmation back.
func (f *Fleet) Confirm() (prompt, token string) {
	tables, accounts := f.Pending()
	token, name := f.fleet.Confirmation()
	if token == "" {
		return "", ""
	}
	if !f.fleet.Many() {
		return fmt.Sprintf("This deletes %d tables in account %s. Type %s to go ahead: ", tables, f.fleet.Caller.Account, name), token
	}
	return fmt.Sprintf("This deletes %d tables in %d accounts of %s. Type %s to go ahead: ", tables, accounts, f.fleet.What(), name), token
}

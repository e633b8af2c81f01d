package cost

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// AccountSummary is one account of a cost report: who it is, why it was not read if it was
// not, and its totals.
type AccountSummary struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	Status            string  `json:"status"`
	Error             string  `json:"error,omitempty"`
	Tables            int     `json:"tables"`
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
}

// UnitClients are a unit's clients, from its configuration; tests may build their own.
func UnitClients(u org.Unit) Clients { return NewClients(u.Config) }

// ReviewFleet reviews every (account, region) unit of the fleet, under the fleet's one bound of
// calls in flight, into one report: every table, backup and problem carries its account. A
// unit's error (a denial in one account, a named table that is not there) is its account's;
// the other units are reported. The caller's own account is a fleet of one.
func ReviewFleet(ctx context.Context, fl org.Fleet, o Options, p Prices, clientsOf func(org.Unit) Clients) Report {
	if clientsOf == nil {
		clientsOf = UnitClients
	}
	drawn := newDrawing(o.Draw)
	prog := newProgress(len(fl.Units), o.Progress)
	results := org.Run(ctx, fl.Units, org.UnitsAtOnce(o.concurrency()), func(ctx context.Context, u org.Unit) (RegionReview, error) {
		uo := o
		uo.drawing, uo.progress = drawn.in(u.Account.ID), prog
		if uo.drawing == nil {
			uo.Draw = Draw{} // nothing to draw: a review of its own must not start one
		}
		defer prog.add(1, 0, 0)
		return Review(ctx, clientsOf(u), uo, p)
	})
	var reviews []RegionReview
	rv := fleetRun{fleet: fl}
	idx := fl.ByAccount()
	for _, a := range fl.Accounts {
		e := AccountSummary{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}
		var mine []RegionReview
		for _, i := range idx[a.ID] {
			res := results[i]
			if res.Err != nil {
				e.Error = strings.TrimPrefix(e.Error+"; ", "; ") + fmt.Sprintf("%s: %v", res.Unit.Region, res.Err)
				rv.errs = append(rv.errs, res.Err)
				continue
			}
			rr := res.Value
			rr.stamp(a.ID)
			mine = append(mine, rr)
		}
		part := NewReport(mine, o.Days, p)
		e.Tables, e.MonthlySavingsUSD = len(part.Tables), part.MonthlySavingsUSD
		rv.read = rv.read || (len(mine) > 0 && !unlisted(mine))
		reviews = append(reviews, mine...)
		rv.accounts = append(rv.accounts, e)
	}
	r := NewReport(reviews, o.Days, p)
	r.Organization, r.Accounts, r.Regions = fl.Organization, rv.accounts, fl.Regions()
	r.Notes = append(slices.Clone(fl.Notes), r.Notes...)
	r.Charts = drawn.kept()
	r.run = &rv
	return r
}

// fleetRun is how a fleet's review went, behind its report.
type fleetRun struct {
	fleet    org.Fleet
	accounts []AccountSummary
	errs     []error
	// read: some unit gave a report that found something out.
	read bool
}

// stamp sets the account on everything a region's review found.
func (rr *RegionReview) stamp(account string) {
	for i := range rr.Tables {
		rr.Tables[i].Account = account
	}
	for i := range rr.Backups {
		rr.Backups[i].Account = account
	}
	for i := range rr.SweepBackups {
		rr.SweepBackups[i].Account = account
	}
	for i := range rr.Problems {
		rr.Problems[i].Account = account
	}
}

// unlisted reports whether no region asked about could be read: each found no table and failed
// as a whole (its listing, or its tags where an endpoint has none).
func unlisted(reviews []RegionReview) bool {
	for _, rr := range reviews {
		if len(rr.Tables) > 0 || !slices.ContainsFunc(rr.Problems, func(p discover.Problem) bool { return p.Table == "" }) {
			return false
		}
	}
	return len(reviews) > 0
}

// Outcome is the run's end, for the edge to map to an exit code: Unread when nothing could be
// read (a denial, a named table that is not there, no region listed: the caller's to fix);
// Incomplete when any account, unit, table or region could not be read; nil otherwise.
func (r Report) Outcome() error {
	if r.run == nil {
		return nil
	}
	rv := r.run
	what := "cost of " + rv.fleet.What()
	if !rv.read {
		switch {
		case len(rv.errs) > 0:
			return org.Unread(fmt.Errorf("%s: %w", what, rv.errs[0]))
		case len(r.Problems) > 0:
			return org.Unread(fmt.Errorf("%s: no region could be listed: %s", what, r.Problems[0].Error))
		case rv.fleet.FirstError() != "":
			return org.Unread(fmt.Errorf("%s: no account could be read; %s", what, rv.fleet.FirstError()))
		}
	}
	n := len(r.Problems)
	for _, a := range rv.accounts {
		if a.Error != "" {
			n++
		}
	}
	if n > 0 {
		return org.Incomplete(fmt.Errorf("%s: %d accounts, tables or regions could not be read (see the report)", what, n))
	}
	return nil
}

// writeFleet renders a report over many accounts: each account's tables as one account's
// report, then the fleet's total.
func (r Report) writeFleet(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Cost of wallet tables in %s, %d accounts\n", r.run.fleet.What(), len(r.Accounts))
	tables := 0
	for _, a := range r.Accounts {
		tables += a.Tables
		label := a.ID
		if a.Name != "" {
			label += " (" + a.Name + ")"
		}
		fmt.Fprintf(&b, "\n== Account %s, %s ==\n", label, a.Status)
		if a.Error != "" {
			fmt.Fprintf(&b, "Error: %s\n", a.Error)
		}
		part := r.only(a.ID)
		if len(part.Tables)+len(part.Problems)+len(part.JanitorBackups)+len(part.SweepBackups) == 0 && a.Error != "" {
			continue
		}
		part.writeAccount(&b)
		fmt.Fprintf(&b, "Account %s total: %d tables, %s.\n", a.ID, a.Tables, savesText(a.MonthlySavingsUSD))
	}
	fmt.Fprintf(&b, "\nTotal: %d accounts, %d tables; %s.\n", len(r.Accounts), tables, savesText(r.MonthlySavingsUSD))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	writePrices(&b, r.Prices)
	_, err := io.WriteString(w, b.String())
	return err
}

// only is the report narrowed to one account's tables, backups and problems, without notes.
func (r Report) only(account string) Report {
	q := r
	q.Tables, q.JanitorBackups, q.SweepBackups, q.Problems, q.Notes, q.run, q.ReservedCapacity = nil, nil, nil, nil, nil, nil, nil
	for _, rc := range r.ReservedCapacity {
		if rc.Account == account {
			q.ReservedCapacity = append(q.ReservedCapacity, rc)
		}
	}
	for _, t := range r.Tables {
		if t.Account == account {
			q.Tables = append(q.Tables, t)
		}
	}
	for _, j := range r.JanitorBackups {
		if j.Account == account {
			q.JanitorBackups = append(q.JanitorBackups, j)
		}
	}
	for _, s := range r.SweepBackups {
		if s.Account == account {
			q.SweepBackups = append(q.SweepBackups, s)
		}
	}
	for _, p := range r.Problems {
		if p.Account == account {
			q.Problems = append(q.Problems, p)
		}
	}
	return q
}

// savesText is a total of the advice for people: what it saves, or what serving the load costs
// more (a negative saving is a raise).
func savesText(v float64) string {
	if v < 0 {
		return fmt.Sprintf("following the advice costs $%.2f/month more (to serve the load it throttles on)", -v)
	}
	return fmt.Sprintf("following the advice saves $%.2f/month", v)
}

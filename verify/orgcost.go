package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// orgCostAccount is one account of an organization's cost report: who it is, and its own cost
// report (every table in it is that account's), or why there is none.
type orgCostAccount struct {
	ID                string       `json:"id"`
	Name              string       `json:"name,omitempty"`
	Status            string       `json:"status"`
	Error             string       `json:"error,omitempty"`
	Tables            int          `json:"tables"`
	MonthlySavingsUSD float64      `json:"monthly_savings_usd"`
	Report            *cost.Report `json:"report,omitempty"`
}

// orgCostReport is `verify cost --org`: the accounts, each with its report, and the
// organization's savings.
type orgCostReport struct {
	Organization      string           `json:"organization,omitempty"`
	Regions           []string         `json:"regions"`
	Days              int              `json:"days"`
	Accounts          []orgCostAccount `json:"accounts"`
	MonthlySavingsUSD float64          `json:"monthly_savings_usd"`
	Prices            cost.Prices      `json:"prices"`
	what              string
}

// runOrgCost reviews every (account, region) unit under the run's one bound, one report per
// account. A unit's error (a denial in one account, a region closed by an SCP) is that
// account's; the rest are reported.
func runOrgCost(ctx context.Context, o *costOptions, prices cost.Prices) error {
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	cfg, err := o.cloud.load(ctx, awsconf.Options{})
	if err != nil {
		return err
	}
	regions := []string{cfg.Region}
	co := cost.Options{Table: o.table, Days: o.days}
	if o.allRegions {
		regions = sweep.Regions()
		co.SkipClosedRegions = true
	}
	fl, err := o.org.enter(ctx, cfg, regions, o.concurrency)
	if err != nil {
		return err
	}
	results := org.Run(ctx, fl.units, org.UnitsAtOnce(o.concurrency), func(ctx context.Context, u org.Unit) (cost.RegionReview, error) {
		return cost.Review(ctx, cost.NewClients(u.Config), co, prices)
	})
	r := newOrgCostReport(fl, results, o.days, prices)
	write := r.writeText
	if o.json {
		write = r.writeJSON
	}
	if err := write(o.s.out); err != nil {
		return failed(fmt.Errorf("write report: %w", err))
	}
	return r.err()
}

func newOrgCostReport(fl fleet, results []org.Result[cost.RegionReview], days int, prices cost.Prices) orgCostReport {
	r := orgCostReport{Organization: fl.organization, Days: days, Prices: prices, what: fl.what()}
	seen := map[string]bool{}
	for _, u := range fl.units {
		if !seen[u.Region] {
			seen[u.Region] = true
			r.Regions = append(r.Regions, u.Region)
		}
	}
	idx := fl.byAccount()
	var saved float64
	for _, a := range fl.accounts {
		e := orgCostAccount{ID: a.ID, Name: a.Name, Status: a.Status, Error: a.Error}
		var reviews []cost.RegionReview
		for _, i := range idx[a.ID] {
			res := results[i]
			if res.Err != nil {
				e.Error = fmt.Sprintf("%s: %v", res.Unit.Region, res.Err)
				continue
			}
			reviews = append(reviews, res.Value)
		}
		if len(reviews) > 0 {
			rep := cost.NewReport(reviews, days, prices)
			e.Report, e.Tables, e.MonthlySavingsUSD = &rep, len(rep.Tables), rep.MonthlySavingsUSD
			saved += rep.MonthlySavingsUSD
		}
		r.Accounts = append(r.Accounts, e)
	}
	r.MonthlySavingsUSD = cost.Round(saved)
	return r
}

func (r orgCostReport) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func (r orgCostReport) writeText(w io.Writer) error {
	tw := &textWriter{w: w}
	tw.printf("Cost of wallet tables in %s, %d accounts\n", r.what, len(r.Accounts))
	for _, a := range r.Accounts {
		tw.printf("\n== Account %s%s, %s ==\n", a.ID, nameOf(a.Name), a.Status)
		if a.Error != "" {
			tw.printf("Error: %s\n", a.Error)
		}
		if a.Report != nil {
			if err := a.Report.WriteText(tw); err != nil {
				return err
			}
			tw.printf("Account %s total: %d tables, advice saves $%.2f/month.\n", a.ID, a.Tables, a.MonthlySavingsUSD)
		}
	}
	tables := 0
	for _, a := range r.Accounts {
		tables += a.Tables
	}
	tw.printf("\nOrganization total: %d accounts, %d tables; the advice saves $%.2f/month.\n", len(r.Accounts), tables, r.MonthlySavingsUSD)
	return tw.err
}

// err: exit 2 when no account could be read, 1 when any account, unit, table or region could
// not be.
func (r orgCostReport) err() error {
	failures, read := 0, 0
	var first string
	for _, a := range r.Accounts {
		if a.Report != nil {
			read++
			failures += len(a.Report.Problems)
		}
		if a.Error != "" {
			failures++
			if first == "" {
				first = a.ID + ": " + a.Error
			}
		}
	}
	if read == 0 {
		return &exitError{exitUsage, fmt.Errorf("cost of %s: no account could be read; %s", r.what, first)}
	}
	if failures > 0 {
		return failed(fmt.Errorf("cost of %s: %d accounts, tables or regions could not be read (see the report)", r.what, failures))
	}
	return nil
}

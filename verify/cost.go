package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// costOptions is everything `verify cost` needs.
type costOptions struct {
	s          streams
	cloud      awsFlags
	prices     priceFlags
	table      string
	allRegions bool
	days       int
	json       bool
	org        orgFlags // --org, --accounts: every account of an organization (org.go)
	// concurrency bounds the calls in flight: per region alone, for the whole run with --org.
	concurrency int
}

// DefaultCostTimeout bounds a cost review: CloudWatch reads for every table of every region.
const DefaultCostTimeout = 10 * time.Minute

func newCostCmd(s streams, runF func(context.Context, *costOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCost
	}
	o := &costOptions{s: s, days: 14, concurrency: 8}
	cmd := command(&cobra.Command{
		Use:   "cost",
		Short: "What each wallet table costs against what it uses, and the cheapest way to keep it",
		Long: "cost prices each table tagged Project=wallet (or --table) three ways — as it is, right-sized\n" +
			"to its busiest minute in CloudWatch at 70 % utilisation, and on demand — and advises the\n" +
			"cheapest, as the -c values to redeploy the wallet stack with. It only reads.",
	}, o, runF, teardownPolicy, "table")
	fs := cmd.Flags()
	fs.StringVar(&o.table, "table", "", "the table to price (default: every table tagged Project=wallet)")
	fs.BoolVar(&o.allRegions, "all-regions", false, "every commercial region DynamoDB runs in")
	fs.IntVar(&o.days, "days", 14, fmt.Sprintf("days of use to read, 1 to %d (CloudWatch keeps 1-minute data %d days)", usage.MaxDays, usage.MaxDays))
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	o.cloud.register(fs, DefaultCostTimeout)
	o.prices.register(fs)
	o.org.register(fs)
	fs.Var(&boundedInt{&o.concurrency, 1, 64}, "concurrency", "calls in flight at once (1 to 64); with --org or --accounts, for the whole run")
	cmd.PreRunE = func(c *cobra.Command, _ []string) error {
		if err := nonEmpty(c, "table"); err != nil {
			return err
		}
		return o.org.validate(func(n string) bool { return c.Flags().Changed(n) })
	}
	return cmd
}

// validate checks every flag before anything touches AWS.
func (o *costOptions) validate() (cost.Prices, error) {
	if o.days < 1 || o.days > usage.MaxDays {
		return cost.Prices{}, usageErr("--days %d: want 1 to %d (CloudWatch keeps the 1-minute data a peak needs for %d days)", o.days, usage.MaxDays, usage.MaxDays)
	}
	if o.table != "" {
		if !wallet.ValidTableName(o.table) {
			return cost.Prices{}, usageErr("--table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", o.table)
		}
		if o.allRegions {
			return cost.Prices{}, usageErr("--table and --all-regions cannot be used together: a table lives in one region (pick it with --region)")
		}
	}
	if o.allRegions && o.cloud.region != "" {
		return cost.Prices{}, usageErr("--region and --all-regions cannot be used together: pick a region, or all of them")
	}
	return o.prices.resolve()
}

func runCost(ctx context.Context, o *costOptions) error {
	prices, err := o.validate()
	if err != nil {
		return err
	}
	if o.org.on() {
		return runOrgCost(ctx, o, prices)
	}
	ctx, cancel, cfg, err := o.cloud.start(ctx, awsconf.Options{})
	defer cancel()
	if err != nil {
		return err
	}
	regions := []string{cfg.Region}
	if o.allRegions {
		regions = sweep.Regions()
	}
	co := cost.Options{Table: o.table, Days: o.days, Concurrency: o.concurrency}
	if o.allRegions {
		co.SkipRegion = sweep.RegionDisabled
	}
	reviews := make([]cost.RegionReview, len(regions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, r := range regions {
		g.Go(func() error {
			rc := cfg.Copy()
			rc.Region = r
			var err error
			reviews[i], err = cost.Review(gctx, cost.NewClients(rc), co, prices)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return costErr(err)
	}
	report := cost.NewReport(reviews, o.days, prices)
	write := report.WriteText
	if o.json {
		write = report.WriteJSON
	}
	if err := write(o.s.out); err != nil {
		return failed(fmt.Errorf("write report: %w", err))
	}
	if n := len(report.Problems); n > 0 {
		return failed(fmt.Errorf("%d tables or regions could not be read (see the report)", n))
	}
	return nil
}

// costErr marks a missing --table as the caller's to fix (exit 2); the edge's one rule
// classifies everything else (a denial or an endpoint that does not answer is 2 as well).
func costErr(err error) error {
	if errors.Is(err, cost.ErrTableNotFound) {
		return &exitError{exitUsage, err}
	}
	return err
}

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

type costFlags struct {
	table      string
	allRegions bool
	days       int
	asJSON     bool
	aws        awsFlags
	prices     priceFlags
}

func newCostCmd(io streams) *cobra.Command {
	var f costFlags
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "What each wallet table costs against what it uses, and the cheapest way to keep it",
		Long: "cost prices each table tagged Project=wallet (or --table) three ways — as it is, right-sized\n" +
			"to its busiest minute in CloudWatch at 70 % utilisation, and on demand — and advises the\n" +
			"cheapest, as the -c values to redeploy the wallet stack with. It only reads.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCost(cmd.Context(), io, f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.table, "table", "", "the table to price (default: every table tagged Project=wallet)")
	fs.BoolVar(&f.allRegions, "all-regions", false, "every commercial region DynamoDB runs in")
	fs.IntVar(&f.days, "days", 14, fmt.Sprintf("days of use to read, 1 to %d (CloudWatch keeps 1-minute data %d days)", usage.MaxDays, usage.MaxDays))
	fs.BoolVar(&f.asJSON, "json", false, "print the report as one JSON object")
	f.aws.register(fs)
	f.prices.register(fs)
	return cmd
}

// validate checks every flag before anything touches AWS.
func (f costFlags) validate() (cost.Prices, error) {
	if f.days < 1 || f.days > usage.MaxDays {
		return cost.Prices{}, usageErr("--days %d: want 1 to %d (CloudWatch keeps the 1-minute data a peak needs for %d days)", f.days, usage.MaxDays, usage.MaxDays)
	}
	if f.table != "" {
		if !wallet.ValidTableName(f.table) {
			return cost.Prices{}, usageErr("--table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", f.table)
		}
		if f.allRegions {
			return cost.Prices{}, usageErr("--table and --all-regions cannot be used together: a table lives in one region (pick it with --region)")
		}
	}
	if f.allRegions && f.aws.region != "" {
		return cost.Prices{}, usageErr("--region and --all-regions cannot be used together: pick a region, or all of them")
	}
	return f.prices.resolve()
}

func runCost(ctx context.Context, io streams, f costFlags) error {
	prices, err := f.validate()
	if err != nil {
		return err
	}
	cfg, err := f.aws.load(ctx, awsconf.Options{})
	if err != nil {
		return err
	}
	regions := []string{cfg.Region}
	if f.allRegions {
		regions = sweep.Regions()
	}
	o := cost.Options{Table: f.table, Days: f.days}
	if f.allRegions {
		o.SkipRegion = sweep.RegionDisabled
	}
	reviews := make([]cost.RegionReview, len(regions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, r := range regions {
		g.Go(func() error {
			rc := cfg.Copy()
			rc.Region = r
			var err error
			reviews[i], err = cost.Review(gctx, cost.NewClients(rc), o, prices)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return costErr(err)
	}
	report := cost.NewReport(reviews, f.days, prices)
	write := report.WriteText
	if f.asJSON {
		write = report.WriteJSON
	}
	if err := write(io.out); err != nil {
		return failed(fmt.Errorf("write report: %w", err))
	}
	if n := len(report.Problems); n > 0 {
		return failed(fmt.Errorf("%d tables or regions could not be read (see the report)", n))
	}
	return nil
}

// costErr classifies what stopped a review: a denial or a missing table is the caller's to fix
// (exit 2); anything else failed (exit 1, or 130 once main sees the context ended).
func costErr(err error) error {
	if _, denied := awsconf.AsDenied(err); denied || errors.Is(err, cost.ErrTableNotFound) {
		return &exitError{exitUsage, err}
	}
	return failed(err)
}

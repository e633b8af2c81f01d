package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
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
	template   string
	stack      string
	allRegions bool
	days       int
	json       bool
	// now is the clock that ends the window: tests set it through the runF seam to judge tables
	// on CloudWatch data they wrote ahead of the real clock.
	now func() time.Time
	org orgFlags // --org, --accounts: every account of an organization (org.go)
	// concurrency bounds the calls in flight: per region alone (regionsAtOnce regions at a
	// time), for the whole run with --org.
	concurrency int
}

// DefaultCostTimeout bounds a cost review: CloudWatch reads for every table of every region.
const DefaultCostTimeout = 10 * time.Minute

func newCostCmd(s streams, runF func(context.Context, *costOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCost
	}
	o := &costOptions{s: s, days: 14, now: time.Now, concurrency: 8}
	cmd := command(&cobra.Command{
		Use:   "cost",
		Short: "What each wallet table costs against what it uses, and the cheapest way to keep it",
		Long: "cost prices each table tagged Project=wallet (or --table) three ways — as it is, right-sized\n" +
			"to its busiest minute in CloudWatch at 70 % utilisation, and on demand — and advises the\n" +
			"cheapest, as the -c values to redeploy the wallet stack with. It only reads.\n\n" +
			"With --template FILE it prices a synthesized template's tables as declared, before any\n" +
			"deploy, with no AWS call; --stack NAME adds what deploying FILE changes on the stack's bill.",
		PreRunE: func(c *cobra.Command, _ []string) error {
			return o.org.validate(func(n string) bool { return c.Flags().Changed(n) })
		},
	}, o, runF, teardownPolicy, "table", "template", "stack")
	fs := cmd.Flags()
	fs.StringVar(&o.table, "table", "", "the table to price (default: every table tagged Project=wallet)")
	fs.StringVar(&o.template, "template", "", "price the tables a synthesized template declares (cdk.out/<stack>.template.json), calling nothing")
	fs.StringVar(&o.stack, "stack", "", "with --template: the deployed stack to compare with, to say what deploying the template changes")
	fs.BoolVar(&o.allRegions, "all-regions", false, "every commercial region DynamoDB runs in")
	fs.Var(decimalInt{&o.days}, "days", fmt.Sprintf("days of use to read, 1 to %d (CloudWatch keeps 1-minute data %d days)", usage.MinuteDataDays, usage.MinuteDataDays))
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	o.cloud.register(fs, DefaultCostTimeout)
	o.prices.register(fs)
	o.org.register(fs)
	fs.Var(&boundedInt{&o.concurrency, 1, 64}, "concurrency", fmt.Sprintf("calls in flight at once (1 to 64): per region (%d regions at a time); with --org or --accounts, for the whole run", regionsAtOnce))
	return cmd
}

// validate checks every flag before anything touches AWS.
func (o *costOptions) validate() (cost.Prices, error) {
	if o.days < 1 || o.days > usage.MinuteDataDays {
		return cost.Prices{}, usageErr("--days %d: want 1 to %d (CloudWatch keeps the 1-minute data a peak needs for %d days)", o.days, usage.MinuteDataDays, usage.MinuteDataDays)
	}
	if o.table != "" {
		if !wallet.ValidTableName(o.table) {
			return cost.Prices{}, usageErr("--table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", o.table)
		}
		if o.allRegions {
			return cost.Prices{}, usageErr("--table and --all-regions cannot be used together: a table lives in one region (pick it with --region)")
		}
	}
	if o.stack != "" && o.template == "" {
		return cost.Prices{}, usageErr("--stack %q needs --template FILE: it says what deploying the template changes on that stack's bill", o.stack)
	}
	if o.template != "" && (o.table != "" || o.allRegions) {
		return cost.Prices{}, usageErr("--template prices what a template declares: it cannot be used with --table or --all-regions")
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
	if o.template != "" {
		return runCostTemplate(ctx, o, prices)
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
	co := cost.Options{Table: o.table, Days: o.days, Now: o.now(), Concurrency: o.concurrency}
	if o.allRegions {
		co.SkipClosedRegions = true
	}
	reviews := make([]cost.RegionReview, len(regions))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(regionsAtOnce)
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
	if err := render(o.s.out, o.json, report, report.WriteText); err != nil {
		return failed(fmt.Errorf("write report: %w", err))
	}
	if unlisted(reviews) {
		// As the sweep: a review that could list no region found out nothing, which is the
		// caller's configuration to fix, not a partial answer.
		return &exitError{exitUsage, fmt.Errorf("cost: no region could be listed: %s", report.Problems[0].Error)}
	}
	if n := len(report.Problems); n > 0 {
		return failed(fmt.Errorf("tables or regions that could not be read: %d (see the report)", n))
	}
	return nil
}

// unlisted reports whether no region asked about could be read: each found no table and
// failed as a whole (its listing, or its tags where an endpoint has none).
func unlisted(reviews []cost.RegionReview) bool {
	for _, rr := range reviews {
		if len(rr.Tables) > 0 || !slices.ContainsFunc(rr.Problems, func(p discover.Problem) bool { return p.Table == "" }) {
			return false
		}
	}
	return len(reviews) > 0
}

// costErr marks a missing --table as the caller's to fix (exit 2); the edge's one rule
// classifies everything else (a denial or an endpoint that does not answer is 2 as well).
func costErr(err error) error {
	if errors.Is(err, cost.ErrTableNotFound) {
		return &exitError{exitUsage, err}
	}
	return err
}

// runCostTemplate prices a template's tables as declared, reading the file within --timeout and
// calling nothing; with --stack it reads that stack's live tables to say what deploying changes.
func runCostTemplate(ctx context.Context, o *costOptions, prices cost.Prices) error {
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	body, err := check.ReadTemplateFile(ctx, o.template, o.cloud.timeout)
	if err != nil {
		return usageErr("--template %s: %v", o.template, err)
	}
	d, err := cost.Declare(body, prices)
	if err != nil {
		return usageErr("--template %s: %v", o.template, err)
	}
	d.Template = o.template
	if o.stack != "" {
		if d, err = o.againstStack(ctx, d, prices); err != nil {
			return err
		}
	}
	if err := render(o.s.out, o.json, d, d.WriteText); err != nil {
		return failed(fmt.Errorf("write report: %w", err))
	}
	return nil
}

// againstStack reads the deployed stack's live tables, the only AWS calls a template's price makes.
func (o *costOptions) againstStack(ctx context.Context, d cost.Declaration, prices cost.Prices) (cost.Declaration, error) {
	cfg, err := o.cloud.load(ctx, awsconf.Options{})
	if err != nil {
		return d, err
	}
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, awsconf.FillMissingCRC32) })
	live, deployed, err := cost.Deployed(ctx, cloudformation.NewFromConfig(cfg), db, o.stack, prices)
	if err != nil {
		return d, fmt.Errorf("read the tables of stack %s: %w", o.stack, err)
	}
	return d.Against(o.stack, live, deployed), nil
}

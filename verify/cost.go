package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/costhtml"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
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
	format     string
	// html is --html FILE: the report as one self-contained page, beside the report on stdout.
	html string
	// load is a what-if (--load FILE): that load priced on a table of capacity (--capacity),
	// its auto scaling given or searched for (--autoscale, --autoscale-read, --autoscale-write),
	// calling nothing.
	load                                     string
	capacity                                 string
	autoscale, autoscaleRead, autoscaleWrite string
	// now is the clock that ends the window: tests set it through the runF seam to judge tables
	// on CloudWatch data they wrote ahead of the real clock.
	now func() time.Time
	// fleet is the accounts reviewed (the caller's, or --org/--accounts) and the one bound on
	// calls in flight for the whole run (--concurrency).
	fleet fleetFlags
}

// DefaultCostTimeout bounds a cost review: CloudWatch reads for every table of every region.
const DefaultCostTimeout = 10 * time.Minute

func newCostCmd(s streams, runF func(context.Context, *costOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCost
	}
	o := &costOptions{s: s, days: 14, now: time.Now}
	cmd := command(&cobra.Command{
		Use:   "cost",
		Short: "What each wallet table costs against what it uses, and the cheapest way to keep it",
		Long: "cost prices each table tagged Project=wallet (or --table) four ways — as it is (an auto-scaled\n" +
			"table at what CloudWatch says it was billed for), right-sized to its busiest minute at 70 %\n" +
			"utilisation, auto scaled (simulated minute by minute over its CloudWatch data), and on\n" +
			"demand — and advises the cheapest that throttles no more than the table as it is, as the -c\n" +
			"values to redeploy the wallet stack with. It only reads.\n\n" +
			"With --template FILE it prices a synthesized template's tables as declared, before any\n" +
			"deploy, with no AWS call; --stack NAME adds what deploying FILE changes on the stack's bill.\n" +
			"With --load FILE it prices a load written down (a CSV of one row a minute, or the JSON of\n" +
			"aws cloudwatch get-metric-data) on a table of --capacity, with no AWS call.\n\n" +
			"--html FILE also writes the report as one HTML page that needs nothing else (no script, font\n" +
			"or style from anywhere: it opens offline), every table sorted by what its advice saves and a\n" +
			"chart of its use, capacity and advice for the 100 that save most.",
		PreRunE: func(c *cobra.Command, _ []string) error {
			template := "--template prices what a template declares, calling nothing"
			load := "--load prices the load in a file, calling nothing"
			given := "--autoscale gives reads and writes one policy; --autoscale-read and --autoscale-write give each its own"
			if err := refuseTogether(c, conflict{"template", "table", template}, conflict{"template", "all-regions", template},
				conflict{"template", "org", template}, conflict{"template", "accounts", template},
				conflict{"load", "template", load}, conflict{"load", "stack", load}, conflict{"load", "table", load},
				conflict{"load", "all-regions", load}, conflict{"load", "org", load}, conflict{"load", "accounts", load},
				conflict{"load", "days", "the file's minutes are the window"},
				conflict{"html", "template", "--html draws the use a review reads; a template declares capacity, not use"},
				conflict{"autoscale", "autoscale-read", given}, conflict{"autoscale", "autoscale-write", given},
				conflict{"table", "all-regions", "a table lives in one region (pick it with --region)"}, regionOrAll, orgOrAccounts); err != nil {
				return err
			}
			for _, f := range []string{"capacity", "autoscale", "autoscale-read", "autoscale-write"} {
				if c.Flags().Changed(f) && o.load == "" {
					return usageErr("--%s needs --load FILE: it says how the table of that load is provisioned, or how to auto scale it", f)
				}
			}
			if err := formatOrJSON(c, o.format); err != nil {
				return err
			}
			if err := o.fleet.validate(c); err != nil {
				return err
			}
			_, err := o.validate()
			return err
		},
	}, o, runF, teardownPolicy)
	fs := cmd.Flags()
	fs.StringVar(&o.table, "table", "", "the table to price (default: every table tagged Project=wallet)")
	fs.StringVar(&o.template, "template", "", "price the tables a synthesized template declares (cdk.out/<stack>.template.json), calling nothing")
	fs.StringVar(&o.stack, "stack", "", "with --template: the deployed stack to compare with, to say what deploying the template changes")
	fs.BoolVar(&o.allRegions, "all-regions", false, "every commercial region DynamoDB runs in")
	fs.Var(decimalInt{&o.days}, "days", fmt.Sprintf("days of use to read, 1 to %d (CloudWatch keeps 1-minute data %d days)", usage.MinuteDataDays, usage.MinuteDataDays))
	registerFormat(fs, &o.format, &o.json)
	fs.StringVar(&o.html, "html", "", "also write the report as one self-contained HTML `FILE` (charts of each table's use; opens offline)")
	fs.StringVar(&o.load, "load", "", "price the load in a file, calling nothing: a CSV ("+usage.LoadHeader+", one row a minute, RFC 3339 UTC) or the JSON of aws cloudwatch get-metric-data")
	fs.StringVar(&o.capacity, "capacity", "1/1", "with --load: the table's provisioned READ/WRITE units as it is")
	fs.StringVar(&o.autoscale, "autoscale", "", "with --load: price auto scaling MIN:MAX:TARGET (units, units, percent) for reads and writes instead of picking it")
	fs.StringVar(&o.autoscaleRead, "autoscale-read", "", "with --load: price auto scaling MIN:MAX:TARGET for reads (writes picked, at its target)")
	fs.StringVar(&o.autoscaleWrite, "autoscale-write", "", "with --load: price auto scaling MIN:MAX:TARGET for writes (reads picked, at its target)")
	o.cloud.register(fs, DefaultCostTimeout)
	o.prices.register(fs)
	o.fleet.register(fs, 8)
	return strict(cmd)
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
	}
	if o.stack != "" && o.template == "" {
		return cost.Prices{}, usageErr("--stack %q needs --template FILE: it says what deploying the template changes on that stack's bill", o.stack)
	}
	if err := checkOutFile("--html", o.html, "the page's file"); err != nil {
		return cost.Prices{}, err
	}
	if _, err := o.what(); err != nil {
		return cost.Prices{}, err
	}
	return o.prices.resolve()
}

// what is the what-if's table as it is and its auto scaling, from --capacity and --autoscale*.
func (o *costOptions) what() (cost.LoadOptions, error) {
	lo := cost.LoadOptions{File: o.load, Region: o.cloud.region}
	c, err := cost.ParseCapacityPair(o.capacity)
	if err != nil {
		return lo, usageErr("--capacity %q: %v", o.capacity, err)
	}
	lo.Capacity = c
	for _, f := range []struct {
		name, v string
		into    []**autoscaling.Policy
	}{
		{"autoscale", o.autoscale, []**autoscaling.Policy{&lo.AutoScale.Read, &lo.AutoScale.Write}},
		{"autoscale-read", o.autoscaleRead, []**autoscaling.Policy{&lo.AutoScale.Read}},
		{"autoscale-write", o.autoscaleWrite, []**autoscaling.Policy{&lo.AutoScale.Write}},
	} {
		if f.v == "" {
			continue
		}
		p, err := cost.ParsePolicy(f.v)
		if err != nil {
			return lo, usageErr("--%s %q: %v", f.name, f.v, err)
		}
		for _, into := range f.into {
			*into = &p
		}
	}
	return lo, nil
}

// runCost is one path for one account and for an organization: open the fleet (the caller's
// account unless --org or --accounts), review every (account, region) unit under one bound of
// calls in flight, and report once.
func runCost(ctx context.Context, o *costOptions) error {
	prices, err := o.validate()
	if err != nil {
		return err
	}
	if o.template != "" {
		return runCostTemplate(ctx, o, prices)
	}
	if o.load != "" {
		return runCostLoad(ctx, o, prices)
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
	fl, err := o.fleet.open(ctx, cfg, regions)
	if err != nil {
		return err
	}
	if prices, err = o.prices.of(ctx, cfg, fl.Regions(), false); err != nil {
		return err
	}
	progress, clear := costProgress(o.s.err)
	co := cost.Options{Table: o.table, Days: o.days, Now: o.now(), Concurrency: o.fleet.concurrency, SkipClosedRegions: o.allRegions,
		Draw: o.draw(), Progress: progress}
	report := cost.ReviewFleet(ctx, fl, co, prices, nil)
	clear()
	if err := o.render(report); err != nil {
		return err
	}
	return report.Outcome()
}

// draw is what the review keeps for pictures: a page's charts and sparklines with --html, a
// sparkline a table when the text report goes to a terminal; nothing otherwise, so that a
// pipe gets the report it always got.
func (o *costOptions) draw() cost.Draw {
	var d cost.Draw
	if o.html != "" {
		d = costhtml.Draw
	}
	if !o.json && o.format == formatText && isTerminal(o.s.out) {
		d.Sparklines = true
	}
	return d
}

// render prints the report as asked, and writes its page with --html (whole or not at all).
func (o *costOptions) render(r cost.Report) error {
	text := r
	if !isTerminal(o.s.out) {
		text = r.WithoutSparklines() // kept for the page only
	}
	if err := renderAs(o.s.out, o.format, o.json, text); err != nil {
		return err
	}
	if o.html == "" {
		return nil
	}
	if err := costhtml.WriteFile(o.html, r); err != nil {
		return failed(fmt.Errorf("--html: %w", err))
	}
	return nil
}

// runCostLoad prices a load read from a file within --timeout, calling nothing: a file that is
// not a load is refused (exit 2) before anything is priced.
func runCostLoad(ctx context.Context, o *costOptions, prices cost.Prices) error {
	lo, err := o.what()
	if err != nil {
		return err
	}
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	l, err := usage.ReadLoadFile(ctx, o.load)
	if err != nil {
		return usageErr("--load %s: %v", o.load, err)
	}
	// Priced in --region (else us-east-1) from the price list's cache or the shipped table: a
	// what-if calls nothing.
	region := lo.Region
	if region == "" {
		region = "us-east-1"
	}
	if prices, err = o.prices.of(ctx, aws.Config{}, []string{region}, true); err != nil {
		return err
	}
	lo.Region = region
	lo.Draw = o.draw()
	return o.render(cost.ReviewLoad(l, lo, prices))
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
	// The template is priced in its stack's region (--region, else the environment's), from the
	// price list's cache or the shipped table: no call, unless --refresh-prices asks the API.
	var region string
	for _, r := range []string{o.cloud.region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION")} {
		if region == "" {
			region = r
		}
	}
	var notes []string
	if region == "" {
		region = "us-east-1"
		notes = append(notes, "no region given (--region or AWS_REGION): the template is priced at us-east-1's prices")
	}
	var cfg aws.Config
	if !o.prices.refresh {
		notes = append(notes, "a template is priced with no AWS call: from the price list's cache, else the shipped table (--refresh-prices asks the AWS Price List API)")
	}
	if o.prices.refresh {
		if cfg, err = o.cloud.load(ctx, awsconf.Options{Region: region}); err != nil {
			return err
		}
	}
	regions := append([]string{region}, cost.TemplateRegions(body)...)
	if prices, err = o.prices.of(ctx, cfg, regions, true); err != nil {
		return err
	}
	d, err := cost.Declare(body, prices)
	if err != nil {
		return usageErr("--template %s: %v", o.template, err)
	}
	d.Notes = append(notes, d.Notes...)
	d.Template = o.template
	if o.stack != "" {
		if d, err = o.againstStack(ctx, d, prices); err != nil {
			return err
		}
	}
	return renderAs(o.s.out, o.format, o.json, d)
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

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// sweepOptions is everything `verify sweep` needs.
type sweepOptions struct {
	s                streams
	cloud            awsFlags // --profile and --timeout; --region is the sweep's own, repeatable
	prices           priceFlags
	save             saveFlags
	regions          []string
	allRegions       bool
	yes, json        bool
	includeProtected bool
	namePrefix       string
	olderThan        string
	idleFor          string
	concurrency      int
	pageSize         int32
	org              orgFlags // --org, --accounts: every account of an organization (org.go)
	// now, when set, is the clock the tables are judged by: tests set it through the runF seam
	// instead of waiting for a table to age. Nil: the sweep reads the wall clock at each stage.
	now func() time.Time
}

// DefaultSweepTimeout bounds a whole sweep: listing, exports, backups and deletions waited for.
const DefaultSweepTimeout = 30 * time.Minute

func newSweepCmd(s streams, runF func(context.Context, *sweepOptions) error) *cobra.Command {
	if runF == nil {
		runF = runSweep
	}
	o := &sweepOptions{s: s, concurrency: sweep.DefaultConcurrency}
	cmd := command(&cobra.Command{
		Use:   "sweep",
		Short: "Find forgotten wallet tables, price them, and delete them (a dry run without --yes)",
		Long: "sweep finds tables tagged Project=wallet (or named by --name-prefix) that are orphaned\n" +
			"(their stack is gone), expired (ExpiresAfter tag), older than --older-than, or idle for\n" +
			"--idle-for, and shows what each costs a month. A table of a live stack that has not expired\n" +
			"is never a candidate; an expired one is removed through its stack. A table tagged\n" +
			"wallet:keep=true never is.\n\n" +
			"Without --yes it is a dry run; on a terminal it offers to go ahead once you type the\n" +
			"account id. Protected tables are skipped unless --include-protected.",
		PreRunE: func(c *cobra.Command, _ []string) error {
			return o.org.validate(func(n string) bool { return c.Flags().Changed(n) })
		},
	}, o, runF, teardownPolicy, "export", "older-than", "idle-for")
	fs := cmd.Flags()
	fs.StringArrayVar(&o.regions, "region", nil, "region to sweep; repeat for several (default: the configured region)")
	fs.BoolVar(&o.allRegions, "all-regions", false, "sweep every commercial region DynamoDB runs in")
	o.cloud.registerProfile(fs, DefaultSweepTimeout)
	fs.BoolVar(&o.yes, "yes", false, "really delete (without it, a dry run)")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	fs.BoolVar(&o.includeProtected, "include-protected", false, "turn deletion protection off and delete protected candidates too")
	fs.StringVar(&o.namePrefix, "name-prefix", "", "also treat tables whose name starts with this as ours, tagged or not")
	fs.StringVar(&o.olderThan, "older-than", "", "also candidates: tables created longer ago than this (72h, 7d)")
	fs.StringVar(&o.idleFor, "idle-for", "", "also candidates: tables with no consumed capacity in CloudWatch for this long (72h, 7d)")
	o.save.register(fs, "export each table's items into `DIR`/<table> (DIR/<region>/<table> for several regions) before deleting it")
	fs.Var(&boundedInt{&o.concurrency, 1, 64}, "concurrency", fmt.Sprintf("calls in flight at once (1 to 64): while listing, per region (%d regions at a time); with --org or --accounts, for the whole run", regionsAtOnce))
	fs.Int32Var(&o.pageSize, "list-page-size", 0, "ListTables page size (testing)")
	_ = fs.MarkHidden("list-page-size")
	o.prices.register(fs)
	o.org.register(fs)
	return cmd
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// filter validates every flag before anything touches AWS.
func (o *sweepOptions) filter() (sweep.Filter, error) {
	var flt sweep.Filter
	if len(o.regions) > 0 && o.allRegions {
		return flt, usageErr("--region and --all-regions cannot be used together: pick regions, or all of them")
	}
	for _, r := range o.regions {
		if !regionRE.MatchString(r) {
			return flt, usageErr("--region %q: want a region name such as us-east-1", r)
		}
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"--older-than", o.olderThan, &flt.OlderThan}, {"--idle-for", o.idleFor, &flt.IdleFor}} {
		if d.v == "" {
			continue
		}
		v, err := wallet.ParseDuration(d.v)
		if err != nil {
			return flt, usageErr("%s %q: %v", d.name, d.v, err)
		}
		*d.dst = v
	}
	if o.pageSize < 0 || o.pageSize > 100 {
		return flt, usageErr("--list-page-size %d: want 1 to 100 (0: the service's default)", o.pageSize)
	}
	if strings.TrimSpace(o.namePrefix) != o.namePrefix {
		return flt, usageErr("--name-prefix %q: no leading or trailing spaces (table names have none)", o.namePrefix)
	}
	flt.NamePrefix = o.namePrefix
	if o.now != nil {
		flt.Now = o.now()
	}
	return flt, checkExportDir("--export", o.save.export)
}

func runSweep(ctx context.Context, o *sweepOptions) error {
	flt, err := o.filter()
	if err != nil {
		return err
	}
	prices, err := o.prices.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	if o.org.on() {
		return runOrgSweep(ctx, o, flt, prices)
	}
	cfg, r, err := o.connect(ctx)
	if err != nil {
		return err
	}
	progress, clear := progressLine(o.s.err)
	so := o.engineOptions(progress)
	o.save.options(&so, r, len(r.names) > 1)

	plan := sweep.NewPlan(surveyRegions(ctx, r, flt, so), flt, prices, o.includeProtected)
	clear()
	report := plan.DryRun()
	// Nothing is deleted on a plan that met a denial or could list nothing: the user must
	// fix the permission first.
	if err := reportError(report, "sweep"); err != nil && (report.Unlisted() || awsconf.IsDenied(err)) {
		_ = render(o.s.out, o.json, report, report.WriteText)
		return err
	}
	act, err := o.confirm(ctx, cfg, report)
	if err != nil {
		return err
	}
	if act {
		report = sweep.Act(ctx, plan, r.sweep, so)
		clear()
	}
	if err := render(o.s.out, o.json, report, report.WriteText); err != nil {
		return err
	}
	if err := reportError(report, "sweep"); err != nil {
		return err
	}
	// A table replaced since the plan is no failure of the user's, but not everything planned
	// was done (nothing of the new table was touched): exit 1, like any planned action not done.
	if n := report.Replaced(); n > 0 {
		return failed(fmt.Errorf("sweep: tables replaced by another of the same name since they were planned: %d; none of them was deleted: plan again", n))
	}
	return nil
}

// connect loads the configuration and builds each region's clients.
func (o *sweepOptions) connect(ctx context.Context) (aws.Config, regions, error) {
	first := ""
	if len(o.regions) > 0 {
		first = o.regions[0]
	}
	cfg, err := o.cloud.load(ctx, awsconf.Options{Region: first})
	if err != nil {
		return aws.Config{}, regions{}, err
	}
	return cfg, newRegions(cfg, o.regionNames(cfg.Region)), nil
}

// regionNames are the regions to sweep: --region's, every one, or the configured one.
func (o *sweepOptions) regionNames(configured string) []string {
	names := slices.Compact(slices.Sorted(slices.Values(o.regions)))
	switch {
	case o.allRegions:
		names = sweep.Regions()
	case len(names) == 0:
		names = []string{configured}
	}
	return names
}

// regionsAtOnce is how many regions sweep and cost read at a time, each with its own bound of
// --concurrency calls.
const regionsAtOnce = 4

// surveyRegions surveys every region (sweep.Survey: its tables, their stacks and use),
// regionsAtOnce at a time.
func surveyRegions(ctx context.Context, r regions, flt sweep.Filter, so sweep.Options) []sweep.Inventory {
	found := make([]sweep.Inventory, len(r.names))
	var g errgroup.Group
	g.SetLimit(regionsAtOnce)
	for i, name := range r.names {
		g.Go(func() error {
			found[i] = sweep.Survey(ctx, r.sweep[name], flt, so)
			return nil
		})
	}
	_ = g.Wait()
	return found
}

// confirm decides whether to act: --yes, or on a terminal the account id typed back.
func (o *sweepOptions) confirm(ctx context.Context, cfg aws.Config, dry sweep.Report) (bool, error) {
	if o.yes {
		return true, nil
	}
	if dry.Pending() == 0 || !isTerminal(o.s.in) {
		return false, nil
	}
	if err := dry.WriteText(o.s.err); err != nil {
		return false, err
	}
	account, err := sweep.Account(ctx, sts.NewFromConfig(cfg))
	if err != nil {
		return false, &exitError{exitUsage, err}
	}
	ok, err := confirmAccount(o.s.in, o.s.err, account, dry.Pending())
	if err != nil {
		return false, failed(fmt.Errorf("read the confirmation: %w", err))
	}
	if !ok {
		_ = render(o.s.out, o.json, dry, dry.WriteText)
		return false, failed(fmt.Errorf("not confirmed: nothing deleted"))
	}
	return true, nil
}

// confirmAccount names the account and what is at stake on w, and goes ahead only if the line
// read from r is exactly the account id.
func confirmAccount(r io.Reader, w io.Writer, account string, n int) (bool, error) {
	if account == "" {
		// An identity answer without an account id would make an empty line the confirmation.
		fmt.Fprintln(w, "\nThe account id could not be learned (STS named none), so it cannot be typed back; nothing deleted.")
		return false, nil
	}
	fmt.Fprintf(w, "\nThis deletes %d tables in account %s. Type the account id to go ahead: ", n, account)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	ok := strings.TrimSpace(line) == account
	if !ok {
		fmt.Fprintln(w, "That is not the account id; nothing deleted.")
	}
	return ok, nil
}

// progressLine returns a progress callback that rewrites one line of w, or nil when w is not a
// terminal: logs and pipes get only the final report.
func progressLine(w any) (func(stage string, done, total int), func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	out := w.(io.Writer)
	var mu sync.Mutex
	return func(stage string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, "\r\033[K%s %d/%d", stage, done, total)
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(out, "\r\033[K")
		}
}

// engineOptions are the sweep engine's options from the flags, one account or many.
func (o *sweepOptions) engineOptions(progress func(stage string, done, total int)) sweep.Options {
	return sweep.Options{
		PageLimit:           o.pageSize,
		Concurrency:         o.concurrency,
		Progress:            progress,
		SkipDisabledRegions: o.allRegions,
		// one missing permission refuses every other action too: nothing more is started
		StopOn: awsconf.IsDenied,
	}
}

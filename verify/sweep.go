package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
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
	format           string
	includeProtected bool
	// planOut writes the plan to a file instead of acting (--plan-out), valid for planTTL;
	// apply carries out a plan file (--apply), narrowed by expect: what the flags given
	// beside it state about the plan.
	planOut    string
	planTTL    time.Duration
	apply      string
	expect     sweep.Expect
	namePrefix string
	olderThan  string
	idleFor    string
	pageSize   int32
	// fleet is the accounts swept (the caller's, or --org/--accounts) and the one bound on
	// calls in flight for the whole run (--concurrency).
	fleet fleetFlags
	// now, when set, is the clock the tables are judged by: tests set it through the runF seam
	// instead of waiting for a table to age. Nil: the sweep reads the wall clock at each stage.
	now func() time.Time
	// clients, when set, builds each unit's clients: tests wrap the real ones to play the
	// concurrent user at a named step. Nil: sweep.UnitClients.
	clients sweep.ClientsOf
}

// DefaultSweepTimeout bounds a whole sweep: listing, exports, backups and deletions waited for.
const DefaultSweepTimeout = 30 * time.Minute

func newSweepCmd(s streams, runF func(context.Context, *sweepOptions) error) *cobra.Command {
	if runF == nil {
		runF = runSweep
	}
	o := &sweepOptions{s: s}
	cmd := command(&cobra.Command{
		Use:   "sweep",
		Short: "Find forgotten wallet tables, price them, and delete them (a dry run without --yes)",
		Long: "sweep finds tables tagged Project=wallet (or named by --name-prefix) that are orphaned\n" +
			"(their stack is gone), expired (ExpiresAfter tag), older than --older-than, or idle for\n" +
			"--idle-for, and shows what each costs a month. A table of a live stack that has not expired\n" +
			"is never a candidate; an expired one is removed through its stack. A table tagged\n" +
			"wallet:keep=true never is.\n\n" +
			"Without --yes it is a dry run; on a terminal it offers to go ahead once you type the\n" +
			"account id (the organization id with --org). Protected tables are skipped unless\n" +
			"--include-protected.",
		PreRunE: func(c *cobra.Command, _ []string) error {
			if err := refuseTogether(c, regionOrAll, orgOrAccounts,
				conflict{"plan-out", "apply", "make a plan, or apply one"},
				conflict{"plan-out", "yes", "a plan deletes nothing: review it, then --apply it with --yes"},
				conflict{"plan-ttl", "apply", "the plan says until when it may be applied"}); err != nil {
				return err
			}
			if err := formatOrJSON(c, o.format); err != nil {
				return err
			}
			if c.Flags().Changed("plan-ttl") && o.planOut == "" {
				return usageErr("--plan-ttl needs --plan-out FILE: it says how long the plan written there may be applied")
			}
			if err := o.fleet.validate(c); err != nil {
				return err
			}
			if _, err := o.filter(); err != nil {
				return err
			}
			if o.apply != "" {
				o.expect = o.stated(c)
			}
			return checkPlanOut("--plan-out", o.planOut)
		},
	}, o, runF, teardownPolicy)
	fs := cmd.Flags()
	fs.StringArrayVar(&o.regions, "region", nil, "region to sweep; repeat for several (default: the configured region)")
	fs.BoolVar(&o.allRegions, "all-regions", false, "sweep every commercial region DynamoDB runs in")
	o.cloud.registerProfile(fs, DefaultSweepTimeout)
	fs.BoolVar(&o.yes, "yes", false, "really delete (without it, a dry run)")
	registerFormat(fs, &o.format, &o.json)
	fs.StringVar(&o.planOut, "plan-out", "", "write the plan to `FILE` (JSON, for review) instead of deleting anything; apply it with --apply")
	o.planTTL = sweep.DefaultPlanTTL
	fs.Var(&planTTL{&o.planTTL}, "plan-ttl", "with --plan-out: how long the plan may be applied (default 24h, at most 7d)")
	fs.StringVar(&o.apply, "apply", "", "carry out the plan in `FILE` (--plan-out's), narrowed to what the rules still allow; a dry run without --yes. The fleet, filter and savers are the plan's: any given beside it must agree")
	fs.BoolVar(&o.includeProtected, "include-protected", false, "turn deletion protection off and delete protected candidates too")
	fs.StringVar(&o.namePrefix, "name-prefix", "", "also treat tables whose name starts with this as ours, tagged or not")
	fs.StringVar(&o.olderThan, "older-than", "", "also candidates: tables created longer ago than this (72h, 7d)")
	fs.StringVar(&o.idleFor, "idle-for", "", "also candidates: tables with no consumed capacity in CloudWatch for this long (72h, 7d)")
	o.save.register(fs, "export each table's items into `DIR`/<table> (DIR/<region>/<table> for several regions, DIR/<account>/<region>/<table> for several accounts) before deleting it")
	fs.Int32Var(&o.pageSize, "list-page-size", 0, "ListTables page size (testing)")
	_ = fs.MarkHidden("list-page-size")
	o.prices.register(fs)
	o.fleet.register(fs, sweep.DefaultConcurrency)
	return strict(cmd)
}

var regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// filter validates every flag before anything touches AWS.
func (o *sweepOptions) filter() (sweep.Filter, error) {
	var flt sweep.Filter
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
	return flt, o.save.check()
}

// runSweep is one path for one account and for an organization: open the fleet (the caller's
// account unless --org or --accounts), survey every (account, region) unit and plan each
// account, confirm once, carry every plan out with the one engine, report once.
func runSweep(ctx context.Context, o *sweepOptions) error {
	if o.apply != "" {
		return runApply(ctx, o)
	}
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
	cfg, err := o.cloud.load(ctx, awsconf.Options{Region: firstOr(o.regions, "")})
	if err != nil {
		return err
	}
	fl, err := o.fleet.open(ctx, cfg, o.regionNames(cfg.Region))
	if err != nil {
		return err
	}
	if prices, err = o.prices.of(ctx, cfg, fl.Regions(), false); err != nil {
		return err
	}
	progress, clear := progressLine(o.s.err)
	so := o.engineOptions(progress)
	surveyed := o.clock() // a plan is made of the world as its survey began to read it
	run := sweep.SurveyFleet(ctx, fl, flt, so, prices, o.includeProtected, o.clients)
	clear()
	if o.planOut != "" && !run.Blocked() {
		return o.writePlan(run, flt, surveyed)
	}
	return o.carryOut(ctx, run, so, o.save.sweep(), clear)
}

// carryOut is the end every sweep shares, its own or a saved plan's: nothing on a run that met
// a denial or could list nothing (the permission must be fixed first); else confirm, act, and
// report once.
func (o *sweepOptions) carryOut(ctx context.Context, run *sweep.Fleet, so sweep.Options, save sweep.Save, clear func()) error {
	if run.Blocked() {
		dry := run.Report()
		_ = o.render(dry)
		return run.Outcome("sweep")
	}
	act, err := o.confirm(run)
	if err != nil {
		return err
	}
	if act {
		run.Act(ctx, so, save)
		clear()
	}
	report := run.Report()
	if err := o.render(report); err != nil {
		return err
	}
	return run.Outcome("sweep")
}

// render writes a report as --format (or --json) says.
func (o *sweepOptions) render(r sweep.Report) error { return renderAs(o.s.out, o.format, o.json, r) }

// clock is the time the run judges by: the test's, else the wall clock.
func (o *sweepOptions) clock() time.Time {
	if o.now != nil {
		return o.now()
	}
	return time.Now()
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
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

// confirm decides whether to act: --yes, or on a terminal the account id (the organization's
// id for an organization) typed back.
func (o *sweepOptions) confirm(run *sweep.Fleet) (bool, error) {
	if o.yes {
		return true, nil
	}
	if tables, _ := run.Pending(); tables == 0 || !isTerminal(o.s.in) {
		return false, nil
	}
	dry := run.Report()
	if err := dry.WriteText(o.s.err); err != nil {
		return false, err
	}
	prompt, token := run.Confirm()
	ok, err := confirmTyped(o.s.in, o.s.err, prompt, token)
	if err != nil {
		return false, failed(fmt.Errorf("read the confirmation: %w", err))
	}
	if !ok {
		_ = o.render(dry)
		return false, failed(fmt.Errorf("not confirmed: nothing deleted"))
	}
	return true, nil
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

// engineOptions are the sweep engine's options from the flags.
func (o *sweepOptions) engineOptions(progress func(stage string, done, total int)) sweep.Options {
	return sweep.Options{
		PageLimit:           o.pageSize,
		Concurrency:         o.fleet.concurrency,
		Progress:            progress,
		SkipDisabledRegions: o.allRegions,
		// one missing permission refuses every other action too: nothing more is started
		StopOn: awsconf.IsDenied,
		// an auto-scaled table is priced at what it was billed for, as verify cost prices it
		Billed: true,
	}
}

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// teardownOptions is everything `verify teardown` needs.
type teardownOptions struct {
	s      streams
	cloud  awsFlags
	prices priceFlags
	save   saveFlags
	stack  string
	yes    bool
	json   bool
	rules  sweep.TeardownOptions
	// fleet is the caller's own account: a teardown names one stack, in one account and region.
	fleet fleetFlags
}

func newTeardownCmd(s streams, runF func(context.Context, *teardownOptions) error) *cobra.Command {
	if runF == nil {
		runF = runTeardown
	}
	o := &teardownOptions{s: s, fleet: fleetFlags{concurrency: sweep.DefaultConcurrency}}
	cmd := command(&cobra.Command{
		Use:   "teardown --stack NAME",
		Short: "Delete a stack and prove its tables are gone (a dry run without --yes)",
		Long: "teardown prints what deleting the stack would do — its tables, their deletion policy\n" +
			"and what each costs a month — and changes nothing. With --yes it deletes the stack, waits,\n" +
			"and proves each table is gone. Tables the stack retains are listed with their cost and the\n" +
			"command exits 1, unless --delete-retained deletes them too.",
	}, o, runF, teardownPolicy)
	fs := cmd.Flags()
	o.cloud.register(fs, DefaultSweepTimeout)
	o.prices.register(fs)
	fs.StringVar(&o.stack, "stack", "", "the stack to tear down (required)")
	fs.BoolVar(&o.yes, "yes", false, "really delete (without it, a dry run)")
	fs.BoolVar(&o.rules.DeleteRetained, "delete-retained", false, "also delete the tables the stack retains (DeletionPolicy Retain)")
	fs.BoolVar(&o.rules.IncludeProtected, "include-protected", false, "turn deletion protection off on tables that are to be deleted")
	o.save.register(fs, "export every table of the stack into `DIR`/<table> before deleting anything")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	return strict(cmd)
}

func runTeardown(ctx context.Context, o *teardownOptions) error {
	if o.stack == "" {
		return usageErr("--stack is required: name the stack to tear down, e.g. --stack Wallet-dev")
	}
	prices, err := o.prices.resolve()
	if err != nil {
		return err
	}
	if err := o.save.check(); err != nil {
		return err
	}
	ctx, cancel, cfg, err := o.cloud.start(ctx, awsconf.Options{})
	defer cancel()
	if err != nil {
		return err
	}
	// A teardown runs over the fleet of one, as every command does: the caller's account, in
	// the one region its stack lives in.
	fl, err := o.fleet.open(ctx, cfg, []string{cfg.Region})
	if err != nil {
		return err
	}
	if prices, err = o.prices.of(ctx, cfg, []string{cfg.Region}, false); err != nil {
		return err
	}
	rules := o.rules
	rules.Billed = true // an auto-scaled table is priced at what it was billed for, as verify cost prices it
	run, err := sweep.TeardownFleet(ctx, fl, o.stack, prices, rules, nil)
	if errors.Is(err, discover.ErrStackNotFound) {
		return usageErr("%w (already torn down? `verify sweep` finds any table it left behind)", err)
	}
	if err != nil {
		return err
	}
	if o.yes {
		run.Act(ctx, sweep.Options{StopOn: awsconf.IsDenied}, o.save.sweep()) // one missing permission refuses the rest too
	}
	report := run.Report()
	if err := render(o.s.out, o.json, report, report.WriteText); err != nil {
		return err
	}
	what := "teardown of " + o.stack
	if err := run.Outcome(what); err != nil {
		return err
	}
	if left := report.LeftBilling(); !report.DryRun && len(left) > 0 {
		return failed(fmt.Errorf("%s left %d tables billing (see above)", what, len(left)))
	}
	if !report.DryRun && len(report.Stacks) > 0 && report.Stacks[0].Action != sweep.Deleted {
		return failed(fmt.Errorf("%s: the stack was not deleted: %s", what, report.Stacks[0].Error))
	}
	return nil
}

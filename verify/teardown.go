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
}

func newTeardownCmd(s streams, runF func(context.Context, *teardownOptions) error) *cobra.Command {
	if runF == nil {
		runF = runTeardown
	}
	o := &teardownOptions{s: s}
	cmd := command(&cobra.Command{
		Use:   "teardown --stack NAME",
		Short: "Delete a stack and prove its tables are gone (a dry run without --yes)",
		Long: "teardown prints what deleting the stack would do — its tables, their deletion policy\n" +
			"and what each costs a month — and changes nothing. With --yes it deletes the stack, waits,\n" +
			"and proves each table is gone. Tables the stack retains are listed with their cost and the\n" +
			"command exits 1, unless --delete-retained deletes them too.",
	}, o, runF, teardownPolicy, "stack", "export")
	fs := cmd.Flags()
	o.cloud.register(fs, DefaultSweepTimeout)
	o.prices.register(fs)
	fs.StringVar(&o.stack, "stack", "", "the stack to tear down (required)")
	fs.BoolVar(&o.yes, "yes", false, "really delete (without it, a dry run)")
	fs.BoolVar(&o.rules.DeleteRetained, "delete-retained", false, "also delete the tables the stack retains (DeletionPolicy Retain)")
	fs.BoolVar(&o.rules.IncludeProtected, "include-protected", false, "turn deletion protection off on tables that are to be deleted")
	o.save.register(fs, "export every table of the stack into `DIR`/<table> before deleting anything")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON")
	return cmd
}

func runTeardown(ctx context.Context, o *teardownOptions) error {
	if o.stack == "" {
		return usageErr("--stack is required: name the stack to tear down, e.g. --stack Wallet-dev")
	}
	prices, err := o.prices.resolve()
	if err != nil {
		return err
	}
	if err := checkExportDir("--export", o.save.export); err != nil {
		return err
	}
	ctx, cancel, cfg, err := o.cloud.start(ctx, awsconf.Options{})
	defer cancel()
	if err != nil {
		return err
	}
	r := newRegions(cfg, []string{cfg.Region})
	plan, err := sweep.PlanTeardown(ctx, r.sweep[cfg.Region], o.stack, prices, o.rules)
	if errors.Is(err, discover.ErrStackNotFound) {
		return usageErr("%w (already torn down? `verify sweep` finds any table it left behind)", err)
	}
	if err != nil {
		return err
	}
	report := plan.DryRun()
	if o.yes {
		so := sweep.Options{StopOn: awsconf.IsDenied} // one missing permission refuses the rest too
		o.save.options(&so, r, false)
		report = sweep.Act(ctx, plan, r.sweep, so)
	}
	if err := render(o.s.out, o.json, report, report.WriteText); err != nil {
		return err
	}
	if err := reportError(report, "teardown of "+o.stack); err != nil {
		return err
	}
	if left := report.LeftBilling(); !report.DryRun && len(left) > 0 {
		return failed(fmt.Errorf("teardown of %s left %d tables billing (see above)", o.stack, len(left)))
	}
	if !report.DryRun && len(report.Stacks) > 0 && report.Stacks[0].Action != sweep.Deleted {
		return failed(fmt.Errorf("teardown of %s: the stack was not deleted: %s", o.stack, report.Stacks[0].Error))
	}
	return nil
}

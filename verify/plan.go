package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// writePlan writes the surveyed fleet's plan to --plan-out and reports it as a dry run: it
// deletes nothing and asks nothing.
func (o *sweepOptions) writePlan(run *sweep.Fleet, flt sweep.Filter, surveyed time.Time) error {
	sp, err := run.SavedPlan(sweep.PlanOptions{MadeAt: surveyed, TTL: o.planTTL, Filter: flt, IncludeProtected: o.includeProtected,
		Save: o.save.sweep(), Role: o.fleet.scope.Role})
	if err != nil {
		return usageErr("--plan-out %s: %v", o.planOut, err)
	}
	if err := sweep.WritePlanFile(o.planOut, sp); err != nil {
		return failed(err)
	}
	report := run.Report()
	if err := o.render(report); err != nil {
		return err
	}
	fmt.Fprintf(o.s.err, "Plan written to %s (%d tables, %s), to be applied before %s: verify sweep --apply %s\n",
		o.planOut, len(sp.Tables), sp.Digest, sp.ApplyBefore.Format(time.RFC3339), o.planOut)
	return run.Outcome("sweep")
}

// runApply carries out a saved plan: read and validate the file whole, open the fleet it names
// (and refuse another account or organization), survey it with the plan's filter, narrow each
// account's plan to the file's entries, then the sweep's own end (confirm, act, report). Every
// refusal comes before any call that changes anything, with exit 2.
func runApply(ctx context.Context, o *sweepOptions) error {
	now := o.clock()
	sp, err := sweep.ReadPlanFile(o.apply, now)
	if errors.Is(err, sweep.ErrPlanExpired) {
		_ = o.render(sp.Expired(o.apply))
		return usageErr("%v", err)
	}
	if err != nil {
		return usageErr("%v", err)
	}
	if err := sp.Agrees(o.expect); err != nil {
		return usageErr("plan %s: %v", o.apply, err)
	}
	if err := checkExportDir("the plan's save.export", sp.Save.Export); err != nil {
		return err
	}
	prices, err := o.prices.resolve()
	if err != nil {
		return err
	}
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	cfg, err := o.cloud.load(ctx, awsconf.Options{Region: sp.Regions()[0]})
	if err != nil {
		return err
	}
	fl, err := o.fleet.openScope(ctx, cfg, sp.Scope(), sp.Regions())
	if err != nil {
		return err
	}
	if fl, err = sp.Of(fl); err != nil {
		return usageErr("plan %s: %v", o.apply, err)
	}
	if prices, err = o.prices.of(ctx, cfg, fl.Regions(), false); err != nil {
		return err
	}
	var flt sweep.Filter
	if o.now != nil {
		flt = sp.FilterAt(now)
	} else {
		flt = sp.FilterAt(time.Time{}) // the wall clock, read at each stage
	}
	progress, clear := progressLine(o.s.err)
	so := o.engineOptions(progress)
	run := sweep.SurveyFleet(ctx, fl, flt, so, prices, sp.IncludeProtected, o.clients)
	clear()
	run.Apply(sp, o.apply)
	// What is kept first is the plan's; anything else about saving (where this machine writes)
	// is the applying command's own.
	save := o.save.sweep()
	planned := sp.Savers()
	save.ExportRoot, save.Backup = planned.ExportRoot, planned.Backup
	return o.carryOut(ctx, run, so, save, clear)
}

// stated is what the flags given beside --apply say about the plan: each must agree with it.
func (o *sweepOptions) stated(c *cobra.Command) sweep.Expect {
	var e sweep.Expect
	ch := c.Flags().Changed
	switch {
	case ch("all-regions"):
		e.Regions = sweep.Regions()
	case ch("region"):
		e.Regions = o.regions
	}
	if ch("org") {
		e.Org = &o.fleet.scope.Org
	}
	if ch("accounts") {
		e.Accounts = o.fleet.scope.Accounts
	}
	e.Exclude = o.fleet.scope.Exclude
	if ch("role-name") {
		e.Role = &o.fleet.scope.Role
	}
	if ch("name-prefix") {
		e.NamePrefix = &o.namePrefix
	}
	if ch("older-than") || ch("idle-for") {
		flt, _ := o.filter() // validated before
		if ch("older-than") {
			e.OlderThan = &flt.OlderThan
		}
		if ch("idle-for") {
			e.IdleFor = &flt.IdleFor
		}
	}
	if ch("include-protected") {
		e.IncludeProtected = &o.includeProtected
	}
	if ch("export") {
		e.Export = &o.save.export
	}
	if ch("backup") {
		e.Backup = &o.save.backup
	}
	return e
}

// checkPlanOut refuses, before anything happens, a plan file that cannot be written as asked
// (checkOutFile).
func checkPlanOut(flag, path string) error { return checkOutFile(flag, path, "the plan file") }

// checkOutFile refuses, before anything happens, a file that cannot be written as asked: a
// directory, a symlink (the file would replace the link, not write where it points), a FIFO or
// a device, or a place nobody may write to. what names the file for the message.
func checkOutFile(flag, path, what string) error {
	if path == "" {
		return nil
	}
	if st, err := os.Lstat(path); err == nil {
		switch {
		case st.IsDir():
			return usageErr("%s %q: a directory; name %s", flag, path, what)
		case st.Mode()&os.ModeSymlink != 0:
			return usageErr("%s %q: a symlink; name the file itself", flag, path)
		case !st.Mode().IsRegular():
			return usageErr("%s %q: not a regular file (%s)", flag, path, st.Mode().Type())
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return usageErr("%s %q: %v", flag, path, err)
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("%s %q: %s is not a directory", flag, path, dir)
	}
	probe, err := os.CreateTemp(dir, ".verify-write-probe-*")
	if err != nil {
		return usageErr("%s %q: cannot write there: %v", flag, path, err)
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// planTTL is --plan-ttl: a positive duration (72h, or days: 7d) of at most sweep.MaxPlanTTL.
type planTTL struct{ p *time.Duration }

func (v *planTTL) String() string { return v.p.String() }
func (v *planTTL) Type() string   { return "duration" }

func (v *planTTL) Set(s string) error {
	d, err := wallet.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 || d > sweep.MaxPlanTTL {
		return fmt.Errorf("want a duration from 1s to 7d (24h, 3d)")
	}
	*v.p = d
	return nil
}

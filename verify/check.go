package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
)

// checkOptions is everything `verify check` needs.
type checkOptions struct {
	s        streams
	cloud    awsFlags
	prices   priceFlags
	run      check.Options
	json     bool
	junit    string // also write the report as JUnit XML to this file
	noPace   bool
	tableSet bool // --table was given: the stack is not used
}

func newCheckCmd(s streams, runF func(context.Context, *checkOptions) error) *cobra.Command {
	if runF == nil {
		runF = runCheck
	}
	o := &checkOptions{s: s, run: check.Defaults()}
	cmd := command(&cobra.Command{
		Use:   "check",
		Short: "Check a wallet table against its stack and prove wallet operations on it",
		Long: "check finds the stack's table (or the --table), waits until it is ACTIVE, compares it\n" +
			"with the template it was deployed from, then (unless --read-only) proves conditional\n" +
			"creates, overdraft refusal, atomic idempotent transfers and exact concurrent increments\n" +
			"on test items of its own, which it deletes before exiting, even when interrupted.\n\n" +
			"Exit codes: 0 all checks passed; 1 a check failed or test items remain; 2 bad flags,\n" +
			"configuration, a table not found, an endpoint that does not answer, an IAM refusal, or a\n" +
			"run the table's capacity cannot serve within --timeout; 130 interrupted (after clean-up).",
		PreRunE: func(cmd *cobra.Command, _ []string) error {
			o.tableSet = cmd.Flags().Changed("table")
			if o.tableSet && cmd.Flags().Changed("stack") {
				return usageErr("--stack %q and --table %q: give one, not both", o.run.Stack, o.run.Table)
			}
			return nil
		},
	}, o, runF, "verify")
	fs := cmd.Flags()
	fs.StringVar(&o.run.Stack, "stack", o.run.Stack, "stack whose wallet table is checked")
	fs.StringVar(&o.run.Table, "table", "", "check this table instead of a stack's (conformance then needs --template)")
	fs.StringVar(&o.run.Template, "template", "", "template file declaring the table (default: the stack's deployed template, then cdk.out/<stack>.template.json)")
	fs.Var(&boundedInt{&o.run.Roundtrips, 1, check.MaxRoundtrips}, "roundtrips", "put+get pairs in the round-trip check")
	fs.Var(&boundedInt{&o.run.Concurrency, 1, check.MaxConcurrency}, "concurrency", "requests in flight at once")
	fs.BoolVar(&o.run.ReadOnly, "read-only", false, "discover, active and conformance only: write nothing (for production tables)")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	fs.StringVar(&o.junit, "junit", "", "also write the report as JUnit XML to `FILE` (for CI), however the run ends; the exit code is the same")
	fs.BoolVar(&o.noPace, "no-pace", false, "do not hold requests to a provisioned table's capacity")
	o.cloud.register(fs, check.DefaultTimeout)
	fs.Lookup("timeout").Usage = fmt.Sprintf("bound on the whole run, from reading the template to the last write; clean-up then has %s more, plus what the table's capacity needs for its deletes", check.DefaultCleanupTimeout)
	o.prices.register(fs)
	return strict(cmd)
}

func runCheck(ctx context.Context, o *checkOptions) error {
	r := o.run
	if o.tableSet {
		r.Stack = ""
	}
	r.Timeout, r.Pace = o.cloud.timeout, !o.noPace
	prices, err := o.prices.resolve()
	if err != nil {
		return err
	}
	r.Prices = prices
	// One deadline for the whole command — reading the template, loading the configuration,
	// every check — so nothing, not even a pipe nobody writes or an endpoint that never
	// answers, holds it past --timeout; clean-up then has its own stated bound.
	ctx, cancel := o.cloud.bound(ctx)
	defer cancel()
	// Every value is checked, the template file read, before the first AWS call.
	if err := r.Validate(ctx); err != nil {
		return usageErr("%w", err)
	}
	junit, err := createJUnit(o.junit)
	if err != nil {
		return err
	}
	// Adaptive retries slow the client down after throttling instead of only retrying: right
	// for a 1-unit table that other traffic may share.
	cfg, err := o.cloud.load(ctx, awsconf.Options{Adaptive: true})
	if err != nil {
		return junit.write(nil, err)
	}
	// The SDK's own warnings belong on the command's stderr, not the process's.
	cfg.Logger = awsconf.Logger(o.s.err)
	r.Region = cfg.Region
	// The check prices its table from the price list's cache or the shipped table: its policy
	// (VerifyPolicy) grants no pricing:GetProducts, and a check asks only what it checks.
	if r.Prices, err = o.prices.of(ctx, cfg, []string{cfg.Region}, true); err != nil {
		return junit.write(nil, err)
	}
	rep, err := check.Run(ctx, check.NewClients(cfg), r)
	return junit.write(rep, o.report(rep, err))
}

// junitFile is the --junit file, created before the first AWS call so that a path that cannot
// or must not be written (check.CreateJUnit) is a usage error while nothing has happened yet.
type junitFile struct{ f *check.JUnitFile }

// createJUnit creates (or truncates) the --junit file; nil when the flag was not given.
func createJUnit(path string) (*junitFile, error) {
	if path == "" {
		return nil, nil
	}
	f, err := check.CreateJUnit(path)
	if err != nil {
		return nil, usageErr("--junit %w", err)
	}
	return &junitFile{f}, nil
}

// write writes the report into the file, whatever the run's outcome, and returns that outcome
// unchanged: the exit code does not depend on --junit, unless the file could not be written on
// a run that otherwise succeeded. Both errors, when there are two, are said, one a line.
func (j *junitFile) write(rep *check.Report, outcome error) error {
	if j == nil {
		return outcome
	}
	err := j.f.Write(rep)
	switch {
	case err == nil:
		return outcome
	case outcome == nil:
		return failed(fmt.Errorf("--junit: %w", err))
	}
	return errors.Join(outcome, fmt.Errorf("--junit: %w", err))
}

// report prints the report and says how the run ended: 2 when it could not conclude for a reason
// of configuration (table not found, endpoint not answering, IAM refusal, a run the table's
// capacity or --timeout cannot hold), 1 when a check failed or test items remain, 130 (at the
// edge) when interrupted.
func (o *checkOptions) report(rep *check.Report, err error) error {
	if rep == nil {
		return failed(err)
	}
	var (
		de *check.DiscoveryError
		ce *check.CapacityError
		te *check.OutOfTimeError
	)
	_, denied := awsconf.AsDenied(err)
	// A discovery error or a refused run is one line; in JSON the report still comes, so a
	// script reads one shape.
	if errors.As(err, &de) || errors.As(err, &ce) {
		if o.json {
			_ = rep.WriteJSON(o.s.out)
		}
		return &exitError{exitUsage, err}
	}
	write := rep.WriteText
	if o.json {
		write = rep.WriteJSON
	}
	if werr := write(o.s.out); werr != nil {
		return failed(fmt.Errorf("write report: %w", werr))
	}
	switch {
	case denied, errors.As(err, &te):
		return &exitError{exitUsage, err}
	case err != nil: // interrupted: the edge turns this into 130
		return failed(fmt.Errorf("interrupted; clean-up ran and left %d test items", rep.LeftoverItems))
	case !rep.Passed:
		return failed(fmt.Errorf("table %s: failed: %s", rep.Table, strings.Join(failedOrLeftover(rep), ", ")))
	}
	return nil
}

func failedOrLeftover(rep *check.Report) []string {
	names := rep.Failed()
	if len(names) == 0 && rep.LeftoverItems > 0 {
		names = append(names, fmt.Sprintf("%d test items left", rep.LeftoverItems))
	}
	return names
}

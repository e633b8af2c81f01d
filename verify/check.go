package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go/logging"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
)

type checkFlags struct {
	aws         awsFlags
	prices      priceFlags
	stack       string
	table       string
	template    string
	roundtrips  int
	concurrency int
	timeout     time.Duration
	readOnly    bool
	json        bool
	noPace      bool
}

func newCheckCmd(io streams) *cobra.Command {
	f := &checkFlags{}
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Check a wallet table against its stack and prove wallet operations on it",
		Long: "check finds the stack's table (or the --table), waits until it is ACTIVE, compares it\n" +
			"with the template it was deployed from, then (unless --read-only) proves conditional\n" +
			"creates, overdraft refusal, atomic idempotent transfers and exact concurrent increments\n" +
			"on test items of its own, which it deletes before exiting, even when interrupted.\n\n" +
			"Exit codes: 0 all checks passed; 1 a check failed or test items remain; 2 bad flags,\n" +
			"configuration, a table not found, an endpoint that does not answer, an IAM refusal, or a\n" +
			"run the table's capacity cannot serve within --timeout; 130 interrupted (after clean-up).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.run(cmd, io) },
	}
	d := check.Defaults()
	fs := cmd.Flags()
	fs.StringVar(&f.stack, "stack", d.Stack, "stack whose wallet table is checked")
	fs.StringVar(&f.table, "table", "", "check this table instead of a stack's (conformance then needs --template)")
	fs.StringVar(&f.template, "template", "", "template file declaring the table (default: the stack's deployed template, then cdk.out/<stack>.template.json)")
	f.roundtrips, f.concurrency, f.timeout = d.Roundtrips, d.Concurrency, d.Timeout
	fs.Var(&boundedInt{&f.roundtrips, 1, check.MaxRoundtrips}, "roundtrips", "put+get pairs in the round-trip check")
	fs.Var(&boundedInt{&f.concurrency, 1, check.MaxConcurrency}, "concurrency", "requests in flight at once")
	fs.Var(&positiveDuration{&f.timeout}, "timeout", fmt.Sprintf("bound on the whole run, from reading the template to the last write; clean-up then has %s more, plus what the table's capacity needs for its deletes", check.DefaultCleanupTimeout))
	fs.BoolVar(&f.readOnly, "read-only", false, "discover, active and conformance only: write nothing (for production tables)")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON object")
	fs.BoolVar(&f.noPace, "no-pace", false, "do not hold requests to a provisioned table's capacity")
	f.aws.register(fs)
	f.prices.register(fs)
	return cmd
}

func (f *checkFlags) run(cmd *cobra.Command, io streams) error {
	o, err := f.options(cmd)
	if err != nil {
		return err
	}
	// One deadline for the whole command — reading the template, loading the configuration,
	// every check — so nothing, not even a pipe nobody writes or an endpoint that never
	// answers, holds it past --timeout; clean-up then has its own stated bound.
	ctx, cancel := context.WithTimeout(cmd.Context(), o.Timeout)
	defer cancel()
	// Every value is checked, the template file read, before the first AWS call.
	if err := o.Validate(ctx); err != nil {
		return usageErr("%w", err)
	}
	// Adaptive retries slow the client down after throttling instead of only retrying: right
	// for a 1-unit table that other traffic may share.
	cfg, err := f.aws.load(ctx, awsconf.Options{Adaptive: true})
	if err != nil {
		return err
	}
	// The SDK's own warnings belong on the command's stderr, not the process's.
	cfg.Logger = logging.NewStandardLogger(io.err)
	o.Region = cfg.Region
	rep, err := check.Run(ctx, check.NewClients(cfg), o)
	return f.report(io, rep, err)
}

// options turns the flags into check options. A flag given empty is refused, not taken as
// absent: `--table ""` from an unset shell variable must not check the default stack.
func (f *checkFlags) options(cmd *cobra.Command) (check.Options, error) {
	for _, fl := range []struct{ name, value, want string }{
		{"stack", f.stack, "want a stack name, such as " + check.DefaultStack},
		{"table", f.table, "want a table name: 3 to 255 characters of a-z A-Z 0-9 _ . -"},
		{"template", f.template, "want a template file"},
	} {
		if cmd.Flags().Changed(fl.name) && strings.TrimSpace(fl.value) == "" {
			return check.Options{}, usageErr("--%s %q: %s", fl.name, fl.value, fl.want)
		}
	}
	o := check.Defaults()
	if f.table != "" {
		if cmd.Flags().Changed("stack") {
			return o, usageErr("--stack %q and --table %q: give one, not both", f.stack, f.table)
		}
		o.Stack, o.Table = "", f.table
	} else {
		o.Stack = f.stack
	}
	o.Template = f.template
	o.Roundtrips, o.Concurrency, o.Timeout = f.roundtrips, f.concurrency, f.timeout
	o.ReadOnly, o.Pace = f.readOnly, !f.noPace
	prices, err := f.prices.resolve()
	if err != nil {
		return o, err
	}
	o.Prices = prices
	return o, nil
}

// report prints the report and maps Run's outcome to an exit code: 2 when the run could not
// conclude for a reason of configuration (table not found, endpoint not answering, IAM
// refusal, a run the table's capacity or --timeout cannot hold), 1 when a check failed or
// test items remain, 130 (in main) when interrupted.
func (f *checkFlags) report(io streams, rep *check.Report, err error) error {
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
		if f.json {
			_ = rep.WriteJSON(io.out)
		}
		return &exitError{exitUsage, err}
	}
	write := rep.WriteText
	if f.json {
		write = rep.WriteJSON
	}
	if werr := write(io.out); werr != nil {
		return failed(fmt.Errorf("write report: %w", werr))
	}
	switch {
	case denied, errors.As(err, &te):
		return &exitError{exitUsage, err}
	case err != nil: // interrupted: main turns this into 130
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

// boundedInt is an int flag that refuses values outside [min, max] at parse time, with a
// message that says what is allowed.
type boundedInt struct {
	p        *int
	min, max int
}

func (b *boundedInt) String() string {
	if b.p == nil {
		return "0"
	}
	return strconv.Itoa(*b.p)
}

func (b *boundedInt) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < b.min || n > b.max {
		return fmt.Errorf("want a whole number from %d to %d", b.min, b.max)
	}
	*b.p = n
	return nil
}

func (b *boundedInt) Type() string { return "int" }

// positiveDuration is a duration flag that refuses zero, negative and malformed values.
type positiveDuration struct{ p *time.Duration }

func (d *positiveDuration) String() string {
	if d.p == nil {
		return "0s"
	}
	return d.p.String()
}

func (d *positiveDuration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || v <= 0 {
		return fmt.Errorf("want a positive duration such as 90s or 2m")
	}
	*d.p = v
	return nil
}

func (d *positiveDuration) Type() string { return "duration" }

var _ pflag.Value = (*boundedInt)(nil)

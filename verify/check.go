package main

import (
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
			"Exit codes: 0 all checks passed; 1 a check failed; 2 bad flags, configuration or\n" +
			"discovery; 130 interrupted (after clean-up).",
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
	fs.Var(&positiveDuration{&f.timeout}, "timeout", "bound on the checks, from discovery to the last write (clean-up has its own)")
	fs.BoolVar(&f.readOnly, "read-only", false, "discover, active and conformance only: write nothing (for production tables)")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON object")
	fs.BoolVar(&f.noPace, "no-pace", false, "do not hold requests to a provisioned table's capacity")
	f.aws.register(fs)
	f.prices.register(fs)
	return cmd
}

func (f *checkFlags) run(cmd *cobra.Command, io streams) error {
	o := check.Defaults()
	if f.table != "" {
		if cmd.Flags().Changed("stack") {
			return usageErr("--stack %q and --table %q: give one, not both", f.stack, f.table)
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
		return err
	}
	o.Prices = prices
	// Every value is checked, the template file read, before the first AWS call.
	if err := o.Validate(); err != nil {
		return usageErr("%w", err)
	}

	ctx := cmd.Context()
	// Adaptive retries slow the client down after throttling instead of only retrying: right
	// for a 1-unit table that other traffic may share.
	cfg, err := f.aws.load(ctx, awsconf.Options{Adaptive: true})
	if err != nil {
		return err
	}
	// The SDK's own warnings belong on the command's stderr, not the process's.
	cfg.Logger = logging.NewStandardLogger(io.err)
	o.Region = cfg.Region
	clients := check.NewClients(cfg)

	rep, err := check.Run(ctx, clients, o)
	var de *check.DiscoveryError
	if errors.As(err, &de) {
		if f.json {
			_ = rep.WriteJSON(io.out)
		}
		return &exitError{exitUsage, err}
	}
	if rep == nil {
		return failed(err)
	}
	write := rep.WriteText
	if f.json {
		write = rep.WriteJSON
	}
	if werr := write(io.out); werr != nil {
		return failed(fmt.Errorf("write report: %w", werr))
	}
	switch {
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

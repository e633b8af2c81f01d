// Command verify proves a wallet deployment works, and removes what the project deployed or
// forgot, without losing data. It is flags and wiring only: the work is in internal/.
//
// Exit codes: 0 success; 1 a check failed or a planned action failed; 2 usage, configuration or
// discovery error; 130 interrupted (after clean-up).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
)

const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries the exit code up to main; the message has already been decided.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

func failed(err error) error { return &exitError{exitFailed, err} }

// streams are the command's standard files, injected so tests run commands in-process.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	io := streams{stdin, stdout, stderr}
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitOK
	}
	var ee *exitError
	code := exitUsage // cobra's own errors (unknown flag, bad value) are usage errors
	if errors.As(err, &ee) {
		code = ee.code
	}
	if ctx.Err() != nil && code != exitUsage {
		code = exitInterrupted
	}
	if err.Error() != "" {
		fmt.Fprintln(stderr, "verify:", err)
	}
	return code
}

func newRootCmd(io streams) *cobra.Command {
	check := newCheckCmd(io)
	root := &cobra.Command{
		Use:   "verify",
		Short: "Prove a wallet table deployment works; tear down and sweep what would keep billing",
		Long: "verify with no subcommand runs `verify check`: it finds the wallet table of a stack,\n" +
			"checks it against what the stack declared, and proves wallet operations work on it,\n" +
			"leaving no test data behind.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE:          check.RunE,
	}
	root.Flags().AddFlagSet(check.Flags())
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr("%w (see %s --help)", err, c.CommandPath())
	})
	root.SetOut(io.out)
	root.SetErr(io.err)
	root.AddCommand(check, newTeardownCmd(io), newSweepCmd(io), newExportCmd(io), newRestoreCmd(io), newCostCmd(io))
	return root
}

// awsFlags are the flags every command that talks to AWS shares.
type awsFlags struct {
	region  string
	profile string
}

func (f *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.region, "region", "", "AWS region (default: from the environment or profile)")
	fs.StringVar(&f.profile, "profile", "", "shared config profile (default: the SDK's default chain)")
}

// load builds the SDK configuration; any failure is a configuration error (exit 2).
func (f *awsFlags) load(ctx context.Context, o awsconf.Options) (aws.Config, error) {
	if o.Region == "" {
		o.Region = f.region
	}
	o.Profile = f.profile
	cfg, err := awsconf.Load(ctx, o)
	if err != nil {
		return aws.Config{}, &exitError{exitUsage, err}
	}
	return cfg, nil
}

// priceFlags override the written-down prices; the environment overrides them first. Every
// command that shows a monthly cost takes them.
type priceFlags struct{ rcu, wcu, gb, rru, wru, pitr, backup string }

func (f *priceFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.rcu, "price-rcu-hour", "", "US$ per provisioned RCU-hour (default $"+cost.EnvRCUHour+", else the us-east-1 list price)")
	fs.StringVar(&f.wcu, "price-wcu-hour", "", "US$ per provisioned WCU-hour (default $"+cost.EnvWCUHour+", else the us-east-1 list price)")
	fs.StringVar(&f.gb, "price-gb-month", "", "US$ per GB-month of storage (default $"+cost.EnvGBMonth+", else the us-east-1 list price)")
	fs.StringVar(&f.rru, "price-rru-million", "", "US$ per million on-demand read request units (default $"+cost.EnvRRUMillion+", else the us-east-1 list price)")
	fs.StringVar(&f.wru, "price-wru-million", "", "US$ per million on-demand write request units (default $"+cost.EnvWRUMillion+", else the us-east-1 list price)")
	fs.StringVar(&f.pitr, "price-pitr-gb-month", "", "US$ per GB-month of point-in-time recovery (default $"+cost.EnvPITRGBMonth+", else the us-east-1 list price)")
	fs.StringVar(&f.backup, "price-backup-gb-month", "", "US$ per GB-month of on-demand backups (default $"+cost.EnvBackupGBMonth+", else the us-east-1 list price)")
}

func (f *priceFlags) resolve() (cost.Prices, error) {
	env := map[string]string{}
	for _, k := range cost.EnvNames() {
		env[k] = os.Getenv(k)
	}
	p, err := cost.USEast1().Override(env)
	if err != nil {
		return cost.Prices{}, usageErr("%v", err)
	}
	// In a fixed order, so that with two bad values the same one is named on every run.
	flags := map[string]string{}
	for _, fl := range []struct{ env, name, value string }{
		{cost.EnvRCUHour, "--price-rcu-hour", f.rcu},
		{cost.EnvWCUHour, "--price-wcu-hour", f.wcu},
		{cost.EnvGBMonth, "--price-gb-month", f.gb},
		{cost.EnvRRUMillion, "--price-rru-million", f.rru},
		{cost.EnvWRUMillion, "--price-wru-million", f.wru},
		{cost.EnvPITRGBMonth, "--price-pitr-gb-month", f.pitr},
		{cost.EnvBackupGBMonth, "--price-backup-gb-month", f.backup},
	} {
		if fl.value == "" {
			continue
		}
		if _, err := cost.ParsePrice(fl.value); err != nil {
			return cost.Prices{}, usageErr("%s %q: %v", fl.name, fl.value, err)
		}
		flags[fl.env] = fl.value
	}
	if p, err = p.Override(flags); err != nil {
		return cost.Prices{}, usageErr("%v", err)
	}
	return p, nil
}

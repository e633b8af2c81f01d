// Command verify proves a wallet deployment works, and removes what the project deployed or
// forgot, without losing data. It is flags and wiring only: the work is in internal/.
//
// Every command is declared the same way: an options struct holding everything it needs, and
// newXCmd(streams, runF) that parses flags into it and calls runF: the real run, unless a test
// passes its own, to capture the parsed options without running anything (flags_test.go, one
// table for every command) or to set what no flag sets, such as the clock (sweep, cost).
//
// Exit codes, one rule for every command (exitCode): 0 success; 1 a check or a planned action
// failed; 2 usage, configuration, an endpoint that does not answer, an IAM denial, or a stack or
// table that does not exist; 130 interrupted (after clean-up).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/pricelist"
	"golang.org/x/term"
)

const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// gcPercent is the garbage collector's target for this short-lived process: the default (100)
// spent about 11 % of verify's CPU collecting a heap that peaks near 20 MiB, CPU a check on a
// busy host shares with everything else. 400 costs about 10 MiB more at the peak (measured
// whole-process, README "Performance"). A GOGC in the environment still wins.
const gcPercent = 400

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// streams are the command's standard files, injected so tests run commands in-process.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// exitError carries an exit code decided where the error arose; the message is the error's.
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

// denialHint says which policy grants what a command needs; a denied command prints it after
// the denial. Set by the command that ran (commandHint).
type denialHint interface{ hint() string }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s := streams{stdin, stdout, stderr}
	root := newRootCmd(s)
	root.SetArgs(args)
	ran, err := root.ExecuteContextC(ctx)
	code := exitCode(ctx, err)
	for _, e := range errorLines(err) {
		msg := e.Error()
		if d, ok := awsconf.AsDenied(e); ok {
			msg = d.Error()
			if h, ok := commandHint(ran); ok {
				msg += "; " + h
			}
		} else if errors.Is(e, context.DeadlineExceeded) && ctx.Err() == nil {
			msg += " (the command's --timeout ran out: the endpoint did not answer in time)"
		}
		fmt.Fprintln(s.err, "verify:", awsconf.Printable(msg))
	}
	return code
}

// errorLines are the errors to print, one a line: errors.Join's, each on its own (Printable
// would glue them into one line), anything else whole. A join is known by its message: its
// errors' messages, one a line; fmt.Errorf's several %w are one message, kept whole.
func errorLines(err error) []error {
	if err == nil || err.Error() == "" {
		return nil
	}
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		var msgs []string
		var lines []error
		for _, e := range u.Unwrap() {
			if e != nil {
				msgs = append(msgs, e.Error())
				lines = append(lines, errorLines(e)...)
			}
		}
		if strings.Join(msgs, "\n") == err.Error() {
			return lines
		}
	case interface{ Unwrap() error }:
		// A wrapper that adds nothing to the message (the exit code's) is looked through.
		if inner := u.Unwrap(); inner != nil && inner.Error() == err.Error() {
			return errorLines(inner)
		}
	}
	return []error{err}
}

// exitCode is the one rule that maps an outcome to an exit code.
func exitCode(ctx context.Context, err error) int {
	var (
		ee *exitError
		oc *org.Outcome
	)
	switch {
	case err == nil && ctx.Err() != nil:
		return exitInterrupted
	case err == nil:
		return exitOK
	case errors.As(err, &ee) && ee.code == exitUsage:
		return exitUsage
	case ctx.Err() != nil:
		return exitInterrupted // the run was interrupted; clean-up has run
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &oc) && oc.Unread:
		return exitUsage // nothing could be read or done: configuration to fix
	case errors.As(err, &oc):
		return exitFailed
	case configurationError(err):
		return exitUsage
	}
	var ran *ranError
	if errors.As(err, &ran) {
		return exitFailed
	}
	return exitUsage // cobra's own errors: unknown command or flag, bad arguments
}

// configurationError recognises what no retry and no other input can fix from here: an IAM
// denial, a stack or table that does not exist, an endpoint that cannot be reached or does not
// answer, missing credentials.
func configurationError(err error) bool {
	var (
		ce  *awsconf.ConfigError
		nf  *types.ResourceNotFoundException
		se  *smithyhttp.RequestSendError
		ne  *net.OpError
		dns *net.DNSError
	)
	if _, ok := awsconf.AsDenied(err); ok || awsconf.CredentialsRefused(err) {
		return true
	}
	return errors.As(err, &ce) || errors.As(err, &nf) || errors.Is(err, discover.ErrStackNotFound) ||
		errors.As(err, &se) || errors.As(err, &ne) || errors.As(err, &dns) ||
		errors.Is(err, context.DeadlineExceeded) // the command's --timeout: nothing answered in time
}

// ranError marks an error that arose while a command ran (not while cobra parsed it): a
// failure, unless exitCode finds it is a configuration problem.
type ranError struct{ err error }

func (e *ranError) Error() string { return e.err.Error() }
func (e *ranError) Unwrap() error { return e.err }

// command finishes declaring a subcommand the one way: no arguments, the policy a denial names,
// and runF on the options the flags fill. Every flag's value is checked as it is parsed (strict,
// in newRootCmd); the command's own PreRunE checks flags together, before runF.
func command[O any](c *cobra.Command, o *O, runF func(context.Context, *O) error, policy string) *cobra.Command {
	c.Args = cobra.NoArgs
	c.Annotations = map[string]string{policyAnnotation: policy}
	c.RunE = runE(o, runF)
	return c
}

// runE adapts a command's run to cobra, marking its errors as having arisen while running.
func runE[O any](o *O, runF func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if err := runF(cmd.Context(), o); err != nil {
			return &ranError{err}
		}
		return nil
	}
}

func newRootCmd(s streams) *cobra.Command {
	check := newCheckCmd(s, nil)
	root := &cobra.Command{
		Use:   "verify",
		Short: "Prove a wallet table deployment works; tear down and sweep what would keep billing",
		Long: "verify with no subcommand runs `verify check`: it finds the wallet table of a stack,\n" +
			"checks it against what the stack declared, and proves wallet operations work on it,\n" +
			"leaving no test data behind.",
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		PreRunE:       check.PreRunE,
		RunE:          check.RunE,
		Annotations:   check.Annotations,
	}
	root.Flags().AddFlagSet(check.Flags())
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.AddCommand(check, newTeardownCmd(s, nil), newSweepCmd(s, nil), newExportCmd(s, nil), newRestoreCmd(s, nil), newCostCmd(s, nil), newHistoryCmd(s, nil), newUndoCmd(s, nil))
	strict(root)
	return root
}

// Annotation keys a command sets for the edge.
const (
	// policyAnnotation names the managed policy that grants what the command calls.
	policyAnnotation = "policy"
	teardownPolicy   = "the TeardownPolicy (the TeardownPolicyArn output of stack WalletJanitor)"
)

// commandHint is what to attach when the command that ran was denied.
func commandHint(cmd *cobra.Command) (string, bool) {
	if cmd == nil {
		return "", false
	}
	p := cmd.Annotations[policyAnnotation]
	if p == "verify" {
		if f := cmd.Flags().Lookup("table"); f != nil && f.Changed {
			p = "the VerifyPolicy of the wallet stack that holds table " + f.Value.String() + " (its VerifyPolicyArn output)"
		} else {
			stack := "Wallet-dev"
			if f := cmd.Flags().Lookup("stack"); f != nil {
				stack = f.Value.String()
			}
			p = "the stack's VerifyPolicy (the VerifyPolicyArn output of stack " + stack + ")"
		}
	}
	if p == "" {
		return "", false
	}
	return "attach " + p + " to the credentials verify runs with", true
}

// awsFlags are the flags every command that talks to AWS shares.
type awsFlags struct {
	region  string
	profile string
	timeout time.Duration
}

// register adds --region, --profile and --timeout (with the command's own default bound).
func (f *awsFlags) register(fs *pflag.FlagSet, timeout time.Duration) {
	fs.StringVar(&f.region, "region", "", "AWS region (default: from the environment or profile)")
	f.registerProfile(fs, timeout)
}

// registerProfile adds --profile and --timeout, for a command with a --region of its own.
func (f *awsFlags) registerProfile(fs *pflag.FlagSet, timeout time.Duration) {
	fs.StringVar(&f.profile, "profile", "", "shared config profile (default: the SDK's default chain)")
	f.timeout = timeout
	fs.Var(&positiveDuration{&f.timeout}, "timeout", "bound on the whole command: an endpoint that stops answering ends it, reporting what was done")
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

// bound is the command's context with its --timeout.
func (f *awsFlags) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.timeout)
}

// start bounds the command by its --timeout and loads the configuration under that bound; the
// caller defers cancel.
func (f *awsFlags) start(ctx context.Context, o awsconf.Options) (context.Context, context.CancelFunc, aws.Config, error) {
	ctx, cancel := f.bound(ctx)
	cfg, err := f.load(ctx, o)
	return ctx, cancel, cfg, err
}

// priceFlags are the user's prices, which come first: the environment overrides the price list,
// and the flags override both. Every command that shows a monthly cost takes them: one flag per
// cost.Specs row, each read when it is parsed, so a bad or empty value is refused before anything
// else happens; and --refresh-prices, which reads the AWS Price List API again over its cache.
type priceFlags struct {
	set     map[string]string // a Spec's Env → the flag's text
	refresh bool
}

func (f *priceFlags) register(fs *pflag.FlagSet) {
	f.set = map[string]string{}
	for _, s := range cost.Specs() {
		fs.Var(&priceValue{env: s.Env, set: f.set}, s.Flag, fmt.Sprintf("%s (default $%s, else the region's price from the AWS Price List API or the shipped table; us-east-1's is $%g)", s.Help, s.Env, s.Default))
	}
	fs.BoolVar(&f.refresh, "refresh-prices", false, fmt.Sprintf("read the AWS Price List API again, even for a region whose prices were read in the last %d days (kept in the user's cache directory)", int(pricelist.MaxAge.Hours()/24)))
}

// resolve checks the user's prices (environment, then flags) before any call: us-east-1's list
// prices under them, the prices of a run that has not read its regions' yet.
func (f *priceFlags) resolve() (cost.Prices, error) {
	return f.over(cost.USEast1())
}

// over puts the user's prices over p.
func (f *priceFlags) over(p cost.Prices) (cost.Prices, error) {
	p, err := p.Override(cost.Environment(os.Getenv))
	if err != nil {
		return cost.Prices{}, usageErr("%v", err)
	}
	if p, err = p.Override(f.set); err != nil {
		return cost.Prices{}, usageErr("%v", err)
	}
	return p, nil
}

// of is the prices of regions (the first is the run's own): each region's from the AWS Price List
// API or its cache, else the shipped table, with the user's over them. offline asks no network.
func (f *priceFlags) of(ctx context.Context, cfg aws.Config, regions []string, offline bool) (cost.Prices, error) {
	p := pricelist.Resolve(ctx, pricelist.Options{Config: cfg, Regions: regions, Refresh: f.refresh, Offline: offline && !f.refresh})
	return f.over(p)
}

// priceValue is one price flag: refused when parsed if empty (an empty value would otherwise
// mean "the list price" silently) or not a price.
type priceValue struct {
	env   string
	set   map[string]string
	value string
}

func (v *priceValue) String() string { return v.value }
func (v *priceValue) Type() string   { return "usd" }

func (v *priceValue) Set(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty; give a price or leave the flag out")
	}
	if _, err := cost.ParsePrice(s); err != nil {
		return err
	}
	v.value, v.set[v.env] = s, s
	return nil
}

// decimalInt is an int flag read in base 10 only: pflag's own reads 010 as octal 8 and takes
// 1_000, where a person typing days means ten and a thousand is a typo.
type decimalInt struct{ p *int }

func (d decimalInt) String() string { return strconv.Itoa(*d.p) }
func (d decimalInt) Type() string   { return "int" }

func (d decimalInt) Set(s string) error {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
	if err != nil {
		return fmt.Errorf("want a whole number in decimal digits")
	}
	*d.p = int(n)
	return nil
}

// conflict is two flags that cannot be given together, and why, for the message.
type conflict struct{ a, b, why string }

// refuseTogether refuses, before the run, any two flags given together that cannot be: every
// command checks its pairs in its PreRunE, so the flag tests see every refusal.
func refuseTogether(cmd *cobra.Command, cs ...conflict) error {
	for _, c := range cs {
		if cmd.Flags().Changed(c.a) && cmd.Flags().Changed(c.b) {
			return usageErr("--%s and --%s cannot be used together: %s", c.a, c.b, c.why)
		}
	}
	return nil
}

// The pairs more than one command refuses.
var (
	regionOrAll   = conflict{"region", "all-regions", "pick regions, or all of them"}
	orgOrAccounts = conflict{"org", "accounts", "the organization's accounts, or the ones named"}
)

// strict makes every flag of every command refuse, as it is parsed, what pflag would take
// silently: a value given empty (--table "", --export=), which would otherwise mean "not set"
// and do something else; and a single-valued flag given twice (--region a --region b), of
// which pflag keeps the last without a word. Repeatable flags (arrays and slices) may repeat.
func strict(c *cobra.Command) *cobra.Command {
	wrap := func(f *pflag.Flag) {
		if _, done := f.Value.(*strictValue); done {
			return
		}
		t := f.Value.Type()
		repeatable := strings.HasSuffix(t, "Slice") || strings.HasSuffix(t, "Array")
		f.Value = &strictValue{Value: f.Value, repeatable: repeatable, bool: t == "bool"}
	}
	c.Flags().VisitAll(wrap)
	c.PersistentFlags().VisitAll(wrap)
	c.SetFlagErrorFunc(flagError)
	for _, sub := range c.Commands() {
		strict(sub)
	}
	return c
}

// flagError is every refusal while parsing, as a usage error that names the flag and the value
// (cut, so a 60,000-character argument is not echoed whole) and what is wrong.
func flagError(c *cobra.Command, err error) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		return usageErr("--%s %q: %v (see %s --help)", iv.GetFlag().Name, cut(iv.GetValue()), iv.Unwrap(), c.CommandPath())
	}
	return usageErr("%w (see %s --help)", err, c.CommandPath())
}

// strictValue is a flag's value that refuses an empty value and, unless repeatable, a second
// one.
type strictValue struct {
	pflag.Value
	repeatable, bool bool
	set              bool
}

func (v *strictValue) Set(s string) error {
	if v.set && !v.repeatable {
		return fmt.Errorf("given twice: give it once (pflag would silently take the last)")
	}
	if strings.TrimSpace(s) == "" && !v.bool {
		return fmt.Errorf("empty; give a value or leave the flag out")
	}
	v.set = true
	return v.Value.Set(s)
}

// IsBoolFlag keeps a boolean flag's --name form (no value) working through the wrapper.
func (v *strictValue) IsBoolFlag() bool { return v.bool }

// cut shortens a value for a message: a 60,000-character argument is not echoed whole.
func cut(s string) string {
	const most = 80
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

// render writes a report as indented JSON or as text. A report the JSON encoder refuses (a
// figure that is not finite) is still written, as text, and the error says why: a report of
// what was deleted must never be lost to its format. Prices are bounded where they are read, and
// cost.Round keeps every figure finite; this is the last guard.
func render(w io.Writer, asJSON bool, v any, text func(io.Writer) error) error {
	if !asJSON {
		return text(w)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		if terr := text(w); terr != nil {
			return fmt.Errorf("write report: %w", errors.Join(err, terr))
		}
		return failed(fmt.Errorf("the report above could not be written as JSON, so it was written as text: %w", err))
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// isTerminal reports whether a standard stream is a terminal (only real files can be).
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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

// positiveDuration is a duration flag that refuses zero, negative, overflowing and malformed
// values (Go's own parser refuses overflow).
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
		return fmt.Errorf("want a positive duration such as 90s, 2m or 1h")
	}
	*d.p = v
	return nil
}

func (d *positiveDuration) Type() string { return "duration" }

var _ pflag.Value = (*boundedInt)(nil)

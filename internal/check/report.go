package check

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// Report is the outcome of one run.
type Report struct {
	Stack  string
	Table  string
	Region string
	RunID  string
	Passed bool
	// ReadOnly says the writing checks were not asked for.
	ReadOnly bool
	// Refused says why the writing checks were refused before they started (the table's
	// capacity cannot serve them within --timeout), when they were.
	Refused string
	// Stopped says why the run ended before its last check, if it did; the check that was
	// cut short carries the same reason. Clean-up runs whatever the reason.
	Stopped Stop
	// Denied is the IAM refusal that stopped the run, when one did.
	Denied *awsconf.Denied
	Checks []Result

	stoppedIn, deniedIn string // the checks whose own error stopped the run, was the refusal
	// Differences are conformance's drift findings, also summarised in its detail.
	Differences []Difference
	Roundtrips  Latency
	// Throttled counts request attempts refused as throttled, retried or not.
	Throttled int64
	// LeftoverItems counts test items clean-up could not prove deleted.
	LeftoverItems int
	// MonthlyCost is the table's cost per month at rest; nil until the table was described.
	MonthlyCost *cost.Estimate
	// PriceNote says when the prices are not the table's region's own.
	PriceNote string
}

// Result is one check's outcome.
type Result struct {
	Name   string
	Passed bool
	// Stopped is set when the check did not finish: then it is not passed, but not failed
	// either, since it proved nothing about the table.
	Stopped  Stop
	Detail   string
	Duration time.Duration
}

// Stop is why a check, and the run, ended early. None is a verdict on the table.
type Stop string

const (
	Interrupted  Stop = "interrupted"   // Ctrl-C or SIGTERM
	OutOfTime    Stop = "out of time"   // --timeout ran out
	AccessDenied Stop = "access denied" // IAM refused a call: a configuration problem
)

// Difference is one field where the live table is not what was declared.
type Difference struct {
	Field    string `json:"field"`
	Declared string `json:"declared"`
	Live     string `json:"live"`
}

func (d Difference) String() string {
	return fmt.Sprintf("%s declared %s, live %s", d.Field, d.Declared, d.Live)
}

// Latency is the round-trip check's measurement: a pair is one put and one consistent get.
type Latency struct {
	Count     int
	P50, P99  time.Duration
	PerSecond float64
}

// Check returns the named result, if that check ran.
func (r *Report) Check(name string) (Result, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Result{}, false
}

// Failed lists the names of the checks that finished and failed: a check that was stopped
// (interrupted, out of time, denied) is not among them.
func (r *Report) Failed() []string {
	var names []string
	for _, c := range r.Checks {
		if !c.Passed && c.Stopped == "" {
			names = append(names, c.Name)
		}
	}
	return names
}

func (r *Report) allPassed() bool {
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return len(r.Checks) > 0 && r.Stopped == "" && r.LeftoverItems == 0
}

// do runs one check, times it and records it. A failure's detail says what went wrong; a
// check cut short says why instead, and stops the run: after an interruption, a timeout or an
// IAM refusal, no other check can prove anything.
func (r *Report) do(ctx context.Context, name string, fn func(context.Context) (string, error)) error {
	return r.record(ctx, name, fn, stopOf)
}

// record runs and records a check; stop classifies its error.
func (r *Report) record(ctx context.Context, name string, fn func(context.Context) (string, error), stop func(context.Context, error) Stop) error {
	start := time.Now()
	detail, err := fn(ctx)
	res := Result{Name: name, Passed: err == nil, Detail: detail, Duration: time.Since(start)}
	r.add(res, err, stop(ctx, err), true)
	return err
}

// add records a check that ran. why is set when it was cut short; own says it was cut short by
// its own error, not because another check running beside it was.
func (r *Report) add(res Result, err error, why Stop, own bool) {
	if err != nil {
		msg := err.Error()
		if res.Stopped = why; why != "" {
			msg = string(why) + ": " + msg
			if r.Stopped == "" {
				r.Stopped = why
			}
			if own && r.stoppedIn == "" {
				r.stoppedIn = res.Name
			}
		}
		if d, ok := awsconf.AsDenied(err); ok && r.Denied == nil {
			r.Denied, r.deniedIn = d, res.Name
		}
		res.Detail = join(res.Detail, msg)
	}
	r.Checks = append(r.Checks, res)
}

// step is a check to run: its name and what it does.
type step struct {
	name string
	fn   func(context.Context) (string, error)
}

// doTogether runs independent checks at once and records them in the order given. The first
// one cut short (interrupted, out of time, refused) stops the others still running: they are
// recorded as stopped for the same reason, naming it, since no check must go on calling after
// a refusal.
func (r *Report) doTogether(ctx context.Context, steps []step) {
	tctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type outcome struct {
		res Result
		err error
		why Stop
		own bool
	}
	out := make([]outcome, len(steps))
	var wg sync.WaitGroup
	for i, s := range steps {
		wg.Go(func() {
			start := time.Now()
			detail, err := s.fn(tctx)
			o := outcome{res: Result{Name: s.name, Passed: err == nil, Detail: detail}, err: err, why: stopOf(ctx, err), own: true}
			var by *stoppedBy
			switch {
			case err == nil:
			// Cut short because another check stopped: the shared context says so, whatever
			// the cut left of the error (a body read cancelled mid-way is a deserialization
			// error carrying the cause, not context.Canceled).
			case o.why == "" && tctx.Err() != nil && errors.As(context.Cause(tctx), &by):
				o.err, o.why, o.own = fmt.Errorf("not finished: %s was stopped first", by.check), by.why, false
			case o.why != "":
				cancel(&stoppedBy{s.name, o.why})
			}
			o.res.Duration = time.Since(start)
			out[i] = o
		})
	}
	wg.Wait()
	for _, o := range out {
		r.add(o.res, o.err, o.why, o.own)
	}
}

// stoppedBy is why checks running together were cancelled: one of them was cut short.
type stoppedBy struct {
	check string
	why   Stop
}

func (e *stoppedBy) Error() string { return fmt.Sprintf("%s %s", e.check, e.why) }

// stopOf tells why err cut a check short, or "" when err is the check's verdict. The deadline
// is read from err, not ctx: a check may conclude after waiting the whole --timeout (a table
// never ACTIVE), and the pacer refuses a wait the deadline would cut before the deadline.
func stopOf(ctx context.Context, err error) Stop {
	_, denied := awsconf.AsDenied(err)
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return Interrupted
	case denied:
		return AccessDenied
	case errors.Is(err, context.DeadlineExceeded):
		return OutOfTime
	}
	return ""
}

func join(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "; ")
}

// The JSON shape is a contract with scripts: names are snake_case, durations milliseconds.
type jsonReport struct {
	Table         string       `json:"table"`
	Stack         string       `json:"stack,omitempty"`
	Region        string       `json:"region"`
	RunID         string       `json:"run_id"`
	Passed        bool         `json:"passed"`
	Interrupted   bool         `json:"interrupted,omitempty"`
	Stopped       Stop         `json:"stopped,omitempty"`
	Checks        []jsonCheck  `json:"checks"`
	Differences   []Difference `json:"differences,omitempty"`
	Roundtrips    jsonLatency  `json:"roundtrips"`
	Throttled     int64        `json:"throttled"`
	LeftoverItems int          `json:"leftover_items"`
	// MonthlyCostUSD is absent when discovery failed before the table could be priced.
	MonthlyCostUSD *float64 `json:"monthly_cost_usd,omitempty"`
	PriceNote      string   `json:"price_note,omitempty"`
}

type jsonCheck struct {
	Name       string  `json:"name"`
	Passed     bool    `json:"passed"`
	Stopped    Stop    `json:"stopped,omitempty"`
	Detail     string  `json:"detail"`
	DurationMS float64 `json:"duration_ms"`
}

type jsonLatency struct {
	Count     int     `json:"count"`
	P50MS     float64 `json:"p50_ms"`
	P99MS     float64 `json:"p99_ms"`
	PerSecond float64 `json:"per_second"`
}

func ms(d time.Duration) float64 { return round2(float64(d) / float64(time.Millisecond)) }

func round2(f float64) float64 { return math.Round(f*100) / 100 }

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	out := jsonReport{
		Table: r.Table, Stack: r.Stack, Region: r.Region, RunID: r.RunID,
		Passed: r.Passed, Interrupted: r.Stopped == Interrupted, Stopped: r.Stopped,
		Checks:      make([]jsonCheck, len(r.Checks)),
		Differences: r.Differences,
		Roundtrips: jsonLatency{Count: r.Roundtrips.Count, P50MS: ms(r.Roundtrips.P50), P99MS: ms(r.Roundtrips.P99),
			PerSecond: round2(r.Roundtrips.PerSecond)},
		Throttled:     r.Throttled,
		LeftoverItems: r.LeftoverItems,
		PriceNote:     r.PriceNote,
	}
	if r.MonthlyCost != nil {
		usd := cost.Round(r.MonthlyCost.Total)
		out.MonthlyCostUSD = &usd
	}
	for i, c := range r.Checks {
		out.Checks[i] = jsonCheck{Name: c.Name, Passed: c.Passed, Stopped: c.Stopped, Detail: c.Detail, DurationMS: ms(c.Duration)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes the report for a person: one line per check, then the measurements.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	where := r.Region
	if r.Stack != "" {
		where = "stack " + r.Stack + ", " + where
	}
	fmt.Fprintf(&b, "Table %s (%s), run %s\n\n", orNone(r.Table), where, r.RunID)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tRESULT\tTIME\tDETAIL")
	for _, c := range r.Checks {
		res := "PASS"
		switch {
		case c.Stopped != "":
			res = "STOPPED"
		case !c.Passed:
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, res, c.Duration.Round(time.Millisecond), c.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Differences) > 0 {
		fmt.Fprintln(&b, "\nDrift (field: declared → live):")
		for _, d := range r.Differences {
			fmt.Fprintf(&b, "  %s: %s → %s\n", d.Field, d.Declared, d.Live)
		}
	}
	if l := r.Roundtrips; l.Count > 0 {
		fmt.Fprintf(&b, "\nLatency: %d put+get pairs, p50 %s, p99 %s, %.1f pairs/s\n", l.Count, round(l.P50), round(l.P99), l.PerSecond)
	}
	fmt.Fprintf(&b, "Throttled requests: %d. Test items left behind: %d.\n", r.Throttled, r.LeftoverItems)
	if c := r.MonthlyCost; c != nil {
		fmt.Fprintf(&b, "Monthly cost at rest: $%.2f (capacity $%.2f, storage $%.2f)", c.Total, c.Capacity, c.Storage)
		if r.PriceNote != "" {
			fmt.Fprintf(&b, "; %s", r.PriceNote)
		}
		fmt.Fprintln(&b, ".")
	}
	switch failed := r.Failed(); {
	case r.Stopped != "":
		fmt.Fprintf(&b, "%s during %s; %s.\n", strings.ToUpper(string(r.Stopped)), r.stoppedIn, r.cleanupSummary())
	case r.Passed:
		fmt.Fprintf(&b, "PASS: all %d checks passed.\n", len(r.Checks))
	default:
		fmt.Fprintf(&b, "FAIL: %d of %d checks failed (%s).\n", len(failed), len(r.Checks), strings.Join(failed, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Report) cleanupSummary() string {
	if _, ok := r.Check(Cleanup); !ok {
		return "nothing was written"
	}
	return fmt.Sprintf("clean-up ran and left %d test items", r.LeftoverItems)
}

func round(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

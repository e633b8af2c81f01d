// Package deploycheck is the check inside the deploy: verify's checks (internal/check) run by
// the wallet stack's own custom resource, so that a deployment whose table is not what it
// declares, or does not behave as a wallet, fails and CloudFormation rolls it back.
//
// The function accepts any event. A CloudFormation custom resource request (it has a
// ResponseURL) is answered there, SUCCESS or FAILED with a Reason that names each failed check
// and its detail, bounded to fit the stack events; anything else ({} from a person or a test,
// a trigger's payload) just runs the check. Either way the check's result is the response, and
// a failed check is also the invocation's error.
package deploycheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aws/aws-lambda-go/cfn"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Config is what the function knows of its stack, all from its environment.
type Config struct {
	Table    string
	Stack    string
	Declared wallet.Config
	// Concurrency is the checks' concurrency; 0: verify's default.
	Concurrency int
}

// ConfigFromEnv reads the environment the wallet stack sets (wallet.EnvCheck*), naming any
// variable that is missing or bad.
func ConfigFromEnv(getenv func(string) (string, bool)) (Config, error) {
	var c Config
	var errs []error
	need := func(name string) string {
		v, ok := getenv(name)
		if !ok || v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
		return v
	}
	c.Table, c.Stack = need(wallet.EnvCheckTable), need(wallet.EnvCheckStack)
	if v := need(wallet.EnvCheckDeclared); v != "" {
		d, err := wallet.ParseContextJSON(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%s: %w", wallet.EnvCheckDeclared, v, err))
		}
		c.Declared = d
	}
	if v, ok := getenv(wallet.EnvCheckConcurrency); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > check.MaxConcurrency {
			errs = append(errs, fmt.Errorf("%s=%q: want a whole number from 1 to %d", wallet.EnvCheckConcurrency, v, check.MaxConcurrency))
		}
		c.Concurrency = n
	}
	if c.Table != "" && !wallet.ValidTableName(c.Table) {
		errs = append(errs, fmt.Errorf("%s=%q: not a DynamoDB table name", wallet.EnvCheckTable, c.Table))
	}
	return c, errors.Join(errs...)
}

// Options turn the config into one run of the checks: the table by name, the declared spec in
// place of a template, read-only on prod, bounded by what the invocation has left.
func (c Config) Options(ctx context.Context, region string) check.Options {
	o := check.Defaults()
	o.Stack, o.Table, o.TableFrom = "", c.Table, "the stack "+c.Stack
	spec := discover.Declared(c.Declared)
	o.Declared, o.DeclaredFrom = &spec, fmt.Sprintf("the spec stack %s declares (%s)", c.Stack, wallet.EnvCheckDeclared)
	o.ReadOnly = c.Declared.Retained()
	if c.Concurrency > 0 {
		o.Concurrency = c.Concurrency
	}
	o.Region = region
	o.Timeout = checkTimeout(ctx, o.CleanupTimeout)
	return o
}

// answerMargin is kept back from the invocation's time for logging and answering
// CloudFormation: a function that times out never answers, and the stack waits for its
// ServiceTimeout.
const answerMargin = 10 * time.Second

// checkTimeout is the checks' bound: what the invocation has left, less clean-up's own bound
// and the time to answer. Without a deadline (a direct call), the CLI's default.
func checkTimeout(ctx context.Context, cleanup time.Duration) time.Duration {
	d, ok := ctx.Deadline()
	if !ok {
		return check.DefaultTimeout
	}
	return max(time.Until(d)-cleanup-answerMargin, check.MinTimeout)
}

// Result is the function's response.
type Result struct {
	Passed bool `json:"passed"`
	// Skipped says why the checks did not run (a Delete, or a rollback to an older template).
	Skipped string `json:"skipped,omitempty"`
	// Reason is what CloudFormation was told: each failed check and its detail, bounded.
	Reason string `json:"reason"`
	// Report is the checks' report, as `verify --json` prints it.
	Report json.RawMessage `json:"report,omitempty"`
}

// MaxReason bounds the Reason: CloudFormation refuses a response over 4,096 bytes, and the
// stack events keep about that much; the ids and status need the rest.
const MaxReason = 3000

// Deps are the function's connections: the checks, and the HTTP client that answers
// CloudFormation's pre-signed URL.
type Deps struct {
	Check func(ctx context.Context, o check.Options) (*check.Report, error)
	HTTP  *http.Client
	Log   io.Writer
	// DeniedRetry is how long a Create keeps trying when IAM refuses a call: the role and its
	// VerifyPolicy are created by the same deployment a moment before, and IAM takes seconds
	// to make a new permission visible everywhere. A refusal that outlasts it is reported.
	DeniedRetry time.Duration
	// Pause waits between those tries (time.After when nil).
	Pause func(ctx context.Context, d time.Duration) error
}

// DefaultDeniedRetry and deniedPause: IAM's propagation takes seconds, rarely a minute.
const (
	DefaultDeniedRetry = time.Minute
	deniedPause        = 10 * time.Second
)

// Handle runs one invocation.
func Handle(ctx context.Context, d Deps, cfg Config, region string, raw json.RawMessage) (Result, error) {
	var ev cfn.Event
	// Any event is accepted: one that is not an object simply is not CloudFormation's.
	_ = json.Unmarshal(raw, &ev)
	res := Result{Passed: true}
	if why := skip(ev); why != "" {
		res.Skipped, res.Reason = why, "check not run: "+why
	} else {
		res = run(ctx, d, cfg, region, ev.RequestType == cfn.RequestCreate)
	}
	fmt.Fprintf(d.Log, "%s\n", mustJSON(res))
	if ev.ResponseURL != "" {
		if err := answer(ctx, d.HTTP, ev, res); err != nil {
			return res, err
		}
	}
	if !res.Passed {
		return res, errors.New(res.Reason)
	}
	return res, nil
}

// skip says why a request needs no check: a Delete (the table goes, or stays, whatever it is),
// and an Update whose Deployed time goes back, which is CloudFormation rolling back to the
// previous template after a failure: failing that too would leave the stack
// UPDATE_ROLLBACK_FAILED.
func skip(ev cfn.Event) string {
	switch ev.RequestType {
	case cfn.RequestDelete:
		return "CloudFormation is deleting the custom resource"
	case cfn.RequestUpdate:
		now, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(ev.ResourceProperties[wallet.CheckPropDeployed]))
		before, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(ev.OldResourceProperties[wallet.CheckPropDeployed]))
		if err1 == nil && err2 == nil && now.Before(before) {
			return "CloudFormation is rolling back to an earlier template"
		}
	}
	return ""
}

// run runs the checks and turns the report into a result. A Create refused by IAM is tried
// again within DeniedRetry: nothing was written by a refused run that clean-up did not remove.
func run(ctx context.Context, d Deps, cfg Config, region string, create bool) Result {
	start := time.Now()
	rep, err := d.Check(ctx, cfg.Options(ctx, region))
	for create && denied(err) && time.Since(start)+deniedPause <= d.DeniedRetry && timeFor(ctx, deniedPause+check.DefaultCleanupTimeout+answerMargin+time.Minute) {
		fmt.Fprintf(d.Log, "IAM refused a call (%v); a new role's permissions take seconds to propagate: trying again in %s\n", err, deniedPause)
		if perr := d.pause(ctx, deniedPause); perr != nil {
			break
		}
		rep, err = d.Check(ctx, cfg.Options(ctx, region))
	}
	res := Result{}
	if rep != nil {
		var b bytes.Buffer
		if jerr := rep.WriteJSON(&b); jerr == nil {
			res.Report = json.RawMessage(bytes.TrimSpace(b.Bytes()))
		}
	}
	res.Passed = err == nil && rep != nil && rep.Passed
	res.Reason = Reason(cfg, rep, err)
	return res
}

// timeFor reports whether the invocation has more than need left (always, without a deadline).
func timeFor(ctx context.Context, need time.Duration) bool {
	d, ok := ctx.Deadline()
	return !ok || time.Until(d) > need
}

func denied(err error) bool {
	_, ok := awsconf.AsDenied(err)
	return ok
}

func (d Deps) pause(ctx context.Context, p time.Duration) error {
	if d.Pause != nil {
		return d.Pause(ctx, p)
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(p):
		return nil
	}
}

// Reason is the verdict in one line: passed, or each failed or stopped check with its detail,
// and why the run could not conclude; at most MaxReason bytes.
func Reason(cfg Config, rep *check.Report, err error) string {
	var parts []string
	passed := err == nil && rep != nil && rep.Passed
	if rep != nil {
		for _, c := range rep.Checks {
			if !c.Passed {
				parts = append(parts, c.Name+": "+c.Detail)
			}
		}
		if rep.LeftoverItems > 0 {
			parts = append(parts, fmt.Sprintf("%d test items may remain (TTL removes them within the hour)", rep.LeftoverItems))
		}
	}
	if err != nil {
		parts = append(parts, err.Error())
	}
	var msg string
	if passed {
		n := 0
		if rep != nil {
			n = len(rep.Checks)
		}
		msg = fmt.Sprintf("wallet check of table %s (stack %s) passed: %d checks", cfg.Table, cfg.Stack, n)
	} else {
		msg = fmt.Sprintf("wallet check of table %s (stack %s) failed: %s", cfg.Table, cfg.Stack, strings.Join(parts, " | "))
	}
	return Bound(msg, MaxReason)
}

// Bound cuts s to at most n bytes on a character boundary, saying how much was cut (the
// function's log has the whole report).
func Bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = " … (%d bytes more in the function's log)"
	cut := n - len(fmt.Sprintf(more, len(s)))
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf(more, len(s)-cut)
}

// answerTimeout bounds the PUT to the pre-signed URL; it runs even when the invocation's
// context has ended, since an unanswered request holds the stack until ServiceTimeout.
const answerTimeout = 20 * time.Second

// answer tells CloudFormation the verdict. The physical id stays the same across updates
// (a new one would read as a replacement and make CloudFormation delete the old one).
//
// The document is aws-lambda-go's cfn.Response; it is sent here rather than by its Send, which
// uses the default HTTP client with no deadline.
func answer(ctx context.Context, hc *http.Client, ev cfn.Event, res Result) error {
	r := cfn.NewResponse(&ev)
	r.Status, r.Reason, r.PhysicalResourceID = cfn.StatusSuccess, res.Reason, ev.PhysicalResourceID
	if !res.Passed {
		r.Status = cfn.StatusFailed
	}
	if r.PhysicalResourceID == "" {
		r.PhysicalResourceID = ev.LogicalResourceID
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, ev.ResponseURL, bytes.NewReader(mustJSON(r)))
	if err != nil {
		return fmt.Errorf("answer CloudFormation: %w", err)
	}
	// The URL is pre-signed for an empty content type.
	req.Header.Del("Content-Type")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("answer CloudFormation (%s): %w", r.Status, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answer CloudFormation (%s): HTTP %s", r.Status, resp.Status)
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return b
}

// Fail answers an invocation that cannot run the checks at all (no configuration, no
// credentials): CloudFormation is told why, if it asked, and the error is the invocation's.
func Fail(ctx context.Context, d Deps, raw json.RawMessage, cause error) (Result, error) {
	var ev cfn.Event
	_ = json.Unmarshal(raw, &ev)
	res := Result{Reason: Bound(cause.Error(), MaxReason)}
	if why := skip(ev); why != "" {
		// A delete or a rollback must never be held up by the check that could not run.
		res = Result{Passed: true, Skipped: why, Reason: "check not run: " + why}
		cause = nil
	}
	fmt.Fprintf(d.Log, "%s\n", mustJSON(res))
	if ev.ResponseURL != "" {
		if err := answer(ctx, d.HTTP, ev, res); err != nil {
			return res, errors.Join(cause, err)
		}
	}
	if cause != nil {
		return res, cause
	}
	return res, nil
}

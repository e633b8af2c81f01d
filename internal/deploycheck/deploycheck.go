// Package deploycheck is the check inside the deploy: verify's checks (internal/check) run by
// the wallet stack's own custom resource, so that a deployment whose table is not what it
// declares, or does not behave as a wallet, fails and CloudFormation rolls it back.
//
// The event is parsed before anything runs. A CloudFormation custom resource request is
// answered at its ResponseURL (https only), SUCCESS or FAILED with a Reason that names each
// failed check and its detail, the answer bounded to CloudFormation's 4,096 bytes; a request
// that is malformed runs nothing and is answered FAILED saying why. A JSON object with none of
// CloudFormation's keys ({} from a person or a test) just runs the check. Either way the
// check's result is the response, and a failed check is also the invocation's error.
package deploycheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

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
	// Skipped says why the checks did not run (a Delete, or CloudFormation rolling back).
	Skipped string `json:"skipped,omitempty"`
	// Reason is what CloudFormation was told: each failed check and its detail, bounded (the
	// answer cuts it further, if need be, to fit CloudFormation's 4,096 bytes once encoded).
	Reason string `json:"reason"`
	// Report is the checks' report, as `verify --json` prints it.
	Report json.RawMessage `json:"report,omitempty"`
}

// MaxReason bounds the Reason in the function's result and error; the answer to CloudFormation
// is bounded on its encoded size (responseBody).
const MaxReason = 3000

// Stacks is the one CloudFormation call the function makes: its own stack's status, which is
// how it tells CloudFormation rolling back from a deploy.
type Stacks interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// Deps are the function's connections: the checks, its stack's status, and the HTTP client
// that answers CloudFormation's pre-signed URL.
type Deps struct {
	Check func(ctx context.Context, o check.Options) (*check.Report, error)
	// Stacks is nil when no AWS configuration could be loaded: an Update then cannot be told
	// from a rollback, and fails saying so.
	Stacks Stacks
	HTTP   *http.Client
	// ResponseURLs says where an answer may go.
	ResponseURLs ResponseURLs
	Log          io.Writer
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

// Handle runs one invocation. The event is parsed before anything runs; a malformed one runs
// nothing and is answered FAILED with the reason, or, with no ResponseURL that may be answered,
// only logged and returned as the invocation's error.
func Handle(ctx context.Context, d Deps, cfg Config, region string, raw json.RawMessage) (Result, error) {
	req, err := ParseRequest(raw, d.ResponseURLs)
	if err == nil && req.CloudFormation {
		if name, _ := StackName(req.Event.StackID); name != cfg.Stack {
			err = fmt.Errorf("the request is for stack %s (StackId %s); this function checks stack %s", name, req.Event.StackID, cfg.Stack)
		}
	}
	if err != nil {
		return d.refuse(ctx, req, err)
	}
	var res Result
	why, err := d.skip(ctx, req)
	switch {
	case err != nil:
		res.Reason = Bound(fmt.Sprintf("wallet check of table %s (stack %s) not run: %v", cfg.Table, cfg.Stack, err), MaxReason)
	case why != "":
		res = Result{Passed: true, Skipped: why, Reason: "check not run: " + why}
	default:
		res = run(ctx, d, cfg, region, req.Event.RequestType == cfn.RequestCreate)
	}
	return d.finish(ctx, req, res, nil)
}

// finish logs the result, answers CloudFormation if it asked, and returns the result with the
// invocation's error: cause, else the check's failure.
func (d Deps) finish(ctx context.Context, req Request, res Result, cause error) (Result, error) {
	fmt.Fprintf(d.Log, "%s\n", mustJSON(res))
	if cause == nil && !res.Passed {
		cause = errors.New(res.Reason)
	}
	if req.CloudFormation {
		if err := answer(ctx, d.HTTP, d.ResponseURLs, req.answerTo, req.Event, res); err != nil {
			return res, errors.Join(cause, err)
		}
	}
	return res, cause
}

// refuse answers a malformed event: FAILED with the reason where it may be answered, and the
// reason as the invocation's error. Nothing runs.
func (d Deps) refuse(ctx context.Context, req Request, err error) (Result, error) {
	err = fmt.Errorf("deploy check refused the event: %w", err)
	res := Result{Reason: Bound(err.Error(), MaxReason)}
	if req.answerTo == nil {
		// Nowhere to answer: CloudFormation, if it sent this, waits for the resource's
		// ServiceTimeout; the log and the invocation's error say why.
		fmt.Fprintf(d.Log, "%s\n", mustJSON(res))
		return res, fmt.Errorf("%w (not answered: no ResponseURL that may be answered)", err)
	}
	req.CloudFormation = true
	return d.finish(ctx, req, res, err)
}

// rollbackStatus is the stack's status while CloudFormation rolls an update back, the one time
// it sends the custom resource an Update that must not fail: failing it would leave the stack
// UPDATE_ROLLBACK_FAILED. (A failed Create rolls back by a Delete.)
const rollbackStatus = cftypes.StackStatusUpdateRollbackInProgress

// skip says why a request needs no check: a Delete (the table goes, or stays, whatever it is),
// and an Update sent while CloudFormation rolls back, by the stack's own status, not by the
// order of the Deployed times, which an older cdk.out redeployed or a clock behind also
// reverses. When that status cannot be read, it is an error: the Update is neither checked nor
// passed unchecked.
func (d Deps) skip(ctx context.Context, req Request) (string, error) {
	switch {
	case !req.CloudFormation:
		return "", nil
	case req.Event.RequestType == cfn.RequestDelete:
		return "CloudFormation is deleting the custom resource", nil
	case req.Event.RequestType != cfn.RequestUpdate:
		return "", nil
	}
	status, err := d.stackStatus(ctx, req.Event.StackID)
	if err != nil {
		name, _ := StackName(req.Event.StackID)
		return "", fmt.Errorf("cannot tell whether CloudFormation is rolling back stack %s, so the update is not passed unchecked: %w; "+
			"if this was a rollback, the stack stops at UPDATE_ROLLBACK_FAILED: continue it with "+
			"aws cloudformation continue-update-rollback --stack-name %s --resources-to-skip %s",
			name, err, name, req.Event.LogicalResourceID)
	}
	if status == rollbackStatus {
		return fmt.Sprintf("CloudFormation is rolling back to the previous template (stack %s)", status), nil
	}
	return "", nil
}

// stackStatus is the status of the stack the request came from.
func (d Deps) stackStatus(ctx context.Context, stackID string) (cftypes.StackStatus, error) {
	if d.Stacks == nil {
		return "", errors.New("no AWS configuration to describe the stack with")
	}
	out, err := d.Stacks.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackID)})
	if err != nil {
		return "", fmt.Errorf("describe stack %s: %w", stackID, err)
	}
	if len(out.Stacks) != 1 || aws.ToString(out.Stacks[0].StackId) != stackID {
		return "", fmt.Errorf("describe stack %s: %d stacks came back, not that one", stackID, len(out.Stacks))
	}
	return out.Stacks[0].StackStatus, nil
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
	// The error that ended the run is said once: a table that is not found is both discover's
	// detail and the run's error.
	if err != nil && !strings.Contains(strings.Join(parts, " | "), err.Error()) {
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

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return b
}

// Fail answers an invocation that cannot run the checks at all (no configuration, no
// credentials): CloudFormation is told why, if it asked, and the error is the invocation's. A
// Delete, and an Update while the stack rolls back, still succeed: neither may be held up by a
// check that could not run.
func Fail(ctx context.Context, d Deps, raw json.RawMessage, cause error) (Result, error) {
	req, err := ParseRequest(raw, d.ResponseURLs)
	if err != nil {
		return d.refuse(ctx, req, errors.Join(err, cause))
	}
	res := Result{Reason: Bound(cause.Error(), MaxReason)}
	why, err := d.skip(ctx, req)
	switch {
	case err != nil:
		cause = errors.Join(cause, err)
		res.Reason = Bound(cause.Error(), MaxReason)
	case why != "":
		res, cause = Result{Passed: true, Skipped: why, Reason: "check not run: " + why}, nil
	}
	return d.finish(ctx, req, res, cause)
}

package wallet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Context keys of the check inside the deploy: the wallet stack carries verify's checks as a
// function that a custom resource runs on every deploy (see infra/deploycheck.go).
const (
	CtxVerifyOnDeploy = "verifyOnDeploy"
	CtxVerifyTimeout  = "verifyTimeout"
	CtxVerifyArch     = "verifyArch"
)

// Bounds of verifyTimeout: the function's own timeout. Under a minute leaves the checks no
// time once clean-up's bound is kept back; Lambda runs a function for 15 minutes at most.
const (
	DefaultVerifyTimeout = 5 * time.Minute
	MinVerifyTimeout     = time.Minute
	MaxVerifyTimeout     = 15 * time.Minute
	DefaultVerifyArch    = ArchARM64
)

// Environment of the deploy check function, set by the wallet stack: the table (a Ref, so the
// function checks the table this deployment made), the stack, and the declared shape as the
// context contract's keys and values (Config.Context), which the function reads back with
// ParseConfig. Nothing else configures it.
const (
	EnvCheckTable    = "WALLET_CHECK_TABLE"
	EnvCheckStack    = "WALLET_CHECK_STACK"
	EnvCheckDeclared = "WALLET_CHECK_DECLARED"
	// EnvCheckConcurrency, optional, is the checks' --concurrency (default 4). The stack never
	// sets it; the local cloud does (1), as for verify there: moto's UpdateItem takes no lock.
	EnvCheckConcurrency = "WALLET_CHECK_CONCURRENCY"
)

// CheckArgLoopbackHTTP is the deploy check function's one command-line flag (--NAME): it lets
// the function answer an http ResponseURL on a loopback IP, the local harness's stand-in for
// CloudFormation's pre-signed S3 URL (internal/localcloud/cfngap), which runs the deployed
// binary under aws-lambda-rie and passes it. A flag, not a variable: Lambda runs bootstrap with
// no arguments, so no configuration of a deployed function can turn it on.
const CheckArgLoopbackHTTP = "test-only-loopback-http-response-url"

// CheckPropDeployed is the deploy check's custom resource property that holds the synth's
// time: it changes with every synth, so CloudFormation sends an Update, and the check runs, on
// every deploy. (A rollback is told by the stack's status, not by this time going back: an
// older cdk.out redeployed, or a clock behind, also sends it back.)
const CheckPropDeployed = "Deployed"

// DeployCheckConfig is the validated shape of the check inside the deploy.
type DeployCheckConfig struct {
	Enabled bool
	Timeout time.Duration // the function's timeout, whole seconds
	Arch    Arch
}

// ParseDeployCheckConfig validates the deploy check's context, every bad value in one pass.
func ParseDeployCheckConfig(get Lookup) (DeployCheckConfig, error) {
	var errs []error
	bad := func(key, value, allowed string) { errs = append(errs, &ContextError{key, value, allowed}) }

	c := DeployCheckConfig{Enabled: true, Timeout: DefaultVerifyTimeout, Arch: DefaultVerifyArch}
	if v, ok := get(CtxVerifyOnDeploy); ok {
		b, err := strconv.ParseBool(v)
		if err != nil || (v != "true" && v != "false") {
			bad(CtxVerifyOnDeploy, v, "want true or false")
		} else {
			c.Enabled = b
		}
	}
	if v, ok := get(CtxVerifyTimeout); ok {
		allowed := fmt.Sprintf("want a duration from %s to %s (Lambda's maximum) in whole seconds, such as 5m or 90s",
			FormatDuration(MinVerifyTimeout), FormatDuration(MaxVerifyTimeout))
		d, err := ParseDuration(v)
		if err != nil || d < MinVerifyTimeout || d > MaxVerifyTimeout || d%time.Second != 0 {
			bad(CtxVerifyTimeout, v, allowed)
		} else {
			c.Timeout = d
		}
	}
	if v, ok := get(CtxVerifyArch); ok {
		if a, err := ParseArch(v); err != nil {
			bad(CtxVerifyArch, v, err.Error())
		} else {
			c.Arch = a
		}
	}
	if len(errs) > 0 {
		return DeployCheckConfig{}, joinErrors(errs)
	}
	return c, nil
}

// Context writes the config back as the context contract's keys and values, so that
// ParseConfig(c.Context()) is c again: how the declared shape reaches the deploy check.
func (c Config) Context() map[string]string {
	m := map[string]string{CtxStage: string(c.Stage), CtxBilling: string(c.Billing)}
	if c.Billing == BillingProvisioned {
		m[CtxReadCapacity] = strconv.Itoa(c.ReadCapacity)
		m[CtxWriteCapacity] = strconv.Itoa(c.WriteCapacity)
	}
	if c.Stage == StageDev {
		m[CtxExpiresAfter] = FormatDuration(c.ExpiresAfter)
	}
	if c.TableName != "" {
		m[CtxTableName] = c.TableName
	}
	return m
}

// ParseContextJSON reads a Config from a JSON object of context keys and string values (what
// Context wrote), validated as ParseConfig validates -c values.
func ParseContextJSON(s string) (Config, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Config{}, fmt.Errorf("want a JSON object of context keys and string values: %w", err)
	}
	return ParseConfig(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

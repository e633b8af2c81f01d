package contract

import (
	"fmt"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
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
// stack contract's keys and values (Stack.Context), which the function reads back with
// ParseStackJSON. Nothing else configures it.
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

// DeployCheck is the validated shape of the check inside the deploy.
type DeployCheck struct {
	Enabled bool
	Timeout time.Duration // the function's timeout, whole seconds
	Arch    Arch
}

var allowedVerifyTimeout = fmt.Sprintf("want a duration from %s to %s (Lambda's maximum) in whole seconds, such as 5m or 90s",
	wallet.FormatDuration(MinVerifyTimeout), wallet.FormatDuration(MaxVerifyTimeout))

var deployCheckKeys = []key[DeployCheck]{
	{name: CtxVerifyOnDeploy, def: "true", allowed: "want true or false",
		read: func(c *DeployCheck, v string) (err error) { c.Enabled, err = boolean(v); return err }},
	{name: CtxVerifyTimeout, def: wallet.FormatDuration(DefaultVerifyTimeout), allowed: allowedVerifyTimeout,
		read: func(c *DeployCheck, v string) error {
			d, err := wallet.ParseDuration(v)
			if err != nil || d < MinVerifyTimeout || d > MaxVerifyTimeout || d%time.Second != 0 {
				return refused("%s", allowedVerifyTimeout)
			}
			c.Timeout = d
			return nil
		}},
	{name: CtxVerifyArch, def: string(DefaultVerifyArch), allowed: "want one of arm64, x86_64",
		read: func(c *DeployCheck, v string) error { return archRead(&c.Arch, v) }},
}

// ParseDeployCheck validates the deploy check's context, every bad value in one pass.
func ParseDeployCheck(get Lookup) (DeployCheck, error) {
	c := DeployCheck{Enabled: true, Timeout: DefaultVerifyTimeout, Arch: DefaultVerifyArch}
	if err := parse(get, &c, deployCheckKeys, false); err != nil {
		return DeployCheck{}, err
	}
	return c, nil
}

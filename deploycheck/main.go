// Command deploycheck is the wallet stack's check inside the deploy (provided.al2023, handler
// bootstrap): wiring only. Each invocation runs verify's checks on the stack's table against
// the spec the stack declared, both from the environment the stack sets (wallet.EnvCheck*),
// and answers CloudFormation when the event is a custom resource request
// (internal/deploycheck). Built by the CDK app like the janitor (see infra/functioncode.go).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/deploycheck"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func main() {
	rules, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploycheck:", err)
		os.Exit(2)
	}
	lambda.Start(handler(os.LookupEnv, os.Stdout, rules))
}

// parseArgs reads the command line: nothing on Lambda; under the local harness, the one flag
// (wallet.CheckArgLoopbackHTTP) that lets the function answer it over http on 127.0.0.1.
func parseArgs(args []string) (deploycheck.ResponseURLs, error) {
	var r deploycheck.ResponseURLs
	fs := flag.NewFlagSet("deploycheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&r.LoopbackHTTP, wallet.CheckArgLoopbackHTTP, false, "")
	if err := fs.Parse(args); err != nil {
		return r, fmt.Errorf("%w: the only argument is --%s, for the local harness; Lambda passes none", err, wallet.CheckArgLoopbackHTTP)
	}
	if fs.NArg() > 0 {
		return r, fmt.Errorf("unexpected argument %q: the only argument is --%s, for the local harness; Lambda passes none", fs.Arg(0), wallet.CheckArgLoopbackHTTP)
	}
	return r, nil
}

// handler reads its configuration on every invocation, so a bad variable fails the deploy
// naming it (and answers CloudFormation saying so) rather than crashing at start-up, which
// would leave the stack waiting for an answer until the custom resource's ServiceTimeout.
func handler(getenv func(string) (string, bool), log io.Writer, rules deploycheck.ResponseURLs) func(context.Context, json.RawMessage) (deploycheck.Result, error) {
	return func(ctx context.Context, ev json.RawMessage) (deploycheck.Result, error) {
		deps := deploycheck.Deps{HTTP: http.DefaultClient, Log: log, DeniedRetry: deploycheck.DefaultDeniedRetry, ResponseURLs: rules}
		cfg, cfgErr := deploycheck.ConfigFromEnv(getenv)
		if cfgErr != nil {
			cfgErr = fmt.Errorf("deploy check not configured: %w", cfgErr)
		}
		// Loaded even when the configuration is bad: the stack's status is what tells a
		// rollback, which must not be held up, from a deploy, which must not pass unchecked.
		awsCfg, err := awsconf.Load(ctx, awsconf.Options{Adaptive: true})
		if err == nil {
			deps.Stacks = cloudformation.NewFromConfig(awsCfg)
		}
		if err := errors.Join(cfgErr, err); err != nil {
			return deploycheck.Fail(ctx, deps, ev, err)
		}
		deps.Check = func(ctx context.Context, o check.Options) (*check.Report, error) {
			return check.Run(ctx, check.NewClients(awsCfg), o)
		}
		return deploycheck.Handle(ctx, deps, cfg, awsCfg.Region, ev)
	}
}

// Command deploycheck is the wallet stack's check inside the deploy (provided.al2023, handler
// bootstrap): wiring only. Each invocation runs verify's checks on the stack's table against
// the spec the stack declared, both from the environment the stack sets (wallet.EnvCheck*),
// and answers CloudFormation when the event is a custom resource request
// (internal/deploycheck). Built by the CDK app like the janitor (see infra/functioncode.go).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/deploycheck"
)

func main() {
	lambda.Start(handler(os.LookupEnv, os.Stdout))
}

// handler reads its configuration on every invocation, so a bad variable fails the deploy
// naming it (and answers CloudFormation saying so) rather than crashing at start-up, which
// would leave the stack waiting for an answer until the custom resource's ServiceTimeout.
func handler(getenv func(string) (string, bool), log io.Writer) func(context.Context, json.RawMessage) (deploycheck.Result, error) {
	return func(ctx context.Context, ev json.RawMessage) (deploycheck.Result, error) {
		deps := deploycheck.Deps{HTTP: http.DefaultClient, Log: log, DeniedRetry: deploycheck.DefaultDeniedRetry}
		cfg, err := deploycheck.ConfigFromEnv(getenv)
		if err != nil {
			return deploycheck.Fail(ctx, deps, ev, fmt.Errorf("deploy check not configured: %w", err))
		}
		awsCfg, err := awsconf.Load(ctx, awsconf.Options{Adaptive: true})
		if err != nil {
			return deploycheck.Fail(ctx, deps, ev, err)
		}
		deps.Check = func(ctx context.Context, o check.Options) (*check.Report, error) {
			return check.Run(ctx, check.NewClients(awsCfg), o)
		}
		return deploycheck.Handle(ctx, deps, cfg, awsCfg.Region, ev)
	}
}

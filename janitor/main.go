// Command janitor is the WalletJanitor Lambda function (provided.al2023, handler bootstrap):
// wiring only. Each scheduled event runs internal/janitor once in the function's own account
// and region, configured by the environment the janitor stack sets (wallet.EnvJanitor*) and
// nothing else. Built by the CDK app with -tags lambda.norpc (see infra/janitorcode.go).
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func main() {
	if _, org := os.LookupEnv(wallet.EnvJanitorOrg); org {
		lambda.Start(orgHandler(os.LookupEnv, os.Stdout)) // the organization's janitor (org.go)
		return
	}
	lambda.Start(handler(os.LookupEnv, os.Stdout))
}

// handler reads the configuration on every invocation rather than once at start-up: a bad
// variable then fails each run with an error naming it, which the Errors alarm sees, instead of
// an init crash loop. The report is the response; an error (any failed action) makes Lambda
// count the invocation in Errors.
func handler(getenv func(string) (string, bool), log io.Writer) func(context.Context, events.EventBridgeEvent) (janitor.Report, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (janitor.Report, error) {
		cfg, err := wallet.JanitorConfigFromEnv(getenv)
		if err != nil {
			return janitor.Report{}, fmt.Errorf("janitor not configured: %w", err)
		}
		awsCfg, err := awsconf.Load(ctx, awsconf.Options{})
		if err != nil {
			return janitor.Report{}, err
		}
		return janitor.Run(ctx, janitor.Deps{Clients: janitor.NewClients(awsCfg), Log: log}, cfg)
	}
}

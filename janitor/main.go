// Command janitor is the WalletJanitor Lambda function (provided.al2023, handler bootstrap):
// wiring only. Each event runs internal/janitor once, configured by the environment the janitor
// stack sets (contract.EnvJanitor*) and nothing else: a scheduled run over the function's own
// account and region, or, for the organization's janitor (WALLET_JANITOR_ORG), the scheduled
// run over the organization (central) or the units of one SQS batch (worker). Built by the CDK
// app with -tags lambda.norpc (see infra/functioncode.go).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
)

func main() {
	lambda.Start(handler(os.LookupEnv, os.Stdout))
}

// handler reads the configuration on every invocation rather than once at start-up: a bad
// variable then fails each run with an error naming it, which the Errors alarm sees, instead of
// an init crash loop. The report is the response; an error (any failed action) makes Lambda
// count the invocation in Errors (and, for the worker, SQS deliver the batch again: a unit's
// run is safe to repeat).
func handler(getenv func(string) (string, bool), log io.Writer) func(context.Context, json.RawMessage) (janitor.Report, error) {
	return func(ctx context.Context, ev json.RawMessage) (janitor.Report, error) {
		cfg, err := janitor.ConfigFromEnv(getenv, "")
		if err != nil {
			return janitor.Report{}, fmt.Errorf("janitor not configured: %w", err)
		}
		awsCfg, err := awsconf.Load(ctx, awsconf.Options{})
		if err != nil {
			return janitor.Report{}, err
		}
		if !cfg.Org {
			cfg.Regions = []string{awsCfg.Region} // the function's own
		}
		d := janitor.Deps{Base: awsCfg, STS: sts.NewFromConfig(awsCfg), Topic: sns.NewFromConfig(awsCfg), Log: log}
		if !cfg.Org {
			return janitor.Run(ctx, d, cfg)
		}
		d.Organizations, d.Queue = organizations.NewFromConfig(awsCfg), sqs.NewFromConfig(awsCfg)
		switch role, _ := getenv(contract.EnvJanitorOrg); role {
		case contract.JanitorOrgCentral:
			return janitor.Run(ctx, d, cfg)
		case contract.JanitorOrgWorker:
			msgs, err := units(ev)
			if err != nil {
				return janitor.Report{}, err
			}
			return janitor.RunWorker(ctx, d, cfg, msgs)
		default:
			return janitor.Report{}, fmt.Errorf("janitor not configured: invalid environment %s=%q: want %s or %s",
				contract.EnvJanitorOrg, role, contract.JanitorOrgCentral, contract.JanitorOrgWorker)
		}
	}
}

// units reads the worker's SQS batch: each message one unit, exactly the shape the scheduled
// run sends (an unknown field, trailing data or null is not a unit).
func units(ev json.RawMessage) ([]janitor.UnitMessage, error) {
	var batch events.SQSEvent
	if err := json.Unmarshal(ev, &batch); err != nil {
		return nil, fmt.Errorf("worker: the event is not an SQS event: %v", err)
	}
	var msgs []janitor.UnitMessage
	for _, rec := range batch.Records {
		m, err := janitor.ParseUnitMessage(rec.Body)
		if err != nil {
			return nil, fmt.Errorf("worker: message %s: %w", rec.MessageId, err)
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

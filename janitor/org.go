package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// orgHandler is the organization's janitor: the scheduled function (WALLET_JANITOR_ORG=central)
// runs over the organization and queues what one run cannot reach; the worker (=worker) runs
// the units of one SQS batch. An error makes Lambda count the invocation in Errors (and, for
// the worker, SQS deliver the batch again: a unit's run is safe to repeat).
func orgHandler(getenv func(string) (string, bool), log io.Writer) func(context.Context, json.RawMessage) (janitor.OrgReport, error) {
	return func(ctx context.Context, ev json.RawMessage) (janitor.OrgReport, error) {
		cfg, err := janitor.OrgConfigFromEnv(getenv)
		if err != nil {
			return janitor.OrgReport{}, fmt.Errorf("janitor not configured: %w", err)
		}
		awsCfg, err := awsconf.Load(ctx, awsconf.Options{})
		if err != nil {
			return janitor.OrgReport{}, err
		}
		d := janitor.OrgDeps{Base: awsCfg, Organizations: organizations.NewFromConfig(awsCfg), STS: sts.NewFromConfig(awsCfg),
			Queue: sqs.NewFromConfig(awsCfg), Topic: sns.NewFromConfig(awsCfg), Log: log}
		switch role, _ := getenv(wallet.EnvJanitorOrg); role {
		case wallet.JanitorOrgCentral:
			return janitor.RunOrg(ctx, d, cfg)
		case wallet.JanitorOrgWorker:
			var batch events.SQSEvent
			if err := json.Unmarshal(ev, &batch); err != nil {
				return janitor.OrgReport{}, fmt.Errorf("worker: not an SQS event: %w", err)
			}
			var msgs []janitor.UnitMessage
			for _, rec := range batch.Records {
				var m janitor.UnitMessage
				if err := json.Unmarshal([]byte(rec.Body), &m); err != nil {
					return janitor.OrgReport{}, fmt.Errorf("worker: message %s is not a unit: %w", rec.MessageId, err)
				}
				msgs = append(msgs, m)
			}
			return janitor.RunWorker(ctx, d, cfg, msgs)
		default:
			return janitor.OrgReport{}, fmt.Errorf("janitor not configured: invalid environment %s=%q: want %s or %s",
				wallet.EnvJanitorOrg, role, wallet.JanitorOrgCentral, wallet.JanitorOrgWorker)
		}
	}
}

package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// janitorBenchTables is how many tables one janitor run looks at: a hundred orphans it marks and
// then backs up and deletes, and thirty decoys (another project's, kept) it must leave alone.
const (
	janitorBenchOrphans = 100
	janitorBenchDecoys  = 30
)

// BenchmarkJanitorRun130 times the janitor's two kinds of run over 130 tables on moto, in-process
// (the same code the deployed function runs; moto cannot execute a Lambda): the run that marks
// the 100 orphans, and the run after the grace that backs each up, waits for it to be AVAILABLE
// and deletes it. ns/op is the deleting run.
func BenchmarkJanitorRun130(b *testing.B) {
	b.StopTimer()
	localcloud.Moto(b).SetEnv(b)
	ctx := context.Background()
	var marking, deleting time.Duration
	for i := 0; i < b.N; i++ {
		region := []string{"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"}[i%4]
		cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
		if err != nil {
			b.Fatal(err)
		}
		db := dynamodb.NewFromConfig(cfg)
		var g errgroup.Group
		g.SetLimit(8)
		for n := range janitorBenchOrphans + janitorBenchDecoys {
			g.Go(func() error {
				tags := map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}
				if n >= janitorBenchOrphans {
					tags[wallet.TagProject] = "other"
				}
				_, err := db.CreateTable(ctx, wallet.TableInput(fmt.Sprintf("janitor-bench-%d-%03d", i, n), tags))
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		topic, err := sns.NewFromConfig(cfg).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(fmt.Sprintf("janitor-bench-%d", i))})
		if err != nil {
			b.Fatal(err)
		}
		acfg, err := awsconf.Load(ctx, awsconf.Options{Region: region})
		if err != nil {
			b.Fatal(err)
		}
		now := time.Now()
		deps := janitor.Deps{Base: acfg, STS: sts.NewFromConfig(acfg), Now: func() time.Time { return now }}
		key, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
		if err != nil {
			b.Fatal(err)
		}
		jc := janitor.Config{Janitor: contract.Janitor{Mode: contract.JanitorDelete, Grace: time.Hour, TopicArn: aws.ToString(topic.TopicArn),
			MarkKey: aws.ToString(key.KeyMetadata.Arn)}, Regions: []string{region}}

		start := time.Now()
		run, err := janitor.Run(ctx, deps, jc)
		marking += time.Since(start)
		if err != nil || len(run.Units) != 1 || len(run.Units[0].Marked) != janitorBenchOrphans {
			b.Fatalf("marking run: %+v (%v)", run.Units, err)
		}
		later := now.Add(2 * time.Hour)
		deps.Now = func() time.Time { return later }
		b.StartTimer()
		start = time.Now()
		run, err = janitor.Run(ctx, deps, jc)
		deleting += time.Since(start)
		b.StopTimer()
		if err != nil || len(run.Units) != 1 {
			b.Fatalf("deleting run: %v", err)
		}
		if r := run.Units[0]; r.Failures() != 0 || len(r.JanitorBackups) != janitorBenchOrphans {
			b.Fatalf("deleting run: %d backups, %d failures (%v)", len(r.JanitorBackups), r.Failures(), err)
		}
	}
	b.ReportMetric(marking.Seconds()/float64(b.N), "s/mark-run")
	b.ReportMetric(deleting.Seconds()/float64(b.N), "s/delete-run")
	b.Logf("one run over %d tables (%d orphans, %d decoys): marking %.1f s, backing up and deleting %.1f s",
		janitorBenchOrphans+janitorBenchDecoys, janitorBenchOrphans, janitorBenchDecoys, marking.Seconds()/float64(b.N), deleting.Seconds()/float64(b.N))
}

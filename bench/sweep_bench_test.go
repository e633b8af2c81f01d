package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// sweepBenchTables is how many forgotten tables each contender deletes.
const sweepBenchTables = 30

// BenchmarkSweepDelete30 deletes 30 orphaned wallet tables on moto three ways, each in its own
// region so none sees another's tables:
//
//   - cli: a sequential `aws dynamodb delete-table` per table, names given (no discovery, no
//     waiting): what a person's shell loop does;
//   - sdk: a bare parallel SDK loop (8 at a time), names given, DeleteTable + TableNotExists;
//   - sweep: the real sweep, discovery included (every ListTables page, DescribeTable and tags per
//     table, the stack lookup, pricing), then deletion with the waiter.
//
// ns/op is the sweep alone. The metrics are the three times and the ratios; the goal is a sweep
// at least 10× faster than the CLI loop.
func BenchmarkSweepDelete30(b *testing.B) {
	b.StopTimer() // starting moto is not the sweep's time
	if _, err := exec.LookPath("aws"); err != nil {
		b.Fatalf("the aws CLI is needed for the comparison: pip install awscli (%v)", err)
	}
	localcloud.Moto(b).SetEnv(b)
	ctx := context.Background()
	const cliRegion, sdkRegion, sweepRegion = "us-east-2", "us-west-2", "eu-west-1"
	var cli, sdk, swept time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		names := map[string][]string{}
		for _, r := range []string{cliRegion, sdkRegion, sweepRegion} {
			names[r] = sweepBenchCreate(b, r, fmt.Sprintf("bench-%d", i))
		}

		// AWS_ENDPOINT_URL from SetEnv: aws CLI v1 (botocore ≥ 1.31) honours it. An empty
		// AWS_PROFILE, which keeps the SDK off a developer's profile, is a missing profile to it.
		var cliEnv []string
		for _, kv := range os.Environ() {
			if kv != "AWS_PROFILE=" {
				cliEnv = append(cliEnv, kv)
			}
		}
		start := time.Now()
		for _, n := range names[cliRegion] {
			cmd := exec.Command("aws", "dynamodb", "delete-table", "--table-name", n, "--region", cliRegion, "--output", "text")
			cmd.Env = cliEnv
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("aws dynamodb delete-table %s: %v\n%s", n, err, out)
			}
		}
		cli = time.Since(start)
		sweepBenchEmpty(b, cliRegion)

		db := dynamodb.NewFromConfig(sweepBenchConfig(b, sdkRegion))
		start = time.Now()
		var g errgroup.Group
		g.SetLimit(8)
		for _, n := range names[sdkRegion] {
			g.Go(func() error {
				if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(n)}); err != nil {
					return err
				}
				return dynamodb.NewTableNotExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(n)}, time.Minute)
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		sdk = time.Since(start)
		sweepBenchEmpty(b, sdkRegion)

		c := sweep.NewRegionClients(sweepBenchConfig(b, sweepRegion))
		// moto loads its CloudFormation backend on first use (≈1.3 s here); the DynamoDB one
		// every contender uses is already loaded by the set-up. Load both alike.
		if _, err := c.CloudFormation.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start = time.Now()
		found := sweep.Survey(ctx, c, sweep.Filter{}, sweep.Options{})
		plan := sweep.NewPlan([]sweep.Inventory{found}, sweep.Filter{}, cost.USEast1(), false)
		r := sweep.Act(ctx, plan, map[string]sweep.RegionClients{sweepRegion: c}, sweep.Options{})
		swept = time.Since(start)
		b.StopTimer()
		if len(r.Candidates) != sweepBenchTables || r.Failures() != 0 {
			b.Fatalf("sweep: %d candidates, %d failures", len(r.Candidates), r.Failures())
		}
		sweepBenchEmpty(b, sweepRegion)
	}
	b.ReportMetric(cli.Seconds(), "cli-s")
	b.ReportMetric(sdk.Seconds(), "sdk-s")
	b.ReportMetric(swept.Seconds(), "sweep-s")
	b.ReportMetric(cli.Seconds()/swept.Seconds(), "x-faster-than-cli")
	b.ReportMetric(swept.Seconds()/sdk.Seconds(), "sweep/sdk")
	if cli < 10*swept {
		b.Logf("below the goal: the sweep is %.1f× the CLI loop, want ≥ 10×", cli.Seconds()/swept.Seconds())
	}
}

func sweepBenchConfig(b *testing.B, region string) aws.Config {
	b.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(region))
	if err != nil {
		b.Fatal(err)
	}
	return cfg
}

// sweepBenchCreate makes the forgotten tables: tagged Project=wallet, their stack long gone.
func sweepBenchCreate(b *testing.B, region, prefix string) []string {
	b.Helper()
	db := dynamodb.NewFromConfig(sweepBenchConfig(b, region))
	names := make([]string, sweepBenchTables)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%02d", prefix, i)
		g.Go(func() error {
			_, err := db.CreateTable(context.Background(), wallet.TableInput(names[i], map[string]string{
				wallet.TagProject: wallet.ProjectName,
				wallet.TagStack:   "Wallet-long-gone",
			}))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatalf("create tables in %s: %v", region, err)
	}
	return names
}

// sweepBenchEmpty proves a contender really deleted every table.
func sweepBenchEmpty(b *testing.B, region string) {
	b.Helper()
	db := dynamodb.NewFromConfig(sweepBenchConfig(b, region))
	out, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{})
	if err != nil {
		b.Fatal(err)
	}
	if len(out.TableNames) != 0 {
		b.Fatalf("%s still has %d tables: %v", region, len(out.TableNames), out.TableNames)
	}
}

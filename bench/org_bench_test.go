package bench

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

const (
	orgBenchAccounts = 16
	orgBenchOrphans  = 5 // per account
)

// orgBenchLoop is what people do today without --org: a shell loop that assumes the role in
// each account with the aws CLI and runs the single-account sweep there.
const orgBenchLoop = `
set -eu
verify=$1; region=$2; shift 2
for acct in "$@"; do
  set -- $(aws sts assume-role --role-arn "arn:aws:iam::$acct:role/OrganizationAccountAccessRole" \
      --role-session-name sweep --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
  AWS_ACCESS_KEY_ID=$1 AWS_SECRET_ACCESS_KEY=$2 AWS_SESSION_TOKEN=$3 \
      "$verify" sweep --yes --region "$region" --json >/dev/null
done
`

// BenchmarkOrgSweep16Accounts deletes 5 orphans in each of 16 member accounts on moto two ways,
// each in its own region so neither sees the other's tables: the shell loop above (aws CLI
// AssumeRole + `verify sweep --yes`, account after account), and one `verify sweep --org --yes`
// (which also sweeps the management account, empty there). Both are the built verify binary,
// timed whole; both must leave the 80 tables gone. The goal is --org at least 4× faster.
func BenchmarkOrgSweep16Accounts(b *testing.B) {
	b.StopTimer()
	if _, err := exec.LookPath("aws"); err != nil {
		b.Fatalf("the aws CLI is needed for the comparison: pip install awscli (%v)", err)
	}
	localcloud.Moto(b).SetEnv(b)
	verify, _ := verifyBenchBuild(b)
	o := fixture.NewOrg(b, "bench", orgBenchAccounts)
	const loopRegion, orgRegion = "us-east-2", "eu-west-1"
	var loop, orgRun time.Duration
	for i := 0; i < b.N; i++ {
		for _, r := range []string{loopRegion, orgRegion} {
			orgBenchCreate(b, o.Members, r, fmt.Sprintf("bench-%d", i))
		}

		cmd := exec.Command("bash", append([]string{"-c", orgBenchLoop, "loop", verify, loopRegion}, o.Members...)...)
		cmd.Env = verifyBenchEnv()
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("shell loop: %v\n%s", err, out)
		}
		loop = time.Since(start)
		orgBenchGone(b, o.Members, loopRegion)

		cmd = exec.Command(verify, "sweep", "--org", "--yes", "--region", orgRegion, "--json")
		cmd.Env = verifyBenchEnv()
		b.StartTimer()
		start = time.Now()
		out, err := cmd.CombinedOutput()
		orgRun = time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatalf("verify sweep --org: %v\n%s", err, out)
		}
		if n := strings.Count(string(out), `"action": "deleted"`); n != orgBenchAccounts*orgBenchOrphans {
			b.Fatalf("verify sweep --org deleted %d tables, want %d", n, orgBenchAccounts*orgBenchOrphans)
		}
		orgBenchGone(b, o.Members, orgRegion)
	}
	b.ReportMetric(loop.Seconds(), "loop-s")
	b.ReportMetric(orgRun.Seconds(), "org-s")
	b.ReportMetric(loop.Seconds()/orgRun.Seconds(), "x-faster-than-loop")
	if loop < 4*orgRun {
		b.Logf("below the goal: --org is %.1f× the shell loop, want ≥ 4×", loop.Seconds()/orgRun.Seconds())
	}
}

// orgBenchCreate makes the orphans in every account: tagged Project=wallet, their stack gone.
func orgBenchCreate(b *testing.B, accounts []string, region, prefix string) {
	b.Helper()
	var g errgroup.Group
	g.SetLimit(8)
	for _, acct := range accounts {
		c := fixture.InAccount(b, acct, org.DefaultRole, region)
		for j := range orgBenchOrphans {
			g.Go(func() error {
				_, err := c.DynamoDB.CreateTable(context.Background(), wallet.TableInput(fmt.Sprintf("%s-%s-%d", prefix, acct, j), map[string]string{
					wallet.TagProject: wallet.ProjectName,
					wallet.TagStack:   "Wallet-long-gone",
				}))
				return err
			})
		}
	}
	if err := g.Wait(); err != nil {
		b.Fatalf("create tables in %s: %v", region, err)
	}
}

// orgBenchGone proves every account's tables in region are gone.
func orgBenchGone(b *testing.B, accounts []string, region string) {
	b.Helper()
	for _, acct := range accounts {
		c := fixture.InAccount(b, acct, org.DefaultRole, region)
		out, err := c.DynamoDB.ListTables(context.Background(), &dynamodb.ListTablesInput{})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.TableNames) != 0 {
			b.Fatalf("account %s, %s: %d tables left: %v", acct, region, len(out.TableNames), out.TableNames)
		}
	}
}

// BenchmarkJanitorOrg16Accounts is the organization's janitor over the same shape of
// organization: 16 member accounts with 5 orphans each and the management account, one region,
// in-process (the code the deployed functions run). One run marks the 80; a second, after the
// grace, backs each up in its own account and deletes it. The metrics are each run's seconds per
// (account, region) unit: what one 15-minute run can reach is 15 minutes over them.
func BenchmarkJanitorOrg16Accounts(b *testing.B) {
	b.StopTimer()
	localcloud.Moto(b).SetEnv(b)
	o := fixture.NewOrg(b, "janitor-bench", orgBenchAccounts)
	const region = "us-east-1"
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{Region: region})
	if err != nil {
		b.Fatal(err)
	}
	d := janitor.Deps{Base: cfg, Organizations: organizations.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg), Topic: discardTopic{}}
	key, err := kms.NewFromConfig(cfg).CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		b.Fatal(err)
	}
	oc := janitor.Config{Org: true, Janitor: contract.Janitor{Mode: contract.JanitorDelete, Grace: time.Hour, TopicArn: "arn:aws:sns:us-east-1:123456789012:bench",
		MarkKey: aws.ToString(key.KeyMetadata.Arn)},
		Role: contract.JanitorMemberRole, Regions: []string{region}, UnitsPerRun: 1000}
	var mark, del time.Duration
	units := 0
	for i := 0; i < b.N; i++ {
		orgBenchCreate(b, o.Members, region, fmt.Sprintf("janitor-%d", i))
		now := time.Now()
		d.Now = func() time.Time { return now }
		b.StartTimer()
		start := time.Now()
		r, err := janitor.Run(context.Background(), d, oc)
		mark = time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		units = len(r.Units)
		marked := 0
		for _, u := range r.Units {
			marked += len(u.Marked)
		}
		if marked != orgBenchAccounts*orgBenchOrphans {
			b.Fatalf("marked %d, want %d", marked, orgBenchAccounts*orgBenchOrphans)
		}
		later := now.Add(2 * time.Hour)
		d.Now = func() time.Time { return later }
		b.StartTimer()
		start = time.Now()
		if _, err := janitor.Run(context.Background(), d, oc); err != nil {
			b.Fatal(err)
		}
		del = time.Since(start)
		b.StopTimer()
		orgBenchGone(b, o.Members, region)
	}
	b.ReportMetric(float64(units), "units")
	b.ReportMetric(mark.Seconds(), "mark-s")
	b.ReportMetric(del.Seconds(), "backup+delete-s")
	b.ReportMetric(mark.Seconds()/float64(units), "mark-s/unit")
	b.ReportMetric(del.Seconds()/float64(units), "delete-s/unit")
}

// discardTopic takes the digest and sends nothing: the bench measures the run, not SNS.
type discardTopic struct{}

func (discardTopic) Publish(context.Context, *sns.PublishInput, ...func(*sns.Options)) (*sns.PublishOutput, error) {
	return &sns.PublishOutput{}, nil
}

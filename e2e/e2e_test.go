// Package e2e runs the project the way its users do: the pinned CDK CLI bootstraps and deploys
// the wallet stacks into the local cloud (moto), the verify binary — built from this checkout —
// checks them, and `cdk destroy` removes them. Nothing here is faked.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cdkcli"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// env is one local cloud, bootstrapped, with a verify binary built from this checkout.
type env struct {
	cloud  *localcloud.Server
	cdk    cdkcli.CLI
	verify string
	ddb    *dynamodb.Client
	cfg    aws.Config
}

func setup(t *testing.T) *env {
	t.Helper()
	root := localcloud.ModuleRoot()
	cloud := localcloud.Moto(t)
	cloud.SetEnv(t)
	e := &env{cloud: cloud, verify: filepath.Join(t.TempDir(), "verify")}

	if out, err := exec.Command("go", "build", "-o", e.verify, filepath.Join(root, "verify")).CombinedOutput(); err != nil {
		t.Fatalf("build verify: %v\n%s", err, out)
	}
	var log bytes.Buffer
	e.cdk = cdkcli.CLI{Root: root, Env: cloud.Env(), Out: &log, Output: t.TempDir(), App: appBin}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("CDK CLI output:\n%s", log.String())
		}
	})
	timed(t, "cdk bootstrap", func() error { return e.cdk.Bootstrap(t.Context(), "123456789012", localcloud.Region) })

	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	e.ddb = dynamodb.NewFromConfig(cfg)
	return e
}

// deploy runs `cdk deploy`, then fills moto's CloudFormation gaps (TTL, PITR and the table's
// auto scaling, which real CloudFormation applies and moto does not; see
// internal/localcloud/cfngap).
func (e *env) deploy(t *testing.T, stack string, context map[string]string) {
	t.Helper()
	timed(t, "cdk deploy "+stack, func() error { return e.cdk.Deploy(t.Context(), stack, context) })
	if err := cfngap.Apply(t.Context(), e.cfg, stack); err != nil {
		t.Fatal(err)
	}
}

// destroy removes the auto scaling deploy registered, as CloudFormation's DeleteStack would and
// moto's does not (cfngap.DeleteAutoScaling), then runs `cdk destroy`.
func (e *env) destroy(t *testing.T, stack string) {
	t.Helper()
	if err := cfngap.DeleteAutoScaling(t.Context(), e.cfg, stack); err != nil {
		t.Fatal(err)
	}
	timed(t, "cdk destroy "+stack, func() error { return e.cdk.Destroy(t.Context(), stack, nil) })
}

// timed runs a step, fails the test on error, and logs its wall time for the closing figures.
func timed(t *testing.T, what string, f func() error) {
	t.Helper()
	start := time.Now()
	if err := f(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%-28s %6.1fs", what, time.Since(start).Seconds())
}

// runVerify runs the verify binary and returns its exit code and output.
func (e *env) runVerify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return e.runVerifyWith(t, 3*time.Minute, nil, args...)
}

// runVerifyWith runs the verify binary with env added to the local cloud's (later entries
// win: a user's credentials), and fails the test if it has not exited within hangGuard.
func (e *env) runVerifyWith(t *testing.T, hangGuard time.Duration, env []string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.verify, args...)
	cmd.Env = append(append(os.Environ(), e.cloud.Env()...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("hang guard: verify %v had not exited after %s\nstdout: %s\nstderr: %s", args, hangGuard, &stdout, &stderr)
		return -1, "", ""
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	default:
		t.Fatalf("run verify %v: %v", args, err)
		return -1, "", ""
	}
}

func (e *env) tableNames(t *testing.T) []string {
	t.Helper()
	var names []string
	p := dynamodb.NewListTablesPaginator(e.ddb, &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, page.TableNames...)
	}
	return names
}

func (e *env) stackTable(t *testing.T, stack string) string {
	t.Helper()
	s, err := discover.Describe(t.Context(), cloudformation.NewFromConfig(e.cfg), stack)
	if err != nil {
		t.Fatal(err)
	}
	name, err := s.TableName()
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func (e *env) itemCount(t *testing.T, table string) int {
	t.Helper()
	out, err := e.ddb.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("scan %s: %v", table, err)
	}
	return int(out.Count)
}

// TestDevDeployVerifyDestroy is the tutorial's whole life cycle, done right: the table exists
// only between deploy and destroy, verify leaves nothing in it, and nothing is left billing.
func TestDevDeployVerifyDestroy(t *testing.T) {
	e := setup(t)
	stack := wallet.StackName(wallet.StageDev)
	// The README's flow exactly: a plain `cdk deploy`, nothing filled in afterwards, so the
	// table lacks the TTL moto's CloudFormation does not apply (the prod tests fill it in).
	timed(t, "cdk deploy "+stack, func() error { return e.cdk.Deploy(t.Context(), stack, nil) })
	table := e.stackTable(t, stack)

	var code int
	var stdout, stderr string
	timed(t, "verify --stack "+stack, func() error {
		code, stdout, stderr = e.runVerify(t, "--stack", stack, "--json")
		return nil
	})
	if code != 0 {
		t.Fatalf("verify exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	var report struct {
		Table         string `json:"table"`
		Passed        bool   `json:"passed"`
		LeftoverItems int    `json:"leftover_items"`
		Checks        []struct {
			Name   string `json:"name"`
			Passed bool   `json:"passed"`
			Detail string `json:"detail"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("verify --json is not JSON: %v\n%s", err, stdout)
	}
	if !report.Passed || report.Table != table || report.LeftoverItems != 0 || len(report.Checks) < 5 {
		t.Fatalf("report: %+v", report)
	}
	if n := e.itemCount(t, table); n != 0 {
		t.Fatalf("verify left %d items in %s", n, table)
	}
	for _, c := range report.Checks {
		if c.Name == "conformance" && !strings.Contains(c.Detail, "not counted on the local endpoint") {
			t.Fatalf("conformance should say it set moto's TTL gap aside: %s", c.Detail)
		}
	}

	// Another client — the tutorial's own put and get — works on the deployed table.
	item := map[string]types.AttributeValue{
		wallet.KeyAttribute:     &types.AttributeValueMemberS{Value: "alice"},
		wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: "100"},
	}
	if _, err := e.ddb.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := e.ddb.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{wallet.KeyAttribute: item[wallet.KeyAttribute]}})
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := got.Item[wallet.BalanceAttribute].(*types.AttributeValueMemberN); !ok || b.Value != "100" {
		t.Fatalf("get alice: %v", got.Item)
	}

	if code, _, stderr := e.runVerify(t, "--stack", "Wallet-nope"); code != 2 || !strings.Contains(stderr, "Wallet-nope") {
		t.Fatalf("verify on a missing stack: exit %d, stderr %q; want 2 naming the stack", code, stderr)
	}

	timed(t, "cdk destroy "+stack, func() error { return e.cdk.Destroy(t.Context(), stack, nil) })
	if names := e.tableNames(t); len(names) != 0 {
		t.Fatalf("tables left after cdk destroy of dev: %v", names)
	}
}

// Command demo is `make demo`: the tutorial's whole life cycle on the local cloud, done right.
// It starts moto, bootstraps, deploys Wallet-dev auto scaled with the pinned CDK CLI (and
// registers its auto scaling, which moto's CloudFormation skips), runs the check inside
// the deploy as CloudFormation would (its deployed code under the Lambda Runtime Interface
// Emulator), runs the verify binary against it, destroys it; then deploys the janitor and lets its deployed code (under the Lambda
// Runtime Interface Emulator: moto cannot run a Lambda) find a forgotten table, mark it, back it
// up and delete it, and restores the backup; shows that nothing is left billing, and stops moto
// by pid — also when a step fails or the user presses Ctrl-C.
package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/cdkcli"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

type step struct {
	name   string
	took   time.Duration
	result string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "\ndemo failed:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out io.Writer) error {
	root := localcloud.ModuleRoot()
	verifyBin := filepath.Join(root, "bin", "verify")
	if _, err := os.Stat(verifyBin); err != nil {
		return fmt.Errorf("%s is missing: run `make build` (make demo does it)", verifyBin)
	}
	var steps []step
	do := func(name string, f func() (string, error)) error {
		fmt.Fprintf(out, "\n==> %s\n", name)
		start := time.Now()
		res, err := f()
		took := time.Since(start)
		if err != nil {
			steps = append(steps, step{name, took, "FAILED"})
			printSummary(out, steps)
			return fmt.Errorf("%s: %w", name, err)
		}
		steps = append(steps, step{name, took, res})
		return nil
	}

	var cloud *localcloud.Server
	if err := do("start the local cloud (moto)", func() (string, error) {
		var err error
		cloud, err = localcloud.StartMoto(ctx, localcloud.Options{LogDir: filepath.Join(root, ".localcloud")})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s, pid %d", cloud.Endpoint, cloud.Pid), nil
	}); err != nil {
		return err
	}
	defer func() {
		_ = cloud.Stop()
		fmt.Fprintf(out, "\nstopped the local cloud (pid %d)\n", cloud.Pid)
	}()
	for _, kv := range cloud.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	os.Setenv("AWS_PROFILE", "")

	cdk := cdkcli.CLI{Root: root, Env: cloud.Env(), Out: out}
	stack := wallet.StackName(wallet.StageDev)
	if err := do("cdk bootstrap", func() (string, error) {
		return "CDKToolkit stack", cdk.Bootstrap(ctx, "123456789012", localcloud.Region)
	}); err != nil {
		return err
	}
	checkCtx, err := deployCheckContext()
	if err != nil {
		return err
	}
	maps.Copy(checkCtx, demoScaling)
	if err := do("cdk deploy "+stack+" -c readMax=10 -c writeMax=10", func() (string, error) {
		// A plain deploy, as the README's local flow does (its check built for this machine),
		// the table auto scaled: verify's conformance check then names the TTL that moto's
		// CloudFormation does not apply, rather than failing on it.
		var printed strings.Builder
		priced := cdk
		priced.Out = io.MultiWriter(out, &printed)
		if err := priced.Deploy(ctx, stack, checkCtx); err != nil {
			return "", err
		}
		return "user_id (S) table auto scaled 1 to 10, and its check; synth priced it: " + declaredCost(printed.String(), stack), nil
	}); err != nil {
		return err
	}
	if err := do("the table's auto scaling, which moto's CloudFormation skips", func() (string, error) {
		return registerAutoScaling(ctx, stack)
	}); err != nil {
		return err
	}
	if err := deployCheckStep(ctx, out, cloud, stack, do); err != nil {
		return err
	}
	if err := do("verify --stack "+stack, func() (string, error) {
		// Concurrency 1: moto's UpdateItem takes no lock, so concurrent ADDs on one item now and
		// then lose an update there (concurrent-increments would rightly say so); real
		// DynamoDB and DynamoDB Local do not, and the tests prove concurrency on DynamoDB Local.
		cmd := exec.CommandContext(ctx, verifyBin, "--stack", stack, "--concurrency", "1")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return "", err
		}
		return "all checks passed, the auto scaling compared, no test item left", nil
	}); err != nil {
		return err
	}
	if err := do("cdk destroy "+stack, func() (string, error) {
		// CloudFormation would delete the auto scaling with the stack; moto's never knew of it.
		if err := deleteAutoScaling(ctx, stack); err != nil {
			return "", err
		}
		return "stack and its auto scaling deleted", cdk.Destroy(ctx, stack, nil)
	}); err != nil {
		return err
	}
	if err := janitorSteps(ctx, out, root, cloud, cdk, do); err != nil {
		return err
	}
	if err := do("nothing left billing", func() (string, error) {
		n, err := countTables(ctx)
		if err != nil {
			return "", err
		}
		if n != 0 {
			return "", fmt.Errorf("%d tables left after destroy (besides the janitor's ledger)", n)
		}
		left, err := scalableTargetsLeft(ctx)
		if err != nil {
			return "", err
		}
		if len(left) != 0 {
			return "", fmt.Errorf("scalable targets left after destroy: %s", strings.Join(left, ", "))
		}
		cmd := exec.CommandContext(ctx, verifyBin, "sweep")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("verify sweep: %w", err)
		}
		return "0 tables but the janitor's ledger (on demand: $0.00/month at rest), 0 scalable targets, sweep finds nothing: $0.00/month (the janitor's backup is kept, listed with its cost)", nil
	}); err != nil {
		return err
	}
	printSummary(out, steps)
	return nil
}

func countTables(ctx context.Context) (int, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	p := dynamodb.NewListTablesPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ListTablesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("list tables: %w", err)
		}
		for _, name := range page.TableNames {
			if name != wallet.LedgerTable { // the deletions' ledger: kept on purpose, and costs nothing at rest
				n++
			}
		}
	}
	return n, nil
}

func printSummary(out io.Writer, steps []step) {
	fmt.Fprintln(out, "\nSummary")
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	var total time.Duration
	for _, s := range steps {
		total += s.took
		fmt.Fprintf(w, "  %s\t%6.1fs\t%s\n", s.name, s.took.Seconds(), s.result)
	}
	fmt.Fprintf(w, "  total\t%6.1fs\t\n", total.Seconds())
	w.Flush()
}

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/cfn"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TestCheckInsideTheDeploy deploys Wallet-dev with its check inside the deploy, then does what
// CloudFormation does with the check's custom resource and moto does not (moto skips an
// AWS::CloudFormation::CustomResource): sends the deployed function, its code zip run under the
// Lambda Runtime Interface Emulator, the request CloudFormation would send, and reads the
// answer it PUTs to the ResponseURL. The stack auto scales its reads from 1 to 10 (registered as
// CloudFormation would: cfngap). A fresh table passes, its auto scaling compared. A table whose
// capacity was changed to 2/2, and whose read maximum was raised to 50, behind CloudFormation's
// back fails the next deploy's check (an Update), and the answer's Reason, what the stack events
// would show, names the write capacity and the read maximum, not the read capacity (2 is within
// its range: the scaler's). The same Update back
// to the older synth is checked, and fails, when the stack is not rolling back (an older
// cdk.out redeployed); while it is (the stack's status UPDATE_ROLLBACK_IN_PROGRESS, which moto
// never shows and a proxy puts in DescribeStacks), it is not held up. The rollback itself is
// CloudFormation's, and shown only on AWS. The function runs as deployed, save the harness's
// one flag (cfngap.FunctionArgs), which lets it answer the local http ResponseURL.
func TestCheckInsideTheDeploy(t *testing.T) {
	e := setup(t)
	arch, err := lambdarie.Arch()
	if err != nil {
		t.Fatal(err)
	}
	stack := wallet.StackName(wallet.StageDev)
	// The emulator runs it natively; reads auto scaled.
	e.deploy(t, stack, map[string]string{contract.CtxVerifyArch: string(arch), contract.CtxReadMax: "10"})
	table := e.stackTable(t, stack)

	var fn *lambdarie.Function
	timed(t, "fetch the deployed check", func() (err error) {
		fn, err = lambdarie.FromStack(t.Context(), e.cfg, stack, t.TempDir())
		return err
	})
	if fn.Env[contract.EnvCheckTable] != table || fn.Env[contract.EnvCheckStack] != stack || fn.TimeoutS != 300 {
		t.Fatalf("the deployed check: environment %v, timeout %d s; want table %s, stack %s, 300 s", fn.Env, fn.TimeoutS, table, stack)
	}
	var rie string
	timed(t, "build aws-lambda-rie", func() (err error) {
		rie, err = lambdarie.BuildRIE(t.Context(), t.TempDir())
		return err
	})
	// Lambda gives the function credentials from its role; here, the test's and the local
	// endpoint. Concurrency 1, as for verify on moto: its UpdateItem takes no lock.
	status, err := cfngap.NewStackStatus(e.cloud.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(status.Close)
	env := append(e.cloud.Env(), contract.EnvCheckConcurrency+"=1", status.Env())
	emu, err := lambdarie.Start(t.Context(), fn, lambdarie.Options{RIE: rie, Env: env, LogDir: t.TempDir(), Args: cfngap.FunctionArgs()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Stop() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("aws-lambda-rie log:\n%s", emu.Log())
		}
	})
	deploy := func(what string, old, override map[string]any) cfngap.CustomResourceRun {
		t.Helper()
		req, err := cfngap.CustomResourceRequest(t.Context(), e.cfg, stack, old, override)
		if err != nil {
			t.Fatal(err)
		}
		var run cfngap.CustomResourceRun
		timed(t, "the check inside the deploy: "+what, func() (err error) {
			run, err = cfngap.RunCustomResource(t.Context(), emu, req)
			return err
		})
		if run.Answer == nil {
			t.Fatalf("%s: the function never answered CloudFormation; invocation: %d %s", what, run.Invoke.Status, run.Invoke.Body)
		}
		if run.AnswerBytes > 4096 || run.Answer.RequestID != req.RequestID || run.Answer.LogicalResourceID != req.LogicalResourceID ||
			run.Answer.StackID != req.StackID || run.Answer.PhysicalResourceID == "" {
			t.Fatalf("%s: answer %+v (%d bytes) does not fit or match the request %+v", what, run.Answer, run.AnswerBytes, req)
		}
		t.Logf("%s: %s, %q", what, run.Answer.Status, run.Answer.Reason)
		return run
	}

	// This deploy: a Create on the fresh table passes, and leaves no test item behind.
	first := deploy("create", nil, nil)
	if first.Answer.Status != "SUCCESS" || !strings.Contains(first.Answer.Reason, "passed") {
		t.Fatalf("fresh table: answer %+v, want SUCCESS", first.Answer)
	}
	var result struct {
		Passed bool `json:"passed"`
		Report struct {
			Table  string `json:"table"`
			Checks []struct {
				Name, Detail string
			} `json:"checks"`
		} `json:"report"`
	}
	if err := json.Unmarshal(first.Invoke.Body, &result); err != nil || !result.Passed || result.Report.Table != table || len(result.Report.Checks) != 9 {
		t.Fatalf("the invocation's result: %s (%v); want passed, table %s, 9 checks", first.Invoke.Body, err, table)
	}
	if c := result.Report.Checks[2]; c.Name != "conformance" || !strings.Contains(c.Detail, "auto scaling as declared: ReadCapacityUnits min 1, max 10, target 70") {
		t.Fatalf("conformance %+v: want the auto scaling compared", c)
	}
	if n := e.itemCount(t, table); n != 0 {
		t.Fatalf("the check inside the deploy left %d items in %s", n, table)
	}

	// Behind CloudFormation's back: 2/2 where 1/1 is declared, reads scaling to 50 where 10 is.
	if _, err := e.ddb.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(table),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(2)}}); err != nil {
		t.Fatal(err)
	}
	aas := applicationautoscaling.NewFromConfig(e.cfg)
	if _, err := aas.RegisterScalableTarget(t.Context(), &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String("table/" + table), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits,
		MinCapacity: aws.Int32(1), MaxCapacity: aws.Int32(50)}); err != nil {
		t.Fatal(err)
	}
	// The next deploy: a new synth, so a new Deployed time, so an Update, so the check runs.
	next := map[string]any{contract.CheckPropDeployed: time.Now().UTC().Format(time.RFC3339Nano)}
	second := deploy("update after the capacity changed", first.Request.ResourceProperties, next)
	if second.Answer.Status != cfn.StatusFailed {
		t.Fatalf("drifted table: status %s, want %s: %+v", second.Answer.Status, cfn.StatusFailed, second.Answer)
	}
	if strings.Contains(second.Answer.Reason, "ProvisionedThroughput.ReadCapacityUnits") {
		t.Errorf("the read capacity, within its auto scaling range, is named as drift: %s", second.Answer.Reason)
	}
	for _, want := range []string{"conformance", "auto scaling ReadCapacityUnits max declared 10, live 50", "ProvisionedThroughput.WriteCapacityUnits declared 1, live 2", table} {
		if !strings.Contains(second.Answer.Reason, want) {
			t.Errorf("the Reason CloudFormation got does not name %q: %s", want, second.Answer.Reason)
		}
		if !strings.Contains(string(second.Invoke.Body), want) {
			t.Errorf("the invocation's error does not name %q: %s", want, second.Invoke.Body)
		}
	}
	if n := e.itemCount(t, table); n != 0 {
		t.Fatalf("the failed check left %d items in %s", n, table)
	}

	// An Update back to the previous synth's properties, while the stack is not rolling back (an
	// older cdk.out deployed again): the Deployed time goes back, and the check still runs.
	back := map[string]any{contract.CheckPropDeployed: first.Request.ResourceProperties[contract.CheckPropDeployed]}
	older := deploy("an older synth redeployed", second.Request.ResourceProperties, back)
	if older.Answer.Status != cfn.StatusFailed || !strings.Contains(older.Answer.Reason, "ProvisionedThroughput.WriteCapacityUnits declared 1, live 2") {
		t.Fatalf("older synth: answer %+v, want the check run and FAILED", older.Answer)
	}

	// CloudFormation then rolls back: the same Update, sent while the stack is
	// UPDATE_ROLLBACK_IN_PROGRESS, which must succeed, or the stack would be
	// UPDATE_ROLLBACK_FAILED.
	status.Set("UPDATE_ROLLBACK_IN_PROGRESS")
	third := deploy("rollback", second.Request.ResourceProperties, back)
	status.Set("")
	if third.Answer.Status != "SUCCESS" || !strings.Contains(third.Answer.Reason, "rolling back") {
		t.Fatalf("rollback: answer %+v, want SUCCESS without a check", third.Answer)
	}

	// Any event: {} runs the same check, its failure the invocation's error.
	resp, err := emu.Invoke(t.Context(), []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(resp.Body), "errorMessage") || !strings.Contains(string(resp.Body), "ProvisionedThroughput.WriteCapacityUnits declared 1, live 2") {
		t.Fatalf("invoked with {}: %s; want an error naming the capacity", resp.Body)
	}

	e.destroy(t, stack)
	if names := e.tableNames(t); len(names) != 0 {
		t.Fatalf("tables left after cdk destroy: %v", names)
	}
	if left, err := aas.DescribeScalableTargets(t.Context(), &applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb}); err != nil || len(left.ScalableTargets) != 0 {
		t.Fatalf("scalable targets left after cdk destroy: %+v, %v", left, err)
	}
}

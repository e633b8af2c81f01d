package deploycheck

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// cloudFormation stands in for CloudFormation's pre-signed ResponseURL (an S3 PUT), the one
// part of the custom resource protocol no local backend serves: it records each answer.
type cloudFormation struct {
	mu      sync.Mutex
	answers []cfn.Response
	sizes   []int
	srv     *httptest.Server
}

func newCloudFormation(t *testing.T) *cloudFormation {
	cf := &cloudFormation{}
	cf.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var a cfn.Response
		if r.Method != http.MethodPut || r.Header.Get("Content-Type") != "" || json.Unmarshal(b, &a) != nil {
			t.Errorf("answer: %s with content type %q: %s; want a PUT of JSON with none", r.Method, r.Header.Get("Content-Type"), b)
		}
		cf.mu.Lock()
		cf.answers, cf.sizes = append(cf.answers, a), append(cf.sizes, len(b))
		cf.mu.Unlock()
	}))
	t.Cleanup(cf.srv.Close)
	return cf
}

// harness is what the tests' stand-in for S3 needs: http on 127.0.0.1.
var harness = ResponseURLs{LoopbackHTTP: true}

// stackAt stands in for CloudFormation's DescribeStacks where no local backend can answer it:
// DynamoDB Local has no CloudFormation, and moto's, being synchronous, never shows a stack in
// the middle of an update or a rollback. Every stack is in status.
type stackAt cftypes.StackStatus

func (s stackAt) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return &cloudformation.DescribeStacksOutput{Stacks: []cftypes.Stack{{StackId: in.StackName, StackStatus: cftypes.StackStatus(s)}}}, nil
}

func (cf *cloudFormation) count() int {
	cf.mu.Lock()
	defer cf.mu.Unlock()
	return len(cf.answers)
}

func (cf *cloudFormation) last(t *testing.T) (cfn.Response, int) {
	t.Helper()
	cf.mu.Lock()
	defer cf.mu.Unlock()
	if len(cf.answers) == 0 {
		t.Fatal("CloudFormation got no answer")
	}
	return cf.answers[len(cf.answers)-1], cf.sizes[len(cf.sizes)-1]
}

const testStackID = "arn:aws:cloudformation:us-east-1:123456789012:stack/Wallet-dev/x"

func event(t *testing.T, typ string, url string, deployed, old time.Time) json.RawMessage {
	return eventFor(t, testStackID, typ, url, deployed, old)
}

func eventFor(t *testing.T, stackID, typ string, url string, deployed, old time.Time) json.RawMessage {
	ev := map[string]any{
		"RequestType": typ, "ResponseURL": url, "StackId": stackID,
		"RequestId": "r-1", "LogicalResourceId": "DeployCheck", "ResourceType": "AWS::CloudFormation::CustomResource",
		"ResourceProperties": map[string]any{contract.CheckPropDeployed: deployed.Format(time.RFC3339Nano)},
	}
	if typ != "Create" {
		ev["PhysicalResourceId"] = "DeployCheck"
		ev["OldResourceProperties"] = map[string]any{contract.CheckPropDeployed: old.Format(time.RFC3339Nano)}
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func devConfig(table string, read, write int) Config {
	return Config{Table: table, Stack: "Wallet-dev", Declared: contract.Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned,
		ReadCapacity: read, WriteCapacity: write, ExpiresAfter: contract.DefaultExpiresAfter}}
}

// On DynamoDB Local, with the real checks: a table provisioned 2/2 where 1/1 is declared fails
// the deploy, CloudFormation is told FAILED with a Reason naming both capacities, and the
// invocation's error says the same; declared 2/2 (the next deploy, an Update), it passes.
func TestHandleOnDynamoDBLocal(t *testing.T) {
	ddbLocal := localcloud.DynamoDBLocal(t)
	ddbLocal.SetEnv(t)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Adaptive: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(ddbLocal.Endpoint)
	db := dynamodb.NewFromConfig(cfg)
	table := "wallet-deploycheck"
	if err := fixture.CreateTableOnce(t, db, &dynamodb.CreateTableInput{
		TableName:             aws.String(table),
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String(wallet.KeyAttribute), KeyType: types.KeyTypeHash}},
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String(wallet.KeyAttribute), AttributeType: types.ScalarAttributeTypeS}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(2)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(wallet.TTLAttribute), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	cf := newCloudFormation(t)
	var log strings.Builder
	deps := Deps{HTTP: cf.srv.Client(), Log: &log, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateInProgress),
		Check: func(ctx context.Context, o check.Options) (*check.Report, error) {
			return check.Run(ctx, check.NewClients(cfg), o)
		}}
	first := time.Now().UTC()

	res, err := Handle(t.Context(), deps, devConfig(table, 1, 1), "us-east-1", event(t, "Create", cf.srv.URL, first, time.Time{}))
	answer, size := cf.last(t)
	for _, want := range []string{"conformance", "ProvisionedThroughput.ReadCapacityUnits declared 1, live 2", "ProvisionedThroughput.WriteCapacityUnits declared 1, live 2", table} {
		if !strings.Contains(answer.Reason, want) || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("drifted: Reason %q, error %v; want both to name %q", answer.Reason, err, want)
		}
	}
	if answer.Status != "FAILED" || res.Passed || size > 4096 || answer.RequestID != "r-1" || answer.PhysicalResourceID != "DeployCheck" {
		t.Errorf("drifted: answer %+v (%d bytes), result passed=%v; want FAILED within 4096 bytes", answer, size, res.Passed)
	}

	res, err = Handle(t.Context(), deps, devConfig(table, 2, 2), "us-east-1", event(t, "Update", cf.srv.URL, first.Add(time.Minute), first))
	answer, _ = cf.last(t)
	if err != nil || !res.Passed || answer.Status != "SUCCESS" || !strings.Contains(answer.Reason, "passed: 9 checks") {
		t.Fatalf("declared as it is: %v, answer %+v; want SUCCESS after 9 checks\n%s", err, answer, res.Report)
	}
	if !strings.Contains(log.String(), `"passed":true`) {
		t.Errorf("the function's log lacks the result: %s", log.String())
	}
}

// A Delete, and an Update while the stack is UPDATE_ROLLBACK_IN_PROGRESS, are answered SUCCESS
// without running the checks, whatever the Deployed times say: a drifted table must not make
// the stack undeletable or UPDATE_ROLLBACK_FAILED.
func TestHandleSkipsDeleteAndRollback(t *testing.T) {
	cf := newCloudFormation(t)
	deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateRollbackInProgress),
		Check: func(context.Context, check.Options) (*check.Report, error) {
			t.Error("the checks ran")
			return nil, nil
		}}
	now := time.Now().UTC()
	for name, ev := range map[string]json.RawMessage{
		"delete":                    event(t, "Delete", cf.srv.URL, now, now),
		"rollback to an older time": event(t, "Update", cf.srv.URL, now.Add(-time.Minute), now),
		"rollback to a later time":  event(t, "Update", cf.srv.URL, now.Add(time.Minute), now),
	} {
		res, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", ev)
		answer, _ := cf.last(t)
		if err != nil || !res.Passed || res.Skipped == "" || answer.Status != "SUCCESS" {
			t.Errorf("%s: %v, %+v, answer %+v; want SUCCESS without a check", name, err, res, answer)
		}
	}
	// A function with no configuration still lets CloudFormation delete it, and roll back.
	for _, typ := range []string{"Delete", "Update"} {
		res, err := Fail(t.Context(), deps, event(t, typ, cf.srv.URL, now, now), io.ErrUnexpectedEOF)
		if answer, _ := cf.last(t); err != nil || answer.Status != "SUCCESS" {
			t.Errorf("unconfigured %s while rolling back: %v, %+v, answer %+v", typ, err, res, answer)
		}
	}
	res, err := Fail(t.Context(), deps, event(t, "Create", cf.srv.URL, now, now), io.ErrUnexpectedEOF)
	if answer, _ := cf.last(t); err == nil || answer.Status != "FAILED" || !strings.Contains(answer.Reason, io.ErrUnexpectedEOF.Error()) {
		t.Errorf("unconfigured create: %v, %+v, answer %+v", err, res, answer)
	}
}

// On moto, whose stack is CREATE_COMPLETE: an Update is checked whichever way its Deployed time
// goes (an older cdk.out redeployed, a clock behind), since only the stack's status says
// CloudFormation is rolling back. A stack whose status cannot be read (here: no such stack)
// fails the Update, saying so and how to go on if it was a rollback, without running the check;
// so does one with no AWS configuration at all.
func TestAnUpdateIsCheckedUnlessTheStackIsRollingBack(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	table := fx.CreateStack(t, "Wallet-dev", fixture.TableDecl{})[0]
	st, err := fx.CloudFormation.DescribeStacks(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String("Wallet-dev")})
	if err != nil {
		t.Fatal(err)
	}
	stackID := aws.ToString(st.Stacks[0].StackId)
	cf := newCloudFormation(t)
	calls := 0
	deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Stacks: fx.CloudFormation,
		Check: func(ctx context.Context, o check.Options) (*check.Report, error) {
			calls++
			o.ReadOnly = true
			return check.Run(ctx, check.NewClients(fx.Config), o)
		}}
	now := time.Now().UTC()
	cfg := devConfig(table, 1, 1)

	for name, deployed := range map[string]time.Time{"an older synth": now.Add(-time.Hour), "a newer synth": now.Add(time.Hour)} {
		calls = 0
		res, _ := Handle(t.Context(), deps, cfg, "us-east-1", eventFor(t, stackID, "Update", cf.srv.URL, deployed, now))
		answer, _ := cf.last(t)
		// moto's CloudFormation applies no TTL (cfngap does, after a deploy): conformance fails,
		// which shows the check ran.
		if calls != 1 || res.Skipped != "" || answer.Status != "FAILED" || !strings.Contains(answer.Reason, "TimeToLiveSpecification") {
			t.Errorf("%s on a %s stack: %d check runs, answer %+v; want the check run", name, st.Stacks[0].StackStatus, calls, answer)
		}
	}

	calls = 0
	gone := strings.Replace(stackID, stackID[strings.LastIndex(stackID, "/")+1:], "00000000-0000-0000-0000-000000000000", 1)
	_, err = Handle(t.Context(), deps, cfg, "us-east-1", eventFor(t, gone, "Update", cf.srv.URL, now.Add(-time.Hour), now))
	answer, _ := cf.last(t)
	for _, want := range []string{"cannot tell whether CloudFormation is rolling back stack Wallet-dev", "describe stack " + gone,
		"continue-update-rollback --stack-name Wallet-dev --resources-to-skip DeployCheck"} {
		if calls != 0 || answer.Status != "FAILED" || !strings.Contains(answer.Reason, want) || err == nil {
			t.Errorf("status unreadable: %d check runs, %v, answer %+v; want FAILED saying %q", calls, err, answer, want)
		}
	}

	deps.Stacks = nil
	_, err = Fail(t.Context(), deps, eventFor(t, stackID, "Update", cf.srv.URL, now.Add(-time.Hour), now), io.ErrUnexpectedEOF)
	if answer, _ := cf.last(t); err == nil || answer.Status != "FAILED" || !strings.Contains(answer.Reason, "no AWS configuration") || !strings.Contains(answer.Reason, io.ErrUnexpectedEOF.Error()) {
		t.Errorf("no configuration, an Update: %v, answer %+v; want FAILED naming both causes", err, answer)
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		contract.EnvCheckTable: "wallet-prod-t", contract.EnvCheckStack: "Wallet-prod",
		contract.EnvCheckDeclared: `{"stage":"prod","billing":"on-demand"}`, contract.EnvCheckConcurrency: "1",
	}
	c, err := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options(t.Context(), "eu-west-1")
	if !o.ReadOnly || o.Table != "wallet-prod-t" || o.Stack != "" || o.Declared == nil || o.Declared.Fields["BillingMode"] != "PAY_PER_REQUEST" || o.Region != "eu-west-1" || o.Concurrency != 1 {
		t.Errorf("prod options: %+v; want read-only on the named table, against the declared on-demand spec", o)
	}
	if dev := devConfig("t", 1, 1).Options(t.Context(), "us-east-1"); dev.ReadOnly {
		t.Error("dev runs read-only")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if o := c.Options(ctx, "us-east-1"); o.Timeout > 5*time.Minute-o.CleanupTimeout-answerMargin || o.Timeout < 4*time.Minute {
		t.Errorf("checks' timeout %s within a 5m invocation: want it to leave clean-up's %s and %s to answer", o.Timeout, o.CleanupTimeout, answerMargin)
	}

	_, err = ConfigFromEnv(func(k string) (string, bool) {
		switch k {
		case contract.EnvCheckDeclared:
			return `{"stage":"qa"}`, true
		case contract.EnvCheckConcurrency:
			return "0", true
		}
		return "", false
	})
	for _, want := range []string{contract.EnvCheckTable, contract.EnvCheckStack, contract.EnvCheckDeclared, `stage="qa"`, contract.EnvCheckConcurrency + `="0"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad environment: %v; want it to name %s", err, want)
		}
	}
}

// However many checks fail with however long a detail, the Reason fits CloudFormation's
// response, cut on a character boundary, saying how much the log holds beyond it.
func TestReasonIsBounded(t *testing.T) {
	rep := &check.Report{}
	for i := 0; i < 50; i++ {
		rep.Checks = append(rep.Checks, check.Result{Name: "conformance", Detail: strings.Repeat("é drift ", 40)})
	}
	r := Reason(devConfig("wallet-x", 1, 1), rep, nil)
	if len(r) > MaxReason || !utf8.ValidString(r) || !strings.Contains(r, "bytes more in the function's log") || !strings.HasPrefix(r, "wallet check of table wallet-x (stack Wallet-dev) failed: conformance: é drift") {
		t.Errorf("reason of %d bytes: %.200q…", len(r), r)
	}
	if short := Bound("short", MaxReason); short != "short" {
		t.Errorf("Bound cut a short reason: %q", short)
	}
}

// IAM enforced by moto: a Create refused because the role's permission has not propagated yet
// is tried again, and passes once IAM lets the call through (the pause is where the test
// grants it, as propagation would); an Update, whose role has long existed, reports the
// refusal at once.
func TestCreateRetriesARefusal(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	table := "wallet-iam"
	fx.CreateKeyedTable(t, table, fixture.KeyedTable{})
	actions := []string{"dynamodb:DescribeTimeToLive", "dynamodb:DescribeContinuousBackups", "dynamodb:ListTagsOfResource",
		"application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"}
	user := fx.IAMUser(t, "checker", actions...) // no DescribeTable yet
	admin := fx.IAMUser(t, "admin", "*")
	if err := srv.EnforceIAM(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Credentials = credentials.StaticCredentialsProvider{Value: user}
	calls := 0
	cf := newCloudFormation(t)
	// The user may not describe stacks: the stand-in says the stack is being updated.
	deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateInProgress), DeniedRetry: time.Minute, Check: func(ctx context.Context, o check.Options) (*check.Report, error) {
		calls++
		o.ReadOnly = true // the user may only read
		return check.Run(ctx, check.NewClients(cfg), o)
	}}
	now := time.Now().UTC()

	_, err = Handle(t.Context(), deps, devConfig(table, 1, 1), "us-east-1", event(t, "Update", cf.srv.URL, now, now.Add(-time.Minute)))
	if answer, _ := cf.last(t); calls != 1 || err == nil || !strings.Contains(answer.Reason, "DescribeTable") {
		t.Fatalf("update refused: %d calls, %v, %q; want one call and the refusal named", calls, err, answer.Reason)
	}

	calls = 0
	deps.Pause = func(ctx context.Context, _ time.Duration) error {
		iamc := iam.NewFromConfig(fx.As(admin).Config)
		_, err := iamc.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("checker"), PolicyName: aws.String("propagated"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:DescribeTable","Resource":"*"}]}`)})
		return err
	}
	_, _ = Handle(t.Context(), deps, devConfig(table, 1, 1), "us-east-1", event(t, "Create", cf.srv.URL, now, time.Time{}))
	if answer, _ := cf.last(t); calls != 2 || strings.Contains(answer.Reason, "access denied") || !strings.Contains(answer.Reason, "conformance") && answer.Status != "SUCCESS" {
		t.Fatalf("create: %d calls, answer %+v; want a second try that IAM let through", calls, answer)
	}
}

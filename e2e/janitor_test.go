package e2e

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TestJanitorAsDeployed runs the janitor as deployed: `cdk deploy WalletJanitor` into moto, the
// function's code zip fetched from the asset bucket CDK uploaded it to, run under the Lambda
// Runtime Interface Emulator with the function's own environment, invoked with a scheduled
// event; its notification is read through an SQS queue subscribed to the stack's topic.
//
// moto deploys the function, the rule, the topic, the keys, the log group and the role, but
// skips the resource types its CloudFormation does not implement (the alarm, the topic policy,
// the email subscription) with a warning, and cannot execute a Lambda without Docker: the
// emulator does that part. Its CloudFormation also makes every KMS key a symmetric encryption
// key, whatever its KeySpec: cfngap.HMACKeys creates the HMAC key the template declares and
// points the function at it, as CloudFormation would have.
func TestJanitorAsDeployed(t *testing.T) {
	e := setup(t)
	arch, err := lambdarie.Arch()
	if err != nil {
		t.Fatal(err)
	}
	cloud := fixture.NewCloud(t, "")
	orphan := map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}
	// The candidate, holding wallets, with everything a restore drops: a GSI, capacity 3/2, TTL,
	// PITR, a stream, tags and a scalable target; `verify undo` brings it all back at the end.
	cloud.FullTable(t, "wallet-forgotten", orphan, 3)
	_, before, err := ledger.Capture(t.Context(), e.ddb, applicationautoscaling.NewFromConfig(e.cfg), "wallet-forgotten")
	if err != nil {
		t.Fatal(err)
	}
	cloud.CreateTable(t, "wallet-reprieved", orphan, false) // qualifies, then is kept by its owner
	// Decoys: another project's, a kept one, a protected one, and a live unexpired stack's.
	cloud.CreateTable(t, "not-ours", map[string]string{wallet.TagProject: "other", wallet.TagStack: "Wallet-gone"}, false)
	cloud.CreateTable(t, "wallet-kept", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone", wallet.TagKeep: "true"}, false)
	cloud.CreateTable(t, "wallet-protected", orphan, true)
	cloud.CreateStack(t, "Wallet-fresh", fixture.TableDecl{Name: "wallet-fresh",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-fresh", wallet.TagExpiresAfter: "168h"}})
	decoys := []string{"not-ours", "wallet-kept", "wallet-protected", "wallet-fresh"}

	stack := wallet.JanitorStackID
	context := map[string]string{
		contract.CtxJanitorArch:  string(arch), // the emulator runs the binary natively
		contract.CtxJanitorGrace: "5s",
		contract.CtxJanitorMode:  string(contract.JanitorDelete),
	}
	timed(t, "cdk deploy "+stack, func() error { return e.cdk.Deploy(t.Context(), stack, context) })
	filled, err := cfngap.HMACKeys(t.Context(), e.cfg, stack)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mark key filled in for moto's CloudFormation: %v", filled)

	topicArn := e.stackResource(t, stack, "AWS::SNS::Topic")
	var fn *lambdarie.Function
	dir := t.TempDir()
	timed(t, "fetch the deployed code", func() (err error) {
		fn, err = lambdarie.FromStack(t.Context(), e.cfg, stack, dir)
		return err
	})
	t.Logf("function %s: %s, handler %s, %d s, %d MB, code s3://%s/%s (%.1f MB zipped)",
		fn.Name, fn.Runtime, fn.Handler, fn.TimeoutS, fn.MemoryMB, fn.Bucket, fn.Key, float64(fn.CodeBytes)/1e6)
	if fn.Runtime != "provided.al2023" || fn.Handler != "bootstrap" {
		t.Errorf("runtime %s, handler %s; want provided.al2023, bootstrap", fn.Runtime, fn.Handler)
	}
	markKey := fn.Env[contract.EnvJanitorMarkKey]
	wantEnv := map[string]string{contract.EnvJanitorMode: "delete", contract.EnvJanitorGrace: "5s", contract.EnvJanitorTopicArn: topicArn, contract.EnvJanitorMarkKey: markKey}
	if !reflect.DeepEqual(fn.Env, wantEnv) {
		t.Fatalf("the deployed function's environment is %v, want %v", fn.Env, wantEnv)
	}
	if k, err := kms.NewFromConfig(e.cfg).DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String(markKey)}); err != nil ||
		k.KeyMetadata.KeySpec != "HMAC_256" || k.KeyMetadata.KeyUsage != "GENERATE_VERIFY_MAC" {
		t.Fatalf("the function's mark key %s: %+v (%v), want an HMAC_256 key", markKey, k, err)
	}

	var rie string
	timed(t, "build aws-lambda-rie", func() (err error) {
		rie, err = lambdarie.BuildRIE(t.Context(), t.TempDir())
		return err
	})
	box := inbox.Subscribe(t, e.cfg, topicArn)
	// Lambda gives the function credentials from its role; here, the test's fake ones and the
	// local endpoint. Everything else comes from the deployed configuration.
	emu, err := lambdarie.Start(t.Context(), fn, lambdarie.Options{RIE: rie, Env: e.cloud.Env(), LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Stop() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("aws-lambda-rie log:\n%s", emu.Log())
		}
	})

	// The single-account janitor runs over its own account and region: one unit, whose report
	// each step reads.
	unitOf := func(r janitor.Report) janitor.UnitReport {
		t.Helper()
		if len(r.Units) != 1 || r.Role != janitor.RoleAccount {
			t.Fatalf("a run of %d units (role %q), want the function's own account and region: %+v", len(r.Units), r.Role, r)
		}
		return r.Units[0]
	}
	invoke := func(what string) janitor.UnitReport {
		t.Helper()
		var resp lambdarie.Response
		timed(t, "invoke (scheduled event): "+what, func() (err error) {
			resp, err = emu.Invoke(t.Context(), scheduledEvent(time.Now()))
			return err
		})
		var report janitor.Report
		if err := json.Unmarshal(resp.Body, &report); err != nil || resp.Status != 200 {
			t.Fatalf("invoke: %d %s (%v)", resp.Status, resp.Body, err)
		}
		return unitOf(report)
	}
	marked := func(r janitor.UnitReport) []string {
		var out []string
		for _, m := range r.Marked {
			out = append(out, m.Table)
		}
		slices.Sort(out)
		return out
	}

	// First run: marks the two candidates, deletes nothing, and says so.
	first := invoke("first")
	if got := marked(first); !slices.Equal(got, []string{"wallet-forgotten", "wallet-reprieved"}) || len(first.Regions) != 1 || first.Regions[0] != e.cfg.Region || len(first.Errors) != 0 {
		t.Fatalf("first run marked %v (report %+v)", got, first)
	}
	if names := e.tableNames(t); !slices.Contains(names, "wallet-forgotten") || !slices.Contains(names, "wallet-reprieved") {
		t.Fatalf("the first run deleted something: %v left", names)
	}
	// The run logged its report as one JSON line: the one line of the log that parses as it.
	var logged []janitor.Report
	for _, line := range strings.Split(emu.Log(), "\n") {
		var r janitor.Report
		if json.Unmarshal([]byte(line), &r) == nil && r.Mode != "" {
			logged = append(logged, r)
		}
	}
	if len(logged) != 1 || !reflect.DeepEqual(marked(unitOf(logged[0])), marked(first)) {
		t.Errorf("logged reports %+v, want exactly the returned one", logged)
	}
	var notes []inbox.Notification
	timed(t, "notification via SNS → SQS", func() error {
		notes = box.Receive(t, 1, 30*time.Second)
		return nil
	})
	var delivered janitor.Report
	if err := json.Unmarshal([]byte(notes[0].Message), &delivered); err != nil || len(delivered.Units) != 1 || !slices.Equal(marked(delivered.Units[0]), marked(first)) {
		t.Errorf("the SQS subscriber got %q (%v), want the JSON report", notes[0].Message, err)
	}

	// Before the grace is over, one of them is kept by its owner.
	reprieved := e.stackTableArn(t, "wallet-reprieved")
	if _, err := e.ddb.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: aws.String(reprieved),
		Tags: []types.Tag{{Key: aws.String(wallet.TagKeep), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(6 * time.Second) // the 5 s grace

	// Second run: backs up and deletes exactly the candidate, reprieves the kept one.
	second := invoke("after the grace")
	var deleted []sweep.Candidate
	for _, c := range second.Candidates {
		if c.Action == sweep.Deleted {
			deleted = append(deleted, c)
		}
	}
	if len(deleted) != 1 || deleted[0].Table != "wallet-forgotten" || deleted[0].BackupARN == "" ||
		len(second.Reprieved) != 1 || second.Reprieved[0].Table != "wallet-reprieved" {
		t.Fatalf("second run: deleted %+v, reprieved %+v", deleted, second.Reprieved)
	}
	names := e.tableNames(t)
	if slices.Contains(names, "wallet-forgotten") || !slices.Contains(names, "wallet-reprieved") {
		t.Fatalf("after the second run: %v", names)
	}
	for _, d := range decoys {
		if !slices.Contains(names, d) {
			t.Errorf("decoy %s was deleted", d)
		}
	}
	note := box.Receive(t, 1, 30*time.Second)[0]
	for _, want := range []string{"wallet-forgotten", deleted[0].BackupARN, "wallet-reprieved"} {
		if !strings.Contains(note.Message, want) {
			t.Errorf("the subscriber was not told about %s: %s", want, note.Message)
		}
	}

	// The deletion was written down first, in the ledger the stack deployed.
	if deleted[0].RecordID == "" || !strings.Contains(deleted[0].RecordedIn, wallet.LedgerTable) {
		t.Fatalf("the deletion's record: %q in %q", deleted[0].RecordID, deleted[0].RecordedIn)
	}

	// Third run: changes nothing, and says nothing.
	third := invoke("third")
	if third.Changed() || len(third.JanitorBackups) != 1 {
		t.Fatalf("third run: %+v", third)
	}
	box.None(t, 3*time.Second)

	// Nothing lost: `verify undo` finds the record in the ledger, restores the table from the
	// backup the deletion depended on, puts back what the restore drops, and proves it.
	code, out, stderr := e.runVerify(t, "history", "--table", "wallet-forgotten")
	if code != 0 || !strings.Contains(out, deleted[0].RecordID) || !strings.Contains(out, "janitor") {
		t.Fatalf("verify history: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = e.runVerify(t, "undo", "wallet-forgotten", "--yes")
	if code != 0 || !strings.Contains(out, "Restored: wallet-forgotten is in effect as recorded") {
		t.Fatalf("verify undo: exit %d\n%s\n%s", code, out, stderr)
	}
	t.Logf("verify undo wallet-forgotten --yes:\n%s", out)
	if n := e.itemCount(t, "wallet-forgotten"); n != 3 {
		t.Fatalf("the undo restored %d wallets, want 3", n)
	}
	_, after, err := ledger.Capture(t.Context(), e.ddb, applicationautoscaling.NewFromConfig(e.cfg), "wallet-forgotten")
	if err != nil {
		t.Fatal(err)
	}
	if d := ledger.Diff(before, after); len(d) > 0 {
		t.Errorf("the table the janitor deleted came back otherwise: %v", d)
	}

	// A failed run is a function error, which is what the Errors alarm counts: the same
	// artifact with a bad environment answers with Lambda's error document naming the variable.
	bad, err := lambdarie.Start(t.Context(), fn, lambdarie.Options{RIE: rie,
		Env: append(e.cloud.Env(), contract.EnvJanitorMode+"=nuke"), LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bad.Stop() })
	failed, err := bad.Invoke(t.Context(), scheduledEvent(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("misconfigured run answered %d %s", failed.Status, failed.Body)
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(failed.Body, &lambdaErr); err != nil || !strings.Contains(lambdaErr.ErrorMessage, contract.EnvJanitorMode+`="nuke"`) {
		t.Errorf("a misconfigured run answered %d %s; want Lambda's error document naming %s", failed.Status, failed.Body, contract.EnvJanitorMode)
	}

	// (No `cdk destroy` here: moto's CloudFormation has no delete handler for
	// AWS::IAM::ManagedPolicy, so the stack's TeardownPolicy cannot be deleted; real
	// CloudFormation deletes it. moto goes with the test.)
}

// stackTableArn is a table's ARN.
func (e *env) stackTableArn(t *testing.T, table string) string {
	t.Helper()
	out, err := e.ddb.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Table.TableArn)
}

// stackResource is the physical id of the stack's one resource of a type (a topic's is its ARN).
// moto's change-set deploys drop Outputs, so the harness reads resources, as discovery does.
func (e *env) stackResource(t *testing.T, stack, typ string) string {
	t.Helper()
	out, err := cloudformation.NewFromConfig(e.cfg).ListStackResources(t.Context(), &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatal(err)
	}
	var ids, types []string
	for _, r := range out.StackResourceSummaries {
		types = append(types, aws.ToString(r.ResourceType))
		if aws.ToString(r.ResourceType) == typ {
			ids = append(ids, aws.ToString(r.PhysicalResourceId))
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s has %d resources of type %s, want one (it has %v)", stack, len(ids), typ, types)
	}
	return ids[0]
}

// scheduledEvent is the event an EventBridge schedule delivers to its target.
func scheduledEvent(at time.Time) []byte {
	return []byte(fmt.Sprintf(`{"version":"0","id":"%d","detail-type":"Scheduled Event","source":"aws.events",`+
		`"account":"123456789012","time":%q,"region":"us-east-1",`+
		`"resources":["arn:aws:events:us-east-1:123456789012:rule/WalletJanitor-Schedule"],"detail":{}}`,
		at.UnixNano(), at.UTC().Format(time.RFC3339)))
}

package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// byType returns the one resource of a type, and its logical ID.
func byType(t *testing.T, doc map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	var id string
	var res map[string]any
	for k, r := range doc["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			if res != nil {
				t.Fatalf("more than one %s", typ)
			}
			id, res = k, r.(map[string]any)
		}
	}
	if res == nil {
		t.Fatalf("no %s", typ)
	}
	return id, res
}

// checkDeployCheck pins the check inside the deploy: a custom resource whose provider is the
// check function, run after the table and its policy, bounded by verifyTimeout; the function
// configured by its environment alone; its role holding the VerifyPolicy, its own logs and its
// own stack's status, nothing else.
func checkDeployCheck(t *testing.T, tc templateCase, stack awscdk.Stack, doc map[string]any, ids ids) {
	t.Helper()
	if tc.noCheck {
		return
	}
	timeout := tc.checkTimeout
	if timeout == 0 {
		timeout = int(contract.DefaultVerifyTimeout.Seconds())
	}
	fnID, fn := byType(t, doc, "AWS::Lambda::Function")
	roleID, role := byType(t, doc, "AWS::IAM::Role")
	logsID, _ := byType(t, doc, "AWS::Logs::LogGroup")
	_, cr := byType(t, doc, "AWS::CloudFormation::CustomResource")

	props := cr["Properties"].(map[string]any)
	if deployed, err := time.Parse(time.RFC3339Nano, props[contract.CheckPropDeployed].(string)); err != nil || time.Since(deployed) > time.Hour {
		t.Errorf("custom resource %s = %v (%v), want the synth's time", contract.CheckPropDeployed, props[contract.CheckPropDeployed], err)
	}
	delete(props, contract.CheckPropDeployed)
	equalFields(t, "custom resource", props, norm(t, map[string]any{
		"ServiceToken":   map[string]any{"Fn::GetAtt": []any{fnID, "Arn"}},
		"ServiceTimeout": timeout + 60,
	}))
	dependsOn, _ := cr["DependsOn"].([]any)
	after := []string{ids.table, ids.verify}
	// The table's auto scaling too: the check compares what Application Auto Scaling holds, so
	// CloudFormation must have registered it first.
	for id, r := range doc["Resources"].(map[string]any) {
		if typ := r.(map[string]any)["Type"].(string); strings.HasPrefix(typ, "AWS::ApplicationAutoScaling::") {
			after = append(after, id)
		}
	}
	if len(after) != 2+2*len(tc.scaling) {
		t.Errorf("auto scaling resources %v, want %d", after[2:], 2*len(tc.scaling))
	}
	for _, id := range after {
		if !slices.Contains(dependsOn, any(id)) {
			t.Errorf("the custom resource does not depend on %s: DependsOn %v", id, dependsOn)
		}
	}

	fprops := fn["Properties"].(map[string]any)
	for k, want := range map[string]any{"Runtime": "provided.al2023", "Handler": "bootstrap", "Timeout": float64(timeout),
		"Role": map[string]any{"Fn::GetAtt": []any{roleID, "Arn"}}} {
		if !reflect.DeepEqual(fprops[k], want) {
			t.Errorf("function %s = %s, want %s", k, js(fprops[k]), js(want))
		}
	}
	vars := fprops["Environment"].(map[string]any)["Variables"].(map[string]any)
	if len(vars) != 3 || !reflect.DeepEqual(vars[contract.EnvCheckTable], map[string]any{"Ref": ids.table}) || vars[contract.EnvCheckStack] != tc.stack {
		t.Errorf("function environment %s: want the table's Ref, the stack %s and the declared spec only", js(vars), tc.stack)
	}
	want, err := configFrom(getter(tc.context))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := contract.ParseStackJSON(vars[contract.EnvCheckDeclared].(string)); err != nil || got != want {
		t.Errorf("%s = %v reads back as %+v (%v), want %+v", contract.EnvCheckDeclared, vars[contract.EnvCheckDeclared], got, err, want)
	}

	// The role: the VerifyPolicy, and one policy of its own, for its logs.
	rprops := role["Properties"].(map[string]any)
	if got := rprops["ManagedPolicyArns"]; !reflect.DeepEqual(got, []any{map[string]any{"Ref": ids.verify}}) {
		t.Errorf("the check's role has managed policies %s, want the VerifyPolicy only", js(got))
	}
	if p, ok := rprops["Policies"]; ok {
		t.Errorf("the check's role has inline policies %s", js(p))
	}
	checkCheckPolicy(t, doc, roleID, logsID)
}

// checkCheckPolicy pins the check's own policy: attached to its role alone, its own logs, and
// its own stack's status: DescribeStacks on this deployment's stack id alone, not Wallet-* nor
// *, is how it tells CloudFormation rolling back.
func checkCheckPolicy(t *testing.T, doc map[string]any, roleID, logsID string) {
	t.Helper()
	_, policy := byType(t, doc, "AWS::IAM::Policy")
	pprops := policy["Properties"].(map[string]any)
	if !reflect.DeepEqual(pprops["Roles"], []any{map[string]any{"Ref": roleID}}) {
		t.Errorf("the check's policy is attached to %s, want the check's role only", js(pprops["Roles"]))
	}
	wantDoc := norm(t, map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{
			"Sid": "Logs", "Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource": map[string]any{"Fn::GetAtt": []any{logsID, "Arn"}},
		},
		map[string]any{
			"Sid": "OwnStackStatus", "Effect": "Allow", "Action": "cloudformation:DescribeStacks",
			"Resource": map[string]any{"Ref": "AWS::StackId"},
		},
	}})
	if !reflect.DeepEqual(pprops["PolicyDocument"], wantDoc) {
		t.Errorf("the check's policy %s, want %s", js(pprops["PolicyDocument"]), js(wantDoc))
	}
}

// The function reads its own stack's status, to tell a rollback from a deploy, and only its
// own: the synthesized policy grants DescribeStacks on AWS::StackId, and the function depends
// on it, as the custom resource does.
func TestDeployCheckReadsOnlyItsOwnStack(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	built, err := build(app, testCode(t))
	if err != nil {
		t.Fatal(err)
	}
	doc := norm(t, assertions.Template_FromStack(built.Wallet, nil).ToJSON())
	roleID, _ := byType(t, doc, "AWS::IAM::Role")
	logsID, _ := byType(t, doc, "AWS::Logs::LogGroup")
	policyID, _ := byType(t, doc, "AWS::IAM::Policy")
	checkCheckPolicy(t, doc, roleID, logsID)
	_, fn := byType(t, doc, "AWS::Lambda::Function")
	_, cr := byType(t, doc, "AWS::CloudFormation::CustomResource")
	for what, r := range map[string]map[string]any{"the function": fn, "the custom resource": cr} {
		if deps, _ := r["DependsOn"].([]any); !slices.Contains(deps, any(policyID)) {
			t.Errorf("%s does not depend on the check's policy %s: DependsOn %v", what, policyID, deps)
		}
	}
}

// checkDeclaredSpec: what the check compares the live table with (discover.Declared of the
// config in its environment) is field for field what the template declares.
func checkDeclaredSpec(t *testing.T, tc templateCase, doc map[string]any) {
	t.Helper()
	b, _ := json.Marshal(doc)
	specs, err := discover.ParseTables(b)
	if err != nil || len(specs) != 1 {
		t.Fatalf("tables of the template: %v (%v)", specs, err)
	}
	cfg, err := configFrom(getter(tc.context))
	if err != nil {
		t.Fatal(err)
	}
	got, want := discover.Declared(cfg), specs[0]
	got.LogicalID = want.LogicalID
	if !reflect.DeepEqual(got, want) {
		t.Errorf("the deploy check's declared spec differs from the template's:\n got %+v\nwant %+v", got, want)
	}
}

// Two synths of the same app and context differ in the custom resource's properties, and only
// there: CloudFormation then sends it an Update, and the check runs, on every deploy; the
// function itself is unchanged, so it is not redeployed.
func TestDeployCheckRunsOnEveryDeploy(t *testing.T) {
	synth := func() (map[string]any, map[string]any) {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		built, err := build(app, testCode(t))
		if err != nil {
			t.Fatal(err)
		}
		doc := norm(t, assertions.Template_FromStack(built.Wallet, nil).ToJSON())
		_, cr := byType(t, doc, "AWS::CloudFormation::CustomResource")
		return doc, cr["Properties"].(map[string]any)
	}
	doc1, p1 := synth()
	doc2, p2 := synth()
	if reflect.DeepEqual(p1[contract.CheckPropDeployed], p2[contract.CheckPropDeployed]) {
		t.Fatalf("two synths gave the custom resource the same %s %v: CloudFormation would not run the check again", contract.CheckPropDeployed, p1[contract.CheckPropDeployed])
	}
	delete(p1, contract.CheckPropDeployed)
	delete(p2, contract.CheckPropDeployed)
	if !reflect.DeepEqual(doc1, doc2) {
		t.Errorf("two synths differ beyond the custom resource's %s:\n%s\n%s", contract.CheckPropDeployed, js(doc1), js(doc2))
	}
}

// A bad deploy check key stops the synth naming it, with the wallet's and janitor's bad keys,
// before any function is built.
func TestDeployCheckRejectsBadContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		keys    []string
	}{
		{"timeout under a minute", map[string]any{"verifyTimeout": "30s"}, []string{"verifyTimeout"}},
		{"timeout over Lambda's 15 minutes", map[string]any{"verifyTimeout": "16m"}, []string{"verifyTimeout"}},
		{"timeout not whole seconds", map[string]any{"verifyTimeout": "90500ms"}, []string{"verifyTimeout"}},
		{"timeout a bare number from cdk.json", map[string]any{"verifyTimeout": float64(300)}, []string{"verifyTimeout"}},
		{"verifyOnDeploy not a bool", map[string]any{"verifyOnDeploy": "yes"}, []string{"verifyOnDeploy"}},
		{"arch", map[string]any{"verifyArch": "amd64"}, []string{"verifyArch"}},
		{"with the others", map[string]any{"verifyTimeout": "1h", "readCapacity": "0", "janitorMode": "nuke"}, []string{"janitorMode", "readCapacity", "verifyTimeout"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := refusedKeys(t, tc.context)
			if !slices.Equal(got, tc.keys) {
				t.Errorf("errors name %v, want %v: %v", got, tc.keys, err)
			}
			if strings.Contains(tc.name, "timeout") && !strings.Contains(err.Error(), "1m") || strings.Contains(tc.name, "timeout") && !strings.Contains(err.Error(), "15m") {
				t.Errorf("the timeout error does not give the allowed range 1m..15m: %v", err)
			}
		})
	}
}

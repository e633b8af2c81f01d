package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func orgContext() map[string]any {
	return map[string]any{
		contract.CtxJanitorOrg: "true", contract.CtxJanitorOrgID: "o-abcde12345", contract.CtxJanitorTargets: "r-ab12",
		contract.CtxJanitorRegions: "us-east-1,eu-west-1", contract.CtxJanitorUnitsPerRun: "50", contract.CtxJanitorWorkers: "6",
	}
}

func synthJanitor(t *testing.T, context map[string]any) (awscdk.Stack, map[string]any, string) {
	t.Helper()
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &context, Outdir: jsii.String(outdir)})
	built, err := build(app, testCode(t))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return built.Janitor, norm(t, assertions.Template_FromStack(built.Janitor, nil).ToJSON()), outdir
}

func resourcesOf(doc map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range doc["Resources"].(map[string]any) {
		if m := r.(map[string]any); m["Type"] == typ {
			out[id] = m
		}
	}
	return out
}

func actionsOf(statements []any) []string {
	var out []string
	for _, s := range statements {
		switch a := s.(map[string]any)["Action"].(type) {
		case string:
			out = append(out, a)
		case []any:
			for _, x := range a {
				out = append(out, x.(string))
			}
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// janitorOrg=true: the StackSet (service-managed, automatic deployment, to the targets), the
// member role it carries (the central role's own run statements, trusting only the central role
// within the organization), the queue and the worker with reserved concurrency, the mark key and
// the role's own policies, and the central function configured to run over the organization.
func TestJanitorOrgStack(t *testing.T) {
	stack, doc, outdir := synthJanitor(t, orgContext())
	id := func(path ...string) string { return logicalID(stack, path...) }

	sets := resourcesOf(doc, "AWS::CloudFormation::StackSet")
	if len(sets) != 2 {
		t.Fatalf("%d stack sets, want the member role's and the member ledgers'", len(sets))
	}
	checkMemberLedgers(t, stack, sets)
	ssID := *stack.GetLogicalId(stack.Node().FindChild(jsii.String("MemberRole")).(awscdk.CfnElement))
	ss := sets[ssID]["Properties"].(map[string]any)
	if ss["PermissionModel"] != "SERVICE_MANAGED" || ss["StackSetName"] != contract.JanitorMemberRole {
		t.Errorf("stack set: %v", ss)
	}
	if ad := ss["AutoDeployment"].(map[string]any); ad["Enabled"] != true {
		t.Errorf("auto deployment: %v", ad)
	}
	group := ss["StackInstancesGroup"].([]any)[0].(map[string]any)
	if targets := group["DeploymentTargets"].(map[string]any)["OrganizationalUnitIds"].([]any); len(targets) != 1 || targets[0] != "r-ab12" {
		t.Errorf("targets %v", targets)
	}
	params := map[string]any{}
	for _, p := range ss["Parameters"].([]any) {
		params[p.(map[string]any)["ParameterKey"].(string)] = p.(map[string]any)["ParameterValue"]
	}
	if params["OrganizationId"] != "o-abcde12345" || !strings.Contains(jsonOf(params["CentralRoleArn"]), id("Role")) {
		t.Errorf("parameters %v", params)
	}

	var member map[string]any
	if err := json.Unmarshal([]byte(ss["TemplateBody"].(string)), &member); err != nil {
		t.Fatal(err)
	}
	role := member["Resources"].(map[string]any)["Role"].(map[string]any)["Properties"].(map[string]any)
	if role["RoleName"] != contract.JanitorMemberRole {
		t.Errorf("member role name %v", role["RoleName"])
	}
	trust := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	if len(trust) != 1 || jsonOf(trust[0]) != `{"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":{"Ref":"OrganizationId"}}},"Effect":"Allow","Principal":{"AWS":{"Ref":"CentralRoleArn"}}}` {
		t.Errorf("member trust %s", jsonOf(trust))
	}
	checkMemberStatements(t, doc, id, role["Policies"].([]any))
	// Its resources are the member account's own: resolved there, not here.
	if body := ss["TemplateBody"].(string); strings.Contains(body, id("Role")) || !strings.Contains(body, "AWS::AccountId") {
		t.Errorf("member template refers to the central stack: %s", body)
	}

	fns := resourcesOf(doc, "AWS::Lambda::Function")
	central := fns[id("Function")]["Properties"].(map[string]any)
	worker := fns[id("Worker")]["Properties"].(map[string]any)
	cenv := central["Environment"].(map[string]any)["Variables"].(map[string]any)
	wenv := worker["Environment"].(map[string]any)["Variables"].(map[string]any)
	if cenv[contract.EnvJanitorOrg] != contract.JanitorOrgCentral || wenv[contract.EnvJanitorOrg] != contract.JanitorOrgWorker {
		t.Errorf("roles: %v / %v", cenv[contract.EnvJanitorOrg], wenv[contract.EnvJanitorOrg])
	}
	for _, env := range []map[string]any{cenv, wenv} {
		if env[contract.EnvJanitorOrgRegions] != "us-east-1,eu-west-1" || env[contract.EnvJanitorUnitsPerRun] != "50" ||
			env[contract.EnvJanitorOrgRole] != contract.JanitorMemberRole || !strings.Contains(jsonOf(env[contract.EnvJanitorOrgQueueURL]), id("Units")) {
			t.Errorf("org environment %v", env)
		}
	}
	if central["ReservedConcurrentExecutions"] != float64(1) || worker["ReservedConcurrentExecutions"] != float64(6) {
		t.Errorf("reserved concurrency: central %v, worker %v", central["ReservedConcurrentExecutions"], worker["ReservedConcurrentExecutions"])
	}
	// The worker signs and checks marks as the central function does: the same key, in its
	// environment, and the same role, the one the key policy lets use it.
	if jsonOf(wenv[contract.EnvJanitorMarkKey]) != jsonOf(cenv[contract.EnvJanitorMarkKey]) || !strings.Contains(jsonOf(wenv[contract.EnvJanitorMarkKey]), id("MarkKey")) {
		t.Errorf("worker's mark key %v, central's %v", wenv[contract.EnvJanitorMarkKey], cenv[contract.EnvJanitorMarkKey])
	}
	if jsonOf(worker["Role"]) != jsonOf(central["Role"]) || !strings.Contains(jsonOf(worker["Role"]), id("Role")) {
		t.Errorf("worker's role %v, central's %v", worker["Role"], central["Role"])
	}
	checkMarkKeyUsers(t, doc, id)
	// Both functions wait for the role's policies (its own, the organization's, the queue's
	// grants), and only for them: not the TeardownPolicy (not the role's), not the role (a
	// repeat of Fn::GetAtt, cfn-lint W3005).
	for name, fnID := range map[string]string{"central": id("Function"), "worker": id("Worker")} {
		deps := fns[fnID]["DependsOn"]
		if want := sortedAny([]any{id("JanitorPolicy"), id("OrgPolicy"), id("Role", "DefaultPolicy")}); !slices.Equal(sortedAny(deps), want) {
			t.Errorf("%s function DependsOn %v, want %v", name, deps, want)
		}
	}
	if jsonOf(central["Code"]) != jsonOf(worker["Code"]) {
		t.Errorf("the worker runs other code: %v / %v", central["Code"], worker["Code"])
	}
	mappings := resourcesOf(doc, "AWS::Lambda::EventSourceMapping")
	if len(mappings) != 1 {
		t.Fatalf("%d event source mappings", len(mappings))
	}
	for _, m := range mappings {
		p := m["Properties"].(map[string]any)
		if p["BatchSize"] != float64(1) || !strings.Contains(jsonOf(p["FunctionName"]), id("Worker")) || !strings.Contains(jsonOf(p["EventSourceArn"]), id("Units")) {
			t.Errorf("event source mapping %v", p)
		}
	}
	orgPolicy := resourcesOf(doc, "AWS::IAM::Policy")[id("OrgPolicy")]["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
	if got := actionsOf(orgPolicy["Statement"].([]any)); !slices.Equal(got, []string{"organizations:ListAccounts", "sts:AssumeRole"}) {
		t.Errorf("central role's org actions %v", got)
	}
	if !strings.Contains(jsonOf(orgPolicy), ":role/"+contract.JanitorMemberRole) {
		t.Errorf("AssumeRole is not limited to the member role: %s", jsonOf(orgPolicy))
	}
	// Only in the organization's accounts (what that means is the policy engine's to prove:
	// docs/iam.md).
	if !strings.Contains(jsonOf(orgPolicy), `"Condition":{"StringEquals":{"aws:ResourceOrgID":"o-abcde12345"}}`) {
		t.Errorf("AssumeRole is not limited to the organization's accounts: %s", jsonOf(orgPolicy))
	}
	if n := len(resourcesOf(doc, "AWS::CloudWatch::Alarm")); n != 2 {
		t.Errorf("%d alarms, want the central's and the worker's", n)
	}
	checkNagReport(t, stack, outdir, []string{
		`"AwsSolutions-IAM5","WalletJanitor/OrgPolicy/Resource","Suppressed"`,
	})
}

// janitorOrg=false (the default) keeps today's janitor: none of the organization's parts.
func TestJanitorWithoutOrgIsUnchanged(t *testing.T) {
	_, doc, _ := synthJanitor(t, map[string]any{})
	for _, typ := range []string{"AWS::CloudFormation::StackSet", "AWS::SQS::Queue", "AWS::Lambda::EventSourceMapping"} {
		if n := len(resourcesOf(doc, typ)); n != 0 {
			t.Errorf("%d %s without janitorOrg", n, typ)
		}
	}
	if n := len(resourcesOf(doc, "AWS::Lambda::Function")); n != 1 {
		t.Errorf("%d functions", n)
	}
	if strings.Contains(jsonOf(doc), contract.EnvJanitorOrg) {
		t.Error("the function is configured for an organization")
	}
}

// Bad organization keys stop the synth, each named, before anything is built.
func TestJanitorOrgRejectsBadContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		keys    []string
	}{
		{"org keys without janitorOrg", map[string]any{contract.CtxJanitorTargets: "r-ab12"}, []string{contract.CtxJanitorTargets}},
		{"no org id nor targets", map[string]any{contract.CtxJanitorOrg: "true"}, []string{contract.CtxJanitorOrgID, contract.CtxJanitorTargets}},
		{"bad values", map[string]any{contract.CtxJanitorOrg: "true", contract.CtxJanitorOrgID: "org-1", contract.CtxJanitorTargets: "ou-x",
			contract.CtxJanitorRegions: "Mars", contract.CtxJanitorWorkers: "0", contract.CtxJanitorUnitsPerRun: "many"},
			[]string{contract.CtxJanitorOrgID, contract.CtxJanitorRegions, contract.CtxJanitorTargets, contract.CtxJanitorUnitsPerRun, contract.CtxJanitorWorkers}},
		{"janitorOrg not a bool", map[string]any{contract.CtxJanitorOrg: "yes"}, []string{contract.CtxJanitorOrg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := refusedKeys(t, tc.context); !slices.Equal(got, tc.keys) {
				t.Errorf("errors name %v, want %v: %v", got, tc.keys, err)
			}
		})
	}
}

// checkMemberStatements holds the member role's statements equal to the central role's run
// statements (its JanitorPolicy less the mark key, logs and topic, which are the central
// account's), and pins what matters of them: table changes and tag writes only on wallet
// tables, tag writes only of the mark, no DeleteBackup, no KMS.
func checkMemberStatements(t *testing.T, doc map[string]any, id func(...string) string, policies []any) {
	t.Helper()
	if len(policies) != 1 {
		t.Fatalf("member role has %d inline policies", len(policies))
	}
	member := policies[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	own := resourcesOf(doc, "AWS::IAM::Policy")[id("JanitorPolicy")]["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	centralOnly := []string{"SignMarks", "Logs", "Notify", "NotifyEncrypted"}
	run := slices.DeleteFunc(slices.Clone(own), func(s any) bool { return slices.Contains(centralOnly, s.(map[string]any)["Sid"].(string)) })
	if len(run) != len(own)-len(centralOnly) {
		t.Fatalf("central JanitorPolicy lacks some of %v: %s", centralOnly, jsonOf(own))
	}
	if jsonOf(member) != jsonOf(run) {
		t.Errorf("member role statements differ from the central role's:\n got %s\nwant %s", jsonOf(member), jsonOf(run))
	}
	bySid := map[string]map[string]any{}
	for _, s := range member {
		bySid[s.(map[string]any)["Sid"].(string)] = s.(map[string]any)
	}
	wallet := `{"StringEquals":{"aws:ResourceTag/Project":"wallet"}}`
	if got := jsonOf(bySid["ActOnWalletTables"]["Condition"]); got != wallet {
		t.Errorf("member ActOnWalletTables condition %s, want %s", got, wallet)
	}
	if got, want := jsonOf(bySid["MarkWalletTables"]["Condition"]), `{"ForAllValues:StringEquals":{"aws:TagKeys":["wallet:janitor-delete-after"]},"StringEquals":{"aws:ResourceTag/Project":"wallet"}}`; got != want {
		t.Errorf("member MarkWalletTables condition %s, want %s", got, want)
	}
	actions := actionsOf(member)
	for _, a := range []string{"dynamodb:ListTables", "dynamodb:ListBackups", "dynamodb:DescribeTable", "dynamodb:DescribeBackup",
		"dynamodb:CreateBackup", "dynamodb:DeleteTable", "dynamodb:TagResource", "cloudformation:DeleteStack", "iam:DeletePolicy"} {
		if !slices.Contains(actions, a) {
			t.Errorf("member role lacks %s", a)
		}
	}
	for _, a := range actions {
		if a == "dynamodb:DeleteBackup" || strings.HasPrefix(a, "kms:") {
			t.Errorf("member role may %s", a)
		}
	}
	// Every statement that changes a table is conditioned on the Project tag (a Deny only
	// refuses: the ledger's, whose record the member role writes, in its own account).
	if jsonOf(bySid["LedgerIsAppendOnly"]) != jsonOf(norm(t, ledgerDenied)) || jsonOf(bySid["WriteLedger"]["Resource"]) != jsonOf(norm(t, anyLedgerArn)) {
		t.Errorf("the member role's ledger statements: %s, %s", jsonOf(bySid["LedgerIsAppendOnly"]), jsonOf(bySid["WriteLedger"]))
	}
	for _, s := range member {
		st := s.(map[string]any)
		if st["Effect"] == "Deny" {
			continue
		}
		for _, a := range actionsOf([]any{st}) {
			if slices.Contains([]string{"dynamodb:CreateBackup", "dynamodb:UpdateTable", "dynamodb:DeleteTable", "dynamodb:TagResource", "dynamodb:UntagResource"}, a) &&
				!strings.Contains(jsonOf(st["Condition"]), `"aws:ResourceTag/Project":"wallet"`) {
				t.Errorf("member statement %v: %s without the Project condition", st["Sid"], a)
			}
		}
	}
}

// checkMarkKeyUsers: the key policy lets the central role use the mark key (both functions
// run with it) and denies every other principal.
func checkMarkKeyUsers(t *testing.T, doc map[string]any, id func(...string) string) {
	t.Helper()
	policy := resourcesOf(doc, "AWS::KMS::Key")[id("MarkKey")]["Properties"].(map[string]any)["KeyPolicy"].(map[string]any)["Statement"].([]any)
	roleArn := jsonOf(map[string]any{"Fn::GetAtt": []any{id("Role"), "Arn"}})
	var allows, denies bool
	for _, s := range policy {
		st := s.(map[string]any)
		switch st["Sid"] {
		case "JanitorSignsMarks":
			allows = jsonOf(st["Principal"]) == `{"AWS":`+roleArn+`}`
		case "NobodyElseSignsMarks":
			denies = st["Effect"] == "Deny" && strings.Contains(jsonOf(st["Condition"]), roleArn)
		}
	}
	if !allows || !denies {
		t.Errorf("mark key policy does not let the functions' role (alone) use it: %s", jsonOf(policy))
	}
}

func sortedAny(v any) []any {
	xs, _ := v.([]any)
	out := slices.Clone(xs)
	slices.SortFunc(out, func(a, b any) int { return strings.Compare(jsonOf(a), jsonOf(b)) })
	return out
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// checkMemberLedgers: the second StackSet puts the ledger, as the janitor stack declares its
// own, in every member account of the targets and in each of the janitor's regions, retained.
func checkMemberLedgers(t *testing.T, stack awscdk.Stack, sets map[string]map[string]any) {
	t.Helper()
	id := *stack.GetLogicalId(stack.Node().FindChild(jsii.String("MemberLedger")).(awscdk.CfnElement))
	ss := sets[id]["Properties"].(map[string]any)
	if ss["PermissionModel"] != "SERVICE_MANAGED" || ss["StackSetName"] != contract.JanitorMemberRole+"Ledger" {
		t.Errorf("ledger stack set: %v", ss)
	}
	group := ss["StackInstancesGroup"].([]any)[0].(map[string]any)
	if targets := group["DeploymentTargets"].(map[string]any)["OrganizationalUnitIds"].([]any); len(targets) != 1 || targets[0] != "r-ab12" {
		t.Errorf("ledger targets %v", targets)
	}
	if regions := jsonOf(group["Regions"]); regions != `["us-east-1","eu-west-1"]` {
		t.Errorf("ledger regions %s, want every region the janitor sweeps", regions)
	}
	var tmpl map[string]any
	if err := json.Unmarshal([]byte(ss["TemplateBody"].(string)), &tmpl); err != nil {
		t.Fatal(err)
	}
	res := tmpl["Resources"].(map[string]any)
	if len(res) != 1 {
		t.Fatalf("ledger template resources %v, want the ledger alone", res)
	}
	l := res["Ledger"].(map[string]any)
	props := l["Properties"].(map[string]any)
	if l["Type"] != "AWS::DynamoDB::Table" || l["DeletionPolicy"] != "Retain" || props["TableName"] != wallet.LedgerTable ||
		props["DeletionProtectionEnabled"] != true || props["BillingMode"] != "PAY_PER_REQUEST" ||
		jsonOf(props["PointInTimeRecoverySpecification"]) != `{"PointInTimeRecoveryEnabled":true}` ||
		jsonOf(props["KeySchema"]) != `[{"AttributeName":"id","KeyType":"HASH"}]` ||
		!strings.Contains(jsonOf(props["Tags"]), `{"Key":"wallet:ledger","Value":"deletions"}`) || strings.Contains(jsonOf(props["Tags"]), `"Value":"wallet"}`) {
		t.Errorf("member ledger: %s", jsonOf(l))
	}
}

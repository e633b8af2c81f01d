package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// functionBuilds builds each function once per architecture for the whole test binary: the
// build is the slow part of a synth, and every template test needs one. TestMain removes
// buildRoot.
var (
	buildRoot      string
	functionBuilds = map[string]map[contract.Arch]func() (string, error){}
	janitorBuilds  map[contract.Arch]func() (string, error)
)

func init() {
	for _, pkg := range []string{janitorPackage, deployCheckPackage} {
		functionBuilds[pkg] = map[contract.Arch]func() (string, error){}
		for _, arch := range []contract.Arch{contract.ArchARM64, contract.ArchX8664} {
			functionBuilds[pkg][arch] = sync.OnceValues(func() (string, error) {
				dir := filepath.Join(buildRoot, filepath.Base(pkg), string(arch))
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return "", err
				}
				return dir, buildFunction(context.Background(), pkg, arch, dir)
			})
		}
	}
	janitorBuilds = functionBuilds[janitorPackage]
}

// testCode is the functionCode of the template tests.
func testCode(t *testing.T) functionCode {
	return func(pkg string, arch contract.Arch) (string, error) {
		t.Helper()
		return functionBuilds[pkg][arch]()
	}
}

type janitorCase struct {
	name    string
	context map[string]any
	cfg     contract.Janitor // what the context must come to
}

var janitorCases = []janitorCase{
	{
		name:    "defaults",
		context: map[string]any{},
		cfg:     contract.Janitor{Schedule: "rate(1 hour)", Grace: 24 * 3600e9, Mode: contract.JanitorDelete, Arch: contract.ArchARM64},
	},
	{
		name: "every key set",
		context: map[string]any{
			"janitorSchedule": "cron(0 6 ? * MON-FRI *)", "janitorGrace": "5s", "janitorMode": "report",
			"janitorEmail": "ops@example.com", "janitorArch": "x86_64",
		},
		cfg: contract.Janitor{Schedule: "cron(0 6 ? * MON-FRI *)", Grace: 5e9, Mode: contract.JanitorReport,
			Email: "ops@example.com", Arch: contract.ArchX8664},
	},
}

// TestJanitorStack pins the janitor's template: every resource, every policy document in full,
// the function's configuration, the schedule, the alarm and its path to the topic, the outputs,
// and a clean cdk-nag report.
func TestJanitorStack(t *testing.T) {
	for _, tc := range janitorCases {
		t.Run(tc.name, func(t *testing.T) {
			outdir := t.TempDir()
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.context, Outdir: jsii.String(outdir)})
			built, err := build(app, testCode(t))
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			stack := built.Janitor
			if got := *stack.StackName(); got != wallet.JanitorStackID {
				t.Fatalf("stack name %s, want %s", got, wallet.JanitorStackID)
			}
			tmpl := assertions.Template_FromStack(stack, nil)
			doc := norm(t, tmpl.ToJSON())
			id := func(path ...string) string { return logicalID(stack, path...) }
			ids := janitorIDs{
				key: id("TopicKey"), markKey: id("MarkKey"), topic: id("Topic"), topicPolicy: id("Topic", "Policy"), logs: id("Logs"), role: id("Role"),
				teardown: id("TeardownPolicy"), own: id("JanitorPolicy"), fn: id("Function"), rule: id("Schedule"), alarm: id("ErrorsAlarm"),
				ledger: id("Ledger"),
			}

			wantTypes := []string{
				"AWS::CloudWatch::Alarm", "AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::Role",
				"AWS::KMS::Key", "AWS::KMS::Key", "AWS::Lambda::Function", "AWS::Lambda::Permission", "AWS::Logs::LogGroup", "AWS::SNS::Topic",
				"AWS::SNS::TopicPolicy",
			}
			if tc.cfg.Email != "" {
				wantTypes = append(wantTypes, "AWS::SNS::Subscription")
			}
			sort.Strings(wantTypes)
			var types []string
			for _, r := range doc["Resources"].(map[string]any) {
				if typ := r.(map[string]any)["Type"].(string); typ != "AWS::CDK::Metadata" {
					types = append(types, typ)
				}
			}
			sort.Strings(types)
			if !slices.Equal(types, wantTypes) {
				t.Errorf("resource types:\n got %v\nwant %v", types, wantTypes)
			}

			checkFunction(t, tc, ids, resource(t, doc, ids.fn), outdir)
			checkJanitorPolicies(t, doc, ids)
			checkMarkKey(t, doc, ids)
			checkTopic(t, tc, doc, ids)
			checkScheduleAndAlarm(t, tc, doc, ids)
			checkLogs(t, resource(t, doc, ids.logs))
			checkLedger(t, resource(t, doc, ids.ledger))
			checkOutputValues(t, tmpl, map[string]any{
				wallet.OutputJanitorFunctionName: map[string]any{"Ref": ids.fn},
				wallet.OutputJanitorTopicArn:     map[string]any{"Ref": ids.topic},
				wallet.OutputTeardownPolicyArn:   map[string]any{"Ref": ids.teardown},
			})
			for id, r := range doc["Resources"].(map[string]any) {
				props, _ := r.(map[string]any)["Properties"].(map[string]any)
				if id == ids.ledger {
					continue // its own tags (checkLedger)
				}
				if tags, ok := props["Tags"]; ok && !reflect.DeepEqual(tags, norm(t, map[string]any{"t": janitorTagList})["t"]) {
					t.Errorf("%s tags = %s, want %s", id, js(tags), js(janitorTagList))
				}
			}
			// The stack's own tags, which CloudFormation propagates to every resource it creates:
			// the key gets its tags this way (see NewJanitorStack).
			stackTags := map[string]string{}
			for k, v := range *stack.Tags().TagValues() {
				stackTags[k] = *v
			}
			if !reflect.DeepEqual(stackTags, janitorTags()) {
				t.Errorf("stack tags %v, want %v", stackTags, janitorTags())
			}
			checkNagReport(t, stack, outdir, []string{
				`"AwsSolutions-IAM5","WalletJanitor/TeardownPolicy/Resource","Suppressed"`,
				`"AwsSolutions-IAM5","WalletJanitor/JanitorPolicy/Resource","Suppressed"`,
				`"AwsSolutions-IAM5","WalletJanitor/Role/Resource","Compliant"`,
				`"AwsSolutions-IAM4","WalletJanitor/Role/Resource","Compliant"`,
				`"AwsSolutions-KMS5","WalletJanitor/TopicKey/Resource","Compliant"`,
				`"AwsSolutions-SNS3","WalletJanitor/Topic/Resource","Compliant"`,
			})
		})
	}
}

var janitorTagList = tags("ManagedBy", "cdk", "Project", "wallet", "Stack", "WalletJanitor")

type janitorIDs struct {
	key, markKey, topic, topicPolicy, logs, role, teardown, own, fn, rule, alarm, ledger string
}

func ref(id string) map[string]any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

var accountRoot = map[string]any{"Fn::Join": []any{"", []any{
	"arn:", ref("AWS::Partition"), ":iam::", ref("AWS::AccountId"), ":root",
}}}

func checkFunction(t *testing.T, tc janitorCase, ids janitorIDs, res map[string]any, outdir string) {
	t.Helper()
	props := res["Properties"].(map[string]any)
	code, _ := props["Code"].(map[string]any)
	key, _ := code["S3Key"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}\.zip$`).MatchString(key) {
		t.Errorf("function code S3Key %q: want the asset hash", key)
	}
	// The asset CDK staged holds exactly the bootstrap, executable, built for the architecture.
	asset := filepath.Join(outdir, "asset."+strings.TrimSuffix(key, ".zip"))
	entries, err := os.ReadDir(asset)
	if err != nil || len(entries) != 1 || entries[0].Name() != "bootstrap" {
		t.Errorf("staged asset %s: %v, %v; want just bootstrap", asset, entries, err)
	} else if fi, err := entries[0].Info(); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap is not executable: %v %v", fi.Mode(), err)
	} else {
		checkELF(t, filepath.Join(asset, "bootstrap"), tc.cfg.Arch)
	}

	want := map[string]any{
		"Code":          map[string]any{"S3Bucket": map[string]any{"Fn::Sub": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}"}, "S3Key": key},
		"Description":   "Wallet janitor: marks forgotten wallet tables, then backs them up and deletes them",
		"Runtime":       "provided.al2023",
		"Handler":       "bootstrap",
		"Architectures": []any{string(tc.cfg.Arch)},
		"MemorySize":    256,
		"Timeout":       900,
		// One run at a time.
		"ReservedConcurrentExecutions": 1,
		"Role":                         getAtt(ids.role, "Arn"),
		"LoggingConfig":                map[string]any{"LogGroup": ref(ids.logs)},
		// Configured by environment only, and exactly by what the contract names.
		"Environment": map[string]any{"Variables": map[string]any{
			contract.EnvJanitorMode:     string(tc.cfg.Mode),
			contract.EnvJanitorGrace:    wallet.FormatDuration(tc.cfg.Grace),
			contract.EnvJanitorTopicArn: ref(ids.topic),
			contract.EnvJanitorMarkKey:  getAtt(ids.markKey, "Arn"),
		}},
		"Tags": janitorTagList,
	}
	equalFields(t, "function", props, norm(t, want))
	// The role comes first through the GetAtt above; DependsOn naming it too is what cfn-lint
	// flags (W3005).
	deps, _ := res["DependsOn"].([]any)
	for _, d := range []string{ids.own} {
		if !slices.Contains(deps, any(d)) {
			t.Errorf("function DependsOn %v lacks %s: a first run could start without its permissions", deps, d)
		}
	}
	if slices.Contains(deps, any(ids.role)) {
		t.Errorf("function DependsOn %v repeats the role its Role GetAtt already orders (cfn-lint W3005)", deps)
	}
}

// checkELF reads the ELF header: a Linux executable for the function's architecture.
func checkELF(t *testing.T, path string, arch contract.Arch) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := make([]byte, 20)
	if _, err := io.ReadFull(f, h); err != nil {
		t.Fatal(err)
	}
	machine := map[contract.Arch]uint16{contract.ArchARM64: 183, contract.ArchX8664: 62}[arch] // EM_AARCH64, EM_X86_64
	if string(h[:4]) != "\x7fELF" || uint16(h[18])|uint16(h[19])<<8 != machine {
		t.Errorf("%s is not a Linux %s executable (header % x)", path, arch, h)
	}
}

var (
	anyTableArn  = accountArn("dynamodb", ":table/*")
	anyLedgerArn = accountArn("dynamodb", ":table/wallet-ledger")
	ledgerDenied = map[string]any{"Sid": "LedgerIsAppendOnly", "Effect": "Deny", "Resource": anyLedgerArn, "Action": []any{
		"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups",
		"dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
		"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete",
	}}
	teardownDoc = []any{
		map[string]any{"Sid": "List", "Effect": "Allow", "Action": []any{"dynamodb:ListTables", "dynamodb:ListBackups"}, "Resource": "*"},
		map[string]any{
			"Sid": "Tables", "Effect": "Allow",
			"Action": []any{
				"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ListTagsOfResource", "dynamodb:UpdateTable", "dynamodb:DeleteTable",
				"dynamodb:CreateBackup", "dynamodb:Scan", "dynamodb:CreateTable", "dynamodb:BatchWriteItem",
				"dynamodb:DescribeTimeToLive", "dynamodb:DescribeContributorInsights", "dynamodb:DescribeKinesisStreamingDestination",
				"dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateContributorInsights", "dynamodb:EnableKinesisStreamingDestination",
				"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:RestoreTableFromBackup",
			},
			"Resource": anyTableArn,
		},
		map[string]any{"Sid": "RestoreTags", "Effect": "Allow", "Action": "dynamodb:TagResource", "Resource": anyTableArn,
			"Condition": map[string]any{"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"wallet:restore-run", "wallet:undo-record"}}}},
		map[string]any{"Sid": "UndoTags", "Effect": "Allow", "Action": "dynamodb:TagResource", "Resource": anyTableArn,
			"Condition": map[string]any{"Null": map[string]any{"aws:RequestTag/wallet:undo-record": "false"}}},
		map[string]any{"Sid": "Backups", "Effect": "Allow", "Action": []any{"dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"}, "Resource": accountArn("dynamodb", ":table/*/backup/*")},
		map[string]any{"Sid": "ScalingReads", "Effect": "Allow", "Resource": "*", "Action": []any{
			"application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarms"}},
		map[string]any{"Sid": "Scaling", "Effect": "Allow", "Resource": "*", "Action": []any{
			"application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy"},
			"Condition": map[string]any{"StringEquals": map[string]any{"application-autoscaling:service-namespace": "dynamodb"}}},
		map[string]any{"Sid": "ScalingAlarms", "Effect": "Allow", "Action": "cloudwatch:PutMetricAlarm", "Resource": accountArn("cloudwatch", ":alarm:TargetTracking-table/*")},
		map[string]any{"Sid": "ScalingRole", "Effect": "Allow", "Action": "iam:CreateServiceLinkedRole",
			"Resource": map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":iam::", ref("AWS::AccountId"),
				":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"}}},
			"Condition": map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"}}},
		map[string]any{
			"Sid": "WalletStacks", "Effect": "Allow",
			"Action":   []any{"cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate", "cloudformation:DeleteStack"},
			"Resource": accountArn("cloudformation", ":stack/Wallet-*/*"),
		},
		map[string]any{
			"Sid": "WalletStackPolicies", "Effect": "Allow",
			"Action": []any{"iam:GetPolicy", "iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:DeletePolicy"},
			"Resource": map[string]any{"Fn::Join": []any{"", []any{
				"arn:", ref("AWS::Partition"), ":iam::", ref("AWS::AccountId"), ":policy/Wallet-*-VerifyPolicy????????-*",
			}}},
		},
		map[string]any{"Sid": "Metrics", "Effect": "Allow", "Action": "cloudwatch:GetMetricData", "Resource": "*"},
		map[string]any{"Sid": "AutoScaling", "Effect": "Allow", "Action": "application-autoscaling:DescribeScalableTargets", "Resource": "*"},
		map[string]any{"Sid": "Prices", "Effect": "Allow", "Action": "pricing:GetProducts", "Resource": "*"},
		ledgerDenied,
	}
	// teardownStacks are the TeardownPolicy's statements on wallet stacks and their policies,
	// which the janitor's role holds too.
	teardownStacks = teardownDoc[9:11]
)

func accountArn(service, rest string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{
		"arn:", ref("AWS::Partition"), ":" + service + ":*:", ref("AWS::AccountId"), rest,
	}}}
}

// checkJanitorPolicies compares every permission the stack grants, in full: the role's trust,
// the TeardownPolicy (output for people and pipelines, attached to nothing here), and the
// function's own policy, whose table actions are conditioned on Project=wallet.
func checkJanitorPolicies(t *testing.T, doc map[string]any, ids janitorIDs) {
	t.Helper()
	role := resource(t, doc, ids.role)["Properties"].(map[string]any)
	equalFields(t, "role", role, norm(t, map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}},
		}},
		"Description": "The wallet janitor function: finds, marks, backs up and deletes wallet tables (Project=wallet only), its logs and its topic",
		"Tags":        janitorTagList,
	}))

	teardown := resource(t, doc, ids.teardown)["Properties"].(map[string]any)
	equalFields(t, "TeardownPolicy", teardown, norm(t, map[string]any{
		"Description":    "verify teardown|sweep: find, back up, export, restore and delete wallet tables and stacks of this account",
		"Path":           "/",
		"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": teardownDoc},
	}))
	for _, s := range teardownDoc {
		if a := js(s.(map[string]any)["Action"]); strings.Contains(a, "DeleteBackup") {
			t.Errorf("the teardown policy may delete backups: %s", a)
		}
	}

	own := resource(t, doc, ids.own)["Properties"].(map[string]any)
	equalFields(t, "JanitorPolicy", own, norm(t, map[string]any{
		"PolicyName": ids.own,
		"Roles":      []any{ref(ids.role)},
		"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Sid": "List", "Effect": "Allow", "Action": []any{"dynamodb:ListTables", "dynamodb:ListBackups"}, "Resource": "*"},
			map[string]any{"Sid": "ReadTables", "Effect": "Allow", "Action": []any{"dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:DescribeTimeToLive",
				"dynamodb:DescribeContinuousBackups", "dynamodb:DescribeContributorInsights", "dynamodb:DescribeKinesisStreamingDestination"}, "Resource": anyTableArn},
			map[string]any{"Sid": "CountWalletTables", "Effect": "Allow", "Action": "dynamodb:Scan", "Resource": anyTableArn,
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/Project": "wallet", "dynamodb:Select": "COUNT"}}},
			map[string]any{"Sid": "ReadScaling", "Effect": "Allow", "Action": []any{"application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"}, "Resource": "*"},
			map[string]any{"Sid": "WriteLedger", "Effect": "Allow", "Action": []any{"dynamodb:PutItem", "dynamodb:GetItem"}, "Resource": anyLedgerArn},
			ledgerDenied,
			map[string]any{"Sid": "ReadBackups", "Effect": "Allow", "Action": "dynamodb:DescribeBackup", "Resource": accountArn("dynamodb", ":table/*/backup/*")},
			map[string]any{"Sid": "ActOnWalletTables", "Effect": "Allow", "Action": []any{"dynamodb:CreateBackup", "dynamodb:UpdateTable", "dynamodb:DeleteTable"},
				"Resource": anyTableArn, "Condition": map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/Project": "wallet"}}},
			map[string]any{"Sid": "MarkWalletTables", "Effect": "Allow", "Action": []any{"dynamodb:TagResource", "dynamodb:UntagResource"},
				"Resource": anyTableArn, "Condition": map[string]any{
					"StringEquals":              map[string]any{"aws:ResourceTag/Project": "wallet"},
					"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"wallet:janitor-delete-after"}},
				}},
			teardownStacks[0], teardownStacks[1],
			map[string]any{"Sid": "SignMarks", "Effect": "Allow", "Action": []any{"kms:GenerateMac", "kms:VerifyMac"}, "Resource": getAtt(ids.markKey, "Arn")},
			map[string]any{"Sid": "Logs", "Effect": "Allow", "Action": []any{"logs:CreateLogStream", "logs:PutLogEvents"}, "Resource": getAtt(ids.logs, "Arn")},
			map[string]any{"Sid": "Notify", "Effect": "Allow", "Action": "sns:Publish", "Resource": ref(ids.topic)},
			map[string]any{"Sid": "NotifyEncrypted", "Effect": "Allow", "Action": []any{"kms:GenerateDataKey", "kms:Decrypt"}, "Resource": getAtt(ids.key, "Arn")},
		}},
	}))
}

// checkMarkKey: an HMAC key the account administers but only the function's role may use
// (GenerateMac, VerifyMac), everyone else refused by an explicit Deny; deleted with the stack.
func checkMarkKey(t *testing.T, doc map[string]any, ids janitorIDs) {
	t.Helper()
	key := resource(t, doc, ids.markKey)
	if key["DeletionPolicy"] != "Delete" || key["UpdateReplacePolicy"] != "Delete" {
		t.Errorf("mark key DeletionPolicy %v: a retained key keeps billing after `cdk destroy`", key["DeletionPolicy"])
	}
	use := []any{"kms:GenerateMac", "kms:VerifyMac"}
	equalFields(t, "mark key", key["Properties"].(map[string]any), norm(t, map[string]any{
		"Description":         "Signs the wallet janitor's marks (wallet:janitor-delete-after); only the janitor's role may use it",
		"KeySpec":             "HMAC_256",
		"KeyUsage":            "GENERATE_VERIFY_MAC",
		"PendingWindowInDays": 7,
		"KeyPolicy": map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Sid": "AccountAdministers", "Effect": "Allow", "Principal": map[string]any{"AWS": accountRoot}, "Resource": "*",
				"Action": []any{"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
					"kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"}},
			map[string]any{"Sid": "JanitorSignsMarks", "Effect": "Allow", "Principal": map[string]any{"AWS": getAtt(ids.role, "Arn")}, "Action": use, "Resource": "*"},
			map[string]any{"Sid": "NobodyElseSignsMarks", "Effect": "Deny", "Principal": map[string]any{"AWS": "*"}, "Action": use, "Resource": "*",
				"Condition": map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": getAtt(ids.role, "Arn")}}},
		}},
	}))
}

// The janitor's role holds no statement that changes a table without the Project=wallet tag
// condition, and no managed policy (the TeardownPolicy, for people, has none). moto does not
// evaluate conditions: this template test pins their shape on every such action, and the policy
// engine's questions (iam_test.go, docs/iam.md) prove what they allow and refuse.
func TestJanitorRoleActsOnlyOnWalletTables(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	built, err := build(app, testCode(t))
	if err != nil {
		t.Fatal(err)
	}
	doc := norm(t, assertions.Template_FromStack(built.Janitor, nil).ToJSON())
	role := logicalID(built.Janitor, "Role")
	readOnly := map[string]bool{"dynamodb:DescribeTable": true, "dynamodb:ListTagsOfResource": true,
		"dynamodb:ListTables": true, "dynamodb:ListBackups": true, "dynamodb:DescribeBackup": true,
		"dynamodb:DescribeTimeToLive": true, "dynamodb:DescribeContinuousBackups": true, "dynamodb:DescribeContributorInsights": true,
		"dynamodb:DescribeKinesisStreamingDestination": true}
	ledgerArn := js(anyLedgerArn)
	var checked []string
	for id, r := range doc["Resources"].(map[string]any) {
		r := r.(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		switch r["Type"] {
		case "AWS::IAM::Role":
			if props["ManagedPolicyArns"] != nil {
				t.Errorf("role %s has managed policies %v: its table actions would be unconditioned", id, js(props["ManagedPolicyArns"]))
			}
		case "AWS::IAM::ManagedPolicy":
			if props["Roles"] != nil {
				t.Errorf("managed policy %s is attached to %v; the janitor's role must hold only its own statements", id, js(props["Roles"]))
			}
		case "AWS::IAM::Policy":
			if !slices.ContainsFunc(props["Roles"].([]any), func(x any) bool { return reflect.DeepEqual(x, ref(role)) }) {
				continue
			}
			for _, st := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := st.(map[string]any)
				if st["Effect"] == "Deny" {
					continue // it only refuses (the ledger's: ledgerDenied, pinned in TestJanitorStack)
				}
				for _, a := range strs(st["Action"]) {
					if !strings.HasPrefix(a, "dynamodb:") || readOnly[a] {
						continue
					}
					cond, _ := st["Condition"].(map[string]any)
					eq, _ := cond["StringEquals"].(map[string]any)
					switch {
					case (a == "dynamodb:PutItem" || a == "dynamodb:GetItem") && js(st["Resource"]) == ledgerArn && cond == nil:
						continue // a record, into the ledger alone
					case a == "dynamodb:Scan" && eq["dynamodb:Select"] != "COUNT":
						t.Errorf("the role may Scan items, not only count them: %s", js(st))
					case a == "dynamodb:Scan":
						continue // a count, no item
					}
					checked = append(checked, a)
					if st["Effect"] != "Allow" || eq["aws:ResourceTag/Project"] != "wallet" {
						t.Errorf("%s (statement %v) holds without aws:ResourceTag/Project=wallet: %s", a, st["Sid"], js(st))
					}
					if a == "dynamodb:TagResource" || a == "dynamodb:UntagResource" {
						keys, _ := cond["ForAllValues:StringEquals"].(map[string]any)
						if !slices.Equal(strs(keys["aws:TagKeys"]), []string{wallet.TagJanitorDeleteAfter}) {
							t.Errorf("%s may write tags other than the mark: %s", a, js(st))
						}
					}
				}
			}
		}
	}
	slices.Sort(checked)
	if want := []string{"dynamodb:CreateBackup", "dynamodb:DeleteTable", "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:UpdateTable"}; !slices.Equal(checked, want) {
		t.Errorf("the role's table-changing actions are %v, want %v", checked, want)
	}
}

// strs reads an IAM Action or condition value: one string or a list of them.
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out
	}
	return nil
}

// checkTopic: encrypted with a customer-managed, rotated key whose policy lets CloudWatch
// alarms use it (the AWS-managed SNS key would not), TLS-only publishing, the Errors alarm
// allowed to publish (the topic policy replaces SNS's default one), and the optional email.
func checkTopic(t *testing.T, tc janitorCase, doc map[string]any, ids janitorIDs) {
	t.Helper()
	key := resource(t, doc, ids.key)
	if key["DeletionPolicy"] != "Delete" || key["UpdateReplacePolicy"] != "Delete" {
		t.Errorf("key DeletionPolicy %v: a retained key keeps billing after `cdk destroy`", key["DeletionPolicy"])
	}
	equalFields(t, "key", key["Properties"].(map[string]any), norm(t, map[string]any{
		"Description":         "Encrypts the wallet janitor's notifications; lets its CloudWatch alarm publish to them",
		"EnableKeyRotation":   true,
		"PendingWindowInDays": 7,
		"KeyPolicy": map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Action": "kms:*", "Effect": "Allow", "Principal": map[string]any{"AWS": accountRoot}, "Resource": "*"},
			map[string]any{"Sid": "CloudWatchAlarmsPublish", "Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"}, "Resource": "*"},
		}},
	}))
	equalFields(t, "topic", resource(t, doc, ids.topic)["Properties"].(map[string]any), norm(t, map[string]any{
		"DisplayName":    "Wallet janitor",
		"KmsMasterKeyId": getAtt(ids.key, "Arn"),
		"Tags":           janitorTagList,
	}))
	equalFields(t, "topic policy", resource(t, doc, ids.topicPolicy)["Properties"].(map[string]any), norm(t, map[string]any{
		"Topics": []any{ref(ids.topic)},
		"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Sid": "AllowPublishThroughSSLOnly", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
				"Resource": ref(ids.topic), "Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}},
			map[string]any{"Sid": "ErrorsAlarmPublish", "Effect": "Allow", "Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
				"Action": "sns:Publish", "Resource": ref(ids.topic), "Condition": map[string]any{
					"ArnLike":      map[string]any{"aws:SourceArn": getAtt(ids.alarm, "Arn")},
					"StringEquals": map[string]any{"aws:SourceAccount": ref("AWS::AccountId")},
				}},
		}},
	}))
	var subs []map[string]any
	for _, r := range doc["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::SNS::Subscription" {
			subs = append(subs, r["Properties"].(map[string]any))
		}
	}
	switch {
	case tc.cfg.Email == "" && len(subs) != 0:
		t.Errorf("subscriptions without janitorEmail: %v", subs)
	case tc.cfg.Email != "" && (len(subs) != 1 || !reflect.DeepEqual(subs[0], norm(t, map[string]any{
		"Protocol": "email", "Endpoint": tc.cfg.Email, "TopicArn": ref(ids.topic),
	}))):
		t.Errorf("subscriptions %v, want one email to %s", js(subs), tc.cfg.Email)
	}
}

func checkScheduleAndAlarm(t *testing.T, tc janitorCase, doc map[string]any, ids janitorIDs) {
	t.Helper()
	equalFields(t, "rule", resource(t, doc, ids.rule)["Properties"].(map[string]any), norm(t, map[string]any{
		"Description":        "Runs the wallet janitor",
		"ScheduleExpression": tc.cfg.Schedule,
		"State":              "ENABLED",
		"Targets":            []any{map[string]any{"Arn": getAtt(ids.fn, "Arn"), "Id": "Target0"}},
		"Tags":               janitorTagList,
	}))
	var perms []map[string]any
	for _, r := range doc["Resources"].(map[string]any) {
		if r := r.(map[string]any); r["Type"] == "AWS::Lambda::Permission" {
			perms = append(perms, r["Properties"].(map[string]any))
		}
	}
	if want := norm(t, map[string]any{"Action": "lambda:InvokeFunction", "FunctionName": getAtt(ids.fn, "Arn"),
		"Principal": "events.amazonaws.com", "SourceArn": getAtt(ids.rule, "Arn")}); len(perms) != 1 || !reflect.DeepEqual(perms[0], want) {
		t.Errorf("invoke permissions %s, want only the rule's %s", js(perms), js(want))
	}
	equalFields(t, "alarm", resource(t, doc, ids.alarm)["Properties"].(map[string]any), norm(t, map[string]any{
		"AlarmDescription":   "A wallet janitor run failed (an action failed, it timed out or it crashed); its log group holds the run's report",
		"AlarmActions":       []any{ref(ids.topic)},
		"Namespace":          "AWS/Lambda",
		"MetricName":         "Errors",
		"Dimensions":         []any{map[string]any{"Name": "FunctionName", "Value": ref(ids.fn)}},
		"Statistic":          "Sum",
		"Period":             300,
		"EvaluationPeriods":  1,
		"Threshold":          1,
		"ComparisonOperator": "GreaterThanOrEqualToThreshold",
		"TreatMissingData":   "notBreaching",
		"Tags":               janitorTagList,
	}))
}

// checkLogs: kept a month, and deleted with the stack: logs kept forever are a forgotten cost too.
func checkLogs(t *testing.T, res map[string]any) {
	t.Helper()
	if res["DeletionPolicy"] != "Delete" {
		t.Errorf("log group DeletionPolicy %v, want Delete", res["DeletionPolicy"])
	}
	equalFields(t, "log group", res["Properties"].(map[string]any), norm(t, map[string]any{"RetentionInDays": 30, "Tags": janitorTagList}))
}

// A bad janitor value stops the synth naming its key, together with any bad wallet value, and
// before the function is built.
func TestJanitorRejectsBadContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		keys    []string
	}{
		{"schedule", map[string]any{"janitorSchedule": "every hour"}, []string{"janitorSchedule"}},
		{"grace overflow", map[string]any{"janitorGrace": "616385997d"}, []string{"janitorGrace"}},
		{"grace from cdk.json as a number", map[string]any{"janitorGrace": float64(24)}, []string{"janitorGrace"}},
		{"mode", map[string]any{"janitorMode": "nuke"}, []string{"janitorMode"}},
		{"email", map[string]any{"janitorEmail": "not an address"}, []string{"janitorEmail"}},
		{"arch", map[string]any{"janitorArch": "amd64"}, []string{"janitorArch"}},
		{"with wallet keys", map[string]any{"janitorMode": "nuke", "readCapacity": "abc", "stage": "qa"}, []string{"janitorMode", "readCapacity", "stage"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := refusedKeys(t, tc.context); !slices.Equal(got, tc.keys) {
				t.Errorf("errors name %v, want %v: %v", got, tc.keys, err)
			}
		})
	}
}

// The function's asset hash must not change between synths of the same code, wherever the
// checkout is: otherwise every `cdk deploy` would replace the function for nothing. Two builds,
// one of them from a copy of the module at another path, must give the same bytes and, through
// CDK, the same S3 key.
func TestJanitorBuildIsReproducible(t *testing.T) {
	here, err := janitorBuilds[contract.ArchARM64]()
	if err != nil {
		t.Fatal(err)
	}
	copyDir := filepath.Join(t.TempDir(), "elsewhere", "wallet")
	copyModule(t, repoRoot(t), copyDir)
	there := t.TempDir()
	t.Chdir(filepath.Join(copyDir, "infra"))
	if err := buildJanitor(t.Context(), contract.ArchARM64, there); err != nil {
		t.Fatal(err)
	}
	a, b := fileHash(t, filepath.Join(here, "bootstrap")), fileHash(t, filepath.Join(there, "bootstrap"))
	if a != b {
		t.Fatalf("the same code built at another path differs: %s vs %s", a, b)
	}
	keyOf := func(dir string) string {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
		built, err := build(app, func(pkg string, arch contract.Arch) (string, error) {
			if pkg == janitorPackage {
				return dir, nil
			}
			return testCode(t)(pkg, arch)
		})
		if err != nil {
			t.Fatal(err)
		}
		fn := assertions.Template_FromStack(built.Janitor, nil).FindResources(jsii.String("AWS::Lambda::Function"), nil)
		for _, r := range *fn {
			return js((*r)["Properties"].(map[string]any)["Code"])
		}
		t.Fatal("no function")
		return ""
	}
	if k1, k2 := keyOf(here), keyOf(there); k1 != k2 {
		t.Errorf("asset keys differ between synths of the same code: %s vs %s", k1, k2)
	}
}

// copyModule copies the module's tracked Go sources and go.mod/go.sum (what a fresh clone has,
// minus node_modules) to dst.
func copyModule(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "--cached", "--others", "--exclude-standard", "*.go", "go.mod", "go.sum").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, f := range strings.Fields(string(out)) {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// refusedKeys builds the app with a bad context and returns the keys its errors name, sorted,
// and the error. Nothing may be built first, the error must be the context's, and each of its
// errors must name its key, its value and what is allowed.
func refusedKeys(t *testing.T, context map[string]any) ([]string, error) {
	t.Helper()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &context, Outdir: jsii.String(t.TempDir())})
	_, err := build(app, func(string, contract.Arch) (string, error) {
		t.Error("a function was built despite a bad context value")
		return "", errors.New("not built")
	})
	var ce *contract.ConfigErrors
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigErrors, got %v", err)
	}
	var got []string
	for _, e := range ce.Errs {
		var c *contract.ContextError
		if !errors.As(e, &c) || !strings.Contains(e.Error(), c.Value) || c.Allowed == "" {
			t.Errorf("%v does not name its key, value and what is allowed", e)
			continue
		}
		got = append(got, c.Key)
	}
	slices.Sort(got)
	return got, err
}

// checkLedger: the ledger of deletions is on demand, keyed by id, with PITR and deletion
// protection on, retained by `cdk destroy` and by a replacement, and tagged as the ledger, never
// Project=wallet.
func checkLedger(t *testing.T, res map[string]any) {
	t.Helper()
	if res["DeletionPolicy"] != "Retain" || res["UpdateReplacePolicy"] != "Retain" {
		t.Errorf("ledger DeletionPolicy %v UpdateReplacePolicy %v, want Retain: its records outlive the stack", res["DeletionPolicy"], res["UpdateReplacePolicy"])
	}
	equalFields(t, "ledger", res["Properties"].(map[string]any), norm(t, map[string]any{
		"TableName":                        wallet.LedgerTable,
		"KeySchema":                        []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"AttributeDefinitions":             []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}},
		"BillingMode":                      "PAY_PER_REQUEST",
		"DeletionProtectionEnabled":        true,
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"Tags":                             tags("ManagedBy", "cdk", "Project", "wallet-ledger", "Stack", "WalletJanitor", "wallet:ledger", "deletions"),
	}))
}

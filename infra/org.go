package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// orgParts are what the organization's janitor adds to the janitor stack (janitorOrg=true).
type orgParts struct {
	Queue    awssqs.Queue
	Worker   awslambda.Function
	StackSet awscloudformation.CfnStackSet
	// Ledgers is the StackSet that puts the ledger in every member account, in each of the
	// janitor's regions: the member role writes the records of its account's deletions there.
	Ledgers awscloudformation.CfnStackSet
}

// Sizing of the worker queue: a message stays invisible for as long as a worker may hold it (the
// function's 15 minutes), and one a worker failed three times goes to the dead-letter queue,
// which the worker's Errors alarm will already have announced.
const (
	orgQueueVisibilityMinutes = janitorTimeoutMinutes
	orgMaxReceives            = 3
	orgDLQRetentionDays       = 14
)

// addOrgJanitor turns the stack's janitor into the organization's: the scheduled function runs
// over every account and region (WALLET_JANITOR_ORG=central), a queue carries the units one
// run cannot reach to a worker function with reserved concurrency, and a service-managed
// StackSet with automatic deployment puts the role WalletJanitorMember in every member account
// of the targets. Service-managed StackSets never deploy to the management account: the central
// functions sweep their own account with their own role.
func addOrgJanitor(stack awscdk.Stack, props *JanitorStackProps, central awslambda.Function, role awsiam.Role,
	own awsiam.Policy, topic awssns.Topic, logs awslogs.LogGroup, env map[string]string) orgParts {
	queue := newUnitsQueue(stack)
	orgEnv := orgEnvironment(stack, props.Org, queue)
	for k, v := range orgEnv {
		central.AddEnvironment(jsii.String(k), jsii.String(v), nil)
	}
	central.AddEnvironment(jsii.String(contract.EnvJanitorOrg), jsii.String(contract.JanitorOrgCentral), nil)
	workerEnv := map[string]string{contract.EnvJanitorOrg: contract.JanitorOrgWorker}
	maps.Copy(workerEnv, env)
	maps.Copy(workerEnv, orgEnv)
	worker := newWorker(stack, props, role, logs, workerEnv)
	worker.AddEventSource(awslambdaeventsources.NewSqsEventSource(queue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize: jsii.Number(1), // one unit per invocation: a failure retries that unit alone
	}))
	queue.GrantSendMessages(role)
	// A unit that failed is a failed run too.
	newErrorsAlarm(stack, "Worker", worker, topic, "A wallet janitor worker run failed (a unit of the organization); its log group holds the run's report")

	enter := newOrgPolicy(stack, role, props.Org.ID)
	// Both functions run with the central role: neither may start before the role's policies
	// exist, its own, the organization's, and the default one CDK writes the queue's grants to
	// (the worker's event source mapping is refused by Lambda until the role may receive). Each
	// DependsOn is set whole: AddDependency would be lost under the central function's override
	// (NewJanitorStack).
	queueGrants := role.Node().FindChild(jsii.String("DefaultPolicy")).(awsiam.Policy)
	dependsOnOnly(central, own, enter, queueGrants)
	dependsOnOnly(worker, own, enter, queueGrants)
	return orgParts{Queue: queue, Worker: worker, StackSet: newMemberStackSet(stack, props.Org, role), Ledgers: newMemberLedgers(stack, props.Org)}
}

// newMemberLedgers is the service-managed StackSet that puts the ledger (newLedger's, as a
// template) in every member account of the targets, in each region the janitor sweeps: a
// member account's deletions are written down in that account, by the member role, where the
// account's own people read them (`verify history`) and nobody of the central account can change
// them. Its stack instances are removed with an account that leaves; the ledger itself is
// retained (DeletionPolicy Retain), with its records.
func newMemberLedgers(stack awscdk.Stack, oc contract.JanitorOrg) awscloudformation.CfnStackSet {
	var regions []*string
	for _, r := range oc.Regions {
		regions = append(regions, jsii.String(r))
	}
	if len(regions) == 0 {
		regions = []*string{stack.Region()}
	}
	return awscloudformation.NewCfnStackSet(stack, jsii.String("MemberLedger"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(contract.JanitorMemberRole + "Ledger"),
		Description:     jsii.String("The ledger of deletions in each member account and region the wallet janitor sweeps"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		ManagedExecution: map[string]any{"Active": true},
		StackInstancesGroup: &[]any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(oc.Targets...)},
			Regions:           &regions,
		}},
		TemplateBody: jsii.String(ledgerTemplate()),
	})
}

// ledgerTemplate is the member accounts' ledger: the janitor stack's own (newLedger), written out
// as CloudFormation.
func ledgerTemplate() string {
	var tags []any
	for _, k := range slices.Sorted(maps.Keys(ledgerTags())) {
		tags = append(tags, map[string]any{"Key": k, "Value": ledgerTags()[k]})
	}
	tmpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "The ledger of the wallet janitor's deletions in this account and region",
		"Resources": map[string]any{
			"Ledger": map[string]any{
				"Type":                "AWS::DynamoDB::Table",
				"DeletionPolicy":      "Retain",
				"UpdateReplacePolicy": "Retain",
				"Properties": map[string]any{
					"TableName":                        wallet.LedgerTable,
					"KeySchema":                        []any{map[string]any{"AttributeName": wallet.LedgerKey, "KeyType": "HASH"}},
					"AttributeDefinitions":             []any{map[string]any{"AttributeName": wallet.LedgerKey, "AttributeType": "S"}},
					"BillingMode":                      "PAY_PER_REQUEST",
					"DeletionProtectionEnabled":        true,
					"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
					"Tags":                             tags,
				},
			},
		},
	}
	b, err := json.Marshal(tmpl)
	if err != nil {
		panic(fmt.Sprintf("ledger template: %v", err)) // a map of strings always encodes
	}
	return string(b)
}

// newUnitsQueue is the queue of (account, region) units one scheduled run hands to the worker,
// with a dead-letter queue for a unit that failed orgMaxReceives times.
func newUnitsQueue(stack awscdk.Stack) awssqs.Queue {
	dlq := awssqs.NewQueue(stack, jsii.String("UnitsDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(orgDLQRetentionDays)),
	})
	return awssqs.NewQueue(stack, jsii.String("Units"), &awssqs.QueueProps{
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Minutes(jsii.Number(orgQueueVisibilityMinutes)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(orgMaxReceives)},
	})
}

// orgEnvironment is what both functions read of the organization: the member role, the regions
// (default: the stack's own), the queue and the per-run budget.
func orgEnvironment(stack awscdk.Stack, oc contract.JanitorOrg, queue awssqs.Queue) map[string]string {
	regions := strings.Join(oc.Regions, ",")
	if regions == "" {
		regions = *stack.Region()
	}
	return map[string]string{
		contract.EnvJanitorOrgRole:     contract.JanitorMemberRole,
		contract.EnvJanitorOrgRegions:  regions,
		contract.EnvJanitorOrgQueueURL: *queue.QueueUrl(),
		contract.EnvJanitorUnitsPerRun: fmt.Sprint(oc.UnitsPerRun),
	}
}

// newWorker is the function that runs the units one scheduled run could not reach: the same
// code asset and role as the central function, with reserved concurrency Workers.
func newWorker(stack awscdk.Stack, props *JanitorStackProps, role awsiam.Role, logs awslogs.LogGroup, env map[string]string) awslambda.Function {
	return awslambda.NewFunction(stack, jsii.String("Worker"), &awslambda.FunctionProps{
		Description:  jsii.String("Wallet janitor worker: runs the (account, region) units one scheduled run could not reach"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(props.CodeDir), nil), // the same asset: one build
		Architecture: lambdaArch(props.Config.Arch),
		MemorySize:   jsii.Number(janitorMemoryMB),
		Timeout:      awscdk.Duration_Minutes(jsii.Number(janitorTimeoutMinutes)),
		// Units of different accounts and regions never touch the same table: they may run at
		// once, as many as the organization's accounts can bear.
		ReservedConcurrentExecutions: jsii.Number(float64(props.Org.Workers)),
		Role:                         role,
		LogGroup:                     logs,
		Environment:                  stringMap(env),
	})
}

// newOrgPolicy lets the central role (both functions run with it) list the accounts and enter
// each through its member role; nothing else of another account is reachable from here. The
// member role's name is the same in every account, so the ARN alone would let the role be
// assumed in any account that has a role of that name trusting it, inside the organization or
// not: the aws:ResourceOrgID condition holds AssumeRole to roles of accounts in orgID (the
// janitorOrgId the stack is deployed with), whatever a queue message or ListAccounts names.
func newOrgPolicy(stack awscdk.Stack, role awsiam.Role, orgID string) awsiam.Policy {
	enter := awsiam.NewPolicy(stack, jsii.String("OrgPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("ListAccounts"),
				Actions:   jsii.Strings("organizations:ListAccounts"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("EnterMemberAccounts"),
				Actions:    jsii.Strings("sts:AssumeRole"),
				Resources:  &[]*string{jsii.String(fmt.Sprintf("arn:%s:iam::*:role/%s", *stack.Partition(), contract.JanitorMemberRole))},
				Conditions: &map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": orgID}},
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(enter, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("organizations:ListAccounts takes no resource; the member role has the same name in every account of the organization, so any account is named, and aws:ResourceOrgID holds it to the organization's accounts (the role's own trust limits it to this role within the organization)."),
	}}, nil)
	return enter
}

// newMemberStackSet is the service-managed StackSet that puts WalletJanitorMember in every
// account of the targets, automatically in accounts that join them. The member role trusts the
// central role by ARN: the Fn::GetAtt of CentralRoleArn makes the role exist first (an explicit
// DependsOn would repeat it, cfn-lint W3005).
func newMemberStackSet(stack awscdk.Stack, oc contract.JanitorOrg, role awsiam.Role) awscloudformation.CfnStackSet {
	return awscloudformation.NewCfnStackSet(stack, jsii.String("MemberRole"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(contract.JanitorMemberRole),
		Description:     jsii.String("The role the wallet janitor of the organization assumes in each member account"),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled:                      jsii.Bool(true),
			RetainStacksOnAccountRemoval: jsii.Bool(false),
		},
		Capabilities: jsii.Strings("CAPABILITY_NAMED_IAM"),
		// ManagedExecution is passed through as JSON (CDK's property struct would write "active").
		ManagedExecution: map[string]any{"Active": true},
		// IAM is global: one region per account is enough for the role.
		StackInstancesGroup: &[]any{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(oc.Targets...)},
			Regions:           &[]*string{stack.Region()},
		}},
		Parameters: &[]any{
			&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String("CentralRoleArn"), ParameterValue: role.RoleArn()},
			&awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String("OrganizationId"), ParameterValue: jsii.String(oc.ID)},
		},
		TemplateBody: jsii.String(memberTemplate(stack)),
	})
}

// memberTemplate is the StackSet's template: the role WalletJanitorMember, trusting only the
// central role, only from within the organization (aws:PrincipalOrgID), with exactly the
// statements the central role runs its own account with (janitorRunStatements): the table
// actions only on tables tagged Project=wallet, tag writes only of the mark's key, no
// dynamodb:DeleteBackup. They are resolved here and evaluated in each member account (their
// ARNs name AWS::AccountId). Nothing of the mark key: marks are signed and checked centrally,
// with the central role's credentials, so no member account can sign one.
func memberTemplate(stack awscdk.Stack) string {
	run := janitorRunStatements(stack)
	doc := awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &run})
	statements := stack.Resolve(doc).(map[string]any)["Statement"].([]any)
	tmpl := map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "The role the organization's wallet janitor assumes in this account",
		"Parameters": map[string]any{
			"CentralRoleArn": map[string]any{"Type": "String"},
			"OrganizationId": map[string]any{"Type": "String"},
		},
		"Resources": map[string]any{
			"Role": map[string]any{
				"Type": "AWS::IAM::Role",
				"Properties": map[string]any{
					"RoleName":    contract.JanitorMemberRole,
					"Description": "Assumed by the organization's wallet janitor: find, mark, back up and delete forgotten wallet tables",
					"AssumeRolePolicyDocument": map[string]any{
						"Version": "2012-10-17",
						"Statement": []any{map[string]any{
							"Effect":    "Allow",
							"Principal": map[string]any{"AWS": map[string]any{"Ref": "CentralRoleArn"}},
							"Action":    "sts:AssumeRole",
							"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": map[string]any{"Ref": "OrganizationId"}}},
						}},
					},
					"Policies": []any{map[string]any{
						"PolicyName":     "WalletJanitorRun",
						"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": statements},
					}},
					"Tags": []any{
						map[string]any{"Key": wallet.TagProject, "Value": wallet.ProjectName},
						map[string]any{"Key": wallet.TagManagedBy, "Value": wallet.ManagedByCDK},
					},
				},
			},
		},
	}
	b, err := json.Marshal(tmpl)
	if err != nil {
		panic(fmt.Sprintf("member template: %v", err)) // a map of strings always encodes
	}
	return string(b)
}

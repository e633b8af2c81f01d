package main

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// WalletStackProps shapes one wallet stack. Config comes validated from contract.ParseStack,
// Check from contract.ParseDeployCheck.
type WalletStackProps struct {
	awscdk.StackProps
	Config contract.Stack
	// Check is the check inside the deploy; CheckCodeDir holds its function, built for
	// Check.Arch (buildFunction), when Check.Enabled.
	Check        contract.DeployCheck
	CheckCodeDir string
	// Deployed is the synth's time, a property of the check's custom resource: it differs on
	// every synth, so CloudFormation runs the check on every deploy.
	Deployed time.Time
}

// NewWalletStack declares the wallet table and the least-privilege managed policy that `verify
// check` needs. The policy to tear wallet stacks down lives in the janitor stack
// (NewJanitorStack): a permission inside the stack it deletes could go halfway through that
// DeleteStack. props is required: its Config decides the table's shape and lifecycle.
func NewWalletStack(scope constructs.Construct, id string, props *WalletStackProps) awscdk.Stack {
	sprops, cfg := props.StackProps, props.Config
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("Wallet DynamoDB table (%s) and the IAM policy to verify it", cfg.Stage))
	}
	stack := awscdk.NewStack(scope, &id, &sprops)

	table := newTable(stack, cfg)
	verify := newVerifyPolicy(stack, table)
	if props.Check.Enabled {
		newDeployCheck(stack, table, verify, props)
	}

	// Tags on the stack reach every taggable resource in it and the stack itself; the sweep
	// recognises our tables by them (Project=wallet) and expires dev ones by ExpiresAfter.
	tags := cfg.Tags()
	keys := slices.Sorted(maps.Keys(tags))
	for _, k := range keys {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(tags[k]), nil)
	}

	for _, o := range []struct{ key, value, desc string }{
		{wallet.OutputTableName, *table.TableName(), "Physical name of the wallet table"},
		{wallet.OutputTableArn, *table.TableArn(), "ARN of the wallet table"},
		{wallet.OutputVerifyPolicyArn, *verify.ManagedPolicyArn(), "Managed policy for `verify check` on this stack"},
	} {
		awscdk.NewCfnOutput(stack, jsii.String(o.key), &awscdk.CfnOutputProps{
			Value:       jsii.String(o.value),
			Description: jsii.String(o.desc),
		})
	}
	return stack
}

// newTable is the plain AWS::DynamoDB::Table (not TableV2/GlobalTable): moto, the local cloud,
// deploys only the plain resource, and a single-region wallet needs nothing more.
func newTable(stack awscdk.Stack, cfg contract.Stack) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		// Only the key is declared: balance is an ordinary attribute, so it never becomes an
		// AttributeDefinition.
		PartitionKey: &awsdynamodb.Attribute{
			Name: jsii.String(wallet.KeyAttribute),
			Type: awsdynamodb.AttributeType_STRING,
		},
		TimeToLiveAttribute: jsii.String(wallet.TTLAttribute),
		// prod survives `cdk destroy` and accidental DeleteTable; dev must not outlive its
		// stack, or it keeps billing (the AWS example's default RETAIN does exactly that).
		RemovalPolicy:      awscdk.RemovalPolicy_DESTROY,
		DeletionProtection: jsii.Bool(cfg.Retained()),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(cfg.Retained()),
		},
	}
	if cfg.Retained() {
		props.RemovalPolicy = awscdk.RemovalPolicy_RETAIN
	}
	if cfg.TableName != "" {
		props.TableName = jsii.String(cfg.TableName)
	}
	switch cfg.Billing {
	case wallet.BillingOnDemand:
		props.BillingMode = awsdynamodb.BillingMode_PAY_PER_REQUEST
	default:
		props.BillingMode = awsdynamodb.BillingMode_PROVISIONED
		props.ReadCapacity = jsii.Number(cfg.ReadCapacity)
		props.WriteCapacity = jsii.Number(cfg.WriteCapacity)
	}
	// Only Standard-IA is written: absent is STANDARD, to CloudFormation and to conformance (which
	// reads an absent TableClass as STANDARD), so a stack deployed before tableClass existed is
	// not updated by this key's default, and a class change (AWS allows two in 30 days) happens
	// only when asked for.
	if cfg.TableClass == wallet.ClassStandardIA {
		props.TableClass = awsdynamodb.TableClass_STANDARD_INFREQUENT_ACCESS
	}
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), props)
	autoScale(table, cfg)

	// AwsSolutions has no backup-plan rule for DynamoDB (its DDB4 is DAX encryption), so PITR
	// is the one backup finding, and it only fires where PITR is off on purpose.
	if !cfg.Retained() {
		// On the table resource alone: its auto scaling, beneath it, has no PITR to excuse.
		cdknag.NagSuppressions_AddResourceSuppressions(table.Node().DefaultChild(), &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-DDB3"),
			Reason: jsii.String("dev tables are disposable test fixtures that expire (ExpiresAfter tag); PITR would only add cost. prod enables it."),
		}}, jsii.Bool(false))
	}
	return table
}

// autoScale declares Application Auto Scaling on each dimension given a maximum: a scalable
// target from the dimension's capacity (the minimum) to its maximum, and a target-tracking
// policy on DynamoDB's utilization metric of that dimension. CDK's ScalableTableAttribute is
// the well-kept way: it names the table's resource id and the service-linked role as
// Application Auto Scaling wants them.
func autoScale(table awsdynamodb.Table, cfg contract.Stack) {
	utilization := &awsdynamodb.UtilizationScalingProps{TargetUtilizationPercent: jsii.Number(cfg.TargetUtilization)}
	if cfg.ReadMax > 0 {
		table.AutoScaleReadCapacity(&awsdynamodb.EnableScalingProps{
			MinCapacity: jsii.Number(cfg.ReadCapacity), MaxCapacity: jsii.Number(cfg.ReadMax),
		}).ScaleOnUtilization(utilization)
	}
	if cfg.WriteMax > 0 {
		table.AutoScaleWriteCapacity(&awsdynamodb.EnableScalingProps{
			MinCapacity: jsii.Number(cfg.WriteCapacity), MaxCapacity: jsii.Number(cfg.WriteMax),
		}).ScaleOnUtilization(utilization)
	}
}

// verifyPolicyID is the VerifyPolicy's construct id. CloudFormation names the managed policy
// <stack>-<logical id>-<suffix>, the logical id being this id and CDK's 8-character hash: the
// TeardownPolicy's IAM actions reach exactly such names (walletPolicies).
const verifyPolicyID = "VerifyPolicy"

// newVerifyPolicy lets `verify check` read and write items of this table and read this stack,
// nothing else. The transfer check uses TransactWriteItems, which has no IAM action of its own:
// DynamoDB authorises each item in the transaction by its per-item action (PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem), so those are what is granted. BatchGetItem is how the
// clean-up proves its test items are gone. The conformance check compares the table's auto
// scaling with the declared through Application Auto Scaling's two Describe calls, which take no
// resource. No DeleteTable, here or anywhere in this stack.
func newVerifyPolicy(stack awscdk.Stack, table awsdynamodb.Table) awsiam.ManagedPolicy {
	policy := awsiam.NewManagedPolicy(stack, jsii.String(verifyPolicyID), &awsiam.ManagedPolicyProps{
		Description: jsii.String("verify check: items and settings of the " + *stack.StackName() + " wallet table, and that stack only"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletTable"),
				Actions: jsii.Strings(
					"dynamodb:GetItem",
					"dynamodb:BatchGetItem",
					"dynamodb:PutItem",
					"dynamodb:UpdateItem",
					"dynamodb:DeleteItem",
					"dynamodb:ConditionCheckItem",
					"dynamodb:DescribeTable",
					"dynamodb:DescribeTimeToLive",
					"dynamodb:DescribeContinuousBackups",
					"dynamodb:ListTagsOfResource",
				),
				Resources: &[]*string{table.TableArn()},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletStack"),
				Actions: jsii.Strings(
					"cloudformation:DescribeStacks",
					"cloudformation:ListStackResources",
					"cloudformation:GetTemplate",
				),
				// AWS::StackId is this deployment's ARN, unique id included: a later stack of
				// the same name is not covered, and it gets its own policy anyway.
				Resources: &[]*string{stack.StackId()},
			}),
			// Granted whether or not this stack auto scales: a fixed table that someone auto
			// scales behind CloudFormation's back is drift the check must see.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletTableScaling"),
				Actions: jsii.Strings(
					"application-autoscaling:DescribeScalableTargets",
					"application-autoscaling:DescribeScalingPolicies",
				),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(policy, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("Application Auto Scaling's DescribeScalableTargets and DescribeScalingPolicies take no resource: IAM authorizes them only on *. " +
			"They read, never change, scaling settings; every other statement names this table or this stack."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(false))
	return policy
}

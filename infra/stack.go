package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// WalletStackProps shapes one wallet stack. Config comes validated from wallet.ParseConfig.
type WalletStackProps struct {
	awscdk.StackProps
	Config wallet.Config
}

// NewWalletStack declares the wallet table and the two least-privilege managed policies that
// the verify binary needs to check it and to tear it (and its forgotten siblings) down. props is
// required: its Config decides the table's shape and lifecycle.
func NewWalletStack(scope constructs.Construct, id string, props *WalletStackProps) awscdk.Stack {
	sprops, cfg := props.StackProps, props.Config
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("Wallet DynamoDB table (%s) and the IAM policies to verify and tear it down", cfg.Stage))
	}
	stack := awscdk.NewStack(scope, &id, &sprops)

	table := newTable(stack, cfg)
	verify := newVerifyPolicy(stack, table)
	teardown := newTeardownPolicy(stack)

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
		{wallet.OutputTeardownPolicyArn, *teardown.ManagedPolicyArn(), "Managed policy for `verify teardown|sweep` of wallet stacks and tables"},
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
func newTable(stack awscdk.Stack, cfg wallet.Config) awsdynamodb.Table {
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
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), props)

	// AwsSolutions has no backup-plan rule for DynamoDB (its DDB4 is DAX encryption), so PITR
	// is the one backup finding, and it only fires where PITR is off on purpose.
	if !cfg.Retained() {
		cdknag.NagSuppressions_AddResourceSuppressions(table, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-DDB3"),
			Reason: jsii.String("dev tables are disposable test fixtures that expire (ExpiresAfter tag); PITR would only add cost. prod enables it."),
		}}, jsii.Bool(true))
	}
	return table
}

// newVerifyPolicy lets `verify check` read and write items of this table and read this stack,
// nothing else. The transfer check uses TransactWriteItems, which has no IAM action of its own:
// DynamoDB authorises each item in the transaction by its per-item action (PutItem, UpdateItem,
// DeleteItem, ConditionCheckItem), so those are what is granted.
func newVerifyPolicy(stack awscdk.Stack, table awsdynamodb.Table) awsiam.ManagedPolicy {
	return awsiam.NewManagedPolicy(stack, jsii.String("VerifyPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("verify check: items and settings of the " + *stack.StackName() + " wallet table, and that stack only"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletTable"),
				Actions: jsii.Strings(
					"dynamodb:GetItem",
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
		},
	})
}

// Resource ARNs of the teardown policy, kept as the exact strings cdk-nag reports them in, so
// each IAM5 wildcard suppression names the one resource it applies to.
const (
	nagAnyResource    = "Resource::*"
	nagAnyTable       = "Resource::arn:<AWS::Partition>:dynamodb:*:<AWS::AccountId>:table/*"
	nagAnyWalletStack = "Resource::arn:<AWS::Partition>:cloudformation:*:<AWS::AccountId>:stack/" + wallet.StackPrefix + "*/*"
	nagWalletPolicies = "Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/" + wallet.StackPrefix + "*"
)

// newTeardownPolicy lets `verify teardown|sweep` find forgotten tables in any region of this
// account, export and restore them, turn deletion protection off and delete them, and delete
// wallet stacks. Account-wide by nature: the sweep exists for tables no stack remembers.
// sts:GetCallerIdentity (naming the account back before deleting) needs no permission at all.
func newTeardownPolicy(stack awscdk.Stack) awsiam.ManagedPolicy {
	anyTable := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("table"),
		ResourceName: jsii.String("*"),
	})
	walletStacks := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cloudformation"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("stack"),
		ResourceName: jsii.String(wallet.StackPrefix + "*/*"),
	})
	walletPolicies := stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("iam"),
		Region:       jsii.String(""),
		Resource:     jsii.String("policy"),
		ResourceName: jsii.String(wallet.StackPrefix + "*"),
	})
	p := awsiam.NewManagedPolicy(stack, jsii.String("TeardownPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("verify teardown|sweep: find, export, restore and delete wallet tables and stacks of this account"),
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("ListTables"),
				// ListTables has no resource-level permissions: "*" is the only resource it takes.
				Actions:   jsii.Strings("dynamodb:ListTables"),
				Resources: jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("Tables"),
				Actions: jsii.Strings(
					"dynamodb:DescribeTable",
					"dynamodb:ListTagsOfResource",
					"dynamodb:UpdateTable", // to turn deletion protection off
					"dynamodb:DeleteTable",
					"dynamodb:Scan",           // export
					"dynamodb:CreateTable",    // restore
					"dynamodb:BatchWriteItem", // restore
				),
				Resources: &[]*string{anyTable},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletStacks"),
				Actions: jsii.Strings(
					"cloudformation:DescribeStacks",
					"cloudformation:ListStackResources",
					"cloudformation:GetTemplate", // which tables the stack retains (DeletionPolicy)
					"cloudformation:DeleteStack",
				),
				Resources: &[]*string{walletStacks},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("WalletStackPolicies"),
				// DeleteStack runs with the caller's credentials, so deleting a wallet stack also
				// means deleting its two managed policies, which CloudFormation names
				// <stack>-<logical id>-<suffix>. (A policy still attached to a role outside the
				// stack makes DeleteStack fail with DeleteConflict: detach it first.)
				Actions: jsii.Strings(
					"iam:GetPolicy",
					"iam:ListPolicyVersions",
					"iam:DeletePolicyVersion",
					"iam:DeletePolicy",
				),
				Resources: &[]*string{walletPolicies},
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("Metrics"),
				// CloudWatch metric reads have no resource-level permissions either.
				Actions:   jsii.Strings("cloudwatch:GetMetricData"),
				Resources: jsii.Strings("*"),
			}),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(p, &[]*cdknag.NagPackSuppression{
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("dynamodb:ListTables and CloudWatch metric reads support no resource-level permissions; * is the only resource they accept."),
			AppliesTo: &[]interface{}{nagAnyResource},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("The sweep exists to find tables no stack remembers, in any region of this account, so it cannot name them in advance."),
			AppliesTo: &[]interface{}{nagAnyTable},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("Limited to wallet stacks (Wallet-<stage>) of this account; the trailing * is CloudFormation's per-deployment stack id."),
			AppliesTo: &[]interface{}{nagAnyWalletStack},
		},
		{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String("Limited to the managed policies of wallet stacks, which CloudFormation names <stack>-<logical id>-<suffix>; DeleteStack needs to delete them."),
			AppliesTo: &[]interface{}{nagWalletPolicies},
		},
	}, nil)
	return p
}

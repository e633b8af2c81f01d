package main

import (
	"encoding/json"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

const (
	checkMemoryMB     = 256
	checkLogRetention = awslogs.RetentionDays_ONE_MONTH
	// checkAnswerSlack is how much longer than the function's timeout CloudFormation waits for
	// an answer (the custom resource's ServiceTimeout): a function that dies without answering
	// then fails the deploy minutes later, not after CloudFormation's default hour.
	checkAnswerSlack = time.Minute
)

// newDeployCheck is the check inside the deploy: verify's checks as a Go function, run by a
// custom resource of its own once the table and its policy exist. The function is the custom
// resource's provider (it answers CloudFormation itself), so nothing else runs with any
// permission: its role has the VerifyPolicy — exactly what `verify` has —, writing its own
// logs, and reading its own stack's status (how it tells a rollback from a deploy). The custom
// resource's Deployed property is the synth's time, so every deploy updates it, and
// CloudFormation runs the check every time, not only when the function's code changes.
// A failed check fails the resource, and CloudFormation rolls the deployment back.
//
// The resource is an AWS::CloudFormation::CustomResource rather than a Custom::<name>: moto's
// CloudFormation invokes Custom:: resources in Docker and, without it, leaves the stack in
// progress for ever; AWS::CloudFormation::CustomResource it skips, so `cdk deploy` works on the
// local cloud (internal/localcloud/cfngap runs the check there, as CloudFormation would).
func newDeployCheck(stack awscdk.Stack, table awsdynamodb.Table, verify awsiam.ManagedPolicy, props *WalletStackProps) awscdk.CustomResource {
	cfg, check := props.Config, props.Check
	logs := awslogs.NewLogGroup(stack, jsii.String("CheckLogs"), &awslogs.LogGroupProps{
		Retention:     checkLogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String("CheckRole"), &awsiam.RoleProps{
		AssumedBy:       awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description:     jsii.String("The wallet deploy check: the VerifyPolicy, its own logs and its stack's status"),
		ManagedPolicies: &[]awsiam.IManagedPolicy{verify},
	})
	own := awsiam.NewPolicy(stack, jsii.String("CheckPolicy"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{role},
		Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("Logs"),
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: &[]*string{logs.LogGroupArn()},
			}),
			// The stack's status tells CloudFormation rolling back (an Update that must pass
			// unchecked) from a deploy. Stated here although the VerifyPolicy has it too: the
			// check needs it whatever verify comes to need. AWS::StackId is this deployment's
			// ARN, unique id included.
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("OwnStackStatus"),
				Actions:   jsii.Strings("cloudformation:DescribeStacks"),
				Resources: &[]*string{stack.StackId()},
			}),
		},
	})
	declared, err := json.Marshal(cfg.Context())
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	arch := lambdaArch(check.Arch)
	fn := awslambda.NewFunction(stack, jsii.String("CheckFunction"), &awslambda.FunctionProps{
		Description:  jsii.String("Wallet deploy check: verify's checks on this stack's table, run by CloudFormation on every deploy"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(props.CheckCodeDir), nil),
		Architecture: arch,
		MemorySize:   jsii.Number(checkMemoryMB),
		Timeout:      awscdk.Duration_Seconds(jsii.Number(check.Timeout.Seconds())),
		Role:         role,
		LogGroup:     logs,
		Environment: &map[string]*string{
			wallet.EnvCheckTable:    table.TableName(),
			wallet.EnvCheckStack:    stack.StackName(),
			wallet.EnvCheckDeclared: jsii.String(string(declared)),
		},
	})
	dependsOnOnly(fn, own)

	cr := awscdk.NewCustomResource(stack, jsii.String("DeployCheck"), &awscdk.CustomResourceProps{
		ServiceToken: fn.FunctionArn(),
		Properties: &map[string]any{
			wallet.CheckPropDeployed: props.Deployed.UTC().Format(time.RFC3339Nano),
		},
	})
	// ServiceTimeout as a number: CDK's ServiceTimeout prop writes a string, which the CLI's
	// template validation warns about on every synth.
	cr.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("ServiceTimeout"),
		jsii.Number((check.Timeout + checkAnswerSlack).Seconds()))
	// Once the table is what this deployment declares, and the function may use it.
	cr.Node().AddDependency(table, verify, role, own)
	return cr
}

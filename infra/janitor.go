package main

import (
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// JanitorStackProps shapes the janitor stack. Config comes validated from
// contract.ParseJanitor; CodeDir holds the function built for Config.Arch (buildJanitor).
type JanitorStackProps struct {
	awscdk.StackProps
	Config  contract.Janitor
	CodeDir string
	// Org, when Org.Org, makes it the organization's janitor (org.go).
	Org contract.JanitorOrg
}

// Sizing of one run. A run reads every table of the region and, in phase 2, waits for backups
// and for stacks to delete: a few hundred tables fit in the Lambda maximum of 15 minutes, and a
// run cut short is safe to repeat (the tags are its state), so the next one finishes the work.
// 256 MB is plenty for a Go binary that holds a few hundred table descriptions.
const (
	janitorTimeoutMinutes = 15
	janitorMemoryMB       = 256
	// janitorLogRetention: logs kept forever are a forgotten cost too.
	janitorLogRetention = awslogs.RetentionDays_ONE_MONTH
	// janitorKeyPendingDays: a destroyed stack's key is scheduled for deletion, not kept billing.
	janitorKeyPendingDays = 7
)

// NewJanitorStack declares the janitor: a scheduled Go function that finds forgotten wallet
// tables, a topic it (and its Errors alarm) announces on, the HMAC key only it may sign its
// marks with, and the account-wide TeardownPolicy that people and pipelines running `verify
// sweep|teardown` attach. The function does not run with the TeardownPolicy: its role has its own
// statements, whose table actions hold only on tables tagged Project=wallet. One per account
// and region.
func NewJanitorStack(scope constructs.Construct, id string, props *JanitorStackProps) awscdk.Stack {
	sprops, cfg := props.StackProps, props.Config
	if sprops.Description == nil {
		sprops.Description = jsii.String(fmt.Sprintf("Wallet janitor: finds forgotten wallet tables (%s, mode %s) and the policy to tear wallet stacks down", cfg.Schedule, cfg.Mode))
	}
	stack := awscdk.NewStack(scope, &id, &sprops)

	key := newTopicKey(stack)
	topic := awssns.NewTopic(stack, jsii.String("Topic"), &awssns.TopicProps{
		DisplayName: jsii.String("Wallet janitor"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if cfg.Email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(cfg.Email), nil))
	}

	logs := awslogs.NewLogGroup(stack, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     janitorLogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	role := awsiam.NewRole(stack, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("The wallet janitor function: finds, marks, backs up and deletes wallet tables (Project=wallet only), its logs and its topic"),
	})
	teardown := newTeardownPolicy(stack)
	newLedger(stack)
	markKey := newMarkKey(stack, role)
	own := newJanitorPolicy(stack, role, logs, topic, key, markKey)

	cfg.TopicArn = *topic.TopicArn()
	cfg.MarkKey = *markKey.KeyArn()
	env := cfg.Env()
	arch := lambdaArch(cfg.Arch)
	fn := awslambda.NewFunction(stack, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("Wallet janitor: marks forgotten wallet tables, then backs them up and deletes them"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(props.CodeDir), nil),
		Architecture: arch,
		MemorySize:   jsii.Number(janitorMemoryMB),
		Timeout:      awscdk.Duration_Minutes(jsii.Number(janitorTimeoutMinutes)),
		// One run at a time: two runs marking and deleting the same tables would race.
		ReservedConcurrentExecutions: jsii.Number(1),
		Role:                         role,
		LogGroup:                     logs,
		Environment:                  stringMap(env),
	})
	// The role's policies are separate resources: without these, a first run could start before
	// its permissions exist.
	dependsOnOnly(fn, own)

	awsevents.NewRule(stack, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the wallet janitor"),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.Schedule)),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(fn, nil)},
	})
	newErrorsAlarm(stack, "", fn, topic, "A wallet janitor run failed (an action failed, it timed out or it crashed); its log group holds the run's report")
	if props.Org.Org {
		addOrgJanitor(stack, props, fn, role, own, topic, logs, env)
	}

	// The key takes its tags from the stack (CloudFormation propagates stack tags to every
	// resource it creates): written on the key itself they crash moto's CloudFormation
	// (KeyError 'TagKey', moto 5.2.1), which then reports the stack complete with nothing in it.
	tags := janitorTags()
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		awscdk.Tags_Of(stack).Add(jsii.String(k), jsii.String(tags[k]), &awscdk.TagProps{
			ExcludeResourceTypes: jsii.Strings("AWS::KMS::Key"),
		})
	}
	for _, o := range []struct{ key, value, desc string }{
		{wallet.OutputJanitorFunctionName, *fn.FunctionName(), "The janitor function"},
		{wallet.OutputJanitorTopicArn, *topic.TopicArn(), "The janitor's notifications and its Errors alarm"},
		{wallet.OutputTeardownPolicyArn, *teardown.ManagedPolicyArn(), "Managed policy for people and pipelines running `verify teardown|sweep` of wallet stacks and tables (the janitor's role has its own, tag-conditioned statements)"},
	} {
		awscdk.NewCfnOutput(stack, jsii.String(o.key), &awscdk.CfnOutputProps{Value: jsii.String(o.value), Description: jsii.String(o.desc)})
	}
	return stack
}

// newLedger is the ledger of deletions of this account and region (internal/ledger): every
// deletion of the sweep, the teardown and the janitor is written into it first. On demand (a few
// writes a day), PITR on (every earlier state of it for 35 days), deletion protection on, and
// retained: `cdk destroy` leaves it, and redeploying the stack then needs it imported
// (`cdk import WalletJanitor`). Its name is fixed (wallet.LedgerTable) so that every caller finds
// it without reading a stack. It is tagged wallet:ledger, never Project=wallet: its Project tag is
// its own (the stack's tags reach every other resource), and the sweep refuses it by name and by
// tag whatever its tags say. The project's policies deny every change to it but a new record
// (ledgerDeny).
func newLedger(stack awscdk.Stack) awsdynamodb.Table {
	t := awsdynamodb.NewTable(stack, jsii.String("Ledger"), &awsdynamodb.TableProps{
		TableName:          jsii.String(wallet.LedgerTable),
		PartitionKey:       &awsdynamodb.Attribute{Name: jsii.String(wallet.LedgerKey), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:        awsdynamodb.BillingMode_PAY_PER_REQUEST,
		DeletionProtection: jsii.Bool(true),
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	for k, v := range ledgerTags() {
		awscdk.Tags_Of(t).Add(jsii.String(k), jsii.String(v), &awscdk.TagProps{Priority: jsii.Number(ledgerTagPriority)})
	}
	return t
}

// ledgerTagPriority is above the stack's own tags (CDK's default 100), so the ledger's Project
// tag is its own.
const ledgerTagPriority = 200

// ledgerTags are the ledger's tags: what marks it (wallet:ledger), and a Project that is not
// wallet, so no rule of this project's policies that holds on Project=wallet reaches it.
func ledgerTags() map[string]string {
	return map[string]string{
		wallet.TagLedger:  wallet.LedgerTagValue,
		wallet.TagProject: wallet.ProjectName + "-ledger",
	}
}

// anyLedger is the ledger's ARN in every region of the account.
func anyLedger(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("table"),
		ResourceName: jsii.String(wallet.LedgerTable),
	})
}

// ledgerChanges are every action that could change or take away what the ledger holds: the
// table itself (deleting it, turning its protection, PITR or TTL off, its tags, its resource
// policy) and its records (updating, deleting, overwriting in a batch or through PartiQL).
// PutItem is not among them: records are written with it, once, on the condition that the key
// does not exist (IAM has no condition key for a condition expression; see docs/iam.md).
var ledgerChanges = []string{
	"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups",
	"dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy",
	"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete",
}

// ledgerDeny is the statement every policy of this project that can reach tables carries: no
// change to the ledger but a new record, whatever else the policy allows.
func ledgerDeny(stack awscdk.Stack) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("LedgerIsAppendOnly"),
		Effect:    awsiam.Effect_DENY,
		Actions:   jsii.Strings(ledgerChanges...),
		Resources: &[]*string{anyLedger(stack)},
	})
}

// janitorTags mark the stack's resources as this project's. There is no Stage: one janitor
// serves every stage of the account and region.
func janitorTags() map[string]string {
	return map[string]string{
		wallet.TagProject:   wallet.ProjectName,
		wallet.TagStack:     wallet.JanitorStackID,
		wallet.TagManagedBy: wallet.ManagedByCDK,
	}
}

// newTopicKey is a customer-managed key for the topic: CloudWatch alarms cannot publish to a
// topic encrypted with the AWS-managed SNS key (its key policy does not let
// cloudwatch.amazonaws.com use it, and cannot be changed), so the Errors alarm would stay
// silent. This key's policy lets CloudWatch generate and decrypt data keys, as AWS documents for
// alarms on encrypted topics; the account's own principals get it through IAM (the default
// root statement).
func newTopicKey(stack awscdk.Stack) awskms.Key {
	key := awskms.NewKey(stack, jsii.String("TopicKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the wallet janitor's notifications; lets its CloudWatch alarm publish to them"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		PendingWindow:     awscdk.Duration_Days(jsii.Number(janitorKeyPendingDays)),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarmsPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"), // in a key policy, * is this key
	}), nil)
	return key
}

// newErrorsAlarm fires on any failed run — an error returned (any action failed), a timeout, a
// crash — and says so on the topic: a janitor that fails silently is the forgetting problem
// again. EnforceSSL gave the topic a policy of its own, which replaces SNS's default one, so
// CloudWatch needs an explicit Allow, limited to this alarm of this account.
//
// prefix names a second function's alarm (the organization's worker): its ids are
// <prefix>ErrorsAlarm and <prefix>ErrorsAlarmPublish.
func newErrorsAlarm(stack awscdk.Stack, prefix string, fn awslambda.Function, topic awssns.Topic, description string) awscloudwatch.Alarm {
	alarm := awscloudwatch.NewAlarm(stack, jsii.String(prefix+"ErrorsAlarm"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String(description),
		Metric: fn.MetricErrors(&awscloudwatch.MetricOptions{
			Period:    awscdk.Duration_Minutes(jsii.Number(5)),
			Statistic: jsii.String("Sum"),
		}),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		// No invocation in a period is not a failure: the schedule may be hourly or daily.
		TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	alarm.AddAlarmAction(awscloudwatchactions.NewSnsAction(topic))
	topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(prefix + "ErrorsAlarmPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{topic.TopicArn()},
		Conditions: &map[string]any{
			"ArnLike":      map[string]any{"aws:SourceArn": alarm.AlarmArn()},
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	return alarm
}

// janitorKeyAdmin are the key policy's actions for the account: managing the mark key, never
// using it (CDK's list for key administrators).
var janitorKeyAdmin = []string{
	"kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
	"kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
	"kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
}

// janitorMarkUse are the two calls of the mark key: signing a mark and checking one.
var janitorMarkUse = []string{"kms:GenerateMac", "kms:VerifyMac"}

// newMarkKey is the HMAC key the janitor signs its marks with (internal/wallet/mark.go). Anyone
// allowed dynamodb:TagResource can write the mark's tag; a mark is believed only with a MAC of
// this key, and the key policy lets only the function's role compute one: the account may
// administer the key, not use it, and an explicit Deny refuses both calls to every other
// principal, whatever its IAM policies grant. HMAC keys have no automatic rotation in KMS; a
// new key (a replaced stack) only makes the existing marks be written afresh, a grace later.
func newMarkKey(stack awscdk.Stack, role awsiam.IRole) awskms.Key {
	root := awsiam.NewAccountRootPrincipal()
	return awskms.NewKey(stack, jsii.String("MarkKey"), &awskms.KeyProps{
		Description:   jsii.String("Signs the wallet janitor's marks (wallet:janitor-delete-after); only the janitor's role may use it"),
		KeySpec:       awskms.KeySpec_HMAC_256,
		KeyUsage:      awskms.KeyUsage_GENERATE_VERIFY_MAC,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		PendingWindow: awscdk.Duration_Days(jsii.Number(janitorKeyPendingDays)),
		Policy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("AccountAdministers"),
				Principals: &[]awsiam.IPrincipal{root},
				Actions:    jsii.Strings(janitorKeyAdmin...),
				Resources:  jsii.Strings("*"), // in a key policy, * is this key
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("JanitorSignsMarks"),
				Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(role.RoleArn())},
				Actions:    jsii.Strings(janitorMarkUse...),
				Resources:  jsii.Strings("*"),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:        jsii.String("NobodyElseSignsMarks"),
				Effect:     awsiam.Effect_DENY,
				Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
				Actions:    jsii.Strings(janitorMarkUse...),
				Resources:  jsii.Strings("*"),
				Conditions: &map[string]any{"ArnNotEquals": map[string]any{"aws:PrincipalArn": role.RoleArn()}},
			}),
		}}),
	})
}

// projectCondition holds a statement to tables tagged Project=wallet: whatever the code
// decides, the role's own calls cannot back up, unprotect, delete or tag anyone else's table. It
// does not bind DeleteStack: CloudFormation deletes a stack's resources with the stack's service
// role, so what a stack holds is guarded by the sweep's stack rule (internal/sweep, holdings).
func projectCondition() *map[string]any {
	return &map[string]any{"StringEquals": map[string]any{"aws:ResourceTag/" + wallet.TagProject: wallet.ProjectName}}
}

// janitorRunStatements are what one janitor run does in an account, the same for the central
// role in its own account and for the member role (org.go) in each member account: read every
// table (to tell ours from the rest), act only on tables tagged Project=wallet (back up, turn
// protection off, delete, and set or take off its one tag, the mark), and delete wallet stacks.
// It is the TeardownPolicy's subset the janitor uses, with the table actions conditioned; moto
// does not evaluate conditions, so a policy engine proves them (docs/iam.md's questions,
// infra/iam_test.go) and infra/janitor_test.go pins their shape. The ARNs name the account
// through AWS::AccountId, so the same statements resolve to each account that deploys them.
// No dynamodb:DeleteBackup: backups are never deleted by what takes them.
func janitorRunStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("List"),
			Actions:   jsii.Strings("dynamodb:ListTables", "dynamodb:ListBackups"),
			Resources: jsii.Strings("*"), // they take no resource
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadTables"),
			// Unconditioned: telling a table that is not ours from one that is takes reading it.
			// The rest is what a deletion's record says of the table (internal/ledger.Capture).
			Actions: jsii.Strings("dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:DescribeTimeToLive",
				"dynamodb:DescribeContinuousBackups", "dynamodb:DescribeContributorInsights", "dynamodb:DescribeKinesisStreamingDestination"),
			Resources: &[]*string{anyTable(stack)},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("CountWalletTables"),
			// How many items a table held before it went, for undo's proof: a Scan that returns
			// a count and no item (dynamodb:Select COUNT), on tables tagged Project=wallet.
			Actions:   jsii.Strings("dynamodb:Scan"),
			Resources: &[]*string{anyTable(stack)},
			Conditions: &map[string]any{"StringEquals": map[string]any{
				"aws:ResourceTag/" + wallet.TagProject: wallet.ProjectName,
				"dynamodb:Select":                      "COUNT",
			}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadScaling"),
			// A deletion's record keeps the table's auto scaling; these take no resource.
			Actions:   jsii.Strings("application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WriteLedger"),
			// A record, written once (a condition that its key does not exist), and read back
			// after a write whose answer was lost.
			Actions:   jsii.Strings("dynamodb:PutItem", "dynamodb:GetItem"),
			Resources: &[]*string{anyLedger(stack)},
		}),
		ledgerDeny(stack),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ReadBackups"),
			// A backup's ARN, which carries no tags: waiting for one to be AVAILABLE.
			Actions:   jsii.Strings("dynamodb:DescribeBackup"),
			Resources: &[]*string{anyBackup(stack)},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ActOnWalletTables"),
			Actions:    jsii.Strings("dynamodb:CreateBackup", "dynamodb:UpdateTable", "dynamodb:DeleteTable"),
			Resources:  &[]*string{anyTable(stack)},
			Conditions: projectCondition(),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("MarkWalletTables"),
			Actions:   jsii.Strings("dynamodb:TagResource", "dynamodb:UntagResource"),
			Resources: &[]*string{anyTable(stack)},
			Conditions: &map[string]any{
				"StringEquals":              map[string]any{"aws:ResourceTag/" + wallet.TagProject: wallet.ProjectName},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{wallet.TagJanitorDeleteAfter}},
			},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WalletStacks"),
			// DeleteStack without a service role runs with the role's credentials, so the
			// stack's tables go under ActOnWalletTables' condition too.
			Actions:   jsii.Strings("cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:GetTemplate", "cloudformation:DeleteStack"),
			Resources: &[]*string{walletStacks(stack)},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WalletStackPolicies"),
			Actions:   jsii.Strings("iam:GetPolicy", "iam:ListPolicyVersions", "iam:DeletePolicyVersion", "iam:DeletePolicy"),
			Resources: &[]*string{walletPolicies(stack)},
		}),
	}
}

// newJanitorPolicy is everything the function may do: what a run does in an account
// (janitorRunStatements), sign and check marks, write its logs and announce on its topic.
// kms:GenerateDataKey and kms:Decrypt are what publishing to an encrypted topic takes.
func newJanitorPolicy(stack awscdk.Stack, role awsiam.Role, logs awslogs.LogGroup, topic awssns.Topic, key, markKey awskms.Key) awsiam.Policy {
	statements := append(janitorRunStatements(stack),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SignMarks"),
			Actions:   jsii.Strings(janitorMarkUse...),
			Resources: &[]*string{markKey.KeyArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Logs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: &[]*string{logs.LogGroupArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Notify"),
			Actions:   jsii.Strings("sns:Publish"),
			Resources: &[]*string{topic.TopicArn()},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("NotifyEncrypted"),
			Actions:   jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
			Resources: &[]*string{key.KeyArn()},
		}),
	)
	p := awsiam.NewPolicy(stack, jsii.String("JanitorPolicy"), &awsiam.PolicyProps{
		Roles:      &[]awsiam.IRole{role},
		Statements: &statements,
	})
	suppressIAM5(p,
		iam5{nagAnyResource, "dynamodb:ListTables, dynamodb:ListBackups and Application Auto Scaling's Describe calls support no resource-level permissions; * is the only resource they accept."},
		iam5{nagAnyTable, "The janitor finds tables no stack remembers, so it cannot name them in advance; every action that changes a table holds only on tables tagged Project=wallet."},
		iam5{nagAnyLedger, whyAnyLedger},
		iam5{nagAnyBackup, "Backups of those tables, read only: their ids are only known once CreateBackup returns them."},
		iam5{nagAnyWalletStack, whyWalletStacks},
		iam5{nagWalletPolicies, whyWalletPolicies},
	)
	return p
}

// Resource ARNs of the teardown policy, kept as the exact strings cdk-nag reports them in, so
// each IAM5 wildcard suppression names the one resource it applies to.
const (
	nagAnyResource    = "Resource::*"
	nagAnyTable       = "Resource::arn:<AWS::Partition>:dynamodb:*:<AWS::AccountId>:table/*"
	nagAnyBackup      = "Resource::arn:<AWS::Partition>:dynamodb:*:<AWS::AccountId>:table/*/backup/*"
	nagAnyWalletStack = "Resource::arn:<AWS::Partition>:cloudformation:*:<AWS::AccountId>:stack/" + wallet.StackPrefix + "*/*"
	nagWalletPolicies = "Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/" + walletPolicyName
	nagAnyLedger      = "Resource::arn:<AWS::Partition>:dynamodb:*:<AWS::AccountId>:table/" + wallet.LedgerTable
	nagTrackingAlarms = "Resource::arn:<AWS::Partition>:cloudwatch:*:<AWS::AccountId>:alarm:TargetTracking-table/*"
	nagScalingRole    = "Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"
)

// whyAnyLedger: the ledger is one table in each region of the account.
const whyAnyLedger = "The ledger of deletions, one table of this name in each region of this account (the region the record's table was in)."

func anyTable(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("table"),
		ResourceName: jsii.String("*"),
	})
}

func anyBackup(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("dynamodb"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("table"),
		ResourceName: jsii.String("*/backup/*"),
	})
}

func walletStacks(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("cloudformation"),
		Region:       jsii.String("*"),
		Resource:     jsii.String("stack"),
		ResourceName: jsii.String(wallet.StackPrefix + "*/*"),
	})
}

// walletPolicies are the managed policies a wallet stack's DeleteStack deletes: its
// VerifyPolicy (its only one), which CloudFormation names <stack>-<logical id>-<suffix>, the
// logical id being verifyPolicyID and CDK's 8-character hash. Not every policy/Wallet-*: a
// policy someone named Wallet-payroll-admin is nobody's stack's. Checked against the
// synthesized stack's VerifyPolicy by the policy engine's questions (docs/iam.md).
func walletPolicies(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service:      jsii.String("iam"),
		Region:       jsii.String(""),
		Resource:     jsii.String("policy"),
		ResourceName: jsii.String(walletPolicyName),
	})
}

// walletPolicyName matches the name CloudFormation gives a wallet stack's VerifyPolicy.
const walletPolicyName = wallet.StackPrefix + "*-" + verifyPolicyID + "????????-*"

// newTeardownPolicy lets people and pipelines running `verify teardown|sweep` find forgotten
// tables in any region of this account, back them up (native backups, and export/restore), turn
// deletion protection off and delete them, and delete wallet stacks. Account-wide by nature: the
// sweep exists for tables no stack remembers, and its table actions carry no tag condition so
// that `--name-prefix` reaches untagged tables. The janitor's role does not have it (see
// newJanitorPolicy). It lives here, not in a wallet stack, because a
// permission inside the stack it deletes can be deleted halfway through that DeleteStack; and
// this stack's id (WalletJanitor) is outside its own Wallet-* patterns. It has no
// dynamodb:DeleteBackup: backups are never deleted by what takes them. pricing:GetProducts reads
// AWS's public Price List, so that the commands price each table at its own region's prices.
// sts:GetCallerIdentity (naming the account back before deleting) needs no permission at all.
func newTeardownPolicy(stack awscdk.Stack) awsiam.ManagedPolicy {
	statements := slices.Concat(
		teardownTableStatements(stack),
		teardownTagStatements(stack),
		teardownBackupStatements(stack),
		teardownScalingStatements(stack),
		teardownStackStatements(stack),
		teardownCostStatements(stack),
		[]awsiam.PolicyStatement{ledgerDeny(stack)},
	)
	p := awsiam.NewManagedPolicy(stack, jsii.String("TeardownPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("verify teardown|sweep: find, back up, export, restore and delete wallet tables and stacks of this account"),
		Statements:  &statements,
	})
	suppressIAM5(p,
		iam5{nagAnyResource, "dynamodb:ListTables, dynamodb:ListBackups, CloudWatch metric and alarm reads, Application Auto Scaling's calls and pricing:GetProducts (the AWS Price List, no account data) support no resource-level permissions; * is the only resource they accept."},
		iam5{nagTrackingAlarms, "The alarms of a target-tracking policy, which Application Auto Scaling names TargetTracking-table/<table>-…: only those."},
		iam5{nagAnyLedger, whyAnyLedger},
		iam5{nagAnyTable, "The sweep and the janitor exist to find tables no stack remembers, in any region of this account, so they cannot name them in advance."},
		iam5{nagAnyBackup, "Backups of those tables: their ids are only known once CreateBackup returns them."},
		iam5{nagAnyWalletStack, whyWalletStacks},
		iam5{nagWalletPolicies, whyWalletPolicies},
	)
	return p
}

// teardownTableStatements are what the commands do to a table itself: list the tables and the
// backups of a region, read a table and what a deletion's record says of it, back it up, turn
// its protection off and delete it, export and restore it, write the record into the ledger,
// and undo putting the table back as recorded. On any table and unconditioned: the sweep exists
// for tables no stack remembers, and --name-prefix reaches untagged ones.
func teardownTableStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("List"),
			// ListTables and ListBackups have no resource-level permissions: "*" is the
			// only resource they take.
			Actions:   jsii.Strings("dynamodb:ListTables", "dynamodb:ListBackups"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Tables"),
			Actions: jsii.Strings(
				"dynamodb:DescribeTable",
				"dynamodb:DescribeContinuousBackups", // verify cost: PITR storage is billed; a deletion's record
				"dynamodb:ListTagsOfResource",
				"dynamodb:UpdateTable", // to turn deletion protection off; undo re-applies capacity, stream, protection
				"dynamodb:DeleteTable",
				"dynamodb:CreateBackup",   // sweep --backup, before a deletion
				"dynamodb:Scan",           // export; the record's count; history reads the ledger
				"dynamodb:CreateTable",    // restore
				"dynamodb:BatchWriteItem", // restore
				// A deletion's record (internal/ledger.Capture), and undo putting it back.
				"dynamodb:DescribeTimeToLive",
				"dynamodb:DescribeContributorInsights",
				"dynamodb:DescribeKinesisStreamingDestination",
				"dynamodb:UpdateTimeToLive",
				"dynamodb:UpdateContinuousBackups",
				"dynamodb:UpdateContributorInsights",
				"dynamodb:EnableKinesisStreamingDestination",
				// Writing a record into the ledger once and reading it back; and what AWS
				// requires on the table RestoreTableFromBackup restores into.
				"dynamodb:PutItem",
				"dynamodb:GetItem",
				"dynamodb:Query",
				"dynamodb:UpdateItem",
				"dynamodb:DeleteItem",
				"dynamodb:RestoreTableFromBackup",
			),
			Resources: &[]*string{anyTable(stack)},
		}),
	}
}

// teardownTagStatements let restore and undo tag the tables they make, in two forms only: the
// keys by which a retry or a later run recognises such a table, or the deleted table's own tags
// in the request that carries the record's id. Nothing here takes a tag off.
func teardownTagStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("RestoreTags"),
			// The tags restore and undo put on a table they make, so a retry or a later run
			// recognises it: only those keys (CreateTable with tags needs TagResource too).
			Actions:   jsii.Strings("dynamodb:TagResource"),
			Resources: &[]*string{anyTable(stack)},
			Conditions: &map[string]any{"ForAllValues:StringEquals": map[string]any{
				"aws:TagKeys": []any{archive.TagRestoreRun, wallet.TagUndoRecord},
			}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("UndoTags"),
			// Undo re-applies a deleted table's own tags, whatever their keys, always in the
			// request that carries the record's id (wallet:undo-record): only in that form.
			Actions:   jsii.Strings("dynamodb:TagResource"),
			Resources: &[]*string{anyTable(stack)},
			Conditions: &map[string]any{"Null": map[string]any{
				"aws:RequestTag/" + wallet.TagUndoRecord: "false",
			}},
		}),
	}
}

// teardownBackupStatements reach a table's backups, whose ARNs are not the table's: waiting for
// a backup before its table goes, and undo restoring from it. Never deleting one: backups are
// not deleted by what takes them.
func teardownBackupStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Backups"),
			// A backup's ARN is table/<name>/backup/<id>: waiting for one to be AVAILABLE
			// before the table goes; and undo restoring a table from it.
			Actions:   jsii.Strings("dynamodb:DescribeBackup", "dynamodb:RestoreTableFromBackup"),
			Resources: &[]*string{anyBackup(stack)},
		}),
	}
}

// teardownScalingStatements let a deletion's record keep a table's auto scaling and undo put it
// back: DynamoDB's targets and policies, the alarms a target-tracking policy makes in the
// caller's name and the service-linked role the account's first target makes. Nothing
// deregisters or deletes auto scaling.
func teardownScalingStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ScalingReads"),
			// A deletion's record keeps the table's auto scaling policies (its targets:
			// AutoScaling's DescribeScalableTargets, teardownCostStatements); these take no resource.
			Actions:   jsii.Strings("application-autoscaling:DescribeScalingPolicies", "cloudwatch:DescribeAlarms"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Scaling"),
			// Undo registers a deleted table's targets and policies again: DynamoDB's only.
			// Nothing here deregisters or deletes auto scaling.
			Actions:    jsii.Strings("application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"StringEquals": map[string]any{"application-autoscaling:service-namespace": "dynamodb"}},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ScalingAlarms"),
			// A target-tracking policy's alarms, which PutScalingPolicy creates in the
			// caller's name, as Application Auto Scaling documents.
			Actions: jsii.Strings("cloudwatch:PutMetricAlarm"),
			Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("cloudwatch"), Region: jsii.String("*"),
				Resource: jsii.String("alarm"), ResourceName: jsii.String("TargetTracking-table/*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("ScalingRole"),
			// The first scalable target of an account makes DynamoDB's service-linked role
			// for Application Auto Scaling; nothing else of IAM.
			Actions: jsii.Strings("iam:CreateServiceLinkedRole"),
			Resources: &[]*string{stack.FormatArn(&awscdk.ArnComponents{Service: jsii.String("iam"), Region: jsii.String(""),
				Resource: jsii.String("role"), ResourceName: jsii.String("aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable")})},
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:AWSServiceName": "dynamodb.application-autoscaling.amazonaws.com"}},
		}),
	}
}

// teardownStackStatements delete wallet stacks, and with each the one managed policy it holds:
// DeleteStack without a service role runs with the caller's credentials.
func teardownStackStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WalletStacks"),
			Actions: jsii.Strings(
				"cloudformation:DescribeStacks",
				"cloudformation:ListStackResources",
				"cloudformation:GetTemplate", // which tables the stack retains (DeletionPolicy)
				"cloudformation:DeleteStack",
			),
			Resources: &[]*string{walletStacks(stack)},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("WalletStackPolicies"),
			// DeleteStack of a stack without a service role runs with the caller's
			// credentials, so deleting a wallet stack also means deleting its managed
			// policy, the VerifyPolicy, and only that one (walletPolicies). (A policy still
			// attached to a role outside the stack makes DeleteStack fail with
			// DeleteConflict: detach it first.)
			Actions: jsii.Strings(
				"iam:GetPolicy",
				"iam:ListPolicyVersions",
				"iam:DeletePolicyVersion",
				"iam:DeletePolicy",
			),
			Resources: &[]*string{walletPolicies(stack)},
		}),
	}
}

// teardownCostStatements are the reads that price a table at what it is billed for: its
// metrics, whether it is auto scaled, and its region's prices. None takes a resource.
func teardownCostStatements(stack awscdk.Stack) []awsiam.PolicyStatement {
	return []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Metrics"),
			// CloudWatch metric reads have no resource-level permissions either.
			Actions:   jsii.Strings("cloudwatch:GetMetricData"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("AutoScaling"),
			// Which tables are auto scaled, so that cost and the sweep price them at what they
			// were billed for: a read, and Application Auto Scaling's Describe calls take no
			// resource-level permissions.
			Actions:   jsii.Strings("application-autoscaling:DescribeScalableTargets"),
			Resources: jsii.Strings("*"),
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("Prices"),
			// The AWS Price List API: each region's own prices for cost, sweep and teardown
			// (without it they fall back to the shipped table, with a note). It reads AWS's
			// public price list, nothing of the account's, and takes no resource.
			Actions:   jsii.Strings("pricing:GetProducts"),
			Resources: jsii.Strings("*"),
		}),
	}
}

func stringMap(m map[string]string) *map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = jsii.String(v)
	}
	return &out
}

// Reasons for wildcards that both the janitor's statements and the TeardownPolicy need.
const (
	whyWalletStacks   = "Limited to wallet stacks (Wallet-<stage>) of this account; the trailing * is CloudFormation's per-deployment stack id."
	whyWalletPolicies = "Limited to the one managed policy of a wallet stack, its VerifyPolicy, which CloudFormation names <stack>-<logical id>-<suffix>; DeleteStack needs to delete it."
)

// iam5 is one AwsSolutions-IAM5 (wildcard resource) suppression: the resource it applies to,
// exactly as cdk-nag reports it, and why that wildcard cannot be narrowed.
type iam5 struct{ appliesTo, reason string }

// suppressIAM5 records each wildcard's reason on c, one suppression per resource, so a new
// wildcard nobody justified still fails the synth.
func suppressIAM5(c constructs.IConstruct, s ...iam5) {
	out := make([]*cdknag.NagPackSuppression, len(s))
	for i, x := range s {
		out[i] = &cdknag.NagPackSuppression{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String(x.reason), AppliesTo: &[]any{x.appliesTo}}
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &out, nil)
}

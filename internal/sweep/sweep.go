// Package sweep finds the DynamoDB tables this project left behind, prices them, and deletes
// them without losing data: discover (Discover) → plan (NewPlan, a value you can print and
// keep) → act (Act) → report (a value rendered as text or JSON by the caller). Teardown is the
// same flow for one named stack.
//
// Safety is the design: a dry run unless told otherwise; only tables tagged Project=wallet or
// named by an explicit prefix; never a table of a live stack that has not expired; never behind
// CloudFormation's back (a live stack's table goes with its stack); deletion protection is
// turned off only when asked; and an export, when asked for, happens before any deletion.
package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// DynamoDB is every DynamoDB call the sweep and teardown make: their whole blast radius.
type DynamoDB interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	// UpdateTable only turns deletion protection off, and only with --include-protected.
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

// CloudFormation is every CloudFormation call: reading stacks and their templates, deleting stacks.
type CloudFormation interface {
	discover.CloudFormation
	GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, optFns ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
	DeleteStack(ctx context.Context, in *cloudformation.DeleteStackInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
}

// CloudWatch is read only for --idle-for.
type CloudWatch interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// RegionClients are one region's clients.
type RegionClients struct {
	Region         string
	DynamoDB       DynamoDB
	CloudFormation CloudFormation
	CloudWatch     CloudWatch
}

// NewRegionClients builds a region's clients from cfg (cfg.Region is the region).
func NewRegionClients(cfg aws.Config) RegionClients {
	return RegionClients{
		Region:         cfg.Region,
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		CloudWatch: cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
			// CloudWatch serves awsQuery, JSON and CBOR; the SDK defaults to CBOR, which the
			// local clouds (moto 5.2, LocalStack) do not speak. awsQuery works everywhere.
			o.Protocol = awsquery.New(smithy.NewServiceSchema(nil, "2010-08-01"))
		}),
	}
}

// Reason is why a table is a candidate.
type Reason string

const (
	// Orphaned: the stack its tags name is gone, or no longer lists it (retained, or a new
	// stack of the same name).
	Orphaned Reason = "orphaned"
	// Expired: CreationDateTime plus its ExpiresAfter tag is past.
	Expired Reason = "expired"
	// OlderThan: created before --older-than ago.
	OlderThan Reason = "older-than"
	// Idle: no consumed read or write capacity in the --idle-for window.
	Idle Reason = "idle"
	// SameStack: not a candidate itself, but its live stack is being deleted because of a
	// table that is, so it goes too. Listed so the plan shows the whole blast radius.
	SameStack Reason = "same-stack"
)

// Action is what was (or would be) done with a table.
type Action string

const (
	WouldDelete      Action = "would-delete"
	Deleted          Action = "deleted"
	SkippedProtected Action = "skipped-protected"
	Failed           Action = "failed"
	// Teardown only: the stack keeps the table (DeletionPolicy Retain) and --delete-retained
	// was not given.
	WouldRetain Action = "would-retain"
	Retained    Action = "retained"
)

// Problem is something the sweep could not find out; it never stops the rest of the sweep.
type Problem struct {
	Region string `json:"region"`
	Table  string `json:"table,omitempty"`
	Error  string `json:"error"`
}

// Options tune discovery and action. The zero value is sensible.
type Options struct {
	// PageLimit is ListTables' page size (0: the service's default, 100).
	PageLimit int32
	// SkipDisabledRegions turns an authentication error from ListTables into a note: with
	// --all-regions, opt-in regions the account has not enabled answer that way.
	SkipDisabledRegions bool
	// Concurrency bounds the calls in flight per sweep (default 8).
	Concurrency int
	// Progress, when set, is told how far a stage has got.
	Progress func(stage string, done, total int)
	// Save exports a table before it is deleted and says where to; nil: no export.
	Save func(ctx context.Context, region, table string) (string, error)
	// Busy is the backoff for LimitExceededException and ResourceInUseException.
	Busy Backoff
	// WaitTimeout bounds each wait for a table or stack to be gone (default 15m).
	WaitTimeout time.Duration
}

func (o Options) concurrency() int {
	if o.Concurrency <= 0 {
		return 8
	}
	return o.Concurrency
}

func (o Options) waitTimeout() time.Duration {
	if o.WaitTimeout <= 0 {
		return 15 * time.Minute
	}
	return o.WaitTimeout
}

func (o Options) progress(stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// STS is read only to name the account back to the user before deleting.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Account is the account id the credentials act in.
func Account(ctx context.Context, c STS) (string, error) {
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("get caller identity: %w", err)
	}
	return aws.ToString(out.Account), nil
}

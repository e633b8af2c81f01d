// Package sweep finds the DynamoDB tables this project left behind, prices them, and deletes
// them without losing data. Every way of removing tables goes through the same four stages:
// survey (Survey, one region's Inventory) → plan (NewPlan for a sweep, PlanTeardown for one
// named stack: a Plan value you can print and keep) → act (Act, the one executor) → report (a
// Report value rendered as text or JSON by the caller). The rules about what may be deleted, and
// how, live here once; `verify sweep`, `verify teardown` and the janitor are callers.
//
// Safety is the design: a dry run unless told otherwise; only tables tagged Project=wallet or
// named by an explicit prefix; never a table of a live stack that has not expired; never a table
// tagged wallet:keep=true; never behind CloudFormation's back (a live stack's table goes with its
// stack); deletion protection is turned off only when asked; an export or a backup, when asked
// for, is complete (and of the planned table) before any deletion depends on it; and before each
// irreversible step the table is read again and judged again by the same rules (rules.go), so
// only the table that was judged is ever deleted.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// DynamoDB is every DynamoDB call the sweep and teardown make: their whole blast radius.
type DynamoDB interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	// UpdateTable only switches deletion protection: off before a protected table the user
	// included (--include-protected) is deleted, back on when that deletion then fails.
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
	// CreateBackup and DescribeBackup take a native backup before a deletion (--backup, the
	// janitor); nothing here ever deletes a backup.
	CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	// ListBackups finds the janitor's and the sweep's backups, listed with what they cost to
	// keep; and, before a backup is taken, this run's backup after a CreateBackup that failed,
	// or an earlier run's to reuse (backup.go).
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
}

// CloudFormation is every CloudFormation call: reading stacks and their templates, deleting stacks.
type CloudFormation interface {
	discover.CloudFormation
	discover.TemplateAPI
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
	// AutoScaling reads which tables are auto scaled, to price them at what they were billed
	// for (Options.Billed); nil: none is.
	AutoScaling discover.ScalableTargetsAPI
}

// Busy answers: LimitExceededException (too many control-plane operations at once) and
// ResourceInUseException (the table is still being created or updated). Both mean "try again
// shortly", which the SDK's retryer does not know by default; it is taught here.
var busyCodes = []string{"LimitExceededException", "ResourceInUseException"}

// busyMaxBackoff is the longest wait between tries of a busy answer: control-plane work takes
// seconds to settle, so busy answers wait longer than throttles (everything else keeps the
// shared retryer's back-off, so an endpoint that refuses connections still fails in seconds).
const busyMaxBackoff = 20 * time.Second

// NewRegionClients builds a region's clients from cfg (cfg.Region is the region). dynamoFns
// change the DynamoDB client after the sweep's own settings (tests shorten the back-off).
func NewRegionClients(cfg aws.Config, dynamoFns ...func(*dynamodb.Options)) RegionClients {
	busy := func(o *dynamodb.Options) {
		o.Retryer = busyDelays{
			Retryer: retry.AddWithErrorCodes(o.Retryer, busyCodes...),
			backoff: retry.NewExponentialJitterBackoff(busyMaxBackoff),
		}
	}
	return RegionClients{
		Region:         cfg.Region,
		DynamoDB:       dynamodb.NewFromConfig(cfg, append([]func(*dynamodb.Options){busy}, dynamoFns...)...),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		CloudWatch:     usage.NewCloudWatch(cfg),
		AutoScaling:    applicationautoscaling.NewFromConfig(cfg),
	}
}

// busyDelays waits longer before retrying a busy answer; every other error keeps the wrapped
// retryer's delay. Codes, attempts and the retry quota are the SDK retryer's own.
type busyDelays struct {
	aws.Retryer
	backoff *retry.ExponentialJitterBackoff
}

func (r busyDelays) RetryDelay(attempt int, err error) (time.Duration, error) {
	var ae smithy.APIError
	if errors.As(err, &ae) && slices.Contains(busyCodes, ae.ErrorCode()) {
		return r.backoff.BackoffDelay(attempt, err)
	}
	return r.Retryer.RetryDelay(attempt, err)
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
	// Teardown: its stack was named to be torn down (verify teardown --stack).
	Teardown Reason = "teardown"
)

// Action is what was (or would be) done with a table or a stack.
type Action string

const (
	WouldDelete      Action = "would-delete"
	Deleted          Action = "deleted"
	SkippedProtected Action = "skipped-protected"
	Failed           Action = "failed"
	// WouldRetain and Retained: the stack keeps the table (DeletionPolicy Retain) and it was
	// not asked to be deleted too (teardown without --delete-retained). It goes on billing.
	WouldRetain Action = "would-retain"
	Retained    Action = "retained"
	// Deleting: DynamoDB accepted the deletion and is still carrying it out (the wait was cut
	// short). It stops billing; a later sweep finds nothing.
	Deleting Action = "deleting"
	// Unknown: a deletion was sent and whether it happened could not be found out (the answer
	// was lost and the re-check failed too). Run the sweep again to settle it.
	Unknown Action = "unknown"
	// Kept: tagged wallet:keep=true, or in a stack that holds such a table: left alone, by
	// request. Not a failure.
	Kept Action = "kept"
	// Replaced: the name now stands for another table (deleted and made again since the plan):
	// nothing was done to it. Not the user's failure, but not what was planned: plan again.
	Replaced Action = "replaced"
	// Gone: someone else deleted it (another sweep, a person) before this run could: nothing to
	// save or delete, and not a failure.
	Gone Action = "gone"
	// NoLongerCandidate: re-judged just before an irreversible step, it no longer qualifies (its
	// stack came back, its ExpiresAfter was extended, it left the project): left alone.
	NoLongerCandidate Action = "no-longer-candidate"
	// The actions of a saved plan applied (verify sweep --apply, planfile.go, narrow.go), each a
	// table of the plan, or one a fresh sweep would take, that is not deleted:
	//
	// NotACandidate: in the plan, but the rules do not make it a candidate now, or not as
	// planned (other reasons, another stack): added to the file by hand, or changed since.
	NotACandidate Action = "not-a-candidate"
	// NotInPlan: a fresh sweep would take it, but the plan does not hold it: never touched.
	NotInPlan Action = "not-in-plan"
	// PlanExpired: the plan's time to be applied has passed (its TTL): nothing of it is done.
	PlanExpired Action = "expired"
)

// Problem is something the sweep could not find out; it never stops the rest of the sweep.
// It is discovery's one Problem type, which cost reports too.
type Problem = discover.Problem

func problem(region, table string, err error) Problem {
	return discover.NewProblem(region, table, err)
}

// Options tune discovery and action. The zero value is sensible.
type Options struct {
	// PageLimit is ListTables' page size (0: the service's default, 100).
	PageLimit int32
	// SkipDisabledRegions turns an authentication error from ListTables into a note: with
	// --all-regions, opt-in regions the account has not enabled answer that way.
	SkipDisabledRegions bool
	// Concurrency bounds the calls in flight in each stage of one region's Survey, and the
	// units Act carries out at once over the whole plan (default DefaultConcurrency). A caller
	// that discovers several regions at once multiplies the first bound: verify sweep discovers
	// 4 regions at a time; with --org its calls share one bound for the whole run (org.Bound).
	Concurrency int
	// Progress, when set, is told how far a stage has got.
	Progress func(stage string, done, total int)
	// Export saves a table's items before it is deleted and says where to; nil: no export.
	Export func(ctx context.Context, region, table string) (string, error)
	// Backup takes a native backup of the table before it is deleted (or finds one to reuse) and
	// returns it once the backup is AVAILABLE; nil: no backup. NativeBackup builds one. Act then
	// proves the backup is of the planned table (DescribeBackup's source details) before any
	// deletion depends on it, and notes what the backup's Note says.
	Backup func(ctx context.Context, t Target) (SavedBackup, error)
	// WaitTimeout bounds each wait for a table or stack to be gone (default DefaultWaitTimeout).
	WaitTimeout time.Duration
	// RecheckTimeout bounds the re-check of an action whose answer was lost (default
	// DefaultRecheckTimeout). It
	// runs on a fresh context, so an interrupted sweep still reports what really happened.
	RecheckTimeout time.Duration
	// StopOn, when it says yes to an action's error, starts no further action: for errors that
	// would only repeat (a missing permission). What was not started is reported so.
	StopOn func(error) bool
	// Record writes each deletion down before it happens (record.go): before DeleteTable, and
	// before DeleteStack for each table the stack takes. A deletion whose record cannot be
	// written does not happen. nil records nothing: only the engine's own tests leave it out;
	// every caller (Fleet.Act, the janitor) sets it.
	Record Recorder
	// Billed prices an auto-scaled table of ours at what it was billed for over the last
	// BilledDays (its scalable targets, then CloudWatch's history of its capacity), as cost
	// does, instead of the instant's capacity: verify sweep's. The janitor's role reads
	// neither, and its $/month stays the instant's.
	Billed bool
}

// The defaults of Options' zero fields.
const (
	DefaultConcurrency = 8
	// DefaultWaitTimeout is minutes for a table DynamoDB deletes, or a stack CloudFormation does.
	DefaultWaitTimeout = 15 * time.Minute
	// DefaultRecheckTimeout is a few calls' worth: a re-check reads, it never waits for a change.
	DefaultRecheckTimeout = 30 * time.Second
)

func (o Options) concurrency() int {
	if o.Concurrency <= 0 {
		return DefaultConcurrency
	}
	return o.Concurrency
}

func (o Options) waitTimeout() time.Duration {
	if o.WaitTimeout <= 0 {
		return DefaultWaitTimeout
	}
	return o.WaitTimeout
}

func (o Options) recheckTimeout() time.Duration {
	if o.RecheckTimeout <= 0 {
		return DefaultRecheckTimeout
	}
	return o.RecheckTimeout
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

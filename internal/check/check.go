// Package check is the post-deploy verification of a wallet table: it finds the table, waits
// for it, compares it with what was declared, and proves the wallet operations behave on it
// (conditional writes, overdraft refusal, atomic and idempotent transfers, exact concurrent
// increments), then removes every item it wrote. The result is a Report value; rendering it is
// the caller's business.
//
// Test items are named verify-<run id>-<suffix> with a random run id, carry an expiry an hour
// ahead, and are deleted by key: the check never scans, and never touches an item it did not
// create. Round trips reuse one key per worker, so what a run leaves to clean up grows with
// --concurrency, not with --roundtrips.
package check

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Items is every item call the checks and their clean-up make: the wallet operations, and the
// batched consistent read that proves the test items gone.
type Items interface {
	wallet.API
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
}

// DynamoDB is every DynamoDB call the checks make: item calls plus four reads of the table's
// configuration. Nothing here can change or delete a table.
type DynamoDB interface {
	Items
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// CloudFormation is what the checks read from CloudFormation: the stack and its template.
type CloudFormation interface {
	discover.CloudFormation
	discover.TemplateAPI
}

// Clients are the connections a run uses. CloudFormation may be nil when a table is named.
type Clients struct {
	DynamoDB       DynamoDB
	CloudFormation CloudFormation
	// AutoScaling reads the table's auto scaling for conformance; nil: not compared (said).
	AutoScaling AutoScaling
	// Cleanup, if set, is the client clean-up uses. The checks' client runs in adaptive mode,
	// which after a few throttles holds requests to as little as one every two seconds:
	// clean-up must not inherit that, or a throttled run would leave its items behind.
	Cleanup Items
	// Throttles, when set, is the counter installed on the clients' middleware stacks.
	Throttles *awsconf.Throttles
	// Endpoint is the endpoint the clients were pointed at ("" for AWS's own), named when it
	// does not answer.
	Endpoint string
	// LocalEndpoint is the endpoint when it is a loopback address (see LoopbackEndpoint):
	// conformance then reports moto's known CloudFormation gaps instead of failing on them.
	LocalEndpoint string
}

// NewClients builds the clients a check runs on from the shared configuration (load it with
// Adaptive: a 1-unit table that other traffic shares needs a client that slows down after
// throttling): a throttle counter on every client, and a clean-up client with patient retries
// of its own.
func NewClients(cfg aws.Config) Clients {
	throttles := &awsconf.Throttles{}
	cfg = cfg.Copy()
	cfg.APIOptions = append(cfg.APIOptions, throttles.Install)
	endpoint := aws.ToString(cfg.BaseEndpoint)
	return Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		AutoScaling:    applicationautoscaling.NewFromConfig(cfg),
		Cleanup:        dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = awsconf.PatientRetryer() }),
		Throttles:      throttles,
		Endpoint:       endpoint,
		LocalEndpoint:  LoopbackEndpoint(endpoint),
	}
}

// Names of the checks, stable: scripts read them from the JSON report.
const (
	Discover             = "discover"
	Active               = "active"
	Conformance          = "conformance"
	Roundtrip            = "roundtrip"
	ConditionalCreate    = "conditional-create"
	NoOverdraft          = "no-overdraft"
	Transfer             = "transfer"
	ConcurrentIncrements = "concurrent-increments"
	Cleanup              = "cleanup"
)

// Limits of the options, also what the command line promises.
const (
	DefaultStack          = "Wallet-dev"
	DefaultRoundtrips     = 10
	DefaultConcurrency    = 4
	DefaultIncrements     = 5
	DefaultTimeout        = 2 * time.Minute
	DefaultCleanupTimeout = 30 * time.Second
	MinTimeout            = time.Second
	MaxRoundtrips         = 100000
	MaxConcurrency        = 64
	// TestItemTTL is how far ahead a test item's expires_at is: long enough for any run, short
	// enough that an item a killed run could not delete is gone within the hour on real AWS.
	TestItemTTL = time.Hour
)

// Options are one run's choices. Use Defaults and change what you need.
type Options struct {
	Stack string // the stack whose table is checked, when Table is empty
	Table string // a table named directly
	// Template is a template file declaring the table; empty: the stack's deployed template,
	// then cdk.out/<stack>.template.json under AppDir.
	Template string
	// Declared, when set, is the table's declared spec, compared instead of any template: the
	// check inside the deploy cannot read the template CloudFormation is still deploying, so
	// its stack hands it the spec (discover.Declared). DeclaredFrom names it in the detail.
	Declared     *discover.TableSpec
	DeclaredFrom string
	// TableFrom says who named Table, in discover's detail; empty: --table.
	TableFrom   string
	AppDir      string
	Roundtrips  int
	Concurrency int
	Increments  int // per worker, in concurrent-increments
	// ReadOnly runs discover, active and conformance only: nothing is written (production).
	ReadOnly bool
	// Pace holds requests to a provisioned table's capacity, so the check never throttles it.
	Pace bool
	// Timeout bounds the run, from reading the template to the last write; clean-up has its
	// own bound (CleanupTimeout, plus the time the table's capacity needs for the deletes)
	// because it must run even after the checks ran out of time.
	Timeout        time.Duration
	CleanupTimeout time.Duration
	Region         string // for the report only
	// Prices turn the live table's capacity and storage into the report's monthly cost.
	Prices cost.Prices

	templateSpecs []discover.TableSpec // Template, parsed by Validate
}

// Defaults are the command line's defaults.
func Defaults() Options {
	return Options{
		Stack:          DefaultStack,
		AppDir:         ".",
		Roundtrips:     DefaultRoundtrips,
		Concurrency:    DefaultConcurrency,
		Increments:     DefaultIncrements,
		Pace:           true,
		Timeout:        DefaultTimeout,
		CleanupTimeout: DefaultCleanupTimeout,
		Prices:         cost.ShippedPrices("us-east-1"), // each region's shipped row: no network
	}
}

// OptionError is a bad option value: what was given and what is allowed.
type OptionError struct{ Option, Value, Allowed string }

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Option, e.Value, e.Allowed)
}

var stackNameRE = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

// Validate checks the options without any AWS call, and reads the template file if one is
// named, so a typo fails before anything is touched. Reading stops at ctx's deadline and at
// --timeout, whichever is first: a pipe nobody writes cannot hold the command.
func (o *Options) Validate(ctx context.Context) error {
	bad := func(opt string, v any, allowed string) error {
		return &OptionError{opt, fmt.Sprint(v), allowed}
	}
	switch {
	case o.Table != "" && o.Stack != "":
		return fmt.Errorf("--stack %q and --table %q: give one, not both", o.Stack, o.Table)
	case o.Table == "" && o.Stack == "":
		return fmt.Errorf("no table: give --stack or --table")
	case o.Table != "" && !wallet.ValidTableName(o.Table):
		return bad("--table", o.Table, "want 3 to 255 characters of a-z A-Z 0-9 _ . -")
	case o.Stack != "" && !stackNameRE.MatchString(o.Stack):
		return bad("--stack", o.Stack, "want a CloudFormation stack name: a letter, then up to 127 letters, digits or hyphens")
	case o.Roundtrips < 1 || o.Roundtrips > MaxRoundtrips:
		return bad("--roundtrips", o.Roundtrips, fmt.Sprintf("want a whole number from 1 to %d", MaxRoundtrips))
	case o.Concurrency < 1 || o.Concurrency > MaxConcurrency:
		return bad("--concurrency", o.Concurrency, fmt.Sprintf("want a whole number from 1 to %d", MaxConcurrency))
	case o.Increments < 1:
		return bad("increments", o.Increments, "want a positive whole number")
	// Below a second, a healthy endpoint could be reported as one that does not answer.
	case o.Timeout < MinTimeout:
		return bad("--timeout", o.Timeout, "want a duration of at least 1s, such as 90s or 2m")
	case o.CleanupTimeout <= 0:
		return bad("cleanup timeout", o.CleanupTimeout, "want a positive duration")
	}
	// The template is read here, once, before any AWS call; conformance uses what was read, so
	// a file changed during the run cannot make the check compare against something else.
	if o.Template != "" && o.templateSpecs == nil {
		ctx, cancel := context.WithTimeout(ctx, o.Timeout)
		defer cancel()
		specs, err := readTemplate(ctx, o.Template, o.Timeout)
		if err != nil {
			return fmt.Errorf("--template %q: %w", o.Template, err)
		}
		o.templateSpecs = specs
	}
	return nil
}

// DiscoveryError means the table could not be found or reached: a stack that does not exist,
// a table that does not exist, an endpoint that does not answer, a refused describe. Nothing
// was written.
type DiscoveryError struct{ Err error }

func (e *DiscoveryError) Error() string { return e.Err.Error() }
func (e *DiscoveryError) Unwrap() error { return e.Err }

// OutOfTimeError means --timeout ended the run before every check finished. It is not a
// verdict on the table: the run was too long for its bound, or the endpoint too slow.
type OutOfTimeError struct {
	Timeout time.Duration
	Check   string // the check that was running
}

func (e *OutOfTimeError) Error() string {
	return fmt.Sprintf("out of time: --timeout %s ran out during %s, so not every check ran (clean-up did); give a longer --timeout or fewer --roundtrips",
		e.Timeout, e.Check)
}

func (e *OutOfTimeError) Unwrap() error { return context.DeadlineExceeded }

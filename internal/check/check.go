// Package check is the post-deploy verification of a wallet table: it finds the table, waits
// for it, compares it with what was declared, and proves the wallet operations behave on it
// (conditional writes, overdraft refusal, atomic and idempotent transfers, exact concurrent
// increments), then removes every item it wrote. The result is a Report value; rendering it is
// the caller's business.
//
// Test items are named verify-<run id>-<suffix> with a random run id, carry an expiry an hour
// ahead, and are deleted by key: the check never scans, and never touches an item it did not
// create.
package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DynamoDB is every DynamoDB call the checks make: the wallet operations plus four reads of the
// table's configuration. Nothing here can change or delete a table.
type DynamoDB interface {
	wallet.API
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
	// Cleanup, if set, is the client clean-up uses. The checks' client runs in adaptive mode,
	// which after a few throttles holds requests to as little as one every two seconds:
	// clean-up must not inherit that, or a throttled run would leave its items behind.
	Cleanup wallet.API
	// Throttles, when set, is the counter installed on the clients' middleware stacks.
	Throttles *awsconf.Throttles
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
	return Clients{
		DynamoDB:       dynamodb.NewFromConfig(cfg),
		CloudFormation: cloudformation.NewFromConfig(cfg),
		Cleanup:        dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.Retryer = awsconf.PatientRetryer() }),
		Throttles:      throttles,
		LocalEndpoint:  LoopbackEndpoint(aws.ToString(cfg.BaseEndpoint)),
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
	Template    string
	AppDir      string
	Roundtrips  int
	Concurrency int
	Increments  int // per worker, in concurrent-increments
	// ReadOnly runs discover, active and conformance only: nothing is written (production).
	ReadOnly bool
	// Pace holds requests to a provisioned table's capacity, so the check never throttles it.
	Pace bool
	// Timeout bounds the checks, from discovery to the last write; clean-up has its own bound
	// (CleanupTimeout) because it must run even after the checks ran out of time.
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
		Prices:         cost.USEast1(),
	}
}

// OptionError is a bad option value: what was given and what is allowed.
type OptionError struct{ Option, Value, Allowed string }

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %q: %s", e.Option, e.Value, e.Allowed)
}

var stackNameRE = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

// Validate checks the options without any AWS call, and reads the template file if one is
// named, so a typo fails before anything is touched.
func (o *Options) Validate() error {
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
	case o.Timeout <= 0:
		return bad("--timeout", o.Timeout, "want a positive duration such as 90s or 2m")
	case o.CleanupTimeout <= 0:
		return bad("cleanup timeout", o.CleanupTimeout, "want a positive duration")
	}
	// The template is read here, once, before any AWS call; conformance uses what was read, so
	// a file changed during the run cannot make the check compare against something else.
	if o.Template != "" && o.templateSpecs == nil {
		specs, err := readTemplate(o.Template)
		if err != nil {
			return fmt.Errorf("--template %q: %w", o.Template, err)
		}
		o.templateSpecs = specs
	}
	return nil
}

func readTemplate(path string) ([]discover.TableSpec, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, discover.ErrNoTable
	}
	return specs, nil
}

// DiscoveryError means the table could not be found or reached: a stack that does not exist,
// a table that does not exist, an endpoint that does not answer. Nothing was written.
type DiscoveryError struct{ Err error }

func (e *DiscoveryError) Error() string { return e.Err.Error() }
func (e *DiscoveryError) Unwrap() error { return e.Err }

// Run verifies one table and always returns a report. The error is a *DiscoveryError if the
// table could not be found, the context's error if the run was interrupted (clean-up has run),
// and nil otherwise: failed checks are in the report, not in the error.
func Run(ctx context.Context, c Clients, o Options) (*Report, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	id, err := newRunID()
	if err != nil {
		return nil, err
	}
	rep := &Report{Stack: o.Stack, Table: o.Table, Region: o.Region, RunID: id}
	defer func() {
		if c.Throttles != nil {
			rep.Throttled = c.Throttles.Count()
		}
		rep.Passed = rep.allPassed()
	}()

	runCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	interrupted := func() error {
		if ctx.Err() != nil {
			rep.Interrupted = true
			return ctx.Err()
		}
		return nil
	}

	var tgt *target
	if err := rep.do(runCtx, Discover, func(ctx context.Context) (string, error) {
		t, err := discoverTable(ctx, c, o)
		if err != nil {
			return "", err
		}
		tgt, rep.Table = t, t.table
		return t.detail, nil
	}); err != nil {
		if ierr := interrupted(); ierr != nil {
			return rep, ierr
		}
		return rep, &DiscoveryError{fmt.Errorf("discover: %w", err)}
	}

	var desc *dynamodb.DescribeTableOutput
	if err := rep.do(runCtx, Active, func(ctx context.Context) (string, error) {
		start := time.Now()
		w := dynamodb.NewTableExistsWaiter(c.DynamoDB, func(w *dynamodb.TableExistsWaiterOptions) {
			// The defaults (20 s, then up to 2 min) suit creating a table, not checking one.
			w.MinDelay, w.MaxDelay = time.Second, 5*time.Second
		})
		var err error
		desc, err = w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: &tgt.table}, o.Timeout)
		if err != nil {
			return "", fmt.Errorf("wait up to --timeout %s for table %s to be ACTIVE: %w", o.Timeout, tgt.table, err)
		}
		return fmt.Sprintf("ACTIVE (waited %s)", time.Since(start).Round(time.Millisecond)), nil
	}); err != nil {
		return rep, interrupted()
	}

	// What the table costs standing still: the number the tutorial warns about, next to the
	// proof that it works.
	est := cost.Monthly(cost.FromDescription(desc.Table), o.Prices)
	rep.MonthlyCost, rep.PriceNote = &est, o.Prices.Note(o.Region)

	_ = rep.do(runCtx, Conformance, func(ctx context.Context) (string, error) {
		res, err := conform(ctx, c, o, tgt, desc.Table)
		rep.Differences = res.diffs
		return res.detail, err
	})
	if o.ReadOnly {
		return rep, interrupted()
	}

	// Wallets go only into a table keyed like a wallet table: on any other table the writes
	// would fail, or worse, land among someone else's items.
	if schema, ok := walletKeyed(desc.Table); !ok {
		_ = rep.do(runCtx, Roundtrip, func(context.Context) (string, error) {
			return "", fmt.Errorf("not run, nor any other writing check: the key schema is %s, not the wallet's %s (of type %s); nothing was written",
				schema, wallet.WalletKeySchema, wallet.KeyType)
		})
		return rep, interrupted()
	}

	cleanupAPI := c.Cleanup
	if cleanupAPI == nil {
		cleanupAPI = c.DynamoDB
	}
	w := newWriter(c.DynamoDB, cleanupAPI, tgt.table, desc.Table, o, id)
	w.checks(runCtx, rep)
	// Clean-up runs whatever happened above, on a context of its own: an interrupted or
	// timed-out run must still remove what it wrote.
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), o.CleanupTimeout+w.cleanupBudget())
	defer ccancel()
	_ = rep.do(cctx, Cleanup, func(ctx context.Context) (string, error) {
		detail, left, err := w.cleanup(ctx)
		rep.LeftoverItems = left
		return detail, err
	})
	return rep, interrupted()
}

// target is what discovery learned.
type target struct {
	table     string
	stack     string // empty when the table was named
	logicalID string // the table's logical ID in the stack, if known
	detail    string
}

func discoverTable(ctx context.Context, c Clients, o Options) (*target, error) {
	if o.Table != "" {
		// One DescribeTable now, so a wrong name or an unreachable endpoint is a discovery
		// error at once instead of a waiter that polls until --timeout.
		if _, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table}); err != nil {
			var nf *types.ResourceNotFoundException
			if errors.As(err, &nf) {
				return nil, fmt.Errorf("table %s not found in region %s (check --table and --region): %w", o.Table, o.Region, err)
			}
			return nil, fmt.Errorf("table %s: %w", o.Table, err)
		}
		return &target{table: o.Table, detail: fmt.Sprintf("table %s (given by --table)", o.Table)}, nil
	}
	if c.CloudFormation == nil {
		return nil, errors.New("no CloudFormation client to find the stack's table")
	}
	st, err := discover.Describe(ctx, c.CloudFormation, o.Stack)
	if err != nil {
		if errors.Is(err, discover.ErrStackNotFound) {
			return nil, fmt.Errorf("%w (deploy it, or name another with --stack, or a table with --table)", err)
		}
		return nil, err
	}
	table, err := st.TableName()
	if err != nil {
		return nil, err
	}
	f := &target{table: table, stack: st.Name}
	for _, t := range st.Tables {
		if t.Name == table {
			f.logicalID = t.LogicalID
		}
	}
	f.detail = fmt.Sprintf("stack %s (%s) → table %s", st.Name, st.Status, table)
	return f, nil
}

// walletKeyed reports whether a table has the wallet's key schema (user_id HASH, of type S),
// and shows the schema it has.
func walletKeyed(d *types.TableDescription) (string, bool) {
	schema := wallet.KeySchema(d.KeySchema)
	var keyType types.ScalarAttributeType
	for _, a := range d.AttributeDefinitions {
		if aws.ToString(a.AttributeName) == wallet.KeyAttribute {
			keyType = a.AttributeType
		}
	}
	if schema == wallet.WalletKeySchema && string(keyType) != wallet.KeyType {
		schema += fmt.Sprintf(" (%s of type %s)", wallet.KeyAttribute, keyType)
	}
	return schema, schema == wallet.WalletKeySchema
}

func newRunID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return hex.EncodeToString(b), nil
}

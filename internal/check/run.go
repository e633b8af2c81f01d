package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Run verifies one table and returns its report; only invalid options return no report. The
// error says why the run could not conclude, and nil means the report is the verdict (failed
// checks are in it, not in the error):
//   - *DiscoveryError: the table was not found or not reached; nothing was written.
//   - context.Canceled: interrupted; clean-up has run.
//   - an error wrapping *awsconf.Denied: IAM refused a call; no check ran after it, clean-up
//     has run.
//   - *CapacityError: the table's capacity cannot serve the run within --timeout; nothing
//     was written.
//   - *OutOfTimeError: --timeout ended the checks; clean-up has run.
func Run(ctx context.Context, c Clients, o Options) (*Report, error) {
	runCtx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	if err := o.Validate(runCtx); err != nil {
		return nil, err
	}
	r, err := newRun(ctx, runCtx, c, o)
	if err != nil {
		return nil, err
	}
	if r.discover() && r.active() && r.conformance() && !o.ReadOnly && r.writable() {
		r.writingChecks()
	}
	r.cleanup()
	return r.finish()
}

// run is one Run's state, filled stage by stage.
type run struct {
	ctx    context.Context // the caller's: its cancellation is an interruption
	runCtx context.Context // bounded by --timeout
	c      Clients
	o      Options
	rep    *Report
	tgt    *target
	desc   *types.TableDescription
	w      *writer // set once the writing checks are admitted
	err    error   // a discovery failure or a capacity refusal, for the caller
}

func newRun(ctx, runCtx context.Context, c Clients, o Options) (*run, error) {
	id, err := newRunID()
	if err != nil {
		return nil, err
	}
	return &run{ctx: ctx, runCtx: runCtx, c: c, o: o,
		rep: &Report{Stack: o.Stack, Table: o.Table, Region: o.Region, RunID: id, ReadOnly: o.ReadOnly}}, nil
}

// discover finds the table. Any failure ends the run: there is nothing to check.
func (r *run) discover() bool {
	err := r.rep.do(r.runCtx, Discover, func(ctx context.Context) (string, error) {
		t, err := discoverTable(ctx, r.c, r.o)
		if err != nil {
			return "", r.unanswered(err)
		}
		r.tgt, r.rep.Table = t, t.table
		return t.detail, nil
	})
	if err != nil && r.rep.Stopped != Interrupted {
		r.err = &DiscoveryError{fmt.Errorf("discover: %w", err)}
	}
	return err == nil
}

// unanswered names the endpoint when err is a request that got no answer in time, as from an
// endpoint that accepts connections and never responds.
func (r *run) unanswered(err error) error {
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		return err
	}
	where := r.c.Endpoint
	if where == "" {
		where = "the AWS endpoint of region " + r.o.Region
	}
	return fmt.Errorf("%s did not answer within --timeout %s: %w", where, r.o.Timeout, err)
}

// The active check's polling: the waiter's defaults (20 s, then up to 2 min) suit creating a
// table, not checking one.
const (
	activeMinDelay = time.Second
	activeMaxDelay = 5 * time.Second
)

// active waits for the table to be ACTIVE. Waiting the whole --timeout for a table that never
// gets there is a verdict on the table, not the run running out of time.
func (r *run) active() bool {
	err := r.rep.do(r.runCtx, Active, func(ctx context.Context) (string, error) {
		if d := r.tgt.desc; d != nil && d.TableStatus == types.TableStatusActive {
			r.desc = d
			return "ACTIVE (as discovery found it)", nil
		}
		start := time.Now()
		w := dynamodb.NewTableExistsWaiter(r.c.DynamoDB, func(w *dynamodb.TableExistsWaiterOptions) {
			w.MinDelay, w.MaxDelay = activeMinDelay, activeMaxDelay
		})
		desc, err := w.WaitForOutput(ctx, &dynamodb.DescribeTableInput{TableName: &r.tgt.table}, r.o.Timeout)
		if err != nil {
			if stopOf(ctx, err) == OutOfTime {
				return "", fmt.Errorf("table %s not ACTIVE after waiting up to --timeout %s: %v", r.tgt.table, r.o.Timeout, err)
			}
			return "", fmt.Errorf("wait up to --timeout %s for table %s to be ACTIVE: %w", r.o.Timeout, r.tgt.table, err)
		}
		r.desc = desc.Table
		return fmt.Sprintf("ACTIVE (waited %s)", time.Since(start).Round(time.Millisecond)), nil
	})
	return err == nil
}

// conformance compares the table with its declaration, and prices it: what it costs standing
// still is the number the tutorial warns about, next to the proof that it works. Drift is
// reported and the run goes on.
func (r *run) conformance() bool {
	est := cost.MonthlyIn(r.o.Region, cost.FromDescription(r.desc), r.o.Prices)
	r.rep.MonthlyCost, r.rep.PriceNote = &est, r.o.Prices.Note(r.o.Region)
	_ = r.rep.do(r.runCtx, Conformance, func(ctx context.Context) (string, error) {
		res, err := conform(ctx, r.c, r.o, r.tgt, r.desc)
		r.rep.Differences = res.diffs
		return res.detail, err
	})
	return r.rep.Stopped == ""
}

// writable admits the writing checks: only on a table keyed like a wallet table (elsewhere
// the writes would fail, or worse, land among someone else's items), and only when the
// table's capacity can serve them before --timeout, so a run never starts what it cannot
// finish.
func (r *run) writable() bool {
	if schema, ok := walletKeyed(r.desc); !ok {
		_ = r.rep.do(r.runCtx, Roundtrip, func(context.Context) (string, error) {
			return "", fmt.Errorf("not run, nor any other writing check: the key schema is %s, not the wallet's %s (of type %s); nothing was written",
				schema, wallet.WalletKeySchema, wallet.KeyType)
		})
		return false
	}
	p := NewPacer(r.desc, r.o.Pace)
	deadline, _ := r.runCtx.Deadline()
	if err := fits(p, r.tgt.table, r.o, time.Until(deadline)); err != nil {
		r.err, r.rep.Refused = err, err.Error()
		return false
	}
	cleanup := r.c.Cleanup
	if cleanup == nil {
		cleanup = r.c.DynamoDB
	}
	r.w = newWriter(r.c.DynamoDB, cleanup, r.tgt.table, p, r.o, r.rep.RunID)
	return true
}

func (r *run) writingChecks() { r.w.checks(r.runCtx, r.rep) }

// cleanup removes what the writing checks wrote, whatever happened to them, on a context of
// its own: an interrupted or timed-out run must still remove its items. Its bound is
// CleanupTimeout plus what the table's capacity needs for the deletes and reads once the
// checks have spent the burst.
func (r *run) cleanup() {
	if r.w == nil {
		return
	}
	bound := r.o.CleanupTimeout + r.w.pacer.Refill(Units{Reads: int64(r.w.keys.len()), Writes: int64(r.w.keys.len())})
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), bound)
	defer cancel()
	_ = r.rep.record(ctx, Cleanup, func(ctx context.Context) (string, error) {
		detail, left, err := r.w.cleanup(ctx, bound)
		r.rep.LeftoverItems = left
		return detail, err
	}, cleanupStop)
}

// cleanupStop: clean-up running out of its bound is its failure (what remains is said); only
// a refusal stops it.
func cleanupStop(_ context.Context, err error) Stop {
	if _, ok := awsconf.AsDenied(err); ok {
		return AccessDenied
	}
	return ""
}

// finish completes the report and says why the run could not conclude, if it could not.
func (r *run) finish() (*Report, error) {
	rep := r.rep
	if r.c.Throttles != nil {
		rep.Throttled = r.c.Throttles.Count()
	}
	rep.Passed = rep.allPassed()
	var de *DiscoveryError
	switch {
	case errors.As(r.err, &de):
		return rep, r.err
	case rep.Stopped == Interrupted:
		if err := r.ctx.Err(); err != nil {
			return rep, err
		}
		return rep, context.Canceled
	case rep.Denied != nil:
		return rep, fmt.Errorf("%s: %w", rep.deniedIn, rep.Denied)
	case r.err != nil:
		return rep, r.err
	case rep.Stopped == OutOfTime:
		return rep, &OutOfTimeError{Timeout: r.o.Timeout, Check: rep.stoppedIn}
	}
	return rep, nil
}

// target is what discovery learned.
type target struct {
	table     string
	stack     string // empty when the table was named
	logicalID string // the table's logical ID in the stack, if known
	// desc is the table as discovery described it, if it did: active need not ask again.
	desc   *types.TableDescription
	detail string
}

func discoverTable(ctx context.Context, c Clients, o Options) (*target, error) {
	if o.Table != "" {
		// One DescribeTable now, so a wrong name or an unreachable endpoint is a discovery
		// error at once instead of a waiter that polls until --timeout.
		out, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &o.Table})
		if err != nil {
			var nf *types.ResourceNotFoundException
			switch {
			case errors.As(err, &nf) && o.TableFrom != "":
				// Not the user's --table: the hint would send them to a flag they never gave.
				return nil, fmt.Errorf("table %s (given by %s) not found in region %s: %w", o.Table, o.TableFrom, o.Region, err)
			case errors.As(err, &nf):
				return nil, fmt.Errorf("table %s not found in region %s (check --table and --region): %w", o.Table, o.Region, err)
			}
			return nil, fmt.Errorf("table %s: %w", o.Table, err)
		}
		from := o.TableFrom
		if from == "" {
			from = "--table"
		}
		return &target{table: o.Table, desc: out.Table, detail: fmt.Sprintf("table %s (given by %s)", o.Table, from)}, nil
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

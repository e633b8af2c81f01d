package check

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Every check against Amazon's DynamoDB Local, by --table, one server for all cases. Where a
// case needs a backend that behaves wrongly, a wrapper around the real client plays it, and says
// why no real service can: the wrappers only ever subtract or falsify behaviour.
func TestOnDynamoDBLocal(t *testing.T) {
	srv := localcloud.DynamoDBLocal(t)
	srv.SetEnv(t)
	c := testClients(t, srv.Endpoint, 0)
	fx := fixture.NewCloud(t, "")
	ctx := t.Context()

	t.Run("every check passes on a wallet table", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-pass", fixture.KeyedTable{Read: 1, Write: 1})
		rep, err := Run(ctx, c, tableOptions("wallet-pass"))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		wantDetail(t, rep, Conformance, "essentials", "no template",
			"not supported by this endpoint: ListTagsOfResource", "not supported by this endpoint: DescribeContinuousBackups")
		wantDetail(t, rep, Roundtrip, "10 of 10", "paced at 1 RCU/s, 1 WCU/s")
		wantDetail(t, rep, Transfer, "not applied twice", "cancelled as a whole")
		if rep.Roundtrips.Count != 10 || rep.Roundtrips.P50 <= 0 || rep.Roundtrips.P99 < rep.Roundtrips.P50 || rep.Roundtrips.PerSecond <= 0 {
			t.Fatalf("latency %+v", rep.Roundtrips)
		}
		if rep.LeftoverItems != 0 || rep.Throttled != 0 {
			t.Fatalf("leftover %d, throttled %d", rep.LeftoverItems, rep.Throttled)
		}
		fx.NoItems(t, "wallet-pass")
	})

	// DynamoDB Local has no Application Auto Scaling: what it cannot answer is said, and the
	// capacity is still held to the declared range.
	t.Run("auto scaling on an endpoint without Application Auto Scaling is said, not guessed", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-scaled-local", fixture.KeyedTable{Read: 1, Write: 1})
		file := filepath.Join(t.TempDir(), "scaled.template.json")
		body := fixture.TemplateWith(fixture.AutoScaled("Table0", "ReadCapacityUnits", 1, 10, 70), fixture.TableDecl{Name: "wallet-scaled-local"})
		if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		o := tableOptions("wallet-scaled-local")
		o.Template, o.ReadOnly = file, true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "not supported by this endpoint: DescribeScalableTargets (auto scaling not compared)")
	})

	t.Run("test items never touch other items", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-shared", fixture.KeyedTable{OnDemand: true})
		real := wallet.NewStore(fx.DynamoDB, "wallet-shared")
		for _, id := range []string{"alice", "verify-", "verify-0-1"} {
			if err := real.Create(ctx, wallet.Wallet{UserID: id, Balance: 5}); err != nil {
				t.Fatal(err)
			}
		}
		o := tableOptions("wallet-shared")
		o.Roundtrips, o.Concurrency = 20, 8
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		wantDetail(t, rep, Roundtrip, "not paced (on-demand)")
		if got := strings.Join(fx.Keys(t, "wallet-shared"), ","); len(fx.Keys(t, "wallet-shared")) != 3 {
			t.Fatalf("the user's items changed: %s", got)
		}
		for _, id := range []string{"alice", "verify-", "verify-0-1"} {
			if w, err := real.Get(ctx, id); err != nil || w.Balance != 5 {
				t.Fatalf("user item %s: %+v, %v", id, w, err)
			}
		}
	})

	t.Run("read-only writes nothing", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-readonly", fixture.KeyedTable{})
		spy := &countWrites{DynamoDB: c.DynamoDB}
		o := tableOptions("wallet-readonly")
		o.ReadOnly = true
		rep, err := Run(ctx, Clients{DynamoDB: spy}, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		if n := spy.writes.Load(); n != 0 {
			t.Fatalf("read-only run made %d write calls", n)
		}
	})

	t.Run("wrong key schema fails conformance and writes nothing", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-wrongkey", fixture.KeyedTable{Key: "id"})
		spy := &countWrites{DynamoDB: c.DynamoDB}
		rep, err := Run(ctx, Clients{DynamoDB: spy}, tableOptions("wallet-wrongkey"))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance, Roundtrip}, Conformance, Roundtrip)
		wantDetail(t, rep, Conformance, "KeySchema declared user_id HASH, live id HASH", "AttributeDefinitions.user_id declared S, live (absent)")
		wantDetail(t, rep, Roundtrip, "key schema is id HASH", "nothing was written")
		if n := spy.writes.Load(); n != 0 {
			t.Fatalf("%d write calls to a table that is not a wallet table", n)
		}
	})

	t.Run("a missing table is a discovery error", func(t *testing.T) {
		start := time.Now()
		rep, err := Run(ctx, c, tableOptions("wallet-nope"))
		var de *DiscoveryError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), "wallet-nope") {
			t.Fatalf("want a DiscoveryError naming the table, got %v", err)
		}
		wantResults(t, rep, []string{Discover}, Discover)
		if d := time.Since(start); d > hangGuard {
			t.Fatalf("took %s", d)
		}
	})

	// DynamoDB deletes what it is told to; a fake acknowledges one delete and keeps the item,
	// which clean-up's consistent reads must catch.
	t.Run("an item left behind fails cleanup", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-leftover", fixture.KeyedTable{OnDemand: true})
		rep, err := Run(ctx, Clients{DynamoDB: keepOnDelete{c.DynamoDB, "-cc"}}, tableOptions("wallet-leftover"))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks, Cleanup)
		if rep.LeftoverItems != 1 || rep.Passed {
			t.Fatalf("leftover %d, passed %v", rep.LeftoverItems, rep.Passed)
		}
		wantDetail(t, rep, Cleanup, "1 still present (verify-"+rep.RunID+"-cc)", "expires_at=")
		left := fx.Keys(t, "wallet-leftover")
		if len(left) != 1 || left[0] != "verify-"+rep.RunID+"-cc" {
			t.Fatalf("items left: %v", left)
		}
		if err := wallet.NewStore(fx.DynamoDB, "wallet-leftover").Delete(ctx, left[0]); err != nil {
			t.Fatal(err)
		}
	})

	// Counted by a proxy between verify and the table: what reaches DynamoDB is what it bills.
	t.Run("round trips reuse a key per worker, so clean-up is O(concurrency)", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-counted", fixture.KeyedTable{OnDemand: true})
		p := startProxy(t, srv.Endpoint, faultproxy.Faults{})
		o := tableOptions("wallet-counted")
		o.Roundtrips, o.Concurrency = 200, 4
		rep, err := Run(ctx, testClients(t, p.URL, 0), o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		wantDetail(t, rep, Roundtrip, "200 of 200 put+get pairs on 4 keys")
		n := p.Counts()
		t.Logf("forwarded %v, %d transaction items, %d write units", n.Forwarded, n.TransactItems, n.WriteUnits())
		keys := int64(o.Concurrency + testItems)
		// One delete per item, one batched read proves them all gone; the checks' own reads:
		// a get per round trip and 9 for the other checks.
		if n.Forwarded["DeleteItem"] != keys || n.Forwarded["BatchGetItem"] != 1 || n.Forwarded["GetItem"] != int64(o.Roundtrips)+9 {
			t.Fatalf("want %d DeleteItem, 1 BatchGetItem, %d GetItem: %v", keys, o.Roundtrips+9, n.Forwarded)
		}
		if w := n.WriteUnits(); w > int64(o.Roundtrips)+100 {
			t.Fatalf("%d write units for %d round trips, goal ≤ N + 100", w, o.Roundtrips)
		}
		fx.NoItems(t, "wallet-counted")
	})

	t.Run("a backend that misbehaves fails the check it breaks", func(t *testing.T) { misbehavingCases(t, c, fx) })
	t.Run("bounds: the run's, clean-up's, an interruption's", func(t *testing.T) { boundCases(t, srv.Endpoint, c, fx) })
	t.Run("faults injected by a proxy", func(t *testing.T) { faultCases(t, srv.Endpoint, fx) })
}

// misbehavingCases run every check through a wrapper around the real client that plays a
// backend behaving wrongly: each says why no real service can. Each table is the case's own,
// on-demand, and must be empty again afterwards.
func misbehavingCases(t *testing.T, c Clients, fx fixture.Cloud) {
	for _, tc := range []struct {
		name, table string
		// why no real service produces this, and the wrapper that plays it (new per run: some
		// keep state)
		why     string
		wrap    func(DynamoDB) DynamoDB
		options func(*Options)
		failed  []string
		details map[string][]string
	}{
		{
			name: "a backend ignoring conditions fails the conditional checks", table: "wallet-nocond",
			why:  "DynamoDB enforces conditions; this drops every ConditionExpression",
			wrap: func(d DynamoDB) DynamoDB { return dropConditions{d} }, failed: []string{ConditionalCreate, NoOverdraft, Transfer},
			details: map[string][]string{ConditionalCreate: {"attribute_not_exists(user_id) was not enforced"},
				NoOverdraft: {"debit of 7 from a balance of 6 was applied"}, Transfer: {"was not cancelled"}},
		},
		{
			name: "a read that differs from the write fails roundtrip", table: "wallet-badread",
			why:  "a real table returns what was written; this alters one worker's reads",
			wrap: func(d DynamoDB) DynamoDB { return alterRead{d} }, failed: []string{Roundtrip},
			details: map[string][]string{Roundtrip: {"read back", "-rt0: balance"}},
		},
		{
			name: "lost increments fail concurrent-increments", table: "wallet-lostadd",
			why:  "ADD is atomic in DynamoDB; this loses every third one",
			wrap: func(d DynamoDB) DynamoDB { return &loseAdds{DynamoDB: d} }, failed: []string{ConcurrentIncrements},
			details: map[string][]string{ConcurrentIncrements: {"want 20"}},
		},
		{
			name: "a transfer sent without its token fails transfer", table: "wallet-notoken",
			why: "the endpoint honours tokens (the probe proves it), but the transfer arrives without one, " +
				"as if the code had stopped sending it: the replay moves the money twice",
			wrap: func(d DynamoDB) DynamoDB { return stripTokens{DynamoDB: d} }, failed: []string{Transfer},
			details: map[string][]string{Transfer: {"applied the transfer twice"}},
		},
		{
			name: "an endpoint without idempotency tokens is reported as such", table: "wallet-notokens",
			why:     "an endpoint that ignores tokens altogether (moto does) is reported, not failed: real DynamoDB always implements them",
			wrap:    func(d DynamoDB) DynamoDB { return stripTokens{DynamoDB: d, all: true} },
			details: map[string][]string{Transfer: {"not supported by this endpoint: ClientRequestToken idempotency", "cancelled as a whole"}},
		},
		{
			name: "a stale read fails roundtrip", table: "wallet-stale",
			why: "DynamoDB's strongly consistent read returns the latest write; this answers with the one before it, " +
				"as an eventually consistent read may. Reusing a key, only a fresh value on every write makes that visible",
			wrap:    func(d DynamoDB) DynamoDB { return &staleReads{DynamoDB: d} },
			options: func(o *Options) { o.Roundtrips, o.Concurrency = 8, 1 },
			failed:  []string{Roundtrip},
			details: map[string][]string{Roundtrip: {"read back", "-rt0: balance"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Log(tc.why)
			fx.CreateKeyedTable(t, tc.table, fixture.KeyedTable{OnDemand: true})
			o := tableOptions(tc.table)
			if tc.options != nil {
				tc.options(&o)
			}
			rep, err := Run(t.Context(), Clients{DynamoDB: tc.wrap(c.DynamoDB)}, o)
			if err != nil {
				t.Fatal(err)
			}
			wantResults(t, rep, allChecks, tc.failed...)
			for check, subs := range tc.details {
				wantDetail(t, rep, check, subs...)
			}
			fx.NoItems(t, tc.table)
		})
	}
}

// Test bounds of the runs below: each is the wait the case is about, kept short.
const (
	neverActiveTimeout = 1500 * time.Millisecond // a table never ACTIVE is waited for this long
	outOfTimeTimeout   = 3 * time.Second         // reads held forever end the run here
	stuckCleanup       = time.Second             // deletes held forever end clean-up here
	failingCleanup     = 5 * time.Second         // clean-up's bound when every write fails
	// failFastGuard bounds a run against a backend failing every write: with its retries
	// bounded it ends in seconds; without, in minutes.
	failFastGuard = 40 * time.Second
	// capacityTimeout is a --timeout no 1-unit table serves 100000 round trips within.
	capacityTimeout = 20 * time.Second
)

// boundCases are the runs that end early — a table never ACTIVE, --timeout, a capacity that
// cannot serve the run, an interruption, a clean-up that cannot finish — and what each leaves.
func boundCases(t *testing.T, endpoint string, c Clients, fx fixture.Cloud) {
	ctx := t.Context()

	// Local tables are ACTIVE at once; a fake keeps reporting CREATING.
	t.Run("a table that never becomes ACTIVE fails active within --timeout", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-creating", fixture.KeyedTable{OnDemand: true})
		o := tableOptions("wallet-creating")
		o.Timeout = neverActiveTimeout
		start := time.Now()
		rep, err := Run(ctx, Clients{DynamoDB: creating{c.DynamoDB}}, o)
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, []string{Discover, Active}, Active)
		wantDetail(t, rep, Active, "ACTIVE", "--timeout "+neverActiveTimeout.String())
		if d := time.Since(start); d > hangGuard {
			t.Fatalf("took %s", d)
		}
	})

	t.Run("interrupted mid-run, clean-up still removes everything", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-cancel", fixture.KeyedTable{OnDemand: true})
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		o := tableOptions("wallet-cancel")
		o.Roundtrips = 200
		spy := &cancelAfterPuts{DynamoDB: c.DynamoDB, after: 20, cancel: cancel}
		rep, err := Run(rctx, Clients{DynamoDB: spy}, o)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want an interrupted run, got err %v", err)
		}
		// An interruption is not a verdict: roundtrip is stopped, not failed.
		wantResults(t, rep, []string{Discover, Active, Conformance, Roundtrip, Cleanup})
		wantStopped(t, rep, Roundtrip, Interrupted)
		wantDetail(t, rep, Roundtrip, "interrupted")
		wantDetail(t, rep, Cleanup, "consistent reads find none left")
		if spy.puts.Load() < 20 {
			t.Fatalf("only %d puts before the interruption", spy.puts.Load())
		}
		fx.NoItems(t, "wallet-cancel")
	})

	t.Run("out of time, clean-up still removes everything", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-timeout", fixture.KeyedTable{OnDemand: true})
		// Reads held until the client gives up: the puts land, and --timeout ends the run in
		// roundtrip, whatever the machine's load.
		p := startProxy(t, endpoint, faultproxy.Faults{Latency: time.Hour, Operations: []string{"GetItem"}})
		pc := testClients(t, p.URL, 0)
		o := tableOptions("wallet-timeout")
		o.Roundtrips, o.Concurrency, o.Timeout = 1000, 2, outOfTimeTimeout
		rep, err := Run(ctx, pc, o)
		if n := p.Counts().Forwarded["PutItem"]; n != 2 {
			t.Fatalf("%d puts reached the table, want one per worker", n)
		}
		var ote *OutOfTimeError
		if !errors.As(err, &ote) || ote.Check != Roundtrip || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want an OutOfTimeError naming roundtrip, got %v", err)
		}
		// The run ran out of time: that says nothing about the table, so nothing failed.
		wantResults(t, rep, []string{Discover, Active, Conformance, Roundtrip, Cleanup})
		wantStopped(t, rep, Roundtrip, OutOfTime)
		wantDetail(t, rep, Roundtrip, "out of time")
		fx.NoItems(t, "wallet-timeout")
	})

	t.Run("a run the capacity cannot serve in --timeout is refused, nothing written", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-small", fixture.KeyedTable{Read: 1, Write: 1})
		spy := &countWrites{DynamoDB: c.DynamoDB}
		o := tableOptions("wallet-small")
		o.Roundtrips, o.Timeout = 100000, capacityTimeout
		start := time.Now()
		rep, err := Run(ctx, Clients{DynamoDB: spy}, o)
		var ce *CapacityError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--roundtrips 275 or fewer") {
			t.Fatalf("want a CapacityError, got %v", err)
		}
		wantResults(t, rep, []string{Discover, Active, Conformance})
		if n := spy.writes.Load(); n != 0 || len(fx.Keys(t, "wallet-small")) != 0 {
			t.Fatalf("%d writes for a refused run", n)
		}
		if d := time.Since(start); d > hangGuard {
			t.Fatalf("took %s", d)
		}
	})

	// No local backend stalls on request; the proxy holds every delete until the client gives
	// up, as a network partition would.
	t.Run("clean-up is bounded, and says what remains", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-stuck", fixture.KeyedTable{OnDemand: true})
		p := startProxy(t, endpoint, faultproxy.Faults{Latency: time.Hour, Operations: []string{"DeleteItem"}})
		o := tableOptions("wallet-stuck")
		o.CleanupTimeout = stuckCleanup
		start := time.Now()
		rep, err := Run(ctx, testClients(t, p.URL, 0), o)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		wantResults(t, rep, allChecks, Cleanup)
		left := fx.Keys(t, "wallet-stuck")
		if rep.LeftoverItems != o.Concurrency+testItems || len(left) != rep.LeftoverItems {
			t.Fatalf("report says %d left, the table holds %v", rep.LeftoverItems, left)
		}
		wantDetail(t, rep, Cleanup, "9 of 9 test items may remain after clean-up (bounded at "+stuckCleanup.String()+")", "TTL removes them after")
		if took > hangGuard {
			t.Fatalf("took %s", took)
		}
		for _, k := range left {
			if err := wallet.NewStore(fx.DynamoDB, "wallet-stuck").Delete(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
	})

}

// faultCases put the fault proxy between verify and DynamoDB Local: a proxy is the honest
// stand-in for throttling and network failure because no local backend ever throttles or
// drops a connection. The table is always inspected directly, not through the proxy.
func faultCases(t *testing.T, endpoint string, fx fixture.Cloud) {
	ctx := t.Context()

	t.Run("throttles, 500s, drops and latency are retried and counted", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-faults", fixture.KeyedTable{OnDemand: true})
		p := startProxy(t, endpoint, faultproxy.Faults{Throttle: 0.05, ServerError: 0.05, Drop: 0.03, Latency: 2 * time.Millisecond, Seed: 7,
			Operations: []string{"PutItem", "GetItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}})
		c := testClients(t, p.URL, 0)
		rep, err := Run(ctx, c, tableOptions("wallet-faults"))
		if err != nil {
			t.Fatal(err)
		}
		wantResults(t, rep, allChecks)
		n := p.Counts()
		if n.Throttled == 0 || n.ServerErrors == 0 || n.Dropped == 0 {
			t.Fatalf("the proxy injected too little to prove anything: %+v", n)
		}
		if rep.Throttled != n.Throttled {
			t.Fatalf("report counts %d throttles, the proxy injected %d", rep.Throttled, n.Throttled)
		}
		fx.NoItems(t, "wallet-faults")
	})

	t.Run("writes whose answers are lost are still cleaned up", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-lostanswers", fixture.KeyedTable{OnDemand: true})
		p := startProxy(t, endpoint, faultproxy.Faults{DropAfter: 0.3, Operations: []string{"PutItem"}, Seed: 3})
		c := testClients(t, p.URL, 0)
		o := tableOptions("wallet-lostanswers")
		o.Roundtrips = 20
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		if p.Counts().DroppedAfter == 0 {
			t.Fatal("no answer was dropped")
		}
		// A retried put whose first attempt landed is recognised as the run's own write.
		wantResults(t, rep, allChecks)
		fx.NoItems(t, "wallet-lostanswers")
	})

	t.Run("a backend failing every write fails, quickly, and leaves nothing", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-500", fixture.KeyedTable{OnDemand: true})
		p := startProxy(t, endpoint, faultproxy.Faults{ServerError: 1,
			Operations: []string{"PutItem", "GetItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchGetItem"}})
		c := testClients(t, p.URL, 2)
		o := tableOptions("wallet-500")
		o.CleanupTimeout = failingCleanup
		start := time.Now()
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > failFastGuard {
			t.Fatalf("took %s", d)
		}
		wantResults(t, rep, allChecks, writingChecks...)
		wantDetail(t, rep, Roundtrip, "InternalServerError")
		// Nothing reached the table, but clean-up could not read back to prove it: it says so.
		wantDetail(t, rep, Cleanup, "not confirmed deleted")
		if rep.LeftoverItems == 0 {
			t.Fatal("unconfirmed deletions must count as left over")
		}
	})
}

// creating reports the table as CREATING forever.
type creating struct{ DynamoDB }

func (c creating) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := c.DynamoDB.DescribeTable(ctx, in, o...)
	if err == nil {
		out.Table.TableStatus = types.TableStatusCreating
	}
	return out, err
}

// countWrites counts item writes.
type countWrites struct {
	DynamoDB
	writes atomic.Int32
}

func (c *countWrites) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.PutItem(ctx, in, o...)
}

func (c *countWrites) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.UpdateItem(ctx, in, o...)
}

func (c *countWrites) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.DeleteItem(ctx, in, o...)
}

func (c *countWrites) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes.Add(1)
	return c.DynamoDB.TransactWriteItems(ctx, in, o...)
}

// dropConditions sends every write without its ConditionExpression (and without the names
// and values only the condition used, which DynamoDB would otherwise reject as unused).
type dropConditions struct{ DynamoDB }

func (d dropConditions) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c := *in
	c.ConditionExpression, c.ExpressionAttributeNames, c.ExpressionAttributeValues = nil, nil, nil
	return d.DynamoDB.PutItem(ctx, &c, o...)
}

func (d dropConditions) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c := *in
	c.ConditionExpression = nil
	c.ReturnValuesOnConditionCheckFailure = ""
	c.ExpressionAttributeNames = usedNames(c.ExpressionAttributeNames, aws.ToString(c.UpdateExpression))
	return d.DynamoDB.UpdateItem(ctx, &c, o...)
}

func (d dropConditions) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c := *in
	c.TransactItems = nil
	for _, it := range in.TransactItems {
		if it.Update != nil {
			u := *it.Update
			u.ConditionExpression = nil
			u.ReturnValuesOnConditionCheckFailure = ""
			u.ExpressionAttributeNames = usedNames(u.ExpressionAttributeNames, aws.ToString(u.UpdateExpression))
			it.Update = &u
		}
		c.TransactItems = append(c.TransactItems, it)
	}
	return d.DynamoDB.TransactWriteItems(ctx, &c, o...)
}

func usedNames(names map[string]string, expr string) map[string]string {
	out := map[string]string{}
	for k, v := range names {
		if strings.Contains(expr, k) {
			out[k] = v
		}
	}
	return out
}

// alterRead returns the first round-trip worker's items with a balance one digit longer than
// stored.
type alterRead struct{ DynamoDB }

func (a alterRead) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := a.DynamoDB.GetItem(ctx, in, o...)
	if err == nil && out.Item != nil && strings.HasSuffix(keyOf(in.Key), "-rt0") {
		if n, ok := out.Item[wallet.BalanceAttribute].(*types.AttributeValueMemberN); ok {
			out.Item[wallet.BalanceAttribute] = &types.AttributeValueMemberN{Value: n.Value + "1"}
		}
	}
	return out, err
}

func keyOf(k map[string]types.AttributeValue) string {
	if s, ok := k[wallet.KeyAttribute].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// staleReads answers a read with the item as it was before the last write to its key.
type staleReads struct {
	DynamoDB
	mu       sync.Mutex
	previous map[string]map[string]types.AttributeValue
	last     map[string]map[string]types.AttributeValue
}

func (s *staleReads) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	s.mu.Lock()
	if s.last == nil {
		s.previous, s.last = map[string]map[string]types.AttributeValue{}, map[string]map[string]types.AttributeValue{}
	}
	k := keyOf(in.Item)
	s.previous[k], s.last[k] = s.last[k], in.Item
	s.mu.Unlock()
	return s.DynamoDB.PutItem(ctx, in, o...)
}

func (s *staleReads) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.mu.Lock()
	prev := s.previous[keyOf(in.Key)]
	s.mu.Unlock()
	if prev != nil {
		return &dynamodb.GetItemOutput{Item: prev}, nil
	}
	return s.DynamoDB.GetItem(ctx, in, o...)
}

// loseAdds acknowledges every third ADD without applying it.
type loseAdds struct {
	DynamoDB
	n atomic.Int32
}

func (l *loseAdds) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if strings.HasPrefix(aws.ToString(in.UpdateExpression), "ADD") && l.n.Add(1)%3 == 0 {
		return &dynamodb.UpdateItemOutput{Attributes: map[string]types.AttributeValue{
			wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: "0"}}}, nil
	}
	return l.DynamoDB.UpdateItem(ctx, in, o...)
}

// stripTokens removes the ClientRequestToken from transfers (transactions that update), or
// from every transaction when all is set.
type stripTokens struct {
	DynamoDB
	all bool
}

func (s stripTokens) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c := *in
	if s.all || (len(in.TransactItems) > 0 && in.TransactItems[0].Update != nil) {
		c.ClientRequestToken = nil
	}
	return s.DynamoDB.TransactWriteItems(ctx, &c, o...)
}

// keepOnDelete acknowledges deletes of keys ending in suffix without deleting.
type keepOnDelete struct {
	DynamoDB
	suffix string
}

func (k keepOnDelete) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if strings.HasSuffix(keyOf(in.Key), k.suffix) {
		return &dynamodb.DeleteItemOutput{}, nil
	}
	return k.DynamoDB.DeleteItem(ctx, in, o...)
}

// cancelAfterPuts cancels the run's context at the after-th put, like a SIGINT would.
type cancelAfterPuts struct {
	DynamoDB
	puts   atomic.Int32
	after  int32
	cancel context.CancelFunc
}

func (c *cancelAfterPuts) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if c.puts.Add(1) == c.after {
		c.cancel()
	}
	return c.DynamoDB.PutItem(ctx, in, o...)
}

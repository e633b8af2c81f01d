package check

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/time/rate"
)

// BurstSeconds is how much unused capacity DynamoDB keeps for bursts: up to 300 seconds' worth.
// A limiter with that burst lets a short check run at full speed on a 1-unit table, while a
// long one settles at the provisioned rate and never throttles a table someone depends on.
const BurstSeconds = 300

// Pacer holds requests to a table's provisioned capacity.
type Pacer struct {
	Reads, Writes *rate.Limiter
	Detail        string
}

// NewPacer models a table's capacity: rate = capacity units per second, burst = BurstSeconds
// of them. On-demand tables, and enabled=false (--no-pace), get limiters that never wait.
func NewPacer(d *types.TableDescription, enabled bool) Pacer {
	unlimited := Pacer{Reads: rate.NewLimiter(rate.Inf, 0), Writes: rate.NewLimiter(rate.Inf, 0)}
	switch {
	case !enabled:
		unlimited.Detail = "not paced (--no-pace)"
		return unlimited
	case wallet.BillingOf(d) == wallet.BillingOnDemand,
		d.ProvisionedThroughput == nil, aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits) <= 0:
		unlimited.Detail = "not paced (on-demand)"
		return unlimited
	}
	rcu := aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits)
	wcu := max(aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits), 1)
	return Pacer{
		Reads:  rate.NewLimiter(rate.Limit(rcu), int(BurstSeconds*rcu)),
		Writes: rate.NewLimiter(rate.Limit(wcu), int(BurstSeconds*wcu)),
		Detail: fmt.Sprintf("paced at %d RCU/s, %d WCU/s, %d s burst", rcu, wcu, BurstSeconds),
	}
}

// Paced reports whether the pacer holds requests back at all.
func (p Pacer) Paced() bool { return p.Writes.Limit() != rate.Inf || p.Reads.Limit() != rate.Inf }

// Units are capacity units: strongly consistent reads and writes of items up to 1 KB.
type Units struct{ Reads, Writes int64 }

func (u Units) add(v Units) Units { return Units{u.Reads + v.Reads, u.Writes + v.Writes} }

// Time is how long the pacer takes to grant u from a full burst: nothing until the burst is
// spent, then the provisioned rate. Latency is not counted.
func (p Pacer) Time(u Units) time.Duration {
	t := func(l *rate.Limiter, n int64) float64 {
		if l.Limit() == rate.Inf {
			return 0
		}
		return math.Max(0, float64(n-int64(l.Burst()))) / float64(l.Limit())
	}
	return seconds(math.Max(t(p.Reads, u.Reads), t(p.Writes, u.Writes)))
}

// Refill is how long the pacer takes to grant u once the burst is spent: the clean-up's
// worst case, after checks that used every unit.
func (p Pacer) Refill(u Units) time.Duration {
	t := func(l *rate.Limiter, n int64) float64 {
		if l.Limit() == rate.Inf {
			return 0
		}
		return float64(n) / float64(l.Limit())
	}
	return seconds(math.Max(t(p.Reads, u.Reads), t(p.Writes, u.Writes)))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// testItems is how many items the writing checks create besides the round trips' one per
// worker: conditional-create, no-overdraft, transfer's two, concurrent-increments.
const testItems = 5

// Demand is what a run's writing checks and its clean-up cost, in the pacer's model: a
// consistent read 1 RCU, a write 1 WCU (refused conditional writes too), a transactional write
// 2 WCU per item. Paths taken only on failure are not counted; the token probe is, as if the
// endpoint needed it.
func Demand(o Options) (checks, cleanup Units) {
	n, c, k := int64(o.Roundtrips), int64(o.Concurrency), int64(o.Increments)
	checks = Units{Reads: n, Writes: n} // roundtrip: put + consistent get
	for _, u := range []Units{
		{Reads: 1, Writes: 2},       // conditional-create: create, refused create, read back
		{Reads: 1, Writes: 3},       // no-overdraft: create, debit, refused debit, read back
		{Reads: 6, Writes: 2 + 4*4}, // transfer: 2 creates; transfer, replay, probe (2×1 item), overdraw; 3×2 reads
		{Reads: 1, Writes: 1 + c*k}, // concurrent-increments: create, c×k ADDs, read back
	} {
		checks = checks.add(u)
	}
	keys := min(c, n) + testItems
	return checks, Units{Reads: keys, Writes: keys}
}

// CapacityError refuses a run the table's provisioned capacity cannot serve within --timeout,
// before anything is written.
type CapacityError struct {
	Table          string
	Needed         Units
	Rate           Units // provisioned units per second
	Takes, Timeout time.Duration
	// MaxRoundtrips is the most round trips that fit in Timeout, 0 if none do.
	MaxRoundtrips int
}

func (e *CapacityError) Error() string {
	fit := "no number of --roundtrips fits it"
	if e.MaxRoundtrips > 0 {
		fit = fmt.Sprintf("--roundtrips %d or fewer fit it", e.MaxRoundtrips)
	}
	return fmt.Sprintf("table %s cannot serve this run within --timeout %s: the checks need %d write and %d read units; "+
		"paced at the table's %d WCU/s and %d RCU/s after %d s of burst, they take %s; nothing was written. "+
		"%s, or give --timeout %s or more",
		e.Table, e.Timeout, e.Needed.Writes, e.Needed.Reads, e.Rate.Writes, e.Rate.Reads, BurstSeconds, e.Takes.Round(time.Second), fit,
		(e.Takes + time.Second).Round(time.Second))
}

// fits refuses a run whose checks the pacer cannot grant in the time left of --timeout.
func fits(p Pacer, table string, o Options, left time.Duration) error {
	need, _ := Demand(o)
	takes := p.Time(need)
	if takes < left {
		return nil
	}
	return &CapacityError{Table: table, Needed: need, Takes: takes, Timeout: o.Timeout,
		Rate:          Units{Reads: int64(p.Reads.Limit()), Writes: int64(p.Writes.Limit())},
		MaxRoundtrips: maxRoundtrips(p, o, left)}
}

// maxRoundtrips is the most round trips whose checks the pacer grants within left: each adds
// one unit of each kind, and what the other checks need does not depend on their number.
func maxRoundtrips(p Pacer, o Options, left time.Duration) int {
	o.Roundtrips = 0
	fixed, _ := Demand(o)
	best := MaxRoundtrips
	for _, k := range []struct {
		l     *rate.Limiter
		fixed int64
	}{{p.Reads, fixed.Reads}, {p.Writes, fixed.Writes}} {
		if k.l.Limit() == rate.Inf {
			continue
		}
		// n fits while n + fixed - burst < rate × left.
		budget := float64(k.l.Burst()) + float64(k.l.Limit())*left.Seconds() - float64(k.fixed)
		best = min(best, int(math.Ceil(budget))-1)
	}
	return max(best, 0)
}

// API wraps item calls so every request first takes its capacity from the limiters. Costs
// are for items of at most 1 KB: a strongly consistent read is 1 RCU, a write 1 WCU (a refused
// conditional write costs the same), a transactional write 2 WCU per item. Unpaced, it is api.
func (p Pacer) API(api Items) Items {
	if !p.Paced() {
		return api
	}
	return &paced{api: api, p: p}
}

type paced struct {
	api Items
	p   Pacer
}

// wait takes n units from l. A wait the deadline would cut short fails at once, which the
// limiter reports as a plain error; it is the run running out of time, and says so.
func wait(ctx context.Context, l *rate.Limiter, n int, what string) error {
	err := l.WaitN(ctx, n)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("pace %s: %w", what, ctx.Err())
	}
	if _, ok := ctx.Deadline(); ok && n <= l.Burst() {
		return fmt.Errorf("pace %s: the table's capacity for it comes after the deadline: %w", what, context.DeadlineExceeded)
	}
	return fmt.Errorf("pace %s: %w", what, err)
}

func (x *paced) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := wait(ctx, x.p.Reads, 1, "read"); err != nil {
		return nil, err
	}
	return x.api.GetItem(ctx, in, opt...)
}

func (x *paced) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	n := 0
	for _, ka := range in.RequestItems {
		n += len(ka.Keys)
	}
	if err := wait(ctx, x.p.Reads, n, "batch read"); err != nil {
		return nil, err
	}
	return x.api.BatchGetItem(ctx, in, opt...)
}

func (x *paced) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := wait(ctx, x.p.Writes, 1, "write"); err != nil {
		return nil, err
	}
	return x.api.PutItem(ctx, in, opt...)
}

func (x *paced) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := wait(ctx, x.p.Writes, 1, "write"); err != nil {
		return nil, err
	}
	return x.api.UpdateItem(ctx, in, opt...)
}

func (x *paced) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if err := wait(ctx, x.p.Writes, 1, "write"); err != nil {
		return nil, err
	}
	return x.api.DeleteItem(ctx, in, opt...)
}

func (x *paced) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opt ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := wait(ctx, x.p.Writes, 2*len(in.TransactItems), "transaction"); err != nil {
		return nil, err
	}
	return x.api.TransactWriteItems(ctx, in, opt...)
}

package check

import (
	"context"
	"fmt"

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
	WCU           int64 // the write rate paced at; 0 when not paced
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
	wcu := aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)
	return Pacer{
		Reads:  rate.NewLimiter(rate.Limit(rcu), int(BurstSeconds*rcu)),
		Writes: rate.NewLimiter(rate.Limit(wcu), int(BurstSeconds*max(wcu, 1))),
		WCU:    wcu,
		Detail: fmt.Sprintf("paced at %d RCU/s, %d WCU/s, %d s burst", rcu, wcu, BurstSeconds),
	}
}

// API wraps a wallet.API so every request first takes its capacity from the limiters. Costs
// are for items of at most 1 KB: a strongly consistent read is 1 RCU, a write 1 WCU (a refused
// conditional write costs the same), a transactional write 2 WCU per item.
func (p Pacer) API(api wallet.API) wallet.API { return &paced{api: api, p: p} }

type paced struct {
	api wallet.API
	p   Pacer
}

func (x *paced) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err := x.p.Reads.WaitN(ctx, 1); err != nil {
		return nil, fmt.Errorf("pace read: %w", err)
	}
	return x.api.GetItem(ctx, in, opt...)
}

func (x *paced) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if err := x.p.Writes.WaitN(ctx, 1); err != nil {
		return nil, fmt.Errorf("pace write: %w", err)
	}
	return x.api.PutItem(ctx, in, opt...)
}

func (x *paced) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if err := x.p.Writes.WaitN(ctx, 1); err != nil {
		return nil, fmt.Errorf("pace write: %w", err)
	}
	return x.api.UpdateItem(ctx, in, opt...)
}

func (x *paced) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opt ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if err := x.p.Writes.WaitN(ctx, 1); err != nil {
		return nil, fmt.Errorf("pace write: %w", err)
	}
	return x.api.DeleteItem(ctx, in, opt...)
}

func (x *paced) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opt ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if err := x.p.Writes.WaitN(ctx, 2*len(in.TransactItems)); err != nil {
		return nil, fmt.Errorf("pace transaction: %w", err)
	}
	return x.api.TransactWriteItems(ctx, in, opt...)
}

package check

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// writer runs the checks that write, on test wallets of its own.
type writer struct {
	api      Items // paced
	ops      *wallet.Store
	cleanAPI Items // paced too, on the clean-up client
	table    string
	o        Options
	runID    string
	expires  time.Time
	pacer    Pacer
	keys     keySet
}

func newWriter(db, cleanup Items, table string, p Pacer, o Options, runID string) *writer {
	api := p.API(db)
	return &writer{api: api, ops: wallet.NewStore(api, table), cleanAPI: p.API(cleanup),
		table: table, o: o, runID: runID, pacer: p, expires: time.Now().Add(TestItemTTL).Truncate(time.Second)}
}

// keySet is every key the run may have written. A key is added before its write is sent: a
// write whose response is lost has still happened, and clean-up must delete it.
type keySet struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (s *keySet) add(k string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.keys == nil {
		s.keys = map[string]bool{}
	}
	s.keys[k] = true
}

func (s *keySet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func (s *keySet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.keys))
	for k := range s.keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Prefix is what every test item's key starts with; the run id follows.
const Prefix = "verify-"

// key is a test item's user_id: verify-<run id>-<suffix>. The random run id keeps it clear of
// real wallets and of other runs, even concurrent ones on the same table.
func (w *writer) key(suffix string) string { return Prefix + w.runID + "-" + suffix }

// checks runs the writing checks. roundtrip runs alone: it measures latency, which other
// requests would disturb. The other four then run at once: each works on wallets of its own,
// so none can disturb another's proof, and the run is shorter by their round trips. A check
// that fails does not hide the others; one that is stopped (interrupted, out of time, refused
// by IAM) ends them.
func (w *writer) checks(ctx context.Context, rep *Report) {
	_ = rep.do(ctx, Roundtrip, func(ctx context.Context) (string, error) {
		lat, detail, err := w.roundtrip(ctx)
		rep.Roundtrips = lat
		return detail, err
	})
	if rep.Stopped != "" {
		return
	}
	rep.doTogether(ctx, []step{
		{ConditionalCreate, w.conditionalCreate},
		{NoOverdraft, w.noOverdraft},
		{Transfer, w.transfer},
		{ConcurrentIncrements, w.concurrentIncrements},
	})
}

// create makes a test wallet with a fresh key.
func (w *writer) create(ctx context.Context, suffix string, balance int64) (string, error) {
	id := w.key(suffix)
	w.keys.add(id)
	want := wallet.Wallet{UserID: id, Balance: balance, ExpiresAt: w.expires}
	err := w.ops.Create(ctx, want)
	if errors.Is(err, wallet.ErrExists) {
		// The key is this run's own, so an existing item can only be this very write, applied
		// once already and retried by the SDK after its response was lost. Accept it only if
		// it is exactly what was written.
		got, gerr := w.ops.Get(ctx, id)
		if gerr == nil && same(got, want) {
			return id, nil
		}
	}
	return id, err
}

func same(a, b wallet.Wallet) bool {
	return a.UserID == b.UserID && a.Balance == b.Balance && a.ExpiresAt.Unix() == b.ExpiresAt.Unix()
}

func (w *writer) balance(ctx context.Context, id string) (int64, error) {
	got, err := w.ops.Get(ctx, id)
	return got.Balance, err
}

// roundtrip makes N put + strongly consistent get pairs, C at a time. Each worker writes one
// key of its own over and over, a value that key never held before, and reads it straight
// back: a read that returns anything but the value just written (a stale one included) fails
// the check, and what is left to clean up is C items however large N is.
func (w *writer) roundtrip(ctx context.Context) (Latency, string, error) {
	n, c := w.o.Roundtrips, min(w.o.Concurrency, w.o.Roundtrips)
	lat := make([][]time.Duration, c)
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for worker := range c {
		g.Go(func() error {
			id := w.key("rt" + strconv.Itoa(worker))
			w.keys.add(id)
			first := rand.Int64N(1_000_000_000)
			for i := int64(0); next.Add(1) <= int64(n); i++ {
				want := wallet.Wallet{UserID: id, Balance: first + i, ExpiresAt: w.expires}
				t0 := time.Now()
				// A plain put: the key is this worker's own by construction (random run id),
				// so a condition would only add server work to what is measured here;
				// refusing to overwrite is what conditional-create proves.
				if err := w.ops.Put(gctx, want); err != nil {
					return err
				}
				got, err := w.ops.Get(gctx, id)
				if err != nil {
					return err
				}
				if !same(got, want) {
					return fmt.Errorf("read back %s: balance %d expiring %d, wrote %d expiring %d",
						id, got.Balance, got.ExpiresAt.Unix(), want.Balance, want.ExpiresAt.Unix())
				}
				lat[worker] = append(lat[worker], time.Since(t0))
			}
			return nil
		})
	}
	err := g.Wait()
	wall := time.Since(start)
	var ok []time.Duration
	for _, l := range lat {
		ok = append(ok, l...)
	}
	l := Latency{Count: len(ok), P50: percentile(ok, 0.50), P99: percentile(ok, 0.99)}
	if wall > 0 {
		l.PerSecond = float64(len(ok)) / wall.Seconds()
	}
	detail := fmt.Sprintf("%d of %d put+get pairs on %d keys at concurrency %d, p50 %s, p99 %s, %.1f pairs/s, %s",
		len(ok), n, c, c, round(l.P50), round(l.P99), l.PerSecond, w.pacer.Detail)
	return l, detail, err
}

// percentile is the nearest-rank percentile of the durations.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func (w *writer) conditionalCreate(ctx context.Context) (string, error) {
	id, err := w.create(ctx, "cc", 7)
	if err != nil {
		return "", err
	}
	err = w.ops.Create(ctx, wallet.Wallet{UserID: id, Balance: 99, ExpiresAt: w.expires})
	switch {
	case err == nil:
		return "", fmt.Errorf("creating existing wallet %s succeeded: attribute_not_exists(%s) was not enforced", id, wallet.KeyAttribute)
	case !errors.Is(err, wallet.ErrExists):
		return "", err
	}
	bal, err := w.balance(ctx, id)
	if err != nil {
		return "", err
	}
	if bal != 7 {
		return "", fmt.Errorf("the refused create changed the balance from 7 to %d", bal)
	}
	return "creating an existing wallet was refused (ConditionalCheckFailed); balance kept", nil
}

func (w *writer) noOverdraft(ctx context.Context) (string, error) {
	id, err := w.create(ctx, "od", 10)
	if err != nil {
		return "", err
	}
	// A debit within the balance must work, or refusing everything would pass.
	if bal, err := w.ops.Debit(ctx, id, 4); err != nil {
		return "", fmt.Errorf("a debit within the balance failed: %w", err)
	} else if bal != 6 {
		return "", fmt.Errorf("debit 4 from 10 left %d", bal)
	}
	_, err = w.ops.Debit(ctx, id, 7)
	switch {
	case err == nil:
		bal, _ := w.balance(ctx, id)
		return "", fmt.Errorf("a debit of 7 from a balance of 6 was applied (balance now %d): the condition %s >= :amt was not enforced", bal, wallet.BalanceAttribute)
	case !errors.Is(err, wallet.ErrInsufficientFunds):
		return "", err
	}
	bal, err := w.balance(ctx, id)
	if err != nil {
		return "", err
	}
	if bal != 6 {
		return "", fmt.Errorf("the refused debit changed the balance from 6 to %d", bal)
	}
	return "debit 4 of 10 applied; debit 7 of 6 refused (ConditionalCheckFailed); balance kept at 6", nil
}

// transfer proves, on two test wallets, the three things a transfer promises: it moves money
// on both sides, its token makes a replay harmless, and an overdraft cancels it whole.
func (w *writer) transfer(ctx context.Context) (string, error) {
	var a, b string
	if err := both(ctx,
		func(ctx context.Context) (err error) { a, err = w.create(ctx, "tx-a", 100); return err },
		func(ctx context.Context) (err error) { b, err = w.create(ctx, "tx-b", 0); return err },
	); err != nil {
		return "", err
	}
	token := w.key("t1")
	if err := w.transferOnce(ctx, a, b, token); err != nil {
		return "", err
	}
	replay, x, y, err := w.replay(ctx, a, b, token)
	if err != nil {
		return "", err
	}
	overdraw, err := w.overdraw(ctx, a, b, x, y)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{"transfer of 30 applied to both wallets", replay, overdraw}, "; "), nil
}

// balances reads both wallets of a transfer, at once.
func (w *writer) balances(ctx context.Context, a, b string) (x, y int64, err error) {
	err = both(ctx,
		func(ctx context.Context) (err error) { x, err = w.balance(ctx, a); return err },
		func(ctx context.Context) (err error) { y, err = w.balance(ctx, b); return err },
	)
	return x, y, err
}

// both runs two independent requests at once: each is a round trip the check would otherwise
// wait for. The first error is returned.
func both(ctx context.Context, f, g func(context.Context) error) error {
	var eg errgroup.Group
	eg.Go(func() error { return f(ctx) })
	eg.Go(func() error { return g(ctx) })
	return eg.Wait()
}

func (w *writer) transferOnce(ctx context.Context, a, b, token string) error {
	if err := w.ops.Transfer(ctx, a, b, 30, token); err != nil {
		return err
	}
	if x, y, err := w.balances(ctx, a, b); err != nil {
		return err
	} else if x != 70 || y != 30 {
		return fmt.Errorf("after transferring 30 of 100: balances %d and %d, want 70 and 30", x, y)
	}
	return nil
}

// replay sends the transfer again with its token, which must not move the money twice. It
// returns the balances it read.
func (w *writer) replay(ctx context.Context, a, b, token string) (string, int64, int64, error) {
	if err := w.ops.Transfer(ctx, a, b, 30, token); err != nil {
		return "", 0, 0, fmt.Errorf("replaying the transfer with its ClientRequestToken: %w", err)
	}
	x, y, err := w.balances(ctx, a, b)
	switch {
	case err != nil:
		return "", 0, 0, err
	case x == 70 && y == 30:
		return "replay with the same ClientRequestToken not applied twice", x, y, nil
	case x != 40 || y != 60:
		return "", 0, 0, fmt.Errorf("after replaying the transfer: balances %d and %d, want 70 and 30", x, y)
	}
	honoured, err := w.tokenHonoured(ctx, a, b)
	if err != nil {
		return "", 0, 0, fmt.Errorf("replay applied twice (balances 40 and 60); probing the token: %w", err)
	}
	if honoured {
		return "", 0, 0, fmt.Errorf("replaying ClientRequestToken %s applied the transfer twice (balances 40 and 60, want 70 and 30)", token)
	}
	// Real DynamoDB always honours tokens; an endpoint that accepts one token for two
	// different transactions does not implement them at all (moto), which is not a fault of
	// the table or of this code.
	return "not supported by this endpoint: ClientRequestToken idempotency (the replay was applied again and the token was accepted for a different transaction)", x, y, nil
}

// overdraw sends a transfer one more than the balance x of a (b holding y), which must be
// cancelled as a whole.
func (w *writer) overdraw(ctx context.Context, a, b string, x, y int64) (string, error) {
	over := x + 1
	err := w.ops.Transfer(ctx, a, b, over, w.key("t2"))
	switch {
	case err == nil:
		return "", fmt.Errorf("a transfer of %d from a balance of %d was applied: the transaction was not cancelled", over, x)
	case !errors.Is(err, wallet.ErrInsufficientFunds):
		return "", fmt.Errorf("overdrawing transfer: want TransactionCanceledException for insufficient funds: %w", err)
	}
	x2, y2, err := w.balances(ctx, a, b)
	if err != nil {
		return "", err
	}
	if x2 != x || y2 != y {
		return "", fmt.Errorf("the cancelled transfer changed balances from %d and %d to %d and %d", x, y, x2, y2)
	}
	return fmt.Sprintf("overdrawing transfer of %d cancelled as a whole (TransactionCanceledException)", over), nil
}

// tokenHonoured tells whether the endpoint implements ClientRequestToken at all, independently
// of the transfer code: it sends a fresh probe token with one transaction, then with another,
// which DynamoDB must refuse with IdempotentParameterMismatch. The probes are condition checks
// on the two test wallets, so nothing is written either way.
func (w *writer) tokenHonoured(ctx context.Context, a, b string) (bool, error) {
	token := w.key("probe")
	probe := func(id string) error {
		_, err := w.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{{ConditionCheck: &types.ConditionCheck{
				TableName:                aws.String(w.table),
				Key:                      map[string]types.AttributeValue{wallet.KeyAttribute: &types.AttributeValueMemberS{Value: id}},
				ConditionExpression:      aws.String("attribute_exists(#k)"),
				ExpressionAttributeNames: map[string]string{"#k": wallet.KeyAttribute},
			}}},
		})
		return err
	}
	if err := probe(a); err != nil {
		return false, err
	}
	err := probe(b)
	var ipm *types.IdempotentParameterMismatchException
	switch {
	case errors.As(err, &ipm):
		return true, nil
	case err == nil:
		return false, nil
	}
	return false, err
}

func (w *writer) concurrentIncrements(ctx context.Context) (string, error) {
	id, err := w.create(ctx, "inc", 0)
	if err != nil {
		return "", err
	}
	c, k := w.o.Concurrency, w.o.Increments
	g, gctx := errgroup.WithContext(ctx)
	for range c {
		g.Go(func() error {
			for range k {
				if _, err := w.ops.Credit(gctx, id, 1); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	got, err := w.balance(ctx, id)
	if err != nil {
		return "", err
	}
	if want := int64(c * k); got != want {
		return "", fmt.Errorf("%d workers × %d increments: balance %d, want %d (lost or doubled updates)", c, k, got, want)
	}
	return fmt.Sprintf("%d workers × %d ADD increments = %d, read back exactly", c, k, c*k), nil
}

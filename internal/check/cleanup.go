package check

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// batchGetLimit is DynamoDB's limit of keys per BatchGetItem.
const batchGetLimit = 100

// cleanup deletes every key the run recorded, then proves each gone with consistent batched
// reads. It works by key only: it never scans a table that holds real wallets. bound is the
// limit ctx carries, named when it ran out.
func (w *writer) cleanup(ctx context.Context, bound time.Duration) (string, int, error) {
	keys := w.keys.list()
	if len(keys) == 0 {
		return "nothing was written", 0, nil
	}
	present, unconfirmed, delErr, readErr := w.deleteAndConfirm(ctx, keys)
	sort.Strings(unconfirmed)
	n := len(present) + len(unconfirmed)
	if n == 0 {
		return fmt.Sprintf("deleted %d test items; consistent reads find none left", len(keys)), 0, nil
	}
	var parts []string
	if len(present) > 0 {
		parts = append(parts, fmt.Sprintf("%d still present (%s)", len(present), strings.Join(present, ", ")))
	}
	if len(unconfirmed) > 0 {
		parts = append(parts, fmt.Sprintf("%d not confirmed deleted (%s)", len(unconfirmed), strings.Join(unconfirmed, ", ")))
	}
	msg := fmt.Sprintf("%d of %d test items may remain after clean-up (bounded at %s): %s; they carry %s=%d, so TTL removes them after %s UTC if enabled",
		n, len(keys), bound, strings.Join(parts, "; "), wallet.TTLAttribute, w.expires.Unix(), w.expires.UTC().Format("2006-01-02 15:04"))
	// The first cause, wrapped, so a refusal is recognised as one.
	if err := firstOf(delErr, readErr); err != nil {
		return "", n, fmt.Errorf("%s; first error: %w", msg, err)
	}
	return "", n, errors.New(msg)
}

// cleanupPasses bounds how often clean-up deletes an item it still finds.
const cleanupPasses = 3

const (
	// cleanupPassDelay, times the pass number, is the pause before deleting again what a pass
	// still found: long enough for a straggling write to land, short against the bound.
	cleanupPassDelay = 100 * time.Millisecond
	// cleanupMaxBackoff caps the wait between BatchGetItem attempts for unprocessed keys.
	cleanupMaxBackoff = 2 * time.Second
)

// deleteAndConfirm deletes the keys and reads them back, and deletes again what it still finds:
// a write the checks gave up on (interrupted, out of time) may already have been on its way,
// and land after its delete. It reads back even where a delete failed: the delete's response
// may be what was lost.
func (w *writer) deleteAndConfirm(ctx context.Context, keys []string) (present, unconfirmed []string, delErr, readErr error) {
	pending := keys
	for pass := 1; ; pass++ {
		delErr = firstOf(delErr, w.deleteAll(ctx, pending))
		again, unc, err := w.present(ctx, pending)
		// Only keys read as present are tried again; unconfirmed ones stay so.
		present, unconfirmed, readErr = again, append(unconfirmed, unc...), firstOf(readErr, err)
		if len(again) == 0 || pass == cleanupPasses || ctx.Err() != nil {
			return present, unconfirmed, delErr, readErr
		}
		pending = again
		select {
		case <-time.After(time.Duration(pass) * cleanupPassDelay):
		case <-ctx.Done():
			return present, unconfirmed, delErr, readErr
		}
	}
}

func firstOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteAll deletes the keys, all at once (a run holds at most MaxConcurrency + 5; the pacer
// still holds them to a provisioned table's capacity), and returns the first error; it goes on
// after one, since every key deleted is one less left behind.
func (w *writer) deleteAll(ctx context.Context, keys []string) error {
	ops := wallet.NewStore(w.cleanAPI, w.table)
	var (
		g     errgroup.Group
		once  sync.Once
		first error
	)
	for _, k := range keys {
		g.Go(func() error {
			if err := ops.Delete(ctx, k); err != nil {
				once.Do(func() { first = err })
			}
			return nil
		})
	}
	_ = g.Wait()
	return first
}

// present reads the keys back with consistent BatchGetItem calls, retrying what DynamoDB
// leaves unprocessed, and sorts them into the ones still there and the ones it could not
// read.
func (w *writer) present(ctx context.Context, keys []string) (present, unconfirmed []string, err error) {
	backoff := retry.NewExponentialJitterBackoff(cleanupMaxBackoff)
	for start := 0; start < len(keys); start += batchGetLimit {
		pending := keys[start:min(start+batchGetLimit, len(keys))]
		for attempt := 1; len(pending) > 0; attempt++ {
			found, unprocessed, berr := w.batchGet(ctx, pending)
			present = append(present, found...)
			if berr != nil {
				unconfirmed = append(unconfirmed, pending...)
				err = firstOf(err, berr)
				break
			}
			pending = unprocessed
			if len(pending) == 0 {
				break
			}
			delay, _ := backoff.BackoffDelay(attempt, nil)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				unconfirmed = append(unconfirmed, pending...)
				err = firstOf(err, fmt.Errorf("read back %d test items DynamoDB left unprocessed: %w", len(pending), ctx.Err()))
				pending = nil
			}
		}
	}
	sort.Strings(present)
	sort.Strings(unconfirmed)
	return present, unconfirmed, err
}

// batchGet reads up to batchGetLimit keys, only their key attribute, strongly consistent.
func (w *writer) batchGet(ctx context.Context, keys []string) (found, unprocessed []string, err error) {
	req := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		req[i] = map[string]types.AttributeValue{wallet.KeyAttribute: &types.AttributeValueMemberS{Value: k}}
	}
	out, err := w.cleanAPI.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		w.table: {
			Keys:                     req,
			ConsistentRead:           aws.Bool(true),
			ProjectionExpression:     aws.String("#k"),
			ExpressionAttributeNames: map[string]string{"#k": wallet.KeyAttribute},
		},
	}})
	if err != nil {
		return nil, nil, fmt.Errorf("read back %d test items from %s: %w", len(keys), w.table, err)
	}
	for _, item := range out.Responses[w.table] {
		if s, ok := item[wallet.KeyAttribute].(*types.AttributeValueMemberS); ok {
			found = append(found, s.Value)
		}
	}
	for _, k := range out.UnprocessedKeys[w.table].Keys {
		if s, ok := k[wallet.KeyAttribute].(*types.AttributeValueMemberS); ok {
			unprocessed = append(unprocessed, s.Value)
		}
	}
	return found, unprocessed, nil
}

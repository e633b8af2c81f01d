// Command bare is the benchmark's yardstick for verify, not shipped: the plainest Go SDK loop
// doing what verify's round trips do — N PutItem + strongly consistent GetItem pairs, C workers
// each on a key of its own (<prefix>-<worker>), nothing else — run as a process of its own so
// that it is timed the way verify is, start-up included. The same keys as verify, because
// DynamoDB Local overwrites an item faster than it inserts one, which real DynamoDB does not
// bill or time differently: the ratio must measure verify, not the emulator. For the same
// reason the items have the shape of verify's (a key as long, balance, expires_at). The
// configuration is the SDK's default chain (AWS_ENDPOINT_URL and friends).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

func main() {
	table := flag.String("table", "", "table to write to")
	prefix := flag.String("prefix", "bare", "key prefix: keys are <prefix>-<padding>-<worker>, as long as verify's")
	n := flag.Int("n", 400, "put+get pairs")
	c := flag.Int("c", 4, "pairs in flight at once")
	flag.Parse()
	if *table == "" || *n < 1 || *c < 1 {
		fmt.Fprintln(os.Stderr, "bare: want -table, and -n and -c of at least 1")
		os.Exit(2)
	}
	if err := run(context.Background(), *table, *prefix, *n, *c); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// key is a worker's key: as long as verify's verify-<16 hex digits>-rt<worker>.
func key(prefix string, worker int) string {
	return fmt.Sprintf("%-24.24s-rt%d", prefix+"-0123456789abcdef0123456789", worker)
}

func run(ctx context.Context, table, prefix string, n, c int) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg)
	first := rand.Int64N(1_000_000_000)
	expires := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	var (
		g    errgroup.Group
		next atomic.Int64
	)
	for worker := range min(c, n) {
		g.Go(func() error {
			key := map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: key(prefix, worker)}}
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				item := map[string]types.AttributeValue{"user_id": key["user_id"],
					"balance":    &types.AttributeValueMemberN{Value: strconv.FormatInt(first+i, 10)},
					"expires_at": &types.AttributeValueMemberN{Value: expires}}
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
					return err
				}
				if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

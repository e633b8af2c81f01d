package check

import (
	"context"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// Throttles counts request attempts the service refused as throttled. The retryer hides them
// (a throttled attempt that succeeds on retry looks like a success), yet they are the first
// sign a table is under-provisioned, so the report shows them.
type Throttles struct{ n atomic.Int64 }

// Count is the number of throttled attempts so far.
func (t *Throttles) Count() int64 { return t.n.Load() }

// Install adds the counter to an SDK client's middleware stack; use it as an APIOptions entry.
// It sits after the retry middleware, so it sees every attempt, not only the last one.
func (t *Throttles) Install(stack *middleware.Stack) error {
	isThrottle := retry.IsErrorThrottles(retry.DefaultThrottles)
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("CountThrottles",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && isThrottle.IsErrorThrottle(err) == aws.TrueTernary {
				t.n.Add(1)
			}
			return out, md, err
		}), "Retry", middleware.After)
}

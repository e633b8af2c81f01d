package awsconf

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// This file holds the SDK middleware and retryers the commands add to the shared configuration,
// so each is written once, next to the configuration it changes.

// Throttles counts request attempts the service refused as throttled. The retryer hides them
// (a throttled attempt that succeeds on retry looks like a success), yet they are the first
// sign a table is under-provisioned, so reports show them.
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

// PatientRetryer is standard mode (no client-side rate limit) with more attempts than the
// defaults: for work that matters more than finishing fast, such as deleting what a check wrote
// after the checks' adaptive client slowed itself down. A deadline still bounds it.
func PatientRetryer() aws.Retryer {
	return retry.NewStandard(func(s *retry.StandardOptions) {
		s.MaxAttempts = 10
		s.MaxBackoff = 2 * time.Second
	})
}

const crc32Header = "X-Amz-Crc32"

// FillMissingCRC32 works around the DynamoDB client (v1.74) validating a response's CRC32 even
// when the response carries none: it then compares the body with 0 and logs "response did not
// match expected checksum" for every error answer of DynamoDB Local and moto, which send no
// X-Amz-Crc32 on errors. Real DynamoDB always sends the header, so there this does nothing and
// the SDK's validation is untouched. Load installs it on every client; it acts on DynamoDB's only.
func FillMissingCRC32(stack *middleware.Stack) error {
	// Added after the SDK's checksum middleware, so it sees the response first.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("FillMissingCRC32",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if err != nil || !ok || resp.Header.Get(crc32Header) != "" || resp.Body == nil || middleware.GetServiceID(ctx) != "DynamoDB" {
				return out, md, err
			}
			body, rerr := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if rerr != nil {
				return out, md, fmt.Errorf("read response body: %w", rerr)
			}
			resp.Header.Set(crc32Header, strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return out, md, nil
		}), middleware.After)
}

// Logger is the SDK's standard logger on w, less the two warnings about reusing a connection:
// "failed to close HTTP response body" and "failed to discard remaining HTTP response body",
// which smithy logs when a request is cancelled, or its connection closed, before its body was
// read (one refused call stops the others, Ctrl-C, --timeout, a dropped connection). They are
// about connection reuse, not about the data: a checksum that does not match on a body that was
// read is an error of the call itself. Left in, they break the one line a refused command
// promises, and only under load (found as a test failing 2 runs in 3 on a busy machine).
func Logger(w io.Writer) logging.Logger {
	return quietClose{logging.NewStandardLogger(w)}
}

type quietClose struct{ logging.Logger }

func (q quietClose) Logf(c logging.Classification, format string, v ...any) {
	if c == logging.Warn && (strings.HasPrefix(format, "failed to close HTTP response body") || strings.HasPrefix(format, "failed to discard remaining HTTP response body")) {
		return
	}
	q.Logger.Logf(c, format, v...)
}

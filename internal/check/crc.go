package check

import (
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const crc32Header = "X-Amz-Crc32"

// FillMissingCRC32 works around the DynamoDB client (v1.74) validating a response's CRC32 even
// when the response carries none: it then compares the body with 0 and logs "response did not
// match expected checksum" for every error answer of DynamoDB Local and moto, which send no
// X-Amz-Crc32 on errors. Real DynamoDB always sends the header, so there this does nothing and
// the SDK's validation is untouched. Use it as a DynamoDB APIOptions entry.
func FillMissingCRC32(stack *middleware.Stack) error {
	// Added after the SDK's checksum middleware, so it sees the response first.
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("FillMissingCRC32",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if err != nil || !ok || resp.Header.Get(crc32Header) != "" || resp.Body == nil {
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

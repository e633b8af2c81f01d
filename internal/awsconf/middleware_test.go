package awsconf

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
)

// Without a CRC header the SDK's validation would warn on every local error; with a wrong one
// it must still warn: the workaround only fills in what is missing.
func TestFillMissingCRC32(t *testing.T) {
	var crcHeader string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		if crcHeader != "" {
			w.Header().Set("X-Amz-Crc32", crcHeader)
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}`))
	}))
	defer srv.Close()

	call := func(fill bool) string {
		var logs bytes.Buffer
		db := dynamodb.New(dynamodb.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  aws.AnonymousCredentials{},
			Logger:       logging.NewStandardLogger(&logs),
		}, func(o *dynamodb.Options) {
			if fill {
				o.APIOptions = append(o.APIOptions, FillMissingCRC32)
			}
		})
		_, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("t")})
		if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
			t.Fatalf("want the service's error, got %v", err)
		}
		return logs.String()
	}
	const warning = "did not match expected checksum"
	if logs := call(false); !strings.Contains(logs, warning) {
		t.Fatalf("the SDK no longer warns without a CRC header; FillMissingCRC32 can go: %q", logs)
	}
	if logs := call(true); strings.Contains(logs, warning) {
		t.Fatalf("warning with FillMissingCRC32: %q", logs)
	}
	crcHeader = "12345"
	if logs := call(true); !strings.Contains(logs, warning) {
		t.Fatalf("a wrong CRC header was not reported: %q", logs)
	}
}

// The two warnings a cancelled request or a closed connection leaves are dropped; every other
// line gets through.
func TestLoggerDropsOnlyTheConnectionReuseWarnings(t *testing.T) {
	var b bytes.Buffer
	l := Logger(&b)
	l.Logf(logging.Warn, "failed to close HTTP response body, this may affect connection reuse: %v", "response did not match expected checksum")
	l.Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", "read tcp: use of closed network connection")
	l.Logf(logging.Warn, "response did not match expected checksum, %d, %d", 1, 2)
	l.Logf(logging.Debug, "failed to close HTTP response body")
	if got := b.String(); strings.Contains(got, "connection reuse") || !strings.Contains(got, "did not match expected checksum, 1, 2") || !strings.Contains(got, "DEBUG") {
		t.Fatalf("logged %q", got)
	}
}

package localcloud

import (
	"context"
	"testing"
)

// Moto starts moto for a test (or a whole package, from TestMain via a testing.TB) and stops it
// in cleanup. A missing prerequisite fails the test with what to install: integration tests are
// never skipped.
func Moto(tb testing.TB) *Server {
	tb.Helper()
	s, err := StartMoto(context.Background(), Options{LogDir: tb.TempDir()})
	if err != nil {
		tb.Fatalf("local cloud: %v", err)
	}
	tb.Cleanup(func() { _ = s.Stop() })
	return s
}

// DynamoDBLocal starts Amazon's DynamoDB Local for a test and stops it in cleanup.
func DynamoDBLocal(tb testing.TB) *Server {
	tb.Helper()
	s, err := StartDynamoDBLocal(context.Background(), Options{LogDir: tb.TempDir()})
	if err != nil {
		tb.Fatalf("DynamoDB Local: %v", err)
	}
	tb.Cleanup(func() { _ = s.Stop() })
	return s
}

// SetEnv points the SDK's default configuration chain at s for the rest of the test: the same
// path a user's shell takes, with fake credentials so no real account is ever reached.
func (s *Server) SetEnv(tb testing.TB) {
	tb.Helper()
	for _, kv := range s.Env() {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				tb.Setenv(kv[:i], kv[i+1:])
				break
			}
		}
	}
	// A developer's own profile or config file must not leak into a test.
	tb.Setenv("AWS_PROFILE", "")
	tb.Setenv("AWS_CONFIG_FILE", "/dev/null")
	tb.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
}

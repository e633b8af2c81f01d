package localcloud

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
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
	for _, kv := range s.testEnv() {
		tb.Setenv(kv[0], kv[1])
	}
}

// testEnv is the environment that points the SDK's default chain at s. A developer's own
// profile or config file must not leak into a test.
func (s *Server) testEnv() [][2]string {
	var env [][2]string
	for _, kv := range s.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, [2]string{k, v})
	}
	return append(env, [2]string{"AWS_PROFILE", ""}, [2]string{"AWS_CONFIG_FILE", "/dev/null"},
		[2]string{"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"})
}

// MotoMain runs a package's tests (TestMain's m) against one moto for the whole package, the
// SDK's default chain pointed at it as SetEnv does, and returns the exit code for os.Exit.
// started, when given, learns the server first. A missing prerequisite ends the run with what
// to install.
func MotoMain(m *testing.M, started func(*Server)) int {
	s, err := StartMoto(context.Background(), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local cloud:", err)
		return 1
	}
	defer s.Stop()
	for _, kv := range s.testEnv() {
		os.Setenv(kv[0], kv[1])
	}
	if started != nil {
		started(s)
	}
	return m.Run()
}

// PrivateUserCache points the user's cache directory (os.UserCacheDir: XDG_CACHE_HOME on Linux)
// at a new temporary directory for the rest of a test binary, from its TestMain: the price lists
// a developer's own runs cached must change no test's figures, and a test's stand-in prices must
// never reach them. Go's build cache, which lives there too unless GOCACHE says otherwise, stays
// where it was for the tests that run the go command. The returned function removes the directory.
func PrivateUserCache() (func(), error) {
	if os.Getenv("GOCACHE") == "" {
		out, err := exec.Command("go", "env", "GOCACHE").Output()
		if err != nil {
			return nil, fmt.Errorf("go env GOCACHE (is the go command on PATH?): %w", err)
		}
		if err := os.Setenv("GOCACHE", strings.TrimSpace(string(out))); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "wallet-user-cache-")
	if err != nil {
		return nil, err
	}
	if err := os.Setenv("XDG_CACHE_HOME", dir); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { os.RemoveAll(dir) }, nil
}

// SetEnv points the SDK's default chain at the lease for the rest of the test, as
// (*Server).SetEnv does for the server: its endpoint, region and credentials.
func (l Lease) SetEnv(tb testing.TB) {
	tb.Helper()
	for _, kv := range l.Env() {
		k, v, _ := strings.Cut(kv, "=")
		tb.Setenv(k, v)
	}
	for _, kv := range [][2]string{{"AWS_PROFILE", ""}, {"AWS_CONFIG_FILE", "/dev/null"}, {"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"}} {
		tb.Setenv(kv[0], kv[1])
	}
}

// Config is an SDK configuration acting in the lease: its region and credentials, at its
// endpoint, whatever the environment says of those three.
func (l Lease) Config(tb testing.TB) aws.Config {
	tb.Helper()
	cfg, err := config.LoadDefaultConfig(tb.Context(), config.WithRegion(l.Region), config.WithBaseEndpoint(l.Endpoint),
		config.WithCredentialsProvider(credentials.StaticCredentialsProvider{Value: l.Credentials}))
	if err != nil {
		tb.Fatalf("load AWS config for the lease %s/%s: %v", l.Account, l.Region, err)
	}
	return cfg
}

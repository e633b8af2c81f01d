package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

type checkRun struct {
	code        int
	out, errOut string
	took        time.Duration
}

// checkHangGuard bounds the runs that must fail fast (unreachable endpoint, no credentials,
// missing stack). It is a hang guard, not a performance figure: with the SDK's default retries
// these take minutes, with verify's bounded ones well under a second here.
const checkHangGuard = 30 * time.Second

func execCheck(ctx context.Context, args ...string) checkRun {
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, args, strings.NewReader(""), &out, &errOut)
	return checkRun{code, out.String(), errOut.String(), time.Since(start)}
}

func (r checkRun) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Round(time.Millisecond), r.out, r.errOut)
}

// Bad flags are refused before anything talks to AWS: the endpoint here counts requests.
func TestCheckFlagsAreValidatedBeforeAnyAWSCall(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	(&localcloud.Server{Endpoint: srv.URL}).SetEnv(t)

	for _, tc := range []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"--roundtrips", "0"}, []string{`"0"`, "--roundtrips", "from 1 to 100000"}},
		{[]string{"check", "--roundtrips", "-5"}, []string{`"-5"`, "from 1 to 100000"}},
		{[]string{"--concurrency", "-1"}, []string{`"-1"`, "--concurrency", "from 1 to 64"}},
		{[]string{"--concurrency", "many"}, []string{`"many"`, "from 1 to 64"}},
		{[]string{"--stack", "Wallet-dev", "--table", "wallet-t"}, []string{`"Wallet-dev"`, `"wallet-t"`, "not both"}},
		{[]string{"--timeout", "abc"}, []string{`"abc"`, "--timeout", "positive duration"}},
		{[]string{"--timeout", "-3s"}, []string{`"-3s"`, "positive duration"}},
		{[]string{"--table", "x"}, []string{`"x"`, "3 to 255 characters"}},
		{[]string{"--template", "/nonexistent/wallet.json"}, []string{"/nonexistent/wallet.json", "no such file"}},
		{[]string{"--bogus"}, []string{"unknown flag: --bogus"}},
		// An empty value used to mean "not set": `--table ""` checked (and wrote to) the default stack.
		{[]string{"--table", ""}, []string{"--table", "empty"}},
		{[]string{"check", "--stack="}, []string{"--stack", "empty"}},
		{[]string{"--template", ""}, []string{"--template", "empty"}},
		{[]string{"check", "extra"}, []string{`unknown command "extra"`}},
	} {
		r := execCheck(t.Context(), tc.args...)
		if r.code != exitUsage {
			t.Errorf("%v: %v", tc.args, r)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(r.errOut, w) {
				t.Errorf("%v: stderr %q does not mention %q", tc.args, r.errOut, w)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d requests reached AWS during flag validation", n)
	}
}

// An endpoint nobody listens on fails discovery within seconds, naming the problem.
func TestUnreachableEndpointIsADiscoveryError(t *testing.T) {
	port, err := localcloud.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	(&localcloud.Server{Endpoint: fmt.Sprintf("http://localhost:%d", port)}).SetEnv(t)
	for _, args := range [][]string{{}, {"--table", "wallet-somewhere"}} {
		r := execCheck(t.Context(), args...)
		if r.code != exitUsage || !strings.Contains(r.errOut, "connection refused") || !strings.Contains(r.errOut, "discover") {
			t.Fatalf("%v: want exit 2 naming the refused connection: %v", args, r)
		}
		if r.took > checkHangGuard {
			t.Fatalf("%v: took %s", args, r.took)
		}
	}
}

func TestMissingCredentialsIsAConfigurationError(t *testing.T) {
	port, err := localcloud.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	(&localcloud.Server{Endpoint: fmt.Sprintf("http://localhost:%d", port)}).SetEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	r := execCheck(t.Context(), "--table", "wallet-somewhere")
	if r.code != exitUsage || !strings.Contains(r.errOut, "no AWS credentials") || r.took > checkHangGuard {
		t.Fatalf("want exit 2 saying there are no credentials: %v", r)
	}
}

// The whole command against moto: a stack made with CloudFormation, in-process runs.
func TestCheckCommandOnMoto(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	db, ctx := fx.DynamoDB, t.Context()
	// The wallet table as the CDK app synthesises it, TTL applied as real CloudFormation would.
	table := fx.Deploy(t, "Wallet-verify", fixture.TableDecl{
		Tags: map[string]string{"ManagedBy": "cdk", "Project": "wallet", "Stage": "dev"},
		TTL:  true,
	})[0]

	t.Run("passes with exit 0 and the JSON report", func(t *testing.T) {
		r := execCheck(ctx, "--stack", "Wallet-verify", "--json")
		if r.code != exitOK {
			t.Fatal(r)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
			t.Fatalf("stdout is not one JSON object: %v\n%s", err, r.out)
		}
		keys := slices.Sorted(maps.Keys(rep))
		want := []string{"checks", "leftover_items", "monthly_cost_usd", "passed", "region", "roundtrips", "run_id", "stack", "table", "throttled"}
		if !slices.Equal(keys, want) {
			t.Fatalf("keys %v, want %v", keys, want)
		}
		if rep["table"] != table || rep["region"] != localcloud.Region || rep["passed"] != true || rep["leftover_items"] != 0.0 {
			t.Fatalf("report %v", rep)
		}
		var names []string
		for _, c := range rep["checks"].([]any) {
			m := c.(map[string]any)
			names = append(names, m["name"].(string))
			if m["passed"] != true || m["detail"] == "" || m["duration_ms"] == nil {
				t.Errorf("check %v", m)
			}
		}
		if got := strings.Join(names, ","); got != "discover,active,conformance,roundtrip,conditional-create,no-overdraft,transfer,concurrent-increments,cleanup" {
			t.Fatalf("checks %s", got)
		}
		if rt := rep["roundtrips"].(map[string]any); rt["count"] != 10.0 || rt["per_second"].(float64) <= 0 {
			t.Fatalf("roundtrips %v", rt)
		}
		// 1 RCU + 1 WCU for 730 hours at the written-down us-east-1 prices, the table empty again.
		if got := rep["monthly_cost_usd"]; got != 0.5694 {
			t.Fatalf("monthly_cost_usd = %v, want 0.5694 for a 1/1 provisioned table", got)
		}
		checkNoItemsLeft(t, db, table)
	})

	t.Run("check subcommand, text report", func(t *testing.T) {
		r := execCheck(ctx, "check", "--stack", "Wallet-verify", "--roundtrips", "3", "--concurrency", "2")
		if r.code != exitOK || !strings.Contains(r.out, "CHECK") || !strings.Contains(r.out, "PASS: all 9 checks passed") ||
			!strings.Contains(r.out, "Latency: 3 put+get pairs") || !strings.Contains(r.out, "Monthly cost at rest: $0.57") {
			t.Fatal(r)
		}
	})

	t.Run("price flags change the cost; a bad price is a usage error", func(t *testing.T) {
		r := execCheck(ctx, "--stack", "Wallet-verify", "--read-only", "--json", "--price-wcu-hour", "0", "--price-rcu-hour", "0.001")
		if r.code != exitOK || !strings.Contains(r.out, `"monthly_cost_usd": 0.73`) {
			t.Fatal(r)
		}
		r = execCheck(ctx, "--stack", "Wallet-verify", "--price-rcu-hour", "cheap")
		if r.code != exitUsage || !strings.Contains(r.errOut, `"cheap"`) {
			t.Fatal(r)
		}
	})

	t.Run("read-only checks three things and writes nothing", func(t *testing.T) {
		r := execCheck(ctx, "--stack", "Wallet-verify", "--read-only", "--json")
		if r.code != exitOK || strings.Count(r.out, `"name"`) != 3 || !strings.Contains(r.out, `"count": 0`) {
			t.Fatal(r)
		}
	})

	t.Run("a failed check exits 1", func(t *testing.T) {
		checkCreateTable(t, db, "wallet-wrong-key", "id")
		r := execCheck(ctx, "--table", "wallet-wrong-key")
		if r.code != exitFailed || !strings.Contains(r.out, "KeySchema declared user_id HASH, live id HASH") ||
			!strings.Contains(r.errOut, "failed: conformance, roundtrip") {
			t.Fatal(r)
		}
	})

	t.Run("a missing stack exits 2 at once", func(t *testing.T) {
		r := execCheck(ctx, "--stack", "Wallet-absent")
		if r.code != exitUsage || !strings.Contains(r.errOut, "Wallet-absent") || !strings.Contains(r.errOut, "not found") || r.took > checkHangGuard {
			t.Fatal(r)
		}
	})

	t.Run("interrupted: exit 130 and nothing left", func(t *testing.T) {
		checkCreateTable(t, db, "wallet-interrupt", "")
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan checkRun, 1)
		go func() {
			done <- execCheck(rctx, "--table", "wallet-interrupt", "--roundtrips", "100000", "--concurrency", "2", "--no-pace")
		}()
		// Interrupt once round-trips are really writing, as a SIGINT would (main's
		// signal.NotifyContext cancels this same context).
		deadline := time.Now().Add(20 * time.Second)
		for len(checkItems(t, db, "wallet-interrupt")) < 5 {
			if time.Now().After(deadline) {
				t.Fatal("round-trips never started")
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		select {
		case r := <-done:
			if r.code != exitInterrupted || !strings.Contains(r.out, "INTERRUPTED") || !strings.Contains(r.errOut, "interrupted") {
				t.Fatal(r)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("verify did not stop within 30s of the interruption")
		}
		checkNoItemsLeft(t, db, "wallet-interrupt")
	})
}

// The verify binary must stay free of CDK and jsii: it is small, builds fast, and runs where
// no Node.js is installed.
func TestVerifyDoesNotDependOnCDK(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "github.com/aws/aws-cdk-go") || strings.HasPrefix(dep, "github.com/aws/jsii-runtime-go") ||
			strings.HasPrefix(dep, "github.com/aws/constructs-go") {
			t.Errorf("verify depends on %s", dep)
		}
	}
	if !strings.Contains(string(out), "github.com/aws/aws-sdk-go-v2/service/dynamodb\n") {
		t.Fatalf("go list output does not look like verify's dependencies:\n%s", out)
	}
}

func checkCreateTable(t *testing.T, db *dynamodb.Client, name, key string) {
	t.Helper()
	if key == "" {
		key = "user_id"
	}
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkItems scans the test's own table, directly.
func checkItems(t *testing.T, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var all []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
	}
	return all
}

func checkNoItemsLeft(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	if left := checkItems(t, db, table); len(left) > 0 {
		t.Fatalf("%d checkItems left in %s: %v", len(left), table, left)
	}
}

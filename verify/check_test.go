package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/joshdk/go-junit"
	"github.com/wallet-dynamodb/wallet/internal/check"
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

// keysPollInterval is how often a test looks for the items a run in progress has written.
const keysPollInterval = 20 * time.Millisecond

func execCheck(ctx context.Context, args ...string) checkRun {
	var out, errOut bytes.Buffer
	start := time.Now()
	code := run(ctx, args, strings.NewReader(""), &out, &errOut)
	return checkRun{code, out.String(), errOut.String(), time.Since(start)}
}

func (r checkRun) String() string {
	return fmt.Sprintf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Round(time.Millisecond), r.out, r.errOut)
}

// countingEndpoint points the SDK at a server that counts the requests reaching it and fails
// each: for proving that rejected input calls nothing.
func countingEndpoint(t *testing.T) *atomic.Int64 {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(srv.Close)
	(&localcloud.Server{Endpoint: srv.URL}).SetEnv(t)
	return &calls
}

// refusedEndpoint points the SDK at a free localhost port nobody listens on: every connection
// is refused.
func refusedEndpoint(t *testing.T) {
	t.Helper()
	port, err := localcloud.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	(&localcloud.Server{Endpoint: fmt.Sprintf("http://localhost:%d", port)}).SetEnv(t)
}

// Bad flags are refused before anything talks to AWS: the endpoint here counts requests.
func TestCheckFlagsAreValidatedBeforeAnyAWSCall(t *testing.T) {
	calls := countingEndpoint(t)
	dir := t.TempDir()
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A --junit file is created only once every other value has been accepted.
	notCreated := filepath.Join(dir, "not-created.xml")
	// Nor written through a link, nor opened when it is a FIFO (which would wait for a reader).
	precious := filepath.Join(dir, "precious.txt")
	if err := os.WriteFile(precious, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	link, fifo := filepath.Join(dir, "link.xml"), filepath.Join(dir, "fifo.xml")
	if err := os.Symlink(precious, link); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

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
		{[]string{"--timeout", "500ms"}, []string{`--timeout "500ms"`, "at least 1s"}},
		{[]string{"--table", "x"}, []string{`"x"`, "3 to 255 characters"}},
		{[]string{"--template", "/nonexistent/wallet.json"}, []string{"/nonexistent/wallet.json", "no such file"}},
		// An unset shell variable must not fall back to the default stack (and write to it).
		{[]string{"--table", ""}, []string{`--table ""`, "empty"}},
		{[]string{"check", "--stack", " "}, []string{`--stack " "`, "empty"}},
		{[]string{"--template", ""}, []string{`--template ""`, "empty"}},
		// /dev/zero never ends: refused at CloudFormation's limit, not read until memory runs out.
		{[]string{"--template", "/dev/zero"}, []string{"/dev/zero", "1048576 bytes", "1 MB"}},
		{[]string{"--bogus"}, []string{"unknown flag: --bogus"}},
		// An empty value used to mean "not set": `--table ""` checked (and wrote to) the default stack.
		{[]string{"--table", ""}, []string{"--table", "empty"}},
		{[]string{"check", "--stack="}, []string{"--stack", "empty"}},
		{[]string{"--template", ""}, []string{"--template", "empty"}},
		{[]string{"check", "extra"}, []string{`unknown command "extra"`}},
		{[]string{"--junit", ""}, []string{`--junit ""`, "empty"}},
		{[]string{"check", "--junit", dir}, []string{`--junit "` + dir + `"`, "is a directory", "path of a file"}},
		{[]string{"--junit", filepath.Join(aFile, "report.xml")}, []string{"--junit", "a-file/report.xml", "cannot be written", "not a directory"}},
		{[]string{"--junit", "/nonexistent/reports/verify.xml"}, []string{"/nonexistent/reports/verify.xml", "cannot be written", "no such file"}},
		{[]string{"--junit", link}, []string{`--junit "` + link + `"`, "is a symbolic link", "precious.txt"}},
		{[]string{"--junit", fifo}, []string{`--junit "` + fifo + `"`, "named pipe (FIFO)"}},
		{[]string{"--junit", "/dev/full"}, []string{`--junit "/dev/full"`, "is a device"}},
		{[]string{"--junit", notCreated, "--roundtrips", "0"}, []string{"--roundtrips"}},
		{[]string{"--junit", notCreated, "--table", "x"}, []string{"3 to 255 characters"}},
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
	if _, err := os.Stat(notCreated); err == nil {
		t.Fatal("a refused run created its --junit file")
	}
	if b, err := os.ReadFile(precious); err != nil || string(b) != "keep me" {
		t.Fatalf("--junit wrote through a link: its target holds %q (%v)", b, err)
	}
}

// A run that fails and whose --junit file then cannot be written says both, one error a line,
// not glued on one. The kernel refuses the write past a file size limit (RLIMIT_FSIZE), as a
// full disk would; the test holds the limit only while its one command runs (no other test
// runs alongside a test that is not parallel).
func TestTwoErrorsAreTwoLines(t *testing.T) {
	refusedEndpoint(t)
	file := filepath.Join(t.TempDir(), "report.xml")
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: 64, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	r := execCheck(t.Context(), "--table", "wallet-somewhere", "--junit", file, "--timeout", "10s")
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(r.errOut, "\n"), "\n")
	if r.code != exitUsage || len(lines) != 2 || !strings.HasPrefix(lines[0], "verify: discover") || !strings.Contains(lines[0], "connection refused") ||
		strings.Contains(lines[0], "--junit") || !strings.HasPrefix(lines[1], "verify: --junit: write "+file) || !strings.Contains(lines[1], "file too large") {
		t.Fatalf("%v\nwant two lines: the discovery error, then the --junit file's", r)
	}
}

// An endpoint nobody listens on fails discovery within seconds, naming the problem.
func TestUnreachableEndpointIsADiscoveryError(t *testing.T) {
	refusedEndpoint(t)
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
	refusedEndpoint(t)
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
	ctx := t.Context()
	// The wallet table as the CDK app synthesises it, TTL applied as real CloudFormation would.
	table := fx.Deploy(t, "Wallet-verify", fixture.TableDecl{
		Tags: map[string]string{"ManagedBy": "cdk", "Project": "wallet", "Stage": "dev"},
		TTL:  true,
	})[0]

	t.Run("passes with exit 0 and the JSON report", func(t *testing.T) {
		// Concurrency 1: moto applies concurrent ADDs without a lock and now and then loses
		// one, which concurrent-increments rightly reports (internal/check tests concurrency on
		// DynamoDB Local).
		r := execCheck(ctx, "--stack", "Wallet-verify", "--json", "--concurrency", "1")
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
		fx.NoItems(t, table)
	})

	t.Run("check subcommand, text report", func(t *testing.T) {
		r := execCheck(ctx, "check", "--stack", "Wallet-verify", "--roundtrips", "3", "--concurrency", "1")
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
		fx.CreateKeyedTable(t, "wallet-wrong-key", fixture.KeyedTable{Key: "id", OnDemand: true})
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

	// The stack's table is 1 WCU: 100000 round trips need 100044 write units, 300 of them from
	// the burst, then one a second, which no --timeout of 20 s can hold.
	t.Run("a run the table cannot serve within --timeout exits 2, nothing written", func(t *testing.T) {
		r := execCheck(ctx, "--stack", "Wallet-verify", "--roundtrips", "100000", "--timeout", "20s")
		if r.code != exitUsage || !strings.Contains(r.errOut, "100044 write") || !strings.Contains(r.errOut, "1 WCU/s") ||
			!strings.Contains(r.errOut, "--timeout 20s") || !strings.Contains(r.errOut, "nothing was written") || r.took > checkHangGuard {
			t.Fatal(r)
		}
		fx.NoItems(t, table)
	})

	t.Run("interrupted: exit 130 and nothing left", func(t *testing.T) {
		fx.CreateKeyedTable(t, "wallet-interrupt", fixture.KeyedTable{OnDemand: true})
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		done := make(chan checkRun, 1)
		go func() {
			done <- execCheck(rctx, "--table", "wallet-interrupt", "--roundtrips", "100000", "--concurrency", "2", "--no-pace")
		}()
		// Interrupt once round-trips are really writing (one key per worker), as a SIGINT would
		// (main's signal.NotifyContext cancels this same context).
		deadline := time.Now().Add(checkHangGuard)
		for len(fx.Keys(t, "wallet-interrupt")) < 2 {
			if time.Now().After(deadline) {
				t.Fatal("round-trips never started")
			}
			time.Sleep(keysPollInterval)
		}
		cancel()
		select {
		case r := <-done:
			if r.code != exitInterrupted || !strings.Contains(r.out, "INTERRUPTED") || !strings.Contains(r.errOut, "interrupted") {
				t.Fatal(r)
			}
		case <-time.After(checkHangGuard):
			t.Fatalf("verify did not stop within %s of the interruption", checkHangGuard)
		}
		fx.NoItems(t, "wallet-interrupt")
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

// A template path that is a FIFO nobody writes ends at --timeout, with exit 2, before any AWS
// call.
func TestCheckTemplateFIFOEndsAtTimeout(t *testing.T) {
	(&localcloud.Server{Endpoint: fixture.SilentEndpoint(t)}).SetEnv(t)
	fifo := filepath.Join(t.TempDir(), "template.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r := execCheck(t.Context(), "--template", fifo, "--timeout", "1s")
	if r.code != exitUsage || !strings.Contains(r.errOut, fifo) || !strings.Contains(r.errOut, "not read within --timeout 1s") || r.took > checkHangGuard {
		t.Fatal(r)
	}
	// Release the reader still blocked in open().
	if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
		_ = f.Close()
	}
}

// An endpoint that accepts connections and never answers: exit 2 at --timeout, saying so.
func TestCheckEndpointThatNeverAnswers(t *testing.T) {
	endpoint := fixture.SilentEndpoint(t)
	(&localcloud.Server{Endpoint: endpoint}).SetEnv(t)
	for _, args := range [][]string{{"--timeout", "1s"}, {"--table", "wallet-somewhere", "--timeout", "1s"}} {
		r := execCheck(t.Context(), args...)
		if r.code != exitUsage || !strings.Contains(r.errOut, endpoint+" did not answer within --timeout 1s") || r.took > checkHangGuard {
			t.Fatalf("%v: %v", args, r)
		}
	}
}

// IAM enforced by moto: the first refusal is exit 2 with one line naming the call and the IAM
// action; the report says what ran and that clean-up did. A moto of its own: enforcement is
// server-wide.
func TestCheckCommandStopsAtAnIAMRefusal(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	fx.CreateKeyedTable(t, "wallet-iam", fixture.KeyedTable{OnDemand: true})
	admin := fx.As(fx.IAMUser(t, "admin", "*"))
	limited := fx.IAMUser(t, "limited", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:DescribeContinuousBackups",
		"dynamodb:ListTagsOfResource", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem")
	if err := srv.EnforceIAM(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", limited.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", limited.SecretAccessKey)

	r := execCheck(t.Context(), "--table", "wallet-iam")
	// no-overdraft and concurrent-increments both update, at once: either may be refused first;
	// the one line names the call, the resource, the action and what to attach.
	one := regexp.MustCompile(`^verify: access denied: DynamoDB (UpdateItem|TransactWriteItems) on table wallet-iam needs IAM action dynamodb:UpdateItem; ` +
		`attach the VerifyPolicy of the wallet stack that holds table wallet-iam \(its VerifyPolicyArn output\) to the credentials verify runs with\n$`).MatchString(r.errOut)
	if r.code != exitUsage || !one || !strings.Contains(r.out, "ACCESS DENIED during ") || !strings.Contains(r.out, "clean-up ran and left 0 test items") {
		t.Fatalf("want exit 2 and one line on stderr naming the refused call: %v", r)
	}
	admin.NoItems(t, "wallet-iam")
}

// --junit on a real run against DynamoDB Local: the file is JUnit that two parsers read (the
// schema structs that wrote it, and go-junit, which CI reporters written in Go use), and a table
// whose capacity was changed behind its template's back shows as conformance's <failure>.
func TestCheckJUnitOnDynamoDBLocal(t *testing.T) {
	srv := localcloud.DynamoDBLocal(t)
	srv.SetEnv(t)
	fx := fixture.NewCloud(t, "")
	ctx := t.Context()
	fx.CreateKeyedTable(t, "wallet-junit", fixture.KeyedTable{Read: 1, Write: 1})
	dir := t.TempDir()
	template := filepath.Join(dir, "wallet.template.json")
	if err := os.WriteFile(template, []byte(fixture.Template(fixture.TableDecl{Read: 1, Write: 1})), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("a passing run: every check a passed case, the JSON report in system-out", func(t *testing.T) {
		file := filepath.Join(dir, "pass.xml")
		r := execCheck(ctx, "--table", "wallet-junit", "--template", template, "--junit", file)
		if r.code != exitOK {
			t.Fatal(r)
		}
		doc, suite := readJUnit(t, file)
		if doc.Tests != 9 || doc.Failures != 0 || doc.Errors != 0 || doc.Skipped != 0 || len(suite.Cases) != 9 {
			t.Fatalf("counts %+v", doc)
		}
		var names []string
		for _, c := range suite.Cases {
			names = append(names, c.Name)
			if c.Failure != nil || c.Error != nil || c.Skipped != nil || c.Classname != "verify.wallet-junit" {
				t.Errorf("case %+v", c)
			}
		}
		if got := strings.Join(names, ","); got != "discover,active,conformance,roundtrip,conditional-create,no-overdraft,transfer,concurrent-increments,cleanup" {
			t.Fatalf("cases %s", got)
		}
		var rep struct {
			Table  string `json:"table"`
			Passed bool   `json:"passed"`
		}
		if err := json.Unmarshal([]byte(suite.SystemOut), &rep); err != nil || rep.Table != "wallet-junit" || !rep.Passed {
			t.Fatalf("system-out %v: %q", err, suite.SystemOut)
		}
		if !strings.Contains(r.out, "PASS: all 9 checks passed") {
			t.Fatalf("the text report is still printed: %v", r)
		}
		fx.NoItems(t, "wallet-junit")
	})

	t.Run("a drifted table: conformance's failure names the capacity, exit 1 as without --junit", func(t *testing.T) {
		if _, err := fx.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String("wallet-junit"),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(2)}}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "drift.xml")
		r := execCheck(ctx, "--table", "wallet-junit", "--template", template, "--read-only", "--json", "--junit", file)
		if r.code != exitFailed {
			t.Fatal(r)
		}
		doc, suite := readJUnit(t, file)
		if doc.Tests != 9 || doc.Failures != 1 || doc.Errors != 0 || doc.Skipped != 6 {
			t.Fatalf("counts %+v", doc)
		}
		c := suite.Cases[2]
		if c.Name != "conformance" || c.Failure == nil || !strings.Contains(c.Failure.Text, "ProvisionedThroughput.ReadCapacityUnits declared 1, live 2") ||
			!strings.Contains(c.Failure.Message, "declared 1, live 2") {
			t.Fatalf("conformance case %+v %+v", c, c.Failure)
		}
		if s := suite.Cases[3].Skipped; s == nil || !strings.Contains(s.Text, "--read-only") {
			t.Fatalf("roundtrip case %+v", suite.Cases[3])
		}
		// The JSON on stdout and the one in the file are the same report.
		if !strings.Contains(suite.SystemOut, `"run_id"`) || !strings.Contains(r.out, `"differences"`) || !strings.Contains(suite.SystemOut, `"differences"`) {
			t.Fatalf("system-out %q", suite.SystemOut)
		}
		suites, err := junit.IngestFile(file)
		if err != nil || len(suites) != 1 {
			t.Fatalf("go-junit: %v, %d suites", err, len(suites))
		}
		tot := suites[0].Totals
		if tot.Tests != 9 || tot.Passed != 2 || tot.Failed != 1 || tot.Skipped != 6 || suites[0].Tests[2].Error == nil {
			t.Fatalf("go-junit reads %+v", tot)
		}
	})

	t.Run("a table not found still writes the file: discover failed, the rest skipped, exit 2", func(t *testing.T) {
		file := filepath.Join(dir, "missing.xml")
		r := execCheck(ctx, "--table", "wallet-absent", "--junit", file)
		if r.code != exitUsage {
			t.Fatal(r)
		}
		doc, suite := readJUnit(t, file)
		if doc.Failures != 1 || doc.Skipped != 8 || suite.Cases[0].Failure == nil || !strings.Contains(suite.Cases[0].Failure.Text, "wallet-absent") {
			t.Fatalf("counts %+v, discover %+v", doc, suite.Cases[0])
		}
	})
}

func readJUnit(t *testing.T, file string) (check.JUnitSuites, check.JUnitSuite) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc check.JUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Suites) != 1 {
		t.Fatalf("%s is not one JUnit suite (%v):\n%s", file, err, b)
	}
	return doc, doc.Suites[0]
}

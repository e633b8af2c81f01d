package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"golang.org/x/sync/errgroup"
)

const (
	verifyBenchPairs       = 400 // per contender and round: the figure
	verifyBenchConcurrency = 4
	verifyBenchRounds      = 15
	verifyBenchSeqPairs    = 300
	verifyBenchCLIPairs    = 5 // each aws CLI call starts a Python interpreter
	verifyBenchTable       = "bench-verify"
)

// BenchmarkVerifyRoundtrip times the whole verify process — start-up, discovery, conformance,
// every writing check, clean-up — against a bare SDK process doing the same N put + strongly
// consistent get pairs at the same concurrency on the same keys (bench/bare), on DynamoDB Local: several
// rounds, the order swapped each round, every round and the median reported, so JIT warm-up or
// a neighbour's build on this shared machine does not decide the ratio. Goals: verify/sdk ≥ 0.8,
// and verify's write units ≤ N + 100, counted (with every call, per operation) by a proxy.
//
// The table is on-demand, so verify's pacer does not slow it (its report says "not paced
// (on-demand)"); what pacing costs on a 1/1 table is computed in the README. For context, a
// sequential Go SDK loop (what a boto3 script's plain loop does), real boto3 if Python has
// it, and the aws CLI, one process per call.
func BenchmarkVerifyRoundtrip(b *testing.B) {
	b.StopTimer()
	srv := localcloud.DynamoDBLocal(b)
	srv.SetEnv(b)
	fx := fixture.NewCloud(b, "")
	fx.CreateKeyedTable(b, verifyBenchTable, fixture.KeyedTable{OnDemand: true})
	verify, bare := verifyBenchBuild(b)
	verifyArgs := []string{verify, "--table", verifyBenchTable, "--json",
		"--roundtrips", strconv.Itoa(verifyBenchPairs), "--concurrency", strconv.Itoa(verifyBenchConcurrency)}
	bareArgs := func(prefix string) []string {
		return []string{bare, "-table", verifyBenchTable, "-prefix", prefix,
			"-n", strconv.Itoa(verifyBenchPairs), "-c", strconv.Itoa(verifyBenchConcurrency)}
	}
	var spent string // where the last verify run's time went
	runVerify := func(env ...string) time.Duration {
		took, out := verifyBenchExec(b, verifyArgs, env)
		spent = verifyBenchPassed(b, out, took)
		return took
	}
	runBare := func(prefix string, env ...string) time.Duration {
		took, _ := verifyBenchExec(b, bareArgs(prefix), env)
		verifyBenchEmpty(b, fx) // untimed
		return took
	}

	// DynamoDB Local is a JVM: its first few thousand requests run interpreted, and verify's
	// transactions, conditional updates and batched reads are paths of their own there. The
	// first start of each binary reads it from disk.
	for i := range 3 {
		runBare(fmt.Sprintf("warm%d", i))
		runVerify()
	}
	for i := 0; i < b.N; i++ {
		var verifyPS, barePS, ratios []float64
		for round := range verifyBenchRounds {
			var v, s time.Duration
			b.StartTimer()
			if round%2 == 0 {
				v, s = runVerify(), runBare(fmt.Sprintf("bare%d-%d", i, round))
			} else {
				s, v = runBare(fmt.Sprintf("bare%d-%d", i, round)), runVerify()
			}
			b.StopTimer()
			vp, sp := verifyBenchPairs/v.Seconds(), verifyBenchPairs/s.Seconds()
			verifyPS, barePS, ratios = append(verifyPS, vp), append(barePS, sp), append(ratios, vp/sp)
			verifyBenchSay("round %d: verify process %s (%.0f pairs/s), bare SDK process %s (%.0f pairs/s), ratio %.2f; verify: %s",
				round+1, v.Round(time.Millisecond), vp, s.Round(time.Millisecond), sp, vp/sp, spent)
		}
		ratio := median(ratios)
		verifyBenchSay("median: verify %.0f pairs/s, bare SDK %.0f pairs/s, ratio %.2f (goal ≥ 0.8)", median(verifyPS), median(barePS), ratio)
		b.ReportMetric(median(verifyPS), "verify-pairs/s")
		b.ReportMetric(median(barePS), "sdk-pairs/s")
		b.ReportMetric(ratio, "verify/sdk")
		if ratio < 0.8 {
			verifyBenchSay("GOAL MISSED: verify/sdk = %.2f, goal ≥ 0.8", ratio)
		}

		// One more run of each through a counting proxy, untimed: what reaches the table is
		// what it bills.
		vw := verifyBenchCount(b, srv.Endpoint, "verify", func(env string) { runVerify(env) })
		sw := verifyBenchCount(b, srv.Endpoint, "bare SDK", func(env string) { runBare(fmt.Sprintf("counted%d", i), env) })
		b.ReportMetric(float64(vw), "verify-write-units")
		b.ReportMetric(float64(sw), "sdk-write-units")
		if vw > verifyBenchPairs+100 {
			verifyBenchSay("GOAL MISSED: verify wrote %d units for %d round trips, goal ≤ %d", vw, verifyBenchPairs, verifyBenchPairs+100)
		}

		seq, err := verifyBenchBare(context.Background(), fx.DynamoDB, fmt.Sprintf("seq%d", i), verifyBenchSeqPairs, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(seq, "seq-sdk-pairs/s")
		if ps, ok := verifyBenchBoto3(b); ok {
			b.ReportMetric(ps, "boto3-pairs/s")
		}
		if ps, ok := verifyBenchCLI(b, srv); ok {
			b.ReportMetric(ps, "cli-pairs/s")
		}
	}
}

// verifyBenchSay prints a line of the benchmark's findings on stdout: b.Log keeps only the
// first ten lines of a benchmark's output, and every round is worth seeing.
func verifyBenchSay(format string, a ...any) {
	fmt.Printf("verify bench: "+format+"\n", a...)
}

// verifyBenchBuild builds verify and the bare SDK loop, as a user would (`go build`).
func verifyBenchBuild(b *testing.B) (verify, bare string) {
	dir := b.TempDir()
	verify, bare = filepath.Join(dir, "verify"), filepath.Join(dir, "bare")
	for bin, pkg := range map[string]string{verify: "../verify", bare: "./bare"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	return verify, bare
}

// verifyBenchExec runs a process to its end and times it whole; env entries override the
// test's environment.
func verifyBenchExec(b *testing.B, args, env []string) (time.Duration, []byte) {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	took := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return took, out
}

// verifyBenchPassed fails the benchmark unless verify's JSON report says every check passed,
// every round trip made, unpaced, and says where verify's time went: the round trips, the four
// checks that run together, the other checks (discover, active, conformance, cleanup), and the
// rest of the process (start-up, configuration, the report).
func verifyBenchPassed(b *testing.B, out []byte, wall time.Duration) string {
	var rep struct {
		Passed     bool `json:"passed"`
		Roundtrips struct {
			Count int `json:"count"`
		} `json:"roundtrips"`
		Checks []struct {
			Name       string  `json:"name"`
			Detail     string  `json:"detail"`
			DurationMS float64 `json:"duration_ms"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(out, &rep); err != nil || !rep.Passed || rep.Roundtrips.Count != verifyBenchPairs {
		b.Fatalf("verify did not pass (%v):\n%s", err, out)
	}
	var roundtrip, together, others float64
	for _, c := range rep.Checks {
		switch c.Name {
		case check.Roundtrip:
			if !strings.Contains(c.Detail, "not paced (on-demand)") {
				b.Fatalf("verify was paced: %s", c.Detail)
			}
			roundtrip = c.DurationMS
		case check.ConditionalCreate, check.NoOverdraft, check.Transfer, check.ConcurrentIncrements:
			together = max(together, c.DurationMS)
		default:
			others += c.DurationMS
		}
	}
	rest := float64(wall.Milliseconds()) - roundtrip - together - others
	return fmt.Sprintf("round trips %.0f ms, 4 checks together %.0f ms, other checks %.0f ms, rest %.0f ms", roundtrip, together, others, rest)
}

// verifyBenchCount runs one contender through a counting proxy and reports its calls per
// operation and its write units.
func verifyBenchCount(b *testing.B, upstream, name string, run func(env string)) int64 {
	p, err := faultproxy.Start(upstream, faultproxy.Faults{})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	run("AWS_ENDPOINT_URL=" + p.URL)
	n := p.Counts()
	ops := slices.Sorted(maps.Keys(n.Forwarded))
	calls := make([]string, len(ops))
	for i, op := range ops {
		calls[i] = fmt.Sprintf("%s %d", op, n.Forwarded[op])
	}
	verifyBenchSay("%s, %d round trips: %d write units; calls: %s", name, verifyBenchPairs, n.WriteUnits(), strings.Join(calls, ", "))
	return n.WriteUnits()
}

// verifyBenchEmpty deletes whatever the bare SDK loop left in the table (verify removes its
// own items: a key of verify's found here fails the benchmark).
func verifyBenchEmpty(b *testing.B, fx fixture.Cloud) {
	for _, k := range fx.Keys(b, verifyBenchTable) {
		if strings.HasPrefix(k, check.Prefix) {
			b.Fatalf("verify left %s behind", k)
		}
		if _, err := fx.DynamoDB.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String(verifyBenchTable),
			Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: k}}}); err != nil {
			b.Fatal(err)
		}
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// verifyBenchBare is the sequential loop, in-process: PutItem then a consistent GetItem, c at
// a time, no checks. It deletes its items afterwards, untimed.
func verifyBenchBare(ctx context.Context, db *dynamodb.Client, prefix string, n, c int) (float64, error) {
	key := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "bench-" + prefix + "-" + strconv.Itoa(i)}}
	}
	var g errgroup.Group
	g.SetLimit(c)
	start := time.Now()
	for i := range n {
		g.Go(func() error {
			item := key(i)
			item["balance"] = &types.AttributeValueMemberN{Value: strconv.Itoa(i)}
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(verifyBenchTable), Item: item}); err != nil {
				return err
			}
			_, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(verifyBenchTable), Key: key(i), ConsistentRead: aws.Bool(true)})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	ps := float64(n) / time.Since(start).Seconds()
	g.SetLimit(8)
	for i := range n {
		g.Go(func() error {
			_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(verifyBenchTable), Key: key(i)})
			return err
		})
	}
	return ps, g.Wait()
}

// verifyBenchEnv is the environment for Python clients: an empty AWS_PROFILE, which keeps the
// SDK off a developer's profile, is a missing profile to botocore.
func verifyBenchEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if kv != "AWS_PROFILE=" {
			env = append(env, kv)
		}
	}
	return env
}

const verifyBenchBoto3Script = `
import sys, time, boto3
ddb = boto3.client("dynamodb")
n = int(sys.argv[1])
start = time.perf_counter()
for i in range(n):
    k = {"user_id": {"S": "bench-boto3-%d" % i}}
    ddb.put_item(TableName=sys.argv[2], Item=dict(k, balance={"N": str(i)}))
    ddb.get_item(TableName=sys.argv[2], Key=k, ConsistentRead=True)
elapsed = time.perf_counter() - start
for i in range(n):
    ddb.delete_item(TableName=sys.argv[2], Key={"user_id": {"S": "bench-boto3-%d" % i}})
print(n / elapsed)
`

// verifyBenchBoto3 runs the sequential loop in real boto3, timed inside Python so the
// interpreter's start-up is not counted.
func verifyBenchBoto3(b *testing.B) (float64, bool) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Log("boto3: python3 not found, not measured")
		return 0, false
	}
	cmd := exec.Command(py, "-c", verifyBenchBoto3Script, strconv.Itoa(verifyBenchSeqPairs), verifyBenchTable)
	cmd.Env = verifyBenchEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Logf("boto3: not measured (%v): %s", err, strings.TrimSpace(string(out)))
		return 0, false
	}
	ps, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Logf("boto3: not measured, unexpected output %q", out)
		return 0, false
	}
	return ps, true
}

// verifyBenchCLI is a shell loop of aws dynamodb put-item and get-item, one process per call.
func verifyBenchCLI(b *testing.B, srv *localcloud.Server) (float64, bool) {
	if _, err := exec.LookPath("aws"); err != nil {
		b.Log("aws CLI: not found on PATH, not measured")
		return 0, false
	}
	aws := func(args ...string) error {
		cmd := exec.Command("aws", append([]string{"dynamodb", "--endpoint-url", srv.Endpoint}, args...)...)
		cmd.Env = verifyBenchEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	start := time.Now()
	for i := range verifyBenchCLIPairs {
		key := fmt.Sprintf(`{"user_id": {"S": "bench-cli-%d"}}`, i)
		item := fmt.Sprintf(`{"user_id": {"S": "bench-cli-%d"}, "balance": {"N": "%d"}}`, i, i)
		if err := aws("put-item", "--table-name", verifyBenchTable, "--item", item); err != nil {
			b.Logf("aws CLI: not measured: %v", err)
			return 0, false
		}
		if err := aws("get-item", "--table-name", verifyBenchTable, "--key", key, "--consistent-read"); err != nil {
			b.Logf("aws CLI: not measured: %v", err)
			return 0, false
		}
	}
	ps := float64(verifyBenchCLIPairs) / time.Since(start).Seconds()
	for i := range verifyBenchCLIPairs {
		_ = aws("delete-item", "--table-name", verifyBenchTable, "--key", fmt.Sprintf(`{"user_id": {"S": "bench-cli-%d"}}`, i))
	}
	return ps, true
}

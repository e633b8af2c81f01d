package check

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
)

// hangGuard bounds the runs that must end promptly (a missing table, a table that never becomes
// ACTIVE within --timeout, a clean-up past its bound). It is a hang guard, not a performance
// figure: what it catches is a retry loop or a waiter that ignores its bound, which takes
// minutes.
const hangGuard = 30 * time.Second

// testClients builds the clients verify builds (adaptive retries, the throttle counter), aimed
// at endpoint: a local backend, or a fault proxy in front of one. attempts bounds retries so
// that tests of total failure end in seconds.
func testClients(t *testing.T, endpoint string, attempts int) Clients {
	t.Helper()
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Adaptive: true, MaxAttempts: attempts})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(endpoint)
	return NewClients(cfg)
}

// onMoto is for runs through every check on moto: moto applies concurrent ADDs to one item
// without a lock and now and then loses one (balance 19 of 20, about one run in sixteen here),
// which concurrent-increments rightly reports. Concurrency is tested on DynamoDB Local, which
// applies them atomically as DynamoDB does.
func onMoto(o Options) Options {
	o.Concurrency = 1
	return o
}

func startProxy(t *testing.T, upstream string, f faultproxy.Faults) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(upstream, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func tableOptions(table string) Options {
	o := Defaults()
	o.Stack, o.Table, o.Region = "", table, "us-east-1"
	o.Timeout, o.CleanupTimeout = 30*time.Second, 15*time.Second
	return o
}

var writingChecks = []string{Roundtrip, ConditionalCreate, NoOverdraft, Transfer, ConcurrentIncrements, Cleanup}

var allChecks = append([]string{Discover, Active, Conformance}, writingChecks...)

func names(rep *Report) []string {
	var n []string
	for _, c := range rep.Checks {
		n = append(n, c.Name)
	}
	return n
}

// wantResults asserts which checks ran, in order, and which failed; on a mismatch it prints
// the whole report.
func wantResults(t *testing.T, rep *Report, ran []string, failed ...string) {
	t.Helper()
	var text strings.Builder
	_ = rep.WriteText(&text)
	t.Log("\n" + text.String())
	if strings.Join(names(rep), ",") != strings.Join(ran, ",") || strings.Join(rep.Failed(), ",") != strings.Join(failed, ",") {
		t.Fatalf("ran %v, failed %v; want ran %v, failed %v", names(rep), rep.Failed(), ran, failed)
	}
	if rep.Passed != (len(failed) == 0 && rep.LeftoverItems == 0 && rep.Stopped == "") {
		t.Fatalf("report Passed=%v with failed %v, %d left over, stopped %q", rep.Passed, rep.Failed(), rep.LeftoverItems, rep.Stopped)
	}
}

// wantStopped asserts that the run was stopped, by the named check, for the reason given.
func wantStopped(t *testing.T, rep *Report, check string, why Stop) {
	t.Helper()
	c, ok := rep.Check(check)
	if !ok || c.Stopped != why || c.Passed || rep.Stopped != why || rep.Passed {
		t.Fatalf("want %s stopped (%s) and the run with it: check %+v, run stopped %q, passed %v", check, why, c, rep.Stopped, rep.Passed)
	}
}

func detail(t *testing.T, rep *Report, name string) string {
	t.Helper()
	c, ok := rep.Check(name)
	if !ok {
		t.Fatalf("check %s did not run", name)
	}
	return c.Detail
}

func wantDetail(t *testing.T, rep *Report, name string, subs ...string) {
	t.Helper()
	d := detail(t, rep, name)
	for _, s := range subs {
		if !strings.Contains(d, s) {
			t.Errorf("%s detail %q does not mention %q", name, d, s)
		}
	}
}

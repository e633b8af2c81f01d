package check

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"golang.org/x/time/rate"
)

// The pacer's model of what a run costs. These figures are also the README's: change both.
func TestDemand(t *testing.T) {
	o := Defaults()
	checks, cleanup := Demand(o)
	if checks != (Units{Reads: 19, Writes: 54}) || cleanup != (Units{Reads: 9, Writes: 9}) {
		t.Fatalf("defaults: checks %+v, clean-up %+v; want 19/54 and 9/9", checks, cleanup)
	}
	// Items to clean up grow with the workers, not with the round trips: 400 round trips
	// at concurrency 4 write at most N + 100 units, clean-up included.
	o.Roundtrips = 400
	checks, cleanup = Demand(o)
	if w := checks.Writes + cleanup.Writes; w != 453 || w > int64(o.Roundtrips)+100 {
		t.Fatalf("400 round trips: %d write units, want 453 (≤ 500)", w)
	}
	if cleanup.Writes != int64(o.Concurrency)+testItems {
		t.Fatalf("clean-up deletes %d, want %d", cleanup.Writes, o.Concurrency+testItems)
	}

	// On a 1/1 table: the default check fits in the burst and is not slowed at all; 400 round
	// trips need 144 s past the burst, more than the default --timeout.
	p := NewPacer(provisioned(1, 1), true)
	if d, _ := Demand(Defaults()); p.Time(d) != 0 {
		t.Fatalf("default check paced for %s on a 1/1 table, want 0", p.Time(d))
	}
	if got := p.Time(checks); got != 144*time.Second {
		t.Fatalf("400 round trips on a 1/1 table: %s, want 144s", got)
	}
	if got := p.Refill(cleanup); got != 9*time.Second {
		t.Fatalf("clean-up refill %s, want 9s", got)
	}
	if n := maxRoundtrips(p, Defaults(), DefaultTimeout); n != 375 {
		t.Fatalf("round trips that fit the default --timeout on a 1/1 table: %d, want 375", n)
	}
	if p := NewPacer(provisioned(1, 1), false); p.Time(checks) != 0 || p.Refill(cleanup) != 0 {
		t.Fatal("an unpaced run waits for nothing")
	}
}

// `--roundtrips 100000 --timeout 20s` on a 1-WCU table: refused before anything is written,
// with the numbers, and the largest run that would fit.
func TestFitsRefusesWhatTheCapacityCannotServe(t *testing.T) {
	p := NewPacer(provisioned(1, 1), true)
	o := Defaults()
	o.Roundtrips, o.Timeout = 100000, 20*time.Second
	err := fits(p, "wallet-t", o, o.Timeout)
	var ce *CapacityError
	if !errors.As(err, &ce) {
		t.Fatalf("want a CapacityError, got %v", err)
	}
	if ce.Needed != (Units{Reads: 100009, Writes: 100044}) || ce.Takes != 99744*time.Second || ce.MaxRoundtrips != 275 {
		t.Fatalf("refusal %+v", ce)
	}
	for _, s := range []string{"wallet-t", "--timeout 20s", "100044 write", "100009 read", "1 WCU/s", "1 RCU/s", "300 s of burst",
		"27h42m24s", "nothing was written", "--roundtrips 275 or fewer"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err, s)
		}
	}
	// The bound is exact: 275 round trips fit, 276 do not.
	for n, fit := range map[int]bool{275: true, 276: false} {
		o.Roundtrips = n
		if err := fits(p, "wallet-t", o, o.Timeout); (err == nil) != fit {
			t.Errorf("%d round trips: %v", n, err)
		}
	}
	o.Roundtrips = 100000
	if err := fits(NewPacer(provisioned(1, 1), false), "wallet-t", o, o.Timeout); err != nil {
		t.Fatalf("--no-pace: %v", err)
	}
}

// The limiter refuses at once a wait the deadline would cut short, with an error of its own
// ("rate: Wait(n=1) would exceed context deadline"): that is the run running out of time.
func TestPacerWaitPastTheDeadlineIsOutOfTime(t *testing.T) {
	p := Pacer{Reads: rate.NewLimiter(1, 1), Writes: rate.NewLimiter(1, 1)}
	api := p.API(nopAPI{})
	if _, err := api.PutItem(t.Context(), &dynamodb.PutItemInput{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err := api.PutItem(ctx, &dynamodb.PutItemInput{})
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		t.Fatalf("want an immediate deadline error, got %v (ctx %v)", err, ctx.Err())
	}
	if stopOf(ctx, err) != OutOfTime {
		t.Fatalf("stopOf(%v) = %q, want out of time", err, stopOf(ctx, err))
	}
}

// A check that fails is a verdict; one stopped by an interruption, the deadline or IAM is not,
// and the first stop is the run's.
func TestReportTellsStopsFromFailures(t *testing.T) {
	denied := &awsconf.Denied{Service: "DynamoDB", Operation: "UpdateItem", Action: "dynamodb:UpdateItem", Resource: "table t",
		Err: &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem",
			Err: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 403}}, Err: errors.New("forbidden")}}}
	rep := &Report{}
	ctx := t.Context()
	_ = rep.do(ctx, "a", func(context.Context) (string, error) { return "", errors.New("balance 5, want 6") })
	_ = rep.do(ctx, "b", func(context.Context) (string, error) { return "", fmt.Errorf("debit: %w", denied) })
	_ = rep.do(ctx, "c", func(context.Context) (string, error) { return "", fmt.Errorf("put: %w", context.DeadlineExceeded) })
	if f := rep.Failed(); len(f) != 1 || f[0] != "a" {
		t.Fatalf("failed %v, want [a]", f)
	}
	if rep.Stopped != AccessDenied || rep.Denied != denied || rep.Checks[1].Stopped != AccessDenied || rep.Checks[2].Stopped != OutOfTime {
		t.Fatalf("stops: run %q (%v), checks %+v", rep.Stopped, rep.Denied, rep.Checks)
	}
	if !strings.HasPrefix(rep.Checks[1].Detail, "access denied: ") || !strings.HasPrefix(rep.Checks[2].Detail, "out of time: ") {
		t.Fatalf("details %q, %q", rep.Checks[1].Detail, rep.Checks[2].Detail)
	}
	var text strings.Builder
	_ = rep.WriteText(&text)
	if !strings.Contains(text.String(), "STOPPED") || !strings.Contains(text.String(), "ACCESS DENIED during b; nothing was written.") {
		t.Fatalf("text report:\n%s", text.String())
	}
}

// A template is at most CloudFormation's 1 MB: /dev/zero, which never ends, is refused after
// reading that much, instead of growing the process until the kernel kills it.
func TestTemplateLargerThanCloudFormationAllowsIsRefused(t *testing.T) {
	for _, path := range []string{"/dev/zero", bigFile(t)} {
		o := tableOptions("wallet-t")
		o.Template = path
		err := o.Validate(t.Context())
		if err == nil || !strings.Contains(err.Error(), "1 MB") || !strings.Contains(err.Error(), path) {
			t.Fatalf("%s: want a refusal naming the file and the 1 MB limit, got %v", path, err)
		}
	}
}

func bigFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "big.json")
	body := `{"Resources": {}, "Padding": "` + strings.Repeat("x", MaxTemplateBytes) + `"}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A FIFO nobody writes ends at the deadline with an error that says so; one that is written
// is read like a file (process substitution, `--template <(cdk synth …)`, is a pipe).
func TestTemplateFromAPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "template.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	o := tableOptions("wallet-t")
	o.Template, o.Timeout = fifo, time.Second
	start := time.Now()
	err := o.Validate(t.Context())
	if err == nil || !strings.Contains(err.Error(), "not read within --timeout 1s") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the timeout named, got %v", err)
	}
	if d := time.Since(start); d > hangGuard {
		t.Fatalf("took %s", d)
	}
	// The reader left blocked in open() is released by a writer coming and going.
	release(t, fifo, "")

	// A pipe of its own: the released reader holds the first one open a moment longer (its
	// deadline past, it closes without reading), and a writer opening it then would hand the
	// template to that reader and leave this one waiting out its whole --timeout.
	written := filepath.Join(t.TempDir(), "written.fifo")
	if err := syscall.Mkfifo(written, 0o600); err != nil {
		t.Fatal(err)
	}
	o = tableOptions("wallet-t")
	o.Template = written
	go release(t, written, fixture.Template(fixture.TableDecl{}))
	if err := o.Validate(t.Context()); err != nil {
		t.Fatalf("a template written into a pipe: %v", err)
	}
}

// release opens the FIFO for writing, writes body and closes it.
func release(t *testing.T, fifo, body string) {
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	_, _ = f.WriteString(body)
	_ = f.Close()
}

// An endpoint that accepts connections and never answers holds discovery until --timeout, and
// no longer; the error names the endpoint and says it did not answer.
func TestEndpointThatNeverAnswers(t *testing.T) {
	endpoint := fixture.SilentEndpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "us-east-1")
	o := tableOptions("wallet-t")
	o.Timeout = time.Second
	start := time.Now()
	rep, err := Run(t.Context(), testClients(t, endpoint, 0), o)
	var de *DiscoveryError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), endpoint+" did not answer within --timeout 1s") {
		t.Fatalf("want a DiscoveryError saying %s did not answer, got %v", endpoint, err)
	}
	wantResults(t, rep, []string{Discover})
	wantStopped(t, rep, Discover, OutOfTime)
	if d := time.Since(start); d > hangGuard {
		t.Fatalf("took %s", d)
	}
}

package deploycheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-sdk-go-v2/aws"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/check"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// noCheck is a Check that fails the test if it runs.
func noCheck(t *testing.T) func(context.Context, check.Options) (*check.Report, error) {
	return func(context.Context, check.Options) (*check.Report, error) {
		t.Error("the checks ran")
		return nil, errors.New("the checks ran")
	}
}

// A request that is not CloudFormation's as CloudFormation writes it runs nothing: the writing
// checks are not run for a lower-case request type, a misspelt key, a missing id or a truncated
// event. Where its ResponseURL can be read it is answered FAILED, naming what is wrong; where it
// cannot, the invocation's error and the log say so. {} from a person still runs the check.
func TestMalformedEventsRunNothingAndAreAnswered(t *testing.T) {
	cf := newCloudFormation(t)
	now := time.Now().UTC()
	good := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(event(t, "Update", cf.srv.URL, now, now.Add(-time.Minute)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	with := func(change func(map[string]any)) json.RawMessage {
		m := good()
		change(m)
		b, _ := json.Marshal(m)
		return b
	}
	whole := with(func(map[string]any) {})
	// json.Marshal sorts the keys: ResponseURL and StackId come last.
	cutInStackID := whole[:len(whole)-10]
	cutBeforeResponseURL := whole[:strings.Index(string(whole), `"ResponseURL"`)]

	answered := []struct {
		name  string
		event json.RawMessage
		want  string
	}{
		{"lower-case request type", with(func(m map[string]any) { m["RequestType"] = "update" }), `RequestType "update": want Create, Update or Delete`},
		{"lower-case key", with(func(m map[string]any) { m["requesttype"] = m["RequestType"]; delete(m, "RequestType") }), `key "requesttype": CloudFormation writes "RequestType"`},
		{"no request type", with(func(m map[string]any) { delete(m, "RequestType") }), "RequestType is missing"},
		{"no stack id", with(func(m map[string]any) { delete(m, "StackId") }), "StackId is missing"},
		{"a stack id that is not an ARN", with(func(m map[string]any) { m["StackId"] = "Wallet-dev" }), `StackId "Wallet-dev": want a stack's ARN`},
		{"another stack's request", with(func(m map[string]any) {
			m["StackId"] = "arn:aws:cloudformation:us-east-1:123456789012:stack/Payroll/y"
		}), "the request is for stack Payroll"},
		{"an update without old properties", with(func(m map[string]any) { delete(m, "OldResourceProperties") }), "OldResourceProperties is missing"},
		{"an update without its physical id", with(func(m map[string]any) { delete(m, "PhysicalResourceId") }), "PhysicalResourceId is missing"},
		{"properties not an object", with(func(m map[string]any) { m["ResourceProperties"] = "x" }), `ResourceProperties "\"x\"": want an object`},
		{"a request id not a string", with(func(m map[string]any) { m["RequestId"] = 7 }), `RequestId "7": want a string`},
		{"truncated after its ResponseURL", cutInStackID, "the event is not a JSON object (it is not valid JSON: unexpected end of JSON input)"},
	}
	for _, tc := range answered {
		t.Run(tc.name, func(t *testing.T) {
			deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateInProgress), Check: noCheck(t)}
			n := cf.count()
			res, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", tc.event)
			if cf.count() != n+1 {
				t.Fatalf("CloudFormation got %d answers, want one", cf.count()-n)
			}
			answer, _ := cf.last(t)
			if answer.Status != cfn.StatusFailed || !strings.Contains(answer.Reason, tc.want) || res.Passed || err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("answer %+v, error %v; want FAILED saying %q", answer, err, tc.want)
			}
			if answer.RequestID != "r-1" && !strings.Contains(tc.name, "request id") {
				t.Errorf("the answer's RequestId is %q, want the request's r-1", answer.RequestID)
			}
		})
	}

	unanswerable := []struct {
		name  string
		event string
		want  string
	}{
		{"truncated before its ResponseURL", string(cutBeforeResponseURL), "not valid JSON"},
		{"not JSON", "RequestType=Update", "not valid JSON"},
		{"empty", "", "it is empty"},
		{"an array", "[]", "it is an array"},
		{"null", "null", "it is null"},
		{"a string", `"Create"`, "it is a string"},
		{"no ResponseURL", string(with(func(m map[string]any) { delete(m, "ResponseURL") })), "ResponseURL is missing"},
		{"a ResponseURL not a string", string(with(func(m map[string]any) { m["ResponseURL"] = []int{1} })), "ResponseURL"},
	}
	for _, tc := range unanswerable {
		t.Run(tc.name, func(t *testing.T) {
			var log strings.Builder
			deps := Deps{HTTP: cf.srv.Client(), Log: &log, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateInProgress), Check: noCheck(t)}
			n := cf.count()
			_, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", json.RawMessage(tc.event))
			if cf.count() != n {
				t.Errorf("CloudFormation got an answer to an event with no usable ResponseURL")
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "not answered") || !strings.Contains(log.String(), tc.want) {
				t.Errorf("error %v, log %q; want both to say %q, and the error that nothing was answered", err, log.String(), tc.want)
			}
		})
	}

	// A direct invocation, an object with none of CloudFormation's keys, runs the check.
	for _, ev := range []string{`{}`, `{"source":"a person"}`} {
		ran := false
		deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Check: func(context.Context, check.Options) (*check.Report, error) {
			ran = true
			return &check.Report{Passed: true}, nil
		}}
		n := cf.count()
		if res, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", json.RawMessage(ev)); err != nil || !res.Passed || !ran || cf.count() != n {
			t.Errorf("%s: %v, %+v, ran %v; want the check run and nothing answered", ev, err, res, ran)
		}
	}
}

// Where an answer may go: CloudFormation's https URL; never plain http, unless the harness's
// option is on and the host is a loopback IP; never a bare IP inside a network, in whatever
// spelling, over https either.
func TestResponseURLRules(t *testing.T) {
	for _, tc := range []struct {
		url      string
		deployed bool // accepted by the deployed function
		harness  bool // accepted with LoopbackHTTP
	}{
		{"https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/arn%3Aaws/r-1?X-Amz-Signature=abc", true, true},
		{"https://cloudformation-custom-resource-response-cnnorth1.s3.cn-north-1.amazonaws.com.cn/x", true, true},
		{"https://s3.amazonaws.com:443/x", true, true},
		{"https://52.216.0.1/x", true, true}, // a public address
		{"http://127.0.0.1:8080/cloudformation-response", false, true},
		{"http://127.9.9.9/x", false, true},
		{"http://[::1]:8080/x", false, true},
		{"http://s3.amazonaws.com/x", false, false},
		{"http://10.0.0.1/x", false, false},
		{"http://169.254.169.254/latest/meta-data/", false, false},
		{"http://localhost:8080/x", false, false}, // a name: resolved, it could be anything
		{"https://127.0.0.1/x", false, false},
		{"https://[::1]/x", false, false},
		{"https://10.1.2.3/x", false, false},
		{"https://172.16.0.1/x", false, false},
		{"https://192.168.1.1/x", false, false},
		{"https://169.254.169.254/latest/meta-data/", false, false},
		{"https://[fe80::1%25eth0]/x", false, false},
		{"https://[fd00:ec2::254]/x", false, false}, // IMDS over IPv6
		{"https://[::ffff:10.0.0.1]/x", false, false},
		{"https://[64:ff9b::a00:1]/x", false, false},
		{"https://100.64.0.1/x", false, false},
		{"https://0.0.0.0/x", false, false},
		{"https://2130706433/x", false, false}, // 127.0.0.1 to some resolvers
		{"https://127.1/x", false, false},
		{"https://0x7f000001/x", false, false},
		{"https://localhost/x", false, false},
		{"https://api.localhost/x", false, false},
		{"https://user:secret@s3.amazonaws.com/x", false, false},
		{"ftp://s3.amazonaws.com/x", false, false},
		{"//s3.amazonaws.com/x", false, false},
		{"https:///x", false, false},
		{"s3.amazonaws.com/x", false, false},
		{"https://s3.amazonaws.com/%zz", false, false},
	} {
		for _, r := range []struct {
			rules ResponseURLs
			want  bool
		}{{ResponseURLs{}, tc.deployed}, {harness, tc.harness}} {
			_, err := r.rules.Check(tc.url)
			if (err == nil) != r.want {
				t.Errorf("%+v: %s: %v; want accepted %v", r.rules, tc.url, err, r.want)
			}
			if err != nil && !strings.Contains(err.Error(), "want CloudFormation's https URL") {
				t.Errorf("%s: %v: does not say what is allowed", tc.url, err)
			}
		}
	}
}

// offLoopback is the function's HTTP client, which only ever reaches 127.0.0.1: a request for
// any other address is recorded and fails without a connection (the tests aim at loopback only).
type offLoopback struct {
	mu    sync.Mutex
	hosts []string
}

func (o *offLoopback) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Hostname() == "127.0.0.1" {
		return http.DefaultTransport.RoundTrip(r)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.hosts = append(o.hosts, r.URL.Host)
	return nil, fmt.Errorf("the test refuses to reach %s", r.URL.Host)
}

// A ResponseURL the rules refuse is never sent anything, nor run for; nor is a redirect to one
// followed.
func TestNoAnswerGoesOffTheRules(t *testing.T) {
	tr := &offLoopback{}
	client := &http.Client{Transport: tr}
	now := time.Now().UTC()
	for _, url := range []string{"http://169.254.169.254/latest", "http://s3.amazonaws.com/x", "https://10.1.2.3/x", "https://[fd00:ec2::254]/x"} {
		deps := Deps{HTTP: client, Log: io.Discard, ResponseURLs: harness, Check: noCheck(t)}
		_, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", event(t, "Create", url, now, time.Time{}))
		if err == nil || !strings.Contains(err.Error(), "ResponseURL") || !strings.Contains(err.Error(), "not answered") {
			t.Errorf("%s: %v; want the URL refused and nothing answered", url, err)
		}
	}
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://10.9.9.9/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	deps := Deps{HTTP: client, Log: io.Discard, ResponseURLs: harness, Stacks: stackAt(cftypes.StackStatusUpdateRollbackInProgress), Check: noCheck(t)}
	_, err := Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", event(t, "Delete", redirect.URL, now, now))
	if err == nil || !strings.Contains(err.Error(), "10.9.9.9") {
		t.Errorf("answer redirected off loopback: %v; want it refused", err)
	}
	if len(tr.hosts) > 0 {
		t.Errorf("the function sent answers to %v", tr.hosts)
	}
}

// However the reason is made, the answer as sent fits CloudFormation's 4,096 bytes: the bound is
// on the encoded body, where a quote is two bytes and a control character six; the reason is cut
// between characters, keeps what fits, and says how much is left out.
func TestAnswerFitsCloudFormationsLimit(t *testing.T) {
	ev := cfn.Event{RequestType: cfn.RequestUpdate, RequestID: strings.Repeat("r", 36), StackID: testStackID,
		LogicalResourceID: "DeployCheck", PhysicalResourceID: "DeployCheck", ResponseURL: "https://s3.amazonaws.com/x"}
	hostile := map[string]string{
		"quotes":             strings.Repeat(`"`, 10000),
		"control characters": strings.Repeat("\u0001", 10000),
		"emoji":              strings.Repeat("🦆", 10000),
		"HTML and invalid":   strings.Repeat("<&>\xff\u2028", 3000),
		"backslashes":        strings.Repeat(`\`, 10000),
	}
	for name, reason := range hostile {
		body := responseBody(ev, cfn.StatusFailed, reason)
		var got cfn.Response
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: the body is not JSON: %v", name, err)
		}
		whole := strings.ToValidUTF8(reason, "\uFFFD")
		kept, note, ok := strings.Cut(got.Reason, " … (")
		switch {
		case len(body) > maxBody:
			t.Errorf("%s: %d bytes, over %d", name, len(body), maxBody)
		case len(body) < maxBody-12:
			t.Errorf("%s: %d bytes: cut more than it had to (a character encodes in at most 6 bytes)", name, len(body))
		case !ok || !strings.HasPrefix(whole, kept) || !utf8.ValidString(got.Reason):
			t.Errorf("%s: reason %.80q… is not a prefix of the reason and a note", name, got.Reason)
		case note != fmt.Sprintf("%d bytes more in the function's log)", len(whole)-len(kept)):
			t.Errorf("%s: note %q, want %d bytes more", name, note, len(whole)-len(kept))
		case got.RequestID != ev.RequestID || got.Status != cfn.StatusFailed:
			t.Errorf("%s: %+v", name, got)
		}
	}
	if b := responseBody(ev, cfn.StatusSuccess, "short"); !strings.Contains(string(b), `"Reason":"short"`) {
		t.Errorf("a short reason was changed: %s", b)
	}

	// Through the handler, as the function sends it: a check whose detail is 10,000 quotes.
	cf := newCloudFormation(t)
	for name, reason := range hostile {
		deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Check: func(context.Context, check.Options) (*check.Report, error) {
			return &check.Report{Checks: []check.Result{{Name: check.Conformance, Detail: reason}}}, nil
		}}
		_, _ = Handle(t.Context(), deps, devConfig("wallet-x", 1, 1), "us-east-1", event(t, "Create", cf.srv.URL, time.Now(), time.Time{}))
		if answer, size := cf.last(t); size > maxBody || answer.Status != cfn.StatusFailed || !strings.HasPrefix(answer.Reason, "wallet check of table wallet-x") {
			t.Errorf("%s: answer of %d bytes, %s, %.80q…; want FAILED within %d bytes", name, size, answer.Status, answer.Reason, maxBody)
		}
	}
}

// On DynamoDB Local, a table that is not there: the reason says it once, in the deploy check's
// terms (the table the stack gave, not a --table flag nobody passed).
func TestAMissingTableIsSaidOnce(t *testing.T) {
	ddbLocal := localcloud.DynamoDBLocal(t)
	ddbLocal.SetEnv(t)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseEndpoint = aws.String(ddbLocal.Endpoint)
	cf := newCloudFormation(t)
	deps := Deps{HTTP: cf.srv.Client(), Log: io.Discard, ResponseURLs: harness, Check: func(ctx context.Context, o check.Options) (*check.Report, error) {
		return check.Run(ctx, check.NewClients(cfg), o)
	}}
	_, err = Handle(t.Context(), deps, devConfig("wallet-absent", 1, 1), "us-east-1", event(t, "Create", cf.srv.URL, time.Now(), time.Time{}))
	answer, _ := cf.last(t)
	if n := strings.Count(answer.Reason, "not found"); n != 1 || strings.Count(answer.Reason, "ResourceNotFoundException") != 1 ||
		!strings.Contains(answer.Reason, "table wallet-absent (given by the stack Wallet-dev) not found in region us-east-1") ||
		strings.Contains(answer.Reason, "--table") || err == nil || err.Error() != answer.Reason {
		t.Errorf("reason %q (%d times \"not found\"), error %v; want it said once, naming the stack", answer.Reason, n, err)
	}
}

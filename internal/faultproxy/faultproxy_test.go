package faultproxy

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var reached atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		_, _ = io.WriteString(w, "{}")
	}))
	defer up.Close()
	p, err := Start(up.URL, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	call := func(op string) (*http.Response, string, error) {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}

	if resp, body, err := call("GetItem"); err != nil || resp.StatusCode != 200 || body != "{}" {
		t.Fatalf("no faults: %v %v %q", resp, err, body)
	}

	p.Set(Faults{Throttle: 1, Operations: []string{"PutItem"}})
	if resp, _, _ := call("GetItem"); resp.StatusCode != 200 {
		t.Fatal("an operation not listed was faulted")
	}
	resp, body, err := call("PutItem")
	if err != nil || resp.StatusCode != 400 || !strings.Contains(body, `"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"`) {
		t.Fatalf("throttle: %v %v %q", resp, err, body)
	}

	p.Set(Faults{ServerError: 1})
	if resp, body, _ := call("GetItem"); resp.StatusCode != 500 || !strings.Contains(body, "InternalServerError") {
		t.Fatalf("500: %d %q", resp.StatusCode, body)
	}

	before := reached.Load()
	p.Set(Faults{Drop: 1})
	if _, _, err := call("GetItem"); err == nil {
		t.Fatal("drop: got an answer")
	}
	if reached.Load() != before {
		t.Fatal("a dropped request reached the upstream")
	}
	p.Set(Faults{DropAfter: 1})
	if _, _, err := call("GetItem"); err == nil {
		t.Fatal("drop after: got an answer")
	}
	if reached.Load() != before+1 {
		t.Fatal("drop after: the request did not reach the upstream")
	}

	p.Set(Faults{Latency: 50 * time.Millisecond})
	start := time.Now()
	if _, _, err := call("GetItem"); err != nil || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("latency: %v after %s", err, time.Since(start))
	}

	if c := p.Counts(); c.Throttled != 1 || c.ServerErrors != 1 || c.Dropped != 1 || c.DroppedAfter != 1 || c.Requests != 7 {
		t.Fatalf("counts %+v", c)
	}
}

// What reached the backend is counted per operation, with the items of each transaction, and
// the request body arrives intact after being read for the count.
func TestCountsForwardedCallsAndWriteUnits(t *testing.T) {
	var bodies []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		_, _ = io.WriteString(w, "{}")
	}))
	defer up.Close()
	p, err := Start(up.URL, Faults{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	call := func(op, body string) {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	tx := `{"TransactItems":[{"Update":{}},{"ConditionCheck":{}},{"Put":{}}]}`
	call("PutItem", "{}")
	call("GetItem", "{}")
	call("TransactWriteItems", tx)
	call("DeleteItem", "{}")
	p.Set(Faults{Throttle: 1, Operations: []string{"UpdateItem"}})
	call("UpdateItem", "{}") // refused by the proxy: never reaches the table, costs nothing

	c := p.Counts()
	want := map[string]int64{"PutItem": 1, "GetItem": 1, "TransactWriteItems": 1, "DeleteItem": 1}
	if !maps.Equal(c.Forwarded, want) || c.TransactItems != 3 {
		t.Fatalf("forwarded %v, %d transaction items; want %v and 3", c.Forwarded, c.TransactItems, want)
	}
	if got := c.WriteUnits(); got != 1+1+2*3 {
		t.Fatalf("write units %d, want 8", got)
	}
	if len(bodies) != 4 || bodies[2] != tx {
		t.Fatalf("bodies at the upstream: %q", bodies)
	}
}

// DropAfter with Times loses the answers of exactly the first N matching calls: each reaches
// the backend, which acts and answers, and the client gets a closed connection instead; later
// calls, and calls of other operations, get their answers. An operation may be named by its
// whole X-Amz-Target, so CreateBackup of DynamoDB is not another service's CreateBackup.
func TestDropAfterLosesTheAnswersOfTheFirstMatchingCalls(t *testing.T) {
	reached := map[string]int{}
	var mu sync.Mutex
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached[r.Header.Get("X-Amz-Target")]++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"acted":true}`)
	}))
	defer up.Close()
	p, err := Start(up.URL, Faults{DropAfter: 1, Times: 2, Operations: []string{"DynamoDB_20120810.CreateBackup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	call := func(target string) (string, error) {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	const backup, other = "DynamoDB_20120810.CreateBackup", "OtherService_2020.CreateBackup"
	for i := range 2 {
		if body, err := call(backup); err == nil {
			t.Fatalf("call %d: got the answer %q, want a closed connection", i+1, body)
		}
		if body, err := call(other); err != nil || body != `{"acted":true}` {
			t.Fatalf("another service's CreateBackup was faulted: %q %v", body, err)
		}
	}
	if body, err := call(backup); err != nil || body != `{"acted":true}` {
		t.Fatalf("the third call: %q %v, want its answer", body, err)
	}
	if reached[backup] != 3 || reached[other] != 2 {
		t.Fatalf("reached the backend: %v, want every call (3 and 2): the lost answers were answers", reached)
	}
	if c := p.Counts(); c.DroppedAfter != 2 || c.Forwarded["CreateBackup"] != 5 {
		t.Fatalf("counts %+v, want 2 dropped after the answer and 5 forwarded", c)
	}
	// Set starts the count again; a bare operation name matches every service's.
	p.Set(Faults{DropAfter: 1, Times: 1, Operations: []string{"CreateBackup"}})
	if _, err := call(other); err == nil {
		t.Fatal("after Set, the first CreateBackup of any service: got an answer")
	}
	if _, err := call(backup); err != nil {
		t.Fatalf("after Set, the second: %v", err)
	}
}

// After lets the first N matching calls through untouched and faults every later one: with a
// long Latency, one DeleteTable reaches the backend and the next is held, so a test can kill
// a run between two deletions. Calls of other operations are never held.
func TestAfterLetsTheFirstMatchingCallsThrough(t *testing.T) {
	var mu sync.Mutex
	reached := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached++
		mu.Unlock()
		_, _ = io.WriteString(w, `{}`)
	}))
	defer up.Close()
	p, err := Start(up.URL, Faults{Latency: time.Hour, After: 1, Operations: []string{"DeleteTable"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	call := func(target string, wait time.Duration) error {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		resp, err := (&http.Client{Timeout: wait}).Do(req)
		if err != nil {
			return err
		}
		return resp.Body.Close()
	}
	if err := call("DynamoDB_20120810.DeleteTable", 5*time.Second); err != nil {
		t.Fatalf("the first DeleteTable: %v, want it through", err)
	}
	if err := call("DynamoDB_20120810.DescribeTable", 5*time.Second); err != nil {
		t.Fatalf("another operation: %v", err)
	}
	if err := call("DynamoDB_20120810.DeleteTable", 300*time.Millisecond); err == nil {
		t.Fatal("the second DeleteTable was answered: want it held")
	}
	mu.Lock()
	defer mu.Unlock()
	if reached != 2 {
		t.Fatalf("%d calls reached the backend, want 2 (the held one never does)", reached)
	}
}

// After and Times together fault exactly the calls after the ones let through: After 2 and
// Times 1 lose exactly the third call's answer. Seen counts every call received, by operation.
func TestAfterAndTimesFaultOnlyTheCallsAfterThePassed(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"acted":true}`)
	}))
	defer up.Close()
	p, err := Start(up.URL, Faults{DropAfter: 1, After: 2, Times: 1, Operations: []string{"UpdateTable"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var answered []bool
	for range 5 {
		req, _ := http.NewRequest(http.MethodPost, p.URL, strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.UpdateTable")
		resp, err := (&http.Transport{}).RoundTrip(req)
		if err == nil {
			resp.Body.Close()
		}
		answered = append(answered, err == nil)
	}
	if want := []bool{true, true, false, true, true}; fmt.Sprint(answered) != fmt.Sprint(want) {
		t.Fatalf("answered %v, want %v", answered, want)
	}
	if c := p.Counts(); c.Seen["UpdateTable"] != 5 || c.DroppedAfter != 1 {
		t.Fatalf("counts %+v", c)
	}
}

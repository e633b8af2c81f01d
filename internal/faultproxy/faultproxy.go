// Package faultproxy is a reverse proxy for tests that sits in front of DynamoDB Local or moto
// and injects the faults real DynamoDB produces under load: throttling, internal errors,
// latency and dropped connections. It is the honest stand-in for those faults because no local
// backend throttles or fails on its own; everything it does not inject is the real backend's
// answer.
package faultproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Faults are the injection rates, each a probability from 0 to 1, drawn per request in the
// order below (at most one fault per request, besides Latency).
type Faults struct {
	Throttle    float64 // 400 ProvisionedThroughputExceededException, not forwarded
	ServerError float64 // 500 InternalServerError, not forwarded
	Drop        float64 // connection closed without an answer, not forwarded
	// DropAfter forwards the request, lets the backend act and answer, then closes the
	// client's connection without that answer: the server acted, the client saw nothing (a
	// dropped connection, a timeout). The SDK's retryer then sends the request again, and a
	// create meets what its first try made: the case that tests idempotence and clean-up hardest.
	DropAfter float64
	Latency   time.Duration // added to every affected request
	// Operations limits injection to these operations: by name ("PutItem", or a query
	// protocol's Action: "CreateStack", "GetMetricData"), or by the whole X-Amz-Target of the
	// JSON protocols ("DynamoDB_20120810.CreateBackup"), which tells two services' operations of
	// one name apart; empty: all.
	Operations []string
	// Times, when positive, limits injection to the first Times requests that match
	// Operations: each of them draws its fault by the rates above, every later one passes
	// untouched. DropAfter 1, Operations {"CreateBackup"} and Times 1 lose exactly the first
	// CreateBackup's answer. Set starts the count again.
	Times int
	// After, when positive, lets the first After requests that match Operations pass untouched
	// (Latency included): injection starts with the next one. Latency 1h, Operations
	// {"DeleteTable"} and After 1 let one deletion through and hold every later one, so a run
	// can be killed between two deletions. Set starts the count again.
	After int
	Seed  uint64 // for a repeatable sequence of faults
}

// Counts are how many faults were injected, so a test can prove its faults really happened,
// and what reached the backend, so a benchmark can count what a client costs.
type Counts struct {
	Requests, Throttled, ServerErrors, Dropped, DroppedAfter int64
	// Forwarded counts the requests passed to the backend, by operation ("PutItem").
	Forwarded map[string]int64
	// TransactItems counts the items of the forwarded TransactWriteItems requests.
	TransactItems int64
	// Seen counts every request received, by operation, faulted, held or forwarded: a request
	// held by Latency is seen before it is forwarded.
	Seen map[string]int64
}

// WriteUnits is what the forwarded writes cost in DynamoDB's model for items up to 1 KB: one
// unit per PutItem, UpdateItem and DeleteItem (refused conditional writes too), two per item
// of a transaction.
func (c Counts) WriteUnits() int64 {
	return c.Forwarded["PutItem"] + c.Forwarded["UpdateItem"] + c.Forwarded["DeleteItem"] + 2*c.TransactItems
}

// Proxy is a running fault-injecting proxy.
type Proxy struct {
	URL string // http://127.0.0.1:PORT, to use as AWS_ENDPOINT_URL

	srv      *http.Server
	rp       *httputil.ReverseProxy
	upstream *url.URL

	mu            sync.Mutex
	faults        Faults
	rnd           *rand.Rand
	forwarded     map[string]int64
	seen          map[string]int64
	transactItems int64
	matched       int // requests that matched Operations since Set, for Times
	passed        int // requests that matched Operations since Set and passed, for After

	requests, throttled, serverErrors, dropped, droppedAfter atomic.Int64
}

// Start listens on a free localhost port and forwards to upstream.
func Start(upstream string, f Faults) (*Proxy, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, fmt.Errorf("fault proxy: upstream %q: %w", upstream, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fault proxy: %w", err)
	}
	p := &Proxy{URL: "http://" + l.Addr().String(), upstream: u, forwarded: map[string]int64{}, seen: map[string]int64{}}
	p.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		// Keep the Host the client signed; neither backend checks signatures, but a
		// rewritten Host would not be what the SDK sent.
		r.Out.Host = r.In.Host
	}}
	p.Set(f)
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Set replaces the faults, e.g. to stop injecting before a test inspects the backend.
func (p *Proxy) Set(f Faults) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.faults = f
	p.matched, p.passed = 0, 0
	p.rnd = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
}

// Counts reports the faults injected and the requests forwarded so far.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	return Counts{p.requests.Load(), p.throttled.Load(), p.serverErrors.Load(), p.dropped.Load(), p.droppedAfter.Load(),
		maps.Clone(p.forwarded), p.transactItems, maps.Clone(p.seen)}
}

// forward passes r to the backend, counting it.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, op string) {
	items := 0
	if op == "TransactWriteItems" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			hangUp(w)
			return
		}
		var in struct{ TransactItems []json.RawMessage }
		_ = json.Unmarshal(body, &in) // a malformed body is the backend's to refuse
		items = len(in.TransactItems)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	p.mu.Lock()
	p.forwarded[op]++
	p.transactItems += int64(items)
	p.mu.Unlock()
	p.rp.ServeHTTP(w, r)
}

// Close stops the proxy.
func (p *Proxy) Close() error { return p.srv.Close() }

type fault int

const (
	none fault = iota
	throttle
	serverError
	drop
	dropAfter
)

// decide draws the fault for one request, of operation op (X-Amz-Target target).
func (p *Proxy) decide(target, op string) (fault, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.faults
	if len(f.Operations) > 0 && !slices.Contains(f.Operations, op) && (target == "" || !slices.Contains(f.Operations, target)) {
		return none, 0
	}
	if p.passed < f.After {
		p.passed++
		return none, 0
	}
	if f.Times > 0 {
		if p.matched >= f.Times {
			return none, 0
		}
		p.matched++
	}
	x := p.rnd.Float64()
	for _, c := range []struct {
		rate float64
		f    fault
	}{{f.Throttle, throttle}, {f.ServerError, serverError}, {f.Drop, drop}, {f.DropAfter, dropAfter}} {
		if x < c.rate {
			return c.f, f.Latency
		}
		x -= c.rate
	}
	return none, f.Latency
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	// X-Amz-Target: DynamoDB_20120810.PutItem
	target := r.Header.Get("X-Amz-Target")
	op := target[strings.LastIndex(target, ".")+1:]
	if target == "" {
		op = queryAction(r)
	}
	p.mu.Lock()
	p.seen[op]++
	p.mu.Unlock()
	f, latency := p.decide(target, op)
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	switch f {
	case throttle:
		p.throttled.Add(1)
		writeError(w, http.StatusBadRequest, "ProvisionedThroughputExceededException",
			"The level of configured provisioned throughput for the table was exceeded (injected by faultproxy)")
	case serverError:
		p.serverErrors.Add(1)
		writeError(w, http.StatusInternalServerError, "InternalServerError", "Internal server error (injected by faultproxy)")
	case drop:
		p.dropped.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		hangUp(w)
	case dropAfter:
		p.droppedAfter.Add(1)
		p.forward(discard{header: http.Header{}}, r, op)
		hangUp(w)
	default:
		p.forward(w, r, op)
	}
}

// queryAction is the operation of a query-protocol request (CloudFormation, STS, SNS, SQS's
// older protocol: Action=CreateStack in a form body), its body put back for the forward; ""
// for any other request.
func queryAction(r *http.Request) string {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ""
	}
	return form.Get("Action")
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":%q}`, code, msg)
}

// hangUp closes the client's connection without a response, as a network failure would.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultproxy: ResponseWriter cannot be hijacked")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	_ = conn.Close()
}

// discard is a ResponseWriter that throws the upstream's answer away.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

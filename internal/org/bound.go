package org

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Bounded is an HTTP client that lets at most n requests be in flight at once, from a request
// sent to its response body closed, across every SDK client built from a configuration that
// holds it. Set as aws.Config.HTTPClient before the accounts are entered, it is the one bound
// of a whole fan-out: the engine that runs in each unit bounds only its own work, so without
// it 4 regions × 8 would be 32 calls at once, and 100 accounts 3,200.
type Bounded struct {
	next aws.HTTPClient
	sem  chan struct{}
	peak atomic.Int64
	now  atomic.Int64
}

// Bound wraps next with a limit of n calls in flight (n < 1 counts as 1).
func Bound(next aws.HTTPClient, n int) *Bounded {
	if n < 1 {
		n = 1
	}
	return &Bounded{next: next, sem: make(chan struct{}, n)}
}

// Do waits for a free slot (or the request's context to end) and holds it until the response
// body is closed: the SDK reads the body after Do returns, and that is still the call.
func (b *Bounded) Do(r *http.Request) (*http.Response, error) {
	select {
	case b.sem <- struct{}{}:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	for n := b.now.Add(1); ; {
		p := b.peak.Load()
		if n <= p || b.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			b.now.Add(-1)
			<-b.sem
		})
	}
	resp, err := b.next.Do(r)
	if err != nil || resp == nil || resp.Body == nil {
		release()
		return resp, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// Peak is the most calls that were in flight at once: what a test holds the bound to.
func (b *Bounded) Peak() int { return int(b.peak.Load()) }

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (r *releasingBody) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	if err == io.EOF {
		r.release()
	}
	return n, err
}

func (r *releasingBody) Close() error {
	err := r.ReadCloser.Close()
	r.release()
	return err
}

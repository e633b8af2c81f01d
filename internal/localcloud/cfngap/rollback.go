package cfngap

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"sync"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// FunctionArgs are the arguments the deploy check function is started with under the emulator
// (lambdarie.Options.Args), so that it answers RunCustomResource's ResponseURL, plain http on
// 127.0.0.1. Lambda passes none: the deployed function accepts only https.
func FunctionArgs() []string { return []string{"--" + wallet.CheckArgLoopbackHTTP} }

// StackStatus stands in for the one CloudFormation state moto never shows: a stack in the
// middle of an operation. moto's CloudFormation is synchronous, so its stacks are never seen
// UPDATE_ROLLBACK_IN_PROGRESS, the status by which the check inside the deploy tells
// CloudFormation rolling back from a deploy. It is a proxy to moto on 127.0.0.1 that passes
// every request through and, while a status is set, puts it in what DescribeStacks returns.
// Give the function its Env, as its CloudFormation endpoint.
type StackStatus struct {
	URL    string
	mu     sync.Mutex
	status string
	srv    *httptest.Server
}

var stackStatusElement = regexp.MustCompile(`<StackStatus>[A-Z_]*</StackStatus>`)

// NewStackStatus starts the proxy to moto's endpoint, passing moto's statuses through until Set.
func NewStackStatus(moto string) (*StackStatus, error) {
	target, err := url.Parse(moto)
	if err != nil || target.Host == "" {
		return nil, fmt.Errorf("moto endpoint %q: want http://127.0.0.1:PORT", moto)
	}
	s := &StackStatus{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		s.mu.Lock()
		status := s.status
		s.mu.Unlock()
		if status == "" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if bytes.Contains(body, []byte("<DescribeStacksResult>")) {
			body = stackStatusElement.ReplaceAll(body, []byte("<StackStatus>"+status+"</StackStatus>"))
		}
		resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	s.srv = httptest.NewServer(proxy)
	s.URL = s.srv.URL
	return s, nil
}

// Set makes DescribeStacks say status; "" passes moto's own through again.
func (s *StackStatus) Set(status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
}

// Env points a function's CloudFormation calls at the proxy (the SDK reads the variable).
func (s *StackStatus) Env() string { return "AWS_ENDPOINT_URL_CLOUDFORMATION=" + s.URL }

// Close stops the proxy.
func (s *StackStatus) Close() { s.srv.Close() }

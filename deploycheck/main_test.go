package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/deploycheck"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A function deployed without its environment fails the deploy naming what is missing: it
// answers CloudFormation FAILED (the test server stands in for the pre-signed S3 URL) rather
// than crash and leave the stack waiting; invoked with {}, the invocation's error says it.
func TestHandlerNamesABadEnvironment(t *testing.T) {
	// Credentials and a region for the SDK to load; a Create makes no AWS call.
	t.Setenv("AWS_ACCESS_KEY_ID", localcloud.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", localcloud.SecretAccessKey)
	t.Setenv("AWS_REGION", localcloud.Region)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
	var answer struct{ Status, Reason string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &answer); err != nil {
			t.Errorf("answer %s: %v", b, err)
		}
	}))
	defer srv.Close()
	env := map[string]string{wallet.EnvCheckTable: "wallet-t", wallet.EnvCheckStack: "Wallet-dev"} // no declared spec
	h := handler(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard, deploycheck.ResponseURLs{LoopbackHTTP: true})

	create, _ := json.Marshal(map[string]any{"RequestType": "Create", "ResponseURL": srv.URL, "RequestId": "r", "LogicalResourceId": "DeployCheck",
		"StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/Wallet-dev/x", "ResourceType": "AWS::CloudFormation::CustomResource",
		"ResourceProperties": map[string]any{}})
	if _, err := h(t.Context(), create); err == nil || !strings.Contains(err.Error(), wallet.EnvCheckDeclared) {
		t.Errorf("create: %v; want an error naming %s", err, wallet.EnvCheckDeclared)
	}
	if answer.Status != "FAILED" || !strings.Contains(answer.Reason, wallet.EnvCheckDeclared) {
		t.Errorf("CloudFormation was told %+v; want FAILED naming %s", answer, wallet.EnvCheckDeclared)
	}
	if _, err := h(t.Context(), json.RawMessage(`{}`)); err == nil || !strings.Contains(err.Error(), wallet.EnvCheckDeclared) {
		t.Errorf("{}: %v; want an error naming %s", err, wallet.EnvCheckDeclared)
	}
}

// Lambda runs bootstrap with no arguments: the deployed function answers https only. The local
// harness's one flag allows http on loopback; anything else on the command line is refused.
func TestOnlyTheHarnessFlagAllowsHTTP(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		loopback bool
		bad      bool
	}{
		{nil, false, false},
		{[]string{"--" + wallet.CheckArgLoopbackHTTP}, true, false},
		{[]string{"-" + wallet.CheckArgLoopbackHTTP}, true, false},
		{[]string{"--" + wallet.CheckArgLoopbackHTTP + "=false"}, false, false},
		{[]string{"--loopback"}, false, true},
		{[]string{"bootstrap"}, false, true},
	} {
		r, err := parseArgs(tc.args)
		if r.LoopbackHTTP != tc.loopback || (err != nil) != tc.bad {
			t.Errorf("%q: %+v, %v; want loopback %v, refused %v", tc.args, r, err, tc.loopback, tc.bad)
		}
		if err != nil && !strings.Contains(err.Error(), wallet.CheckArgLoopbackHTTP) {
			t.Errorf("%q: %v: does not name the one argument allowed", tc.args, err)
		}
	}
	// Without it, the handler refuses the harness's http URL and sends it nothing.
	sent := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { sent = true }))
	defer srv.Close()
	h := handler(func(string) (string, bool) { return "", false }, io.Discard, deploycheck.ResponseURLs{})
	ev, _ := json.Marshal(map[string]any{"RequestType": "Delete", "ResponseURL": srv.URL, "RequestId": "r", "LogicalResourceId": "DeployCheck",
		"PhysicalResourceId": "DeployCheck", "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/Wallet-dev/x",
		"ResourceType": "AWS::CloudFormation::CustomResource", "ResourceProperties": map[string]any{}})
	if _, err := h(t.Context(), ev); err == nil || !strings.Contains(err.Error(), "plain http") || sent {
		t.Errorf("http ResponseURL without the flag: %v, sent %v; want it refused, nothing sent", err, sent)
	}
}

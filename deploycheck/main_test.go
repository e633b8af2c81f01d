package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A function deployed without its environment fails the deploy naming what is missing: it
// answers CloudFormation FAILED (the test server stands in for the pre-signed S3 URL) rather
// than crash and leave the stack waiting; invoked with {}, the invocation's error says it.
func TestHandlerNamesABadEnvironment(t *testing.T) {
	var answer struct{ Status, Reason string }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &answer); err != nil {
			t.Errorf("answer %s: %v", b, err)
		}
	}))
	defer srv.Close()
	env := map[string]string{wallet.EnvCheckTable: "wallet-t", wallet.EnvCheckStack: "Wallet-dev"} // no declared spec
	h := handler(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)

	create, _ := json.Marshal(map[string]any{"RequestType": "Create", "ResponseURL": srv.URL, "StackId": "s", "RequestId": "r", "LogicalResourceId": "DeployCheck"})
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

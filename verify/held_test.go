package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// verify teardown and verify sweep of an expired wallet stack that also holds an SQS queue: the
// plan and the report (text and JSON) name the queue, --yes deletes nothing, and a teardown,
// asked for a stack it did not remove, exits 1. The sweep exits 0: a stack kept is not a failure.
func TestTeardownAndSweepKeepAStackHoldingAQueue(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	region := "ap-southeast-6"
	c := newSweepCloud(t, region)
	stack, queue := "Wallet-vq", "vq-payroll-ledger"
	c.CreateStackWith(t, stack, []fixture.ResourceDecl{fixture.Queue("Ledger", queue)},
		fixture.TableDecl{LogicalID: "Table", Name: "vq-table", Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}})
	intact := func(what string) {
		t.Helper()
		if !c.hasStack(t, stack) || !c.has(t, "vq-table") || !c.QueueExists(t, queue) {
			t.Fatalf("%s deleted something: stack %v, table %v, queue %v", what, c.hasStack(t, stack), c.has(t, "vq-table"), c.QueueExists(t, queue))
		}
	}

	code, out, stderr := sweepRun(t, "", "teardown", "--stack", stack, "--region", region, "--json")
	var plan struct {
		Stacks []struct {
			Action string `json:"action"`
			KeptBy []struct {
				Type string `json:"type"`
			} `json:"kept_by"`
		} `json:"stacks"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != exitOK || len(plan.Stacks) != 1 || plan.Stacks[0].Action != "kept" ||
		len(plan.Stacks[0].KeptBy) != 1 || plan.Stacks[0].KeptBy[0].Type != "AWS::SQS::Queue" {
		t.Fatalf("teardown --json dry run: exit %d, %v\n%s%s", code, err, out, stderr)
	}

	code, out, stderr = sweepRun(t, "", "teardown", "--stack", stack, "--region", region, "--yes")
	if code != exitFailed || !strings.Contains(out, "Stack "+stack+" ("+region+"): kept: kept-stack: holds AWS::SQS::Queue ") {
		t.Fatalf("teardown --yes: exit %d (want 1), naming the queue:\n%s%s", code, out, stderr)
	}
	intact("teardown --yes")

	code, out, stderr = sweepRunAt(t, time.Now().Add(5*time.Second), "sweep", "--region", region, "--yes")
	if code != exitOK || !strings.Contains(out, "vq-table: kept-stack: holds AWS::SQS::Queue ") {
		t.Fatalf("sweep --yes: exit %d, naming the queue:\n%s%s", code, out, stderr)
	}
	intact("sweep --yes")
}

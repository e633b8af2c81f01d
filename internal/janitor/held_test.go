package janitor_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The janitor goes through the sweep's engine: an expired wallet stack that also holds an SQS
// queue, an S3 bucket or a table not tagged Project=wallet is never marked, never deleted, and
// each run's report and notification name the resource that keeps it. A stack that held only
// wallet kinds when its table was marked, and a queue by the time the mark was due, is not
// deleted either: the mark is taken off, saying why. A stack of wallet kinds only goes.
func TestTheJanitorNeverDeletesAStackHoldingWhatItDidNotJudge(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	expiring := func(stack string) []fixture.TableDecl {
		return []fixture.TableDecl{{LogicalID: "Table", Name: stack + "-table",
			Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: stack, wallet.TagExpiresAfter: "1s"}}}
	}
	held := map[string]struct {
		others []fixture.ResourceDecl
		more   []fixture.TableDecl
		kind   string
	}{
		"Wallet-j-queue":  {others: []fixture.ResourceDecl{fixture.Queue("Ledger", "j-payroll-ledger")}, kind: "AWS::SQS::Queue"},
		"Wallet-j-bucket": {others: []fixture.ResourceDecl{fixture.Bucket("Files", "j-payroll-files")}, kind: "AWS::S3::Bucket"},
		"Wallet-j-untagged": {more: []fixture.TableDecl{{LogicalID: "Payroll", Name: "j-payroll",
			Tags: map[string]string{wallet.TagStack: "Wallet-j-untagged", wallet.TagExpiresAfter: "1s"}}}, kind: wallet.ResourceTable},
	}
	for stack, h := range held {
		c.CreateStackWith(t, stack, h.others, append(expiring(stack), h.more...)...)
	}
	c.CreateStack(t, "Wallet-j-plain", expiring("Wallet-j-plain")...)
	c.CreateStack(t, "Wallet-j-later", expiring("Wallet-j-later")...)

	t0 := time.Now().UTC().Add(time.Minute)
	first := w.run(t, t0, contract.JanitorDelete)
	if got := marks(first); !slices.Equal(got, []string{"Wallet-j-later-table", "Wallet-j-plain-table"}) {
		t.Fatalf("first run marked %v, want only the tables of the stacks holding wallet kinds alone", got)
	}
	checkHeld := func(run string, r janitor.UnitReport, text string) {
		t.Helper()
		for stack, h := range held {
			s := stackOf(r, stack)
			if s.Action != sweep.Kept || len(s.KeptBy) != 1 || s.KeptBy[0].Type != h.kind {
				t.Errorf("%s: stack %s %+v: want kept, by its %s", run, stack, s, h.kind)
			}
			if want := "stack " + stack + ", with " + stack + "-table"; !strings.Contains(text, want) || !strings.Contains(text, "kept-stack: holds "+h.kind) {
				t.Errorf("%s: the notification does not say what keeps %s:\n%s", run, stack, text)
			}
			if _, marked := w.tag(t, stack+"-table", wallet.TagJanitorDeleteAfter); marked || !w.exists(t, stack+"-table") {
				t.Errorf("%s: %s-table is marked, or gone", run, stack)
			}
		}
		if !c.QueueExists(t, "j-payroll-ledger") || !c.BucketExists(t, "j-payroll-files") || !w.exists(t, "j-payroll") {
			t.Errorf("%s: the queue, the bucket or the untagged table is gone", run)
		}
	}
	note := w.box.Receive(t, 1, 30*time.Second)[0]
	checkHeld("first run", first, textOf(first))
	if !strings.Contains(note.Message, `"kept_by":[{"type":"AWS::SQS::Queue","logical_id":"Ledger"`) || !strings.Contains(note.Subject, "3 stacks held") {
		t.Errorf("the notification sent does not name the queue (subject %q):\n%s", note.Subject, note.Message)
	}

	// Before its mark is due, the marked stack is updated to hold a queue too.
	c.UpdateStack(t, "Wallet-j-later", []fixture.ResourceDecl{fixture.Queue("Ledger", "j-later-ledger")}, expiring("Wallet-j-later")...)

	second := w.run(t, t0.Add(2*time.Hour), contract.JanitorDelete)
	acted := names(second.Candidates, func(c sweep.Candidate) string { return c.Table + ":" + string(c.Action) })
	if !slices.Contains(acted, "Wallet-j-plain-table:deleted") || slices.ContainsFunc(acted, func(a string) bool { return strings.HasSuffix(a, ":deleted") && a != "Wallet-j-plain-table:deleted" }) {
		t.Fatalf("second run acted on %v: want only the plain stack's table deleted", acted)
	}
	if len(second.Reprieved) != 1 || second.Reprieved[0].Table != "Wallet-j-later-table" || !strings.Contains(second.Reprieved[0].Why, "kept-stack: holds AWS::SQS::Queue") {
		t.Fatalf("reprieved %+v: want the later stack's table, naming its queue", second.Reprieved)
	}
	w.box.Receive(t, 1, 30*time.Second)
	held["Wallet-j-later"] = struct {
		others []fixture.ResourceDecl
		more   []fixture.TableDecl
		kind   string
	}{kind: "AWS::SQS::Queue"}
	checkHeld("second run", second, textOf(second))
	if !c.QueueExists(t, "j-later-ledger") || w.exists(t, "Wallet-j-plain-table") {
		t.Fatalf("the later stack's queue is gone, or the plain stack's table is still there")
	}

	// Long after: still nothing of theirs deleted, still said.
	third := w.run(t, t0.Add(48*time.Hour), contract.JanitorDelete)
	checkHeld("third run", third, textOf(third))
	if !third.Changed() {
		t.Error("a run with stacks it cannot delete says nothing")
	}
	w.box.Receive(t, 1, 30*time.Second)
}

func stackOf(r janitor.UnitReport, stack string) sweep.StackAction {
	for _, s := range r.Stacks {
		if s.Stack == stack {
			return s
		}
	}
	return sweep.StackAction{}
}

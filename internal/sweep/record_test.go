package sweep

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The ledger is never a candidate of any sweep, whatever its tags say and whatever prefix is
// given: a table named wallet-ledger tagged Project=wallet and orphaned, even with --name-prefix
// wallet, is left out and noted; a table tagged wallet:ledger under another name likewise; and a
// plan that names it anyway (made some other way) is refused by the engine.
func TestTheLedgerIsNeverACandidate(t *testing.T) {
	c := newCloud(t)
	orphaned := map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Gone"}
	c.CreateTable(t, wallet.LedgerTable, orphaned, false)
	c.CreateTable(t, "records-elsewhere", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Gone", wallet.TagLedger: wallet.LedgerTagValue}, false)
	c.CreateTable(t, "wallet-orphan", orphaned, false)

	f := Filter{NamePrefix: "wallet", OlderThan: time.Nanosecond, Now: time.Now().Add(time.Hour)}
	r := sweepOnce(t, c, f, Options{}, true, false)
	got := byTable(r)
	if _, ok := got[wallet.LedgerTable]; ok || got["records-elsewhere"].Table != "" || got["wallet-orphan"].Action != WouldDelete {
		t.Fatalf("candidates %+v: want wallet-orphan alone", r.Candidates)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "ledger of deletions") {
		t.Errorf("the notes do not say why the ledger was left out: %v", r.Notes)
	}

	// A plan that names it anyway: the engine refuses, before any call that changes it.
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), Filter{}, Options{})}, Filter{}, cost.USEast1(), true)
	p.Candidates = append(p.Candidates, Candidate{Table: wallet.LedgerTable, Region: c.Config.Region, Reasons: []Reason{Orphaned}, Action: WouldDelete,
		Identity: Identity{ARN: "arn:aws:dynamodb:" + c.lease.Region + ":" + c.lease.Account + ":table/" + wallet.LedgerTable, Created: time.Now()}})
	r = Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
	if cd := byTable(r)[wallet.LedgerTable]; cd.Action != Failed || !strings.Contains(cd.Error, "ledger of deletions") {
		t.Errorf("a forged plan's ledger: %+v", cd)
	}
	if !c.exists(t, wallet.LedgerTable) || !c.exists(t, "records-elsewhere") {
		t.Fatal("the ledger was deleted")
	}
}

// A deletion whose record cannot be written does not happen: a table deleted directly, and a
// stack with its table, are both left as they were, reported failed with why; the record is
// asked for before DeleteTable and before DeleteStack, while the table is still there to read.
func TestADeletionWhoseRecordCannotBeWrittenDoesNotHappen(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "unrecorded-orphan", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Gone"}, false)
	c.CreateStack(t, "Wallet-unrecorded", fixture.TableDecl{Name: "unrecorded-expired",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-unrecorded", wallet.TagExpiresAfter: "1s"}})
	f := Filter{Now: time.Now().Add(5 * time.Second)}
	var mu sync.Mutex
	var asked []string
	refused := Options{Record: recorderFunc(func(ctx context.Context, d ledger.Deletion) (ledger.Written, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, d.Table)
		if !c.exists(t, d.Table) {
			t.Errorf("the record of %s was asked for after it went", d.Table)
		}
		return ledger.Written{}, errors.New("the ledger refused (test)")
	})}
	r := sweepOnce(t, c, f, refused, false, true)
	for _, name := range []string{"unrecorded-orphan", "unrecorded-expired"} {
		cd := byTable(r)[name]
		if cd.Action != Failed || !strings.Contains(cd.Error, "record could not be written") || !c.exists(t, name) {
			t.Errorf("%s: %s (%s), exists %v; want failed and there", name, cd.Action, cd.Error, c.exists(t, name))
		}
	}
	if !c.stackLive(t, "Wallet-unrecorded") {
		t.Error("the stack was deleted without its table's record")
	}
	if len(asked) != 2 {
		t.Errorf("records asked for: %v", asked)
	}

	// With the real recorder, and nowhere to write (no ledger here, no directory): the same.
	rc := &ledger.Recorder{By: "sweep", Account: c.lease.Account, Count: true,
		Clients: map[string]ledger.Clients{c.Config.Region: {DynamoDB: c.DynamoDB, Scaling: applicationautoscaling.NewFromConfig(c.Config)}},
		Who:     func(ctx context.Context) (string, error) { return ledger.Caller(ctx, sts.NewFromConfig(c.Config)) }}
	r = sweepOnce(t, c, f, Options{Record: rc}, false, true)
	if cd := byTable(r)["unrecorded-orphan"]; cd.Action != Failed || !strings.Contains(cd.Error, "no ledger") || !c.exists(t, "unrecorded-orphan") {
		t.Errorf("no ledger, no directory: %+v", cd)
	}

	// Given a directory, the records are written there, then the deletions happen.
	rc.Dir = t.TempDir()
	r = sweepOnce(t, c, f, Options{Record: rc}, false, true)
	for _, name := range []string{"unrecorded-orphan", "unrecorded-expired"} {
		cd := byTable(r)[name]
		if cd.Action != Deleted || cd.RecordID == "" || !strings.HasPrefix(cd.RecordedIn, rc.Dir) || c.exists(t, name) {
			t.Errorf("%s with a record directory: %+v", name, cd)
			continue
		}
		rec, err := ledger.ReadFile(cd.RecordedIn)
		if err != nil || rec.Table != name || rec.Saved.Items != 0 || rec.Who == "" {
			t.Errorf("%s's record: %+v %v", name, rec, err)
		}
		if name == "unrecorded-expired" && (rec.Stack != "Wallet-unrecorded" || rec.LogicalID == "") {
			t.Errorf("a stack's table's record names no stack or logical id: %+v", rec)
		}
	}
}

// recorderFunc is a Recorder of one function, for a test's own refusals.
type recorderFunc func(ctx context.Context, d ledger.Deletion) (ledger.Written, error)

func (f recorderFunc) Record(ctx context.Context, d ledger.Deletion) (ledger.Written, error) {
	return f(ctx, d)
}
func (recorderFunc) NotDeleted(context.Context, ledger.Written, string) error { return nil }

// beforeDelete is a Recorder that, once the record is written, plays someone who turns
// deletion protection on (a person who just remembered the table).
type beforeDelete struct {
	*ledger.Recorder
	then func(table string)
}

func (b beforeDelete) Record(ctx context.Context, d ledger.Deletion) (ledger.Written, error) {
	w, err := b.Recorder.Record(ctx, d)
	if err == nil {
		b.then(d.Table)
	}
	return w, err
}

// A deletion written down that then does not happen (a re-check holds it back: protection was
// turned on since) gets a note beside its record, that it was not deleted and why: history says
// so, and undo does not take it.
func TestARecordedDeletionThatDidNotHappenIsNotedSo(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "noted-orphan", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Gone"}, false)
	rc := &ledger.Recorder{By: "sweep", Account: c.lease.Account, Dir: t.TempDir(),
		Clients: map[string]ledger.Clients{c.Config.Region: {DynamoDB: c.DynamoDB, Scaling: applicationautoscaling.NewFromConfig(c.Config)}},
		Who:     func(ctx context.Context) (string, error) { return ledger.Caller(ctx, sts.NewFromConfig(c.Config)) }}
	rec := beforeDelete{rc, func(table string) {
		if _, err := c.DynamoDB.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
	}}
	r := sweepOnce(t, c, Filter{}, Options{Record: rec}, false, true)
	cd := byTable(r)["noted-orphan"]
	if cd.Action != SkippedProtected || cd.RecordID == "" || !c.exists(t, "noted-orphan") {
		t.Fatalf("the held-back deletion: %+v", cd)
	}
	got := ledger.Collect(t.Context(), nil, []string{rc.Dir}, ledger.Filter{})
	if len(got.Records) != 1 || got.Records[0].ID != cd.RecordID || !strings.Contains(got.Records[0].NotDeleted, "skipped-protected") {
		t.Fatalf("the record and its note: %+v %v", got.Records, got.Problems)
	}
	// Its owner turns protection off again; the next sweep deletes it: another attempt of the
	// same deletion, a record of its own, without a note.
	if _, err := c.DynamoDB.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String("noted-orphan"), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	r = sweepOnce(t, c, Filter{}, Options{Record: rc}, false, true)
	again := byTable(r)["noted-orphan"]
	if again.Action != Deleted || again.RecordID == "" || again.RecordID == cd.RecordID {
		t.Fatalf("the next sweep: %+v (the first record %s)", again, cd.RecordID)
	}
	got = ledger.Collect(t.Context(), nil, []string{rc.Dir}, ledger.Filter{})
	notes := map[string]string{}
	for _, l := range got.Records {
		notes[l.ID] = l.NotDeleted
	}
	if len(got.Records) != 2 || notes[cd.RecordID] == "" || notes[again.RecordID] != "" {
		t.Errorf("records after the second attempt: %v", notes)
	}
}

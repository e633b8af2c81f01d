package janitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// atBackup runs hook once, just before the janitor's CreateBackup of table reaches moto: the
// narrowest window a person can hit (the re-check has already read the table). A fake only in
// timing; every call still goes to moto.
type atBackup struct {
	janitor.DynamoDB
	table string
	hook  func()
}

func (a *atBackup) CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	if a.hook != nil && aws.ToString(in.TableName) == a.table {
		a.hook()
		a.hook = nil
	}
	return a.DynamoDB.CreateBackup(ctx, in, optFns...)
}

// runAt is one run that may fail (a table changed under it is reported, and may fail the run).
func (w *world) runAt(t *testing.T, at time.Time) janitor.UnitReport {
	t.Helper()
	w.deps.Now = func() time.Time { return at }
	r, _ := janitor.Run(t.Context(), w.deps, w.config(contract.JanitorDelete))
	return only(t, r)
}

// Item 1, the janitor: the marked table is deleted and made again by another project between
// the janitor's re-check and its CreateBackup. The backup is then of the new table; the new
// table must survive, its item with it.
func TestAcceptReplacedAtCreateBackupIsNotDeleted(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "racet", ours, false)
	t0 := time.Now().UTC().Add(time.Minute)
	if got := marks(w.run(t, t0, contract.JanitorDelete)); len(got) != 1 {
		t.Fatalf("first run marked %v", got)
	}
	w.clients.DynamoDB = &atBackup{DynamoDB: w.clients.DynamoDB, table: "racet", hook: func() { w.cloud.ReplaceTable(t, "racet") }}
	r := w.runAt(t, t0.Add(2*time.Hour))
	if got := deleted(r); len(got) != 0 || !w.exists(t, "racet") {
		t.Fatalf("deleted %v (racet exists: %v): the payments table made at CreateBackup must stay\n%+v", got, w.exists(t, "racet"), r.Candidates)
	}
	if keys := w.cloud.Keys(t, "racet"); len(keys) != 1 {
		t.Fatalf("payments table keys %v, want its one item", keys)
	}
	if len(r.Candidates) != 1 || r.Candidates[0].Action != sweep.Replaced {
		t.Errorf("candidates %+v, want racet reported %s", r.Candidates, sweep.Replaced)
	}
}

// Item 2, the janitor: wallet:keep=true set while the janitor takes its backup.
func TestAcceptKeptWhileBackingUpIsNotDeleted(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "keepme", ours, false)
	t0 := time.Now().UTC().Add(time.Minute)
	w.run(t, t0, contract.JanitorDelete)
	w.clients.DynamoDB = &atBackup{DynamoDB: w.clients.DynamoDB, table: "keepme", hook: func() {
		w.setTag(t, "keepme", wallet.TagKeep, "true")
	}}
	r := w.runAt(t, t0.Add(2*time.Hour))
	if got := deleted(r); len(got) != 0 || !w.exists(t, "keepme") {
		t.Fatalf("deleted %v: a table kept during the backup must stay\n%+v", got, r.Candidates)
	}
	if len(r.Candidates) != 1 || r.Candidates[0].Action != sweep.Kept {
		t.Errorf("candidates %+v, want keepme reported %s", r.Candidates, sweep.Kept)
	}
}

// Item 3: a table of a live Wallet-dev stack (the stack says nothing of expiry) given
// ExpiresAfter=1s and a past mark on the table alone: neither the table nor its stack goes, in
// this run or the next ones.
func TestAcceptLiveStackIsNotTakenByTableTags(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateStack(t, "Wallet-dev", fixture.TableDecl{Name: "dev-table",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-dev"}})
	w.setTag(t, "dev-table", wallet.TagExpiresAfter, "1s")
	w.setTag(t, "dev-table", wallet.TagJanitorDeleteAfter, "2000-01-01T00:00:00Z")
	t0 := time.Now().UTC().Add(time.Minute)
	for i, at := range []time.Time{t0, t0.Add(2 * time.Hour), t0.Add(72 * time.Hour)} {
		r := w.runAt(t, at)
		if got := deleted(r); len(got) != 0 || !w.exists(t, "dev-table") {
			t.Fatalf("run %d deleted %v; state:\n%s", i, got, w.cloud.State(t))
		}
	}
	if st := w.cloud.State(t); !strings.Contains(st, "stack Wallet-dev CREATE_COMPLETE") {
		t.Fatalf("the live stack went:\n%s", st)
	}
}

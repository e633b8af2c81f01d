package janitor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The janitor writes every deletion down in its account's ledger before it happens: which
// table, why, who (its role), when, the backup it depends on and how many items the table held;
// the notification points at `verify undo`. Where no ledger is, nothing is deleted (a unit
// failure, which the Errors alarm counts), and the table is still there.
func TestTheJanitorWritesEachDeletionDownFirst(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	c.CreateTable(t, "recorded-orphan", ours, false)
	for _, id := range []string{"alice", "bob", "carol"} {
		if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("recorded-orphan"), Item: map[string]types.AttributeValue{
			wallet.KeyAttribute: &types.AttributeValueMemberS{Value: id}, wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: "1"}}}); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now().UTC()
	w.run(t, t0, contract.JanitorDelete)
	second := w.run(t, t0.Add(2*time.Hour), contract.JanitorDelete)
	var deleted sweep.Candidate
	for _, cd := range second.Candidates {
		if cd.Table == "recorded-orphan" {
			deleted = cd
		}
	}
	if deleted.Action != sweep.Deleted || deleted.RecordID == "" || !strings.Contains(deleted.RecordedIn, wallet.LedgerTable) {
		t.Fatalf("the deletion: %+v", deleted)
	}
	l, err := ledger.FindTable(t.Context(), c.DynamoDB, second.Account, second.Region)
	if err != nil {
		t.Fatal(err)
	}
	rec, found, err := l.Get(t.Context(), deleted.RecordID)
	if err != nil || !found {
		t.Fatalf("the record %s: %v %v", deleted.RecordID, found, err)
	}
	if rec.By != "janitor" || rec.Saved.BackupARN != deleted.BackupARN || rec.Saved.Items != 3 || rec.Who == "" ||
		rec.Config.Tags[wallet.TagJanitorDeleteAfter] == "" || !strings.Contains(rec.Detail, "mark") {
		t.Errorf("the record: by %q backup %q items %d who %q detail %q", rec.By, rec.Saved.BackupARN, rec.Saved.Items, rec.Who, rec.Detail)
	}
	if text := textOf(second); !strings.Contains(text, "verify undo") || strings.Contains(text, "restore-table-from-backup") {
		t.Errorf("the notification does not point at verify undo:\n%s", text)
	}

	// No ledger: nothing deleted.
	c.CreateTable(t, "unrecordable-orphan", ours, false)
	if _, err := c.DynamoDB.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(wallet.LedgerTable), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(wallet.LedgerTable)}); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(3 * time.Hour)
	w.run(t, t1, contract.JanitorDelete)
	w.deps.Now = func() time.Time { return t1.Add(2 * time.Hour) }
	r, err := janitor.Run(t.Context(), w.deps, w.config(contract.JanitorDelete))
	if err == nil {
		t.Fatal("a run whose deletion could not be recorded reported no failure")
	}
	for _, cd := range only(t, r).Candidates {
		if cd.Table == "unrecordable-orphan" && (cd.Action != sweep.Failed || !strings.Contains(cd.Error, "no ledger")) {
			t.Errorf("unrecordable-orphan: %s %s", cd.Action, cd.Error)
		}
	}
	if !w.exists(t, "unrecordable-orphan") {
		t.Error("a deletion no ledger recorded happened")
	}
}

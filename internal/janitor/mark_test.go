package janitor_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// signedMark is a mark made with the janitor's own key for (arn, identity, due): what a person
// holding GenerateMac on that key could write. Used to show that even a well-signed mark is
// bound to one table.
func signedMark(t *testing.T, w *world, arn, identity string, due time.Time) string {
	t.Helper()
	out, err := kms.NewFromConfig(w.cloud.Config).GenerateMac(t.Context(), &kms.GenerateMacInput{KeyId: aws.String(w.key),
		MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256, Message: mark.Message(arn, identity, due)})
	if err != nil {
		t.Fatal(err)
	}
	v, err := mark.Format(due, out.Mac)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (w *world) describe(t *testing.T, table string) *dynamodb.DescribeTableOutput {
	t.Helper()
	out, err := w.cloud.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func deleted(r janitor.UnitReport) []string {
	var out []string
	for _, c := range r.Candidates {
		if c.Action == sweep.Deleted || c.Action == sweep.Deleting {
			out = append(out, c.Table)
		}
	}
	return out
}

// The forgery: an untagged table given the project's tags and a mark dated 2000 (and
// the other values a hostile user tried) is not deleted; it is marked afresh, and announced.
func TestForgedMarksAreNeverBelieved(t *testing.T) {
	w := newWorld(t)
	forged := map[string]string{
		"payroll":   "2000-01-01T00:00:00Z",
		"zero":      "0001-01-01T00:00:00Z",
		"offset":    "2000-01-01T00:00:00+14:00",
		"fraction":  "2000-01-01T00:00:00.5Z",
		"fake-mac":  "2000-01-01T00:00:00Z/" + strings.Repeat("A", 43),
		"pre-birth": "", // a mark signed with the right key for this table, dated before it existed
	}
	for name := range forged {
		w.cloud.CreateTable(t, name, nil, false)
		w.setTag(t, name, wallet.TagProject, wallet.ProjectName)
		w.setTag(t, name, wallet.TagStack, "Wallet-nope")
	}
	d := w.describe(t, "pre-birth")
	created := aws.ToTime(d.Table.CreationDateTime)
	forged["pre-birth"] = signedMark(t, w, aws.ToString(d.Table.TableArn), created.UTC().Format(time.RFC3339Nano), created.Add(-time.Hour).Truncate(time.Second))
	for name, v := range forged {
		w.setTag(t, name, wallet.TagJanitorDeleteAfter, v)
	}

	w.grace = 0 // whatever the grace, a table is not deleted in the run that marks it
	now := time.Now().UTC().Add(time.Minute)
	r := w.run(t, now, contract.JanitorDelete)
	if got := deleted(r); len(got) != 0 {
		t.Fatalf("deleted %v on a mark the janitor did not write", got)
	}
	want := slices.Sorted(func(yield func(string) bool) {
		for n := range forged {
			if !yield(n) {
				return
			}
		}
	})
	if got := marks(r); !slices.Equal(got, want) {
		t.Fatalf("marked %v, want every forged table marked afresh: %v", got, want)
	}
	for _, m := range r.Marked {
		if m.Replaced != forged[m.Table] || m.DeleteAfter != mark.Due(now).Format(time.RFC3339) {
			t.Errorf("%s: replaced %q due %s, want %q and now + grace", m.Table, m.Replaced, m.DeleteAfter, forged[m.Table])
		}
		if v, _ := w.tag(t, m.Table, wallet.TagJanitorDeleteAfter); v == forged[m.Table] || mark.DueText(v) != m.DeleteAfter {
			t.Errorf("%s: tag %q after the run, want a fresh mark due %s", m.Table, v, m.DeleteAfter)
		}
		if !w.exists(t, m.Table) {
			t.Errorf("%s was deleted", m.Table)
		}
	}
	note := w.box.Receive(t, 1, 30*time.Second)[0]
	if !strings.Contains(note.Message, "payroll") {
		t.Errorf("the forged table was not announced: %s", note.Message)
	}

	// The janitor's own marks are believed: the next run deletes, with a backup.
	next := w.run(t, now.Add(time.Minute), contract.JanitorDelete)
	if got := deleted(next); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Fatalf("the run after the fresh marks deleted %v, want %v", got, want)
	}
}

// A mark is bound to its table: one copied from another table (signed for its ARN), or signed
// for this name but another incarnation of the table, is not honoured.
func TestACopiedMarkIsNotHonoured(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "donor", ours, false)
	w.cloud.CreateTable(t, "victim", ours, false)
	w.cloud.CreateTable(t, "reborn", ours, false)
	t0 := time.Now().UTC().Add(time.Minute)
	if got := marks(w.run(t, t0, contract.JanitorDelete)); !slices.Equal(got, []string{"donor", "reborn", "victim"}) {
		t.Fatalf("first run marked %v", got)
	}
	w.box.Receive(t, 1, 30*time.Second)

	// The donor's genuine mark, copied onto the victim after the victim was marked afresh.
	donorMark, _ := w.tag(t, "donor", wallet.TagJanitorDeleteAfter)
	w.setTag(t, "victim", wallet.TagJanitorDeleteAfter, donorMark)
	// A mark for reborn's ARN and due time, but for an earlier table of that name.
	d := w.describe(t, "reborn")
	past := t0.Add(-time.Hour).Truncate(time.Second)
	w.setTag(t, "reborn", wallet.TagJanitorDeleteAfter, signedMark(t, w, aws.ToString(d.Table.TableArn), "2001-01-01T00:00:00Z", past))

	r := w.run(t, t0.Add(2*time.Hour), contract.JanitorDelete)
	if got := deleted(r); !slices.Equal(got, []string{"donor"}) {
		t.Fatalf("deleted %v, want only the donor, whose mark is its own", got)
	}
	if got := marks(r); !slices.Equal(got, []string{"reborn", "victim"}) {
		t.Fatalf("marked %v, want the tables with copied marks marked afresh", got)
	}
	for _, m := range r.Marked {
		if m.DeleteAfter != t0.Add(2*time.Hour).Add(time.Hour).Truncate(time.Second).Format(time.RFC3339) {
			t.Errorf("%s: fresh mark due %s, want now + grace", m.Table, m.DeleteAfter)
		}
	}
}

// The honest path with grace 0: the run that marks never deletes; the next one does.
func TestMarkedThenDeletedInALaterRunEvenWithGraceZero(t *testing.T) {
	w := newWorld(t)
	w.grace = 0
	w.cloud.CreateTable(t, "orphan", ours, false)
	t0 := time.Now().UTC().Add(time.Minute)
	first := w.run(t, t0, contract.JanitorDelete)
	if got := marks(first); !slices.Equal(got, []string{"orphan"}) || len(deleted(first)) != 0 || !w.exists(t, "orphan") {
		t.Fatalf("first run: marked %v, deleted %v", got, deleted(first))
	}
	second := w.run(t, t0, contract.JanitorDelete) // same instant: due, and marked in an earlier run
	if got := deleted(second); !slices.Equal(got, []string{"orphan"}) || w.exists(t, "orphan") {
		t.Fatalf("second run deleted %v", got)
	}
}

// A mark KMS cannot check (the key is not there, or not the janitor's to use) is neither
// believed nor replaced: the table is left as it is, and the run fails so the alarm fires.
func TestAMarkThatCannotBeVerifiedDecidesNothing(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "orphan", ours, false)
	t0 := time.Now().UTC().Add(time.Minute)
	w.run(t, t0, contract.JanitorDelete)
	mark, _ := w.tag(t, "orphan", wallet.TagJanitorDeleteAfter)

	w.deps.Now = func() time.Time { return t0.Add(2 * time.Hour) }
	cfg := w.config(contract.JanitorDelete)
	cfg.MarkKey = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
	run, err := janitor.Run(t.Context(), w.deps, cfg)
	r := only(t, run)
	if err == nil || !strings.Contains(strings.Join(r.Errors, "\n"), "verify the mark of orphan") {
		t.Fatalf("err %v, errors %v: want the run to fail naming the mark it could not verify", err, r.Errors)
	}
	if now, _ := w.tag(t, "orphan", wallet.TagJanitorDeleteAfter); !w.exists(t, "orphan") || now != mark || len(r.Marked)+len(r.Reprieved) != 0 {
		t.Fatalf("unverifiable mark: exists %v, mark %q (was %q), report %+v", w.exists(t, "orphan"), now, mark, r)
	}
}

// A marked table inside someone else's live stack is reprieved with the true reason: it has
// expired, but it is not a wallet stack's to delete.
func TestForeignStackReprieveGivesTheTrueReason(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateStack(t, "BigApp", fixture.TableDecl{Name: "in-someone-elses-stack",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "BigApp", wallet.TagExpiresAfter: "1s"}})
	w.setTag(t, "in-someone-elses-stack", wallet.TagJanitorDeleteAfter, "2000-01-01T00:00:00Z")
	r := w.run(t, time.Now().UTC().Add(time.Minute), contract.JanitorDelete)
	if len(r.Reprieved) != 1 || r.Reprieved[0].Table != "in-someone-elses-stack" {
		t.Fatalf("reprieved %+v", r.Reprieved)
	}
	why := r.Reprieved[0].Why
	if strings.Contains(why, "has not expired") || !strings.Contains(why, "BigApp, which is not a wallet stack") {
		t.Errorf("reprieve reason %q, want the true one: not a wallet stack", why)
	}
	if _, marked := w.tag(t, "in-someone-elses-stack", wallet.TagJanitorDeleteAfter); marked || !w.exists(t, "in-someone-elses-stack") {
		t.Error("the table must stay, unmarked")
	}
}

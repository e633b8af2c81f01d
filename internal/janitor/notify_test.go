package janitor_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"golang.org/x/sync/errgroup"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// keptBackups is how many backups earlier runs left: at about 635 bytes of JSON each, listing
// them all would take the message past SNS's limit three times over.
const keptBackups = 1200

// With 1,200 backups kept from earlier runs, both notifications still go out through a real
// topic to a real queue (moto refuses a message over 256 KiB): the one that marks, and the one
// that deletes, which lists the backup it took in full and sums up the others. The logged
// report keeps the whole list.
func TestNotificationsFitWithManyBackupsKept(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	c.CreateTable(t, "long-gone", ours, false)
	g, ctx := errgroup.WithContext(t.Context())
	g.SetLimit(8)
	for i := range keptBackups {
		g.Go(func() error {
			// Taken as the janitor takes its own (sweep.TakeBackup): a CreateBackup whose answer a
			// broken connection lost is asked about, not sent again, so there are exactly 1,200.
			_, err := sweep.TakeBackup(ctx, c.DynamoDB, "long-gone", fmt.Sprintf("%slong-gone-%04d", wallet.JanitorBackupPrefix, i), 0)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	// long-gone is kept from here on: only the orphan is the run's business.
	w.setTag(t, "long-gone", wallet.TagKeep, "true")
	c.CreateTable(t, "orphan", ours, false)

	t0 := time.Now().UTC()
	first := w.run(t, t0, contract.JanitorDelete)
	if len(first.Marked) != 1 || len(first.JanitorBackups) != keptBackups {
		t.Fatalf("first run: marked %v, %d backups listed, want the orphan and %d", marks(first), len(first.JanitorBackups), keptBackups)
	}
	notice := receiveNotice(t, w.box)
	if notice.KeptBackups.Count != keptBackups || len(notice.Units) != 1 || len(notice.Units[0].JanitorBackups) != 0 || notice.Units[0].Marked[0].Table != "orphan" {
		t.Fatalf("first notice: %d kept, units %+v", notice.KeptBackups.Count, notice.Units)
	}

	second := w.run(t, t0.Add(2*time.Hour), contract.JanitorDelete)
	if len(second.Candidates) != 1 || second.Candidates[0].Action != sweep.Deleted {
		t.Fatalf("second run: %+v", second.Candidates)
	}
	own := second.Candidates[0].BackupARN
	var logged janitor.Report
	if err := json.Unmarshal(w.log.Bytes(), &logged); err != nil || len(logged.Units) != 1 || len(logged.Units[0].JanitorBackups) != keptBackups+1 {
		t.Fatalf("the log must keep every backup (%v): %s", err, w.log.String()[:min(500, w.log.Len())])
	}
	notice = receiveNotice(t, w.box)
	if notice.KeptBackups.Count != keptBackups+1 || notice.KeptBackups.MonthlyCostUSD != second.JanitorBackupsMonthly || len(notice.Units) != 1 ||
		len(notice.Units[0].JanitorBackups) != 1 || notice.Units[0].JanitorBackups[0].ARN != own || len(notice.Omitted)+len(notice.Units[0].Omitted) != 0 {
		t.Fatalf("second notice: kept %+v (want %d, $%.2f), units %+v (want only %s listed), omitted %v",
			notice.KeptBackups, keptBackups+1, second.JanitorBackupsMonthly, notice.Units, own, notice.Omitted)
	}
	text := janitor.Text(logged)
	for _, want := range []string{fmt.Sprintf("keeps %d backups", keptBackups+1), "Taken by this run:", own} {
		if !strings.Contains(text, want) {
			t.Errorf("email lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "arn:aws:dynamodb") > 2 { // the deleted table's line and its backup's
		t.Errorf("the email lists the kept backups:\n%.2000s", text)
	}
}

// A run so large that even its own lists overflow (thousands of tables deleted and marked,
// errors in non-ASCII text, whose bytes SNS counts, not its characters) is cut to fit: every
// list as long as fits, and each cut said ("and N more, see the log"). The message is
// measured in bytes here, and then sent through a real topic to a real queue.
func TestAHugeRunIsCutToFit(t *testing.T) {
	const n = 4000
	u := janitor.UnitReport{Account: "123456789012", Region: "eu-west-1", Report: sweep.Report{Regions: []string{"eu-west-1"}}}
	var backups []sweep.Backup
	for i := range n {
		table := fmt.Sprintf("wallet-dev-%05d", i)
		arn := fmt.Sprintf("arn:aws:dynamodb:eu-west-1:123456789012:table/%s/backup/%020d", table, i)
		u.Candidates = append(u.Candidates, sweep.Candidate{Table: table, Region: "eu-west-1", Reasons: []sweep.Reason{sweep.Orphaned},
			MonthlyCostUSD: 0.25, Action: sweep.Deleted, BackupARN: arn})
		backups = append(backups, sweep.Backup{Name: wallet.JanitorBackupPrefix + table, Table: table, Region: "eu-west-1", ARN: arn, SizeBytes: 1 << 20, MonthlyCostUSD: 0.1})
		u.Marked = append(u.Marked, janitor.Mark{Table: fmt.Sprintf("wallet-next-%05d", i), Reasons: []sweep.Reason{sweep.Expired}, DeleteAfter: "2026-12-03T12:00:00Z"})
		u.Errors = append(u.Errors, fmt.Sprintf("mark wallet-x-%05d: «refusé» ✗ %s", i, strings.Repeat("é", 40)))
	}
	for i := range keptBackups {
		backups = append(backups, sweep.Backup{Name: fmt.Sprintf("%sold-%04d", wallet.JanitorBackupPrefix, i), Table: "old", ARN: fmt.Sprintf("arn:old/%d", i), MonthlyCostUSD: 0.1})
	}
	u.SetJanitorBackups(backups)
	u.MonthlySavingsUSD = 1000
	r := janitor.Report{Mode: contract.JanitorDelete, Grace: "24h", StartedAt: time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC), Role: janitor.RoleAccount,
		Accounts: []org.Account{{ID: "123456789012", Status: org.Active, Self: true}}, Units: []janitor.UnitReport{u}}

	msg, subject := fits(t, r)
	var parts map[string]string
	if err := json.Unmarshal([]byte(msg), &parts); err != nil {
		t.Fatal(err)
	}
	var notice janitor.Notice
	if err := json.Unmarshal([]byte(parts["default"]), &notice); err != nil {
		t.Fatal(err)
	}
	got := notice.Units[0]
	for _, l := range []struct {
		name  string
		shown int
	}{{"candidates", len(got.Candidates)}, {"marked", len(got.Marked)}, {"errors", len(got.Errors)}, {"janitor_backups", len(got.JanitorBackups)}} {
		if l.shown == 0 || l.shown+got.Omitted[l.name] != n {
			t.Errorf("%s: %d shown and %d omitted, want some shown and %d in all", l.name, l.shown, got.Omitted[l.name], n)
		}
	}
	if notice.KeptBackups.Count != n+keptBackups || got.MonthlySavingsUSD != u.MonthlySavingsUSD {
		t.Errorf("the totals must stay whole: kept %+v, savings %v", notice.KeptBackups, got.MonthlySavingsUSD)
	}
	if want := fmt.Sprintf("and %d more, see the log", got.Omitted["marked"]); !strings.Contains(parts["email"], want) {
		t.Errorf("the email does not say %q", want)
	}
	// The same notice as Markdown, cut with the rest: the tables it lists as rows, the cut said.
	for _, want := range []string{"| **" + strings.ReplaceAll(got.Candidates[0].Table, "_", `\_`) + "** |",
		fmt.Sprintf("And %d more tables, see the log.", got.Omitted["candidates"]), "Marked now:"} {
		if !strings.Contains(notice.Markdown, want) {
			t.Errorf("the notice's markdown lacks %q:\n%.1500s", want, notice.Markdown)
		}
	}
	if strings.Count(notice.Markdown, "| **wallet-dev-") != len(got.Candidates) {
		t.Errorf("the markdown lists %d tables, the notice %d", strings.Count(notice.Markdown, "| **wallet-dev-"), len(got.Candidates))
	}
	publishAndReceive(t, msg, subject)
}

// The organization's notification is built by the same one builder and always fits: 100
// accounts × 3 regions × 40 tables, each unit with tables deleted, marked and failed, is cut to
// fit SNS's limit, the cut said, and delivered through a real topic to a real queue on moto.
// (The report is made here rather than by 12,000 tables in moto: what is tested is the message.)
func TestAnOrganizationsNotificationFits(t *testing.T) {
	const accounts, regions, tables = 100, 3, 40
	r := janitor.Report{Mode: contract.JanitorDelete, Grace: "24h", StartedAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC),
		Role: contract.JanitorOrgCentral, Organization: "o-abcdefghij"}
	for a := range accounts {
		id := fmt.Sprintf("%012d", 100000000000+a)
		r.Accounts = append(r.Accounts, org.Account{ID: id, Name: fmt.Sprintf("team-%03d «équipe»", a), Status: org.Active})
		for _, region := range []string{"eu-west-1", "us-east-1", "ap-south-1"}[:regions] {
			u := janitor.UnitReport{Account: id, Region: region, Report: sweep.Report{Regions: []string{region}}}
			for i := range tables {
				table := fmt.Sprintf("wallet-%s-%02d", region, i)
				switch i % 3 {
				case 0:
					u.Candidates = append(u.Candidates, sweep.Candidate{Table: table, Region: region, Account: id, Reasons: []sweep.Reason{sweep.Orphaned},
						MonthlyCostUSD: 0.57, Action: sweep.Deleted, BackupARN: fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s/backup/%020d", region, id, table, i)})
				case 1:
					u.Marked = append(u.Marked, janitor.Mark{Table: table, Reasons: []sweep.Reason{sweep.Expired}, MonthlyCostUSD: 0.57, DeleteAfter: "2026-12-07T12:00:00Z"})
				default:
					u.Candidates = append(u.Candidates, sweep.Candidate{Table: table, Region: region, Account: id, Reasons: []sweep.Reason{sweep.Orphaned},
						Action: sweep.Failed, Error: "create backup: «refusé» " + strings.Repeat("é", 30)})
				}
			}
			r.Units = append(r.Units, u)
		}
	}
	msg, subject := fits(t, r)
	var parts map[string]string
	if err := json.Unmarshal([]byte(msg), &parts); err != nil {
		t.Fatal(err)
	}
	var notice janitor.Notice
	if err := json.Unmarshal([]byte(parts["default"]), &notice); err != nil {
		t.Fatal(err)
	}
	if len(notice.Units) == 0 || len(notice.Units)+notice.Omitted["units"] != accounts*regions {
		t.Errorf("units: %d shown and %d omitted, want some shown and %d in all", len(notice.Units), notice.Omitted["units"], accounts*regions)
	}
	if !strings.Contains(parts["email"], "see the log") || !strings.Contains(subject, "organization o-abcdefghij") {
		t.Errorf("the cut is not said, or the subject does not name the organization: %q", subject)
	}
	publishAndReceive(t, msg, subject)
}

// fits builds r's message and holds it to SNS's limit, and not far below it (the cut keeps what
// fits).
func fits(t *testing.T, r janitor.Report) (msg, subject string) {
	t.Helper()
	msg, err := janitor.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	subject = janitor.Subject(r)
	if size := len(msg) + len(subject); size > janitor.MaxPublishBytes || size < janitor.MaxPublishBytes*3/4 {
		t.Fatalf("message and subject take %d bytes, want at most %d and not far below", size, janitor.MaxPublishBytes)
	}
	if len(subject) > 100 {
		t.Errorf("subject of %d characters: %q", len(subject), subject)
	}
	return msg, subject
}

func publishAndReceive(t *testing.T, msg, subject string) {
	t.Helper()
	w := newWorld(t)
	if _, err := sns.NewFromConfig(w.cloud.Config).Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(w.topic),
		Subject: aws.String(subject), Message: aws.String(msg), MessageStructure: aws.String("json")}); err != nil {
		t.Fatal(err)
	}
	got := w.box.Receive(t, 1, 30*time.Second)[0]
	var parts map[string]string
	_ = json.Unmarshal([]byte(msg), &parts)
	if got.Message != parts["default"] {
		t.Fatalf("the queue got %d bytes, not the %d of the JSON part", len(got.Message), len(parts["default"]))
	}
}

func receiveNotice(t *testing.T, box *inbox.Inbox) janitor.Notice {
	t.Helper()
	note := box.Receive(t, 1, 30*time.Second)[0]
	var n janitor.Notice
	if err := json.Unmarshal([]byte(note.Message), &n); err != nil {
		t.Fatalf("the subscriber did not get the JSON notice: %v\n%.500s", err, note.Message)
	}
	return n
}

// A table the re-check found changed just before its deletion (replaced, gone, kept, no longer
// a candidate) was not deleted and lost nothing: the email says so, and does not list it as a
// failure.
func TestChangedTablesAreNotFailures(t *testing.T) {
	u := janitor.UnitReport{Account: "123456789012", Region: "us-east-1"}
	for _, c := range []sweep.Candidate{
		{Table: "was-replaced", Action: sweep.Replaced, Notes: []string{"plan again"}},
		{Table: "was-gone", Action: sweep.Gone},
		{Table: "was-kept", Action: sweep.Kept},
		{Table: "no-longer", Action: sweep.NoLongerCandidate},
		{Table: "really-failed", Action: sweep.Failed, Error: "boom"},
	} {
		c.Reasons = []sweep.Reason{sweep.Orphaned}
		u.Candidates = append(u.Candidates, c)
	}
	r := janitor.Report{Role: janitor.RoleAccount, Accounts: []org.Account{{ID: u.Account, Status: org.Active}}, Units: []janitor.UnitReport{u}}
	text := janitor.Text(r)
	failedAt := strings.Index(text, "FAILED")
	changedAt := strings.Index(text, "Not deleted: changed since it was judged")
	if failedAt < 0 || changedAt < 0 {
		t.Fatalf("want a FAILED and a changed section:\n%s", text)
	}
	failed := text[failedAt:changedAt]
	if changedAt < failedAt {
		failed = text[failedAt:]
	}
	if !strings.Contains(failed, "really-failed") {
		t.Errorf("really-failed not under FAILED:\n%s", text)
	}
	for _, name := range []string{"was-replaced", "was-gone", "was-kept", "no-longer"} {
		if strings.Contains(failed, name) {
			t.Errorf("%s listed as a failure:\n%s", name, text)
		}
		if !strings.Contains(text[changedAt:], name) {
			t.Errorf("%s not under the changed section:\n%s", name, text)
		}
	}
}

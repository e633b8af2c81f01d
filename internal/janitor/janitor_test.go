package janitor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// world is one moto with the tables every rule is tried on, a topic and a subscriber, and the
// janitor's mark key: a real HMAC_256 KMS key in moto.
type world struct {
	cloud fixture.Cloud
	topic string
	key   string
	box   *inbox.Inbox
	deps  janitor.Deps
	// clients are the one unit's: tests wrap them to play a concurrent user.
	clients janitor.Clients
	log     *bytes.Buffer
	grace   time.Duration
}

func newWorld(t *testing.T) *world {
	t.Helper()
	localcloud.Moto(t).SetEnv(t)
	w := &world{cloud: fixture.NewCloud(t, ""), log: &bytes.Buffer{}}
	// The janitor stack's ledger: without it, no deletion is recorded, so none happens.
	w.cloud.Ledger(t)
	topic, err := sns.NewFromConfig(w.cloud.Config).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("janitor")})
	if err != nil {
		t.Fatal(err)
	}
	w.topic = aws.ToString(topic.TopicArn)
	w.key = hmacKey(t, w.cloud.Config)
	w.grace = time.Hour
	w.box = inbox.Subscribe(t, w.cloud.Config, w.topic)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.clients = janitor.NewClients(cfg)
	w.deps = janitor.Deps{Base: cfg, STS: sts.NewFromConfig(cfg), Topic: sns.NewFromConfig(cfg), Log: w.log,
		Clients: func(org.Unit) janitor.Clients { return w.clients }}
	return w
}

// hmacKey is a new HMAC_256 key, as the janitor stack declares its mark key.
func hmacKey(t *testing.T, cfg aws.Config) string {
	t.Helper()
	out, err := kms.NewFromConfig(cfg).CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac, Description: aws.String("janitor marks (test)")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.KeyMetadata.Arn)
}

// config is the single-account janitor's: the function's own account, in its own region.
func (w *world) config(mode contract.JanitorMode) janitor.Config {
	return janitor.Config{Janitor: contract.Janitor{Mode: mode, Grace: w.grace, TopicArn: w.topic, MarkKey: w.key},
		Regions: []string{w.clients.Region}}
}

// run is one scheduled run of the single-account janitor, and its one unit's report.
func (w *world) run(t *testing.T, at time.Time, mode contract.JanitorMode) janitor.UnitReport {
	t.Helper()
	w.log.Reset()
	w.deps.Now = func() time.Time { return at }
	r, err := janitor.Run(t.Context(), w.deps, w.config(mode))
	if err != nil {
		t.Fatalf("run at %s: %v\n%s", at.Format(time.RFC3339), err, w.log.String())
	}
	lines := strings.Split(strings.TrimSuffix(w.log.String(), "\n"), "\n")
	var logged janitor.Report
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &logged) != nil || len(logged.Units) != 1 || len(logged.Units[0].Marked) != len(r.Units[0].Marked) {
		t.Fatalf("the log must hold the report as one JSON line:\n%s", w.log.String())
	}
	return only(t, r)
}

// textOf is the email text of a single-account run whose one unit is u.
func textOf(u janitor.UnitReport) string {
	return janitor.Text(janitor.Report{Role: janitor.RoleAccount, Accounts: []org.Account{{ID: u.Account, Status: org.Active, Self: true}},
		Units: []janitor.UnitReport{u}})
}

// only is the one unit of a single-account run.
func only(t *testing.T, r janitor.Report) janitor.UnitReport {
	t.Helper()
	if len(r.Units) != 1 {
		t.Fatalf("a single-account run has one unit, this one %d: %+v", len(r.Units), r)
	}
	return r.Units[0]
}

func (w *world) exists(t *testing.T, table string) bool {
	t.Helper()
	return strings.Contains(w.cloud.State(t)+"\n", "table "+table+" ")
}

func (w *world) tag(t *testing.T, table, key string) (string, bool) {
	t.Helper()
	out, err := w.cloud.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	tags, err := w.cloud.DynamoDB.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: out.Table.TableArn})
	if err != nil {
		t.Fatal(err)
	}
	// moto's TagResource appends a tag whose key the table already has instead of replacing
	// it (moto 5.2.1); the last one written is the value, as on AWS.
	value, found := "", false
	for _, tg := range tags.Tags {
		if aws.ToString(tg.Key) == key {
			value, found = aws.ToString(tg.Value), true
		}
	}
	return value, found
}

func (w *world) setTag(t *testing.T, table, key, value string) {
	t.Helper()
	out, err := w.cloud.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.cloud.DynamoDB.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: out.Table.TableArn,
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}}); err != nil {
		t.Fatal(err)
	}
}

func names[T any](xs []T, name func(T) string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, name(x))
	}
	slices.Sort(out)
	return out
}

func marks(r janitor.UnitReport) []string {
	return names(r.Marked, func(m janitor.Mark) string { return m.Table })
}

var ours = map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// Every rule on moto, in three runs an hour and more apart: the first marks and deletes
// nothing; after the grace the second backs up and deletes exactly the candidates and reprieves
// what stopped qualifying; the third changes nothing and says nothing. Every decoy survives.
func TestTheJanitorsRules(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	// Candidates: an orphan with wallets in it, and an expired dev stack (through its stack).
	c.CreateTable(t, "orphan", ours, false)
	for _, id := range []string{"alice", "bob"} {
		if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("orphan"), Item: map[string]types.AttributeValue{
			wallet.KeyAttribute: &types.AttributeValueMemberS{Value: id}, wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: "12345678901234567890.5"}}}); err != nil {
			t.Fatal(err)
		}
	}
	c.CreateStack(t, "Wallet-expired", fixture.TableDecl{Name: "expired-dev",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-expired", wallet.TagExpiresAfter: "1s"}})
	// They qualify now, and stop qualifying before their time comes.
	c.CreateTable(t, "keep-later", ours, false)
	c.CreateStack(t, "Wallet-extended", fixture.TableDecl{Name: "extend-later",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-extended", wallet.TagExpiresAfter: "1s"}})
	// Decoys.
	c.CreateTable(t, "untagged", nil, false)
	c.CreateTable(t, "other-project", map[string]string{wallet.TagProject: "other", wallet.TagStack: "Gone"}, false)
	c.CreateTable(t, "kept-orphan", with(ours, wallet.TagKeep, "true"), false)
	c.CreateTable(t, "protected-orphan", ours, true)
	c.CreateStack(t, "Wallet-fresh", fixture.TableDecl{Name: "fresh-dev",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-fresh", wallet.TagExpiresAfter: "168h"}})
	c.CreateStack(t, "BigApp", fixture.TableDecl{Name: "in-someone-elses-stack",
		Tags: map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "BigApp", wallet.TagExpiresAfter: "1s"}})
	decoys := []string{"untagged", "other-project", "kept-orphan", "protected-orphan", "fresh-dev", "in-someone-elses-stack"}

	t0 := time.Now().UTC().Add(time.Minute) // past the 1s expiries
	first := w.run(t, t0, contract.JanitorDelete)
	if got := marks(first); !slices.Equal(got, []string{"expired-dev", "extend-later", "keep-later", "orphan"}) {
		t.Fatalf("first run marked %v", got)
	}
	for _, m := range first.Marked {
		if v, _ := w.tag(t, m.Table, wallet.TagJanitorDeleteAfter); mark.DueText(v) != t0.Add(time.Hour).Truncate(time.Second).Format(time.RFC3339) {
			t.Errorf("%s: mark %q, want now + grace", m.Table, v)
		}
	}
	for _, d := range decoys {
		if _, marked := w.tag(t, d, wallet.TagJanitorDeleteAfter); marked {
			t.Errorf("decoy %s was marked", d)
		}
	}
	if skipped := names(first.Candidates, func(c sweep.Candidate) string { return c.Table + ":" + string(c.Action) }); !slices.Equal(skipped, []string{"protected-orphan:skipped-protected"}) {
		t.Errorf("first run acted on %v, want only the protected orphan listed as skipped", skipped)
	}
	note := w.box.Receive(t, 1, 30*time.Second)[0]
	var sent janitor.Notice
	if err := json.Unmarshal([]byte(note.Message), &sent); err != nil || len(sent.Units) != 1 || len(sent.Units[0].Marked) != 4 {
		t.Fatalf("the subscriber did not get the JSON report: %v\n%s", err, note.Message)
	}

	// A second run right after changes nothing and says nothing.
	again := w.run(t, t0.Add(time.Minute), contract.JanitorDelete)
	if len(again.Marked)+len(again.Reprieved) != 0 || again.Changed() || len(again.Waiting) != 4 {
		t.Fatalf("a second run changed something: %+v", again)
	}
	w.box.None(t, 3*time.Second)

	// Before their time: one is kept by its owner, one's expiry is extended.
	w.setTag(t, "keep-later", wallet.TagKeep, "true")
	// A live wallet stack's table expires by its stack's ExpiresAfter: extended by a stack
	// update, as `cdk deploy -c expiresAfter=…` does (a tag on the table alone would not count).
	if _, err := c.CloudFormation.UpdateStack(t.Context(), &cloudformation.UpdateStackInput{StackName: aws.String("Wallet-extended"),
		UsePreviousTemplate: aws.Bool(true),
		Tags: []cftypes.Tag{{Key: aws.String(wallet.TagProject), Value: aws.String(wallet.ProjectName)}, {Key: aws.String(wallet.TagStack), Value: aws.String("Wallet-extended")},
			{Key: aws.String(wallet.TagExpiresAfter), Value: aws.String("3650d")}}}); err != nil {
		t.Fatal(err)
	}
	if err := cloudformation.NewStackUpdateCompleteWaiter(c.CloudFormation).Wait(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String("Wallet-extended")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	// A backup a run took earlier and that is AVAILABLE is not what the deletion may depend on:
	// the table may have been written to since. The next run takes its own.
	value, _ := w.tag(t, "orphan", wallet.TagJanitorDeleteAfter)
	at, err := time.Parse(time.RFC3339, mark.DueText(value))
	if err != nil {
		t.Fatal(err)
	}
	earlier, err := sweep.TakeBackup(t.Context(), c.DynamoDB, "orphan", sweep.BackupName(wallet.JanitorBackupPrefix, "orphan", at, sweep.NewRun()), time.Minute)
	if err != nil {
		t.Fatal(err)
	}

	second := w.run(t, t0.Add(2*time.Hour), contract.JanitorDelete)
	acted := names(second.Candidates, func(c sweep.Candidate) string { return c.Table + ":" + string(c.Action) })
	if !slices.Equal(acted, []string{"expired-dev:deleted", "orphan:deleted", "protected-orphan:skipped-protected"}) {
		t.Fatalf("second run acted on %v", acted)
	}
	reprieved := names(second.Reprieved, func(r janitor.Reprieve) string { return r.Table + ": " + r.Why })
	if !slices.Equal(reprieved, []string{"extend-later: its stack Wallet-extended is live and it has not expired", "keep-later: it is tagged wallet:keep=true"}) {
		t.Fatalf("reprieved %v", reprieved)
	}
	for _, r := range []string{"keep-later", "extend-later"} {
		if _, marked := w.tag(t, r, wallet.TagJanitorDeleteAfter); marked || !w.exists(t, r) {
			t.Errorf("%s: still marked, or gone", r)
		}
	}
	if w.exists(t, "orphan") || w.exists(t, "expired-dev") || strings.Contains(c.State(t), "stack Wallet-expired ") {
		t.Fatalf("the candidates (and the expired table's stack) must be gone:\n%s", c.State(t))
	}
	for _, d := range decoys {
		if !w.exists(t, d) {
			t.Errorf("decoy %s was deleted", d)
		}
	}
	byTable := map[string]sweep.Candidate{}
	for _, cd := range second.Candidates {
		byTable[cd.Table] = cd
	}
	if byTable["orphan"].BackupARN == earlier || byTable["orphan"].BackupARN == "" {
		t.Errorf("the orphan's deletion depended on backup %q, the one taken before it was last written could be %q: want a new one", byTable["orphan"].BackupARN, earlier)
	}
	if byTable["expired-dev"].BackupARN == "" || byTable["expired-dev"].Stack != "Wallet-expired" {
		t.Errorf("expired-dev: %+v, want a backup and its stack", byTable["expired-dev"])
	}
	if len(second.JanitorBackups) != 3 {
		t.Errorf("janitor backups %+v, want the earlier one and the two the deletions depended on", second.JanitorBackups)
	}
	note = w.box.Receive(t, 1, 30*time.Second)[0]
	for _, want := range []string{"orphan", "expired-dev", byTable["orphan"].BackupARN} {
		if !strings.Contains(note.Message, want) {
			t.Errorf("the notification does not name %s", want)
		}
	}

	// Nothing lost: the backup restores the orphan's wallets exactly.
	if _, err := c.DynamoDB.RestoreTableFromBackup(t.Context(), &dynamodb.RestoreTableFromBackupInput{
		BackupArn: aws.String(byTable["orphan"].BackupARN), TargetTableName: aws.String("orphan-restored")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("orphan-restored"), ConsistentRead: aws.Bool(true)})
	if err != nil || got.Count != 2 {
		t.Fatalf("restored %v items (%v), want 2", got, err)
	}
	for _, it := range got.Items {
		if n, ok := it[wallet.BalanceAttribute].(*types.AttributeValueMemberN); !ok || n.Value != "12345678901234567890.5" {
			t.Errorf("restored balance %v", it[wallet.BalanceAttribute])
		}
	}

	// A third run changes nothing and says nothing; the backups stay.
	third := w.run(t, t0.Add(3*time.Hour), contract.JanitorDelete)
	if third.Changed() || len(third.JanitorBackups) != 3 {
		t.Fatalf("third run: %+v", third)
	}
	w.box.None(t, 3*time.Second)
}

// Report mode marks and announces, and never deletes, however long the grace has passed.
func TestReportModeNeverDeletes(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "orphan", ours, false)
	t0 := time.Now().UTC()
	if got := marks(w.run(t, t0, contract.JanitorReport)); !slices.Equal(got, []string{"orphan"}) {
		t.Fatalf("marked %v", got)
	}
	r := w.run(t, t0.Add(48*time.Hour), contract.JanitorReport)
	if len(r.Candidates) != 1 || r.Candidates[0].Action != sweep.WouldDelete || !w.exists(t, "orphan") || !r.Changed() {
		t.Fatalf("report mode: %+v", r.Candidates)
	}
	w.box.Receive(t, 2, 30*time.Second) // the mark, then the table due
}

// A failed action is a failed run: the report is still logged, and the error (which the
// Errors alarm counts) says so. The fault is a topic that does not exist.
func TestRunFailsWhenAnActionFails(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "orphan", ours, false)
	w.deps.Now = time.Now
	missing := "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	cfg := w.config(contract.JanitorDelete)
	cfg.TopicArn = missing
	r, err := janitor.Run(t.Context(), w.deps, cfg)
	if err == nil || !strings.Contains(strings.Join(r.Errors, ";"), missing) || !strings.Contains(w.log.String(), `"orphan"`) {
		t.Fatalf("err %v, errors %v, log %q", err, r.Errors, w.log.String())
	}
}

// The email part is for people: each table, why, $/month, and when it goes or where its backup
// is; the JSON part is the report itself.
func TestTheNotification(t *testing.T) {
	r := janitor.Report{Mode: contract.JanitorDelete, Grace: "24h", StartedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Role: janitor.RoleAccount, Accounts: []org.Account{{ID: "111122223333", Status: org.Active, Self: true}},
		Units: []janitor.UnitReport{{Account: "111122223333", Region: "eu-west-1",
			Report: sweep.Report{Regions: []string{"eu-west-1"}, Candidates: []sweep.Candidate{
				{Table: "wallet-gone", Reasons: []sweep.Reason{sweep.Orphaned}, MonthlyCostUSD: 0.57, Action: sweep.Deleted, BackupARN: "arn:aws:dynamodb:eu-west-1:1:table/wallet-gone/backup/0123"},
				{Table: "wallet-locked", Reasons: []sweep.Reason{sweep.Orphaned}, Action: sweep.SkippedProtected, Protected: true},
			}},
			Marked:    []janitor.Mark{{Table: "wallet-new", Reasons: []sweep.Reason{sweep.Expired}, MonthlyCostUSD: 5.84, DeleteAfter: "2026-12-01T12:00:00Z"}},
			Reprieved: []janitor.Reprieve{{Table: "wallet-back", Why: "it is tagged wallet:keep=true"}},
		}},
	}
	text := janitor.Text(r)
	for _, want := range []string{"eu-west-1", "mode delete", "grace 24h",
		"wallet-gone (orphaned, $0.57/month); backup arn:aws:dynamodb:eu-west-1:1:table/wallet-gone/backup/0123",
		"wallet-new (expired, $5.84/month): to be backed up and deleted after 2026-12-01T12:00:00Z",
		"wallet-back: it is tagged wallet:keep=true", "wallet-locked", "deletion protection is on", "wallet:keep=true to keep it"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	msg, err := janitor.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	var parts map[string]string
	if err := json.Unmarshal([]byte(msg), &parts); err != nil || parts["email"] != text || len(parts) != 2 {
		t.Fatalf("message %s: want exactly default and email", msg)
	}
	var back janitor.Report
	if err := json.Unmarshal([]byte(parts["default"]), &back); err != nil || len(back.Units) != 1 || back.Units[0].Marked[0].Table != "wallet-new" || back.Units[0].Candidates[0].BackupARN == "" {
		t.Fatalf("default part %s does not read back as the report (%v)", parts["default"], err)
	}
	if s := janitor.Subject(r); len(s) > 100 || !strings.Contains(s, "1 marked, 1 deleted, 1 reprieved") {
		t.Errorf("subject %q", s)
	}
}

// withBackups is the run's DynamoDB client listing, besides the real backups, backups that are
// still being taken (CREATING): moto's are AVAILABLE at once, so a backup a killed run left
// behind needs this stand-in. The real answers are untouched.
type withBackups struct {
	janitor.DynamoDB
	creating []types.BackupSummary
}

func (w withBackups) ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, o ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error) {
	out, err := w.DynamoDB.ListBackups(ctx, in, o...)
	if err != nil {
		return out, err
	}
	for _, b := range w.creating {
		if in.TableName == nil || aws.ToString(in.TableName) == aws.ToString(b.TableName) {
			out.BackupSummaries = append(out.BackupSummaries, b)
		}
	}
	return out, nil
}

// A run that died while taking a backup leaves it CREATING; the next run waits for it rather
// than starting another, but only for one started for this mark (at or after its due time) and
// of this table. A week-old CREATING backup is another mark's, and is not what the deletion
// depends on.
func TestOnlyABackupStartedForThisMarkIsReused(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	c.CreateTable(t, "resumed", ours, false)
	c.CreateTable(t, "stale", ours, false)
	// The runs' clocks are after the tables' creation: a mark dated before it is never believed.
	marked := time.Now().UTC()
	first := w.run(t, marked, contract.JanitorDelete)
	if got := marks(first); !slices.Equal(got, []string{"resumed", "stale"}) {
		t.Fatalf("first run marked %v", got)
	}
	due := marked.Add(w.grace).Truncate(time.Second) // the first run's time + the grace
	now := due.Add(time.Hour)                        // the second run
	tableArn := func(name string) string {
		d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(d.Table.TableArn)
	}
	// A backup of "resumed" started after its mark fell due (a real one, listed as CREATING).
	started := sweep.BackupName(wallet.JanitorBackupPrefix, "resumed", now, sweep.NewRun())
	resumed, err := sweep.TakeBackup(t.Context(), c.DynamoDB, "resumed", started, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stale := strings.Replace(resumed, "table/resumed/", "table/stale/", 1) + "-stale"
	w.clients.DynamoDB = withBackups{w.clients.DynamoDB, []types.BackupSummary{
		{BackupArn: aws.String(resumed), BackupName: aws.String(started), TableName: aws.String("resumed"), TableArn: aws.String(tableArn("resumed")),
			BackupStatus: types.BackupStatusCreating, BackupCreationDateTime: aws.Time(due.Add(time.Minute))},
		{BackupArn: aws.String(stale), BackupName: aws.String(sweep.BackupName(wallet.JanitorBackupPrefix, "stale", due.Add(-7*24*time.Hour), sweep.NewRun())),
			TableName: aws.String("stale"), TableArn: aws.String(tableArn("stale")),
			BackupStatus: types.BackupStatusCreating, BackupCreationDateTime: aws.Time(due.Add(-7 * 24 * time.Hour))},
	}}
	second := w.run(t, now, contract.JanitorDelete)
	got := map[string]sweep.Candidate{}
	for _, cd := range second.Candidates {
		got[cd.Table] = cd
	}
	if got["resumed"].Action != sweep.Deleted || got["resumed"].BackupARN != resumed {
		t.Errorf("resumed: %s with backup %q, want deleted with the backup started for its mark %q", got["resumed"].Action, got["resumed"].BackupARN, resumed)
	}
	if got["stale"].Action != sweep.Deleted || got["stale"].BackupARN == stale || got["stale"].BackupARN == "" {
		t.Errorf("stale: %s with backup %q: want deleted with a new backup, not the week-old %q", got["stale"].Action, got["stale"].BackupARN, stale)
	}
}

// beforeBackup runs a table's change once, just before the run's CreateBackup of that table:
// the stand-in for someone acting while the janitor takes its backup. The calls go to moto
// unchanged.
type beforeBackup struct {
	janitor.DynamoDB
	mu      sync.Mutex
	changes map[string]func()
}

func (b *beforeBackup) CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	b.mu.Lock()
	change := b.changes[aws.ToString(in.TableName)]
	delete(b.changes, aws.ToString(in.TableName))
	b.mu.Unlock()
	if change != nil {
		change()
	}
	return b.DynamoDB.CreateBackup(ctx, in, o...)
}

// Between discovery and the backup a due table is re-created under its name by another project
// (with an item), another is tagged wallet:keep=true, a third is deleted by someone else: the
// janitor deletes neither of the first two, says what it found, and nothing fails (the alarm
// stays quiet).
func TestTheJanitorDeletesOnlyTheTableItJudged(t *testing.T) {
	w := newWorld(t)
	c := w.cloud
	c.CreateTable(t, "swapped", ours, false)
	c.CreateTable(t, "kept-meanwhile", ours, false)
	c.CreateTable(t, "gone-meanwhile", ours, false)
	marked := time.Now().UTC()               // after the tables' creation: a mark dated before it is never believed
	w.run(t, marked, contract.JanitorDelete) // marks all three
	now := marked.Add(w.grace + time.Hour)   // due an hour ago
	w.clients.DynamoDB = &beforeBackup{DynamoDB: w.clients.DynamoDB, changes: map[string]func(){
		"swapped":        func() { c.ReplaceTable(t, "swapped") },
		"kept-meanwhile": func() { w.setTag(t, "kept-meanwhile", wallet.TagKeep, "true") },
		// Someone else (a person, `verify sweep`) deletes it first: gone, not a failure.
		"gone-meanwhile": func() {
			if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("gone-meanwhile")}); err != nil {
				t.Error(err)
			}
		},
	}}
	r := w.run(t, now, contract.JanitorDelete)
	got := map[string]sweep.Candidate{}
	for _, cd := range r.Candidates {
		got[cd.Table] = cd
	}
	if got["swapped"].Action != sweep.Replaced || got["kept-meanwhile"].Action != sweep.Kept || got["gone-meanwhile"].Action != sweep.Gone || r.Failed() {
		t.Fatalf("swapped %+v\nkept-meanwhile %+v\ngone-meanwhile %+v\nfailed %v", got["swapped"], got["kept-meanwhile"], got["gone-meanwhile"], r.Failed())
	}
	out, err := c.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("swapped"), Select: types.SelectCount})
	if err != nil || out.Count != 1 || !w.exists(t, "kept-meanwhile") {
		t.Fatalf("the new table's item: %v (%v); kept-meanwhile exists %v", out, err, w.exists(t, "kept-meanwhile"))
	}
}

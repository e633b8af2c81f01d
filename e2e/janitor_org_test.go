package e2e

import (
	"encoding/json"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The organization's janitor, its code under the Lambda emulator: a management account and five
// members in two regions (12 units), each holding the decoys and one orphan. The scheduled
// function may take 4 units a run: it runs those and sends the other 8 through a real SQS
// queue (moto's) to the worker function, which takes them one message at a time, as an event
// source mapping with batch size 1 would. Marks and backups stay in each table's own account;
// the digest is one notification grouped by account. Every mark is signed with the central
// mark key: marks forged in a member account (a plain due time, a MAC copied from another
// table) are never honoured.
func TestJanitorOrgFanOut(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	o := fixture.NewOrg(t, "janitor", 5)
	regions := []string{"us-east-1", "eu-west-1"}
	accounts := append([]string{o.Management}, o.Members...)

	type unit struct {
		cloud  fixture.Cloud
		orphan string
		decoys []string
	}
	units := map[string]*unit{}
	// In one member account, two tables the first run leaves alone (kept), on which someone of
	// that account then forges marks: they are older than any mark, so only the MAC can refuse them.
	forgedIn := o.Members[0] + "/us-east-1"
	forgedPlain, forgedCopied := "forged-plain", "forged-copied"
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, acct := range accounts {
		for _, region := range regions {
			wg.Go(func() {
				c := fixture.NewCloud(t, region)
				if acct != o.Management {
					c = fixture.InAccount(t, acct, contract.JanitorMemberRole, region)
				}
				tag := acct[8:] + "-" + region
				u := &unit{cloud: c, orphan: "orphan-" + tag}
				// The ledgers: each member account's in each region (the member ledgers'
				// StackSet), the management account's in the janitor's own region only (its
				// janitor stack): its other region's records go there.
				if acct != o.Management || region == "us-east-1" {
					c.Ledger(t)
				}
				c.CreateTable(t, u.orphan, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
				u.decoys = []string{"not-ours-" + tag, "kept-" + tag, "protected-" + tag}
				c.CreateTable(t, u.decoys[0], map[string]string{wallet.TagProject: "other", wallet.TagStack: "Wallet-gone"}, false)
				c.CreateTable(t, u.decoys[1], map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone", wallet.TagKeep: "true"}, false)
				c.CreateTable(t, u.decoys[2], map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, true)
				if acct+"/"+region == forgedIn {
					for _, name := range []string{forgedPlain, forgedCopied} {
						c.CreateTable(t, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone", wallet.TagKeep: "true"}, false)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				units[acct+"/"+region] = u
			})
		}
	}
	wg.Wait()

	mgmt := fixture.NewCloud(t, "us-east-1")
	topic, err := sns.NewFromConfig(mgmt.Config).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("janitor-org")})
	if err != nil {
		t.Fatal(err)
	}
	box := inbox.Subscribe(t, mgmt.Config, aws.ToString(topic.TopicArn))
	// The central mark key, in the management account, as the janitor stack makes it.
	markKey, err := kms.NewFromConfig(mgmt.Config).CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(mgmt.Config)
	queue, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String("janitor-units")})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "../janitor")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the janitor: %v\n%s", err, out)
	}
	rie, err := lambdarie.BuildRIE(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		contract.EnvJanitorMode: "delete", contract.EnvJanitorGrace: "1s", contract.EnvJanitorTopicArn: aws.ToString(topic.TopicArn),
		contract.EnvJanitorOrgRegions: strings.Join(regions, ","), contract.EnvJanitorOrgQueueURL: aws.ToString(queue.QueueUrl),
		contract.EnvJanitorUnitsPerRun: "4", contract.EnvJanitorMarkKey: aws.ToString(markKey.KeyMetadata.Arn),
	}
	start := func(role string) *lambdarie.Emulator {
		fnEnv := map[string]string{contract.EnvJanitorOrg: role}
		for k, v := range env {
			fnEnv[k] = v
		}
		fn := &lambdarie.Function{Name: "WalletJanitor-" + role, Env: fnEnv, TimeoutS: 900, MemoryMB: 256, Bootstrap: bootstrap}
		emu, err := lambdarie.Start(t.Context(), fn, lambdarie.Options{RIE: rie, Env: srv.Env(), LogDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Stop() })
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s log:\n%s", role, emu.Log())
			}
		})
		return emu
	}
	central, worker := start(contract.JanitorOrgCentral), start(contract.JanitorOrgWorker)

	invoke := func(emu *lambdarie.Emulator, event []byte) janitor.Report {
		t.Helper()
		resp, err := emu.Invoke(t.Context(), event)
		var r janitor.Report
		if err != nil || resp.Status != 200 || json.Unmarshal(resp.Body, &r) != nil || r.Role == "" {
			t.Fatalf("invoke: %v %d %s", err, resp.Status, resp.Body)
		}
		return r
	}
	// drain is the event source mapping: one message a batch to the worker, deleted once the
	// worker succeeded. It returns how long each unit took.
	drain := func() []time.Duration {
		t.Helper()
		var took []time.Duration
		for {
			out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				return took
			}
			m := out.Messages[0]
			ev, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), EventSource: "aws:sqs"}}})
			began := time.Now()
			r := invoke(worker, ev)
			took = append(took, time.Since(began))
			if r.Failed() || len(r.Units) != 1 {
				t.Fatalf("worker on %s: %+v", aws.ToString(m.Body), r)
			}
			if _, err := q.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: queue.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	arnOf := func(u *unit, table string) *string {
		d, err := u.cloud.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		return d.Table.TableArn
	}
	markOf := func(u *unit, table string) string {
		tags, err := u.cloud.DynamoDB.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: arnOf(u, table)})
		if err != nil {
			t.Fatal(err)
		}
		// The last value of the key: moto's TagResource appends a key already there, where
		// DynamoDB overwrites it, and the janitor's reading (a map) takes the last one too.
		mark := ""
		for _, tg := range tags.Tags {
			if aws.ToString(tg.Key) == wallet.TagJanitorDeleteAfter {
				mark = aws.ToString(tg.Value)
			}
		}
		return mark
	}

	// First scheduled run: 4 units itself (the management account's first), 8 queued.
	first := invoke(central, scheduledEvent(time.Now()))
	if len(first.Accounts) != 6 || len(first.Units) != 4 || len(first.Queued) != 8 || first.Failed() {
		t.Fatalf("first run: %d accounts, %d units, %d queued, errors %v", len(first.Accounts), len(first.Units), len(first.Queued), first.Errors)
	}
	if first.Units[0].Account != o.Management {
		t.Errorf("the management account's units are not first: %s", first.Units[0].Account)
	}
	for _, u := range first.Units {
		if len(u.Marked) != 1 || u.Marked[0].Table != units[u.Account+"/"+u.Region].orphan {
			t.Errorf("unit %s/%s marked %+v", u.Account, u.Region, u.Marked)
		}
	}
	took := drain()
	if len(took) != 8 {
		t.Fatalf("the worker took %d units, want 8", len(took))
	}
	slices.Sort(took)
	t.Logf("one unit under the emulator (AssumeRole, discovery, mark, report): median %s, max %s", took[len(took)/2], took[len(took)-1])
	latest := ""
	for key, u := range units {
		m := markOf(u, u.orphan)
		if m == "" {
			t.Errorf("%s: orphan %s not marked", key, u.orphan)
		}
		latest = max(latest, mark.DueText(m)) // <due time>/<MAC>
		for _, d := range u.decoys {
			if markOf(u, d) != "" {
				t.Errorf("%s: decoy %s marked", key, d)
			}
		}
	}
	digest := box.Receive(t, 1, 30*time.Second)[0]
	if !strings.Contains(digest.Subject, "organization") || !strings.Contains(digest.Message, `"account":"`+o.Management+`"`) {
		t.Errorf("digest: %s\n%s", digest.Subject, digest.Message)
	}

	// The forgery, in the member account, with that account's own credentials: the kept tables
	// lose their keep tag and get a mark the central janitor never wrote for them, due as soon
	// as the genuine ones: the genuine due time alone, and the orphan's whole signed mark.
	fu := units[forgedIn]
	genuine := markOf(fu, fu.orphan)
	forged := map[string]string{forgedPlain: strings.Split(genuine, "/")[0], forgedCopied: genuine}
	for name, mark := range forged {
		arn := arnOf(fu, name)
		if _, err := fu.cloud.DynamoDB.UntagResource(t.Context(), &dynamodb.UntagResourceInput{ResourceArn: arn, TagKeys: []string{wallet.TagKeep}}); err != nil {
			t.Fatal(err)
		}
		if _, err := fu.cloud.DynamoDB.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: arn,
			Tags: []ddbtypes.Tag{{Key: aws.String(wallet.TagJanitorDeleteAfter), Value: aws.String(mark)}}}); err != nil {
			t.Fatal(err)
		}
	}

	// Once every mark is due: the scheduled run deletes its 4 units' orphans, the worker the
	// other 8, each after a backup in the table's own account.
	due, err := time.Parse(time.RFC3339, latest)
	if err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(due.Add(time.Second)) {
		time.Sleep(100 * time.Millisecond) // the grace is on the janitor's clock: let it pass
	}
	second := invoke(central, scheduledEvent(time.Now()))
	if second.Failed() || len(second.Queued) != 8 {
		t.Fatalf("second run: %+v", second)
	}
	drain()
	for key, u := range units {
		state := u.cloud.State(t) + "\n"
		if strings.Contains(state, "table "+u.orphan+" ") {
			t.Errorf("%s: orphan %s still there", key, u.orphan)
		}
		for _, d := range u.decoys {
			if !strings.Contains(state, "table "+d+" ") {
				t.Errorf("%s: decoy %s gone", key, d)
			}
		}
		// No forged mark was honoured: the tables are there, never backed up (below), marked
		// afresh by the janitor, their deletion put off to a later run.
		if key == forgedIn {
			for name, mark := range forged {
				if !strings.Contains(state, "table "+name+" ") {
					t.Errorf("%s: %s, marked %q in the member account, was deleted", key, name, mark)
				} else if m := markOf(u, name); m == mark || m == "" {
					t.Errorf("%s: %s's forged mark %q was kept (now %q)", key, name, mark, m)
				}
			}
		}
		backups, err := u.cloud.DynamoDB.ListBackups(t.Context(), &dynamodb.ListBackupsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, b := range backups.BackupSummaries {
			names = append(names, aws.ToString(b.TableName))
		}
		if !slices.Equal(names, []string{u.orphan}) {
			t.Errorf("%s: backups of %v, want only its own orphan %s", key, names, u.orphan)
		}
		// Each deletion was written down first, in its own account's ledger: the unit's region's,
		// or the janitor's own region's where the unit's has none.
		acct, region, _ := strings.Cut(key, "/")
		in := u.cloud
		if acct == o.Management && region != "us-east-1" {
			in = units[acct+"/us-east-1"].cloud
		}
		l, err := ledger.FindTable(t.Context(), in.DynamoDB, acct, in.Config.Region)
		if err != nil {
			t.Fatalf("%s: the ledger: %v", key, err)
		}
		recs := ledger.Collect(t.Context(), []ledger.Table{l}, nil, ledger.Filter{Table: u.orphan})
		if len(recs.Records) != 1 || recs.Records[0].Account != acct || recs.Records[0].Region != region || recs.Records[0].By != "janitor" {
			t.Errorf("%s: records of %s in %s: %+v %v", key, u.orphan, l.Where(), recs.Records, recs.Problems)
		}
	}
}

// The organization's janitor stack as `cdk deploy` deploys it on moto, the StackSet moto skips
// filled by cfngap.StackSets: the member role lands in every member account, trusting the
// central role within the organization; the queue and the worker's event source are there;
// and the central function is configured to run over the organization.
func TestJanitorOrgStackAsDeployed(t *testing.T) {
	e := setup(t)
	arch, err := lambdarie.Arch()
	if err != nil {
		t.Fatal(err)
	}
	o := fixture.NewOrg(t, "deployed", 2)
	roots, err := o.Client.ListRoots(t.Context(), &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	stack := wallet.JanitorStackID
	context := map[string]string{
		contract.CtxJanitorArch: string(arch), contract.CtxJanitorOrg: "true", contract.CtxJanitorOrgID: o.ID,
		contract.CtxJanitorTargets: aws.ToString(roots.Roots[0].Id), contract.CtxJanitorRegions: "us-east-1,eu-west-1",
		contract.CtxJanitorUnitsPerRun: "2",
	}
	e.deploy(t, stack, context)
	if err := cfngap.StackSets(t.Context(), e.cfg, stack); err != nil {
		t.Fatal(err)
	}
	// moto's CloudFormation makes the HMAC mark key a symmetric one: fill that in, for both
	// functions.
	filled, err := cfngap.HMACKeys(t.Context(), e.cfg, stack)
	if err != nil || len(filled) != 1 {
		t.Fatalf("mark key filled in: %v %v", filled, err)
	}
	centralRole := e.stackResource(t, stack, "AWS::IAM::Role")
	for _, acct := range o.Members {
		out, err := iam.NewFromConfig(fixture.InAccount(t, acct, "Any", "us-east-1").Config).GetRole(t.Context(), &iam.GetRoleInput{RoleName: aws.String(contract.JanitorMemberRole)})
		if err != nil {
			t.Fatalf("account %s: no member role: %v", acct, err)
		}
		trust, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if !strings.Contains(trust, ":role/"+centralRole) || !strings.Contains(trust, o.ID) {
			t.Errorf("account %s: member role trust %s", acct, trust)
		}
		// The central role's run statements, evaluated in this account: its own tables, and
		// only those tagged Project=wallet for anything that changes them.
		pol, err := iam.NewFromConfig(fixture.InAccount(t, acct, "Any", "us-east-1").Config).GetRolePolicy(t.Context(),
			&iam.GetRolePolicyInput{RoleName: aws.String(contract.JanitorMemberRole), PolicyName: aws.String("WalletJanitorRun")})
		if err != nil {
			t.Fatalf("account %s: member role policy: %v", acct, err)
		}
		// moto returns the document as Python writes it (single quotes): compared as text.
		doc, _ := url.QueryUnescape(aws.ToString(pol.PolicyDocument))
		for _, want := range []string{"ActOnWalletTables", "MarkWalletTables", "aws:ResourceTag/Project", "aws:TagKeys", ":" + acct + ":table/*"} {
			if !strings.Contains(doc, want) {
				t.Errorf("account %s: member role policy lacks %s: %s", acct, want, doc)
			}
		}
		if strings.Contains(doc, "DeleteBackup") || strings.Contains(doc, "kms:") {
			t.Errorf("account %s: member role policy %s", acct, doc)
		}
	}
	// The member ledgers' StackSet put a ledger in every member account, in each of the
	// janitor's regions, as the janitor stack declares its own.
	for _, acct := range o.Members {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			if _, err := ledger.FindTable(t.Context(), fixture.InAccount(t, acct, "Any", region).DynamoDB, acct, region); err != nil {
				t.Errorf("account %s, %s: %v", acct, region, err)
			}
		}
	}
	lc := lambda.NewFromConfig(e.cfg)
	fns, err := lc.ListFunctions(t.Context(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	roles, markKeys := map[string]string{}, map[string]bool{}
	for _, f := range fns.Functions {
		if f.Environment != nil {
			roles[f.Environment.Variables[contract.EnvJanitorOrg]] = aws.ToString(f.FunctionName)
			markKeys[f.Environment.Variables[contract.EnvJanitorMarkKey]] = true
			if q := f.Environment.Variables[contract.EnvJanitorOrgQueueURL]; q != "" {
				if _, err := sqs.NewFromConfig(e.cfg).GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q)}); err != nil {
					t.Errorf("%s: queue %s: %v", aws.ToString(f.FunctionName), q, err)
				}
			}
		}
	}
	if roles[contract.JanitorOrgCentral] == "" || roles[contract.JanitorOrgWorker] == "" {
		t.Fatalf("functions by role: %v", roles)
	}
	// One mark key for both, the HMAC key filled in: the worker checks the central run's marks.
	var newKey string
	for _, k := range filled {
		newKey = k
	}
	if len(markKeys) != 1 || !markKeys[newKey] {
		t.Errorf("the functions' mark keys %v, want the one HMAC key %s", markKeys, newKey)
	}
	maps, err := lc.ListEventSourceMappings(t.Context(), &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(roles[contract.JanitorOrgWorker])})
	if err != nil || len(maps.EventSourceMappings) != 1 || aws.ToInt32(maps.EventSourceMappings[0].BatchSize) != 1 {
		t.Errorf("worker's event source mappings: %+v %v", maps, err)
	}
}

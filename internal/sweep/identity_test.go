package sweep

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// hook runs a change once, just before the first call of one operation after it is armed. It
// is the stand-in for a concurrent user (another project re-creating a name, an owner tagging
// wallet:keep=true) acting at the worst moment; the calls themselves go to moto unchanged.
type hook struct {
	op     string
	change func()
	mu     sync.Mutex
	armed  bool
}

func (h *hook) before(op string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.armed && op == h.op {
		h.armed = false
		h.change()
	}
}

// hookedDB and hookedCFN are the real moto clients with the hook in front of the calls that
// matter: the irreversible ones, and the first read of the re-check before DeleteTable
// (ListTagsOfResource) and before DeleteStack (DescribeStacks).
type hookedDB struct {
	DynamoDB
	h *hook
}

func (d hookedDB) CreateBackup(ctx context.Context, in *dynamodb.CreateBackupInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	d.h.before("CreateBackup")
	return d.DynamoDB.CreateBackup(ctx, in, o...)
}

func (d hookedDB) UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error) {
	d.h.before("UpdateTable")
	return d.DynamoDB.UpdateTable(ctx, in, o...)
}

func (d hookedDB) ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, o ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	d.h.before("ListTagsOfResource")
	return d.DynamoDB.ListTagsOfResource(ctx, in, o...)
}

type hookedCFN struct {
	CloudFormation
	h *hook
}

func (c hookedCFN) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	c.h.before("DescribeStacks")
	return c.CloudFormation.DescribeStacks(ctx, in, o...)
}

// The changes a concurrent user makes.
func replaceTable(t *testing.T, c *cloud, name string) func() {
	return func() {
		if err := removeTable(c, name); err != nil {
			t.Error(err)
			return
		}
		c.CreateForeignTable(t, name)
	}
}

// removeTable deletes a table as its owner would, turning its protection off first.
func removeTable(c *cloud, name string) error {
	if err := setProtection(context.Background(), c.DynamoDB, name, false); err != nil {
		return err
	}
	return deleteTableAndWait(context.Background(), c.DynamoDB, name, time.Minute)
}

// extendStack extends the expiry of the table's stack (named by its Stack tag) by a stack
// update, as `cdk deploy -c expiresAfter=…` does.
func extendStack(t *testing.T, c *cloud, table string) func() {
	return func() {
		stack := "Wallet-race-stack-extended"
		if _, err := c.CloudFormation.UpdateStack(context.Background(), &cloudformation.UpdateStackInput{StackName: aws.String(stack), UsePreviousTemplate: aws.Bool(true),
			Tags: []cfntypes.Tag{{Key: aws.String("Project"), Value: aws.String("wallet")}, {Key: aws.String("Stack"), Value: aws.String(stack)},
				{Key: aws.String("ExpiresAfter"), Value: aws.String("3650d")}}}); err != nil {
			t.Error(err)
			return
		}
		if err := cloudformation.NewStackUpdateCompleteWaiter(c.CloudFormation).Wait(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, time.Minute); err != nil {
			t.Error(err)
		}
	}
}

func keepTable(t *testing.T, c *cloud, name string) func() {
	return func() { setTag(t, c, name, wallet.TagKeep, "true") }
}

func protectTable(t *testing.T, c *cloud, name string) func() {
	return func() {
		if err := setProtection(context.Background(), c.DynamoDB, name, true); err != nil {
			t.Error(err)
		}
	}
}

func dropTable(t *testing.T, c *cloud, name string) func() {
	return func() {
		if err := removeTable(c, name); err != nil {
			t.Error(err)
		}
	}
}

func setTag(t *testing.T, c *cloud, table, key, value string) {
	t.Helper()
	d, err := c.DynamoDB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DynamoDB.TagResource(context.Background(), &dynamodb.TagResourceInput{ResourceArn: d.Table.TableArn,
		Tags: []types.Tag{{Key: aws.String(key), Value: aws.String(value)}}}); err != nil {
		t.Fatal(err)
	}
}

// theNewTable reports what the name stands for now: its Project tag, its item count, and
// whether it is protected.
func theNewTable(t *testing.T, c *cloud, name string) (project string, items int32, protected bool) {
	t.Helper()
	d, err := c.DynamoDB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	tags, err := c.DynamoDB.ListTagsOfResource(context.Background(), &dynamodb.ListTagsOfResourceInput{ResourceArn: d.Table.TableArn})
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range tags.Tags {
		if aws.ToString(tg.Key) == "Project" {
			project = aws.ToString(tg.Value)
		}
	}
	s, err := c.DynamoDB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(name), Select: types.SelectCount})
	if err != nil {
		t.Fatal(err)
	}
	return project, s.Count, aws.ToBool(d.Table.DeletionProtectionEnabled)
}

// Each irreversible step re-reads the table and judges it again: a change made by someone else
// at that step (the name given to another project's table, wallet:keep=true, protection turned
// on, the table deleted) is found, and nothing but the planned table is ever deleted.
func TestATableChangedAtEachStepIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	type step struct {
		name      string
		op        string // the call the change is made just before
		backup    bool
		protected bool // planned protected, with --include-protected
		stack     bool // an expired table of a live wallet stack
	}
	steps := []step{
		{name: "backup", op: "CreateBackup", backup: true},
		{name: "unprotect", op: "UpdateTable", protected: true},
		{name: "delete", op: "ListTagsOfResource"},
		{name: "stack", op: "DescribeStacks", stack: true},
	}
	changes := []struct {
		name   string
		change func(t *testing.T, c *cloud, table string) func()
		want   Action
	}{
		{"replaced", replaceTable, Replaced},
		{"kept", keepTable, Kept},
		{"protected", protectTable, SkippedProtected},
		{"gone", dropTable, Gone},
		{"left-project", func(t *testing.T, c *cloud, table string) func() {
			return func() { setTag(t, c, table, "Project", "other") }
		}, NoLongerCandidate},
		{"extended", extendStack, NoLongerCandidate}, // a stack's expiry, by a stack update
	}
	for _, s := range steps {
		for _, ch := range changes {
			if s.protected && ch.name == "protected" || !s.stack && ch.name == "extended" {
				continue // planned protected already; only a stack's expiry is extended
			}
			t.Run(s.name+"/"+ch.name, func(t *testing.T) {
				table := "race-" + s.name + "-" + ch.name
				tags := map[string]string{"Project": "wallet", "Stack": "Gone"}
				stack := "Wallet-race-" + s.name + "-" + ch.name
				if s.stack {
					tags = map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}
					c.CreateStack(t, stack, fixture.TableDecl{Name: table, Tags: tags})
				} else {
					c.CreateTable(t, table, tags, s.protected)
				}
				h := &hook{op: s.op, change: ch.change(t, c, table)}
				cl := c.clients()
				cl.DynamoDB = hookedDB{c.DynamoDB, h}
				cl.CloudFormation = hookedCFN{c.CloudFormation, h}
				f := Filter{Now: time.Now().Add(5 * time.Second)}
				p := NewPlan([]Inventory{Survey(t.Context(), cl, f, Options{})}, f, cost.USEast1(), s.protected)
				p = p.Only(func(c Candidate) bool { return c.Table == table })
				if len(p.Candidates) != 1 || p.Candidates[0].Action != WouldDelete {
					t.Fatalf("plan: %+v", p.Candidates)
				}
				o := Options{}
				clients := map[string]RegionClients{c.Config.Region: cl}
				if s.backup {
					o.Backup = NativeBackup(clients, wallet.SweepBackupPrefix, time.Minute)
				}
				h.armed = true
				r := Act(t.Context(), p, clients, o)
				cd := byTable(r)[table]
				if h.armed {
					t.Fatalf("the change was never made: no %s call", s.op)
				}
				if cd.Action != ch.want || r.Failures() != 0 {
					t.Fatalf("%s at %s: action %s (want %s), error %q, notes %v, failures %d", ch.name, s.name, cd.Action, ch.want, cd.Error, cd.Notes, r.Failures())
				}
				if s.stack && ch.name != "gone" && !c.stackLive(t, stack) {
					t.Fatalf("stack %s was deleted", stack)
				}
				switch ch.name {
				case "replaced":
					project, items, _ := theNewTable(t, c, table)
					if project != "payments" || items != 1 || !strings.Contains(strings.Join(cd.Notes, ";"), "plan again") {
						t.Fatalf("the new table: project %q, %d items; notes %v", project, items, cd.Notes)
					}
				case "kept", "protected", "left-project":
					_, _, protected := theNewTable(t, c, table)
					if want := s.protected || ch.name == "protected"; protected != want {
						t.Fatalf("%s: protection %v, want %v (as it was found)", table, protected, want)
					}
				}
			})
		}
	}
}

func onlyTable(cands []Candidate, table string) []Candidate {
	var out []Candidate
	for _, c := range cands {
		if c.Table == table {
			out = append(out, c)
		}
	}
	return out
}

// A plan made, then the table re-created under its name by another project while the prompt
// waited: nothing of the new table is touched, with --export and --backup too.
func TestATableReplacedAfterThePlanIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "racet", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	f := Filter{}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	p = p.Only(func(c Candidate) bool { return c.Table == "racet" })
	replaceTable(t, c, "racet")()
	clients := map[string]RegionClients{c.Config.Region: c.clients()}
	dir := t.TempDir()
	o := Options{
		Export: func(ctx context.Context, _, table string) (string, error) {
			_, err := archive.Export(ctx, c.DynamoDB, table, filepath.Join(dir, table))
			return filepath.Join(dir, table), err
		},
		Backup: NativeBackup(clients, wallet.SweepBackupPrefix, time.Minute),
	}
	r := Act(t.Context(), p, clients, o)
	cd := byTable(r)["racet"]
	project, items, _ := theNewTable(t, c, "racet")
	if cd.Action != Replaced || cd.BackupARN != "" || project != "payments" || items != 1 || r.Replaced() != 1 {
		t.Fatalf("action %s, backup %q, new table project %q with %d items", cd.Action, cd.BackupARN, project, items)
	}
	if cd.SavedTo == "" || !strings.Contains(strings.Join(cd.Notes, ";"), "after its export") ||
		!strings.Contains(strings.Join(cd.Notes, ";"), cd.SavedTo+": not an export of the planned table") {
		t.Fatalf("saved to %q, notes %v: the export ran, and the re-check after it found the new table", cd.SavedTo, cd.Notes)
	}
}

// A table of a live wallet stack expires by its stack's ExpiresAfter: a tag put on the table
// alone does not take the stack with it, and the disagreement is noted.
func TestATableTagCannotExpireItsLiveStack(t *testing.T) {
	c := newCloud(t)
	c.CreateStack(t, "Wallet-dev", fixture.TableDecl{Name: "dev-wallet", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-dev"}})
	setTag(t, c, "dev-wallet", wallet.TagExpiresAfter, "1s")
	f := Filter{Now: time.Now().Add(time.Minute)}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	if cands := onlyTable(p.Candidates, "dev-wallet"); len(cands) != 0 {
		t.Fatalf("a table tag expired its live stack: %+v", cands)
	}
	if notes := strings.Join(p.Notes, "\n"); !strings.Contains(notes, `dev-wallet: tag ExpiresAfter is "1s" on the table but not set on its stack Wallet-dev`) {
		t.Fatalf("the disagreement is not noted: %v", p.Notes)
	}
}

// A CreateBackup answer of AVAILABLE without an ARN is not a backup: nothing may depend on it.
// A fake: no backend answers so.
type arnlessBackup struct{ slowBackup }

func (arnlessBackup) CreateBackup(_ context.Context, in *dynamodb.CreateBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	return &dynamodb.CreateBackupOutput{BackupDetails: &types.BackupDetails{BackupName: in.BackupName, BackupStatus: types.BackupStatusAvailable}}, nil
}

func TestAnAvailableBackupWithoutAnARNIsNoBackup(t *testing.T) {
	arn, err := TakeBackup(t.Context(), &arnlessBackup{}, "t", "wallet-sweep-t", time.Minute)
	if err == nil || !strings.Contains(err.Error(), "no backup ARN") {
		t.Fatalf("arn %q, err %v: want an error", arn, err)
	}
}

// A backup is proof only of the table its source details name. moto gives TableArn and
// TableCreationDateTime (no TableId): the planned table's backup passes, one of an earlier
// table of the same name does not, and an answer that names no source is no proof.
func TestABackupMustBeOfThePlannedTable(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "source-checked", map[string]string{"Project": "wallet"}, false)
	d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("source-checked")})
	if err != nil {
		t.Fatal(err)
	}
	planned := identityOf(d.Table)
	arn, err := TakeBackup(t.Context(), c.DynamoDB, "source-checked", "before-replace", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBackupSource(t.Context(), c.DynamoDB, arn, planned); err != nil {
		t.Fatalf("the planned table's own backup: %v", err)
	}
	replaceTable(t, c, "source-checked")()
	newArn, err := TakeBackup(t.Context(), c.DynamoDB, "source-checked", "after-replace", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckBackupSource(t.Context(), c.DynamoDB, newArn, planned); !errors.Is(err, ErrNotPlannedTable) {
		t.Fatalf("a backup of the new table passed for the planned one: %v", err)
	}
	if err := CheckBackupSource(t.Context(), &sourceless{}, arn, planned); err == nil || errors.Is(err, ErrNotPlannedTable) {
		t.Fatalf("an answer without source details: %v", err)
	}
}

// sourceless answers DescribeBackup with no source details at all. A fake: moto always has them.
type sourceless struct{ slowBackup }

func (sourceless) DescribeBackup(context.Context, *dynamodb.DescribeBackupInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error) {
	return &dynamodb.DescribeBackupOutput{BackupDescription: &types.BackupDescription{}}, nil
}

package sweep

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A stack lists a table DynamoDB did not have when it was planned (deleted by hand); by the time
// the stack is deleted, another project has made a table of that name. CloudFormation deletes by
// physical name, so DeleteStack would take it, never read, saved or judged: the stack is not
// deleted, and the new table stays. For a teardown and for a sweep (an expired stack).
func TestATableMadeUnderAStacksMissingNameIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	for _, teardown := range []bool{true, false} {
		t.Run(map[bool]string{true: "teardown", false: "sweep"}[teardown], func(t *testing.T) {
			stack := "Wallet-missing-made-" + map[bool]string{true: "t", false: "s"}[teardown]
			a, b := stack+"-a", stack+"-b"
			tags := map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}
			c.CreateStack(t, stack, fixture.TableDecl{Name: a, Tags: tags}, fixture.TableDecl{Name: b, Tags: tags})
			if err := removeTable(c, b); err != nil {
				t.Fatal(err)
			}
			var p Plan
			if teardown {
				var err error
				if p, err = PlanTeardown(t.Context(), c.clients(), stack, cost.USEast1(), TeardownOptions{}); err != nil {
					t.Fatal(err)
				}
			} else {
				f := Filter{Now: time.Now().Add(5 * time.Second)}
				p = NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
				p = p.Only(func(cd Candidate) bool { return cd.Stack == stack })
			}
			if len(p.Stacks) != 1 || p.Stacks[0].Action != WouldDelete {
				t.Fatalf("plan: stacks %+v", p.Stacks)
			}
			c.CreateForeignTable(t, b)
			r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
			if !c.exists(t, b) || !c.exists(t, a) || !c.stackLive(t, stack) {
				t.Fatalf("deleted with the stack: table %s %v (made since the plan), table %s %v, stack %v; stacks %+v, candidates %+v",
					b, c.exists(t, b), a, c.exists(t, a), c.stackLive(t, stack), r.Stacks, r.Candidates)
			}
			if r.Stacks[0].Action != Failed || !strings.Contains(r.Stacks[0].Error, "did not exist when planned") {
				t.Fatalf("stack %+v", r.Stacks[0])
			}
		})
	}
}

// A stack whose template is not JSON (YAML) gives no deletion policies, so a teardown counts
// every table as one DeleteStack deletes; with --include-protected it turns a protected table's
// protection off. CloudFormation then keeps it (DeletionPolicy Retain): the table stays,
// retained, and must get its protection back, as it was found.
func TestARetainedTableGetsItsProtectionBack(t *testing.T) {
	c := newCloud(t)
	stack, table := "Wallet-yaml-retained", "yaml-retained"
	body := `Resources:
  Table0:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Retain
    UpdateReplacePolicy: Retain
    Properties:
      TableName: ` + table + `
      DeletionProtectionEnabled: true
      KeySchema: [{AttributeName: ` + wallet.KeyAttribute + `, KeyType: HASH}]
      AttributeDefinitions: [{AttributeName: ` + wallet.KeyAttribute + `, AttributeType: ` + wallet.KeyType + `}]
      BillingMode: PAY_PER_REQUEST
      Tags: [{Key: Project, Value: wallet}, {Key: Stack, Value: ` + stack + `}]
`
	if _, err := c.CloudFormation.CreateStack(t.Context(), &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	if err := cloudformation.NewStackCreateCompleteWaiter(c.CloudFormation).Wait(t.Context(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	p, err := PlanTeardown(t.Context(), c.clients(), stack, cost.USEast1(), TeardownOptions{IncludeProtected: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Candidates) != 1 || p.Candidates[0].Action != WouldDelete || !p.Candidates[0].Protected {
		t.Fatalf("plan: %+v", p.Candidates)
	}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
	cd := byTable(r)[table]
	if !c.exists(t, table) {
		t.Fatalf("moto deleted the retained table: %+v", cd)
	}
	_, _, protected := theNewTable(t, c, table)
	if cd.Action != Retained || !protected {
		t.Fatalf("action %s, protection now %v (want retained, on again); notes %v", cd.Action, protected, cd.Notes)
	}
}

// stackHookCFN runs the hook before DescribeStacks of one stack only.
type stackHookCFN struct {
	CloudFormation
	stack string
	h     *hook
}

func (c stackHookCFN) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	if aws.ToString(in.StackName) == c.stack {
		c.h.before("DescribeStacks")
	}
	return c.CloudFormation.DescribeStacks(ctx, in, o...)
}

// The re-check before DeleteTable reads the stack the table's tags name. When that is not the
// stack named at the plan (the Stack tag changed meanwhile), the read must still come before the
// table's description, not between it and DeleteTable: a table re-created during that read is
// otherwise deleted on the strength of its predecessor's description. The hook (the stand-in
// for a concurrent user) re-creates the table when that stack is read.
func TestNoStackReadComesBetweenTheTablesLastReadAndDeleteTable(t *testing.T) {
	c := newCloud(t)
	table := "retagged-orphan"
	c.CreateTable(t, table, map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	f := Filter{}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	p = p.Only(func(cd Candidate) bool { return cd.Table == table })
	if len(p.Candidates) != 1 || p.Candidates[0].Action != WouldDelete {
		t.Fatalf("plan: %+v", p.Candidates)
	}
	setTag(t, c, table, wallet.TagStack, "Gone-too") // still orphaned: still a candidate
	h := &hook{op: "DescribeStacks", change: replaceTable(t, c, table), armed: true}
	cl := c.clients()
	cl.CloudFormation = stackHookCFN{c.CloudFormation, "Gone-too", h}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	cd := byTable(r)[table]
	if h.armed {
		t.Fatal("the stack the new tag names was never read")
	}
	if !c.exists(t, table) {
		t.Fatalf("the table made during the stack's read was deleted: %+v", cd)
	}
	if project, items, _ := theNewTable(t, c, table); project != "payments" || items != 1 || cd.Action != Replaced {
		t.Fatalf("action %s (want replaced); the table now: project %q, %d items", cd.Action, project, items)
	}
}

// remakesAfterDelete is moto's DynamoDB with a concurrent user who, as soon as DeleteTable has
// removed the table, makes another project's table of the same name: only a hook can put that
// between DeleteTable and the wait that follows it.
type remakesAfterDelete struct {
	DynamoDB
	t *testing.T
	c *cloud
}

func (d remakesAfterDelete) DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	out, err := d.DynamoDB.DeleteTable(ctx, in, o...)
	if err == nil {
		if err := dynamodb.NewTableNotExistsWaiter(d.DynamoDB).Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, time.Minute); err != nil {
			d.t.Error(err)
		}
		d.c.CreateForeignTable(d.t, aws.ToString(in.TableName))
	}
	return out, err
}

// The planned table deleted and, before the wait for it to be gone, the name given to another
// table: the planned table is deleted (not failed, not waited on until the timeout), and the new
// table is untouched.
func TestATableRemadeDuringTheWaitIsDeletedNotFailed(t *testing.T) {
	c := newCloud(t)
	table := "remade-during-wait"
	c.CreateTable(t, table, map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	cl := c.clients()
	cl.DynamoDB = remakesAfterDelete{c.DynamoDB, t, c}
	f := Filter{}
	p := NewPlan([]Inventory{Survey(t.Context(), cl, f, Options{})}, f, cost.USEast1(), false)
	p = p.Only(func(cd Candidate) bool { return cd.Table == table })
	// A bound, not a timing assertion: without it a wait on the new table lasts 15 minutes.
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{WaitTimeout: 20 * time.Second})
	cd := byTable(r)[table]
	if cd.Action != Deleted || r.Failures() != 0 {
		t.Fatalf("action %s (want deleted), error %q, notes %v", cd.Action, cd.Error, cd.Notes)
	}
	if project, items, _ := theNewTable(t, c, table); project != "payments" || items != 1 {
		t.Fatalf("the new table: project %q, %d items", project, items)
	}
}

// nthTags runs change just before the nth ListTagsOfResource: the first read of the nth re-check.
type nthTags struct {
	DynamoDB
	n      int
	calls  *int
	change func()
}

func (d nthTags) ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, o ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	if *d.calls++; *d.calls == d.n {
		d.change()
	}
	return d.DynamoDB.ListTagsOfResource(ctx, in, o...)
}

// A teardown with --include-protected turns protection off table by table. When the second
// table turns out replaced, the stack stays, and the first table, whose protection is already
// off, is still the planned table: it gets its protection back. The hook (a concurrent user)
// re-creates the second table just before its re-check.
func TestAStackMateOfAReplacedTableGetsItsProtectionBack(t *testing.T) {
	c := newCloud(t)
	stack := "Wallet-mates"
	tags := map[string]string{"Project": "wallet", "Stack": stack}
	c.CreateStack(t, stack, fixture.TableDecl{Name: "mates-a", Tags: tags, Protected: true}, fixture.TableDecl{Name: "mates-b", Tags: tags, Protected: true})
	p, err := PlanTeardown(t.Context(), c.clients(), stack, cost.USEast1(), TeardownOptions{IncludeProtected: true})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.clients()
	calls := 0
	cl.DynamoDB = nthTags{c.DynamoDB, 2, &calls, replaceTable(t, c, "mates-b")}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	got := byTable(r)
	if calls < 2 || got["mates-b"].Action != Replaced || !c.stackLive(t, stack) {
		t.Fatalf("calls %d; candidates %+v", calls, r.Candidates)
	}
	if _, _, protected := theNewTable(t, c, "mates-a"); !protected {
		t.Fatalf("mates-a stays, still the planned table, with its protection off: %+v", got["mates-a"])
	}
}

// updatedTemplate answers GetTemplate with body: an in-place stack update as CloudFormation
// would make it. A fake in front of moto, whose UpdateStack drops a table whose DeletionPolicy
// changes instead of updating it.
type updatedTemplate struct {
	CloudFormation
	body *string
}

func (c updatedTemplate) GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, o ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error) {
	if *c.body != "" {
		return &cloudformation.GetTemplateOutput{TemplateBody: c.body}, nil
	}
	return c.CloudFormation.GetTemplate(ctx, in, o...)
}

// A teardown without --delete-retained plans to leave a Retain table in place. A stack update
// while the prompt waits (the same tables, that one's DeletionPolicy now Delete) would make
// DeleteStack take it: the stack is not the one planned, and is not deleted.
func TestAStackWhosePoliciesChangedSinceThePlanIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	stack, table := "Wallet-policy-changed", "policy-changed"
	decl := fixture.TableDecl{Name: table, Retain: true, Tags: map[string]string{"Project": "wallet", "Stack": stack}}
	c.CreateStack(t, stack, decl)
	cl := c.clients()
	updated := ""
	cl.CloudFormation = updatedTemplate{c.CloudFormation, &updated}
	p, err := PlanTeardown(t.Context(), cl, stack, cost.USEast1(), TeardownOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cd := p.Candidates[0]; cd.Action != WouldRetain {
		t.Fatalf("plan: %+v", cd)
	}
	decl.Retain = false
	updated = fixture.Template(decl)
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	if !c.stackLive(t, stack) || r.Stacks[0].Action != Failed || !strings.Contains(r.Stacks[0].Error, "deletion policies changed") {
		t.Fatalf("stack %+v, candidates %+v", r.Stacks[0], r.Candidates)
	}
}

// callHooks runs changes[n] just before the nth ListTagsOfResource after it is armed.
type callHooks struct {
	DynamoDB
	calls   *int
	changes map[int]func()
}

func (d callHooks) ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, o ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	if *d.calls >= 0 {
		*d.calls++
		if ch := d.changes[*d.calls]; ch != nil {
			ch()
		}
	}
	return d.DynamoDB.ListTagsOfResource(ctx, in, o...)
}

// A stack's table found gone by the re-check before DeleteStack, then made again by another
// project while the stack's next table is re-checked: DeleteStack would take the new table,
// unread. The hooks (a concurrent user) drop the first table just before its re-check and make
// the new one just before the second table's.
func TestAStacksTableGoneThenMadeAgainStopsDeleteStack(t *testing.T) {
	c := newCloud(t)
	stack := "Wallet-gone-made"
	tags := map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}
	c.CreateStack(t, stack, fixture.TableDecl{Name: "gone-made-1", Tags: tags}, fixture.TableDecl{Name: "gone-made-2", Tags: tags})
	cl := c.clients()
	calls := -1
	cl.DynamoDB = callHooks{c.DynamoDB, &calls, map[int]func(){
		1: dropTable(t, c, "gone-made-1"),
		2: func() { c.CreateForeignTable(t, "gone-made-1") },
	}}
	f := Filter{Now: time.Now().Add(5 * time.Second)}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	p = p.Only(func(cd Candidate) bool { return cd.Stack == stack })
	if len(p.Stacks) != 1 || p.Stacks[0].Action != WouldDelete {
		t.Fatalf("plan: stacks %+v", p.Stacks)
	}
	calls = 0
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	if calls < 2 {
		t.Fatalf("%d re-checks: the hooks did not run", calls)
	}
	if !c.exists(t, "gone-made-1") {
		t.Fatalf("the table made again was deleted with the stack: stacks %+v, candidates %+v", r.Stacks, r.Candidates)
	}
	if project, items, _ := theNewTable(t, c, "gone-made-1"); project != "payments" || items != 1 || !c.stackLive(t, stack) {
		t.Fatalf("the new table: project %q, %d items; stack live %v", project, items, c.stackLive(t, stack))
	}
}

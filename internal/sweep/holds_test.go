package sweep

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// walletKinds are resources of kinds a wallet stack declares (the verify policy, the deploy
// check's log group), as moto's CloudFormation makes them.
func walletKinds(prefix string) []fixture.ResourceDecl {
	return []fixture.ResourceDecl{
		{LogicalID: "VerifyPolicy", Type: wallet.ResourceManagedPolicy, Properties: map[string]any{
			"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}}}}},
		{LogicalID: "CheckLogs", Type: wallet.ResourceLogGroup, Properties: map[string]any{"LogGroupName": prefix + "-check-logs"}},
	}
}

// heldCase is an expired wallet stack holding, beside its wallet table, what others declares
// and tables more; held is the kind of resource that must keep it, "" for none.
type heldCase struct {
	name   string
	others []fixture.ResourceDecl
	more   []fixture.TableDecl
	held   string
	heldID string // the held resource's logical id
}

func heldCases(prefix string) []heldCase {
	return []heldCase{
		{name: "queue", others: []fixture.ResourceDecl{fixture.Queue("Ledger", prefix+"-payroll-ledger")}, held: "AWS::SQS::Queue", heldID: "Ledger"},
		{name: "bucket", others: []fixture.ResourceDecl{fixture.Bucket("Files", prefix+"-payroll-files")}, held: "AWS::S3::Bucket", heldID: "Files"},
		// The stack's tags are the ones its tables share: ExpiresAfter, not Project.
		{name: "untagged-table", more: []fixture.TableDecl{{LogicalID: "Payroll", Name: prefix + "-payroll",
			Tags: map[string]string{"Stack": "Wallet-" + prefix + "-untagged-table", "ExpiresAfter": "1s"}}},
			held: wallet.ResourceTable, heldID: "Payroll"},
		{name: "wallet-kinds", others: walletKinds(prefix)},
	}
}

// An expired Wallet-* stack that also holds an SQS queue, an S3 bucket or a table not tagged
// Project=wallet is not deleted, by a dry run's plan nor by --yes: the plan and the report name
// the resource that kept it (its kind, physical and logical id), its tables are kept, and the
// queue, the bucket and the table are still there after. A stack holding only what a wallet
// stack declares goes, as before.
func TestAnExpiredStackHoldingWhatNoOneJudgedIsKept(t *testing.T) {
	c := newCloud(t)
	tok := c.lease.Token // the queue and bucket names: moto keeps S3 bucket names across accounts
	cases := heldCases(tok)
	for _, hc := range cases {
		stack := "Wallet-" + tok + "-" + hc.name
		tables := append([]fixture.TableDecl{{LogicalID: "Table", Name: stack + "-table",
			Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}}}, hc.more...)
		c.CreateStackWith(t, stack, hc.others, tables...)
	}
	f := Filter{Now: time.Now().Add(5 * time.Second)}
	for _, yes := range []bool{false, true} {
		r := sweepOnce(t, c, f, Options{}, false, yes)
		stacks := map[string]StackAction{}
		for _, s := range r.Stacks {
			stacks[s.Stack] = s
		}
		var text strings.Builder
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, hc := range cases {
			stack := "Wallet-" + tok + "-" + hc.name
			s, cd := stacks[stack], byTable(r)[stack+"-table"]
			if hc.held == "" {
				want := map[bool]Action{false: WouldDelete, true: Deleted}[yes]
				if s.Action != want || cd.Action != want || len(s.KeptBy) != 0 {
					t.Errorf("yes=%v %s: stack %+v, table %+v; want both %s", yes, hc.name, s, cd, want)
				}
				continue
			}
			if s.Action != Kept || len(s.KeptBy) != 1 || s.KeptBy[0].Type != hc.held || s.KeptBy[0].LogicalID != hc.heldID || s.KeptBy[0].PhysicalID == "" {
				t.Errorf("yes=%v %s: stack %+v: want kept, by the %s %s", yes, hc.name, s, hc.held, hc.heldID)
			}
			note := "kept-stack: holds " + hc.held + " "
			if cd.Action != Kept || !strings.Contains(strings.Join(cd.Notes, ";"), note) {
				t.Errorf("yes=%v %s: table %+v: want kept, with a note %q", yes, hc.name, cd, note)
			}
			if !strings.Contains(text.String(), "Stack "+stack+" ("+c.Config.Region+"): kept: "+note) {
				t.Errorf("yes=%v %s: the text report does not say what kept the stack:\n%s", yes, hc.name, text.String())
			}
			if !strings.Contains(string(js), `"kept_by":[{"type":"`+hc.held+`","logical_id":"`+hc.heldID+`"`) {
				t.Errorf("yes=%v %s: the JSON report does not name what kept the stack: %s", yes, hc.name, js)
			}
			if !c.stackLive(t, stack) || !c.exists(t, stack+"-table") {
				t.Errorf("yes=%v %s: the stack (live %v) or its wallet table was deleted", yes, hc.name, c.stackLive(t, stack))
			}
		}
		if !strings.Contains(text.String(), "Not deleted: 3 tables, kept with a stack that holds what no one judged") || strings.Contains(text.String(), "Changed since the plan") {
			t.Errorf("yes=%v: the summary does not say why the tables stay:\n%s", yes, text.String())
		}
		if _, listed := byTable(r)[tok+"-payroll"]; listed {
			t.Errorf("yes=%v: the untagged table is a candidate: %+v", yes, byTable(r)[tok+"-payroll"])
		}
		if r.Failures() != 0 {
			t.Errorf("yes=%v: a kept stack is not a failure: %d", yes, r.Failures())
		}
	}
	if !c.QueueExists(t, tok+"-payroll-ledger") || !c.BucketExists(t, tok+"-payroll-files") || !c.exists(t, tok+"-payroll") {
		t.Fatalf("what the kept stacks held: queue %v, bucket %v, untagged table %v; want all still there",
			c.QueueExists(t, tok+"-payroll-ledger"), c.BucketExists(t, tok+"-payroll-files"), c.exists(t, tok+"-payroll"))
	}
	if c.stackLive(t, "Wallet-"+tok+"-wallet-kinds") || c.exists(t, "Wallet-"+tok+"-wallet-kinds-table") {
		t.Fatal("the stack holding only what a wallet stack declares was not deleted")
	}
}

// Between the plan and DeleteStack, someone updates the stack to hold a queue too: the stack is
// not deleted, the report says what it now holds, and the queue and the table are still there.
// The update comes at the first read of Act's check before DeleteStack (DescribeStacks), and at
// the re-check of its table after that (ListTagsOfResource): the resources are read again last,
// just before DeleteStack. The hook is the concurrent user.
func TestAResourceAddedToTheStackAfterThePlanKeepsItsStack(t *testing.T) {
	c := newCloud(t)
	for _, op := range []string{"DescribeStacks", "ListTagsOfResource"} {
		t.Run(op, func(t *testing.T) {
			stack := "Wallet-added-" + strings.ToLower(op)
			decl := fixture.TableDecl{LogicalID: "Table", Name: stack + "-table", Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}}
			c.CreateStack(t, stack, decl)
			f := Filter{Now: time.Now().Add(5 * time.Second)}
			p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
			p = p.Only(func(cd Candidate) bool { return cd.Stack == stack })
			if len(p.Stacks) != 1 || p.Stacks[0].Action != WouldDelete {
				t.Fatalf("plan: stacks %+v", p.Stacks)
			}
			queue := stack + "-ledger"
			h := &hook{op: op, armed: true, change: func() {
				c.UpdateStack(t, stack, []fixture.ResourceDecl{fixture.Queue("Ledger", queue)}, decl)
			}}
			cl := c.clients()
			cl.DynamoDB = hookedDB{c.DynamoDB, h}
			cl.CloudFormation = hookedCFN{c.CloudFormation, h}
			r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
			if h.armed {
				t.Fatalf("the stack was never updated: no %s", op)
			}
			if !c.stackLive(t, stack) || !c.QueueExists(t, queue) || !c.exists(t, decl.Name) {
				t.Fatalf("deleted: stack live %v, queue %v, table %v; stacks %+v", c.stackLive(t, stack), c.QueueExists(t, queue), c.exists(t, decl.Name), r.Stacks)
			}
			if s := r.Stacks[0]; s.Action != Failed || !strings.Contains(s.Error, "now also holds AWS::SQS::Queue") || !strings.Contains(s.Error, "plan again") {
				t.Fatalf("stack %+v: want not deleted, naming the queue it now holds", s)
			}
		})
	}
}

// A sweep takes a stack's other table (same-stack) only while it is ours itself: one whose
// Project tag is taken off at the re-check before DeleteStack holds the stack back. The stack is
// made with its wallet table, then updated to hold a second one; the sweep's clock is set so
// that only the first has expired (the second goes because its stack does).
func TestAStackMateNoLongerOursIsNotDeletedWithItsStack(t *testing.T) {
	c := newCloud(t)
	stack := "Wallet-mate-left"
	tags := map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1h"}
	first := fixture.TableDecl{LogicalID: "First", Name: "mate-left-first", Tags: tags}
	second := fixture.TableDecl{LogicalID: "Second", Name: "mate-left-second", Tags: tags}
	c.CreateStack(t, stack, first)
	created := func(table string) time.Time {
		d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToTime(d.Table.CreationDateTime)
	}
	time.Sleep(10 * time.Millisecond) // the second table's creation must come after the clock below
	c.UpdateStack(t, stack, nil, first, second)
	f := Filter{Now: created(first.Name).Add(time.Hour + time.Millisecond)}
	if !created(second.Name).Add(time.Hour).After(f.Now) {
		t.Fatalf("the second table was made too soon after the first (%s, %s)", created(first.Name), created(second.Name))
	}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	p = p.Only(func(cd Candidate) bool { return cd.Stack == stack })
	if got := byTable(p.DryRun()); len(p.Stacks) != 1 || p.Stacks[0].Action != WouldDelete || got[second.Name].Reasons[0] != SameStack {
		t.Fatalf("plan: stacks %+v, candidates %+v", p.Stacks, p.Candidates)
	}
	cl := c.clients()
	calls := -1
	cl.DynamoDB = callHooks{c.DynamoDB, &calls, map[int]func(){2: func() { setTag(t, c, second.Name, "Project", "payroll") }}}
	calls = 0
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	if calls < 2 || !c.stackLive(t, stack) || !c.exists(t, second.Name) || !c.exists(t, first.Name) {
		t.Fatalf("%d re-checks; stack live %v; stacks %+v, candidates %+v", calls, c.stackLive(t, stack), r.Stacks, r.Candidates)
	}
	if cd := byTable(r)[second.Name]; cd.Action != NoLongerCandidate || !strings.Contains(strings.Join(cd.Notes, ";"), "no longer tagged Project=wallet") {
		t.Fatalf("the second table: %+v", cd)
	}
}

// verify teardown --stack deletes the named stack with its tables whatever their tags, but not
// a stack that holds a resource of a kind a wallet stack does not declare: it is kept, the plan
// and the report say which resource kept it, and nothing is deleted.
func TestATeardownKeepsAStackHoldingWhatAWalletStackDoesNotDeclare(t *testing.T) {
	c := newCloud(t)
	tok := c.lease.Token // the queue and bucket names: moto keeps S3 bucket names across accounts
	for _, hc := range heldCases(tok) {
		t.Run(hc.name, func(t *testing.T) {
			stack := "Wallet-" + tok + "-" + hc.name
			table := stack + "-table"
			tables := append([]fixture.TableDecl{{LogicalID: "Table", Name: table, Tags: map[string]string{"Project": "wallet", "Stack": stack}}}, hc.more...)
			c.CreateStackWith(t, stack, hc.others, tables...)
			p, err := PlanTeardown(t.Context(), c.clients(), stack, cost.USEast1(), TeardownOptions{})
			if err != nil {
				t.Fatal(err)
			}
			r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: c.clients()}, Options{})
			s := r.Stacks[0]
			// A teardown takes the tables of the stack it names, tagged or not: they are in its
			// plan by name. Only what its plan would not name holds the stack.
			if hc.held == "" || hc.held == wallet.ResourceTable {
				if s.Action != Deleted || c.stackLive(t, stack) || c.exists(t, table) {
					t.Fatalf("stack %+v: want deleted, with its tables", s)
				}
				return
			}
			if s.Action != Kept || len(s.KeptBy) != 1 || s.KeptBy[0].Type != hc.held || !strings.Contains(s.Error, "kept-stack: holds "+hc.held) {
				t.Fatalf("stack %+v: want kept, by the %s", s, hc.held)
			}
			if cd := byTable(r)[table]; cd.Action != Kept || len(r.LeftBilling()) != 1 {
				t.Fatalf("table %+v, left billing %d: want kept, left billing", cd, len(r.LeftBilling()))
			}
			if !c.stackLive(t, stack) || !c.exists(t, table) {
				t.Fatalf("stack live %v, table %v: nothing may be deleted", c.stackLive(t, stack), c.exists(t, table))
			}
		})
	}
	if !c.QueueExists(t, tok+"-payroll-ledger") || !c.BucketExists(t, tok+"-payroll-files") {
		t.Fatal("the queue or the bucket was deleted")
	}
}

// updatingCFN answers DescribeStacks for the stack as CloudFormation does while an update is
// being carried out. A fake in front of moto: moto carries out an update within the call, so
// it never shows a stack UPDATE_IN_PROGRESS.
type updatingCFN struct {
	CloudFormation
	stack string
}

func (c updatingCFN) DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, o ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	out, err := c.CloudFormation.DescribeStacks(ctx, in, o...)
	if err == nil && aws.ToString(in.StackName) == c.stack {
		for i := range out.Stacks {
			out.Stacks[i].StackStatus = cfntypes.StackStatusUpdateInProgress
		}
	}
	return out, err
}

// A stack CloudFormation is updating when it would be deleted is not deleted: what it will hold
// is not known yet (a resource it is about to create is in no listing).
func TestAStackBeingUpdatedIsNotDeleted(t *testing.T) {
	c := newCloud(t)
	stack := "Wallet-being-updated"
	decl := fixture.TableDecl{Name: "being-updated", Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}}
	c.CreateStack(t, stack, decl)
	f := Filter{Now: time.Now().Add(5 * time.Second)}
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), f, Options{})}, f, cost.USEast1(), false)
	if len(p.Stacks) != 1 || p.Stacks[0].Action != WouldDelete {
		t.Fatalf("plan: stacks %+v", p.Stacks)
	}
	cl := c.clients()
	cl.CloudFormation = updatingCFN{c.CloudFormation, stack}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	if s := r.Stacks[0]; !c.stackLive(t, stack) || !c.exists(t, decl.Name) || s.Action != Failed || !strings.Contains(s.Error, "being changed (status UPDATE_IN_PROGRESS)") {
		t.Fatalf("stack live %v, table %v; stack %+v", c.stackLive(t, stack), c.exists(t, decl.Name), s)
	}
}

// pagedResources answers ListStackResources one resource a page, as CloudFormation pages a
// large stack. A stand-in in front of moto, which answers every stack in one page.
type pagedResources struct{ CloudFormation }

func (c pagedResources) ListStackResources(ctx context.Context, in *cloudformation.ListStackResourcesInput, o ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	all, err := c.CloudFormation.ListStackResources(ctx, &cloudformation.ListStackResourcesInput{StackName: in.StackName}, o...)
	if err != nil || all.NextToken != nil {
		return all, err
	}
	i := 0
	if in.NextToken != nil {
		i = len(aws.ToString(in.NextToken))
	}
	out := &cloudformation.ListStackResourcesOutput{}
	if i < len(all.StackResourceSummaries) {
		out.StackResourceSummaries = all.StackResourceSummaries[i : i+1]
	}
	if i+1 < len(all.StackResourceSummaries) {
		out.NextToken = aws.String(strings.Repeat(".", i+1))
	}
	return out, nil
}

// What a stack holds is read from every ListStackResources page: a queue on the last page keeps
// the stack as one on the first does.
func TestEveryPageOfAStacksResourcesIsRead(t *testing.T) {
	c := newCloud(t)
	tok := c.lease.Token // the queue and bucket names: moto keeps S3 bucket names across accounts
	stack := "Wallet-" + tok
	// Logical ids sort the queue last, after the wallet kinds and the table.
	others := append(walletKinds(tok), fixture.Queue("ZLedger", tok+"-ledger"))
	c.CreateStackWith(t, stack, others, fixture.TableDecl{LogicalID: "Table", Name: tok + "-table",
		Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}})
	cl := c.clients()
	cl.CloudFormation = pagedResources{c.CloudFormation}
	f := Filter{Now: time.Now().Add(5 * time.Second)}
	p := NewPlan([]Inventory{Survey(t.Context(), cl, f, Options{})}, f, cost.USEast1(), false)
	if len(p.Stacks) != 1 || p.Stacks[0].Action != Kept || len(p.Stacks[0].KeptBy) != 1 || p.Stacks[0].KeptBy[0].LogicalID != "ZLedger" {
		t.Fatalf("plan: stacks %+v", p.Stacks)
	}
	r := Act(t.Context(), p, map[string]RegionClients{c.Config.Region: cl}, Options{})
	if !c.stackLive(t, stack) || !c.QueueExists(t, tok+"-ledger") || !c.exists(t, tok+"-table") || r.Stacks[0].Action != Kept {
		t.Fatalf("deleted: stack %+v", r.Stacks)
	}
}

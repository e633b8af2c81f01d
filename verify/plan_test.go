package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// planJSON is the part of `verify sweep --json` a saved plan's apply is judged by.
type planJSON struct {
	DryRun     bool `json:"dry_run"`
	Candidates []struct {
		Table, Region, Account, Action, Stack string
		Notes                                 []string
	} `json:"candidates"`
	Stacks []struct{ Stack, Action, Error string } `json:"stacks"`
	Plan   *struct {
		File, Digest string
	} `json:"plan"`
}

func (p planJSON) actions() map[string]string {
	m := map[string]string{}
	for _, c := range p.Candidates {
		m[c.Table] = c.Action
	}
	return m
}

func readPlanJSON(t *testing.T, out string) planJSON {
	t.Helper()
	var p planJSON
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return p
}

// loadPlan reads a plan file as JSON into the exported type, the way an editor's script would.
func loadPlan(t *testing.T, path string) sweep.SavedPlan {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sp sweep.SavedPlan
	if err := json.Unmarshal(b, &sp); err != nil {
		t.Fatal(err)
	}
	return sp
}

// reseal is what a careful editor does after an edit: recompute the digest (anyone can: it is
// the SHA-256 of the plan's JSON without it). What such an edit can still do is what the apply
// is judged on.
func reseal(sp sweep.SavedPlan) sweep.SavedPlan {
	sp.Digest = ""
	b, _ := json.Marshal(sp)
	sum := sha256.Sum256(b)
	sp.Digest = "sha256:" + hex.EncodeToString(sum[:])
	return sp
}

func writePlan(t *testing.T, path string, sp sweep.SavedPlan) {
	t.Helper()
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// entryOf is the plan entry an editor adds by hand for a table: its real identity, read from
// DynamoDB, and a reason that sounds right.
func entryOf(t *testing.T, c fixture.Cloud, account, table string) sweep.PlanTable {
	t.Helper()
	d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return sweep.PlanTable{Account: account, Region: c.Config.Region, Table: table,
		Identity: sweep.Identity{ARN: aws.ToString(d.Table.TableArn), Created: aws.ToTime(d.Table.CreationDateTime)},
		Reasons:  []sweep.Reason{sweep.Orphaned}, Detail: "orphaned: added by hand", Action: sweep.WouldDelete}
}

// planWorld is one account and region holding what a plan is made of, and what then changes.
type planWorld struct {
	c       sweepCloud
	account string
	region  string
	// goes are the tables the apply deletes; stays the others, each with what it is reported as.
	goes  []string
	stays map[string]string
	stack string // a live wallet stack that expired: it goes, with its table
}

var planTag = func(stack string) map[string]string { return map[string]string{"Project": "wallet", "Stack": stack} }

// buildPlanWorld makes, in c's account and region (tag keeps names apart between accounts):
// two orphans and an expired wallet stack that go; an orphan to be replaced and one to be
// tagged keep between plan and apply; a live stack's table to be added to the plan by hand; a
// table that expires only after the plan; and decoys that are never candidates.
func buildPlanWorld(t *testing.T, c fixture.Cloud, account, tag string) planWorld {
	t.Helper()
	w := planWorld{c: sweepCloud{c}, account: account, region: c.Config.Region, stays: map[string]string{}}
	for _, n := range []string{"goes-a-" + tag, "goes-b-" + tag, "replaced-" + tag, "kept-" + tag} {
		c.CreateTable(t, n, planTag("Gone-"+tag), false)
	}
	w.goes = []string{"goes-a-" + tag, "goes-b-" + tag}
	w.stack = "Wallet-expired-" + tag
	names := c.CreateStack(t, w.stack, fixture.TableDecl{Name: "stack-table-" + tag,
		Tags: map[string]string{"Project": "wallet", "Stack": w.stack, "ExpiresAfter": "1h"}})
	w.goes = append(w.goes, names...)
	c.CreateStack(t, "Wallet-live-"+tag, fixture.TableDecl{Name: "live-" + tag,
		Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-live-" + tag, "ExpiresAfter": "168h"}})
	// Not orphaned (no stack named), not expired at the plan (3h), expired at the apply.
	c.CreateTable(t, "expiring-"+tag, map[string]string{"Project": "wallet", "ExpiresAfter": "3h"}, false)
	c.CreateTable(t, "untagged-"+tag, nil, false)
	w.stays = map[string]string{"replaced-" + tag: "replaced", "kept-" + tag: "kept", "live-" + tag: "not-a-candidate",
		"expiring-" + tag: "not-in-plan"}
	return w
}

// change is what happens between the plan and its apply: one table replaced by another
// project's of the same name, one tagged wallet:keep=true.
func (w planWorld) change(t *testing.T, tag string) {
	t.Helper()
	w.c.ReplaceTable(t, "replaced-"+tag)
	d, err := w.c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("kept-" + tag)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.DynamoDB.TagResource(t.Context(), &dynamodb.TagResourceInput{ResourceArn: d.Table.TableArn,
		Tags: []types.Tag{{Key: aws.String("wallet:keep"), Value: aws.String("true")}}}); err != nil {
		t.Fatal(err)
	}
}

// check holds the world to what the apply must have done: exactly the planned tables and stack
// gone, every other table there.
func (w planWorld) check(t *testing.T) {
	t.Helper()
	for _, n := range w.goes {
		if w.c.has(t, n) {
			t.Errorf("%s/%s: still there, want deleted", w.account, n)
		}
	}
	if w.c.hasStack(t, w.stack) {
		t.Errorf("%s: stack %s still there", w.account, w.stack)
	}
	for n := range w.stays {
		if !w.c.has(t, n) {
			t.Errorf("%s/%s: deleted, want left (%s)", w.account, n, w.stays[n])
		}
	}
}

// The Terraform workflow on moto: a plan is written (deleting nothing), then between it and its
// apply a planned table is replaced, one is tagged keep, one table is added to the file by hand
// (a live stack's, with its real identity and the digest recomputed, as a careful editor
// would), and one table expires that the plan does not hold. A plan past its TTL is refused as
// a whole (exit 2), naming each table expired, changing nothing; within its TTL the dry run and
// then --yes delete exactly the rest, and report each of the others by name. The clock is the
// test's, not a sleep.
func TestAPlanIsAppliedExactly(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	const region = "eu-west-3"
	c := newSweepCloud(t, region)
	w := buildPlanWorld(t, c.Cloud, "", "one")
	account := callerAccount(t, c.Cloud)
	plan := filepath.Join(t.TempDir(), "plan.json")
	t0 := time.Now().Add(2 * time.Hour) // the stack's 1h has passed, the 3h has not

	before := c.State(t)
	code, out, stderr := sweepRunAt(t, t0, "sweep", "--region", region, "--plan-out", plan, "--json")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if after := c.State(t); after != before {
		t.Fatalf("writing the plan changed the cloud:\n%s\n→\n%s", before, after)
	}
	if !strings.Contains(stderr, "Plan written to "+plan) {
		t.Errorf("stderr %q does not name the plan file", stderr)
	}
	sp := loadPlan(t, plan)
	var planned []string
	for _, e := range sp.Tables {
		planned = append(planned, e.Table+"/"+string(e.Action))
		if e.Account != account || e.Detail == "" || e.Identity.ARN == "" {
			t.Errorf("entry %+v: want account %s, a detail and an identity", e, account)
		}
	}
	slices.Sort(planned)
	want := []string{"goes-a-one/would-delete", "goes-b-one/would-delete", "kept-one/would-delete", "replaced-one/would-delete", "stack-table-one/would-delete"}
	if !slices.Equal(planned, want) {
		t.Fatalf("plan entries %v, want %v", planned, want)
	}
	if sp.Fleet.Caller != account || sp.Fleet.Scope != sweep.ScopeAccount || len(sp.Stacks) != 1 || sp.Stacks[0].Stack != w.stack {
		t.Errorf("plan fleet %+v, stacks %+v", sp.Fleet, sp.Stacks)
	}

	w.change(t, "one")
	sp.Tables = append(sp.Tables, entryOf(t, c.Cloud, account, "live-one"))
	writePlan(t, plan, reseal(sp))
	t1 := t0.Add(2 * time.Hour) // expiring-one's 3h has passed; the plan's 24h has not

	// Past the plan's TTL: refused whole, every table named expired, nothing changed.
	before = c.State(t)
	code, out, stderr = sweepRunAt(t, t0.Add(25*time.Hour), "sweep", "--apply", plan, "--yes", "--json")
	if code != exitUsage || !strings.Contains(stderr, "expired") {
		t.Fatalf("expired plan: exit %d, want 2 saying it expired\n%s\n%s", code, out, stderr)
	}
	for table, action := range readPlanJSON(t, out).actions() {
		if action != "expired" {
			t.Errorf("expired plan: %s is %s, want expired", table, action)
		}
	}
	if after := c.State(t); after != before {
		t.Fatalf("an expired plan changed the cloud:\n%s\n→\n%s", before, after)
	}

	// The dry run of the apply: what it will do, and what changed, by name.
	code, out, stderr = sweepRunAt(t, t1, "sweep", "--apply", plan, "--json")
	if code != exitFailed {
		t.Fatalf("apply dry run: exit %d, want 1 (a table replaced, one not a candidate)\n%s\n%s", code, out, stderr)
	}
	dry := readPlanJSON(t, out)
	wantActions := map[string]string{}
	for _, n := range w.goes {
		wantActions[n] = "would-delete"
	}
	for n, a := range w.stays {
		wantActions[n] = a
	}
	if got := dry.actions(); !mapsEqual(got, wantActions) || !dry.DryRun || dry.Plan == nil || dry.Plan.Digest != reseal(sp).Digest {
		t.Fatalf("apply dry run: actions %v, want %v (plan %+v)\n%s", got, wantActions, dry.Plan, out)
	}
	if after := c.State(t); after != before {
		t.Fatalf("the apply's dry run changed the cloud:\n%s\n→\n%s", before, after)
	}

	// The text names each table the world changed, and why.
	_, text, _ := sweepRunAt(t, t1, "sweep", "--apply", plan)
	for _, s := range []string{"Applying plan " + plan, "replaced-one", "kept-one", "live-one", "expiring-one", "not-in-plan",
		"not-a-candidate", "its stack Wallet-live-one is live", "Not in the plan, so not touched: 1 table"} {
		if !strings.Contains(text, s) {
			t.Errorf("apply text lacks %q:\n%s", s, text)
		}
	}

	code, out, stderr = sweepRunAt(t, t1, "sweep", "--apply", plan, "--yes", "--json")
	if code != exitFailed {
		t.Fatalf("apply: exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	done := readPlanJSON(t, out)
	for n, a := range done.actions() {
		want := wantActions[n]
		if want == "would-delete" {
			want = "deleted"
		}
		if a != want {
			t.Errorf("apply: %s is %s, want %s", n, a, want)
		}
	}
	w.check(t)
	if !c.has(t, "untagged-one") {
		t.Error("the untagged decoy is gone")
	}
}

// The same on an organization (--org): a management account and two members, each with its own
// world; the plan is made once over the organization, the world changes in every account, a
// table of a member is added to the file by hand; the apply (which needs no --org: the plan
// says) deletes exactly the rest in every account and names each of the others with its
// account.
func TestAnOrganizationsPlanIsAppliedExactly(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	const region = "eu-west-3"
	o := fixture.NewOrg(t, "plan", 2)
	worlds := map[string]planWorld{}
	tags := map[string]string{}
	for i, acct := range append([]string{o.Management}, o.Members...) {
		c := fixture.NewCloud(t, region)
		if acct != o.Management {
			c = fixture.InAccount(t, acct, org.DefaultRole, region)
		}
		tags[acct] = fmt.Sprintf("a%d", i)
		worlds[acct] = buildPlanWorld(t, c, acct, tags[acct])
	}
	plan := filepath.Join(t.TempDir(), "org-plan.json")
	t0 := time.Now().Add(2 * time.Hour)
	code, out, stderr := sweepRunAt(t, t0, "sweep", "--org", "--region", region, "--plan-out", plan, "--json")
	if code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	sp := loadPlan(t, plan)
	if sp.Fleet.Scope != sweep.ScopeOrganization || sp.Fleet.Organization != o.ID || len(sp.Fleet.Accounts) != 3 || len(sp.Tables) != 15 {
		t.Fatalf("plan fleet %+v with %d tables, want organization %s, 3 accounts, 15 tables", sp.Fleet, len(sp.Tables), o.ID)
	}
	for acct, w := range worlds {
		w.change(t, tags[acct])
	}
	member := o.Members[1]
	sp.Tables = append(sp.Tables, entryOf(t, worlds[member].c.Cloud, member, "live-"+tags[member]))
	writePlan(t, plan, reseal(sp))

	// An entry moved to another account of the plan, its ARN rewritten to match and the digest
	// recomputed: that account has no such table (gone), and the table in its own account is
	// no longer in the plan (not-in-plan): neither is touched.
	moved := loadPlan(t, plan)
	from, to := o.Management, o.Members[0]
	for i, e := range moved.Tables {
		if e.Account == from && e.Table == "goes-a-"+tags[from] {
			moved.Tables[i].Account = to
			moved.Tables[i].Identity.ARN = strings.Replace(e.Identity.ARN, ":"+from+":", ":"+to+":", 1)
		}
	}
	movedPath := filepath.Join(t.TempDir(), "moved.json")
	writePlan(t, movedPath, reseal(moved))
	_, out, stderr = sweepRunAt(t, t0.Add(2*time.Hour), "sweep", "--apply", movedPath, "--json")
	got := map[string]string{}
	for _, c := range readPlanJSON(t, out).Candidates {
		got[c.Account+"/"+c.Table] = c.Action
	}
	if a, b := got[to+"/goes-a-"+tags[from]], got[from+"/goes-a-"+tags[from]]; a != "gone" || b != "not-in-plan" {
		t.Errorf("an entry moved between accounts: %s there, %s in its own account; want gone and not-in-plan\n%s", a, b, stderr)
	}

	code, out, stderr = sweepRunAt(t, t0.Add(2*time.Hour), "sweep", "--apply", plan, "--yes", "--json")
	if code != exitFailed {
		t.Fatalf("apply: exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	done := readPlanJSON(t, out)
	got = map[string]string{}
	for _, c := range done.Candidates {
		got[c.Account+"/"+c.Table] = c.Action
	}
	want := map[string]string{}
	for acct, w := range worlds {
		for _, n := range w.goes {
			want[acct+"/"+n] = "deleted"
		}
		for n, a := range w.stays {
			if strings.HasPrefix(n, "live-") && acct != member {
				continue // added by hand in one member only: elsewhere not a candidate, not in the plan
			}
			want[acct+"/"+n] = a
		}
	}
	if !mapsEqual(got, want) {
		t.Errorf("apply: %v\nwant %v", got, want)
	}
	for _, w := range worlds {
		w.check(t)
	}
}

// callerAccount is the account moto's STS names for the test's credentials.
func callerAccount(t *testing.T, c fixture.Cloud) string {
	t.Helper()
	code, out, stderr := sweepRun(t, "", "sweep", "--region", c.Config.Region, "--json")
	if code != exitOK && code != exitFailed {
		t.Fatalf("sweep: exit %d %s %s", code, out, stderr)
	}
	var r struct {
		Accounts []struct{ ID string } `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || len(r.Accounts) != 1 {
		t.Fatalf("%v %s", err, out)
	}
	return r.Accounts[0].ID
}

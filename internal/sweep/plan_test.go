package sweep

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The rules are a pure function of what was found: tested here without any AWS.
func TestPlanRules(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	old := now.Add(-30 * 24 * time.Hour)
	oneOne := cost.Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1}
	wallet := func(extra map[string]string) map[string]string {
		m := map[string]string{"Project": "wallet"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	found := Inventory{
		Region: "us-east-1",
		Tables: []Observed{
			{Name: "untagged", Created: old, Tags: map[string]string{}, Footprint: oneOne},
			{Name: "other-project", Created: old, Tags: map[string]string{"Project": "other", "Stack": "Gone"}, Ours: false},
			{Name: "live-fresh", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-live", "ExpiresAfter": "365d"}), Ours: true, Stack: "Wallet-live", StackLive: true, StackTags: map[string]string{"ExpiresAfter": "365d"}, Idle: true},
			{Name: "live-prod", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-prod"}), Ours: true, Stack: "Wallet-prod", StackLive: true, Idle: true, Protected: true},
			{Name: "expired-in-foreign-stack", Created: old, Tags: wallet(map[string]string{"Stack": "BigApp", "ExpiresAfter": "1h"}), Ours: true, Stack: "BigApp", StackLive: true, Footprint: oneOne},
			{Name: "orphan", Created: now.Add(-time.Hour), Tags: wallet(map[string]string{"Stack": "Gone"}), Ours: true, Stack: "Gone", Footprint: oneOne},
			{Name: "orphan-protected", Created: old, Tags: wallet(map[string]string{"Stack": "Gone"}), Ours: true, Stack: "Gone", Protected: true},
			{Name: "expired", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-dev", "ExpiresAfter": "7d"}), Ours: true, Stack: "Wallet-dev", StackLive: true, StackTags: map[string]string{"ExpiresAfter": "7d"}, Footprint: oneOne},
			// Ours, but not expired itself (added to the stack later): it goes with its stack.
			{Name: "expired-sibling", Created: now, Tags: wallet(map[string]string{"Stack": "Wallet-dev", "ExpiresAfter": "7d"}), Ours: true, Stack: "Wallet-dev", StackLive: true, StackTags: map[string]string{"ExpiresAfter": "7d"}},
			{Name: "handmade-old", Created: old, Tags: wallet(nil), Ours: true},
			{Name: "handmade-new", Created: now.Add(-time.Minute), Tags: wallet(map[string]string{"ExpiresAfter": "soon"}), Ours: true},
			{Name: "unjudged", Created: old, Tags: wallet(map[string]string{"Stack": "Broken"}), Ours: true, Stack: "Broken", Unjudged: true},
		},
		Stacks: stacks(
			liveStack("Wallet-live", "live-fresh"), liveStack("Wallet-prod", "live-prod"),
			liveStack("Wallet-dev", "expired", "expired-sibling", "vanished"), liveStack("BigApp", "expired-in-foreign-stack")),
	}
	p := NewPlan([]Inventory{found}, Filter{OlderThan: 7 * 24 * time.Hour, IdleFor: time.Hour, Now: now}, cost.USEast1(), false)

	got := map[string]Candidate{}
	for _, c := range p.Candidates {
		got[c.Table] = c
	}
	want := map[string]struct {
		reasons []Reason
		action  Action
		stack   string
	}{
		"orphan":           {[]Reason{Orphaned}, WouldDelete, ""},
		"orphan-protected": {[]Reason{Orphaned, OlderThan}, SkippedProtected, ""},
		"expired":          {[]Reason{Expired, OlderThan}, WouldDelete, "Wallet-dev"},
		"expired-sibling":  {[]Reason{SameStack}, WouldDelete, "Wallet-dev"},
		"handmade-old":     {[]Reason{OlderThan}, WouldDelete, ""},
	}
	if len(got) != len(want) {
		t.Errorf("candidates %v, want exactly %d: orphan, orphan-protected, expired, expired-sibling, handmade-old", keys(got), len(want))
	}
	for name, w := range want {
		c, ok := got[name]
		if !ok {
			t.Errorf("%s is not a candidate", name)
			continue
		}
		if !reflect.DeepEqual(c.Reasons, w.reasons) || c.Action != w.action || c.Stack != w.stack {
			t.Errorf("%s: reasons %v action %s stack %q, want %v %s %q", name, c.Reasons, c.Action, c.Stack, w.reasons, w.action, w.stack)
		}
	}
	if got["orphan"].MonthlyCostUSD != 0.5694 {
		t.Errorf("orphan costs %v, want 0.5694", got["orphan"].MonthlyCostUSD)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), `ExpiresAfter="soon"`) {
		t.Errorf("an unreadable ExpiresAfter tag should be noted, notes: %v", p.Notes)
	}
	// An expired wallet-tagged table inside a live stack that is not a wallet stack would take
	// that whole stack with it: never a candidate, only a note naming the stack.
	if !strings.Contains(strings.Join(p.Notes, "\n"), "expired-in-foreign-stack: expired, older-than, but it belongs to live stack BigApp") {
		t.Errorf("the expired table of a foreign stack should be noted, notes: %v", p.Notes)
	}
	r := p.DryRun()
	if !r.DryRun || r.MonthlySavingsUSD != cost.Round(2*0.5694) {
		t.Errorf("dry run report: dry=%v savings=%v", r.DryRun, r.MonthlySavingsUSD)
	}

	// A table its stack holds but that could not be read would be deleted unseen and unexported
	// with the stack: the stack's candidates fail instead, and nothing of it is deleted.
	unread := found
	unread.Problems = []Problem{{Region: "us-east-1", Table: "unreadable-sibling", Error: "AccessDenied"}}
	unread.Stacks = stacks(liveStack("Wallet-dev", "expired", "expired-sibling", "unreadable-sibling"))
	for _, c := range NewPlan([]Inventory{unread}, Filter{Now: now}, cost.USEast1(), false).Candidates {
		if c.Stack == "Wallet-dev" && (c.Action != Failed || !strings.Contains(c.Error, "unreadable-sibling")) {
			t.Errorf("%s: %s %q, want failed naming the unreadable table its stack holds", c.Table, c.Action, c.Error)
		}
	}

	// One protected table holds its whole stack back, unless protected tables are included.
	found.Tables[7].Protected = true
	p = NewPlan([]Inventory{found}, Filter{Now: now}, cost.USEast1(), false)
	for _, c := range p.Candidates {
		if c.Stack == "Wallet-dev" && c.Action != SkippedProtected {
			t.Errorf("%s: %s, want skipped-protected because its stack holds a protected table", c.Table, c.Action)
		}
	}
	p = NewPlan([]Inventory{found}, Filter{Now: now}, cost.USEast1(), true)
	for _, c := range p.Candidates {
		if c.Action != WouldDelete {
			t.Errorf("with protected included, %s: %s", c.Table, c.Action)
		}
	}
}

func keys(m map[string]Candidate) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// liveStack is a live stack owning tables (logical ID = table name) and nothing else, whose
// template could not be read: every table counts as one the stack would delete.
func liveStack(name string, tables ...string) LiveStack {
	s := LiveStack{Name: name, Status: "CREATE_COMPLETE"}
	for _, t := range tables {
		s.Tables = append(s.Tables, discover.TableResource{LogicalID: t, Name: t})
		s.Resources = append(s.Resources, discover.Resource{Type: wallet.ResourceTable, LogicalID: t, PhysicalID: t})
	}
	return s
}

func stacks(ss ...LiveStack) map[string]LiveStack {
	m := map[string]LiveStack{}
	for _, s := range ss {
		m[s.Name] = s
	}
	return m
}

// The one decision, as a teardown meets it: a stack's tables with their deletion policies.
func TestDecideForATeardown(t *testing.T) {
	plan := func() Plan {
		return Plan{Teardown: "Wallet-x", Regions: []string{"r"}, Stacks: []StackAction{{Stack: "Wallet-x", Region: "r", Action: WouldDelete}},
			Candidates: []Candidate{
				{Table: "a-delete", Region: "r", Stack: "Wallet-x", DeletionPolicy: "Delete", MonthlyCostUSD: 1},
				{Table: "b-retain", Region: "r", Stack: "Wallet-x", DeletionPolicy: "Retain", MonthlyCostUSD: 2},
				{Table: "c-retain-protected", Region: "r", Stack: "Wallet-x", DeletionPolicy: "RetainExceptOnCreate", Protected: true, MonthlyCostUSD: 4},
				{Table: "d-unknown-protected", Region: "r", Stack: "Wallet-x", DeletionPolicy: "unknown", Protected: true, MonthlyCostUSD: 8},
			}}
	}
	held := []Action{SkippedProtected, SkippedProtected, SkippedProtected, SkippedProtected}
	for _, tc := range []struct {
		opts  TeardownOptions
		want  []Action
		stack Action
	}{
		// d-unknown-protected is one the stack would delete: protected, it holds the whole stack.
		{TeardownOptions{}, held, SkippedProtected},
		{TeardownOptions{DeleteRetained: true}, held, SkippedProtected},
		{TeardownOptions{IncludeProtected: true}, []Action{WouldDelete, WouldRetain, WouldRetain, WouldDelete}, WouldDelete},
		{TeardownOptions{DeleteRetained: true, IncludeProtected: true}, []Action{WouldDelete, WouldDelete, WouldDelete, WouldDelete}, WouldDelete},
	} {
		p := plan()
		decide(&p, tc.opts.IncludeProtected, tc.opts.DeleteRetained)
		for i, w := range tc.want {
			if p.Candidates[i].Action != w {
				t.Errorf("%+v: %s is %s, want %s", tc.opts, p.Candidates[i].Table, p.Candidates[i].Action, w)
			}
		}
		if p.Stacks[0].Action != tc.stack || (tc.stack == SkippedProtected) != strings.Contains(p.Stacks[0].Error, "d-unknown-protected") {
			t.Errorf("%+v: stack %s %q, want %s naming the protected table that holds it", tc.opts, p.Stacks[0].Action, p.Stacks[0].Error, tc.stack)
		}
		if r := p.DryRun(); r.Failures() != 0 {
			t.Errorf("%+v: a dry run never fails", tc.opts)
		}
	}
	p := plan()
	decide(&p, true, false)
	if r := p.DryRun(); r.MonthlySavingsUSD != 9 || r.MonthlyLeftUSD != 6 {
		t.Errorf("savings %v, left billing %v; want 9 and 6", r.MonthlySavingsUSD, r.MonthlyLeftUSD)
	}
	// Without a protected table that the stack would delete, a retained protected one does not
	// hold the stack: DeleteStack leaves it alone.
	p = plan()
	p.Candidates = p.Candidates[:3]
	decide(&p, false, false)
	if p.Stacks[0].Action != WouldDelete || p.Candidates[2].Action != WouldRetain {
		t.Errorf("retained and protected: stack %s, table %s", p.Stacks[0].Action, p.Candidates[2].Action)
	}
}

// wallet:keep=true exempts a table in every mode, and a stack holding one is not deleted.
func TestKeepTagExemptsAndHoldsItsStack(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	keep := map[string]string{"Project": "wallet", "Stack": "Gone", wallet.TagKeep: "true"}
	inv := Inventory{Region: "r", Tables: []Observed{
		{Name: "kept-orphan", Created: now, Tags: keep, Ours: true, Stack: "Gone"},
		{Name: "expired", Created: now.Add(-48 * time.Hour), Ours: true, Stack: "Wallet-dev", StackLive: true, StackTags: map[string]string{"ExpiresAfter": "24h"},
			Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-dev", "ExpiresAfter": "24h"}},
		{Name: "kept-sibling", Created: now, Ours: true, Stack: "Wallet-dev", StackLive: true,
			Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-dev", wallet.TagKeep: "TRUE"}},
	}, Stacks: stacks(liveStack("Wallet-dev", "expired", "kept-sibling"))}
	for _, include := range []bool{false, true} {
		p := NewPlan([]Inventory{inv}, Filter{Now: now, OlderThan: time.Nanosecond}, cost.USEast1(), include)
		got := map[string]Candidate{}
		for _, c := range p.Candidates {
			got[c.Table] = c
		}
		if _, ok := got["kept-orphan"]; ok {
			t.Errorf("include-protected=%v: a kept orphan is a candidate", include)
		}
		// Honouring the tag is not a failure: the stack and its tables are "kept", and the
		// dry run counts nothing failed.
		if c := got["expired"]; c.Action != Kept || !strings.Contains(strings.Join(c.Notes, ";"), "kept-sibling") || p.Stacks[0].Action != Kept || p.DryRun().Failures() != 0 {
			t.Errorf("include-protected=%v: the stack holding a kept table must stay, kept: %+v, stack %+v", include, c, p.Stacks[0])
		}
		if !strings.Contains(strings.Join(p.Notes, "\n"), "kept-orphan: orphaned, but kept") {
			t.Errorf("the kept table should be noted: %v", p.Notes)
		}
	}
}

// The janitor's mark is shown on the plan: its due time, not its MAC.
func TestPlanShowsTheJanitorMark(t *testing.T) {
	inv := Inventory{Region: "r", Tables: []Observed{{Name: "marked", Ours: true, Stack: "Gone",
		Tags: map[string]string{"Project": "wallet", "Stack": "Gone", wallet.TagJanitorDeleteAfter: "2026-01-11T00:00:00Z/" + strings.Repeat("A", 43)}}}}
	p := NewPlan([]Inventory{inv}, Filter{}, cost.USEast1(), false)
	var b strings.Builder
	if err := p.DryRun().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if len(p.Candidates) != 1 || p.Candidates[0].JanitorDeleteAfter != "2026-01-11T00:00:00Z" || !strings.Contains(b.String(), "marked by the janitor, to be deleted after 2026-01-11T00:00:00Z") {
		t.Fatalf("plan %+v\n%s", p.Candidates, b.String())
	}
}

// A narrowed plan never takes a stack whose tables it did not all keep.
func TestOnlyKeepsStacksWhole(t *testing.T) {
	p := Plan{Regions: []string{"r"},
		Stacks: []StackAction{{Stack: "Wallet-a", Region: "r", Action: WouldDelete}, {Stack: "Wallet-b", Region: "r", Action: WouldDelete}},
		Candidates: []Candidate{
			{Table: "a1", Region: "r", Stack: "Wallet-a", Action: WouldDelete},
			{Table: "a2", Region: "r", Stack: "Wallet-a", Action: WouldDelete},
			{Table: "b1", Region: "r", Stack: "Wallet-b", Action: WouldDelete},
			{Table: "loose", Region: "r", Action: WouldDelete},
			{Table: "loose-not", Region: "r", Action: WouldDelete},
		}}
	q := p.Only(func(c Candidate) bool { return c.Table != "a2" && c.Table != "loose-not" })
	var got []string
	for _, c := range q.Candidates {
		got = append(got, c.Table)
	}
	if strings.Join(got, ",") != "b1,loose" || len(q.Stacks) != 1 || q.Stacks[0].Stack != "Wallet-b" {
		t.Fatalf("candidates %v, stacks %+v: want b1 and loose, and stack Wallet-b only", got, q.Stacks)
	}
}

// A stack goes only to take a table with it. An expired table that is protected and that its
// stack retains is skipped, and then nothing would be gained by deleting the stack: it stays,
// and a confirmed run deletes nothing.
func TestAStackIsNotDeletedForNothing(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	live := liveStack("Wallet-x", "protected-kept")
	live.DeletionPolicies = map[string]string{"protected-kept": "Retain"}
	inv := Inventory{Region: "r", Tables: []Observed{{Name: "protected-kept", Created: now.Add(-48 * time.Hour), Ours: true, Stack: "Wallet-x", StackLive: true, Protected: true, StackTags: map[string]string{"ExpiresAfter": "24h"},
		Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-x", "ExpiresAfter": "24h"}}}, Stacks: stacks(live)}
	p := NewPlan([]Inventory{inv}, Filter{Now: now}, cost.USEast1(), false)
	if p.Candidates[0].Action != SkippedProtected || p.Stacks[0].Action != SkippedProtected || p.Pending() != 0 || len(p.deletions()) != 0 {
		t.Fatalf("candidate %s, stack %s, pending %d, units %d: nothing may go", p.Candidates[0].Action, p.Stacks[0].Action, p.Pending(), len(p.deletions()))
	}
}

// A table two stacks list (its tags name one, the other lists it too) is planned through the
// stack its tags name; the other stack would take it with DeleteStack outside the unit that
// saves and re-checks it, so that stack is kept, naming it.
func TestAStackHoldingATablePlannedThroughAnotherIsKept(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	expired := func(name, stack string) Observed {
		return Observed{Name: name, Created: now.Add(-48 * time.Hour), Ours: true, Stack: stack, StackLive: true, StackTags: map[string]string{"ExpiresAfter": "24h"},
			Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "24h"}}
	}
	inv := Inventory{Region: "r", Tables: []Observed{expired("a", "Wallet-a"), expired("shared", "Wallet-b")},
		Stacks: stacks(liveStack("Wallet-a", "a", "shared"), liveStack("Wallet-b", "shared"))}
	p := NewPlan([]Inventory{inv}, Filter{Now: now}, cost.USEast1(), false)
	got := map[string]StackAction{}
	for _, s := range p.Stacks {
		got[s.Stack] = s
	}
	if a := got["Wallet-a"]; a.Action != Kept || len(a.KeptBy) != 1 || a.KeptBy[0].PhysicalID != "shared" || !strings.Contains(a.Error, "planned through another stack") {
		t.Errorf("Wallet-a: %+v, want kept by the table planned through Wallet-b", a)
	}
	if b := got["Wallet-b"]; b.Action != WouldDelete {
		t.Errorf("Wallet-b: %+v, want would-delete", b)
	}
}

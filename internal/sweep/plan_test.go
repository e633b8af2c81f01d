package sweep

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
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
			{Name: "untagged", Created: old, Tags: map[string]string{}, Cost: oneOne},
			{Name: "other-project", Created: old, Tags: map[string]string{"Project": "other", "Stack": "Gone"}, Ours: false},
			{Name: "live-fresh", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-live", "ExpiresAfter": "365d"}), Ours: true, Stack: "Wallet-live", StackLive: true, Idle: true},
			{Name: "live-prod", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-prod"}), Ours: true, Stack: "Wallet-prod", StackLive: true, Idle: true, Protected: true},
			{Name: "expired-in-foreign-stack", Created: old, Tags: wallet(map[string]string{"Stack": "BigApp", "ExpiresAfter": "1h"}), Ours: true, Stack: "BigApp", StackLive: true, Cost: oneOne},
			{Name: "orphan", Created: now.Add(-time.Hour), Tags: wallet(map[string]string{"Stack": "Gone"}), Ours: true, Stack: "Gone", Cost: oneOne},
			{Name: "orphan-protected", Created: old, Tags: wallet(map[string]string{"Stack": "Gone"}), Ours: true, Stack: "Gone", Protected: true},
			{Name: "expired", Created: old, Tags: wallet(map[string]string{"Stack": "Wallet-dev", "ExpiresAfter": "7d"}), Ours: true, Stack: "Wallet-dev", StackLive: true, Cost: oneOne},
			{Name: "expired-sibling", Created: now, Tags: map[string]string{}, Ours: false},
			{Name: "handmade-old", Created: old, Tags: wallet(nil), Ours: true},
			{Name: "handmade-new", Created: now.Add(-time.Minute), Tags: wallet(map[string]string{"ExpiresAfter": "soon"}), Ours: true},
			{Name: "unjudged", Created: old, Tags: wallet(map[string]string{"Stack": "Broken"}), Ours: true, Stack: "Broken", Unjudged: true},
		},
		StackTables: map[string][]string{"Wallet-live": {"live-fresh"}, "Wallet-prod": {"live-prod"}, "Wallet-dev": {"expired", "expired-sibling", "vanished"},
			"BigApp": {"expired-in-foreign-stack"}},
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
	unread.StackTables = map[string][]string{"Wallet-dev": {"expired", "expired-sibling", "unreadable-sibling"}}
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

func TestMetricPeriodStaysWithinCloudWatchLimits(t *testing.T) {
	for _, w := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour, 400 * 24 * time.Hour} {
		p := time.Duration(metricPeriod(w)) * time.Second
		if p%time.Minute != 0 || w/p > 1440 {
			t.Errorf("window %v: period %v (must be whole minutes and give at most 1440 points)", w, p)
		}
		if w > 15*24*time.Hour && p%(5*time.Minute) != 0 || w > 63*24*time.Hour && p%time.Hour != 0 {
			t.Errorf("window %v: period %v finer than CloudWatch keeps that far back", w, p)
		}
	}
}

func TestTeardownDecide(t *testing.T) {
	tables := func() []StackTable {
		return []StackTable{
			{Table: "delete", DeletionPolicy: "Delete", Exists: true, MonthlyCostUSD: 1},
			{Table: "retain", DeletionPolicy: "Retain", Exists: true, MonthlyCostUSD: 2},
			{Table: "retain-protected", DeletionPolicy: "RetainExceptOnCreate", Exists: true, Protected: true, MonthlyCostUSD: 4},
			{Table: "unknown-protected", DeletionPolicy: "unknown", Exists: true, Protected: true, MonthlyCostUSD: 8},
		}
	}
	for _, tc := range []struct {
		opts    TeardownOptions
		want    []Action
		blocked bool
	}{
		{TeardownOptions{}, []Action{WouldDelete, WouldRetain, WouldRetain, SkippedProtected}, true},
		{TeardownOptions{DeleteRetained: true}, []Action{WouldDelete, WouldDelete, SkippedProtected, SkippedProtected}, true},
		{TeardownOptions{IncludeProtected: true}, []Action{WouldDelete, WouldRetain, WouldRetain, WouldDelete}, false},
		{TeardownOptions{DeleteRetained: true, IncludeProtected: true}, []Action{WouldDelete, WouldDelete, WouldDelete, WouldDelete}, false},
	} {
		td := &Teardown{DryRun: true, Tables: tables(), opts: tc.opts}
		td.decide()
		for i, w := range tc.want {
			if td.Tables[i].Action != w {
				t.Errorf("%+v: %s is %s, want %s", tc.opts, td.Tables[i].Table, td.Tables[i].Action, w)
			}
		}
		if (td.Blocked != "") != tc.blocked {
			t.Errorf("%+v: blocked %q, want blocked=%v", tc.opts, td.Blocked, tc.blocked)
		}
		if td.Failed() {
			t.Errorf("%+v: a dry run never fails", tc.opts)
		}
	}
	td := &Teardown{Tables: tables(), opts: TeardownOptions{IncludeProtected: true}}
	td.decide()
	if td.MonthlySavingsUSD != 9 || td.RetainedUSD != 6 {
		t.Errorf("savings %v, retained %v; want 9 and 6", td.MonthlySavingsUSD, td.RetainedUSD)
	}
}

package sweep

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// Each rule on one table made to trip it, and the verdict: the reasons that make it a candidate,
// or the rule that rules it out. Pure: no AWS.
func TestEachRule(t *testing.T) {
	now := time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC)
	old := now.Add(-30 * 24 * time.Hour)
	ours := func(kv ...string) map[string]string {
		m := map[string]string{"Project": "wallet"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	f := Filter{OlderThan: 7 * 24 * time.Hour, IdleFor: time.Hour, Now: now}
	cases := []struct {
		rule    string
		t       Observed
		reasons []Reason
		out     string // the rule that rules it out, "" for none
		note    string // a note the plan must make
	}{
		{rule: "not-ours", t: Observed{Name: "t", Created: old, Tags: map[string]string{"Project": "other", "Stack": "Gone"}, Stack: "Gone"},
			reasons: []Reason{Orphaned, OlderThan}, out: "not-ours"},
		{rule: "kept", t: Observed{Name: "t", Created: now, Ours: true, Tags: ours("Stack", "Gone", "wallet:keep", "true"), Stack: "Gone"},
			reasons: []Reason{Orphaned}, out: "kept", note: "t: orphaned, but kept: tag wallet:keep=true"},
		{rule: "orphaned", t: Observed{Name: "t", Created: now, Ours: true, Tags: ours("Stack", "Gone"), Stack: "Gone"},
			reasons: []Reason{Orphaned}},
		{rule: "expired", t: Observed{Name: "t", Created: now.Add(-2 * time.Hour), Ours: true, Tags: ours("ExpiresAfter", "1h")},
			reasons: []Reason{Expired}},
		{rule: "expired (a live wallet stack's, by its stack's tag)", t: Observed{Name: "t", Created: now.Add(-2 * time.Hour), Ours: true, Stack: "Wallet-dev", StackLive: true,
			Tags: ours("Stack", "Wallet-dev"), StackTags: map[string]string{"ExpiresAfter": "1h"}},
			reasons: []Reason{Expired}, note: `t: tag ExpiresAfter is not set on the table but "1h" on its stack Wallet-dev`},
		{rule: "older-than", t: Observed{Name: "t", Created: old, Ours: true, Tags: ours()},
			reasons: []Reason{OlderThan}},
		{rule: "idle", t: Observed{Name: "t", Created: now, Ours: true, Tags: ours(), Idle: true},
			reasons: []Reason{Idle}},
		{rule: "live-stack", t: Observed{Name: "t", Created: old, Ours: true, Idle: true, Stack: "Wallet-prod", StackLive: true, Tags: ours("Stack", "Wallet-prod")},
			reasons: []Reason{OlderThan, Idle}, out: "live-stack"},
		{rule: "live-stack (a table tag does not expire its live wallet stack)", t: Observed{Name: "t", Created: old, Ours: true, Stack: "Wallet-dev", StackLive: true,
			Tags: ours("Stack", "Wallet-dev", "ExpiresAfter", "1s")},
			reasons: []Reason{OlderThan}, out: "live-stack", note: `t: tag ExpiresAfter is "1s" on the table but not set on its stack Wallet-dev`},
		{rule: "foreign-stack", t: Observed{Name: "t", Created: now.Add(-2 * time.Hour), Ours: true, Stack: "BigApp", StackLive: true, Tags: ours("Stack", "BigApp", "ExpiresAfter", "1h")},
			reasons: []Reason{Expired}, out: "foreign-stack", note: "t: expired, but it belongs to live stack BigApp, which is not a wallet stack"},
		{rule: "a tag that does not parse never counts", t: Observed{Name: "t", Created: now.Add(-time.Minute), Ours: true, Tags: ours("ExpiresAfter", "soon")},
			reasons: nil, note: `t: tag ExpiresAfter="soon" ignored`},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			c.t.Region = "r"
			v := judge(c.t, f, now)
			out := ""
			if v.out != nil {
				out = v.out.name
			}
			if !slices.Equal(v.reasons, c.reasons) || out != c.out {
				t.Errorf("reasons %v, ruled out by %q; want %v, %q", v.reasons, out, c.reasons, c.out)
			}
			if notes := strings.Join(v.notes, "\n"); (c.note == "") != (notes == "") || !strings.Contains(notes, c.note) {
				t.Errorf("notes %q, want %q", notes, c.note)
			}
		})
	}
}

// The README's "Which tables" table and the code's rules say the same thing, in the same order:
// the table's first column names each rule as rules() does, then the two rules of planning
// (same-stack, teardown), which are about stacks, not one table.
func TestTheReadmeListsTheRules(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(b)
	start := strings.Index(section, "## Which tables")
	if start < 0 {
		t.Fatal(`README.md has no "## Which tables" section`)
	}
	section = section[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	var want []string
	for _, r := range rules() {
		want = append(want, r.name)
	}
	want = append(want, string(SameStack), string(Teardown))
	if !slices.Equal(listed, want) {
		t.Fatalf("README lists %v, the code %v", listed, want)
	}
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// Every plan file a hostile or careless hand can make — empty, truncated, not JSON, null,
// trailing garbage, 100 MB, a FIFO, /dev/zero, a directory or a symlink to one, a key given
// twice or spelt to match a field case-blind, entries duplicated, a 10,000-character or
// look-alike table name, an identity of another table, a negative, zero or too long TTL, a
// future format version, another account, organization or region, an edit that kept the old
// digest, and one that recomputed it to widen the plan's rules — is refused by `verify sweep
// --apply FILE --yes` with exit 2 and a message naming what is wrong, and nothing changes in
// the cloud. So are flags given beside --apply that disagree with the plan, and bad
// --plan-out/--plan-ttl/--format values.
func TestHostilePlanFilesChangeNothing(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	const region = "ca-central-1"
	c := newSweepCloud(t, region)
	for _, n := range []string{"hostile-a", "hostile-b"} {
		c.CreateTable(t, n, planTag("Gone-hostile"), false)
	}
	c.CreateTable(t, "hostile-protected", planTag("Gone-hostile"), true)
	o := fixture.NewOrg(t, "hostile", 0) // the caller manages an organization: "another" can be claimed
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	now := time.Now()
	if code, out, stderr := sweepRunAt(t, now, "sweep", "--region", region, "--plan-out", good); code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	valid, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	base := loadPlan(t, good)
	if len(base.Tables) != 3 {
		t.Fatalf("plan holds %d tables, want 3", len(base.Tables))
	}
	i := 0
	file := func(b []byte) string {
		i++
		p := filepath.Join(dir, "plan-"+string(rune('a'+i%26))+time.Now().Format("150405.000000000")+".json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	edited := func(resealed bool, edit func(*sweep.SavedPlan)) string {
		sp := loadPlan(t, good)
		edit(&sp)
		if resealed {
			sp = reseal(sp)
		}
		p := filepath.Join(dir, "edited.json")
		writePlan(t, p, sp)
		b, _ := os.ReadFile(p)
		return file(b)
	}
	at := func(ti int, f func(*sweep.PlanTable)) func(*sweep.SavedPlan) {
		return func(sp *sweep.SavedPlan) { f(&sp.Tables[ti]) }
	}
	big := filepath.Join(dir, "big.json")
	if f, err := os.Create(big); err != nil {
		t.Fatal(err)
	} else {
		_ = f.Truncate(100 << 20) // 100 MB, sparse
		f.Close()
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	linkToDir := filepath.Join(dir, "link")
	if err := os.Symlink(t.TempDir(), linkToDir); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 10000)
	lookalike := "hostile-\u0430" // Cyrillic а
	other := "arn:aws:dynamodb:" + region + ":" + base.Fleet.Caller + ":table/hostile-b"
	cases := []struct {
		name string
		path string
		args []string
		want []string
	}{
		{"empty", file(nil), nil, []string{"empty"}},
		{"blank", file([]byte(" \n\t")), nil, []string{"empty"}},
		{"truncated", file(valid[:len(valid)/2]), nil, []string{"truncated"}},
		{"not JSON", file([]byte("plan: yes")), nil, []string{"not JSON"}},
		{"null", file([]byte("null")), nil, []string{"not a JSON object"}},
		{"an array", file([]byte("[" + string(valid) + "]")), nil, []string{"not a JSON object"}},
		{"trailing garbage", file(append(bytes.Clone(valid), "garbage"...)), nil, []string{"more after"}},
		{"two plans", file(append(bytes.Clone(valid), valid...)), nil, []string{"more after"}},
		{"not UTF-8", file(bytes.Replace(valid, []byte("hostile-a"), []byte("hostile-\xff"), 1)), nil, []string{"not UTF-8"}},
		{"a key twice", file(bytes.Replace(valid, []byte(`"version": 1,`), []byte(`"version": 1, "version": 1,`), 1)), nil, []string{`"version"`, "twice"}},
		{"a key spelt to match case-blind", file(bytes.Replace(valid, []byte(`"tables"`), []byte(`"Tables"`), 1)), nil, []string{`"Tables"`}},
		{"a look-alike key", file(bytes.Replace(valid, []byte(`"stacks"`), []byte(`"ſtacks"`), 1)), nil, []string{"ſtacks"}},
		{"a value of another type", file(bytes.Replace(valid, []byte(`"protected": false`), []byte(`"protected": "no"`), 1)), nil, []string{"protected", "another shape"}},
		{"an unknown field", file(bytes.Replace(valid, []byte(`"version": 1,`), []byte(`"version": 1, "delete_everything": true,`), 1)), nil, []string{"delete_everything"}},
		{"100 MB", big, nil, []string{"larger than"}},
		{"a FIFO", fifo, nil, []string{"not a regular file"}},
		{"/dev/zero", "/dev/zero", nil, []string{"not a regular file"}},
		{"a directory", dir, nil, []string{"a directory"}},
		{"a symlink to a directory", linkToDir, nil, []string{"a directory"}},
		{"no such file", filepath.Join(dir, "none.json"), nil, []string{"no such file"}},
		{"an edit that kept the old digest (a cost)", edited(false, at(0, func(e *sweep.PlanTable) { e.MonthlyCostUSD = 0 })), nil, []string{"digest", "edited"}},
		{"an edit that kept the old digest (an identity)", edited(false, at(0, func(e *sweep.PlanTable) { e.Identity.Created = e.Identity.Created.Add(time.Second) })), nil, []string{"digest"}},
		{"an edit that kept the old digest (the TTL)", edited(false, func(sp *sweep.SavedPlan) { sp.ApplyBefore = sp.ApplyBefore.Add(24 * time.Hour) }), nil, []string{"digest"}},
		{"an edit that kept the old digest (protection)", edited(false, at(0, func(e *sweep.PlanTable) { e.Protected = !e.Protected })), nil, []string{"digest"}},
		{"a digest edited", edited(false, func(sp *sweep.SavedPlan) { sp.Digest = "sha256:" + strings.Repeat("0", 64) }), nil, []string{"digest"}},
		{"an entry duplicated", edited(true, func(sp *sweep.SavedPlan) { sp.Tables = append(sp.Tables, sp.Tables[0]) }), nil, []string{"listed twice"}},
		{"a 10,000-character table name", edited(true, at(0, func(e *sweep.PlanTable) {
			e.Table, e.Identity.ARN = long, "arn:aws:dynamodb:"+region+":"+e.Account+":table/"+long
		})), nil, []string{"want 3 to 255", "…"}},
		{"a look-alike table name", edited(true, at(0, func(e *sweep.PlanTable) {
			e.Table, e.Identity.ARN = lookalike, "arn:aws:dynamodb:"+region+":"+e.Account+":table/"+lookalike
		})), nil, []string{lookalike, "want 3 to 255"}},
		{"an identity of another table", edited(true, at(0, func(e *sweep.PlanTable) { e.Identity.ARN = other })), nil, []string{"hostile-b", "is not table"}},
		{"an identity with no creation time", edited(true, at(0, func(e *sweep.PlanTable) { e.Identity.Created = time.Time{} })), nil, []string{"identity.created"}},
		{"a negative TTL", edited(true, func(sp *sweep.SavedPlan) { sp.ApplyBefore = sp.MadeAt.Add(-time.Hour) }), nil, []string{"TTL of -1h"}},
		{"a zero TTL", edited(true, func(sp *sweep.SavedPlan) { sp.ApplyBefore = sp.MadeAt }), nil, []string{"TTL of 0s"}},
		{"a TTL over 7 days", edited(true, func(sp *sweep.SavedPlan) { sp.ApplyBefore = sp.MadeAt.Add(8 * 24 * time.Hour) }), nil, []string{"at most 168h"}},
		{"made in the future", edited(true, func(sp *sweep.SavedPlan) {
			sp.MadeAt, sp.ApplyBefore = sp.MadeAt.Add(48*time.Hour), sp.ApplyBefore.Add(48*time.Hour)
		}), nil, []string{"in the future"}},
		{"a future format version", edited(true, func(sp *sweep.SavedPlan) { sp.Version = 2 }), nil, []string{"version 2", "newer verify"}},
		{"format version 0", edited(true, func(sp *sweep.SavedPlan) { sp.Version = 0 }), nil, []string{"version 0"}},
		{"another format", edited(true, func(sp *sweep.SavedPlan) { sp.Format = "terraform-plan" }), nil, []string{"terraform-plan"}},
		{"another account's plan", edited(true, func(sp *sweep.SavedPlan) {
			sp.Fleet.Caller, sp.Fleet.Accounts = "999999999999", []string{"999999999999"}
			for k := range sp.Tables {
				sp.Tables[k].Account = "999999999999"
				sp.Tables[k].Identity.ARN = strings.Replace(sp.Tables[k].Identity.ARN, base.Fleet.Caller, "999999999999", 1)
			}
		}), nil, []string{"made by account 999999999999", base.Fleet.Caller}},
		{"another organization's plan", edited(true, func(sp *sweep.SavedPlan) {
			sp.Fleet.Scope, sp.Fleet.Organization, sp.Fleet.Role = sweep.ScopeOrganization, "o-zzzzzzzzzz", "OrganizationAccountAccessRole"
		}), nil, []string{"organization o-zzzzzzzzzz", o.ID}},
		{"an entry of an account outside the fleet", edited(true, at(0, func(e *sweep.PlanTable) {
			e.Identity.ARN = strings.Replace(e.Identity.ARN, e.Account, "111111111111", 1)
			e.Account = "111111111111"
		})), nil, []string{"111111111111", "not an account of the plan's fleet"}},
		{"an entry of a region outside the fleet", edited(true, at(0, func(e *sweep.PlanTable) {
			e.Identity.ARN = strings.Replace(e.Identity.ARN, region, "us-west-2", 1)
			e.Region = "us-west-2"
		})), nil, []string{"us-west-2", "not a region of the plan's fleet"}},
		{"an unknown reason", edited(true, at(0, func(e *sweep.PlanTable) { e.Reasons = []sweep.Reason{"because"} })), nil, []string{"because"}},
		{"an unknown action", edited(true, at(0, func(e *sweep.PlanTable) { e.Action = "delete-everything" })), nil, []string{"delete-everything"}},
		{"a stack the plan does not list", edited(true, at(0, func(e *sweep.PlanTable) { e.Stack = "Wallet-prod" })), nil, []string{"Wallet-prod", "does not list"}},
		{"an escape sequence in a detail", edited(true, at(0, func(e *sweep.PlanTable) { e.Detail = "ok\x1b[2J" })), nil, []string{"control character"}},
		{"a negative cost", edited(true, at(0, func(e *sweep.PlanTable) { e.MonthlyCostUSD = -1 })), nil, []string{"monthly_cost_usd"}},
		// A careful editor recomputes the digest to widen the plan's rules: refused unless the
		// applying command says the same.
		{"include_protected turned on", edited(true, func(sp *sweep.SavedPlan) {
			sp.IncludeProtected = true
			for k := range sp.Tables {
				sp.Tables[k].Action = sweep.WouldDelete
			}
		}), nil, []string{"--include-protected"}},
		{"a name prefix added", edited(true, func(sp *sweep.SavedPlan) { sp.Filter.NamePrefix = "prod-" }), nil, []string{"--name-prefix prod-"}},
		{"older_than added", edited(true, func(sp *sweep.SavedPlan) { sp.Filter.OlderThan = "1ns" }), nil, []string{"--older-than 1ns"}},
		{"idle_for added", edited(true, func(sp *sweep.SavedPlan) { sp.Filter.IdleFor = "1ns" }), nil, []string{"--idle-for 1ns"}},
		// Flags beside --apply that disagree with the plan.
		{"--region not the plan's", good, []string{"--region", "us-east-1"}, []string{"--region us-east-1", region}},
		{"--older-than not the plan's", good, []string{"--older-than", "30d"}, []string{"--older-than"}},
		{"--backup not the plan's", good, []string{"--backup"}, []string{"--backup"}},
		{"--org not the plan's", good, []string{"--org"}, []string{"--org"}},
		{"--plan-out beside --apply", good, []string{"--plan-out", filepath.Join(dir, "x.json")}, []string{"--plan-out", "--apply"}},
		{"--plan-ttl beside --apply", good, []string{"--plan-ttl", "1h"}, []string{"--plan-ttl"}},
	}
	before := c.State(t)
	for _, tc := range cases {
		args := append([]string{"sweep", "--apply", tc.path, "--yes"}, tc.args...)
		code, out, stderr := sweepRunAt(t, now.Add(time.Hour), args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want 2\n%s\n%s", tc.name, code, out, stderr)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr %q does not name %q", tc.name, stderr, w)
			}
		}
		if len(stderr) > 2000 {
			t.Errorf("%s: a message of %d bytes: the value is not cut", tc.name, len(stderr))
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"--plan-out with --yes", []string{"--plan-out", filepath.Join(dir, "p.json"), "--yes"}, "--yes"},
		{"--plan-ttl without --plan-out", []string{"--plan-ttl", "1h"}, "--plan-out"},
		{"--plan-ttl over 7 days", []string{"--plan-out", filepath.Join(dir, "p.json"), "--plan-ttl", "8d"}, "7d"},
		{"--plan-ttl negative", []string{"--plan-out", filepath.Join(dir, "p.json"), "--plan-ttl", "-1h"}, "7d"},
		{"--plan-ttl zero", []string{"--plan-out", filepath.Join(dir, "p.json"), "--plan-ttl", "0s"}, "7d"},
		{"--plan-out a directory", []string{"--plan-out", dir}, "a directory"},
		{"--plan-out under a file", []string{"--plan-out", filepath.Join(good, "p.json")}, "not a directory"},
		{"--plan-out a FIFO", []string{"--plan-out", fifo}, "not a regular file"},
		{"--plan-out a symlink", []string{"--plan-out", linkToDir}, "symlink"},
		{"--format xml", []string{"--format", "xml"}, "markdown"},
		{"--json beside --format markdown", []string{"--json", "--format", "markdown"}, "--json"},
	} {
		code, out, stderr := sweepRunAt(t, now, append([]string{"sweep", "--region", region}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 naming %q\n%s\n%s", tc.name, code, tc.want, out, stderr)
		}
	}
	if after := c.State(t); after != before {
		t.Fatalf("a refused plan changed the cloud:\n%s\n→\n%s", before, after)
	}
	if b, _ := os.ReadFile(good); !bytes.Equal(b, valid) {
		t.Error("a refused run rewrote the plan file")
	}
	// The plan itself is good: applied as it is, it deletes its two orphans (the protected one
	// is skipped, as planned).
	code, out, stderr := sweepRunAt(t, now.Add(time.Hour), "sweep", "--apply", good, "--yes", "--json")
	if code != exitOK {
		t.Fatalf("the good plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := readPlanJSON(t, out).actions(); got["hostile-a"] != "deleted" || got["hostile-b"] != "deleted" || got["hostile-protected"] != "skipped-protected" {
		t.Errorf("the good plan: %v", got)
	}
}

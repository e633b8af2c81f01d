package main

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// orgSweepJSON is the documented `verify sweep --org --json` shape (README).
type orgSweepJSON struct {
	DryRun       bool     `json:"dry_run"`
	Organization string   `json:"organization"`
	Regions      []string `json:"regions"`
	Accounts     []struct {
		ID, Name, Status, Error string
		Candidates              int     `json:"candidates"`
		MonthlySavingsUSD       float64 `json:"monthly_savings_usd"`
	} `json:"accounts"`
	Candidates []struct {
		Table, Region, Account, Action string
	} `json:"candidates"`
	Problems []struct {
		Region, Account, Table, Error string
	} `json:"problems"`
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
}

var orgRegions = []string{"eu-west-2", "ap-south-1"}

// decoys builds, in one account and region, the single-account tests' decoys and two orphans:
// an untagged table, another project's orphan, a live wallet stack's table; and two tables
// whose stack is gone. It returns the orphans' names.
func decoys(t *testing.T, c fixture.Cloud, tag string) []string {
	t.Helper()
	c.CreateTable(t, "decoy-untagged-"+tag, nil, false)
	c.CreateTable(t, "decoy-other-project-"+tag, map[string]string{"Project": "other", "Stack": "Gone-stack"}, false)
	c.CreateTable(t, "decoy-kept-"+tag, map[string]string{"Project": "wallet", "Stack": "Gone-stack", "wallet:keep": "true"}, false)
	c.CreateStack(t, "Wallet-live", fixture.TableDecl{Name: "decoy-live-wallet-" + tag, Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-live", "ExpiresAfter": "168h"}})
	orphans := []string{"orphan-a-" + tag, "orphan-b-" + tag}
	for _, n := range orphans {
		c.CreateTable(t, n, map[string]string{"Project": "wallet", "Stack": "Gone-stack"}, false)
	}
	return orphans
}

// The organization's sweep on moto: a management account and four members in two regions,
// every one holding the decoys. One member is closed (SUSPENDED: reported, not run), one is
// excluded (untouched). The dry run changes nothing and names every orphan with its account;
// --yes deletes exactly those, through the one engine, and leaves every decoy.
func TestOrgSweepAndCost(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	o := fixture.NewOrg(t, "sweep", 4)
	suspended, excluded := o.Members[2], o.Members[3]
	o.Close(t, suspended)

	swept := append([]string{o.Management}, o.Members[:2]...)
	clouds := map[string]fixture.Cloud{} // account/region → the test's own clients there
	orphans := map[string][]string{}     // account/region → its orphans
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, acct := range append(slices.Clone(swept), excluded, suspended) {
		for _, region := range orgRegions {
			wg.Go(func() {
				c := fixture.NewCloud(t, region)
				if acct != o.Management {
					c = fixture.InAccount(t, acct, org.DefaultRole, region)
				}
				names := decoys(t, c, acct[8:]+"-"+region)
				mu.Lock()
				defer mu.Unlock()
				clouds[acct+"/"+region], orphans[acct+"/"+region] = c, names
			})
		}
	}
	wg.Wait()
	state := func() map[string]string {
		m := map[string]string{}
		for k, c := range clouds {
			m[k] = c.State(t)
		}
		return m
	}
	before := state()
	regionArgs := []string{"--region", orgRegions[0], "--region", orgRegions[1]}

	// Dry run: every orphan of the swept accounts, with its account; the suspended account
	// reported with its status (exit 1: an account was not run); the excluded one absent.
	code, out, stderr := sweepRun(t, "", append([]string{"sweep", "--org", "--exclude-account", excluded, "--json"}, regionArgs...)...)
	if code != exitFailed {
		t.Fatalf("dry run: exit %d, want 1 (a suspended account)\n%s\n%s", code, out, stderr)
	}
	var dry orgSweepJSON
	if err := json.Unmarshal([]byte(out), &dry); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !dry.DryRun || dry.Organization != o.ID {
		t.Errorf("dry_run %v organization %q, want true %q", dry.DryRun, dry.Organization, o.ID)
	}
	var got, want []string
	for _, c := range dry.Candidates {
		got = append(got, c.Account+"/"+c.Region+"/"+c.Table+"/"+c.Action)
	}
	for _, acct := range swept {
		for _, region := range orgRegions {
			for _, n := range orphans[acct+"/"+region] {
				want = append(want, acct+"/"+region+"/"+n+"/would-delete")
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("candidates:\n got %v\nwant %v", got, want)
	}
	status := map[string]string{}
	for _, a := range dry.Accounts {
		status[a.ID] = a.Status
		if a.ID == suspended && !strings.Contains(a.Error, "SUSPENDED") {
			t.Errorf("suspended account's error %q", a.Error)
		}
		if a.ID == o.Members[0] && (a.Name != o.Names[a.ID] || a.Candidates != 4) {
			t.Errorf("member account entry %+v, want name %s and 4 candidates", a, o.Names[a.ID])
		}
	}
	if len(dry.Accounts) != 4 || status[excluded] != "" || status[suspended] != "SUSPENDED" || status[o.Management] != "ACTIVE" {
		t.Errorf("accounts %+v: want the management account and 3 members, the excluded one absent", dry.Accounts)
	}
	if after := state(); !mapsEqual(after, before) {
		t.Fatal("the dry run changed the cloud")
	}

	// Text groups by account, with totals per account and for the organization.
	_, text, _ := sweepRun(t, "", append([]string{"sweep", "--org", "--exclude-account", excluded}, regionArgs...)...)
	for _, w := range []string{"== Account " + o.Members[0] + " (" + o.Names[o.Members[0]] + "), ACTIVE ==", "== Account " + suspended,
		"Account " + o.Members[1] + " total: 4 tables", "Organization total: 4 accounts (1 not run or not read), 12 tables",
		"organization " + o.ID} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q:\n%s", w, text)
		}
	}

	// --yes, the suspended account left out too: exactly the orphans go, exit 0.
	code, out, stderr = sweepRun(t, "", append([]string{"sweep", "--org", "--exclude-account", excluded, "--exclude-account", suspended, "--yes", "--json", "--concurrency", "4"}, regionArgs...)...)
	if code != exitOK {
		t.Fatalf("--yes: exit %d\n%s\n%s", code, out, stderr)
	}
	var done orgSweepJSON
	if err := json.Unmarshal([]byte(out), &done); err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for _, c := range done.Candidates {
		if c.Action == "deleted" && c.Account != "" {
			deleted++
		}
	}
	if deleted != 12 {
		t.Errorf("%d deleted, want 12:\n%s", deleted, out)
	}
	for key, c := range clouds {
		acct := strings.Split(key, "/")[0]
		gone := slices.Contains(swept, acct)
		for _, n := range orphans[key] {
			if has := strings.Contains(c.State(t), "table "+n+" "); has == gone {
				t.Errorf("%s: orphan %s exists=%v", key, n, has)
			}
		}
		now := c.State(t) + "\n"
		for _, line := range strings.Split(before[key], "\n") {
			if !strings.Contains(line, "orphan-") && !strings.Contains(now, line+"\n") {
				t.Errorf("%s: decoy %q is gone", key, line)
			}
		}
	}

	// cost --org: one report per account, every wallet table of it, with the account.
	code, out, stderr = sweepRun(t, "", "cost", "--org", "--exclude-account", excluded, "--exclude-account", suspended, "--region", orgRegions[0], "--days", "1", "--json")
	if code != exitOK {
		t.Fatalf("cost --org: exit %d\n%s\n%s", code, out, stderr)
	}
	// One report, one schema for one account and for many: every table at the top, with its
	// account; the accounts with their totals.
	var cr struct {
		Organization string `json:"organization"`
		Accounts     []struct {
			ID     string `json:"id"`
			Tables int    `json:"tables"`
		} `json:"accounts"`
		Tables []struct{ Table, Account string } `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &cr); err != nil {
		t.Fatal(err)
	}
	if cr.Organization != o.ID || len(cr.Accounts) != 3 {
		t.Fatalf("cost report: %s", out)
	}
	for _, a := range cr.Accounts {
		// left in the region: the kept table and the live stack's table, both tagged Project=wallet
		var names []string
		for _, tc := range cr.Tables {
			if tc.Account == a.ID {
				names = append(names, tc.Table)
			}
		}
		tag := a.ID[8:] + "-" + orgRegions[0]
		if w := []string{"decoy-kept-" + tag, "decoy-live-wallet-" + tag}; !slices.Equal(names, w) || a.Tables != 2 {
			t.Errorf("account %s: tables %v, want %v", a.ID, names, w)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Bad account flags are usage errors, refused before any call: the endpoint counts requests.
func TestOrgFlagsAreValidatedBeforeAnyAWSCall(t *testing.T) {
	calls := countingEndpoint(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"sweep", "--org", "--accounts", "111111111111"}, []string{"--org and --accounts"}},
		{[]string{"sweep", "--accounts", "12345"}, []string{`"12345"`, "12-digit"}},
		{[]string{"sweep", "--org", "--exclude-account", "abc"}, []string{`"abc"`, "12-digit"}},
		{[]string{"sweep", "--org", "--role-name", "no spaces please"}, []string{`"no spaces please"`, "IAM role name"}},
		{[]string{"sweep", "--role-name", "Auditor"}, []string{"--role-name needs --org or --accounts"}},
		{[]string{"sweep", "--exclude-account", "111111111111"}, []string{"--exclude-account needs --org"}},
		{[]string{"cost", "--accounts", "111111111111,2"}, []string{`"2"`, "12-digit"}},
		{[]string{"cost", "--org", "--role-name", ""}, []string{"--role-name", "empty"}},
	} {
		code, _, stderr := sweepRun(t, "", tc.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, stderr, w)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d calls reached AWS", n)
	}
}

// One report per command: `verify sweep --json` over the caller's account and `--org --json`
// over an organization have one schema (every key of one is a key of the other, at every
// depth), and so do `verify cost --json` and `cost --org --json`. A single account's report is
// the organization's with one account.
func TestOneAccountAndAnOrganizationHaveOneSchema(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	o := fixture.NewOrg(t, "schema", 1)
	const region = "eu-north-1"
	for _, acct := range []string{o.Management, o.Members[0]} {
		c := fixture.NewCloud(t, region)
		if acct != o.Management {
			c = fixture.InAccount(t, acct, org.DefaultRole, region)
		}
		c.CreateTable(t, "schema-orphan-"+acct[8:], map[string]string{"Project": "wallet", "Stack": "Gone-stack"}, false)
	}
	for _, cmd := range []string{"sweep", "cost"} {
		_, one, stderr := sweepRun(t, "", cmd, "--region", region, "--json")
		_, many, stderr2 := sweepRun(t, "", cmd, "--org", "--region", region, "--json")
		a, b := jsonKeys(t, one), jsonKeys(t, many)
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: one account's keys and the organization's differ:\n one: %v\nmany: %v\n%s%s", cmd, a, b, stderr, stderr2)
		}
		if !strings.Contains(one, `"accounts"`) || !strings.Contains(one, `"account": "`+o.Management+`"`) {
			t.Errorf("%s: a single account's report names no account:\n%s", cmd, one)
		}
	}
}

// jsonKeys are the key paths of a JSON document (array elements merged), sorted.
func jsonKeys(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	seen := map[string]bool{}
	var walk func(string, any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				seen[path+"."+k] = true
				walk(path+"."+k, e)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e)
			}
		}
	}
	walk("", v)
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

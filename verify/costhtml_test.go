package main

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/chromium"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// updateScreenshot rewrites the README's picture of the report from the browser test on moto:
// go test ./verify -run TestCostHTMLOnMoto -update-screenshot
var updateScreenshot = flag.Bool("update-screenshot", false, "write docs/cost-report.png from TestCostHTMLOnMoto")

// demoTables are the tables of docs/cost.md's run (the demo's wallet-dev among them), their
// day of use written as CloudWatch datapoints with PutMetricData: a stand-in for the metrics
// DynamoDB publishes itself, which no local cloud produces. wallet-scaled's reads are auto
// scaled from 150 to 200 (registered with moto's Application Auto Scaling API) and CloudWatch
// says it had 150, and 172 from 10:00 to 16:00; its reads rise from 20 a second at midnight to
// 120 at noon and back. wallet-busy, at 1/1, reads 2.5 a second for 20 minutes: throttled.
func demoTables(t *testing.T, c costCloud) []string {
	t.Helper()
	day := 24 * time.Hour
	c.table(t, "wallet-dev", ours, 10, 10, "")
	c.table(t, "wallet-busy", ours, 1, 1, "")
	c.table(t, "wallet-idle", ours, 1, 1, "")
	c.table(t, "wallet-od", ours, 0, 0, "")
	c.table(t, "wallet-scaled", ours, 10, 2, "")
	c.scale(t, "table/wallet-scaled", astypes.ScalableDimensionDynamoDBTableReadCapacityUnits, 150, 200)
	var data []cwtypes.MetricDatum
	for m := range 1440 {
		phase := math.Pi * 2 * float64(m) / 1440
		scaledReads := 20 + 100*(1-math.Cos(phase))/2
		data = append(data, c.at("wallet-scaled", reads, day, m, math.Round(scaledReads*60)), c.at("wallet-scaled", writes, day, m, 60),
			c.at("wallet-od", reads, day, m, 60), c.at("wallet-od", writes, day, m, 50))
		if m%30 == 0 { // light and bursty: a busy minute every half hour
			data = append(data, c.at("wallet-dev", reads, day, m, 50), c.at("wallet-dev", writes, day, m, 10))
		}
		if m >= 600 && m < 620 {
			data = append(data, c.at("wallet-busy", reads, day, m, 150), c.at("wallet-busy", writes, day, m, 15))
		}
	}
	data = append(data, c.at("wallet-dev", reads, day, 721, 84), c.at("wallet-dev", writes, day, 721, 42),
		c.at("wallet-scaled", "ProvisionedReadCapacityUnits", day, 0, 150), c.at("wallet-scaled", "ProvisionedReadCapacityUnits", day, 600, 172),
		c.at("wallet-scaled", "ProvisionedReadCapacityUnits", day, 960, 150), c.at("wallet-scaled", "ProvisionedWriteCapacityUnits", day, 0, 2))
	c.put(t, data)
	return []string{"wallet-busy", "wallet-dev", "wallet-idle", "wallet-od", "wallet-scaled"}
}

// costJSONTotals are what the page's totals must equal: the JSON report's figures.
type costJSONTotals struct {
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	Accounts          []struct {
		ID                string  `json:"id"`
		Tables            int     `json:"tables"`
		MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	} `json:"accounts"`
	Tables []tableTotals `json:"tables"`
}

type tableTotals struct {
	Table, Region, Account string
	MonthlyCostUSD         struct {
		Current float64 `json:"current"`
	} `json:"monthly_cost_usd"`
	Recommendation *struct {
		MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	} `json:"recommendation"`
}

// pageDOM is what a test reads of the page in the browser.
type pageDOM struct {
	Rows []struct {
		Table, Account, Region, Saves string
	}
	Charts []struct {
		Table, Account, Region string
		Paths                  int
		Context                string
	}
	Totals []struct {
		Kind, Key                 string
		Tables                    string
		Now, Advised, Saves, Text string
	}
	Scripts int
}

const readPage = `{
	Rows: [...document.querySelectorAll("tr.row")].map(r => ({Table: r.dataset.table, Account: r.dataset.account, Region: r.dataset.region, Saves: r.lastElementChild.textContent})),
	Charts: [...document.querySelectorAll("section.chart")].map(s => ({Table: s.dataset.table, Account: s.dataset.account, Region: s.dataset.region,
		Paths: s.querySelectorAll("svg path").length, Context: (s.querySelector("pre.context") || {textContent: ""}).textContent})),
	Totals: [...document.querySelectorAll("tr.total")].map(r => ({Kind: r.dataset.kind, Key: r.dataset.key || "", Tables: r.querySelector(".tables").textContent,
		Now: r.querySelector(".now").dataset.usd, Advised: r.querySelector(".advised").dataset.usd, Saves: r.querySelector(".saves").dataset.usd, Text: r.querySelector(".saves").textContent})),
	Scripts: document.querySelectorAll("script").length,
}`

// openPage opens the page in Chromium, fails the test if it fetched anything or broke its
// policy, and reads its DOM.
func openPage(t *testing.T, b *chromium.Browser, file string) (*chromium.Page, pageDOM) {
	t.Helper()
	p := b.Open(t, file)
	if req, v := p.Requests(), p.Violations(); len(req) > 0 || len(v) > 0 {
		t.Fatalf("the page fetched %v; violations %v", req, v)
	}
	var dom pageDOM
	p.Eval(readPage, &dom)
	if dom.Scripts != 0 {
		t.Fatalf("the page holds %d scripts", dom.Scripts)
	}
	return p, dom
}

// checkTotals holds the page's totals to the JSON report's: all tables, each account's (its
// summary's saving) and each region's (its tables' figures added up), to the cent and beyond.
func checkTotals(t *testing.T, dom pageDOM, r costJSONTotals, wantAccounts, wantRegions bool) {
	t.Helper()
	type sum struct {
		tables     int
		now, saves float64
	}
	all, regions, accounts := sum{}, map[string]*sum{}, map[string]*sum{}
	for _, tb := range r.Tables {
		saves := 0.0
		if tb.Recommendation != nil {
			saves = tb.Recommendation.MonthlySavingsUSD
		}
		for _, s := range []*sum{&all, at(regions, tb.Region), at(accounts, tb.Account)} {
			s.tables++
			s.now += tb.MonthlyCostUSD.Current
			s.saves += saves
		}
	}
	all.saves = r.MonthlySavingsUSD
	for _, a := range r.Accounts {
		at(accounts, a.ID).saves = a.MonthlySavingsUSD
		if at(accounts, a.ID).tables != a.Tables {
			t.Errorf("account %s: the JSON lists %d of its tables, its summary says %d", a.ID, at(accounts, a.ID).tables, a.Tables)
		}
	}
	seen := map[string]bool{}
	for _, row := range dom.Totals {
		var want *sum
		switch row.Kind {
		case "total":
			want = &all
		case "account":
			want = accounts[row.Key]
		case "region":
			want = regions[row.Key]
		}
		if want == nil {
			t.Errorf("the page totals %s %q, which the JSON has no table of", row.Kind, row.Key)
			continue
		}
		seen[row.Kind+"/"+row.Key] = true
		var now, advised, saves float64
		for _, f := range []struct {
			s string
			v *float64
		}{{row.Now, &now}, {row.Advised, &advised}, {row.Saves, &saves}} {
			if err := json.Unmarshal([]byte(f.s), f.v); err != nil {
				t.Fatalf("total %s %s: %q is not a number", row.Kind, row.Key, f.s)
			}
		}
		if row.Tables != strconv.Itoa(want.tables) || !cent(now, want.now) || !cent(saves, want.saves) || !cent(advised, want.now-want.saves) {
			t.Errorf("total %s %q: %s tables, now %v, advised %v, saves %v; the JSON's: %d, %v, %v, %v", row.Kind, row.Key, row.Tables, now, advised, saves,
				want.tables, want.now, want.now-want.saves, want.saves)
		}
	}
	if !seen["total/"] {
		t.Error("the page has no total of all tables")
	}
	for k := range regions {
		if seen["region/"+k] != wantRegions {
			t.Errorf("region %s totalled: %v, want %v", k, seen["region/"+k], wantRegions)
		}
	}
	for k := range accounts {
		if seen["account/"+k] != wantAccounts {
			t.Errorf("account %s totalled: %v, want %v", k, seen["account/"+k], wantAccounts)
		}
	}
}

func at[K comparable, V any](m map[K]*V, k K) *V {
	if m[k] == nil {
		m[k] = new(V)
	}
	return m[k]
}

// `verify cost --html FILE` on moto, the demo's tables and their day of use (PutMetricData, a
// stand-in): the page opens in Chromium needing nothing, every table of the JSON report is a
// row in the order of what its advice saves, each has its chart (consumed, capacity as it is
// and advised) with its context values to copy, and the totals are the JSON's. The JSON on
// stdout is the report it always was, --html or not. The screenshot is kept as an artifact
// (and, asked, as the README's).
func TestCostHTMLOnMoto(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	c := newCostCloud(t, "us-east-1")
	names := demoTables(t, c)
	dir := chromium.ArtifactDir(t)
	page := filepath.Join(dir, "cost.html")

	code, plain, stderr := c.run(t, "cost", "--days", "1", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, plain)
	}
	code, out, stderr := c.run(t, "cost", "--days", "1", "--json", "--html", page)
	if code != exitOK || stderr != "" {
		t.Fatalf("--html: exit %d, stderr %q\n%s", code, stderr, out)
	}
	if out != plain {
		t.Fatalf("--html changed the JSON report:\n%s\nwant\n%s", out, plain)
	}
	var r costJSONTotals
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}

	b := chromium.Start(t)
	p, dom := openPage(t, b, page)
	var rows, bySavings []string
	for _, row := range dom.Rows {
		rows = append(rows, row.Table)
	}
	tables := slices.Clone(r.Tables)
	slices.SortStableFunc(tables, func(a, b tableTotals) int {
		switch {
		case a.Recommendation.MonthlySavingsUSD > b.Recommendation.MonthlySavingsUSD:
			return -1
		case a.Recommendation.MonthlySavingsUSD < b.Recommendation.MonthlySavingsUSD:
			return 1
		}
		return strings.Compare(a.Table, b.Table)
	})
	for _, tb := range tables {
		bySavings = append(bySavings, tb.Table)
	}
	if sorted := slices.Sorted(slices.Values(rows)); !slices.Equal(sorted, names) || !slices.Equal(rows, bySavings) {
		t.Fatalf("rows %v; want every table %v, by what its advice saves: %v", rows, names, bySavings)
	}
	if len(dom.Charts) != len(names) {
		t.Fatalf("%d charts, want one a table: %+v", len(dom.Charts), dom.Charts)
	}
	for i, ch := range dom.Charts {
		// consumed, and capacity as it is, reads and writes; the advised line where it has one
		if ch.Table != bySavings[i] || ch.Paths < 2 {
			t.Errorf("chart %d: %s with %d lines, want %s's", i, ch.Table, ch.Paths, bySavings[i])
		}
		if ch.Table == "wallet-scaled" && (ch.Paths != 6 || !strings.Contains(ch.Context, "-c readCapacity=") || !strings.Contains(ch.Context, "-c readMax=")) {
			t.Errorf("wallet-scaled's chart: %d lines, context %q; want consumed, billed and the simulation's capacity, reads and writes, and its auto scaling's -c values", ch.Paths, ch.Context)
		}
	}
	checkTotals(t, dom, r, false, false)
	p.Screenshot(filepath.Join(dir, "cost-report.png"), 0)
	if *updateScreenshot {
		p.Screenshot(filepath.Join(localcloud.ModuleRoot(), "docs", "cost-report.png"), 1340)
	}
}

// `verify cost --load FILE --html PAGE`: the what-if drawn, its file's name (a table's on the
// page) text however it is spelled.
func TestCostHTMLOfALoadFile(t *testing.T) {
	dir := t.TempDir()
	reads, _ := workedExample(t)
	many := slices.Repeat(reads, 1+2*24*60/len(reads))[:2*24*60] // two days of the worked example's load
	body, err := os.ReadFile(loadCSV(t, many, make([]float64, len(many))))
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, `<script>alert(1)<img src=x onerror=alert(2)>.csv`, string(body))
	page := filepath.Join(dir, "what-if.html")
	code, out, stderr := costRun(t, "cost", "--load", file, "--capacity", "20/1", "--html", page, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	var r costJSONTotals
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	b := chromium.Start(t)
	_, dom := openPage(t, b, page)
	if len(dom.Rows) != 1 || dom.Rows[0].Table != file || len(dom.Charts) != 1 || dom.Charts[0].Table != file || dom.Charts[0].Paths < 4 {
		t.Fatalf("rows %+v, charts %+v; want the load %q drawn", dom.Rows, dom.Charts, file)
	}
	checkTotals(t, dom, r, false, false)
}

// `verify cost --org --html`: an organization's page totals every account (its summary's
// saving) and every region, each equal to the JSON report's; its rows name the account.
func TestCostHTMLOfAnOrganization(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	o := fixture.NewOrg(t, "html", 2)
	regions := []string{"eu-west-2", "ap-south-1"}
	for _, acct := range append([]string{o.Management}, o.Members...) {
		for _, region := range regions {
			c := newCostCloud(t, region)
			if acct != o.Management {
				c.Cloud = fixture.InAccount(t, acct, org.DefaultRole, region)
			}
			name := "org-" + acct[8:] + "-" + region
			c.table(t, name, ours, 10, 10, "")
			c.steady(t, name)
		}
	}
	page := filepath.Join(t.TempDir(), "org.html")
	// cost takes one region or all: all, over the organization's three accounts
	code, out, stderr := costRunAt(t, time.Now().UTC().Add(73*time.Hour), "cost", "--org", "--all-regions", "--days", "3", "--json", "--html", page)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	var r costJSONTotals
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Tables) != 6 || len(r.Accounts) != 3 {
		t.Fatalf("want 6 tables in 3 accounts:\n%s", out)
	}
	b := chromium.Start(t)
	_, dom := openPage(t, b, page)
	if len(dom.Rows) != 6 || len(dom.Charts) != 6 {
		t.Fatalf("%d rows and %d charts, want 6 of each", len(dom.Rows), len(dom.Charts))
	}
	for _, row := range dom.Rows {
		if !strings.Contains(row.Table, row.Account[8:]) {
			t.Errorf("row %+v: not its account's table", row)
		}
	}
	checkTotals(t, dom, r, true, true)
}

// Bad --html values are refused before any AWS call, and leave nothing behind: a directory, a
// symlink, a FIFO, a device, a missing directory, a place nobody may write, beside --template.
func TestCostHTMLBadInputCallsNothing(t *testing.T) {
	calls := countingEndpoint(t)
	clearPriceEnv(t)
	dir := t.TempDir()
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink(filepath.Join(dir, "elsewhere.html"), link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.html")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(dir, "locked")
	if err := os.Mkdir(locked, 0o500); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--html", dir}, "a directory; name the page's file"},
		{[]string{"--html", link}, "a symlink; name the file itself"},
		{[]string{"--html", fifo}, "not a regular file"},
		{[]string{"--html", "/dev/null"}, "not a regular file"},
		{[]string{"--html", filepath.Join(dir, "missing", "cost.html")}, "is not a directory"},
		{[]string{"--html", filepath.Join(dir, "cost.html"), "--template", filepath.Join(dir, "t.json")}, "--html and --template cannot be used together"},
		{[]string{"--html", filepath.Join(dir, "cost.html"), "--days", "0"}, "--days 0"},
	} {
		code, out, stderr := costRun(t, append([]string{"cost"}, tc.args...)...)
		if code != exitUsage || out != "" || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 saying %q", tc.args, code, out, stderr, tc.want)
		}
	}
	if os.Geteuid() != 0 { // root writes anywhere: the probe then rightly succeeds
		if code, _, stderr := costRun(t, "cost", "--html", filepath.Join(locked, "cost.html")); code != exitUsage || !strings.Contains(stderr, "cannot write there") {
			t.Errorf("an unwritable directory: exit %d, %q", code, stderr)
		}
	}
	after, _ := os.ReadDir(dir)
	if len(after) != len(before) {
		t.Errorf("refused commands left files: %v, was %v", after, before)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("refused commands made %d AWS calls", n)
	}
}

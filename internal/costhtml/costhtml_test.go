package costhtml

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/chromium"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

var start = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// loadReport is a what-if report (verify cost --load) of a load profile over days, as a CSV
// the command reads: reads the profile, writes a tenth of it; drawn as a page draws it.
func loadReport(t testing.TB, name string, days int, c cost.Capacity) cost.Report {
	t.Helper()
	n := days * 24 * 60
	reads := profile.Of(name, n)
	var b strings.Builder
	b.WriteString(usage.LoadHeader + "\n")
	for m := range n {
		fmt.Fprintf(&b, "%s,%g,%g\n", start.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), reads[m]*60, reads[m]*6)
	}
	l, err := usage.ParseLoad([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return cost.ReviewLoad(l, cost.LoadOptions{File: name + ".csv", Capacity: c, Draw: Draw}, cost.USEast1())
}

// profiles are loads a page is tested on, each on a capacity that makes its advice differ:
// auto scale, on demand, lower, on demand for an idle table, and a raise.
var profiles = []struct {
	name string
	c    cost.Capacity
}{{"diurnal", cost.Capacity{Read: 1500, Write: 150}}, {"spiky", cost.Capacity{Read: 100, Write: 10}}, {"flat", cost.Capacity{Read: 1000, Write: 100}},
	{"idle", cost.Capacity{Read: 5, Write: 5}}, {"bursty", cost.Capacity{Read: 20, Write: 20}}}

// fleet is a report of n tables over accounts and regions, made of the profiles' tables (each
// saving a different amount) and the charts of the best charts of them, as a review keeps them.
func fleet(t testing.TB, n, charts, days int) cost.Report {
	t.Helper()
	var base []cost.Report
	for _, p := range profiles {
		base = append(base, loadReport(t, p.name, days, p.c))
	}
	r := base[0]
	r.Load, r.Tables, r.Charts, r.Notes = "", nil, nil, nil
	r.Organization = "o-abcde12345"
	r.Regions = []string{"ap-south-1", "eu-west-1", "us-east-1"}
	accounts := map[string]*cost.AccountSummary{}
	for i := range n {
		b := base[i%len(base)]
		tc := b.Tables[0]
		tc.Table = fmt.Sprintf("wallet-%05d", i)
		tc.Account = fmt.Sprintf("1111111111%02d", i%7)
		tc.Region = r.Regions[i%3]
		rec := *tc.Recommendation
		rec.MonthlySavingsUSD = cost.Round(float64((i*7919)%10007)/100 - 5)
		tc.Recommendation = &rec
		r.Tables = append(r.Tables, tc)
		if accounts[tc.Account] == nil {
			accounts[tc.Account] = &cost.AccountSummary{ID: tc.Account, Name: "team " + tc.Account[10:], Status: "ACTIVE"}
		}
		accounts[tc.Account].Tables++
		accounts[tc.Account].MonthlySavingsUSD += rec.MonthlySavingsUSD
		r.MonthlySavingsUSD += rec.MonthlySavingsUSD
	}
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range accounts {
			if !yield(id) {
				return
			}
		}
	}) {
		a := accounts[id]
		a.MonthlySavingsUSD = cost.Round(a.MonthlySavingsUSD)
		r.Accounts = append(r.Accounts, *a)
	}
	r.MonthlySavingsUSD = cost.Round(r.MonthlySavingsUSD)
	sorted := slices.Clone(r.Tables)
	slices.SortFunc(sorted, cost.SavesMore)
	for i, tc := range sorted[:min(charts, n)] {
		c := base[i%len(base)].Charts[0]
		c.Table, c.Account, c.Region = tc.Table, tc.Account, tc.Region
		r.Charts = append(r.Charts, c)
	}
	return r
}

func writePage(t testing.TB, r cost.Report) (string, []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cost.html")
	if err := WriteFile(f, r); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return f, body
}

// A page is the same bytes on every run of the same report: what a review of it diffs.
func TestThePageIsTheSameOnEveryRun(t *testing.T) {
	r := fleet(t, 40, 10, 1)
	var a, b bytes.Buffer
	if err := Write(&a, r); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		b.Reset()
		if err := Write(&b, r); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two renderings of one report differ")
		}
	}
}

// A report with no table (a region without any, a denial) is a page that says so.
func TestAReportWithoutTablesIsAPageThatSaysSo(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, cost.NewReport(nil, 14, cost.USEast1())); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `<p id="no-tables">No tables.</p>`) || strings.Contains(b.String(), `class="chart"`) {
		t.Fatalf("the page of no table:\n%s", b.String())
	}
}

// The Content-Security-Policy allows the page's one style element by its hash and nothing
// else at all: no script, font, image or connection.
func TestTheCSPAllowsOnlyThePagesOwnStyle(t *testing.T) {
	_, body := writePage(t, fleet(t, 3, 3, 1))
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindAllSubmatch(body, -1)
	if len(m) != 1 {
		t.Fatalf("%d style elements, want 1", len(m))
	}
	sum := sha256.Sum256(m[0][1])
	csp := regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)">`).FindSubmatch(body)
	if csp == nil {
		t.Fatal("no Content-Security-Policy meta element")
	}
	policy := strings.ReplaceAll(string(csp[1]), "&#39;", "'")
	want := "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.HasPrefix(policy, want) {
		t.Fatalf("policy %q, want it to start %q", policy, want)
	}
	for _, never := range []string{"<script", "<link", "<img", "<iframe", "@import", "url(", "http://", "https://"} {
		if bytes.Contains(bytes.ToLower(body), []byte(never)) {
			t.Errorf("the page holds %q", never)
		}
	}
}

// hostile are names and values a person or AWS can put in a report: a load file's name is a
// table's, an account's name is anyone's in the organization, a problem quotes AWS's message.
const (
	hostileTable   = `<script>alert("table")</script>.csv`
	hostileAccount = `<img src=x onerror=alert(1)>`
	hostileNote    = `</style><script>alert("note")</script>`
	hostileError   = `"><svg onload=alert(1)><a href="javascript:alert(1)">x</a>`
)

func hostileReport(t testing.TB) cost.Report {
	r := fleet(t, 3, 3, 1)
	r.Tables[0].Table = hostileTable
	r.Charts[slices.IndexFunc(r.Charts, func(c cost.Chart) bool { return c.Table == "wallet-00000" })].Table = hostileTable
	r.Tables[0].Notes = []string{hostileNote}
	r.Accounts[0].Name = hostileAccount
	r.Problems = []discover.Problem{{Region: "us-east-1", Account: r.Accounts[0].ID, Table: hostileTable, Error: hostileError}}
	r.Notes = []string{hostileNote}
	return r
}

// Names and values from AWS are text wherever they go: in a cell, a heading, an attribute, a
// note; no element or script of theirs reaches the page.
func TestNamesAndValuesFromAWSAreText(t *testing.T) {
	_, body := writePage(t, hostileReport(t))
	for _, raw := range []string{hostileTable, hostileAccount, hostileNote, hostileError, "<script", "<img", "<svg onload", "<a href=\"javascript"} {
		if bytes.Contains(body, []byte(raw)) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	if !bytes.Contains(body, []byte("&lt;script&gt;alert(&#34;table&#34;)&lt;/script&gt;.csv")) {
		t.Error("the hostile table's name is not in the page as text")
	}
}

// The page in a real browser: every table is a row, the 3 charted are drawn, the hostile names
// read back as the text they are and made no element, the style applied (its hash is right),
// and the page asked for nothing and broke no rule of its policy.
func TestThePageOpensInChromiumNeedingNothing(t *testing.T) {
	r := hostileReport(t)
	f, _ := writePage(t, r)
	b := chromium.Start(t)
	p := b.Open(t, f)
	if req, v := p.Requests(), p.Violations(); len(req) > 0 || len(v) > 0 {
		t.Fatalf("the page fetched %v, violations %v", req, v)
	}
	var dom struct {
		Rows, Charts, Svgs, Foreign int
		Names                       []string
		Account, Problem, H1Weight  string
	}
	p.Eval(`{
		Rows: document.querySelectorAll("tr.row").length,
		Charts: document.querySelectorAll("section.chart").length,
		Svgs: document.querySelectorAll("svg").length,
		Foreign: document.querySelectorAll("script, img, iframe, object, embed, link, a[href^=javascript], [onerror], [onload]").length,
		Names: [...document.querySelectorAll("tr.row td.table-name")].map(e => e.textContent),
		Account: document.querySelector("tr.total[data-kind=account]").textContent,
		Problem: document.querySelector("#problems li").textContent,
		H1Weight: getComputedStyle(document.querySelector("h1")).fontSize,
	}`, &dom)
	if dom.Rows != 3 || dom.Charts != 3 || dom.Svgs != 3 || dom.Foreign != 0 {
		t.Fatalf("%d rows, %d charts, %d svg, %d foreign elements; want 3, 3, 3, 0", dom.Rows, dom.Charts, dom.Svgs, dom.Foreign)
	}
	if !slices.Contains(dom.Names, hostileTable) || !strings.Contains(dom.Account, hostileAccount) || !strings.Contains(dom.Problem, hostileError) {
		t.Fatalf("names read back as %q, account %q, problem %q", dom.Names, dom.Account, dom.Problem)
	}
	if dom.H1Weight != "20px" { // style.css's h1: the style element ran under the policy
		t.Fatalf("h1 is %s: the page's style did not apply (its hash in the policy?)", dom.H1Weight)
	}
	p.Screenshot(filepath.Join(chromium.ArtifactDir(t), "hostile.png"), 0)
}

// The browser test can fail: a page that asks for an image is seen asking, and one whose
// policy refuses it is seen asking and refused (Chromium reports the request a policy blocks).
// Port 9 on the loopback: nothing listens, nothing leaves the machine.
func TestTheBrowserSeesWhatAPageFetches(t *testing.T) {
	dir := t.TempDir()
	b := chromium.Start(t)
	for _, tc := range []struct {
		name, head  string
		request, cv bool
	}{
		{"no policy", ``, true, false},
		{"the page's policy", `<meta http-equiv="Content-Security-Policy" content="` + strings.ReplaceAll(CSP(), "'", "&#39;") + `">`, true, true},
	} {
		f := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".html")
		page := `<!DOCTYPE html><html><head>` + tc.head + `</head><body><img src="http://127.0.0.1:9/pixel.png"></body></html>`
		if err := os.WriteFile(f, []byte(page), 0o600); err != nil {
			t.Fatal(err)
		}
		p := b.Open(t, f)
		if got := len(p.Requests()) > 0; got != tc.request {
			t.Errorf("%s: requests %v, want some: %v", tc.name, p.Requests(), tc.request)
		}
		if got := len(p.Violations()) > 0; got != tc.cv {
			t.Errorf("%s: violations %v, want some: %v", tc.name, p.Violations(), tc.cv)
		}
	}
}

// 10,000 tables over 7 accounts and 3 regions, 14 days each: a page that draws the 100 that
// save most and lists every table as a row. The figure that matters is how long the browser
// takes to open it, logged (not asserted: the machine is shared); docs/cost.md states it.
func TestAPageOf10000TablesOpensInTheBrowser(t *testing.T) {
	r := fleet(t, 10000, Charts, 14)
	began := time.Now()
	f, body := writePage(t, r)
	rendered := time.Since(began)
	b := chromium.Start(t)
	var loads []time.Duration
	for range 3 {
		p := b.Open(t, f)
		var dom struct{ Rows, Charts int }
		p.Eval(`{Rows: document.querySelectorAll("tr.row").length, Charts: document.querySelectorAll("section.chart svg").length}`, &dom)
		if dom.Rows != 10000 || dom.Charts != Charts || len(p.Requests()) > 0 || len(p.Violations()) > 0 {
			t.Fatalf("%d rows, %d charts, requests %v, violations %v; want 10000, %d, none", dom.Rows, dom.Charts, p.Requests(), p.Violations(), Charts)
		}
		loads = append(loads, p.Load)
		if len(loads) == 1 {
			p.Screenshot(filepath.Join(chromium.ArtifactDir(t), "10000-tables-top.png"), 900)
		}
	}
	slices.Sort(loads)
	t.Logf("10,000 tables: %.1f MB rendered in %v; opened (navigation start to load event) in %v, %v, %v (median %v)",
		float64(len(body))/1e6, rendered.Round(time.Millisecond), loads[0].Round(time.Millisecond), loads[1].Round(time.Millisecond), loads[2].Round(time.Millisecond), loads[1].Round(time.Millisecond))
}

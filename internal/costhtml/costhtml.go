// Package costhtml renders a cost report (internal/cost) as one HTML page that needs nothing
// else: no script at all, and no font, style or image from anywhere (its Content-Security-Policy
// says default-src 'none'), so that it opens offline from a pipeline's artifacts or an email.
// It shows the totals (by account and region over several), every table sorted by what its
// advice saves, and a chart for those that save most: consumed against provisioned capacity,
// the advised option's capacity, and the minutes throttled. html/template escapes every name
// and value from AWS in its context; the charts are SVG drawn here, small and the same on every
// run.
package costhtml

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// Charts is how many tables a page draws: those whose advice saves most. Every other table is
// a row: 10,000 tables stay a page a browser opens in well under 2 seconds.
const Charts = 100

// rowsPerChunk is how many rows are laid out together: the page's rows are tables of this many,
// each laid out only when it scrolls into view (content-visibility), so that 10,000 rows open
// as fast as a few hundred.
const rowsPerChunk = 200

// Draw is what a review must keep for a page: Charts charts, and a sparkline a row.
var Draw = cost.Draw{Charts: Charts, Sparklines: true}

//go:embed page.html.tmpl
var pageTemplate string

//go:embed style.css
var style string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"usd":   func(v float64) string { return fmt.Sprintf("$%.2f", v) },
	"usdp":  usdPtr,
	"exact": func(v float64) string { return fmt.Sprintf("%.4f", v) },
	"spark": cost.Sparkline,
}).Parse(pageTemplate))

// CSP is the page's Content-Security-Policy: nothing may be fetched, and the one style
// element (by its hash) is the only style that applies.
func CSP() string {
	sum := sha256.Sum256([]byte(style))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'"
}

// Write renders the report as the page.
func Write(w io.Writer, r cost.Report) error {
	return page.Execute(w, newView(r))
}

// view is the page's data: figures as the report has them, in the order the page shows them.
type view struct {
	CSP   string
	Style template.CSS
	Title string
	// Heading says what the report covers and over which window.
	Heading string
	Total   total
	// ByAccount and ByRegion are shown over several accounts or regions.
	ByAccount, ByRegion []total
	Charts              []chartView
	// Chunks are the rows, rowsPerChunk at a time: a browser lays out only those in view.
	Chunks [][]row
	// Many: over several accounts, rows name theirs.
	Many   bool
	Report cost.Report
	// Prices are a line per region and class: what the tables were priced at, from where.
	Prices []string
}

// total is what some tables cost now, as advised, and what the advice saves: the report's
// figures added up.
type total struct {
	Key, Label         string
	Tables             int
	Now, Advised, Save float64
}

func (t *total) add(tc cost.TableCost) {
	t.Tables++
	t.Now += tc.MonthlyCostUSD.Current
	saves := 0.0
	if rec := tc.Recommendation; rec != nil {
		saves = rec.MonthlySavingsUSD
	}
	t.Save += saves
	t.Advised += tc.MonthlyCostUSD.Current - saves
}

// row is a table's line.
type row struct {
	Rank     int
	T        cost.TableCost
	Account  string
	Capacity string
	Advice   string
	Context  string
	Saves    *float64
	// Chart is the id of its chart, when it has one.
	Chart string
}

func newView(r cost.Report) view {
	v := view{CSP: CSP(), Style: template.CSS(style), Report: r}
	for _, p := range r.Prices {
		v.Prices = append(v.Prices, p.Line())
	}
	names := map[string]string{}
	for _, a := range r.Accounts {
		names[a.ID] = a.Name
	}
	account := func(id string) string {
		if n := names[id]; n != "" {
			return id + " (" + n + ")"
		}
		return id
	}
	if r.Load != "" {
		v.Title = "Cost of the load in " + r.Load
		v.Heading = fmt.Sprintf("Cost of the load in %s, a what-if with no AWS call, at %s prices, in US$ a month", r.Load, strings.Join(r.Regions, ", "))
	} else {
		v.Title = "Cost of wallet tables in " + r.Where()
		v.Heading = fmt.Sprintf("Cost of wallet tables in %s, from their use in the last %s, in US$ a month", r.Where(), days(r.Days))
	}
	v.Many = r.Organization != "" || len(r.Accounts) > 1

	tables := slices.Clone(r.Tables)
	slices.SortStableFunc(tables, cost.SavesMore)
	// Charts in the rows' order, each with its table: a chart without a table of the report
	// is not drawn.
	rank := map[string]int{}
	for i, t := range tables {
		rank[key(t.Account, t.Region, t.Table)] = i
	}
	var charts []cost.Chart
	for _, c := range r.Charts {
		if _, ok := rank[key(c.Account, c.Region, c.Table)]; ok {
			charts = append(charts, c)
		}
	}
	slices.SortStableFunc(charts, func(a, b cost.Chart) int {
		return rank[key(a.Account, a.Region, a.Table)] - rank[key(b.Account, b.Region, b.Table)]
	})
	charted := map[string]string{}
	for i, c := range charts {
		charted[key(c.Account, c.Region, c.Table)] = fmt.Sprintf("chart-%d", i+1)
	}
	byAccount, byRegion := map[string]*total{}, map[string]*total{}
	for _, a := range r.Accounts {
		byAccount[a.ID] = &total{Key: a.ID, Label: account(a.ID)}
	}
	for i, t := range tables {
		v.Total.add(t)
		if byAccount[t.Account] == nil {
			byAccount[t.Account] = &total{Key: t.Account, Label: account(t.Account)}
		}
		byAccount[t.Account].add(t)
		if byRegion[t.Region] == nil {
			byRegion[t.Region] = &total{Key: t.Region, Label: t.Region}
		}
		byRegion[t.Region].add(t)
		rw := row{Rank: i + 1, T: t, Account: account(t.Account), Capacity: cost.CapacityText(t), Advice: "none: no data",
			Chart: charted[key(t.Account, t.Region, t.Table)]}
		if rec := t.Recommendation; rec != nil {
			rw.Advice, rw.Context, rw.Saves = string(rec.Change), rec.Context, &rec.MonthlySavingsUSD
			if t.Idle != nil {
				rw.Advice = "idle: " + rw.Advice + " or delete"
			}
		}
		if len(v.Chunks) == 0 || len(v.Chunks[len(v.Chunks)-1]) == rowsPerChunk {
			v.Chunks = append(v.Chunks, make([]row, 0, rowsPerChunk))
		}
		v.Chunks[len(v.Chunks)-1] = append(v.Chunks[len(v.Chunks)-1], rw)
	}
	// The report's savings are the ones shown (the JSON's, rounded once), and as advised is
	// what is left of now.
	v.Total.Save = r.MonthlySavingsUSD
	v.Total.Advised = v.Total.Now - v.Total.Save
	for _, a := range r.Accounts {
		t := *byAccount[a.ID]
		t.Save, t.Advised = a.MonthlySavingsUSD, t.Now-a.MonthlySavingsUSD
		v.ByAccount = append(v.ByAccount, t)
	}
	for _, id := range sortedKeys(byAccount) {
		if !slices.ContainsFunc(r.Accounts, func(a cost.AccountSummary) bool { return a.ID == id }) {
			v.ByAccount = append(v.ByAccount, *byAccount[id])
		}
	}
	for _, region := range sortedKeys(byRegion) {
		v.ByRegion = append(v.ByRegion, *byRegion[region])
	}
	if !v.Many {
		v.ByAccount = nil
	}
	if len(v.ByRegion) < 2 && !v.Many {
		v.ByRegion = nil
	}
	for _, c := range charts {
		id := key(c.Account, c.Region, c.Table)
		v.Charts = append(v.Charts, newChartView(charted[id], c, tables[rank[id]], account(c.Account)))
	}
	return v
}

func key(account, region, table string) string { return account + "\x00" + region + "\x00" + table }

func sortedKeys(m map[string]*total) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func usdPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("$%.2f", *v)
}

func days(n int) string {
	if n == 1 {
		return "day"
	}
	return fmt.Sprintf("%d days", n)
}

// WriteFile writes the page to path whole or not at all: into a temporary file beside it,
// synced, then renamed over path (a symlink or a FIFO at path is replaced, never written
// through). A page of 10,000 tables is a few megabytes, written as it renders.
func WriteFile(path string, r cost.Report) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing by that name
	w := bufio.NewWriterSize(tmp, 1<<20)
	err = Write(w, r)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

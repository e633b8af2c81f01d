package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// loadStart is the first minute of every load written here: a Tuesday, midnight UTC.
var loadStart = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// loadCSV writes a load file of units a second (reads, writes), one row a minute from loadStart.
func loadCSV(t *testing.T, reads, writes []float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(usage.LoadHeader + "\n")
	for i := range reads {
		fmt.Fprintf(&b, "%s,%s,%s\n", loadStart.Add(time.Duration(i)*time.Minute).Format(time.RFC3339),
			strconv.FormatFloat(reads[i]*60, 'f', -1, 64), strconv.FormatFloat(writes[i]*60, 'f', -1, 64))
	}
	return writeFile(t, "load.csv", b.String())
}

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// loadJSON writes the same load as `aws cloudwatch get-metric-data` prints it: newest first,
// a minute without requests left out (CloudWatch publishes no datapoint for it).
func loadJSON(t *testing.T, reads, writes []float64) string {
	t.Helper()
	result := func(label string, s []float64) map[string]any {
		ts, vs := []string{}, []float64{} // the CLI prints [] for none
		for i := len(s) - 1; i >= 0; i-- {
			if s[i] == 0 {
				continue
			}
			ts = append(ts, loadStart.Add(time.Duration(i)*time.Minute).Format("2006-01-02T15:04:05+00:00"))
			vs = append(vs, s[i]*60)
		}
		return map[string]any{"Id": strings.ToLower(label[8:12]), "Label": label, "Timestamps": ts, "Values": vs, "StatusCode": "Complete"}
	}
	doc := map[string]any{"MetricDataResults": []any{result("ConsumedReadCapacityUnits", reads), result("ConsumedWriteCapacityUnits", writes)}, "Messages": []any{}}
	body, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "metric-data.json", string(body))
}

// The worked example of docs/cost.md, read from the page: its reads a second, minute by minute.
func workedExample(t *testing.T) (reads []float64, policy string) {
	t.Helper()
	body, err := os.ReadFile("../docs/cost.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	section := page[strings.Index(page, "### A worked example"):]
	policy = regexp.MustCompile("`--autoscale (\\d+:\\d+:\\d+)`").FindStringSubmatch(section)[1]
	row := regexp.MustCompile(`(?m)^\| (\d+)(?:–(\d+))? \| ([\d.]+) \| \d+ \|`)
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		from, _ := strconv.Atoi(m[1])
		to := from
		if m[2] != "" {
			to, _ = strconv.Atoi(m[2])
		}
		x, _ := strconv.ParseFloat(m[3], 64)
		for range to - from + 1 {
			reads = append(reads, x)
		}
	}
	return reads, policy
}

// A what-if calls nothing: every run here goes to an endpoint that counts what reaches it, and
// nothing may. The worked example of docs/cost.md, priced as the page says: its reads auto
// scaled 5–40 at 70 % are 339 capacity-minutes (5.65 RCU-hours) and 4 minutes throttled; its
// writes (none) fixed at 1 by 1:1:70 are 35. Over 35 minutes, a month is × 730 / (35/60). The
// table as it is, 1/1 (the default), throttles every one of the 35 minutes.
func TestCostLoadPricesTheWorkedExampleCallingNothing(t *testing.T) {
	calls := countingEndpoint(t)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)
	reads, policy := workedExample(t)
	if len(reads) != 35 || policy != "5:40:70" {
		t.Fatalf("the worked example: %d minutes, policy %s", len(reads), policy)
	}
	none := make([]float64, len(reads))
	perMonth := 730 / (35.0 / 60)
	autoScaled := (339.0/60*0.0001 + 35.0/60*0.0005) * perMonth
	for _, file := range []string{loadCSV(t, reads, none), loadJSON(t, reads, none)} {
		code, out, stderr := costRun(t, append([]string{"cost", "--load", file, "--autoscale-read", policy, "--autoscale-write", "1:1:70", "--json"}, basePrices...)...)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s\n%s", file, code, stderr, out)
		}
		r := decodeCost(t, out)
		if len(r.Tables) != 1 {
			t.Fatalf("one table, the load:\n%s", out)
		}
		tb := r.Tables[0]
		// JSON leaves out the minutes without requests; both start at minute 0 (3 a second).
		th := tb.ThrottledMinutes
		if tb.Table != file || tb.AutoScaling == nil || tb.AutoScaling.Read != (policyJSON{5, 40, 70}) || tb.AutoScaling.Write != (policyJSON{1, 1, 70}) ||
			th == nil || th.AutoScaled != 4 || th.Current != 35 || th.RightSized != 0 || !cent(*tb.MonthlyCostUSD.AutoScaled, autoScaled) ||
			!cent(*tb.MonthlyCostUSD.Current, (0.0001+0.0005)*730) || tb.CurrentBasis != "instant" || tb.Provisioned != (capJSON{1, 1}) {
			t.Fatalf("%s: %+v, throttled %+v, auto scaled %v (want %.4f)\n%s", file, tb.AutoScaling, th, *tb.MonthlyCostUSD.AutoScaled, autoScaled, out)
		}
		var top struct {
			Load     *string           `json:"load"`
			Accounts []json.RawMessage `json:"accounts"`
		}
		if err := json.Unmarshal([]byte(out), &top); err != nil || top.Load == nil || *top.Load != file || top.Accounts == nil || len(top.Accounts) != 0 {
			t.Fatalf("the report names the load and no account: %+v\n%s", top, out)
		}
	}
	code, out, _ := costRun(t, append([]string{"cost", "--load", loadCSV(t, reads, none), "--autoscale", policy}, basePrices...)...)
	if code != exitOK || !strings.Contains(out, "Cost of the load in ") || !strings.Contains(out, "a what-if: no AWS call") || !strings.Contains(out, "AUTO-SCALED") {
		t.Fatalf("text (exit %d):\n%s", code, out)
	}
	code, out, _ = costRun(t, append([]string{"cost", "--load", loadCSV(t, reads, none), "--format", "markdown"}, basePrices...)...)
	if code != exitOK || !strings.Contains(out, "### Cost of the load in ") || !strings.Contains(out, "a what-if with no AWS call") || !strings.Contains(out, "| Auto scaled |") {
		t.Fatalf("markdown (exit %d):\n%s", code, out)
	}
	// Without prices of the user's, at --region's own (the shipped table's: no call).
	code, out, stderr := costRun(t, "cost", "--load", loadCSV(t, reads, none), "--region", "eu-central-1", "--json")
	var at pricesJSON
	_ = json.Unmarshal([]byte(out), &at)
	if code != exitOK || len(at.Prices) == 0 || at.Prices[0].Region != "eu-central-1" || !strings.HasPrefix(at.Prices[0].Source, "the shipped table") ||
		len(at.Tables) != 1 || !cent(at.Tables[0].MonthlyCostUSD.Current, (0.0001586+0.000793)*730) {
		t.Fatalf("--region eu-central-1 (exit %d, %s): %+v", code, stderr, at)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("pricing a load made %d AWS calls", n)
	}
}

// A week of each load profile as a CSV on a table of 1/1 (the default --capacity): the advice
// never throttles more minutes than the table as it is, and says how to deploy it.
func TestCostLoadAdvisesEveryProfile(t *testing.T) {
	calls := countingEndpoint(t)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)
	const minutes = 7 * 24 * 60
	for _, name := range profile.Names() {
		load := profile.Of(name, minutes)
		writes := make([]float64, minutes)
		for i, x := range load {
			writes[i] = x / 4
		}
		for _, capacity := range []string{"1/1", "40000/40000"} {
			code, out, stderr := costRun(t, "cost", "--load", loadCSV(t, load, writes), "--capacity", capacity, "--json")
			if code != exitOK {
				t.Fatalf("%s: exit %d: %s", name, code, stderr)
			}
			tb := decodeCost(t, out).Tables[0]
			th, rec := tb.ThrottledMinutes, tb.Recommendation
			advised := map[string]int{"keep": th.Current, "lower": th.RightSized, "raise": th.RightSized, "autoscale": th.AutoScaled, "on-demand": th.OnDemand}
			got, known := advised[rec.Action]
			if !known || got > th.Current {
				t.Fatalf("%s on %s: advised %s, throttling %d minutes against %d as it is\n%s", name, capacity, rec.Action, got, th.Current, out)
			}
			if rec.Action == "autoscale" && !strings.Contains(rec.Context, "-c readMax=") && !strings.Contains(rec.Context, "-c writeMax=") {
				t.Fatalf("%s: autoscale without a max: %q", name, rec.Context)
			}
			t.Logf("%s on %s: %s %q saves %.2f; throttled %+v", name, capacity, rec.Action, rec.Context, *rec.MonthlySavingsUSD, *th)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("%d AWS calls", n)
	}
}

// A what-if's table has the keys a live table's has: the one cost report.
func TestCostLoadReportHasTheLiveReportsKeys(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	c := newCostCloud(t, "ap-northeast-2")
	c.table(t, "keys-live", ours, 5, 5, "")
	c.light(t, "keys-live")
	_, live, _ := c.run(t, "cost", "--region", "ap-northeast-2", "--table", "keys-live", "--days", "3", "--json")
	n := 3 * 24 * 60
	reads := make([]float64, n)
	for i := 0; i < n; i += 29 {
		reads[i] = 1
	}
	_, what, stderr := costRun(t, "cost", "--load", loadCSV(t, reads, reads), "--json")
	keys := func(out string) ([]string, []string) {
		var r struct {
			Tables []map[string]json.RawMessage `json:"tables"`
		}
		var top map[string]json.RawMessage
		if json.Unmarshal([]byte(out), &r) != nil || json.Unmarshal([]byte(out), &top) != nil || len(r.Tables) != 1 {
			t.Fatalf("not a report: %s\n%s", stderr, out)
		}
		var tk, k []string
		for key := range r.Tables[0] {
			tk = append(tk, key)
		}
		for key := range top {
			k = append(k, key)
		}
		slices.Sort(tk)
		slices.Sort(k)
		return tk, k
	}
	// Keys omitted when empty (an account, indexes, notes, idle, scalable targets, the class
	// advice: a what-if stores nothing, so there is no class to weigh) aside, the same keys.
	optional := func(k string) bool {
		return slices.Contains([]string{"account", "indexes", "notes", "idle", "scalable_targets", "table_class_advice"}, k)
	}
	lt, ltop := keys(live)
	wt, wtop := keys(what)
	lt, wt = slices.DeleteFunc(lt, optional), slices.DeleteFunc(wt, optional)
	if !slices.Equal(lt, wt) {
		t.Fatalf("a table's keys: live %v, what-if %v", lt, wt)
	}
	want := append(slices.Clone(ltop), "load")
	slices.Sort(want)
	if !slices.Equal(wtop, want) {
		t.Fatalf("the report's keys: live %v, what-if %v (want the live ones and load)", ltop, wtop)
	}
}

// Bad input is refused (exit 2) naming the line and what is allowed, before anything is priced
// and with no AWS call: the endpoint counts what reaches it.
func TestCostLoadBadInputIsRefused(t *testing.T) {
	calls := countingEndpoint(t)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)
	dir := t.TempDir()
	fifo := filepath.Join(dir, "load.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.csv")
	if f, err := os.Create(big); err != nil || f.Truncate(100<<20) != nil || f.Close() != nil {
		t.Fatal(err)
	}
	row := func(m int, r, w string) string {
		return fmt.Sprintf("%s,%s,%s\n", loadStart.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), r, w)
	}
	var days16 strings.Builder
	days16.WriteString(usage.LoadHeader + "\n")
	for m := range 16 * 24 * 60 {
		days16.WriteString(row(m, "1", "1"))
	}
	good := writeFile(t, "good.csv", usage.LoadHeader+"\n"+row(0, "60", "60"))
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no header", []string{"--load", writeFile(t, "a.csv", row(0, "1", "1"))}, []string{"line 1", "header", usage.LoadHeader}},
		{"a gap", []string{"--load", writeFile(t, "a.csv", usage.LoadHeader+"\n"+row(0, "1", "1")+row(5, "1", "1"))}, []string{"line 3", "gap of 4 minutes", "one row a minute"}},
		{"a duplicate minute", []string{"--load", writeFile(t, "a.csv", usage.LoadHeader+"\n"+row(0, "1", "1")+row(0, "1", "1"))}, []string{"line 3", "again", "one row a minute"}},
		{"negative units", []string{"--load", writeFile(t, "a.csv", usage.LoadHeader+"\n"+row(0, "-3", "1"))}, []string{"line 2", `read_units "-3"`, "non-negative"}},
		{"non-numeric units", []string{"--load", writeFile(t, "a.csv", usage.LoadHeader+"\n"+row(0, "1", "ten"))}, []string{"line 2", `write_units "ten"`, "decimal number"}},
		{"more than 15 days", []string{"--load", writeFile(t, "a.csv", days16.String())}, []string{"line 21602", "more than 15 days"}},
		{"an empty file", []string{"--load", writeFile(t, "a.csv", "")}, []string{"empty", usage.LoadHeader}},
		{"a FIFO", []string{"--load", fifo}, []string{"not a regular file (a FIFO)", usage.LoadHeader}},
		{"/dev/zero", []string{"--load", "/dev/zero"}, []string{"not a regular file (a device)"}},
		{"100 MB", []string{"--load", big}, []string{"104857600 bytes", "at most"}},
		{"a missing file", []string{"--load", filepath.Join(dir, "none.csv")}, []string{"none.csv", "no such file"}},
		{"JSON without writes", []string{"--load", writeFile(t, "a.json", `{"MetricDataResults":[{"Label":"ConsumedReadCapacityUnits","Timestamps":["2026-12-01T00:00:00Z"],"Values":[1]}]}`)},
			[]string{"no result labelled ConsumedWriteCapacityUnits"}},
		{"--capacity 0/1", []string{"--load", good, "--capacity", "0/1"}, []string{`--capacity "0/1"`, "1 to 40000"}},
		{"--capacity 5", []string{"--load", good, "--capacity", "5"}, []string{`--capacity "5"`, "READ/WRITE"}},
		{"--autoscale max below min", []string{"--load", good, "--autoscale", "5:4:70"}, []string{`--autoscale "5:4:70"`, "maximum 4", "MIN:MAX:TARGET"}},
		{"--autoscale target 95", []string{"--load", good, "--autoscale-read", "1:10:95"}, []string{`--autoscale-read "1:10:95"`, "target 95", "20 to 90"}},
		{"--autoscale 1e3", []string{"--load", good, "--autoscale-write", "1:1e3:70"}, []string{`--autoscale-write "1:1e3:70"`}},
		{"--autoscale with --autoscale-read", []string{"--load", good, "--autoscale", "1:10:70", "--autoscale-read", "1:10:70"}, []string{"--autoscale and --autoscale-read"}},
		{"--capacity without --load", []string{"--capacity", "5/5"}, []string{"--capacity needs --load"}},
		{"--autoscale without --load", []string{"--autoscale", "1:10:70"}, []string{"--autoscale needs --load"}},
		{"--load with --table", []string{"--load", good, "--table", "wallet-dev"}, []string{"--load and --table"}},
		{"--load with --days", []string{"--load", good, "--days", "3"}, []string{"--load and --days"}},
		{"--load with --org", []string{"--load", good, "--org"}, []string{"--load and --org"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, out, stderr := costRun(t, append([]string{"cost"}, tc.args...)...)
			if code != exitUsage || out != "" || time.Since(start) > 5*time.Second {
				t.Fatalf("exit %d after %v, stdout %q; want 2 at once and no report (stderr %q)", code, time.Since(start), out, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("refused loads made %d AWS calls", n)
	}
	if code, _, stderr := costRun(t, "cost", "--load", good); code != exitOK {
		t.Fatalf("the good file: exit %d: %s", code, stderr)
	}
}

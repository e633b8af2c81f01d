package sweep

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// A report whose names and values came from AWS hostile (DynamoDB names cannot hold these, but
// notes, errors, tags and stack outputs can: the report is made here, as no backend makes such
// a table) renders as a Markdown table that keeps its shape: every row its eight cells, every
// value its own text, no tag from a value in the HTML a pull request or a job summary shows.
func TestAHostileReportKeepsItsMarkdownTable(t *testing.T) {
	hostile := []string{"x|y", "a`b`c", "<script>alert(1)</script>", "**bold** _em_ [l](https://e.x)", "line\nbreak", "$x$ ~~s~~"}
	r := Report{DryRun: true, Regions: []string{"eu-west-1"}}
	for i, h := range hostile {
		r.Candidates = append(r.Candidates, Candidate{Table: h, Region: "eu-west-1", Account: h, Reasons: []Reason{Orphaned}, Detail: h,
			Stack: h, Action: WouldDelete, MonthlyCostUSD: float64(i), Notes: []string{h}, Error: h})
	}
	r.Stacks = []StackAction{{Stack: "s|t", Region: "eu-west-1", Status: "<b>", Action: Kept, Error: "`x`|y"}}
	r.Problems = []Problem{{Region: "eu-west-1", Table: "p|q", Error: "<img src=x onerror=alert(1)>"}}
	r.Notes = []string{"<details>", "| broken |"}
	var b bytes.Buffer
	if err := r.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough)).Convert(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, bad := range []string{"<script", "<img", "<b>", "<strong>bold", "<em>", "<a href", "<del>", "<code>b</code>"} {
		if strings.Contains(got, bad) {
			t.Errorf("the HTML holds %q:\n%s\n%s", bad, b.String(), got)
		}
	}
	tables := regexp.MustCompile(`(?s)<table>(.*?)</table>`).FindAllStringSubmatch(got, -1)
	if len(tables) != 2 {
		t.Fatalf("%d tables rendered, want the candidates' and the stacks':\n%s", len(tables), got)
	}
	rows := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(tables[0][1], -1)
	if len(rows) != len(hostile)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(hostile)+1)
	}
	cell := regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
	for i, row := range rows[1:] {
		cells := cell.FindAllStringSubmatch(row[1], -1)
		if len(cells) != 8 {
			t.Errorf("row %d: %d cells, want 8: %s", i, len(cells), row[1])
			continue
		}
		want := strings.ReplaceAll(hostile[i], "\n", " ")
		if account := html.UnescapeString(cells[0][1]); account != want {
			t.Errorf("row %d: account cell %q, want %q", i, account, want)
		}
		if table := html.UnescapeString(strings.TrimSuffix(strings.TrimPrefix(cells[2][1], "<strong>"), "</strong>")); table != want {
			t.Errorf("row %d: table cell %q, want %q", i, table, want)
		}
	}
}

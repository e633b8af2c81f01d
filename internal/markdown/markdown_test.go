package markdown

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// hostile are values AWS can hand back (a tag, an error message; a table name is tamer) that
// would break a table or inject markup if written as they are.
var hostile = []string{
	"x|y", "a`b`c", "```", "<script>alert(1)</script>", "&lt;b&gt;", "**bold**", "_em_", "[link](https://example.com)",
	"![img](https://example.com/i.png)", "line\nbreak", "carriage\rreturn", "tab\there", `back\slash`, `\|`, "~~gone~~",
	"$x^2$", "# heading", "<!-- comment", "|", "", "plain-table.name_1", "ümlaut ünïcode", "\x00nul",
}

var gfm = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

// Every hostile value, in a table cell, renders as exactly its own text in exactly one cell: no
// cell split off, no tag, no emphasis, no link. Rendered by goldmark (GFM tables), the renderer
// the docs' own tests use.
func TestATableCellShowsItsValueAndNothingElse(t *testing.T) {
	var rows [][]string
	for _, v := range hostile {
		rows = append(rows, []string{Text(v), "ok"})
	}
	var b bytes.Buffer
	if err := Table(&b, []string{"Value", "After"}, map[int]bool{1: true}, rows); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := gfm.Convert(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	got := bodyRows(t, out.String())
	if len(got) != len(hostile) {
		t.Fatalf("%d rows, want %d:\n%s\n%s", len(got), len(hostile), b.String(), out.String())
	}
	for i, v := range hostile {
		want := strings.TrimSpace(strings.Map(func(r rune) rune {
			if r < ' ' {
				return ' '
			}
			return r
		}, v))
		if len(got[i]) != 2 || got[i][0] != want || got[i][1] != "ok" {
			t.Errorf("value %q rendered as cells %q, want [%q ok]\n%s", v, got[i], want, out.String())
		}
	}
}

var (
	rowRE  = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	cellRE = regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`)
)

// bodyRows are the rendered table's body rows, each cell's text as a browser shows it. A cell
// holding any tag (emphasis, a link, a script) fails the test: that is markup from a value.
func bodyRows(t *testing.T, out string) [][]string {
	t.Helper()
	var rows [][]string
	for i, r := range rowRE.FindAllStringSubmatch(out, -1) {
		if i == 0 {
			continue // the header
		}
		var cells []string
		for _, c := range cellRE.FindAllStringSubmatch(r[1], -1) {
			if strings.ContainsAny(c[1], "<>") {
				t.Errorf("cell %q holds markup", c[1])
			}
			cells = append(cells, strings.TrimSpace(html.UnescapeString(c[1])))
		}
		rows = append(rows, cells)
	}
	return rows
}

func TestATableRefusesARowWiderThanItsHeader(t *testing.T) {
	if err := Table(&bytes.Buffer{}, []string{"a"}, nil, [][]string{{"1", "2"}}); err == nil {
		t.Fatal("a row of 2 cells under a header of 1 was written")
	}
}

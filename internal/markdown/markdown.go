// Package markdown writes GitHub-flavoured Markdown for what a pull-request comment or a job
// summary shows: text and tables whose every value may come from AWS (a table named `x|y`, a
// tag holding <script>, an error message with backticks) and must still render as that text,
// never as markup, HTML or a broken table. It is the one escaper of the sweep's, cost's and the
// janitor's Markdown.
package markdown

import (
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Text is s as literal inline text, never at the start of a line (the callers put every value
// after a cell's "| " or a list's "- "): each character that can open markup there is
// backslash-escaped (CommonMark and GFM read "\x" as the literal x, the table's | included;
// $ is GitHub's math), the three HTML gives a meaning to are written as entities, so no
// renderer sees a tag or an entity of the value's own, and line breaks and other control
// characters become spaces: one value stays one line and one table cell.
func Text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '\uFFFD' || unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case strings.ContainsRune("\\`*_{}[]()#+!|~$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Table writes a GFM table: header, then rows, each cell already escaped (Text) or built of
// escaped parts. right names the columns aligned right (figures). A row shorter than the
// header is filled with empty cells; a longer one is an error of the caller.
func Table(w io.Writer, header []string, right map[int]bool, rows [][]string) error {
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
		if right[i] {
			sep[i] = "---:"
		}
	}
	line(sep)
	for i, r := range rows {
		if len(r) > len(header) {
			return fmt.Errorf("markdown table: row %d has %d cells, the header %d", i, len(r), len(header))
		}
		full := append(append([]string(nil), r...), make([]string, len(header)-len(r))...)
		line(full)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// USD is a dollar figure as a table shows it.
func USD(v float64) string { return fmt.Sprintf("$%.2f", v) }

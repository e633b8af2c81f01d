// Package docs is the project's reference, one Markdown page a feature. Its test keeps every link
// in the project's Markdown resolvable: a page moved or a heading reworded breaks the build, not
// a reader's click.
package docs

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// Every link in every Markdown file of the repository (README.md, docs/, bench/, the package
// READMEs) resolves: a relative link names a file or directory that exists, and an anchor, in the
// page or in another .md file, names one of its headings as GitHub slugs them. External links
// are not fetched (the tests run offline), only held to be well-formed http(s) URLs.
func TestEveryLinkAndAnchorResolves(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := markdownFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"README.md", "docs/sweep.md", "bench/README.md", "internal/sweep/README.md"} {
		if !slices.Contains(files, want) {
			t.Errorf("%s is not among the Markdown files checked %v", want, files)
		}
	}
	for _, err := range check(root, files) {
		t.Error(err)
	}
}

// The checker itself, on pages made to hold each kind of broken link beside good ones: it
// reports exactly the broken ones.
func TestABrokenLinkIsReported(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("code.go", "package code\n")
	write("sub/page.md", "# Page\n\n## Exit codes\n\n## Exit codes\n\n[up](../a.md#top-heading) [self](#exit-codes-1)\n")
	write("a.md", strings.Join([]string{
		"# Top heading",
		"",
		"## Every account: `--org`",
		"",
		"good: [in page](#every-account---org) [file](code.go) [dir](sub/) [page](sub/page.md#exit-codes)",
		"[root-relative](/sub/page.md) [web](https://go.dev/dl/) <https://example.com/x> [mail](mailto:a@example.com)",
		"`[not a link](nowhere.md)`",
		"",
		"bad: [missing file](nowhere.md)",
		"[missing anchor](#no-such-heading)",
		"[missing anchor elsewhere](sub/page.md#exit-codes-2)",
		"[anchor into code](code.go#L1)",
		"[outside](../../etc/passwd)",
		"[no host](https://)",
		"[odd scheme](ftp://example.com/x)",
		"[wrong case](#Top-heading)",
		"",
		"```",
		"[in a code block](nowhere-either.md)",
		"```",
	}, "\n"))
	got := check(root, []string{"a.md", "sub/page.md"})
	want := []string{
		"a.md:9: nowhere.md",
		"a.md:10: #no-such-heading",
		"a.md:11: sub/page.md#exit-codes-2",
		"a.md:12: code.go#L1",
		"a.md:13: ../../etc/passwd",
		"a.md:14: https://",
		"a.md:15: ftp://example.com/x",
		"a.md:16: #Top-heading",
	}
	var prefixes []string
	for _, err := range got {
		msg := err.Error()
		prefixes = append(prefixes, msg[:strings.Index(msg, " → ")])
	}
	if !slices.Equal(prefixes, want) {
		t.Errorf("reported\n  %s\nwant\n  %s", strings.Join(prefixes, "\n  "), strings.Join(want, "\n  "))
	}
}

// Headings get GitHub's anchors: lower case, spaces to hyphens, punctuation other than - and _
// dropped (code spans keep their text), letters of any script kept; a repeated heading gets -1,
// -2.
func TestHeadingAnchorsAreGitHubs(t *testing.T) {
	page := parse([]byte(strings.Join([]string{
		"# wallet — the DynamoDB tutorial's wallet table",
		"## Every account of an organization: `--org`",
		"### The JUnit report: `--junit FILE`",
		"## verify cost: what each table costs against what it uses",
		"## Exit codes", "## Exit codes", "## Exit codes",
		"## Exit codes 1",
		"## Prices ($/month) & *why*",
		"## Café, 100 × 3 × 40",
		"## snake_case [a link](x.md)",
	}, "\n\n")))
	want := []string{
		"wallet--the-dynamodb-tutorials-wallet-table",
		"every-account-of-an-organization---org",
		"the-junit-report---junit-file",
		"verify-cost-what-each-table-costs-against-what-it-uses",
		"exit-codes", "exit-codes-1", "exit-codes-2",
		"exit-codes-1-1",
		"prices-month--why",
		"café-100--3--40",
		"snake_case-a-link",
	}
	if !slices.Equal(page.anchors, want) {
		t.Errorf("anchors\n  %s\nwant\n  %s", strings.Join(page.anchors, "\n  "), strings.Join(want, "\n  "))
	}
}

// markdownFiles lists the repository's Markdown files, relative to root, skipping what is not
// the project's own: dependencies, build output, and hidden directories (git, the local cloud's
// state).
func markdownFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || slices.Contains([]string{"node_modules", "cdk.out", "bin"}, d.Name())) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// page is what a Markdown file offers and asks for: the anchors of its headings, in order, and
// its links with the line each starts on.
type page struct {
	anchors []string
	links   []link
}

type link struct {
	dest string
	line int
}

// md parses as GitHub does for links and headings: CommonMark with GFM tables (a link in a table
// cell is a link). Linkify stays off: a bare domain in prose is not a link someone wrote.
var md = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

func parse(src []byte) page {
	var p page
	slugs := map[string]int{}
	doc := md.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			p.anchors = append(p.anchors, uniqueSlug(slugs, slug(plainText(n, src))))
		case *ast.Link:
			p.links = append(p.links, link{string(n.Destination), lineOf(src, n)})
		case *ast.Image:
			p.links = append(p.links, link{string(n.Destination), lineOf(src, n)})
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkURL {
				p.links = append(p.links, link{string(n.URL(src)), lineOf(src, n)})
			}
		}
		return ast.WalkContinue, nil
	})
	return p
}

// plainText is a heading's text as GitHub slugs it: the text of its inlines, code spans and
// link labels included, markup left out.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n := n.(type) {
			case *ast.Text:
				b.Write(n.Segment.Value(src))
				if n.SoftLineBreak() {
					b.WriteByte(' ')
				}
			case *ast.String:
				b.Write(n.Value)
			case *ast.AutoLink:
				b.Write(n.Label(src))
			}
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// slug is GitHub's anchor for a heading's text (github-slugger): lower case, each space a hyphen,
// every character but letters, marks, numbers, '-' and '_' dropped.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// uniqueSlug numbers a repeated slug as github-slugger does: the second "x" is "x-1", the third
// "x-2", skipping any number another heading already took.
func uniqueSlug(seen map[string]int, s string) string {
	result := s
	for {
		if _, taken := seen[result]; !taken {
			break
		}
		seen[s]++
		result = s + "-" + strconv.Itoa(seen[s])
	}
	seen[result] = 0
	return result
}

// lineOf is the 1-based line a link starts on: that of its first text, else of the text before
// it, else of its block.
func lineOf(src []byte, n ast.Node) int {
	off := firstText(n)
	for c := n; off < 0 && c != nil; c = c.Parent() {
		for s := c.PreviousSibling(); s != nil && off < 0; s = s.PreviousSibling() {
			off = firstText(s)
		}
		if off < 0 && c.Type() == ast.TypeBlock && c.Lines().Len() > 0 {
			off = c.Lines().At(0).Start
		}
	}
	if off < 0 {
		return 0
	}
	return 1 + strings.Count(string(src[:off]), "\n")
}

// firstText is the offset in the source of n's first text, -1 if it has none.
func firstText(n ast.Node) int {
	off := -1
	_ = ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := n.(*ast.Text); ok && entering {
			off = t.Segment.Start
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return off
}

// check resolves every link of the given files (relative to root) and returns one error per
// link that does not resolve, in file and line order.
func check(root string, files []string) []error {
	pages := map[string]page{}
	load := func(rel string) (page, error) {
		if p, ok := pages[rel]; ok {
			return p, nil
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return page{}, err
		}
		p := parse(b)
		pages[rel] = p
		return p, nil
	}
	var errs []error
	for _, file := range files {
		p, err := load(file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, l := range p.links {
			if err := resolve(root, file, l.dest, load); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s → %w", file, l.line, l.dest, err))
			}
		}
	}
	return errs
}

// resolve checks one link of the page file: an external URL is well-formed; a relative one names
// a file inside root that exists, and its anchor, if any, a heading of that .md file.
func resolve(root, file, dest string, load func(string) (page, error)) error {
	if dest == "" {
		return errors.New("empty link")
	}
	u, err := url.Parse(dest)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return errors.New("an external link without a host")
		}
		return nil
	case "mailto":
		if !strings.Contains(u.Opaque, "@") {
			return errors.New("a mailto link without an address")
		}
		return nil
	case "":
	default:
		return fmt.Errorf("scheme %q: want http, https, mailto or a relative path", u.Scheme)
	}
	target := file
	if u.Path != "" {
		if strings.HasPrefix(u.Path, "/") {
			target = strings.TrimPrefix(u.Path, "/")
		} else {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(file), u.Path))
		}
		target = filepath.ToSlash(filepath.Clean(target))
		if target == ".." || strings.HasPrefix(target, "../") {
			return errors.New("points outside the repository")
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(target))); err != nil {
			return fmt.Errorf("no such file or directory %s", target)
		}
	}
	if u.Fragment == "" {
		return nil
	}
	if !strings.HasSuffix(target, ".md") {
		return fmt.Errorf("an anchor into %s, which is not Markdown: it cannot be checked", target)
	}
	p, err := load(target)
	if err != nil {
		return err
	}
	if !slices.Contains(p.anchors, u.Fragment) {
		return fmt.Errorf("%s has no heading with anchor #%s", target, u.Fragment)
	}
	return nil
}

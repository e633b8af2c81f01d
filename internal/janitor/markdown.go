package janitor

import (
	"fmt"
	"strings"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/markdown"
)

// Markdown is the run's report as Markdown: each unit's tables as `verify sweep --format
// markdown` renders them (the one renderer, sweep.Report.WriteMarkdown), with what the
// janitor adds (its marks and reprieves) and what was not run. Its notification carries it as
// the JSON message's "markdown" (Notice.Markdown), cut with the rest to fit SNS: for a
// subscriber that posts it where Markdown renders (a pull request, an issue, a chat).
func Markdown(r Report) string { return noticeMarkdown(newNotice(r)) }

func noticeMarkdown(n Notice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## The wallet janitor over %s at %s (mode %s, grace %s)\n\n", markdown.Text(n.scope()), n.StartedAt.Format(time.RFC3339),
		markdown.Text(string(n.Mode)), markdown.Text(n.Grace))
	for _, a := range n.Report.Accounts {
		if a.Error != "" {
			fmt.Fprintf(&b, "- Account %s not run: %s\n", markdown.Text(a.Label()), markdown.Text(a.Error))
		}
	}
	for _, u := range n.Units {
		fmt.Fprintf(&b, "\n### Account %s, %s\n\n", markdown.Text(orNone(u.Account)), markdown.Text(u.Region))
		if u.Error != "" {
			fmt.Fprintf(&b, "**FAILED**: %s\n\n", markdown.Text(u.Error))
		}
		if len(u.Candidates)+len(u.Stacks)+len(u.Problems) > 0 {
			part := u.Report
			part.JanitorBackups, part.SweepBackups, part.Notes = nil, nil, nil // listed below, summed up, or in the log
			_ = part.WriteMarkdown(&b)                                         // a strings.Builder does not fail
		}
		if more := u.Omitted["candidates"]; more > 0 {
			fmt.Fprintf(&b, "\nAnd %d more tables, see the log.\n", more)
		}
		marked, waiting, reprieved := markLines(u)
		mdSection(&b, "Marked now", marked, u.Omitted["marked"])
		mdSection(&b, "Still marked", waiting, u.Omitted["waiting"])
		mdSection(&b, "Reprieved", reprieved, u.Omitted["reprieved"])
		mdSection(&b, "Errors", u.Errors, u.Omitted["errors"])
		var backups []string
		for _, bk := range u.JanitorBackups {
			backups = append(backups, fmt.Sprintf("%s of %s, %d bytes, $%.2f/month: %s", bk.Name, bk.Table, bk.SizeBytes, bk.MonthlyCostUSD, bk.ARN))
		}
		mdSection(&b, "Backups taken by this run", backups, u.Omitted["janitor_backups"])
	}
	if more := n.Omitted["units"] + n.Omitted["accounts"]; more > 0 {
		fmt.Fprintf(&b, "\nAnd %d more accounts and units with news, see the log.\n", more)
	}
	if q := len(n.Queued) + n.Omitted["queued"]; q > 0 {
		fmt.Fprintf(&b, "\n%d units went to the worker queue; the worker's notification follows.\n", q)
	}
	mdSection(&b, "Errors of the run", n.Errors, n.Omitted["run_errors"])
	if n.KeptBackups.Count > 0 {
		fmt.Fprintf(&b, "\nThe janitor keeps %s ($%.2f/month); it never deletes one.\n", plural(n.KeptBackups.Count, "backup"), n.KeptBackups.MonthlyCostUSD)
	}
	return b.String()
}

func mdSection(b *strings.Builder, title string, lines []string, more int) {
	if len(lines) == 0 && more == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n\n", markdown.Text(title))
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", markdown.Text(l))
	}
	if more > 0 {
		fmt.Fprintf(b, "- and %d more, see the log\n", more)
	}
}

package sweep

import (
	"fmt"
	"io"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/markdown"
)

// WriteMarkdown renders the report as what a pull-request comment or a GitHub job summary
// shows (--format markdown): a table of every table, why it is a candidate, what is (or would
// be) done and what it costs a month, with totals; the stacks, what could not be found out, and
// the notes. Every name and value from AWS is escaped (markdown.Text): a table named `x|y` or
// a tag holding <script> renders as its text, in its own cell.
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	mode := map[bool]string{true: "dry run, nothing changed", false: "deleted"}[r.DryRun]
	fmt.Fprintf(&b, "### %s: %s\n\n", markdown.Text(r.what()), mode)
	if a := r.Applied; a != nil {
		fmt.Fprintf(&b, "Plan %s (%s), made %s, to be applied before %s; %s.\n\n", markdown.Text(a.File), markdown.Text(a.Digest),
			stamp(a.MadeAt), stamp(a.ApplyBefore), markdown.Text(a.rules()))
	}
	if len(r.Candidates) == 0 {
		b.WriteString("No candidates.\n\n")
	} else {
		var rows [][]string
		for _, c := range r.Candidates {
			why := c.Detail
			if why == "" {
				why = joinReasons(c.Reasons, ", ")
			}
			if c.Stack != "" {
				why += "; with stack " + c.Stack
			}
			notes := append([]string(nil), c.Notes...)
			if c.Error != "" {
				notes = append(notes, "FAILED: "+c.Error)
			}
			rows = append(rows, []string{markdown.Text(dash(c.Account)), markdown.Text(c.Region), "**" + markdown.Text(c.Table) + "**",
				markdown.Text(why), "`" + string(c.Action) + "`", markdown.USD(c.MonthlyCostUSD), markdown.Text(r.savedFirst(c)),
				markdown.Text(strings.Join(notes, "; "))})
		}
		if err := markdown.Table(&b, []string{"Account", "Region", "Table", "Why", "Action", "$/month", "Saved first", "Notes"},
			map[int]bool{5: true}, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	b.WriteString(r.totals() + "\n\n")
	if len(r.Accounts) > 1 {
		var rows [][]string
		for _, a := range r.Accounts {
			rows = append(rows, []string{markdown.Text(a.ID), markdown.Text(a.Name), markdown.Text(a.Status), fmt.Sprint(a.Candidates),
				markdown.USD(a.MonthlySavingsUSD), markdown.USD(a.MonthlyLeftUSD), markdown.Text(a.Error)})
		}
		saved := map[bool]string{true: "Would save", false: "Saved"}[r.DryRun]
		if err := markdown.Table(&b, []string{"Account", "Name", "Status", "Tables", saved + " $/month", "Left billing $/month", "Not run"},
			map[int]bool{3: true, 4: true, 5: true}, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	if len(r.Stacks) > 0 {
		b.WriteString("#### Stacks\n\n")
		var rows [][]string
		for _, s := range r.Stacks {
			rows = append(rows, []string{markdown.Text(dash(s.Account)), markdown.Text(s.Region), "**" + markdown.Text(s.Stack) + "**",
				markdown.Text(s.Status), "`" + string(s.Action) + "`", markdown.Text(s.Error)})
		}
		if err := markdown.Table(&b, []string{"Account", "Region", "Stack", "Status", "Action", "Why"}, nil, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	var lines []string
	for _, p := range r.Problems {
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", dash(p.Account), p.Region, dash(p.Table), p.Error))
	}
	writeList(&b, fmt.Sprintf("Could not find out (%d)", len(lines)), lines, false)
	if n := len(r.JanitorBackups) + len(r.SweepBackups); n > 0 {
		fmt.Fprintf(&b, "Backups kept (nothing deletes them): the janitor's %s, $%.2f/month; earlier sweeps' %s, $%.2f/month.\n\n",
			plural(len(r.JanitorBackups), "backup"), r.JanitorBackupsMonthly, plural(len(r.SweepBackups), "backup"), r.SweepBackupsMonthly)
	}
	writeList(&b, fmt.Sprintf("Notes (%d)", len(r.Notes)), r.Notes, true)
	fmt.Fprintf(&b, "<sub>%s</sub>\n", markdown.Text(priceLine(r.Prices)))
	_, err := io.WriteString(w, b.String())
	return err
}

// what names the run: the fleet's words when it is one, else its regions.
func (r Report) what() string {
	switch {
	case r.Teardown != "":
		return r.title()
	case r.fleet != nil:
		return "Sweep of " + r.fleet.fleet.What() + " in " + strings.Join(r.Regions, ", ")
	case r.Organization != "":
		return "Sweep of organization " + r.Organization + " in " + strings.Join(r.Regions, ", ")
	}
	return "Sweep of " + strings.Join(r.Regions, ", ")
}

// savedFirst is what is (or would be) kept of a table before its deletion.
func (r Report) savedFirst(c Candidate) string {
	var s []string
	if c.SavedTo != "" {
		s = append(s, c.SavedTo)
	}
	if c.BackupARN != "" {
		s = append(s, c.BackupARN)
	}
	if len(s) == 0 && r.Applied != nil && (c.Action == WouldDelete) {
		if r.Applied.Save.Export != "" {
			s = append(s, "export")
		}
		if r.Applied.Save.Backup {
			s = append(s, "backup")
		}
	}
	return strings.Join(s, ", ")
}

// totals is the report's bottom line: what goes, what it saves, what is left billing.
func (r Report) totals() string {
	counts := map[Action]int{}
	for _, c := range r.Candidates {
		counts[c.Action]++
	}
	stacks := 0
	for _, s := range r.Stacks {
		if s.Action == WouldDelete || s.Action == Deleted {
			stacks++
		}
	}
	with := ""
	if stacks > 0 {
		with = " (" + plural(stacks, "stack") + " with them)"
	}
	var s string
	if r.DryRun {
		s = fmt.Sprintf("**Would delete %s%s, saving $%.2f/month.**", plural(counts[WouldDelete], "table"), with, r.MonthlySavingsUSD)
	} else {
		s = fmt.Sprintf("**Deleted %s%s, saving $%.2f/month.**", plural(counts[Deleted]+counts[Deleting], "table"), with, r.MonthlySavingsUSD)
		if n := counts[Failed] + counts[Unknown]; n > 0 {
			s += fmt.Sprintf(" **%d failed or unknown.**", n)
		}
	}
	if left := len(r.Candidates) - counts[WouldDelete] - counts[Deleted] - counts[Deleting] - counts[Gone] - counts[Replaced]; left > 0 {
		s += fmt.Sprintf(" Left billing: $%.2f/month (%s).", r.MonthlyLeftUSD, plural(left, "table"))
	}
	var changed []string
	for _, a := range []Action{Replaced, Kept, NoLongerCandidate, NotACandidate, Gone, NotInPlan, PlanExpired} {
		if counts[a] > 0 {
			changed = append(changed, fmt.Sprintf("%d `%s`", counts[a], a))
		}
	}
	if len(changed) > 0 && r.Applied != nil {
		s += " Not deleted, as each says: " + strings.Join(changed, ", ") + "."
	}
	return s
}

// writeList writes a titled list of escaped lines, folded away (details) when fold says so.
func writeList(b *strings.Builder, title string, lines []string, fold bool) {
	if len(lines) == 0 {
		return
	}
	if fold {
		fmt.Fprintf(b, "<details><summary>%s</summary>\n\n", markdown.Text(title))
	} else {
		fmt.Fprintf(b, "%s:\n\n", markdown.Text(title))
	}
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", markdown.Text(l))
	}
	if fold {
		b.WriteString("\n</details>\n")
	}
	b.WriteString("\n")
}

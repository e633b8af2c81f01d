package sweep

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// WriteText renders a sweep report for people: what was found, what was done, what was saved.
func (r Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	mode := "deleting"
	if r.DryRun {
		mode = "dry run, nothing changed"
	}
	ew.printf("Sweep of %s (%s)\n", strings.Join(r.Regions, ", "), mode)
	if len(r.Candidates) == 0 {
		ew.printf("No candidates: no table of ours is orphaned, expired, or matches --older-than/--idle-for.\n")
	} else {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TABLE\tREGION\tREASONS\t$/MONTH\tPROTECTED\tACTION\tVIA STACK\tSAVED TO")
		for _, c := range r.Candidates {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\n", c.Table, c.Region, joinReasons(c.Reasons, ","),
				c.MonthlyCostUSD, yesNo(c.Protected), c.Action, dash(c.Stack), dash(c.SavedTo))
		}
		tw.Flush()
		for _, c := range r.Candidates {
			ew.tableNotes(c.Table, c.Notes, c.Error)
		}
	}
	counts := map[Action]int{}
	saved := 0
	for _, c := range r.Candidates {
		counts[c.Action]++
		if c.SavedTo != "" {
			saved++
		}
	}
	if r.DryRun {
		ew.printf("%s: %d would be deleted, %d skipped (protected). Would save $%.2f/month.\n",
			plural(len(r.Candidates), "candidate"), counts[WouldDelete], counts[SkippedProtected], r.MonthlySavingsUSD)
		if counts[WouldDelete] > 0 {
			ew.printf("Nothing was deleted. Pass --yes to delete (on a terminal, you may confirm with the account id instead).\n")
		}
	} else {
		ew.printf("%s: %d deleted, %d skipped (protected), %d failed; %d exported. Saving $%.2f/month.\n",
			plural(len(r.Candidates), "candidate"), counts[Deleted], counts[SkippedProtected], counts[Failed], saved, r.MonthlySavingsUSD)
	}
	if len(r.Problems) > 0 {
		ew.printf("Could not find out (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			ew.printf("  %s %s: %s\n", p.Region, dash(p.Table), p.Error)
		}
	}
	for _, n := range r.Notes {
		ew.printf("Note: %s\n", n)
	}
	ew.printf("%s\n", priceLine(r.Prices))
	return ew.err
}

// WriteText renders a teardown for people.
func (td *Teardown) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	mode := "deleting"
	if td.DryRun {
		mode = "dry run, nothing changed"
	}
	ew.printf("Teardown of stack %s in %s, status %s (%s)\n", td.Stack, td.Region, td.Status, mode)
	if len(td.Tables) == 0 {
		ew.printf("The stack has no DynamoDB tables.\n")
	} else {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TABLE\tDELETION POLICY\tPROTECTED\t$/MONTH\tACTION\tSAVED TO")
		for _, t := range td.Tables {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\n", t.Table, t.DeletionPolicy, yesNo(t.Protected), t.MonthlyCostUSD, t.Action, dash(t.SavedTo))
		}
		tw.Flush()
		for _, t := range td.Tables {
			ew.tableNotes(t.Table, t.Notes, t.Error)
		}
	}
	if td.Blocked != "" {
		ew.printf("Blocked: %s\n", td.Blocked)
	}
	if td.Error != "" {
		ew.printf("Error: %s\n", td.Error)
	}
	var left []string
	for _, t := range td.Tables {
		if t.Action == WouldRetain || t.Action == Retained || (t.Action == SkippedProtected && td.Blocked == "") {
			left = append(left, fmt.Sprintf("%s ($%.2f/month)", t.Table, t.MonthlyCostUSD))
		}
	}
	switch {
	case td.DryRun && td.Blocked != "":
		ew.printf("--yes would change nothing while blocked.\n")
	case td.DryRun:
		ew.printf("--yes would delete the stack, saving $%.2f/month.\n", td.MonthlySavingsUSD)
		if len(left) > 0 {
			ew.printf("It would leave, still billing: %s; pass --delete-retained (and --include-protected for protected ones) to delete them too.\n", strings.Join(left, ", "))
		}
	case td.StackDeleted:
		ew.printf("Stack deleted. Saving $%.2f/month.\n", td.MonthlySavingsUSD)
		if len(left) > 0 {
			ew.printf("Left behind, still billing $%.2f/month: %s. Delete them with --delete-retained (and --include-protected), or `verify sweep`.\n", td.RetainedUSD, strings.Join(left, ", "))
		}
	}
	for _, n := range td.Notes {
		ew.printf("Note: %s\n", n)
	}
	ew.printf("%s\n", priceLine(td.Prices))
	return ew.err
}

func priceLine(p cost.Prices) string {
	return fmt.Sprintf("Prices: $%g/RCU-hour, $%g/WCU-hour, $%g/GB-month, %d hours a month (%s).",
		p.RCUHour, p.WCUHour, p.GBMonth, cost.HoursPerMonth, p.Source)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// errWriter keeps the first write error, so rendering reads straight through.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, a ...any) { fmt.Fprintf(e, format, a...) }

// tableNotes writes what happened to one table beyond its row: its notes, then its error.
func (e *errWriter) tableNotes(table string, notes []string, errMsg string) {
	for _, n := range notes {
		e.printf("  %s: %s\n", table, n)
	}
	if errMsg != "" {
		e.printf("  %s: FAILED: %s\n", table, errMsg)
	}
}

// plural writes "1 candidate", "2 candidates".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

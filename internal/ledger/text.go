package ledger

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText renders records for people, newest first: when, where, which table, why, who, what
// saved it, what it cost, its id; then where each was read, and what could not be read.
func (c Collected) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(c.Records) == 0 {
		fmt.Fprintln(tw, "No records of deletions found.")
	} else {
		fmt.Fprintln(tw, "DELETED\tACCOUNT\tREGION\tTABLE\tWHY\tBY\tSAVED\t$/MONTH\tID")
		for _, r := range c.Records {
			saved := "nothing"
			switch {
			case r.Saved.BackupARN != "" && r.Saved.ExportDir != "":
				saved = "backup+export"
			case r.Saved.BackupARN != "":
				saved = "backup"
			case r.Saved.ExportDir != "":
				saved = "export"
			}
			by := r.By
			if r.NotDeleted != "" {
				by += " (NOT DELETED)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\n", r.At.UTC().Format(time.RFC3339), r.Account, r.Region, r.Table,
				strings.Join(r.Reasons, ","), by, saved, r.MonthlyCostUSD, r.ID)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range c.Records {
		fmt.Fprintf(w, "%s: %s by %s; %s; saved by %s; in %s\n", r.ID, r.Table, r.Who, r.Detail, r.Saved.What(), r.Where)
		if r.NotDeleted != "" {
			fmt.Fprintf(w, "  not deleted after all: %s\n", r.NotDeleted)
		}
	}
	for _, p := range c.Problems {
		fmt.Fprintf(w, "Problem: %s\n", p)
	}
	return nil
}

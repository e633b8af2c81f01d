package cost

import (
	"fmt"
	"io"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/markdown"
)

// WriteMarkdown renders the report as a pull-request comment or a job summary shows it
// (--format markdown): one table row a table, with what it costs now, right-sized and on
// demand, the advice and what it saves; the total; over several accounts, each account's
// totals; the backups that still bill, what could not be found out, and the notes. Every name
// and value from AWS is escaped (markdown.Text).
func (r Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	where := r.Where()
	if r.Load != "" {
		fmt.Fprintf(&b, "### Cost of the load in %s, a what-if with no AWS call, at %s prices (US$ a month)\n\n", markdown.Text(r.Load), markdown.Text(strings.Join(r.Regions, ", ")))
	} else {
		fmt.Fprintf(&b, "### Cost of wallet tables in %s, from their use in the last %s (US$ a month)\n\n", markdown.Text(where), daysText(r.Days))
	}
	if len(r.Tables) == 0 {
		b.WriteString("No tables.\n\n")
	} else {
		var rows [][]string
		for _, t := range r.Tables {
			capacity := markdown.Text(tableCapacity(t))
			now := markdown.USD(t.MonthlyCostUSD.Current)
			if t.CurrentBasis == BasisBilled {
				now += " (billed)"
			}
			advice, saves := "none: no data", "-"
			if rec := t.Recommendation; rec != nil {
				advice, saves = "`"+string(rec.Change)+"`", markdown.USD(rec.MonthlySavingsUSD)
				if rec.Context != "" {
					advice += " " + markdown.Text("("+rec.Context+")")
				}
				if t.Idle != nil {
					advice = "**idle**: " + advice + " or delete"
				}
			}
			rows = append(rows, []string{markdown.Text(dash(t.Account)), markdown.Text(dash(t.Region)), "**" + markdown.Text(t.Table) + "**", capacity,
				now, usdMD(t.MonthlyCostUSD.RightSized), usdMD(t.MonthlyCostUSD.AutoScaled), usdMD(t.MonthlyCostUSD.OnDemand), advice, saves,
				markdown.Text(strings.Join(t.Notes, "; "))})
		}
		if err := markdown.Table(&b, []string{"Account", "Region", "Table", "Capacity", "Now", "Right-sized", "Auto scaled", "On demand", "Advice", "Saves", "Notes"},
			map[int]bool{4: true, 5: true, 6: true, 7: true, 9: true}, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "**Total: %s.**\n\n", markdown.Text(savesText(r.MonthlySavingsUSD)))
	if len(r.Accounts) > 1 {
		var rows [][]string
		for _, a := range r.Accounts {
			rows = append(rows, []string{markdown.Text(a.ID), markdown.Text(a.Name), markdown.Text(a.Status), fmt.Sprint(a.Tables),
				markdown.USD(a.MonthlySavingsUSD), markdown.Text(a.Error)})
		}
		if err := markdown.Table(&b, []string{"Account", "Name", "Status", "Tables", "Advice saves", "Not read"}, map[int]bool{3: true, 4: true}, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	var lines []string
	for _, j := range r.JanitorBackups {
		lines = append(lines, fmt.Sprintf("janitor backup %s of %s (%s %s, gone), %d bytes: $%.2f/month until deleted", j.Name, j.Table, dash(j.Account), j.Region, j.SizeBytes, j.MonthlyCostUSD))
	}
	for _, s := range r.SweepBackups {
		lines = append(lines, fmt.Sprintf("sweep backup %s of %s (%s %s, gone), %d bytes: $%.2f/month until deleted", s.Name, s.Table, dash(s.Account), s.Region, s.SizeBytes, s.MonthlyCostUSD))
	}
	mdList(&b, "Backups that still bill", lines)
	lines = nil
	for _, p := range r.Problems {
		lines = append(lines, fmt.Sprintf("%s %s %s: %s", dash(p.Account), p.Region, dash(p.Table), p.Error))
	}
	mdList(&b, fmt.Sprintf("Could not find out (%d)", len(lines)), lines)
	var reserved strings.Builder
	writeReserved(&reserved, r.ReservedCapacity)
	lines = nil
	for _, l := range strings.Split(strings.TrimSuffix(reserved.String(), "\n"), "\n") {
		if l != "" {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	mdList(&b, "Reserved capacity", lines)
	mdList(&b, "Notes", r.Notes)
	fmt.Fprintf(&b, "<sub>%s</sub>\n", markdown.Text(priceLines(r.Prices)))
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown renders a template's declared cost as a pull-request comment shows it: what the
// change costs before it is deployed.
func (d Declaration) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### Declared cost of the DynamoDB tables in %s (US$ a month at rest)\n\n", markdown.Text(dash(d.Template)))
	if len(d.Tables) == 0 {
		b.WriteString("No tables declared.\n\n")
	} else {
		var rows [][]string
		for _, t := range d.Tables {
			deployed, change := "-", fmt.Sprintf("%+.4f", t.MonthlyUSD)
			if t.Deployed != nil {
				deployed = fmt.Sprintf("%.4f (%s)", t.Deployed.MonthlyUSD, capacityText(t.Deployed.Billing, t.Deployed.Provisioned))
				change = fmt.Sprintf("%+.4f", t.MonthlyUSD-t.Deployed.MonthlyUSD)
			}
			if d.Stack == "" {
				change = "-"
			}
			rows = append(rows, []string{markdown.Text(t.LogicalID), markdown.Text(dash(t.Table)), capacityText(t.Billing, t.capacity()),
				fmt.Sprintf("%.4f", t.MonthlyUSD), markdown.Text(deployed), markdown.Text(change)})
		}
		if err := markdown.Table(&b, []string{"Logical id", "Table", "Capacity", "Declared", "Deployed", "Change"}, map[int]bool{3: true, 5: true}, rows); err != nil {
			return err
		}
		b.WriteString("\n")
	}
	total := "Declared: " + d.amount("$%.4f/month", d.DeclaredMonthlyUSD, d.DeclaredMaxMonthlyUSD)
	if d.RequestsExtra {
		total += " + on-demand requests"
	}
	if d.Stack != "" && d.DeployedMonthlyUSD != nil {
		total += fmt.Sprintf("; deployed (stack %s): $%.4f/month; deploying changes the bill by %s US$/month", d.Stack, *d.DeployedMonthlyUSD, d.change())
	}
	fmt.Fprintf(&b, "**%s.**\n\n", markdown.Text(total))
	var notes []string
	for _, t := range d.Tables {
		for _, n := range t.Notes {
			notes = append(notes, t.LogicalID+": "+n)
		}
	}
	mdList(&b, "Notes", append(notes, d.Notes...))
	fmt.Fprintf(&b, "<sub>%s</sub>\n", markdown.Text(priceLines(d.Prices)))
	_, err := io.WriteString(w, b.String())
	return err
}

func usdMD(v *float64) string {
	if v == nil {
		return "-"
	}
	return markdown.USD(*v)
}

func mdList(b *strings.Builder, title string, lines []string) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "%s:\n\n", markdown.Text(title))
	for _, l := range lines {
		fmt.Fprintf(b, "- %s\n", markdown.Text(l))
	}
	b.WriteString("\n")
}

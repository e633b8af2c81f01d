package sweep

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// Report is a plan's outcome (or, for a dry run, the plan itself), ready to render: the one
// report of sweeps, teardowns and the janitor.
type Report struct {
	DryRun bool `json:"dry_run"`
	// Teardown is the stack a teardown was asked to remove; empty for a sweep.
	Teardown string `json:"teardown,omitempty"`
	// Organization is the organization's id when the run covered one (--org); empty otherwise.
	Organization string   `json:"organization"`
	Regions      []string `json:"regions"`
	// Accounts are the accounts the run covered, with their totals: one, the caller's, unless
	// the run covered an organization or named accounts. Empty in the report of one account's
	// plan (a unit of a fleet: the janitor's per-region run).
	Accounts   []AccountSummary `json:"accounts,omitempty"`
	Stacks     []StackAction    `json:"stacks,omitempty"`
	Candidates []Candidate      `json:"candidates"`
	// MonthlySavingsUSD is what the deletions save (would save, for a dry run).
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	// MonthlyLeftUSD is what the candidates that stay go on costing: retained, skipped, failed.
	MonthlyLeftUSD float64   `json:"monthly_cost_left_usd"`
	Problems       []Problem `json:"problems,omitempty"`
	Notes          []string  `json:"notes,omitempty"`
	// Prices are one entry per region and class: from where (the user, the Price List API, the
	// shipped table) and of when.
	Prices []cost.Prices `json:"prices"`
	// JanitorBackups are the janitor's backups, kept (nothing here deletes one), with what they
	// cost a month to keep.
	JanitorBackups        []Backup `json:"janitor_backups,omitempty"`
	JanitorBackupsMonthly float64  `json:"janitor_backups_monthly_cost_usd,omitempty"`
	// SweepBackups are the backups earlier sweeps and teardowns took (--backup), found before
	// this run acted, likewise kept and priced; this run's are in its candidates' backup_arn.
	SweepBackups        []Backup `json:"sweep_backups,omitempty"`
	SweepBackupsMonthly float64  `json:"sweep_backups_monthly_cost_usd,omitempty"`
	// Applied is the saved plan this run applies (--apply); nil for a sweep of its own.
	Applied *AppliedPlan `json:"plan,omitempty"`

	// fleet is the run a fleet's report was made of: its text groups by account.
	fleet *Fleet
}

func (p Plan) report(dry bool) Report {
	r := Report{
		DryRun:     dry,
		Teardown:   p.Teardown,
		Regions:    p.Regions,
		Stacks:     append([]StackAction{}, p.Stacks...),
		Candidates: append([]Candidate{}, p.Candidates...),
		Problems:   p.Problems,
		Notes:      dedupe(p.Notes),
		Prices:     p.Prices.Entries(p.Regions...),
	}
	r.SetJanitorBackups(p.Backups)
	r.SetSweepBackups(p.SweepBackups)
	var saved, left float64
	for _, c := range r.Candidates {
		switch {
		case dry && c.Action == WouldDelete, !dry && (c.Action == Deleted || c.Action == Deleting):
			saved += c.MonthlyCostUSD
		case c.Action == Gone, c.Action == Replaced:
			// Neither saved nor left by this run: the planned table is gone (someone else's doing),
			// and what has its name now was never priced.
		default:
			left += c.MonthlyCostUSD
		}
	}
	r.MonthlySavingsUSD, r.MonthlyLeftUSD = cost.Round(saved), cost.Round(left)
	return r
}

// In is r in account: the account set on every candidate, stack, problem and backup (a plan is
// made per account, and knows nothing of which one).
func (r Report) In(account string) Report {
	r.Candidates, r.Stacks, r.Problems = slices.Clone(r.Candidates), slices.Clone(r.Stacks), slices.Clone(r.Problems)
	r.JanitorBackups, r.SweepBackups = slices.Clone(r.JanitorBackups), slices.Clone(r.SweepBackups)
	for i := range r.Candidates {
		r.Candidates[i].Account = account
	}
	for i := range r.Stacks {
		r.Stacks[i].Account = account
	}
	for i := range r.Problems {
		r.Problems[i].Account = account
	}
	for _, bs := range [][]Backup{r.JanitorBackups, r.SweepBackups} {
		for i := range bs {
			bs[i].Account = account
		}
	}
	return r
}

// SetJanitorBackups lists the janitor's backups on the report, with what they cost together.
func (r *Report) SetJanitorBackups(backups []Backup) {
	r.JanitorBackups, r.JanitorBackupsMonthly = append([]Backup(nil), backups...), 0
	for _, b := range backups {
		r.JanitorBackupsMonthly += b.MonthlyCostUSD
	}
	r.JanitorBackupsMonthly = cost.Round(r.JanitorBackupsMonthly)
}

// SetSweepBackups lists earlier sweeps' backups on the report, with what they cost together.
func (r *Report) SetSweepBackups(backups []Backup) {
	r.SweepBackups, r.SweepBackupsMonthly = append([]Backup(nil), backups...), 0
	for _, b := range backups {
		r.SweepBackupsMonthly += b.MonthlyCostUSD
	}
	r.SweepBackupsMonthly = cost.Round(r.SweepBackupsMonthly)
}

// Failures counts failed or unsettled actions and things that could not be found out: any of
// them makes exit 1.
func (r Report) Failures() int {
	n := len(r.Problems)
	for _, c := range r.Candidates {
		if c.Action == Failed || c.Action == Unknown {
			n++
		}
	}
	for _, s := range r.Stacks {
		if (s.Action == Failed || s.Action == Unknown) && !slices.ContainsFunc(r.Candidates, func(c Candidate) bool { return c.Stack == s.Stack }) {
			n++ // a stack's failure is already counted on its tables, when it has any
		}
	}
	return n
}

// Replaced counts the tables (and stacks) a run did nothing to because the name stood for
// another table (or stack) by then: not the user's failure, but not what was planned either.
func (r Report) Replaced() int { return r.count(Replaced) }

// NotAsPlanned counts the tables of a saved plan that the rules do not make candidates now, or
// not as planned (NotACandidate): nothing was done to them, and not everything planned was done.
func (r Report) NotAsPlanned() int { return r.count(NotACandidate) }

func (r Report) count(a Action) int {
	n := 0
	for _, c := range r.Candidates {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Errs are the errors behind the report's problems and failed actions, for the caller to
// classify (a denial, an endpoint that does not answer).
func (r Report) Errs() []error {
	var errs []error
	for _, p := range r.Problems {
		if p.Err() != nil {
			errs = append(errs, p.Err())
		}
	}
	for _, s := range r.Stacks {
		if s.err != nil {
			errs = append(errs, s.err)
		}
	}
	for _, c := range r.Candidates {
		if c.err != nil {
			errs = append(errs, c.err)
		}
	}
	return errs
}

// LeftBilling lists the candidates a run that was not a dry run left in place: what a teardown
// exits 1 for, because the user asked for the stack to be gone.
func (r Report) LeftBilling() []Candidate {
	var left []Candidate
	for _, c := range r.Candidates {
		if c.Action != Deleted && c.Action != Deleting && c.Action != Gone {
			left = append(left, c)
		}
	}
	return left
}

// Unlisted reports whether no region could be listed at all: then nothing was swept and
// "no candidates" would be a lie.
func (r Report) Unlisted() bool {
	return len(r.Regions) > 0 && r.unlistedRegions() == len(r.Regions)
}

// unlistedRegions counts the regions whose tables could not be listed: a problem without a table.
func (r Report) unlistedRegions() int {
	n := 0
	for _, p := range r.Problems {
		if p.Table == "" {
			n++
		}
	}
	return n
}

// WriteText renders the report for people: what was found, what was (or would be) done, what
// it saves and what is left billing.
func (r Report) WriteText(w io.Writer) error {
	if r.fleet != nil && r.fleet.fleet.Many() {
		return r.writeFleet(w)
	}
	if r.fleet != nil {
		// A fleet of one account reads as that account's own report, and its hint names the
		// account id to type back.
		for _, a := range r.fleet.accounts {
			if a.planned {
				part := a.report
				part.Notes, part.Applied = r.Notes, r.Applied
				return part.writeText(w, false)
			}
		}
		return r.writeFleet(w)
	}
	return r.writeText(w, false)
}

// writeText renders one account's report; part says it is one account's part of a fleet's
// report, whose text says once, for all its accounts, how to go ahead and at what prices.
func (r Report) writeText(w io.Writer, part bool) error {
	ew := &errWriter{w: w}
	ew.printf("%s (%s)\n", r.title(), map[bool]string{true: "dry run, nothing changed", false: "deleting"}[r.DryRun])
	if !part {
		r.writeApplied(ew)
	}
	regionProblems := r.unlistedRegions()
	switch {
	case len(r.Candidates) == 0 && regionProblems > 0:
		ew.printf("No candidates in the regions that could be listed; %d could not be listed (below): nothing there was looked at.\n", regionProblems)
	case len(r.Candidates) == 0 && r.Teardown != "":
		ew.printf("The stack has no DynamoDB tables.\n")
	case len(r.Candidates) == 0:
		ew.printf("No candidates: no table of ours is orphaned, expired, or matches --older-than/--idle-for.\n")
	default:
		r.writeTable(ew)
	}
	for _, s := range r.Stacks {
		if s.Error != "" {
			ew.printf("Stack %s (%s): %s: %s\n", s.Stack, s.Region, s.Action, s.Error)
		}
	}
	r.writeSummary(ew, !part)
	if n := len(r.JanitorBackups); n > 0 {
		ew.printf("The janitor's backups, kept (nothing deletes them): %s, $%.2f/month:\n", plural(n, "backup"), r.JanitorBackupsMonthly)
		for _, b := range r.JanitorBackups {
			ew.printf("  %s %s of %s, %d bytes, $%.2f/month: %s\n", b.Region, b.Name, b.Table, b.SizeBytes, b.MonthlyCostUSD, b.ARN)
		}
	}
	if n := len(r.SweepBackups); n > 0 {
		ew.printf("Earlier sweeps' backups, kept (nothing deletes them): %s, $%.2f/month:\n", plural(n, "backup"), r.SweepBackupsMonthly)
		for _, b := range r.SweepBackups {
			ew.printf("  %s %s of %s, %d bytes, $%.2f/month: %s\n", b.Region, b.Name, b.Table, b.SizeBytes, b.MonthlyCostUSD, b.ARN)
		}
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
	if !part {
		ew.printf("%s\n", priceLine(r.Prices))
	}
	return ew.err
}

func (r Report) title() string {
	if r.Teardown == "" {
		return "Sweep of " + strings.Join(r.Regions, ", ")
	}
	status := ""
	for _, s := range r.Stacks {
		if s.Stack == r.Teardown {
			status = ", status " + s.Status
		}
	}
	return fmt.Sprintf("Teardown of stack %s in %s%s", r.Teardown, strings.Join(r.Regions, ", "), status)
}

func (r Report) writeTable(ew *errWriter) {
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tREGION\tREASONS\t$/MONTH\tPROTECTED\tACTION\tVIA STACK\tDELETION POLICY\tSAVED TO")
	for _, c := range r.Candidates {
		saved := c.SavedTo
		if c.BackupARN != "" {
			saved = strings.TrimPrefix(strings.Join([]string{saved, c.BackupARN}, ", "), ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\n", c.Table, c.Region, joinReasons(c.Reasons, ","),
			c.MonthlyCostUSD, yesNo(c.Protected), c.Action, dash(c.Stack), dash(c.DeletionPolicy), dash(saved))
	}
	tw.Flush()
	for _, c := range r.Candidates {
		if c.JanitorDeleteAfter != "" {
			ew.printf("  %s: marked by the janitor, to be deleted after %s\n", c.Table, c.JanitorDeleteAfter)
		}
		for _, n := range c.Notes {
			ew.printf("  %s: %s\n", c.Table, n)
		}
		if c.Error != "" {
			ew.printf("  %s: FAILED: %s\n", c.Table, c.Error)
		}
	}
}

func (r Report) writeSummary(ew *errWriter, hint bool) {
	counts := map[Action]int{}
	exported := 0
	for _, c := range r.Candidates {
		counts[c.Action]++
		if c.SavedTo != "" || c.BackupARN != "" {
			exported++
		}
	}
	var left []string
	for _, c := range r.Candidates {
		if c.Action != Deleted && c.Action != Deleting && c.Action != WouldDelete && c.Action != Gone && c.Action != Replaced {
			left = append(left, fmt.Sprintf("%s ($%.2f/month)", c.Table, c.MonthlyCostUSD))
		}
	}
	// Kept for what its stack holds is the plan's decision, not a change since it: said last,
	// after either summary.
	if held := r.heldByTheirStack(); held > 0 {
		counts[Kept] -= held
		defer ew.printf("Not deleted: %s, kept with a stack that holds what no one judged (each named above).\n", plural(held, "table"))
	}
	n := plural(len(r.Candidates), "table")
	if r.DryRun {
		ew.printf("%s: %d would be deleted, %d kept by their stack, %d skipped (protected). Would save $%.2f/month.\n",
			n, counts[WouldDelete], counts[WouldRetain], counts[SkippedProtected], r.MonthlySavingsUSD)
		if r.Applied != nil {
			r.writeChanged(ew, counts)
		}
		if len(left) > 0 {
			ew.printf("It would leave, still billing $%.2f/month: %s.%s\n", r.MonthlyLeftUSD, strings.Join(left, ", "), r.leftHint())
		}
		if r.Pending() > 0 && hint {
			ew.printf("Nothing was deleted. Pass --yes to delete (on a terminal, you may confirm with the account id instead).\n")
		}
		return
	}
	ew.printf("%s: %d deleted, %d deleting, %d retained by their stack, %d skipped (protected), %d failed, %d unknown; %d saved first. Saving $%.2f/month.\n",
		n, counts[Deleted], counts[Deleting], counts[Retained], counts[SkippedProtected], counts[Failed], counts[Unknown], exported, r.MonthlySavingsUSD)
	r.writeChanged(ew, counts)
	if len(left) > 0 {
		ew.printf("Left behind, still billing $%.2f/month: %s.%s\n", r.MonthlyLeftUSD, strings.Join(left, ", "), r.leftHint())
	}
}

// writeChanged says what changed since the plan (a saved one applied, or this run's own).
func (r Report) writeChanged(ew *errWriter, counts map[Action]int) {
	if changed := counts[Replaced] + counts[Kept] + counts[NoLongerCandidate] + counts[Gone] + counts[NotACandidate]; changed > 0 {
		ew.printf("Changed since the plan, so not deleted: %d replaced by another table of the same name (plan again), %d kept, %d no longer candidates, %d not candidates (as planned), %d gone (deleted by someone else).\n",
			counts[Replaced], counts[Kept], counts[NoLongerCandidate], counts[NotACandidate], counts[Gone])
	}
	if n := counts[NotInPlan] + counts[PlanExpired]; n > 0 && r.Applied != nil {
		if counts[NotInPlan] > 0 {
			ew.printf("Not in the plan, so not touched: %s a fresh sweep would take or judge (plan again to include them).\n", plural(counts[NotInPlan], "table"))
		}
		if counts[PlanExpired] > 0 {
			ew.printf("The plan has expired: nothing of it is done (plan again).\n")
		}
	}
}

// writeApplied names the saved plan a run applies, and what it judges and saves by.
func (r Report) writeApplied(ew *errWriter) {
	a := r.Applied
	if a == nil {
		return
	}
	ew.printf("Applying plan %s (%s), made %s, to be applied before %s; %s.\n", a.File, a.Digest, stamp(a.MadeAt), stamp(a.ApplyBefore), a.rules())
}

// rules are what a saved plan judges and saves by, in words.
func (a AppliedPlan) rules() string {
	var parts []string
	if a.Filter.NamePrefix != "" {
		parts = append(parts, "--name-prefix "+a.Filter.NamePrefix)
	}
	if a.Filter.OlderThan != "" {
		parts = append(parts, "--older-than "+a.Filter.OlderThan)
	}
	if a.Filter.IdleFor != "" {
		parts = append(parts, "--idle-for "+a.Filter.IdleFor)
	}
	if a.IncludeProtected {
		parts = append(parts, "--include-protected")
	}
	if a.Save.Export != "" {
		parts = append(parts, "--export "+a.Save.Export)
	}
	if a.Save.Backup {
		parts = append(parts, "--backup")
	}
	if len(parts) == 0 {
		return "made with no options (tables tagged Project=wallet, orphaned or expired)"
	}
	return "made with " + strings.Join(parts, " ")
}

// writeFleet groups a fleet's report by account: each account's own report and totals, then
// the fleet's.
func (r Report) writeFleet(w io.Writer) error {
	ew := &errWriter{w: w}
	f := r.fleet
	mode := map[bool]string{true: "dry run, nothing changed", false: "deleting"}[r.DryRun]
	ew.printf("Sweep of %s, %s (%s)\n", f.fleet.What(), plural(len(r.Accounts), "account"), mode)
	r.writeApplied(ew)
	done := map[bool]string{true: "would be saved", false: "saved"}[r.DryRun]
	for i, a := range f.accounts {
		e := r.Accounts[i]
		ew.printf("\n== Account %s, %s ==\n", a.account.Label(), e.Status)
		if !a.planned {
			ew.printf("Not run: %s\n", e.Error)
			continue
		}
		if err := a.report.writeText(ew, true); err != nil {
			return err
		}
		ew.printf("Account %s total: %s, $%.2f/month %s, $%.2f/month left billing.\n",
			e.ID, plural(e.Candidates, "table"), e.MonthlySavingsUSD, done, e.MonthlyLeftUSD)
	}
	notRun := 0
	for _, e := range r.Accounts {
		if e.Error != "" {
			notRun++
		}
	}
	total := "Total"
	if f.fleet.Organization != "" {
		total = "Organization total"
	}
	ew.printf("\n%s: %s (%d not run or not read), %s; $%.2f/month %s, $%.2f/month left billing.\n", total,
		plural(len(r.Accounts), "account"), notRun, plural(len(r.Candidates), "table"), r.MonthlySavingsUSD, done, r.MonthlyLeftUSD)
	if tables, accounts := f.Pending(); r.DryRun && tables > 0 {
		_, name := f.fleet.Confirmation()
		ew.printf("Nothing was deleted. Pass --yes to delete %s in %s", plural(tables, "table"), plural(accounts, "account"))
		if name != "" {
			ew.printf(" (on a terminal, you may confirm with %s instead)", name)
		}
		ew.printf(".\n")
	}
	ew.printf("%s\n", priceLine(r.Prices))
	return ew.err
}

// heldByTheirStack counts the candidates kept because their stack holds what no one judged.
func (r Report) heldByTheirStack() int {
	n := 0
	for _, c := range r.Candidates {
		if c.Action == Kept && slices.ContainsFunc(r.Stacks, func(s StackAction) bool {
			return s.Stack == c.Stack && s.Region == c.Region && s.Action == Kept && len(s.KeptBy) > 0
		}) {
			n++
		}
	}
	return n
}

// leftHint says how to delete what a run leaves: the flags differ between teardown and sweep.
func (r Report) leftHint() string {
	if r.Teardown != "" {
		return " Pass --delete-retained (and --include-protected for protected ones) to delete them too, or run `verify sweep` after."
	}
	return " Pass --include-protected to delete protected ones too; tables tagged wallet:keep=true are never deleted."
}

// Pending counts what a confirmed run of this report's plan would delete.
func (r Report) Pending() int { return Plan{Stacks: r.Stacks, Candidates: r.Candidates}.Pending() }

func priceLine(ps []cost.Prices) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Line()
	}
	return strings.Join(lines, "\n")
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

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
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

// plural writes "1 table", "2 tables".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package janitor

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// MaxPublishBytes is SNS's limit on what one Publish carries, counted as SNS counts it: bytes
// of UTF-8, not characters. The subject is counted in it too, to be safe.
const MaxPublishBytes = 256 << 10

// Notice is a run's report as its one notification carries it, for one account or an
// organization alike. The janitor's backups pile up run after run (about 635 bytes of JSON
// each), so listing them all would make every message fail once a few hundred are kept: the
// notice sums them up (KeptBackups) and lists, per unit, only the backups this run took. Quiet
// units (nothing marked, due, deleted or failed) are left out. The logged report holds it all,
// and `verify sweep` lists every backup.
type Notice struct {
	Report
	KeptBackups KeptBackups `json:"janitor_backups_kept"`
	// Omitted is, per list of the run (units, accounts, queued, run_errors), how many entries
	// were left out so the message fits SNS's limit; each unit says its own. The logged report
	// holds them all.
	Omitted map[string]int `json:"omitted,omitempty"`
	// Markdown is the same notice as Markdown (janitor.Markdown: each unit's tables rendered as
	// `verify sweep --format markdown` renders them), cut with the rest to fit.
	Markdown string `json:"markdown"`
}

// KeptBackups counts every backup the janitor keeps, and what they cost together.
type KeptBackups struct {
	Count          int     `json:"count"`
	MonthlyCostUSD float64 `json:"monthly_cost_usd"`
}

// newNotice is r with its backups summed up and its quiet units left out, nothing omitted.
func newNotice(r Report) Notice {
	n := Notice{Report: r}
	n.Units = nil
	for _, u := range r.Units {
		n.KeptBackups.Count += len(u.JanitorBackups)
		n.KeptBackups.MonthlyCostUSD += u.JanitorBackupsMonthly
		if !u.Changed() {
			continue
		}
		own := map[string]bool{}
		for _, c := range u.Candidates {
			if c.BackupARN != "" {
				own[c.BackupARN] = true
			}
		}
		u.JanitorBackups = slices.DeleteFunc(slices.Clone(u.JanitorBackups), func(b sweep.Backup) bool { return !own[b.ARN] })
		n.Units = append(n.Units, u)
	}
	n.KeptBackups.MonthlyCostUSD = float64(int64(n.KeptBackups.MonthlyCostUSD*100+0.5)) / 100
	return n
}

// capped keeps at most k entries of every list, the run's and each unit's (and at most k
// units), and counts the rest in Omitted.
func (n Notice) capped(k int) Notice {
	omitted := map[string]int{}
	n.Units = capList(slices.Clone(n.Units), k, "units", omitted)
	for i := range n.Units {
		u := n.Units[i]
		cut := map[string]int{}
		u.Candidates = capList(u.Candidates, k, "candidates", cut)
		u.Stacks = capList(u.Stacks, k, "stacks", cut)
		u.Problems = capList(u.Problems, k, "problems", cut)
		u.Notes = capList(u.Notes, k, "notes", cut)
		u.JanitorBackups = capList(u.JanitorBackups, k, "janitor_backups", cut)
		u.Marked = capList(u.Marked, k, "marked", cut)
		u.Waiting = capList(u.Waiting, k, "waiting", cut)
		u.Reprieved = capList(u.Reprieved, k, "reprieved", cut)
		u.Errors = capList(u.Errors, k, "errors", cut)
		u.Omitted = nil
		if len(cut) > 0 {
			u.Omitted = cut
		}
		n.Units[i] = u
	}
	n.Accounts = capList(slices.Clone(n.Accounts), k, "accounts", omitted)
	n.Queued = capList(n.Queued, k, "queued", omitted)
	n.Errors = capList(n.Errors, k, "run_errors", omitted)
	n.Omitted = nil
	if len(omitted) > 0 {
		n.Omitted = omitted
	}
	return n
}

func capList[T any](list []T, k int, name string, omitted map[string]int) []T {
	if len(list) <= k {
		return list
	}
	omitted[name] += len(list) - k
	return slices.Clip(list[:k])
}

// longest is the length of the longest list capped cuts.
func (n Notice) longest() int {
	m := max(len(n.Units), len(n.Accounts), len(n.Queued), len(n.Errors))
	for _, u := range n.Units {
		m = max(m, len(u.Candidates), len(u.Stacks), len(u.Problems), len(u.Notes), len(u.JanitorBackups),
			len(u.Marked), len(u.Waiting), len(u.Reprieved), len(u.Errors))
	}
	return m
}

// Message is the run's one notification with MessageStructure json: readable text for email
// subscribers, the notice as JSON for every other protocol (SQS, Lambda, HTTPS), which programs
// read. It always fits in MaxPublishBytes with Subject(r): when the lists are too long (many
// tables or accounts at once), each is cut to the longest length that fits, the same for all,
// and the cut is said ("and N more, see the log").
func Message(r Report) (string, error) {
	budget := MaxPublishBytes - len(Subject(r))
	full := newNotice(r)
	msg, err := encodeMessage(full)
	if err != nil || len(msg) <= budget {
		return msg, err
	}
	// The size grows with k: find the largest k that fits (k = 0 always does: what is left is
	// a few fixed fields and counts).
	lo, hi := 0, full.longest()
	best := ""
	for lo <= hi {
		k := lo + (hi-lo)/2
		m, err := encodeMessage(full.capped(k))
		if err != nil {
			return "", err
		}
		if len(m) <= budget {
			best, lo = m, k+1
		} else {
			hi = k - 1
		}
	}
	if best == "" {
		return "", fmt.Errorf("encode message: even without its lists it is larger than SNS's %d bytes", MaxPublishBytes)
	}
	return best, nil
}

func encodeMessage(n Notice) (string, error) {
	n.Markdown = noticeMarkdown(n)
	report, err := json.Marshal(n)
	if err != nil {
		return "", fmt.Errorf("encode report: %w", err)
	}
	msg, err := json.Marshal(map[string]string{"default": string(report), "email": noticeText(n)})
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	return string(msg), nil
}

// Subject is the email subject: SNS allows 100 printable ASCII characters, and where the run
// ran and a few counts always fit.
func Subject(r Report) string {
	counts := map[sweep.Action]int{}
	marked, reprieved, failed := 0, 0, len(r.Errors)
	for _, a := range r.Accounts {
		if a.Error != "" {
			failed++
		}
	}
	for _, u := range r.Units {
		for _, c := range u.Candidates {
			counts[c.Action]++
		}
		marked += len(u.Marked)
		reprieved += len(u.Reprieved)
		failed += len(u.Errors) + len(u.Problems)
		if u.Error != "" {
			failed++
		}
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{marked, "marked"}, {counts[sweep.Deleted] + counts[sweep.Deleting], "deleted"}, {counts[sweep.WouldDelete], "due"},
		{reprieved, "reprieved"}, {counts[sweep.Failed] + counts[sweep.Unknown] + failed, "FAILED"}, {len(r.Queued), "queued"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	held := 0
	for _, u := range r.Units {
		h, _ := heldStackLines(u.Report)
		held += len(h)
	}
	if held > 0 {
		parts = append(parts, plural(held, "stack")+" held")
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to do")
	}
	s := fmt.Sprintf("wallet janitor %s: %s", r.where(), strings.Join(parts, ", "))
	s = strings.Map(func(c rune) rune {
		if c < ' ' || c > '~' {
			return '?'
		}
		return c
	}, s)
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// where names the run for people: its one region for the single-account janitor, the
// organization's run otherwise.
func (r Report) where() string {
	if r.Role == RoleAccount {
		var regions []string
		for _, u := range r.Units {
			regions = append(regions, u.Region)
		}
		return strings.Join(regions, ",")
	}
	return fmt.Sprintf("organization %s (%s)", r.Organization, r.Role)
}

// Text is the report as a person reads it in an email: per account and region, each table, why,
// what it costs, and when it goes or where its backup is; what was not run and what went to the
// worker. The backups kept from earlier runs are summed up, not listed.
func Text(r Report) string { return noticeText(newNotice(r)) }

func noticeText(n Notice) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The wallet janitor ran over %s at %s (mode %s, grace %s): %s, %s.\n", n.scope(), n.StartedAt.Format(time.RFC3339),
		n.Mode, n.Grace, plural(len(n.Report.Accounts), "account"), plural(len(n.Units), "unit")+" with news")
	for _, a := range n.Report.Accounts {
		var units []UnitReport
		for _, u := range n.Units {
			if u.Account == a.ID {
				units = append(units, u)
			}
		}
		if a.Error == "" && len(units) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n== Account %s ==\n", a.Label())
		if a.Error != "" {
			fmt.Fprintf(&b, "Not run: %s\n", a.Error)
		}
		for _, u := range units {
			writeUnit(&b, u)
		}
	}
	if more := n.Omitted["units"] + n.Omitted["accounts"]; more > 0 {
		writeSection(&b, "Other accounts and units with news:", nil, more)
	}
	if len(n.Queued)+n.Omitted["queued"] > 0 {
		fmt.Fprintf(&b, "\n%d units were beyond this run and went to the worker queue; the worker's notification follows.\n", len(n.Queued)+n.Omitted["queued"])
	}
	writeSection(&b, "Errors:", n.Errors, n.Omitted["run_errors"])
	writeFooter(&b, n)
	return b.String()
}

// scope names what the run covered: the account's region, or the organization.
func (r Report) scope() string {
	if r.Role == RoleAccount {
		return r.where()
	}
	return "the organization " + r.Organization
}

// writeUnit writes one unit's news: its tables by outcome, its marks, its problems, the
// backups it took, and what was cut from each list.
func writeUnit(b *strings.Builder, u UnitReport) {
	fmt.Fprintf(b, "\n-- %s --\n", u.Region)
	if u.Error != "" {
		fmt.Fprintf(b, "FAILED: %s\n", u.Error)
	}
	section := func(title string, lines []string, more int) { writeSection(b, title, lines, more) }
	held, heldLines := heldStackLines(u.Report)
	o := outcomeLines(u.Candidates, held)
	section("Deleted (a backup was AVAILABLE first):", o.deleted, 0)
	section("FAILED, or not confirmed (see each):", o.failed, 0)
	section("Not deleted: changed since it was judged (nothing lost):", o.changed, 0)
	section("Not deleted, now or later: the stack holds what no one judged, which DeleteStack would delete too (remove it from the stack, or tag the table "+wallet.TagKeep+"=true):", heldLines, 0)
	if more := u.Omitted["candidates"]; more > 0 {
		section("Other tables this run deleted, failed on, found due or skipped:", nil, more)
	}
	marked, waiting, reprieved := markLines(u)
	section("Marked now:", marked, u.Omitted["marked"])
	section("Still marked:", waiting, u.Omitted["waiting"])
	section("Due:", o.due, 0)
	section("Reprieved:", reprieved, u.Omitted["reprieved"])
	section("Skipped:", o.skipped, 0)
	section("Could not find out:", problemLines(u), u.Omitted["problems"])
	section("Errors:", u.Errors, u.Omitted["errors"])
	var backups []string
	for _, bk := range u.JanitorBackups {
		backups = append(backups, fmt.Sprintf("%s of %s, %d bytes, $%.2f/month: %s", bk.Name, bk.Table, bk.SizeBytes, bk.MonthlyCostUSD, bk.ARN))
	}
	section("Taken by this run:", backups, u.Omitted["janitor_backups"])
}

// writeSection writes a titled list, and how many entries were cut from it; nothing when both
// are empty.
func writeSection(b *strings.Builder, title string, lines []string, more int) {
	if len(lines) == 0 && more == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s\n", title)
	for _, l := range lines {
		fmt.Fprintf(b, "  - %s\n", l)
	}
	if more > 0 {
		fmt.Fprintf(b, "  - and %d more, see the log\n", more)
	}
}

// candidateOutcomes are the run's candidates as the email's lines, one list per outcome.
type candidateOutcomes struct {
	deleted, due, skipped, changed, failed []string
}

func outcomeLines(cs []sweep.Candidate, held map[string]bool) candidateOutcomes {
	var o candidateOutcomes
	for _, c := range cs {
		if c.Action == sweep.Kept && held[c.Stack] {
			continue // with its stack (heldStackLines)
		}
		what := fmt.Sprintf("%s (%s, $%.2f/month)", c.Table, reasons(c.Reasons), c.MonthlyCostUSD)
		if c.Stack != "" {
			what += ", with its stack " + c.Stack
		}
		switch c.Action {
		case sweep.Deleted, sweep.Deleting:
			line := what + "; backup " + orNone(c.BackupARN)
			if c.RecordID != "" {
				line += "; record " + c.RecordID + " (verify undo --record " + c.RecordID + ")"
			}
			o.deleted = append(o.deleted, line)
		case sweep.WouldDelete:
			o.due = append(o.due, what+": its grace has passed; report mode, so it was not deleted")
		case sweep.SkippedProtected:
			o.skipped = append(o.skipped, what+": deletion protection is on, so the janitor leaves it alone")
		case sweep.Replaced, sweep.Gone, sweep.Kept, sweep.NoLongerCandidate:
			// Re-read just before the deletion and no longer what was judged: not a failure.
			o.changed = append(o.changed, fmt.Sprintf("%s: %s: %s", what, c.Action, strings.Join(append(slices.Clip(c.Notes), c.Error), " ")))
		default:
			o.failed = append(o.failed, fmt.Sprintf("%s: %s: %s", what, c.Action, c.Error))
		}
	}
	return o
}

// heldStackLines are the stacks kept for what they hold (sweep's KeptBy), by name, and the
// email's lines: each stack, the tables that stay with it, and every resource that keeps it.
func heldStackLines(r sweep.Report) (map[string]bool, []string) {
	held := map[string]bool{}
	var lines []string
	for _, s := range r.Stacks {
		if s.Action != sweep.Kept || len(s.KeptBy) == 0 {
			continue
		}
		held[s.Stack] = true
		var tables []string
		for _, c := range r.Candidates {
			if c.Stack == s.Stack && c.Region == s.Region {
				tables = append(tables, fmt.Sprintf("%s (%s, $%.2f/month)", c.Table, reasons(c.Reasons), c.MonthlyCostUSD))
			}
		}
		what := make([]string, len(s.KeptBy))
		for i, h := range s.KeptBy {
			what[i] = h.String()
		}
		lines = append(lines, fmt.Sprintf("stack %s, with %s: kept-stack: %s", s.Stack, strings.Join(tables, ", "), strings.Join(what, "; ")))
	}
	return held, lines
}

// markLines are the tables marked by this run, those still marked from earlier runs, and those
// reprieved, as the email's lines.
func markLines(u UnitReport) (marked, waiting, reprieved []string) {
	for _, m := range u.Marked {
		marked = append(marked, fmt.Sprintf("%s (%s, $%.2f/month): to be backed up and deleted after %s", m.Table, reasons(m.Reasons), m.MonthlyCostUSD, m.DeleteAfter))
	}
	for _, m := range u.Waiting {
		waiting = append(waiting, fmt.Sprintf("%s (%s, $%.2f/month): after %s", m.Table, reasons(m.Reasons), m.MonthlyCostUSD, m.DeleteAfter))
	}
	for _, p := range u.Reprieved {
		reprieved = append(reprieved, fmt.Sprintf("%s: %s; it will not be deleted", p.Table, p.Why))
	}
	return marked, waiting, reprieved
}

// writeFooter writes what the run saves, what the lists left out, the backups the janitor keeps
// and how to restore one, and how to keep a table.
func writeFooter(b *strings.Builder, n Notice) {
	saved := 0.0
	for _, u := range n.Units {
		saved += u.MonthlySavingsUSD
	}
	if saved > 0 {
		fmt.Fprintf(b, "\nSaving $%.2f/month.\n", saved)
	}
	if n.KeptBackups.Count > 0 {
		fmt.Fprintf(b, "\nThe janitor keeps %s ($%.2f/month); it never deletes one. `verify sweep` lists them all.\n"+
			"Each deletion is written down in the account's ledger (`verify history`). Bring a table back, settings and all, with\n  verify undo TABLE --yes\n",
			plural(n.KeptBackups.Count, "backup"), n.KeptBackups.MonthlyCostUSD)
	}
	fmt.Fprintf(b, "\nTag a table %s=true to keep it; it is then never marked or deleted.\n", wallet.TagKeep)
	b.WriteString("The same report as Markdown, as `verify sweep --format markdown` renders a sweep, is the JSON message's \"markdown\".\n")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func problemLines(u UnitReport) []string {
	var out []string
	for _, p := range u.Problems {
		out = append(out, strings.TrimSpace(p.Region+" "+p.Table)+": "+p.Error)
	}
	return out
}

func reasons(rs []sweep.Reason) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func notify(ctx context.Context, topic Topic, arn string, r Report) error {
	msg, err := Message(r)
	if err != nil {
		return err
	}
	if _, err := topic.Publish(ctx, &sns.PublishInput{
		TopicArn:         aws.String(arn),
		Subject:          aws.String(Subject(r)),
		Message:          aws.String(msg),
		MessageStructure: aws.String("json"),
	}); err != nil {
		return fmt.Errorf("publish to %s: %w", arn, err)
	}
	return nil
}

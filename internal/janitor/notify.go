package janitor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Message is the run's notification with MessageStructure json: readable text for email
// subscribers, the JSON report for every other protocol (SQS, Lambda, HTTPS), which programs read.
func Message(r Report) (string, error) {
	report, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode report: %w", err)
	}
	msg, err := json.Marshal(map[string]string{"default": string(report), "email": Text(r)})
	if err != nil {
		return "", fmt.Errorf("encode message: %w", err)
	}
	return string(msg), nil
}

// Subject is the email subject: SNS allows 100 printable ASCII characters, and a region and a
// few counts always fit.
func Subject(r Report) string {
	counts := map[sweep.Action]int{}
	for _, c := range r.Candidates {
		counts[c.Action]++
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{
		{len(r.Marked), "marked"}, {counts[sweep.Deleted] + counts[sweep.Deleting], "deleted"}, {counts[sweep.WouldDelete], "due"},
		{len(r.Reprieved), "reprieved"}, {counts[sweep.Failed] + counts[sweep.Unknown] + len(r.Errors) + len(r.Problems), "FAILED"},
	} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "nothing to do")
	}
	s := fmt.Sprintf("wallet janitor %s: %s", strings.Join(r.Regions, ","), strings.Join(parts, ", "))
	if len(s) > 100 {
		s = s[:97] + "..."
	}
	return s
}

// Text is the report as a person reads it in an email: each table, why, what it costs, and when
// it goes or where its backup is.
func Text(r Report) string {
	var b strings.Builder
	region := strings.Join(r.Regions, ", ")
	fmt.Fprintf(&b, "The wallet janitor ran in %s at %s (mode %s, grace %s).\n", region, r.StartedAt.Format(time.RFC3339), r.Mode, r.Grace)
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", title)
		for _, l := range lines {
			fmt.Fprintf(&b, "  - %s\n", l)
		}
	}
	var deleted, due, skipped, failed []string
	for _, c := range r.Candidates {
		what := fmt.Sprintf("%s (%s, $%.2f/month)", c.Table, reasons(c.Reasons), c.MonthlyCostUSD)
		if c.Stack != "" {
			what += ", with its stack " + c.Stack
		}
		switch c.Action {
		case sweep.Deleted, sweep.Deleting:
			deleted = append(deleted, what+"; backup "+orNone(c.BackupARN))
		case sweep.WouldDelete:
			due = append(due, what+": its grace has passed; report mode, so it was not deleted")
		case sweep.SkippedProtected:
			skipped = append(skipped, what+": deletion protection is on, so the janitor leaves it alone")
		default:
			failed = append(failed, fmt.Sprintf("%s: %s: %s", what, c.Action, c.Error))
		}
	}
	var marked, waiting, reprieved, backups []string
	for _, m := range r.Marked {
		marked = append(marked, fmt.Sprintf("%s (%s, $%.2f/month): to be backed up and deleted after %s", m.Table, reasons(m.Reasons), m.MonthlyCostUSD, m.DeleteAfter))
	}
	for _, m := range r.Waiting {
		waiting = append(waiting, fmt.Sprintf("%s (%s, $%.2f/month): after %s", m.Table, reasons(m.Reasons), m.MonthlyCostUSD, m.DeleteAfter))
	}
	for _, p := range r.Reprieved {
		reprieved = append(reprieved, fmt.Sprintf("%s: %s; it will not be deleted", p.Table, p.Why))
	}
	for _, bk := range r.JanitorBackups {
		backups = append(backups, fmt.Sprintf("%s of %s, %d bytes, $%.2f/month: %s", bk.Name, bk.Table, bk.SizeBytes, bk.MonthlyCostUSD, bk.ARN))
	}
	section("Deleted (a backup was AVAILABLE first):", deleted)
	section("FAILED, or not confirmed (see each):", failed)
	section("Marked now:", marked)
	section("Still marked:", waiting)
	section("Due:", due)
	section("Reprieved:", reprieved)
	section("Skipped:", skipped)
	section("Could not find out:", problemLines(r))
	section("Errors:", r.Errors)
	if r.MonthlySavingsUSD > 0 {
		fmt.Fprintf(&b, "\nSaving $%.2f/month.\n", r.MonthlySavingsUSD)
	}
	if len(backups) > 0 {
		noun := "backups"
		if len(backups) == 1 {
			noun = "backup"
		}
		fmt.Fprintf(&b, "\nThe janitor keeps %d %s ($%.2f/month); it never deletes one. Restore one with\n"+
			"  aws dynamodb restore-table-from-backup --target-table-name NAME --backup-arn ARN\n",
			len(backups), noun, r.JanitorBackupsMonthly)
		section("Backups:", backups)
	}
	fmt.Fprintf(&b, "\nTag a table %s=true to keep it; it is then never marked or deleted.\n", wallet.TagKeep)
	return b.String()
}

func problemLines(r Report) []string {
	var out []string
	for _, p := range r.Problems {
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

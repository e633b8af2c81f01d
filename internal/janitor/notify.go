package janitor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
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
	s := fmt.Sprintf("wallet janitor (%s, %s): %d wallet tables", r.Region, r.Mode, len(r.Tables))
	if len(r.Problems) > 0 {
		s += fmt.Sprintf(", %d problems", len(r.Problems))
	}
	return s
}

// Text is the report as a person reads it in an email.
func Text(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The wallet janitor ran in %s at %s (mode %s, grace %s).\n\n", r.Region, r.StartedAt.Format(time.RFC3339), r.Mode, r.Grace)
	if len(r.Tables) == 0 {
		b.WriteString("No wallet tables (tagged Project=wallet) in this region.\n")
	} else {
		fmt.Fprintf(&b, "%d wallet tables (tagged Project=wallet):\n\n", len(r.Tables))
		w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "  table\tmarked: delete after\tnotes")
		for _, t := range r.Tables {
			mark := t.DeleteAfter
			if mark == "" {
				mark = "-"
			}
			var notes []string
			if t.Keep {
				notes = append(notes, "kept (wallet:keep=true)")
			}
			if t.Protected {
				notes = append(notes, "deletion protection on")
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", t.Table, mark, strings.Join(notes, ", "))
		}
		w.Flush()
	}
	if len(r.Problems) > 0 {
		fmt.Fprintf(&b, "\n%d problems:\n", len(r.Problems))
		for _, p := range r.Problems {
			if p.Table != "" {
				fmt.Fprintf(&b, "  %s: %s\n", p.Table, p.Error)
			} else {
				fmt.Fprintf(&b, "  %s\n", p.Error)
			}
		}
	}
	return b.String()
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

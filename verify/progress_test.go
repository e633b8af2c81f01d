package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/creack/pty"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// onTerminal runs verify with stdout and stderr on a real terminal (a pty) and returns the exit
// code and what the terminal showed.
func onTerminal(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return onTerminalWith(t, func(s streams) int {
		return run(context.Background(), args, s.in, s.out, s.err)
	})
}

// onTerminalWith runs f with stdout and stderr on a pty; f returns the exit code.
func onTerminalWith(t *testing.T, f func(streams) int) (int, string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	term := &ttyOutput{}
	drained := make(chan struct{})
	go func() { term.drain(ptmx); close(drained) }()
	code := f(streams{strings.NewReader(""), tty, tty})
	tty.Close()
	<-drained
	return code, term.String()
}

// costOnTerminal runs `verify cost` on a terminal with its clock at now.
func costOnTerminal(t *testing.T, now time.Time, args ...string) (int, string) {
	t.Helper()
	return onTerminalWith(t, func(s streams) int {
		cmd := newCostCmd(s, func(ctx context.Context, o *costOptions) error {
			o.now = func() time.Time { return now }
			return runCost(ctx, o)
		})
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		cmd.SetArgs(args)
		return exitCode(context.Background(), cmd.ExecuteContext(context.Background()))
	})
}

// On a terminal, the text report draws each table's use as a sparkline and stderr shows how
// far the review has got; to a pipe, the same run prints the report it always did and nothing
// on stderr.
func TestCostOnATerminalDrawsSparklinesAndShowsProgress(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	c := newCostCloud(t, "us-east-1")
	demoTables(t, c)
	code, shown := costOnTerminal(t, c.now, "--days", "1")
	if code != exitOK {
		t.Fatalf("exit %d:\n%s", code, shown)
	}
	lines := strings.Split(shown, "\n")
	var header, scaled string
	for _, l := range lines {
		if strings.Contains(l, "TABLE") {
			header = l
		}
		if strings.Contains(l, "wallet-scaled ") {
			scaled = l
		}
	}
	if !strings.HasPrefix(strings.TrimLeft(header, "\r\x1b[K"), "USE ") || !strings.ContainsAny(scaled, "▁▂▃▄▅▆▇█") {
		t.Fatalf("no sparkline column on a terminal: header %q, line %q\n%s", header, scaled, shown)
	}
	if !strings.Contains(shown, "tables priced") {
		t.Fatalf("no progress on the terminal's stderr:\n%s", shown)
	}

	// To a pipe, with a page asked for too (whose rows have sparklines): the text is as it was.
	for _, args := range [][]string{{"cost", "--days", "1"}, {"cost", "--days", "1", "--html", filepath.Join(t.TempDir(), "cost.html")}} {
		code, out, stderr := c.run(t, args...)
		if code != exitOK || stderr != "" || strings.ContainsAny(out, "▁▂▃▄▅▆▇█") || strings.Contains(out, "USE ") || strings.Contains(out, "\x1b") {
			t.Fatalf("%v to a pipe: exit %d, stderr %q, and the report:\n%s", args, code, stderr, out)
		}
	}
}

// An export of many items shows how far it has got on a terminal's stderr (its line cleared
// before the result), and nothing extra to a pipe.
func TestExportShowsProgressOnlyOnATerminal(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	const region = "eu-south-1"
	c := newSweepCloud(t, region)
	c.CreateTable(t, "many-items", nil, false)
	for i := 0; i < 3000; i += 25 {
		var reqs []types.WriteRequest
		for j := i; j < i+25; j++ {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
				"user_id": &types.AttributeValueMemberS{Value: fmt.Sprintf("user-%05d", j)}, "balance": &types.AttributeValueMemberN{Value: "1"}}}})
		}
		if _, err := c.DynamoDB.BatchWriteItem(t.Context(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"many-items": reqs}}); err != nil {
			t.Fatal(err)
		}
	}
	code, shown := onTerminal(t, "export", "--region", region, "--table", "many-items", "--to", t.TempDir())
	// The read back is as fast here: its line may come within the same tenth of a second, and
	// a status line is redrawn no more often.
	if code != exitOK || !strings.Contains(shown, "export many-items: 3000 items scanned of about 3000\r\x1b[K") || !strings.Contains(shown, "Exported 3000 items") {
		t.Fatalf("exit %d; the terminal showed:\n%q", code, shown)
	}
	code, out, stderr := sweepRun(t, "", "export", "--region", region, "--table", "many-items", "--to", filepath.Join(t.TempDir(), "again"))
	if code != exitOK || stderr != "" || !strings.HasPrefix(out, "Exported 3000 items") {
		t.Fatalf("to a pipe: exit %d, stderr %q, stdout %q", code, stderr, out)
	}
}

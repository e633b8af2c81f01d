package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// An apply killed with kill -9 between two deletions, then run again, finishes the rest: the
// table the killed run deleted is reported gone (not deleted twice, not a failure), the one
// whose backup the killed run had taken reuses that backup (no second one), and the last is
// backed up and deleted; every deleted table has exactly one AVAILABLE backup of its own. The
// verify binary is run for real and killed for real, one unit at a time (--concurrency 1),
// through a proxy that lets the first DeleteTable through and holds the next.
func TestAnApplyKilledMidwayFinishesOnTheRerun(t *testing.T) {
	moto := localcloud.Moto(t)
	moto.SetEnv(t)
	clearPriceEnv(t)
	const region = "eu-south-1"
	c := newSweepCloud(t, region)
	tables := []string{"kill-a", "kill-b", "kill-c"}
	for _, n := range tables {
		c.CreateTable(t, n, planTag("Gone-kill"), false)
	}
	since := time.Now().Add(-time.Minute)
	plan := filepath.Join(t.TempDir(), "plan.json")
	if code, out, stderr := sweepRun(t, "", "sweep", "--region", region, "--backup", "--plan-out", plan); code != exitOK {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	backups := func(table string) (available int) {
		t.Helper()
		out, err := c.DynamoDB.ListBackups(t.Context(), &dynamodb.ListBackupsInput{TableName: aws.String(table), TimeRangeLowerBound: aws.Time(since)})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range out.BackupSummaries {
			if b.BackupStatus != types.BackupStatusAvailable {
				t.Errorf("backup %s of %s is %s", aws.ToString(b.BackupName), table, b.BackupStatus)
			}
			available++
		}
		return available
	}

	killThrough(t, moto.Endpoint, faultproxy.Faults{Latency: time.Hour, After: 1, Operations: []string{"DeleteTable"}},
		[]string{"sweep", "--apply", plan, "--yes", "--concurrency", "1"}, "kill-a deleted and kill-b backed up", func() bool {
			return !c.has(t, "kill-a") && backups("kill-b") == 1
		})
	if !c.has(t, "kill-b") || !c.has(t, "kill-c") || backups("kill-c") != 0 {
		t.Fatalf("the kill came too late or too early to test anything:\n%s", c.State(t))
	}

	code, out, stderr := sweepRun(t, "", "sweep", "--apply", plan, "--yes", "--json")
	if code != exitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, stderr)
	}
	var r struct {
		Candidates []struct {
			Table, Action string
			Notes         []string
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, cd := range r.Candidates {
		got[cd.Table] = cd.Action
		if cd.Table == "kill-b" && !strings.Contains(strings.Join(cd.Notes, " "), "reused backup") {
			t.Errorf("kill-b: notes %q, want its backup from the killed run reused", cd.Notes)
		}
	}
	if want := map[string]string{"kill-a": "gone", "kill-b": "deleted", "kill-c": "deleted"}; !mapsEqual(got, want) {
		t.Errorf("rerun: %v, want %v\n%s", got, want, out)
	}
	for _, n := range tables {
		if c.has(t, n) {
			t.Errorf("%s is still there", n)
		}
		if b := backups(n); b != 1 {
			t.Errorf("%s: %d backups, want exactly 1 (nothing lost, nothing taken twice)", n, b)
		}
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// undoSteps are the calls by which an undo changes anything: each is a step it may be killed
// at (while the call is held, before it reaches the backend, so the one before it has happened).
var undoSteps = []string{"RestoreTableFromBackup", "CreateTable", "BatchWriteItem", "UpdateTable", "UpdateTimeToLive",
	"UpdateContinuousBackups", "UpdateContributorInsights", "EnableKinesisStreamingDestination", "TagResource",
	"RegisterScalableTarget", "PutScalingPolicy"}

// kill -9 at every step of an undo, from a backup and from an export: the verify binary, run
// for real, is killed with SIGKILL while its k-th changing call is held by a proxy, for every k
// a whole undo makes. Each kill leaves either no table or one the next `verify undo` finishes:
// it finds its own half-restored table (by the record's id in a tag, or, before the tag is on,
// as the table restored from the record's backup), never makes a second copy, and reports it
// restored only once every setting is the record's, which the test reads back itself.
func TestUndoKilledAtEveryStepIsFinishedByTheNext(t *testing.T) {
	moto := localcloud.Moto(t)
	bin := filepath.Join(t.TempDir(), "verify")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build verify: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name string
		save []string
	}{
		{"from a backup", []string{"--backup"}},
		{"from an export", []string{"--export", t.TempDir()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := moto.Lease(t) // each case in its own account and region of the one moto
			l.SetEnv(t)
			c := fixture.NewCloud(t, l.Region)
			name := "undo-killed"
			want := fullTable(t, c, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, 60)
			records := t.TempDir()
			args := append([]string{"sweep", "--region", l.Region, "--yes", "--record-dir", records}, tc.save...)
			if code, out, stderr := sweepRun(t, "", args...); code != exitOK {
				t.Fatalf("sweep: exit %d\n%s\n%s", code, out, stderr)
			}
			undo := []string{"undo", name, "--region", l.Region, "--record-dir", records, "--yes", "--json"}
			as := applicationautoscaling.NewFromConfig(c.Config)
			// Each round starts from the table gone, its scalable target too (moto keeps a
			// deleted table's targets; AWS's restore would not bring them back either).
			clean := func() {
				t.Helper()
				if d, _ := discover.DescribeTable(t.Context(), c.DynamoDB, name); d != nil {
					if _, err := c.DynamoDB.UpdateTable(t.Context(), &dynamodb.UpdateTableInput{TableName: aws.String(name), DeletionProtectionEnabled: aws.Bool(false)}); err != nil {
						t.Fatal(err)
					}
					if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
						t.Fatal(err)
					}
				}
				_, _ = as.DeregisterScalableTarget(t.Context(), &applicationautoscaling.DeregisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
					ResourceId: aws.String("table/" + name), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits})
			}
			clean()
			// A whole undo, counted: how many steps there are to be killed at.
			steps := countSteps(t, bin, moto.Endpoint, undo)
			if steps < 5 {
				t.Fatalf("a whole undo made %d changing calls; the table needs at least its restore, stream, TTL, PITR and tags", steps)
			}
			t.Logf("a whole undo %s makes %d changing calls", tc.name, steps)
			for k := range steps {
				clean()
				killAtStep(t, bin, moto.Endpoint, undo, k)
				if n := copies(t, c, name); n > 1 {
					t.Fatalf("killed at step %d: %d tables carry the record, want at most one", k+1, n)
				}
				code, out, stderr := sweepRun(t, "", undo...)
				u := readUndo(t, out)
				if code != exitOK || !u.Restored {
					t.Fatalf("killed at step %d, the next undo: exit %d %+v\n%s", k+1, code, u, stderr)
				}
				if d := ledger.Diff(want, captured(t, c, name)); len(d) > 0 {
					t.Fatalf("killed at step %d, reported restored, but it differs: %v", k+1, d)
				}
				if n := copies(t, c, name); n != 1 {
					t.Fatalf("killed at step %d and finished: %d tables carry the record, want one", k+1, n)
				}
			}
		})
	}
}

// countSteps runs a whole undo through a proxy and counts its changing calls.
func countSteps(t *testing.T, bin, endpoint string, args []string) int {
	t.Helper()
	p, err := faultproxy.Start(endpoint, faultproxy.Faults{Operations: []string{"none"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a whole undo: %v\n%s", err, out)
	}
	n := 0
	seen := p.Counts().Seen
	for _, op := range undoSteps {
		n += int(seen[op])
	}
	return n
}

// killAtStep runs the undo as its own process through a proxy that holds its (k+1)-th changing
// call, waits for that call to arrive, and kills the process with SIGKILL.
func killAtStep(t *testing.T, bin, endpoint string, args []string, k int) {
	t.Helper()
	p, err := faultproxy.Start(endpoint, faultproxy.Faults{Latency: time.Hour, After: k, Operations: undoSteps})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	held := func() bool {
		n := 0
		for _, op := range undoSteps {
			n += int(p.Counts().Seen[op])
		}
		return n > k
	}
	for deadline := time.Now().Add(killGuard); !held(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("step %d was never reached", k+1)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// copies counts the tables of the region that carry an undo's record id, or were restored from
// a backup and carry none yet.
func copies(t *testing.T, c fixture.Cloud, name string) int {
	t.Helper()
	l := discover.Tables(t.Context(), c.DynamoDB, c.Config.Region, discover.ListOptions{})
	n := 0
	for _, tb := range l.Tables {
		if tb.Tags[wallet.TagUndoRecord] != "" || (tb.Desc.RestoreSummary != nil && tb.Name() == name) {
			n++
		}
	}
	return n
}

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// killGuard bounds the wait for the killed process's export to land: a hang guard, not a
// timing assertion (the process is held at DeleteTable, so it always gets there).
const killGuard = 2 * time.Minute

// A sweep killed with kill -9 between its export and the deletion is run again, the same
// command: it accepts the complete export of that very table, deletes the table, and names the
// leftover of an export killed earlier, which it leaves alone. A complete export of an earlier
// table of the same name (deleted and created again since) is refused, naming the export, and
// that table is kept. On moto; the verify binary is run for real and killed for real, held at
// DeleteTable by a proxy so the kill always falls after the export.
func TestSweepRerunAfterKillBetweenExportAndDelete(t *testing.T) {
	moto := localcloud.Moto(t)
	moto.SetEnv(t)
	const region = "eu-north-1"
	c := newSweepCloud(t, region)
	orphan := map[string]string{"Project": "wallet", "Stack": "Gone"}
	item := func(v string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "a"}, "balance": &types.AttributeValueMemberN{Value: v}}
	}
	put := func(table, v string) {
		t.Helper()
		if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item(v)}); err != nil {
			t.Fatal(err)
		}
	}
	c.CreateTable(t, "killed-midway", orphan, false)
	put("killed-midway", "10")
	root := t.TempDir()
	// An export of another table called "replaced", which is then deleted and created again.
	c.CreateTable(t, "replaced", nil, false) // not a candidate yet: the kill run must not touch it
	put("replaced", "1")
	if code, out, stderr := sweepRun(t, "", "export", "--region", region, "--table", "replaced", "--to", root); code != exitOK {
		t.Fatalf("export: exit %d %s %s", code, out, stderr)
	}
	if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("replaced")}); err != nil {
		t.Fatal(err)
	}
	// Leftover of an export killed earlier, as Export names its temporary directories.
	leftover, err := os.MkdirTemp(root, ".killed-midway.*.partial")
	if err != nil {
		t.Fatal(err)
	}

	killMidway(t, moto.Endpoint, region, root)
	if !c.has(t, "killed-midway") {
		t.Fatal("the killed sweep deleted the table: the kill came too late to test anything")
	}
	c.CreateTable(t, "replaced", orphan, false)
	put("replaced", "1") // even with the very same item
	replacedMD, _ := os.ReadFile(filepath.Join(root, "replaced", archive.MetadataFile))

	code, out, stderr := sweepRun(t, "", "sweep", "--region", region, "--yes", "--export", root, "--json")
	if code != exitFailed {
		t.Fatalf("rerun: exit %d, want 1 (the replaced table refused)\n%s\n%s", code, out, stderr)
	}
	var r struct {
		Candidates []struct{ Table, Action, Error string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	for _, cd := range r.Candidates {
		switch cd.Table {
		case "killed-midway":
			if cd.Action != "deleted" {
				t.Errorf("killed-midway: %s (%s), want deleted on the rerun", cd.Action, cd.Error)
			}
		case "replaced":
			if cd.Action != "failed" || !strings.Contains(cd.Error, "earlier table named replaced") || !strings.Contains(cd.Error, filepath.Join(root, "replaced")) {
				t.Errorf("replaced: %s (%s), want failed, naming the export of the earlier table", cd.Action, cd.Error)
			}
		}
	}
	if c.has(t, "killed-midway") || !c.has(t, "replaced") {
		t.Fatalf("after the rerun:\n%s", c.State(t))
	}
	if now, _ := os.ReadFile(filepath.Join(root, "replaced", archive.MetadataFile)); string(now) != string(replacedMD) {
		t.Error("the earlier table's export was changed")
	}
	if _, err := os.Stat(leftover); err != nil {
		t.Errorf("the leftover is not the sweep's to remove: %v", err)
	}
	// The export the deletion depended on restores the table.
	if code, out, stderr := sweepRun(t, "", "restore", "--region", region, "--from", root, "--table", "killed-midway"); code != exitOK || !strings.Contains(out, "Restored 1 items") {
		t.Fatalf("restore: exit %d %s %s", code, out, stderr)
	}
	// And `verify export` names the leftover, for the user to remove.
	if code, _, stderr := sweepRun(t, "", "export", "--region", region, "--table", "killed-midway", "--to", root); code != exitUsage ||
		!strings.Contains(stderr, "holds an export") || !strings.Contains(stderr, leftover) {
		t.Errorf("export into the restored table's export dir: exit %d, %s; want refused (the restored table is another one) and naming %s", code, stderr, leftover)
	}
}

// killMidway runs `verify sweep --yes --export root` as its own process through a proxy that
// holds every DeleteTable, waits for the export to land, and kills the process with SIGKILL.
func killMidway(t *testing.T, endpoint, region, root string) {
	t.Helper()
	landed := filepath.Join(root, "killed-midway", archive.MetadataFile)
	killBeforeDelete(t, endpoint, []string{"sweep", "--region", region, "--yes", "--export", root}, "the export "+landed, func() bool {
		_, err := os.Stat(landed)
		return err == nil
	})
}

// killBeforeDelete runs verify with args as its own process through a proxy that holds every
// DeleteTable, waits until landed (what the process must have done before the deletion), and
// kills the process with SIGKILL. what names landed for the failure message.
func killBeforeDelete(t *testing.T, endpoint string, args []string, what string, landed func() bool) {
	t.Helper()
	killThrough(t, endpoint, faultproxy.Faults{Latency: time.Hour, Operations: []string{"DeleteTable"}}, args, what, landed)
}

// killThrough runs verify with args as its own process through a proxy injecting faults (one
// that holds a call), waits until landed, and kills the process with SIGKILL.
func killThrough(t *testing.T, endpoint string, faults faultproxy.Faults, args []string, what string, landed func() bool) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "verify")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build verify: %v\n%s", err, out)
	}
	p, err := faultproxy.Start(endpoint, faults)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+p.URL)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(killGuard); !landed(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("%s never landed", what)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

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

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Creates that survive their own retries, at the command: a proxy in front of moto forwards a
// create, lets moto act and answer, and closes the connection before the answer (what a
// dropped connection or a timeout does); the SDK's retryer sends it again. The command still
// makes one table or one backup, and says it succeeded: restore, sweep --backup, and undo from a
// backup (RestoreTableFromBackup).
func TestCommandsSurviveALostCreateAnswer(t *testing.T) {
	moto := localcloud.Moto(t)
	clearPriceEnv(t)
	// lose points the commands (not the test's own clients) through a proxy that loses the
	// first answer of op.
	lose := func(t *testing.T, op string) *faultproxy.Proxy {
		t.Helper()
		p, err := faultproxy.Start(moto.Endpoint, faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DynamoDB_20120810." + op}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		t.Setenv("AWS_ENDPOINT_URL", p.URL)
		return p
	}

	t.Run("restore: exit 0, one table holding every item", leased(moto, func(t *testing.T, l localcloud.Lease) {
		region := l.Region
		c := newSweepCloud(t, region)
		c.CreateTable(t, "lost-create", nil, false)
		for _, u := range []string{"a", "b", "c"} {
			if _, err := c.DynamoDB.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("lost-create"),
				Item: map[string]types.AttributeValue{wallet.KeyAttribute: &types.AttributeValueMemberS{Value: u}}}); err != nil {
				t.Fatal(err)
			}
		}
		root := t.TempDir()
		if code, out, stderr := sweepRun(t, "", "export", "--region", region, "--table", "lost-create", "--to", root); code != exitOK {
			t.Fatalf("export: exit %d %s %s", code, out, stderr)
		}
		p := lose(t, "CreateTable")
		code, out, stderr := sweepRun(t, "", "restore", "--region", region, "--from", filepath.Join(root, "lost-create"), "--table", "lost-create-copy")
		if code != exitOK || !strings.Contains(out, "Restored 3 items") || !strings.Contains(out, "into a new table") || !strings.Contains(stderr, "answer was lost") {
			t.Fatalf("restore: exit %d\n%s\n%s", code, out, stderr)
		}
		if n := p.Counts().DroppedAfter; n != 1 {
			t.Fatalf("%d answers lost, want 1", n)
		}
		scan, err := c.DynamoDB.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String("lost-create-copy"), ConsistentRead: aws.Bool(true)})
		if err != nil || scan.Count != 3 {
			t.Fatalf("the restored table: %v, %v; want its 3 items", scan, err)
		}
	}))

	t.Run("sweep --yes --backup: exit 0, the table deleted on its one backup", leased(moto, func(t *testing.T, l localcloud.Lease) {
		region := l.Region
		c := newSweepCloud(t, region)
		c.CreateTable(t, "lost-backup", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
		p := lose(t, "CreateBackup")
		code, out, stderr := sweepRun(t, "", "sweep", "--region", region, "--yes", "--backup", "--json")
		if code != exitOK {
			t.Fatalf("exit %d: %s\n%s", code, stderr, out)
		}
		if n := p.Counts().DroppedAfter; n != 1 {
			t.Fatalf("%d answers lost, want 1", n)
		}
		r := decodeSweep(t, out)
		backups := backupsOf(t, c, "lost-backup")
		if len(r.Candidates) != 1 || r.Candidates[0].Action != "deleted" || len(backups) != 1 || r.Candidates[0].BackupARN != backups[0] || c.has(t, "lost-backup") {
			t.Fatalf("backups %v, report %s", backups, out)
		}
	}))

	t.Run("undo from a backup: exit 0, one table restored, every setting the record's", leased(moto, func(t *testing.T, l localcloud.Lease) {
		c := fixture.NewCloud(t, l.Region)
		name := "lost-restore"
		want := fullTable(t, c, name, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, 20)
		records := t.TempDir()
		if code, out, stderr := sweepRun(t, "", "sweep", "--region", l.Region, "--yes", "--backup", "--record-dir", records); code != exitOK {
			t.Fatalf("sweep: exit %d\n%s\n%s", code, out, stderr)
		}
		p := lose(t, "RestoreTableFromBackup")
		code, out, stderr := sweepRun(t, "", "undo", name, "--region", l.Region, "--record-dir", records, "--yes", "--json")
		u := readUndo(t, out)
		if code != exitOK || !u.Restored || !strings.Contains(strings.Join(u.Notes, "\n"), "answer was lost") {
			t.Fatalf("undo: exit %d %+v\n%s", code, u, stderr)
		}
		if n := p.Counts().DroppedAfter; n != 1 {
			t.Fatalf("%d answers lost, want 1", n)
		}
		if d := ledger.Diff(want, captured(t, c, name)); len(d) > 0 {
			t.Fatalf("reported restored, but it differs: %v", d)
		}
		if n := copies(t, c, name); n != 1 {
			t.Fatalf("%d tables carry the record, want one", n)
		}
	}))
}

// backedUpJSON is what a sweep --backup report says of its backups.
type backedUpJSON struct {
	Candidates   []backedUpCandidate
	SweepBackups []struct{ ARN, Account string } `json:"sweep_backups"`
}

type backedUpCandidate struct {
	Table, Account, Action string
	BackupARN              string `json:"backup_arn"`
	Notes                  []string
}

// backupsOf are the ARNs of the backups of table.
func backupsOf(t *testing.T, c sweepCloud, table string) []string {
	t.Helper()
	all, err := discover.Backups(t.Context(), c.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, b := range all {
		arns = append(arns, aws.ToString(b.BackupArn))
	}
	return arns
}

// A `sweep --yes --backup` killed with kill -9 after its backup, before the deletion, is run
// again, the same command: it reuses the backup the killed run took (AVAILABLE, of the very
// table, nothing written since), says "reused backup", deletes the table, and there is one
// backup, not two. The verify binary is run and killed for real, held at DeleteTable by a proxy.
func TestSweepRerunAfterKillReusesItsBackup(t *testing.T) {
	moto := localcloud.Moto(t)
	moto.SetEnv(t)
	clearPriceEnv(t)
	const region = "eu-north-1"
	c := newSweepCloud(t, region)
	c.CreateTable(t, "killed-backed-up", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	args := []string{"sweep", "--region", region, "--yes", "--backup"}
	killBeforeDelete(t, moto.Endpoint, args, "a backup of killed-backed-up", func() bool { return len(backupsOf(t, c, "killed-backed-up")) > 0 })
	if !c.has(t, "killed-backed-up") {
		t.Fatal("the killed sweep deleted the table: the kill came too late to test anything")
	}
	first := backupsOf(t, c, "killed-backed-up")

	code, out, stderr := sweepRun(t, "", append(args, "--json")...)
	if code != exitOK {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, stderr)
	}
	var r backedUpJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Candidates) != 1 || r.Candidates[0].Action != "deleted" || r.Candidates[0].BackupARN != first[0] ||
		!strings.Contains(strings.Join(r.Candidates[0].Notes, ";"), "reused backup "+wallet.SweepBackupPrefix+"killed-backed-up-") {
		t.Fatalf("rerun: %+v, want deleted on the killed run's backup %s, said so", r.Candidates, first[0])
	}
	if len(r.SweepBackups) != 1 || r.SweepBackups[0].ARN != first[0] {
		t.Fatalf("the report's sweep_backups %+v: want the killed run's, listed and priced", r.SweepBackups)
	}
	if all := backupsOf(t, c, "killed-backed-up"); len(all) != 1 || c.has(t, "killed-backed-up") {
		t.Fatalf("backups %v, table there %v: want one backup and the table gone", all, c.has(t, "killed-backed-up"))
	}
}

// The organization's sweep reuses, as the single account's does, the AVAILABLE backup an
// earlier run (killed before its deletion: here, its backup taken by hand under the sweep's
// name) took of the very table in a member account, says so, lists it with its account, and
// takes no second one.
func TestOrgSweepRerunReusesTheBackup(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	clearPriceEnv(t)
	o := fixture.NewOrg(t, "rerun", 1)
	const region = "eu-west-2"
	member := fixture.InAccount(t, o.Members[0], org.DefaultRole, region)
	c := sweepCloud{member}
	c.CreateTable(t, "org-backed-up", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	earlier, err := sweep.TakeBackup(t.Context(), c.DynamoDB, "org-backed-up",
		sweep.BackupName(wallet.SweepBackupPrefix, "org-backed-up", time.Now(), sweep.NewRun()), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	code, out, stderr := sweepRun(t, "", "sweep", "--org", "--region", region, "--yes", "--backup", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	var r backedUpJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	var cd *backedUpCandidate
	for i := range r.Candidates {
		if r.Candidates[i].Table == "org-backed-up" {
			cd = &r.Candidates[i]
		}
	}
	if cd == nil || cd.Account != o.Members[0] || cd.Action != "deleted" || cd.BackupARN != earlier || !strings.Contains(strings.Join(cd.Notes, ";"), "reused backup") {
		t.Fatalf("candidate %+v: want deleted on the earlier backup %s, said so", cd, earlier)
	}
	if len(r.SweepBackups) != 1 || r.SweepBackups[0].ARN != earlier || r.SweepBackups[0].Account != o.Members[0] {
		t.Fatalf("sweep_backups %+v: want the earlier one, with its account", r.SweepBackups)
	}
	if all := backupsOf(t, c, "org-backed-up"); len(all) != 1 {
		t.Fatalf("backups %v: want the one", all)
	}
}

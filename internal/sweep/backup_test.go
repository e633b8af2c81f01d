package sweep

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// backupsOf are the backups of table taken since since, AVAILABLE or being taken. (moto keeps
// the backups of a deleted table: those of a table of the name an earlier run of the test made,
// with -count, are older; moto and the test share this machine's clock, to the millisecond.)
func backupsOf(t *testing.T, c *cloud, table string, since time.Time) []string {
	t.Helper()
	all, err := discover.Backups(t.Context(), c.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, b := range all {
		if !aws.ToTime(b.BackupCreationDateTime).Before(since.Truncate(time.Millisecond)) {
			arns = append(arns, aws.ToString(b.BackupArn))
		}
	}
	return arns
}

// sweepWithBackup plans a sweep of table alone and carries it out with --backup through clients.
func sweepWithBackup(t *testing.T, c *cloud, clients RegionClients, table string) Candidate {
	t.Helper()
	p := NewPlan([]Inventory{Survey(t.Context(), c.clients(), Filter{}, Options{})}, Filter{}, cost.USEast1(), false)
	p = p.Only(func(cd Candidate) bool { return cd.Table == table })
	all := map[string]RegionClients{c.Config.Region: clients}
	r := Act(t.Context(), p, all, Options{Backup: NativeBackup(all, wallet.SweepBackupPrefix, time.Minute)})
	if r.Failures() != 0 {
		t.Fatalf("sweep of %s: %d failures: %+v", table, r.Failures(), r.Candidates)
	}
	return byTable(r)[table]
}

// A CreateBackup whose answer is lost (the proxy lets moto take the backup, then closes the
// connection) is not sent again blindly: this run's backup is found by its name, the deletion
// depends on it, and there is one backup of the table, not two.
func TestALostCreateBackupAnswerMakesOneBackup(t *testing.T) {
	c := newCloud(t)
	began := time.Now()
	c.CreateTable(t, "lost-backup", map[string]string{"Project": "wallet", "Stack": "Gone"}, false)
	p, err := faultproxy.Start(os.Getenv("AWS_ENDPOINT_URL"), faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DynamoDB_20120810.CreateBackup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	lossy := NewRegionClients(c.Config, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })
	cd := sweepWithBackup(t, c, lossy, "lost-backup")
	if got := p.Counts(); got.DroppedAfter != 1 {
		t.Fatalf("proxy %+v: no answer was lost", got)
	}
	backups := backupsOf(t, c, "lost-backup", began)
	if cd.Action != Deleted || len(backups) != 1 || cd.BackupARN != backups[0] {
		t.Fatalf("action %s, backup %q; backups of the table %v: want it deleted on its one backup", cd.Action, cd.BackupARN, backups)
	}
}

// A rerun (the first run killed after its backup, before the deletion) reuses the earlier run's
// AVAILABLE backup of the very table, and says so, when CloudWatch shows no write since; a
// table written since, a backup of an earlier table of the same name, and one this tool did not
// take (by its name) get a new backup instead.
func TestARerunReusesTheEarlierRunsBackupOfTheVeryTable(t *testing.T) {
	c := newCloud(t)
	orphan := map[string]string{"Project": "wallet", "Stack": "Gone"}
	earlier := func(table, prefix string) string {
		t.Helper()
		arn, err := TakeBackup(t.Context(), c.DynamoDB, table, BackupName(prefix, table, time.Now(), NewRun()), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return arn
	}
	notes := func(cd Candidate) string { return strings.Join(cd.Notes, "; ") }

	t.Run("unwritten since: reused", func(t *testing.T) {
		began := time.Now()
		c.CreateTable(t, "rerun-quiet", orphan, false)
		first := earlier("rerun-quiet", wallet.SweepBackupPrefix)
		cd := sweepWithBackup(t, c, c.clients(), "rerun-quiet")
		if cd.Action != Deleted || cd.BackupARN != first || !strings.Contains(notes(cd), "reused backup "+wallet.SweepBackupPrefix+"rerun-quiet-") {
			t.Fatalf("action %s, backup %q (earlier %s), notes %q: want deleted on the earlier backup, said so", cd.Action, cd.BackupARN, first, notes(cd))
		}
		if b := backupsOf(t, c, "rerun-quiet", began); len(b) != 1 {
			t.Fatalf("backups %v, want the one", b)
		}
	})

	t.Run("written since: a new backup", func(t *testing.T) {
		c.CreateTable(t, "rerun-written", orphan, false)
		first := earlier("rerun-written", wallet.SweepBackupPrefix)
		if _, err := c.cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"),
			MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("ConsumedWriteCapacityUnits"),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("rerun-written")}},
				Value:      aws.Float64(4), Timestamp: aws.Time(time.Now()), Unit: cwtypes.StandardUnitCount}}}); err != nil {
			t.Fatal(err)
		}
		cd := sweepWithBackup(t, c, c.clients(), "rerun-written")
		if cd.Action != Deleted || cd.BackupARN == "" || cd.BackupARN == first || !strings.Contains(notes(cd), "not reused: it was written since") {
			t.Fatalf("action %s, backup %q (earlier %s), notes %q: want a new backup, and why the earlier was not reused", cd.Action, cd.BackupARN, first, notes(cd))
		}
	})

	t.Run("an earlier table's, or not this tool's: a new backup", func(t *testing.T) {
		c.CreateTable(t, "rerun-reborn", orphan, false)
		before := earlier("rerun-reborn", wallet.SweepBackupPrefix)
		if err := removeTable(c, "rerun-reborn"); err != nil {
			t.Fatal(err)
		}
		c.CreateTable(t, "rerun-reborn", orphan, false)
		foreign := earlier("rerun-reborn", "someone-elses-")
		cd := sweepWithBackup(t, c, c.clients(), "rerun-reborn")
		if cd.Action != Deleted || cd.BackupARN == before || cd.BackupARN == foreign || strings.Contains(notes(cd), "reused") {
			t.Fatalf("action %s, backup %q (the earlier table's %s, someone else's %s), notes %q: want a new backup", cd.Action, cd.BackupARN, before, foreign, notes(cd))
		}
	})
}

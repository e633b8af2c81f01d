package janitor_test

import (
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The janitor's CreateBackup whose answer is lost (the proxy lets moto take the backup, then
// closes the connection) is not sent again blindly: the run finds its own backup by its name,
// deletes the table on it, and there is one backup, not two.
func TestALostCreateBackupAnswerMakesOneJanitorBackup(t *testing.T) {
	w := newWorld(t)
	w.cloud.CreateTable(t, "orphan", ours, false)
	p, err := faultproxy.Start(os.Getenv("AWS_ENDPOINT_URL"), faultproxy.Faults{DropAfter: 1, Times: 1, Operations: []string{"DynamoDB_20120810.CreateBackup"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("AWS_ENDPOINT_URL", p.URL)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.deps.Clients = janitor.NewClients(cfg)

	t0 := time.Now().UTC()
	w.run(t, t0, wallet.JanitorDelete) // marks it
	r := w.run(t, t0.Add(w.grace+time.Hour), wallet.JanitorDelete)
	if got := p.Counts(); got.DroppedAfter != 1 {
		t.Fatalf("proxy %+v: no answer was lost", got)
	}
	backups, err := discover.Backups(t.Context(), w.cloud.DynamoDB, dynamodb.ListBackupsInput{TableName: aws.String("orphan")})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Candidates) != 1 || r.Candidates[0].Action != sweep.Deleted || len(backups) != 1 || r.Candidates[0].BackupARN != aws.ToString(backups[0].BackupArn) {
		t.Fatalf("candidates %+v, backups %d: want orphan deleted on its one backup", r.Candidates, len(backups))
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cdkcli"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/lambdarie"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The forgotten table: wallets left behind by a stack that is long gone.
const (
	forgotten = "wallet-forgotten"
	restored  = "wallet-forgotten-restored"
	grace     = 5 * time.Second
)

// janitorSteps deploys the janitor and runs its deployed code twice, a grace apart: the first
// run marks the forgotten table, the second backs it up and deletes it. The backup is then
// restored and counted, so nothing was lost, and the restored copy removed again.
func janitorSteps(ctx context.Context, out io.Writer, root string, cloud *localcloud.Server, cdk cdkcli.CLI,
	do func(string, func() (string, error)) error) error {
	arch, err := lambdarie.Arch()
	if err != nil {
		return err
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	db := dynamodb.NewFromConfig(cfg)
	if err := do("cdk deploy "+wallet.JanitorStackID, func() (string, error) {
		if err := cdk.Deploy(ctx, wallet.JanitorStackID, map[string]string{
			contract.CtxJanitorArch: string(arch), contract.CtxJanitorGrace: wallet.FormatDuration(grace), contract.CtxJanitorMode: string(contract.JanitorDelete),
		}); err != nil {
			return "", err
		}
		// moto's CloudFormation makes the HMAC mark key a symmetric one: fill that in.
		if _, err := cfngap.HMACKeys(ctx, cfg, wallet.JanitorStackID); err != nil {
			return "", err
		}
		return fmt.Sprintf("function (%s), hourly rule, encrypted topic, HMAC mark key, TeardownPolicy; grace %s for the demo", arch, grace), nil
	}); err != nil {
		return err
	}
	if err := do("a forgotten table", func() (string, error) {
		return "3 wallets in " + forgotten + ", its stack long gone", forget(ctx, db)
	}); err != nil {
		return err
	}
	var emu *lambdarie.Emulator
	if err := do("the janitor's deployed code, under the Lambda emulator", func() (string, error) {
		dir := filepath.Join(root, ".localcloud", "janitor")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		fn, err := lambdarie.FromStack(ctx, cfg, wallet.JanitorStackID, dir)
		if err != nil {
			return "", err
		}
		rie, err := lambdarie.BuildRIE(ctx, dir)
		if err != nil {
			return "", err
		}
		// Lambda would give the function its role's credentials; here, the local cloud's.
		emu, err = lambdarie.Start(ctx, fn, lambdarie.Options{RIE: rie, Env: cloud.Env(), LogDir: dir})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("%s from the asset bucket, %s", fn.Name, emu.Endpoint), nil
	}); err != nil {
		return err
	}
	defer emu.Stop()

	// The function's own account and region: a run of one unit, whose report the checks read.
	run := func(name string, check func(janitor.UnitReport) (string, error)) error {
		return do(name, func() (string, error) {
			event := fmt.Sprintf(`{"detail-type":"Scheduled Event","source":"aws.events","time":%q,"detail":{}}`, time.Now().UTC().Format(time.RFC3339))
			resp, err := emu.Invoke(ctx, []byte(event))
			if err != nil {
				return "", err
			}
			var r janitor.Report
			if err := json.Unmarshal(resp.Body, &r); err != nil || resp.Status != 200 {
				return "", fmt.Errorf("janitor answered %d %s", resp.Status, resp.Body)
			}
			fmt.Fprintf(out, "\nWhat an email subscriber reads:\n\n%s", janitor.Text(r))
			if len(r.Units) != 1 {
				return "", fmt.Errorf("the janitor ran %d units, want its own account and region", len(r.Units))
			}
			return check(r.Units[0])
		})
	}
	if err := run("janitor run: mark", func(r janitor.UnitReport) (string, error) {
		if len(r.Marked) != 1 || r.Marked[0].Table != forgotten {
			return "", fmt.Errorf("marked %+v, want %s", r.Marked, forgotten)
		}
		return fmt.Sprintf("%s marked, to be deleted after %s; nothing deleted", forgotten, r.Marked[0].DeleteAfter), nil
	}); err != nil {
		return err
	}
	fmt.Fprintf(out, "\n(waiting out the %s grace)\n", grace)
	select {
	case <-time.After(grace + time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	var backup string
	if err := run("janitor run: back up, then delete", func(r janitor.UnitReport) (string, error) {
		for _, c := range r.Candidates {
			if c.Table == forgotten && c.Action == sweep.Deleted && c.BackupARN != "" {
				backup = c.BackupARN
				return fmt.Sprintf("backup AVAILABLE first, then deleted; saving $%.2f/month", r.MonthlySavingsUSD), nil
			}
		}
		return "", fmt.Errorf("%s not deleted: %+v", forgotten, r.Candidates)
	}); err != nil {
		return err
	}
	return do("the backup restores every wallet", func() (string, error) {
		n, err := restore(ctx, db, backup)
		if err != nil {
			return "", err
		}
		if n != 3 {
			return "", fmt.Errorf("the backup restored %d wallets, want 3", n)
		}
		return "3 of 3 wallets back (the restored copy removed again; the backup is kept)", nil
	})
}

func forget(ctx context.Context, db *dynamodb.Client) error {
	in := wallet.TableInput(forgotten, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-old"})
	if _, err := db.CreateTable(ctx, in); err != nil {
		return err
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(forgotten)}, time.Minute); err != nil {
		return err
	}
	for _, who := range []string{"alice", "bob", "carol"} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(forgotten), Item: map[string]types.AttributeValue{
			wallet.KeyAttribute: &types.AttributeValueMemberS{Value: who}, wallet.BalanceAttribute: &types.AttributeValueMemberN{Value: "100"},
		}}); err != nil {
			return err
		}
	}
	return nil
}

// restore brings the backup back as a new table, counts its wallets, and deletes that copy.
func restore(ctx context.Context, db *dynamodb.Client, backup string) (int32, error) {
	if _, err := db.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{BackupArn: aws.String(backup), TargetTableName: aws.String(restored)}); err != nil {
		return 0, fmt.Errorf("restore %s: %w", backup, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(restored)}, time.Minute); err != nil {
		return 0, err
	}
	scan, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(restored), Select: types.SelectCount, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, err
	}
	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(restored)}); err != nil {
		return 0, err
	}
	return scan.Count, dynamodb.NewTableNotExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(restored)}, time.Minute)
}

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func newExportCmd(io streams) *cobra.Command {
	var (
		cloud     awsFlags
		table, to string
	)
	cmd := &cobra.Command{
		Use:   "export --table NAME --to DIR",
		Short: "Save every item of a table into DIR/NAME (DynamoDB JSON lines plus metadata)",
		Long: "export scans the table with consistent reads into DIR/NAME/items.jsonl, one item a line in\n" +
			"DynamoDB JSON (the typed form of DynamoDB's own S3 export: numbers keep every digit), and\n" +
			"writes DIR/NAME/metadata.json, with what `verify restore` needs to recreate the table, only\n" +
			"after reading items.jsonl back as restore will. DIR/NAME must be new or empty.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if table == "" || to == "" {
				return usageErr("--table and --to are both required, e.g. verify export --table wallet --to ./backup")
			}
			if !wallet.ValidTableName(table) {
				return usageErr("--table %q: %s", table, archive.TableNameRule)
			}
			if err := archive.CheckRoot(to); err != nil {
				return usageErr("--to %q: %v", to, err)
			}
			cfg, err := cloud.load(cmd.Context(), awsconf.Options{})
			if err != nil {
				return err
			}
			dir := archive.Dir(to, table)
			md, err := archive.Export(cmd.Context(), dynamodb.NewFromConfig(cfg), table, dir)
			if err != nil {
				return archiveErr(err)
			}
			fmt.Fprintf(io.out, "Exported %d items of %s to %s (%s, %s).\n", md.ItemCount, table, dir, archive.ItemsFile, archive.MetadataFile)
			return nil
		},
	}
	fs := cmd.Flags()
	cloud.register(fs)
	fs.StringVar(&table, "table", "", "the table to export (required)")
	fs.StringVar(&to, "to", "", "the directory to export into; the table goes to `DIR`/<table> (required)")
	return cmd
}

func newRestoreCmd(io streams) *cobra.Command {
	var (
		cloud                awsFlags
		from, table, billing string
		overwrite            bool
	)
	cmd := &cobra.Command{
		Use:   "restore --from DIR --table NAME",
		Short: "Write an export's items back into a table, creating the table if it is missing",
		Long: "restore reads DIR/NAME (or DIR itself, if it is one table's export, to restore under a new\n" +
			"name), creates NAME if it is missing — key schema, attributes and indexes from the export,\n" +
			"on-demand unless --billing original — and writes every item back. It checks every item\n" +
			"before it creates or writes anything, and refuses a table that already holds items\n" +
			"unless --overwrite.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || table == "" {
				return usageErr("--from and --table are both required, e.g. verify restore --from ./backup --table wallet")
			}
			if !wallet.ValidTableName(table) {
				return usageErr("--table %q: %s", table, archive.TableNameRule)
			}
			if b := archive.RestoreBilling(billing); b != archive.RestoreOnDemand && b != archive.RestoreOriginal {
				return usageErr("--billing %q: want %s or %s", billing, archive.RestoreOnDemand, archive.RestoreOriginal)
			}
			dir, err := exportDirFor(from, table)
			if err != nil {
				return err
			}
			cfg, err := cloud.load(cmd.Context(), awsconf.Options{})
			if err != nil {
				return err
			}
			r, err := archive.Restore(cmd.Context(), dynamodb.NewFromConfig(cfg), dir, table,
				archive.RestoreOptions{Billing: archive.RestoreBilling(billing), Overwrite: overwrite})
			var full *archive.NotEmpty
			switch {
			case errors.As(err, &full):
				return usageErr("%v. Restore into a new --table, or pass --overwrite to replace them", err)
			case r != nil && r.Partial:
				return archiveErr(fmt.Errorf("%w. Run the same restore with --overwrite to complete it", err))
			case err != nil:
				return archiveErr(err)
			}
			how := "into a new table"
			if !r.Created {
				how = fmt.Sprintf("into the existing table (%d items replaced)", r.Replaced)
			}
			fmt.Fprintf(io.out, "Restored %d items from %s %s %s.\n", r.Items, dir, how, table)
			return nil
		},
	}
	fs := cmd.Flags()
	cloud.register(fs)
	fs.StringVar(&from, "from", "", "the export directory: `DIR` holding <table>/, or one table's export (required)")
	fs.StringVar(&table, "table", "", "the table to restore into (required)")
	fs.BoolVar(&overwrite, "overwrite", false, "write into a table that already holds items, replacing those with the export's keys")
	fs.StringVar(&billing, "billing", string(archive.RestoreOnDemand), "billing of a table restore creates: on-demand or original")
	return cmd
}

// exportDirFor finds the export to restore: from/table when it holds one, else from itself.
// table must already be a valid name: "../x" would lead out of from.
func exportDirFor(from, table string) (string, error) {
	for _, d := range []string{archive.Dir(from, table), from} {
		if _, err := os.Stat(filepath.Join(d, archive.MetadataFile)); err == nil {
			return d, nil
		}
	}
	return "", usageErr("--from %q: no finished export there (want %s or %s)", from,
		filepath.Join(archive.Dir(from, table), archive.MetadataFile), filepath.Join(from, archive.MetadataFile))
}

// archiveErr gives an export or restore error its exit code: 2 when the input is at fault (a
// refused export or target, a missing table, an IAM denial), else 1.
func archiveErr(err error) error {
	var refused *archive.Refused
	var missing *types.ResourceNotFoundException
	_, denied := awsconf.AsDenied(err)
	if errors.As(err, &refused) || errors.As(err, &missing) || denied {
		return &exitError{exitUsage, err}
	}
	return failed(err)
}

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DefaultArchiveTimeout bounds an export or a restore: a large table takes a while, a silent
// endpoint must not take forever.
const DefaultArchiveTimeout = 2 * time.Hour

// exportOptions is everything `verify export` needs.
type exportOptions struct {
	s         streams
	cloud     awsFlags
	table, to string
}

func newExportCmd(s streams, runF func(context.Context, *exportOptions) error) *cobra.Command {
	if runF == nil {
		runF = runExport
	}
	o := &exportOptions{s: s}
	cmd := command(&cobra.Command{
		Use:   "export --table NAME --to DIR",
		Short: "Save every item of a table into DIR/NAME (DynamoDB JSON lines plus metadata)",
		Long: "export scans the table with consistent reads into DIR/NAME/items.jsonl, one item a line in\n" +
			"DynamoDB JSON (the typed form of DynamoDB's own S3 export: numbers keep every digit), and\n" +
			"writes DIR/NAME/metadata.json, with what `verify restore` needs to recreate the table, only\n" +
			"after reading items.jsonl back as restore will. DIR/NAME must be new or empty, or hold a\n" +
			"complete export of this very table (same ARN and TableId or creation time) whose items the\n" +
			"table still holds: a run killed before it finished can be run again.",
	}, o, runF, teardownPolicy)
	fs := cmd.Flags()
	o.cloud.register(fs, DefaultArchiveTimeout)
	fs.StringVar(&o.table, "table", "", "the table to export (required)")
	fs.StringVar(&o.to, "to", "", "the directory to export into; the table goes to `DIR`/<table> (required)")
	return strict(cmd)
}

func runExport(ctx context.Context, o *exportOptions) error {
	if o.table == "" || o.to == "" {
		return usageErr("--table and --to are both required, e.g. verify export --table wallet --to ./backup")
	}
	if !wallet.ValidTableName(o.table) {
		return usageErr("--table %q: %s", o.table, archive.TableNameRule)
	}
	if err := checkExportDir("--to", o.to); err != nil {
		return err
	}
	ctx, cancel, cfg, err := o.cloud.start(ctx, awsconf.Options{})
	defer cancel()
	if err != nil {
		return err
	}
	dir := archive.Dir(o.to, o.table)
	progress, clear := exportProgress(o.s.err, o.table)
	e, err := archive.ExportWith(ctx, dynamodb.NewFromConfig(cfg), o.table, dir, archive.ExportOptions{Progress: progress})
	clear()
	if err != nil {
		return archiveErr(err)
	}
	if e.Reused {
		fmt.Fprintf(o.s.out, "%s already held a complete export of %s (%d items, from %s), and the table still reads exactly so: kept it.\n",
			dir, o.table, e.ItemCount, e.ExportedAt.Format(time.RFC3339))
	} else {
		fmt.Fprintf(o.s.out, "Exported %d items of %s to %s (%s, %s).\n", e.ItemCount, o.table, dir, archive.ItemsFile, archive.MetadataFile)
	}
	if len(e.Leftovers) > 0 {
		fmt.Fprintf(o.s.err, "Note: left by exports into %s that did not finish (if none is running now, remove them): %s\n", dir, strings.Join(e.Leftovers, ", "))
	}
	return nil
}

// restoreOptions is everything `verify restore` needs.
type restoreOptions struct {
	s                    streams
	cloud                awsFlags
	from, table, billing string
	overwrite            bool
}

// billingOriginal is restore's --billing value for the exported table's own billing mode and
// capacity; its other value is a billing mode, on-demand.
const billingOriginal = "original"

func newRestoreCmd(s streams, runF func(context.Context, *restoreOptions) error) *cobra.Command {
	if runF == nil {
		runF = runRestore
	}
	o := &restoreOptions{s: s}
	cmd := command(&cobra.Command{
		Use:   "restore --from DIR --table NAME",
		Short: "Write an export's items back into a table, creating the table if it is missing",
		Long: "restore reads DIR/NAME (or DIR itself, if it is one table's export, to restore under a new\n" +
			"name), creates NAME if it is missing — key schema, attributes and indexes from the export,\n" +
			"on-demand unless --billing original — and writes every item back. It checks every item\n" +
			"before it creates or writes anything, and refuses a table that already holds items\n" +
			"unless --overwrite.",
	}, o, runF, teardownPolicy)
	fs := cmd.Flags()
	o.cloud.register(fs, DefaultArchiveTimeout)
	fs.StringVar(&o.from, "from", "", "the export directory: `DIR` holding <table>/, or one table's export (required)")
	fs.StringVar(&o.table, "table", "", "the table to restore into (required)")
	fs.BoolVar(&o.overwrite, "overwrite", false, "write into a table that already holds items, replacing those with the export's keys")
	fs.StringVar(&o.billing, "billing", string(wallet.BillingOnDemand), fmt.Sprintf("billing of a table restore creates: %s or %s", wallet.BillingOnDemand, billingOriginal))
	return strict(cmd)
}

func runRestore(ctx context.Context, o *restoreOptions) error {
	if o.from == "" || o.table == "" {
		return usageErr("--from and --table are both required, e.g. verify restore --from ./backup --table wallet")
	}
	if !wallet.ValidTableName(o.table) {
		return usageErr("--table %q: %s", o.table, archive.TableNameRule)
	}
	if o.billing != string(wallet.BillingOnDemand) && o.billing != billingOriginal {
		return usageErr("--billing %q: want %s or %s", o.billing, wallet.BillingOnDemand, billingOriginal)
	}
	dir, err := exportDirFor(o.from, o.table)
	if err != nil {
		return err
	}
	ctx, cancel, cfg, err := o.cloud.start(ctx, awsconf.Options{})
	defer cancel()
	if err != nil {
		return err
	}
	r, err := archive.Restore(ctx, dynamodb.NewFromConfig(cfg), dir, o.table,
		archive.RestoreOptions{OriginalBilling: o.billing == billingOriginal, Overwrite: o.overwrite})
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
	fmt.Fprintf(o.s.out, "Restored %d items from %s %s %s.\n", r.Items, dir, how, o.table)
	for _, n := range r.Notes {
		fmt.Fprintf(o.s.err, "Note: %s\n", n)
	}
	return nil
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

// archiveErr marks an export or restore refused for its input (a refused export or target) as
// the caller's to fix (exit 2); the edge's one rule classifies the rest (a missing table, an IAM
// denial or a silent endpoint is 2 as well, anything else 1).
func archiveErr(err error) error {
	var refused *archive.Refused
	if errors.As(err, &refused) {
		return &exitError{exitUsage, err}
	}
	return err
}

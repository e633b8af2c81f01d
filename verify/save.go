package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// saveFlags are how sweep and teardown keep a table's data before deleting it.
type saveFlags struct {
	export string // a directory: DynamoDB JSON lines, restorable by `verify restore`
	backup bool   // a native on-demand backup, restorable with RestoreTableFromBackup
}

func (f *saveFlags) register(fs *pflag.FlagSet, exportHelp string) {
	fs.StringVar(&f.export, "export", "", exportHelp)
	fs.BoolVar(&f.backup, "backup", false, "take a native on-demand backup of each table (AVAILABLE before the table is deleted); the backups are kept, at their storage price")
}

// options fills the sweep's savers: an export into the directory, a native backup, or both.
func (f *saveFlags) options(o *sweep.Options, r regions, byRegion bool) {
	if f.export != "" {
		o.Export = exporter(r.archive, f.export, byRegion)
	}
	if f.backup {
		// A backup's own wait, not the deletion's: minutes for a large table, and the sweep's
		// --timeout bounds both.
		o.Backup = sweep.NativeBackup(r.sweep, wallet.SweepBackupPrefix, sweep.DefaultBackupWait)
	}
}

// regions are each region's clients: the sweep's, and export's (which scans).
type regions struct {
	names   []string
	sweep   map[string]sweep.RegionClients
	archive map[string]archive.DynamoDB
}

func newRegions(cfg aws.Config, names []string) regions {
	r := regions{names: names, sweep: map[string]sweep.RegionClients{}, archive: map[string]archive.DynamoDB{}}
	for _, name := range names {
		rc := cfg.Copy()
		rc.Region = name
		r.sweep[name] = sweep.NewRegionClients(rc)
		r.archive[name] = dynamodb.NewFromConfig(rc)
	}
	return r
}

// checkExportDir refuses, before anything happens, an export target that cannot be written: an
// existing file, a path under one, or a directory nobody may write to. flag is the name the user
// typed, for the message. It leaves nothing behind.
func checkExportDir(flag, dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageErr("%s %q: not a directory", flag, dir)
	}
	// The nearest existing ancestor is where the export directory will be made: it must be a
	// directory this process can write into.
	existing := dir
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				return usageErr("%s %q: %s is not a directory", flag, dir, existing)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return usageErr("%s %q: %v", flag, dir, err)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	probe, err := os.CreateTemp(existing, ".verify-write-probe-*")
	if err != nil {
		return usageErr("%s %q: cannot write there: %v", flag, dir, err)
	}
	probe.Close()
	_ = os.Remove(probe.Name())
	return nil
}

// exporter exports a table into root/<table> (root/<region>/<table> when byRegion, as one table
// name can exist in several regions).
func exporter(dbs map[string]archive.DynamoDB, root string, byRegion bool) func(context.Context, string, string) (string, error) {
	return func(ctx context.Context, region, table string) (string, error) {
		db, ok := dbs[region]
		if !ok {
			return "", fmt.Errorf("no client for region %s", region)
		}
		dir := root
		if byRegion {
			dir = archive.Dir(root, region)
		}
		dir = archive.Dir(dir, table)
		if _, err := archive.Export(ctx, db, table, dir); err != nil {
			return "", err
		}
		return dir, nil
	}
}

// reportError turns a finished report into the command's outcome: a denial or an unlistable
// account is a configuration error (exit 2) and is named; a failed action is exit 1.
func reportError(r sweep.Report, what string) error {
	for _, err := range r.Errs() {
		if awsconf.IsDenied(err) {
			return &exitError{exitUsage, err}
		}
	}
	if r.Unlisted() {
		for _, err := range r.Errs() {
			return &exitError{exitUsage, fmt.Errorf("%s: no region could be listed: %w", what, err)}
		}
	}
	if n := r.Failures(); n > 0 {
		return failed(fmt.Errorf("%s: %d planned actions failed or tables could not be read (see the report)", what, n))
	}
	return nil
}

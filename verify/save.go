package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
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

// sweep is what the flags ask the engine to save before a deletion.
func (f *saveFlags) sweep() sweep.Save {
	return sweep.Save{ExportRoot: f.export, Backup: f.backup}
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

package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
)

// saveFlags are how sweep and teardown keep a table's data before deleting it, and where they
// write each deletion down where no ledger is deployed.
type saveFlags struct {
	export    string // a directory: DynamoDB JSON lines, restorable by `verify restore`
	backup    bool   // a native on-demand backup, restorable by `verify undo`
	recordDir string // where records go as files where no ledger is: default beside the export, else defaultRecordDir
}

func (f *saveFlags) register(fs *pflag.FlagSet, exportHelp string) {
	fs.StringVar(&f.export, "export", "", exportHelp)
	fs.BoolVar(&f.backup, "backup", false, "take a native on-demand backup of each table (AVAILABLE before the table is deleted); the backups are kept, at their storage price")
	fs.StringVar(&f.recordDir, "record-dir", "", "where no ledger is deployed (the janitor stack's), write each deletion's record into `DIR` (default: beside the table's export, else "+recordDirHelp+")")
}

// sweep is what the flags ask the engine to save before a deletion, and where to write its
// record where no ledger takes it: --record-dir, else beside the export, else the user's state
// directory. With none of them (no HOME), such a deletion does not happen.
func (f *saveFlags) sweep() sweep.Save {
	s := sweep.Save{ExportRoot: f.export, Backup: f.backup, RecordDir: f.recordDir}
	if f.recordDir == "" {
		s.RecordDir, s.RecordBesideExport = defaultRecordDir(), true
	}
	return s
}

// check refuses, before anything happens, an export or record directory that cannot be written.
func (f *saveFlags) check() error {
	if err := checkExportDir("--export", f.export); err != nil {
		return err
	}
	return checkExportDir("--record-dir", f.recordDir)
}

const recordDirHelp = "$XDG_STATE_HOME/wallet/records, or ~/.local/state/wallet/records"

// defaultRecordDir is where a run writes its records when no ledger, no --record-dir and no
// export say otherwise, and where `verify history` and `verify undo` look for them: the user's
// state directory (XDG), not the working directory, so a record is found again from anywhere.
// "" when neither XDG_STATE_HOME nor HOME is set.
func defaultRecordDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "wallet", "records")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "state", "wallet", "records")
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

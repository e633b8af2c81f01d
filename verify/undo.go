package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/undo"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// undoOptions is everything `verify undo` needs.
type undoOptions struct {
	s      streams
	where  ledgerFlags
	table  string
	record string
	as     string
	yes    bool
	json   bool
	wait   time.Duration
}

// DefaultUndoTimeout bounds a whole undo: a restore from a backup takes minutes on AWS, and
// TTL and the rest take a while to be in effect.
const DefaultUndoTimeout = time.Hour

func newUndoCmd(s streams, runF func(context.Context, *undoOptions) error) *cobra.Command {
	if runF == nil {
		runF = runUndo
	}
	o := &undoOptions{s: s, wait: undo.DefaultWait}
	cmd := command(&cobra.Command{
		Use:   "undo [TABLE] [--record ID]",
		Short: "Bring a deleted table back exactly, from the record of its deletion (a dry run without --yes)",
		Long: "undo finds the record of TABLE's latest deletion (or the record ID), restores the table from\n" +
			"the backup or the export that saved it, re-applies everything a restore drops — tags, TTL,\n" +
			"point-in-time recovery, auto scaling, stream, deletion protection, encryption, table class,\n" +
			"capacity — waits until all of it is in effect, and proves it: the configuration read back\n" +
			"equals the record's, and so do the items (their count; for an export, their digest).\n\n" +
			"Refused, with nothing changed: no record; a table of that name (--as NEW restores under\n" +
			"another); a backup gone or not AVAILABLE; a record of another account. A run killed midway is\n" +
			"finished by the next: it finds its own table by the record's id in a tag.",
		PreRunE: func(c *cobra.Command, args []string) error {
			if err := o.where.validate(c); err != nil {
				return err
			}
			if len(args) == 1 {
				o.table = args[0]
			}
			return o.check()
		},
	}, o, runF, teardownPolicy)
	cmd.Args = cobra.MaximumNArgs(1)
	o.where.register(cmd, DefaultUndoTimeout)
	fs := cmd.Flags()
	fs.StringVar(&o.record, "record", "", "the record to undo, by its id (`verify history` shows it), instead of TABLE's latest")
	fs.StringVar(&o.as, "as", "", "restore under this name instead of the table's own")
	fs.BoolVar(&o.yes, "yes", false, "really restore (without it, a dry run)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON")
	fs.Var(&positiveDuration{&o.wait}, "wait", "how long to wait for everything re-applied to be in effect")
	return strict(cmd)
}

// check refuses bad input before anything touches AWS.
func (o *undoOptions) check() error {
	switch {
	case o.table == "" && o.record == "":
		return usageErr("name the table to bring back (verify undo TABLE) or its record (--record ID)")
	case o.table != "" && o.record != "":
		return usageErr("TABLE and --record cannot be used together: the record names its table")
	case o.table != "" && !wallet.ValidTableName(o.table):
		return usageErr("table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", cut(o.table))
	case o.as != "" && !wallet.ValidTableName(o.as):
		return usageErr("--as %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", cut(o.as))
	}
	if o.record != "" {
		if err := ledger.CheckID(o.record); err != nil {
			return usageErr("--record: %v", err)
		}
	}
	return nil
}

func runUndo(ctx context.Context, o *undoOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	ctx, cancel := o.where.cloud.bound(ctx)
	defer cancel()
	fl, err := o.where.open(ctx)
	if err != nil {
		return err
	}
	found := undo.Records(ctx, fl, o.where.dirs(), ledger.Filter{Table: o.table, ID: o.record})
	rec, err := undo.Select(found, fl, o.table, o.record)
	if err != nil {
		return refusedErr(err)
	}
	u, _ := undo.UnitOf(fl, rec)
	c := undo.ClientsOf(u.Config)
	plan, err := undo.Check(ctx, c, rec, u.Account.ID, o.as)
	if err != nil {
		return refusedErr(err)
	}
	if !o.yes {
		dry := undo.DryRun(plan)
		return render(o.s.out, o.json, dry, dry.WriteText)
	}
	res, err := undo.Run(ctx, c, plan, undo.Options{Wait: o.wait})
	if rerr := render(o.s.out, o.json, res, res.WriteText); rerr != nil {
		return rerr
	}
	switch {
	case err != nil:
		return err
	case !res.Restored:
		return failed(fmt.Errorf("undo of %s: %s is there but not as recorded (see above)", rec.ID, plan.Table))
	}
	return nil
}

// refusedErr maps an undo refused before anything changed to exit 2.
func refusedErr(err error) error {
	var r *undo.Refused
	if errors.As(err, &r) {
		return &exitError{exitUsage, err}
	}
	return err
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"golang.org/x/term"
)

func newTeardownCmd(io streams) *cobra.Command {
	var (
		cloud  awsFlags
		prices priceFlags
		stack  string
		export string
		yes    bool
		asJSON bool
		to     sweep.TeardownOptions
	)
	cmd := &cobra.Command{
		Use:   "teardown --stack NAME",
		Short: "Delete a stack and prove its tables are gone (a dry run without --yes)",
		Long: "teardown prints what deleting the stack would do — its tables, their deletion policy\n" +
			"and what each costs a month — and changes nothing. With --yes it deletes the stack, waits,\n" +
			"and proves each table is gone. Tables the stack retains are listed with their cost and the\n" +
			"command exits 1, unless --delete-retained deletes them too.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if stack == "" {
				return usageErr("--stack is required: name the stack to tear down, e.g. --stack Wallet-dev")
			}
			p, err := prices.resolve()
			if err != nil {
				return err
			}
			if err := sweepCheckExportDir(export); err != nil {
				return err
			}
			ctx := cmd.Context()
			cfg, err := cloud.load(ctx, awsconf.Options{})
			if err != nil {
				return err
			}
			c := sweep.NewRegionClients(cfg)
			td, err := sweep.PlanTeardown(ctx, c, stack, p, to)
			if errors.Is(err, discover.ErrStackNotFound) {
				return usageErr("%w (already torn down? `verify sweep` finds any table it left behind)", err)
			}
			if err != nil {
				return &exitError{exitUsage, err}
			}
			if yes {
				o := sweep.Options{}
				if export != "" {
					o.Save = sweepSaver(map[string]archive.DynamoDB{cfg.Region: dynamodb.NewFromConfig(cfg)}, export, false)
				}
				td.Run(ctx, c, o)
			}
			if err := sweepRender(io.out, asJSON, td, td.WriteText); err != nil {
				return err
			}
			if td.Failed() {
				return failed(fmt.Errorf("teardown of %s left tables behind or failed (see above)", stack))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cloud.register(fs)
	prices.register(fs)
	fs.StringVar(&stack, "stack", "", "the stack to tear down (required)")
	fs.BoolVar(&yes, "yes", false, "really delete (without it, a dry run)")
	fs.BoolVar(&to.DeleteRetained, "delete-retained", false, "also delete the tables the stack retains (DeletionPolicy Retain)")
	fs.BoolVar(&to.IncludeProtected, "include-protected", false, "turn deletion protection off on tables that are to be deleted")
	fs.StringVar(&export, "export", "", "export every table's items into `DIR`/<table> before deleting anything")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// sweepCheckExportDir refuses an export target that cannot be a directory, before anything happens.
func sweepCheckExportDir(dir string) error {
	if dir == "" {
		return nil
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageErr("--export %q: not a directory", dir)
	}
	return nil
}

// sweepSaver exports a table into root/<table> (root/<region>/<table> when byRegion, as one table
// name can exist in several regions).
func sweepSaver(dbs map[string]archive.DynamoDB, root string, byRegion bool) func(context.Context, string, string) (string, error) {
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

// sweepRender writes a report as indented JSON or as text.
func sweepRender(w io.Writer, asJSON bool, v any, text func(io.Writer) error) error {
	if !asJSON {
		return text(w)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sweepIsTerminal reports whether a standard stream is a terminal (only real files can be).
func sweepIsTerminal(s any) bool {
	f, ok := s.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sweepProgress returns a progress callback that rewrites one line of w, or nil when w is not a
// terminal: logs and pipes get only the final report.
func sweepProgress(w any) (func(stage string, done, total int), func()) {
	if !sweepIsTerminal(w) {
		return nil, func() {}
	}
	out := w.(io.Writer)
	var mu sync.Mutex
	return func(stage string, done, total int) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(out, "\r\033[K%s %d/%d", stage, done, total)
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(out, "\r\033[K")
		}
}

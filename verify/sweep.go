package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

type sweepFlags struct {
	regions          []string
	allRegions       bool
	profile          string
	yes, asJSON      bool
	includeProtected bool
	namePrefix       string
	olderThan        string
	idleFor          string
	export           string
	concurrency      int
	pageSize         int32
	prices           priceFlags
}

func newSweepCmd(io streams) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Find forgotten wallet tables, price them, and delete them (a dry run without --yes)",
		Long: "sweep finds tables tagged Project=wallet (or named by --name-prefix) that are orphaned\n" +
			"(their stack is gone), expired (ExpiresAfter tag), older than --older-than, or idle for\n" +
			"--idle-for, and shows what each costs a month. A table of a live stack that has not expired\n" +
			"is never a candidate; an expired one is removed through its stack.\n\n" +
			"Without --yes it is a dry run; on a terminal it offers to go ahead once you type the\n" +
			"account id. Protected tables are skipped unless --include-protected.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSweep(cmd.Context(), io, f) },
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&f.regions, "region", nil, "region to sweep; repeat for several (default: the configured region)")
	fs.BoolVar(&f.allRegions, "all-regions", false, "sweep every commercial region DynamoDB runs in")
	fs.StringVar(&f.profile, "profile", "", "shared config profile (default: the SDK's default chain)")
	fs.BoolVar(&f.yes, "yes", false, "really delete (without it, a dry run)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&f.includeProtected, "include-protected", false, "turn deletion protection off and delete protected candidates too")
	fs.StringVar(&f.namePrefix, "name-prefix", "", "also treat tables whose name starts with this as ours, tagged or not")
	fs.StringVar(&f.olderThan, "older-than", "", "also candidates: tables created longer ago than this (72h, 7d)")
	fs.StringVar(&f.idleFor, "idle-for", "", "also candidates: tables with no consumed capacity in CloudWatch for this long (72h, 7d)")
	fs.StringVar(&f.export, "export", "", "export each table's items into `DIR`/<table> (DIR/<region>/<table> for several regions) before deleting it")
	f.concurrency = 8
	fs.Var(&boundedInt{&f.concurrency, 1, 64}, "concurrency", "calls in flight at once (1 to 64)")
	fs.Int32Var(&f.pageSize, "list-page-size", 0, "ListTables page size (testing)")
	_ = fs.MarkHidden("list-page-size")
	f.prices.register(fs)
	return cmd
}

var sweepRegionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)

// filter validates every flag before anything touches AWS.
func (f sweepFlags) filter() (sweep.Filter, error) {
	var flt sweep.Filter
	if len(f.regions) > 0 && f.allRegions {
		return flt, usageErr("--region and --all-regions cannot be used together: pick regions, or all of them")
	}
	for _, r := range f.regions {
		if !sweepRegionRE.MatchString(r) {
			return flt, usageErr("--region %q: want a region name such as us-east-1", r)
		}
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"--older-than", f.olderThan, &flt.OlderThan}, {"--idle-for", f.idleFor, &flt.IdleFor}} {
		if d.v == "" {
			continue
		}
		v, err := wallet.ParseDuration(d.v)
		if err != nil {
			return flt, usageErr("%s %q: %v", d.name, d.v, err)
		}
		*d.dst = v
	}
	if f.pageSize < 0 || f.pageSize > 100 {
		return flt, usageErr("--list-page-size %d: want 1 to 100 (0: the service's default)", f.pageSize)
	}
	if strings.TrimSpace(f.namePrefix) != f.namePrefix {
		return flt, usageErr("--name-prefix %q: no leading or trailing spaces (table names have none)", f.namePrefix)
	}
	flt.NamePrefix = f.namePrefix
	return flt, sweepCheckExportDir(f.export)
}

func runSweep(ctx context.Context, io streams, f sweepFlags) error {
	flt, err := f.filter()
	if err != nil {
		return err
	}
	prices, err := f.prices.resolve()
	if err != nil {
		return err
	}
	first := ""
	if len(f.regions) > 0 {
		first = f.regions[0]
	}
	cfg, err := (&awsFlags{profile: f.profile}).load(ctx, awsconf.Options{Region: first})
	if err != nil {
		return err
	}
	regions := slices.Compact(slices.Sorted(slices.Values(f.regions)))
	switch {
	case f.allRegions:
		regions = sweep.Regions()
	case len(regions) == 0:
		regions = []string{cfg.Region}
	}
	clients := map[string]sweep.RegionClients{}
	dbs := map[string]archive.DynamoDB{}
	for _, r := range regions {
		rc := cfg.Copy()
		rc.Region = r
		clients[r] = sweep.NewRegionClients(rc)
		dbs[r] = dynamodb.NewFromConfig(rc)
	}
	progress, clear := sweepProgress(io.err)
	o := sweep.Options{
		PageLimit:           f.pageSize,
		Concurrency:         f.concurrency,
		Progress:            progress,
		SkipDisabledRegions: f.allRegions,
	}
	if f.export != "" {
		o.Save = sweepSaver(dbs, f.export, len(regions) > 1)
	}

	found := make([]sweep.Inventory, len(regions))
	var g errgroup.Group
	g.SetLimit(4)
	for i, r := range regions {
		g.Go(func() error {
			found[i] = sweep.Discover(ctx, clients[r], flt, o)
			return nil
		})
	}
	_ = g.Wait()
	clear()
	plan := sweep.NewPlan(found, flt, prices, f.includeProtected)

	act := f.yes
	if !act && plan.Pending() > 0 && sweepIsTerminal(io.in) {
		if err := plan.DryRun().WriteText(io.err); err != nil {
			return err
		}
		account, err := sweep.Account(ctx, sts.NewFromConfig(cfg))
		if err != nil {
			return &exitError{exitUsage, err}
		}
		ok, err := sweepConfirm(io.in, io.err, account, plan.Pending())
		if err != nil {
			return failed(fmt.Errorf("read the confirmation: %w", err))
		}
		if !ok {
			_ = sweepRender(io.out, f.asJSON, plan.DryRun(), plan.DryRun().WriteText)
			return failed(fmt.Errorf("not confirmed: nothing deleted"))
		}
		act = true
	}
	report := plan.DryRun()
	if act {
		report = sweep.Act(ctx, plan, clients, o)
		clear()
	}
	if err := sweepRender(io.out, f.asJSON, report, report.WriteText); err != nil {
		return err
	}
	if n := report.Failures(); n > 0 {
		return failed(fmt.Errorf("%d planned actions failed or tables could not be read (see the report)", n))
	}
	return nil
}

// sweepConfirm names the account and what is at stake on w, and goes ahead only if the line read
// from r is exactly the account id.
func sweepConfirm(r io.Reader, w io.Writer, account string, n int) (bool, error) {
	fmt.Fprintf(w, "\nThis deletes %d tables in account %s. Type the account id to go ahead: ", n, account)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	ok := strings.TrimSpace(line) == account
	if !ok {
		fmt.Fprintln(w, "That is not the account id; nothing deleted.")
	}
	return ok, nil
}

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/undo"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// ledgerFlags choose where records are read: the ledgers of the fleet's accounts in its
// regions, and the record directories.
type ledgerFlags struct {
	cloud     awsFlags // --profile and --timeout; --region is repeatable here
	regions   []string
	recordDir string
	fleet     fleetFlags
}

func (f *ledgerFlags) register(c *cobra.Command, timeout time.Duration) {
	fs := c.Flags()
	fs.StringArrayVar(&f.regions, "region", nil, "region whose ledger to read; repeat for several (default: the configured region)")
	fs.StringVar(&f.recordDir, "record-dir", "", "also read the records written as files into `DIR` where no ledger was deployed (default: "+recordDirHelp+")")
	f.cloud.registerProfile(fs, timeout)
	f.fleet.register(fs, sweep.DefaultConcurrency)
}

func (f *ledgerFlags) validate(c *cobra.Command) error {
	if err := refuseTogether(c, orgOrAccounts); err != nil {
		return err
	}
	for _, r := range f.regions {
		if !regionRE.MatchString(r) {
			return usageErr("--region %q: want a region name such as us-east-1", r)
		}
	}
	return f.fleet.validate(c)
}

// open opens the fleet over the regions, under the command's bound.
func (f *ledgerFlags) open(ctx context.Context) (org.Fleet, error) {
	cfg, err := f.cloud.load(ctx, awsconf.Options{Region: firstOr(f.regions, "")})
	if err != nil {
		return org.Fleet{}, err
	}
	regions := slices.Compact(slices.Sorted(slices.Values(f.regions)))
	if len(regions) == 0 {
		regions = []string{cfg.Region}
	}
	return f.fleet.open(ctx, cfg, regions)
}

// dirs are the record directories read: --record-dir, else the default one.
func (f *ledgerFlags) dirs() []string {
	if f.recordDir != "" {
		return []string{f.recordDir}
	}
	return []string{defaultRecordDir()}
}

// historyOptions is everything `verify history` needs.
type historyOptions struct {
	s            streams
	where        ledgerFlags
	table        string
	account      string
	since, until string
	json         bool
}

// DefaultHistoryTimeout bounds reading every ledger of a fleet.
const DefaultHistoryTimeout = 5 * time.Minute

func newHistoryCmd(s streams, runF func(context.Context, *historyOptions) error) *cobra.Command {
	if runF == nil {
		runF = runHistory
	}
	o := &historyOptions{s: s}
	cmd := command(&cobra.Command{
		Use:   "history",
		Short: "List the deletions written down in the ledger (and in record files), newest first",
		Long: "history reads the records every deletion writes before it happens (sweep, teardown, the\n" +
			"janitor): the ledger table of the janitor stack in each account and region of the fleet, and\n" +
			"the record files written where no ledger was deployed. Each says which table went, why, who\n" +
			"deleted it, when, what saved its items and what it cost; `verify undo` brings one back.",
		PreRunE: func(c *cobra.Command, _ []string) error {
			if err := o.where.validate(c); err != nil {
				return err
			}
			_, err := o.filter(time.Now())
			return err
		},
	}, o, runF, teardownPolicy)
	o.where.register(cmd, DefaultHistoryTimeout)
	fs := cmd.Flags()
	fs.StringVar(&o.table, "table", "", "only the records of this table")
	fs.StringVar(&o.account, "account", "", "only the records of this account (12 digits)")
	fs.StringVar(&o.since, "since", "", "only records written since then: a time (2026-01-02, RFC 3339) or a duration ago (72h, 7d)")
	fs.StringVar(&o.until, "until", "", "only records written until then: a time or a duration ago")
	fs.BoolVar(&o.json, "json", false, "print the records as JSON")
	return strict(cmd)
}

// filter reads the filter flags, refusing what is not one.
func (o *historyOptions) filter(now time.Time) (ledger.Filter, error) {
	f := ledger.Filter{Table: o.table, Account: o.account}
	if o.table != "" && !wallet.ValidTableName(o.table) {
		return f, usageErr("--table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", cut(o.table))
	}
	if o.account != "" {
		if err := org.CheckAccountID("--account", o.account); err != nil {
			return f, usageErr("%v", err)
		}
	}
	var err error
	if f.Since, err = pointInTime("--since", o.since, now); err != nil {
		return f, err
	}
	if f.Until, err = pointInTime("--until", o.until, now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		return f, usageErr("--until %s is before --since %s", o.until, o.since)
	}
	return f, nil
}

// pointInTime reads a time (RFC 3339, or a date) or a duration ago ("7d").
func pointInTime(flag, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	d, err := wallet.ParseDuration(v)
	if err != nil {
		return time.Time{}, usageErr("%s %q: want a time (2026-01-02, 2026-01-02T15:04:05Z) or a duration ago (72h, 7d)", flag, cut(v))
	}
	return now.Add(-d), nil
}

func runHistory(ctx context.Context, o *historyOptions) error {
	f, err := o.filter(time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := o.where.cloud.bound(ctx)
	defer cancel()
	fl, err := o.where.open(ctx)
	if err != nil {
		return err
	}
	c := undo.Records(ctx, fl, o.where.dirs(), f)
	if err := render(o.s.out, o.json, c, c.WriteText); err != nil {
		return err
	}
	if len(c.Problems) > 0 {
		return failed(fmt.Errorf("history of %s: %d ledgers, files or accounts could not be read (see above): %s", fl.What(), len(c.Problems), strings.SplitN(c.Problems[0], "\n", 2)[0]))
	}
	return nil
}

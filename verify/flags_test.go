package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// parsed runs args through a command's flags and checks with its runF seam in place of the
// run, the way gh tests its commands: nothing connects anywhere. It returns the options the run
// would have been given (nil if it was never reached) and the error, as exitCode maps it.
func parsed[O any](newCmd func(streams, func(context.Context, *O) error) *cobra.Command, args []string) (*O, int) {
	var got *O
	code, _, _ := execute(func(s streams) *cobra.Command {
		return newCmd(s, func(_ context.Context, o *O) error {
			got = o
			return nil
		})
	}, args)
	return got, code
}

// execute runs one command built on streams of its own with args (the command's name left
// out), as main does: the error, if any, on stderr and mapped to the exit code by the one rule.
func execute(newCmd func(streams) *cobra.Command, args []string) (int, string, string) {
	var out, errb bytes.Buffer
	cmd := newCmd(streams{strings.NewReader(""), &out, &errb})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	if err != nil {
		fmt.Fprintln(&errb, "verify:", err)
	}
	return exitCode(context.Background(), err), out.String(), errb.String()
}

// summarize parses args with one command and describes the options its run was given in a
// line ("not run" when it was refused first), for the table below to compare.
func summarize[O any](newCmd func(streams, func(context.Context, *O) error) *cobra.Command, describe func(*O) string) func([]string) (string, int) {
	return func(args []string) (string, int) {
		o, code := parsed(newCmd, args)
		if o == nil {
			return "not run", code
		}
		return describe(o), code
	}
}

// Every command's flags reach its run as the user meant them (defaults included), and a flag
// refused while parsing never reaches it. The runs themselves are tested against moto elsewhere.
func TestFlagsReachTheRun(t *testing.T) {
	sweepCmd := summarize(newSweepCmd, func(o *sweepOptions) string {
		return fmt.Sprintf("regions=%v all=%v yes=%v json=%v protected=%v prefix=%q older=%q idle=%q concurrency=%d page=%d export=%q backup=%v timeout=%s format=%s plan-out=%q ttl=%s apply=%q",
			o.regions, o.allRegions, o.yes, o.json, o.includeProtected, o.namePrefix, o.olderThan, o.idleFor, o.fleet.concurrency, o.pageSize, o.save.export, o.save.backup, o.cloud.timeout,
			o.format, o.planOut, o.planTTL, o.apply)
	})
	teardownCmd := summarize(newTeardownCmd, func(o *teardownOptions) string {
		return fmt.Sprintf("stack=%q yes=%v json=%v retained=%v protected=%v export=%q region=%q timeout=%s",
			o.stack, o.yes, o.json, o.rules.DeleteRetained, o.rules.IncludeProtected, o.save.export, o.cloud.region, o.cloud.timeout)
	})
	exportCmd := summarize(newExportCmd, func(o *exportOptions) string {
		return fmt.Sprintf("table=%q to=%q timeout=%s", o.table, o.to, o.cloud.timeout)
	})
	restoreCmd := summarize(newRestoreCmd, func(o *restoreOptions) string {
		return fmt.Sprintf("from=%q table=%q billing=%s overwrite=%v", o.from, o.table, o.billing, o.overwrite)
	})
	checkCmd := summarize(newCheckCmd, func(o *checkOptions) string {
		return fmt.Sprintf("stack=%q table=%q tableSet=%v readOnly=%v roundtrips=%d concurrency=%d json=%v timeout=%s",
			o.run.Stack, o.run.Table, o.tableSet, o.run.ReadOnly, o.run.Roundtrips, o.run.Concurrency, o.json, o.cloud.timeout)
	})
	historyCmd := summarize(newHistoryCmd, func(o *historyOptions) string {
		return fmt.Sprintf("table=%q account=%q since=%q until=%q json=%v regions=%v dir=%q org=%v timeout=%s",
			o.table, o.account, o.since, o.until, o.json, o.where.regions, o.where.recordDir, o.where.fleet.scope.Org, o.where.cloud.timeout)
	})
	undoCmd := summarize(newUndoCmd, func(o *undoOptions) string {
		return fmt.Sprintf("table=%q record=%q as=%q yes=%v json=%v wait=%s regions=%v timeout=%s",
			o.table, o.record, o.as, o.yes, o.json, o.wait, o.where.regions, o.where.cloud.timeout)
	})
	costCmd := summarize(newCostCmd, func(o *costOptions) string {
		return fmt.Sprintf("table=%q days=%d all=%v concurrency=%d timeout=%s format=%s", o.table, o.days, o.allRegions, o.fleet.concurrency, o.cloud.timeout, o.format)
	})

	for _, tc := range []struct {
		name     string
		run      func([]string) (string, int)
		args     []string
		want     string
		wantCode int
	}{
		{"sweep defaults", sweepCmd, nil,
			`regions=[] all=false yes=false json=false protected=false prefix="" older="" idle="" concurrency=8 page=0 export="" backup=false timeout=30m0s format=text plan-out="" ttl=24h0m0s apply=""`, exitOK},
		{"sweep: --region repeats, durations stay text until the run reads them", sweepCmd,
			[]string{"--region", "eu-west-1", "--region", "us-east-1", "--yes", "--json", "--older-than", "7d", "--idle-for", "72h", "--concurrency", "3", "--list-page-size", "2", "--backup", "--timeout", "5m"},
			`regions=[eu-west-1 us-east-1] all=false yes=true json=true protected=false prefix="" older="7d" idle="72h" concurrency=3 page=2 export="" backup=true timeout=5m0s format=text plan-out="" ttl=24h0m0s apply=""`, exitOK},
		{"sweep --plan-out with --plan-ttl in days, --format markdown", sweepCmd, []string{"--plan-out", "/tmp/flags-plan.json", "--plan-ttl", "3d", "--format", "markdown"},
			`regions=[] all=false yes=false json=false protected=false prefix="" older="" idle="" concurrency=8 page=0 export="" backup=false timeout=30m0s format=markdown plan-out="/tmp/flags-plan.json" ttl=72h0m0s apply=""`, exitOK},
		{"sweep --apply --yes --json", sweepCmd, []string{"--apply", "plan.json", "--yes", "--json"},
			`regions=[] all=false yes=true json=true protected=false prefix="" older="" idle="" concurrency=8 page=0 export="" backup=false timeout=30m0s format=text plan-out="" ttl=24h0m0s apply="plan.json"`, exitOK},
		{"sweep: --plan-ttl over 7 days", sweepCmd, []string{"--plan-out", "/tmp/flags-plan.json", "--plan-ttl", "169h"}, "not run", exitUsage},
		{"sweep: --plan-ttl without --plan-out", sweepCmd, []string{"--plan-ttl", "1h"}, "not run", exitUsage},
		{"sweep: --plan-out with --yes", sweepCmd, []string{"--plan-out", "/tmp/flags-plan.json", "--yes"}, "not run", exitUsage},
		{"sweep: --apply with --plan-out", sweepCmd, []string{"--apply", "a.json", "--plan-out", "/tmp/flags-plan.json"}, "not run", exitUsage},
		{"sweep: --format xml", sweepCmd, []string{"--format", "xml"}, "not run", exitUsage},
		{"sweep: --json and --format markdown", sweepCmd, []string{"--json", "--format", "markdown"}, "not run", exitUsage},
		{"cost --format markdown", costCmd, []string{"--format", "markdown"}, `table="" days=14 all=false concurrency=8 timeout=10m0s format=markdown`, exitOK},
		{"sweep: an empty --export is refused before the run", sweepCmd, []string{"--export", ""}, "not run", exitUsage},
		{"sweep: --concurrency out of range", sweepCmd, []string{"--concurrency", "65"}, "not run", exitUsage},
		{"teardown", teardownCmd, []string{"--stack", "Wallet-dev", "--yes", "--delete-retained", "--include-protected", "--export", "/tmp/x", "--region", "eu-west-1"},
			`stack="Wallet-dev" yes=true json=false retained=true protected=true export="/tmp/x" region="eu-west-1" timeout=30m0s`, exitOK},
		{"teardown: an empty --stack", teardownCmd, []string{"--stack", " "}, "not run", exitUsage},
		{"teardown: no arguments", teardownCmd, []string{"Wallet-dev"}, "not run", exitUsage},
		{"export", exportCmd, []string{"--table", "wallet", "--to", "backup"}, `table="wallet" to="backup" timeout=2h0m0s`, exitOK},
		{"restore defaults to on-demand billing", restoreCmd, []string{"--from", "backup", "--table", "wallet"},
			`from="backup" table="wallet" billing=on-demand overwrite=false`, exitOK},
		{"restore --billing original --overwrite", restoreCmd, []string{"--from", "backup", "--table", "wallet", "--billing", "original", "--overwrite"},
			`from="backup" table="wallet" billing=original overwrite=true`, exitOK},
		{"check defaults", checkCmd, nil,
			`stack="Wallet-dev" table="" tableSet=false readOnly=false roundtrips=10 concurrency=4 json=false timeout=2m0s`, exitOK},
		{"check --table", checkCmd, []string{"--table", "t", "--read-only", "--roundtrips", "3", "--concurrency", "2"},
			`stack="Wallet-dev" table="t" tableSet=true readOnly=true roundtrips=3 concurrency=2 json=false timeout=2m0s`, exitOK},
		{"check: --stack and --table", checkCmd, []string{"--table", "t", "--stack", "s"}, "not run", exitUsage},
		{"cost defaults", costCmd, nil, `table="" days=14 all=false concurrency=8 timeout=10m0s format=text`, exitOK},
		// pflag's own int flag reads 010 as octal 8.
		{"cost: --days is decimal", costCmd, []string{"--days", "010", "--all-regions"}, `table="" days=10 all=true concurrency=8 timeout=10m0s format=text`, exitOK},
		{"cost: --days 015", costCmd, []string{"--days", "015"}, `table="" days=15 all=false concurrency=8 timeout=10m0s format=text`, exitOK},
		{"cost: an empty --table", costCmd, []string{"--table", ""}, "not run", exitUsage},
		{"cost: an empty --template", costCmd, []string{"--template", ""}, "not run", exitUsage},
		{"cost: an empty --stack", costCmd, []string{"--stack", ""}, "not run", exitUsage},
		// A single-valued flag given twice is refused, not silently won by its last value.
		{"cost: --region twice", costCmd, []string{"--region", "eu-west-1", "--region", "us-east-1"}, "not run", exitUsage},
		{"cost: an empty --region", costCmd, []string{"--region", ""}, "not run", exitUsage},
		{"check: --stack twice", checkCmd, []string{"--stack", "a", "--stack", "b"}, "not run", exitUsage},
		{"teardown: --yes twice", teardownCmd, []string{"--stack", "Wallet-dev", "--yes", "--yes"}, "not run", exitUsage},
		{"sweep: an empty --name-prefix", sweepCmd, []string{"--name-prefix", ""}, "not run", exitUsage},
		{"sweep: --older-than= (empty)", sweepCmd, []string{"--older-than="}, "not run", exitUsage},
		{"sweep: --accounts \"\" is empty, not a missing --org", sweepCmd, []string{"--accounts", ""}, "not run", exitUsage},
		// Flags that cannot go together are refused before the run, for every command alike.
		{"sweep: --region and --all-regions", sweepCmd, []string{"--region", "eu-west-1", "--all-regions"}, "not run", exitUsage},
		{"sweep: --org and --accounts", sweepCmd, []string{"--org", "--accounts", "123456789012"}, "not run", exitUsage},
		{"cost: --template and --table", costCmd, []string{"--template", "t.json", "--table", "t1"}, "not run", exitUsage},
		{"cost: --template and --org", costCmd, []string{"--template", "t.json", "--org"}, "not run", exitUsage},
		{"cost: --table and --all-regions", costCmd, []string{"--table", "t1", "--all-regions"}, "not run", exitUsage},
		{"cost: --role-name without --org", costCmd, []string{"--role-name", "R"}, "not run", exitUsage},
		{"history defaults", historyCmd, nil, `table="" account="" since="" until="" json=false regions=[] dir="" org=false timeout=5m0s`, exitOK},
		{"history filters", historyCmd, []string{"--table", "wallet-x", "--account", "123456789012", "--since", "7d", "--until", "2099-01-02", "--json", "--org", "--region", "eu-west-1", "--record-dir", "/tmp/r"},
			`table="wallet-x" account="123456789012" since="7d" until="2099-01-02" json=true regions=[eu-west-1] dir="/tmp/r" org=true timeout=5m0s`, exitOK},
		{"history: a --since that is no time", historyCmd, []string{"--since", "yesterday"}, "not run", exitUsage},
		{"history: --until before --since", historyCmd, []string{"--since", "2026-02-01", "--until", "2026-01-01"}, "not run", exitUsage},
		{"history: an --account of 11 digits", historyCmd, []string{"--account", "12345678901"}, "not run", exitUsage},
		{"history: a --table DynamoDB would refuse", historyCmd, []string{"--table", "a b"}, "not run", exitUsage},
		{"undo TABLE", undoCmd, []string{"wallet-x"}, `table="wallet-x" record="" as="" yes=false json=false wait=30m0s regions=[] timeout=1h0m0s`, exitOK},
		{"undo --record --as --yes --wait", undoCmd, []string{"--record", "0123456789abcdef0123", "--as", "wallet-y", "--yes", "--wait", "5m", "--region", "eu-west-1"},
			`table="" record="0123456789abcdef0123" as="wallet-y" yes=true json=false wait=5m0s regions=[eu-west-1] timeout=1h0m0s`, exitOK},
		{"undo: nothing named", undoCmd, nil, "not run", exitUsage},
		{"undo: TABLE and --record", undoCmd, []string{"wallet-x", "--record", "0123456789abcdef0123"}, "not run", exitUsage},
		{"undo: two tables", undoCmd, []string{"wallet-x", "wallet-y"}, "not run", exitUsage},
		{"undo: a --record that is no id", undoCmd, []string{"--record", "../../etc/passwd"}, "not run", exitUsage},
		{"undo: --as that DynamoDB would refuse", undoCmd, []string{"wallet-x", "--as", "a/b"}, "not run", exitUsage},
		{"undo: --wait 0", undoCmd, []string{"wallet-x", "--wait", "0s"}, "not run", exitUsage},
		{"undo: a huge TABLE", undoCmd, []string{strings.Repeat("x", 60000)}, "not run", exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, code := tc.run(tc.args)
			if got != tc.want || code != tc.wantCode {
				t.Errorf("%v:\n got %s (exit %d)\nwant %s (exit %d)", tc.args, got, code, tc.want, tc.wantCode)
			}
		})
	}
}

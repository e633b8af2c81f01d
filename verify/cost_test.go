package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/policy"
	"github.com/wallet-dynamodb/wallet/internal/sweep"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Prices set by flags, round so that every expected figure below can be checked by hand.
var (
	basePrices = []string{"--price-rcu-hour", "0.0001", "--price-wcu-hour", "0.0005", "--price-gb-month", "0.25",
		"--price-rru-million", "0.125", "--price-wru-million", "0.625", "--price-pitr-gb-month", "0.2", "--price-backup-gb-month", "0.1"}
	// highPrices make requests dear enough that provisioning for the busiest minute wins.
	highPrices = []string{"--price-rcu-hour", "0.0001", "--price-wcu-hour", "0.0005", "--price-gb-month", "0.25",
		"--price-rru-million", "10", "--price-wru-million", "50", "--price-pitr-gb-month", "0.2", "--price-backup-gb-month", "0.1"}
)

// costRun runs the command in-process as a user would: exit code, stdout, stderr.
func costRun(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func clearPriceEnv(t *testing.T) {
	for _, k := range cost.EnvNames() {
		t.Setenv(k, "")
	}
}

// costJSON is the documented `verify cost --json` shape (README), written from the
// documentation rather than from the code that produces it.
type costJSON struct {
	Tables []struct {
		Table       string    `json:"table"`
		Region      string    `json:"region"`
		Billing     string    `json:"billing"`
		Provisioned capJSON   `json:"provisioned"`
		Consumed    *useJSON  `json:"consumed"`
		RightSized  *capJSON  `json:"right_sized_capacity"`
		Indexes     []idxJSON `json:"indexes"`
		Storage     struct {
			PITR        bool  `json:"pitr"`
			Backups     int   `json:"backups"`
			BackupBytes int64 `json:"backup_bytes"`
		} `json:"storage"`
		MonthlyCostUSD struct {
			Current    *float64 `json:"current"`
			RightSized *float64 `json:"right_sized"`
			AutoScaled *float64 `json:"auto_scaled"`
			OnDemand   *float64 `json:"on_demand"`
		} `json:"monthly_cost_usd"`
		CurrentBasis     string `json:"current_basis"`
		ThrottledMinutes *struct {
			Current    int `json:"current"`
			RightSized int `json:"right_sized"`
			AutoScaled int `json:"auto_scaled"`
			OnDemand   int `json:"on_demand"`
		} `json:"throttled_minutes"`
		ScalableTargets *struct {
			Read  *rangeJSON `json:"read"`
			Write *rangeJSON `json:"write"`
		} `json:"scalable_targets"`
		AutoScaling *struct {
			Read  policyJSON `json:"read"`
			Write policyJSON `json:"write"`
		} `json:"autoscaling"`
		Idle *struct {
			Wasted float64 `json:"wasted_monthly_usd"`
		} `json:"idle"`
		Recommendation *struct {
			Action            string   `json:"action"`
			Context           string   `json:"context"`
			MonthlySavingsUSD *float64 `json:"monthly_savings_usd"`
		} `json:"recommendation"`
		Notes []string `json:"notes"`
	} `json:"tables"`
	MonthlySavingsUSD *float64 `json:"monthly_savings_usd"`
	JanitorBackups    []struct {
		Name           string  `json:"name"`
		ARN            string  `json:"arn"`
		Table          string  `json:"table"`
		MonthlyCostUSD float64 `json:"monthly_cost_usd"`
	} `json:"janitor_backups"`
	SweepBackups []struct {
		Name           string  `json:"name"`
		Table          string  `json:"table"`
		MonthlyCostUSD float64 `json:"monthly_cost_usd"`
	} `json:"sweep_backups"`
	Problems []struct {
		Table string `json:"table"`
		Error string `json:"error"`
	} `json:"problems"`
	Notes []string `json:"notes"`
}

type rangeJSON struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

type policyJSON struct {
	Min    int64 `json:"min"`
	Max    int64 `json:"max"`
	Target int   `json:"target"`
}

type capJSON struct {
	Read  int64 `json:"read"`
	Write int64 `json:"write"`
}

type useJSON struct {
	ReadUnits     float64 `json:"read_units"`
	ReadPeakPerS  float64 `json:"read_peak_per_s"`
	WriteUnits    float64 `json:"write_units"`
	WritePeakPerS float64 `json:"write_peak_per_s"`
}

type idxJSON struct {
	Index       string   `json:"index"`
	Provisioned capJSON  `json:"provisioned"`
	Consumed    *useJSON `json:"consumed"`
	RightSized  *capJSON `json:"right_sized_capacity"`
}

func decodeCost(t *testing.T, out string) costJSON {
	t.Helper()
	var r costJSON
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	if r.MonthlySavingsUSD == nil {
		t.Fatalf("no monthly_savings_usd:\n%s", out)
	}
	return r
}

// priced is what a table's line must say; nil figures must be null.
type priced struct {
	table                string
	billing              string
	provisioned          capJSON
	consumed             *useJSON
	current              float64
	rightSized, onDemand *float64
	action, context      string // action "": no recommendation
	savings              float64
	notes                []string // each must appear in some note
	backups              int
	backupBytes          int64
	pitr                 bool
	index                *idxJSON
}

func usd(v float64) *float64 { return &v }

// cent compares dollars to the cent and beyond: the report rounds to 4 places.
func cent(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

func checkTable(t *testing.T, r costJSON, want priced) {
	t.Helper()
	for _, got := range r.Tables {
		if got.Table != want.table {
			continue
		}
		b, _ := json.Marshal(got)
		show := func(v any) string { j, _ := json.Marshal(v); return string(j) }
		bad := func(what string, g, w any) {
			t.Errorf("%s: %s = %s, want %s\n%s", want.table, what, show(g), show(w), b)
		}
		if got.Billing != want.billing {
			bad("billing", got.Billing, want.billing)
		}
		if got.Provisioned != want.provisioned {
			bad("provisioned", got.Provisioned, want.provisioned)
		}
		switch {
		case (got.Consumed == nil) != (want.consumed == nil):
			bad("consumed", got.Consumed, want.consumed)
		case got.Consumed != nil && (!cent(got.Consumed.ReadUnits, want.consumed.ReadUnits) || !cent(got.Consumed.ReadPeakPerS, want.consumed.ReadPeakPerS) ||
			!cent(got.Consumed.WriteUnits, want.consumed.WriteUnits) || !cent(got.Consumed.WritePeakPerS, want.consumed.WritePeakPerS)):
			bad("consumed", *got.Consumed, *want.consumed)
		}
		m := got.MonthlyCostUSD
		if m.Current == nil || !cent(*m.Current, want.current) {
			bad("monthly_cost_usd.current", m.Current, want.current)
		}
		for _, f := range []struct {
			name      string
			got, want *float64
		}{{"right_sized", m.RightSized, want.rightSized}, {"on_demand", m.OnDemand, want.onDemand}} {
			if (f.got == nil) != (f.want == nil) || f.got != nil && !cent(*f.got, *f.want) {
				bad("monthly_cost_usd."+f.name, f.got, f.want)
			}
		}
		rec := got.Recommendation
		switch {
		case want.action == "" && rec != nil:
			bad("recommendation", rec, nil)
		case want.action != "" && (rec == nil || rec.Action != want.action || rec.Context != want.context ||
			rec.MonthlySavingsUSD == nil || !cent(*rec.MonthlySavingsUSD, want.savings)):
			bad("recommendation", rec, fmt.Sprintf("%s %q saving %.4f", want.action, want.context, want.savings))
		}
		if got.Storage.Backups != want.backups || got.Storage.BackupBytes != want.backupBytes || got.Storage.PITR != want.pitr {
			bad("storage", got.Storage, fmt.Sprintf("%d backups, %d bytes, pitr %v", want.backups, want.backupBytes, want.pitr))
		}
		notes := strings.Join(got.Notes, "\n")
		for _, n := range want.notes {
			if !strings.Contains(notes, n) {
				bad("notes", got.Notes, n)
			}
		}
		if want.index != nil {
			if len(got.Indexes) != 1 || got.Indexes[0].Index != want.index.Index || got.Indexes[0].Provisioned != want.index.Provisioned ||
				got.Indexes[0].Consumed == nil || *got.Indexes[0].Consumed != *want.index.Consumed || *got.Indexes[0].RightSized != *want.index.RightSized {
				bad("indexes", got.Indexes, *want.index)
			}
		}
		return
	}
	t.Errorf("no line for table %s in %+v", want.table, r.Tables)
}

// costCloud is the test's own hands on one region: tables, backups, and the CloudWatch datapoints
// that stand in for the metrics DynamoDB publishes itself (no local cloud produces them).
//
// now is the clock the command runs at: 3 days and an hour after the tables are created. moto
// cannot back-date a table, and the command judges a table only on data from after its creation,
// so the datapoints are written ahead of the real clock, inside the table's life.
type costCloud struct {
	fixture.Cloud
	cw  *cloudwatch.Client
	now time.Time
}

func newCostCloud(t *testing.T, region string) costCloud {
	c := fixture.NewCloud(t, region)
	return costCloud{c, usage.NewCloudWatch(c.Config), time.Now().UTC().Add(73 * time.Hour)}
}

// run runs `verify cost` at the cloud's clock; args start with "cost", as a user types them.
func (c costCloud) run(tb testing.TB, args ...string) (int, string, string) {
	tb.Helper()
	return costRunAt(tb, c.now, args...)
}

// costRunAt runs `verify cost` with its clock at now, through the command's runF seam: the
// flags are parsed and the run is the real one; errors map to exit codes by the one rule.
func costRunAt(tb testing.TB, now time.Time, args ...string) (int, string, string) {
	tb.Helper()
	if len(args) == 0 || args[0] != "cost" {
		tb.Fatalf("costRunAt runs the cost command: %v", args)
	}
	return execute(func(s streams) *cobra.Command {
		return newCostCmd(s, func(ctx context.Context, o *costOptions) error {
			o.now = func() time.Time { return now }
			return runCost(ctx, o)
		})
	}, args[1:])
}

var ours = map[string]string{wallet.TagProject: wallet.ProjectName}

// table creates a wallet table: provisioned read/write (on demand when both are 0), and a
// provisioned global secondary index on balance when index is named.
func (c costCloud) table(t *testing.T, name string, tags map[string]string, read, write int64, index string) {
	t.Helper()
	in := wallet.TableInput(name, tags)
	if read == 0 && write == 0 {
		in.BillingMode, in.ProvisionedThroughput = types.BillingModePayPerRequest, nil
	} else {
		in.ProvisionedThroughput = &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(write)}
	}
	if index != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(wallet.BalanceAttribute), AttributeType: types.ScalarAttributeTypeN})
		in.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{{
			IndexName:             aws.String(index),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String(wallet.BalanceAttribute), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeAll},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
		}}
	}
	if err := fixture.CreateTableOnce(t, c.DynamoDB, in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
}

func (c costCloud) backup(t *testing.T, table, name string) {
	t.Helper()
	// Once, as the product takes its own: a lost answer is asked about, not sent again.
	if _, err := sweep.TakeBackup(t.Context(), c.DynamoDB, table, name, 0); err != nil {
		t.Fatalf("create backup %s of %s: %v", name, table, err)
	}
}

const (
	reads  = "ConsumedReadCapacityUnits"
	writes = "ConsumedWriteCapacityUnits"
)

// use publishes total units as one-minute Sums of at most busiest each (the last minute takes
// the remainder), a minute every 29 minutes going back from now: well inside a 3-day window.
func (c costCloud) use(t *testing.T, table, index, metric string, total, busiest float64) {
	t.Helper()
	dims := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}}
	if index != "" {
		dims = append(dims, cwtypes.Dimension{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String(index)})
	}
	now := c.now.Truncate(time.Minute)
	var data []cwtypes.MetricDatum
	for i := 0; total > 1e-9; i++ {
		sum := min(busiest, total)
		total -= sum
		data = append(data, cwtypes.MetricDatum{
			MetricName: aws.String(metric), Dimensions: dims, Unit: cwtypes.StandardUnitCount,
			Timestamp: aws.Time(now.Add(-time.Duration(5+29*i) * time.Minute)), Value: aws.Float64(sum),
		})
	}
	c.put(t, data)
}

func (c costCloud) put(t *testing.T, data []cwtypes.MetricDatum) {
	t.Helper()
	for len(data) > 0 {
		n := min(len(data), 500)
		if _, err := c.cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"), MetricData: data[:n]}); err != nil {
			t.Fatalf("put metric data: %v", err)
		}
		data = data[n:]
	}
}

// light is three days of light use: 7,200 read units, busiest minute 84 (1.4/s); 1,440 write
// units, busiest minute 42 (0.7/s).
func (c costCloud) light(t *testing.T, table string) {
	c.use(t, table, "", reads, 7200, 84)
	c.use(t, table, "", writes, 1440, 42)
}

// steady is 3,000 read units, busiest minute 40; 600 write units, busiest minute 20.
func (c costCloud) steady(t *testing.T, table string) {
	c.use(t, table, "", reads, 3000, 40)
	c.use(t, table, "", writes, 600, 20)
}

// The cost command, run in-process as a user would, against one moto; each subtest works in a
// lease of its own (leased), as moto keeps accounts and regions apart.
func TestCostCommand(t *testing.T) {
	moto := localcloud.Moto(t)
	clearPriceEnv(t)
	t.Run("a 10/10 table with 3 days of light use, priced three ways", leased(moto, testCostLightTable))
	t.Run("keep, and auto scale a throttled table rather than raise it; untagged tables are not ours", leased(moto, testCostKeepAndRaise))
	t.Run("an auto-scaled table is priced by what it was billed for, idle or busy", leased(moto, testCostAutoScaledTable))
	t.Run("an on-demand table better provisioned; no data, PITR, backups, the janitor's", leased(moto, testCostOnDemandAndStorage))
	t.Run("a global secondary index is priced as its own capacity", leased(moto, testCostIndex))
	t.Run("a table an hour old is priced on its hour, not on 14 days nor an earlier table's data", leased(moto, testCostYoungTable))
	t.Run("a provisioned table unused for the whole window is idle: its cost for nothing, two ways out", leased(moto, testCostIdleTable))
	t.Run("the janitor's and the sweep's backups bill where no table is left", leased(moto, testCostJanitorBackupsAlone))
	t.Run("a table that is not there is a usage error", leased(moto, testCostMissingTable))
	t.Run("deploying 5/5 over a live 1/1 stack adds $2.2776 a month", leased(moto, testCostTemplateAgainstStack, localcloud.InRegion("us-east-2")))
	t.Run("a CloudWatch that fails is a problem, not a missing service", leased(moto, testCostCloudWatchFails))
	t.Run("every region", leased(moto, testCostAllRegions, localcloud.OwnAccount()))
}

// Each subtest creates what it needs, in a lease of its own: this one, in an account no other
// lease has (OwnAccount), two tables in two of its regions, and --all-regions finds both, each in
// its region.
func testCostAllRegions(t *testing.T, _ localcloud.Lease) {
	west, south := newCostCloud(t, "us-west-1"), newCostCloud(t, "ap-south-1")
	west.table(t, "all-regions-west", ours, 1, 1, "")
	south.table(t, "all-regions-south", ours, 0, 0, "")
	code, out, stderr := costRun(t, append([]string{"cost", "--all-regions", "--days", "1", "--json"}, basePrices...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	var all struct{ Regions []string }
	_ = json.Unmarshal([]byte(out), &all)
	found := map[string]string{}
	for _, tb := range decodeCost(t, out).Tables {
		found[tb.Table] = tb.Region
	}
	if len(all.Regions) != len(sweep.Regions()) || found["all-regions-west"] != "us-west-1" || found["all-regions-south"] != "ap-south-1" {
		t.Fatalf("%d regions, tables %v", len(all.Regions), found)
	}
}

func testCostLightTable(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "light-10x10", ours, 10, 10, "")
	c.light(t, "light-10x10")
	// Four days ago: outside a 3-day window, and it would be the busiest minute by far.
	c.put(t, []cwtypes.MetricDatum{{MetricName: aws.String(reads), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(6000),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("light-10x10")}},
		Timestamp:  aws.Time(c.now.Add(-96 * time.Hour))}})
	c.backup(t, "light-10x10", "by-hand")
	c.backup(t, "light-10x10", wallet.JanitorBackupPrefix+"light-10x10-1")

	args := append([]string{"cost", "--region", l.Region, "--table", "light-10x10", "--days", "3", "--json"}, basePrices...)
	code, out, stderr := c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	light := &useJSON{ReadUnits: 7200, ReadPeakPerS: 1.4, WriteUnits: 1440, WritePeakPerS: 0.7}
	// Now: (10 × 0.0001 + 10 × 0.0005) × 730. Right-sized 2/1: (2 × 0.0001 + 0.0005) × 730.
	// On demand: 7,200 × 730/72 × 0.125/10⁶ + 1,440 × 730/72 × 0.625/10⁶. Two backups of
	// moto's 123 bytes at $0.1/GB-month add $0.00000002.
	want := priced{table: "light-10x10", billing: "provisioned", provisioned: capJSON{10, 10}, consumed: light,
		current: 4.38, rightSized: usd(0.511), onDemand: usd(0.01825),
		action: "on-demand", context: "-c billing=on-demand", savings: 4.38 - 0.01825, backups: 2, backupBytes: 246}
	checkTable(t, r, want)
	if len(r.Tables) != 1 || !cent(*r.MonthlySavingsUSD, want.savings) {
		t.Errorf("one table, total savings %v, want %.4f:\n%s", *r.MonthlySavingsUSD, want.savings, out)
	}

	// Requests priced high enough: the advice flips to provisioning for the busiest minute.
	args = append([]string{"cost", "--region", l.Region, "--table", "light-10x10", "--days", "3", "--json"}, highPrices...)
	code, out, stderr = c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want.onDemand, want.action, want.context, want.savings = usd(0.73+0.73), "lower", "-c readCapacity=2 -c writeCapacity=1", 4.38-0.511
	checkTable(t, decodeCost(t, out), want)

	// The text report: one line a table, then the total.
	args = append([]string{"cost", "--region", l.Region, "--table", "light-10x10", "--days", "3"}, highPrices...)
	code, out, _ = c.run(t, args...)
	lines := strings.Split(out, "\n")
	var line, total string
	for _, l := range lines {
		if strings.HasPrefix(l, "light-10x10 ") {
			line = l
		}
		if strings.HasPrefix(l, "Total") {
			total = l
		}
	}
	for _, w := range []string{l.Region, "10/10", "7200 (1.40)", "1440 (0.70)", "4.38", "0.51", "1.46", "lower (-c readCapacity=2 -c writeCapacity=1)", "3.87"} {
		if code != exitOK || !strings.Contains(line, w) {
			t.Fatalf("exit %d; the table's line %q lacks %q:\n%s", code, line, w, out)
		}
	}
	if !strings.Contains(total, "$3.87/month") {
		t.Fatalf("total line %q:\n%s", total, out)
	}

	// --format markdown: the same table and advice as a pull request or a job summary shows it.
	args = append([]string{"cost", "--region", l.Region, "--table", "light-10x10", "--days", "3", "--format", "markdown"}, highPrices...)
	code, out, _ = c.run(t, args...)
	for _, w := range []string{"| Account | Region | Table | Capacity | Now | Right-sized | Auto scaled | On demand | Advice | Saves | Notes |",
		"| **light-10x10** | 10/10 | $4.38 | $0.51 | $0.51 | $1.46 | `lower` \\(-c readCapacity=2 -c writeCapacity=1\\) | $3.87 |",
		"**Total: following the advice saves \\$3.87/month.**"} {
		if code != exitOK || !strings.Contains(out, w) {
			t.Fatalf("exit %d; the markdown lacks %q:\n%s", code, w, out)
		}
	}
}

func testCostKeepAndRaise(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "keep-1x1", ours, 1, 1, "")
	c.steady(t, "keep-1x1")
	c.table(t, "raise-1x1", ours, 1, 1, "")
	c.steady(t, "raise-1x1")
	// One minute at 2 reads a second on 1 RCU, apart from steady's minutes (5, 34, 63… ago).
	c.put(t, []cwtypes.MetricDatum{{MetricName: aws.String(reads), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(120),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("raise-1x1")}},
		Timestamp:  aws.Time(c.now.Truncate(time.Minute).Add(-7 * time.Minute))}})
	c.table(t, "someone-elses", map[string]string{wallet.TagProject: "other"}, 1, 1, "")
	c.steady(t, "someone-elses")

	args := append([]string{"cost", "--region", l.Region, "--days", "3", "--json"}, highPrices...)
	code, out, stderr := c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	steadyOnDemand := 3000*730.0/72*10/1e6 + 600*730.0/72*50/1e6
	checkTable(t, r, priced{table: "keep-1x1", billing: "provisioned", provisioned: capJSON{1, 1},
		consumed: &useJSON{ReadUnits: 3000, ReadPeakPerS: 40.0 / 60, WriteUnits: 600, WritePeakPerS: 20.0 / 60},
		current:  0.438, rightSized: usd(0.438), onDemand: usd(steadyOnDemand), action: "keep", context: "", savings: 0})
	raiseOnDemand := 3120*730.0/72*10/1e6 + 600*730.0/72*50/1e6
	// It throttled one minute (2 a second on 1 unit). Raised to 3 (2 / 0.7) it costs $0.584;
	// auto scaled from 2 to 3 it is 2 units every minute of the window (its one busy minute is
	// one above 70 %, not two), $0.511, and throttles none: the advice.
	checkTable(t, r, priced{table: "raise-1x1", billing: "provisioned", provisioned: capJSON{1, 1},
		consumed: &useJSON{ReadUnits: 3120, ReadPeakPerS: 2, WriteUnits: 600, WritePeakPerS: 20.0 / 60},
		current:  0.438, rightSized: usd(0.584), onDemand: usd(raiseOnDemand),
		action: "autoscale", context: "-c readCapacity=2 -c readMax=3 -c writeCapacity=1 -c targetUtilization=70", savings: 0.438 - 0.511,
		notes: []string{"1 minute of the window used more than the capacity it had then: requests were throttled"}})
	for _, tb := range r.Tables {
		if th := tb.ThrottledMinutes; tb.Table == "raise-1x1" && (th == nil || th.Current != 1 || th.RightSized != 0 || th.AutoScaled != 0 || th.OnDemand != 0 ||
			tb.AutoScaling == nil || tb.AutoScaling.Read != (policyJSON{2, 3, 70}) || tb.AutoScaling.Write != (policyJSON{1, 1, 70}) || !cent(*tb.MonthlyCostUSD.AutoScaled, 0.511)) {
			t.Fatalf("raise-1x1: throttled %+v, autoscaling %+v, auto scaled %v", th, tb.AutoScaling, tb.MonthlyCostUSD.AutoScaled)
		}
	}
	if len(r.Tables) != 2 || !cent(*r.MonthlySavingsUSD, 0.438-0.511) {
		t.Fatalf("want keep-1x1 and raise-1x1 only (someone-elses is not tagged Project=wallet), total −0.073:\n%s", out)
	}
}

// scale registers a scalable target and a target-tracking policy with moto's Application Auto
// Scaling API, as the wallet stack's ScalableTarget and ScalingPolicy would.
func (c costCloud) scale(t *testing.T, resource string, dim astypes.ScalableDimension, lo, hi int32) {
	t.Helper()
	as := applicationautoscaling.NewFromConfig(c.Config)
	if _, err := as.RegisterScalableTarget(t.Context(), &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: astypes.ServiceNamespaceDynamodb, ResourceId: aws.String(resource), ScalableDimension: dim,
		MinCapacity: aws.Int32(lo), MaxCapacity: aws.Int32(hi),
	}); err != nil {
		t.Fatalf("register %s %s: %v", resource, dim, err)
	}
	metric := astypes.MetricTypeDynamoDBReadCapacityUtilization
	if dim == astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits {
		metric = astypes.MetricTypeDynamoDBWriteCapacityUtilization
	}
	if _, err := as.PutScalingPolicy(t.Context(), &applicationautoscaling.PutScalingPolicyInput{
		PolicyName: aws.String(resource + "-" + string(dim)), ServiceNamespace: astypes.ServiceNamespaceDynamodb,
		ResourceId: aws.String(resource), ScalableDimension: dim, PolicyType: astypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &astypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(70),
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: metric},
		},
	}); err != nil {
		t.Fatalf("scaling policy of %s: %v", resource, err)
	}
}

// at writes one datapoint of metric for table at minute of the window that ends at the cloud's
// clock (minute 0 is its first).
func (c costCloud) at(table, metric string, window time.Duration, minute int, v float64) cwtypes.MetricDatum {
	start := c.now.Truncate(time.Minute).Add(time.Minute - window)
	return cwtypes.MetricDatum{MetricName: aws.String(metric), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(v),
		Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}},
		Timestamp:  aws.Time(start.Add(time.Duration(minute) * time.Minute))}
}

// Two tables whose reads are auto scaled (registered with moto's Application Auto Scaling API;
// their writes fixed at 1). DescribeTable says 10 and 20 units, the instant's; CloudWatch's
// ProvisionedReadCapacityUnits (written with PutMetricData, a stand-in for what DynamoDB
// publishes) says what they were billed for: the busy one 100 units for the first 12 hours of
// the day and 10 after, 55 on average; the idle one 5 all day.
func testCostAutoScaledTable(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "scaled-busy", ours, 10, 1, "")
	c.table(t, "scaled-idle", ours, 20, 1, "")
	c.scale(t, "table/scaled-busy", astypes.ScalableDimensionDynamoDBTableReadCapacityUnits, 5, 100)
	c.scale(t, "table/scaled-idle", astypes.ScalableDimensionDynamoDBTableReadCapacityUnits, 5, 50)
	day := 24 * time.Hour
	data := []cwtypes.MetricDatum{
		c.at("scaled-busy", "ProvisionedReadCapacityUnits", day, 0, 100), c.at("scaled-busy", "ProvisionedReadCapacityUnits", day, 720, 10),
		c.at("scaled-busy", "ProvisionedWriteCapacityUnits", day, 0, 1),
		c.at("scaled-idle", "ProvisionedReadCapacityUnits", day, 0, 5), c.at("scaled-idle", "ProvisionedWriteCapacityUnits", day, 0, 1),
	}
	for m := 0; m < 1440; m += 10 { // 50 reads a second while it had 100, then 1 a second
		v := 3000.0
		if m >= 720 {
			v = 60
		}
		data = append(data, c.at("scaled-busy", reads, day, m, v), c.at("scaled-busy", writes, day, m, 6))
	}
	c.put(t, data)

	args := append([]string{"cost", "--region", l.Region, "--days", "1", "--json"}, basePrices...)
	code, out, stderr := c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	for _, tb := range r.Tables {
		switch tb.Table {
		case "scaled-busy":
			// (55 × $0.0001 + 1 × $0.0005) × 730 = $4.38; the instant's 10/1 would be $1.095.
			if tb.CurrentBasis != "billed" || !cent(*tb.MonthlyCostUSD.Current, 4.38) || tb.ScalableTargets == nil ||
				tb.ScalableTargets.Read == nil || *tb.ScalableTargets.Read != (rangeJSON{5, 100}) || tb.ScalableTargets.Write != nil {
				t.Fatalf("scaled-busy: basis %q, current %v, scalable targets %+v; want billed, 4.38, reads 5–100\n%s", tb.CurrentBasis, *tb.MonthlyCostUSD.Current, tb.ScalableTargets, out)
			}
			// It had 100 while reading 50 a second, then 10 for 1: nothing throttled, and the
			// advice throttles nothing either.
			if th := tb.ThrottledMinutes; th == nil || th.Current != 0 || tb.AutoScaling == nil || tb.MonthlyCostUSD.AutoScaled == nil || tb.Recommendation == nil {
				t.Fatalf("scaled-busy: throttled %+v, autoscaling %+v\n%s", th, tb.AutoScaling, out)
			}
			if !strings.Contains(strings.Join(tb.Notes, "\n"), "billed for over the window, 55.00 RCU and 1.00 WCU on average") {
				t.Fatalf("scaled-busy: the notes do not say how it was priced: %q", tb.Notes)
			}
		case "scaled-idle":
			// Idle at 5/1 billed: (5 × $0.0001 + $0.0005) × 730 = $0.73 for nothing, not the
			// instant's 20/1 ($1.825).
			if tb.CurrentBasis != "billed" || tb.Idle == nil || !cent(tb.Idle.Wasted, 0.73) || !cent(*tb.MonthlyCostUSD.Current, 0.73) ||
				tb.Recommendation == nil || tb.Recommendation.Action != "on-demand" {
				t.Fatalf("scaled-idle: basis %q, idle %+v, current %v, recommendation %+v\n%s", tb.CurrentBasis, tb.Idle, *tb.MonthlyCostUSD.Current, tb.Recommendation, out)
			}
			if notes := strings.Join(tb.Notes, "\n"); !strings.Contains(notes, "remove readMax and writeMax") || !strings.Contains(notes, "idle: auto scaled, 5.00/1.00 units billed on average (indexes included)") || !strings.Contains(notes, "$0.73/month for nothing") {
				t.Fatalf("scaled-idle: notes %q", tb.Notes)
			}
		default:
			t.Fatalf("unexpected table %s", tb.Table)
		}
	}
	if len(r.Tables) != 2 {
		t.Fatalf("want 2 tables:\n%s", out)
	}
	code, out, _ = c.run(t, append([]string{"cost", "--region", l.Region, "--days", "1"}, basePrices...)...)
	for _, want := range []string{"5-100/1 auto", "4.38 (billed)", "0.73 (billed)", "AUTO-SCALED"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Fatalf("text (exit %d) lacks %q:\n%s", code, want, out)
		}
	}

	// A table fixed before and auto scaled now, but CloudWatch has no history of its capacity:
	// priced at the instant's, and said so.
	c.table(t, "scaled-new", ours, 4, 1, "")
	c.scale(t, "table/scaled-new", astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, 1, 10)
	code, out, stderr = c.run(t, append([]string{"cost", "--region", l.Region, "--table", "scaled-new", "--days", "1", "--json"}, basePrices...)...)
	if r := decodeCost(t, out); code != exitOK || len(r.Tables) != 1 || r.Tables[0].CurrentBasis != "instant" ||
		!strings.Contains(strings.Join(r.Tables[0].Notes, "\n"), "CloudWatch has no ProvisionedReadCapacityUnits/ProvisionedWriteCapacityUnits") {
		t.Fatalf("auto scaled without a history (exit %d, %s):\n%s", code, stderr, out)
	}
}

func testCostOnDemandAndStorage(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "od-light", ours, 0, 0, "")
	c.light(t, "od-light")
	c.table(t, "backed-up", ours, 1, 1, "")
	if _, err := c.DynamoDB.UpdateContinuousBackups(t.Context(), &dynamodb.UpdateContinuousBackupsInput{
		TableName:                        aws.String("backed-up"),
		PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)},
	}); err != nil {
		t.Fatal(err)
	}
	c.backup(t, "backed-up", "by-hand")
	c.backup(t, "backed-up", wallet.JanitorBackupPrefix+"backed-up-1")
	// The janitor backed a table up and deleted it: its backup bills on its own.
	c.table(t, "gone", ours, 1, 1, "")
	c.backup(t, "gone", wallet.JanitorBackupPrefix+"gone-1")
	c.backup(t, "gone", "not-the-janitors")
	if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String("gone")}); err != nil {
		t.Fatal(err)
	}

	// Backups at $1,000,000 per GB-month, so that moto's 123-byte backups show in the cents.
	args := append([]string{"cost", "--region", l.Region, "--days", "3", "--json"}, highPrices...)
	args[slices.Index(args, "--price-backup-gb-month")+1] = "1000000" // a flag is given once

	code, out, stderr := c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	checkTable(t, r, priced{table: "od-light", billing: "on-demand", provisioned: capJSON{0, 0},
		consumed: &useJSON{ReadUnits: 7200, ReadPeakPerS: 1.4, WriteUnits: 1440, WritePeakPerS: 0.7},
		current:  1.46, rightSized: usd(0.511), onDemand: usd(1.46),
		action: "provisioned", context: "-c billing=provisioned -c readCapacity=2 -c writeCapacity=1", savings: 1.46 - 0.511})
	backupUSD := 123.0 / (1 << 30) * 1e6
	// No request in the 3 days it lived through: idle, its capacity paid for nothing.
	checkTable(t, r, priced{table: "backed-up", billing: "provisioned", provisioned: capJSON{1, 1}, consumed: &useJSON{},
		current: 0.438 + 2*backupUSD, rightSized: usd(0.438 + 2*backupUSD), onDemand: usd(2 * backupUSD),
		action: "on-demand", context: "-c billing=on-demand", savings: 0.438,
		pitr: true, backups: 2, backupBytes: 246, notes: []string{"idle", "$0.44/month for nothing"}})
	if len(r.JanitorBackups) != 1 || r.JanitorBackups[0].Table != "gone" || !cent(r.JanitorBackups[0].MonthlyCostUSD, backupUSD) {
		t.Errorf("janitor backups of gone tables: %+v, want gone's one at %.4f", r.JanitorBackups, backupUSD)
	}
	if len(r.Tables) != 2 || !cent(*r.MonthlySavingsUSD, 1.46-0.511+0.438) {
		t.Errorf("want od-light and backed-up, total %.4f:\n%s", 1.46-0.511+0.438, out)
	}
}

func testCostIndex(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "indexed", ours, 10, 10, "by_balance")
	c.light(t, "indexed")
	c.use(t, "indexed", "by_balance", reads, 210, 21)
	c.use(t, "indexed", "by_balance", writes, 420, 42)

	args := append([]string{"cost", "--region", l.Region, "--days", "3", "--json"}, highPrices...)
	code, out, stderr := c.run(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	// Now: (15 × 0.0001 + 15 × 0.0005) × 730, the index's 5/5 with the table's 10/10.
	// Right-sized: table 2/1 and index 1/1. On demand: the table's requests and the index's.
	onDemand := 7410*730.0/72*10/1e6 + 1860*730.0/72*50/1e6
	checkTable(t, decodeCost(t, out), priced{table: "indexed", billing: "provisioned", provisioned: capJSON{10, 10},
		consumed: &useJSON{ReadUnits: 7200, ReadPeakPerS: 1.4, WriteUnits: 1440, WritePeakPerS: 0.7},
		current:  6.57, rightSized: usd(0.949), onDemand: usd(onDemand),
		action: "lower", context: "-c readCapacity=2 -c writeCapacity=1", savings: 6.57 - 0.949,
		notes: []string{"index by_balance 1 read and 1 write"},
		index: &idxJSON{Index: "by_balance", Provisioned: capJSON{5, 5}, Consumed: &useJSON{ReadUnits: 210, ReadPeakPerS: 0.35, WriteUnits: 420, WritePeakPerS: 0.7}, RightSized: &capJSON{1, 1}}})
}

// The case: a 50/50 table one hour old, busy at 30 reads and 30 writes a second for that
// hour, was priced as if the hour were 14 days: on demand "$0.18", saving $28.29. At us-east-1's
// list prices that traffic costs $59.13 a month on demand; the table is in eu-west-2, and priced
// at eu-west-2's prices: moto has no Price List API, so those of the shipped table's eu-west-2
// row. Another table of the same name was busy before this one was created: its data is not this
// table's. A second table, as young, had no request.
func testCostYoungTable(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	clearPriceEnv(t)
	c.table(t, "young-50x50", ours, 50, 50, "")
	c.table(t, "young-quiet", ours, 5, 5, "")
	d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("young-50x50")})
	if err != nil {
		t.Fatal(err)
	}
	created := aws.ToTime(d.Table.CreationDateTime).UTC()
	c.now = created.Add(time.Hour)
	dims := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String("young-50x50")}}
	var data []cwtypes.MetricDatum
	for m := 1; m <= 60; m++ { // 30 units a second, every minute of its hour
		at := aws.Time(created.Truncate(time.Minute).Add(time.Duration(m) * time.Minute))
		for _, metric := range []string{reads, writes} {
			data = append(data, cwtypes.MetricDatum{MetricName: aws.String(metric), Dimensions: dims, Unit: cwtypes.StandardUnitCount, Timestamp: at, Value: aws.Float64(1800)})
		}
	}
	// The earlier table of the same name, ten minutes before this one was created.
	data = append(data, cwtypes.MetricDatum{MetricName: aws.String(reads), Dimensions: dims, Unit: cwtypes.StandardUnitCount,
		Timestamp: aws.Time(created.Add(-10 * time.Minute)), Value: aws.Float64(1e6)})
	c.put(t, data)

	code, out, stderr := c.run(t, "cost", "--region", l.Region, "--json") // 14 days, list prices
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	// Now: 50 × (RCU-hour + WCU-hour) × 730 (at us-east-1's, $28.47). Right-sized: ⌈30 / 0.7⌉ = 43
	// each way. On demand: 108,000 reads and writes in its one hour, × 730 hours: 78.84 M ×
	// (RRU + WRU per million) (at us-east-1's, $59.13).
	p, _ := cost.Shipped(l.Region, wallet.ClassStandard)
	hourly := p.RCUHour + p.WCUHour
	current, rightSized := 50*hourly*730, 43*hourly*730
	checkTable(t, r, priced{table: "young-50x50", billing: "provisioned", provisioned: capJSON{50, 50},
		consumed: &useJSON{ReadUnits: 108000, ReadPeakPerS: 30, WriteUnits: 108000, WritePeakPerS: 30},
		current:  current, rightSized: usd(rightSized), onDemand: usd(78.84 * (p.RRUMillion + p.WRUMillion)),
		action: "lower", context: "-c readCapacity=43 -c writeCapacity=43", savings: current - rightSized,
		notes: []string{"younger than 14 days", "60 minutes of life"}})
	checkTable(t, r, priced{table: "young-quiet", billing: "provisioned", provisioned: capJSON{5, 5}, current: 5 * hourly * 730,
		notes: []string{"no consumed capacity in CloudWatch in its 60 minutes of life", "nothing to recommend"}})
	if notes := strings.Join(r.Notes, " "); !strings.Contains(notes, "the AWS Price List API could not be read for "+l.Region) {
		t.Errorf("the shipped table's prices are used without saying why: %v", r.Notes)
	}
	var windows struct {
		Tables []struct {
			Table  string
			Window *struct {
				Hours    float64
				Lifetime bool
			}
			Idle *struct{}
		}
	}
	_ = json.Unmarshal([]byte(out), &windows)
	for _, tb := range windows.Tables {
		if tb.Window == nil || !tb.Window.Lifetime || !cent(tb.Window.Hours, 1) || tb.Idle != nil {
			t.Errorf("%s: window %+v, idle %v: want its life, 1 hour, and not idle (too young to tell)", tb.Table, tb.Window, tb.Idle)
		}
	}
}

// The tutorial's forgotten table: provisioned, and no request in the 3 days it lived through.
func testCostIdleTable(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "forgotten-5x5", ours, 5, 5, "")
	code, out, stderr := c.run(t, append([]string{"cost", "--region", l.Region, "--days", "3", "--json"}, basePrices...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	// 5 × ($0.0001 + $0.0005) × 730 = $2.19 for nothing; on demand, unused, it stores 0 bytes.
	checkTable(t, decodeCost(t, out), priced{table: "forgotten-5x5", billing: "provisioned", provisioned: capJSON{5, 5}, consumed: &useJSON{},
		current: 2.19, rightSized: usd(0.438), onDemand: usd(0), action: "on-demand", context: "-c billing=on-demand", savings: 2.19,
		notes: []string{"idle", "$2.19/month for nothing", "-c billing=on-demand", "$0.00/month", "verify sweep --region " + l.Region + " --idle-for 3d"}})
	var idle struct {
		Tables []struct {
			Idle *struct {
				Wasted   float64 `json:"wasted_monthly_usd"`
				OnDemand float64 `json:"on_demand_monthly_usd"`
				Sweep    string  `json:"sweep"`
			} `json:"idle"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &idle); err != nil || len(idle.Tables) != 1 || idle.Tables[0].Idle == nil ||
		!cent(idle.Tables[0].Idle.Wasted, 2.19) || !strings.Contains(idle.Tables[0].Idle.Sweep, "--idle-for 3d") {
		t.Fatalf("want the idle object: %v\n%s", err, out)
	}

	code, out, _ = c.run(t, append([]string{"cost", "--region", l.Region, "--days", "3"}, basePrices...)...)
	if code != exitOK || !strings.Contains(out, "IDLE: on-demand (-c billing=on-demand) or delete") || strings.Contains(out, "none: no data") ||
		!strings.Contains(out, "$2.19/month for nothing") {
		t.Fatalf("text report (exit %d):\n%s", code, out)
	}
}

// A CloudWatch that does not answer is a fault no local backend produces; the fault proxy drops
// every CloudWatch read (GetMetricData, an awsQuery call whose operation is its form's Action)
// and passes DynamoDB's to moto.
func testCostCloudWatchFails(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "unmeasured", ours, 1, 1, "")
	c.light(t, "unmeasured")
	p, err := faultproxy.Start(l.Endpoint, faultproxy.Faults{Drop: 1, Operations: []string{"GetMetricData"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	t.Setenv("AWS_ENDPOINT_URL", p.URL)

	code, out, stderr := c.run(t, append([]string{"cost", "--region", l.Region, "--days", "3", "--json"}, basePrices...)...)
	if code != exitFailed || p.Counts().Dropped == 0 {
		t.Fatalf("exit %d with %d CloudWatch calls dropped, want 1: %s\n%s", code, p.Counts().Dropped, stderr, out)
	}
	r := decodeCost(t, out)
	checkTable(t, r, priced{table: "unmeasured", billing: "provisioned", provisioned: capJSON{1, 1}, current: 0.438,
		notes: []string{"usage unavailable", "CloudWatch"}})
	if len(r.Problems) != 1 || !strings.Contains(r.Problems[0].Error, "CloudWatch") || strings.Contains(out, "does not serve CloudWatch") {
		t.Fatalf("want one problem saying CloudWatch could not be read (not that it is missing):\n%s", out)
	}
}

func testCostJanitorBackupsAlone(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	c.table(t, "deleted-by-janitor", ours, 1, 1, "")
	c.backup(t, "deleted-by-janitor", wallet.JanitorBackupPrefix+"deleted-by-janitor-1")
	c.table(t, "deleted-by-sweep", ours, 1, 1, "")
	c.backup(t, "deleted-by-sweep", wallet.SweepBackupPrefix+"deleted-by-sweep-1")
	for _, gone := range []string{"deleted-by-janitor", "deleted-by-sweep"} {
		if _, err := c.DynamoDB.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(gone)}); err != nil {
			t.Fatal(err)
		}
	}
	// Backups at $1,000,000 per GB-month, so that moto's 123-byte backups show in the cents.
	prices := append([]string{}, basePrices...)
	for i := range prices {
		if prices[i] == "--price-backup-gb-month" {
			prices[i+1] = "1000000"
		}
	}
	code, out, stderr := costRun(t, append([]string{"cost", "--region", l.Region, "--json"}, prices...)...)
	r := decodeCost(t, out)
	if code != exitOK || len(r.Tables) != 0 || len(r.JanitorBackups) != 1 || r.JanitorBackups[0].Table != "deleted-by-janitor" {
		t.Fatalf("exit %d: want no tables and the janitor's backup: %s\n%s", code, stderr, out)
	}
	// The sweep's shape: the backup's name and ARN.
	if b := r.JanitorBackups[0]; b.Name != wallet.JanitorBackupPrefix+"deleted-by-janitor-1" || !strings.HasPrefix(b.ARN, "arn:") {
		t.Fatalf("janitor backup %+v: want its name and ARN, as the sweep lists it", b)
	}
	// The sweep's, listed apart (they bill as much, and nothing else would show them).
	if len(r.SweepBackups) != 1 || r.SweepBackups[0].Name != wallet.SweepBackupPrefix+"deleted-by-sweep-1" || !cent(r.SweepBackups[0].MonthlyCostUSD, 123.0/(1<<30)*1e6) {
		t.Fatalf("sweep backups %+v: want the sweep's one, priced", r.SweepBackups)
	}
	if _, text, _ := costRun(t, append([]string{"cost", "--region", l.Region}, basePrices...)...); !strings.Contains(text, "Sweep backup "+wallet.SweepBackupPrefix+"deleted-by-sweep-1") {
		t.Fatalf("the text does not name the sweep's backup:\n%s", text)
	}
}

// A real stack deployed on moto's CloudFormation with a 1/1 table; the template to deploy
// declares 5/5: (5 − 1) × (0.00013 + 0.00065) × 730 = $2.2776 a month more, at us-east-2's
// prices (us-east-1's): the lease is there (InRegion), the figures are about them.
func testCostTemplateAgainstStack(t *testing.T, l localcloud.Lease) {
	c := newCostCloud(t, l.Region)
	clearPriceEnv(t)
	if _, err := c.CloudFormation.CreateStack(t.Context(), &cloudformation.CreateStackInput{
		StackName: aws.String("Wallet-priced"), TemplateBody: aws.String(walletTemplate(1, 1)),
	}); err != nil {
		t.Fatal(err)
	}
	if err := cloudformation.NewStackCreateCompleteWaiter(c.CloudFormation).Wait(t.Context(),
		&cloudformation.DescribeStacksInput{StackName: aws.String("Wallet-priced")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	file := writeTemplate(t, walletTemplate(5, 5))

	code, out, stderr := costRun(t, "cost", "--region", l.Region, "--template", file, "--stack", "Wallet-priced", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	d := decodeDeclared(t, out)
	if *d.Declared != 2.847 || d.Deployed == nil || *d.Deployed != 0.5694 || *d.Change != 2.2776 || d.Tables[0].Deployed == nil {
		t.Fatalf("5/5 over a live 1/1: want declared 2.847, deployed 0.5694, change 2.2776:\n%s", out)
	}
	code, out, _ = costRun(t, "cost", "--region", l.Region, "--template", file, "--stack", "Wallet-priced")
	if code != exitOK || !strings.Contains(out, "Deployed (stack Wallet-priced): $0.5694/month") || !strings.Contains(out, "+2.2776 US$/month") {
		t.Fatalf("text (exit %d):\n%s", code, out)
	}
	// A stack not deployed: the whole declared cost is the change, and deployed is null.
	code, out, stderr = costRun(t, "cost", "--region", l.Region, "--template", file, "--stack", "Wallet-never", "--json")
	if d := decodeDeclared(t, out); code != exitOK || d.Deployed != nil || *d.Change != 2.847 {
		t.Fatalf("not deployed (exit %d, %s): want deployed null, change 2.847:\n%s", code, stderr, out)
	}
}

func testCostMissingTable(t *testing.T, l localcloud.Lease) {
	code, _, stderr := costRun(t, "cost", "--region", "us-west-2", "--table", "no-such-table")
	if code != exitUsage || !strings.Contains(stderr, "no-such-table") || !strings.Contains(stderr, "not found") {
		t.Fatalf("exit %d, stderr %q: want 2 naming the table", code, stderr)
	}
}

// walletTemplate is a synthesized template's shape with one table of the given capacity.
func walletTemplate(read, write int) string {
	return fmt.Sprintf(`{"Resources":{"WalletTable":{"Type":"AWS::DynamoDB::Table","Properties":{
  "KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"}],
  "AttributeDefinitions":[{"AttributeName":"user_id","AttributeType":"S"}],
  "ProvisionedThroughput":{"ReadCapacityUnits":%d,"WriteCapacityUnits":%d}}}}}`, read, write)
}

func writeTemplate(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "Wallet.template.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// declaredJSON is the documented `verify cost --template --json` shape (README).
type declaredJSON struct {
	Tables []struct {
		LogicalID   string                  `json:"logical_id"`
		Billing     string                  `json:"billing"`
		Provisioned capJSON                 `json:"provisioned"`
		MonthlyUSD  float64                 `json:"monthly_usd"`
		Deployed    *struct{ Table string } `json:"deployed"`
	} `json:"tables"`
	Declared *float64 `json:"declared_monthly_usd"`
	Deployed *float64 `json:"deployed_monthly_usd"`
	Change   *float64 `json:"change_monthly_usd"`
}

func decodeDeclared(t *testing.T, out string) declaredJSON {
	t.Helper()
	var d declaredJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Declared == nil || d.Change == nil {
		t.Fatalf("stdout is not the declared-cost JSON: %v\n%s", err, out)
	}
	return d
}

// The price before deploy, with nothing deployed and no AWS call: the endpoint counts requests,
// and none may come. At list prices 1/1 is (0.00013 + 0.00065) × 730 = $0.5694 a month.
func TestCostTemplateCallsNothing(t *testing.T) {
	calls := countingEndpoint(t)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)
	file := writeTemplate(t, walletTemplate(1, 1))

	code, out, stderr := costRun(t, "cost", "--template", file, "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	d := decodeDeclared(t, out)
	if *d.Declared != 0.5694 || d.Deployed != nil || *d.Change != 0.5694 || len(d.Tables) != 1 || d.Tables[0].Provisioned != (capJSON{1, 1}) || d.Tables[0].Deployed != nil {
		t.Fatalf("1/1 declared: want $0.5694, deployed null:\n%s", out)
	}
	code, out, _ = costRun(t, "cost", "--template", file)
	if code != exitOK || !strings.Contains(out, "Declared: $0.5694/month.") || !strings.Contains(out, "WalletTable") || !strings.Contains(out, "Prices in us-east-1, standard class: $0.00013/RCU-hour") {
		t.Fatalf("text (exit %d):\n%s", code, out)
	}
	// Prices from the environment, as everywhere: $0.001/RCU-hour makes 1/1 (0.001 + 0.00065) × 730.
	t.Setenv("WALLET_PRICE_RCU_HOUR", "0.001")
	code, out, _ = costRun(t, "cost", "--template", file, "--json")
	if code != exitOK || !cent(*decodeDeclared(t, out).Declared, 1.2045) {
		t.Fatalf("with WALLET_PRICE_RCU_HOUR=0.001 (exit %d):\n%s", code, out)
	}
	t.Setenv("WALLET_PRICE_RCU_HOUR", "")

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"cost", "--template", filepath.Join(t.TempDir(), "missing.json")}, []string{"--template", "missing.json"}},
		{[]string{"cost", "--template", writeTemplate(t, "Resources: {}")}, []string{"--template", "not JSON"}},
		{[]string{"cost", "--template", ""}, []string{"--template", "empty"}},
		{[]string{"cost", "--stack", "Wallet-dev"}, []string{"--stack", "needs --template"}},
		{[]string{"cost", "--template", file, "--table", "wallet"}, []string{"--template", "--table"}},
		{[]string{"cost", "--template", file, "--all-regions"}, []string{"--template", "--all-regions"}},
	} {
		code, out, stderr := costRun(t, tc.args...)
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and no report (stderr %q)", tc.args, code, out, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not say %q", tc.args, stderr, w)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("pricing a template made %d AWS calls", n)
	}
	// The counter does see calls, a Price List call among them: --refresh-prices asks the Price
	// List API (here the counting endpoint, which answers 500: the shipped table, said so).
	code, out, stderr = costRun(t, "cost", "--template", file, "--refresh-prices")
	if code != exitOK || calls.Load() == 0 || !strings.Contains(out, "Declared: $0.5694/month.") || !strings.Contains(out, "the AWS Price List API could not be read for us-east-1") {
		t.Fatalf("--refresh-prices against the counting endpoint: exit %d, %d calls:\n%s%s", code, calls.Load(), out, stderr)
	}
	// And comparing with a stack reaches the endpoint.
	before := calls.Load()
	if code, _, _ := costRun(t, "cost", "--template", file, "--stack", "Wallet-dev"); code == exitOK || calls.Load() == before {
		t.Fatalf("--stack against the counting endpoint: exit %d, %d calls", code, calls.Load()-before)
	}
}

// globalTableTemplate is what CDK's TableV2 writes for a provisioned global table of two
// replicas: writes autoscaled from 2, reads 5 in us-east-1 and 4 in eu-west-1, capacity given as
// value where it says %s.
func globalTableTemplate(read string) string {
	return `{"Resources":{"Wallet":{"Type":"AWS::DynamoDB::GlobalTable","Properties":{
  "KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"}],
  "AttributeDefinitions":[{"AttributeName":"user_id","AttributeType":"S"}],
  "BillingMode":"PROVISIONED",
  "WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":2,"MaxCapacity":10,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}},
  "Replicas":[{"Region":"eu-west-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":4}},
              {"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":` + read + `}}]}}}}`
}

// A global table is priced before deploy, not "No tables declared", each replica at its own
// region's prices (here the shipped table's: a template's price asks no network): in us-east-1
// (5 × $0.00013 + 2 × $0.00065) × 730 = $1.4235, in eu-west-1 (4 × $0.000147 + 2 × $0.000735) ×
// 730 = $1.5023, $2.9258 a month at least (the writes autoscale from 2, to 10: (5 × $0.00013 +
// 10 × $0.00065) × 730 + (4 × $0.000147 + 10 × $0.000735) × 730 = $11.0142 at most), each
// replica's writes at the write price. A capacity out of 1..40000 or not in digits is refused with exit 2,
// naming the resource, the property and the value; an intrinsic one is a note and a lower
// bound. No AWS call is made.
func TestCostTemplatePricesGlobalTablesAndEveryCapacityByOneRule(t *testing.T) {
	calls := countingEndpoint(t)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)

	code, out, stderr := costRun(t, "cost", "--template", writeTemplate(t, globalTableTemplate("5")), "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	var d struct {
		Declared   float64 `json:"declared_monthly_usd"`
		LowerBound bool    `json:"lower_bound"`
		Tables     []struct {
			Type     string   `json:"type"`
			Notes    []string `json:"notes"`
			Replicas []struct {
				Region     string  `json:"region"`
				Replicated bool    `json:"replicated_writes"`
				MonthlyUSD float64 `json:"monthly_usd"`
			} `json:"replicas"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	eu, _ := cost.Shipped("eu-west-1", wallet.ClassStandard)
	if eu.RCUHour != 0.000147 || eu.WCUHour != 0.000735 {
		t.Fatalf("the shipped eu-west-1 row changed (%+v): update the figures above", eu)
	}
	if d.Declared != 2.9258 || !d.LowerBound || len(d.Tables) != 1 || d.Tables[0].Type != "AWS::DynamoDB::GlobalTable" || len(d.Tables[0].Replicas) != 2 ||
		d.Tables[0].Replicas[0].Region != "eu-west-1" || !d.Tables[0].Replicas[0].Replicated || d.Tables[0].Replicas[0].MonthlyUSD != 1.5023 ||
		d.Tables[0].Replicas[1].Region != "us-east-1" || !d.Tables[0].Replicas[1].Replicated || d.Tables[0].Replicas[1].MonthlyUSD != 1.4235 {
		t.Fatalf("a global table of two replicas: want $2.9258 at least, eu-west-1 $1.5023, us-east-1 $1.4235:\n%s", out)
	}
	code, out, _ = costRun(t, "cost", "--template", writeTemplate(t, globalTableTemplate("5")))
	for _, want := range []string{"Declared: $2.9258 to $11.0142/month", "replica us-east-1", "autoscaled from 2 to 10 units in each replica: priced from its minimum to its maximum",
		"Prices in eu-west-1, standard class: $0.000147/RCU-hour", "Prices in us-east-1, standard class: $0.00013/RCU-hour", "eu-west-1's storage, on-demand request, PITR and backup prices are derived"} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("text (exit %d) does not say %q:\n%s", code, want, out)
		}
	}

	index := func(read string) string {
		return fmt.Sprintf(`{"Resources":{"WalletTable":{"Type":"AWS::DynamoDB::Table","Properties":{
  "ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},
  "GlobalSecondaryIndexes":[{"IndexName":"by_balance","ProvisionedThroughput":{"ReadCapacityUnits":%s,"WriteCapacityUnits":1}}]}}}}`, read)
	}
	for _, tc := range []struct{ name, template, want string }{
		{"a replica's 0", globalTableTemplate("0"), `Replicas[us-east-1].ReadProvisionedThroughputSettings.ReadCapacityUnits 0:`},
		{"a replica's 1e12", globalTableTemplate("1000000000000"), `Replicas[us-east-1].ReadProvisionedThroughputSettings.ReadCapacityUnits 1000000000000:`},
		{"an index's largest int64", index("9223372036854775807"), `GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits 9223372036854775807:`},
		{"an index's 1e3", index("1e3"), `GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits 1e3:`},
		{"a table's 1e3", strings.Replace(walletTemplate(1, 1), `"ReadCapacityUnits":1`, `"ReadCapacityUnits":1e3`, 1), `ProvisionedThroughput.ReadCapacityUnits 1e3:`},
		{"an index without throughput", `{"Resources":{"WalletTable":{"Type":"AWS::DynamoDB::Table","Properties":{"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},
			"GlobalSecondaryIndexes":[{"IndexName":"by_balance"}]}}}}`, `GlobalSecondaryIndexes[by_balance]: the table is provisioned, but the index declares no ProvisionedThroughput`},
	} {
		code, out, stderr := costRun(t, "cost", "--template", writeTemplate(t, tc.template))
		if code != exitUsage || out != "" || !strings.Contains(stderr, "resource ") || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want 2 saying %q", tc.name, code, out, stderr, tc.want)
		}
	}
	code, out, stderr = costRun(t, "cost", "--template", writeTemplate(t, index(`{"Fn::If":["IsProd",100,1]}`)))
	if code != exitOK || !strings.Contains(out, "GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits is decided by CloudFormation") || !strings.Contains(out, "Declared: at least $") {
		t.Errorf("an index's capacity by Fn::If (exit %d, %s): want a note and a lower bound:\n%s", code, stderr, out)
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("pricing templates made %d AWS calls", n)
	}
}

// Bad input is refused before any AWS call: the endpoint here is a server that counts what
// reaches it, and nothing may.
func TestCostBadInputCallsNothing(t *testing.T) {
	calls := countingEndpoint(t)
	// Templates a person may hand over: valid JSON of another shape, null, a template with
	// something after it. Each is refused in words, naming no Go type.
	dir := t.TempDir()
	tpl := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	shape, null, trailing := tpl("shape.json", `{"Resources": [1, 2]}`), tpl("null.json", "null"), tpl("trailing.json", `{"Resources": {}} {"Resources": {}}`)
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	clearPriceEnv(t)
	for _, tc := range []struct {
		env  string
		args []string
		want []string // the bad value, and what is allowed
	}{
		{"", []string{"cost", "--days", "0"}, []string{"--days 0", "1 to 15"}},
		{"", []string{"cost", "--days", "500"}, []string{"--days 500", "1 to 15", "CloudWatch keeps"}},
		{"", []string{"cost", "--days", "two"}, []string{`"two"`}},
		{"", []string{"cost", "--price-rru-million", "-1"}, []string{"--price-rru-million", `"-1"`, "non-negative"}},
		{"", []string{"cost", "--price-wru-million", "lots"}, []string{"--price-wru-million", `"lots"`, "non-negative"}},
		{"", []string{"cost", "--price-pitr-gb-month", "NaN"}, []string{"--price-pitr-gb-month", `"NaN"`}},
		{"WALLET_PRICE_RRU_MILLION=free", []string{"cost"}, []string{"WALLET_PRICE_RRU_MILLION", `"free"`}},
		{"", []string{"cost", "--table", "x"}, []string{`"x"`, "3 to 255"}},
		{"", []string{"cost", "--table", "wallet", "--all-regions"}, []string{"--all-regions"}},
		{"", []string{"cost", "--region", "us-east-1", "--all-regions"}, []string{"--all-regions"}},
		{"", []string{"cost", "extra"}, []string{"extra"}},
		{"", []string{"cost", "--template", shape}, []string{"valid JSON of another shape", `"Resources" is an array, which is not an object`}},
		{"", []string{"cost", "--template", null}, []string{"null", "CloudFormation template"}},
		{"", []string{"cost", "--template", trailing}, []string{"more after the first JSON value"}},
		{"", []string{"cost", "--days", "1_0"}, []string{`"1_0"`, "decimal"}},
		{"", []string{"cost", "--days", "0x10"}, []string{`"0x10"`, "decimal"}},
		{"", []string{"cost", "--price-rcu-hour", ""}, []string{"--price-rcu-hour", "empty"}},
		{"", []string{"cost", "--price-rcu-hour", "1_000"}, []string{"--price-rcu-hour", `"1_000"`, "plain decimal"}},
		{"", []string{"cost", "--price-wcu-hour", "0x1p-3"}, []string{"--price-wcu-hour", "plain decimal"}},
		{"", []string{"cost", "--price-rcu-hour", "1e308"}, []string{"--price-rcu-hour", `"1e308"`, "up to 1e+09", "overflow"}},
		{"WALLET_PRICE_GB_MONTH=1e308", []string{"cost"}, []string{"WALLET_PRICE_GB_MONTH", `"1e308"`, "up to 1e+09"}},
		// The sweep and teardown take the same prices: an overflowing one is refused before
		// anything is listed, backed up or deleted.
		{"", []string{"sweep", "--yes", "--price-rcu-hour", "1e308"}, []string{"--price-rcu-hour", "overflow"}},
		{"", []string{"teardown", "--stack", "Wallet-dev", "--yes", "--price-backup-gb-month", "1e308"}, []string{"--price-backup-gb-month", "overflow"}},
	} {
		if k, v, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(k, v)
		}
		code, out, stderr := costRun(t, tc.args...)
		if k, _, ok := strings.Cut(tc.env, "="); ok {
			t.Setenv(k, "")
		}
		if code != exitUsage || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and no report (stderr %q)", tc.args, code, out, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr %q does not say %q", tc.args, stderr, w)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Fatalf("rejected commands made %d AWS calls", n)
	}
	// The counter does see calls: a valid command reaches the endpoint (and fails there).
	if code, _, _ := costRun(t, "cost", "--table", "wallet"); code == exitOK || calls.Load() == 0 {
		t.Fatalf("a valid command against the counting endpoint: exit %d, %d calls", code, calls.Load())
	}
}

// A figure JSON cannot carry (+Inf) never loses the report: it is written as text, and the
// command fails saying why. No price can produce one any more (they are bounded, and
// cost.Round is finite), so the value is made by hand.
func TestRenderWritesTheReportWhenJSONCannot(t *testing.T) {
	var out bytes.Buffer
	report := struct {
		Deleted string
		USD     float64
	}{"wallet-dev (backup arn:aws:dynamodb:…:backup/1)", math.Inf(1)}
	err := render(&out, true, report, func(w io.Writer) error { _, err := fmt.Fprintf(w, "deleted %s\n", report.Deleted); return err })
	if err == nil || !strings.Contains(err.Error(), "JSON") || !strings.Contains(out.String(), "backup/1") {
		t.Fatalf("err %v, out %q: want the text report and an error naming JSON", err, out.String())
	}
}

// DynamoDB Local has no CloudWatch (it answers 500), no tags, no backups, no PITR: a named
// table is still priced at rest, and the report says what could not be known.
func TestCostOnDynamoDBLocal(t *testing.T) {
	localcloud.DynamoDBLocal(t).SetEnv(t)
	clearPriceEnv(t)
	fixture.NewCloud(t, "").CreateTable(t, "local-wallet", nil, false)

	args := append([]string{"cost", "--table", "local-wallet", "--json"}, basePrices...)
	code, out, stderr := costRun(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	r := decodeCost(t, out)
	checkTable(t, r, priced{table: "local-wallet", billing: "provisioned", provisioned: capJSON{1, 1}, current: 0.438,
		notes: []string{"usage unavailable", "CloudWatch"}})
	code, out, _ = costRun(t, append([]string{"cost", "--table", "local-wallet"}, basePrices...)...)
	if code != exitOK || !strings.Contains(out, "usage unavailable") || !strings.Contains(out, "none: no data") {
		t.Fatalf("text report (exit %d):\n%s", code, out)
	}

	// Every table tagged Project=wallet cannot be found where there are no tags: say so. The
	// only region could not be read, so nothing was found out: exit 2, as the sweep.
	code, out, _ = costRun(t, "cost", "--json")
	if code != exitUsage || !strings.Contains(out, "--table") {
		t.Fatalf("all tables on an endpoint without tags: exit %d, want 2 and a problem naming --table:\n%s", code, out)
	}
}

// BenchmarkCost50Tables runs `verify cost --json` over 50 tables tagged Project=wallet on moto:
// every ListTables page, DescribeTable and tags per table, PITR, backups, CloudWatch for each
// table, pricing. moto's GetMetricData walks every minute of the window for every query and scans
// every datapoint in it, so its time grows with days × datapoints; the two runs show both ends:
// the default 14 days without datapoints, and 1 day with 4 datapoints a table. The command runs
// at a clock 15 days ahead, with the datapoints written before it, so that every table has lived
// through its window and is read with the others (a younger one is read on its own).
func BenchmarkCost50Tables(b *testing.B) {
	b.StopTimer()
	localcloud.Moto(b).SetEnv(b)
	for _, k := range cost.EnvNames() {
		b.Setenv(k, "")
	}
	for _, tc := range []struct {
		name, region string
		days         int
		datapoints   bool
	}{{"14-days-no-data", "eu-west-3", 14, false}, {"1-day-with-data", "eu-south-1", 1, true}} {
		b.Run(tc.name, func(b *testing.B) {
			b.StopTimer()
			c := fixture.NewCloud(b, tc.region)
			cw := usage.NewCloudWatch(c.Config)
			clock := time.Now().UTC().Add(15*24*time.Hour + time.Hour)
			now := clock.Truncate(time.Minute)
			for i := range 50 {
				name := fmt.Sprintf("bench-cost-%02d", i)
				c.CreateTable(b, name, ours, false)
				if !tc.datapoints {
					continue
				}
				var data []cwtypes.MetricDatum
				for j, m := range []string{reads, reads, writes, writes} {
					data = append(data, cwtypes.MetricDatum{MetricName: aws.String(m), Unit: cwtypes.StandardUnitCount, Value: aws.Float64(30),
						Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(name)}},
						Timestamp:  aws.Time(now.Add(-time.Duration(10+j*60) * time.Minute))})
				}
				if _, err := cw.PutMetricData(b.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"), MetricData: data}); err != nil {
					b.Fatal(err)
				}
			}
			for range b.N {
				b.StartTimer()
				code, out, stderr := costRunAt(b, clock, "cost", "--region", tc.region, "--days", fmt.Sprint(tc.days), "--json")
				b.StopTimer()
				var r costJSON
				if err := json.Unmarshal([]byte(out), &r); code != exitOK || err != nil || len(r.Tables) != 50 {
					b.Fatalf("exit %d, %d tables: %s", code, len(r.Tables), stderr)
				}
			}
		})
	}
}

// The permissions `verify cost` needs, proved on moto with IAM enforced: a user with exactly the
// actions the README lists gets a report; one without GetMetricData, without
// application-autoscaling:DescribeScalableTargets, or without dynamodb:ListTables for every
// tagged table, is refused with exit 2 naming the action. (moto
// authorises DynamoDB and CloudWatch calls against resource "*", so this proves the actions, and
// the policy templates in infra/ prove the resources.)
func TestCostLeastPrivilege(t *testing.T) {
	moto := localcloud.Moto(t) // its own: enforcement belongs to one moto process
	moto.SetEnv(t)
	clearPriceEnv(t)

	c := newCostCloud(t, "us-east-1")
	c.table(t, "guarded", ours, 10, 10, "")
	c.use(t, "guarded", "", reads, 84, 84)
	// moto names CloudWatch's actions by its endpoint prefix, monitoring:; IAM's name is
	// cloudwatch:GetMetricData, which the README and the report to the policy give.
	// pricing:GetProducts is the Price List (moto has none: the run falls back to the shipped
	// table either way; infra's policy engine proves the TeardownPolicy grants it).
	forTable := []string{"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ListBackups", "monitoring:GetMetricData",
		"application-autoscaling:DescribeScalableTargets", "pricing:GetProducts"}
	without := func(action string) []string {
		return slices.DeleteFunc(slices.Clone(forTable), func(a string) bool { return a == action })
	}
	forAll := append([]string{"dynamodb:ListTables", "dynamodb:ListTagsOfResource"}, forTable...)
	iamc := iam.NewFromConfig(c.Config)
	users := map[string]policy.User{}
	for _, u := range []struct {
		name    string
		actions []string
	}{{"table-reader", forTable}, {"no-metrics", without("monitoring:GetMetricData")}, {"no-autoscaling", without("application-autoscaling:DescribeScalableTargets")}, {"all-reader", forAll}} {
		d := policy.Document{Version: "2012-10-17", Statement: []policy.Statement{{Effect: "Allow", Action: u.actions, Resource: policy.Strings{"*"}}}}
		user, err := policy.NewUser(t.Context(), iamc, u.name, d)
		if err != nil {
			t.Fatal(err)
		}
		users[u.name] = user
	}
	if err := moto.EnforceIAM(t.Context()); err != nil {
		t.Fatal(err)
	}
	as := func(user string, args ...string) (int, string, string) {
		t.Setenv("AWS_ACCESS_KEY_ID", users[user].AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", users[user].SecretAccessKey)
		return costRun(t, append(args, basePrices...)...)
	}

	code, out, stderr := as("table-reader", "cost", "--table", "guarded", "--days", "1", "--json")
	if code != exitOK || len(decodeCost(t, out).Tables) != 1 {
		t.Fatalf("--table with %v: exit %d: %s\n%s", forTable, code, stderr, out)
	}
	code, _, stderr = as("no-metrics", "cost", "--table", "guarded", "--days", "1")
	if code != exitUsage || !strings.Contains(stderr, "access denied") || !strings.Contains(stderr, ":GetMetricData") {
		t.Fatalf("without GetMetricData: exit %d, stderr %q; want 2 naming it", code, stderr)
	}
	// Which tables are auto scaled is read for every provisioned table: a policy without it is
	// refused, naming the action (IAM's name, which moto shares).
	code, _, stderr = as("no-autoscaling", "cost", "--table", "guarded", "--days", "1")
	if code != exitUsage || !strings.Contains(stderr, "access denied") || !strings.Contains(stderr, "application-autoscaling:DescribeScalableTargets") {
		t.Fatalf("without DescribeScalableTargets: exit %d, stderr %q; want 2 naming it", code, stderr)
	}
	code, _, stderr = as("table-reader", "cost", "--days", "1")
	if code != exitUsage || !strings.Contains(stderr, "dynamodb:ListTables") {
		t.Fatalf("every tagged table without dynamodb:ListTables: exit %d, stderr %q; want 2 naming it", code, stderr)
	}
	// Asked about every region, one whose tables may not be listed (as a region an organization
	// policy closes answers) is a note, as in the sweep: it aborts no other region.
	code, out, stderr = as("table-reader", "cost", "--all-regions", "--days", "1", "--json")
	if r := decodeCost(t, out); code != exitOK || len(r.Notes) < len(sweep.Regions()) || !strings.Contains(strings.Join(r.Notes, "\n"), "an organization policy?") {
		t.Fatalf("--all-regions without dynamodb:ListTables: exit %d, stderr %q: want each region a note\n%s", code, stderr, out)
	}
	code, out, stderr = as("all-reader", "cost", "--days", "1", "--json")
	if code != exitOK || len(decodeCost(t, out).Tables) != 1 {
		t.Fatalf("every tagged table with %v: exit %d: %s\n%s", forAll, code, stderr, out)
	}
}

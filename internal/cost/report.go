package cost

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Report is `verify cost`: every table priced against what it used, and what following the
// advice would save. It is a value; WriteText and WriteJSON render it.
type Report struct {
	// Organization is the organization's id when the report covers one (--org); empty otherwise.
	Organization string `json:"organization"`
	// Accounts are the accounts reviewed, with their totals: one, the caller's, unless the run
	// covered an organization or named accounts.
	Accounts []AccountSummary `json:"accounts"`
	Tables   []TableCost      `json:"tables"`
	// Load is the file a what-if priced (verify cost --load): then nothing else was read, and
	// accounts is empty. Absent otherwise.
	Load string `json:"load,omitempty"`
	// MonthlySavingsUSD is every recommendation's savings together: negative when serving the
	// load (raise) costs more than it saves elsewhere.
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	// JanitorBackups are backups the janitor took of tables that are gone: they still bill.
	JanitorBackups []Backup `json:"janitor_backups,omitempty"`
	// SweepBackups are backups `verify sweep --backup` (or teardown) took of tables that are
	// gone: they still bill too.
	SweepBackups []Backup `json:"sweep_backups,omitempty"`
	Days         int      `json:"days"`
	Regions      []string `json:"regions"`
	// Prices are one entry per region and class: what each table was priced at, from where
	// (the user, the Price List API, the shipped table) and of when.
	Prices []Prices `json:"prices"`
	// ReservedCapacity is, per account and region, what reserved capacity would save on the
	// provisioned capacity its tables held through the window.
	ReservedCapacity []Reservable       `json:"reserved_capacity,omitempty"`
	Problems         []discover.Problem `json:"problems,omitempty"`
	Notes            []string           `json:"notes,omitempty"`
	// Charts are the series of the tables whose advice saves most, best first, when the review
	// was asked to draw them (Options.Draw): for a page, never in the JSON, which stays the
	// figures people read.
	Charts []Chart `json:"-"`

	// run is how the fleet's review went (ReviewFleet): its outcome, and its text by account.
	run *fleetRun
}

// TableCost is one table: what it has, used and costs, and the advice.
type TableCost struct {
	Table   string         `json:"table"`
	Region  string         `json:"region"`
	Account string         `json:"account,omitempty"`
	Billing wallet.Billing `json:"billing"`
	// Use is the table's own capacity and consumption; its indexes' are in Indexes. Costs and
	// the advice are the table's and its indexes' together.
	Use
	Indexes        []IndexUse `json:"indexes,omitempty"`
	Storage        Storage    `json:"storage"`
	MonthlyCostUSD Costs      `json:"monthly_cost_usd"`
	// CurrentBasis is what monthly_cost_usd.current was priced from: the capacity DescribeTable
	// shows now (instant), what an auto-scaled table was billed for over the window (billed),
	// or an on-demand table's requests (requests).
	CurrentBasis Basis `json:"current_basis"`
	// ThrottledMinutes are the minutes each option would have throttled over the window; null
	// without data.
	ThrottledMinutes *Throttled      `json:"throttled_minutes"`
	Recommendation   *Recommendation `json:"recommendation"`
	// Window is the stretch of CloudWatch data the table was judged on; null when none could
	// be read.
	Window *Window `json:"window"`
	// Idle is set for a provisioned table that consumed nothing over a whole window it lived
	// through: it pays for capacity nobody uses.
	Idle *Idle `json:"idle,omitempty"`
	// TableClass is the table's class (TableClassSummary; absent is standard), whose prices
	// price it; ClassAdvice compares it with the other class.
	TableClass  wallet.TableClass `json:"table_class"`
	ClassAdvice *ClassAdvice      `json:"table_class_advice,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
	// Sparkline is its use in SparklinePoints stretches of the window, when asked
	// (Draw.Sparklines): a picture, not a figure, so not in the JSON.
	Sparkline []float64 `json:"-"`
	// held is the capacity held through the window, for reserved capacity.
	held heldCapacity
}

// Window is what a table's use was read over.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Hours is what a month is extrapolated from: the window's, or the table's life's.
	Hours float64 `json:"hours"`
	// Lifetime: the table is younger than --days, so its whole life is the window, and data
	// from before its creation (an earlier table of the same name) is not counted.
	Lifetime bool `json:"lifetime"`
}

// Idle is what an unused provisioned table costs for nothing, and the two ways out.
type Idle struct {
	// WastedMonthlyUSD is its provisioned capacity, which serves no request.
	WastedMonthlyUSD float64 `json:"wasted_monthly_usd"`
	// OnDemandMonthlyUSD is what it costs on demand while still unused: its storage only.
	OnDemandMonthlyUSD float64 `json:"on_demand_monthly_usd"`
	// Sweep is the command that deletes it if nobody needs it.
	Sweep string `json:"sweep"`
}

// Use is what the table, or an index, was given, used, and would need.
type Use struct {
	// Provisioned is its capacity now (DescribeTable's); zero on demand.
	Provisioned Capacity `json:"provisioned"`
	// ScalableTargets are its auto scaling, when it is auto scaled: each dimension's range, or
	// null for a fixed one.
	ScalableTargets *discover.Ranges `json:"scalable_targets,omitempty"`
	// Consumed is null when there is no data to tell.
	Consumed *Consumption `json:"consumed"`
	// RightSizedCapacity is what the busiest minute needs at TargetUtilization; null without data.
	RightSizedCapacity *Capacity `json:"right_sized_capacity"`
	// AutoScaling is the auto-scaled option's policies: min, max and target for each
	// dimension; null without data.
	AutoScaling *Policies `json:"autoscaling"`
}

// IndexUse is a global secondary index's Use.
type IndexUse struct {
	Index string `json:"index"`
	Use
}

// Consumption is what was used in the window, in capacity (= request) units.
type Consumption struct {
	ReadUnits     float64 `json:"read_units"`
	ReadPeakPerS  float64 `json:"read_peak_per_s"`
	WriteUnits    float64 `json:"write_units"`
	WritePeakPerS float64 `json:"write_peak_per_s"`
}

// Storage is what the table keeps, which every cost includes.
type Storage struct {
	SizeBytes   int64   `json:"size_bytes"` // table and indexes
	PITR        bool    `json:"pitr"`
	PITRBytes   int64   `json:"pitr_bytes"`
	Backups     int     `json:"backups"`
	BackupBytes int64   `json:"backup_bytes"`
	MonthlyUSD  float64 `json:"monthly_usd"`
}

// Costs are a table's dollars a month four ways; all but Current are null without data.
type Costs struct {
	Current    float64  `json:"current"`
	RightSized *float64 `json:"right_sized"`
	// AutoScaled is every dimension auto scaled by its autoscaling policies, simulated minute by
	// minute over the window.
	AutoScaled *float64 `json:"auto_scaled"`
	OnDemand   *float64 `json:"on_demand"`
}

// Recommendation is the cheapest of Costs that serves the load.
type Recommendation struct {
	// Change keeps its JSON key, "action", which users already read.
	Change Change `json:"action"`
	// Context is the -c values to redeploy the wallet stack with; empty for keep.
	Context           string  `json:"context"`
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
}

// Backup is a backup that bills on its own: one of the janitor's or the sweep's, kept (nothing
// here or in the sweep deletes one). The sweep's report and cost's list them in this one shape.
type Backup struct {
	Name           string    `json:"name"`
	Table          string    `json:"table"`
	Region         string    `json:"region"`
	Account        string    `json:"account,omitempty"`
	ARN            string    `json:"arn"`
	Created        time.Time `json:"created"`
	SizeBytes      int64     `json:"size_bytes"`
	MonthlyCostUSD float64   `json:"monthly_cost_usd"`
}

// PriceBackup is a backup of the region with what it costs a month to keep: its size, at the
// backup price.
func PriceBackup(region string, b types.BackupSummary, p Prices) Backup {
	size := aws.ToInt64(b.BackupSizeBytes)
	p = p.In(region) // backups bill alike in both classes
	return Backup{
		Name: aws.ToString(b.BackupName), Table: aws.ToString(b.TableName), Region: region,
		ARN: aws.ToString(b.BackupArn), Created: aws.ToTime(b.BackupCreationDateTime), SizeBytes: size,
		MonthlyCostUSD: Round(Monthly(Footprint{Billing: wallet.BillingOnDemand, BackupBytes: size}, p).Total),
	}
}

// price turns what was found out about a table into its line of the report, in stages: what it
// keeps, what it used, and the advice. Without data it recommends nothing, unless the table is
// idle: DynamoDB publishes no datapoint for a minute without requests, so no data in a short
// life or on an unreadable endpoint may be no use at all, and advice on zeros would be a guess;
// but a provisioned table that lived through a whole readable window without a request is idle.
func price(region string, r reading, days int, p Prices) TableCost {
	return priceDrawn(region, r, days, p, nil)
}

// priceDrawn is price, keeping what d draws of the table (nil: nothing).
func priceDrawn(region string, r reading, days int, p Prices, d *drawing) TableCost {
	class := wallet.ClassOf(r.desc)
	p = p.For(region, class)
	t := priceAt(region, r, days, p, d)
	t.TableClass = class
	// Said in the notes only when the other class is cheaper: a "keep it" on every table is
	// noise; the comparison and its break-even are in table_class_advice either way.
	if t.ClassAdvice = adviseClass(r, t, p); t.ClassAdvice != nil && t.ClassAdvice.Switch {
		t.Notes = append(t.Notes, t.ClassAdvice.note())
	}
	t.held = held(r, t)
	return t
}

// priceAt is price at the prices of the table's region and class; d keeps what is drawn of it.
func priceAt(region string, r reading, days int, p Prices, d *drawing) TableCost {
	loads, used := loadsOf(r)
	f, t := rest(region, r, loads, p)
	t.Provisioned, t.ScalableTargets = loads[0].Provisioned, scalableTargets(loads[0])
	for _, l := range loads[1:] {
		t.Indexes = append(t.Indexes, IndexUse{Index: l.Index, Use: Use{Provisioned: l.Provisioned, ScalableTargets: scalableTargets(l)}})
	}
	if r.unavailable != "" {
		return unpriced(t, f, r.unavailable)
	}
	lived := window(&t, r, days)
	switch {
	case used == 0 && !r.young && f.Billing == wallet.BillingProvisioned:
		return idle(t, f, loads, r, days, p, d)
	case used == 0:
		t.Notes = append(t.Notes, fmt.Sprintf("no consumed capacity in CloudWatch in %s (DynamoDB publishes none for a minute without requests): nothing to recommend on", lived))
		return t
	}
	a := Advise(Usage{Footprint: f, Loads: loads, Hours: r.hours, Start: r.window.Start}, p)
	advised(&t, loads, a)
	d.table(&t, loads, a, r.window.Start)
	return t
}

// loadsOf is the table's and each global secondary index's provisioned capacity, auto
// scaling and what it consumed in the window, minute by minute, the table first; used is every
// unit consumed, read and write.
func loadsOf(r reading) (loads []Load, used float64) {
	loads = LoadsOf(r.desc)
	for i := range loads {
		loads[i].Scaling = r.scalingOf(i)
		if i < len(r.minutes) {
			loads[i].Minutes = &r.minutes[i]
			loads[i].Consumed = r.minutes[i].Consumed
		}
		used += loads[i].Consumed.ReadUnits + loads[i].Consumed.WriteUnits
	}
	return loads, used
}

// LoadsOf are a table's loads as DescribeTable tells them: the table, then each global
// secondary index (usage.Sources' order), with the capacity each has now.
func LoadsOf(d *types.TableDescription) []Load {
	b := wallet.BillingOf(d)
	loads := []Load{{Provisioned: provisioned(b, d.ProvisionedThroughput)}}
	for _, g := range d.GlobalSecondaryIndexes {
		loads = append(loads, Load{Index: aws.ToString(g.IndexName), Provisioned: provisioned(b, g.ProvisionedThroughput)})
	}
	return loads
}

// unpriced is a table whose use could not be read: priced at rest only, nothing recommended.
func unpriced(t TableCost, f Footprint, why string) TableCost {
	t.Notes = append(t.Notes, "usage unavailable, nothing recommended: "+why)
	if f.Billing == wallet.BillingOnDemand {
		t.Notes = append(t.Notes, "the current cost of an on-demand table is then only what it stores: its requests are unknown")
	}
	return t
}

// window records the window the use was read over and returns it in words; a table younger
// than the window is judged on its life only, and a note says so.
func window(t *TableCost, r reading, days int) string {
	t.Window = &Window{Start: r.window.Start, End: r.window.End, Hours: Round(r.hours), Lifetime: r.young}
	if !r.young {
		return fmt.Sprintf("the last %s", daysText(days))
	}
	lived := fmt.Sprintf("its %s of life since it was created at %s", hoursText(r.hours), aws.ToTime(r.desc.CreationDateTime).UTC().Format(time.RFC3339))
	t.Notes = append(t.Notes, fmt.Sprintf("younger than %s: judged on %s, not on CloudWatch data from before (an earlier table of the same name), and extrapolated to a month", daysText(days), lived))
	return lived
}

// rest is the table at rest: its footprint, storage and current cost, an auto-scaled table's at
// the capacity it was billed for (BilledOf), the report saying which.
func rest(region string, r reading, loads []Load, p Prices) (Footprint, TableCost) {
	f := FromDescription(r.desc)
	basis := BasisInstant
	if f.Billing == wallet.BillingOnDemand {
		basis = BasisRequests
	} else if f.Billed = BilledOf(loads); f.Billed != nil {
		basis = BasisBilled
	}
	if r.pitr {
		// Point-in-time recovery bills on the table and its local secondary indexes.
		f.PITRBytes = aws.ToInt64(r.desc.TableSizeBytes)
		for _, l := range r.desc.LocalSecondaryIndexes {
			f.PITRBytes += aws.ToInt64(l.IndexSizeBytes)
		}
	}
	f.BackupBytes = r.backupBytes
	return f, TableCost{
		Table:   r.name(),
		Region:  region,
		Billing: f.Billing,
		Storage: Storage{
			SizeBytes: f.SizeBytes, PITR: r.pitr, PITRBytes: f.PITRBytes, Backups: r.backups, BackupBytes: f.BackupBytes,
			MonthlyUSD: Round(storageOnly(f, p)),
		},
		MonthlyCostUSD: Costs{Current: Round(Monthly(f, p).Total)},
		CurrentBasis:   basis,
		Notes:          append(slices.Clone(r.notes), basisNotes(loads, f)...),
	}
}

// basisNotes say how an auto-scaled table's current cost was read: from what it was billed
// for, or, without CloudWatch's history of its capacity, at the instant's.
func basisNotes(loads []Load, f Footprint) []string {
	var scaled, unknown []string
	for _, l := range loads {
		if !l.Scaling.Scaled() {
			continue
		}
		scaled = append(scaled, loadName(l))
		if l.Minutes == nil || l.Minutes.ProvisionedRead == nil {
			unknown = append(unknown, loadName(l))
		}
	}
	switch {
	case len(scaled) == 0:
		return nil
	case f.Billed == nil:
		return []string{fmt.Sprintf("auto scaled (%s), but CloudWatch has no ProvisionedReadCapacityUnits/ProvisionedWriteCapacityUnits for it in the window: its current cost is the capacity DescribeTable shows now, not what it was billed for", strings.Join(scaled, ", "))}
	case len(unknown) > 0:
		return []string{fmt.Sprintf("auto scaled: its current cost is what CloudWatch's provisioned capacity says it was billed for over the window, but for %s (no history: the capacity DescribeTable shows now)", strings.Join(unknown, ", "))}
	}
	return []string{fmt.Sprintf("auto scaled (%s): its current cost is what CloudWatch's provisioned capacity says it was billed for over the window, %.2f RCU and %.2f WCU on average, not the capacity of the instant it was read", strings.Join(scaled, ", "), f.Billed.RCU, f.Billed.WCU)}
}

// scalableTargets is a load's auto scaling for the report: nil when it is fixed.
func scalableTargets(l Load) *discover.Ranges {
	if !l.Scaling.Scaled() {
		return nil
	}
	s := l.Scaling
	return &s
}

// storageOnly is what a table costs with no capacity: on demand and unused.
func storageOnly(f Footprint, p Prices) float64 {
	return Monthly(Footprint{Billing: wallet.BillingOnDemand, SizeBytes: f.SizeBytes, PITRBytes: f.PITRBytes, BackupBytes: f.BackupBytes}, p).Total
}

// advised fills a table's use, costs and recommendation from the advice.
func advised(t *TableCost, loads []Load, a Advice) {
	for i, l := range loads {
		u := Use{Provisioned: l.Provisioned, ScalableTargets: scalableTargets(l), Consumed: consumption(l.Consumed), RightSizedCapacity: &a.RightSizedCapacity[i]}
		if i < len(a.AutoScaling) {
			u.AutoScaling = &a.AutoScaling[i]
		}
		if i == 0 {
			t.Use = u
		} else {
			t.Indexes[i-1].Use = u
		}
	}
	t.MonthlyCostUSD = Costs{Current: Round(a.Current), RightSized: ptr(Round(a.RightSized)), OnDemand: ptr(Round(a.OnDemand))}
	if a.AutoScaled != nil {
		t.MonthlyCostUSD.AutoScaled = ptr(Round(*a.AutoScaled))
	}
	t.ThrottledMinutes = a.ThrottledMinutes
	t.Recommendation = &Recommendation{Change: a.Change, Context: a.Context, MonthlySavingsUSD: Round(a.Savings)}
	if a.Throttled {
		if m := a.ThrottledMinutes; m != nil {
			t.Notes = append(t.Notes, fmt.Sprintf("%s of the window used more than the capacity it had then: requests were throttled, or ran on burst capacity", minutesText(m.Current)))
		} else {
			t.Notes = append(t.Notes, "its busiest minute used more than its provisioned capacity: requests were throttled, or ran on burst capacity")
		}
	}
	if m := a.ThrottledMinutes; m != nil && (m.RightSized > 0 || m.AutoScaled > 0 || m.OnDemand > 0) {
		t.Notes = append(t.Notes, fmt.Sprintf("minutes throttled over the window: %d as it is, %d right-sized, %d auto scaled, %d on demand (beyond DynamoDB's default %d units a second)",
			m.Current, m.RightSized, m.AutoScaled, m.OnDemand, wallet.MaxCapacity))
	}
	t.Notes = append(t.Notes, a.Notes...)
}

// idle is the line of a provisioned table that consumed nothing over a whole window it lived
// through: the advice on zero use (on demand, which then bills only storage), what its capacity
// costs for nothing, and the other way out, deleting it.
func idle(t TableCost, f Footprint, loads []Load, r reading, days int, p Prices, d *drawing) TableCost {
	a := Advise(Usage{Footprint: f, Loads: loads, Hours: r.hours, Start: r.window.Start}, p)
	advised(&t, loads, a)
	t.Idle = &Idle{
		WastedMonthlyUSD:   Round(Monthly(f, p).Capacity), // what it was billed for, auto scaled or not
		OnDemandMonthlyUSD: Round(storageOnly(f, p)),
		Sweep:              fmt.Sprintf("verify sweep --region %s --idle-for %dd", t.Region, days),
	}
	capacity := fmt.Sprintf("%d/%d provisioned", f.RCU, f.WCU)
	if f.Billed != nil {
		capacity = fmt.Sprintf("auto scaled, %.2f/%.2f units billed on average", f.Billed.RCU, f.Billed.WCU)
	}
	t.Notes = append(t.Notes, fmt.Sprintf("idle: %s (indexes included) and no consumed capacity in the last %s, which it lived through: $%.2f/month for nothing. Two ways out: on-demand billing (%s) bills only its storage, $%.2f/month; or, if nobody needs it, `%s` deletes it (add --export DIR to keep its items)",
		capacity, daysText(days), t.Idle.WastedMonthlyUSD, contextValues(ToOnDemand, nil), t.Idle.OnDemandMonthlyUSD, t.Idle.Sweep))
	d.table(&t, loads, a, r.window.Start)
	return t
}

// provisioned is a table's or index's capacity; an on-demand table reports zeros, which are not
// capacity.
func provisioned(b wallet.Billing, pt *types.ProvisionedThroughputDescription) Capacity {
	if b != wallet.BillingProvisioned || pt == nil {
		return Capacity{}
	}
	return Capacity{Read: aws.ToInt64(pt.ReadCapacityUnits), Write: aws.ToInt64(pt.WriteCapacityUnits)}
}

func consumption(c usage.Consumed) *Consumption {
	return &Consumption{
		ReadUnits: Round(c.ReadUnits), ReadPeakPerS: Round(c.ReadPeak),
		WriteUnits: Round(c.WriteUnits), WritePeakPerS: Round(c.WritePeak),
	}
}

func ptr(v float64) *float64 { return &v }

// NewReport puts regions' reviews together, tables in region and name order.
func NewReport(regions []RegionReview, days int, p Prices) Report {
	r := Report{Tables: []TableCost{}, Accounts: []AccountSummary{}, Days: days}
	var saved float64
	for _, rr := range regions {
		r.Regions = append(r.Regions, rr.Region)
		r.Tables = append(r.Tables, rr.Tables...)
		r.JanitorBackups = append(r.JanitorBackups, rr.Backups...)
		r.SweepBackups = append(r.SweepBackups, rr.SweepBackups...)
		r.Problems = append(r.Problems, rr.Problems...)
		r.Notes = append(r.Notes, rr.Notes...)
	}
	sort.Strings(r.Regions)
	r.Regions = slices.Compact(r.Regions)
	sort.SliceStable(r.Tables, func(i, j int) bool {
		a, b := r.Tables[i], r.Tables[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Region < b.Region || a.Region == b.Region && a.Table < b.Table
	})
	var priced []string
	for _, t := range r.Tables {
		if t.Recommendation != nil {
			saved += t.Recommendation.MonthlySavingsUSD
		}
		priced = append(priced, t.Region)
	}
	r.MonthlySavingsUSD = Round(saved)
	if n := p.Note(priced...); n != "" {
		r.Notes = append(r.Notes, n)
	}
	r.Prices = p.Entries(r.Regions...)
	r.ReservedCapacity = reservable(r.Tables, p)
	return r
}

// WriteJSON renders the report as one JSON object.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText renders the report for people: one line a table, then the total; over several
// accounts, grouped by account.
func (r Report) WriteText(w io.Writer) error {
	if r.run != nil && r.run.fleet.Many() {
		return r.writeFleet(w)
	}
	var b strings.Builder
	r.writeAccount(&b)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	writePrices(&b, r.Prices)
	_, err := io.WriteString(w, b.String())
	return err
}

// writePrices names, per region and class, the prices used, their source and date.
func writePrices(b *strings.Builder, prices []Prices) {
	for _, p := range prices {
		fmt.Fprintln(b, p.Line())
	}
}

// priceLines are writePrices' lines as one text.
func priceLines(prices []Prices) string {
	var b strings.Builder
	writePrices(&b, prices)
	return strings.TrimSuffix(b.String(), "\n")
}

// writeAccount renders the tables of one account, their total, backups and problems.
func (r Report) writeAccount(b *strings.Builder) {
	where := strings.Join(r.Regions, ", ")
	if len(r.Regions) > 3 {
		where = fmt.Sprintf("%d regions", len(r.Regions))
	}
	if r.Load != "" {
		fmt.Fprintf(b, "Cost of the load in %s (a what-if: no AWS call), at %s prices, in US$ a month\n", r.Load, where)
	} else {
		fmt.Fprintf(b, "Cost of wallet tables in %s, from their use in the last %s, in US$ a month\n", where, daysText(r.Days))
	}
	if len(r.Tables) == 0 {
		b.WriteString("No tables.\n")
	} else {
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		sparked := slices.ContainsFunc(r.Tables, func(t TableCost) bool { return t.Sparkline != nil })
		use := func(t TableCost) string { return "" }
		if sparked {
			fmt.Fprint(tw, "USE\t")
			use = func(t TableCost) string { return Sparkline(t.Sparkline) + "\t" }
		}
		fmt.Fprintln(tw, "TABLE\tREGION\tCAPACITY\tREAD UNITS (PEAK/S)\tWRITE UNITS (PEAK/S)\tNOW\tRIGHT-SIZED\tAUTO-SCALED\tON-DEMAND\tADVICE\tSAVES")
		for _, t := range r.Tables {
			reads, writes := "-", "-"
			if c := t.Consumed; c != nil {
				reads = fmt.Sprintf("%s (%.2f)", num(c.ReadUnits), c.ReadPeakPerS)
				writes = fmt.Sprintf("%s (%.2f)", num(c.WriteUnits), c.WritePeakPerS)
			}
			advice, saves := "none: no data", "-"
			if rec := t.Recommendation; rec != nil {
				advice, saves = string(rec.Change), fmt.Sprintf("%.2f", rec.MonthlySavingsUSD)
				if rec.Context != "" {
					advice += " (" + rec.Context + ")"
				}
				if t.Idle != nil {
					advice = "IDLE: " + advice + " or delete"
				}
			}
			now := fmt.Sprintf("%.2f", t.MonthlyCostUSD.Current)
			if t.CurrentBasis == BasisBilled {
				now += " (billed)"
			}
			fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", use(t), t.Table, dash(t.Region), tableCapacity(t), reads, writes,
				now, usd(t.MonthlyCostUSD.RightSized), usd(t.MonthlyCostUSD.AutoScaled), usd(t.MonthlyCostUSD.OnDemand), advice, saves)
		}
		tw.Flush()
	}
	fmt.Fprintf(b, "Total: %s.\n", savesText(r.MonthlySavingsUSD))
	for _, t := range r.Tables {
		for _, n := range t.Notes {
			fmt.Fprintf(b, "  %s: %s\n", t.Table, n)
		}
	}
	for _, j := range r.JanitorBackups {
		fmt.Fprintf(b, "Janitor backup %s of %s (%s, gone), %d bytes: $%.2f/month until deleted\n", j.Name, j.Table, j.Region, j.SizeBytes, j.MonthlyCostUSD)
	}
	for _, s := range r.SweepBackups {
		fmt.Fprintf(b, "Sweep backup %s of %s (%s, gone), %d bytes: $%.2f/month until deleted\n", s.Name, s.Table, s.Region, s.SizeBytes, s.MonthlyCostUSD)
	}
	writeReserved(b, r.ReservedCapacity)
	if len(r.Problems) > 0 {
		fmt.Fprintf(b, "Could not find out (%d):\n", len(r.Problems))
		for _, p := range r.Problems {
			table := p.Table
			if table == "" {
				table = "-"
			}
			fmt.Fprintf(b, "  %s %s: %s\n", p.Region, table, p.Error)
		}
	}
}

// sparks are a sparkline's levels, lowest first: the lowest is a stretch without use.
var sparks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws a series on one line, each value a character from ▁ (none: no request) to █
// (the series' busiest); a series without values is "-". A stretch with any use is at least ▂,
// so light use is told from none.
func Sparkline(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	top := 0.0
	for _, x := range v {
		top = max(top, x)
	}
	out := make([]rune, len(v))
	for i, x := range v {
		level := 0
		if x > 0 && top > 0 {
			level = max(1, min(len(sparks)-1, int(math.Ceil(x/top*float64(len(sparks)-1)-1e-9))))
		}
		out[i] = sparks[level]
	}
	return string(out)
}

// WithoutSparklines is the report without its tables' sparklines: the text report draws them
// when they are there, which only a terminal should get.
func (r Report) WithoutSparklines() Report {
	r.Tables = slices.Clone(r.Tables)
	for i := range r.Tables {
		r.Tables[i].Sparkline = nil
	}
	return r
}

// Where is what the report covers, for a title: the accounts (the caller's, an organization's,
// those named) and the regions.
func (r Report) Where() string {
	where := strings.Join(r.Regions, ", ")
	if r.run != nil {
		where = r.run.fleet.What() + " in " + where
	}
	return where
}

// CapacityText is a table's capacity as the text report writes it: on-demand, read/write
// units, an auto-scaled dimension's range.
func CapacityText(t TableCost) string { return tableCapacity(t) }

// SavesText is a total of the advice in words, as the text report writes it.
func SavesText(usd float64) string { return savesText(usd) }

// tableCapacity is a table's capacity for people: on-demand, read/write units, or an
// auto-scaled dimension's range (5-100/1 auto is reads auto scaled from 5 to 100, writes fixed
// at 1).
func tableCapacity(t TableCost) string {
	if t.Billing != wallet.BillingProvisioned {
		return "on-demand"
	}
	dim := func(now int64, r *discover.Range) string {
		if r == nil {
			return fmt.Sprint(now)
		}
		return fmt.Sprintf("%d-%d", r.Min, r.Max)
	}
	s := t.ScalableTargets
	if s == nil {
		s = &discover.Ranges{}
	}
	text := dim(t.Provisioned.Read, s.Read) + "/" + dim(t.Provisioned.Write, s.Write)
	if s.Scaled() {
		text += " auto"
	}
	return text
}

func daysText(n int) string {
	if n == 1 {
		return "day"
	}
	return fmt.Sprintf("%d days", n)
}

func usd(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.2f", *v)
}

// num writes a number of units without needless decimals.
func num(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// hoursText is a young table's life for people: minutes under two hours, else hours.
func hoursText(h float64) string {
	switch m := math.Round(h * 60); {
	case m == 1: // a table read in its first minute (the shortest life counted is one period)
		return "1 minute"
	case h < 2:
		return fmt.Sprintf("%.0f minutes", m)
	}
	return fmt.Sprintf("%.1f hours", h)
}

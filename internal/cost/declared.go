package cost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// GlobalTableType is the resource CDK's TableV2 writes: a table with replicas, each a table in its
// region that bills its own capacity and storage.
const GlobalTableType = "AWS::DynamoDB::GlobalTable"

// Declaration is a template's DynamoDB tables priced as declared, before anything is deployed:
// provisioned capacity (the table's and its global secondary indexes', in each replica of a
// global table) by the hour, and storage. A table not yet deployed stores nothing; an on-demand
// one bills its requests besides, which no template says. Against a deployed stack, each table
// keeps the storage of the live table of the same logical ID, and the change is what deploying
// the template does to the monthly bill.
type Declaration struct {
	Template string          `json:"template,omitempty"`
	Stack    string          `json:"stack,omitempty"`
	Tables   []DeclaredTable `json:"tables"`
	// Removed are live tables of the stack that the template no longer declares.
	Removed            []LiveTable `json:"removed,omitempty"`
	DeclaredMonthlyUSD float64     `json:"declared_monthly_usd"`
	DeployedMonthlyUSD *float64    `json:"deployed_monthly_usd"` // null: no stack given, or not deployed
	ChangeMonthlyUSD   float64     `json:"change_monthly_usd"`
	// LowerBound means some table's is (DeclaredTable.LowerBound): the bill is the declared
	// figure at least.
	LowerBound bool `json:"lower_bound"`
	// DeclaredMaxMonthlyUSD is the most the declared capacity can cost a month, every
	// auto-scaled capacity at its maximum: with DeclaredMonthlyUSD, the range of the bill. Null
	// when some capacity is decided at deploy, which bounds it from below only.
	DeclaredMaxMonthlyUSD *float64 `json:"declared_max_monthly_usd"`
	// ChangeMaxMonthlyUSD is the change at the declared maximum; null with it.
	ChangeMaxMonthlyUSD *float64 `json:"change_max_monthly_usd"`
	RequestsExtra       bool     `json:"requests_extra"` // some table is on demand
	// Prices are one entry per region and class: the stack's region, and each replica's.
	Prices []Prices `json:"prices"`
	Notes  []string `json:"notes,omitempty"`
	// prices are the run's, of every region (Priced), whose Region is the stack's.
	prices Prices
	// rcu and wcu are the provisioned units declared (wcu with replicated writes), maxRCU and
	// maxWCU at the top of every auto scaling range; deployedUSD is the live tables' cost
	// unrounded, so that the change is computed before rounding.
	rcu, wcu, maxRCU, maxWCU int64
	deployedUSD              *float64
}

// DeclaredTable is one table of the template.
type DeclaredTable struct {
	LogicalID string `json:"logical_id"`
	// Type is the resource's: AWS::DynamoDB::Table, or AWS::DynamoDB::GlobalTable, whose
	// capacity is its Replicas'.
	Type    string         `json:"type"`
	Table   string         `json:"table,omitempty"` // the literal TableName; empty when CloudFormation names it
	Billing wallet.Billing `json:"billing"`
	// TableClass is a table's (its replicas' are their own): absent is standard.
	TableClass wallet.TableClass `json:"table_class"`
	// Provisioned is the table's own capacity, zero on demand; a global table's is its
	// replicas' together.
	Provisioned Capacity `json:"provisioned"`
	// MaxProvisioned is that capacity at the top of its auto scaling ranges; Provisioned where
	// nothing scales.
	MaxProvisioned Capacity      `json:"max_provisioned"`
	Indexes        []DeclaredGSI `json:"indexes,omitempty"` // a table's; a global table's are its replicas'
	// Replicas are a global table's, each priced at its region's prices.
	Replicas []DeclaredReplica `json:"replicas,omitempty"`
	// StorageBytes is the live table's, when one of this logical ID is deployed; else 0.
	StorageBytes int64   `json:"storage_bytes"`
	MonthlyUSD   float64 `json:"monthly_usd"`
	// LowerBound means part of the capacity is decided at deploy (an intrinsic function: priced
	// at 0) or autoscaled (priced at its minimum): the bill is MonthlyUSD at least. Notes say which.
	LowerBound bool `json:"lower_bound"`
	// MaxMonthlyUSD is the most it can cost a month at rest, each auto-scaled capacity at its
	// maximum (MonthlyUSD when nothing scales); null when some capacity is decided at deploy.
	MaxMonthlyUSD *float64   `json:"max_monthly_usd"`
	Deployed      *LiveTable `json:"deployed"` // null: not deployed
	Notes         []string   `json:"notes,omitempty"`
	// unbounded: some capacity has no known maximum.
	unbounded bool
}

// DeclaredGSI is a global secondary index with capacity of its own.
type DeclaredGSI struct {
	Index       string   `json:"index"`
	Provisioned Capacity `json:"provisioned"`
	// MaxProvisioned is the capacity at the top of its auto scaling ranges; Provisioned where it
	// does not scale.
	MaxProvisioned Capacity `json:"max_provisioned"`
}

// DeclaredReplica is one replica of a global table: a table in its region, with its indexes.
type DeclaredReplica struct {
	// Region is empty where an intrinsic function names it (CDK writes the stack's region so
	// when the stack has none of its own); Property then says which replica it is.
	Region      string   `json:"region"`
	Property    string   `json:"property"` // Replicas[eu-west-1], or Replicas[0]
	Provisioned Capacity `json:"provisioned"`
	// MaxProvisioned is its capacity at the top of its auto scaling ranges; Provisioned where it
	// does not scale.
	MaxProvisioned Capacity `json:"max_provisioned"`
	// ReplicatedWrites means the replica's own writes bill as replicated writes (rWCU), as in
	// a global table of more than one replica.
	ReplicatedWrites bool          `json:"replicated_writes"`
	Indexes          []DeclaredGSI `json:"indexes,omitempty"`
	// TableClass is the replica's class, whose prices price it (a table's: its TableClass).
	TableClass wallet.TableClass `json:"table_class"`
	MonthlyUSD float64           `json:"monthly_usd"`
}

// LiveTable is a deployed table of the stack, at rest.
type LiveTable struct {
	LogicalID   string            `json:"logical_id"`
	Table       string            `json:"table"`
	Billing     wallet.Billing    `json:"billing"`
	Provisioned Capacity          `json:"provisioned"` // table and indexes together
	SizeBytes   int64             `json:"size_bytes"`
	MonthlyUSD  float64           `json:"monthly_usd"`
	TableClass  wallet.TableClass `json:"table_class"`
	footprint   Footprint
}

// Declare prices every AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable of a JSON template.
// It makes no call.
func Declare(body []byte, p Prices) (Declaration, error) {
	tables, err := discover.ParseCapacity(body)
	if err != nil {
		return Declaration{}, err
	}
	d := Declaration{Tables: []DeclaredTable{}, prices: p}
	regions := []string{p.Region}
	for _, c := range tables {
		t := declared(c)
		for _, r := range t.Replicas {
			if r.Region != "" {
				regions = append(regions, r.Region)
			}
		}
		d.Tables = append(d.Tables, t)
	}
	slices.Sort(regions)
	regions = slices.Compact(regions)
	if n := p.Note(regions...); n != "" {
		d.Notes = append(d.Notes, n)
	}
	d.Prices = p.Entries(regions...)
	d.total()
	return d, nil
}

// TemplateRegions are the regions a template's global tables name for their replicas: with the
// stack's own, the regions whose prices price it. A template that does not parse names none.
func TemplateRegions(body []byte) []string {
	tables, _ := discover.ParseCapacity(body)
	var regions []string
	for _, c := range tables {
		for _, r := range c.Replicas {
			if r.Region != "" && !slices.Contains(regions, r.Region) {
				regions = append(regions, r.Region)
			}
		}
	}
	return regions
}

// declared is one table's capacity as priced, and the notes that say what the figure leaves out:
// what CloudFormation decides at deploy, and what auto scaling moves above the minimum priced.
func declared(c discover.TableCapacity) DeclaredTable {
	t := DeclaredTable{LogicalID: c.LogicalID, Type: c.Type, Table: c.TableName, Billing: wallet.BillingProvisioned, TableClass: wallet.ClassStandard}
	note := func(format string, a ...any) {
		if n := fmt.Sprintf(format, a...); !slices.Contains(t.Notes, n) {
			t.Notes = append(t.Notes, n)
		}
	}
	global := c.Type == GlobalTableType
	if c.ScalingUnknown {
		note("an intrinsic function names the table of some scalable target of the template: if it is this one's, its capacity may rise above what is priced")
		t.LowerBound, t.unbounded = true, true
	}
	if c.Condition != "" {
		note("created only when condition %s is true: priced as if it is", c.Condition)
	}
	if c.OnDemand {
		t.Billing = wallet.BillingOnDemand
	}
	switch {
	case c.BillingUnknown && c.OnDemand:
		note("its billing mode is decided by CloudFormation (an intrinsic function): priced as on demand, as it declares no capacity")
	case c.BillingUnknown:
		note("its billing mode is decided by CloudFormation (an intrinsic function): priced as provisioned, as it declares capacity")
	}
	replicated := slices.Contains(c.Unknown, "Replicas") || slices.ContainsFunc(c.Replicas, func(r discover.ReplicaCapacity) bool { return r.ReplicatedWrites })
	if c.OnDemand {
		if global && replicated {
			note("on demand: storage only here; its requests are extra, in each replica (every write is replicated to each, at the region's write request price), and so is the cross-Region data transfer of replication")
		} else {
			note("on demand: storage only here; its requests are extra")
		}
	} else {
		for _, u := range c.Unknown {
			note("%s is decided by CloudFormation (an intrinsic function): its capacity is not priced", u)
			t.LowerBound, t.unbounded = true, true
		}
		if global && replicated {
			note("each replica's own writes are replicated writes (rWCU), priced as a WCU of its region; replication also bills cross-Region data transfer per GB, which no template says")
		}
	}
	// units is one capacity at its least and at its most.
	units := func(u discover.Units, each string) (least, most int64) {
		switch {
		case c.OnDemand:
			return 0, 0
		case u.Unknown:
			note("%s is decided by CloudFormation (an intrinsic function): not priced", u.Property)
			t.LowerBound, t.unbounded = true, true
		case u.Autoscaled && u.Max == 0:
			note("%s: autoscaled from %d to a maximum CloudFormation decides%s: priced at its minimum, %d", u.Property, u.N, each, u.N)
			t.LowerBound, t.unbounded = true, true
		case u.Autoscaled:
			note("%s: autoscaled from %d to %d units%s: priced from its minimum to its maximum", u.Property, u.N, u.Max, each)
			t.LowerBound = true
			return u.N, u.Max
		}
		return u.N, u.N
	}
	pair := func(read, write discover.Units, each string) (least, most Capacity) {
		least.Read, most.Read = units(read, "")
		least.Write, most.Write = units(write, each)
		return least, most
	}
	each := ""
	if global {
		each = " in each replica"
	}
	for _, r := range c.Replicas {
		dr := DeclaredReplica{Region: r.Region, Property: r.Property, ReplicatedWrites: r.ReplicatedWrites && !c.OnDemand, TableClass: r.Class}
		dr.Provisioned, dr.MaxProvisioned = pair(r.Read, r.Write, each)
		if r.ClassUnknown {
			note("%s's TableClass is decided by CloudFormation (an intrinsic function): priced as STANDARD", dash(r.Property))
		}
		for _, g := range r.Indexes {
			dg := DeclaredGSI{Index: g.Name}
			dg.Provisioned, dg.MaxProvisioned = pair(g.Read, g.Write, each)
			if !c.OnDemand {
				dr.Indexes = append(dr.Indexes, dg)
			}
		}
		t.Provisioned.Read += dr.Provisioned.Read
		t.Provisioned.Write += dr.Provisioned.Write
		t.MaxProvisioned.Read += dr.MaxProvisioned.Read
		t.MaxProvisioned.Write += dr.MaxProvisioned.Write
		if global {
			t.Replicas = append(t.Replicas, dr)
		} else {
			t.Indexes, t.TableClass = dr.Indexes, dr.TableClass
		}
	}
	return t
}

// replicas are the copies of the table that bill: a table is one, in the stack's region.
func (t DeclaredTable) replicas() []DeclaredReplica {
	if t.Type == GlobalTableType {
		return t.Replicas
	}
	return []DeclaredReplica{{Provisioned: t.Provisioned, MaxProvisioned: t.MaxProvisioned, Indexes: t.Indexes, TableClass: t.TableClass}}
}

// footprint is one replica at rest: its capacity and its indexes' (at the top of their auto
// scaling ranges when most), and the table's storage, of which each replica keeps a whole copy.
func (r DeclaredReplica) footprint(b wallet.Billing, storage int64, most bool) Footprint {
	f := Footprint{Billing: b, SizeBytes: storage}
	if b != wallet.BillingProvisioned {
		return f
	}
	of := func(least, top Capacity) Capacity {
		if most {
			return top
		}
		return least
	}
	c := of(r.Provisioned, r.MaxProvisioned)
	f.RCU = c.Read
	if r.ReplicatedWrites {
		f.RWCU = c.Write
	} else {
		f.WCU = c.Write
	}
	for _, g := range r.Indexes {
		gc := of(g.Provisioned, g.MaxProvisioned)
		f.RCU += gc.Read
		f.WCU += gc.Write
	}
	return f
}

// price sets the table's monthly cost, each replica's at its region's prices, and its most
// (nil when unbounded), and returns them unrounded with the units provisioned (writes with
// replicated writes), at the least and at the most.
func (t *DeclaredTable) price(p Prices) (least, most priced) {
	for i, r := range t.replicas() {
		f, top := r.footprint(t.Billing, t.StorageBytes, false), r.footprint(t.Billing, t.StorageBytes, true)
		region := r.Region
		if region == "" { // a table, or a replica an intrinsic function places: the stack's region
			region = p.Region
		}
		rp := p.For(region, r.TableClass)
		m := Monthly(f, rp).Total
		if t.Type == GlobalTableType {
			t.Replicas[i].MonthlyUSD = Round(m)
		}
		least.add(m, f)
		most.add(Monthly(top, rp).Total, top)
	}
	t.MonthlyUSD, t.MaxMonthlyUSD = Round(least.usd), nil
	if !t.unbounded {
		t.MaxMonthlyUSD = ptr(Round(most.usd))
	}
	return least, most
}

// priced is a cost unrounded and the units it provisions (writes with replicated writes).
type priced struct {
	usd      float64
	rcu, wcu int64
}

func (p *priced) add(usd float64, f Footprint) {
	p.usd += usd
	p.rcu += f.RCU
	p.wcu += f.WCU + f.RWCU
}

// total prices every table and sums the declaration, and the change against what is deployed.
func (d *Declaration) total() {
	var declaredUSD, maxUSD float64
	d.rcu, d.wcu, d.maxRCU, d.maxWCU, d.RequestsExtra, d.LowerBound = 0, 0, 0, 0, false, false
	bounded := true
	for i := range d.Tables {
		t := &d.Tables[i]
		least, most := t.price(d.prices)
		declaredUSD += least.usd
		maxUSD += most.usd
		d.rcu += least.rcu
		d.wcu += least.wcu
		d.maxRCU += most.rcu
		d.maxWCU += most.wcu
		d.RequestsExtra = d.RequestsExtra || t.Billing == wallet.BillingOnDemand
		d.LowerBound = d.LowerBound || t.LowerBound
		bounded = bounded && !t.unbounded
	}
	d.DeclaredMonthlyUSD, d.ChangeMonthlyUSD, d.DeployedMonthlyUSD = Round(declaredUSD), Round(declaredUSD), nil
	d.DeclaredMaxMonthlyUSD, d.ChangeMaxMonthlyUSD = nil, nil
	if bounded {
		d.DeclaredMaxMonthlyUSD, d.ChangeMaxMonthlyUSD = ptr(Round(maxUSD)), ptr(Round(maxUSD))
	}
	if d.deployedUSD != nil {
		d.DeployedMonthlyUSD = ptr(Round(*d.deployedUSD))
		d.ChangeMonthlyUSD = Round(declaredUSD - *d.deployedUSD)
		if bounded {
			d.ChangeMaxMonthlyUSD = ptr(Round(maxUSD - *d.deployedUSD))
		}
	}
}

// Deployed reads a stack's live tables at rest; deployed is false (and no error) when the
// stack does not exist.
func Deployed(ctx context.Context, cfn discover.CloudFormation, db discover.TableDescriber, stack string, p Prices) (tables []LiveTable, deployed bool, err error) {
	s, err := discover.Describe(ctx, cfn, stack)
	if err != nil {
		if errors.Is(err, discover.ErrStackNotFound) {
			return nil, false, nil
		}
		return nil, false, err
	}
	for _, r := range s.Tables {
		desc, err := discover.DescribeTable(ctx, db, r.Name)
		if err != nil {
			return nil, true, err
		}
		if desc == nil { // listed by the stack, gone from DynamoDB: it bills nothing
			continue
		}
		f := FromDescription(desc)
		class := wallet.ClassOf(desc)
		tables = append(tables, LiveTable{
			LogicalID: r.LogicalID, Table: r.Name, Billing: f.Billing,
			Provisioned: Capacity{Read: f.RCU, Write: f.WCU}, SizeBytes: f.SizeBytes, TableClass: class,
			MonthlyUSD: Round(Monthly(f, p.For(p.Region, class)).Total), footprint: f,
		})
	}
	return tables, true, nil
}

// Against sets what the stack runs today: each declared table keeps its live twin's storage
// (an update keeps the items), live tables the template drops are listed as removed, and the
// change is declared minus deployed. A deployed global table is not read (Deployed lists the
// stack's AWS::DynamoDB::Table resources): the change counts one whole, and its note says so.
func (d Declaration) Against(stack string, live []LiveTable, deployed bool) Declaration {
	d.Stack = stack
	if !deployed {
		d.total()
		return d
	}
	byID := map[string]LiveTable{}
	var deployedUSD float64
	for _, l := range live {
		byID[l.LogicalID] = l
		deployedUSD += Monthly(l.footprint, d.prices.For(d.prices.Region, l.TableClass)).Total
	}
	d.Tables = slices.Clone(d.Tables)
	declaredIDs := map[string]bool{}
	for i := range d.Tables {
		t := &d.Tables[i]
		declaredIDs[t.LogicalID] = true
		if l, ok := byID[t.LogicalID]; ok {
			t.Deployed = &l
			t.StorageBytes = l.SizeBytes
		}
		if t.Type == GlobalTableType {
			t.Replicas = slices.Clone(t.Replicas)
			t.Notes = append(slices.Clip(t.Notes), "a deployed global table is not read: if stack "+stack+" has it, the change counts it whole, and its storage is left out")
		}
	}
	d.Removed = nil
	for _, l := range live {
		if !declaredIDs[l.LogicalID] {
			d.Removed = append(d.Removed, l)
		}
	}
	d.deployedUSD = &deployedUSD
	d.total()
	return d
}

// amount is a declared figure as text: "$0.57/month"; "$0.57 to $5.69/month" when auto scaling
// bounds it from both sides (most, the figure at every range's maximum); "at least
// $0.57/month" when some capacity is decided at deploy (most is nil).
func (d Declaration) amount(format string, usd float64, most *float64) string {
	switch {
	case d.ranged(usd, most):
		return strings.Replace(fmt.Sprintf(format, usd), "/month", "", 1) + " to " + fmt.Sprintf(format, *most)
	case d.LowerBound && most == nil:
		return "at least " + fmt.Sprintf(format, usd)
	}
	return fmt.Sprintf(format, usd)
}

// ranged reports whether a figure is a range: auto scaling moves it, and nothing is unknown.
func (d Declaration) ranged(usd float64, most *float64) bool {
	return d.LowerBound && most != nil && *most != usd
}

// Summary is the declaration in one line, as `cdk synth` prints it for a stack, e.g.
// "Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month".
func (d Declaration) Summary(stack string) string {
	n := len(d.Tables)
	if n == 0 {
		return fmt.Sprintf("%s: no DynamoDB tables: $0.00/month", stack)
	}
	tables := "1 table"
	if n > 1 {
		tables = fmt.Sprintf("%d tables", n)
	}
	var parts []string
	onDemand, global, replicas := 0, 0, 0
	for _, t := range d.Tables {
		if t.Billing == wallet.BillingOnDemand {
			onDemand++
		}
		if t.Type == GlobalTableType {
			global++
			replicas += len(t.Replicas)
		}
	}
	if global > 0 {
		tables += fmt.Sprintf(" (%d global, of %d replicas)", global, replicas)
	}
	if onDemand < n {
		p := fmt.Sprintf("%d RCU / %d WCU provisioned", d.rcu, d.wcu)
		if d.DeclaredMaxMonthlyUSD != nil && (d.maxRCU != d.rcu || d.maxWCU != d.wcu) {
			p += fmt.Sprintf(", auto scaled up to %d RCU / %d WCU", d.maxRCU, d.maxWCU)
		}
		parts = append(parts, p)
	}
	if onDemand > 0 {
		parts = append(parts, fmt.Sprintf("%d on-demand", onDemand))
	}
	line := fmt.Sprintf("%s: %s, %s: %s", stack, tables, strings.Join(parts, ", "), d.amount("$%.2f/month", d.DeclaredMonthlyUSD, d.DeclaredMaxMonthlyUSD))
	if d.RequestsExtra {
		line += " + on-demand requests"
	}
	if d.LowerBound && d.DeclaredMaxMonthlyUSD == nil {
		line += " (some capacity autoscaled, at its minimum, or decided at deploy: verify cost --template says which)"
	}
	return line
}

// WriteText renders the declaration for people: one line a table (and one a replica of a global
// table), then the totals.
func (d Declaration) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Declared cost of the DynamoDB tables in %s, in US$ a month at rest\n", dash(d.Template))
	if len(d.Tables) == 0 {
		b.WriteString("No tables declared.\n")
	} else {
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGICAL ID\tTABLE\tCAPACITY\tDECLARED\tDEPLOYED\tCHANGE")
		for _, t := range d.Tables {
			deployed, change := "-", fmt.Sprintf("%+.4f", t.MonthlyUSD)
			if t.Deployed != nil {
				deployed = fmt.Sprintf("%.4f (%s)", t.Deployed.MonthlyUSD, capacityText(t.Deployed.Billing, t.Deployed.Provisioned))
				change = fmt.Sprintf("%+.4f", t.MonthlyUSD-t.Deployed.MonthlyUSD)
			}
			if d.Stack == "" {
				change = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%s\t%s\n", t.LogicalID, dash(t.Table), capacityText(t.Billing, t.capacity()), t.MonthlyUSD, deployed, change)
			for _, r := range t.Replicas {
				where := r.Region
				if where == "" {
					where = r.Property
				}
				fmt.Fprintf(tw, "  replica %s\t\t%s\t%.4f\t\t\n", where, capacityText(t.Billing, r.capacity()), r.MonthlyUSD)
			}
		}
		tw.Flush()
	}
	for _, l := range d.Removed {
		fmt.Fprintf(&b, "Removed by the template: %s (%s), $%.4f/month now\n", l.LogicalID, l.Table, l.MonthlyUSD)
	}
	fmt.Fprintf(&b, "Declared: %s", d.amount("$%.4f/month", d.DeclaredMonthlyUSD, d.DeclaredMaxMonthlyUSD))
	if d.RequestsExtra {
		b.WriteString(" + on-demand requests")
	}
	switch {
	case d.ranged(d.DeclaredMonthlyUSD, d.DeclaredMaxMonthlyUSD):
		b.WriteString(" (some capacity is auto scaled: from every range's minimum to its maximum, see the notes)")
	case d.LowerBound && d.DeclaredMaxMonthlyUSD == nil:
		b.WriteString(" (some capacity is autoscaled, priced at its minimum, or decided by CloudFormation at deploy, not priced: see the notes)")
	}
	b.WriteString(".\n")
	if d.Stack != "" {
		if d.DeployedMonthlyUSD != nil {
			fmt.Fprintf(&b, "Deployed (stack %s): $%.4f/month. Deploying the template changes the bill by %s US$/month.\n", d.Stack, *d.DeployedMonthlyUSD, d.change())
		} else {
			fmt.Fprintf(&b, "Stack %s is not deployed: deploying the template adds %s.\n", d.Stack, d.amount("$%.4f/month", d.ChangeMonthlyUSD, d.ChangeMaxMonthlyUSD))
		}
	}
	for _, t := range d.Tables {
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  %s: %s\n", t.LogicalID, n)
		}
	}
	if d.RequestsExtra {
		fmt.Fprintf(&b, "Note: on-demand requests are extra: $%g per million reads, $%g per million writes (%s).\n", d.prices.RRUMillion, d.prices.WRUMillion, dash(d.prices.Region))
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	writePrices(&b, d.Prices)
	_, err := io.WriteString(w, b.String())
	return err
}

// change is the change to the bill as text: +0.5694, +0.5694 to +5.6940, at least +0.5694.
func (d Declaration) change() string {
	switch {
	case d.ranged(d.ChangeMonthlyUSD, d.ChangeMaxMonthlyUSD):
		return fmt.Sprintf("%+.4f to %+.4f", d.ChangeMonthlyUSD, *d.ChangeMaxMonthlyUSD)
	case d.LowerBound && d.ChangeMaxMonthlyUSD == nil:
		return fmt.Sprintf("at least %+.4f", d.ChangeMonthlyUSD)
	}
	return fmt.Sprintf("%+.4f", d.ChangeMonthlyUSD)
}

// capacity is the table's provisioned units with its indexes', in every replica.
func (t DeclaredTable) capacity() Capacity {
	var c Capacity
	for _, r := range t.replicas() {
		rc := r.capacity()
		c.Read += rc.Read
		c.Write += rc.Write
	}
	return c
}

// capacity is the replica's provisioned units with its indexes'.
func (r DeclaredReplica) capacity() Capacity {
	c := r.Provisioned
	for _, g := range r.Indexes {
		c.Read += g.Provisioned.Read
		c.Write += g.Provisioned.Write
	}
	return c
}

func capacityText(b wallet.Billing, c Capacity) string {
	if b == wallet.BillingOnDemand {
		return "on-demand"
	}
	return fmt.Sprintf("%d/%d", c.Read, c.Write)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

package cost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Declaration is a template's DynamoDB tables priced as declared, before anything is deployed:
// provisioned capacity (the table's and its global secondary indexes') by the hour, and storage.
// A table not yet deployed stores nothing; an on-demand one bills its requests besides, which
// no template says. Against a deployed stack, each table keeps the storage of the live table of
// the same logical ID, and the change is what deploying the template does to the monthly bill.
type Declaration struct {
	Template string          `json:"template,omitempty"`
	Stack    string          `json:"stack,omitempty"`
	Tables   []DeclaredTable `json:"tables"`
	// Removed are live tables of the stack that the template no longer declares.
	Removed            []LiveTable `json:"removed,omitempty"`
	DeclaredMonthlyUSD float64     `json:"declared_monthly_usd"`
	DeployedMonthlyUSD *float64    `json:"deployed_monthly_usd"` // null: no stack given, or not deployed
	ChangeMonthlyUSD   float64     `json:"change_monthly_usd"`
	RequestsExtra      bool        `json:"requests_extra"` // some table is on demand
	Prices             Prices      `json:"prices"`
	Notes              []string    `json:"notes,omitempty"`
	// rcu and wcu are the provisioned units declared; deployedUSD is the live tables' cost
	// unrounded, so that the change is computed before rounding.
	rcu, wcu    int64
	deployedUSD *float64
}

// DeclaredTable is one table of the template.
type DeclaredTable struct {
	LogicalID   string         `json:"logical_id"`
	Table       string         `json:"table,omitempty"` // the literal TableName; empty when CloudFormation names it
	Billing     wallet.Billing `json:"billing"`
	Provisioned Capacity       `json:"provisioned"` // the table's own; zero on demand
	Indexes     []DeclaredGSI  `json:"indexes,omitempty"`
	// StorageBytes is the live table's, when one of this logical ID is deployed; else 0.
	StorageBytes int64      `json:"storage_bytes"`
	MonthlyUSD   float64    `json:"monthly_usd"`
	Deployed     *LiveTable `json:"deployed"` // null: not deployed
	Notes        []string   `json:"notes,omitempty"`
}

// DeclaredGSI is a global secondary index with capacity of its own.
type DeclaredGSI struct {
	Index       string   `json:"index"`
	Provisioned Capacity `json:"provisioned"`
}

// LiveTable is a deployed table of the stack, at rest.
type LiveTable struct {
	LogicalID   string         `json:"logical_id"`
	Table       string         `json:"table"`
	Billing     wallet.Billing `json:"billing"`
	Provisioned Capacity       `json:"provisioned"` // table and indexes together
	SizeBytes   int64          `json:"size_bytes"`
	MonthlyUSD  float64        `json:"monthly_usd"`
	footprint   Footprint
}

// Declare prices every AWS::DynamoDB::Table of a JSON template. It makes no call.
func Declare(body []byte, p Prices) (Declaration, error) {
	specs, err := discover.ParseTables(body)
	if err != nil {
		return Declaration{}, err
	}
	indexes, err := declaredIndexes(body)
	if err != nil {
		return Declaration{}, err
	}
	d := Declaration{Tables: []DeclaredTable{}, Prices: p}
	for _, s := range specs {
		t, err := declared(s, indexes[s.LogicalID])
		if err != nil {
			return Declaration{}, fmt.Errorf("resource %s: %w", s.LogicalID, err)
		}
		d.Tables = append(d.Tables, t)
	}
	d.total()
	return d, nil
}

// declared reads one table's billing and capacity from its spec; capacity CloudFormation
// decides (an intrinsic function) cannot be priced, and is said to be missing.
func declared(s discover.TableSpec, gsis []DeclaredGSI) (DeclaredTable, error) {
	t := DeclaredTable{LogicalID: s.LogicalID, Table: s.TableName, Billing: wallet.BillingProvisioned}
	switch mode := s.Fields[discover.FieldBillingMode]; {
	case s.Skipped(discover.FieldBillingMode):
		t.Notes = append(t.Notes, "its billing mode is decided by CloudFormation (an intrinsic function): priced as provisioned")
	case mode == string(dtypes.BillingModePayPerRequest):
		t.Billing = wallet.BillingOnDemand
		t.Notes = append(t.Notes, "on demand: storage only here; its requests are extra")
		return t, nil
	}
	units := func(field string) (int64, error) {
		v, ok := s.Fields[field]
		if s.Skipped(field) {
			t.Notes = append(t.Notes, field+" is decided by CloudFormation (an intrinsic function): not priced")
			return 0, nil
		}
		if !ok || v == "" {
			return 0, fmt.Errorf("provisioned, but %s is not declared", field)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s %q: want a whole number of units", field, v)
		}
		return n, nil
	}
	var err error
	if t.Provisioned.Read, err = units(discover.FieldReadCapacity); err != nil {
		return t, err
	}
	if t.Provisioned.Write, err = units(discover.FieldWriteCapacity); err != nil {
		return t, err
	}
	t.Indexes = gsis
	return t, nil
}

// declaredIndexes reads each table resource's global secondary indexes and their capacity,
// which discover's spec (a table's own configuration) leaves out. A capacity that is not a
// literal number is left at zero: only CloudFormation can evaluate it.
func declaredIndexes(body []byte) (map[string][]DeclaredGSI, error) {
	var tpl struct {
		Resources map[string]struct {
			Type       string `json:"Type"`
			Properties struct {
				GlobalSecondaryIndexes json.RawMessage `json:"GlobalSecondaryIndexes"`
			} `json:"Properties"`
		} `json:"Resources"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&tpl); err != nil {
		return nil, fmt.Errorf("template is not JSON (CDK writes JSON; YAML is not supported): %w", err)
	}
	out := map[string][]DeclaredGSI{}
	for id, r := range tpl.Resources {
		if r.Type != "AWS::DynamoDB::Table" || len(r.Properties.GlobalSecondaryIndexes) == 0 {
			continue
		}
		var gsis []struct {
			IndexName             any `json:"IndexName"`
			ProvisionedThroughput struct {
				ReadCapacityUnits  any `json:"ReadCapacityUnits"`
				WriteCapacityUnits any `json:"WriteCapacityUnits"`
			} `json:"ProvisionedThroughput"`
		}
		if err := json.Unmarshal(r.Properties.GlobalSecondaryIndexes, &gsis); err != nil {
			continue // an intrinsic function in place of the list: nothing literal to price
		}
		for _, g := range gsis {
			name, _ := g.IndexName.(string)
			out[id] = append(out[id], DeclaredGSI{Index: name, Provisioned: Capacity{
				Read: literalUnits(g.ProvisionedThroughput.ReadCapacityUnits), Write: literalUnits(g.ProvisionedThroughput.WriteCapacityUnits)}})
		}
	}
	return out, nil
}

// literalUnits reads 5 or "5"; anything else (an intrinsic function, nothing) is 0.
func literalUnits(v any) int64 {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		s = fmt.Sprint(x)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// footprint is the declared table at rest: its capacity and indexes', and the storage it keeps.
func (t DeclaredTable) footprint() Footprint {
	f := Footprint{Billing: t.Billing, SizeBytes: t.StorageBytes}
	if t.Billing == wallet.BillingProvisioned {
		f.RCU, f.WCU = t.Provisioned.Read, t.Provisioned.Write
		for _, g := range t.Indexes {
			f.RCU += g.Provisioned.Read
			f.WCU += g.Provisioned.Write
		}
	}
	return f
}

// total prices every table and sums the declaration, and the change against what is deployed.
func (d *Declaration) total() {
	var declaredUSD float64
	d.rcu, d.wcu, d.RequestsExtra = 0, 0, false
	for i := range d.Tables {
		t := &d.Tables[i]
		f := t.footprint()
		t.MonthlyUSD = Round(Monthly(f, d.Prices).Total)
		declaredUSD += Monthly(f, d.Prices).Total
		d.rcu += f.RCU
		d.wcu += f.WCU
		if t.Billing == wallet.BillingOnDemand {
			d.RequestsExtra = true
		}
	}
	d.DeclaredMonthlyUSD, d.ChangeMonthlyUSD, d.DeployedMonthlyUSD = Round(declaredUSD), Round(declaredUSD), nil
	if d.deployedUSD != nil {
		d.DeployedMonthlyUSD = ptr(Round(*d.deployedUSD))
		d.ChangeMonthlyUSD = Round(declaredUSD - *d.deployedUSD)
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
		tables = append(tables, LiveTable{
			LogicalID: r.LogicalID, Table: r.Name, Billing: f.Billing,
			Provisioned: Capacity{Read: f.RCU, Write: f.WCU}, SizeBytes: f.SizeBytes,
			MonthlyUSD: Round(Monthly(f, p).Total), footprint: f,
		})
	}
	return tables, true, nil
}

// Against sets what the stack runs today: each declared table keeps its live twin's storage
// (an update keeps the items), live tables the template drops are listed as removed, and the
// change is declared minus deployed.
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
		deployedUSD += Monthly(l.footprint, d.Prices).Total
	}
	d.Tables = append([]DeclaredTable(nil), d.Tables...)
	declaredIDs := map[string]bool{}
	for i := range d.Tables {
		t := &d.Tables[i]
		declaredIDs[t.LogicalID] = true
		if l, ok := byID[t.LogicalID]; ok {
			t.Deployed = &l
			t.StorageBytes = l.SizeBytes
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
	onDemand := 0
	for _, t := range d.Tables {
		if t.Billing == wallet.BillingOnDemand {
			onDemand++
		}
	}
	if onDemand < n {
		parts = append(parts, fmt.Sprintf("%d RCU / %d WCU provisioned", d.rcu, d.wcu))
	}
	if onDemand > 0 {
		parts = append(parts, fmt.Sprintf("%d on-demand", onDemand))
	}
	line := fmt.Sprintf("%s: %s, %s: $%.2f/month", stack, tables, strings.Join(parts, ", "), d.DeclaredMonthlyUSD)
	if d.RequestsExtra {
		line += " + on-demand requests"
	}
	return line
}

// WriteText renders the declaration for people: one line a table, then the totals.
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
			f := t.footprint()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%s\t%s\n", t.LogicalID, dash(t.Table), capacityText(t.Billing, Capacity{Read: f.RCU, Write: f.WCU}), t.MonthlyUSD, deployed, change)
		}
		tw.Flush()
	}
	for _, l := range d.Removed {
		fmt.Fprintf(&b, "Removed by the template: %s (%s), $%.4f/month now\n", l.LogicalID, l.Table, l.MonthlyUSD)
	}
	fmt.Fprintf(&b, "Declared: $%.4f/month", d.DeclaredMonthlyUSD)
	if d.RequestsExtra {
		b.WriteString(" + on-demand requests")
	}
	b.WriteString(".\n")
	if d.Stack != "" {
		if d.DeployedMonthlyUSD != nil {
			fmt.Fprintf(&b, "Deployed (stack %s): $%.4f/month. Deploying the template changes the bill by %+.4f US$/month.\n", d.Stack, *d.DeployedMonthlyUSD, d.ChangeMonthlyUSD)
		} else {
			fmt.Fprintf(&b, "Stack %s is not deployed: deploying the template adds $%.4f/month.\n", d.Stack, d.ChangeMonthlyUSD)
		}
	}
	for _, t := range d.Tables {
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "  %s: %s\n", t.LogicalID, n)
		}
	}
	if d.RequestsExtra {
		fmt.Fprintf(&b, "Note: on-demand requests are extra: $%g per million reads, $%g per million writes.\n", d.Prices.RRUMillion, d.Prices.WRUMillion)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	fmt.Fprintln(&b, d.Prices.Line())
	_, err := io.WriteString(w, b.String())
	return err
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

package cost

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// LoadOptions are a what-if: a load from a file, on a table as the caller says it is.
type LoadOptions struct {
	// File is where the load was read, as given: the report's table and load.
	File string
	// Capacity is the table as it is: provisioned, fixed.
	Capacity Capacity
	// AutoScale prices these policies as the auto-scaled option instead of searching.
	AutoScale Given
	// Region is whose prices apply (Prices.In); empty: the prices' own.
	Region string
	// Draw keeps what a picture of the load needs: its chart, its sparkline.
	Draw Draw
}

// ReviewLoad prices and advises a load read from a file, calling nothing: the one cost report,
// with one table (the file) and no fleet (no account, region or table was read: accounts is
// empty and load names the file).
func ReviewLoad(l usage.Load, o LoadOptions, p Prices) Report {
	region := o.Region
	if region == "" {
		region = p.Region
	}
	p = p.In(region)
	f := Footprint{Billing: wallet.BillingProvisioned, RCU: o.Capacity.Read, WCU: o.Capacity.Write}
	m := l.Minutes
	load := Load{Provisioned: o.Capacity, Consumed: m.Consumed, Minutes: &m, AutoScale: o.AutoScale}
	w := l.Window()
	hours := w.Hours()
	t := TableCost{
		Table: o.File, Region: region, Billing: f.Billing, TableClass: wallet.ClassStandard, // as priced: p.In
		Use:            Use{Provisioned: o.Capacity},
		MonthlyCostUSD: Costs{Current: Round(Monthly(f, p).Total)},
		CurrentBasis:   BasisInstant,
		Window:         &Window{Start: w.Start, End: w.End, Hours: Round(hours)},
		Notes: []string{fmt.Sprintf("what-if: the %s load of %s (%s), on a table of %d/%d provisioned (--capacity), with no AWS call; what it stores is not priced (a load says nothing of it)",
			l.Format, o.File, minutesText(len(m.Read)), o.Capacity.Read, o.Capacity.Write)},
	}
	a := Advise(Usage{Footprint: f, Loads: []Load{load}, Hours: hours, Start: w.Start}, p)
	advised(&t, []Load{load}, a)
	d := newDrawing(o.Draw)
	d.table(&t, []Load{load}, a, w.Start)
	// Reserved capacity on the capacity given: a what-if has no history but its own.
	t.held = heldCapacity{rcu: o.Capacity.Read, wcu: o.Capacity.Write, counted: true, note: o.File + ": its --capacity is taken as held through the window"}
	days := (len(m.Read) + 24*60 - 1) / (24 * 60)
	r := NewReport([]RegionReview{{Region: region, Tables: []TableCost{t}}}, days, p)
	r.Load = o.File
	r.Charts = d.kept()
	r.Notes = append(r.Notes, "offline: the load file is the only input; no account, region or table was read (accounts is empty)")
	return r
}

// capacityPair is R/W: two whole numbers of units.
var capacityPair = regexp.MustCompile(`^(\d+)/(\d+)$`)

// ParseCapacityPair reads --capacity R/W: read and write units, each as the stack's contract
// takes a capacity (1 to 40000).
func ParseCapacityPair(v string) (Capacity, error) {
	m := capacityPair.FindStringSubmatch(v)
	if m == nil {
		return Capacity{}, fmt.Errorf("want READ/WRITE provisioned units, such as 5/5, each a whole number from %d to %d", wallet.MinCapacity, wallet.MaxCapacity)
	}
	r, rerr := contract.ParseCapacity(m[1])
	w, werr := contract.ParseCapacity(m[2])
	if rerr != nil || werr != nil {
		return Capacity{}, fmt.Errorf("want READ/WRITE provisioned units, each a whole number from %d to %d", wallet.MinCapacity, wallet.MaxCapacity)
	}
	return Capacity{Read: int64(r), Write: int64(w)}, nil
}

// ParsePolicy reads --autoscale MIN:MAX:TARGET: capacity from MIN to MAX units (1 to 40000,
// MAX not below MIN) tracking TARGET percent (a whole number from 20 to 90).
func ParsePolicy(v string) (autoscaling.Policy, error) {
	want := fmt.Errorf("want MIN:MAX:TARGET, such as 5:100:70: units from %d to %d (MAX not below MIN) and a target of %d to %d percent, whole numbers",
		wallet.MinCapacity, wallet.MaxCapacity, autoscaling.MinTarget, autoscaling.MaxTarget)
	parts := strings.Split(v, ":")
	if len(parts) != 3 {
		return autoscaling.Policy{}, want
	}
	var n [3]int64
	for i, s := range parts {
		if s == "" || strings.Trim(s, "0123456789") != "" || len(s) > 6 {
			return autoscaling.Policy{}, want
		}
		n[i], _ = strconv.ParseInt(s, 10, 64)
	}
	p := autoscaling.Policy{Min: n[0], Max: n[1], Target: int(n[2])}
	if err := p.Valid(wallet.MinCapacity, wallet.MaxCapacity); err != nil {
		return autoscaling.Policy{}, fmt.Errorf("%v: %w", err, want)
	}
	return p, nil
}

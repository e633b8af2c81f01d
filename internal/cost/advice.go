package cost

import (
	"fmt"
	"math"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TargetUtilization is DynamoDB auto scaling's default target: capacity is right-sized when the
// busiest minute uses 70 % of it, which leaves room for the seconds inside that minute.
const TargetUtilization = 0.70

// Capacity is provisioned read and write capacity units.
type Capacity struct {
	Read  int64 `json:"read"`
	Write int64 `json:"write"`
}

// Load is what the table, or one of its global secondary indexes (which have capacity of their
// own and are billed alike), was given and used.
type Load struct {
	Index       string   // empty: the table itself
	Provisioned Capacity // zero when the table is on demand
	Consumed    usage.Consumed
}

// Usage is a table and what it used: the input of Advise.
type Usage struct {
	// Footprint is the table at rest: billing, storage, backups. Its RCU and WCU are the
	// Loads' provisioned capacity together, as FromDescription reads them.
	Footprint Footprint
	// Loads are the table first, then its global secondary indexes.
	Loads []Load
	// Hours is the window the consumption was read over; a month is HoursPerMonth.
	Hours float64
}

// Change is what the advice says to change about how a table is billed (Keep: nothing). It is
// not the sweep's Action, which is what was done to a table. Its two switches of billing mode are
// spelled as the billing modes themselves, as the wallet stack's context takes them.
type Change string

const (
	Keep Change = "keep"
	// Lower and Raise change provisioned capacity to what the busiest minute needs.
	Lower Change = "lower"
	Raise Change = "raise"
	// ToOnDemand switches a provisioned table to on-demand billing.
	ToOnDemand = Change(wallet.BillingOnDemand)
	// ToProvisioned switches an on-demand table to right-sized provisioned capacity.
	ToProvisioned = Change(wallet.BillingProvisioned)
)

// Advice is a table's monthly cost three ways, and the cheapest way that serves its load.
type Advice struct {
	// Current is the table as it is: provisioned capacity, or its requests on demand.
	Current float64
	// RightSized is provisioned capacity at RightSizedCapacity.
	RightSized float64
	// OnDemand is its requests at on-demand prices.
	OnDemand float64
	// RightSizedCapacity is, for each Load in order, max(1, ⌈peak / TargetUtilization⌉) per
	// dimension, within DynamoDB's default quota.
	RightSizedCapacity []Capacity
	// Throttled: some load's busiest minute used more than its provisioned capacity, so the
	// table as it is does not serve its load and is never the advice.
	Throttled bool
	Change    Change
	// Context is the -c values to redeploy the wallet stack with (empty for keep): the table
	// stays declared as code, nothing is changed behind CloudFormation's back.
	Context string
	// Savings is Current minus the advised cost: negative when serving the load costs more.
	Savings float64
	// Notes say what the context values cannot: an index's capacity, a capped value.
	Notes []string
}

// Advise prices a table as it is, right-sized, and on demand, extrapolating the window's use to a
// month (× HoursPerMonth / Hours), and picks the cheapest. On a tie it keeps the table as it is:
// a change must pay for itself. Every figure includes what the table stores.
func Advise(u Usage, p Prices) Advice {
	rest := Monthly(Footprint{Billing: wallet.BillingOnDemand, SizeBytes: u.Footprint.SizeBytes,
		PITRBytes: u.Footprint.PITRBytes, BackupBytes: u.Footprint.BackupBytes}, p).Total
	perMonth := 0.0 // no window, no use to extrapolate (and no Inf, which JSON cannot carry)
	if u.Hours > 0 {
		perMonth = HoursPerMonth / u.Hours
	}
	var a Advice
	provisioned := make([]Capacity, len(u.Loads))
	for i, l := range u.Loads {
		provisioned[i] = l.Provisioned
		a.OnDemand += (l.Consumed.ReadUnits*p.RRUMillion + l.Consumed.WriteUnits*p.WRUMillion) * perMonth / 1e6
		c, capped := rightSize(l.Consumed)
		a.RightSizedCapacity = append(a.RightSizedCapacity, c)
		if capped {
			a.Notes = append(a.Notes, fmt.Sprintf("%s needs more than %d units: right-sized at DynamoDB's default quota", loadName(l), wallet.MaxCapacity))
		}
		if u.Footprint.Billing == wallet.BillingProvisioned &&
			(exceeds(l.Consumed.ReadPeak, l.Provisioned.Read) || exceeds(l.Consumed.WritePeak, l.Provisioned.Write)) {
			a.Throttled = true
		}
	}
	a.OnDemand += rest
	a.RightSized = capacityCost(a.RightSizedCapacity, p) + rest
	a.Current = a.OnDemand
	if u.Footprint.Billing == wallet.BillingProvisioned {
		a.Current = Monthly(u.Footprint, p).Total
	}

	type option struct {
		change Change
		usd    float64
	}
	var options []option
	if u.Footprint.Billing == wallet.BillingOnDemand {
		options = []option{{Keep, a.Current}, {ToProvisioned, a.RightSized}}
	} else {
		if !a.Throttled {
			options = append(options, option{Keep, a.Current})
		}
		options = append(options, option{resize(provisioned, a.RightSizedCapacity), a.RightSized}, option{ToOnDemand, a.OnDemand})
	}
	best := options[0]
	for _, o := range options[1:] {
		if Round(o.usd) < Round(best.usd) {
			best = o
		}
	}
	a.Change, a.Savings = best.change, a.Current-best.usd
	a.Context = contextValues(best.change, a.RightSizedCapacity)
	if changesCapacity(best.change) && len(u.Loads) > 1 {
		for i, l := range u.Loads[1:] {
			c := a.RightSizedCapacity[i+1]
			a.Notes = append(a.Notes, fmt.Sprintf("the wallet stack's context sets the table's capacity only: give %s %d read and %d write units where it is declared", loadName(l), c.Read, c.Write))
		}
	}
	return a
}

// rightSize is the capacity whose TargetUtilization the busiest minute fills, at least 1 unit and
// at most the context contract's maximum (reported as capped).
func rightSize(c usage.Consumed) (Capacity, bool) {
	units := func(peak float64) (int64, bool) {
		// The epsilon keeps float noise (1.4 / 0.7 = 2.0000000000000004) from buying a unit.
		n := int64(math.Ceil(peak/TargetUtilization - 1e-9))
		if n > wallet.MaxCapacity {
			return wallet.MaxCapacity, true
		}
		return max(wallet.MinCapacity, n), false
	}
	r, rc := units(c.ReadPeak)
	w, wc := units(c.WritePeak)
	return Capacity{Read: r, Write: w}, rc || wc
}

// exceeds reports whether a peak per second is above provisioned units, beyond float noise.
func exceeds(peak float64, units int64) bool { return peak > float64(units)+1e-9 }

func capacityCost(cs []Capacity, p Prices) float64 {
	var usd float64
	for _, c := range cs {
		usd += (float64(c.Read)*p.RCUHour + float64(c.Write)*p.WCUHour) * HoursPerMonth
	}
	return usd
}

// resize names the change from one set of capacities to another: raise when any goes up (the
// load needs it), lower when some go down and none up, keep when none change.
func resize(from, to []Capacity) Change {
	change := Keep
	for i := range from {
		if to[i].Read > from[i].Read || to[i].Write > from[i].Write {
			return Raise
		}
		if to[i] != from[i] {
			change = Lower
		}
	}
	return change
}

func changesCapacity(a Change) bool { return a == Lower || a == Raise || a == ToProvisioned }

// contextValues are the wallet stack's -c values for a change (its key names and values, which
// contract.ParseStack accepts); the table's own capacity is the first.
func contextValues(a Change, right []Capacity) string {
	capacity := func() string {
		if len(right) == 0 {
			return ""
		}
		return fmt.Sprintf("-c %s=%d -c %s=%d", contract.CtxReadCapacity, right[0].Read, contract.CtxWriteCapacity, right[0].Write)
	}
	switch a {
	case Lower, Raise:
		return capacity()
	case ToOnDemand:
		return fmt.Sprintf("-c %s=%s", contract.CtxBilling, wallet.BillingOnDemand)
	case ToProvisioned:
		return fmt.Sprintf("-c %s=%s ", contract.CtxBilling, wallet.BillingProvisioned) + capacity()
	}
	return ""
}

func loadName(l Load) string {
	if l.Index == "" {
		return "the table"
	}
	return "index " + l.Index
}

package cost

import (
	"fmt"
	"math"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
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
	Provisioned Capacity // zero when the table is on demand; the instant's when auto scaled
	Consumed    usage.Consumed
	// Minutes are its consumption minute by minute (and, auto scaled, its capacity): what the
	// options are simulated over. Nil when only Consumed's sums are known: nothing is simulated.
	Minutes *usage.Minutes
	// Scaling is its live auto scaling (its scalable targets): a nil dimension is fixed.
	Scaling discover.Ranges
	// AutoScale fixes the auto-scaled option's policies (verify cost --autoscale); a nil one
	// is searched for.
	AutoScale Given
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
	// Start is the window's first minute: the simulation counts decreases per UTC day.
	Start time.Time
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
	// AutoScale auto scales the table (provisioned, when it is on demand) by the policies picked.
	AutoScale Change = "autoscale"
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
	// AutoScaled is every load auto scaled by AutoScaling, simulated over the window; nil
	// without minutes to simulate over.
	AutoScaled *float64
	// AutoScaling is AutoScaled's policies, for each Load in order.
	AutoScaling []Policies
	// ThrottledMinutes are each option's over the window; nil without minutes.
	ThrottledMinutes *Throttled
	// Basis is what Current was priced from.
	Basis Basis
	// Throttled: the table as it is throttled (some minute's consumption above its capacity, or
	// without minutes some load's busiest minute), so it does not serve its load and is never
	// the advice.
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

// Advise prices a table as it is, right-sized, auto scaled and on demand, extrapolating the
// window's use to a month (× HoursPerMonth / Hours), and picks the cheapest that throttles no
// more minutes than the table as it is. On a tie it keeps the table as it is: a change must pay
// for itself; auto scaling must save more than its simulation's start could (startMinutes at
// its minimum: a flat load is not advised auto scaling for its first two minutes), over a window
// of a day at least. Every figure
// includes what the table stores. Without minutes (only Consumed's sums), nothing is simulated:
// no auto-scaled option, throttling judged on the busiest minute.
func Advise(u Usage, p Prices) Advice {
	rest := storageOnly(u.Footprint, p)
	perMonth := 0.0 // no window, no use to extrapolate (and no Inf, which JSON cannot carry)
	if u.Hours > 0 {
		perMonth = HoursPerMonth / u.Hours
	}
	a := Advice{Basis: BasisInstant}
	provisioned := make([]Capacity, len(u.Loads))
	for i, l := range u.Loads {
		provisioned[i] = billedCapacity(l)
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
	switch {
	case u.Footprint.Billing == wallet.BillingOnDemand:
		a.Basis = BasisRequests
	case u.Footprint.Billed != nil:
		a.Basis = BasisBilled
		fallthrough
	default:
		a.Current = Monthly(u.Footprint, p).Total
	}
	sim, simulated := simulate(u, a.RightSizedCapacity, p)
	if simulated {
		a.AutoScaled, a.AutoScaling, a.ThrottledMinutes = ptr(sim.capacityUSD+rest), sim.policies, &sim.throttled
		// The minutes say, better than the busiest one: an auto-scaled table's capacity moved.
		a.Throttled = u.Footprint.Billing == wallet.BillingProvisioned && sim.throttled.Current > 0
		a.Notes = append(a.Notes, sim.notes...)
	}

	type option struct {
		change    Change
		usd       float64
		throttled int
	}
	t := Throttled{}
	if simulated {
		t = sim.throttled
	}
	var options []option
	if u.Footprint.Billing == wallet.BillingOnDemand {
		options = []option{{Keep, a.Current, t.Current}, {ToProvisioned, a.RightSized, t.RightSized}}
	} else {
		if !a.Throttled {
			options = append(options, option{Keep, a.Current, t.Current})
		}
		options = append(options, option{resize(provisioned, a.RightSizedCapacity), a.RightSized, t.RightSized}, option{ToOnDemand, a.OnDemand, t.OnDemand})
	}
	// An option that throttles more minutes than the table as it is serves its load worse: it
	// is never the advice, however cheap.
	serves := func(o option) bool { return o.throttled <= t.Current }
	var best *option
	for i := range options {
		if o := &options[i]; serves(*o) && (best == nil || Round(o.usd) < Round(best.usd)) {
			best = o
		}
	}
	if simulated {
		auto := option{AutoScale, *a.AutoScaled, t.AutoScaled}
		// More than its start, beyond float noise: a flat load saves exactly its start.
		cheaper := best == nil || Round(auto.usd) < Round(best.usd) && best.usd-auto.usd > sim.startUSD+1e-9*(1+best.usd)
		switch {
		case !serves(auto) || !cheaper:
		case sim.minutes < minAdvisedMinutes:
			a.Notes = append(a.Notes, fmt.Sprintf("auto scaling would cost less over these %s, but is not advised on less than a day: its simulation starts at the minimum, and its rules on decreases run per day", minutesText(sim.minutes)))
		default:
			best = &auto
		}
	}
	if best == nil { // every option throttles more than the table: the one that throttles least
		for i := range options {
			if o := &options[i]; best == nil || o.throttled < best.throttled {
				best = o
			}
		}
	}
	a.Change, a.Savings = best.change, a.Current-best.usd
	a.Context = contextValues(best.change, a.RightSizedCapacity)
	if best.change == AutoScale {
		a.Context = autoscaleContext(a.AutoScaling[0], u.Footprint.Billing == wallet.BillingOnDemand)
	}
	a.Notes = append(a.Notes, changeNotes(u, a)...)
	return a
}

func minutesText(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

// changeNotes say what the context values cannot: an index's capacity or auto scaling, which
// the wallet stack does not declare; and that a table auto scaled now must lose its range.
func changeNotes(u Usage, a Advice) []string {
	var notes []string
	if len(u.Loads) > 1 {
		for i, l := range u.Loads[1:] {
			switch {
			case changesCapacity(a.Change):
				c := a.RightSizedCapacity[i+1]
				notes = append(notes, fmt.Sprintf("the wallet stack's context sets the table's capacity only: give %s %d read and %d write units where it is declared", loadName(l), c.Read, c.Write))
			case a.Change == AutoScale:
				ps := a.AutoScaling[i+1]
				notes = append(notes, fmt.Sprintf("the wallet stack's context declares the table's auto scaling only: auto scale %s where it is declared, reads %d to %d and writes %d to %d at %d %%",
					loadName(l), ps.Read.Min, ps.Read.Max, ps.Write.Min, ps.Write.Max, ps.Read.Target))
			}
		}
	}
	scaled := false
	for _, l := range u.Loads {
		scaled = scaled || l.Scaling.Scaled()
	}
	switch {
	case !scaled:
	case changesCapacity(a.Change):
		notes = append(notes, fmt.Sprintf("it is auto scaled now: to fix its capacity, also remove %s and %s where they are set (cdk.json)", ctxReadMax, ctxWriteMax))
	case a.Change == ToOnDemand:
		notes = append(notes, fmt.Sprintf("it is auto scaled now: remove %s and %s where they are set (cdk.json), which the stack refuses with billing=on-demand", ctxReadMax, ctxWriteMax))
	}
	return notes
}

// billedCapacity is a load's capacity as resizing compares it: an auto-scaled dimension's
// average over the window (rounded up), when CloudWatch had it, else the instant's.
func billedCapacity(l Load) Capacity {
	c := l.Provisioned
	if l.Minutes == nil {
		return c
	}
	if r, w, ok := l.Minutes.Billed(); ok {
		if l.Scaling.Read != nil {
			c.Read = int64(math.Ceil(r - 1e-9))
		}
		if l.Scaling.Write != nil {
			c.Write = int64(math.Ceil(w - 1e-9))
		}
	}
	return c
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

package cost

import (
	"fmt"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The wallet stack's auto scaling keys: the top of each dimension's range (its capacity key is
// the bottom) and the one target both share.
const (
	ctxReadMax  = contract.CtxReadMax
	ctxWriteMax = contract.CtxWriteMax
	ctxTarget   = contract.CtxTarget
)

// Policies are a table's or an index's auto scaling, read and write.
type Policies struct {
	Read  autoscaling.Policy `json:"read"`
	Write autoscaling.Policy `json:"write"`
}

// Given are policies the caller fixes (verify cost --autoscale): a nil one is searched for.
type Given struct{ Read, Write *autoscaling.Policy }

// Throttled are the minutes each option would have throttled over the window: a minute counts
// once however many of the table's dimensions (reads, writes, each index's) throttled in it.
type Throttled struct {
	Current    int `json:"current"`
	RightSized int `json:"right_sized"`
	AutoScaled int `json:"auto_scaled"`
	OnDemand   int `json:"on_demand"`
}

// Basis is what a table's current cost was priced from.
type Basis string

const (
	// BasisInstant is the capacity DescribeTable shows at the instant of the review.
	BasisInstant Basis = "instant"
	// BasisBilled is CloudWatch's provisioned capacity over the window, for each auto-scaled
	// table or index: what it was billed for (the others' fixed capacity with it).
	BasisBilled Basis = "billed"
	// BasisRequests is an on-demand table's requests at on-demand prices.
	BasisRequests Basis = "requests"
)

// quota is DynamoDB's default bound on a table's (or index's) throughput a second, provisioned
// or on demand: what no option can exceed.
var quota = autoscaling.Bounds{Min: wallet.MinCapacity, Max: wallet.MaxCapacity}

// minAdvisedMinutes is the shortest window auto scaling is advised on: a day, the span of its
// rules on decreases; over less, what the simulation saves is mostly its start.
const minAdvisedMinutes = 24 * 60

// startMinutes are the minutes a simulation may spend at its minimum before its first scale out
// could take effect: its start, not the load, may save that much (StartUSD), and auto scaling is
// advised only when it saves more.
const startMinutes = 2

// simulation is a window's options priced by simulating every dimension of every load minute
// by minute: what each throttles, and the auto scaling picked.
type simulation struct {
	capacityUSD float64 // the auto-scaled option's capacity, a month
	minutes     int     // the window's
	// startUSD is what its start at the minimum may save, a month: startMinutes at the
	// minimum instead of the maximum, every dimension.
	startUSD  float64
	policies  []Policies
	throttled Throttled
	notes     []string
}

// simulate prices the auto-scaled option of every load and counts each option's throttled
// minutes; false when some load has no minutes (then nothing is simulated). right is the fixed
// option's capacity of each load.
func simulate(u Usage, right []Capacity, p Prices) (simulation, bool) {
	var s simulation
	n := -1
	for _, l := range u.Loads {
		if l.Minutes == nil || n >= 0 && len(l.Minutes.Read) != n {
			return s, false
		}
		n = len(l.Minutes.Read)
	}
	if n <= 0 {
		return s, false
	}
	day := u.Start.UTC().Hour()*60 + u.Start.UTC().Minute()
	current, fixed, scaled, onDemand := autoscaling.NewMinutes(n), autoscaling.NewMinutes(n), autoscaling.NewMinutes(n), autoscaling.NewMinutes(n)
	perMinute := [2]float64{p.RCUHour / 60, p.WCUHour / 60}
	var capacityMinutesUSD, startMinutesUSD float64
	for i, l := range u.Loads {
		loads := [2]autoscaling.Load{perSecond(l.Minutes.Read, day), perSecond(l.Minutes.Write, day)}
		given := [2]*autoscaling.Policy{l.AutoScale.Read, l.AutoScale.Write}
		history := [2][]float64{l.Minutes.ProvisionedRead, l.Minutes.ProvisionedWrite}
		ranges := [2]*discover.Range{l.Scaling.Read, l.Scaling.Write}
		provisioned := [2]int64{l.Provisioned.Read, l.Provisioned.Write}
		rightSized := [2]int64{right[i].Read, right[i].Write}
		var picked [2]autoscaling.Policy
		// The dimensions not given share one target (the stack declares one), the given one's
		// when there is one.
		target := 0
		for _, g := range given {
			if g != nil && target == 0 {
				target = g.Target
			}
		}
		var search []autoscaling.Dimension
		var searched []int
		for d := range 2 {
			if given[d] != nil {
				picked[d] = *given[d]
				continue
			}
			search = append(search, autoscaling.Dimension{Load: loads[d], Price: perMinute[d]})
			searched = append(searched, d)
		}
		if len(search) > 0 {
			c := autoscaling.Choose(search, quota, target)
			for k, d := range searched {
				picked[d] = c.Policies[k]
			}
		}
		for d := range 2 {
			switch {
			case u.Footprint.Billing == wallet.BillingOnDemand:
				autoscaling.Fixed(loads[d], quota.Max, current)
			case ranges[d] != nil && history[d] != nil:
				autoscaling.Replay(loads[d], history[d], current)
			default:
				autoscaling.Fixed(loads[d], provisioned[d], current)
			}
			autoscaling.Fixed(loads[d], rightSized[d], fixed)
			autoscaling.Fixed(loads[d], quota.Max, onDemand)
			r := autoscaling.Simulate(loads[d], picked[d], scaled)
			capacityMinutesUSD += perMinute[d] * float64(r.CapacityMinutes)
			startMinutesUSD += perMinute[d] * float64(startMinutes*(picked[d].Max-picked[d].Min))
		}
		s.policies = append(s.policies, Policies{Read: picked[0], Write: picked[1]})
		if picked[0].Target != picked[1].Target {
			s.notes = append(s.notes, fmt.Sprintf("%s: reads and writes auto scaled at different targets (%d %% and %d %%): the wallet stack declares one, %s", loadName(l), picked[0].Target, picked[1].Target, ctxTarget))
		}
	}
	s.minutes = n
	s.capacityUSD = capacityMinutesUSD * 60 * HoursPerMonth / float64(n) // × 730 / (n / 60) hours
	s.startUSD = startMinutesUSD * 60 * HoursPerMonth / float64(n)
	s.throttled = Throttled{Current: current.Count(), RightSized: fixed.Count(), AutoScaled: scaled.Count(), OnDemand: onDemand.Count()}
	return s, true
}

// perSecond is a minute series of units as the simulation takes it: units a second.
func perSecond(units []float64, day int) autoscaling.Load {
	s := make([]float64, len(units))
	for i, v := range units {
		s[i] = v / usage.Period.Seconds()
	}
	return autoscaling.Load{PerSecond: s, DayMinute: day}
}

// BilledOf is the capacity a table was billed for over the window, its loads together: each
// auto-scaled dimension's average from CloudWatch's history, every other at its instant
// capacity. Nil when no load is auto scaled with a history: the instant capacity is then what
// it pays.
func BilledOf(loads []Load) *BilledUnits {
	var b BilledUnits
	any := false
	for _, l := range loads {
		r, w := float64(l.Provisioned.Read), float64(l.Provisioned.Write)
		if l.Minutes != nil {
			if hr, hw, ok := l.Minutes.Billed(); ok {
				if l.Scaling.Read != nil {
					r, any = hr, true
				}
				if l.Scaling.Write != nil {
					w, any = hw, true
				}
			}
		}
		b.RCU += r
		b.WCU += w
	}
	if !any {
		return nil
	}
	return &b
}

// autoscaleContext is the wallet stack's -c values for auto scaling the table as the policies
// say (a dimension whose minimum is its maximum is fixed); billing when it is to change.
func autoscaleContext(p Policies, switchBilling bool) string {
	var b strings.Builder
	if switchBilling {
		fmt.Fprintf(&b, "-c %s=%s ", contract.CtxBilling, wallet.BillingProvisioned)
	}
	fmt.Fprintf(&b, "-c %s=%d", contract.CtxReadCapacity, p.Read.Min)
	if p.Read.Max > p.Read.Min {
		fmt.Fprintf(&b, " -c %s=%d", ctxReadMax, p.Read.Max)
	}
	fmt.Fprintf(&b, " -c %s=%d", contract.CtxWriteCapacity, p.Write.Min)
	if p.Write.Max > p.Write.Min {
		fmt.Fprintf(&b, " -c %s=%d", ctxWriteMax, p.Write.Max)
	}
	target := p.Read.Target
	if p.Read.Max == p.Read.Min {
		target = p.Write.Target
	}
	if p.Read.Max > p.Read.Min || p.Write.Max > p.Write.Min {
		fmt.Fprintf(&b, " -c %s=%d", ctxTarget, target)
	}
	return b.String()
}

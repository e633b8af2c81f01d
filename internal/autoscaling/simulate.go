// Package autoscaling simulates DynamoDB's target-tracking auto scaling minute by minute over a
// series of consumption, and searches for the cheapest policy that serves it. It knows nothing
// of AWS: a load is a slice of units per second, a result is capacity-minutes and throttled
// minutes, and cost prices them. The rules are docs/cost.md's ("The simulation"), and a test
// runs the worked example written there.
package autoscaling

import (
	"fmt"
	"math"
)

// Targets are the target utilizations a policy may track, in whole percent: the range
// DynamoDB's documentation gives.
const (
	MinTarget = 20
	MaxTarget = 90
	// DefaultTarget is the console's default, and auto scaling's when none is given.
	DefaultTarget = 70
)

const (
	// outMinutes and inMinutes are how many minutes in a row consumption must be above the
	// target (scale out) or 20 points below it (scale in) before capacity changes: the periods
	// of the two CloudWatch alarms Application Auto Scaling makes for a DynamoDB target.
	outMinutes = 2
	inMinutes  = 15
	// inMargin is how far below the target, in percent points, the scale-in alarm sits.
	inMargin = 20
	// DynamoDB's decreases: any of the first freeDecreases of a UTC day, then one an hour
	// (none in the last hourMinutes), never more than maxDecreases a day.
	freeDecreases = 4
	hourMinutes   = 60
	maxDecreases  = 27
	dayMinutes    = 24 * 60
	// epsilon keeps float noise (7.7 × 100 / 70 = 11.000000000000002) from buying a unit.
	epsilon = 1e-9
)

// Policy is one dimension's auto scaling: capacity between Min and Max, tracking Target percent
// of it consumed.
type Policy struct {
	Min    int64 `json:"min"`
	Max    int64 `json:"max"`
	Target int   `json:"target"`
}

func (p Policy) String() string { return fmt.Sprintf("%d:%d:%d", p.Min, p.Max, p.Target) }

// Valid says what is wrong with the policy, within capacity bounds lo to hi: nil when nothing.
func (p Policy) Valid(lo, hi int64) error {
	switch {
	case p.Min < lo || p.Min > hi:
		return fmt.Errorf("minimum %d: want a whole number from %d to %d", p.Min, lo, hi)
	case p.Max < p.Min || p.Max > hi:
		return fmt.Errorf("maximum %d: want a whole number from the minimum (%d) to %d", p.Max, p.Min, hi)
	case p.Target < MinTarget || p.Target > MaxTarget:
		return fmt.Errorf("target %d: want a whole number of percent from %d to %d", p.Target, MinTarget, MaxTarget)
	}
	return nil
}

// Load is one dimension's consumption: PerSecond[m] is the units consumed in minute m divided
// by 60 (CloudWatch's one-minute Sum / 60), zero for a minute without requests.
type Load struct {
	PerSecond []float64
	// DayMinute is the minute of the UTC day PerSecond[0] falls in: decreases are counted per
	// UTC day.
	DayMinute int
}

// Peak is the busiest minute's units per second.
func (l Load) Peak() float64 {
	var p float64
	for _, x := range l.PerSecond {
		p = max(p, x)
	}
	return p
}

// Result is what a dimension's capacity came to over the load.
type Result struct {
	// CapacityMinutes is Σ capacity[m]: capacity-hours × 60, what provisioned capacity bills.
	CapacityMinutes int64
	// Throttled counts the minutes whose consumption per second exceeded that minute's
	// capacity (burst capacity ignored, which errs on the side of capacity).
	Throttled int
	// Increases and Decreases count the changes of capacity; Highest is the most it reached.
	Increases, Decreases int
	Highest              int64
}

// CapacityHours is Σ capacity[m] / 60.
func (r Result) CapacityHours() float64 { return float64(r.CapacityMinutes) / 60 }

// Minutes is a set of minutes of a load, one bit each: where a dimension throttled, so that a
// table's throttled minutes are counted once however many of its dimensions throttled in them.
type Minutes []uint64

// NewMinutes holds n minutes, none set.
func NewMinutes(n int) Minutes { return make(Minutes, (n+63)/64) }

func (s Minutes) set(m int) { s[m>>6] |= 1 << (uint(m) & 63) }

// Union adds every minute of o to s (which must be as long).
func (s Minutes) Union(o Minutes) {
	for i := range min(len(s), len(o)) {
		s[i] |= o[i]
	}
}

// Count is how many minutes are set.
func (s Minutes) Count() int {
	n := 0
	for _, w := range s {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}

// scaleOut is the capacity the busiest of the minutes asks for at the target: ⌈x / t⌉.
func scaleOut(x float64, target int) int64 {
	return int64(math.Ceil(x*100/float64(target) - epsilon))
}

// Simulate runs auto scaling by policy p over the load, minute by minute, capacity starting at
// the minimum (docs/cost.md, "The simulation"):
//   - scale out: when consumption in each of the last 2 minutes exceeds t × capacity, capacity
//     becomes ⌈max(those 2) / t⌉, at most the maximum, from the next minute;
//   - scale in: when consumption in each of the last 15 minutes is below (t − 0.20) × capacity,
//     capacity becomes max(minimum, ⌈max(those 15) / t⌉) from the next minute, if a decrease is
//     allowed: fewer than 4 so far this UTC day, or none in the last 60 minutes, and never more
//     than 27 in a UTC day;
//   - after any change both windows start again.
//
// When throttled is not nil (NewMinutes(len(l.PerSecond))), the minutes that throttled are set
// in it. Simulate allocates nothing: the advice runs it thousands of times a table.
func Simulate(l Load, p Policy, throttled Minutes) Result {
	c := l.PerSecond
	capacity := p.Min
	r := Result{Highest: capacity}
	// Thresholds in whole percent, so that 70 % of 10 units is exactly 7 and its scale-in
	// threshold exactly 5 (0.7 − 0.2 in floats is 0.49999999999999994).
	units := float64(capacity)
	high := float64(int64(p.Target)*capacity) / 100
	low := float64(int64(p.Target-inMargin)*capacity) / 100
	var above, below int
	var total int64
	day := (l.DayMinute%dayMinutes + dayMinutes) % dayMinutes // the minute of the UTC day
	today := 0                                                // decreases so far this UTC day
	lastDecrease := -hourMinutes                              // the minute of the last decrease: none yet
	for m, x := range c {
		total += capacity
		if x > units {
			r.Throttled++
			if throttled != nil {
				throttled.set(m)
			}
		}
		// Branch-free counts of the minutes in a row above and below: consumption goes either
		// way from minute to minute, and a mispredicted branch costs more than the arithmetic.
		above = (above + 1) * b2i(x > high)
		below = (below + 1) * b2i(x < low)
		if above >= outMinutes || below >= inMinutes {
			next := capacity
			if above >= outMinutes {
				if capacity < p.Max {
					next = max(capacity, min(p.Max, scaleOut(max(x, c[m-1]), p.Target)))
				}
			} else if capacity > p.Min && today < maxDecreases && (today < freeDecreases || m-lastDecrease >= hourMinutes) {
				// The last 15 minutes' busiest, looked at only when a decrease may happen.
				busiest := 0.0
				for _, y := range c[m+1-inMinutes : m+1] {
					busiest = max(busiest, y)
				}
				if n := max(p.Min, scaleOut(busiest, p.Target)); n < capacity {
					next = n
					today++
					lastDecrease = m
					r.Decreases++
				}
			}
			if next != capacity {
				if next > capacity {
					r.Increases++
					r.Highest = max(r.Highest, next)
				}
				capacity = next
				units = float64(capacity)
				high = float64(int64(p.Target)*capacity) / 100
				low = float64(int64(p.Target-inMargin)*capacity) / 100
				above, below = 0, 0
			}
		}
		if day++; day == dayMinutes {
			day, today = 0, 0
		}
	}
	r.CapacityMinutes = total
	return r
}

// b2i is 1 for true: the compiler makes it a flag, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Fixed is a fixed capacity over the load: what it bills, and the minutes it throttles.
func Fixed(l Load, capacity int64, throttled Minutes) Result {
	r := Result{CapacityMinutes: capacity * int64(len(l.PerSecond)), Highest: capacity}
	units := float64(capacity)
	for m, x := range l.PerSecond {
		if x > units {
			r.Throttled++
			if throttled != nil {
				throttled.set(m)
			}
		}
	}
	return r
}

// Replay is the capacity a table really had, minute by minute (CloudWatch's provisioned
// capacity of an auto-scaled table), over its load: what it was billed for and what throttled.
// capacity is as long as the load. Capacity-minutes are rounded up to whole units a minute:
// DynamoDB provisions whole units.
func Replay(l Load, capacity []float64, throttled Minutes) Result {
	var r Result
	for m, x := range l.PerSecond {
		u := int64(math.Ceil(capacity[m] - epsilon))
		r.CapacityMinutes += u
		r.Highest = max(r.Highest, u)
		if x > float64(u) {
			r.Throttled++
			if throttled != nil {
				throttled.set(m)
			}
		}
	}
	return r
}

package autoscaling

import (
	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"math"
	"testing"
	"time"
)

var quota = Bounds{Min: 1, Max: 40000}

// rightSized is the fixed capacity the advice compares with: ⌈peak / 0.7⌉ within the bounds.
func rightSized(l Load) int64 {
	return min(max(int64(math.Ceil(l.Peak()/0.7-epsilon)), quota.Min), quota.Max)
}

// On every profile the search gives policies within the bounds that throttle no more minutes
// than capacity at the busiest minute would (none, but over the 40000 bound), in a bounded
// number of runs; where a load moves (diurnal, ramping, spiky, bursty) auto scaling costs
// less than the fixed capacity the busiest minute needs; where it does not (flat, idle), no
// more than a few minutes' worth of capacity less (its first minutes at the minimum).
func TestChooseOnEveryProfile(t *testing.T) {
	const days = 14
	for name, series := range profile.All(days * 24 * 60) {
		t.Run(name, func(t *testing.T) {
			l := Load{PerSecond: series}
			c := Choose([]Dimension{{Load: l, Price: 1}}, quota, 0)
			p, r := c.Policies[0], c.Results[0]
			if err := p.Valid(quota.Min, quota.Max); err != nil || p.Target > DefaultTarget {
				t.Fatalf("policy %v: %v (targets above %d are never picked)", p, err, DefaultTarget)
			}
			if got := Simulate(l, p, nil); got != r {
				t.Fatalf("the result given is not the policy's: %+v, simulated %+v", r, got)
			}
			goal := Fixed(l, min(max(int64(math.Ceil(l.Peak()-epsilon)), 1), quota.Max), nil).Throttled
			if r.Throttled != goal {
				t.Fatalf("%v throttles %d minutes, want %d", p, r.Throttled, goal)
			}
			if bound := 8 * 17; c.Simulations > bound {
				t.Fatalf("%d simulations, more than %d", c.Simulations, bound)
			}
			fixed := Fixed(l, rightSized(l), nil)
			t.Logf("%v: %.0f capacity-hours, %d throttled, %d runs; fixed at %d: %.0f capacity-hours, %d throttled",
				p, r.CapacityHours(), r.Throttled, c.Simulations, rightSized(l), fixed.CapacityHours(), fixed.Throttled)
			switch name {
			case "diurnal", "ramping", "spiky", "bursty", "random-walk":
				if r.CapacityMinutes >= fixed.CapacityMinutes {
					t.Fatalf("a moving load: auto scaling %v (%d capacity-minutes) is no cheaper than fixed %d (%d)", p, r.CapacityMinutes, rightSized(l), fixed.CapacityMinutes)
				}
			case "idle":
				if p != (Policy{Min: 1, Max: 1, Target: DefaultTarget}) {
					t.Fatalf("idle: %v, want 1:1 at the default target", p)
				}
			case "flat":
				if diff := fixed.CapacityMinutes - r.CapacityMinutes; diff < 0 || diff > 60*rightSized(l) {
					t.Fatalf("flat: auto scaling %d capacity-minutes against fixed %d", r.CapacityMinutes, fixed.CapacityMinutes)
				}
			case "over-the-max":
				if p.Max != quota.Max || r.Throttled == 0 || r.Throttled != fixed.Throttled {
					t.Fatalf("over the bound: %v throttles %d minutes, fixed at the bound %d", p, r.Throttled, fixed.Throttled)
				}
			}
		})
	}
}

// Reads and writes of one table share a target: the search picks the one whose total, at each
// dimension's price, is cheapest; a given target is kept.
func TestChooseSharesOneTargetAndKeepsAGivenOne(t *testing.T) {
	ps := profile.All(3 * 24 * 60)
	dims := []Dimension{{Load: Load{PerSecond: ps["diurnal"]}, Price: 1}, {Load: Load{PerSecond: ps["spiky"]}, Price: 5}}
	c := Choose(dims, quota, 0)
	if len(c.Policies) != 2 || c.Policies[0].Target != c.Policies[1].Target {
		t.Fatalf("one target for both: %v", c.Policies)
	}
	// No target tried alone does better.
	for tgt := MinTarget; tgt <= DefaultTarget; tgt += 5 {
		if o := Choose(dims, quota, tgt); o.Cost < c.Cost {
			t.Fatalf("target %d costs %.0f, less than the pick %v at %.0f", tgt, o.Cost, c.Policies, c.Cost)
		}
	}
	if g := Choose(dims, quota, 85); g.Policies[0].Target != 85 || g.Policies[1].Target != 85 {
		t.Fatalf("given 85: %v", g.Policies)
	}
}

// The search's worst case fits the fleet: 10,000 tables are priced in minutes, not hours. A
// table of 14 days, two dimensions, under the budget of runs.
func TestChooseIsBounded(t *testing.T) {
	ps := profile.All(14 * 24 * 60)
	dims := []Dimension{{Load: Load{PerSecond: ps["random-walk"]}, Price: 1}, {Load: Load{PerSecond: ps["over-the-max"]}, Price: 5}}
	start := time.Now()
	c := Choose(dims, quota, 0)
	if c.Simulations > 8*2*17 {
		t.Fatalf("%d runs", c.Simulations)
	}
	t.Logf("%d runs in %v", c.Simulations, time.Since(start))
}

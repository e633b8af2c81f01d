package autoscaling

import "math"

// Dimension is one dimension of a table the search prices: its load, and what one
// capacity-minute of it costs (reads and writes are priced apart).
type Dimension struct {
	Load  Load
	Price float64
}

// Bounds are the capacities a policy may take: DynamoDB's 1 to 40000 units by default.
type Bounds struct{ Min, Max int64 }

// Choice is the policy picked for each dimension, in order, and what each came to.
type Choice struct {
	Policies []Policy
	Results  []Result
	// Cost is Σ price × capacity-minutes over the dimensions.
	Cost float64
	// Simulations is how many runs of Simulate the search took: bounded (see Choose).
	Simulations int
}

// searched are the targets Choose tries first, in order of preference on a tie: the default,
// then outwards. None is above the default: a minute's average hides its seconds, and the
// advice leaves them the same room its fixed capacity does (70 %). A policy with a higher
// target is priced when given (--autoscale), never picked.
var searched = []int{70, 60, 50, 40, 30, 20}

// refine is the step Choose takes either side of the best of searched.
const refine = 5

// Choose picks, for dimensions that share one target (a table's reads and writes, which the
// wallet stack declares with one targetUtilization), the cheapest policies that throttle no
// more minutes than any policy could: none, unless a load is beyond b.Max. The search, bounded
// at 8 targets × dimensions × 17 simulations:
//   - the target: each of 70, 60, 50, 40, 30 and 20 %, then 5 points either side of the best
//     (target > 0 fixes it instead);
//   - the minimum, at each target: the smallest, by bisection between b.Min and the busiest
//     minute's units per second (at which nothing throttles), that throttles no more than that;
//   - the maximum: the capacity the busiest minute asks for at the target, ⌈peak / t⌉ (never
//     below the minimum). Over the load no higher maximum changes anything, since no scale-out
//     asks for more; a lower one caps the very minutes auto scaling is for.
//
// The cheapest target wins; on a tie, the first tried.
func Choose(dims []Dimension, b Bounds, target int) Choice {
	peaks := make([]float64, len(dims))
	for i, d := range dims {
		peaks[i] = d.Load.Peak()
	}
	best := Choice{Cost: math.Inf(1)}
	sims := 0
	try := func(t int) {
		c := Choice{Policies: make([]Policy, len(dims)), Results: make([]Result, len(dims))}
		for i, d := range dims {
			p, r, n := cheapestAt(d.Load, peaks[i], b, t)
			c.Policies[i], c.Results[i] = p, r
			c.Cost += d.Price * float64(r.CapacityMinutes)
			sims += n
		}
		if c.Cost < best.Cost {
			best = c
		}
	}
	if target > 0 {
		try(target)
	} else {
		for _, t := range searched {
			try(t)
		}
		around := best.Policies[0].Target
		if len(dims) == 0 {
			around = DefaultTarget
		}
		for _, t := range []int{around - refine, around + refine} {
			if t >= MinTarget && t <= DefaultTarget {
				try(t)
			}
		}
	}
	best.Simulations = sims
	if math.IsInf(best.Cost, 1) {
		best.Cost = 0
	}
	return best
}

// cheapestAt is the policy with target t whose minimum is the smallest (by bisection) that
// throttles no more than a minimum at the peak would, and its result; n is the runs it took.
func cheapestAt(l Load, peak float64, b Bounds, t int) (Policy, Result, int) {
	top := min(max(int64(math.Ceil(peak-epsilon)), b.Min), b.Max)
	policy := func(lo int64) Policy {
		return Policy{Min: lo, Max: min(max(lo, scaleOut(peak, t)), b.Max), Target: t}
	}
	// At a minimum of the peak (or the bound), capacity never falls below what any minute
	// consumed (or the most it may be): nothing throttles that any policy could save.
	p := policy(top)
	r := Simulate(l, p, nil)
	n := 1
	goal := r.Throttled
	lo, hi := b.Min, top
	for lo < hi {
		mid := lo + (hi-lo)/2
		q := policy(mid)
		s := Simulate(l, q, nil)
		n++
		if s.Throttled <= goal {
			hi, p, r = mid, q, s
		} else {
			lo = mid + 1
		}
	}
	return p, r, n
}

package autoscaling

import (
	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// flat is n minutes at x units a second.
func flat(n int, x float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = x
	}
	return s
}

func join(parts ...[]float64) []float64 {
	var s []float64
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

// The worked example of docs/cost.md is read from the page and run: each row's capacity, the
// capacity-minutes and hours, the throttled minutes and the fixed capacity's figures it states
// are the simulation's. Change the rules or the page, and this fails until both agree.
func TestTheWorkedExampleInTheDocsIsWhatSimulateDoes(t *testing.T) {
	body, err := os.ReadFile("../../docs/cost.md")
	if err != nil {
		t.Fatal(err)
	}
	page := string(body)
	start := strings.Index(page, "### A worked example")
	if start < 0 {
		t.Fatal("docs/cost.md has no section \"A worked example\"")
	}
	section := page[start:]
	if end := strings.Index(section[4:], "\n## "); end >= 0 {
		section = section[:end+4]
	}
	pm := regexp.MustCompile("`--autoscale (\\d+):(\\d+):(\\d+)`").FindStringSubmatch(section)
	if pm == nil {
		t.Fatal("the example names no policy (`--autoscale MIN:MAX:TARGET`)")
	}
	atoi := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return n
	}
	p := Policy{Min: atoi(pm[1]), Max: atoi(pm[2]), Target: int(atoi(pm[3]))}

	var load []float64
	var want []int64
	row := regexp.MustCompile(`^\| (\d+)(?:–(\d+))? \| ([\d.]+) \| (\d+) \|`)
	for _, line := range strings.Split(section, "\n") {
		m := row.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		from, to := atoi(m[1]), atoi(m[1])
		if m[2] != "" {
			to = atoi(m[2])
		}
		if int(from) != len(load) {
			t.Fatalf("row %q starts at minute %d, want %d", line, from, len(load))
		}
		x, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		for range to - from + 1 {
			load = append(load, x)
			want = append(want, atoi(m[4]))
		}
	}
	if len(load) < 20 {
		t.Fatalf("the example's table has %d minutes: not found", len(load))
	}

	l := Load{PerSecond: load}
	got := make([]int64, len(load))
	for m := range load {
		// Capacity in minute m is what m+1 minutes of the load bill, less m minutes'.
		got[m] = Simulate(Load{PerSecond: load[:m+1]}, p, nil).CapacityMinutes - Simulate(Load{PerSecond: load[:m]}, p, nil).CapacityMinutes
	}
	for m := range want {
		if got[m] != want[m] {
			t.Errorf("minute %d: capacity %d, the docs say %d", m, got[m], want[m])
		}
	}
	r := Simulate(l, p, nil)
	said := func(pattern string) string {
		m := regexp.MustCompile(pattern).FindStringSubmatch(section)
		if m == nil {
			t.Fatalf("the example does not say %s", pattern)
		}
		return m[1]
	}
	if n := atoi(said(`(\d+) capacity-minutes\s+=`)); n != r.CapacityMinutes {
		t.Errorf("the docs say %d capacity-minutes, the simulation %d", n, r.CapacityMinutes)
	}
	if h := said(`=\s+([\d.]+) capacity-hours`); h != strconv.FormatFloat(r.CapacityHours(), 'f', -1, 64) {
		t.Errorf("the docs say %s capacity-hours, the simulation %v", h, r.CapacityHours())
	}
	if n := atoi(said(`(\d+) minutes\s+throttled`)); int(n) != r.Throttled {
		t.Errorf("the docs say %d minutes throttled, the simulation %d", n, r.Throttled)
	}
	fixed := atoi(said(`⌈[\d.]+ / 0\.7⌉ = (\d+)\s+the same`))
	f := Fixed(l, fixed, nil)
	if n := atoi(said(`(\d+) capacity-minutes and\s+none throttled`)); n != f.CapacityMinutes || f.Throttled != 0 {
		t.Errorf("fixed at %d: the docs say %d capacity-minutes and none throttled, got %d and %d", fixed, n, f.CapacityMinutes, f.Throttled)
	}
}

func TestScaleOutTakesTwoMinutesAboveTheTargetAndStopsAtTheMaximum(t *testing.T) {
	p := Policy{Min: 10, Max: 20, Target: 70}
	// One minute above 7 is not enough; the window starts again below it.
	r := Simulate(Load{PerSecond: []float64{8, 6, 8, 6, 8}}, p, nil)
	if r.Increases != 0 || r.CapacityMinutes != 50 {
		t.Fatalf("no two minutes in a row above 7: %+v", r)
	}
	// Exactly 70 % is not above it.
	if r := Simulate(Load{PerSecond: flat(10, 7)}, p, nil); r.Increases != 0 {
		t.Fatalf("7 of 10 is the target, not above it: %+v", r)
	}
	// Two minutes above: ⌈max(8, 9) / 0.7⌉ = 13 from the third minute on.
	r = Simulate(Load{PerSecond: []float64{8, 9, 9, 9}}, p, nil)
	if r.Increases != 1 || r.CapacityMinutes != 10+10+13+13 || r.Highest != 13 {
		t.Fatalf("scale out to 13 from the next minute: %+v", r)
	}
	// 30 a second asks for 43: the maximum, 20, is all it gets; and every minute above 20
	// throttles. Windows restart: at 20, 30 is above 14 again, but the maximum holds.
	r = Simulate(Load{PerSecond: flat(5, 30)}, p, nil)
	if r.Highest != 20 || r.CapacityMinutes != 10+10+20+20+20 || r.Throttled != 5 {
		t.Fatalf("capped at the maximum: %+v", r)
	}
	// Float noise: 7.7 / 0.7 is 11.000000000000002, which must not buy a twelfth unit.
	r = Simulate(Load{PerSecond: []float64{7.7, 7.7, 7.7}}, p, nil)
	if r.Highest != 11 {
		t.Fatalf("⌈7.7 / 0.7⌉ is 11: %+v", r)
	}
}

func TestScaleInTakesFifteenMinutesBelowTheMarginAndAfterAChangeTheWindowsRestart(t *testing.T) {
	p := Policy{Min: 1, Max: 100, Target: 50}
	// Minutes 0–1 at 40 on 1 unit: throttled, and above 50 % twice → ⌈40 / 0.5⌉ = 80 from
	// minute 2. Then 15 minutes at 5, below 30 % of 80 (24): at minute 16 → max(1, ⌈5 / 0.5⌉)
	// = 10 from minute 17; at 10, 5 is not below 3, so it stays.
	r := Simulate(Load{PerSecond: join(flat(2, 40), flat(15, 5), flat(15, 5))}, p, nil)
	if r.Increases != 1 || r.Decreases != 1 || r.Throttled != 2 || r.CapacityMinutes != 2*1+15*80+15*10 {
		t.Fatalf("out to 80, in to 10: %+v, want %d capacity-minutes", r, 2*1+15*80+15*10)
	}
	// 14 minutes below are not enough, nor 14 + one minute at 30 (not below 24) + 14.
	if r := Simulate(Load{PerSecond: join(flat(2, 40), flat(14, 5))}, p, nil); r.Decreases != 0 {
		t.Fatalf("only 14 minutes below: %+v", r)
	}
	if r := Simulate(Load{PerSecond: join(flat(2, 40), flat(14, 5), []float64{30}, flat(14, 5))}, p, nil); r.Decreases != 0 {
		t.Fatalf("the window starts again after a minute not below: %+v", r)
	}
	// At the minimum nothing scales in: from 20, 15 minutes at 5 (below 6) leave it at 20.
	if r := Simulate(Load{PerSecond: flat(30, 5)}, Policy{Min: 20, Max: 100, Target: 50}, nil); r.Decreases != 0 || r.CapacityMinutes != 30*20 {
		t.Fatalf("at the minimum: %+v", r)
	}
}

// highLow asks for a decrease as often as the windows allow: 2 minutes at 90 (a scale out to
// 180 from 1 or 2 units at 50 %), then 15 at 1 (below 54: a scale in to 2 at the 15th), over
// and over: a decrease is due every 17 minutes, at minutes 16, 33, 50, …
func highLow(minutes int) []float64 {
	var s []float64
	for len(s) < minutes {
		s = append(s, join(flat(2, 90), flat(15, 1))...)
	}
	return s[:minutes]
}

func TestDecreasesAreFourADayThenOneAnHour(t *testing.T) {
	p := Policy{Min: 1, Max: 1000, Target: 50}
	s := highLow(24 * 60)
	// The first 4 of the UTC day as soon as they are due: minutes 16, 33, 50 and 67.
	if r := Simulate(Load{PerSecond: s[:68]}, p, nil); r.Decreases != 4 {
		t.Fatalf("minutes 0–67: %d decreases, want 4", r.Decreases)
	}
	// Then none within 60 minutes of the last: due at 84, 101 and 118, refused; the fifth is
	// the first due 60 minutes after 67, at 135.
	if r := Simulate(Load{PerSecond: s[:135]}, p, nil); r.Decreases != 4 {
		t.Fatalf("minutes 0–134: %d decreases, want still 4", r.Decreases)
	}
	if r := Simulate(Load{PerSecond: s[:136]}, p, nil); r.Decreases != 5 {
		t.Fatalf("minutes 0–135: %d decreases, want 5", r.Decreases)
	}
	// A day: 16, 33, 50, then every 68 minutes from 67 (the first due 60 after the last):
	// 3 + 21 = 24.
	if r := Simulate(Load{PerSecond: s}, p, nil); r.Decreases != 24 {
		t.Fatalf("a day: %d decreases, want 24", r.Decreases)
	}
	// Six hours from 23:00 UTC: 16, 33 and 50 on the first day; at 60 a new UTC day begins
	// with 4 free decreases (67, 84, 101, 118), then 186, 254 and 322: 10. From midnight the
	// same six hours give 3 + 5 = 8.
	if r := Simulate(Load{PerSecond: s[:360], DayMinute: 23 * 60}, p, nil); r.Decreases != 10 {
		t.Fatalf("six hours from 23:00 UTC: %d decreases, want 10", r.Decreases)
	}
	if r := Simulate(Load{PerSecond: s[:360]}, p, nil); r.Decreases != 8 {
		t.Fatalf("six hours from midnight: %d decreases, want 8", r.Decreases)
	}
}

// staircase falls by a quarter every time a decrease may come: 2 minutes at 30,000 a second
// scale 1 unit out to 33,334 (at 90 %); then each step's minutes are below 70 % of the
// capacity the last decrease left, so each asks for one. The first 4 steps last 15 minutes (the
// free decreases come as fast as the window allows), the rest an hour (one an hour after that).
func staircase() []float64 {
	s := flat(2, 30000)
	x := 30000.0
	for step := 0; len(s) < 26*60; step++ {
		x *= 0.75
		n := 15
		if step >= 4 {
			n = 60
		}
		s = append(s, flat(n, math.Round(x*100)/100)...)
	}
	return s[:26*60]
}

// The most decreases a UTC day can hold is 27: 4 as fast as 15-minute windows allow from
// midnight (minutes 14, 29, 44, 59 here), then one an hour to 23:59. The staircase starts two
// minutes before midnight, so that its scale out is the day before's.
func TestAUTCDayHoldsAtMost27Decreases(t *testing.T) {
	p := Policy{Min: 1, Max: 40000, Target: 90}
	s := staircase()[:2+24*60]
	l := Load{PerSecond: s, DayMinute: 24*60 - 2}
	if r := Simulate(l, p, nil); r.Decreases != 27 || r.Increases != 1 {
		t.Fatalf("a UTC day of decreases due as often as allowed: %+v, want 27", r)
	}
	// The bound of 27 is what the other two rules already give with 15-minute windows: the
	// rules without it count the same.
	if n := reference(s, p, 24*60-2, 1000); n.decreases != 27 {
		t.Fatalf("the rules without the bound: %d decreases", n.decreases)
	}
	// A day later the count starts again.
	if r := Simulate(Load{PerSecond: staircase(), DayMinute: 24*60 - 2}, p, nil); r.Decreases <= 27 {
		t.Fatalf("past the next midnight UTC decreases start again: %+v", r)
	}
}

func TestFixedAndReplayCountThrottledMinutes(t *testing.T) {
	l := Load{PerSecond: []float64{1, 5, 5.5, 0, 6}}
	if r := Fixed(l, 5, nil); r.Throttled != 2 || r.CapacityMinutes != 25 {
		t.Fatalf("fixed 5: %+v", r)
	}
	th := NewMinutes(5)
	r := Replay(l, []float64{5, 5, 6, 6, 5.2}, th)
	// 5.2 units is billed as 6 (DynamoDB provisions whole units): 6 is not above 6.
	if r.Throttled != 0 || r.CapacityMinutes != 5+5+6+6+6 || th.Count() != 0 {
		t.Fatalf("replayed: %+v", r)
	}
	a, b := NewMinutes(67), NewMinutes(67)
	Fixed(Load{PerSecond: join(flat(64, 0), []float64{9, 0, 9})}, 5, a)
	Fixed(Load{PerSecond: join(flat(64, 0), []float64{9, 9, 0})}, 5, b)
	a.Union(b)
	if a.Count() != 3 {
		t.Fatalf("minutes 64, 65 and 66 throttle in one or the other: union %d", a.Count())
	}
}

func TestSimulateAllocatesNothing(t *testing.T) {
	l := Load{PerSecond: highLow(20160)}
	th := NewMinutes(len(l.PerSecond))
	if n := testing.AllocsPerRun(5, func() { Simulate(l, Policy{Min: 1, Max: 1000, Target: 70}, th) }); n != 0 {
		t.Fatalf("Simulate allocates %v times a run", n)
	}
}

func TestPolicyValidNamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{0, 10, 70}, "minimum 0"},
		{Policy{5, 4, 70}, "maximum 4"},
		{Policy{5, 40001, 70}, "maximum 40001"},
		{Policy{5, 10, 19}, "target 19"},
		{Policy{5, 10, 91}, "target 91"},
	} {
		if err := tc.p.Valid(1, 40000); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.p, err, tc.want)
		}
	}
	if err := (Policy{1, 40000, 90}).Valid(1, 40000); err != nil {
		t.Fatal(err)
	}
}

// referenced is what the reference simulation counts.
type referenced struct {
	capacityMinutes      int64
	throttled, decreases int
}

// reference is the rules of docs/cost.md written as plainly as they read, windows looked at
// anew every minute, decreases kept as a list: slow, and independent of Simulate's counters.
// perDay is the bound on decreases in a UTC day (27; larger to show what the bound holds back).
func reference(c []float64, p Policy, dayMinute, perDay int) referenced {
	var r referenced
	capacity := p.Min
	since := 0 // where both windows start: the minute after the last change
	var decreases []int
	all := func(m, k int, holds func(float64) bool) (bool, float64) {
		if m+1-k < since {
			return false, 0
		}
		busiest := 0.0
		for _, x := range c[m+1-k : m+1] {
			if !holds(x) {
				return false, 0
			}
			busiest = max(busiest, x)
		}
		return true, busiest
	}
	for m := range c {
		r.capacityMinutes += capacity
		if c[m] > float64(capacity) {
			r.throttled++
		}
		high := float64(int64(p.Target)*capacity) / 100
		low := float64(int64(p.Target-20)*capacity) / 100
		if ok, busiest := all(m, 2, func(x float64) bool { return x > high }); ok {
			if n := min(p.Max, scaleOut(busiest, p.Target)); n > capacity {
				capacity, since = n, m+1
				continue
			}
		}
		ok, busiest := all(m, 15, func(x float64) bool { return x < low })
		if !ok {
			continue
		}
		today, lastHour := 0, false
		for _, d := range decreases {
			if (dayMinute+d)/1440 == (dayMinute+m)/1440 {
				today++
			}
			if m-d < 60 {
				lastHour = true
			}
		}
		if today >= perDay || today >= 4 && lastHour {
			continue
		}
		if n := max(p.Min, scaleOut(busiest, p.Target)); n < capacity {
			capacity, since = n, m+1
			decreases = append(decreases, m)
			r.decreases++
		}
	}
	return r
}

// Simulate agrees with the plain reading of the rules on every profile below, under policies
// of every kind, started at any minute of the UTC day.
func TestSimulateIsTheRulesAsWritten(t *testing.T) {
	policies := []Policy{{1, 40000, 70}, {5, 50, 50}, {1, 10, 20}, {100, 40000, 90}, {3, 3, 70}, {1, 1000, 35}}
	for name, load := range profile.All(3 * 24 * 60) {
		for _, p := range policies {
			for _, dm := range []int{0, 7*60 + 13, 23*60 + 59} {
				got := Simulate(Load{PerSecond: load, DayMinute: dm}, p, nil)
				want := reference(load, p, dm, 27)
				if got.CapacityMinutes != want.capacityMinutes || got.Throttled != want.throttled || got.Decreases != want.decreases {
					t.Errorf("%s under %v from minute %d of the day: got %d capacity-minutes, %d throttled, %d decreases; the rules say %d, %d, %d",
						name, p, dm, got.CapacityMinutes, got.Throttled, got.Decreases, want.capacityMinutes, want.throttled, want.decreases)
				}
			}
		}
	}
}

// near compares to float noise.
func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

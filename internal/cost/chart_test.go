package cost

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// loadFile is a load as a file holds it, units a second, reads and writes: what --load prices.
func loadFile(read, write []float64) usage.Load {
	return usage.Load{Start: midnight, Minutes: *minutesOf(read, write), Format: "csv"}
}

func constant(n int, v float64) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// A day of 2 reads a second on 10 units, but for minute 601, 30 a second (above the 10 units:
// throttled), and 1 write a second: its chart is a point every 5 minutes, each the busiest
// minute of its stretch, the capacity the table had, the advised option's, and the throttled
// minute marked where it was.
func TestAChartIsTheLoadAtItsBusiestMinuteEveryStretch(t *testing.T) {
	n := 24 * 60
	reads, writes := constant(n, 2), constant(n, 1)
	reads[601] = 30
	p := USEast1()
	p.RRUMillion, p.WRUMillion = 100, 500 // requests dear: the advice keeps a capacity to draw
	r := ReviewLoad(loadFile(reads, writes), LoadOptions{File: "spike.csv", Capacity: Capacity{Read: 10, Write: 5}, Draw: Draw{Charts: 1}}, p)
	if len(r.Charts) != 1 {
		t.Fatalf("%d charts, want 1", len(r.Charts))
	}
	c, tc := r.Charts[0], r.Tables[0]
	if c.Table != "spike.csv" || c.Step != 5*time.Minute || c.Minutes != n || !c.Start.Equal(midnight) || len(c.Reads.Consumed) != n/5 {
		t.Fatalf("chart of %s, a point every %v over %d minutes from %v, %d points; want spike.csv, 5m, %d, midnight, %d",
			c.Table, c.Step, c.Minutes, c.Start, len(c.Reads.Consumed), n, n/5)
	}
	for i, v := range c.Reads.Consumed {
		want := 2.0
		if i == 601/5 {
			want = 30 // minute 601 is in stretch 120, and it is that stretch's busiest
		}
		if !near(v, want) || !near(c.Writes.Consumed[i], 1) || c.Reads.Capacity[i] != 10 || c.Writes.Capacity[i] != 5 {
			t.Fatalf("point %d: reads %v on %v, writes %v on %v; want %v on 10, 1 on 5", i, v, c.Reads.Capacity[i], c.Writes.Consumed[i], c.Writes.Capacity[i], want)
		}
	}
	if tc.ThrottledMinutes == nil || c.ThrottledMinutes != tc.ThrottledMinutes.Current || c.ThrottledMinutes != 1 || c.Throttled[120] != 1 {
		t.Fatalf("throttled: the chart marks %d minutes (%d in point 120), the report counts %+v; want 1, in point 120", c.ThrottledMinutes, c.Throttled[120], tc.ThrottledMinutes)
	}
	marked := 0
	for _, m := range c.Throttled {
		marked += m
	}
	if marked != c.ThrottledMinutes {
		t.Fatalf("the points mark %d throttled minutes, the chart says %d", marked, c.ThrottledMinutes)
	}
	if c.Change != tc.Recommendation.Change {
		t.Fatalf("the chart draws advice %q, the report says %q", c.Change, tc.Recommendation.Change)
	}
	switch c.Change {
	case AutoScale:
		_, traced := autoscaling.Trace(perSecond(minutesOf(reads, writes).Read, 0), tc.AutoScaling.Read, nil)
		for i := range c.Reads.Advised {
			if want := float64(slices.Max(traced[i*5 : i*5+5])); c.Reads.Advised[i] != want {
				t.Fatalf("point %d: the advised capacity is %v, the simulation's busiest is %v", i, c.Reads.Advised[i], want)
			}
		}
	case Lower, Raise:
		if c.Reads.Advised[0] != float64(tc.RightSizedCapacity.Read) {
			t.Fatalf("advised %v, right-sized %+v", c.Reads.Advised[0], tc.RightSizedCapacity)
		}
	default:
		t.Fatalf("advice %q for a throttled table: want it auto scaled or raised", c.Change)
	}
	if c.AdvisedThrottledMinutes != 0 {
		t.Fatalf("the advice throttles %d minutes on the chart, the report says it throttles none", c.AdvisedThrottledMinutes)
	}
}

// What each advice draws as its capacity, on a week of each load profile: the auto scaling
// simulation's capacity where it is the advice, the right-sized units where capacity changes,
// nothing for on demand or keep; on demand as it is has no capacity line.
func TestEachAdviceDrawsItsOwnCapacity(t *testing.T) {
	n := 7 * 24 * 60
	seen := map[Change]bool{}
	for _, name := range profile.Names() {
		load := profile.Of(name, n)
		for _, capacity := range []Capacity{{1, 1}, {2000, 200}} {
			r := ReviewLoad(loadFile(load, constant(n, 1)), LoadOptions{File: name, Capacity: capacity, Draw: Draw{Charts: 1}}, USEast1())
			c, tc := r.Charts[0], r.Tables[0]
			seen[c.Change] = true
			if c.Step != 30*time.Minute || len(c.Reads.Consumed) != n/30 {
				t.Fatalf("%s: a point every %v, %d points; want 30m and %d over a week", name, c.Step, len(c.Reads.Consumed), n/30)
			}
			switch c.Change {
			case AutoScale:
				if c.Reads.Advised == nil || slices.Max(c.Reads.Advised) > float64(tc.AutoScaling.Read.Max) || slices.Min(c.Reads.Advised) < float64(tc.AutoScaling.Read.Min) ||
					c.AdvisedThrottledMinutes != tc.ThrottledMinutes.AutoScaled {
					t.Fatalf("%s: auto scaled %+v, drawn from %v to %v, %d throttled (the report: %d)", name, tc.AutoScaling.Read,
						slices.Min(c.Reads.Advised), slices.Max(c.Reads.Advised), c.AdvisedThrottledMinutes, tc.ThrottledMinutes.AutoScaled)
				}
			case Lower, Raise:
				if c.Reads.Advised == nil || slices.Max(c.Reads.Advised) != float64(tc.RightSizedCapacity.Read) || c.AdvisedThrottledMinutes != tc.ThrottledMinutes.RightSized {
					t.Fatalf("%s: right-sized %+v, drawn %v", name, tc.RightSizedCapacity, c.Reads.Advised[:3])
				}
			case ToOnDemand, Keep:
				if c.Reads.Advised != nil {
					t.Fatalf("%s: %s draws a capacity", name, c.Change)
				}
			}
			if c.Reads.Capacity == nil || slices.Max(c.Reads.Capacity) != float64(capacity.Read) {
				t.Fatalf("%s: the capacity as it is drawn %v, want %d", name, c.Reads.Capacity[:3], capacity.Read)
			}
		}
	}
	for _, c := range []Change{AutoScale, ToOnDemand} {
		if !seen[c] {
			t.Errorf("no profile was advised %s: the test covers less than it says (%v)", c, seen)
		}
	}
}

// A run keeps the charts of the tables that save most and no more: tables priced in any order,
// from several regions at once, leave exactly the best n, best first, and the keeper never
// holds more than n while they come in.
func TestOnlyTheChartsOfTheTablesThatSaveMostAreKept(t *testing.T) {
	const n = 5
	var tables []TableCost
	for i := range 1000 {
		tc := TableCost{Table: fmt.Sprintf("t%04d", i), Region: []string{"us-east-1", "eu-west-1"}[i%2], Account: "111111111111"}
		if i%10 != 0 { // every tenth has no advice: never charted while others save
			tc.Recommendation = &Recommendation{MonthlySavingsUSD: float64((i * 7919) % 1009)}
		}
		tables = append(tables, tc)
	}
	want := slices.Clone(tables)
	slices.SortFunc(want, SavesMore)
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(tables), func(i, j int) { tables[i], tables[j] = tables[j], tables[i] })

	k := newChartKeeper(n)
	done := make(chan bool)
	for w := range 4 {
		go func() {
			for i := w; i < len(tables); i += 4 {
				if k.admits(tables[i]) {
					k.keep(tables[i], Chart{Table: tables[i].Table, Region: tables[i].Region})
				}
				k.mu.Lock()
				held := len(k.kept)
				k.mu.Unlock()
				if held > n {
					t.Errorf("the keeper holds %d charts, more than %d", held, n)
				}
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
	var got []string
	for _, c := range k.charts() {
		got = append(got, c.Region+"/"+c.Table)
	}
	var best []string
	for _, tc := range want[:n] {
		best = append(best, tc.Region+"/"+tc.Table)
	}
	if !slices.Equal(got, best) {
		t.Fatalf("kept %v, want the %d that save most, best first: %v", got, n, best)
	}
}

// The JSON report is the figures people read: asking for pictures adds nothing to it.
func TestDrawingLeavesTheJSONReportAsItWas(t *testing.T) {
	n := 2 * 24 * 60
	l := loadFile(profile.Of("diurnal", n), constant(n, 1))
	var plain, drawn bytes.Buffer
	if err := ReviewLoad(l, LoadOptions{File: "f", Capacity: Capacity{100, 10}}, USEast1()).WriteJSON(&plain); err != nil {
		t.Fatal(err)
	}
	r := ReviewLoad(l, LoadOptions{File: "f", Capacity: Capacity{100, 10}, Draw: Draw{Charts: 1, Sparklines: true}}, USEast1())
	if len(r.Charts) != 1 || len(r.Tables[0].Sparkline) != SparklinePoints {
		t.Fatalf("asked to draw: %d charts, a sparkline of %d points", len(r.Charts), len(r.Tables[0].Sparkline))
	}
	if err := r.WriteJSON(&drawn); err != nil {
		t.Fatal(err)
	}
	if plain.String() != drawn.String() {
		t.Fatalf("the JSON changed with pictures asked for:\n%s\nwant\n%s", drawn.String(), plain.String())
	}
}

// A sparkline is the shape of the use: ▁ is no request at all, any use at least ▂, the busiest
// stretch █.
func TestSparklineTellsNoUseFromLightUse(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want string
	}{
		{nil, "-"},
		{[]float64{0, 0, 0}, "▁▁▁"},
		{[]float64{0, 0.001, 7, 3.5, 6.99}, "▁▂█▅█"},
		{[]float64{1, 2, 3, 4, 5, 6, 7}, "▂▃▄▅▆▇█"},
	} {
		if got := Sparkline(tc.in); got != tc.want {
			t.Errorf("Sparkline(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// The text report gains a USE column of sparklines only when the review kept them (a terminal
// asked for them); without, it is the report it always was.
func TestTheTextReportDrawsSparklinesOnlyWhenKept(t *testing.T) {
	n := 24 * 60
	l := loadFile(profile.Of("diurnal", n), constant(n, 1))
	var plain, sparked bytes.Buffer
	r := ReviewLoad(l, LoadOptions{File: "f", Capacity: Capacity{100, 10}, Draw: Draw{Sparklines: true}}, USEast1())
	if err := r.WithoutSparklines().WriteText(&plain); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteText(&sparked); err != nil {
		t.Fatal(err)
	}
	line := Sparkline(r.Tables[0].Sparkline)
	if strings.Contains(plain.String(), "USE") || strings.Contains(plain.String(), line) {
		t.Fatalf("without sparklines the text has them:\n%s", plain.String())
	}
	if !strings.Contains(sparked.String(), "USE  ") || !strings.Contains(sparked.String(), line+"  f ") || len([]rune(line)) != SparklinePoints {
		t.Fatalf("with sparklines the text lacks %q:\n%s", line, sparked.String())
	}
}

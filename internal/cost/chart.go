package cost

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Draw is what a review keeps of each table's use beyond its figures, for a picture of it:
// nothing unless asked, so that the report, and its JSON, stays the figures people read. A
// table's minutes are let go as soon as it is priced either way: what is kept is downsampled.
type Draw struct {
	// Charts keeps a chart's series (Report.Charts) for this many tables of the whole run:
	// those whose advice saves most (SavesMore). A run of 10,000 tables holds no more than this
	// many charts at any time.
	Charts int
	// Sparklines keeps each table's use in SparklinePoints stretches (TableCost.Sparkline).
	Sparklines bool
}

const (
	// ChartPoints is the most points a chart's series hold: an hour each over 14 days, a
	// few minutes each over a day, finer than a page draws them.
	ChartPoints = 360
	// SparklinePoints is how many stretches a sparkline cuts the window into: half a day each
	// over 14 days, one character each in a terminal.
	SparklinePoints = 28
)

// chartSteps are the stretches a chart's point may span, in minutes: the finest that keeps a
// window within ChartPoints is taken, so that a point starts on a round time.
var chartSteps = []int{1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440}

// Chart is one table's use over its window, downsampled for a chart: its own reads and
// writes (an index's capacity and use are in its figures, not drawn), as it is and as advised,
// and where it throttled. A point is Step long (the last may be shorter) and holds its busiest
// minute: a peak is never averaged away, and a throttled minute marks its point.
type Chart struct {
	Account string
	Region  string
	Table   string
	Start   time.Time
	Step    time.Duration
	// Minutes are the window's.
	Minutes int
	// Change is the advice charted: Advised is its capacity.
	Change        Change
	Reads, Writes ChartSeries
	// Throttled is, in each point, how many of its minutes the table (or an index of it)
	// throttled as it is, which Minutes total; AdvisedThrottled as advised.
	Throttled, AdvisedThrottled               []int
	ThrottledMinutes, AdvisedThrottledMinutes int
}

// ChartSeries is one dimension of a chart, in units a second, a value a point.
type ChartSeries struct {
	// Consumed is each point's busiest minute: its Sum / 60.
	Consumed []float64
	// Capacity is the most the table had in each point: its provisioned units, or an
	// auto-scaled one's capacity from CloudWatch's history; nil on demand (no capacity).
	Capacity []float64
	// Advised is the advised option's capacity: the right-sized units, or the auto scaling
	// simulation's minute by minute; nil when the advice has none to draw (keep: Capacity is
	// it; on demand).
	Advised []float64
}

// SavesMore orders tables for people deciding what to do: the advice that saves most first, a
// table without advice last, then by account, region and name. It is the order charts are
// kept in and the page lists tables in.
func SavesMore(a, b TableCost) int {
	if c := cmp.Compare(savings(b), savings(a)); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region), cmp.Compare(a.Table, b.Table))
}

func savings(t TableCost) float64 {
	if t.Recommendation == nil {
		return math.Inf(-1)
	}
	return t.Recommendation.MonthlySavingsUSD
}

// drawing is a review's Draw at work: the account its tables are in, and the charts kept
// across the run. Nil draws nothing.
type drawing struct {
	Draw
	account string
	charts  *chartKeeper
}

// newDrawing is a drawing of its own, for one region's review or one load.
func newDrawing(d Draw) *drawing {
	if d.Charts <= 0 && !d.Sparklines {
		return nil
	}
	return &drawing{Draw: d, charts: newChartKeeper(d.Charts)}
}

// in is the drawing for the units of one account, its charts kept with every other's.
func (d *drawing) in(account string) *drawing {
	if d == nil {
		return nil
	}
	c := *d
	c.account = account
	return &c
}

// kept are the charts kept, best first.
func (d *drawing) kept() []Chart {
	if d == nil {
		return nil
	}
	return d.charts.charts()
}

// table keeps what is drawn of a priced table: its sparkline, and its chart when its advice is
// among the run's that save most. loads are the table first, with their minutes; start is the
// window's first minute.
func (d *drawing) table(t *TableCost, loads []Load, a Advice, start time.Time) {
	if d == nil || len(loads) == 0 || loads[0].Minutes == nil {
		return
	}
	m := loads[0].Minutes
	if d.Sparklines {
		t.Sparkline = sparklineOf(m)
	}
	ranked := *t
	ranked.Account = d.account
	if a.marks == nil || !d.charts.admits(ranked) {
		return
	}
	d.charts.keep(ranked, chartOf(ranked, loads[0], a, start))
}

// sparklineOf is the table's reads and writes together, units a second, the busiest minute of
// each of SparklinePoints stretches of the window.
func sparklineOf(m *usage.Minutes) []float64 {
	n := len(m.Read)
	if n == 0 {
		return nil
	}
	points := min(n, SparklinePoints)
	s := make([]float64, points)
	for i := range n {
		p := i * points / n
		s[p] = max(s[p], (m.Read[i]+m.Write[i])/usage.Period.Seconds())
	}
	return s
}

// chartOf downsamples the table's own load for its chart: consumption and capacity as it is,
// the advised option's capacity (the simulation run again with the advised policies, to draw
// what it would have done), and each option's throttled minutes.
func chartOf(t TableCost, l Load, a Advice, start time.Time) Chart {
	m := l.Minutes
	n := len(m.Read)
	step := chartSteps[len(chartSteps)-1]
	for _, s := range chartSteps {
		if (n+s-1)/s <= ChartPoints {
			step = s
			break
		}
	}
	points := (n + step - 1) / step
	c := Chart{Account: t.Account, Region: t.Region, Table: t.Table, Start: start, Step: time.Duration(step) * time.Minute,
		Minutes: n, Change: a.Change}
	down := func(at func(int) float64) []float64 {
		s := make([]float64, points)
		for i := range n {
			s[i/step] = max(s[i/step], at(i))
		}
		return s
	}
	rate := func(units []float64) func(int) float64 {
		return func(i int) float64 { return units[i] / usage.Period.Seconds() }
	}
	c.Reads.Consumed, c.Writes.Consumed = down(rate(m.Read)), down(rate(m.Write))
	if t.Billing == wallet.BillingProvisioned {
		capacity := func(history []float64, scaled bool, units int64) []float64 {
			if scaled && history != nil {
				return down(func(i int) float64 { return math.Ceil(history[i] - 1e-9) })
			}
			return down(func(int) float64 { return float64(units) })
		}
		c.Reads.Capacity = capacity(m.ProvisionedRead, l.Scaling.Read != nil, l.Provisioned.Read)
		c.Writes.Capacity = capacity(m.ProvisionedWrite, l.Scaling.Write != nil, l.Provisioned.Write)
	}
	switch {
	case changesCapacity(a.Change) && len(a.RightSizedCapacity) > 0:
		right := a.RightSizedCapacity[0]
		c.Reads.Advised = down(func(int) float64 { return float64(right.Read) })
		c.Writes.Advised = down(func(int) float64 { return float64(right.Write) })
	case a.Change == AutoScale && len(a.AutoScaling) > 0:
		day := start.UTC().Hour()*60 + start.UTC().Minute()
		traced := func(units []float64, p autoscaling.Policy) []float64 {
			_, capacity := autoscaling.Trace(perSecond(units, day), p, nil)
			return down(func(i int) float64 { return float64(capacity[i]) })
		}
		c.Reads.Advised, c.Writes.Advised = traced(m.Read, a.AutoScaling[0].Read), traced(m.Write, a.AutoScaling[0].Write)
	}
	marks := func(set autoscaling.Minutes) ([]int, int) {
		s := make([]int, points)
		total := 0
		for i := range n {
			if set.Has(i) {
				s[i/step]++
				total++
			}
		}
		return s, total
	}
	c.Throttled, c.ThrottledMinutes = marks(a.marks.current)
	c.AdvisedThrottled, c.AdvisedThrottledMinutes = marks(a.marks.of(a.Change))
	return c
}

// throttleMarks are the minutes each option throttled, the table's loads together: what the
// throttled minutes of the report count, kept with the advice for a chart to mark.
type throttleMarks struct {
	current, rightSized, autoScaled, onDemand autoscaling.Minutes
}

// of is the option's minutes that a change advises.
func (m *throttleMarks) of(c Change) autoscaling.Minutes {
	switch {
	case c == Keep:
		return m.current
	case changesCapacity(c):
		return m.rightSized
	case c == AutoScale:
		return m.autoScaled
	}
	return m.onDemand
}

// chartKeeper keeps the charts of the n tables that save most, of every region and account of
// a run, safe for use by their reviews at once.
type chartKeeper struct {
	mu   sync.Mutex
	n    int
	kept []keptChart // best first, at most n
}

type keptChart struct {
	table TableCost
	chart Chart
}

func newChartKeeper(n int) *chartKeeper { return &chartKeeper{n: n} }

// admits reports whether a table's chart would be kept now: worth drawing only then.
func (k *chartKeeper) admits(t TableCost) bool {
	if k == nil || k.n <= 0 {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.kept) < k.n || SavesMore(t, k.kept[len(k.kept)-1].table) < 0
}

// keep adds a table's chart in its place, and lets go of the one it pushes out.
func (k *chartKeeper) keep(t TableCost, c Chart) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t.Sparkline, t.Notes = nil, nil // only its rank is kept
	i, _ := slices.BinarySearchFunc(k.kept, t, func(e keptChart, t TableCost) int { return SavesMore(e.table, t) })
	if i >= k.n {
		return
	}
	k.kept = slices.Insert(k.kept, i, keptChart{t, c})
	if len(k.kept) > k.n {
		k.kept[k.n] = keptChart{}
		k.kept = k.kept[:k.n]
	}
}

// charts are the charts kept, best first.
func (k *chartKeeper) charts() []Chart {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]Chart, len(k.kept))
	for i, e := range k.kept {
		out[i] = e.chart
	}
	return out
}

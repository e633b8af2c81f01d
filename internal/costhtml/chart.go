package costhtml

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// The chart's geometry, in SVG user units (pixels at 100 %): two panels, reads and writes, and
// two strips of throttled minutes under them, as it is and as advised.
const (
	chartWidth  = 1160
	plotLeft    = 64
	plotRight   = 1124
	plotWidth   = plotRight - plotLeft
	panelTitle  = 20  // a panel's title, above its plot
	panelHeight = 120 // its plot
	panelAxis   = 22  // its time axis, below
	stripTitle  = 14
	stripHeight = 10
	stripGap    = 8
)

// chartView is one table's chart and what goes with it.
type chartView struct {
	ID      string
	T       cost.TableCost
	Account string
	// Capacity, Advice and Context are the table's as the rows say them.
	Capacity, Advice, Context string
	Saves                     *float64
	Change                    cost.Change
	// CapacityLine and AdvisedLine say what the capacity lines are, or why there is none.
	CapacityLine, AdvisedLine string
	Width, Height             int
	// Left and PlotWidth place the plots.
	Left, PlotWidth, Right int
	Panels                 []panel
	Strips                 []strip
	// Throttled and AdvisedThrottled are the window's minutes throttled as it is and advised.
	Throttled, AdvisedThrottled int
	Window                      string
	Step                        string
}

// panel is one dimension: its paths and ticks, at its place in the chart.
type panel struct {
	Name                        string
	Y                           int // top of the plot
	Bottom                      int
	Consumed, Capacity, Advised string // SVG path data; empty: none
	YTicks                      []tick
	XTicks                      []tick
}

type tick struct {
	At    string // x or y of the tick, as a number
	Label string
}

// strip is a row of marks: the stretches in which the table throttled.
type strip struct {
	Label string
	Class string
	Y     int
	Marks []mark
}

type mark struct {
	X, Width string
	Title    string
}

func newChartView(id string, c cost.Chart, t cost.TableCost, account string) chartView {
	v := chartView{ID: id, T: t, Account: account, Capacity: cost.CapacityText(t), Change: c.Change,
		Width: chartWidth, Left: plotLeft, PlotWidth: plotWidth, Right: plotRight,
		Throttled: c.ThrottledMinutes, AdvisedThrottled: c.AdvisedThrottledMinutes, Step: stepText(c.Step)}
	if rec := t.Recommendation; rec != nil {
		v.Advice, v.Context, v.Saves = string(rec.Change), rec.Context, &rec.MonthlySavingsUSD
	}
	end := c.Start.Add(time.Duration(c.Minutes) * time.Minute)
	v.Window = c.Start.UTC().Format("2006-01-02 15:04") + " to " + end.UTC().Format("2006-01-02 15:04") + " UTC"
	switch {
	case c.Reads.Capacity == nil:
		v.CapacityLine = "on demand as it is: no capacity to exceed"
	case t.CurrentBasis == cost.BasisBilled:
		v.CapacityLine = "capacity as it is: what CloudWatch says it had, minute by minute"
	default:
		v.CapacityLine = fmt.Sprintf("capacity as it is: %d read and %d write units", t.Provisioned.Read, t.Provisioned.Write)
	}
	switch {
	case c.Change == cost.AutoScale:
		v.AdvisedLine = "auto scaled as advised: the simulation's capacity, minute by minute"
	case c.Reads.Advised != nil:
		v.AdvisedLine = "advised: " + string(c.Change) + " to the right-sized capacity"
	case c.Change == cost.ToOnDemand:
		v.AdvisedLine = "advised: on demand, which has no capacity to draw"
	case c.Change == cost.Keep:
		v.AdvisedLine = "advised: keep it as it is"
	}
	y := 0
	for _, d := range []struct {
		name string
		s    cost.ChartSeries
	}{{"Reads", c.Reads}, {"Writes", c.Writes}} {
		v.Panels = append(v.Panels, newPanel(d.name, d.s, c, y+panelTitle))
		y += panelTitle + panelHeight + panelAxis
	}
	for _, s := range []struct {
		label, class string
		per          []int
		total        int
	}{{"throttled as it is", "throttled", c.Throttled, c.ThrottledMinutes}, {"throttled as advised", "advised-throttled", c.AdvisedThrottled, c.AdvisedThrottledMinutes}} {
		st := strip{Label: fmt.Sprintf("%s: %s", s.label, minutes(s.total)), Class: s.class, Y: y + stripTitle}
		for i, n := range s.per {
			if n == 0 {
				continue
			}
			from := c.Start.Add(time.Duration(i) * c.Step)
			x0, x1 := xOf(c, i), xOf(c, i+1)
			st.Marks = append(st.Marks, mark{X: num(x0), Width: num(max(x1-x0, 1.5)),
				Title: fmt.Sprintf("%s from %s UTC", minutes(n), from.UTC().Format("2006-01-02 15:04"))})
		}
		v.Strips = append(v.Strips, st)
		y += stripTitle + stripHeight + stripGap
	}
	v.Height = y
	return v
}

// xOf is where point i of the chart starts.
func xOf(c cost.Chart, i int) float64 {
	step := c.Step.Minutes()
	return plotLeft + math.Min(float64(c.Minutes), float64(i)*step)/float64(max(c.Minutes, 1))*plotWidth
}

func newPanel(name string, s cost.ChartSeries, c cost.Chart, y int) panel {
	p := panel{Name: name + " (units a second)", Y: y, Bottom: y + panelHeight}
	top := 0.0
	for _, series := range [][]float64{s.Consumed, s.Capacity, s.Advised} {
		for _, v := range series {
			top = math.Max(top, v)
		}
	}
	top = nice(top)
	yOf := func(v float64) float64 { return float64(y+panelHeight) - v/top*panelHeight }
	p.Consumed = steps(c, s.Consumed, yOf, true)
	p.Capacity = steps(c, s.Capacity, yOf, false)
	p.Advised = steps(c, s.Advised, yOf, false)
	for _, v := range []float64{0, top / 2, top} {
		p.YTicks = append(p.YTicks, tick{At: num(yOf(v)), Label: units(v)})
	}
	p.XTicks = timeTicks(c)
	return p
}

// steps is a series as a step line (each point flat over its stretch), closed down to the axis
// when filled; "" for no series.
func steps(c cost.Chart, s []float64, yOf func(float64) float64, filled bool) string {
	if len(s) == 0 {
		return ""
	}
	var b strings.Builder
	base := yOf(0)
	if filled {
		fmt.Fprintf(&b, "M%s %sV%s", num(xOf(c, 0)), num(base), num(yOf(s[0])))
	} else {
		fmt.Fprintf(&b, "M%s %s", num(xOf(c, 0)), num(yOf(s[0])))
	}
	last := s[0]
	for i, v := range s {
		if i > 0 && v != last {
			fmt.Fprintf(&b, "H%sV%s", num(xOf(c, i)), num(yOf(v)))
			last = v
		}
	}
	fmt.Fprintf(&b, "H%s", num(xOf(c, len(s))))
	if filled {
		fmt.Fprintf(&b, "V%sZ", num(base))
	}
	return b.String()
}

// timeTicks mark the window at round times, no more than 8 of them.
func timeTicks(c cost.Chart) []tick {
	window := time.Duration(c.Minutes) * time.Minute
	every := 7 * 24 * time.Hour
	for _, d := range []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour} {
		if window/d <= 8 {
			every = d
			break
		}
	}
	layout := "Jan 02"
	if every < 24*time.Hour {
		layout = "Jan 02 15:04"
	}
	var ticks []tick
	end := c.Start.Add(window)
	for at := c.Start.UTC().Truncate(every); !at.After(end); at = at.Add(every) {
		if at.Before(c.Start) {
			continue
		}
		x := plotLeft + at.Sub(c.Start).Minutes()/float64(max(c.Minutes, 1))*plotWidth
		ticks = append(ticks, tick{At: num(x), Label: at.Format(layout)})
	}
	return ticks
}

// nice rounds a top of scale up to 1, 2 or 5 times a power of ten: a scale people read.
func nice(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p*(1+1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// num is a coordinate to a tenth: enough at any zoom, short in the page.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func units(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func minutes(n int) string {
	if n == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", n)
}

func stepText(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		if d == time.Hour {
			return "an hour"
		}
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Minute:
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

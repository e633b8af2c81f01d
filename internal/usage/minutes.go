package usage

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"golang.org/x/sync/errgroup"
)

// Request is one source to read minute by minute.
type Request struct {
	Source Source
	// Provisioned also reads its ProvisionedReadCapacityUnits and ProvisionedWriteCapacityUnits:
	// the capacity an auto-scaled table or index had, minute by minute, which is what it was
	// billed for (DescribeTable shows only the capacity of the instant it is read).
	Provisioned bool
}

func (r Request) metrics() int {
	if r.Provisioned {
		return 4
	}
	return 2
}

// provisionedMetrics are read for a Request with Provisioned, after metrics: their statistic
// is the minute's Maximum, the most it was billed for in it.
var provisionedMetrics = [2]string{"ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits"}

// Minutes is one source's use over a window, minute by minute: index 0 is the window's first
// minute.
type Minutes struct {
	Consumed
	// Read and Write are the units consumed in each minute (its Sum; 0 for a minute without a
	// datapoint, which DynamoDB publishes for no minute without requests).
	Read, Write []float64
	// ProvisionedRead and ProvisionedWrite are the capacity in each minute, a minute without a
	// datapoint taking the one before's (the first known, before any), since capacity holds
	// until it changes; nil when not asked for or CloudWatch has none in the window.
	ProvisionedRead, ProvisionedWrite []float64
}

// Billed is the average capacity over the window, reads and writes; ok is false without data.
func (m Minutes) Billed() (read, write float64, ok bool) {
	if m.ProvisionedRead == nil || m.ProvisionedWrite == nil {
		return 0, 0, false
	}
	return mean(m.ProvisionedRead), mean(m.ProvisionedWrite), true
}

func mean(s []float64) float64 {
	var t float64
	for _, v := range s {
		t += v
	}
	return t / float64(max(1, len(s)))
}

// ReadMinutes reads every source of every group minute by minute over the window, which must
// be one-minute data (at most MinuteDataDays long), and hands each group's Minutes to each, in
// the group's order, as soon as the group is complete: cost prices a table (one group: it and
// its indexes) and lets its series go, so a region of 10,000 tables is never in memory at once.
// Calls are sized as Read's (each within one page and 500 queries), run concurrency at a time,
// and a group may span calls; each may be called from several goroutines at once. The first
// failing call fails the read: the groups not yet handed over are not.
func ReadMinutes(ctx context.Context, cw CloudWatch, w Window, groups [][]Request, concurrency int, each func(group int, got []Minutes)) error {
	if w.period() != Period {
		return fmt.Errorf("read %s to %s minute by minute: CloudWatch keeps one-minute data %d days", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), MinuteDataDays)
	}
	n := w.points()
	type slot struct{ group, index int }
	var calls [][]slot
	var call []slot
	queries := 0
	for g, rs := range groups {
		for i, r := range rs {
			q := r.metrics()
			if len(call) > 0 && ((queries+q)*n > maxPointsPerCall || queries+q > maxQueriesPerCall) {
				calls = append(calls, call)
				call, queries = nil, 0
			}
			call = append(call, slot{g, i})
			queries += q
		}
	}
	if len(call) > 0 {
		calls = append(calls, call)
	}

	got := make([][]Minutes, len(groups))
	pending := make([]int, len(groups))
	for g, rs := range groups {
		pending[g] = len(rs)
	}
	var mu sync.Mutex // guards got's allocation and pending
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	for _, c := range calls {
		g.Go(func() error {
			reqs := make([]Request, len(c))
			into := make([]*Minutes, len(c))
			mu.Lock()
			for i, s := range c {
				if got[s.group] == nil {
					got[s.group] = make([]Minutes, len(groups[s.group]))
				}
				reqs[i], into[i] = groups[s.group][s.index], &got[s.group][s.index]
			}
			mu.Unlock()
			if err := readMinutes(gctx, cw, w, reqs, into); err != nil {
				return err
			}
			var done []int
			mu.Lock()
			for _, s := range c {
				if pending[s.group]--; pending[s.group] == 0 {
					done = append(done, s.group)
				}
			}
			mu.Unlock()
			for _, d := range done {
				each(d, got[d])
				mu.Lock()
				got[d] = nil // handed over: its series are the caller's to keep or let go
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for gi, rs := range groups { // a group without sources
		if len(rs) == 0 {
			each(gi, nil)
		}
	}
	return nil
}

// readMinutes fills into[i] with reqs[i]'s minutes, in one GetMetricData call and its pages.
func readMinutes(ctx context.Context, cw CloudWatch, w Window, reqs []Request, into []*Minutes) error {
	n := w.points()
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(w.Start), EndTime: aws.Time(w.End), ScanBy: cwtypes.ScanByTimestampAscending}
	for i, r := range reqs {
		m := into[i]
		m.Read, m.Write = make([]float64, n), make([]float64, n)
		names := metrics[:]
		if r.Provisioned {
			names = append(append([]string(nil), metrics[:]...), provisionedMetrics[:]...)
			m.ProvisionedRead, m.ProvisionedWrite = nanSeries(n), nanSeries(n)
		}
		for k, name := range names {
			stat := "Sum"
			if k >= len(metrics) {
				stat = "Maximum"
			}
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("m%d_%d", i, k)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(name), Dimensions: r.Source.dimensions()},
					Period: aws.Int32(int32(Period / time.Second)),
					Stat:   aws.String(stat),
				},
			})
		}
	}
	p := cloudwatch.NewGetMetricDataPaginator(cw, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read consumed capacity from CloudWatch: %w", err)
		}
		for _, res := range page.MetricDataResults {
			var i, k int
			if _, err := fmt.Sscanf(aws.ToString(res.Id), "m%d_%d", &i, &k); err != nil || i >= len(reqs) || k >= reqs[i].metrics() {
				return fmt.Errorf("CloudWatch answered query %q, which was not asked", aws.ToString(res.Id))
			}
			name := metricName(k)
			if res.StatusCode != cwtypes.StatusCodeComplete && res.StatusCode != cwtypes.StatusCodePartialData {
				return fmt.Errorf("read %s of %s from CloudWatch: status %s%s", name, reqs[i].Source, res.StatusCode, messages(res.Messages))
			}
			if len(res.Timestamps) != len(res.Values) {
				return fmt.Errorf("read %s of %s from CloudWatch: %d timestamps for %d values", name, reqs[i].Source, len(res.Timestamps), len(res.Values))
			}
			m := into[i]
			series := [4][]float64{m.Read, m.Write, m.ProvisionedRead, m.ProvisionedWrite}[k]
			for j, v := range res.Values {
				at := int(res.Timestamps[j].Sub(w.Start) / Period)
				if at < 0 || at >= n || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
					continue // outside the window asked for, or no number: not this window's use
				}
				if k >= len(metrics) {
					series[at] = max(v, nanTo(series[at], v))
					continue
				}
				series[at] += v
				m.Datapoints++
				if k == 0 {
					m.ReadUnits += v
				} else {
					m.WriteUnits += v
				}
			}
		}
	}
	for _, m := range into {
		for _, v := range m.Read {
			m.ReadPeak = max(m.ReadPeak, v/Period.Seconds())
		}
		for _, v := range m.Write {
			m.WritePeak = max(m.WritePeak, v/Period.Seconds())
		}
		if !carry(m.ProvisionedRead) || !carry(m.ProvisionedWrite) {
			m.ProvisionedRead, m.ProvisionedWrite = nil, nil
		}
	}
	return nil
}

func metricName(k int) string {
	if k < len(metrics) {
		return metrics[k]
	}
	return provisionedMetrics[k-len(metrics)]
}

func nanSeries(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = math.NaN()
	}
	return s
}

func nanTo(v, instead float64) float64 {
	if math.IsNaN(v) {
		return instead
	}
	return v
}

// carry fills each minute without a datapoint with the capacity before it (the first known,
// before any): capacity holds until it changes. False when s has no datapoint at all.
func carry(s []float64) bool {
	first := -1
	for i, v := range s {
		if !math.IsNaN(v) {
			first = i
			break
		}
	}
	if first < 0 {
		return s == nil
	}
	for i := range first {
		s[i] = s[first]
	}
	for i := first + 1; i < len(s); i++ {
		if math.IsNaN(s[i]) {
			s[i] = s[i-1]
		}
	}
	return true
}

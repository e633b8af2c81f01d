package usage

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// put writes one-minute Sums into moto's CloudWatch. They stand in for the metrics DynamoDB
// publishes itself, which no local cloud produces.
func put(t *testing.T, cw *cloudwatch.Client, s Source, metric string, at time.Time, sum float64) {
	t.Helper()
	_, err := cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("AWS/DynamoDB"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String(metric),
			Dimensions: s.dimensions(),
			Timestamp:  aws.Time(at),
			Value:      aws.Float64(sum),
			Unit:       cwtypes.StandardUnitCount,
		}},
	})
	if err != nil {
		t.Fatalf("put %s %s: %v", s, metric, err)
	}
}

func TestReadSumsAndPeaksPerTableAndIndex(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("eu-central-1"))
	if err != nil {
		t.Fatal(err)
	}
	cw := NewCloudWatch(cfg)
	now := time.Now().UTC()
	w := LastDays(now, MinuteDataDays)
	if w.Hours() != 15*24 || !w.End.After(now) || w.End.Sub(now) > Period || now.Sub(w.Start) > 15*24*time.Hour {
		t.Fatalf("window %v – %v for now %v: want 15 days ending after now's minute, within 1-minute data's life", w.Start, w.End, now)
	}

	table := Source{Table: "busy"}
	index := Source{Table: "busy", Index: "by_balance"}
	other := Source{Table: "other"}
	minute := func(ago int) time.Time { return now.Truncate(Period).Add(-time.Duration(ago) * Period) }
	put(t, cw, table, metrics[0], minute(0), 6) // the minute under way counts
	put(t, cw, table, metrics[0], minute(10), 84)
	put(t, cw, table, metrics[0], minute(14*24*60), 30) // 14 days ago: in the window
	put(t, cw, table, metrics[1], minute(20), 42)
	put(t, cw, index, metrics[0], minute(10), 120) // the index's own, apart from the table's
	put(t, cw, other, metrics[1], minute(16*24*60), 9000)
	put(t, cw, other, metrics[1], minute(3), 3)

	// Five sources over 15 days: two a call (each call's data within one page), so three calls.
	sources := []Source{table, index, other, {Table: "quiet"}, {Table: "quiet", Index: "by_balance"}}
	got, err := Read(t.Context(), cw, w, sources, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Source]Consumed{
		table:      {ReadUnits: 120, ReadPeak: 1.4, WriteUnits: 42, WritePeak: 0.7, Datapoints: 4},
		index:      {ReadUnits: 120, ReadPeak: 2, Datapoints: 1},
		other:      {WriteUnits: 3, WritePeak: 0.05, Datapoints: 1}, // 16 days ago is outside
		sources[3]: {},
		sources[4]: {},
	}
	for s, w := range want {
		g := got[s]
		if math.Abs(g.ReadUnits-w.ReadUnits) > 1e-9 || math.Abs(g.ReadPeak-w.ReadPeak) > 1e-9 ||
			math.Abs(g.WriteUnits-w.WriteUnits) > 1e-9 || math.Abs(g.WritePeak-w.WritePeak) > 1e-9 || g.Datapoints != w.Datapoints {
			t.Errorf("%s: got %+v, want %+v", s, g, w)
		}
	}
	if len(got) != len(sources) {
		t.Errorf("got %d sources, want %d", len(got), len(sources))
	}
}

// CloudWatch pages at 100,800 points; sized calls keep each call's data within one page. A spy
// in front of moto counts the calls.
func TestCallsAreSizedToOnePage(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("eu-north-1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		days, sources, calls int
	}{{1, 100, 3}, {3, 12, 2}, {14, 5, 3}, {15, 5, 3}, {15, 1, 1}} {
		w := LastDays(time.Now(), tc.days)
		spy := &spyCW{CloudWatch: NewCloudWatch(cfg)}
		sources := make([]Source, tc.sources)
		for i := range sources {
			sources[i] = Source{Table: fmt.Sprintf("t%03d", i)}
		}
		got, err := Read(t.Context(), spy, w, sources, 4)
		if err != nil {
			t.Fatal(err)
		}
		if spy.calls.Load() != int64(tc.calls) || int(spy.maxQueries.Load())*w.points() > maxPointsPerCall || len(got) != tc.sources {
			t.Errorf("%d days, %d sources: %d calls of up to %d queries, %d results; want %d calls within %d points",
				tc.days, tc.sources, spy.calls.Load(), spy.maxQueries.Load(), len(got), tc.calls, maxPointsPerCall)
		}
	}
}

type spyCW struct {
	CloudWatch
	calls, maxQueries atomic.Int64
}

func (s *spyCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	s.calls.Add(1)
	for n := int64(len(in.MetricDataQueries)); ; {
		m := s.maxQueries.Load()
		if n <= m || s.maxQueries.CompareAndSwap(m, n) {
			break
		}
	}
	return s.CloudWatch.GetMetricData(ctx, in, o...)
}

// A table created inside the window is judged on its life only: metrics from before its
// creation are an earlier table's of the same name.
func TestSinceCutsTheWindowAtCreation(t *testing.T) {
	now := time.Date(2026, 12, 2, 11, 0, 30, 0, time.UTC)
	w := LastDays(now, 14)
	if cut, young := w.Since(now.Add(-15 * 24 * time.Hour)); young || cut != w {
		t.Fatalf("a table older than the window: %v, young %v", cut, young)
	}
	if cut, young := w.Since(time.Time{}); young || cut != w {
		t.Fatalf("an unknown creation time keeps the window: %v, young %v", cut, young)
	}
	created := now.Add(-time.Hour + 15*time.Second) // 09:59:45 → the window starts at 09:59
	cut, young := w.Since(created)
	if !young || !cut.Start.Equal(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)) || cut.End != w.End {
		t.Fatalf("an hour-old table: %v – %v, young %v", cut.Start, cut.End, young)
	}
	if cut, _ := w.Since(now.Add(time.Hour)); !cut.Start.Before(cut.End) {
		t.Fatalf("a creation time after now (a skewed clock) still leaves a window: %v – %v", cut.Start, cut.End)
	}
}

// A result CloudWatch could not read comes with no values, which would read as no use at all
// (and an idle table). moto always answers Complete, so a wrapper rewrites moto's answer to
// Forbidden: the one fault here no local cloud produces.
func TestAResultCloudWatchCouldNotReadIsAFailedRead(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("eu-south-2"))
	if err != nil {
		t.Fatal(err)
	}
	cw := forbiddenCW{NewCloudWatch(cfg)}
	_, err = Read(t.Context(), cw, LastDays(time.Now(), 1), []Source{{Table: "hidden"}}, 1)
	if err == nil || !strings.Contains(err.Error(), "Forbidden") || !strings.Contains(err.Error(), "hidden") {
		t.Fatalf("want a failed read naming the status and the table, got %v", err)
	}
	if _, err := Read(t.Context(), NewCloudWatch(cfg), LastDays(time.Now(), 1), []Source{{Table: "hidden"}}, 1); err != nil {
		t.Fatalf("the same read, answered Complete: %v", err)
	}
}

type forbiddenCW struct{ CloudWatch }

func (f forbiddenCW) GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, o ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	out, err := f.CloudWatch.GetMetricData(ctx, in, o...)
	if err == nil && len(out.MetricDataResults) > 0 {
		out.MetricDataResults[0].StatusCode = cwtypes.StatusCodeForbidden
		out.MetricDataResults[0].Messages = []cwtypes.MessageData{{Code: aws.String("Forbidden"), Value: aws.String("no access to AWS/DynamoDB")}}
	}
	return out, err
}

// The sweep's idle check reads windows longer than CloudWatch keeps one-minute data: each is read
// at a grain CloudWatch still has that far back, in whole minutes.
func TestPeriodStaysWithinCloudWatchRetention(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, d := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 14 * 24 * time.Hour, 15 * 24 * time.Hour, 30 * 24 * time.Hour, 63 * 24 * time.Hour, 400 * 24 * time.Hour} {
		w := Last(now, d)
		p := w.period()
		if p%time.Minute != 0 || w.points() > maxPointsPerCall/len(metrics) {
			t.Errorf("window %v: period %v, %d points (must be whole minutes and fit one call)", d, p, w.points())
		}
		if d <= MinuteDataDays*24*time.Hour && p != Period {
			t.Errorf("window %v: period %v, want the one-minute Sum cost prices peaks on", d, p)
		}
		if d > MinuteDataDays*24*time.Hour && p%(5*time.Minute) != 0 || d > 63*24*time.Hour && p%time.Hour != 0 {
			t.Errorf("window %v: period %v finer than CloudWatch keeps that far back", d, p)
		}
	}
}

// Minute by minute: each source's Sums where they fall in the window, zero elsewhere; an
// auto-scaled source's provisioned capacity carried over the minutes CloudWatch has no
// datapoint for (and back to the window's start), and nothing for a source with none. The
// datapoints are written with PutMetricData: a stand-in for what DynamoDB publishes itself.
func TestReadMinutesGivesEachMinuteAndCarriesCapacity(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cfg, err := config.LoadDefaultConfig(t.Context(), config.WithRegion("ap-northeast-3"))
	if err != nil {
		t.Fatal(err)
	}
	cw := NewCloudWatch(cfg)
	now := time.Now().UTC()
	w := LastDays(now, 1)
	minute := func(i int) time.Time { return w.Start.Add(time.Duration(i) * Period) }
	scaled := Source{Table: "minutes-scaled"}
	index := Source{Table: "minutes-scaled", Index: "by_balance"}
	fixed := Source{Table: "minutes-fixed"}
	put(t, cw, scaled, metrics[0], minute(3), 120)
	put(t, cw, scaled, metrics[0], minute(4).Add(30*time.Second), 60) // inside minute 4
	put(t, cw, scaled, metrics[1], minute(1439), 6)                   // the window's last minute
	put(t, cw, scaled, provisionedMetrics[0], minute(10), 5)
	put(t, cw, scaled, provisionedMetrics[0], minute(20), 12)
	put(t, cw, scaled, provisionedMetrics[1], minute(0), 1)
	put(t, cw, index, metrics[1], minute(7), 30)
	put(t, cw, fixed, metrics[0], minute(2), 9)

	groups := [][]Request{
		{{Source: scaled, Provisioned: true}, {Source: index, Provisioned: true}},
		{{Source: fixed}},
	}
	var mu sync.Mutex
	got := map[int][]Minutes{}
	spy := &spyCW{CloudWatch: cw}
	err = ReadMinutes(t.Context(), spy, w, groups, 2, func(g int, m []Minutes) {
		mu.Lock()
		defer mu.Unlock()
		if _, twice := got[g]; twice {
			t.Errorf("group %d handed over twice", g)
		}
		got[g] = m
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0]) != 2 || len(got[1]) != 1 {
		t.Fatalf("groups handed over: %v", got)
	}
	s := got[0][0]
	if len(s.Read) != 1440 || s.Read[3] != 120 || s.Read[4] != 60 || s.Read[5] != 0 || s.Write[1439] != 6 ||
		s.ReadUnits != 180 || s.ReadPeak != 2 || s.WritePeak != 0.1 || s.Datapoints != 3 {
		t.Fatalf("the scaled table's minutes: units %v/%v, peaks %v/%v, %d datapoints, minutes 3–5 %v, last write %v",
			s.ReadUnits, s.WriteUnits, s.ReadPeak, s.WritePeak, s.Datapoints, s.Read[3:6], s.Write[1439])
	}
	// Reads at 5 from minute 10 (and back to the start), 12 from minute 20; writes at 1 all day.
	if s.ProvisionedRead[0] != 5 || s.ProvisionedRead[19] != 5 || s.ProvisionedRead[20] != 12 || s.ProvisionedRead[1439] != 12 || s.ProvisionedWrite[700] != 1 {
		t.Fatalf("provisioned capacity carried: reads %v %v %v %v, writes %v", s.ProvisionedRead[0], s.ProvisionedRead[19], s.ProvisionedRead[20], s.ProvisionedRead[1439], s.ProvisionedWrite[700])
	}
	if r, wr, ok := s.Billed(); !ok || math.Abs(r-(5*20+12*1420)/1440.0) > 1e-9 || wr != 1 {
		t.Fatalf("billed %v/%v (%v)", r, wr, ok)
	}
	if ix := got[0][1]; ix.Write[7] != 30 || ix.ProvisionedRead != nil || ix.ProvisionedWrite != nil {
		t.Fatalf("the index: write %v, provisioned %v/%v (CloudWatch has none: nil, not zeros)", ix.Write[7], ix.ProvisionedRead, ix.ProvisionedWrite)
	}
	if f := got[1][0]; f.Read[2] != 9 || f.ProvisionedRead != nil {
		t.Fatalf("the fixed table: %v, provisioned %v", f.Read[2], f.ProvisionedRead)
	}
	// One day of minutes: 4 + 4 + 2 queries of 1,440 points fit one call.
	if spy.calls.Load() != 1 || spy.maxQueries.Load() != 10 {
		t.Fatalf("%d calls of up to %d queries", spy.calls.Load(), spy.maxQueries.Load())
	}

	// Fifteen days: a source with its capacity is 4 × 21,600 points, one a call.
	spy = &spyCW{CloudWatch: cw}
	n := 0
	if err := ReadMinutes(t.Context(), spy, LastDays(now, MinuteDataDays), groups, 2, func(int, []Minutes) { mu.Lock(); n++; mu.Unlock() }); err != nil {
		t.Fatal(err)
	}
	if spy.calls.Load() != 3 || n != 2 {
		t.Fatalf("15 days: %d calls, %d groups; want 3 calls (one a source) and both groups", spy.calls.Load(), n)
	}
	// Longer than CloudWatch keeps minutes: refused, not read at a coarser grain.
	if err := ReadMinutes(t.Context(), cw, LastDays(now, 16), groups, 1, func(int, []Minutes) {}); err == nil || !strings.Contains(err.Error(), "15 days") {
		t.Fatalf("16 days minute by minute: %v", err)
	}
}

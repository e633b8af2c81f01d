package usage

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"golang.org/x/sync/errgroup"
)

// Held is the least provisioned capacity a source had at any moment of a window: what it held
// through the whole window, which is what reserved capacity can be bought on. Known is false
// when CloudWatch had no datapoint of it (a local endpoint, a table with no metrics yet).
type Held struct {
	Read, Write float64
	Known       bool
}

var heldMetrics = [2]string{"ProvisionedReadCapacityUnits", "ProvisionedWriteCapacityUnits"}

// ReadHeld asks CloudWatch for the Minimum of each source's ProvisionedReadCapacityUnits and
// ProvisionedWriteCapacityUnits over the window, as one period (one datapoint a series), in calls
// of at most maxQueriesPerCall queries run concurrency at a time.
func ReadHeld(ctx context.Context, cw CloudWatch, w Window, sources []Source, concurrency int) (map[Source]Held, error) {
	got := make([]Held, len(sources))
	perCall := maxQueriesPerCall / len(heldMetrics)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	for first := 0; first < len(sources); first += perCall {
		last := min(first+perCall, len(sources))
		g.Go(func() error { return readHeld(gctx, cw, w, sources[first:last], got[first:last]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[Source]Held, len(sources))
	for i, s := range sources {
		out[s] = got[i]
	}
	return out, nil
}

func readHeld(ctx context.Context, cw CloudWatch, w Window, sources []Source, got []Held) error {
	// One period spanning the window, in whole minutes (CloudWatch wants a multiple of 60 s).
	period := max(Period, w.End.Sub(w.Start).Truncate(Period))
	in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(w.Start), EndTime: aws.Time(w.End)}
	for i, s := range sources {
		for m, name := range heldMetrics {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("h%d_%d", i, m)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{Namespace: aws.String("AWS/DynamoDB"), MetricName: aws.String(name), Dimensions: s.dimensions()},
					Period: aws.Int32(int32(min(period, 455*24*time.Hour) / time.Second)),
					Stat:   aws.String("Minimum"),
				},
			})
		}
	}
	for i := range got {
		got[i] = Held{Read: math.Inf(1), Write: math.Inf(1)}
	}
	p := cloudwatch.NewGetMetricDataPaginator(cw, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read provisioned capacity from CloudWatch: %w", err)
		}
		for _, r := range page.MetricDataResults {
			var i, m int
			if _, err := fmt.Sscanf(aws.ToString(r.Id), "h%d_%d", &i, &m); err != nil || i >= len(got) || m >= len(heldMetrics) {
				return fmt.Errorf("CloudWatch answered query %q, which was not asked", aws.ToString(r.Id))
			}
			if r.StatusCode != cwtypes.StatusCodeComplete && r.StatusCode != cwtypes.StatusCodePartialData {
				return fmt.Errorf("read %s of %s from CloudWatch: status %s%s", heldMetrics[m], sources[i], r.StatusCode, messages(r.Messages))
			}
			for _, v := range r.Values {
				if math.IsNaN(v) || v < 0 {
					continue
				}
				got[i].Known = true
				if m == 0 {
					got[i].Read = min(got[i].Read, v)
				} else {
					got[i].Write = min(got[i].Write, v)
				}
			}
		}
	}
	for i := range got {
		if math.IsInf(got[i].Read, 1) || math.IsInf(got[i].Write, 1) {
			got[i] = Held{} // both dimensions or neither: half a minimum is no minimum
		}
	}
	return nil
}

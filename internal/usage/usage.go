// Package usage reads what DynamoDB tables and their global secondary indexes consumed, from the
// metrics DynamoDB itself publishes to CloudWatch (AWS/DynamoDB ConsumedReadCapacityUnits and
// ConsumedWriteCapacityUnits). Their finest grain is the one-minute Sum, which CloudWatch keeps
// for 15 days: a peak read here is the busiest minute's average, never a one-second burst inside
// it.
package usage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"
	"golang.org/x/sync/errgroup"
)

// CloudWatch is the one call this package makes: a metric read, never a write.
type CloudWatch interface {
	GetMetricData(ctx context.Context, in *cloudwatch.GetMetricDataInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error)
}

// NewCloudWatch builds the project's one kind of CloudWatch client (usage, the sweep's idle check
// and cost all read metrics through it). It speaks awsQuery: the SDK's default CBOR is not served
// by the local clouds (moto, LocalStack), awsQuery is served everywhere.
func NewCloudWatch(cfg aws.Config) *cloudwatch.Client {
	return cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) {
		o.Protocol = awsquery.New(smithy.NewServiceSchema(nil, "2010-08-01"))
		if r, ok := o.Retryer.(aws.RetryerV2); ok {
			o.Retryer = servedRetryer{r}
		}
	})
}

// servedRetryer does not retry an endpoint that does not serve CloudWatch: it answers the same
// every time, and the retries only make the user wait.
type servedRetryer struct{ aws.RetryerV2 }

func (r servedRetryer) IsErrorRetryable(err error) bool {
	return !Unserved(err) && r.RetryerV2.IsErrorRetryable(err)
}

const (
	// Period is the grain read: DynamoDB publishes consumed capacity as one Sum a minute.
	Period = time.Minute
	// MaxDays is how long CloudWatch keeps one-minute data; older data is kept only as
	// 5-minute and then hourly aggregates, whose Sums cannot show a peak per second.
	MaxDays = 15
	// maxPointsPerCall is what one GetMetricData call returns before it paginates.
	maxPointsPerCall = 100_800
	// maxQueriesPerCall is GetMetricData's limit on queries in one call.
	maxQueriesPerCall = 500
)

// Source is a table, or one of its global secondary indexes, which have capacity of their own.
type Source struct {
	Table string
	Index string // empty: the table itself
}

func (s Source) String() string {
	if s.Index == "" {
		return s.Table
	}
	return s.Table + " index " + s.Index
}

// Sources are a table and its global secondary indexes: what it consumed is theirs together.
func Sources(d *types.TableDescription) []Source {
	name := aws.ToString(d.TableName)
	s := []Source{{Table: name}}
	for _, g := range d.GlobalSecondaryIndexes {
		s = append(s, Source{Table: name, Index: aws.ToString(g.IndexName)})
	}
	return s
}

// Unused: no source consumed a single unit in what was read.
func Unused(consumed map[Source]Consumed) bool {
	for _, c := range consumed {
		if c.ReadUnits > 0 || c.WriteUnits > 0 {
			return false
		}
	}
	return true
}

func (s Source) dimensions() []cwtypes.Dimension {
	d := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(s.Table)}}
	if s.Index != "" {
		d = append(d, cwtypes.Dimension{Name: aws.String("GlobalSecondaryIndexName"), Value: aws.String(s.Index)})
	}
	return d
}

// Consumed is what a source used in a window, in capacity units (one unit is one request unit
// of on-demand billing: the same 4 KB read or 1 KB write).
type Consumed struct {
	ReadUnits, WriteUnits float64 // the Sums of every minute in the window
	// ReadPeak and WritePeak are the busiest minute's Sum / 60: units per second (the busiest
	// period's, in a window read at a coarser grain).
	ReadPeak, WritePeak float64
	// Datapoints counts the minutes that had data, reads and writes together: DynamoDB
	// publishes nothing for a minute without requests, so zero means no data, not zero use.
	Datapoints int
}

// Window is the stretch of time read, in whole minutes.
type Window struct{ Start, End time.Time }

// LastDays is the window of the days before now, ending after now's minute so that the minute
// under way counts, and starting no earlier than days ago, where one-minute data still lives.
func LastDays(now time.Time, days int) Window {
	return Last(now, time.Duration(days)*24*time.Hour)
}

// Last is the window of d before now, ending after now's minute so that the minute under way
// counts. Longer than MaxDays, it is read at a coarser grain (see Read).
func Last(now time.Time, d time.Duration) Window {
	end := now.UTC().Truncate(Period).Add(Period)
	return Window{Start: end.Add(-d), End: end}
}

// Since is the window cut to start at a source's creation, when it was created after the window
// began: a table's metrics from before then are an earlier table's of the same name, and its
// life is all there is to judge it on. The start is the minute of creation, where the first
// one-minute Sum lies; young reports whether the window was cut.
func (w Window) Since(created time.Time) (cut Window, young bool) {
	if created.IsZero() || !created.After(w.Start) {
		return w, false
	}
	start := created.UTC().Truncate(Period)
	if !start.Before(w.End) {
		start = w.End.Add(-Period)
	}
	return Window{Start: start, End: w.End}, true
}

// Hours is the window's length: what a month's cost is extrapolated from.
func (w Window) Hours() float64 { return w.End.Sub(w.Start).Hours() }

// period is the grain the window is read at: the one-minute Sum as far back as CloudWatch keeps
// it (15 days), then 5-minute Sums (63 days), then hourly. A finer period asked for data older
// than that returns no datapoints, which would read as no use. Windows end now, so their
// length is how far back they reach.
func (w Window) period() time.Duration {
	switch span := w.End.Sub(w.Start); {
	case span > 63*24*time.Hour:
		return time.Hour
	case span > MaxDays*24*time.Hour:
		return 5 * time.Minute
	}
	return Period
}

func (w Window) points() int { return int(w.End.Sub(w.Start) / w.period()) }

// Unserved reports an endpoint that answered, but not as CloudWatch: DynamoDB Local, which serves
// DynamoDB alone, answers a CloudWatch call with an empty HTTP 500; other single-service
// emulators with an unknown operation. CloudWatch itself always answers in its protocol, so
// there an error is a failure to read, never a missing service.
func Unserved(err error) bool {
	var de *smithy.DeserializationError
	if errors.As(err, &de) && errors.Is(de.Err, io.EOF) { // an empty body, not a cut-off one
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "UnknownOperationException", "InvalidAction", "NotImplemented":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusNotFound || re.HTTPStatusCode() == http.StatusNotImplemented)
}

var metrics = [2]string{"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"}

// Read asks CloudWatch for the consumption of every source in the window: cost reads it to
// price a table, the sweep's idle check to find one nobody uses. Sources are read in
// calls sized so that each call's data fits in one page (CloudWatch pages at 100,800 points: a
// 15-day series of minutes has 21,600), and the calls run `concurrency` at a time; the SDK's
// paginator still follows a NextToken should one come. A source without data gets a zero
// Consumed. The first failing call fails Read: CloudWatch is one regional service, and what
// refuses one call refuses the next.
func Read(ctx context.Context, cw CloudWatch, w Window, sources []Source, concurrency int) (map[Source]Consumed, error) {
	got := make([]Consumed, len(sources))
	perCall := max(1, min(maxPointsPerCall/(len(metrics)*max(1, w.points())), maxQueriesPerCall/len(metrics)))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	for first := 0; first < len(sources); first += perCall {
		last := min(first+perCall, len(sources))
		g.Go(func() error { return read(gctx, cw, w, sources[first:last], got[first:last]) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make(map[Source]Consumed, len(sources))
	for i, s := range sources {
		out[s] = got[i]
	}
	return out, nil
}

// read fills got[i] with the consumption of sources[i], in one GetMetricData call and its pages.
func read(ctx context.Context, cw CloudWatch, w Window, sources []Source, got []Consumed) error {
	period := w.period()
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(w.Start),
		EndTime:   aws.Time(w.End),
		ScanBy:    cwtypes.ScanByTimestampAscending,
	}
	for i, s := range sources {
		for m, name := range metrics {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("m%d_%d", i, m)),
				MetricStat: &cwtypes.MetricStat{
					Metric: &cwtypes.Metric{
						Namespace:  aws.String("AWS/DynamoDB"),
						MetricName: aws.String(name),
						Dimensions: s.dimensions(),
					},
					Period: aws.Int32(int32(period / time.Second)),
					Stat:   aws.String("Sum"),
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
		for _, r := range page.MetricDataResults {
			var i, m int
			if _, err := fmt.Sscanf(aws.ToString(r.Id), "m%d_%d", &i, &m); err != nil || i >= len(got) || m >= len(metrics) {
				return fmt.Errorf("CloudWatch answered query %q, which was not asked", aws.ToString(r.Id))
			}
			// A result CloudWatch could not read (Forbidden, InternalError) has no values, which
			// would read as no use: it is a failed read. PartialData is followed to its next page.
			if r.StatusCode != cwtypes.StatusCodeComplete && r.StatusCode != cwtypes.StatusCodePartialData {
				return fmt.Errorf("read %s of %s from CloudWatch: status %s%s", metrics[m], sources[i], r.StatusCode, messages(r.Messages))
			}
			c := &got[i]
			for _, v := range r.Values {
				c.Datapoints++
				if m == 0 {
					c.ReadUnits += v
					c.ReadPeak = max(c.ReadPeak, v/period.Seconds())
				} else {
					c.WriteUnits += v
					c.WritePeak = max(c.WritePeak, v/period.Seconds())
				}
			}
		}
	}
	return nil
}

func messages(ms []cwtypes.MessageData) string {
	var s string
	for _, m := range ms {
		s += fmt.Sprintf("; %s: %s", aws.ToString(m.Code), aws.ToString(m.Value))
	}
	return s
}

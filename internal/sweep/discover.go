package sweep

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// Filter chooses which tables are ours and which of ours are candidates.
type Filter struct {
	// NamePrefix also makes tables with this name prefix ours, tagged or not.
	NamePrefix string
	// OlderThan, when set, makes tables created longer ago than this candidates.
	OlderThan time.Duration
	// IdleFor, when set, makes tables with no consumed capacity for this long candidates.
	IdleFor time.Duration
	// Now is the sweep's clock (default time.Now()).
	Now time.Time
}

func (f Filter) now() time.Time {
	if f.Now.IsZero() {
		return time.Now()
	}
	return f.Now
}

// Observed is what discovery learned about one table.
type Observed struct {
	Name      string
	Region    string
	Created   time.Time
	Status    string
	Tags      map[string]string
	Protected bool
	Cost      cost.Footprint
	// Ours: tagged Project=wallet, or named by the prefix.
	Ours bool
	// Stack is the stack its tags name: aws:cloudformation:stack-name, else Stack.
	Stack string
	// StackLive: that stack exists and still lists this table as its resource.
	StackLive bool
	// Unjudged: something needed to judge it (its stack, its metrics) could not be read.
	Unjudged bool
	// Idle: no consumed capacity in the Filter's IdleFor window (only looked at when set).
	Idle bool
}

// Inventory is one region's discovery.
type Inventory struct {
	Region string
	Tables []Observed
	// StackTables are, for each live stack a table of ours named, the tables it owns.
	StackTables map[string][]string
	Problems    []Problem
	Notes       []string
}

// Discover reads every table in the region (every ListTables page), its tags and description,
// the stacks that ours name, and (with IdleFor) their CloudWatch metrics. A failure on one
// table is recorded as a Problem and the rest go on.
func Discover(ctx context.Context, c RegionClients, f Filter, o Options) Inventory {
	found := Inventory{Region: c.Region, StackTables: map[string][]string{}}
	var names []string
	p := dynamodb.NewListTablesPaginator(c.DynamoDB, &dynamodb.ListTablesInput{}, func(po *dynamodb.ListTablesPaginatorOptions) {
		po.Limit = o.PageLimit
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			if o.SkipDisabledRegions && RegionDisabled(err) {
				found.Notes = append(found.Notes, fmt.Sprintf("%s: skipped, not enabled for this account (%v)", c.Region, err))
				return found
			}
			found.Problems = append(found.Problems, Problem{Region: c.Region, Error: fmt.Sprintf("list tables: %v", err)})
			return found
		}
		names = append(names, page.TableNames...)
		o.progress(c.Region+": listing tables", len(names), len(names))
	}

	var mu sync.Mutex
	problem := func(table string, err error) {
		mu.Lock()
		defer mu.Unlock()
		found.Problems = append(found.Problems, Problem{Region: c.Region, Table: table, Error: err.Error()})
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	done := 0
	for _, name := range names {
		g.Go(func() error {
			t, ok, err := describe(gctx, c, name, f)
			mu.Lock()
			done++
			o.progress(c.Region+": reading tables", done, len(names))
			if ok {
				found.Tables = append(found.Tables, t)
			}
			mu.Unlock()
			if err != nil {
				problem(name, err)
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(found.Tables, func(i, j int) bool { return found.Tables[i].Name < found.Tables[j].Name })

	stacks := map[string]bool{}
	for _, t := range found.Tables {
		if t.Ours && t.Stack != "" {
			stacks[t.Stack] = true
		}
	}
	type stackState struct {
		live   bool
		tables []string
		err    error
	}
	states := map[string]stackState{}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for name := range stacks {
		g.Go(func() error {
			st := stackState{}
			s, err := discover.Describe(gctx, c.CloudFormation, name)
			switch {
			case errors.Is(err, discover.ErrStackNotFound):
			case err != nil:
				st.err = err
			default:
				st.live = true
				for _, t := range s.Tables {
					st.tables = append(st.tables, t.Name)
				}
			}
			mu.Lock()
			states[name] = st
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	for i := range found.Tables {
		t := &found.Tables[i]
		if !t.Ours || t.Stack == "" {
			continue
		}
		st := states[t.Stack]
		switch {
		case st.err != nil:
			t.Unjudged = true
			found.Problems = append(found.Problems, Problem{Region: c.Region, Table: t.Name, Error: st.err.Error()})
		case st.live:
			found.StackTables[t.Stack] = st.tables
			for _, n := range st.tables {
				if n == t.Name {
					t.StackLive = true
				}
			}
		}
	}

	if f.IdleFor > 0 {
		g, gctx = errgroup.WithContext(ctx)
		g.SetLimit(o.concurrency())
		for i := range found.Tables {
			t := &found.Tables[i]
			// A live stack's table is never a candidate for being idle (only for expiring),
			// so its metrics, billed per request, could not change the plan.
			if !t.Ours || t.Unjudged || t.StackLive {
				continue
			}
			g.Go(func() error {
				idle, err := isIdle(gctx, c.CloudWatch, t.Name, f.IdleFor, f.now())
				if err != nil {
					t.Unjudged = true
					problem(t.Name, err)
					return nil
				}
				t.Idle = idle
				return nil
			})
		}
		_ = g.Wait()
	}
	sort.Slice(found.Problems, func(i, j int) bool { return found.Problems[i].Table < found.Problems[j].Table })
	return found
}

// describe reads one table; ok is false when it vanished in the meantime or could not be read.
func describe(ctx context.Context, c RegionClients, name string, f Filter) (Observed, bool, error) {
	d, err := describeTable(ctx, c.DynamoDB, name)
	if d == nil {
		return Observed{}, false, err // vanished in the meantime (nil error), or unreadable
	}
	t := Observed{
		Name:      name,
		Region:    c.Region,
		Created:   aws.ToTime(d.CreationDateTime),
		Status:    string(d.TableStatus),
		Protected: aws.ToBool(d.DeletionProtectionEnabled),
		Cost:      cost.FromDescription(d),
	}
	t.Tags, err = discover.TableTags(ctx, c.DynamoDB, aws.ToString(d.TableArn))
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return Observed{}, false, nil
	case err != nil:
		// Without its tags nobody can tell whether the table is ours: say so, judge nothing.
		return Observed{}, false, fmt.Errorf("list tags: %w", err)
	}
	t.Ours = t.Tags[wallet.TagProject] == wallet.ProjectName || (f.NamePrefix != "" && strings.HasPrefix(name, f.NamePrefix))
	t.Stack = t.Tags[wallet.CloudFormationStackTag]
	if t.Stack == "" {
		t.Stack = t.Tags[wallet.TagStack]
	}
	return t, true, nil
}

// Metrics that show a table is used.
var consumedMetrics = []string{"ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"}

// isIdle asks CloudWatch whether the table consumed any capacity in the window before now.
func isIdle(ctx context.Context, cw CloudWatch, table string, window time.Duration, now time.Time) (bool, error) {
	in := &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(now.Add(-window)),
		EndTime:   aws.Time(now.Add(time.Minute)), // include the current, partial minute
	}
	for i, m := range consumedMetrics {
		in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
			Id: aws.String(fmt.Sprintf("m%d", i)),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{
					Namespace:  aws.String("AWS/DynamoDB"),
					MetricName: aws.String(m),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}},
				},
				Period: aws.Int32(metricPeriod(window)),
				Stat:   aws.String("Sum"),
			},
		})
	}
	p := cloudwatch.NewGetMetricDataPaginator(cw, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, fmt.Errorf("cloudwatch metrics: %w", err)
		}
		for _, r := range page.MetricDataResults {
			for _, v := range r.Values {
				if v > 0 {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

// metricPeriod keeps a query to a few hundred points and within what CloudWatch keeps at each
// resolution: 1-minute data for 15 days, 5-minute for 63 days, then hourly.
func metricPeriod(window time.Duration) int32 {
	step := 60 * time.Second
	switch {
	case window > 63*24*time.Hour:
		step = time.Hour
	case window > 15*24*time.Hour:
		step = 5 * time.Minute
	}
	p := window / 500
	p = (p + step - 1) / step * step
	return int32(max(p, step) / time.Second)
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
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
	ARN       string
	TableID   string // DynamoDB's unique id of the table; empty from moto
	Region    string
	Created   time.Time
	Status    string
	Tags      map[string]string
	Protected bool
	Footprint cost.Footprint
	// Ours: tagged Project=wallet, or named by the prefix.
	Ours bool
	// Stack is the stack its tags name: aws:cloudformation:stack-name, else Stack.
	Stack string
	// StackLive: that stack exists and still lists this table as its resource.
	StackLive bool
	// StackTags are that live stack's own tags (its ExpiresAfter counts, not the table's).
	StackTags map[string]string
	// Unjudged: something needed to judge it (its stack, its metrics) could not be read.
	Unjudged bool
	// Idle: no consumed capacity in the Filter's IdleFor window (only looked at when set).
	Idle bool
}

// Identity is which table the name stood for when it was observed: what Act binds every
// deletion to.
func (t Observed) Identity() Identity {
	return Identity{ARN: t.ARN, TableID: t.TableID, Created: t.Created}
}

// LiveStack is a live stack one of our tables names: what deleting it would take with it.
type LiveStack struct {
	Name   string
	ID     string // this deployment's stack id: a stack replaced since is another stack
	Status string
	Tags   map[string]string // the stack's own tags
	Tables []discover.TableResource
	// DeletionPolicies maps the tables' logical IDs to their DeletionPolicy; nil when the
	// template could not be read, and then every table counts as one the stack would delete.
	DeletionPolicies map[string]string
}

// tableNames are the stack's tables, sorted: what a deletion planned on it takes.
func (s LiveStack) tableNames() []string {
	names := make([]string, len(s.Tables))
	for i, t := range s.Tables {
		names[i] = t.Name
	}
	slices.Sort(names)
	return names
}

// policy is a table's DeletionPolicy in this stack, "unknown" when the template said nothing
// readable about it.
func (s LiveStack) policy(logicalID string) string {
	if p, ok := s.DeletionPolicies[logicalID]; ok {
		return p
	}
	return "unknown"
}

// Inventory is one region's discovery.
type Inventory struct {
	Region string
	Tables []Observed
	// Stacks are the live stacks our tables name, by name.
	Stacks map[string]LiveStack
	// Backups are the janitor's backups here (by name): kept forever, billed by size.
	Backups  []types.BackupSummary
	Problems []Problem
	Notes    []string
}

// Discover reads every table in the region (every ListTables page), its tags and description,
// the stacks that ours name, and (with IdleFor) their CloudWatch metrics. A failure on one
// table is recorded as a Problem and the rest go on; a failure to list is a Problem of the
// whole region.
func Discover(ctx context.Context, c RegionClients, f Filter, o Options) Inventory {
	inv := Inventory{Region: c.Region, Stacks: map[string]LiveStack{}}
	names, err := listTables(ctx, c, o)
	switch {
	case err != nil && o.SkipDisabledRegions && RegionDisabled(err):
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: skipped, not enabled for this account (%v)", c.Region, err))
		return inv
	case err != nil && o.SkipDisabledRegions && awsconf.IsDenied(err):
		// Across every region, one an organization's policy (an SCP) closes is not a missing
		// permission of the caller's: noted and skipped.
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: skipped, listing tables there was refused (an organization policy?): %v", c.Region, err))
		return inv
	case err != nil:
		inv.Problems = append(inv.Problems, problem(c.Region, "", fmt.Errorf("list tables: %w", err)))
		return inv
	}
	inv.Tables, inv.Problems = describeTables(ctx, c, names, f, o)
	inv.Problems = append(inv.Problems, resolveStacks(ctx, c, &inv, o)...)
	if f.IdleFor > 0 {
		inv.Problems = append(inv.Problems, readIdleness(ctx, c, &inv, f, o)...)
	}
	// Listing the janitor's backups is a courtesy of the report, not the sweep's job: a failure
	// is noted, and the sweep goes on.
	if inv.Backups, err = listJanitorBackups(ctx, c.DynamoDB); err != nil {
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: the janitor's backups could not be listed: %v", c.Region, err))
	}
	sort.Slice(inv.Problems, func(i, j int) bool { return inv.Problems[i].Table < inv.Problems[j].Table })
	return inv
}

// listTables reads every ListTables page: aws-nuke's lister reads only the first (its #991).
func listTables(ctx context.Context, c RegionClients, o Options) ([]string, error) {
	var names []string
	p := dynamodb.NewListTablesPaginator(c.DynamoDB, &dynamodb.ListTablesInput{}, func(po *dynamodb.ListTablesPaginatorOptions) {
		po.Limit = o.PageLimit
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		names = append(names, page.TableNames...)
		o.progress(c.Region+": listing tables", len(names), len(names))
	}
	return names, nil
}

// describeTables reads each table's description and tags, concurrently. A table that vanished
// meanwhile is left out; one that could not be read is a problem and never a candidate.
func describeTables(ctx context.Context, c RegionClients, names []string, f Filter, o Options) ([]Observed, []Problem) {
	var (
		mu       sync.Mutex
		tables   []Observed
		problems []Problem
		done     int
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for _, name := range names {
		g.Go(func() error {
			t, ok, err := observe(gctx, c, name, f)
			mu.Lock()
			defer mu.Unlock()
			done++
			o.progress(c.Region+": reading tables", done, len(names))
			if ok {
				tables = append(tables, t)
			}
			if err != nil {
				problems = append(problems, problem(c.Region, name, err))
			}
			return nil
		})
	}
	_ = g.Wait()
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	return tables, problems
}

// observe reads one table; ok is false when it vanished in the meantime or could not be read.
func observe(ctx context.Context, c RegionClients, name string, f Filter) (Observed, bool, error) {
	d, err := discover.DescribeTable(ctx, c.DynamoDB, name)
	if d == nil {
		return Observed{}, false, err // vanished in the meantime (nil error), or unreadable
	}
	tags, err := discover.TableTags(ctx, c.DynamoDB, aws.ToString(d.TableArn))
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return Observed{}, false, nil
	case err != nil:
		// Without its tags nobody can tell whether the table is ours: say so, judge nothing.
		return Observed{}, false, fmt.Errorf("list tags: %w", err)
	}
	t := observed(c.Region, name, d, tags, f)
	return t, true, nil
}

// resolveStacks reads each stack our tables name: whether it is live, the tables it owns, and
// their deletion policies. A stack that cannot be read leaves its tables unjudged.
func resolveStacks(ctx context.Context, c RegionClients, inv *Inventory, o Options) []Problem {
	names := map[string]bool{}
	for _, t := range inv.Tables {
		if t.Ours && t.Stack != "" {
			names[t.Stack] = true
		}
	}
	var mu sync.Mutex
	failed := map[string]error{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for name := range names {
		g.Go(func() error {
			s, live, err := readStack(gctx, c.CloudFormation, name)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed[name] = err
			case live:
				inv.Stacks[name] = s
			}
			return nil
		})
	}
	_ = g.Wait()
	var problems []Problem
	for i := range inv.Tables {
		t := &inv.Tables[i]
		if !t.Ours || t.Stack == "" {
			continue
		}
		if err := failed[t.Stack]; err != nil {
			t.Unjudged = true
			// The TeardownPolicy reads wallet stacks only: a refusal to read someone else's
			// stack is that policy working. The table is left unjudged, and the report says so.
			if awsconf.IsDenied(err) && !strings.HasPrefix(t.Stack, wallet.StackPrefix) {
				inv.Notes = append(inv.Notes, fmt.Sprintf("%s/%s: not judged: its stack %s is not a wallet stack (%s*), which the TeardownPolicy may not read", c.Region, t.Name, t.Stack, wallet.StackPrefix))
				continue
			}
			problems = append(problems, problem(c.Region, t.Name, err))
			continue
		}
		t.live(inv.Stacks[t.Stack])
	}
	return problems
}

// live records what the table's stack, when live, says about it: whether it still lists the
// table, and the stack's own tags.
func (t *Observed) live(s LiveStack) {
	t.StackLive, t.StackTags = false, nil
	for _, r := range s.Tables {
		if r.Name == t.Name {
			t.StackLive, t.StackTags = true, s.Tags
		}
	}
}

// readStack reads a stack, the tables it owns and their deletion policies; live is false when
// it does not exist (or is DELETE_COMPLETE).
func readStack(ctx context.Context, cfn CloudFormation, name string) (LiveStack, bool, error) {
	s, err := discover.Describe(ctx, cfn, name)
	switch {
	case errors.Is(err, discover.ErrStackNotFound):
		return LiveStack{}, false, nil
	case err != nil:
		return LiveStack{}, false, err
	}
	policies, err := deletionPolicies(ctx, cfn, name)
	if err != nil {
		return LiveStack{}, false, err
	}
	return LiveStack{Name: s.Name, ID: s.ID, Status: s.Status, Tags: s.Tags, Tables: s.Tables, DeletionPolicies: policies}, true, nil
}

// deletionPolicies maps logical ids to DeletionPolicy from the stack's template, or returns nil
// when the template is not JSON CDK wrote (a YAML template): then every table counts as one
// the stack deletes, the careful reading. A template that cannot be fetched at all (refused, no
// answer) is an error: guessing there would hide a missing permission.
func deletionPolicies(ctx context.Context, cfn CloudFormation, stack string) (map[string]string, error) {
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return nil, err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return nil, nil
	}
	m := map[string]string{}
	for _, s := range specs {
		m[s.LogicalID] = s.DeletionPolicy
	}
	return m, nil
}

// readIdleness asks CloudWatch about the tables that could be idle candidates.
func readIdleness(ctx context.Context, c RegionClients, inv *Inventory, f Filter, o Options) []Problem {
	var (
		mu       sync.Mutex
		problems []Problem
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for i := range inv.Tables {
		t := &inv.Tables[i]
		// A live stack's table is never a candidate for being idle (only for expiring),
		// so its metrics, billed per request, could not change the plan.
		if !t.Ours || t.Unjudged || t.StackLive {
			continue
		}
		g.Go(func() error {
			idle, err := isIdle(gctx, c.CloudWatch, t.Name, f.IdleFor, f.now())
			if err != nil {
				t.Unjudged = true
				mu.Lock()
				problems = append(problems, problem(c.Region, t.Name, err))
				mu.Unlock()
				return nil
			}
			t.Idle = idle
			return nil
		})
	}
	_ = g.Wait()
	return problems
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
			// A result CloudWatch could not read (Forbidden, InternalError) has no values: it
			// says nothing about use, so the table is not judged idle on it.
			if r.StatusCode != cwtypes.StatusCodeComplete && r.StatusCode != cwtypes.StatusCodePartialData {
				return false, fmt.Errorf("cloudwatch metric %s: status %s %s", aws.ToString(r.Id), r.StatusCode, joinMessages(r.Messages))
			}
			for _, v := range r.Values {
				if v > 0 {
					return false, nil
				}
			}
		}
	}
	return true, nil
}

func joinMessages(ms []cwtypes.MessageData) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, aws.ToString(m.Code)+": "+aws.ToString(m.Value))
	}
	return strings.Join(parts, "; ")
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

// listJanitorBackups are the backups the janitor took before its deletions.
func listJanitorBackups(ctx context.Context, db discover.BackupLister) ([]types.BackupSummary, error) {
	all, err := discover.Backups(ctx, db, dynamodb.ListBackupsInput{BackupType: types.BackupTypeFilterUser})
	if err != nil {
		return nil, err
	}
	var out []types.BackupSummary
	for _, b := range all {
		if strings.HasPrefix(aws.ToString(b.BackupName), wallet.JanitorBackupPrefix) {
			out = append(out, b)
		}
	}
	return out, nil
}

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

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
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
	// AutoScaled: the table or an index of it has a scalable target (only looked at with
	// Options.Billed); its Footprint then bills what CloudWatch says it had.
	AutoScaled bool
	// sources are the table and its global secondary indexes, whose use the idle check reads;
	// loads are the same, with their capacity and auto scaling, as cost prices them.
	sources []usage.Source
	loads   []cost.Load
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
	// Resources are everything it holds, tables too: what DeleteStack would delete with it.
	Resources []discover.Resource
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
	Backups []types.BackupSummary
	// SweepBackups are the sweep's (and teardown's) backups here, likewise.
	SweepBackups []types.BackupSummary
	Problems     []Problem
	Notes        []string
}

// Survey reads every table in the region (discover.Tables, the lister cost shares), the
// stacks that ours name, and (with IdleFor) what they consumed. A failure on one table is
// recorded as a Problem and the rest go on; a failure to list is a Problem of the whole region,
// or a Note when the region is closed to the account and every region was asked for.
func Survey(ctx context.Context, c RegionClients, f Filter, o Options) Inventory {
	inv := Inventory{Region: c.Region, Stacks: map[string]LiveStack{}}
	l := discover.Tables(ctx, c.DynamoDB, c.Region, discover.ListOptions{
		NamePrefix: f.NamePrefix, PageLimit: o.PageLimit, Concurrency: o.Concurrency,
		SkipClosedRegions: o.SkipDisabledRegions, Progress: o.Progress,
	})
	inv.Problems, inv.Notes = l.Problems, l.Notes
	if !l.Listed {
		return inv
	}
	for _, t := range l.Tables {
		inv.Tables = append(inv.Tables, observedOf(c.Region, t, f))
	}
	inv.Problems = append(inv.Problems, resolveStacks(ctx, c, &inv, o)...)
	if f.IdleFor > 0 {
		inv.Problems = append(inv.Problems, readIdleness(ctx, c, &inv, f, o)...)
	}
	if o.Billed {
		readBilled(ctx, c, &inv, f.now(), o)
	}
	// Listing the janitor's and the sweep's backups is a courtesy of the report, not the
	// sweep's job: a failure is noted, and the sweep goes on.
	var err error
	if inv.Backups, inv.SweepBackups, err = discover.OwnBackups(ctx, c.DynamoDB); err != nil {
		inv.Notes = append(inv.Notes, fmt.Sprintf("%s: the janitor's and the sweep's backups could not be listed: %v", c.Region, err))
	}
	sort.Slice(inv.Problems, func(i, j int) bool { return inv.Problems[i].Table < inv.Problems[j].Table })
	return inv
}

// observedOf is a listed table as the sweep judges it, with the sources its use is read from.
func observedOf(region string, t discover.Table, f Filter) Observed {
	o := observed(region, t.Name(), t.Desc, t.Tags, f)
	o.sources, o.loads = usage.Sources(t.Desc), cost.LoadsOf(t.Desc)
	return o
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

// readStack reads a stack, everything it holds, and its tables' deletion policies; live is false when
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
	return LiveStack{Name: s.Name, ID: s.ID, Status: s.Status, Tags: s.Tags, Tables: s.Tables, Resources: s.Resources, DeletionPolicies: policies}, true, nil
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
			idle, err := isIdle(gctx, c.CloudWatch, *t, f.IdleFor, f.now())
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

// isIdle reads, as cost does (usage.Read), whether the table and its global secondary indexes
// consumed any capacity in the window before now, cut at the table's creation: metrics from
// before then are an earlier table's of the same name. A result CloudWatch could not read
// (Forbidden, InternalError) is an error, never idleness.
func isIdle(ctx context.Context, cw CloudWatch, t Observed, window time.Duration, now time.Time) (bool, error) {
	sources := t.sources
	if len(sources) == 0 {
		sources = []usage.Source{{Table: t.Name}}
	}
	w, _ := usage.Last(now, window).Since(t.Created)
	consumed, err := usage.Read(ctx, cw, w, sources, 1)
	if err != nil {
		return false, err
	}
	return usage.Unused(consumed), nil
}

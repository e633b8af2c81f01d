package cost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// DynamoDB is every DynamoDB call a review makes: all of them reads.
type DynamoDB interface {
	ListTables(ctx context.Context, in *dynamodb.ListTablesInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTablesOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
}

// Clients are one region's clients for Review.
type Clients struct {
	Region     string
	DynamoDB   DynamoDB
	CloudWatch usage.CloudWatch
	// AutoScaling reads which tables and indexes are auto scaled; nil: none is asked about.
	AutoScaling discover.ScalableTargetsAPI
}

// NewClients builds a region's clients from cfg (cfg.Region is the region).
func NewClients(cfg aws.Config) Clients {
	return Clients{
		Region: cfg.Region,
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.APIOptions = append(o.APIOptions, awsconf.FillMissingCRC32)
		}),
		CloudWatch:  usage.NewCloudWatch(cfg),
		AutoScaling: applicationautoscaling.NewFromConfig(cfg),
	}
}

// Options choose what Review reads. Days is required.
type Options struct {
	// Table is the one table to review; empty: every table tagged Project=wallet.
	Table string
	// Days is the window of consumption read, 1 to usage.MinuteDataDays.
	Days int
	// Now ends the window (default time.Now()).
	Now time.Time
	// Concurrency bounds the calls in flight (default 8).
	Concurrency int
	// SkipClosedRegions makes a region closed to the account (not enabled, or denied by an
	// organization policy) a note, as the sweep does: with every region asked for, some are.
	SkipClosedRegions bool
	// Draw keeps what a picture of each table's use needs (charts, sparklines); nothing by
	// default.
	Draw Draw
	// Progress, when set, is told how far the review has got, from several goroutines one at a
	// time.
	Progress func(Progress)

	// drawing and progress are a fleet's, shared by its units' reviews.
	drawing  *drawing
	progress *progress
}

// Progress is how far a review has got: the (account, region) units reviewed of all, and the
// tables priced of those listed so far.
type Progress struct {
	Units, UnitsDone int
	Tables, Priced   int
}

// progress counts a review's Progress and tells it, one call at a time.
type progress struct {
	mu   sync.Mutex
	now  Progress
	tell func(Progress)
}

func newProgress(units int, tell func(Progress)) *progress {
	if tell == nil {
		return nil
	}
	return &progress{now: Progress{Units: units}, tell: tell}
}

// add moves the counts on and tells them; nil counts nothing.
func (p *progress) add(units, tables, priced int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now.UnitsDone += units
	p.now.Tables += tables
	p.now.Priced += priced
	p.tell(p.now)
}

func (o Options) concurrency() int {
	if o.Concurrency <= 0 {
		return 8
	}
	return o.Concurrency
}

// ErrTableNotFound is a named table that is not there: a usage error, not a finding.
var ErrTableNotFound = errors.New("table not found")

// Review reads the tables of one region, what they store and what they used, and prices each.
// What it could not find out about a table is a Problem, and the rest goes on; the error is for
// what no report can be made without: an IAM denial, a named table that is not there, an ended
// context.
func Review(ctx context.Context, c Clients, o Options, p Prices) (RegionReview, error) {
	rr := RegionReview{Region: c.Region}
	if o.Days < 1 || o.Days > usage.MinuteDataDays {
		return rr, fmt.Errorf("review %s: %d days: want 1 to %d", c.Region, o.Days, usage.MinuteDataDays)
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	limit := o.concurrency()
	d := o.drawing
	if d == nil {
		// A review of its own keeps its own charts.
		d = newDrawing(o.Draw)
		defer func() { rr.Charts = d.kept() }()
	}
	prog := o.progress
	if prog == nil {
		prog = newProgress(1, o.Progress)
		defer prog.add(1, 0, 0)
	}

	tables, listed, err := rr.tables(ctx, c, o, limit)
	if err != nil || !listed {
		return rr, err
	}
	prog.add(0, len(tables), 0)
	readings := make([]reading, len(tables))
	for i, d := range tables {
		readings[i] = reading{desc: d}
	}
	if err := rr.pitr(ctx, c, readings, limit); err != nil {
		return rr, err
	}
	// Even without a table of ours: the janitor's backups of tables it deleted still bill.
	if err := rr.backups(ctx, c, o, readings, p); err != nil {
		return rr, err
	}
	if err := rr.scaling(ctx, c, readings, limit); err != nil {
		return rr, err
	}
	window := usage.LastDays(now, o.Days)
	for i := range readings {
		readings[i].lifetime(window, now)
	}
	// Before consumption, which prices each table as its minutes come in.
	if err := rr.heldCapacity(ctx, c, readings, limit); err != nil {
		return rr, err
	}
	pricing := func(r *reading) {
		r.cost, r.priced = priceDrawn(c.Region, *r, o.Days, p, d), true
		prog.add(0, 0, 1)
	}
	if err := rr.consumption(ctx, c, readings, limit, pricing); err != nil {
		return rr, err
	}
	for i := range readings {
		if !readings[i].priced {
			pricing(&readings[i])
		}
		rr.Tables = append(rr.Tables, readings[i].cost)
	}
	return rr, nil
}

// scaling reads which provisioned tables and indexes are auto scaled (their scalable targets):
// those are priced by the capacity CloudWatch says they had, and simulated as they scale. An
// endpoint without Application Auto Scaling leaves every table priced at its instant capacity,
// and says so; so does a failed read, as a problem.
func (rr *RegionReview) scaling(ctx context.Context, c Clients, readings []reading, limit int) error {
	if c.AutoScaling == nil {
		return nil
	}
	var ids []string
	for _, r := range readings {
		if wallet.BillingOf(r.desc) != wallet.BillingProvisioned {
			continue
		}
		for _, s := range r.sources() {
			ids = append(ids, discover.ScalableResource(s.Table, s.Index))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	got, err := discover.ScalableTargets(ctx, c.AutoScaling, ids, limit)
	switch {
	case err == nil:
	case fatal(ctx, err):
		return err
	case usage.Unserved(err) || discover.Unsupported(err):
		rr.Notes = append(rr.Notes, fmt.Sprintf("%s: auto scaling is unknown on this endpoint: every table is priced at the capacity DescribeTable shows (%v)", c.Region, err))
		return nil
	default:
		rr.problem("", fmt.Errorf("which tables are auto scaled could not be read, so each is priced at the capacity DescribeTable shows: %w", err))
		return nil
	}
	for i := range readings {
		r := &readings[i]
		for _, s := range r.sources() {
			r.scaling = append(r.scaling, got[discover.ScalableResource(s.Table, s.Index)])
		}
	}
	return nil
}

// lifetime sets the window a table is judged on: the last days, or its life when it is younger.
// Hours run from its creation to now, not from the minute of creation: that partial minute's
// Sum holds only what the table did after it was created.
func (r *reading) lifetime(w usage.Window, now time.Time) {
	r.window, r.young = w.Since(aws.ToTime(r.desc.CreationDateTime))
	r.hours = w.Hours()
	if r.young {
		r.hours = max(now.Sub(aws.ToTime(r.desc.CreationDateTime)), usage.Period).Hours()
	}
}

// consumption reads what every table and index consumed in its window, minute by minute (and
// an auto-scaled one's capacity): the tables that lived through the whole window together,
// then each younger one over its own life; each table is priced as soon as its minutes are in,
// and its minutes let go. An endpoint without CloudWatch leaves it unknown, said on each
// table; a failed read is a Problem as well.
func (rr *RegionReview) consumption(ctx context.Context, c Clients, readings []reading, limit int, pricing func(*reading)) error {
	var old []int
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, r := range readings {
		if !r.young {
			old = append(old, i)
			continue
		}
		g.Go(func() error { return rr.readUse(gctx, c, readings, []int{i}, 1, &mu, pricing) })
	}
	if err := g.Wait(); err != nil || len(old) == 0 {
		return err
	}
	return rr.readUse(ctx, c, readings, old, limit, &mu, pricing)
}

// readUse reads the minutes of the tables at idx, which share one window, and prices each as
// its minutes come in; mu guards rr.
func (rr *RegionReview) readUse(ctx context.Context, c Clients, readings []reading, idx []int, limit int, mu *sync.Mutex, pricing func(*reading)) error {
	groups := make([][]usage.Request, len(idx))
	for k, i := range idx {
		groups[k] = readings[i].requests()
	}
	err := usage.ReadMinutes(ctx, c.CloudWatch, readings[idx[0]].window, groups, limit, func(g int, m []usage.Minutes) {
		r := &readings[idx[g]]
		r.minutes = m
		pricing(r)
		r.minutes = nil // priced: a table's minutes are not kept for the report
	})
	unavailable := ""
	switch {
	case err == nil:
	case fatal(ctx, err):
		return fmt.Errorf("%s: %w", c.Region, err)
	case usage.Unserved(err):
		unavailable = "this endpoint does not serve CloudWatch (" + err.Error() + ")"
	default:
		// Not a missing service but a failed read: the report is incomplete, and says so.
		table := ""
		if len(idx) == 1 && readings[idx[0]].young {
			table = readings[idx[0]].name()
		}
		mu.Lock()
		rr.problem(table, err)
		mu.Unlock()
		unavailable = err.Error()
	}
	for _, i := range idx {
		if !readings[i].priced {
			readings[i].unavailable = unavailable
		}
	}
	return nil
}

// heldCapacity reads the least capacity each provisioned table held over its window, for reserved
// capacity: the tables that share a window in one read. It is advice on top of the prices: a
// failed read is a note on each table, never a problem.
func (rr *RegionReview) heldCapacity(ctx context.Context, c Clients, readings []reading, limit int) error {
	byWindow := map[usage.Window][]int{}
	var windows []usage.Window
	for i, r := range readings {
		if wallet.BillingOf(r.desc) != wallet.BillingProvisioned || r.unavailable != "" {
			continue
		}
		if _, ok := byWindow[r.window]; !ok {
			windows = append(windows, r.window)
		}
		byWindow[r.window] = append(byWindow[r.window], i)
	}
	for _, w := range windows {
		idx := byWindow[w]
		var sources []usage.Source
		for _, i := range idx {
			sources = append(sources, readings[i].sources()...)
		}
		got, err := usage.ReadHeld(ctx, c.CloudWatch, w, sources, limit)
		if err != nil && fatal(ctx, err) {
			return fmt.Errorf("%s: %w", c.Region, err)
		}
		for _, i := range idx {
			r := &readings[i]
			if err != nil {
				r.notes = append(r.notes, "its provisioned capacity over the window could not be read, so its capacity now is taken as held: "+err.Error())
				continue
			}
			h := usage.Held{Known: true}
			for _, s := range r.sources() {
				g := got[s]
				h.Known = h.Known && g.Known
				h.Read += g.Read
				h.Write += g.Write
			}
			if h.Known {
				r.held = &h
			}
		}
	}
	return nil
}

// RegionReview is one region's tables priced, and what could not be found out there.
type RegionReview struct {
	Region  string
	Tables  []TableCost
	Backups []Backup // the janitor's, of tables not reviewed
	// SweepBackups are the sweep's (and teardown's) of tables not reviewed.
	SweepBackups []Backup
	Problems     []discover.Problem
	Notes        []string
	// Charts are the charts Options.Draw asked for, of a review run on its own (a fleet's
	// are its report's).
	Charts []Chart
}

func (rr *RegionReview) problem(table string, err error) {
	rr.Problems = append(rr.Problems, discover.NewProblem(rr.Region, table, err))
}

// fatal is an error no report is complete without: a denial (fix the policy), or the end.
func fatal(ctx context.Context, err error) bool {
	_, denied := awsconf.AsDenied(err)
	return denied || ctx.Err() != nil
}

// tables describes the named table, or lists every table (discover.Tables, the sweep's lister)
// and keeps ours, those tagged Project=wallet. A cost review needs no stacks, so it asks
// CloudFormation nothing. listed is false when the region could not be listed (a Problem) or
// was skipped (a Note); a denial is the error, as everywhere in a review.
func (rr *RegionReview) tables(ctx context.Context, c Clients, o Options, limit int) (tables []*types.TableDescription, listed bool, err error) {
	if o.Table != "" {
		d, err := discover.DescribeTable(ctx, c.DynamoDB, o.Table)
		if err != nil {
			return nil, false, err
		}
		if d == nil {
			return nil, false, fmt.Errorf("table %s in %s: %w", o.Table, c.Region, ErrTableNotFound)
		}
		return []*types.TableDescription{d}, true, nil
	}
	l := discover.Tables(ctx, c.DynamoDB, c.Region, discover.ListOptions{Concurrency: limit, SkipClosedRegions: o.SkipClosedRegions})
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	for _, p := range l.Problems {
		if fatal(ctx, p.Err()) {
			return nil, false, fmt.Errorf("%s: %w", c.Region, p.Err())
		}
	}
	rr.Problems = append(rr.Problems, l.Problems...)
	rr.Notes = append(rr.Notes, l.Notes...)
	if slices.ContainsFunc(l.Problems, func(p discover.Problem) bool { return p.Table == "" && discover.Unsupported(p.Err()) }) {
		rr.Notes = append(rr.Notes, fmt.Sprintf("%s: this endpoint keeps no tags: name a table with --table to price it", c.Region))
	}
	for _, t := range l.Tables {
		if t.Ours {
			tables = append(tables, t.Desc)
		}
	}
	return tables, l.Listed, nil
}

// keepGoing records a problem with one table and lets the others go on, unless err is fatal.
func (rr *RegionReview) keepGoing(ctx context.Context, mu *sync.Mutex, table string, err error) error {
	if err == nil {
		return nil
	}
	if fatal(ctx, err) {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	rr.problem(table, err)
	return nil
}

// reading is what was found out about one table: the input of price.
type reading struct {
	desc        *types.TableDescription
	pitr        bool
	backups     int
	backupBytes int64
	// scaling is each source's auto scaling, in sources' order; empty when none was read.
	scaling []discover.Ranges
	// minutes are each source's, in sources' order, while the table is priced.
	minutes     []usage.Minutes
	unavailable string // why consumption could not be read
	// cost is the table's line, once priced.
	cost   TableCost
	priced bool
	notes  []string
	// window is what consumption is read over: the last days, or the table's life when it is
	// younger (young); hours is what a month is extrapolated from.
	window usage.Window
	young  bool
	hours  float64
	// held is the least capacity provisioned over the window, table and indexes together; nil
	// when CloudWatch had none (then its capacity now is taken).
	held *usage.Held
}

func (r reading) name() string { return aws.ToString(r.desc.TableName) }

// sources are the table and its global secondary indexes.
func (r reading) sources() []usage.Source { return usage.Sources(r.desc) }

// requests are its sources to read, an auto-scaled one's capacity with it.
func (r reading) requests() []usage.Request {
	var rs []usage.Request
	for i, s := range r.sources() {
		rs = append(rs, usage.Request{Source: s, Provisioned: r.scalingOf(i).Scaled()})
	}
	return rs
}

// scalingOf is source i's auto scaling; fixed when it was not read.
func (r reading) scalingOf(i int) discover.Ranges {
	if i < len(r.scaling) {
		return r.scaling[i]
	}
	return discover.Ranges{}
}

// pitr reads whether point-in-time recovery is on for each table.
func (rr *RegionReview) pitr(ctx context.Context, c Clients, readings []reading, limit int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	var mu sync.Mutex
	var noPITR sync.Once
	for i := range readings {
		r := &readings[i]
		g.Go(func() error {
			out, err := c.DynamoDB.DescribeContinuousBackups(gctx, &dynamodb.DescribeContinuousBackupsInput{TableName: r.desc.TableName})
			switch {
			case discover.Unsupported(err):
				noPITR.Do(func() {
					mu.Lock()
					defer mu.Unlock()
					rr.Notes = append(rr.Notes, fmt.Sprintf("%s: point-in-time recovery is unknown on this endpoint and not priced (%v)", c.Region, err))
				})
				return nil
			case err != nil:
				return rr.keepGoing(gctx, &mu, r.name(), fmt.Errorf("describe continuous backups: %w", err))
			}
			d := out.ContinuousBackupsDescription
			r.pitr = d != nil && d.PointInTimeRecoveryDescription != nil &&
				d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
			return nil
		})
	}
	return g.Wait()
}

// backups counts each table's on-demand backups (every type: user, system and AWS Backup's are
// all billed by size) and, reviewing every table, the janitor's backups of tables now gone.
func (rr *RegionReview) backups(ctx context.Context, c Clients, o Options, readings []reading, p Prices) error {
	in := &dynamodb.ListBackupsInput{BackupType: types.BackupTypeFilterAll}
	if o.Table != "" {
		in.TableName = aws.String(o.Table)
	}
	byTable := map[string]*reading{}
	for i := range readings {
		byTable[readings[i].name()] = &readings[i]
	}
	summaries, err := discover.Backups(ctx, c.DynamoDB, *in)
	switch {
	case discover.Unsupported(err):
		rr.Notes = append(rr.Notes, fmt.Sprintf("%s: backups are unknown on this endpoint and not priced (%v)", c.Region, err))
		return nil
	case fatal(ctx, err):
		return fmt.Errorf("list backups in %s: %w", c.Region, err)
	case err != nil:
		rr.problem("", fmt.Errorf("list backups: %w", err))
		return nil
	}
	for _, b := range summaries {
		if r := byTable[aws.ToString(b.TableName)]; r != nil {
			r.backups++
			r.backupBytes += aws.ToInt64(b.BackupSizeBytes)
			continue
		}
		// The janitor's and the sweep's backups of tables not reviewed here bill on their own:
		// listed apart, as the sweep lists them (the ones of a reviewed table are in its
		// storage already).
		switch {
		case o.Table != "":
		case discover.IsJanitorBackup(b):
			rr.Backups = append(rr.Backups, PriceBackup(c.Region, b, p))
		case discover.IsSweepBackup(b):
			rr.SweepBackups = append(rr.SweepBackups, PriceBackup(c.Region, b, p))
		}
	}
	sort.Slice(rr.Backups, func(i, j int) bool { return rr.Backups[i].Name < rr.Backups[j].Name })
	sort.Slice(rr.SweepBackups, func(i, j int) bool { return rr.SweepBackups[i].Name < rr.SweepBackups[j].Name })
	return nil
}

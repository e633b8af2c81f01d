package sweep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"golang.org/x/sync/errgroup"
)

// Act carries out a plan, the one executor of every deletion: each stack the plan deletes, and
// each table it deletes directly, is a unit of work that goes save (export, backup) → turn
// protection off where the plan says → delete → confirm each table gone, in parallel up to
// Options.Concurrency. Each outcome is recorded on its candidate and stack; one unit's failure
// never stops the others.
func Act(ctx context.Context, p Plan, clients map[string]RegionClients, o Options) Report {
	p = p.clone()
	units := p.deletions()
	total := 0
	for _, u := range units {
		total += len(u.cands)
	}
	var (
		mu      sync.Mutex
		done    int
		stopped error // set once an action's error says nothing more should start (StopOn)
	)
	var g errgroup.Group // not WithContext: one failure must not cancel the others
	g.SetLimit(o.concurrency())
	for _, u := range units {
		g.Go(func() error {
			mu.Lock()
			stop := stopped
			mu.Unlock()
			c, ok := clients[u.region]
			switch {
			case !ok:
				u.fail(fmt.Errorf("no clients for region %s", u.region))
			case stop != nil:
				u.fail(fmt.Errorf("not started after an earlier action failed: %w", stop))
			case ctx.Err() != nil:
				u.fail(fmt.Errorf("not started: %w", ctx.Err()))
			default:
				u.run(ctx, c, o)
			}
			mu.Lock()
			defer mu.Unlock()
			if err := u.err(); err != nil && stopped == nil && o.StopOn != nil && o.StopOn(err) {
				stopped = err
			}
			done += len(u.cands)
			o.progress("deleting", done, total)
			return nil
		})
	}
	_ = g.Wait()
	return p.report(false)
}

// deletion is one piece of work: a stack with the tables it owns, or one table deleted directly.
type deletion struct {
	region string
	stack  *StackAction // nil: one table, deleted directly
	cands  []*Candidate
	// filter is what the plan judged by, to judge again by before each irreversible step.
	filter Filter
}

func (p *Plan) clone() Plan {
	q := *p
	q.Candidates = append([]Candidate(nil), p.Candidates...)
	q.Stacks = append([]StackAction(nil), p.Stacks...)
	for i := range q.Candidates {
		q.Candidates[i].Notes = append([]string(nil), p.Candidates[i].Notes...)
	}
	return q
}

func (p *Plan) deletions() []*deletion {
	var units []*deletion
	for i := range p.Stacks {
		s := &p.Stacks[i]
		if s.Action != WouldDelete {
			continue
		}
		u := &deletion{region: s.Region, stack: s, filter: p.filter}
		for j := range p.Candidates {
			if c := &p.Candidates[j]; c.Stack == s.Stack && c.Region == s.Region {
				u.cands = append(u.cands, c)
			}
		}
		units = append(units, u)
	}
	for i := range p.Candidates {
		if c := &p.Candidates[i]; c.Stack == "" && c.Action == WouldDelete {
			units = append(units, &deletion{region: c.Region, cands: []*Candidate{c}, filter: p.filter})
		}
	}
	return units
}

func (u *deletion) what() string {
	if u.stack != nil {
		return "stack " + u.stack.Stack + " was"
	}
	return "the table was"
}

// fail records err on every table the unit was to delete, and on its stack: nothing of the
// unit was deleted.
func (u *deletion) fail(err error) {
	if u.stack != nil {
		u.stack.Action, u.stack.Error, u.stack.err = Failed, err.Error(), err
	}
	for _, c := range u.cands {
		if c.Action == WouldDelete {
			c.Action, c.Error, c.err = Failed, err.Error(), err
		}
	}
}

// err is the first error the unit met, if any.
func (u *deletion) err() error {
	if u.stack != nil && u.stack.err != nil {
		return u.stack.err
	}
	for _, c := range u.cands {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

func (u *deletion) run(ctx context.Context, c RegionClients, o Options) {
	defer u.noteNotDeleted(ctx, o)
	if !u.save(ctx, c, o) {
		return
	}
	unprotected, ok := u.unprotect(ctx, c, o)
	if !ok {
		u.reprotect(ctx, c, leftInPlace(unprotected), o)
		return
	}
	if u.stack != nil && !u.deleteStack(ctx, c, o) {
		// A stack that stays keeps what it still holds as it was found. One still being
		// deleted (or unknown) is left alone: turning protection back on would break it.
		if u.stack.Action != Deleting && u.stack.Action != Unknown {
			u.reprotect(ctx, c, leftInPlace(unprotected), o)
		}
		return
	}
	for _, cd := range u.cands {
		u.settle(ctx, c, cd, o)
	}
	// A table whose deletion failed, or that a re-check held back, is left as it was found.
	u.reprotect(ctx, c, leftInPlace(unprotected), o)
}

// leftInPlace are the candidates that are still there, for certain, and still the table that
// was planned: their deletion failed, a re-check held them back, or their stack kept them (a
// Retain policy the template did not show). Never a replaced table: the protection turned off
// was the planned table's, and the new one was never touched.
func leftInPlace(cands []*Candidate) []*Candidate {
	var out []*Candidate
	for _, cd := range cands {
		switch cd.Action {
		case Failed, Kept, NoLongerCandidate, SkippedProtected, Retained:
			out = append(out, cd)
		case Replaced:
			if !cd.nameTaken {
				out = append(out, cd) // held back with its stack because another table was replaced
			}
		}
	}
	return out
}

// touches: the unit's deletion could remove this table. A stack's retained tables count too:
// DeleteStack is what decides, and a template can say less than the user thinks.
func (u *deletion) touches(cd *Candidate) bool {
	return !cd.missing && (cd.Action == WouldDelete || (u.stack != nil && cd.Action == WouldRetain))
}

// save exports and backs up every table the unit could delete, before anything is deleted: a
// failed save means no deletion at all. Each table is re-judged after its export's last read
// (and so before its backup) or, with no export, before its backup; a backup counts only once
// it is AVAILABLE and provably of the planned table. It reports whether the unit may go on.
func (u *deletion) save(ctx context.Context, c RegionClients, o Options) bool {
	for _, cd := range u.cands {
		if !u.touches(cd) || (o.Export == nil && o.Backup == nil) {
			continue
		}
		if o.Export != nil {
			path, err := o.Export(ctx, cd.Region, cd.Table)
			if err != nil {
				if u.goneMeanwhile(ctx, c, cd, err, o) {
					continue
				}
				u.fail(fmt.Errorf("export of %s failed, so %s not deleted: %w", cd.Table, u.what(), err))
				return false
			}
			cd.SavedTo = path
		}
		step := stepBackup
		if o.Export != nil {
			step = stepExport
		}
		if !u.recheck(ctx, c, cd, step, nil) {
			if cd.SavedTo != "" && cd.Action == Replaced {
				// The export read by name: what it holds is (partly) the other table's items,
				// which the person may not expect to find in their export directory.
				cd.Notes = append(cd.Notes, fmt.Sprintf("%s: not an export of the planned table: read while the name stood for another table (its metadata.json names the table the read began on)", cd.SavedTo))
			}
			return false
		}
		if cd.Action == Gone || o.Backup == nil {
			continue
		}
		saved, err := o.Backup(ctx, Target{Region: cd.Region, Table: cd.Table, Identity: cd.Identity})
		if saved.Note != "" {
			cd.Notes = append(cd.Notes, saved.Note)
		}
		arn := saved.ARN
		if err == nil {
			err = CheckBackupSource(ctx, c.DynamoDB, arn, cd.Identity)
		}
		if errors.Is(err, ErrNotPlannedTable) {
			// The name stood for another table by the time the backup was taken.
			u.hold(cd, Replaced, fmt.Sprintf("%s: its backup %v; nothing was deleted: plan again", cd.Table, err))
			return false
		}
		if err != nil {
			if u.goneMeanwhile(ctx, c, cd, err, o) {
				continue
			}
			u.fail(fmt.Errorf("backup of %s failed, so %s not deleted: %w", cd.Table, u.what(), err))
			return false
		}
		cd.BackupARN = arn
	}
	return true
}

// goneMeanwhile settles a step that failed because the table is gone (deleted by someone else,
// or by a second sweep running at once): that is not a failure, and there is nothing left to
// save or delete. Asked on a fresh context, like every re-check after a failure.
func (u *deletion) goneMeanwhile(ctx context.Context, c RegionClients, cd *Candidate, err error, o Options) bool {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	if gone, gerr := isGone(rctx, c.DynamoDB, cd.Table); gerr != nil || !gone {
		return false
	}
	cd.Action, cd.Error, cd.err = Gone, "", nil
	cd.Notes = append(cd.Notes, fmt.Sprintf("gone meanwhile (%v): deleted by someone else; nothing left to save or delete", err))
	return true
}

// unprotect turns deletion protection off where the plan says (--include-protected), and
// returns the tables it did it on and whether the unit may go on. Each table is re-judged first.
func (u *deletion) unprotect(ctx context.Context, c RegionClients, o Options) ([]*Candidate, bool) {
	var done []*Candidate
	for _, cd := range u.cands {
		if cd.Action != WouldDelete || !cd.Protected || cd.missing {
			continue
		}
		if !u.recheck(ctx, c, cd, stepUnprotect, nil) {
			return done, false
		}
		if cd.Action == Gone {
			continue
		}
		if err := setProtection(ctx, c.DynamoDB, cd.Table, false); err != nil {
			if u.goneMeanwhile(ctx, c, cd, err, o) {
				continue
			}
			// Its answer may be what was lost: it counts as turned off, to be turned back on.
			u.fail(fmt.Errorf("%s not deleted: %w", u.what(), err))
			return append(done, cd), false
		}
		cd.Notes = append(cd.Notes, "deletion protection turned off")
		done = append(done, cd)
	}
	return done, true
}

// reprotect turns protection back on for tables that stay after all: a failed deletion must not
// leave a table less safe than it found it. It runs on a fresh context, like every clean-up.
func (u *deletion) reprotect(ctx context.Context, c RegionClients, cands []*Candidate, o Options) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	for _, cd := range cands {
		if err := setProtection(rctx, c.DynamoDB, cd.Table, true); err != nil {
			cd.Notes = append(cd.Notes, fmt.Sprintf("deletion protection could NOT be turned back on: %v", err))
			continue
		}
		cd.Notes = append(cd.Notes, "deletion protection turned back on")
	}
}

func setProtection(ctx context.Context, db DynamoDB, table string, on bool) error {
	_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(on)})
	if err != nil {
		return fmt.Errorf("turn deletion protection %s on %s: %w", map[bool]string{true: "on", false: "off"}[on], table, err)
	}
	return nil
}

// deleteStack deletes the unit's stack, as `cdk destroy` would, and reports whether it is gone.
// A deletion whose answer was lost is re-checked before anything is called failed.
func (u *deletion) deleteStack(ctx context.Context, c RegionClients, o Options) bool {
	if err := u.unchanged(ctx, c); err != nil {
		u.fail(err)
		return false
	}
	// Each table the stack would delete is written down first (the re-checks below stay the
	// last reads before DeleteStack); one it keeps, and deletes after it, is written down
	// before that DeleteTable.
	for _, cd := range u.cands {
		if u.touches(cd) && u.refuseLedger(cd) {
			return false
		}
		if cd.Action == WouldDelete && !cd.missing && !cd.retainedByPolicy() && !u.record(ctx, cd, o, stepStack) {
			return false
		}
	}
	// Every table the stack would take is judged again, the stack read once for them all.
	known := stacksNow{}
	for _, cd := range u.cands {
		if u.touches(cd) && !u.recheck(ctx, c, cd, stepStack, known) {
			return false
		}
	}
	if err := u.noneMadeSince(ctx, c); err != nil {
		u.fail(err)
		return false
	}
	// The last read before DeleteStack: what the stack holds, once more. An update during the
	// re-checks above (a queue added) would otherwise go with the stack, unjudged.
	if err := u.holdsThePlanned(ctx, c); err != nil {
		u.fail(err)
		return false
	}
	// By id: a stack of the same name made since is another stack.
	id := u.stack.id
	if id == "" {
		id = u.stack.Stack
	}
	err := deleteStackAndWait(ctx, c.CloudFormation, id, o.waitTimeout())
	if err == nil {
		u.stack.Action = Deleted
		return true
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	status, rerr := stackStatus(rctx, c.CloudFormation, u.stack.Stack)
	u.stack.err = err
	switch {
	case rerr != nil:
		u.stack.Action, u.stack.Error = Unknown, fmt.Sprintf("%v; re-checking the stack failed too: %v", err, rerr)
	case status == "":
		u.stack.Action, u.stack.err = Deleted, nil // the answer was lost, the stack is gone
		return true
	case status == cfntypes.StackStatusDeleteInProgress:
		u.stack.Action, u.stack.Error = Deleting, fmt.Sprintf("CloudFormation is still deleting it (%v)", err)
	default:
		u.stack.Action, u.stack.Error = Failed, fmt.Sprintf("%v (stack status %s)", err, status)
	}
	// CloudFormation may have deleted some tables before the stack's deletion stopped: each is
	// asked about, so a table that is gone is never reported as failed.
	for _, cd := range u.cands {
		if cd.Action == WouldRetain {
			cd.Action = Retained // its stack stays, and so does it
		}
		if cd.Action != WouldDelete {
			continue
		}
		if gone, gerr := isGone(rctx, c.DynamoDB, cd.Table); gerr == nil && gone {
			cd.Action = Deleted
			cd.Notes = append(cd.Notes, "deleted by CloudFormation before the stack's deletion stopped: "+u.stack.Error)
			continue
		}
		cd.err = err
		if u.stack.Action == Failed {
			cd.Action, cd.Error = Failed, "stack "+u.stack.Stack+" not deleted: "+u.stack.Error
		} else {
			cd.Action, cd.Error = Unknown, "stack "+u.stack.Stack+": "+u.stack.Error+": run again to confirm its tables are gone"
		}
	}
	return false
}

// unchanged proves the stack is still the one planned: the same deployment, holding the same
// tables, and not in the middle of a change. Between the plan and this moment (a confirmation
// prompt, long exports) a stack can be updated with new tables nobody saved, or deleted and made
// again. What else it holds is compared last, just before DeleteStack (holdsThePlanned).
func (u *deletion) unchanged(ctx context.Context, c RegionClients) error {
	if u.stack.id == "" {
		return nil // planned without an id (not by this package's planners)
	}
	now, live, err := readStack(ctx, c.CloudFormation, u.stack.Stack)
	switch {
	case err != nil:
		return fmt.Errorf("stack %s not deleted: re-reading it: %w", u.stack.Stack, err)
	case !live:
		return nil // gone already: DeleteStack by id is then a no-op, and settle finds out
	case now.ID != u.stack.id:
		return fmt.Errorf("stack %s not deleted: it was replaced since it was planned (now %s): plan again", u.stack.Stack, now.ID)
	case !slices.Equal(now.tableNames(), u.stack.tables):
		return fmt.Errorf("stack %s not deleted: its tables changed since it was planned (%v, now %v): plan again",
			u.stack.Stack, u.stack.tables, now.tableNames())
	case !maps.Equal(now.DeletionPolicies, u.stack.policies):
		return fmt.Errorf("stack %s not deleted: its tables' deletion policies changed since it was planned (%v, now %v): plan again",
			u.stack.Stack, u.stack.policies, now.DeletionPolicies)
	case changing(now.Status):
		return fmt.Errorf("stack %s not deleted: it is being changed (status %s): plan again once it settles", u.stack.Stack, now.Status)
	}
	return nil
}

// holdsThePlanned proves, by the stack's resources read once more (ListStackResources only: the
// shortest read there is), that it holds exactly what was planned.
func (u *deletion) holdsThePlanned(ctx context.Context, c RegionClients) error {
	if u.stack.id == "" {
		return nil // planned without an id (not by this package's planners)
	}
	now, err := discover.Resources(ctx, c.CloudFormation, u.stack.Stack)
	switch {
	case errors.Is(err, discover.ErrStackNotFound):
		return nil // gone already: DeleteStack by id is then a no-op, and settle finds out
	case err != nil:
		return fmt.Errorf("stack %s not deleted: re-reading what it holds: %w", u.stack.Stack, err)
	}
	return resourcesChanged(u.stack.Stack, u.stack.resources, now)
}

// resourcesChanged says how what a stack holds differs from what was planned (by kind, logical
// id and physical id: CloudFormation deletes by physical id), nil when it does not.
func resourcesChanged(stack string, planned, now []discover.Resource) error {
	key := func(r discover.Resource) string { return r.Type + "\x00" + r.LogicalID + "\x00" + r.PhysicalID }
	was := map[string]bool{}
	for _, r := range planned {
		was[key(r)] = true
	}
	is := map[string]bool{}
	var added, removed []string
	for _, r := range now {
		is[key(r)] = true
		if !was[key(r)] {
			added = append(added, r.String())
		}
	}
	for _, r := range planned {
		if !is[key(r)] {
			removed = append(removed, r.String())
		}
	}
	if len(added)+len(removed) == 0 {
		return nil
	}
	var what []string
	if len(added) > 0 {
		what = append(what, "now also holds "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		what = append(what, "no longer holds "+strings.Join(removed, ", "))
	}
	return fmt.Errorf("stack %s not deleted: what it holds changed since it was planned (%s): nothing it holds was deleted; plan again", stack, strings.Join(what, "; "))
}

// changing: CloudFormation is creating, updating, importing or rolling it back (not deleting
// it: a stack someone else is deleting is settled like one this run deleted).
func changing(status string) bool {
	return strings.HasSuffix(status, "_IN_PROGRESS") && status != string(cfntypes.StackStatusDeleteInProgress)
}

// noneMadeSince proves that each table the stack lists but DynamoDB did not have when planned
// (deleted by hand), or that a re-check found gone since, is still not there. CloudFormation deletes a resource by its physical name:
// a table made under that name since (another project's) would go with the stack, never read,
// saved or judged.
func (u *deletion) noneMadeSince(ctx context.Context, c RegionClients) error {
	for _, name := range u.stack.tables {
		if slices.ContainsFunc(u.cands, func(cd *Candidate) bool { return cd.Table == name && !cd.missing && cd.Action != Gone }) {
			continue // read when planned, and re-checked above (or one the stack keeps)
		}
		gone, err := isGone(ctx, c.DynamoDB, name)
		switch {
		case err != nil:
			return fmt.Errorf("stack %s not deleted: re-reading its table %s: %w", u.stack.Stack, name, err)
		case !gone:
			return fmt.Errorf("stack %s not deleted: it lists table %s, which did not exist when planned and does now (made since, perhaps by someone else): plan again", u.stack.Stack, name)
		}
	}
	return nil
}

// settle finds out what became of one table of a unit whose deletion went ahead, and finishes
// the job: a table the plan deletes that is still there (its stack retained it) is deleted
// directly.
func (u *deletion) settle(ctx context.Context, c RegionClients, cd *Candidate, o Options) {
	switch cd.Action {
	case WouldDelete, WouldRetain:
	default:
		return // skipped or failed: untouched
	}
	if u.stack == nil {
		u.deleteTable(ctx, c, cd, o)
		return
	}
	// Asked on a fresh context: after Ctrl-C or --timeout the answer still comes.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	gone, err := isGone(rctx, c.DynamoDB, cd.Table)
	switch {
	case err != nil:
		cd.Action, cd.Error, cd.err = Unknown, err.Error(), err
	case gone:
		cd.Action = Deleted
		if !cd.missing {
			cd.Notes = append(cd.Notes, "deleted with stack "+u.stack.Stack)
		}
	case cd.Action == WouldRetain:
		cd.Action = Retained
	case !cd.afterStack:
		cd.Action = Retained
		cd.Notes = append(cd.Notes, fmt.Sprintf("its stack kept it (DeletionPolicy %s): not deleted; pass --delete-retained to delete such tables too", cd.DeletionPolicy))
	default:
		cd.Notes = append(cd.Notes, fmt.Sprintf("still there after stack %s was deleted (DeletionPolicy %s); deleted directly", u.stack.Stack, cd.DeletionPolicy))
		u.deleteTable(ctx, c, cd, o)
	}
}

// deleteTable deletes one table and records the outcome; when the answer is lost (a timeout, a
// dropped connection, an interrupt), DynamoDB is asked again on a fresh context, so a table
// that is gone is never reported as failed.
func (u *deletion) deleteTable(ctx context.Context, c RegionClients, cd *Candidate, o Options) {
	if u.refuseLedger(cd) || !u.record(ctx, cd, o, stepDelete) {
		return
	}
	// Nothing but this re-check's last read (DescribeTable) stands between it and DeleteTable:
	// DeleteTable takes no condition, so that one round trip is the window that remains.
	if !u.recheck(ctx, c, cd, stepDelete, nil) || cd.Action == Gone {
		return
	}
	err := deleteTableAndWaitFor(ctx, c.DynamoDB, cd.Table, cd.Identity, o.waitTimeout())
	if err == nil {
		cd.Action = Deleted
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	d, rerr := discover.DescribeTable(rctx, c.DynamoDB, cd.Table)
	cd.err = err
	switch {
	case rerr != nil:
		cd.Action, cd.Error = Unknown, fmt.Sprintf("%v; re-checking whether it is gone failed too: %v", err, rerr)
	case d == nil:
		cd.Action, cd.err = Deleted, nil
		cd.Notes = append(cd.Notes, fmt.Sprintf("the answer was lost (%v), but DynamoDB confirms it is gone", err))
	case !cd.Identity.Same(identityOf(d)):
		cd.Action, cd.err = Deleted, nil
		cd.Notes = append(cd.Notes, fmt.Sprintf("the answer was lost (%v), but the planned table is gone: the name now stands for another table (%s), made since and not touched", err, identityOf(d)))
	case d.TableStatus == types.TableStatusDeleting:
		cd.Action, cd.err = Deleting, nil
		cd.Notes = append(cd.Notes, fmt.Sprintf("DynamoDB is still deleting it (%v)", err))
	default:
		cd.Action, cd.Error = Failed, err.Error()
	}
}

// deleteTableAndWait deletes a table and waits with the SDK's TableNotExists waiter. A table that is
// already gone is not an error. Busy answers are retried by the client (NewRegionClients).
func deleteTableAndWait(ctx context.Context, db DynamoDB, table string, wait time.Duration) error {
	return deleteTableAndWaitFor(ctx, db, table, Identity{}, wait)
}

// deleteTableAndWaitFor is deleteTableAndWait for the planned table: the wait ends once that
// table is gone, even if the name already stands for another table, made since (which would
// otherwise be waited on until the timeout, and the deletion reported failed).
func deleteTableAndWaitFor(ctx context.Context, db DynamoDB, table string, planned Identity, wait time.Duration) error {
	_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete table %s: %w", table, err)
	}
	w := dynamodb.NewTableNotExistsWaiter(db, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 20*time.Second
		if planned.ARN == "" {
			return
		}
		gone := o.Retryable
		o.Retryable = func(ctx context.Context, in *dynamodb.DescribeTableInput, out *dynamodb.DescribeTableOutput, err error) (bool, error) {
			if err == nil && out != nil && out.Table != nil && !planned.Same(identityOf(out.Table)) {
				return false, nil // the planned table is gone; the name is another table's now
			}
			return gone(ctx, in, out, err)
		}
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, wait); err != nil {
		return fmt.Errorf("wait for table %s to be gone: %w", table, err)
	}
	return nil
}

// deleteStackAndWait deletes a stack and waits with the SDK's StackDeleteComplete waiter.
func deleteStackAndWait(ctx context.Context, cfn CloudFormation, stack string, wait time.Duration) error {
	if _, err := cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(stack)}); err != nil {
		return fmt.Errorf("delete stack %s: %w", stack, err)
	}
	w := cloudformation.NewStackDeleteCompleteWaiter(cfn, func(o *cloudformation.StackDeleteCompleteWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 15*time.Second
	})
	if err := w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, wait); err != nil {
		return fmt.Errorf("wait for stack %s to be deleted: %w", stack, err)
	}
	return nil
}

// stackStatus is a stack's status, "" when it no longer exists.
func stackStatus(ctx context.Context, cfn CloudFormation, stack string) (cfntypes.StackStatus, error) {
	s, err := discover.Describe(ctx, cfn, stack)
	if errors.Is(err, discover.ErrStackNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return cfntypes.StackStatus(s.Status), nil
}

// isGone proves a table no longer exists: DescribeTable answers ResourceNotFound.
func isGone(ctx context.Context, db DynamoDB, table string) (bool, error) {
	d, err := discover.DescribeTable(ctx, db, table)
	return d == nil && err == nil, err
}

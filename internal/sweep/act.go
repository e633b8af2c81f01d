package sweep

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"
)

// Act carries out a plan: every would-delete candidate is exported (when Options.Save is set)
// and deleted, directly or through its live stack, in parallel up to Options.Concurrency.
// Each outcome is recorded on its candidate; nothing stops the others.
func Act(ctx context.Context, p Plan, clients map[string]RegionClients, o Options) Report {
	p.Candidates = append([]Candidate{}, p.Candidates...)
	type unit struct {
		region, stack string
		cands         []*Candidate
	}
	var units []*unit
	stacks := map[[2]string]*unit{}
	for i := range p.Candidates {
		c := &p.Candidates[i]
		if c.Action != WouldDelete {
			continue
		}
		if c.Stack == "" {
			units = append(units, &unit{region: c.Region, cands: []*Candidate{c}})
			continue
		}
		k := [2]string{c.Region, c.Stack}
		if stacks[k] == nil {
			stacks[k] = &unit{region: c.Region, stack: c.Stack}
			units = append(units, stacks[k])
		}
		stacks[k].cands = append(stacks[k].cands, c)
	}
	total := 0
	for _, u := range units {
		total += len(u.cands)
	}
	var mu sync.Mutex
	done := 0
	var g errgroup.Group // not WithContext: one failure must not cancel the others
	g.SetLimit(o.concurrency())
	for _, u := range units {
		g.Go(func() error {
			c, ok := clients[u.region]
			switch {
			case !ok:
				fail(u.cands, fmt.Errorf("no clients for region %s", u.region))
			case ctx.Err() != nil:
				fail(u.cands, fmt.Errorf("not started: %w", ctx.Err()))
			case u.stack == "":
				finish(u.cands[0], deleteTable(ctx, c, u.cands[0], o))
			default:
				deleteViaStack(ctx, c, u.stack, u.cands, o)
			}
			mu.Lock()
			done += len(u.cands)
			o.progress("deleting", done, total)
			mu.Unlock()
			return nil
		})
	}
	_ = g.Wait()
	return p.report(false)
}

func finish(c *Candidate, err error) {
	if err != nil {
		c.Action, c.Error = Failed, err.Error()
		return
	}
	c.Action = Deleted
}

func fail(cs []*Candidate, err error) {
	for _, c := range cs {
		finish(c, err)
	}
}

// deleteTable exports (if asked), turns protection off (if the plan says so), deletes the
// table and waits until DynamoDB says it is gone.
func deleteTable(ctx context.Context, c RegionClients, cd *Candidate, o Options) error {
	if o.Save != nil {
		path, err := o.Save(ctx, cd.Region, cd.Table)
		if err != nil {
			return fmt.Errorf("export failed, so the table was not deleted: %w", err)
		}
		cd.SavedTo = path
	}
	if cd.Protected {
		if err := unprotect(ctx, c.DynamoDB, cd.Table, o.Busy); err != nil {
			return err
		}
		cd.Notes = append(cd.Notes, "deletion protection turned off")
	}
	return DeleteTable(ctx, c.DynamoDB, cd.Table, o.Busy, o.waitTimeout())
}

// DeleteTable deletes a table, retrying while DynamoDB is busy, and waits with the SDK's
// TableNotExists waiter. A table that is already gone is not an error.
func DeleteTable(ctx context.Context, db DynamoDB, table string, b Backoff, wait time.Duration) error {
	err := b.retry(ctx, func() error {
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		return err
	})
	var nf *types.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete table %s: %w", table, err)
	}
	w := dynamodb.NewTableNotExistsWaiter(db, func(o *dynamodb.TableNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 2*time.Second, 20*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, wait); err != nil {
		return fmt.Errorf("wait for table %s to be gone: %w", table, err)
	}
	return nil
}

func unprotect(ctx context.Context, db DynamoDB, table string, b Backoff) error {
	err := b.retry(ctx, func() error {
		_, err := db.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(false)})
		return err
	})
	if err != nil {
		return fmt.Errorf("turn deletion protection off on %s: %w", table, err)
	}
	return nil
}

// deleteViaStack removes candidates that a live stack owns by deleting that stack, as
// `cdk destroy` would; tables the stack retains are then deleted directly, since the plan
// chose them and no stack claims them any more.
func deleteViaStack(ctx context.Context, c RegionClients, stack string, cands []*Candidate, o Options) {
	sort.Slice(cands, func(i, j int) bool { return cands[i].Table < cands[j].Table })
	if o.Save != nil {
		for _, cd := range cands {
			path, err := o.Save(ctx, cd.Region, cd.Table)
			if err != nil {
				fail(cands, fmt.Errorf("export of %s failed, so stack %s was not deleted: %w", cd.Table, stack, err))
				return
			}
			cd.SavedTo = path
		}
	}
	for _, cd := range cands {
		if cd.Protected {
			if err := unprotect(ctx, c.DynamoDB, cd.Table, o.Busy); err != nil {
				fail(cands, fmt.Errorf("stack %s not deleted: %w", stack, err))
				return
			}
			cd.Notes = append(cd.Notes, "deletion protection turned off")
		}
	}
	if err := DeleteStack(ctx, c.CloudFormation, stack, o.waitTimeout()); err != nil {
		fail(cands, err)
		return
	}
	for _, cd := range cands {
		cd.Notes = append(cd.Notes, "deleted with stack "+stack)
		gone, err := Gone(ctx, c.DynamoDB, cd.Table)
		switch {
		case err != nil:
			finish(cd, err)
		case gone:
			finish(cd, nil)
		default:
			cd.Notes = append(cd.Notes, "retained by the stack; deleted directly")
			finish(cd, DeleteTable(ctx, c.DynamoDB, cd.Table, o.Busy, o.waitTimeout()))
		}
	}
}

// DeleteStack deletes a stack and waits with the SDK's StackDeleteComplete waiter.
func DeleteStack(ctx context.Context, cfn CloudFormation, stack string, wait time.Duration) error {
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

// Gone proves a table no longer exists: DescribeTable answers ResourceNotFound.
func Gone(ctx context.Context, db DynamoDB, table string) (bool, error) {
	d, err := describeTable(ctx, db, table)
	return d == nil && err == nil, err
}

// Backoff is how long to wait between tries when DynamoDB is busy: LimitExceededException (too
// many control-plane operations at once) or ResourceInUseException (the table is still being
// created or updated). The SDK's retryer does not retry either. The zero value is 1s doubling
// to 20s, 8 tries.
type Backoff struct {
	Base, Max time.Duration
	Attempts  int
}

func (b Backoff) retry(ctx context.Context, fn func() error) error {
	base, maxDelay, attempts := b.Base, b.Max, b.Attempts
	if base <= 0 {
		base = time.Second
	}
	if maxDelay <= 0 {
		maxDelay = 20 * time.Second
	}
	if attempts <= 0 {
		attempts = 8
	}
	delay := base
	for i := 1; ; i++ {
		err := fn()
		if err == nil || !Busy(err) || i >= attempts {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay/2 + rand.N(delay/2+1)):
		}
		delay = min(2*delay, maxDelay)
	}
}

// Busy reports whether err means "try again shortly".
func Busy(err error) bool {
	var le *types.LimitExceededException
	var iu *types.ResourceInUseException
	return errors.As(err, &le) || errors.As(err, &iu)
}

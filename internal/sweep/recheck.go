package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The irreversible steps a table is re-read and re-judged before (README: What is checked when).
const (
	stepExport    = "after its export"
	stepBackup    = "before its backup"
	stepUnprotect = "before turning deletion protection off"
	stepDelete    = "before DeleteTable"
	stepStack     = "before DeleteStack"
)

// stacksNow caches what a re-check learned of stacks, by name: nil when the stack is not live.
type stacksNow map[string]*LiveStack

// stack reads a stack once per re-check.
func (s stacksNow) stack(ctx context.Context, cfn CloudFormation, name string) (*LiveStack, error) {
	if st, ok := s[name]; ok {
		return st, nil
	}
	st, live, err := readStack(ctx, cfn, name)
	if err != nil {
		return nil, fmt.Errorf("re-read stack %s: %w", name, err)
	}
	s[name] = nil
	if live {
		s[name] = &st
	}
	return s[name], nil
}

// recheck reads one table the unit could delete again, with its stack, and judges it again by
// the rules it was planned by, just before step. It returns whether the unit may go on; what
// stopped it is recorded on the table and, for a stack, on the stack and its other tables. A
// table someone else deleted meanwhile is Gone (not a failure); a stack's other tables go on.
func (u *deletion) recheck(ctx context.Context, c RegionClients, cd *Candidate, step string, known stacksNow) bool {
	if known == nil {
		known = stacksNow{}
	}
	// The stack first and the table last: the table's own answer is the one closest to the step.
	if cd.stackTag != "" {
		if _, err := known.stack(ctx, c.CloudFormation, cd.stackTag); err != nil {
			u.fail(fmt.Errorf("%s not deleted: %s %s: %w", u.what(), cd.Table, step, err))
			return false
		}
	}
	t, gone, err := u.reobserve(ctx, c, cd, known)
	switch {
	case err != nil:
		u.fail(fmt.Errorf("%s not deleted: re-reading %s %s: %w", u.what(), cd.Table, step, err))
		return false
	case gone != "":
		cd.Action, cd.Error, cd.err = Gone, "", nil
		cd.Notes = append(cd.Notes, fmt.Sprintf("%s %s: %s", gone, step, "deleted by someone else; nothing left to save or delete"))
		return u.stack != nil // a stack's other tables go on
	}
	action, why := u.rejudge(cd, t)
	if action == "" {
		return true
	}
	u.hold(cd, action, fmt.Sprintf("%s %s: %s", cd.Table, step, why))
	return false
}

// reobserve reads the table as observe does, but its tags first (by the planned ARN, which a
// table re-created under the name shares), then the stack they name, and its description last:
// the identity then comes from the answer nearest the step (no other call comes between it and
// the step), and a change between the reads shows as another identity. gone says why the table
// is no longer there, if it is not.
func (u *deletion) reobserve(ctx context.Context, c RegionClients, cd *Candidate, known stacksNow) (Observed, string, error) {
	tags, err := discover.TableTags(ctx, c.DynamoDB, cd.Identity.ARN)
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return Observed{}, "gone", nil
	case err != nil:
		return Observed{}, "", fmt.Errorf("list tags: %w", err)
	}
	var s *LiveStack
	if name := stackOf(tags); name != "" {
		if s, err = known.stack(ctx, c.CloudFormation, name); err != nil {
			return Observed{}, "", err
		}
	}
	d, err := discover.DescribeTable(ctx, c.DynamoDB, cd.Table)
	switch {
	case err != nil:
		return Observed{}, "", err
	case d == nil:
		return Observed{}, "gone", nil
	case d.TableStatus == types.TableStatusDeleting && cd.Identity.Same(identityOf(d)):
		return Observed{}, "being deleted by someone else", nil
	}
	t := observed(cd.Region, cd.Table, d, tags, u.filter)
	if s != nil {
		t.live(*s)
	}
	return t, "", nil
}

// rejudge is the plan's judgment made again on the table as it is now: "" when it still goes,
// else what it is now and why. A stack's other tables and a teardown's were not chosen by the
// rules but by their stack: for them only the identity, wallet:keep and protection count, and
// for a sweep's (same-stack) that it is still tagged Project=wallet.
func (u *deletion) rejudge(cd *Candidate, t Observed) (Action, string) {
	if now := t.Identity(); !cd.Identity.Same(now) {
		return Replaced, fmt.Sprintf("replaced since it was planned (planned %s, now %s): nothing was done to it; plan again", cd.Identity, now)
	}
	if t.Protected && !cd.Protected {
		return SkippedProtected, "deletion protection was turned on since it was planned"
	}
	if bystander(cd.Reasons) {
		switch {
		case wallet.Kept(t.Tags):
			return Kept, fmt.Sprintf("tagged %s=true since it was planned", wallet.TagKeep)
		case slices.Contains(cd.Reasons, SameStack) && !taggedOurs(t.Tags):
			// A sweep takes a stack's other table only when it is ours itself (holdings).
			return NoLongerCandidate, fmt.Sprintf("no longer tagged %s=%s: a stack's table goes with it only when it is ours", wallet.TagProject, wallet.ProjectName)
		}
		return "", ""
	}
	t.Idle = cd.idle
	now := u.filter.now()
	v := judge(t, u.filter, now)
	if v.candidate() {
		return "", ""
	}
	if v.out != nil {
		return v.out.out, "no longer a candidate: " + v.why(t, u.filter, now)
	}
	return NoLongerCandidate, "no longer a candidate: " + v.why(t, u.filter, now)
}

// bystander: the table goes only because its stack does (same-stack, teardown).
func bystander(rs []Reason) bool {
	return !slices.ContainsFunc(rs, func(r Reason) bool { return r != SameStack && r != Teardown })
}

// hold stops the unit because of one table: that table is reported as what it now is, and a
// stack (deleted whole or not at all) stays, with every other table of it, for the same cause.
func (u *deletion) hold(cd *Candidate, action Action, why string) {
	cd.Action = action
	cd.nameTaken = action == Replaced
	cd.Notes = append(cd.Notes, why)
	if u.stack == nil || u.stack.Action != WouldDelete {
		return // no stack, or one already deleted (a table it retained, re-checked after it)
	}
	u.stack.Action, u.stack.Error = action, fmt.Sprintf("stack %s not deleted: table %s", u.stack.Stack, why)
	for _, o := range u.cands {
		if o != cd && (o.Action == WouldDelete || o.Action == WouldRetain) {
			o.Action = action
			o.Notes = append(o.Notes, u.stack.Error)
		}
	}
}

// observed is one table as discovery records it, from its description and tags.
func observed(region, name string, d *types.TableDescription, tags map[string]string, f Filter) Observed {
	t := Observed{
		Name:      name,
		ARN:       aws.ToString(d.TableArn),
		TableID:   aws.ToString(d.TableId),
		Region:    region,
		Created:   aws.ToTime(d.CreationDateTime),
		Status:    string(d.TableStatus),
		Protected: aws.ToBool(d.DeletionProtectionEnabled),
		Footprint: cost.FromDescription(d),
		Tags:      tags,
	}
	t.Ours = discover.Ours(t.Name, tags, f.NamePrefix)
	t.Stack = stackOf(tags)
	return t
}

// stackOf is the stack a table's tags name: CloudFormation's own tag, else ours.
func stackOf(tags map[string]string) string {
	if s := tags[wallet.CloudFormationStackTag]; s != "" {
		return s
	}
	return tags[wallet.TagStack]
}

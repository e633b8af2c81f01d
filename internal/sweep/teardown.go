package sweep

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// teardownFootprint is what a stack's table costs: its instant capacity, or with o.Billed and
// auto scaling, what it was billed for (as the sweep prices it), and the notes that say which.
func teardownFootprint(ctx context.Context, c RegionClients, name string, d *types.TableDescription, o TeardownOptions) (cost.Footprint, bool, []string) {
	t := observed(c.Region, name, d, nil, Filter{})
	if !o.Billed || c.AutoScaling == nil || t.Footprint.Billing != wallet.BillingProvisioned {
		return t.Footprint, false, nil
	}
	t.sources, t.loads = usage.Sources(d), cost.LoadsOf(d)
	if err := scalingOf(ctx, c, []*Observed{&t}, 1); err != nil {
		return t.Footprint, false, []string{fmt.Sprintf("whether it is auto scaled could not be read: priced at the capacity DescribeTable shows (%v)", err)}
	}
	if !t.AutoScaled {
		return t.Footprint, false, nil
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	var notes []string
	if n := billedOf(ctx, c, &t, now); n != "" {
		notes = append(notes, n)
	}
	return t.Footprint, true, append(notes, billedNote(t))
}

// TeardownOptions are the user's choices for removing one stack.
type TeardownOptions struct {
	// DeleteRetained also deletes the tables the stack keeps (DeletionPolicy Retain).
	DeleteRetained bool
	// IncludeProtected turns deletion protection off on tables that are to be deleted.
	IncludeProtected bool
	// Billed prices an auto-scaled table at what it was billed for, as Options.Billed does.
	Billed bool
	// Now ends the window that is (default time.Now()).
	Now time.Time
}

// PlanTeardown is the other way of planning: the candidates are one named stack's tables,
// whatever their tags, and the stack goes with them, unless it holds a resource of a kind a
// wallet stack does not declare (the stack's rule, holdings): then it is kept, and says why. It reads the stack, its tables and their
// deletion policies; Act carries the plan out like any other.
func PlanTeardown(ctx context.Context, c RegionClients, stack string, prices cost.Prices, o TeardownOptions) (Plan, error) {
	s, live, err := readStack(ctx, c.CloudFormation, stack)
	if err != nil {
		return Plan{}, err
	}
	if !live {
		return Plan{}, fmt.Errorf("stack %s: %w", stack, discover.ErrStackNotFound)
	}
	p := Plan{
		Teardown: s.Name,
		Regions:  []string{c.Region},
		Stacks: []StackAction{{Stack: s.Name, Region: c.Region, Status: s.Status, Action: WouldDelete, id: s.ID, tables: s.tableNames(),
			policies: s.DeletionPolicies, resources: s.Resources}},
		Prices: prices,
	}
	if n := prices.Note(c.Region); n != "" {
		p.Notes = append(p.Notes, n)
	}
	if s.DeletionPolicies == nil {
		p.Notes = append(p.Notes, "the stack's template could not be read as JSON: deletion policies unknown, so every table counts as one the stack deletes")
	}
	for _, r := range s.Tables {
		d, err := discover.DescribeTable(ctx, c.DynamoDB, r.Name)
		if err != nil {
			return Plan{}, err
		}
		cd := Candidate{Table: r.Name, Region: c.Region, Reasons: []Reason{Teardown}, Stack: s.Name,
			DeletionPolicy: s.policy(r.LogicalID), missing: d == nil, logicalID: r.LogicalID}
		cd.Detail = fmt.Sprintf("%s: a table of stack %s, torn down", Teardown, s.Name)
		if d != nil {
			cd.Identity = identityOf(d)
			cd.Protected = aws.ToBool(d.DeletionProtectionEnabled)
			f, autoScaled, notes := teardownFootprint(ctx, c, r.Name, d, o)
			cd.MonthlyCostUSD, cd.AutoScaled = cost.Round(cost.MonthlyIn(c.Region, f, prices).Total), autoScaled
			cd.Notes = append(cd.Notes, notes...)
			// wallet:keep=true holds its stack here too: naming the stack is not removing the tag.
			tags, err := discover.TableTags(ctx, c.DynamoDB, aws.ToString(d.TableArn))
			if err != nil {
				return Plan{}, fmt.Errorf("tags of %s: %w", r.Name, err)
			}
			if wallet.Kept(tags) {
				p.Stacks[0].Action = Kept
				p.Stacks[0].Error = fmt.Sprintf("table %s is tagged %s=true: the stack is not deleted (remove the tag to tear it down)", r.Name, wallet.TagKeep)
			}
		}
		p.Candidates = append(p.Candidates, cd)
	}
	// Its tables are named in the plan, whatever their tags: the user judges them there. Anything
	// else of a kind a wallet stack does not declare no one would, so it holds the stack.
	p.Stacks[0].keep(holdings(s.Resources, func(string) string { return "" }))
	decide(&p, o.IncludeProtected, o.DeleteRetained)
	return p, nil
}

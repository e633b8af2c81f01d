package sweep

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TeardownOptions are the user's choices for removing one stack.
type TeardownOptions struct {
	// DeleteRetained also deletes the tables the stack keeps (DeletionPolicy Retain).
	DeleteRetained bool
	// IncludeProtected turns deletion protection off on tables that are to be deleted.
	IncludeProtected bool
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
		if d != nil {
			cd.Identity = identityOf(d)
			cd.Protected = aws.ToBool(d.DeletionProtectionEnabled)
			cd.MonthlyCostUSD = cost.Round(cost.Monthly(cost.FromDescription(d), prices).Total)
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

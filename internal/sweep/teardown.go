package sweep

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// TeardownOptions are the user's choices for removing one stack.
type TeardownOptions struct {
	// DeleteRetained also deletes the tables the stack keeps (DeletionPolicy Retain).
	DeleteRetained bool
	// IncludeProtected turns deletion protection off on tables that are to be deleted.
	IncludeProtected bool
}

// StackTable is one table of the stack being torn down.
type StackTable struct {
	Table     string `json:"table"`
	LogicalID string `json:"logical_id"`
	// DeletionPolicy is the template's: Delete, Retain, RetainExceptOnCreate or unknown.
	DeletionPolicy string   `json:"deletion_policy"`
	Exists         bool     `json:"exists"`
	Protected      bool     `json:"protected"`
	MonthlyCostUSD float64  `json:"monthly_cost_usd"`
	Action         Action   `json:"action"`
	SavedTo        string   `json:"saved_to,omitempty"`
	Error          string   `json:"error,omitempty"`
	Notes          []string `json:"notes,omitempty"`
}

// Teardown is the plan for removing one stack, and after Run, what happened.
type Teardown struct {
	DryRun bool         `json:"dry_run"`
	Stack  string       `json:"stack"`
	Region string       `json:"region"`
	Status string       `json:"stack_status"`
	Tables []StackTable `json:"tables"`
	// StackDeleted is true once the stack is proven gone.
	StackDeleted bool `json:"stack_deleted"`
	// Blocked says why nothing may be done (set by the plan; Run then changes nothing).
	Blocked           string      `json:"blocked,omitempty"`
	Error             string      `json:"error,omitempty"`
	MonthlySavingsUSD float64     `json:"monthly_savings_usd"`
	RetainedUSD       float64     `json:"monthly_cost_retained_usd"`
	Notes             []string    `json:"notes,omitempty"`
	Prices            cost.Prices `json:"prices"`

	opts TeardownOptions
}

func (p StackTable) retainedByPolicy() bool {
	return p.DeletionPolicy == "Retain" || p.DeletionPolicy == "RetainExceptOnCreate"
}

// PlanTeardown reads the stack, its tables and their deletion policies, and decides what a
// confirmed teardown does with each. The result is a dry run until Run.
func PlanTeardown(ctx context.Context, c RegionClients, stack string, prices cost.Prices, o TeardownOptions) (*Teardown, error) {
	s, err := discover.Describe(ctx, c.CloudFormation, stack)
	if err != nil {
		return nil, err
	}
	policies := deletionPolicies(ctx, c.CloudFormation, stack)
	td := &Teardown{DryRun: true, Stack: s.Name, Region: c.Region, Status: s.Status, Prices: prices, opts: o}
	if n := prices.Note(c.Region); n != "" {
		td.Notes = append(td.Notes, n)
	}
	if policies == nil {
		td.Notes = append(td.Notes, "the stack's template could not be read as JSON: deletion policies unknown")
	}
	for _, t := range s.Tables {
		st := StackTable{Table: t.Name, LogicalID: t.LogicalID, DeletionPolicy: "unknown"}
		if p, ok := policies[t.LogicalID]; ok {
			st.DeletionPolicy = p
		}
		out, err := describeTable(ctx, c.DynamoDB, t.Name)
		if err != nil {
			return nil, err
		}
		if out != nil {
			st.Exists = true
			st.Protected = aws.ToBool(out.DeletionProtectionEnabled)
			st.MonthlyCostUSD = cost.Round(cost.Monthly(cost.FromDescription(out), prices).Total)
		}
		td.Tables = append(td.Tables, st)
	}
	td.decide()
	return td, nil
}

func (td *Teardown) decide() {
	o := td.opts
	for i := range td.Tables {
		t := &td.Tables[i]
		retained := t.retainedByPolicy()
		switch {
		case !t.Exists:
			t.Action = WouldDelete
			t.Notes = append(t.Notes, "already gone")
		case t.Protected && !o.IncludeProtected && !retained:
			// CloudFormation cannot delete a protected table: the stack would end DELETE_FAILED.
			t.Action = SkippedProtected
			td.Blocked = fmt.Sprintf("table %s is protected and the stack would delete it (DeletionPolicy %s): pass --include-protected to turn protection off first", t.Table, t.DeletionPolicy)
		case retained && !o.DeleteRetained:
			t.Action = WouldRetain
		case retained && t.Protected && !o.IncludeProtected:
			t.Action = SkippedProtected
			t.Notes = append(t.Notes, "retained and protected: pass --include-protected to delete it")
		default:
			t.Action = WouldDelete
			if t.Protected {
				t.Notes = append(t.Notes, "deletion protection will be turned off (--include-protected)")
			}
		}
	}
	td.sum()
}

func (td *Teardown) sum() {
	var saved, kept float64
	for _, t := range td.Tables {
		switch t.Action {
		case WouldDelete, Deleted:
			saved += t.MonthlyCostUSD
		case WouldRetain, Retained, SkippedProtected, Failed:
			kept += t.MonthlyCostUSD
		}
	}
	td.MonthlySavingsUSD, td.RetainedUSD = cost.Round(saved), cost.Round(kept)
}

// Failed reports whether a teardown that ran left anything behind or went wrong. A dry run
// never fails: it only shows the plan, Blocked included.
func (td *Teardown) Failed() bool {
	if td.DryRun {
		return false
	}
	if td.Error != "" || !td.StackDeleted {
		return true
	}
	for _, t := range td.Tables {
		if t.Action != Deleted {
			return true
		}
	}
	return false
}

// Run carries out the plan: export every table (when o.Save is set), turn protection off where
// the plan says, delete the stack and wait, prove each table gone, and delete the retained
// ones if the plan says so. A blocked plan changes nothing.
func (td *Teardown) Run(ctx context.Context, c RegionClients, o Options) {
	td.DryRun = false
	defer td.sum()
	if td.Blocked != "" {
		td.Error = "nothing deleted: " + td.Blocked
		return
	}
	if o.Save != nil {
		for i := range td.Tables {
			t := &td.Tables[i]
			if !t.Exists {
				continue
			}
			path, err := o.Save(ctx, c.Region, t.Table)
			if err != nil {
				td.Error = fmt.Sprintf("export of %s failed, so nothing was deleted: %v", t.Table, err)
				return
			}
			t.SavedTo = path
		}
	}
	for i := range td.Tables {
		t := &td.Tables[i]
		if t.Exists && t.Protected && t.Action == WouldDelete {
			if err := unprotect(ctx, c.DynamoDB, t.Table, o.Busy); err != nil {
				td.Error = fmt.Sprintf("stack not deleted: %v", err)
				return
			}
			t.Notes = append(t.Notes, "deletion protection turned off")
		}
	}
	if err := DeleteStack(ctx, c.CloudFormation, td.Stack, o.waitTimeout()); err != nil {
		td.Error = err.Error()
		return
	}
	td.StackDeleted = true
	for i := range td.Tables {
		t := &td.Tables[i]
		gone, err := Gone(ctx, c.DynamoDB, t.Table)
		switch {
		case err != nil:
			t.Action, t.Error = Failed, err.Error()
		case gone:
			t.Action = Deleted
		case t.Action == WouldDelete && td.opts.DeleteRetained: // the stack kept it; the user wants it gone too
			t.Notes = append(t.Notes, "retained by the stack; deleted directly (--delete-retained)")
			if err := DeleteTable(ctx, c.DynamoDB, t.Table, o.Busy, o.waitTimeout()); err != nil {
				t.Action, t.Error = Failed, err.Error()
			} else {
				t.Action = Deleted
			}
		case t.Action == SkippedProtected:
			// stays protected and billing; reported as such
		default:
			t.Action = Retained
			if !t.retainedByPolicy() {
				t.Notes = append(t.Notes, "still exists after the stack was deleted")
			}
		}
	}
}

// describeTable returns nil for a table that does not exist.
func describeTable(ctx context.Context, db DynamoDB, table string) (*types.TableDescription, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	return out.Table, nil
}

// deletionPolicies maps logical ids to DeletionPolicy from the stack's template, or returns nil
// when the template cannot be read (YAML, or no GetTemplate permission).
func deletionPolicies(ctx context.Context, cfn CloudFormation, stack string) map[string]string {
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return nil
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, s := range specs {
		m[s.LogicalID] = s.DeletionPolicy
	}
	return m
}

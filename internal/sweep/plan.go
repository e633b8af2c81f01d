package sweep

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/mark"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Candidate is one table a plan would delete, keep or skip, and then what was done with it.
type Candidate struct {
	Table          string   `json:"table"`
	Region         string   `json:"region"`
	Account        string   `json:"account,omitempty"`
	Reasons        []Reason `json:"reasons"`
	MonthlyCostUSD float64  `json:"monthly_cost_usd"`
	Protected      bool     `json:"protected"`
	Action         Action   `json:"action"`
	// Stack is the live stack the table is removed through; empty when it is deleted directly.
	Stack string `json:"stack,omitempty"`
	// DeletionPolicy is the stack template's for this table, when known: Delete, Retain,
	// RetainExceptOnCreate, Snapshot or unknown. A retained table outlives DeleteStack.
	DeletionPolicy string `json:"deletion_policy,omitempty"`
	// AutoScaled: the table (or an index) is auto scaled, and MonthlyCostUSD is what it was
	// billed for over the last BilledDays (a note says which).
	AutoScaled bool `json:"auto_scaled,omitempty"`
	// JanitorDeleteAfter is the janitor's mark on the table: when it will delete it.
	JanitorDeleteAfter string   `json:"janitor_delete_after,omitempty"`
	SavedTo            string   `json:"saved_to,omitempty"`
	BackupARN          string   `json:"backup_arn,omitempty"`
	Error              string   `json:"error,omitempty"`
	Notes              []string `json:"notes,omitempty"`
	// Detail says what made each of its reasons hold, for a reviewer: "orphaned: its stack
	// Wallet-x is gone or no longer lists it".
	Detail string `json:"detail,omitempty"`
	// Identity is the table the plan judged: nothing irreversible is done to a table of the
	// same name that is not this one.
	Identity Identity `json:"identity"`
	// RecordID and RecordedIn are the record of its deletion (internal/ledger), written before
	// it: what `verify undo --record` takes, and where it is.
	RecordID   string `json:"record_id,omitempty"`
	RecordedIn string `json:"recorded_in,omitempty"`

	// missing: the stack lists the table but DynamoDB does not have it; nothing to save.
	missing bool
	// afterStack: if its stack keeps it (a Retain policy, or one the template did not say),
	// it is deleted directly after the stack. Only when the plan chose that: a sweep, or a
	// teardown with --delete-retained; otherwise a table the stack kept is left, retained.
	afterStack bool
	// idle is what CloudWatch said when planned: re-judging does not ask it again (its data
	// arrives minutes late, so a second answer a moment later could not be fresher).
	idle bool
	// stackTag is the stack its tags named when planned: re-read before each re-judgment.
	stackTag string
	// logicalID is its logical id in its stack, when planned through one: its record keeps it,
	// for importing the restored table back into the stack.
	logicalID string
	// recorded is where its record went, for the note that its deletion did not happen.
	recorded ledger.Written
	// nameTaken: its name stands for another table now (replaced); a stack-mate held back
	// with it (reported replaced too) is still the planned table.
	nameTaken bool
	err       error // behind Error, for the caller to classify (Report.Errs)
}

// StackAction is a stack a plan deletes to remove its tables, and then what happened to it.
type StackAction struct {
	Stack   string `json:"stack"`
	Region  string `json:"region"`
	Account string `json:"account,omitempty"`
	Status  string `json:"status"` // its CloudFormation status when planned
	Action  Action `json:"action"`
	Error   string `json:"error,omitempty"`
	// KeptBy are the resources that keep the stack (action kept): each of a kind a wallet stack
	// does not declare, or a table that is not ours. DeleteStack would delete them unjudged.
	KeptBy []Holding `json:"kept_by,omitempty"`
	// id, tables, policies and resources are the stack as planned: it is deleted by id, and
	// only if it still holds exactly these resources, with these tables and these deletion
	// policies (a stack updated or replaced since was not what was planned: an update can add a
	// queue, or make a retained table one DeleteStack takes).
	id        string
	tables    []string
	policies  map[string]string
	resources []discover.Resource
	err       error
}

// keep holds the stack back for what it holds (holdings): kept, each resource named. A stack
// already held back (a table that could not be read) stays so, and says this too.
func (s *StackAction) keep(hs []Holding) {
	if len(hs) == 0 {
		return
	}
	s.KeptBy = hs
	switch {
	case s.Action == WouldDelete:
		s.Action, s.Error = Kept, keptStack(hs)
	default:
		s.Error += "; " + keptStack(hs)
	}
}

// Plan is what a sweep or a teardown would do: a value to print, confirm, and then carry out.
type Plan struct {
	// Teardown is the stack a teardown was asked to remove; empty for a sweep.
	Teardown   string
	Regions    []string
	Stacks     []StackAction
	Candidates []Candidate
	Problems   []Problem
	Notes      []string
	Prices     cost.Prices
	// Backups are the janitor's backups found (a sweep lists them; nothing here deletes one).
	Backups []Backup
	// SweepBackups are the sweep's own backups found, from earlier runs: listed likewise.
	SweepBackups []Backup
	// filter is what the plan judged by: Act judges each table again by it before every
	// irreversible step.
	filter Filter
	// observed is every table the survey read, by region and name: what a saved plan's
	// entries that are not candidates now are found as (Narrow).
	observed map[string]Observed
}

// Backup is one of the janitor's or the sweep's backups, with what it costs to keep: cost's one
// backup type.
type Backup = cost.Backup

// JanitorBackups lists the janitor's backups in one region, priced: for a report written after
// a run that took some.
func JanitorBackups(ctx context.Context, db discover.BackupLister, region string, prices cost.Prices) ([]Backup, error) {
	summaries, err := discover.JanitorBackups(ctx, db)
	return priceBackups(region, summaries, prices), err
}

func priceBackups(region string, summaries []types.BackupSummary, prices cost.Prices) []Backup {
	var out []Backup
	for _, b := range summaries {
		out = append(out, cost.PriceBackup(region, b, prices))
	}
	return out
}

// NewPlan decides, from what was found, which tables are candidates and why. It calls nothing.
// A sweep deletes what its stack retains too: nothing it chose may be left billing.
func NewPlan(found []Inventory, f Filter, prices cost.Prices, includeProtected bool) Plan {
	p := Plan{Prices: prices, filter: f, observed: map[string]Observed{}}
	for _, inv := range found {
		p.Regions = append(p.Regions, inv.Region)
		for _, t := range inv.Tables {
			p.observed[inv.Region+"/"+t.Name] = t
		}
		p.Problems = append(p.Problems, inv.Problems...)
		p.Notes = append(p.Notes, inv.Notes...)
		cands, notes := candidatesOf(inv, f, prices)
		p.Notes = append(p.Notes, notes...)
		cands, stacks := withStacks(inv, cands, prices)
		p.Candidates = append(p.Candidates, cands...)
		p.Stacks = append(p.Stacks, stacks...)
		p.Backups = append(p.Backups, priceBackups(inv.Region, inv.Backups, prices)...)
		p.SweepBackups = append(p.SweepBackups, priceBackups(inv.Region, inv.SweepBackups, prices)...)
	}
	if n := prices.Note(p.Regions...); n != "" {
		p.Notes = append(p.Notes, n)
	}
	decide(&p, includeProtected, true)
	return p
}

// candidatesOf applies the rules to each table of a region.
func candidatesOf(inv Inventory, f Filter, prices cost.Prices) ([]Candidate, []string) {
	now := f.now()
	var cands []Candidate
	var notes []string
	for _, t := range inv.Tables {
		if t.Unjudged || t.Status == "DELETING" {
			continue
		}
		v := judge(t, f, now)
		notes = append(notes, v.notes...)
		if !v.candidate() {
			continue
		}
		c := candidate(inv.Region, t, v.reasons, prices)
		c.Detail = detail(t, v.reasons, f, now)
		if t.StackLive {
			c.Stack = t.Stack
		}
		cands = append(cands, c)
	}
	return cands, notes
}

// withStacks adds, for each live stack a candidate goes through, the stack itself and every
// other table it would take with it: a stack goes whole. A table it holds that could not be
// read would go unseen, unpriced and unexported, and one tagged wallet:keep=true must not go
// at all: then the stack stays, and so do its candidates. So it does when it holds anything
// the stack's rule (holdings) does not let DeleteStack take: a resource of a kind a wallet
// stack does not declare, or a table that is not ours.
func withStacks(inv Inventory, cands []Candidate, prices cost.Prices) ([]Candidate, []StackAction) {
	byName := map[string]Observed{}
	for _, t := range inv.Tables {
		byName[t.Name] = t
	}
	unreadable := map[string]bool{}
	for _, pr := range inv.Problems {
		if pr.Table != "" {
			unreadable[pr.Table] = true
		}
	}
	inPlan := map[string]bool{}
	var names []string
	for i := range cands {
		inPlan[cands[i].Table] = true
		if s := cands[i].Stack; s != "" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	sort.Strings(names)
	var stacks []StackAction
	for _, name := range names {
		live := inv.Stacks[name]
		sa := StackAction{Stack: name, Region: inv.Region, Status: live.Status, Action: WouldDelete, id: live.ID, tables: live.tableNames(),
			policies: live.DeletionPolicies, resources: live.Resources}
		// A table the rules chose through this stack was judged; any other goes with it only if
		// it is ours itself: tagged Project=wallet (--name-prefix makes a table a candidate by
		// the rules, never a bystander of its stack), and not planned through another stack
		// (its tags name another): DeleteStack would take it outside the unit that saves it.
		chosen := map[string]bool{}
		for _, c := range cands {
			if c.Stack == name {
				chosen[c.Table] = true
			}
		}
		refused := func(table string) string {
			t, seen := byName[table]
			switch {
			case !seen || chosen[table]:
				return ""
			case !taggedOurs(t.Tags):
				return fmt.Sprintf("a table not tagged %s=%s itself (a stack's table goes with it only when it is ours)", wallet.TagProject, wallet.ProjectName)
			case inPlan[table]:
				return "a table planned through another stack (its tags name " + t.Stack + ")"
			}
			return ""
		}
		hs := holdings(live.Resources, refused)
		held := map[string]bool{}
		for _, h := range hs {
			held[h.PhysicalID] = true
		}
		for _, r := range live.Tables {
			t, seen := byName[r.Name]
			switch {
			case unreadable[r.Name]:
				sa.Action, sa.Error = Failed, fmt.Sprintf("stack %s also holds table %s, which could not be read: the stack is not deleted", name, r.Name)
			case seen && wallet.Kept(t.Tags):
				sa.Action, sa.Error = Kept, fmt.Sprintf("stack %s also holds table %s, which is tagged %s=true: the stack is not deleted", name, r.Name, wallet.TagKeep)
			case !seen || inPlan[r.Name]:
				// listed by the stack but not in DynamoDB: nothing to delete
			case held[r.Name]:
				// named among what keeps the stack, never a candidate of it
			default:
				c := candidate(inv.Region, t, []Reason{SameStack}, prices)
				c.Stack = name
				c.Detail = fmt.Sprintf("%s: a table of stack %s, which goes to take %s", SameStack, name, strings.Join(chosenNames(chosen), ", "))
				cands = append(cands, c)
				inPlan[r.Name] = true
			}
		}
		for _, r := range live.Tables {
			for i := range cands {
				if cands[i].Stack == name && cands[i].Table == r.Name {
					cands[i].DeletionPolicy = live.policy(r.LogicalID)
					cands[i].logicalID = r.LogicalID
				}
			}
		}
		sa.keep(hs)
		stacks = append(stacks, sa)
	}
	return cands, stacks
}

// chosenNames are the tables the rules chose through a stack, sorted.
func chosenNames(chosen map[string]bool) []string {
	names := make([]string, 0, len(chosen))
	for n := range chosen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// taggedOurs: the table itself says it is this project's.
func taggedOurs(tags map[string]string) bool { return tags[wallet.TagProject] == wallet.ProjectName }

func candidate(region string, t Observed, reasons []Reason, prices cost.Prices) Candidate {
	c := Candidate{
		Table:              t.Name,
		Region:             region,
		Reasons:            reasons,
		MonthlyCostUSD:     cost.Round(cost.MonthlyIn(region, t.Footprint, prices).Total),
		Protected:          t.Protected,
		JanitorDeleteAfter: mark.DueText(t.Tags[wallet.TagJanitorDeleteAfter]),
		Identity:           t.Identity(),
		idle:               t.Idle,
		stackTag:           t.Stack,
		AutoScaled:         t.AutoScaled,
	}
	if t.AutoScaled {
		c.Notes = append(c.Notes, billedNote(t))
	}
	return c
}

// retainedByPolicy: DeleteStack leaves the table in place.
func (c Candidate) retainedByPolicy() bool {
	return c.DeletionPolicy == "Retain" || c.DeletionPolicy == "RetainExceptOnCreate"
}

// decide sets every candidate's and stack's planned action (which tables are candidates at all
// is the rules' to say, rules.go). A stack is deleted whole or not at all, so a protected table that the stack would
// delete (without includeProtected) holds back the stack and every table of it; a table the
// stack retains is deleted after it only with deleteRetained; a stack the planner already found
// must stay (Failed) keeps its tables too.
func decide(p *Plan, includeProtected, deleteRetained bool) {
	stacks := map[string]*StackAction{}
	for i := range p.Stacks {
		stacks[stackKey(p.Stacks[i].Region, p.Stacks[i].Stack)] = &p.Stacks[i]
	}
	holdBackStacks(p.Candidates, stacks, includeProtected)
	for i := range p.Candidates {
		c := &p.Candidates[i]
		decideCandidate(c, stacks[stackKey(c.Region, c.Stack)], includeProtected, deleteRetained)
	}
	if p.Teardown == "" {
		keepStacksThatTakeNothing(p)
	}
	sortCandidates(p.Candidates)
}

// holdBackStacks skips each stack that would delete a protected table the run may not unprotect.
func holdBackStacks(cands []Candidate, stacks map[string]*StackAction, includeProtected bool) {
	for _, c := range cands {
		s := stacks[stackKey(c.Region, c.Stack)]
		if s != nil && s.Action == WouldDelete && c.Protected && !includeProtected && !c.retainedByPolicy() {
			s.Action = SkippedProtected
			s.Error = fmt.Sprintf("it holds protected table %s, which it would delete: pass --include-protected to turn protection off first", c.Table)
		}
	}
}

// decideCandidate sets a candidate's planned action from its own protection and policy and its
// stack's action (s is nil for a table deleted directly).
func decideCandidate(c *Candidate, s *StackAction, includeProtected, deleteRetained bool) {
	switch {
	case s != nil && s.Action == Failed:
		c.Action, c.Error = Failed, s.Error
	case s != nil && s.Action == Kept:
		c.Action = Kept
		c.Notes = append(c.Notes, s.Error)
	case c.Protected && !includeProtected && (s == nil || !c.retainedByPolicy() || deleteRetained):
		c.Action = SkippedProtected
		c.Notes = append(c.Notes, "deletion protection is on: pass --include-protected to delete it")
	case s != nil && s.Action == SkippedProtected:
		c.Action = SkippedProtected
		c.Notes = append(c.Notes, fmt.Sprintf("stack %s stays: %s", s.Stack, s.Error))
	case s != nil && c.retainedByPolicy() && !deleteRetained:
		c.Action = WouldRetain
	default:
		c.Action = WouldDelete
		c.afterStack = s != nil && deleteRetained
		if c.missing {
			c.Notes = append(c.Notes, "already gone")
		}
		if c.Protected {
			c.Notes = append(c.Notes, "deletion protection will be turned off (--include-protected)")
		}
	}
}

// keepStacksThatTakeNothing: a sweep deletes a stack only to take a table with it, so one whose
// every table is skipped stays. (A teardown deletes the stack it was asked to, leaving what the
// stack retains: it does not call this.)
func keepStacksThatTakeNothing(p *Plan) {
	for i := range p.Stacks {
		s := &p.Stacks[i]
		var any, takes bool
		for _, c := range p.Candidates {
			if c.Stack == s.Stack && c.Region == s.Region {
				any = true
				takes = takes || c.Action == WouldDelete || c.Action == WouldRetain
			}
		}
		if s.Action == WouldDelete && any && !takes {
			s.Action, s.Error = SkippedProtected, "none of its tables may be deleted"
		}
	}
}

// sortCandidates orders the plan by region, stack and table, as every report lists it.
func sortCandidates(cands []Candidate) {
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Stack != b.Stack {
			return a.Stack < b.Stack
		}
		return a.Table < b.Table
	})
}

func stackKey(region, stack string) string {
	if stack == "" {
		return ""
	}
	return region + "/" + stack
}

// Only is the plan narrowed to the candidates keep says yes to (the janitor: those whose grace
// has passed). A stack goes whole or not at all, so a stack any of whose candidates keep refuses
// is left out with every candidate of it; nothing it holds can go unsaved with it.
func (p Plan) Only(keep func(Candidate) bool) Plan {
	q := p
	q.Candidates, q.Stacks = nil, nil
	refused := map[string]bool{}
	for _, c := range p.Candidates {
		if c.Stack != "" && !keep(c) {
			refused[stackKey(c.Region, c.Stack)] = true
		}
	}
	for _, c := range p.Candidates {
		if keep(c) && !refused[stackKey(c.Region, c.Stack)] {
			q.Candidates = append(q.Candidates, c)
		}
	}
	for _, s := range p.Stacks {
		if !refused[stackKey(s.Region, s.Stack)] && slices.ContainsFunc(q.Candidates, func(c Candidate) bool { return c.Stack == s.Stack && c.Region == s.Region }) {
			q.Stacks = append(q.Stacks, s)
		}
	}
	return q
}

// Pending counts the candidates a confirmed plan would delete.
func (p Plan) Pending() int {
	n := 0
	for _, c := range p.Candidates {
		if c.Action == WouldDelete {
			n++
		}
	}
	for _, s := range p.Stacks {
		if s.Action == WouldDelete && !slices.ContainsFunc(p.Candidates, func(c Candidate) bool { return c.Stack == s.Stack && c.Region == s.Region }) {
			n++ // a stack with no table of its own still goes
		}
	}
	return n
}

// DryRun is the plan as a report: nothing done, savings if carried out.
func (p Plan) DryRun() Report { return p.report(true) }

func joinReasons(rs []Reason, sep string) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, sep)
}

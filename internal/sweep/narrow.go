package sweep

import (
	"fmt"
	"slices"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// Narrow is a fresh plan narrowed to a saved plan's entries of the same account (verify sweep
// --apply): the one step between a saved plan and Act, which then re-checks each table before
// every irreversible step as it always does. It can only take away. A table goes only if the
// fresh plan deletes it and the saved plan did too, with the same identity, through the same
// stack (or none), for at least one of the same reasons, and with deletion protection on only
// if it was planned so; a stack goes only if the plan deleted it, as the same deployment
// holding the same tables, and every table it holds goes (a stack goes whole or not at all).
// Everything else is reported by name as what it now is:
//
//   - a fresh candidate the plan does not hold: not-in-plan, never touched;
//   - an entry whose table has another identity now: replaced;
//   - an entry tagged wallet:keep=true since: kept;
//   - an entry the rules do not make a candidate, or not as planned: not-a-candidate (one
//     added to the file by hand, or one whose stack came back);
//   - an entry whose table is not there: gone (deleted by someone else, or by an earlier,
//     interrupted apply of the same plan);
//   - an entry whose protection was turned on since: skipped-protected.
func (p Plan) Narrow(tables []PlanTable, stacks []PlanStack) Plan {
	q := p.clone()
	planned := map[string]PlanTable{}
	for _, t := range tables {
		planned[t.Region+"/"+t.Table] = t
	}
	plannedStacks := map[string]PlanStack{}
	for _, s := range stacks {
		plannedStacks[stackKey(s.Region, s.Stack)] = s
	}
	held := map[string]string{}   // stack key → why it stays
	causes := map[string]Action{} // stack key → what its tables are reported as
	hold := func(region, stack string, action Action, why string) {
		k := stackKey(region, stack)
		if _, ok := held[k]; stack == "" || ok {
			return
		}
		held[k], causes[k] = why, action
	}
	matched := map[string]bool{}
	for i := range q.Candidates {
		c := &q.Candidates[i]
		k := c.Region + "/" + c.Table
		e, ok := planned[k]
		if !ok {
			c.Notes = append(c.Notes, fmt.Sprintf("not in the plan, so not touched (a fresh sweep: %s); plan again to include it", c.Action))
			c.Action = NotInPlan
			hold(c.Region, c.Stack, NotACandidate, fmt.Sprintf("it now holds table %s, which is not in the plan", c.Table))
			continue
		}
		matched[k] = true
		if action, why := narrowOne(*c, e); action != "" {
			c.Action, c.Error = action, ""
			c.nameTaken = action == Replaced
			c.Notes = append(c.Notes, why)
			if action == Replaced || action == NotACandidate || action == Kept || action == SkippedProtected {
				hold(c.Region, c.Stack, action, fmt.Sprintf("table %s: %s", c.Table, why))
			}
		}
	}
	for i := range q.Stacks {
		s := &q.Stacks[i]
		ps, ok := plannedStacks[stackKey(s.Region, s.Stack)]
		switch {
		case s.Action != WouldDelete:
		case !ok:
			hold(s.Region, s.Stack, NotACandidate, "the plan does not delete it")
		case ps.Action != WouldDelete:
			hold(s.Region, s.Stack, NotACandidate, fmt.Sprintf("the plan does not delete it (planned: %s)", ps.Action))
		case ps.StackID != s.id:
			hold(s.Region, s.Stack, Replaced, fmt.Sprintf("replaced since the plan (planned %s, now %s): plan again", ps.StackID, s.id))
		case !slices.Equal(ps.Tables, s.tables):
			hold(s.Region, s.Stack, NotACandidate, fmt.Sprintf("its tables changed since the plan (%s, now %s): plan again",
				strings.Join(ps.Tables, ", "), strings.Join(s.tables, ", ")))
		}
	}
	for i := range q.Stacks {
		s := &q.Stacks[i]
		k := stackKey(s.Region, s.Stack)
		why, ok := held[k]
		if !ok || s.Action != WouldDelete {
			continue
		}
		s.Action, s.Error = causes[k], "not deleted: "+why
		for j := range q.Candidates {
			c := &q.Candidates[j]
			if c.Stack == s.Stack && c.Region == s.Region && (c.Action == WouldDelete || c.Action == WouldRetain) {
				c.Action = causes[k]
				c.Notes = append(c.Notes, fmt.Sprintf("its stack %s is not deleted: %s (a stack goes whole or not at all)", s.Stack, why))
			}
		}
	}
	for _, t := range tables {
		if !matched[t.Region+"/"+t.Table] {
			q.Candidates = append(q.Candidates, q.absent(t))
		}
	}
	sortCandidates(q.Candidates)
	return q
}

// narrowOne is what one fresh candidate is, held against its entry in the saved plan: "" when
// it goes as planned.
func narrowOne(c Candidate, e PlanTable) (Action, string) {
	switch {
	case !e.Identity.Same(c.Identity):
		return Replaced, fmt.Sprintf("replaced since it was planned (planned %s, now %s): nothing was done to it; plan again", e.Identity, c.Identity)
	case c.Protected && !e.Protected:
		return SkippedProtected, "deletion protection was turned on since it was planned"
	case e.Action != WouldDelete && c.Action == WouldDelete:
		if e.Action == Failed {
			return NotACandidate, "the plan could not decide it (failed when planned): it is not deleted; plan again"
		}
		return e.Action, fmt.Sprintf("the plan does not delete it (planned: %s)", e.Action)
	case c.Action != WouldDelete:
		return "", "" // the fresh plan keeps it already, and says why
	case !slices.ContainsFunc(c.Reasons, func(r Reason) bool { return slices.Contains(e.Reasons, r) }):
		return NotACandidate, fmt.Sprintf("planned as %s, now a candidate only as %s: not what was reviewed; plan again",
			joinReasons(e.Reasons, ", "), joinReasons(c.Reasons, ", "))
	case e.Stack != c.Stack:
		return NotACandidate, fmt.Sprintf("planned %s, now %s: not what was reviewed; plan again", through(e.Stack), through(c.Stack))
	}
	return "", ""
}

func through(stack string) string {
	if stack == "" {
		return "to be deleted directly"
	}
	return "to go with stack " + stack
}

// absent is an entry of the saved plan the fresh plan has no candidate for, found as it is now:
// gone, replaced, kept, unreadable, or not a candidate by the rules (and why).
func (p Plan) absent(e PlanTable) Candidate {
	c := Candidate{Table: e.Table, Region: e.Region, Reasons: e.Reasons, Detail: e.Detail, Stack: e.Stack,
		DeletionPolicy: e.DeletionPolicy, Protected: e.Protected, Identity: e.Identity, MonthlyCostUSD: e.MonthlyCostUSD}
	set := func(a Action, why string) Candidate {
		c.Action, c.nameTaken = a, a == Replaced
		c.Notes = append(c.Notes, why)
		return c
	}
	for _, pr := range p.Problems {
		if pr.Region == e.Region && (pr.Table == e.Table || pr.Table == "") {
			c.Action, c.Error, c.err = Failed, "could not be read: "+pr.Error, pr.Err()
			return c
		}
	}
	t, seen := p.observed[e.Region+"/"+e.Table]
	switch {
	case !seen:
		return set(Gone, "gone since the plan: deleted by someone else, or by an earlier run of this plan; nothing left to delete")
	case t.Status == "DELETING" && e.Identity.Same(t.Identity()):
		return set(Gone, "being deleted by someone else")
	case !e.Identity.Same(t.Identity()):
		return set(Replaced, fmt.Sprintf("replaced since it was planned (planned %s, now %s): nothing was done to it; plan again", e.Identity, t.Identity()))
	case t.Unjudged:
		c.Action, c.Error = Failed, "could not be judged (see what could not be found out)"
		return c
	}
	c.MonthlyCostUSD = cost.Round(cost.MonthlyIn(e.Region, t.Footprint, p.Prices).Total) // what it bills now, left in place
	c.Protected = t.Protected
	now := p.filter.now()
	v := judge(t, p.filter, now)
	if v.out != nil && v.out.out == Kept {
		return set(Kept, v.why(t, p.filter, now)+" since it was planned")
	}
	return set(NotACandidate, "the rules do not make it a candidate: "+v.why(t, p.filter, now))
}

// Apply narrows every account's plan to its entries of the saved plan sp, read from path
// (Narrow): Act then carries out only what both the plan and the rules, now, say may go.
func (f *Fleet) Apply(sp SavedPlan, path string) {
	f.applied = sp.ref(path)
	for _, a := range f.accounts {
		if !a.planned {
			continue
		}
		a.plan = a.plan.Narrow(sp.tablesOf(a.account.ID), sp.stacksOf(a.account.ID))
		a.report = a.plan.DryRun()
	}
}

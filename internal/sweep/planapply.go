package sweep

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/org"
)

// Scope is the scope to open the plan's fleet with: the caller's account, the organization, or
// the accounts the plan judged.
func (sp SavedPlan) Scope() org.Scope {
	switch sp.Fleet.Scope {
	case ScopeOrganization:
		return org.Scope{Org: true, Role: sp.Fleet.Role}
	case ScopeAccounts:
		return org.Scope{Accounts: slices.Clone(sp.Fleet.Accounts), Role: sp.Fleet.Role}
	}
	return org.Scope{}
}

// Regions are the plan's regions.
func (sp SavedPlan) Regions() []string { return slices.Clone(sp.Fleet.Regions) }

// Savers are what the plan keeps of each table before deleting it.
func (sp SavedPlan) Savers() Save { return Save{ExportRoot: sp.Save.Export, Backup: sp.Save.Backup} }

// FilterAt is the filter the plan was made with, judging at now.
func (sp SavedPlan) FilterAt(now time.Time) Filter { return sp.filter(now) }

// Of checks that fl, opened with the plan's Scope and Regions, is the fleet the plan was made
// of — the same caller's account, and for an organization the same organization — and narrows
// it to the plan's accounts. An account of the plan that fl no longer has (it left the
// organization) is reported as not run. Nothing has been changed when it refuses.
func (sp SavedPlan) Of(fl org.Fleet) (org.Fleet, error) {
	switch {
	case fl.Caller.Account != sp.Fleet.Caller:
		return org.Fleet{}, fmt.Errorf("made by account %s, and these credentials are of account %s: a plan is applied by the account that made it",
			sp.Fleet.Caller, dash(fl.Caller.Account))
	case fl.Caller.Partition != "" && fl.Caller.Partition != sp.Fleet.Partition:
		return org.Fleet{}, fmt.Errorf("made in partition %s, and these credentials are of partition %s", sp.Fleet.Partition, fl.Caller.Partition)
	case sp.Fleet.Scope == ScopeOrganization && fl.Organization != sp.Fleet.Organization:
		return org.Fleet{}, fmt.Errorf("made of organization %s, and these credentials see organization %s", sp.Fleet.Organization, dash(fl.Organization))
	}
	want := setOf(sp.Fleet.Accounts)
	out := fl
	out.Accounts, out.Units = nil, nil
	have := map[string]bool{}
	for _, a := range fl.Accounts {
		if want[a.ID] {
			out.Accounts = append(out.Accounts, a)
			have[a.ID] = true
		}
	}
	for _, u := range fl.Units {
		if want[u.Account.ID] {
			out.Units = append(out.Units, u)
		}
	}
	for _, id := range sp.Fleet.Accounts {
		if !have[id] {
			out.Accounts = append(out.Accounts, org.Account{ID: id, Status: "ABSENT",
				Error: fmt.Sprintf("an account of the plan, no longer one of %s: nothing of it is touched", fl.What())})
		}
	}
	return out, nil
}

// tablesOf and stacksOf are the plan's entries of one account.
func (sp SavedPlan) tablesOf(account string) []PlanTable {
	var out []PlanTable
	for _, t := range sp.Tables {
		if t.Account == account {
			out = append(out, t)
		}
	}
	return out
}

func (sp SavedPlan) stacksOf(account string) []PlanStack {
	var out []PlanStack
	for _, s := range sp.Stacks {
		if s.Account == account {
			out = append(out, s)
		}
	}
	return out
}

// Expired is what an expired plan would have done, as a report: each of its tables and stacks
// "expired", nothing done, nothing asked of AWS.
func (sp SavedPlan) Expired(path string) Report {
	r := Report{DryRun: true, Organization: sp.Fleet.Organization, Regions: sp.Regions(), Candidates: []Candidate{},
		Applied: sp.ref(path)}
	for _, t := range sp.Tables {
		r.Candidates = append(r.Candidates, Candidate{Table: t.Table, Region: t.Region, Account: t.Account, Reasons: t.Reasons,
			Detail: t.Detail, Stack: t.Stack, DeletionPolicy: t.DeletionPolicy, Protected: t.Protected, Identity: t.Identity,
			MonthlyCostUSD: t.MonthlyCostUSD, Action: PlanExpired,
			Notes: []string{fmt.Sprintf("the plan expired at %s: plan again", stamp(sp.ApplyBefore))}})
		r.MonthlyLeftUSD += t.MonthlyCostUSD
	}
	for _, s := range sp.Stacks {
		r.Stacks = append(r.Stacks, StackAction{Stack: s.Stack, Region: s.Region, Account: s.Account, Status: s.Status, Action: PlanExpired,
			Error: "the plan expired at " + stamp(sp.ApplyBefore)})
	}
	return r
}

// AppliedPlan names the saved plan a report is of.
type AppliedPlan struct {
	File        string    `json:"file"`
	Digest      string    `json:"digest"`
	MadeAt      time.Time `json:"made_at"`
	ApplyBefore time.Time `json:"apply_before"`
	// Filter, IncludeProtected and Save are what it judges and saves by: a reviewer reads them
	// beside its tables.
	Filter           PlanFilter `json:"filter"`
	IncludeProtected bool       `json:"include_protected"`
	Save             PlanSave   `json:"save"`
}

func (sp SavedPlan) ref(path string) *AppliedPlan {
	return &AppliedPlan{File: path, Digest: sp.Digest, MadeAt: sp.MadeAt, ApplyBefore: sp.ApplyBefore, Filter: sp.Filter,
		IncludeProtected: sp.IncludeProtected, Save: sp.Save}
}

// Expect is what the command that applies a plan states about it, each stated field to agree
// with the plan: a pipeline's apply job, reviewed on the main branch, so pins what a plan it
// applies may have been made with (a plan made, or edited, with another filter or fleet is
// refused, however right its digest). A nil field states nothing: the plan's own is used,
// except for what widens what may be deleted — turning deletion protection off, a name prefix
// (untagged tables become ours), --older-than and --idle-for (more candidates): a plan that
// uses one is applied only by a command that states it too. So an edit that widens a plan's
// rules, its digest recomputed, still widens nothing the applier did not say.
type Expect struct {
	Regions          []string
	Org              *bool
	Accounts         []string
	Exclude          []string
	Role             *string
	NamePrefix       *string
	OlderThan        *time.Duration
	IdleFor          *time.Duration
	IncludeProtected *bool
	Export           *string
	Backup           *bool
}

// Agrees refuses a plan that differs from what e states, naming the first difference.
func (sp SavedPlan) Agrees(e Expect) error {
	differ := func(flag, stated, planned string) error {
		return fmt.Errorf("%s %s: the plan was made with %s: refused (plan again, or state what the plan says)", flag, stated, planned)
	}
	orNone := func(s string) string {
		if s == "" {
			return "none"
		}
		return s
	}
	f := sp.filter(time.Time{})
	if e.Regions != nil {
		want := slices.Compact(slices.Sorted(slices.Values(e.Regions)))
		if !slices.Equal(want, sp.Fleet.Regions) {
			return differ("--region", strings.Join(want, ","), "regions "+strings.Join(sp.Fleet.Regions, ","))
		}
	}
	if e.Org != nil && *e.Org != (sp.Fleet.Scope == ScopeOrganization) {
		return differ("--org", fmt.Sprint(*e.Org), "scope "+sp.Fleet.Scope)
	}
	if e.Accounts != nil {
		want := slices.DeleteFunc(slices.Compact(slices.Sorted(slices.Values(e.Accounts))), func(a string) bool { return slices.Contains(e.Exclude, a) })
		if sp.Fleet.Scope != ScopeAccounts || !slices.Equal(want, sp.Fleet.Accounts) {
			return differ("--accounts", strings.Join(want, ","), "scope "+sp.Fleet.Scope+", accounts "+strings.Join(sp.Fleet.Accounts, ","))
		}
	}
	for _, x := range e.Exclude {
		if slices.Contains(sp.Fleet.Accounts, x) {
			return differ("--exclude-account", x, "account "+x+" in it")
		}
	}
	if e.Role != nil && *e.Role != sp.Fleet.Role {
		return differ("--role-name", *e.Role, "role "+orNone(sp.Fleet.Role))
	}
	if e.NamePrefix != nil && *e.NamePrefix != f.NamePrefix {
		return differ("--name-prefix", *e.NamePrefix, "name prefix "+orNone(f.NamePrefix))
	}
	for _, d := range []struct {
		flag    string
		stated  *time.Duration
		planned time.Duration
	}{{"--older-than", e.OlderThan, f.OlderThan}, {"--idle-for", e.IdleFor, f.IdleFor}} {
		if d.stated != nil && *d.stated != d.planned {
			planned := "none"
			if d.planned > 0 {
				planned = d.planned.String()
			}
			return differ(d.flag, d.stated.String(), d.flag+" "+planned)
		}
	}
	if err := sp.widensUnstated(e, f); err != nil {
		return err
	}
	if e.IncludeProtected != nil && *e.IncludeProtected != sp.IncludeProtected {
		return differ("--include-protected", fmt.Sprint(*e.IncludeProtected), fmt.Sprintf("include_protected %v", sp.IncludeProtected))
	}
	if e.Export != nil && *e.Export != sp.Save.Export {
		return differ("--export", *e.Export, "export "+orNone(sp.Save.Export))
	}
	if e.Backup != nil && *e.Backup != sp.Save.Backup {
		return differ("--backup", fmt.Sprint(*e.Backup), fmt.Sprintf("backup %v", sp.Save.Backup))
	}
	return nil
}

// widensUnstated refuses a plan that uses an option widening what may be deleted which the
// applying command does not state.
func (sp SavedPlan) widensUnstated(e Expect, f Filter) error {
	unstated := func(flag, what string) error {
		return fmt.Errorf("the plan %s: apply it with %s to say so (a plan's own word does not widen what may be deleted)", what, flag)
	}
	switch {
	case sp.IncludeProtected && e.IncludeProtected == nil:
		return unstated("--include-protected", "turns deletion protection off on the protected tables it deletes")
	case f.NamePrefix != "" && e.NamePrefix == nil:
		return unstated("--name-prefix "+f.NamePrefix, "treats tables named "+f.NamePrefix+"… as ours, tagged or not")
	case f.OlderThan > 0 && e.OlderThan == nil:
		return unstated("--older-than "+f.OlderThan.String(), "takes tables older than "+f.OlderThan.String())
	case f.IdleFor > 0 && e.IdleFor == nil:
		return unstated("--idle-for "+f.IdleFor.String(), "takes tables idle for "+f.IdleFor.String())
	}
	return nil
}

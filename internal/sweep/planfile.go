package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/org"
)

// A saved plan (verify sweep --plan-out FILE, applied by --apply FILE) is a sweep's plan as a
// file a person reviews in a pull request: the fleet it was made of, the filter and savers it
// was made with, when it was made and until when it may be applied, and every candidate and
// stack with its identity. Applying it can only narrow what a fresh sweep would do (narrow.go):
// the file says which tables may go, the rules, re-read, say whether they still may.
const (
	// PlanFormat names the file's format; PlanVersion is the one this code writes and reads.
	PlanFormat  = "wallet-sweep-plan"
	PlanVersion = 1
	// DefaultPlanTTL and MaxPlanTTL bound how long after it was made a plan may be applied: the
	// older the plan, the less the review says about the world it is applied to.
	DefaultPlanTTL = 24 * time.Hour
	MaxPlanTTL     = 7 * 24 * time.Hour
	// MaxPlanBytes is the largest file read: about 50,000 tables' entries. A larger one is not
	// a plan this code wrote.
	MaxPlanBytes = 32 << 20
	// planClockSkew is how far in the future a plan's made_at may lie (another machine's clock).
	planClockSkew = 5 * time.Minute
	maxPlanText   = 4096 // runes of a detail
)

// The scopes a saved plan's fleet can have: the caller's own account, an organization (--org),
// or accounts named (--accounts).
const (
	ScopeAccount      = "account"
	ScopeOrganization = "organization"
	ScopeAccounts     = "accounts"
)

// SavedPlan is the file. Every field is covered by Digest.
type SavedPlan struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// MadeAt is when the plan was made; ApplyBefore when it stops being applicable (MadeAt +
	// --plan-ttl, at most MaxPlanTTL later).
	MadeAt      time.Time  `json:"made_at"`
	ApplyBefore time.Time  `json:"apply_before"`
	Fleet       PlanFleet  `json:"fleet"`
	Filter      PlanFilter `json:"filter"`
	// IncludeProtected: the plan turns deletion protection off on the protected tables it deletes.
	IncludeProtected bool        `json:"include_protected"`
	Save             PlanSave    `json:"save"`
	Tables           []PlanTable `json:"tables"`
	Stacks           []PlanStack `json:"stacks"`
	// Digest is "sha256:" and the SHA-256 of the plan's canonical encoding (digestOf) without
	// it: it catches an edit that did not recompute it. It is not a signature: anyone can
	// recompute it, which is why applying re-judges everything (docs/sweep.md, "Saved plans").
	Digest string `json:"digest"`
}

// PlanFleet is what the plan was made of: who made it, over which accounts and regions.
type PlanFleet struct {
	Scope        string `json:"scope"`
	Organization string `json:"organization,omitempty"`
	// Caller is the account whose credentials made the plan: applying it needs the same.
	Caller    string `json:"caller"`
	Partition string `json:"partition"`
	// Role is the role assumed in each member account (--role-name), for a scope of many.
	Role string `json:"role,omitempty"`
	// Accounts are the accounts the plan judged; Regions the regions.
	Accounts []string `json:"accounts"`
	Regions  []string `json:"regions"`
}

// PlanFilter is the plan's Filter, durations as Go writes them ("720h0m0s").
type PlanFilter struct {
	NamePrefix string `json:"name_prefix,omitempty"`
	OlderThan  string `json:"older_than,omitempty"`
	IdleFor    string `json:"idle_for,omitempty"`
}

// PlanSave is what the plan keeps of each table before deleting it.
type PlanSave struct {
	Export string `json:"export,omitempty"`
	Backup bool   `json:"backup"`
}

// PlanTable is one candidate of the plan.
type PlanTable struct {
	Account  string   `json:"account"`
	Region   string   `json:"region"`
	Table    string   `json:"table"`
	Identity Identity `json:"identity"`
	Reasons  []Reason `json:"reasons"`
	Detail   string   `json:"detail"`
	// Stack is the live stack it is deleted through; empty: deleted directly.
	Stack          string  `json:"stack,omitempty"`
	DeletionPolicy string  `json:"deletion_policy,omitempty"`
	Protected      bool    `json:"protected"`
	Action         Action  `json:"action"`
	MonthlyCostUSD float64 `json:"monthly_cost_usd"`
}

// PlanStack is one stack of the plan: deleted (would-delete) to take its tables, or kept, and why.
type PlanStack struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Stack   string `json:"stack"`
	// StackID is the deployment planned: a stack made again under the name is another one.
	StackID string `json:"stack_id"`
	Status  string `json:"status"`
	Action  Action `json:"action"`
	// Tables are every table the stack holds, sorted: DeleteStack takes them all.
	Tables []string `json:"tables"`
	Detail string   `json:"detail,omitempty"`
}

// PlanOptions are what a saved plan records beside the fleet's plans.
type PlanOptions struct {
	MadeAt           time.Time
	TTL              time.Duration
	Filter           Filter
	IncludeProtected bool
	Save             Save
	// Role is the role the fleet entered member accounts with (for a scope of many).
	Role string
}

// ErrPlanExpired: the plan's ApplyBefore has passed. ReadPlanFile returns the plan with it, so
// what it would have done can still be shown (each table "expired").
var ErrPlanExpired = errors.New("the plan has expired")

// PlanError is a plan file that cannot be applied, and why: a usage error, found before any
// call that changes anything.
type PlanError struct {
	Path string
	Err  error
}

func (e *PlanError) Error() string { return fmt.Sprintf("plan %s: %v", e.Path, e.Err) }
func (e *PlanError) Unwrap() error { return e.Err }

// SavedPlan is the fleet's plan as a file records it. It refuses a fleet whose caller's account
// is unknown (an endpoint without STS): the plan could not be bound to an account.
func (f *Fleet) SavedPlan(o PlanOptions) (SavedPlan, error) {
	if o.TTL <= 0 || o.TTL > MaxPlanTTL {
		return SavedPlan{}, fmt.Errorf("plan TTL %s: want more than 0 and at most %s", o.TTL, MaxPlanTTL)
	}
	fl := f.fleet
	if fl.Caller.Account == "" {
		return SavedPlan{}, errors.New("the account id could not be learned (STS named none), so the plan cannot be bound to an account")
	}
	made := o.MadeAt.UTC()
	sp := SavedPlan{
		Format: PlanFormat, Version: PlanVersion, MadeAt: made, ApplyBefore: made.Add(o.TTL),
		Fleet: PlanFleet{Scope: ScopeAccount, Caller: fl.Caller.Account, Partition: fl.Caller.Partition,
			Accounts: []string{}, Regions: slices.Sorted(slices.Values(fl.Regions()))},
		Filter:           planFilter(o.Filter),
		IncludeProtected: o.IncludeProtected,
		Save:             PlanSave{Export: o.Save.ExportRoot, Backup: o.Save.Backup},
		Tables:           []PlanTable{},
		Stacks:           []PlanStack{},
	}
	if sp.Fleet.Partition == "" {
		sp.Fleet.Partition = "aws"
	}
	switch {
	case fl.Organization != "":
		sp.Fleet.Scope, sp.Fleet.Organization, sp.Fleet.Role = ScopeOrganization, fl.Organization, roleOr(o.Role)
	case fl.Named:
		sp.Fleet.Scope, sp.Fleet.Role = ScopeAccounts, roleOr(o.Role)
	}
	for _, a := range f.accounts {
		if !a.planned || blocked(a.report) {
			continue
		}
		sp.Fleet.Accounts = append(sp.Fleet.Accounts, a.account.ID)
		for _, c := range a.plan.Candidates {
			sp.Tables = append(sp.Tables, PlanTable{Account: a.account.ID, Region: c.Region, Table: c.Table, Identity: c.Identity,
				Reasons: c.Reasons, Detail: c.Detail, Stack: c.Stack, DeletionPolicy: c.DeletionPolicy, Protected: c.Protected,
				Action: c.Action, MonthlyCostUSD: c.MonthlyCostUSD})
		}
		for _, s := range a.plan.Stacks {
			sp.Stacks = append(sp.Stacks, PlanStack{Account: a.account.ID, Region: s.Region, Stack: s.Stack, StackID: s.id,
				Status: s.Status, Action: s.Action, Tables: slices.Clone(s.tables), Detail: s.Error})
		}
	}
	slices.Sort(sp.Fleet.Accounts)
	sp.Digest = sp.digestOf()
	return sp, nil
}

func roleOr(role string) string {
	if role == "" {
		return org.DefaultRole
	}
	return role
}

func planFilter(f Filter) PlanFilter {
	pf := PlanFilter{NamePrefix: f.NamePrefix}
	if f.OlderThan > 0 {
		pf.OlderThan = f.OlderThan.String()
	}
	if f.IdleFor > 0 {
		pf.IdleFor = f.IdleFor.String()
	}
	return pf
}

// digestOf is "sha256:" and the hex SHA-256 of the plan's canonical encoding: encoding/json's
// of the parsed value (fields in declaration order, no spaces, times in RFC 3339), with the
// digest itself left empty. What is digested is what is applied: the value as parsed.
func (sp SavedPlan) digestOf() string {
	sp.Digest = ""
	b, err := json.Marshal(sp)
	if err != nil {
		return "" // every field is a string, number, bool or time: Marshal cannot fail on a validated plan
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// WritePlanFile writes the plan to path, readable JSON, whole or not at all: a temporary file
// beside it, synced, then renamed over path (a FIFO or a symlink at path is replaced, never
// written through).
func WritePlanFile(path string, sp SavedPlan) error {
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing by that name
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write plan %s: %w", path, err)
	}
	return nil
}

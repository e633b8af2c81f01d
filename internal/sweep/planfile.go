package sweep

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/strictjson"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
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

// ReadPlanFile reads and validates a plan file whole before anything is done with it: a
// regular file (not a FIFO, a device or a directory, through a symlink or not) of at most
// MaxPlanBytes, one JSON object of UTF-8 with each key once, exactly this format and version,
// every value what this code could have written, and its digest its own. Any refusal is a
// *PlanError naming the value. A plan past its ApplyBefore is returned with ErrPlanExpired.
func ReadPlanFile(path string, now time.Time) (SavedPlan, error) {
	fail := func(err error) (SavedPlan, error) { return SavedPlan{}, &PlanError{Path: path, Err: err} }
	data, err := readRegular(path)
	if err != nil {
		return fail(err)
	}
	sp, err := ParsePlan(data)
	if err != nil {
		return fail(err)
	}
	if err := sp.validate(now); err != nil {
		if errors.Is(err, ErrPlanExpired) {
			return sp, &PlanError{Path: path, Err: err}
		}
		return fail(err)
	}
	return sp, nil
}

// readRegular reads a regular file of at most MaxPlanBytes. It opens without blocking (a FIFO
// with no writer would hang an open) and judges what it opened, not the name: a file swapped
// for a FIFO between a stat and the open is still refused.
func readRegular(path string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("no file named")
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case st.IsDir():
		return nil, errors.New("a directory, not a plan file")
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("not a regular file (%s): a plan is a file verify sweep --plan-out wrote", st.Mode().Type())
	case st.Size() > MaxPlanBytes:
		return nil, fmt.Errorf("%d bytes: larger than a plan can be (at most %d)", st.Size(), MaxPlanBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxPlanBytes+1))
	switch {
	case err != nil:
		return nil, err
	case len(data) > MaxPlanBytes:
		return nil, fmt.Errorf("larger than a plan can be (at most %d bytes)", MaxPlanBytes)
	case len(bytes.TrimSpace(data)) == 0:
		return nil, errors.New("empty: not a plan")
	}
	return data, nil
}

// ParsePlan decodes a plan strictly: UTF-8, one JSON object and nothing after it, each key once
// and spelt as written (encoding/json would take a key twice, the last silently, and match
// "TABLE" or "ſtack" to a field: a reader of the file would see another value than the one
// applied), no field this version does not know, and a format and version it reads. It checks
// the digest; validate checks the values.
func ParsePlan(data []byte) (SavedPlan, error) {
	if !utf8.Valid(data) {
		return SavedPlan{}, errors.New("not UTF-8 text: not a plan")
	}
	if err := checkKeys(data); err != nil {
		return SavedPlan{}, err
	}
	var head struct {
		Format  any `json:"format"`
		Version any `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return SavedPlan{}, fmt.Errorf("not a plan: %w", err)
	}
	if head.Format != PlanFormat {
		return SavedPlan{}, fmt.Errorf("format %s: not a plan of verify sweep (want %q)", cutAny(head.Format), PlanFormat)
	}
	v, ok := head.Version.(float64)
	switch {
	case !ok || v != math.Trunc(v):
		return SavedPlan{}, fmt.Errorf("format version %s: want the whole number %d", cutAny(head.Version), PlanVersion)
	case v > PlanVersion:
		return SavedPlan{}, fmt.Errorf("format version %.0f: written by a newer verify; this one reads version %d (upgrade verify to apply it)", v, PlanVersion)
	case v < PlanVersion:
		return SavedPlan{}, fmt.Errorf("format version %.0f: want %d", v, PlanVersion)
	}
	var sp SavedPlan
	if err := strictjson.Decode(data, &sp, "a plan this verify wrote", strictjson.Options{DisallowUnknownFields: true}); err != nil {
		return SavedPlan{}, err
	}
	if sp.Digest != sp.digestOf() {
		return SavedPlan{}, fmt.Errorf("digest %s does not match its content: the file was edited since it was written; plan again", cut(sp.Digest))
	}
	return sp, nil
}

var keyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// checkKeys walks the JSON tokens: one top-level object, nothing after it, at most a few levels
// deep, and every object's keys lower-case ASCII and each once.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		obj, wantKey bool
		keys         map[string]bool
	}
	var stack []*frame
	done := false
	for {
		tok, err := dec.Token()
		switch {
		case err == io.EOF:
		case done:
			return errors.New("more after the plan's JSON object: not a plan this verify wrote")
		case err != nil:
			return fmt.Errorf("not JSON (truncated, or not a plan): %w", err)
		}
		if err == io.EOF {
			break
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
			if top == nil && d != '{' {
				return errors.New("not a JSON object: not a plan")
			}
			if len(stack) >= 8 {
				return errors.New("nested deeper than a plan is: not a plan")
			}
			if top != nil && top.obj {
				top.wantKey = true
			}
			stack = append(stack, &frame{obj: d == '{', wantKey: d == '{', keys: map[string]bool{}})
			continue
		}
		if d, ok := tok.(json.Delim); ok {
			_ = d // '}' or ']'
			stack = stack[:len(stack)-1]
			done = len(stack) == 0
			continue
		}
		if top == nil {
			return errors.New("not a JSON object: not a plan")
		}
		if top.obj && top.wantKey {
			k, _ := tok.(string)
			switch {
			case !keyRE.MatchString(k):
				return fmt.Errorf("key %q: not a key of a plan (lower-case a-z, 0-9 and _ only)", cut(k))
			case top.keys[k]:
				return fmt.Errorf("key %q given twice in one object: a reader would see one value and the plan apply another", k)
			}
			top.keys[k], top.wantKey = true, false
			continue
		}
		if top.obj {
			top.wantKey = true
		}
	}
	if !done {
		return errors.New("not JSON (truncated): not a plan")
	}
	return nil
}

var (
	planRegionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)
	partitionRE     = regexp.MustCompile(`^aws(-[a-z]+){0,2}$`)
	organizationRE  = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	stackNameRE     = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	stackIDSuffixRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	tableIDRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	stackStatusRE   = regexp.MustCompile(`^[A-Z_]{1,64}$`)
	prefixRE        = regexp.MustCompile(`^[A-Za-z0-9_.-]{0,255}$`)
)

// The actions a plan can give: what NewPlan decides for a sweep.
var (
	planTableActions = []Action{WouldDelete, SkippedProtected, Kept, Failed, WouldRetain}
	planStackActions = []Action{WouldDelete, SkippedProtected, Kept, Failed}
	planReasons      = []Reason{Orphaned, Expired, OlderThan, Idle, SameStack}
	planPolicies     = []string{"", "Delete", "Retain", "RetainExceptOnCreate", "Snapshot", "unknown"}
)

// validate checks every value against what this code writes, the times against now, and the
// entries against each other and the fleet: an edit that kept the digest right still cannot
// name a table outside the plan's fleet, give one table's entry another table's identity, or
// list a table twice.
func (sp SavedPlan) validate(now time.Time) error {
	if err := sp.Fleet.validate(); err != nil {
		return err
	}
	switch {
	case sp.MadeAt.IsZero() || sp.ApplyBefore.IsZero():
		return errors.New("made_at and apply_before: both must be set")
	case !sp.ApplyBefore.After(sp.MadeAt):
		return fmt.Errorf("apply_before %s is not after made_at %s: a TTL of %s (want more than 0, at most %s)",
			stamp(sp.ApplyBefore), stamp(sp.MadeAt), sp.ApplyBefore.Sub(sp.MadeAt), MaxPlanTTL)
	case sp.ApplyBefore.Sub(sp.MadeAt) > MaxPlanTTL:
		return fmt.Errorf("apply_before %s is %s after made_at %s: a plan may be applied for at most %s", stamp(sp.ApplyBefore),
			sp.ApplyBefore.Sub(sp.MadeAt), stamp(sp.MadeAt), MaxPlanTTL)
	case sp.MadeAt.After(now.Add(planClockSkew)):
		return fmt.Errorf("made_at %s is in the future (now %s): not a plan made here", stamp(sp.MadeAt), stamp(now))
	}
	if err := sp.Filter.validate(); err != nil {
		return err
	}
	if strings.ContainsRune(sp.Save.Export, 0) || utf8.RuneCountInString(sp.Save.Export) > 4096 {
		return fmt.Errorf("save.export %q: not a directory path", cut(sp.Save.Export))
	}
	accounts, regions := setOf(sp.Fleet.Accounts), setOf(sp.Fleet.Regions)
	stacks := map[string]PlanStack{}
	for i, s := range sp.Stacks {
		where := fmt.Sprintf("stacks[%d]", i)
		if err := s.validate(where, sp.Fleet.Partition, accounts, regions); err != nil {
			return err
		}
		k := s.Account + "/" + stackKey(s.Region, s.Stack)
		if _, dup := stacks[k]; dup {
			return fmt.Errorf("%s: stack %s of account %s in %s is listed twice", where, s.Stack, s.Account, s.Region)
		}
		stacks[k] = s
	}
	seen := map[string]bool{}
	for i, t := range sp.Tables {
		where := fmt.Sprintf("tables[%d]", i)
		if err := t.validate(where, sp.Fleet.Partition, accounts, regions); err != nil {
			return err
		}
		k := t.Account + "/" + t.Region + "/" + t.Table
		if seen[k] {
			return fmt.Errorf("%s: table %s of account %s in %s is listed twice", where, t.Table, t.Account, t.Region)
		}
		seen[k] = true
		if t.Stack != "" {
			s, ok := stacks[t.Account+"/"+stackKey(t.Region, t.Stack)]
			switch {
			case !ok:
				return fmt.Errorf("%s: table %s goes through stack %s, which the plan does not list", where, t.Table, t.Stack)
			case !slices.Contains(s.Tables, t.Table):
				return fmt.Errorf("%s: table %s goes through stack %s, which does not hold it", where, t.Table, t.Stack)
			}
		}
	}
	if !now.Before(sp.ApplyBefore) {
		return fmt.Errorf("%w: it could be applied until %s (made %s, a TTL of %s), and it is %s: plan again",
			ErrPlanExpired, stamp(sp.ApplyBefore), stamp(sp.MadeAt), sp.ApplyBefore.Sub(sp.MadeAt), stamp(now))
	}
	return nil
}

func (f PlanFleet) validate() error {
	if err := org.CheckAccountID("fleet.caller", f.Caller); err != nil {
		return err
	}
	if !partitionRE.MatchString(f.Partition) {
		return fmt.Errorf("fleet.partition %q: want an AWS partition such as aws", cut(f.Partition))
	}
	switch f.Scope {
	case ScopeAccount:
		if f.Organization != "" || f.Role != "" || !slices.Equal(f.Accounts, []string{f.Caller}) {
			return fmt.Errorf("fleet: a plan of the caller's own account names no organization, no role and only account %s", f.Caller)
		}
	case ScopeOrganization, ScopeAccounts:
		if f.Scope == ScopeOrganization && !organizationRE.MatchString(f.Organization) || f.Scope == ScopeAccounts && f.Organization != "" {
			return fmt.Errorf("fleet.organization %q: an organization's plan names its id (o-…), another's none", cut(f.Organization))
		}
		if err := org.CheckRoleName("fleet.role", f.Role); err != nil {
			return err
		}
	default:
		return fmt.Errorf("fleet.scope %q: want %s, %s or %s", cut(f.Scope), ScopeAccount, ScopeOrganization, ScopeAccounts)
	}
	if !slices.IsSorted(f.Accounts) || len(slices.Compact(slices.Clone(f.Accounts))) != len(f.Accounts) {
		return errors.New("fleet.accounts: want each account once, sorted")
	}
	for _, a := range f.Accounts {
		if err := org.CheckAccountID("fleet.accounts", a); err != nil {
			return err
		}
	}
	if len(f.Regions) == 0 || len(f.Regions) > 64 || !slices.IsSorted(f.Regions) || len(slices.Compact(slices.Clone(f.Regions))) != len(f.Regions) {
		return errors.New("fleet.regions: want 1 to 64 regions, each once, sorted")
	}
	for _, r := range f.Regions {
		if !planRegionRE.MatchString(r) {
			return fmt.Errorf("fleet.regions %q: want a region name such as us-east-1", cut(r))
		}
	}
	return nil
}

func (f PlanFilter) validate() error {
	if !prefixRE.MatchString(f.NamePrefix) {
		return fmt.Errorf("filter.name_prefix %q: want at most 255 characters of a-z A-Z 0-9 _ . - (a table name's)", cut(f.NamePrefix))
	}
	for _, d := range []struct{ name, v string }{{"filter.older_than", f.OlderThan}, {"filter.idle_for", f.IdleFor}} {
		if d.v == "" {
			continue
		}
		if v, err := time.ParseDuration(d.v); err != nil || v <= 0 || v.String() != d.v {
			return fmt.Errorf("%s %q: want a positive duration as Go writes it (720h0m0s)", d.name, cut(d.v))
		}
	}
	return nil
}

// filter is the Filter the plan was made with, judging at now.
func (sp SavedPlan) filter(now time.Time) Filter {
	f := Filter{NamePrefix: sp.Filter.NamePrefix, Now: now}
	f.OlderThan, _ = time.ParseDuration(sp.Filter.OlderThan) // validated
	f.IdleFor, _ = time.ParseDuration(sp.Filter.IdleFor)
	return f
}

func (t PlanTable) validate(where, partition string, accounts, regions map[string]bool) error {
	if err := where3(where, t.Account, t.Region, accounts, regions); err != nil {
		return err
	}
	if !wallet.ValidTableName(t.Table) {
		return fmt.Errorf("%s.table %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", where, cut(t.Table))
	}
	if want := fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, t.Region, t.Account, t.Table); t.Identity.ARN != want {
		return fmt.Errorf("%s.identity.arn %q is not table %s's (%s): an entry holds its own table's identity", where, cut(t.Identity.ARN), t.Table, want)
	}
	if t.Identity.Created.IsZero() {
		return fmt.Errorf("%s.identity.created: not set; the plan's identity of table %s is its creation time", where, t.Table)
	}
	if t.Identity.TableID != "" && !tableIDRE.MatchString(t.Identity.TableID) {
		return fmt.Errorf("%s.identity.table_id %q: want DynamoDB's table id (a UUID)", where, cut(t.Identity.TableID))
	}
	if len(t.Reasons) == 0 {
		return fmt.Errorf("%s.reasons: none; a candidate has at least one", where)
	}
	for i, r := range t.Reasons {
		if !slices.Contains(planReasons, r) || slices.Index(t.Reasons, r) != i {
			return fmt.Errorf("%s.reasons %q: want each of %s at most once", where, cut(string(r)), joinReasons(planReasons, ", "))
		}
	}
	if err := checkText(where+".detail", t.Detail); err != nil {
		return err
	}
	if t.Stack != "" && !stackNameRE.MatchString(t.Stack) {
		return fmt.Errorf("%s.stack %q: want a CloudFormation stack name", where, cut(t.Stack))
	}
	if !slices.Contains(planPolicies, t.DeletionPolicy) {
		return fmt.Errorf("%s.deletion_policy %q: want one of %s", where, cut(t.DeletionPolicy), strings.Join(planPolicies[1:], ", "))
	}
	if !slices.Contains(planTableActions, t.Action) {
		return fmt.Errorf("%s.action %q: want one of %s", where, cut(string(t.Action)), actions(planTableActions))
	}
	if math.IsNaN(t.MonthlyCostUSD) || t.MonthlyCostUSD < 0 || t.MonthlyCostUSD > 1e9 {
		return fmt.Errorf("%s.monthly_cost_usd %v: want 0 to 1e9", where, t.MonthlyCostUSD)
	}
	return nil
}

func (s PlanStack) validate(where, partition string, accounts, regions map[string]bool) error {
	if err := where3(where, s.Account, s.Region, accounts, regions); err != nil {
		return err
	}
	if !stackNameRE.MatchString(s.Stack) {
		return fmt.Errorf("%s.stack %q: want a CloudFormation stack name", where, cut(s.Stack))
	}
	prefix := fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/", partition, s.Region, s.Account, s.Stack)
	if rest, ok := strings.CutPrefix(s.StackID, prefix); !ok || !stackIDSuffixRE.MatchString(rest) {
		return fmt.Errorf("%s.stack_id %q is not stack %s's (%s…)", where, cut(s.StackID), s.Stack, prefix)
	}
	if !stackStatusRE.MatchString(s.Status) {
		return fmt.Errorf("%s.status %q: want a CloudFormation stack status", where, cut(s.Status))
	}
	if !slices.Contains(planStackActions, s.Action) {
		return fmt.Errorf("%s.action %q: want one of %s", where, cut(string(s.Action)), actions(planStackActions))
	}
	if len(s.Tables) > 500 || !slices.IsSorted(s.Tables) || len(slices.Compact(slices.Clone(s.Tables))) != len(s.Tables) {
		return fmt.Errorf("%s.tables: want each table once, sorted", where)
	}
	for _, t := range s.Tables {
		if !wallet.ValidTableName(t) {
			return fmt.Errorf("%s.tables %q: want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)", where, cut(t))
		}
	}
	return checkText(where+".detail", s.Detail)
}

func where3(where, account, region string, accounts, regions map[string]bool) error {
	switch {
	case !accounts[account]:
		return fmt.Errorf("%s.account %q: not an account of the plan's fleet", where, cut(account))
	case !regions[region]:
		return fmt.Errorf("%s.region %q: not a region of the plan's fleet", where, cut(region))
	}
	return nil
}

// checkText refuses a text a plan would not hold: too long, or with control characters (a
// line break or an escape sequence in what a terminal or a review shows).
func checkText(where, s string) error {
	if utf8.RuneCountInString(s) > maxPlanText {
		return fmt.Errorf("%s: %d characters, at most %d", where, utf8.RuneCountInString(s), maxPlanText)
	}
	if i := strings.IndexFunc(s, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%s %q: holds a control character", where, cut(s))
	}
	return nil
}

func setOf(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

func actions(as []Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// cut shortens a value for a message: a 10,000-character table name is not echoed whole.
func cut(s string) string {
	const most = 80
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

func cutAny(v any) string {
	if v == nil {
		return "missing"
	}
	b, _ := json.Marshal(v)
	return cut(string(b))
}

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

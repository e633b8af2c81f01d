package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
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

package sweep

import (
	"fmt"
	"strings"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// rule is one line of the README's "Which tables" table. A rule with a reason makes a table a
// candidate when it holds; a rule without one rules the table out, whatever else holds.
type rule struct {
	name   string
	reason Reason
	holds  func(j judging) bool
	// out is what a table this rule rules out is reported as when it is re-judged just before
	// an irreversible step; why says so; noted: the plan notes it (it would otherwise go).
	out   Action
	why   func(j judging) string
	noted bool
}

// rules are the rules, in the README's order: the one place that says which tables may go.
// Both the plan and Act's re-judgment before each irreversible step apply them, so a table is
// deleted only if it still qualifies by the rules it was planned by.
func rules() []rule {
	return []rule{
		{name: "not-ours", out: NoLongerCandidate,
			holds: func(j judging) bool { return !j.t.Ours },
			why: func(judging) string {
				return fmt.Sprintf("it is not tagged %s=%s (nor named by --name-prefix)", wallet.TagProject, wallet.ProjectName)
			}},
		// The ledger of deletions (internal/ledger) is never a candidate, whatever its tags say:
		// by its name, and by its tag.
		{name: "ledger", out: NoLongerCandidate, noted: true,
			holds: func(j judging) bool { return wallet.IsLedger(j.t.Name, j.t.Tags) },
			why: func(judging) string {
				return fmt.Sprintf("it is the ledger of deletions (%s, tagged %s), which nothing deletes", wallet.LedgerTable, wallet.TagLedger)
			}},
		{name: "kept", out: Kept, noted: true,
			holds: func(j judging) bool { return wallet.Kept(j.t.Tags) },
			why:   func(judging) string { return fmt.Sprintf("kept: tag %s=true", wallet.TagKeep) }},
		{name: "orphaned", reason: Orphaned,
			holds: func(j judging) bool { return j.t.Stack != "" && !j.t.StackLive }},
		{name: "expired", reason: Expired,
			holds: func(j judging) bool { return j.expired }},
		{name: "older-than", reason: OlderThan,
			holds: func(j judging) bool {
				return j.f.OlderThan > 0 && !j.t.Created.IsZero() && j.now.Sub(j.t.Created) > j.f.OlderThan
			}},
		{name: "idle", reason: Idle,
			holds: func(j judging) bool { return j.f.IdleFor > 0 && j.t.Idle }},
		// The rule that keeps production safe: a live stack's table that has not expired is
		// never a candidate, however old or quiet it is.
		{name: "live-stack", out: NoLongerCandidate,
			holds: func(j judging) bool { return j.t.StackLive && !j.expired },
			why: func(j judging) string {
				return fmt.Sprintf("its stack %s is live and it has not expired", j.t.Stack)
			}},
		// Removing a live stack's table means deleting the whole stack. Only a wallet stack is
		// ours to delete: a Project=wallet table inside someone else's stack is reported, never
		// the reason their stack goes.
		{name: "foreign-stack", out: NoLongerCandidate, noted: true,
			holds: func(j judging) bool { return j.t.StackLive && !walletStack(j.t.Stack) },
			why: func(j judging) string {
				return fmt.Sprintf("it belongs to live stack %s, which is not a wallet stack (%s*): delete it through that stack's owner", j.t.Stack, wallet.StackPrefix)
			}},
	}
}

func walletStack(name string) bool { return strings.HasPrefix(name, wallet.StackPrefix) }

// judging is one observed table before the rules, with its expiry worked out once.
type judging struct {
	t       Observed
	f       Filter
	now     time.Time
	expired bool
}

// verdict is what the rules say of one table.
type verdict struct {
	reasons []Reason
	// out is the first rule that rules the table out; nil when none does.
	out   *rule
	notes []string
}

func (v verdict) candidate() bool { return v.out == nil && len(v.reasons) > 0 }

// why is the reason the table is not a candidate, for a report.
func (v verdict) why(t Observed, f Filter, now time.Time) string {
	if v.out != nil {
		return v.out.why(judging{t: t, f: f, now: now})
	}
	return "no rule makes it a candidate any more (not orphaned, not expired, not older or idle)"
}

// judge applies the rules to one observed table. A note is made of a tag that does not parse,
// of a table whose own ExpiresAfter disagrees with its live stack's, and of a rule marked noted
// that alone keeps a table that would otherwise go.
func judge(t Observed, f Filter, now time.Time) verdict {
	j := judging{t: t, f: f, now: now}
	var v verdict
	if t.Ours {
		var note string
		j.expired, note = expired(t, now)
		if note != "" {
			v.notes = append(v.notes, note)
		}
	}
	var outs []*rule
	for _, r := range rules() {
		switch {
		case !r.holds(j):
		case r.reason != "":
			v.reasons = append(v.reasons, r.reason)
		default:
			outs = append(outs, &r)
		}
	}
	if len(outs) > 0 {
		v.out = outs[0]
		if len(outs) == 1 && v.out.noted && len(v.reasons) > 0 {
			v.notes = append(v.notes, fmt.Sprintf("%s/%s: %s, but %s", t.Region, t.Name, joinReasons(v.reasons, ", "), v.out.why(j)))
		}
	}
	return v
}

// expired says whether the table's ExpiresAfter has passed since its creation. The tag that
// counts for a table of a live wallet stack is the stack's own (only a stack update changes it,
// as the CDK app's expiresAfter does), not one anyone may put on the table alone; when the two
// differ, the note says so. A tag that does not read as a duration never counts: noted.
func expired(t Observed, now time.Time) (bool, string) {
	v, ok := t.Tags[wallet.TagExpiresAfter]
	var note string
	if t.StackLive && walletStack(t.Stack) {
		sv, sok := t.StackTags[wallet.TagExpiresAfter]
		if sv != v || sok != ok {
			note = fmt.Sprintf("%s/%s: tag %s is %s on the table but %s on its stack %s: the stack's counts (only a stack update changes it)",
				t.Region, t.Name, wallet.TagExpiresAfter, tagValue(v, ok), tagValue(sv, sok), t.Stack)
		}
		v, ok = sv, sok
	}
	if !ok {
		return false, note
	}
	d, err := wallet.ParseDuration(v)
	if err != nil {
		return false, strings.TrimPrefix(note+"; ", "; ") + fmt.Sprintf("%s/%s: tag %s=%q ignored: %v", t.Region, t.Name, wallet.TagExpiresAfter, v, err)
	}
	return !t.Created.IsZero() && now.After(t.Created.Add(d)), note
}

func tagValue(v string, ok bool) string {
	if !ok {
		return "not set"
	}
	return fmt.Sprintf("%q", v)
}

// Holding is a resource that keeps its stack from being deleted, and why: DeleteStack would
// delete it too, and nothing here judged it.
type Holding struct {
	discover.Resource
	Why string `json:"why"`
}

func (h Holding) String() string { return "holds " + h.Resource.String() + ", " + h.Why }

// holdings is the stack's rule, the one place that says which stacks may be deleted at all: a
// stack goes only when every resource it holds is of a kind a wallet stack declares
// (wallet.StackResourceTypes) and every table of it is one refused says nothing against ("":
// it may go with the stack; else why not).
// CloudFormation deletes a stack's resources with the stack's service role (cdk's
// cfn-exec-role, admin by default), not with the caller's permissions: no IAM condition on the
// caller stops DeleteStack from taking a queue or a bucket someone added to the stack. This does.
func holdings(resources []discover.Resource, refused func(table string) string) []Holding {
	var out []Holding
	for _, r := range resources {
		switch {
		case !wallet.DeclaredResourceType(r.Type):
			out = append(out, Holding{r, "a kind a wallet stack does not declare"})
		case r.Type == wallet.ResourceTable && wallet.IsLedger(r.PhysicalID, nil):
			out = append(out, Holding{r, "the ledger of deletions, which nothing deletes"})
		case r.Type == wallet.ResourceTable && r.PhysicalID != "":
			if why := refused(r.PhysicalID); why != "" {
				out = append(out, Holding{r, why})
			}
		}
	}
	return out
}

// keptStack is what a stack held back by its holdings says, in the plan and the report.
func keptStack(hs []Holding) string {
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.String()
	}
	return "kept-stack: " + strings.Join(s, "; ") + ": the stack is not deleted (DeleteStack would delete all it holds, unjudged)"
}

// detail says, for each reason a table is a candidate, what made that rule hold: what a plan's
// reviewer reads beside the rule's name ("orphaned: its stack Wallet-x is gone").
func detail(t Observed, reasons []Reason, f Filter, now time.Time) string {
	var parts []string
	for _, r := range reasons {
		var d string
		switch r {
		case Orphaned:
			d = fmt.Sprintf("its stack %s is gone or no longer lists it", t.Stack)
		case Expired:
			v := t.Tags[wallet.TagExpiresAfter]
			if t.StackLive && walletStack(t.Stack) {
				v = t.StackTags[wallet.TagExpiresAfter]
			}
			d = fmt.Sprintf("%s %s since its creation at %s", wallet.TagExpiresAfter, v, t.Created.UTC().Format(time.RFC3339))
			if dur, err := wallet.ParseDuration(v); err == nil {
				d += ", passed at " + t.Created.Add(dur).UTC().Format(time.RFC3339)
			}
		case OlderThan:
			d = fmt.Sprintf("created %s, more than %s before %s", t.Created.UTC().Format(time.RFC3339), f.OlderThan, now.UTC().Format(time.RFC3339))
		case Idle:
			d = fmt.Sprintf("no consumed read or write capacity for %s", f.IdleFor)
		}
		parts = append(parts, string(r)+": "+d)
	}
	return strings.Join(parts, "; ")
}

package sweep

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Candidate is one table the sweep would delete or skip, and then what it did.
type Candidate struct {
	Table          string   `json:"table"`
	Region         string   `json:"region"`
	Reasons        []Reason `json:"reasons"`
	MonthlyCostUSD float64  `json:"monthly_cost_usd"`
	Protected      bool     `json:"protected"`
	Action         Action   `json:"action"`
	// Stack is the live stack the table is removed through; empty when deleted directly.
	Stack   string   `json:"stack,omitempty"`
	SavedTo string   `json:"saved_to,omitempty"`
	Error   string   `json:"error,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Plan is what a sweep would do: a value to print, confirm, and then carry out.
type Plan struct {
	Regions    []string
	Candidates []Candidate
	Problems   []Problem
	Notes      []string
	Prices     cost.Prices
}

// NewPlan decides, from what was found, which tables are candidates and why. It calls nothing.
func NewPlan(found []Inventory, f Filter, prices cost.Prices, includeProtected bool) Plan {
	now := f.now()
	p := Plan{Prices: prices}
	for _, fd := range found {
		p.Regions = append(p.Regions, fd.Region)
		p.Problems = append(p.Problems, fd.Problems...)
		p.Notes = append(p.Notes, fd.Notes...)
		byName := map[string]Observed{}
		for _, t := range fd.Tables {
			byName[t.Name] = t
		}
		var cands []Candidate
		inPlan := map[string]bool{}
		viaStack := map[string]bool{}
		for _, t := range fd.Tables {
			if !t.Ours || t.Unjudged || t.Status == "DELETING" {
				continue
			}
			var reasons []Reason
			if t.Stack != "" && !t.StackLive {
				reasons = append(reasons, Orphaned)
			}
			expired := false
			if v, ok := t.Tags[wallet.TagExpiresAfter]; ok {
				d, err := wallet.ParseDuration(v)
				switch {
				case err != nil:
					p.Notes = append(p.Notes, fmt.Sprintf("%s/%s: tag %s=%q ignored: %v", t.Region, t.Name, wallet.TagExpiresAfter, v, err))
				case !t.Created.IsZero() && now.After(t.Created.Add(d)):
					expired = true
					reasons = append(reasons, Expired)
				}
			}
			if f.OlderThan > 0 && !t.Created.IsZero() && now.Sub(t.Created) > f.OlderThan {
				reasons = append(reasons, OlderThan)
			}
			if f.IdleFor > 0 && t.Idle {
				reasons = append(reasons, Idle)
			}
			// The rule that keeps production safe: a live stack's table that has not expired
			// is never a candidate, however old or quiet it is.
			if t.StackLive && !expired {
				continue
			}
			if len(reasons) == 0 {
				continue
			}
			// Removing a live stack's table means deleting the whole stack. Only a wallet stack
			// is ours to delete: a Project=wallet table inside someone else's stack is reported,
			// never the reason their stack goes.
			if t.StackLive && !strings.HasPrefix(t.Stack, wallet.StackPrefix) {
				p.Notes = append(p.Notes, fmt.Sprintf("%s/%s: %s, but it belongs to live stack %s, which is not a wallet stack (%s*): delete it through that stack's owner",
					t.Region, t.Name, joinReasons(reasons, ", "), t.Stack, wallet.StackPrefix))
				continue
			}
			c := candidate(t, reasons, prices)
			if t.StackLive {
				c.Stack = t.Stack
				viaStack[t.Stack] = true
			}
			cands = append(cands, c)
			inPlan[t.Name] = true
		}
		unreadable := map[string]bool{}
		for _, pr := range fd.Problems {
			if pr.Table != "" {
				unreadable[pr.Table] = true
			}
		}
		// A stack goes whole: show every table it would take with it. One it holds that could
		// not be read would go unseen, unpriced and unexported: then the stack stays.
		blocked := map[string]string{}
		for stack := range viaStack {
			for _, name := range fd.StackTables[stack] {
				if inPlan[name] {
					continue
				}
				if unreadable[name] {
					blocked[stack] = name
					continue
				}
				t, ok := byName[name]
				if !ok {
					continue // listed by the stack but not in DynamoDB: nothing to delete
				}
				c := candidate(t, []Reason{SameStack}, prices)
				c.Stack = stack
				cands = append(cands, c)
				inPlan[name] = true
			}
		}
		decide(cands, includeProtected)
		for i := range cands {
			if name, ok := blocked[cands[i].Stack]; ok {
				cands[i].Action = Failed
				cands[i].Error = fmt.Sprintf("stack %s also holds table %s, which could not be read: the stack is not deleted", cands[i].Stack, name)
			}
		}
		p.Candidates = append(p.Candidates, cands...)
	}
	if n := prices.Note(p.Regions...); n != "" {
		p.Notes = append(p.Notes, n)
	}
	sort.SliceStable(p.Candidates, func(i, j int) bool {
		a, b := p.Candidates[i], p.Candidates[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Stack != b.Stack {
			return a.Stack < b.Stack
		}
		return a.Table < b.Table
	})
	return p
}

func candidate(t Observed, reasons []Reason, prices cost.Prices) Candidate {
	return Candidate{
		Table:          t.Name,
		Region:         t.Region,
		Reasons:        reasons,
		MonthlyCostUSD: cost.Round(cost.Monthly(t.Cost, prices).Total),
		Protected:      t.Protected,
	}
}

// decide sets each candidate's planned action. A stack is deleted whole or not at all, so one
// protected table (without --include-protected) holds back every table of its stack.
func decide(cands []Candidate, includeProtected bool) {
	blocked := map[string]string{}
	for _, c := range cands {
		if c.Stack != "" && c.Protected && !includeProtected {
			blocked[c.Stack] = c.Table
		}
	}
	for i := range cands {
		c := &cands[i]
		switch {
		case c.Protected && !includeProtected:
			c.Action = SkippedProtected
			c.Notes = append(c.Notes, "deletion protection is on: pass --include-protected to delete it")
		case c.Stack != "" && blocked[c.Stack] != "":
			c.Action = SkippedProtected
			c.Notes = append(c.Notes, fmt.Sprintf("stack %s also holds protected table %s", c.Stack, blocked[c.Stack]))
		default:
			c.Action = WouldDelete
			if c.Protected {
				c.Notes = append(c.Notes, "deletion protection will be turned off (--include-protected)")
			}
		}
	}
}

// Report is a sweep's outcome (or, for a dry run, its plan), ready to render.
type Report struct {
	DryRun            bool        `json:"dry_run"`
	Regions           []string    `json:"regions"`
	Candidates        []Candidate `json:"candidates"`
	MonthlySavingsUSD float64     `json:"monthly_savings_usd"`
	Problems          []Problem   `json:"problems,omitempty"`
	Notes             []string    `json:"notes,omitempty"`
	Prices            cost.Prices `json:"prices"`
}

// DryRun is the plan as a report: nothing done, savings if carried out.
func (p Plan) DryRun() Report { return p.report(true) }

func (p Plan) report(dry bool) Report {
	r := Report{
		DryRun:     dry,
		Regions:    p.Regions,
		Candidates: append([]Candidate{}, p.Candidates...),
		Problems:   p.Problems,
		Notes:      dedupe(p.Notes),
		Prices:     p.Prices,
	}
	var saved float64
	for _, c := range r.Candidates {
		if c.Action == WouldDelete && dry || c.Action == Deleted && !dry {
			saved += c.MonthlyCostUSD
		}
	}
	r.MonthlySavingsUSD = cost.Round(saved)
	return r
}

// Pending counts the candidates a confirmed sweep would delete.
func (p Plan) Pending() int {
	n := 0
	for _, c := range p.Candidates {
		if c.Action == WouldDelete {
			n++
		}
	}
	return n
}

// Failures counts failed actions and things that could not be found out: either makes exit 1.
func (r Report) Failures() int {
	n := len(r.Problems)
	for _, c := range r.Candidates {
		if c.Action == Failed {
			n++
		}
	}
	return n
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func joinReasons(rs []Reason, sep string) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, sep)
}

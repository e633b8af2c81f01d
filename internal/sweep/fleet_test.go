package sweep

import (
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// fleetOf is a fleet's run with each account's report as given: the outcome and the prompt are
// pure functions of them. (The races behind a replaced table are driven on moto elsewhere.)
func fleetOf(fl org.Fleet, reports map[string]*Report) *Fleet {
	f := &Fleet{fleet: fl, prices: cost.USEast1()}
	for _, a := range fl.Accounts {
		ap := &accountPlan{account: a}
		if r, ok := reports[a.ID]; ok {
			ap.report, ap.planned = *r, true
		}
		f.accounts = append(f.accounts, ap)
	}
	return f
}

var one = org.Fleet{Caller: org.Caller{Account: "111111111111"}, Accounts: []org.Account{{ID: "111111111111", Status: org.Active, Self: true}}}

// The run's end is one rule for one account and for many: nothing read is Unread (exit 2); a
// table replaced since the plan, or an account not run, is Incomplete (exit 1).
func TestAFleetsOutcome(t *testing.T) {
	suspended := org.Fleet{Organization: "o-abc1234567", Accounts: []org.Account{{ID: "222222222222", Status: "SUSPENDED", Error: "account 222222222222 is SUSPENDED: not run"}}}
	replaced := &Report{Regions: []string{"us-east-1"}, Candidates: []Candidate{{Table: "racet", Region: "us-east-1", Action: Replaced}}}
	unlisted := &Report{Regions: []string{"us-east-1"}, Problems: []Problem{problem("us-east-1", "", errString("connection refused"))}}
	fine := &Report{Regions: []string{"us-east-1"}}
	two := org.Fleet{Organization: "o-abc1234567", Caller: one.Caller, Accounts: []org.Account{one.Accounts[0], suspended.Accounts[0]}}
	for _, tc := range []struct {
		name    string
		f       *Fleet
		unread  bool
		nothing bool
		words   string
	}{
		{"no account could be run", fleetOf(suspended, nil), true, false, "no account could be read; 222222222222"},
		{"the one account could list nothing", fleetOf(one, map[string]*Report{one.Accounts[0].ID: unlisted}), true, false, "no region could be listed"},
		{"a table replaced since the plan", fleetOf(one, map[string]*Report{one.Accounts[0].ID: replaced}), false, false, "replaced by another of the same name"},
		{"one account read, one suspended", fleetOf(two, map[string]*Report{one.Accounts[0].ID: fine}), false, false, "1 accounts, planned actions or tables failed"},
		{"all well", fleetOf(one, map[string]*Report{one.Accounts[0].ID: fine}), false, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f.Outcome("sweep")
			if tc.nothing {
				if err != nil {
					t.Fatalf("outcome %v, want none", err)
				}
				return
			}
			oc, ok := err.(*org.Outcome)
			if !ok || oc.Unread != tc.unread || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("outcome %#v (%v), want unread=%v saying %q", err, err, tc.unread, tc.words)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// The prompt names what is at stake and the token to type back: the account id for one
// account, the organization's id for an organization, and nothing at all when STS named no
// account (an empty token can never be typed back).
func TestTheConfirmationNamesTheFleet(t *testing.T) {
	pending := &Report{DryRun: true, Candidates: []Candidate{{Table: "a", Action: WouldDelete}, {Table: "b", Action: WouldDelete}, {Table: "c", Action: WouldDelete}}}
	prompt, token := fleetOf(one, map[string]*Report{one.Accounts[0].ID: pending}).Confirm()
	if token != "111111111111" || !strings.Contains(prompt, "3 tables in account 111111111111") || !strings.Contains(prompt, "Type the account id to go ahead") {
		t.Errorf("one account: prompt %q, token %q", prompt, token)
	}
	orgFleet := org.Fleet{Organization: "o-abc1234567", Caller: one.Caller, Accounts: []org.Account{one.Accounts[0], {ID: "333333333333", Status: org.Active}}}
	prompt, token = fleetOf(orgFleet, map[string]*Report{"111111111111": pending, "333333333333": pending}).Confirm()
	if token != "o-abc1234567" || !strings.Contains(prompt, "6 tables in 2 accounts of organization o-abc1234567") || !strings.Contains(prompt, "the organization id") {
		t.Errorf("organization: prompt %q, token %q", prompt, token)
	}
	named := org.Fleet{Named: true, Caller: one.Caller, Accounts: orgFleet.Accounts}
	if _, token = fleetOf(named, map[string]*Report{"111111111111": pending}).Confirm(); token != "111111111111" {
		t.Errorf("named accounts confirm with the caller's account id, not %q", token)
	}
	// The dry run's hint names the same token as the prompt: the account id for named accounts.
	var b strings.Builder
	r := fleetOf(named, map[string]*Report{"111111111111": pending, "333333333333": pending}).Report()
	if err := r.WriteText(&b); err != nil || !strings.Contains(b.String(), "confirm with your account id (111111111111)") {
		t.Errorf("the dry run's hint for named accounts: %v\n%s", err, b.String())
	}
	nobody := org.Fleet{Accounts: []org.Account{{Status: org.Active, Self: true}}}
	if prompt, token = fleetOf(nobody, map[string]*Report{"": pending}).Confirm(); token != "" || prompt != "" {
		t.Errorf("no account id: prompt %q token %q, want nothing to type", prompt, token)
	}
}

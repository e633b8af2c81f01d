package org

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Scope is which accounts a run covers. The zero value is the caller's own account: one
// account is an organization of one, and every command runs over a Fleet whatever its scope.
type Scope struct {
	// Org: every account of the organization (Organizations ListAccounts).
	Org bool
	// Accounts are the accounts named instead (taken as ACTIVE; Organizations is not asked).
	Accounts []string
	// Exclude leaves these accounts out.
	Exclude []string
	// Role is the role assumed in each member account (default DefaultRole).
	Role string
}

// Many reports whether the scope reaches beyond the caller's own account.
func (s Scope) Many() bool { return s.Org || len(s.Accounts) > 0 }

func (s Scope) role() string {
	if s.Role == "" {
		return DefaultRole
	}
	return s.Role
}

// Fleet is a run's accounts, entered, and its (account, region) units: what every command
// runs over. A run of the caller's own account is a fleet of one account.
type Fleet struct {
	Caller Caller
	// Organization is the organization's id with Scope.Org (o-…); empty otherwise.
	Organization string
	// Named: the accounts were named (Scope.Accounts), not listed from the organization.
	Named    bool
	Accounts []Account
	Units    []Unit
	// Notes are what a person should know about the fleet itself (an account id that could not
	// be learned).
	Notes []string
}

// Clients are what opening a fleet calls: STS always (who the caller is, and AssumeRole into
// members), Organizations only for Scope.Org.
type Clients struct {
	STS           STS
	Organizations Organizations
}

// ErrEveryAccountExcluded is a scope whose exclusions leave nothing to run over.
var ErrEveryAccountExcluded = fmt.Errorf("%w: every account was excluded", ErrNoAccounts)

// Open finds the scope's accounts, assumes the role in each member account, and makes the
// units of regions. base should already hold the run's one bound (Bound): every unit's
// configuration shares its HTTP client. An error means no unit can run: the caller could not be
// identified for a scope of many accounts, the organization could not be listed, or every
// account was excluded. For the caller's own account an identity that cannot be learned (an
// endpoint with no STS, such as DynamoDB Local) is a note, and the fleet is that one account
// with no id: nothing of the run depends on the id but the words of its report.
func Open(ctx context.Context, base aws.Config, c Clients, s Scope, regions []string) (Fleet, error) {
	caller, err := Identify(ctx, c.STS)
	if !s.Many() {
		fl := Fleet{Caller: caller}
		if err != nil {
			fl.Notes = append(fl.Notes, fmt.Sprintf("the account id could not be learned (%v): the report names no account", err))
		}
		self := Account{ID: caller.Account, Status: Active, Self: true}
		fl.Accounts = []Account{self}
		fl.Units = Units(fl.Accounts, map[string]aws.Config{self.ID: base.Copy()}, regions)
		return fl, nil
	}
	if err != nil {
		return Fleet{}, err
	}
	fl := Fleet{Caller: caller, Named: !s.Org}
	accounts := Named(s.Accounts)
	if s.Org {
		if accounts, err = List(ctx, c.Organizations); err != nil {
			return Fleet{}, err
		}
		fl.Organization = ID(accounts)
	}
	accounts = Exclude(accounts, s.Exclude)
	if len(accounts) == 0 {
		return Fleet{}, ErrEveryAccountExcluded
	}
	var cfgs map[string]aws.Config
	fl.Accounts, cfgs = Enter(ctx, base, c.STS, caller, s.role(), accounts)
	fl.Units = Units(fl.Accounts, cfgs, regions)
	return fl, nil
}

// Many reports whether the fleet is more than the caller's own account.
func (fl Fleet) Many() bool { return fl.Organization != "" || fl.Named }

// Regions are the fleet's regions, in the order its units first name them.
func (fl Fleet) Regions() []string {
	var out []string
	for _, u := range fl.Units {
		if !slices.Contains(out, u.Region) {
			out = append(out, u.Region)
		}
	}
	return out
}

// ByAccount groups the units' indexes by account id, in the fleet's unit order.
func (fl Fleet) ByAccount() map[string][]int {
	m := map[string][]int{}
	for i, u := range fl.Units {
		m[u.Account.ID] = append(m[u.Account.ID], i)
	}
	return m
}

// What names the fleet for people: the organization, the accounts named, or the caller's
// account.
func (fl Fleet) What() string {
	switch {
	case fl.Organization != "":
		return "organization " + fl.Organization
	case fl.Named:
		return "accounts " + Names(fl.Accounts)
	case fl.Caller.Account != "":
		return "account " + fl.Caller.Account
	}
	return "the caller's account"
}

// Confirmation is what a person types back to let a run delete, and how a prompt names it: the
// organization's id for the organization, else the caller's account id. Empty when there is
// nothing that can be typed back (STS named no account): then nothing may be confirmed.
func (fl Fleet) Confirmation() (token, name string) {
	if fl.Organization != "" {
		return fl.Organization, "the organization id"
	}
	if fl.Caller.Account == "" {
		return "", ""
	}
	if fl.Named {
		return fl.Caller.Account, "your account id (" + fl.Caller.Account + ")"
	}
	return fl.Caller.Account, "the account id"
}

// Failed counts the accounts that could not be run (not ACTIVE, or their role refused).
func (fl Fleet) Failed() int {
	n := 0
	for _, a := range fl.Accounts {
		if !a.Runnable() {
			n++
		}
	}
	return n
}

// FirstError is the first account's error, for a message when nothing could be run.
func (fl Fleet) FirstError() string {
	for _, a := range fl.Accounts {
		if a.Error != "" {
			return a.ID + ": " + a.Error
		}
	}
	return ""
}

// Label is "account" + name for a report's headings: "123456789012 (Prod)".
func (a Account) Label() string {
	if a.Name == "" {
		return a.ID
	}
	return a.ID + " (" + a.Name + ")"
}

// Prefix is how a note about an account starts in a report that may hold many: the account id,
// or nothing when it is unknown.
func (a Account) Prefix() string {
	if a.ID == "" {
		return ""
	}
	return a.ID + ": "
}

// Outcome is how a run over a fleet ended, for the edge to turn into an exit code once: Unread
// (nothing could be read or done: configuration, exit 2) or Incomplete (some of it failed, or
// was not what was planned: exit 1). Err says what, and wraps the cause (a denial stays a denial
// for the edge's hints).
type Outcome struct {
	Unread bool
	Err    error
}

func (o *Outcome) Error() string { return o.Err.Error() }
func (o *Outcome) Unwrap() error { return o.Err }

// Unread is an outcome of a run that could read or do nothing.
func Unread(err error) error { return &Outcome{Unread: true, Err: err} }

// Incomplete is an outcome of a run some of which failed.
func Incomplete(err error) error { return &Outcome{Err: err} }

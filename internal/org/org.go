// Package org fans a run out over the accounts of an AWS organization and their regions: the
// accounts come from Organizations (or are named), each member account is entered by assuming
// one role in it, the caller's own account keeps the caller's credentials, and every
// (account, region) pair is a Unit. What a unit does is the caller's: this package knows
// nothing of sweeps, costs or janitors (c7n-org's split between the fan-out and the policy).
//
// One bound holds for the whole run: every unit's configuration shares one HTTP client whose
// semaphore admits a fixed number of calls in flight, however many units run at once.
package org

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"golang.org/x/sync/errgroup"
)

// DefaultRole is the role Organizations creates in every account it creates.
const DefaultRole = "OrganizationAccountAccessRole"

// Active is the status of an account that can be entered; Organizations also reports
// SUSPENDED and PENDING_CLOSURE.
const Active = "ACTIVE"

// Organizations is the one Organizations call the fan-out makes.
type Organizations interface {
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// STS is what entering the accounts takes: who the caller is, and AssumeRole.
type STS interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
	stscreds.AssumeRoleAPIClient
}

// Account is one account of the run, with why it was not run when it was not.
type Account struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status"`
	// ARN is Organizations' (arn:aws:organizations::MGMT:account/o-…/ID); empty for named accounts.
	ARN string `json:"-"`
	// Self: the caller's own account, run with the caller's own credentials.
	Self bool `json:"self,omitempty"`
	// Error is why none of its units ran: not ACTIVE, or its role could not be assumed.
	Error string `json:"error,omitempty"`
	err   error
}

// Err is the account's error, for the caller to classify.
func (a Account) Err() error { return a.err }

// Runnable reports whether the account's units can run.
func (a Account) Runnable() bool { return a.Status == Active && a.err == nil }

func (a *Account) fail(err error) {
	a.err, a.Error = err, err.Error()
}

var (
	accountRE = regexp.MustCompile(`^\d{12}$`)
	// IAM's rule for role names: 1 to 64 of letters, digits and + = , . @ _ -.
	roleRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

// CheckAccountID refuses anything but a 12-digit account id; flag names the input for the message.
func CheckAccountID(flag, id string) error {
	if !accountRE.MatchString(id) {
		return fmt.Errorf("%s %q: want a 12-digit AWS account id", flag, id)
	}
	return nil
}

// CheckRoleName refuses what IAM would not accept as a role name.
func CheckRoleName(flag, name string) error {
	if !roleRE.MatchString(name) {
		return fmt.Errorf("%s %q: want an IAM role name, 1 to 64 of letters, digits and + = , . @ _ -", flag, name)
	}
	return nil
}

// Caller is who runs the fan-out: the account entered with its own credentials, and the
// partition every role ARN is built in.
type Caller struct {
	Account   string
	Partition string
}

// Identify asks STS who the credentials are.
func Identify(ctx context.Context, c STS) (Caller, error) {
	out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("get caller identity: %w", err)
	}
	partition := "aws"
	if a, err := arn.Parse(aws.ToString(out.Arn)); err == nil {
		partition = a.Partition
	}
	return Caller{Account: aws.ToString(out.Account), Partition: partition}, nil
}

// List is every account of the organization: ACTIVE ones to run, the others with their status
// and an error saying why they are not run. From the management account or a delegated
// administrator.
func List(ctx context.Context, c Organizations) ([]Account, error) {
	var out []Account
	pages := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the organization's accounts: %w", err)
		}
		for _, a := range page.Accounts {
			out = append(out, fromOrganizations(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func fromOrganizations(a orgtypes.Account) Account {
	// State is the newer field; Status is deprecated but still what older endpoints answer.
	status := string(a.State)
	if status == "" {
		status = string(a.Status)
	}
	acc := Account{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: status, ARN: aws.ToString(a.Arn)}
	if status != Active {
		acc.fail(fmt.Errorf("account %s is %s: not run", acc.ID, status))
	}
	return acc
}

// ID is the organization's id, read from its accounts' ARNs: ListAccounts says it, and one
// call fewer needs one permission fewer. Empty for named accounts.
func ID(accounts []Account) string {
	for _, a := range accounts {
		if parsed, err := arn.Parse(a.ARN); err == nil {
			if parts := strings.Split(parsed.Resource, "/"); len(parts) == 3 && strings.HasPrefix(parts[1], "o-") {
				return parts[1]
			}
		}
	}
	return ""
}

// Named are the accounts given by id, taken as ACTIVE (Organizations is not asked).
func Named(ids []string) []Account {
	var out []Account
	for _, id := range slices.Compact(slices.Sorted(slices.Values(ids))) {
		out = append(out, Account{ID: id, Status: Active})
	}
	return out
}

// Exclude leaves out the accounts named; excluded accounts are not reported at all.
func Exclude(accounts []Account, ids []string) []Account {
	return slices.DeleteFunc(slices.Clone(accounts), func(a Account) bool { return slices.Contains(ids, a.ID) })
}

// Unit is one (account, region) pair, with the configuration that acts in it.
type Unit struct {
	Account Account
	Region  string
	Config  aws.Config
}

// Key names the unit in messages and maps: account/region.
func (u Unit) Key() string { return u.Account.ID + "/" + u.Region }

// Enter gives every account the configuration that acts in it: the caller's own account its
// base configuration, a member account an AssumeRole of role there (cached, refreshed before
// it expires). Each role is assumed once here, so an account whose role is refused is marked
// failed (its units do not run) instead of failing every call later. base's HTTP client (the
// run's bound) is shared by every account.
func Enter(ctx context.Context, base aws.Config, stsc STS, caller Caller, role string, accounts []Account) ([]Account, map[string]aws.Config) {
	accounts = slices.Clone(accounts)
	cfgs := map[string]aws.Config{}
	type entered struct {
		i   int
		cfg aws.Config
		err error
	}
	results := make(chan entered)
	n := 0
	for i := range accounts {
		a := &accounts[i]
		a.Self = a.ID == caller.Account
		if !a.Runnable() {
			continue
		}
		if a.Self {
			cfgs[a.ID] = base.Copy()
			continue
		}
		n++
		go func(i int, id string) {
			cfg := base.Copy()
			roleARN := fmt.Sprintf("arn:%s:iam::%s:role/%s", caller.Partition, id, role)
			cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsc, roleARN, func(o *stscreds.AssumeRoleOptions) {
				o.RoleSessionName = "wallet-verify-" + caller.Account
			}))
			_, err := cfg.Credentials.Retrieve(ctx)
			if err != nil {
				// A refusal here is most often the role's side: it does not exist in that account,
				// or its trust policy does not name this caller. The caller's own IAM may lack
				// sts:AssumeRole on it too: say both, as the denial alone blames only the caller.
				err = fmt.Errorf("assume role %s: %w (check that the role exists in account %s and that its trust policy trusts %s; and that the caller may sts:AssumeRole it)",
					roleARN, err, id, caller.Account)
			}
			results <- entered{i, cfg, err}
		}(i, a.ID)
	}
	for range n {
		r := <-results
		if r.err != nil {
			accounts[r.i].fail(r.err)
			continue
		}
		cfgs[accounts[r.i].ID] = r.cfg
	}
	return accounts, cfgs
}

// Units are the (account, region) pairs of the runnable accounts, in account then region order.
func Units(accounts []Account, cfgs map[string]aws.Config, regions []string) []Unit {
	var out []Unit
	for _, a := range accounts {
		cfg, ok := cfgs[a.ID]
		if !a.Runnable() || !ok {
			continue
		}
		for _, r := range regions {
			c := cfg.Copy()
			c.Region = r
			out = append(out, Unit{Account: a, Region: r, Config: c})
		}
	}
	return out
}

// Result is what one unit's work returned.
type Result[T any] struct {
	Unit  Unit
	Value T
	Err   error
}

// Run does fn for every unit, parallel at a time, and returns each unit's result in the order
// of units. A unit's error is its own: the others go on. Calls in flight are bounded by the
// configuration's shared client (Bound), not here: parallel only bounds goroutines.
func Run[T any](ctx context.Context, units []Unit, parallel int, fn func(context.Context, Unit) (T, error)) []Result[T] {
	if parallel <= 0 {
		parallel = 1
	}
	out := make([]Result[T], len(units))
	var g errgroup.Group // not WithContext: one unit's failure must not cancel the others
	g.SetLimit(parallel)
	for i, u := range units {
		g.Go(func() error {
			v, err := fn(ctx, u)
			out[i] = Result[T]{Unit: u, Value: v, Err: err}
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// UnitsAtOnce is how many units to run at once under a bound of n calls in flight: enough that
// the bound, not the units, is what waits (a unit spends much of its time between calls), and
// few enough that a thousand accounts are not a hundred thousand goroutines.
func UnitsAtOnce(n int) int { return 4 * max(n, 1) }

// ErrNoAccounts is a run with nothing to run over.
var ErrNoAccounts = errors.New("no account to run over")

// Names lists account ids, comma-separated: for messages.
func Names(accounts []Account) string {
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	return strings.Join(ids, ", ")
}

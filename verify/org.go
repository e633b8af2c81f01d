package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// orgFlags choose the accounts a sweep or a cost report runs over: the organization's, or the
// ones named, less the excluded, each entered through one role.
type orgFlags struct {
	org      bool
	accounts []string
	exclude  []string
	role     string
}

func (f *orgFlags) register(fs *pflag.FlagSet) {
	fs.BoolVar(&f.org, "org", false, "every ACTIVE account of the organization (from the management or a delegated administrator account)")
	fs.StringSliceVar(&f.accounts, "accounts", nil, "these account ids instead (comma-separated, 12 digits each)")
	fs.StringArrayVar(&f.exclude, "exclude-account", nil, "leave this account id out; repeat for several")
	fs.StringVar(&f.role, "role-name", org.DefaultRole, "the role assumed in each member account (the caller's own account uses the caller's credentials)")
}

// on reports whether the command runs over several accounts.
func (f *orgFlags) on() bool { return f.org || len(f.accounts) > 0 }

// validate checks the account flags before anything touches AWS. changed says whether a flag
// was given, so that --role-name alone is refused rather than ignored.
func (f *orgFlags) validate(changed func(string) bool) error {
	if f.org && len(f.accounts) > 0 {
		return usageErr("--org and --accounts cannot be used together: the organization's accounts, or the ones named")
	}
	if !f.on() {
		for _, n := range []string{"exclude-account", "role-name", "accounts"} {
			if changed(n) {
				return usageErr("--%s needs --org or --accounts", n)
			}
		}
		return nil
	}
	for _, id := range f.accounts {
		if err := org.CheckAccountID("--accounts", id); err != nil {
			return usageErr("%v", err)
		}
	}
	for _, id := range f.exclude {
		if err := org.CheckAccountID("--exclude-account", id); err != nil {
			return usageErr("%v", err)
		}
	}
	if err := org.CheckRoleName("--role-name", f.role); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// fleet is a run's accounts, entered, and its (account, region) units.
type fleet struct {
	caller org.Caller
	// organization is the organization's id with --org (o-…); empty with --accounts.
	organization string
	accounts     []org.Account
	units        []org.Unit
}

// enter puts one bound of calls in flight on cfg, finds the accounts, assumes the role in each
// member account, and makes the units. Failing to learn who the caller is, or to list the
// organization, is a configuration error: no unit could run.
func (f *orgFlags) enter(ctx context.Context, cfg aws.Config, regions []string, bound int) (fleet, error) {
	cfg.HTTPClient = org.Bound(cfg.HTTPClient, bound)
	stsc := sts.NewFromConfig(cfg)
	caller, err := org.Identify(ctx, stsc)
	if err != nil {
		return fleet{}, &exitError{exitUsage, err}
	}
	fl := fleet{caller: caller}
	accounts := org.Named(f.accounts)
	if f.org {
		if accounts, err = org.List(ctx, organizations.NewFromConfig(cfg)); err != nil {
			return fleet{}, &exitError{exitUsage, err}
		}
		fl.organization = org.ID(accounts)
	}
	accounts = org.Exclude(accounts, f.exclude)
	if len(accounts) == 0 {
		return fleet{}, usageErr("%v: every account was excluded", org.ErrNoAccounts)
	}
	var cfgs map[string]aws.Config
	fl.accounts, cfgs = org.Enter(ctx, cfg, stsc, caller, f.role, accounts)
	fl.units = org.Units(fl.accounts, cfgs, regions)
	return fl, nil
}

// byAccount groups the units' indexes by account, in the fleet's account order.
func (fl fleet) byAccount() map[string][]int {
	m := map[string][]int{}
	for i, u := range fl.units {
		m[u.Account.ID] = append(m[u.Account.ID], i)
	}
	return m
}

// what names the run's scope for people: the organization, or the accounts named.
func (fl fleet) what() string {
	if fl.organization != "" {
		return "organization " + fl.organization
	}
	return "accounts " + org.Names(fl.accounts)
}

// confirmOrg names the organization (or the accounts) and how many accounts and tables a
// deletion touches, and goes ahead only if the line read is the organization's id (with --org)
// or the caller's account id (with --accounts).
func confirmOrg(r io.Reader, w io.Writer, fl fleet, tables, accounts int) (bool, error) {
	token, name := fl.caller.Account, "your account id ("+fl.caller.Account+")"
	if fl.organization != "" {
		token, name = fl.organization, "the organization id"
	}
	if token == "" {
		// An identity answer without an account id would make an empty line the confirmation.
		fmt.Fprintln(w, "\nThe account id could not be learned (STS named none), so it cannot be typed back; nothing deleted.")
		return false, nil
	}
	fmt.Fprintf(w, "\nThis deletes %d tables in %d accounts of %s. Type %s to go ahead: ", tables, accounts, fl.what(), name)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return false, err
	}
	ok := strings.TrimSpace(line) == token
	if !ok {
		fmt.Fprintln(w, "That is not it; nothing deleted.")
	}
	return ok, nil
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// fleetFlags choose the accounts a command runs over: by default the caller's own (a fleet of
// one), or the organization's, or the ones named, less the excluded, each member entered through
// one role; and the one bound on calls in flight for the whole run.
type fleetFlags struct {
	scope       org.Scope
	concurrency int
}

func (f *fleetFlags) register(fs *pflag.FlagSet, concurrency int) {
	f.concurrency = concurrency
	fs.BoolVar(&f.scope.Org, "org", false, "every ACTIVE account of the organization (from the management or a delegated administrator account)")
	fs.StringSliceVar(&f.scope.Accounts, "accounts", nil, "these account ids instead (comma-separated, 12 digits each)")
	fs.StringArrayVar(&f.scope.Exclude, "exclude-account", nil, "leave this account id out; repeat for several")
	fs.StringVar(&f.scope.Role, "role-name", org.DefaultRole, "the role assumed in each member account (the caller's own account uses the caller's credentials)")
	fs.Var(&boundedInt{&f.concurrency, 1, 64}, "concurrency", "calls in flight at once for the whole run, every account and region together (1 to 64)")
}

// validate checks the account flags before anything touches AWS; flags given together that
// cannot be are cobra's to refuse (mutuallyExclusive).
func (f *fleetFlags) validate(cmd *cobra.Command) error {
	if !f.scope.Many() {
		for _, n := range []string{"exclude-account", "role-name"} {
			if cmd.Flags().Changed(n) {
				return usageErr("--%s needs --org or --accounts", n)
			}
		}
		return nil
	}
	for _, id := range f.scope.Accounts {
		if err := org.CheckAccountID("--accounts", id); err != nil {
			return usageErr("%v", err)
		}
	}
	for _, id := range f.scope.Exclude {
		if err := org.CheckAccountID("--exclude-account", id); err != nil {
			return usageErr("%v", err)
		}
	}
	if err := org.CheckRoleName("--role-name", f.scope.Role); err != nil {
		return usageErr("%v", err)
	}
	return nil
}

// open puts the run's one bound on cfg and opens the fleet over regions. Failing to learn who
// the caller is (for many accounts), or to list the organization, is a configuration error: no
// unit could run.
func (f *fleetFlags) open(ctx context.Context, cfg aws.Config, regions []string) (org.Fleet, error) {
	return f.openScope(ctx, cfg, f.scope, regions)
}

// openScope is open with another scope than the flags': a saved plan's.
func (f *fleetFlags) openScope(ctx context.Context, cfg aws.Config, scope org.Scope, regions []string) (org.Fleet, error) {
	cfg.HTTPClient = org.Bound(cfg.HTTPClient, f.concurrency)
	fl, err := org.Open(ctx, cfg, org.Clients{STS: sts.NewFromConfig(cfg), Organizations: organizations.NewFromConfig(cfg)}, scope, regions)
	switch {
	case errors.Is(err, org.ErrNoAccounts):
		return fl, usageErr("%v", err)
	case err != nil:
		return fl, &exitError{exitUsage, err}
	}
	return fl, nil
}

// confirmTyped shows prompt on w and goes ahead only if the line read from r is exactly
// token. An empty token (STS named no account) can never be confirmed.
func confirmTyped(r io.Reader, w io.Writer, prompt, token string) (bool, error) {
	if token == "" {
		// An identity answer without an account id would make an empty line the confirmation.
		fmt.Fprintln(w, "\nThe account id could not be learned (STS named none), so it cannot be typed back; nothing deleted.")
		return false, nil
	}
	fmt.Fprint(w, "\n"+prompt)
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

package undo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// ClientsOf are an undo's clients from a unit's configuration.
func ClientsOf(cfg aws.Config) Clients {
	return Clients{DynamoDB: dynamodb.NewFromConfig(cfg), Scaling: applicationautoscaling.NewFromConfig(cfg)}
}

// Records reads the records of every unit of the fleet (the ledger of each account and region,
// where one is deployed) and of the directories, that f matches: one path for the caller's
// account and an organization's. A unit without a ledger is no problem; a ledger that cannot be
// read is.
func Records(ctx context.Context, fl org.Fleet, dirs []string, f ledger.Filter) ledger.Collected {
	var (
		mu       sync.Mutex
		tables   []ledger.Table
		problems []string
	)
	org.Run(ctx, fl.Units, org.UnitsAtOnce(8), func(ctx context.Context, u org.Unit) (struct{}, error) {
		t, err := ledger.FindTable(ctx, dynamodb.NewFromConfig(u.Config), u.Account.ID, u.Region)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case errors.Is(err, ledger.ErrNoLedger):
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: %v", u.Key(), err))
		default:
			tables = append(tables, t)
		}
		return struct{}{}, nil
	})
	for _, a := range fl.Accounts {
		if a.Error != "" {
			problems = append(problems, fmt.Sprintf("account %s: %s", a.ID, a.Error))
		}
	}
	slices.SortFunc(tables, func(a, b ledger.Table) int { return strings.Compare(a.Account+a.Region, b.Account+b.Region) })
	c := ledger.Collect(ctx, tables, dirs, f)
	c.Problems = append(problems, c.Problems...)
	return c
}

// Select picks the record an undo restores: the one of id, or the newest of table, among the
// fleet's accounts and regions. Refused (*Refused): no record; a record (or the only records of
// the table) of an account not in the fleet; records of the table in several accounts or
// regions (name the one with --record, --accounts or --region).
func Select(c ledger.Collected, fl org.Fleet, table, id string) (ledger.Located, error) {
	inFleet := func(r ledger.Located) bool {
		return slices.ContainsFunc(fl.Units, func(u org.Unit) bool { return u.Account.ID == r.Account && u.Region == r.Region })
	}
	var mine, others, undone []ledger.Located
	for _, r := range c.Records {
		if (id != "" && r.ID != id) || (table != "" && r.Table != table) {
			continue
		}
		if r.NotDeleted != "" && inFleet(r) {
			undone = append(undone, r) // written down, then not deleted: nothing to undo
			continue
		}
		if inFleet(r) {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	what := "table " + table
	if id != "" {
		what = "record " + id
	}
	switch {
	case len(mine) == 0 && len(undone) > 0:
		n := undone[0]
		return ledger.Located{}, refuse("%s: its record %s says a deletion was about to happen, and it did not (%s): nothing to undo, nothing changed", what, n.ID, n.NotDeleted)
	case len(mine) == 0 && len(others) > 0:
		o := others[0]
		return ledger.Located{}, refuse("%s: the only record is of account %s, %s (in %s), not of this account and region (%s): nothing changed; run it there (--accounts %s --region %s)",
			what, o.Account, o.Region, o.Where, fl.What(), o.Account, o.Region)
	case len(mine) == 0:
		where := "the ledgers of " + fl.What() + " in " + strings.Join(fl.Regions(), ", ")
		if len(c.Problems) > 0 {
			where += " (some could not be read: " + c.Problems[0] + ")"
		}
		return ledger.Located{}, refuse("%s: no record of its deletion in %s, nor in the record directories: nothing changed (`verify history` lists what there is)", what, where)
	}
	places := map[string]bool{}
	for _, r := range mine {
		places[r.Account+"/"+r.Region] = true
	}
	if len(places) > 1 {
		var list []string
		for _, r := range mine {
			list = append(list, fmt.Sprintf("%s in %s/%s (%s)", r.ID, r.Account, r.Region, r.At.Format("2006-01-02T15:04:05Z")))
		}
		return ledger.Located{}, refuse("%s: records in more than one account or region: %s; nothing changed: name one with --record ID", what, strings.Join(list, "; "))
	}
	return mine[0], nil // Collect sorts newest first
}

// UnitOf is the fleet's unit of a record: its account and region.
func UnitOf(fl org.Fleet, r ledger.Located) (org.Unit, bool) {
	i := slices.IndexFunc(fl.Units, func(u org.Unit) bool { return u.Account.ID == r.Account && u.Region == r.Region })
	if i < 0 {
		return org.Unit{}, false
	}
	return fl.Units[i], true
}

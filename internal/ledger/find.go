package ledger

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Located is a record with where it was read from.
type Located struct {
	Record
	// Where is the ledger (Table.Where) or the file's path.
	Where string `json:"where"`
	// NotDeleted says why, when the deletion this record was written for did not happen.
	NotDeleted string `json:"not_deleted,omitempty"`
}

// Filter chooses records: every field set must match.
type Filter struct {
	Table, Account, Region string
	// ID is one record's id.
	ID string
	// Since and Until bound when it was written (zero: unbounded).
	Since, Until time.Time
}

// Match reports whether r is one the filter chooses.
func (f Filter) Match(r Record) bool {
	switch {
	case f.ID != "" && r.ID != f.ID,
		f.Table != "" && r.Table != f.Table,
		f.Account != "" && r.Account != f.Account,
		f.Region != "" && r.Region != f.Region,
		!f.Since.IsZero() && r.At.Before(f.Since),
		!f.Until.IsZero() && r.At.After(f.Until):
		return false
	}
	return true
}

// Collected is every record read from a set of ledgers and directories, newest first, and
// what could not be read.
type Collected struct {
	Records []Located `json:"records"`
	// Problems are ledgers that could not be read, items or files that are not records, and
	// records that are not of the account whose ledger holds them (never taken for one that is).
	Problems []string `json:"problems,omitempty"`
}

// Collect reads the records of each ledger (its account's; one naming another account is a
// problem, not a record) and of each directory, keeps those f matches, the same record found
// twice (a ledger and a file) once, newest first.
func Collect(ctx context.Context, ledgers []Table, dirs []string, f Filter) Collected {
	var c Collected
	seen := map[string]bool{}
	add := func(r Record, where string) {
		if !f.Match(r) || seen[r.ID+"\x00"+r.Account] {
			return
		}
		seen[r.ID+"\x00"+r.Account] = true
		c.Records = append(c.Records, Located{Record: r, Where: where})
	}
	notDone := map[string]string{}
	for _, t := range ledgers {
		rs, notes, bad, err := t.ListWithNotes(ctx)
		c.Problems = append(c.Problems, bad...)
		if err != nil {
			c.Problems = append(c.Problems, err.Error())
		}
		for _, n := range notes {
			notDone[n.Of] = n.Why
		}
		for _, r := range rs {
			if r.Account != t.Account {
				c.Problems = append(c.Problems, fmt.Sprintf("%s: record %s says account %s: not of this ledger's account, left out", t.Where(), r.ID, r.Account))
				continue
			}
			add(r, t.Where())
		}
	}
	for _, d := range slices.Compact(slices.Clone(dirs)) {
		if d == "" {
			continue
		}
		rs, paths, notes, bad, err := Dir{Path: d}.ListWithNotes()
		c.Problems = append(c.Problems, bad...)
		if err != nil {
			c.Problems = append(c.Problems, fmt.Sprintf("records in %s: %v", d, err))
		}
		for _, n := range notes {
			notDone[n.Of] = n.Why
		}
		for i, r := range rs {
			add(r, paths[i])
		}
	}
	for i := range c.Records {
		c.Records[i].NotDeleted = notDone[c.Records[i].ID]
	}
	slices.SortStableFunc(c.Records, func(a, b Located) int {
		if x := b.At.Compare(a.At); x != 0 {
			return x
		}
		return compareStrings(a.ID, b.ID)
	})
	return c
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

package sweep

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Recorder writes a deletion down before it happens (Options.Record), and, if it then does not
// happen, appends that: internal/ledger's Recorder is the one production uses.
type Recorder interface {
	// Record writes the record and returns its id and where it went.
	Record(ctx context.Context, d ledger.Deletion) (ledger.Written, error)
	// NotDeleted appends, beside the record, that its deletion did not happen, and why.
	NotDeleted(ctx context.Context, w ledger.Written, why string) error
}

// record writes down the deletion of cd before the step that deletes it (DeleteTable, or
// DeleteStack for each table the stack takes): a deletion whose record cannot be written does
// not happen, and the unit stops. A table recorded once by this run (before its stack, then
// before its own DeleteTable after the stack kept it) is not recorded again. The re-check that
// follows remains the last read before the step.
func (u *deletion) record(ctx context.Context, cd *Candidate, o Options, step string) bool {
	if o.Record == nil || cd.RecordID != "" {
		return true
	}
	w, err := o.Record.Record(ctx, deletionOf(cd, u.filter))
	if err != nil {
		if errors.Is(err, ledger.ErrNotPlanned) {
			u.hold(cd, Replaced, fmt.Sprintf("%s %s: %v; nothing was deleted: plan again", cd.Table, step, err))
			return false
		}
		u.fail(fmt.Errorf("%s not deleted: its record could not be written %s: %w", u.what(), step, err))
		return false
	}
	cd.RecordID, cd.RecordedIn, cd.recorded = w.ID, w.Where, w
	cd.Notes = append(cd.Notes, fmt.Sprintf("recorded as %s in %s (verify undo --record %s brings it back)", w.ID, w.Where, w.ID))
	return true
}

// noteNotDeleted appends, for each table of the unit whose deletion was written down and then
// did not happen (a re-check held it back, the deletion failed or was refused, its stack stayed
// or kept it), that it did not, and why: a record says a deletion was about to happen, and the
// note is what became of it. On a fresh context, like every clean-up. A table whose deletion
// may have happened (deleting, unknown) gets no note: the next run settles it.
func (u *deletion) noteNotDeleted(ctx context.Context, o Options) {
	if o.Record == nil {
		return
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.recheckTimeout())
	defer cancel()
	for _, cd := range u.cands {
		switch cd.Action {
		case Deleted, Deleting, Unknown, WouldDelete, WouldRetain:
			continue
		}
		if cd.RecordID == "" {
			continue
		}
		why := string(cd.Action)
		if cd.Error != "" {
			why += ": " + cd.Error
		} else if len(cd.Notes) > 0 {
			why += ": " + cd.Notes[len(cd.Notes)-1]
		}
		if err := o.Record.NotDeleted(rctx, cd.recorded, why); err != nil {
			cd.Notes = append(cd.Notes, fmt.Sprintf("its record %s says it was to be deleted, and the note that it was not could not be written: %v", cd.RecordID, err))
		}
	}
}

// deletionOf is what a record says of a candidate about to go.
func deletionOf(cd *Candidate, f Filter) ledger.Deletion {
	d := ledger.Deletion{Region: cd.Region, Table: cd.Table, ARN: cd.Identity.ARN, TableID: cd.Identity.TableID, Created: cd.Identity.Created,
		Stack: cd.Stack, LogicalID: cd.logicalID, MonthlyCostUSD: cd.MonthlyCostUSD, BackupARN: cd.BackupARN, ExportDir: cd.SavedTo,
		Unprotected: cd.Protected}
	if d.Stack == "" {
		d.Stack = cd.stackTag // the stack it was of, gone: what its tags named
	}
	for _, r := range cd.Reasons {
		d.Reasons = append(d.Reasons, string(r))
	}
	d.Detail = cd.Detail // what the plan found for each reason
	if d.Detail == "" {
		d.Detail = why(cd, f)
	} else if cd.JanitorDeleteAfter != "" {
		d.Detail += "; the janitor's mark was due " + cd.JanitorDeleteAfter
	}
	return d
}

// why is the detail of a candidate's reasons, in words: what each rule found.
func why(cd *Candidate, f Filter) string {
	var parts []string
	for _, r := range cd.Reasons {
		switch r {
		case Orphaned:
			parts = append(parts, fmt.Sprintf("orphaned: its stack %s is gone or no longer lists it", dash(cd.stackTag)))
		case Expired:
			parts = append(parts, "expired: created "+cd.Identity.Created.UTC().Format("2006-01-02T15:04:05Z")+", past its "+wallet.TagExpiresAfter)
		case OlderThan:
			parts = append(parts, "older than "+wallet.FormatDuration(f.OlderThan))
		case Idle:
			parts = append(parts, "idle: no consumed capacity for "+wallet.FormatDuration(f.IdleFor))
		case SameStack:
			parts = append(parts, "same-stack: its stack "+cd.Stack+" went for another of its tables")
		case Teardown:
			parts = append(parts, "teardown: its stack "+cd.Stack+" was named to be torn down")
		default:
			parts = append(parts, string(r))
		}
	}
	if cd.JanitorDeleteAfter != "" {
		parts = append(parts, "the janitor's mark was due "+cd.JanitorDeleteAfter)
	}
	return strings.Join(parts, "; ")
}

// refuseLedger is the engine's last word on the ledger: whatever the plan says, it is never
// deleted, directly or with a stack (the rules and the stack's rule keep it out of every plan;
// this holds even for a plan made some other way).
func (u *deletion) refuseLedger(cd *Candidate) bool {
	if !wallet.IsLedger(cd.Table, nil) {
		return false
	}
	u.fail(fmt.Errorf("%s not deleted: %s is the ledger of deletions, which nothing deletes", u.what(), cd.Table))
	return true
}

// Package ledger writes down every deletion before it happens, where nobody else can change it,
// and reads it back: what `verify history` lists and `verify undo` restores from. A record holds
// the table's identity, region and account; its whole configuration (Config, from DescribeTable
// and friends); why it went (the rule and its detail), who deleted it (the caller's ARN), when;
// what saved its items (a backup and when it became AVAILABLE, or an export and its digest); and
// what it was costing a month.
//
// Records go into the ledger, a table of the janitor stack in each account and region (on
// demand, PITR on, deletion protection on, retained), written once with a condition that the key
// does not exist; no role this project creates may update or delete one. Where no ledger is
// deployed, a run writes its records as files (Dir). The sweep's engine (internal/sweep's Act)
// writes the record before DeleteTable and before DeleteStack: a deletion whose record cannot be
// written does not happen.
package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Format names the record's layout, so a later change can be told apart.
const Format = "wallet-ledger/1"

// Record is one deletion, written down before it happened.
type Record struct {
	ID     string `json:"id"`
	Format string `json:"format"`
	// Account and Region are where the table was; Table its name.
	Account string `json:"account"`
	Region  string `json:"region"`
	Table   string `json:"table"`
	// TableARN, TableID and TableCreated are its identity: TableId where DynamoDB gives one
	// (AWS does, moto does not), and its creation time, which tells two tables of one name
	// apart without it.
	TableARN     string    `json:"table_arn"`
	TableID      string    `json:"table_id,omitempty"`
	TableCreated time.Time `json:"table_created"`
	// Stack is the stack it was a table of, when it went with (or after) that stack, and
	// LogicalID its logical id there: what importing it back into the stack needs.
	Stack     string `json:"stack,omitempty"`
	LogicalID string `json:"logical_id,omitempty"`
	// By is what deleted it: sweep, teardown or janitor.
	By string `json:"by"`
	// Reasons are the rules that made it a candidate (orphaned, expired, …, teardown,
	// same-stack); Detail says what each found.
	Reasons []string `json:"reasons"`
	Detail  string   `json:"detail,omitempty"`
	// Who is the caller's ARN (STS GetCallerIdentity) that deleted it.
	Who string `json:"who"`
	// At is when the record was written: just before the deletion.
	At time.Time `json:"at"`
	// Attempt counts the earlier records of this very deletion (the same table, the same save)
	// that were noted not deleted (NotDeleted): each attempt is a record of its own.
	Attempt int `json:"attempt,omitempty"`
	// MonthlyCostUSD is what the table was costing a month.
	MonthlyCostUSD float64 `json:"monthly_cost_usd"`
	Saved          Saved   `json:"saved"`
	Config         Config  `json:"config"`
}

// Saved is what kept the table's items.
type Saved struct {
	// BackupARN is the native backup the deletion depended on, AVAILABLE at BackupAvailable.
	BackupARN       string     `json:"backup_arn,omitempty"`
	BackupName      string     `json:"backup_name,omitempty"`
	BackupAvailable *time.Time `json:"backup_available,omitempty"`
	// ExportDir is the export the deletion depended on; ExportDigest its order-free digest
	// (archive.Digest), ExportItems and ExportSHA256 its items.jsonl's count and checksum.
	ExportDir    string `json:"export_dir,omitempty"`
	ExportDigest string `json:"export_digest,omitempty"`
	ExportItems  int64  `json:"export_items,omitempty"`
	ExportSHA256 string `json:"export_sha256,omitempty"`
	// Items is how many items the table held just before it was deleted (a consistent count),
	// when it could be counted: what the restored table must hold. -1: not counted.
	Items int64 `json:"items"`
	// ItemsNote says how Items was counted, or why it was not.
	ItemsNote string `json:"items_note,omitempty"`
}

// Nothing reports whether nothing saved the items: such a record says what was lost, and undo
// refuses it.
func (s Saved) Nothing() bool { return s.BackupARN == "" && s.ExportDir == "" }

// What says what saved the items, for a report.
func (s Saved) What() string {
	var parts []string
	if s.BackupARN != "" {
		parts = append(parts, "backup "+s.BackupARN)
	}
	if s.ExportDir != "" {
		parts = append(parts, "export "+s.ExportDir)
	}
	if len(parts) == 0 {
		return "nothing (no --backup, no --export)"
	}
	return strings.Join(parts, " and ")
}

// NewID is a record's id: the same for the same deletion (the same table identity, in the same
// account and region, saved by the same backup or export), so that a run killed between its
// record and its deletion, and run again with what it saved, finds its own record instead of
// writing a second; another for anything else. 20 hex digits of SHA-256.
func NewID(r Record) string {
	h := sha256.New()
	created := ""
	if !r.TableCreated.IsZero() {
		created = r.TableCreated.UTC().Format(time.RFC3339Nano)
	}
	for _, s := range []string{Format, r.Account, r.Region, r.Table, r.TableARN, r.TableID, created, r.Saved.BackupARN, r.Saved.ExportDigest} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	if r.Attempt > 0 {
		fmt.Fprintf(h, "attempt:%d;", r.Attempt)
	}
	return hex.EncodeToString(h.Sum(nil))[:20]
}

// same reports whether two records are of one deletion: the same id, table identity and save.
// A record found under this id that is not is a collision, never taken for this one.
func same(a, b Record) bool {
	return a.ID == b.ID && a.Attempt == b.Attempt && a.Account == b.Account && a.Region == b.Region && a.Table == b.Table &&
		a.TableARN == b.TableARN && a.TableID == b.TableID && a.TableCreated.Equal(b.TableCreated) &&
		a.Saved.BackupARN == b.Saved.BackupARN && a.Saved.ExportDigest == b.Saved.ExportDigest
}

// CheckID refuses an id that is not one NewID makes: 20 lowercase hex digits.
func CheckID(id string) error {
	if len(id) != 20 || strings.Trim(id, "0123456789abcdef") != "" {
		return fmt.Errorf("record id %q: want the 20 hex digits `verify history` shows", cutText(id))
	}
	return nil
}

func cutText(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

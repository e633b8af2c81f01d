// Package wallet is the wallet table's single source of truth: its key schema, the stage and
// throughput settings that shape it (the CDK context contract), and the tags that mark it as
// ours. The CDK app in infra/ declares the table from it and the verify binary checks and sweeps
// tables by it, so it must never import CDK or jsii code: the verify binary stays small.
package wallet

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The tutorial's table: a string partition key and a numeric balance that is an ordinary
// attribute (DynamoDB is schemaless outside the key, so balance is never an AttributeDefinition).
const (
	KeyAttribute     = "user_id"
	KeyType          = "S"
	BalanceAttribute = "balance"
	// TTLAttribute holds an epoch-seconds expiry. Real wallets never set it; verify's test items
	// do, so that an item a crashed run could not delete still disappears on real AWS.
	TTLAttribute = "expires_at"
)

// Tag keys and values that mark a table as this project's. The sweep trusts nothing else: a
// table without Project=wallet is never a candidate unless the user names it by prefix.
const (
	TagProject      = "Project"
	TagStage        = "Stage"
	TagStack        = "Stack"
	TagManagedBy    = "ManagedBy"
	TagExpiresAfter = "ExpiresAfter"
	ProjectName     = "wallet"
	ManagedByCDK    = "cdk"
	// CloudFormationStackTag is set by CloudFormation itself on every resource it creates.
	CloudFormationStackTag = "aws:cloudformation:stack-name"
	// TagKeep=true exempts a table from every sweep and from the janitor, whatever else is
	// true of it: the one way to say "I know, leave it".
	TagKeep = "wallet:keep"
	// TagJanitorDeleteAfter is the janitor's mark: `<due>/<MAC>` (mark.go), an RFC 3339 UTC time
	// after which it deletes the table (having backed it up), unless the table stops qualifying
	// first, signed so that no one else can write one it believes. The tags are the
	// janitor's whole state: a run that died halfway leaves nothing a later run cannot read back.
	TagJanitorDeleteAfter = "wallet:janitor-delete-after"
)

// Names of the native backups taken before a deletion: the janitor's are recognised by their
// prefix (`verify sweep` and `verify cost` list them with what they cost). Nothing in this
// project ever deletes a backup.
const (
	SweepBackupPrefix   = "wallet-sweep-"
	JanitorBackupPrefix = "wallet-janitor-"
)

// Output keys of the wallet stack: the CDK app declares them, discovery reads them back.
const (
	OutputTableName         = "TableName"
	OutputTableArn          = "TableArn"
	OutputVerifyPolicyArn   = "VerifyPolicyArn"   // managed policy for verify check
	OutputTeardownPolicyArn = "TeardownPolicyArn" // managed policy for teardown and sweep
)

// Stage picks the lifecycle: dev tables are disposable, prod tables survive their stack.
type Stage string

const (
	StageDev  Stage = "dev"
	StageProd Stage = "prod"
)

// Billing is a table's capacity mode: the one vocabulary for it across the project, in the words
// of the context contract (-c billing=on-demand). Mode gives DynamoDB's own name for it.
type Billing string

const (
	BillingProvisioned Billing = "provisioned"
	BillingOnDemand    Billing = "on-demand"
)

// TableClass is a table's class, in the words of the context contract (-c tableClass=standard-ia).
// Standard-Infrequent-Access pays less for storage and more for throughput; SDK gives DynamoDB's
// own name for it.
type TableClass string

const (
	ClassStandard   TableClass = "standard"
	ClassStandardIA TableClass = "standard-ia"
)

// Limits and defaults. 40000 is DynamoDB's default per-table quota for either capacity.
const (
	MinCapacity     = 1
	MaxCapacity     = 40000
	DefaultCapacity = 1
	StackPrefix     = "Wallet-"
)

// Auto scaling's target utilization: the percentage of its capacity a table consumes that
// Application Auto Scaling keeps it at. 20 to 90 is the range DynamoDB's documentation gives,
// 70 the console's default.
const (
	MinTargetUtilization     = 20
	MaxTargetUtilization     = 90
	DefaultTargetUtilization = 70
)

// JanitorStackID is the janitor's stack, one per account and region. No hyphen after Wallet on
// purpose: the sweep and the teardown policy's DeleteStack match Wallet-*, and the stack that
// holds the teardown permission must never be what that permission deletes.
const JanitorStackID = "WalletJanitor"

// The ledger: where every deletion is written down before it happens (internal/ledger), one
// table in the janitor stack of each account and region (and, for the organization's janitor,
// in each member account). Its name is fixed, so that every caller finds it without reading a
// stack; it is never tagged Project=wallet, and the sweep refuses it by name and by its tag
// whatever else its tags say. Records are keyed by LedgerKey, written once, never changed.
const (
	LedgerTable = "wallet-ledger"
	LedgerKey   = "id"
	// TagLedger marks the ledger (value LedgerTagValue): a table named LedgerTable without it is
	// not the ledger, and no record is written into it.
	TagLedger      = "wallet:ledger"
	LedgerTagValue = "deletions"
	// TagUndoRecord is the record's id on a table `verify undo` restores: how a later undo finds
	// its own half-restored table after a kill, and never makes a second copy.
	TagUndoRecord = "wallet:undo-record"
)

// IsLedger reports whether a table is the ledger, by its name or its tag: never a candidate of
// any sweep, teardown or janitor run.
func IsLedger(name string, tags map[string]string) bool {
	_, tagged := tags[TagLedger]
	return name == LedgerTable || tagged
}

// Output keys of the janitor stack. OutputTeardownPolicyArn is one of them too: the teardown
// policy lives there, outside the wallet stacks that it deletes.
const (
	OutputJanitorFunctionName = "JanitorFunctionName"
	OutputJanitorTopicArn     = "JanitorTopicArn"
)

// StackName is the stack id of a stage, e.g. Wallet-dev.
func StackName(s Stage) string { return StackPrefix + string(s) }

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

// Kept reports whether a table's tags say wallet:keep=true: exempt from every sweep, teardown and
// janitor run, whatever else is true of it.
func Kept(tags map[string]string) bool {
	return strings.EqualFold(strings.TrimSpace(tags[TagKeep]), "true")
}

// ValidTableName reports whether name follows DynamoDB's table naming rules.
func ValidTableName(name string) bool { return tableNameRE.MatchString(name) }

// MaxDurationDays is the most whole days a time.Duration holds (about 292 years): the largest
// "Nd" ParseDuration accepts.
const MaxDurationDays = math.MaxInt64 / int64(24*time.Hour)

// ParseDuration reads a positive Go duration ("72h", "90m", "30s") or a number of days ("7d"):
// tags are written by people as often as by this tool. A number of days too large for a
// time.Duration is refused: multiplied out it would wrap around into some other duration
// (616385997d into half a second), and a table would expire at once instead of never.
func ParseDuration(v string) (time.Duration, error) {
	allowed := fmt.Sprintf("want a positive duration such as 72h, 90m, 30s or 7d (at most %dd)", MaxDurationDays)
	s := strings.TrimSpace(v)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n <= 0 || n > MaxDurationDays {
			return 0, fmt.Errorf("%s", allowed)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s", allowed)
	}
	return d, nil
}

// FormatDuration writes whole hours as "168h" and anything else as Go does without trailing
// zero units ("1h30m0s" → "1h30m"), so tags stay short and ParseDuration reads them back.
func FormatDuration(d time.Duration) string {
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") { // only a zero seconds unit: "1h30m0s" → "1h30m", not "1h3"
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}

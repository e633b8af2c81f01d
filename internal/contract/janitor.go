package contract

import (
	"net/mail"
	"regexp"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Context keys of the janitor stack (`cdk deploy WalletJanitor -c key=value`).
const (
	CtxJanitorSchedule = "janitorSchedule"
	CtxJanitorGrace    = "janitorGrace"
	CtxJanitorMode     = "janitorMode"
	CtxJanitorEmail    = "janitorEmail"
	CtxJanitorArch     = "janitorArch"
)

// JanitorMode is what a run may do to a table that qualifies.
type JanitorMode string

const (
	// JanitorDelete marks, then backs up and deletes once the grace has passed.
	JanitorDelete JanitorMode = "delete"
	// JanitorReport marks and notifies, and never deletes.
	JanitorReport JanitorMode = "report"
)

// Defaults of the janitor's context. Graviton (arm64) costs less per GB-second for the same run.
const (
	DefaultJanitorSchedule = "rate(1 hour)"
	DefaultJanitorGrace    = 24 * time.Hour
	DefaultJanitorMode     = JanitorDelete
	DefaultJanitorArch     = ArchARM64
)

// Environment variables the janitor function is configured by (and by nothing else: no
// parameter store, no file), set by the janitor stack from its context and its resources.
const (
	EnvJanitorMode     = "WALLET_JANITOR_MODE"
	EnvJanitorGrace    = "WALLET_JANITOR_GRACE"
	EnvJanitorTopicArn = "WALLET_JANITOR_TOPIC_ARN"
	// EnvJanitorMarkKey is the ARN of the KMS HMAC key the janitor signs its marks with.
	EnvJanitorMarkKey = "WALLET_JANITOR_MARK_KEY"
)

// Janitor is the janitor's one contract, read by the stack (ParseJanitor, from CDK context),
// written by it into the function's environment (Env), and read back by the function
// (JanitorFromEnv) for the run. Schedule, Email and Arch shape the stack only; TopicArn and
// MarkKey name resources of the stack, so only the deployed function has them.
type Janitor struct {
	Schedule string // an EventBridge rate(…) or cron(…) expression
	Grace    time.Duration
	Mode     JanitorMode
	Email    string // empty: no email subscription
	Arch     Arch
	TopicArn string // the SNS topic the run announces on
	MarkKey  string // the ARN of the KMS HMAC key the run signs and verifies its marks with
}

// ParseJanitorMode reads a mode as the context and the function's environment write it.
func ParseJanitorMode(v string) (JanitorMode, error) {
	switch JanitorMode(v) {
	case JanitorDelete, JanitorReport:
		return JanitorMode(v), nil
	}
	return "", refused("want one of delete, report")
}

func readMode(c *Janitor, v string) (err error) { c.Mode, err = ParseJanitorMode(v); return err }

func readGrace(c *Janitor, v string) error {
	d, err := wallet.ParseDuration(v)
	if err != nil {
		return refused("%v", err)
	}
	c.Grace = d
	return nil
}

// janitorKeys are the janitor stack's context contract.
var janitorKeys = []key[Janitor]{
	{name: CtxJanitorSchedule, def: DefaultJanitorSchedule, allowed: "an EventBridge rate(…) or cron(…) expression",
		read: func(c *Janitor, v string) error {
			if err := ValidSchedule(v); err != nil {
				return refused("%v", err)
			}
			c.Schedule = v
			return nil
		}},
	{name: CtxJanitorGrace, def: wallet.FormatDuration(DefaultJanitorGrace), allowed: "a positive duration such as 24h or 2d", read: readGrace},
	{name: CtxJanitorMode, def: string(DefaultJanitorMode), allowed: "want one of delete, report", read: readMode},
	{name: CtxJanitorEmail, def: "none", allowed: "want one plain email address such as ops@example.com",
		read: func(c *Janitor, v string) error {
			if v == "" {
				return nil
			}
			if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
				return refused("want one plain email address such as ops@example.com")
			}
			c.Email = v
			return nil
		}},
	{name: CtxJanitorArch, def: string(DefaultJanitorArch), allowed: "want one of arm64, x86_64",
		read: func(c *Janitor, v string) error { return archRead(&c.Arch, v) }},
}

// ParseJanitor validates the janitor's context, every bad value in one pass.
func ParseJanitor(get Lookup) (Janitor, error) {
	c := Janitor{Schedule: DefaultJanitorSchedule, Grace: DefaultJanitorGrace, Mode: DefaultJanitorMode, Arch: DefaultJanitorArch}
	if err := parse(get, &c, janitorKeys, false); err != nil {
		return Janitor{}, err
	}
	return c, nil
}

// Shapes of the ARNs in the function's environment. A partition is aws or aws-<name>
// (aws-cn, aws-us-gov, …); a region is like us-east-1 or us-gov-west-1.
var (
	snsTopicArnRE = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)
	kmsKeyArnRE   = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
)

const (
	allowedTopicArn = "want an SNS topic ARN: arn:<partition>:sns:<region>:<12-digit account>:<name>"
	allowedMarkKey  = "want a KMS key ARN: arn:<partition>:kms:<region>:<12-digit account>:key/<key id>"
)

// arnKey is an environment variable holding an ARN of the shape re, which the run cannot do
// without.
func arnKey(name string, re *regexp.Regexp, allowed string, get func(*Janitor) *string) key[Janitor] {
	return key[Janitor]{name: name, def: "set by the stack", allowed: allowed,
		read: func(c *Janitor, v string) error {
			if !re.MatchString(v) {
				return refused("%s", allowed)
			}
			*get(c) = v
			return nil
		},
		absent: func(*Janitor) error { return refused("not set; %s", allowed) },
		write:  func(c Janitor) (string, bool) { v := *get(&c); return v, v != "" },
	}
}

// janitorEnv is the function's environment: written by the stack from the context and its
// resources (Env), read back by the function (JanitorFromEnv).
var janitorEnv = []key[Janitor]{
	{name: EnvJanitorMode, allowed: "want one of delete, report", read: readMode,
		absent: func(*Janitor) error { return refused("not set; want one of delete, report") },
		write:  func(c Janitor) (string, bool) { return string(c.Mode), true }},
	{name: EnvJanitorGrace, allowed: "want a duration such as 24h", read: readGrace,
		absent: func(*Janitor) error { return refused("not set; want a duration such as 24h") },
		// Written as FormatDuration does, so ParseDuration reads back the same value.
		write: func(c Janitor) (string, bool) { return wallet.FormatDuration(c.Grace), true }},
	arnKey(EnvJanitorTopicArn, snsTopicArnRE, allowedTopicArn, func(c *Janitor) *string { return &c.TopicArn }),
	arnKey(EnvJanitorMarkKey, kmsKeyArnRE, allowedMarkKey, func(c *Janitor) *string { return &c.MarkKey }),
}

// Env is the function's environment for this config. TopicArn and MarkKey are written when set
// (the stack sets them to its resources' ARNs).
func (c Janitor) Env() map[string]string { return write(c, janitorEnv) }

// JanitorFromEnv reads the function's configuration from its environment (os.LookupEnv under
// Lambda), naming every bad or missing variable in one error.
func JanitorFromEnv(get Lookup) (Janitor, error) {
	var c Janitor
	err := parse(get, &c, janitorEnv, true)
	return c, err
}

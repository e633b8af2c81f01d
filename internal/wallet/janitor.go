package wallet

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// JanitorStackID is the janitor's stack, one per account and region. No hyphen after Wallet on
// purpose: the sweep and the teardown policy's DeleteStack match Wallet-*, and the stack that
// holds the teardown permission must never be what that permission deletes.
const JanitorStackID = "WalletJanitor"

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

// Arch is the function's instruction set, in Lambda's words.
type Arch string

const (
	ArchARM64 Arch = "arm64"
	ArchX8664 Arch = "x86_64"
)

// GOARCH is the Go toolchain's name for the architecture.
func (a Arch) GOARCH() string {
	if a == ArchX8664 {
		return "amd64"
	}
	return "arm64"
}

// ParseArch reads a function architecture as the context writes it, in Lambda's words.
func ParseArch(v string) (Arch, error) {
	switch a := Arch(v); a {
	case ArchARM64, ArchX8664:
		return a, nil
	}
	return "", errors.New("want one of arm64, x86_64")
}

// ArchOfGOARCH is the function architecture that runs natively on a Go GOARCH ("amd64",
// "arm64"), and whether there is one.
func ArchOfGOARCH(goarch string) (Arch, bool) {
	switch goarch {
	case "amd64":
		return ArchX8664, true
	case "arm64":
		return ArchARM64, true
	}
	return "", false
}

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

// Output keys of the janitor stack. OutputTeardownPolicyArn is one of them too: the teardown
// policy lives here, outside the wallet stacks that it deletes.
const (
	OutputJanitorFunctionName = "JanitorFunctionName"
	OutputJanitorTopicArn     = "JanitorTopicArn"
)

// JanitorConfig is the janitor's one contract, read by the stack (ParseJanitorConfig, from CDK
// context), written by it into the function's environment (Env), and read back by the function
// (JanitorConfigFromEnv) for the run. Schedule, Email and Arch shape the stack only; TopicArn and
// MarkKey name resources of the stack, so only the deployed function has them.
type JanitorConfig struct {
	Schedule string // an EventBridge rate(…) or cron(…) expression
	Grace    time.Duration
	Mode     JanitorMode
	Email    string // empty: no email subscription
	Arch     Arch
	TopicArn string // the SNS topic the run announces on
	MarkKey  string // the ARN of the KMS HMAC key the run signs and verifies its marks with
}

// Env is the function's environment for this config. The grace is written as FormatDuration
// does, so ParseDuration reads back the same value. TopicArn and MarkKey are written when set
// (the stack sets them to its resources' ARNs).
func (c JanitorConfig) Env() map[string]string {
	env := map[string]string{
		EnvJanitorMode:  string(c.Mode),
		EnvJanitorGrace: FormatDuration(c.Grace),
	}
	if c.TopicArn != "" {
		env[EnvJanitorTopicArn] = c.TopicArn
	}
	if c.MarkKey != "" {
		env[EnvJanitorMarkKey] = c.MarkKey
	}
	return env
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

// JanitorConfigFromEnv reads the function's configuration from its environment (os.LookupEnv
// under Lambda), naming every bad or missing variable in one error.
func JanitorConfigFromEnv(get Lookup) (JanitorConfig, error) {
	var c JanitorConfig
	var errs []error
	bad := func(name, value, allowed string) {
		errs = append(errs, fmt.Errorf("invalid environment %s=%q: %s", name, value, allowed))
	}
	if v, ok := get(EnvJanitorMode); !ok {
		bad(EnvJanitorMode, "", "not set; want one of delete, report")
	} else if m, err := ParseJanitorMode(v); err != nil {
		bad(EnvJanitorMode, v, err.Error())
	} else {
		c.Mode = m
	}
	if v, ok := get(EnvJanitorGrace); !ok {
		bad(EnvJanitorGrace, "", "not set; want a duration such as 24h")
	} else if d, err := ParseDuration(v); err != nil {
		bad(EnvJanitorGrace, v, err.Error())
	} else {
		c.Grace = d
	}
	if v, _ := get(EnvJanitorTopicArn); !snsTopicArnRE.MatchString(v) {
		bad(EnvJanitorTopicArn, v, allowedTopicArn)
	} else {
		c.TopicArn = v
	}
	if v, _ := get(EnvJanitorMarkKey); !kmsKeyArnRE.MatchString(v) {
		bad(EnvJanitorMarkKey, v, allowedMarkKey)
	} else {
		c.MarkKey = v
	}
	return c, errors.Join(errs...)
}

// ParseJanitorConfig validates the janitor's context. Like ParseConfig, it reports every bad
// value in one pass.
func ParseJanitorConfig(get Lookup) (JanitorConfig, error) {
	var errs []error
	bad := func(key, value, allowed string) { errs = append(errs, &ContextError{key, value, allowed}) }

	c := JanitorConfig{Schedule: DefaultJanitorSchedule, Grace: DefaultJanitorGrace, Mode: DefaultJanitorMode, Arch: DefaultJanitorArch}
	if v, ok := get(CtxJanitorSchedule); ok {
		if err := ValidSchedule(v); err != nil {
			bad(CtxJanitorSchedule, v, err.Error())
		} else {
			c.Schedule = v
		}
	}
	if v, ok := get(CtxJanitorGrace); ok {
		if d, err := ParseDuration(v); err != nil {
			bad(CtxJanitorGrace, v, err.Error())
		} else {
			c.Grace = d
		}
	}
	if v, ok := get(CtxJanitorMode); ok {
		if m, err := ParseJanitorMode(v); err != nil {
			bad(CtxJanitorMode, v, err.Error())
		} else {
			c.Mode = m
		}
	}
	if v, ok := get(CtxJanitorEmail); ok && v != "" {
		if a, err := mail.ParseAddress(v); err != nil || a.Address != v || a.Name != "" {
			bad(CtxJanitorEmail, v, "want one plain email address such as ops@example.com")
		} else {
			c.Email = v
		}
	}
	if v, ok := get(CtxJanitorArch); ok {
		if a, err := ParseArch(v); err != nil {
			bad(CtxJanitorArch, v, err.Error())
		} else {
			c.Arch = a
		}
	}
	if len(errs) > 0 {
		return JanitorConfig{}, joinErrors(errs)
	}
	return c, nil
}

// ParseJanitorMode reads a mode as the context and the function's environment write it.
func ParseJanitorMode(v string) (JanitorMode, error) {
	switch JanitorMode(v) {
	case JanitorDelete, JanitorReport:
		return JanitorMode(v), nil
	}
	return "", fmt.Errorf("want one of delete, report")
}

var rateRE = regexp.MustCompile(`^rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)$`)

// ValidSchedule accepts what an EventBridge rule accepts as a ScheduleExpression, so a bad
// schedule stops the synth instead of failing the deploy halfway: rate(1 minute), rate(N
// minutes), the same with hours and days (singular exactly when N is 1), and cron(…) with six
// fields — minutes, hours, day-of-month, month, day-of-week, year — of which exactly one of
// day-of-month and day-of-week is "?".
func ValidSchedule(expr string) error {
	const allowed = "want an EventBridge schedule: rate(1 hour), rate(N minutes|hours|days), or cron(minutes hours day-of-month month day-of-week year)"
	if strings.HasPrefix(expr, "rate(") {
		m := rateRE.FindStringSubmatch(expr)
		if m == nil {
			return fmt.Errorf("%s", allowed)
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		if err != nil {
			return fmt.Errorf("%s: rate value %s is too large", allowed, m[1])
		}
		if singular := !strings.HasSuffix(m[2], "s"); singular != (n == 1) {
			return fmt.Errorf("%s: EventBridge wants the unit singular for 1 and plural otherwise (rate(1 hour), rate(2 hours))", allowed)
		}
		return nil
	}
	body, ok := strings.CutPrefix(expr, "cron(")
	if !ok || !strings.HasSuffix(body, ")") {
		return fmt.Errorf("%s", allowed)
	}
	fields := strings.Split(strings.TrimSuffix(body, ")"), " ")
	if len(fields) != len(cronFields) {
		return fmt.Errorf("%s: cron wants 6 fields separated by single spaces, got %d", allowed, len(fields))
	}
	for i, f := range fields {
		if err := cronFields[i].check(f); err != nil {
			return fmt.Errorf("%s: %s field %q: %v", allowed, cronFields[i].name, f, err)
		}
	}
	if (fields[2] == "?") == (fields[4] == "?") {
		return fmt.Errorf("%s: exactly one of day-of-month and day-of-week must be ?", allowed)
	}
	return nil
}

// cronField is one field of an EventBridge cron expression and the wildcards it takes
// (EventBridge's table: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html).
type cronField struct {
	name     string
	min, max int
	names    []string // JAN..DEC or SUN..SAT, for values min, min+1, ...
	question bool     // "?" allowed (day-of-month, day-of-week)
	step     bool     // "/" allowed
	domL     bool     // L, LW, nW (day-of-month)
	dowL     bool     // L, nL, n#k (day-of-week)
}

var cronFields = []cronField{
	{name: "minutes", min: 0, max: 59, step: true},
	{name: "hours", min: 0, max: 23, step: true},
	{name: "day-of-month", min: 1, max: 31, question: true, step: true, domL: true},
	{name: "month", min: 1, max: 12, step: true, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day-of-week", min: 1, max: 7, question: true, dowL: true, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	{name: "year", min: 1970, max: 2199, step: true},
}

func (c cronField) check(f string) error {
	if f == "" {
		return fmt.Errorf("empty")
	}
	if f == "?" {
		if !c.question {
			return fmt.Errorf("? is only allowed in day-of-month and day-of-week")
		}
		return nil
	}
	for _, part := range strings.Split(f, ",") {
		if err := c.checkPart(part); err != nil {
			return err
		}
	}
	return nil
}

func (c cronField) checkPart(p string) error {
	switch {
	case c.domL && (p == "L" || p == "LW"):
		return nil
	case c.domL && strings.HasSuffix(p, "W"):
		return c.value(strings.TrimSuffix(p, "W"))
	case c.dowL && p == "L":
		return nil
	case c.dowL && strings.HasSuffix(p, "L"):
		return c.value(strings.TrimSuffix(p, "L"))
	case c.dowL && strings.Contains(p, "#"):
		day, nth, _ := strings.Cut(p, "#")
		if err := c.value(day); err != nil {
			return err
		}
		if n, err := strconv.Atoi(nth); err != nil || n < 1 || n > 5 {
			return fmt.Errorf("the week after # must be 1 to 5, got %q", nth)
		}
		return nil
	}
	base, step, hasStep := strings.Cut(p, "/")
	if hasStep {
		if !c.step {
			return fmt.Errorf("/ is not allowed here")
		}
		if n, err := strconv.Atoi(step); err != nil || n < 1 || n > c.max {
			return fmt.Errorf("step %q must be a whole number from 1 to %d", step, c.max)
		}
	}
	if base == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(base, "-")
	if err := c.value(lo); err != nil {
		return err
	}
	if isRange {
		return c.value(hi)
	}
	return nil
}

// value checks one number or name of the field against its range.
func (c cronField) value(s string) error {
	for _, n := range c.names {
		if strings.EqualFold(s, n) {
			return nil
		}
	}
	n, err := strconv.Atoi(s)
	if err == nil && n >= c.min && n <= c.max {
		return nil
	}
	if len(c.names) > 0 {
		return fmt.Errorf("%q is not %d-%d or %s-%s", s, c.min, c.max, c.names[0], c.names[len(c.names)-1])
	}
	return fmt.Errorf("%q is not a whole number from %d to %d", s, c.min, c.max)
}

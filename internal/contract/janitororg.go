package contract

import (
	"regexp"
	"strconv"
	"strings"
)

// The janitor for a whole organization (`cdk deploy WalletJanitor -c janitorOrg=true`): its
// context keys, the member role its StackSet puts in every member account, and the environment
// of its two functions. With janitorOrg=false (the default) none of this is used.
const (
	CtxJanitorOrg         = "janitorOrg"
	CtxJanitorOrgID       = "janitorOrgId"
	CtxJanitorRegions     = "janitorRegions"
	CtxJanitorTargets     = "janitorTargets"
	CtxJanitorUnitsPerRun = "janitorUnitsPerRun"
	CtxJanitorWorkers     = "janitorWorkers"

	// JanitorMemberRole is the role the StackSet deploys in every member account; the central
	// functions assume it there.
	JanitorMemberRole = "WalletJanitorMember"

	// EnvJanitorOrg is "central" for the scheduled function, "worker" for the queue's.
	EnvJanitorOrg         = "WALLET_JANITOR_ORG"
	EnvJanitorOrgRole     = "WALLET_JANITOR_ORG_ROLE"
	EnvJanitorOrgRegions  = "WALLET_JANITOR_ORG_REGIONS"
	EnvJanitorOrgQueueURL = "WALLET_JANITOR_ORG_QUEUE_URL"
	EnvJanitorUnitsPerRun = "WALLET_JANITOR_UNITS_PER_RUN"

	JanitorOrgCentral = "central"
	JanitorOrgWorker  = "worker"

	// DefaultJanitorUnitsPerRun is how many (account, region) units the scheduled run takes
	// itself before it hands the rest to the worker queue. A unit took a median 83 ms on moto
	// (docs/organization.md); allowing 5 s a unit for real backups and deletions, 120 of them
	// are 10 minutes, leaving the rest of Lambda's 15 for the report.
	DefaultJanitorUnitsPerRun = 120
	// DefaultJanitorWorkers is the worker's reserved concurrency: units in parallel beyond the
	// scheduled run, each under its own 15 minutes.
	DefaultJanitorWorkers = 4
)

// JanitorOrg is the validated shape of the organization's janitor; the zero value (Org false)
// is the single-account janitor.
type JanitorOrg struct {
	Org bool
	// ID is the organization's id: the member role trusts the central role within it only.
	ID string
	// Regions are the regions every account is swept in; empty: the stack's own region.
	Regions []string
	// Targets are the organization's root (r-…) or organizational units (ou-…) the StackSet
	// deploys the member role to.
	Targets     []string
	UnitsPerRun int
	Workers     int
}

var (
	orgIDRE     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	orgTargetRE = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	// IAM's rule for role names: 1 to 64 of letters, digits and + = , . @ _ -.
	roleRE = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
)

const (
	allowedRegions = "want region names, comma-separated, each once, such as us-east-1,eu-west-1"
	allowedTargets = "want the organization's root id (r-…) or organizational unit ids (ou-…), comma-separated, each once"
	allowedOrgID   = "want the organization's id, o- and 10 to 32 lower-case letters or digits (aws organizations describe-organization)"
)

// onlyWithOrg refuses an organization key given without janitorOrg=true: it would be ignored.
func onlyWithOrg(read func(c *JanitorOrg, v string) error) func(c *JanitorOrg, v string) error {
	return func(c *JanitorOrg, v string) error {
		if !c.Org {
			return refused("only with %s=true", CtxJanitorOrg)
		}
		return read(c, v)
	}
}

func wholeInto(dst func(*JanitorOrg) *int, min, max int) func(c *JanitorOrg, v string) error {
	return func(c *JanitorOrg, v string) error {
		n, err := whole(v, min, max)
		*dst(c) = n
		return err
	}
}

// janitorOrgKeys are the organization's context contract, janitorOrg first: the others are
// read only when it is true.
var janitorOrgKeys = []key[JanitorOrg]{
	{name: CtxJanitorOrg, def: "false", allowed: "want true or false",
		read: func(c *JanitorOrg, v string) (err error) { c.Org, err = boolean(v); return err }},
	{name: CtxJanitorOrgID, def: "none (required with janitorOrg=true)", allowed: allowedOrgID,
		read: onlyWithOrg(func(c *JanitorOrg, v string) error {
			if !orgIDRE.MatchString(v) {
				return refused("%s", allowedOrgID)
			}
			c.ID = v
			return nil
		}),
		absent: func(c *JanitorOrg) error {
			if c.Org {
				return refused("%s", allowedOrgID)
			}
			return nil
		}},
	{name: CtxJanitorRegions, def: "the stack's own region", allowed: allowedRegions,
		read: onlyWithOrg(func(c *JanitorOrg, v string) (err error) {
			c.Regions, err = list(v, regionRE, allowedRegions)
			return err
		})},
	{name: CtxJanitorTargets, def: "none (required with janitorOrg=true)", allowed: allowedTargets,
		read: onlyWithOrg(func(c *JanitorOrg, v string) (err error) {
			c.Targets, err = list(v, orgTargetRE, allowedTargets)
			return err
		}),
		absent: func(c *JanitorOrg) error {
			if c.Org {
				return refused("%s", allowedTargets)
			}
			return nil
		}},
	{name: CtxJanitorUnitsPerRun, def: strconv.Itoa(DefaultJanitorUnitsPerRun), allowed: "want a whole number from 1 to 10000",
		read: onlyWithOrg(wholeInto(func(c *JanitorOrg) *int { return &c.UnitsPerRun }, 1, 10000))},
	{name: CtxJanitorWorkers, def: strconv.Itoa(DefaultJanitorWorkers), allowed: "want a whole number from 1 to 100",
		read: onlyWithOrg(wholeInto(func(c *JanitorOrg) *int { return &c.Workers }, 1, 100))},
}

// ParseJanitorOrg validates the organization's context keys, every bad value in one error.
// Without janitorOrg=true, giving any of the others is an error: it would be ignored.
func ParseJanitorOrg(get Lookup) (JanitorOrg, error) {
	c := JanitorOrg{UnitsPerRun: DefaultJanitorUnitsPerRun, Workers: DefaultJanitorWorkers}
	if err := parse(get, &c, janitorOrgKeys, false); err != nil {
		return JanitorOrg{}, err
	}
	if !c.Org {
		return JanitorOrg{}, nil
	}
	return c, nil
}

// JanitorOrgRun is the organization's part of a janitor function's environment: which of the
// two functions it is, the member role, the regions, how many units a scheduled run takes, and
// the worker's queue. The stack writes it (Env) beside the janitor's own; the function reads it
// back (JanitorOrgRunFromEnv).
type JanitorOrgRun struct {
	// Function is JanitorOrgCentral or JanitorOrgWorker.
	Function    string
	Role        string
	Regions     []string
	UnitsPerRun int
	QueueURL    string
}

var janitorOrgEnv = []key[JanitorOrgRun]{
	{name: EnvJanitorOrg, allowed: "want " + JanitorOrgCentral + " or " + JanitorOrgWorker,
		read: func(c *JanitorOrgRun, v string) error {
			if v != JanitorOrgCentral && v != JanitorOrgWorker {
				return refused("want %s or %s", JanitorOrgCentral, JanitorOrgWorker)
			}
			c.Function = v
			return nil
		},
		write: func(c JanitorOrgRun) (string, bool) { return c.Function, true }},
	{name: EnvJanitorOrgRole, def: JanitorMemberRole, allowed: "want an IAM role name, 1 to 64 of letters, digits and + = , . @ _ -",
		read: func(c *JanitorOrgRun, v string) error {
			if !roleRE.MatchString(v) {
				return refused("want an IAM role name, 1 to 64 of letters, digits and + = , . @ _ -")
			}
			c.Role = v
			return nil
		},
		write: func(c JanitorOrgRun) (string, bool) { return c.Role, true }},
	// A region named twice would run every unit of it twice at once: two marks, two backups.
	{name: EnvJanitorOrgRegions, allowed: allowedRegions,
		read: func(c *JanitorOrgRun, v string) (err error) {
			c.Regions, err = list(v, regionRE, allowedRegions)
			return err
		},
		absent: func(*JanitorOrgRun) error { return refused("not set; %s", allowedRegions) },
		write:  func(c JanitorOrgRun) (string, bool) { return strings.Join(c.Regions, ","), true }},
	{name: EnvJanitorOrgQueueURL, def: "none",
		read:  func(c *JanitorOrgRun, v string) error { c.QueueURL = v; return nil },
		write: func(c JanitorOrgRun) (string, bool) { return c.QueueURL, c.QueueURL != "" }},
	{name: EnvJanitorUnitsPerRun, def: strconv.Itoa(DefaultJanitorUnitsPerRun), allowed: "want a whole number from 1 to 10000",
		read:  func(c *JanitorOrgRun, v string) (err error) { c.UnitsPerRun, err = whole(v, 1, 10000); return err },
		write: func(c JanitorOrgRun) (string, bool) { return strconv.Itoa(c.UnitsPerRun), true }},
}

// Env is the organization's part of a function's environment.
func (c JanitorOrgRun) Env() map[string]string { return write(c, janitorOrgEnv) }

// JanitorOrgRunFromEnv reads it back, naming every bad variable; ok is false when the function
// is not the organization's (EnvJanitorOrg unset), and nothing else is read then.
func JanitorOrgRunFromEnv(get Lookup) (c JanitorOrgRun, ok bool, err error) {
	if _, ok := get(EnvJanitorOrg); !ok {
		return JanitorOrgRun{}, false, nil
	}
	c = JanitorOrgRun{Role: JanitorMemberRole, UnitsPerRun: DefaultJanitorUnitsPerRun}
	return c, true, parse(get, &c, janitorOrgEnv, true)
}

package wallet

import (
	"fmt"
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
	// (README "One janitor for the organization"); allowing 5 s a unit for real backups and
	// deletions, 120 of them are 10 minutes, leaving the rest of Lambda's 15 for the report.
	DefaultJanitorUnitsPerRun = 120
	// DefaultJanitorWorkers is the worker's reserved concurrency: units in parallel beyond the
	// scheduled run, each under its own 15 minutes.
	DefaultJanitorWorkers = 4
)

// JanitorOrgConfig is the validated shape of the organization's janitor; the zero value (Org
// false) is today's single-account janitor.
type JanitorOrgConfig struct {
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
)

// ParseJanitorOrgConfig validates the organization's context keys, every bad value in one
// error. Without janitorOrg=true, giving any of the others is an error: it would be ignored.
func ParseJanitorOrgConfig(get Lookup) (JanitorOrgConfig, error) {
	var errs []error
	bad := func(key, value, allowed string) { errs = append(errs, &ContextError{key, value, allowed}) }
	c := JanitorOrgConfig{UnitsPerRun: DefaultJanitorUnitsPerRun, Workers: DefaultJanitorWorkers}
	if v, ok := get(CtxJanitorOrg); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad(CtxJanitorOrg, v, "want true or false")
		}
		c.Org = b
	}
	keys := []string{CtxJanitorOrgID, CtxJanitorRegions, CtxJanitorTargets, CtxJanitorUnitsPerRun, CtxJanitorWorkers}
	if !c.Org {
		for _, k := range keys {
			if v, ok := get(k); ok {
				bad(k, v, "only with "+CtxJanitorOrg+"=true")
			}
		}
		return JanitorOrgConfig{}, joinIfAny(errs)
	}
	if v, _ := get(CtxJanitorOrgID); !orgIDRE.MatchString(v) {
		bad(CtxJanitorOrgID, v, "want the organization's id, o- and 10 to 32 lower-case letters or digits (aws organizations describe-organization)")
	} else {
		c.ID = v
	}
	if v, ok := get(CtxJanitorRegions); ok {
		for _, r := range strings.Split(v, ",") {
			if !regionRE.MatchString(r) {
				bad(CtxJanitorRegions, v, "want region names, comma-separated, such as us-east-1,eu-west-1")
				break
			}
			c.Regions = append(c.Regions, r)
		}
	}
	if v, _ := get(CtxJanitorTargets); v == "" {
		bad(CtxJanitorTargets, v, "want the organization's root id (r-…) or organizational unit ids (ou-…), comma-separated")
	} else {
		for _, tg := range strings.Split(v, ",") {
			if !orgTargetRE.MatchString(tg) {
				bad(CtxJanitorTargets, v, "want the organization's root id (r-…) or organizational unit ids (ou-…), comma-separated")
				break
			}
			c.Targets = append(c.Targets, tg)
		}
	}
	for _, n := range []struct {
		key      string
		dst      *int
		min, max int
	}{{CtxJanitorUnitsPerRun, &c.UnitsPerRun, 1, 10000}, {CtxJanitorWorkers, &c.Workers, 1, 100}} {
		if v, ok := get(n.key); ok {
			i, err := strconv.Atoi(v)
			if err != nil || i < n.min || i > n.max {
				bad(n.key, v, fmt.Sprintf("want a whole number from %d to %d", n.min, n.max))
				continue
			}
			*n.dst = i
		}
	}
	if len(errs) > 0 {
		return JanitorOrgConfig{}, joinErrors(errs)
	}
	return c, nil
}

func joinIfAny(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return joinErrors(errs)
}

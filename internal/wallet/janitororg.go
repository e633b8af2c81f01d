package wallet

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
	// itself before it hands the rest to the worker queue: one unit measured at ≤ 5 s on moto
	// (README "One janitor for the organization"), 120 of them are 10 minutes, leaving the rest
	// of Lambda's 15 for slower real calls and the report.
	DefaultJanitorUnitsPerRun = 120
)

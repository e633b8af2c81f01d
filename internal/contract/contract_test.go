package contract_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/contract"
)

// A value a person typed is read one way only, in every contract: exactly true or false, whole
// numbers in decimal digits, list items each once; and a refused value is named, cut short when
// it is long, with what is allowed.
func TestEveryContractReadsValuesStrictly(t *testing.T) {
	org := map[string]string{contract.CtxJanitorOrg: "true", contract.CtxJanitorOrgID: "o-abcde12345", contract.CtxJanitorTargets: "r-ab12"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	huge := strings.Repeat("x", 60000)
	for _, tc := range []struct {
		name  string
		parse func(contract.Lookup) error
		in    map[string]string
		want  []string
	}{
		{"janitorOrg=TRUE", orgParse, map[string]string{contract.CtxJanitorOrg: "TRUE"}, []string{`janitorOrg="TRUE"`, "want true or false"}},
		{"janitorOrg=1", orgParse, map[string]string{contract.CtxJanitorOrg: "1"}, []string{`janitorOrg="1"`}},
		{"janitorUnitsPerRun=+5", orgParse, with(org, contract.CtxJanitorUnitsPerRun, "+5"), []string{`janitorUnitsPerRun="+5"`, "whole number from 1 to 10000"}},
		{"janitorWorkers=1e2", orgParse, with(org, contract.CtxJanitorWorkers, "1e2"), []string{`janitorWorkers="1e2"`}},
		{"janitorRegions named twice", orgParse, with(org, contract.CtxJanitorRegions, "us-east-1,us-east-1"), []string{`janitorRegions="us-east-1,us-east-1"`, "us-east-1 is named twice"}},
		{"janitorTargets named twice", orgParse, with(org, contract.CtxJanitorTargets, "r-ab12,r-ab12"), []string{`janitorTargets="r-ab12,r-ab12"`, "named twice"}},
		{"an organization key without janitorOrg", orgParse, map[string]string{contract.CtxJanitorRegions: "us-east-1"}, []string{"only with janitorOrg=true"}},
		{"verifyOnDeploy=yes", checkParse, map[string]string{contract.CtxVerifyOnDeploy: "yes"}, []string{`verifyOnDeploy="yes"`}},
		{"readCapacity=1e3", stackParse, map[string]string{contract.CtxReadCapacity: "1e3"}, []string{`readCapacity="1e3"`, "from 1 to 40000"}},
		{"readCapacity= 5", stackParse, map[string]string{contract.CtxReadCapacity: " 5"}, []string{`readCapacity=" 5"`}},
		{"writeCapacity=40001", stackParse, map[string]string{contract.CtxWriteCapacity: "40001"}, []string{`writeCapacity="40001"`}},
		{"a 60,000-character value is cut", stackParse, map[string]string{contract.CtxTableName: huge}, []string{"(60000 characters)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.parse(lookup(tc.in))
			if err == nil {
				t.Fatalf("%v accepted", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error of %d bytes: the value is echoed whole", len(err.Error()))
			}
		})
	}
	if c, err := contract.ParseJanitorOrg(lookup(with(org, contract.CtxJanitorRegions, "us-east-1,eu-west-1", contract.CtxJanitorUnitsPerRun, "5"))); err != nil ||
		!reflect.DeepEqual(c.Regions, []string{"us-east-1", "eu-west-1"}) || c.UnitsPerRun != 5 || !c.Org {
		t.Errorf("a good organization: %+v %v", c, err)
	}
}

func orgParse(get contract.Lookup) error   { _, err := contract.ParseJanitorOrg(get); return err }
func checkParse(get contract.Lookup) error { _, err := contract.ParseDeployCheck(get); return err }
func stackParse(get contract.Lookup) error { _, err := contract.ParseStack(get); return err }

// The organization's part of a function's environment is read back as the stack wrote it, and
// a bad variable is named; a function without it is the single-account janitor's.
func TestTheOrganizationsEnvironmentReadsWhatItWrites(t *testing.T) {
	run := contract.JanitorOrgRun{Function: contract.JanitorOrgWorker, Role: "R", Regions: []string{"us-east-1", "eu-west-1"}, UnitsPerRun: 7, QueueURL: "https://sqs.us-east-1.amazonaws.com/1/q"}
	got, ok, err := contract.JanitorOrgRunFromEnv(lookup(run.Env()))
	if err != nil || !ok || !reflect.DeepEqual(got, run) {
		t.Fatalf("%+v %v %v, want %+v", got, ok, err, run)
	}
	if _, ok, err := contract.JanitorOrgRunFromEnv(lookup(nil)); ok || err != nil {
		t.Errorf("no organization: %v %v", ok, err)
	}
	env := run.Env()
	env[contract.EnvJanitorUnitsPerRun] = "+5"
	if _, _, err := contract.JanitorOrgRunFromEnv(lookup(env)); err == nil || !strings.Contains(err.Error(), `invalid environment WALLET_JANITOR_UNITS_PER_RUN="+5"`) {
		t.Errorf("+5: %v", err)
	}
}

// Keys lists every context key, with its default and what is allowed: the docs' one source.
func TestKeysListsEveryContextKey(t *testing.T) {
	names := map[string]bool{}
	for _, k := range contract.Keys() {
		if k.Name == "" || k.Allowed == "" || k.Default == "" {
			t.Errorf("key %+v lacks a name, a default or what is allowed", k)
		}
		names[k.Name] = true
	}
	for _, n := range []string{contract.CtxStage, contract.CtxBilling, contract.CtxReadCapacity, contract.CtxWriteCapacity, contract.CtxReadMax, contract.CtxWriteMax, contract.CtxTarget, contract.CtxExpiresAfter,
		contract.CtxTableName, contract.CtxVerifyOnDeploy, contract.CtxVerifyTimeout, contract.CtxVerifyArch, contract.CtxJanitorSchedule,
		contract.CtxJanitorGrace, contract.CtxJanitorMode, contract.CtxJanitorEmail, contract.CtxJanitorArch, contract.CtxJanitorOrg,
		contract.CtxJanitorOrgID, contract.CtxJanitorRegions, contract.CtxJanitorTargets, contract.CtxJanitorUnitsPerRun, contract.CtxJanitorWorkers} {
		if !names[n] {
			t.Errorf("Keys lacks %s", n)
		}
	}
}

package sweep

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/org"
)

// planAndApply saves the plan of one region's sweep at now, lets change act on the world, and
// applies the saved plan to a fresh survey at now too: Narrow's result, before and after Act.
func planAndApply(t *testing.T, c *cloud, now time.Time, change func()) (dry, done Report) {
	t.Helper()
	ctx := context.Background()
	fl, err := org.Open(ctx, c.Config, org.Clients{STS: sts.NewFromConfig(c.Config)}, org.Scope{}, []string{c.Config.Region})
	if err != nil {
		t.Fatal(err)
	}
	clients := func(org.Unit) RegionClients { return c.clients() }
	f := Filter{Now: now}
	planned := SurveyFleet(ctx, fl, f, Options{}, cost.USEast1(), false, clients)
	sp, err := planned.SavedPlan(PlanOptions{MadeAt: now, TTL: DefaultPlanTTL, Filter: f})
	if err != nil {
		t.Fatal(err)
	}
	if sp, err = ParsePlan(encode(t, sp)); err != nil {
		t.Fatal(err)
	}
	change()
	run := SurveyFleet(ctx, fl, sp.FilterAt(now), Options{}, cost.USEast1(), sp.IncludeProtected, clients)
	run.Apply(sp, "plan.json")
	dry = run.Report()
	run.Act(ctx, Options{}, sp.Savers())
	return dry, run.Report()
}

func encode(t *testing.T, sp SavedPlan) []byte {
	t.Helper()
	b, err := json.Marshal(sp)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Under a saved plan a stack still goes whole or not at all. A stack updated since the plan to
// hold another table of ours (which a fresh sweep would take with it) is not deleted: the new
// table is not-in-plan, and the planned ones, which DeleteStack would take with it, are not
// deleted either. A stack deleted and made again under its name is another deployment: its
// tables are replaced, and it stays.
func TestAPlannedStackGoesAsPlannedOrNotAtAll(t *testing.T) {
	expiring := func(stack, name string) fixture.TableDecl {
		return fixture.TableDecl{Name: name, Tags: map[string]string{"Project": "wallet", "Stack": stack, "ExpiresAfter": "1s"}}
	}
	now := time.Now().Add(time.Hour)
	// One region for both (the package's moto is shared by region): each stack is its own case.
	c := newCloud(t)
	c.CreateStack(t, "Wallet-grown", expiring("Wallet-grown", "grown-a"), expiring("Wallet-grown", "grown-b"))
	c.CreateStack(t, "Wallet-again", expiring("Wallet-again", "again-a"))
	dry, done := planAndApply(t, c, now, func() {
		c.UpdateStack(t, "Wallet-grown", nil, expiring("Wallet-grown", "grown-a"), expiring("Wallet-grown", "grown-b"), expiring("Wallet-grown", "grown-c"))
		if _, err := c.CloudFormation.DeleteStack(t.Context(), &cloudformation.DeleteStackInput{StackName: awsString("Wallet-again")}); err != nil {
			t.Fatal(err)
		}
		if err := cloudformation.NewStackDeleteCompleteWaiter(c.CloudFormation).Wait(t.Context(),
			&cloudformation.DescribeStacksInput{StackName: awsString("Wallet-again")}, time.Minute); err != nil {
			t.Fatal(err)
		}
		c.CreateStack(t, "Wallet-again", expiring("Wallet-again", "again-a"))
	})
	want := map[string]Action{"grown-a": NotACandidate, "grown-b": NotACandidate, "grown-c": NotInPlan, "again-a": Replaced}
	for _, r := range []Report{dry, done} {
		for table, a := range want {
			if got := byTable(r)[table].Action; got != a {
				t.Errorf("%s: %s, want %s (%v)", table, got, a, byTable(r)[table].Notes)
			}
		}
	}
	for _, s := range []string{"Wallet-grown", "Wallet-again"} {
		if !c.stackLive(t, s) {
			t.Errorf("stack %s was deleted", s)
		}
	}
	for _, table := range []string{"grown-a", "grown-b", "grown-c", "again-a"} {
		if !c.exists(t, table) {
			t.Errorf("table %s was deleted", table)
		}
	}
}

func awsString(s string) *string { return &s }

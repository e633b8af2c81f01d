package sweep

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// autoScale registers a scalable target for a table's reads with moto's Application Auto
// Scaling API (its CloudFormation makes none), and writes the capacity it had as
// ProvisionedReadCapacityUnits with PutMetricData: a stand-in for what DynamoDB publishes.
func (c *cloud) autoScale(t *testing.T, table string, lo, hi int32, had float64) {
	t.Helper()
	as := applicationautoscaling.NewFromConfig(c.Config)
	if _, err := as.RegisterScalableTarget(t.Context(), &applicationautoscaling.RegisterScalableTargetInput{
		ServiceNamespace: astypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table),
		ScalableDimension: astypes.ScalableDimensionDynamoDBTableReadCapacityUnits, MinCapacity: aws.Int32(lo), MaxCapacity: aws.Int32(hi),
	}); err != nil {
		t.Fatal(err)
	}
	dims := []cwtypes.Dimension{{Name: aws.String("TableName"), Value: aws.String(table)}}
	if _, err := c.cw.PutMetricData(t.Context(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/DynamoDB"), MetricData: []cwtypes.MetricDatum{
		{MetricName: aws.String("ProvisionedReadCapacityUnits"), Dimensions: dims, Value: aws.Float64(had), Timestamp: aws.Time(time.Now()), Unit: cwtypes.StandardUnitCount},
		{MetricName: aws.String("ProvisionedWriteCapacityUnits"), Dimensions: dims, Value: aws.Float64(1), Timestamp: aws.Time(time.Now()), Unit: cwtypes.StandardUnitCount},
	}}); err != nil {
		t.Fatal(err)
	}
}

// The sweep prices an auto-scaled table as cost does: at the capacity CloudWatch says it had
// (41 and 3 read units here, where DescribeTable shows the 1 of its creation), and says it is
// auto scaled. The idle rule reads it as any table: no consumed capacity, idle. The janitor's
// sweep (Options.Billed unset) reads neither and prices the instant's capacity.
func TestTheSweepPricesAnAutoScaledTableAtWhatItWasBilledFor(t *testing.T) {
	c := newCloud(t)
	c.CreateTable(t, "billed-orphan", map[string]string{"Project": "wallet", "Stack": "Gone-stack"}, false)
	c.CreateTable(t, "billed-idle", map[string]string{"Project": "wallet"}, false)
	c.CreateTable(t, "fixed-idle", map[string]string{"Project": "wallet"}, false)
	c.autoScale(t, "billed-orphan", 1, 100, 41)
	c.autoScale(t, "billed-idle", 1, 10, 3)
	clients := c.clients()
	clients.AutoScaling = applicationautoscaling.NewFromConfig(c.Config)
	survey := func(o Options) map[string]Candidate {
		f := Filter{IdleFor: time.Hour, Now: time.Now().Add(time.Minute)}
		return byTable(NewPlan([]Inventory{Survey(context.Background(), clients, f, o)}, f, cost.USEast1(), false).DryRun())
	}
	priced := func(rcu float64) float64 { return cost.Round((rcu*0.00013 + 0.00065) * cost.HoursPerMonth) }

	got := survey(Options{Billed: true})
	for name, want := range map[string]float64{"billed-orphan": priced(41), "billed-idle": priced(3)} {
		cd, ok := got[name]
		if !ok || !cd.AutoScaled || math.Abs(cd.MonthlyCostUSD-want) > 1e-4 || !strings.Contains(strings.Join(cd.Notes, "\n"), "auto scaled: $/month at what it was billed for over the last 14 days") {
			t.Fatalf("%s: %+v, want auto scaled at $%.4f", name, cd, want)
		}
	}
	if cd := got["billed-idle"]; len(cd.Reasons) != 1 || cd.Reasons[0] != Idle {
		t.Fatalf("an auto-scaled table without requests is idle: %+v", cd)
	}
	if cd := got["fixed-idle"]; cd.AutoScaled || cd.MonthlyCostUSD != priced(1) || len(cd.Notes) != 0 {
		t.Fatalf("a fixed table: %+v", cd)
	}

	got = survey(Options{})
	if cd := got["billed-orphan"]; cd.AutoScaled || cd.MonthlyCostUSD != priced(1) {
		t.Fatalf("without Billed (the janitor): %+v, want the instant's 1/1", cd)
	}
}

// A teardown prices its stack's auto-scaled table the same way.
func TestATeardownPricesAnAutoScaledTableAtWhatItWasBilledFor(t *testing.T) {
	c := newCloud(t)
	c.CreateStack(t, "Wallet-billed", fixture.TableDecl{Name: "billed-stack-table", Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-billed"}})
	c.autoScale(t, "billed-stack-table", 1, 100, 20)
	clients := c.clients()
	clients.AutoScaling = applicationautoscaling.NewFromConfig(c.Config)
	p, err := PlanTeardown(context.Background(), clients, "Wallet-billed", cost.USEast1(), TeardownOptions{Billed: true, Now: time.Now().Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	want := cost.Round((20*0.00013 + 0.00065) * cost.HoursPerMonth)
	if len(p.Candidates) != 1 || !p.Candidates[0].AutoScaled || math.Abs(p.Candidates[0].MonthlyCostUSD-want) > 1e-4 {
		t.Fatalf("teardown: %+v, want auto scaled at $%.4f", p.Candidates, want)
	}
}

package cfngap_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// A stack whose table auto scales, in the shape the CDK app writes it: moto's CloudFormation
// skips the scalable targets and their policies; AutoScaling registers them from the deployed
// template, exactly as declared, and again without a second policy; DeleteAutoScaling takes
// them away before the stack goes, with the alarms moto's target tracking made, as
// CloudFormation's DeleteStack would.
func TestAutoScalingFillsTheGap(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	ctx := t.Context()
	cloud := fixture.NewCloud(t, "us-east-1")
	scaling := append(fixture.AutoScaled("Table0", "ReadCapacityUnits", 1, 10, 70), fixture.AutoScaled("Table0", "WriteCapacityUnits", 1, 5, 45)...)
	table := cloud.CreateStackWith(t, "Wallet-gapscale", scaling, fixture.TableDecl{})[0]
	aas := applicationautoscaling.NewFromConfig(cloud.Config)
	live := func() []discover.Scaling {
		t.Helper()
		got, err := discover.LiveScaling(ctx, aas, table, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := live(); len(got) != 0 {
		t.Fatalf("the table is auto scaled before the gap is filled: moto's CloudFormation registered %+v after all", got)
	}

	want := []discover.Scaling{
		{Dimension: "ReadCapacityUnits", Min: 1, Max: 10, Policies: []discover.ScalingPolicy{discover.TrackingPolicy("ReadCapacityUnits", 70)}},
		{Dimension: "WriteCapacityUnits", Min: 1, Max: 5, Policies: []discover.ScalingPolicy{discover.TrackingPolicy("WriteCapacityUnits", 45)}},
	}
	for run := 1; run <= 2; run++ {
		done, err := cfngap.AutoScaling(ctx, cloud.Config, "Wallet-gapscale")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(done, "; ") != table+" ReadCapacityUnits; "+table+" WriteCapacityUnits" {
			t.Errorf("run %d registered %v", run, done)
		}
		if got := live(); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: live\n got %+v\nwant %+v", run, got, want)
		}
	}
	alarms := func() int {
		t.Helper()
		out, err := usage.NewCloudWatch(cloud.Config).DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNamePrefix: aws.String("TargetTracking-table/" + table + "-")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.MetricAlarms)
	}
	if n := alarms(); n == 0 {
		t.Fatal("moto's target tracking made no alarms: nothing below would prove they are deleted")
	}

	for run := 1; run <= 2; run++ { // a second run finds nothing to delete, and says nothing
		if err := cfngap.DeleteAutoScaling(ctx, cloud.Config, "Wallet-gapscale"); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	if got := live(); len(got) != 0 {
		t.Fatalf("left registered: %+v", got)
	}
	if n := alarms(); n != 0 {
		t.Fatalf("%d alarms of the table's target tracking left", n)
	}
	out, err := aas.DescribeScalingPolicies(ctx, &applicationautoscaling.DescribeScalingPoliciesInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	if err != nil || len(out.ScalingPolicies) != 0 {
		t.Fatalf("policies left: %+v, %v", out, err)
	}
}

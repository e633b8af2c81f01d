package discover

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// scaledTemplate is CDK's shape of an auto-scaled table (table.AutoScaleReadCapacity(…).
// ScaleOnUtilization(…)): reads 1 to 10 at 60 %, and an index whose writes scale 2 to 8, named
// by Fn::Sub, with a step policy beside its target tracking; plus extra resources as a
// template may hold them.
func scaledTemplate(extra map[string]any) []byte {
	res := map[string]any{
		"Table": map[string]any{"Type": "AWS::DynamoDB::Table", "Properties": map[string]any{
			"KeySchema":              []any{map[string]any{"AttributeName": "user_id", "KeyType": "HASH"}},
			"ProvisionedThroughput":  map[string]any{"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
			"GlobalSecondaryIndexes": []any{map[string]any{"IndexName": "by_balance", "ProvisionedThroughput": map[string]any{"ReadCapacityUnits": 3, "WriteCapacityUnits": 2}}},
		}},
		"ReadTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 10,
			"ResourceId": map[string]any{"Fn::Join": []any{"", []any{"table/", map[string]any{"Ref": "Table"}}}},
			"RoleARN":    map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":iam::role/x"}}},
		}},
		"ReadTracking": map[string]any{"Type": ScalingPolicyType, "Properties": map[string]any{
			"PolicyName": "r", "PolicyType": "TargetTrackingScaling", "ScalingTargetId": map[string]any{"Ref": "ReadTarget"},
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}, "TargetValue": 60},
		}},
		"IndexTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:index:WriteCapacityUnits", "MinCapacity": "2", "MaxCapacity": 8,
			"ResourceId":     map[string]any{"Fn::Sub": "table/${Table}/index/by_balance"},
			"SuspendedState": map[string]any{"DynamicScalingInSuspended": true},
		}},
		"IndexTracking": map[string]any{"Type": ScalingPolicyType, "Properties": map[string]any{
			"PolicyName": "i", "PolicyType": "TargetTrackingScaling",
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:index:WriteCapacityUnits",
			"ResourceId": map[string]any{"Fn::Sub": "table/${Table}/index/by_balance"},
			"TargetTrackingScalingPolicyConfiguration": map[string]any{
				"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "DynamoDBWriteCapacityUtilization"}, "TargetValue": 45.5},
		}},
		"IndexStep": map[string]any{"Type": ScalingPolicyType, "Properties": map[string]any{
			"PolicyName": "s", "PolicyType": "StepScaling", "ScalingTargetId": map[string]any{"Ref": "IndexTarget"},
		}},
		"EcsTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount", "MinCapacity": 1, "MaxCapacity": 2, "ResourceId": "service/c/s",
		}},
		"OtherTable": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits", "MinCapacity": 1, "MaxCapacity": 2, "ResourceId": "table/not-in-this-template",
		}},
	}
	for k, v := range extra {
		res[k] = v
	}
	b, _ := json.Marshal(map[string]any{"Resources": res})
	return b
}

// The template's scalable targets and their policies are the table's auto scaling, dimension by
// dimension, however the template names the table; another service's target and a table the
// template does not hold are not the table's. The price reads the same: each scaled dimension
// autoscaled from its minimum to its maximum.
func TestParseTablesReadsTheAutoScalingATemplateDeclares(t *testing.T) {
	specs, err := ParseTables(scaledTemplate(nil))
	if err != nil || len(specs) != 1 {
		t.Fatalf("%+v, %v", specs, err)
	}
	want := []Scaling{
		{Dimension: DimensionRead, Min: 1, Max: 10, Policies: []ScalingPolicy{TrackingPolicy(DimensionRead, 60)}},
		{Index: "by_balance", Dimension: DimensionWrite, Min: 2, Max: 8, Suspended: "scale-in",
			Policies: []ScalingPolicy{{Type: "StepScaling"}, TrackingPolicy(DimensionWrite, 45.5)}},
	}
	if got := specs[0].Scaling; !reflect.DeepEqual(got, want) {
		t.Fatalf("scaling\n got %+v\nwant %+v", got, want)
	}
	if v, ok := want[0].Target(); !ok || v != 60 || want[1].Name() != "index by_balance WriteCapacityUnits" || want[1].ScalableDimension() != "dynamodb:index:WriteCapacityUnits" ||
		want[1].ResourceID("t") != "table/t/index/by_balance" {
		t.Errorf("target %v %v, name %s", v, ok, want[1].Name())
	}

	caps, err := ParseCapacity(scaledTemplate(nil))
	if err != nil || len(caps) != 1 {
		t.Fatalf("capacity: %+v, %v", caps, err)
	}
	r := caps[0].Replicas[0]
	if !r.Read.Autoscaled || r.Read.N != 1 || r.Read.Max != 10 || r.Write.Autoscaled ||
		!r.Indexes[0].Write.Autoscaled || r.Indexes[0].Write.N != 2 || r.Indexes[0].Write.Max != 8 || r.Indexes[0].Read.Autoscaled || r.Indexes[0].Read.N != 3 ||
		!reflect.DeepEqual(caps[0].Scaling, want) || caps[0].ScalingUnknown {
		t.Errorf("capacity %+v", caps[0])
	}
}

// What only CloudFormation can evaluate is not guessed: a min, max or target an intrinsic gives
// is unresolved for its dimension; a target whose table an intrinsic hides leaves every
// table's auto scaling unknown. What CloudFormation would refuse is an error naming it.
func TestParseTablesSaysWhatItCannotKnowOfAutoScaling(t *testing.T) {
	ref := map[string]any{"Ref": "P"}
	specs, err := ParseTables(scaledTemplate(map[string]any{"ReadTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
		"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": ref,
		"ResourceId": map[string]any{"Fn::Join": []any{"", []any{"table/", map[string]any{"Ref": "Table"}}}}}},
		"ReadTracking": map[string]any{"Type": ScalingPolicyType, "Properties": map[string]any{
			"PolicyType": "TargetTrackingScaling", "ScalingTargetId": map[string]any{"Ref": "ReadTarget"},
			"TargetTrackingScalingPolicyConfiguration": map[string]any{"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": "DynamoDBReadCapacityUtilization"}, "TargetValue": ref}}},
	}))
	if err != nil || len(specs[0].Scaling) != 2 || !reflect.DeepEqual(specs[0].Scaling[0].Unresolved, []string{"MaxCapacity", "TargetValue"}) || specs[0].Skipped(FieldAutoScaling) {
		t.Fatalf("an intrinsic max and target: %+v, %v", specs, err)
	}
	specs, err = ParseTables(scaledTemplate(map[string]any{"Hidden": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
		"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits", "MinCapacity": 1, "MaxCapacity": 2,
		"ResourceId": map[string]any{"Fn::ImportValue": "x"}}}}))
	if err != nil || !specs[0].Skipped(FieldAutoScaling) {
		t.Fatalf("a target whose table is hidden: %+v, %v", specs, err)
	}
	if caps, err := ParseCapacity(scaledTemplate(map[string]any{"Hidden": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
		"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:WriteCapacityUnits", "MinCapacity": 1, "MaxCapacity": 2,
		"ResourceId": map[string]any{"Fn::Sub": "table/${AWS::StackName}"}}}})); err != nil || !caps[0].ScalingUnknown {
		t.Fatalf("capacity with a hidden target: %+v, %v", caps, err)
	}
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  string
	}{
		{"min above max", map[string]any{"ReadTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 11, "MaxCapacity": 10, "ResourceId": map[string]any{"Fn::Sub": "table/${Table}"}}}},
			"resource ReadTarget (AWS::ApplicationAutoScaling::ScalableTarget): MinCapacity 11 is above MaxCapacity 10"},
		{"a second target of one dimension", map[string]any{"Again": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": 10, "ResourceId": map[string]any{"Fn::Sub": "table/${Table}"}}}},
			"a second scalable target for ReadCapacityUnits"},
		{"a dimension that is not DynamoDB's", map[string]any{"Odd": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:Capacity", "MinCapacity": 1, "MaxCapacity": 10, "ResourceId": map[string]any{"Fn::Sub": "table/${Table}"}}}},
			`ScalableDimension "dynamodb:table:Capacity": want dynamodb:table:ReadCapacityUnits`},
		{"a max of 1e3", map[string]any{"ReadTarget": map[string]any{"Type": ScalableTargetType, "Properties": map[string]any{
			"ServiceNamespace": "dynamodb", "ScalableDimension": "dynamodb:table:ReadCapacityUnits", "MinCapacity": 1, "MaxCapacity": "1e3", "ResourceId": map[string]any{"Fn::Sub": "table/${Table}"}}}},
			`MaxCapacity "1e3": want a whole number of capacity units from 1 to 40000`},
		{"a target of 0", map[string]any{"ReadTracking": map[string]any{"Type": ScalingPolicyType, "Properties": map[string]any{
			"PolicyType": "TargetTrackingScaling", "ScalingTargetId": map[string]any{"Ref": "ReadTarget"},
			"TargetTrackingScalingPolicyConfiguration": map[string]any{"TargetValue": 0}}}},
			"TargetValue 0: want a percentage above 0, at most 100"},
	} {
		if _, err := ParseTables(scaledTemplate(tc.extra)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}

// The deploy check's declared spec holds the auto scaling the stack's context declares, as the
// template reads: one target-tracking policy per auto-scaled dimension, the fixed one absent.
func TestDeclaredHoldsTheStacksAutoScaling(t *testing.T) {
	cfg := contract.Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ReadCapacity: 2, WriteCapacity: 1, ReadMax: 20, TargetUtilization: 55, ExpiresAfter: time.Hour}
	want := []Scaling{{Dimension: DimensionRead, Min: 2, Max: 20, Policies: []ScalingPolicy{TrackingPolicy(DimensionRead, 55)}}}
	if got := Declared(cfg).Scaling; !reflect.DeepEqual(got, want) {
		t.Fatalf("declared scaling %+v, want %+v", got, want)
	}
	cfg.ReadMax, cfg.TargetUtilization = 0, 0
	if got := Declared(cfg).Scaling; got != nil {
		t.Fatalf("a fixed stack declares scaling %+v", got)
	}
}

// LiveScaling reads what Application Auto Scaling holds for the table and its indexes, and
// nothing of another table: not one whose name the table's begins (moto matches a policy's
// resource id by substring; the answers are matched exactly here).
func TestLiveScalingReadsTheTablesTargetsAndPolicies(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	aas := applicationautoscaling.NewFromConfig(cfg)
	put := func(resource string, dim aastypes.ScalableDimension, min, max int32, target float64, metric aastypes.MetricType) {
		t.Helper()
		if _, err := aas.RegisterScalableTarget(t.Context(), &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(resource), ScalableDimension: dim,
			MinCapacity: aws.Int32(min), MaxCapacity: aws.Int32(max)}); err != nil {
			t.Fatal(err)
		}
		if target == 0 {
			return
		}
		if _, err := aas.PutScalingPolicy(t.Context(), &applicationautoscaling.PutScalingPolicyInput{
			PolicyName: aws.String("p-" + string(dim)), ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(resource),
			ScalableDimension: dim, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(target),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: metric}}}); err != nil {
			t.Fatal(err)
		}
	}
	put("table/live-scaled", aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits, 1, 50, 70, aastypes.MetricTypeDynamoDBReadCapacityUtilization)
	put("table/live-scaled", aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, 2, 4, 0, "")
	put("table/live-scaled/index/by_balance", aastypes.ScalableDimensionDynamoDBIndexReadCapacityUnits, 3, 9, 40, aastypes.MetricTypeDynamoDBReadCapacityUtilization)
	put("table/live-scale", aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits, 5, 6, 80, aastypes.MetricTypeDynamoDBReadCapacityUtilization)

	got, err := LiveScaling(t.Context(), aas, "live-scaled", []string{"by_balance"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Scaling{
		{Dimension: DimensionRead, Min: 1, Max: 50, Policies: []ScalingPolicy{TrackingPolicy(DimensionRead, 70)}},
		{Dimension: DimensionWrite, Min: 2, Max: 4},
		{Index: "by_balance", Dimension: DimensionRead, Min: 3, Max: 9, Policies: []ScalingPolicy{TrackingPolicy(DimensionRead, 40)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("live scaling\n got %+v\nwant %+v", got, want)
	}
	if got, err := LiveScaling(t.Context(), aas, "live-scale", nil); err != nil || len(got) != 1 || got[0].Min != 5 || len(got[0].Policies) != 1 || got[0].Policies[0].Target != 80 {
		t.Fatalf("the table whose name the other's begins: %+v, %v", got, err)
	}
	if got, err := LiveScaling(t.Context(), aas, "live-none", nil); err != nil || got != nil {
		t.Fatalf("a table without auto scaling: %+v, %v", got, err)
	}
}

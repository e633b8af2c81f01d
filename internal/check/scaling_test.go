package check

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Conformance compares a table's auto scaling with what its stack declared, on stacks made by
// moto's CloudFormation from a template in the CDK app's shape, with their auto scaling
// registered as CloudFormation would (cfngap, through fixture's Deploy). Each way the live
// scaling can differ is changed through Application Auto Scaling's own API, behind
// CloudFormation's back, and fails naming it. One moto, a stack per case; read-only runs.
func TestConformanceComparesAutoScaling(t *testing.T) {
	srv := localcloud.Moto(t)
	srv.SetEnv(t)
	c := testClients(t, srv.Endpoint, 0)
	fx := fixture.NewCloud(t, "")
	ctx := t.Context()
	aas := applicationautoscaling.NewFromConfig(fx.Config)
	readScaled := fixture.AutoScaled("Table0", discover.DimensionRead, 1, 10, 70)

	run := func(t *testing.T, cl Clients, stack string) *Report {
		t.Helper()
		o := Defaults()
		o.Stack, o.AppDir, o.Region, o.ReadOnly = stack, t.TempDir(), localcloud.Region, true
		o.Timeout, o.CleanupTimeout = 30*time.Second, 15*time.Second
		rep, err := Run(ctx, cl, o)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	wantDrift := func(t *testing.T, rep *Report, want ...Difference) {
		t.Helper()
		wantResults(t, rep, []string{Discover, Active, Conformance}, Conformance)
		if !slices.Equal(rep.Differences, want) {
			t.Fatalf("differences %v, want %v", rep.Differences, want)
		}
	}
	register := func(t *testing.T, table, dim string, min, max int32) {
		t.Helper()
		if _, err := aas.RegisterScalableTarget(ctx, &applicationautoscaling.RegisterScalableTargetInput{
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table),
			ScalableDimension: aastypes.ScalableDimension("dynamodb:table:" + dim), MinCapacity: aws.Int32(min), MaxCapacity: aws.Int32(max)}); err != nil {
			t.Fatal(err)
		}
	}
	// cfngap's name for the dimension's one policy: putting it again replaces it.
	putTarget := func(t *testing.T, stack, table, dim string, target float64) {
		t.Helper()
		if _, err := aas.PutScalingPolicy(ctx, &applicationautoscaling.PutScalingPolicyInput{
			PolicyName: aws.String(stack + "-Table0-" + dim + "-0"), PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table), ScalableDimension: aastypes.ScalableDimension("dynamodb:table:" + dim),
			TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{TargetValue: aws.Float64(target),
				PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricType(discover.UtilizationMetric(dim))}}}); err != nil {
			t.Fatal(err)
		}
	}
	setCapacity := func(t *testing.T, table string, read int64) {
		t.Helper()
		if _, err := fx.DynamoDB.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table),
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(1)}}); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("as declared it passes, and a capacity the scaler moved within the range is no drift", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-as-scaled", readScaled, devTable)[0]
		setCapacity(t, table, 7)
		rep := run(t, c, "Wallet-as-scaled")
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "22 of 22 fields match",
			"auto scaling as declared: ReadCapacityUnits min 1, max 10, target 70 (capacity within each range is the scaler's)")
	})

	t.Run("a max that differs fails naming it", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-max", readScaled, devTable)[0]
		register(t, table, discover.DimensionRead, 1, 50)
		rep := run(t, c, "Wallet-max")
		wantDrift(t, rep, Difference{"auto scaling ReadCapacityUnits max", "10", "50"})
		wantDetail(t, rep, Conformance, "auto scaling ReadCapacityUnits max declared 10, live 50")
	})

	t.Run("a min that differs fails naming it", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-min", readScaled, devTable)[0]
		register(t, table, discover.DimensionRead, 2, 10)
		wantDrift(t, run(t, c, "Wallet-min"), Difference{"auto scaling ReadCapacityUnits min", "1", "2"})
	})

	t.Run("a target that differs fails naming it", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-target", readScaled, devTable)[0]
		putTarget(t, "Wallet-target", table, discover.DimensionRead, 50)
		wantDrift(t, run(t, c, "Wallet-target"), Difference{"auto scaling ReadCapacityUnits target", "70", "50"})
	})

	t.Run("a missing policy fails naming it", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-nopolicy", readScaled, devTable)[0]
		if _, err := aas.DeleteScalingPolicy(ctx, &applicationautoscaling.DeleteScalingPolicyInput{PolicyName: aws.String("Wallet-nopolicy-Table0-ReadCapacityUnits-0"),
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table), ScalableDimension: aastypes.ScalableDimensionDynamoDBTableReadCapacityUnits}); err != nil {
			t.Fatal(err)
		}
		wantDrift(t, run(t, c, "Wallet-nopolicy"), Difference{"auto scaling ReadCapacityUnits policy", "target tracking DynamoDBReadCapacityUtilization at 70", absent})
	})

	// moto's CloudFormation registers nothing: a stack made by CreateStack alone, without
	// cfngap, is what a missing target looks like.
	t.Run("a missing target fails naming it", func(t *testing.T) {
		fx.CreateStackWith(t, "Wallet-notarget", readScaled, devTable)
		strict := c
		strict.LocalEndpoint = "" // as on AWS: moto's gaps excused nowhere
		rep := run(t, strict, "Wallet-notarget")
		want := Difference{"auto scaling ReadCapacityUnits", "min 1, max 10, target 70", absent}
		if !slices.Contains(rep.Differences, want) {
			t.Fatalf("differences %v lack %v", rep.Differences, want)
		}
	})

	t.Run("on the local endpoint a target moto's CloudFormation never made is its gap, said", func(t *testing.T) {
		fx.CreateStackWith(t, "Wallet-localgap", readScaled, fixture.TableDecl{Tags: devTable.Tags})
		rep := run(t, c, "Wallet-localgap")
		wantResults(t, rep, []string{Discover, Active, Conformance})
		wantDetail(t, rep, Conformance, "creates no Application Auto Scaling resources", "auto scaling ReadCapacityUnits declared min 1, max 10, target 70, live (absent)")
	})

	t.Run("a dimension declared fixed and auto scaled behind CloudFormation's back fails", func(t *testing.T) {
		table := fx.Deploy(t, "Wallet-fixed", devTable)[0]
		register(t, table, discover.DimensionWrite, 1, 20)
		putTarget(t, "Wallet-fixed", table, discover.DimensionWrite, 70)
		wantDrift(t, run(t, c, "Wallet-fixed"), Difference{"auto scaling WriteCapacityUnits", absent, "min 1, max 20, target 70"})
	})

	t.Run("a capacity outside the declared range fails", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-outside", readScaled, devTable)[0]
		setCapacity(t, table, 11)
		wantDrift(t, run(t, c, "Wallet-outside"), Difference{"ProvisionedThroughput.ReadCapacityUnits", "1 to 10 (auto scaled)", "11"})
	})

	// The check inside the deploy compares the spec its stack's context declares, not a
	// template: the same comparison.
	t.Run("the deploy check's declared spec compares alike", func(t *testing.T) {
		table := fx.DeployWith(t, "Wallet-declared", readScaled, fixture.TableDecl{Tags: devTable.Tags, TTL: true})[0] // a dev stack: no PITR
		register(t, table, discover.DimensionRead, 1, 50)
		spec := discover.Declared(contract.Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ReadCapacity: 1, WriteCapacity: 1,
			ReadMax: 10, TargetUtilization: 70, ExpiresAfter: 168 * time.Hour})
		o := tableOptions(table)
		o.Declared, o.DeclaredFrom, o.ReadOnly = &spec, "the stack's context", true
		rep, err := Run(ctx, c, o)
		if err != nil {
			t.Fatal(err)
		}
		wantDrift(t, rep, Difference{"auto scaling ReadCapacityUnits max", "10", "50"})
	})
}

package cfngap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// AutoScaling fills a fourth gap: moto's CloudFormation creates no Application Auto Scaling
// resources ("No Moto CloudFormation support for AWS::ApplicationAutoScaling::ScalableTarget"),
// though moto's Application Auto Scaling API works. For each dimension the deployed template
// auto scales (discover.ParseTables: the scalable targets and the policies on them), it
// registers the target on the stack's table and puts its policies, as CloudFormation would. It
// is idempotent: RegisterScalableTarget updates a target registered before, and a policy is put
// under a name of its stack, table and dimension, so a second run finds it (and puts it again
// only if it changed). The target's
// RoleARN is left out: for DynamoDB, Application Auto Scaling then uses its service-linked role,
// which is what the template names. It returns the dimensions it registered.
func AutoScaling(ctx context.Context, cfg aws.Config, stack string) ([]string, error) {
	scaled, err := stackScaling(ctx, cfg, stack)
	if err != nil {
		return nil, err
	}
	aas := applicationautoscaling.NewFromConfig(cfg)
	var done []string
	for _, t := range scaled {
		for _, s := range t.scaling {
			if len(s.Unresolved) > 0 {
				return done, fmt.Errorf("stack %s, table %s: %s of %s is given by an intrinsic function, which this gap filler does not evaluate", stack, t.name, strings.Join(s.Unresolved, ", "), s.Name())
			}
			in := &applicationautoscaling.RegisterScalableTargetInput{
				ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(s.ResourceID(t.name)),
				ScalableDimension: aastypes.ScalableDimension(s.ScalableDimension()),
				MinCapacity:       aws.Int32(int32(s.Min)), MaxCapacity: aws.Int32(int32(s.Max)),
			}
			if s.Suspended != "" {
				in.SuspendedState = &aastypes.SuspendedState{
					DynamicScalingInSuspended:  aws.Bool(strings.Contains(s.Suspended, "scale-in")),
					DynamicScalingOutSuspended: aws.Bool(strings.Contains(s.Suspended, "scale-out")),
					ScheduledScalingSuspended:  aws.Bool(strings.Contains(s.Suspended, "scheduled")),
				}
			}
			if _, err := aas.RegisterScalableTarget(ctx, in); err != nil {
				return done, fmt.Errorf("register the scalable target of %s on %s: %w", s.Name(), t.name, err)
			}
			for i, p := range s.Policies {
				pin := &applicationautoscaling.PutScalingPolicyInput{
					PolicyName: aws.String(policyName(stack, t.logicalID, s, i)), PolicyType: aastypes.PolicyType(p.Type),
					ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(s.ResourceID(t.name)),
					ScalableDimension: aastypes.ScalableDimension(s.ScalableDimension()),
				}
				if p.Type == discover.TargetTracking {
					if p.Metric == "" {
						return done, fmt.Errorf("stack %s, table %s: a target-tracking policy of %s on a customized metric, which this gap filler does not put", stack, t.name, s.Name())
					}
					pin.TargetTrackingScalingPolicyConfiguration = &aastypes.TargetTrackingScalingPolicyConfiguration{
						TargetValue:                   aws.Float64(p.Target),
						PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricType(p.Metric)},
					}
				}
				same, err := alreadyPut(ctx, aas, pin)
				if err != nil {
					return done, fmt.Errorf("read the scaling policies of %s on %s: %w", s.Name(), t.name, err)
				}
				if same {
					continue
				}
				if _, err := aas.PutScalingPolicy(ctx, pin); err != nil {
					return done, fmt.Errorf("put the scaling policy of %s on %s: %w", s.Name(), t.name, err)
				}
			}
			done = append(done, t.name+" "+s.Name())
		}
	}
	return done, nil
}

// DeleteAutoScaling undoes AutoScaling before the stack is destroyed, as CloudFormation deletes
// a stack's scaling policies (and the alarms they made) and its scalable targets: moto's
// CloudFormation, which never knew of them, would leave them behind. Run it while the stack
// still exists; what is already gone is not an error.
func DeleteAutoScaling(ctx context.Context, cfg aws.Config, stack string) error {
	scaled, err := stackScaling(ctx, cfg, stack)
	if err != nil {
		return err
	}
	aas := applicationautoscaling.NewFromConfig(cfg)
	for _, t := range scaled {
		for _, s := range t.scaling {
			for i := range s.Policies {
				if _, err := aas.DeleteScalingPolicy(ctx, &applicationautoscaling.DeleteScalingPolicyInput{
					PolicyName: aws.String(policyName(stack, t.logicalID, s, i)), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
					ResourceId: aws.String(s.ResourceID(t.name)), ScalableDimension: aastypes.ScalableDimension(s.ScalableDimension()),
				}); err != nil && !notFound(err) {
					return fmt.Errorf("delete the scaling policy of %s on %s: %w", s.Name(), t.name, err)
				}
			}
			if _, err := aas.DeregisterScalableTarget(ctx, &applicationautoscaling.DeregisterScalableTargetInput{
				ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(s.ResourceID(t.name)),
				ScalableDimension: aastypes.ScalableDimension(s.ScalableDimension()),
			}); err != nil && !notFound(err) {
				return fmt.Errorf("deregister the scalable target of %s on %s: %w", s.Name(), t.name, err)
			}
		}
	}
	return nil
}

// alreadyPut reports whether the policy is there as put before. It is not put again: moto makes
// a target-tracking policy's alarms anew on every PutScalingPolicy and leaves the old ones
// behind (AWS updates them). moto filters neither by PolicyNames nor by exact ResourceId, so the
// answers are matched here.
func alreadyPut(ctx context.Context, aas *applicationautoscaling.Client, in *applicationautoscaling.PutScalingPolicyInput) (bool, error) {
	pages := applicationautoscaling.NewDescribeScalingPoliciesPaginator(aas, &applicationautoscaling.DescribeScalingPoliciesInput{
		ServiceNamespace: in.ServiceNamespace, ResourceId: in.ResourceId, ScalableDimension: in.ScalableDimension, PolicyNames: []string{aws.ToString(in.PolicyName)},
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return false, err
		}
		for _, p := range page.ScalingPolicies {
			if aws.ToString(p.PolicyName) != aws.ToString(in.PolicyName) || aws.ToString(p.ResourceId) != aws.ToString(in.ResourceId) ||
				p.ScalableDimension != in.ScalableDimension {
				continue
			}
			want, got := in.TargetTrackingScalingPolicyConfiguration, p.TargetTrackingScalingPolicyConfiguration
			return p.PolicyType == in.PolicyType && (want == nil) == (got == nil) &&
				(want == nil || aws.ToFloat64(want.TargetValue) == aws.ToFloat64(got.TargetValue) &&
					(want.PredefinedMetricSpecification == nil) == (got.PredefinedMetricSpecification == nil) &&
					(want.PredefinedMetricSpecification == nil || want.PredefinedMetricSpecification.PredefinedMetricType == got.PredefinedMetricSpecification.PredefinedMetricType)), nil
		}
	}
	return false, nil
}

// scaledTable is one table of a stack and the auto scaling its template declares.
type scaledTable struct {
	logicalID, name string
	scaling         []discover.Scaling
}

// stackScaling reads the deployed template's auto scaling, table by table, with each table's
// physical name.
func stackScaling(ctx context.Context, cfg aws.Config, stack string) ([]scaledTable, error) {
	cfn := cloudformation.NewFromConfig(cfg)
	st, err := discover.Describe(ctx, cfn, stack)
	if err != nil {
		return nil, err
	}
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return nil, err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return nil, fmt.Errorf("template of %s: %w", stack, err)
	}
	names := map[string]string{}
	for _, t := range st.Tables {
		names[t.LogicalID] = t.Name
	}
	var out []scaledTable
	for _, s := range specs {
		if s.Skipped(discover.FieldAutoScaling) {
			return nil, fmt.Errorf("template of %s: an intrinsic function names the table of some scalable target, which this gap filler does not evaluate", stack)
		}
		if len(s.Scaling) == 0 {
			continue
		}
		name := names[s.LogicalID]
		if name == "" {
			return nil, fmt.Errorf("stack %s: no physical table for %s", stack, s.LogicalID)
		}
		out = append(out, scaledTable{logicalID: s.LogicalID, name: name, scaling: s.Scaling})
	}
	return out, nil
}

// policyName names the i-th policy of a dimension: the same on every run, unique in the account.
func policyName(stack, table string, s discover.Scaling, i int) string {
	return fmt.Sprintf("%s-%s-%s-%d", stack, table, strings.ReplaceAll(s.Name(), " ", "-"), i)
}

// notFound recognises Application Auto Scaling saying a policy or target is not there: AWS's
// ObjectNotFoundException, moto's ValidationException "No scaling policy found …" (or "No
// scalable target found …").
func notFound(err error) bool {
	var nf *aastypes.ObjectNotFoundException
	var ae smithy.APIError
	return errors.As(err, &nf) ||
		errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.HasPrefix(ae.ErrorMessage(), "No scal")
}

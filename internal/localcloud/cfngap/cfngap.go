// Package cfngap fills the gaps in moto's CloudFormation that matter to the wallet stacks (and,
// in hmackey.go, to the janitor's mark key): moto creates an AWS::DynamoDB::Table without applying its TimeToLiveSpecification or its
// PointInTimeRecoverySpecification (real CloudFormation applies both), and creates none of the
// table's Application Auto Scaling resources (autoscaling.go). Left alone, every
// deploy on the local cloud would show TTL and PITR drift that real AWS never has, and verify's
// conformance check would rightly fail.
//
// Apply does after a local deploy what CloudFormation does during a real one, reading the
// deployed template, so the rest of the table is still exactly as moto's CloudFormation made it.
// It is for the local cloud only (the demo and the end-to-end tests); verify never calls it.
package cfngap

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// Apply turns on TTL and point-in-time recovery on the stack's tables where its template declares
// them, and registers the auto scaling it declares (AutoScaling).
func Apply(ctx context.Context, cfg aws.Config, stack string) error {
	if _, err := AutoScaling(ctx, cfg, stack); err != nil {
		return err
	}
	cfn := cloudformation.NewFromConfig(cfg)
	ddb := dynamodb.NewFromConfig(cfg)
	st, err := discover.Describe(ctx, cfn, stack)
	if err != nil {
		return err
	}
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return fmt.Errorf("template of %s: %w", stack, err)
	}
	names := map[string]string{}
	for _, t := range st.Tables {
		names[t.LogicalID] = t.Name
	}
	for _, s := range specs {
		name := names[s.LogicalID]
		if name == "" {
			return fmt.Errorf("stack %s: no physical table for %s", stack, s.LogicalID)
		}
		if s.Fields[discover.FieldTTLEnabled] == "true" {
			if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name),
				TimeToLiveSpecification: &types.TimeToLiveSpecification{
					AttributeName: aws.String(s.Fields[discover.FieldTTLAttribute]),
					Enabled:       aws.Bool(true),
				},
			}); err != nil {
				return fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
		if s.Fields[discover.FieldPITR] == "true" {
			if _, err := ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
				TableName: aws.String(name),
				PointInTimeRecoverySpecification: &types.PointInTimeRecoverySpecification{
					PointInTimeRecoveryEnabled: aws.Bool(true),
				},
			}); err != nil {
				return fmt.Errorf("enable PITR on %s: %w", name, err)
			}
		}
	}
	return nil
}

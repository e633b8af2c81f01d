package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
)

// demoScaling is how the demo's dev table auto scales: reads and writes each from 1 unit (the
// tutorial's) up to 10, at the default target utilization.
var demoScaling = map[string]string{contract.CtxReadMax: "10", contract.CtxWriteMax: "10"}

// registerAutoScaling does what CloudFormation does with the stack's scalable targets and
// scaling policies and moto's CloudFormation skips (cfngap.AutoScaling), so that the checks
// compare a table auto scaled as on AWS.
func registerAutoScaling(ctx context.Context, stack string) (string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", err
	}
	done, err := cfngap.AutoScaling(ctx, cfg, stack)
	if err != nil {
		return "", err
	}
	return "registered as CloudFormation would: " + strings.Join(done, ", "), nil
}

// deleteAutoScaling undoes registerAutoScaling before `cdk destroy`, as CloudFormation's
// DeleteStack would delete the stack's scaling policies (and their alarms) and targets.
func deleteAutoScaling(ctx context.Context, stack string) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	return cfngap.DeleteAutoScaling(ctx, cfg, stack)
}

// scalableTargetsLeft are the DynamoDB scalable targets still registered: after the destroy,
// none may be (each policy's alarms bill on AWS).
func scalableTargetsLeft(ctx context.Context) ([]string, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	var left []string
	pages := applicationautoscaling.NewDescribeScalableTargetsPaginator(applicationautoscaling.NewFromConfig(cfg),
		&applicationautoscaling.DescribeScalableTargetsInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe scalable targets: %w", err)
		}
		for _, t := range page.ScalableTargets {
			left = append(left, aws.ToString(t.ResourceId)+" "+string(t.ScalableDimension))
		}
	}
	return left, nil
}

package discover

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"golang.org/x/sync/errgroup"
)

// ScalableTargetsAPI is the one Application Auto Scaling call that pricing a table's auto
// scaling makes: a read. (It takes no resource-level permission: IAM grants it on "*".)
type ScalableTargetsAPI interface {
	DescribeScalableTargets(ctx context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error)
}

// Range is an auto-scaled dimension: Application Auto Scaling moves its capacity from Min to Max.
type Range struct {
	Min int64 `json:"min"`
	Max int64 `json:"max"`
}

// Ranges are a table's, or a global secondary index's, auto-scaled ranges: nil for a dimension
// whose capacity is fixed. (Scaling is one dimension's, policies and all, as the conformance
// check compares it; pricing needs only the range.)
type Ranges struct {
	Read  *Range `json:"read"`
	Write *Range `json:"write"`
}

// Scaled reports whether either dimension is auto scaled.
func (s Ranges) Scaled() bool { return s.Read != nil || s.Write != nil }

// ScalableResource is Application Auto Scaling's id of a table (index empty) or of one of its
// global secondary indexes.
func ScalableResource(table, index string) string {
	if index == "" {
		return "table/" + table
	}
	return "table/" + table + "/index/" + index
}

// maxResourceIDs is DescribeScalableTargets' limit on ResourceIds in one call.
const maxResourceIDs = 50

// ScalableTargets reads the scalable targets of the resources (ScalableResource ids) in calls
// of 50, concurrency at a time, for a region's tables at once (LiveScaling reads one table's,
// with its policies): every resource with a target is in the map, with its dimensions' ranges;
// one without is absent (fixed). The first failing call fails it.
func ScalableTargets(ctx context.Context, api ScalableTargetsAPI, ids []string, concurrency int) (map[string]Ranges, error) {
	out := map[string]Ranges{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, concurrency))
	for first := 0; first < len(ids); first += maxResourceIDs {
		batch := ids[first:min(first+maxResourceIDs, len(ids))]
		g.Go(func() error {
			p := applicationautoscaling.NewDescribeScalableTargetsPaginator(api, &applicationautoscaling.DescribeScalableTargetsInput{
				ServiceNamespace: astypes.ServiceNamespaceDynamodb,
				ResourceIds:      batch,
			})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return fmt.Errorf("describe scalable targets: %w", err)
				}
				mu.Lock()
				for _, t := range page.ScalableTargets {
					id := aws.ToString(t.ResourceId)
					s := out[id]
					r := &Range{Min: int64(aws.ToInt32(t.MinCapacity)), Max: int64(aws.ToInt32(t.MaxCapacity))}
					switch t.ScalableDimension {
					case astypes.ScalableDimensionDynamoDBTableReadCapacityUnits, astypes.ScalableDimensionDynamoDBIndexReadCapacityUnits:
						s.Read = r
					case astypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, astypes.ScalableDimensionDynamoDBIndexWriteCapacityUnits:
						s.Write = r
					default:
						continue
					}
					out[id] = s
				}
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

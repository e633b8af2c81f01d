package wallet

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableInput is the tutorial's wallet table — user_id (S) partition key, 1 RCU / 1 WCU — as a
// CreateTable request, for tables made outside CloudFormation: on DynamoDB Local, and in the
// tests and benchmarks that need a wallet table without a stack. The CDK app declares the same
// key schema from the same constants.
func TableInput(name string, tags map[string]string) *dynamodb.CreateTableInput {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(KeyAttribute), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(KeyAttribute), AttributeType: types.ScalarAttributeType(KeyType)}},
		BillingMode:          types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{
			ReadCapacityUnits:  aws.Int64(DefaultCapacity),
			WriteCapacityUnits: aws.Int64(DefaultCapacity),
		},
	}
	keys := slices.Sorted(maps.Keys(tags))
	for _, k := range keys {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	return in
}

// BillingMode reads a table description's capacity mode. DynamoDB leaves BillingModeSummary out
// for tables that were provisioned from the start (they predate on-demand), so absent means
// provisioned.
func BillingMode(d *types.TableDescription) types.BillingMode {
	if d != nil && d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode != "" {
		return d.BillingModeSummary.BillingMode
	}
	return types.BillingModeProvisioned
}

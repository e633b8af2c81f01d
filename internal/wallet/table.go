package wallet

import (
	"maps"
	"slices"
	"strings"

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

// BillingOf reads a table description's capacity mode. DynamoDB leaves BillingModeSummary out
// for tables that were provisioned from the start (they predate on-demand), so absent means
// provisioned.
func BillingOf(d *types.TableDescription) Billing {
	if d != nil && d.BillingModeSummary != nil && d.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		return BillingOnDemand
	}
	return BillingProvisioned
}

// Mode is the billing's name in DynamoDB's and CloudFormation's APIs (PROVISIONED,
// PAY_PER_REQUEST), which is also what a template or a table description says.
func (b Billing) Mode() types.BillingMode {
	if b == BillingOnDemand {
		return types.BillingModePayPerRequest
	}
	return types.BillingModeProvisioned
}

// ClassOf reads a table description's class. DynamoDB leaves TableClassSummary out for a table
// that was never given another class (and moto never returns one), so absent means standard.
func ClassOf(d *types.TableDescription) TableClass {
	if d != nil && d.TableClassSummary != nil && d.TableClassSummary.TableClass == types.TableClassStandardInfrequentAccess {
		return ClassStandardIA
	}
	return ClassStandard
}

// SDK is the class's name in DynamoDB's and CloudFormation's APIs (STANDARD,
// STANDARD_INFREQUENT_ACCESS), which is also what a template or a table description says.
func (c TableClass) SDK() types.TableClass {
	if c == ClassStandardIA {
		return types.TableClassStandardInfrequentAccess
	}
	return types.TableClassStandard
}

// KeySchema writes a key schema the one way every report shows it: "name TYPE" pairs, hash key
// first ("user_id HASH", "pk HASH, sk RANGE"), whatever order the source listed them in.
func KeySchema(ks []types.KeySchemaElement) string {
	sorted := slices.Clone(ks)
	slices.SortStableFunc(sorted, func(a, b types.KeySchemaElement) int {
		switch {
		case a.KeyType == types.KeyTypeHash && b.KeyType != types.KeyTypeHash:
			return -1
		case b.KeyType == types.KeyTypeHash && a.KeyType != types.KeyTypeHash:
			return 1
		}
		return 0
	})
	parts := make([]string, len(sorted))
	for i, k := range sorted {
		parts[i] = aws.ToString(k.AttributeName) + " " + string(k.KeyType)
	}
	return strings.Join(parts, ", ")
}

// WalletKeySchema is the wallet table's key as KeySchema writes it.
var WalletKeySchema = KeyAttribute + " " + string(types.KeyTypeHash)

package sweep

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A stack whose deletion stops halfway (DELETE_FAILED) after CloudFormation deleted one of its
// tables: neither moto nor DynamoDB Local can fail a stack deletion partway, so fakes stand in
// for both services. The report must say what is true of each table.
type halfDeletedStack struct{ CloudFormation }

func (halfDeletedStack) DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	return &cloudformation.DeleteStackOutput{}, nil
}

func (halfDeletedStack) DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{StackName: aws.String("Wallet-half"), StackStatus: cfntypes.StackStatusDeleteFailed}}}, nil
}

func (halfDeletedStack) ListStackResources(context.Context, *cloudformation.ListStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	return &cloudformation.ListStackResourcesOutput{}, nil
}

type oneTableGone struct {
	DynamoDB
	gone string
}

func (d oneTableGone) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if aws.ToString(in.TableName) == d.gone {
		return nil, &types.ResourceNotFoundException{Message: aws.String("gone")}
	}
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableStatus: types.TableStatusActive}}, nil
}

func TestAStackThatStoppedHalfwayIsReportedTableByTable(t *testing.T) {
	p := Plan{Regions: []string{"r"}, Stacks: []StackAction{{Stack: "Wallet-half", Region: "r", Action: WouldDelete}},
		Candidates: []Candidate{
			{Table: "deleted-first", Region: "r", Stack: "Wallet-half", Action: WouldDelete, MonthlyCostUSD: 1},
			{Table: "still-there", Region: "r", Stack: "Wallet-half", Action: WouldDelete, MonthlyCostUSD: 2},
			{Table: "kept-by-policy", Region: "r", Stack: "Wallet-half", Action: WouldRetain, DeletionPolicy: "Retain", MonthlyCostUSD: 4},
		}}
	c := RegionClients{Region: "r", DynamoDB: oneTableGone{gone: "deleted-first"}, CloudFormation: halfDeletedStack{}}
	r := Act(t.Context(), p, map[string]RegionClients{"r": c}, Options{WaitTimeout: 1})
	got := map[string]Candidate{}
	for _, cd := range r.Candidates {
		got[cd.Table] = cd
	}
	if got["deleted-first"].Action != Deleted || got["still-there"].Action != Failed || got["kept-by-policy"].Action != Retained {
		t.Fatalf("deleted-first %s, still-there %s, kept-by-policy %s; want deleted, failed, retained", got["deleted-first"].Action, got["still-there"].Action, got["kept-by-policy"].Action)
	}
	if r.MonthlySavingsUSD != 1 || r.Stacks[0].Action != Failed || !strings.Contains(got["still-there"].Error, "DELETE_FAILED") {
		t.Fatalf("savings %v, stack %+v, error %q", r.MonthlySavingsUSD, r.Stacks[0], got["still-there"].Error)
	}
}

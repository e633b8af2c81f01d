package sweep

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A stack whose deletion stops halfway (DELETE_FAILED) after CloudFormation deleted one of its
// tables: neither moto nor DynamoDB Local can fail a stack deletion partway, so fakes stand in
// for both services. The report must say what is true of each table.
type halfDeletedStack struct {
	CloudFormation
	deleting *bool
}

func (s halfDeletedStack) DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	*s.deleting = true
	return &cloudformation.DeleteStackOutput{}, nil
}

func (halfDeletedStack) DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{StackName: aws.String("Wallet-half"), StackStatus: cfntypes.StackStatusDeleteFailed}}}, nil
}

func (halfDeletedStack) ListStackResources(context.Context, *cloudformation.ListStackResourcesInput, ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error) {
	return &cloudformation.ListStackResourcesOutput{}, nil
}

// oneTableGone is a DynamoDB in which one table goes once its stack's deletion has started.
type oneTableGone struct {
	DynamoDB
	gone     string
	deleting *bool
}

func (d oneTableGone) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if aws.ToString(in.TableName) == d.gone && *d.deleting {
		return nil, &types.ResourceNotFoundException{Message: aws.String("gone")}
	}
	return describedAs(in), nil
}

func (oneTableGone) ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	return &dynamodb.ListTagsOfResourceOutput{}, nil
}

// fakeCreated is when every fake table was made: the fakes' tables keep their identity.
var fakeCreated = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func fakeIdentity(table string) Identity {
	return Identity{ARN: "arn:aws:dynamodb:r:1:table/" + table, Created: fakeCreated}
}

func describedAs(in *dynamodb.DescribeTableInput) *dynamodb.DescribeTableOutput {
	id := fakeIdentity(aws.ToString(in.TableName))
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableName: in.TableName, TableArn: aws.String(id.ARN),
		CreationDateTime: aws.Time(id.Created), TableStatus: types.TableStatusActive}}
}

func TestAStackThatStoppedHalfwayIsReportedTableByTable(t *testing.T) {
	p := Plan{Regions: []string{"r"}, Stacks: []StackAction{{Stack: "Wallet-half", Region: "r", Action: WouldDelete}},
		Candidates: []Candidate{
			{Table: "deleted-first", Region: "r", Stack: "Wallet-half", Action: WouldDelete, MonthlyCostUSD: 1, Identity: fakeIdentity("deleted-first")},
			{Table: "still-there", Region: "r", Stack: "Wallet-half", Action: WouldDelete, MonthlyCostUSD: 2, Identity: fakeIdentity("still-there")},
			{Table: "kept-by-policy", Region: "r", Stack: "Wallet-half", Action: WouldRetain, DeletionPolicy: "Retain", MonthlyCostUSD: 4, Identity: fakeIdentity("kept-by-policy")},
		}}
	deleting := false
	c := RegionClients{Region: "r", DynamoDB: oneTableGone{gone: "deleted-first", deleting: &deleting}, CloudFormation: halfDeletedStack{deleting: &deleting}}
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

// recordingDB is a DynamoDB whose tables all exist and whose every DeleteTable and UpdateTable
// is recorded: for faults no local backend produces.
type recordingDB struct {
	DynamoDB
	deletes  []string
	protects []bool
}

func (d *recordingDB) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return describedAs(in), nil
}

func (d *recordingDB) ListTagsOfResource(context.Context, *dynamodb.ListTagsOfResourceInput, ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	return &dynamodb.ListTagsOfResourceOutput{}, nil
}

func (d *recordingDB) DeleteTable(_ context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	d.deletes = append(d.deletes, aws.ToString(in.TableName))
	return &dynamodb.DeleteTableOutput{}, nil
}

// goneStack is a stack whose DeleteStack succeeds at once.
type goneStack struct{ CloudFormation }

func (goneStack) DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	return &cloudformation.DeleteStackOutput{}, nil
}

func (goneStack) DescribeStacks(context.Context, *cloudformation.DescribeStacksInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{StackName: aws.String("Wallet-x"), StackStatus: cfntypes.StackStatusDeleteComplete}}}, nil
}

// A teardown without --delete-retained leaves a table its stack kept, even one whose deletion
// policy the template did not say (a YAML template, an Fn::If): CloudFormation's word is final.
// Fakes: the point is a stack that keeps a table the plan thought it would delete.
func TestATableTheStackKeptIsNotDeletedUnlessAsked(t *testing.T) {
	for _, deleteRetained := range []bool{false, true} {
		p := Plan{Teardown: "Wallet-x", Regions: []string{"r"}, Stacks: []StackAction{{Stack: "Wallet-x", Region: "r", Action: WouldDelete}},
			Candidates: []Candidate{{Table: "policy-unknown", Region: "r", Stack: "Wallet-x", DeletionPolicy: "unknown", MonthlyCostUSD: 1, Identity: fakeIdentity("policy-unknown")}}}
		decide(&p, false, deleteRetained)
		db := &recordingDB{}
		r := Act(t.Context(), p, map[string]RegionClients{"r": {Region: "r", DynamoDB: db, CloudFormation: goneStack{}}}, Options{WaitTimeout: time.Millisecond})
		want, deletes := Retained, 0
		if deleteRetained {
			want, deletes = Failed, 1 // asked to: deleted directly (the fake never lets it go, so the wait fails)
		}
		if got := r.Candidates[0].Action; got != want || len(db.deletes) != deletes {
			t.Errorf("--delete-retained=%v: %s after %d DeleteTable calls, want %s after %d", deleteRetained, got, len(db.deletes), want, deletes)
		}
	}
}

// A backup still CREATING is waited for, also when no wait was given: zero means the default,
// not "give up at once". A fake: moto's backups are AVAILABLE at once.
type slowBackup struct{ describes int }

func (b *slowBackup) CreateBackup(_ context.Context, in *dynamodb.CreateBackupInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateBackupOutput, error) {
	return &dynamodb.CreateBackupOutput{BackupDetails: &types.BackupDetails{BackupArn: aws.String("arn:backup"), BackupName: in.BackupName, BackupStatus: types.BackupStatusCreating}}, nil
}

func (b *slowBackup) ListBackups(context.Context, *dynamodb.ListBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error) {
	return &dynamodb.ListBackupsOutput{}, nil
}

func (b *slowBackup) DescribeBackup(context.Context, *dynamodb.DescribeBackupInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error) {
	b.describes++
	status := types.BackupStatusCreating
	if b.describes >= 2 {
		status = types.BackupStatusAvailable
	}
	return &dynamodb.DescribeBackupOutput{BackupDescription: &types.BackupDescription{BackupDetails: &types.BackupDetails{BackupStatus: status}}}, nil
}

func TestABackupStillCreatingIsWaitedFor(t *testing.T) {
	b := &slowBackup{}
	arn, err := TakeBackup(t.Context(), b, "t", "wallet-sweep-t", 0)
	if err != nil || arn != "arn:backup" || b.describes != 2 {
		t.Fatalf("arn %q, err %v after %d DescribeBackup calls", arn, err, b.describes)
	}
}

// A result CloudWatch could not read (Forbidden, InternalError) has no values: it must not make
// a table "idle". A fake: moto answers every query Complete.
type refusingMetrics struct{}

func (refusingMetrics) GetMetricData(context.Context, *cloudwatch.GetMetricDataInput, ...func(*cloudwatch.Options)) (*cloudwatch.GetMetricDataOutput, error) {
	return &cloudwatch.GetMetricDataOutput{MetricDataResults: []cwtypes.MetricDataResult{
		{Id: aws.String("m0"), StatusCode: cwtypes.StatusCodeForbidden, Messages: []cwtypes.MessageData{{Code: aws.String("Forbidden"), Value: aws.String("no")}}},
	}}, nil
}

func TestAMetricCloudWatchCouldNotReadIsNotIdleness(t *testing.T) {
	idle, err := isIdle(t.Context(), refusingMetrics{}, Observed{Name: "t"}, time.Hour, time.Now())
	if err == nil || idle {
		t.Fatalf("idle %v, err %v: want an error, not idleness", idle, err)
	}
}

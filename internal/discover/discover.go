// Package discover finds what a wallet stack deployed: its status, its outputs and its tables.
// Outputs are the fast path, but they are not reliable (moto drops them on change-set deploys,
// and real CloudFormation omits them while a stack is mid-update), so the tables always also come
// from ListStackResources, which is what CloudFormation actually created. Tables lists a whole
// region's tables, once for the sweep, the janitor and cost (tables.go).
package discover

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// CloudFormation is the part of the CloudFormation API discovery uses.
type CloudFormation interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	ListStackResources(ctx context.Context, in *cloudformation.ListStackResourcesInput, optFns ...func(*cloudformation.Options)) (*cloudformation.ListStackResourcesOutput, error)
}

const tableType = wallet.ResourceTable

// ErrStackNotFound means no such stack exists (or it is DELETE_COMPLETE, which is the same to us).
var ErrStackNotFound = errors.New("stack not found")

// TableResource is one DynamoDB table a stack owns.
type TableResource struct {
	LogicalID string
	Name      string // physical name
	Status    string // the resource's CloudFormation status
}

// Resource is one resource a stack holds, of any kind, as ListStackResources names it.
type Resource struct {
	Type       string `json:"type"`
	LogicalID  string `json:"logical_id"`
	PhysicalID string `json:"physical_id,omitempty"` // empty while CloudFormation is still creating it
	status     string // CloudFormation's; not part of what the resource is
}

// String is how a report names it: its kind, its physical id, and its logical id.
func (r Resource) String() string {
	name := r.PhysicalID
	if name == "" {
		name = "(not yet created)"
	}
	return fmt.Sprintf("%s %s (logical id %s)", r.Type, name, r.LogicalID)
}

// Stack is a deployed stack as far as this tool cares.
type Stack struct {
	Name    string
	ID      string
	Status  string
	Outputs map[string]string
	// Tags are the stack's own tags: only a stack update changes them.
	Tags   map[string]string
	Tables []TableResource
	// Resources are everything the stack holds, tables too, sorted by logical id: what
	// DeleteStack would delete.
	Resources []Resource
}

// TableName is the stack's wallet table: the TableName output, else its only table resource.
func (s *Stack) TableName() (string, error) {
	if n := s.Outputs[wallet.OutputTableName]; n != "" {
		return n, nil
	}
	switch len(s.Tables) {
	case 0:
		return "", fmt.Errorf("stack %s has no %s output and no %s resource", s.Name, wallet.OutputTableName, tableType)
	case 1:
		return s.Tables[0].Name, nil
	default:
		names := make([]string, len(s.Tables))
		for i, t := range s.Tables {
			names[i] = t.Name
		}
		return "", fmt.Errorf("stack %s has no %s output and %d tables (%s): pass --table", s.Name, wallet.OutputTableName, len(s.Tables), strings.Join(names, ", "))
	}
}

// Describe reads a stack's status, outputs and resources (its tables among them, by logical id).
func Describe(ctx context.Context, cfn CloudFormation, stack string) (*Stack, error) {
	out, err := cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("stack %s: %w", stack, ErrStackNotFound)
		}
		return nil, fmt.Errorf("describe stack %s: %w", stack, err)
	}
	if len(out.Stacks) == 0 || out.Stacks[0].StackStatus == types.StackStatusDeleteComplete {
		return nil, fmt.Errorf("stack %s: %w", stack, ErrStackNotFound)
	}
	st := out.Stacks[0]
	s := &Stack{
		Name:    aws.ToString(st.StackName),
		ID:      aws.ToString(st.StackId),
		Status:  string(st.StackStatus),
		Outputs: map[string]string{},
		Tags:    map[string]string{},
	}
	for _, t := range st.Tags {
		s.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	for _, o := range st.Outputs {
		s.Outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if s.Resources, err = Resources(ctx, cfn, stack); err != nil {
		return nil, err
	}
	for _, r := range s.Resources {
		if r.Type == tableType && r.PhysicalID != "" {
			s.Tables = append(s.Tables, TableResource{LogicalID: r.LogicalID, Name: r.PhysicalID, Status: r.status})
		}
	}
	return s, nil
}

// Resources lists everything a stack holds (every ListStackResources page), sorted by logical
// id: what DeleteStack would delete. A stack that does not exist is ErrStackNotFound.
func Resources(ctx context.Context, cfn CloudFormation, stack string) ([]Resource, error) {
	var out []Resource
	// By name, not ID: moto answers ListStackResources for a name more reliably.
	p := cloudformation.NewListStackResourcesPaginator(cfn, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err) {
			return nil, fmt.Errorf("stack %s: %w", stack, ErrStackNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("list resources of stack %s: %w", stack, err)
		}
		for _, r := range page.StackResourceSummaries {
			if aws.ToString(r.LogicalResourceId) == "" && aws.ToString(r.ResourceType) == "" {
				// moto's entry for a resource its CloudFormation skipped and never created (an
				// AWS::CDK::Metadata, a custom resource): CloudFormation names every resource.
				continue
			}
			out = append(out, Resource{Type: aws.ToString(r.ResourceType), LogicalID: aws.ToString(r.LogicalResourceId),
				PhysicalID: aws.ToString(r.PhysicalResourceId), status: string(r.ResourceStatus)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out, nil
}

// isNotFound recognises CloudFormation's way of saying a stack is missing: a ValidationError
// whose message says it does not exist (there is no dedicated error type).
func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "does not exist")
}

// TagLister is the DynamoDB call that reads a table's tags.
type TagLister interface {
	ListTagsOfResource(ctx context.Context, in *dynamodb.ListTagsOfResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error)
}

// TableTags reads every page of a table's tags (the SDK has no paginator for them). Errors are
// returned as the SDK gave them, so callers can tell a vanished table from a refusal.
func TableTags(ctx context.Context, db TagLister, arn string) (map[string]string, error) {
	tags := map[string]string{}
	in := &dynamodb.ListTagsOfResourceInput{ResourceArn: aws.String(arn)}
	for {
		out, err := db.ListTagsOfResource(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
		if aws.ToString(out.NextToken) == "" {
			return tags, nil
		}
		in.NextToken = out.NextToken
	}
}

// BackupLister is the DynamoDB call that lists backups.
type BackupLister interface {
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
}

// Backups reads every page of ListBackups (the SDK has no paginator for it: it pages by the last
// backup's ARN), leaving out backups already DELETED. Errors are returned as the SDK gave them.
func Backups(ctx context.Context, db BackupLister, in dynamodb.ListBackupsInput) ([]dtypes.BackupSummary, error) {
	var out []dtypes.BackupSummary
	for {
		page, err := db.ListBackups(ctx, &in)
		if err != nil {
			return nil, err
		}
		for _, b := range page.BackupSummaries {
			if b.BackupStatus != dtypes.BackupStatusDeleted {
				out = append(out, b)
			}
		}
		if aws.ToString(page.LastEvaluatedBackupArn) == "" {
			return out, nil
		}
		in.ExclusiveStartBackupArn = page.LastEvaluatedBackupArn
	}
}

// TableDescriber is the DynamoDB call that describes a table.
type TableDescriber interface {
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// DescribeTable describes a table; one that does not exist is nil, without an error, because
// every caller treats "gone" as an answer, not a failure.
func DescribeTable(ctx context.Context, db TableDescriber, table string) (*dtypes.TableDescription, error) {
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *dtypes.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("describe %s: %w", table, err)
	}
	return out.Table, nil
}

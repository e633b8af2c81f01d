package discover

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// A stack created straight through CloudFormation (no CDK needed for this package) with one
// table and no outputs: discovery must still find the table from the stack's resources.
const templateNoOutputs = `{
  "Resources": {
    "WalletTable": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "TableName": "discover-test-table",
        "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
        "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
      }
    }
  }
}`

const templateWithOutput = `{
  "Resources": {
    "WalletTable": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "TableName": "discover-output-table",
        "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"
      }
    }
  },
  "Outputs": {"TableName": {"Value": {"Ref": "WalletTable"}}}
}`

func cfnClient(t *testing.T) *cloudformation.Client {
	t.Helper()
	localcloud.Moto(t).SetEnv(t)
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cloudformation.NewFromConfig(cfg)
}

func createStack(t *testing.T, cfn *cloudformation.Client, name, body string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
		t.Fatalf("create stack %s: %v", name, err)
	}
	w := cloudformation.NewStackCreateCompleteWaiter(cfn)
	if err := w.Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("wait for %s: %v", name, err)
	}
}

func TestDescribeFindsTablesFromResourcesAndOutputs(t *testing.T) {
	cfn := cfnClient(t)
	createStack(t, cfn, "Wallet-nooutputs", templateNoOutputs)
	createStack(t, cfn, "Wallet-outputs", templateWithOutput)

	s, err := Describe(t.Context(), cfn, "Wallet-nooutputs")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tables) != 1 || s.Tables[0].Name != "discover-test-table" || s.Tables[0].LogicalID != "WalletTable" {
		t.Fatalf("tables from resources: %+v", s.Tables)
	}
	if got, err := s.TableName(); err != nil || got != "discover-test-table" {
		t.Fatalf("TableName without outputs = %q, %v", got, err)
	}

	s, err = Describe(t.Context(), cfn, "Wallet-outputs")
	if err != nil {
		t.Fatal(err)
	}
	if s.Outputs[wallet.OutputTableName] != "discover-output-table" {
		t.Fatalf("outputs: %v", s.Outputs)
	}
	if got, _ := s.TableName(); got != "discover-output-table" {
		t.Fatalf("TableName from output = %q", got)
	}
}

func TestMissingStackIsErrStackNotFound(t *testing.T) {
	cfn := cfnClient(t)
	_, err := Describe(t.Context(), cfn, "Wallet-nope")
	if !errors.Is(err, ErrStackNotFound) {
		t.Fatalf("want ErrStackNotFound, got %v", err)
	}
}

func TestTableNameAmbiguous(t *testing.T) {
	s := &Stack{Name: "X", Outputs: map[string]string{}, Tables: []TableResource{{Name: "a"}, {Name: "b"}}}
	if _, err := s.TableName(); err == nil {
		t.Fatal("two tables and no output must be an error asking for --table")
	}
}

package discover

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cdkTemplate is the shape `cdk synth` gives the wallet table: stack tags copied onto the
// table's Tags, capacities as numbers, CDK's metadata, and outputs built from intrinsics.
const cdkTemplate = `{
 "Resources": {
  "WalletTable6E7B8C6A": {
   "Type": "AWS::DynamoDB::Table",
   "Properties": {
    "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
    "DeletionProtectionEnabled": false,
    "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": true},
    "ProvisionedThroughput": {"ReadCapacityUnits": 1, "WriteCapacityUnits": "1"},
    "Tags": [{"Key": "ManagedBy", "Value": "cdk"}, {"Key": "Project", "Value": "wallet"}, {"Key": "Stage", "Value": "dev"}],
    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": true}
   },
   "UpdateReplacePolicy": "Delete",
   "DeletionPolicy": "Delete",
   "Metadata": {"aws:cdk:path": "Wallet-dev/WalletTable/Resource"}
  },
  "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:deflate64:abc"}}
 },
 "Outputs": {"TableName": {"Value": {"Ref": "WalletTable6E7B8C6A"}}}
}`

func TestParseTablesReadsCDKTemplateWithDefaults(t *testing.T) {
	specs, err := ParseTables([]byte(cdkTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 {
		t.Fatalf("want 1 table, got %d", len(specs))
	}
	s := specs[0]
	want := map[string]string{
		"KeySchema":                    "user_id HASH",
		"AttributeDefinitions.user_id": "S",
		"BillingMode":                  "PROVISIONED", // absent: CloudFormation's default
		"ProvisionedThroughput.ReadCapacityUnits":                     "1",
		"ProvisionedThroughput.WriteCapacityUnits":                    "1", // "1" and 1 are the same to CloudFormation
		"DeletionProtectionEnabled":                                   "false",
		"SSESpecification.SSEEnabled":                                 "false", // absent: AWS owned key
		"TimeToLiveSpecification.Enabled":                             "true",
		"TimeToLiveSpecification.AttributeName":                       "expires_at",
		"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": "true",
		"Tags.ManagedBy":                                              "cdk",
		"Tags.Project":                                                "wallet",
		"Tags.Stage":                                                  "dev",
		"TableClass":                                                  "STANDARD", // absent: CloudFormation's default
	}
	if !maps.Equal(s.Fields, want) {
		t.Fatalf("fields:\n got %v\nwant %v", s.Fields, want)
	}
	if s.LogicalID != "WalletTable6E7B8C6A" || len(s.Unresolved) != 0 || !s.Exhaustive {
		t.Fatalf("spec %+v", s)
	}
}

func TestParseTablesSkipsIntrinsicFunctions(t *testing.T) {
	body := `{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
		"TableName": {"Fn::Join": ["-", ["wallet", {"Ref": "Stage"}]]},
		"KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
		"BillingMode": {"Fn::If": ["IsProd", "PAY_PER_REQUEST", "PROVISIONED"]},
		"ProvisionedThroughput": {"ReadCapacityUnits": {"Ref": "Rcu"}, "WriteCapacityUnits": 2},
		"SSESpecification": {"Fn::If": ["Kms", {"SSEEnabled": true}, {"Ref": "AWS::NoValue"}]},
		"Tags": [{"Key": "Project", "Value": "wallet"}, {"Key": "Stage", "Value": {"Ref": "Stage"}}]
	}}}}`
	specs, err := ParseTables([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	s := specs[0]
	wantSkipped := []string{"BillingMode", "ProvisionedThroughput.ReadCapacityUnits", "SSESpecification", "Tags.Stage"}
	if !slices.Equal(s.Unresolved, wantSkipped) {
		t.Fatalf("unresolved = %v, want %v", s.Unresolved, wantSkipped)
	}
	for _, f := range wantSkipped {
		if _, ok := s.Fields[f]; ok {
			t.Errorf("%s is an intrinsic function but has a declared value %q", f, s.Fields[f])
		}
	}
	if !s.Skipped("SSESpecification.SSEEnabled") || s.Skipped("Tags.Project") {
		t.Fatalf("Skipped does not cover the fields beneath an unresolved one: %v", s.Unresolved)
	}
	if s.Fields["ProvisionedThroughput.WriteCapacityUnits"] != "2" || s.Fields["Tags.Project"] != "wallet" || s.TableName != "" {
		t.Fatalf("literal fields lost: %+v", s)
	}
}

func TestParseTablesRejectsWhatItCannotRead(t *testing.T) {
	for name, body := range map[string]string{
		"yaml":               "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n",
		"key schema object":  `{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": {"AttributeName": "x"}}}}}`,
		"capacity not value": `{"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"ProvisionedThroughput": {"ReadCapacityUnits": [1]}}}}}`,
	} {
		if _, err := ParseTables([]byte(body)); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	specs, err := ParseTables([]byte(`{"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}`))
	if err != nil || len(specs) != 0 {
		t.Fatalf("template without tables: %v, %v", specs, err)
	}
}

func TestSelectTable(t *testing.T) {
	specs := []TableSpec{{LogicalID: "A", TableName: "wallet-a"}, {LogicalID: "B"}}
	if s, err := SelectTable(specs, "B", ""); err != nil || s.LogicalID != "B" {
		t.Fatalf("by logical ID: %+v, %v", s, err)
	}
	if s, err := SelectTable(specs, "", "wallet-a"); err != nil || s.LogicalID != "A" {
		t.Fatalf("by name: %+v, %v", s, err)
	}
	_, err := SelectTable(specs, "", "other")
	if !errors.Is(err, ErrNoTable) || !strings.Contains(err.Error(), "A, B") {
		t.Fatalf("ambiguous: want ErrNoTable listing the tables, got %v", err)
	}
	if s, err := SelectTable(specs[:1], "", "whatever"); err != nil || s.LogicalID != "A" {
		t.Fatalf("the only table: %+v, %v", s, err)
	}
}

// GetTemplate against moto's CloudFormation: the body that comes back is the one submitted.
func TestTemplateOfDeployedStack(t *testing.T) {
	cfn := cfnClient(t)
	createStack(t, cfn, "Wallet-template", cdkTemplate)
	body, err := Template(t.Context(), cfn, "Wallet-template")
	if err != nil {
		t.Fatal(err)
	}
	specs, err := ParseTables(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Fields["TimeToLiveSpecification.AttributeName"] != "expires_at" {
		t.Fatalf("template read back: %+v", specs)
	}
	if _, err := Template(t.Context(), cfn, "Wallet-nope"); err == nil || !strings.Contains(err.Error(), "Wallet-nope") {
		t.Fatalf("missing stack: want an error naming it, got %v", err)
	}
}

func TestCDKOutTemplatePath(t *testing.T) {
	dir := t.TempDir()
	p := CDKOutTemplate(dir, "Wallet-dev")
	if p != filepath.Join(dir, "cdk.out", "Wallet-dev.template.json") {
		t.Fatalf("path %s", p)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestParseTablesReadsDeletionPolicy(t *testing.T) {
	table := `{"Type": "AWS::DynamoDB::Table", %s "Properties": {"KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}]}}`
	body := `{"Resources": {` +
		`"Absent": ` + fmt.Sprintf(table, "") + `,` +
		`"Kept": ` + fmt.Sprintf(table, `"DeletionPolicy": "Retain",`) + `,` +
		`"Computed": ` + fmt.Sprintf(table, `"DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]},`) + `}}`
	specs, err := ParseTables([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range specs {
		got[s.LogicalID] = s.DeletionPolicy
	}
	want := map[string]string{"Absent": "Delete", "Kept": "Retain", "Computed": "unknown"}
	if !maps.Equal(got, want) {
		t.Fatalf("deletion policies %v, want %v", got, want)
	}
}

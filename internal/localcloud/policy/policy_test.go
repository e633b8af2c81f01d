package policy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

func TestParseReadsWhatIAMReturns(t *testing.T) {
	// GetPolicyVersion returns the document URL-encoded; a lone action is a string, not a list.
	enc := "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22A%22%2C%22Effect%22%3A%22Allow%22%2C" +
		"%22Action%22%3A%22dynamodb%3AListTables%22%2C%22Resource%22%3A%22*%22%7D%2C%7B%22Effect%22%3A%22Allow%22%2C" +
		"%22Action%22%3A%5B%22dynamodb%3AScan%22%2C%22dynamodb%3AGetItem%22%5D%2C%22Resource%22%3A%5B%22arn%3Aaws%3Adynamodb%3Aus-east-1%3A1%3Atable%2Fw%2Bx%22%5D%7D%5D%7D"
	d, err := Parse(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Actions(); !slices.Equal(got, []string{"dynamodb:GetItem", "dynamodb:ListTables", "dynamodb:Scan"}) {
		t.Fatalf("actions %v", got)
	}
	// '+' is a plus in RFC 3986 encoding, not a space.
	if got := d.Statement[1].Resource; !slices.Equal(got, Strings{"arn:aws:dynamodb:us-east-1:1:table/w+x"}) {
		t.Fatalf("resource %v", got)
	}
	// A Condition is kept as deployed: a copy drops it only where it says so (AnyResource).
	cond := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	d, err = Parse(cond)
	if err != nil || d.JSON() != cond {
		t.Fatalf("a Condition: %v, read back as %s", err, d.JSON())
	}
	if _, err := Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`); err == nil ||
		!strings.Contains(err.Error(), "NotAction") {
		t.Fatalf("a NotAction must be refused (a copy would silently drop it): %v", err)
	}
}

// moto sees every resource as "*" and evaluates no condition: the copy it enforces allows each
// Allow's actions on "*" without its condition, and leaves out a Deny scoped to a resource,
// which moto would apply to every resource; a Deny of "*" stays.
func TestAnyResourceIsWhatMotoCanEnforce(t *testing.T) {
	d := Document{Version: "2012-10-17", Statement: []Statement{
		{Sid: "Tags", Effect: "Allow", Action: Strings{"dynamodb:TagResource"}, Resource: Strings{"arn:aws:dynamodb:*:1:table/*"},
			Condition: []byte(`{"ForAllValues:StringEquals":{"aws:TagKeys":["k"]}}`)},
		{Sid: "Ledger", Effect: "Deny", Action: Strings{"dynamodb:DeleteTable"}, Resource: Strings{"arn:aws:dynamodb:*:1:table/wallet-ledger"}},
		{Sid: "Nothing", Effect: "Deny", Action: Strings{"dynamodb:DeleteBackup"}, Resource: Strings{"*"}},
	}}
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"Tags","Effect":"Allow","Action":["dynamodb:TagResource"],"Resource":["*"]},` +
		`{"Sid":"Nothing","Effect":"Deny","Action":["dynamodb:DeleteBackup"],"Resource":["*"]}]}`
	if got := d.AnyResource().JSON(); got != want {
		t.Fatalf("AnyResource:\n got %s\nwant %s", got, want)
	}
	if len(d.Statement) != 3 || d.Statement[0].Condition == nil {
		t.Fatal("AnyResource changed the original")
	}
}

func TestCopiesChangeOnlyWhatTheySay(t *testing.T) {
	d := Document{Version: "2012-10-17", Statement: []Statement{
		{Sid: "Items", Effect: "Allow", Action: Strings{"dynamodb:GetItem", "dynamodb:PutItem"}, Resource: Strings{"arn:aws:dynamodb:us-east-1:1:table/w"}},
		{Sid: "List", Effect: "Allow", Action: Strings{"dynamodb:ListTables"}, Resource: Strings{"*"}},
	}}
	before := d.JSON()
	wide := d.AnyResource()
	less, err := wide.Without("dynamodb:ListTables")
	if err != nil {
		t.Fatal(err)
	}
	if d.JSON() != before {
		t.Fatalf("copies changed the original: %s", d.JSON())
	}
	want := `{"Version":"2012-10-17","Statement":[{"Sid":"Items","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:PutItem"],"Resource":["*"]}]}`
	if less.JSON() != want {
		t.Fatalf("widened without ListTables:\n got %s\nwant %s", less.JSON(), want)
	}
	cw := Document{Version: "2012-10-17", Statement: []Statement{{Effect: "Allow", Action: Strings{"cloudwatch:GetMetricData", "dynamodb:Scan"}, Resource: Strings{"*"}}}}
	if got := cw.WithAlias("cloudwatch:", "monitoring:").Statement[0].Action; !slices.Equal(got, Strings{"cloudwatch:GetMetricData", "dynamodb:Scan", "monitoring:GetMetricData"}) {
		t.Fatalf("alias: %v", got)
	}
	if got := cw.Statement[0].Action; len(got) != 2 {
		t.Fatalf("WithAlias changed the original: %v", got)
	}
	if _, err := d.Without("dynamodb:DeleteTable"); err == nil || !strings.Contains(err.Error(), "dynamodb:DeleteTable") {
		t.Fatalf("removing an action the policy lacks must fail, naming it: %v", err)
	}
}

// A stack's managed policy read back from moto is the deployed document, exactly; and once IAM
// is enforced, moto allows a copy's actions and refuses the rest, by action alone: the scoped
// original matches nothing there.
func TestDeployedPolicyIsEnforcedByAction(t *testing.T) {
	m := localcloud.Moto(t)
	m.SetEnv(t)
	ctx := t.Context()
	cfg, err := awsconf.Load(ctx, awsconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfn, iamc := cloudformation.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	const stack = "Policies"
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(stack), TemplateBody: aws.String(template)}); err != nil {
		t.Fatal(err)
	}
	if err := cloudformation.NewStackCreateCompleteWaiter(cfn).Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)}, time.Minute); err != nil {
		t.Fatal(err)
	}

	d, err := Deployed(ctx, cfn, iamc, stack, "ItemsPolicy")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Actions(); !slices.Equal(got, []string{"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"}) {
		t.Fatalf("deployed actions %v", got)
	}
	if r := d.Statement[0].Resource; len(r) != 1 || !strings.HasPrefix(r[0], "arn:aws:dynamodb:us-east-1:123456789012:table/") {
		t.Fatalf("deployed resource %v: want the table's ARN, as CloudFormation resolved it", r)
	}
	if _, err := Deployed(ctx, cfn, iamc, stack, "TeardownPolicy"); err == nil || !strings.Contains(err.Error(), "ItemsPolicy") {
		t.Fatalf("a prefix no policy has must fail, naming the policies there are: %v", err)
	}

	admin := newUser(t, iamc, "admin", AllowAll())
	scoped := newUser(t, iamc, "scoped", d)
	wide := newUser(t, iamc, "wide", d.AnyResource())
	noPut, err := d.AnyResource().Without("dynamodb:PutItem")
	if err != nil {
		t.Fatal(err)
	}
	cannotPut := newUser(t, iamc, "cannot-put", noPut)
	if err := m.EnforceIAM(ctx); err != nil {
		t.Fatal(err)
	}

	db := func(u User) *dynamodb.Client {
		c := cfg.Copy()
		c.Credentials = u.Credentials()
		return dynamodb.NewFromConfig(c)
	}
	out, err := db(admin).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil || len(out.TableNames) != 1 {
		t.Fatalf("admin lists tables: %v %v", out, err)
	}
	table := out.TableNames[0]
	key := map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "alice"}}
	calls := map[string]func(*dynamodb.Client) error{
		"dynamodb:DescribeTable": func(c *dynamodb.Client) error {
			_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
			return err
		},
		"dynamodb:PutItem": func(c *dynamodb.Client) error {
			_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: key})
			return err
		},
		"dynamodb:GetItem": func(c *dynamodb.Client) error {
			_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: &table, Key: key})
			return err
		},
		"dynamodb:Scan": func(c *dynamodb.Client) error {
			_, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
			return err
		},
		"dynamodb:DeleteTable": func(c *dynamodb.Client) error {
			_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
			return err
		},
	}
	for _, tc := range []struct {
		user    User
		allowed []string
	}{
		{scoped, nil}, // moto sees the resource "*": a table-scoped statement matches nothing
		{wide, []string{"dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem"}},
		{cannotPut, []string{"dynamodb:DescribeTable", "dynamodb:GetItem"}},
	} {
		for _, action := range []string{"dynamodb:DescribeTable", "dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:DeleteTable"} {
			err := calls[action](db(tc.user))
			if slices.Contains(tc.allowed, action) {
				if err != nil {
					t.Errorf("%s: %s refused: %v", tc.user.Name, action, err)
				}
				continue
			}
			de, ok := awsconf.AsDenied(err)
			if !ok || de.Action != action {
				t.Errorf("%s: %s: want a denial naming it, got %v", tc.user.Name, action, err)
			}
		}
	}
	// The fixed test credentials belong to no user: refused too.
	if err := calls["dynamodb:DescribeTable"](dynamodb.NewFromConfig(cfg)); err == nil {
		t.Error("the test credentials still work after EnforceIAM")
	}
	if err := calls["dynamodb:DescribeTable"](db(admin)); err != nil {
		t.Errorf("the table must still be there: %v", err)
	}
}

func newUser(t *testing.T, iamc IAM, name string, d Document) User {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	u, err := NewUser(ctx, iamc, name, d)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A table and a managed policy scoped to it, as the wallet stack declares its VerifyPolicy.
const template = `{
  "Resources": {
    "Table": {
      "Type": "AWS::DynamoDB::Table",
      "Properties": {
        "KeySchema": [{"AttributeName": "user_id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "user_id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST"
      }
    },
    "ItemsPolicy1A2B3C4D": {
      "Type": "AWS::IAM::ManagedPolicy",
      "Properties": {
        "PolicyDocument": {
          "Version": "2012-10-17",
          "Statement": [{
            "Sid": "WalletTable",
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DescribeTable"],
            "Resource": {"Fn::GetAtt": ["Table", "Arn"]}
          }]
        }
      }
    }
  }
}`

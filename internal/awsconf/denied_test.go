package awsconf

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// A stand-in server, because the point is the two shapes a refusal takes on the wire: AWS's
// JSON AccessDeniedException, and moto's XML body with HTTP 403 that the DynamoDB client cannot
// parse. The enforced-IAM tests on moto itself are in e2e.
func TestDenialsAreRecognisedAndNamed(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		call                    func(*dynamodb.Client) error
		want                    []string
	}{
		{
			"AWS JSON, the service names action and resource", "application/x-amz-json-1.0",
			`{"__type":"com.amazon.coral.service#AccessDeniedException","message":"User: arn:aws:iam::1:user/u is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:1:table/w because no identity-based policy allows the dynamodb:PutItem action"}`,
			func(db *dynamodb.Client) error {
				_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String("w"), Item: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "a"}}})
				return err
			},
			[]string{"DynamoDB PutItem on arn:aws:dynamodb:us-east-1:1:table/w needs IAM action dynamodb:PutItem"},
		},
		{
			"moto XML with 403: the action from its message, the resource from the request", "text/xml",
			`<?xml version="1.0" encoding="utf-8"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/limited is not authorized to perform: dynamodb:DeleteTable</Message></Error></Errors></ErrorResponse>`,
			func(db *dynamodb.Client) error {
				_, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String("w")})
				return err
			},
			[]string{"DynamoDB DeleteTable on table w needs IAM action dynamodb:DeleteTable"},
		},
		{
			"moto XML with 403 for a batch: the tables from the request's RequestItems", "text/xml",
			`<?xml version="1.0" encoding="utf-8"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/limited is not authorized to perform: dynamodb:BatchWriteItem</Message></Error></Errors></ErrorResponse>`,
			func(db *dynamodb.Client) error {
				put := []types.WriteRequest{{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "a"}}}}}
				_, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"w": put, "v": put}})
				return err
			},
			[]string{"DynamoDB BatchWriteItem on table v, w needs IAM action dynamodb:BatchWriteItem"},
		},
		{
			"403 with nothing readable: TransactWriteItems names its items' actions", "text/html", `<html>Forbidden</html>`,
			func(db *dynamodb.Client) error {
				_, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
					{Update: &types.Update{TableName: aws.String("w"), Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "a"}}, UpdateExpression: aws.String("SET b = :x")}},
					{ConditionCheck: &types.ConditionCheck{TableName: aws.String("w"), Key: map[string]types.AttributeValue{"user_id": &types.AttributeValueMemberS{Value: "b"}}, ConditionExpression: aws.String("attribute_exists(user_id)")}},
				}})
				return err
			},
			[]string{"DynamoDB TransactWriteItems on table w needs IAM action dynamodb:UpdateItem and dynamodb:ConditionCheckItem"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := standIn(t, http.StatusForbidden, tc.contentType, tc.body)
			err := tc.call(dynamodb.NewFromConfig(cfg))
			d, ok := AsDenied(err)
			if !ok {
				t.Fatalf("not recognised as a denial: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Error(), w) {
					t.Errorf("%q does not say %q", d.Error(), w)
				}
			}
		})
	}
}

// Refused credentials are not a missing permission, even when the service answers 403: the
// message must not tell the user to attach a policy. A stand-in server gives CloudFormation's
// and STS's shape of that answer.
func TestRefusedCredentialsAreNotDenials(t *testing.T) {
	cfg := standIn(t, http.StatusForbidden, "application/x-amz-json-1.0", `{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}`)
	_, err := dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("w")})
	if d, ok := AsDenied(err); ok || !CredentialsRefused(err) {
		t.Fatalf("an expired token classified as denied=%v (%v), credentials refused=%v: %v", ok, d, CredentialsRefused(err), err)
	}
}

// standIn is a server that answers every request with status, contentType and body, and the
// configuration Load gives for it (one attempt, test credentials): the shapes of answers these
// tests are about, which no local backend sends on demand.
func standIn(t *testing.T, status int, contentType, body string) aws.Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	cfg, err := Load(context.Background(), Options{Region: "us-east-1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A 400 that is not about permissions is not a denial.
func TestOtherErrorsAreNotDenials(t *testing.T) {
	cfg := standIn(t, http.StatusBadRequest, "application/x-amz-json-1.0", `{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"no table"}`)
	_, err := dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("w")})
	if d, ok := AsDenied(err); ok || err == nil {
		t.Fatalf("ResourceNotFound classified as %v (err %v)", d, err)
	}
}

// A broken or hostile endpoint's bytes never reach the terminal as they are. A stand-in server:
// no real backend sends garbage on purpose.
func TestErrorsFromABrokenServerArePrintable(t *testing.T) {
	garbage := "\x1b[2J\x00\xff\xfe" + strings.Repeat("A", 5000)
	echoed, _ := json.Marshal(garbage) // valid JSON carrying the bytes, as a server would echo them
	cfg := standIn(t, http.StatusBadRequest, "application/x-amz-json-1.0", `{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":`+string(echoed)+`}`)
	_, err := dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("w")})
	msg := err.Error()
	if strings.ContainsAny(msg, "\x1b\x00") || !utf8.ValidString(msg) || len(msg) > 1000 || !strings.Contains(msg, "bytes cut") {
		t.Fatalf("unsafe or unbounded error text (%d bytes): %q", len(msg), msg[:min(len(msg), 200)])
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("the service's error must still be found under the cleaned text: %T", err)
	}
}

// moto's CloudFormation wraps its error one level deeper than the SDK reads, so the code comes
// back as the SDK's placeholder, UnknownError, with HTTP 403: still a denial, read from its
// message. A stand-in server gives exactly that body.
func TestMotoCloudFormationDenialIsRecognised(t *testing.T) {
	cfg := standIn(t, http.StatusForbidden, "text/xml", `<?xml version="1.0" encoding="utf-8"?><ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/u is not authorized to perform: cloudformation:DeleteStack</Message><Type>Sender</Type></Error></Errors></ErrorResponse>`)
	_, err := cloudformation.NewFromConfig(cfg).DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String("Wallet-dev")})
	d, ok := AsDenied(err)
	if !ok || !strings.Contains(d.Error(), "CloudFormation DeleteStack on stack Wallet-dev needs IAM action cloudformation:DeleteStack") {
		t.Fatalf("not recognised as the denial it is: %v (%v)", d, err)
	}
}

// A refusal the service does not name is named by the call's IAM action, in IAM's prefix where
// it is not the SDK's service id: application-autoscaling, not applicationautoscaling.
func TestDerivedActionsTakeIAMsPrefix(t *testing.T) {
	for service, want := range map[string]string{
		"Application Auto Scaling": "application-autoscaling:DescribeScalableTargets",
		"CloudFormation":           "cloudformation:DescribeScalableTargets",
	} {
		if got := iamAction(service, "DescribeScalableTargets", nil); got != want {
			t.Errorf("%s: %s, want %s", service, got, want)
		}
	}
}

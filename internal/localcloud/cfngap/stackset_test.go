package cfngap_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/cfngap"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// A stack holding a service-managed StackSet, as the organization's janitor stack does: moto
// skips the resource, StackSets creates the set and its instances from the resource's own
// properties, and the member role lands in every account of the target, trusting the stack's
// role by its ARN.
func TestStackSetsFillsTheGap(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	ctx := t.Context()
	o := fixture.NewOrg(t, "gap", 2)
	roots, err := o.Client.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		t.Fatal(err)
	}
	root := aws.ToString(roots.Roots[0].Id)
	member := map[string]any{
		"Parameters": map[string]any{"CentralRoleArn": map[string]any{"Type": "String"}, "OrganizationId": map[string]any{"Type": "String"}},
		"Resources": map[string]any{"Role": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
			"RoleName": "GapMember",
			"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
				"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"AWS": map[string]any{"Ref": "CentralRoleArn"}},
				"Condition": map[string]any{"StringEquals": map[string]any{"aws:PrincipalOrgID": map[string]any{"Ref": "OrganizationId"}}}}}},
		}}},
	}
	body, _ := json.Marshal(member)
	tmpl, _ := json.Marshal(map[string]any{"Resources": map[string]any{
		"Central": map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{
			"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}}}}}},
		"Members": map[string]any{"Type": "AWS::CloudFormation::StackSet", "Properties": map[string]any{
			"StackSetName": "GapMember", "PermissionModel": "SERVICE_MANAGED", "Capabilities": []string{"CAPABILITY_NAMED_IAM"},
			"AutoDeployment": map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false},
			"StackInstancesGroup": []any{map[string]any{"DeploymentTargets": map[string]any{"OrganizationalUnitIds": []string{root}},
				"Regions": []any{map[string]any{"Ref": "AWS::Region"}}}},
			"Parameters": []any{
				map[string]any{"ParameterKey": "CentralRoleArn", "ParameterValue": map[string]any{"Fn::GetAtt": []string{"Central", "Arn"}}},
				map[string]any{"ParameterKey": "OrganizationId", "ParameterValue": o.ID},
			},
			"TemplateBody": string(body),
		}},
	}})
	cloud := fixture.NewCloud(t, "us-east-1")
	if _, err := cloud.CloudFormation.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String("Gap"), TemplateBody: aws.String(string(tmpl)),
		Capabilities: nil}); err != nil {
		t.Fatal(err)
	}
	if err := cloudformation.NewStackCreateCompleteWaiter(cloud.CloudFormation).Wait(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String("Gap")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, acct := range o.Members {
		if _, err := iam.NewFromConfig(fixture.InAccount(t, acct, "Any", "us-east-1").Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("GapMember")}); err == nil {
			t.Fatalf("account %s has the member role before the gap is filled: moto deployed the StackSet after all", acct)
		}
	}
	if err := cfngap.StackSets(ctx, cloud.Config, "Gap"); err != nil {
		t.Fatal(err)
	}
	for _, acct := range o.Members {
		out, err := iam.NewFromConfig(fixture.InAccount(t, acct, "Any", "us-east-1").Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("GapMember")})
		if err != nil {
			t.Fatalf("account %s: %v", acct, err)
		}
		trust, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
		if !strings.Contains(trust, ":iam::"+o.Management+":role/") || !strings.Contains(trust, o.ID) {
			t.Errorf("account %s: trust %s", acct, trust)
		}
	}
}

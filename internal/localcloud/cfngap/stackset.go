package cfngap

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// StackSets does what moto's CloudFormation skips ("No Moto CloudFormation support for
// AWS::CloudFormation::StackSet"): for each StackSet resource of the deployed stack's template
// it creates the stack set and its instances through the StackSets API, from the resource's own
// properties, as CloudFormation would. A parameter value written as {"Fn::GetAtt": [X, "Arn"]}
// on an IAM role of the stack is resolved to that role's ARN; nothing else is resolved.
func StackSets(ctx context.Context, cfg aws.Config, stack string) error {
	cfn := cloudformation.NewFromConfig(cfg)
	body, err := discover.Template(ctx, cfn, stack)
	if err != nil {
		return err
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties stackSetProps
		}
	}
	if err := json.Unmarshal(body, &tmpl); err != nil {
		return fmt.Errorf("template of %s: %w", stack, err)
	}
	physical, err := physicalIDs(ctx, cfn, stack)
	if err != nil {
		return err
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("get caller identity: %w", err)
	}
	for id, r := range tmpl.Resources {
		if r.Type != "AWS::CloudFormation::StackSet" {
			continue
		}
		if err := createStackSet(ctx, cfn, r.Properties, func(v json.RawMessage) (string, error) {
			return resolve(v, physical, aws.ToString(who.Account), cfg.Region)
		}); err != nil {
			return fmt.Errorf("stack set %s of %s: %w", id, stack, err)
		}
	}
	return nil
}

type stackSetProps struct {
	StackSetName    string
	Description     string
	PermissionModel string
	TemplateBody    string
	Capabilities    []string
	AutoDeployment  *cfntypes.AutoDeployment
	Parameters      []struct {
		ParameterKey   string
		ParameterValue json.RawMessage
	}
	StackInstancesGroup []struct {
		DeploymentTargets struct{ OrganizationalUnitIds, Accounts []string }
		Regions           []json.RawMessage
	}
}

func createStackSet(ctx context.Context, cfn *cloudformation.Client, p stackSetProps, value func(json.RawMessage) (string, error)) error {
	in := &cloudformation.CreateStackSetInput{
		StackSetName:    aws.String(p.StackSetName),
		Description:     aws.String(p.Description),
		TemplateBody:    aws.String(p.TemplateBody),
		PermissionModel: cfntypes.PermissionModels(p.PermissionModel),
		AutoDeployment:  p.AutoDeployment,
	}
	for _, c := range p.Capabilities {
		in.Capabilities = append(in.Capabilities, cfntypes.Capability(c))
	}
	for _, pr := range p.Parameters {
		v, err := value(pr.ParameterValue)
		if err != nil {
			return fmt.Errorf("parameter %s: %w", pr.ParameterKey, err)
		}
		in.Parameters = append(in.Parameters, cfntypes.Parameter{ParameterKey: aws.String(pr.ParameterKey), ParameterValue: aws.String(v)})
	}
	if _, err := cfn.CreateStackSet(ctx, in); err != nil {
		return fmt.Errorf("create: %w", err)
	}
	for _, g := range p.StackInstancesGroup {
		var regions []string
		for _, r := range g.Regions {
			v, err := value(r)
			if err != nil {
				return fmt.Errorf("region: %w", err)
			}
			regions = append(regions, v)
		}
		if _, err := cfn.CreateStackInstances(ctx, &cloudformation.CreateStackInstancesInput{
			StackSetName:      aws.String(p.StackSetName),
			Regions:           regions,
			DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: g.DeploymentTargets.OrganizationalUnitIds, Accounts: g.DeploymentTargets.Accounts},
		}); err != nil {
			return fmt.Errorf("create instances: %w", err)
		}
	}
	return nil
}

// physicalIDs maps the stack's logical ids to physical ones.
func physicalIDs(ctx context.Context, cfn *cloudformation.Client, stack string) (map[string]string, error) {
	out := map[string]string{}
	pages := cloudformation.NewListStackResourcesPaginator(cfn, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("resources of %s: %w", stack, err)
		}
		for _, r := range page.StackResourceSummaries {
			out[aws.ToString(r.LogicalResourceId)] = aws.ToString(r.PhysicalResourceId)
		}
	}
	return out, nil
}

// resolve reads a literal string, {"Ref": "AWS::Region"} (the stack's region), or a role's
// {"Fn::GetAtt": [X, "Arn"]}.
func resolve(v json.RawMessage, physical map[string]string, account, region string) (string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var getAtt struct {
		GetAtt []string `json:"Fn::GetAtt"`
	}
	if json.Unmarshal(v, &getAtt) == nil && len(getAtt.GetAtt) == 2 && getAtt.GetAtt[1] == "Arn" {
		name := physical[getAtt.GetAtt[0]]
		if name == "" {
			return "", fmt.Errorf("no resource %s", getAtt.GetAtt[0])
		}
		if strings.HasPrefix(name, "arn:") {
			return name, nil
		}
		return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, name), nil
	}
	var ref struct{ Ref string }
	if json.Unmarshal(v, &ref) == nil && ref.Ref == "AWS::Region" {
		return region, nil
	}
	return "", fmt.Errorf("cannot resolve %s here", v)
}

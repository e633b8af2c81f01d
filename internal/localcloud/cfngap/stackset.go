package cfngap

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
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
		if err := createStackSet(ctx, cfn, organizations.NewFromConfig(cfg), r.Properties, func(v json.RawMessage) (string, error) {
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

// createStackSet creates the stack set and its instances. moto deploys a service-managed stack
// set's instances to every account of its organizational units, the organization's management
// account too, which CloudFormation never does (service-managed StackSets skip the management
// account): a stack there would meet what the management account's own stack made (the janitor
// stack's ledger) and fail the whole operation. So a service-managed stack set is created here
// with the units' member accounts named, the management account left out, as CloudFormation
// would have deployed it.
func createStackSet(ctx context.Context, cfn *cloudformation.Client, orgs *organizations.Client, p stackSetProps, value func(json.RawMessage) (string, error)) error {
	in := &cloudformation.CreateStackSetInput{
		StackSetName:    aws.String(p.StackSetName),
		Description:     aws.String(p.Description),
		TemplateBody:    aws.String(p.TemplateBody),
		PermissionModel: cfntypes.PermissionModels(p.PermissionModel),
		AutoDeployment:  p.AutoDeployment,
	}
	serviceManaged := in.PermissionModel == cfntypes.PermissionModelsServiceManaged
	if serviceManaged {
		in.PermissionModel, in.AutoDeployment = cfntypes.PermissionModelsSelfManaged, nil
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
		ci := &cloudformation.CreateStackInstancesInput{
			StackSetName:      aws.String(p.StackSetName),
			Regions:           regions,
			DeploymentTargets: &cfntypes.DeploymentTargets{OrganizationalUnitIds: g.DeploymentTargets.OrganizationalUnitIds, Accounts: g.DeploymentTargets.Accounts},
		}
		if serviceManaged {
			members, err := membersOf(ctx, orgs, g.DeploymentTargets.OrganizationalUnitIds)
			if err != nil {
				return err
			}
			if len(members) == 0 {
				continue
			}
			ci.DeploymentTargets, ci.Accounts = nil, members
		}
		if _, err := cfn.CreateStackInstances(ctx, ci); err != nil {
			return fmt.Errorf("create instances: %w", err)
		}
	}
	return nil
}

// membersOf are the accounts under the organizational units (and their units, all the way
// down), but the organization's management account.
func membersOf(ctx context.Context, orgs *organizations.Client, units []string) ([]string, error) {
	org, err := orgs.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, fmt.Errorf("describe the organization: %w", err)
	}
	mgmt := aws.ToString(org.Organization.MasterAccountId)
	var out []string
	for len(units) > 0 {
		ou := units[0]
		units = units[1:]
		accounts := organizations.NewListAccountsForParentPaginator(orgs, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou)})
		for accounts.HasMorePages() {
			page, err := accounts.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("accounts of %s: %w", ou, err)
			}
			for _, a := range page.Accounts {
				if id := aws.ToString(a.Id); id != mgmt && !slices.Contains(out, id) {
					out = append(out, id)
				}
			}
		}
		children := organizations.NewListOrganizationalUnitsForParentPaginator(orgs, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(ou)})
		for children.HasMorePages() {
			page, err := children.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("units of %s: %w", ou, err)
			}
			for _, c := range page.OrganizationalUnits {
				units = append(units, aws.ToString(c.Id))
			}
		}
	}
	return out, nil
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

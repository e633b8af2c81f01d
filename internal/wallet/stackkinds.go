package wallet

import "slices"

// The kinds of resource a wallet stack declares (infra's NewWalletStack, in every configuration
// the context contract allows: dev and prod, provisioned and on-demand, with and without the
// check inside the deploy, fixed and auto-scaled capacity), plus the metadata resource `cdk deploy` adds. infra's template test
// holds this list equal to what it synthesizes, so a new construct in the stack comes with its
// kind here. It lives here, not in infra, because the verify binary reads it and never imports
// CDK.
//
// The sweep, the janitor and teardown delete a stack only when every resource it holds is of
// one of these kinds: CloudFormation deletes a stack's resources with the stack's service role
// (cdk's cfn-exec-role, admin by default), not with the caller's permissions, so no IAM
// condition on the caller protects a queue or a bucket someone added to the stack. This check is
// what does.
const (
	ResourceScalableTarget = "AWS::ApplicationAutoScaling::ScalableTarget" // a dimension's auto scaling
	ResourceScalingPolicy  = "AWS::ApplicationAutoScaling::ScalingPolicy"  // its target tracking
	ResourceTable          = "AWS::DynamoDB::Table"
	ResourceManagedPolicy  = "AWS::IAM::ManagedPolicy"             // the VerifyPolicy
	ResourceCustomResource = "AWS::CloudFormation::CustomResource" // the deploy check
	ResourceFunction       = "AWS::Lambda::Function"               // the deploy check's function
	ResourceRole           = "AWS::IAM::Role"                      // its role
	ResourcePolicy         = "AWS::IAM::Policy"                    // its logs policy
	ResourceLogGroup       = "AWS::Logs::LogGroup"                 // its log group
	ResourceCDKMetadata    = "AWS::CDK::Metadata"                  // cdk's version reporting
)

// StackResourceTypes are the kinds a wallet stack declares, sorted: a new slice on every call.
func StackResourceTypes() []string {
	return []string{
		ResourceScalableTarget,
		ResourceScalingPolicy,
		ResourceCDKMetadata,
		ResourceCustomResource,
		ResourceTable,
		ResourceManagedPolicy,
		ResourcePolicy,
		ResourceRole,
		ResourceFunction,
		ResourceLogGroup,
	}
}

// DeclaredResourceType reports whether a wallet stack declares resources of this kind.
func DeclaredResourceType(kind string) bool {
	return slices.Contains(StackResourceTypes(), kind)
}

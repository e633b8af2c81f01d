package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// dependsOnOnly sets a function's whole DependsOn to the given resources (its role's separate
// policies, without which a first invocation could run before its permissions exist). CDK's
// Function adds a DependsOn on its role too, which repeats the Fn::GetAtt of the role's ARN that
// already orders them; cfn-lint flags that repetition (W3005), so it is left out.
func dependsOnOnly(fn awslambda.Function, deps ...constructs.IConstruct) {
	ids := make([]*string, len(deps))
	for i, d := range deps {
		ids[i] = d.Node().DefaultChild().(awscdk.CfnResource).LogicalId()
	}
	fn.Node().DefaultChild().(awscdk.CfnResource).AddOverride(jsii.String("DependsOn"), ids)
}

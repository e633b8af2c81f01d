package main

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// wallet.StackResourceTypes is what the sweep, the janitor and teardown let a stack hold and
// still delete it: it must be exactly the kinds this app declares in a wallet stack, over every
// shape the context contract gives one (dev and prod, provisioned, auto-scaled and on-demand,
// with and without the check inside the deploy), with cdk's version reporting on as `cdk deploy` has it
// by default (AWS::CDK::Metadata). A kind missing from the list would keep every wallet stack
// from being swept; a kind in it the app never declares would let a stack holding one go.
func TestTheWalletStackKindsAreWhatInfraSynthesizes(t *testing.T) {
	seen := map[string][]string{} // kind → the shapes that declare it
	for _, stage := range []string{"dev", "prod"} {
		for _, billing := range []string{"provisioned", "on-demand", "auto-scaled"} {
			for _, check := range []bool{true, false} {
				shape := fmt.Sprintf("%s/%s/check=%v", stage, billing, check)
				ctx := map[string]any{"stage": stage, "billing": billing, "verifyOnDeploy": check}
				if billing == "auto-scaled" {
					ctx["billing"], ctx["readMax"], ctx["writeMax"] = "provisioned", "10", "10"
				}
				app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(t.TempDir()), AnalyticsReporting: jsii.Bool(true)})
				built, err := build(app, testCode(t))
				if err != nil {
					t.Fatalf("%s: build: %v", shape, err)
				}
				// The template the cloud assembly holds: what `cdk deploy` sends.
				doc := norm(t, app.Synth(nil).GetStackByName(built.Wallet.StackName()).Template())
				resources, ok := doc["Resources"].(map[string]any)
				if !ok {
					t.Fatalf("%s: no Resources in %s", shape, js(doc))
				}
				for id, r := range resources {
					kind, _ := r.(map[string]any)["Type"].(string)
					if !wallet.DeclaredResourceType(kind) {
						t.Errorf("%s declares %s (%s), which wallet.StackResourceTypes does not list: a sweep would never delete such a stack", shape, id, kind)
					}
					if !slices.Contains(seen[kind], shape) {
						seen[kind] = append(seen[kind], shape)
					}
				}
			}
		}
	}
	if got, want := slices.Sorted(maps.Keys(seen)), wallet.StackResourceTypes(); !slices.Equal(got, want) {
		t.Errorf("the kinds synthesized are %v; wallet.StackResourceTypes lists %v: it must list exactly what infra declares", got, want)
	}
	if !slices.IsSorted(wallet.StackResourceTypes()) {
		t.Errorf("wallet.StackResourceTypes is not sorted: %v", wallet.StackResourceTypes())
	}
}

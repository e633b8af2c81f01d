package main

import (
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// The app synthesized as `cdk synth` does, and each stack's declared monthly cost printed from
// the templates synth wrote: at list prices, at a price from the environment, from the least to
// the most an auto-scaled table costs, and never fatal.
func TestSynthPrintsEachStacksDeclaredCost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		env     map[string]string
		want    []string
	}{
		{"dev at list prices", map[string]any{}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month\n",
			"WalletJanitor: 1 table, 1 on-demand: $0.00/month + on-demand requests\n"}}, // the ledger
		// (5 × 0.001 + 3 × 0.00065) × 730 = $5.07.
		{"dev 5/3 at a price from the environment", map[string]any{"readCapacity": "5", "writeCapacity": "3"},
			map[string]string{"WALLET_PRICE_RCU_HOUR": "0.001"}, []string{"Wallet-dev: 1 table, 5 RCU / 3 WCU provisioned: $5.07/month\n"}},
		// 1/1 to 10/10: 10 × $0.0949 + 10 × $0.4745 = $5.69 at the top of the range.
		{"dev auto scaled to 10/10", map[string]any{"readMax": "10", "writeMax": "10"}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned, auto scaled up to 10 RCU / 10 WCU: $0.57 to $5.69/month\n"}},
		{"prod on demand", map[string]any{"stage": "prod", "billing": "on-demand"}, nil, []string{
			"Wallet-prod: 1 table, 1 on-demand: $0.00/month + on-demand requests\n"}},
		{"a bad price is said, not fatal", map[string]any{}, map[string]string{"WALLET_PRICE_WCU_HOUR": "1_000"}, []string{
			`Declared monthly cost not shown: WALLET_PRICE_WCU_HOUR="1_000"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Context: &tc.context, Outdir: jsii.String(t.TempDir())})
			if _, err := build(app, testCode(t)); err != nil {
				t.Fatalf("build: %v", err)
			}
			var out strings.Builder
			printPrices(&out, app.Synth(nil), func(k string) string { return tc.env[k] })
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("printed %q, want %q", out.String(), w)
				}
			}
		})
	}
}

// A real TableV2 (what CDK offers for a table with replicas: an AWS::DynamoDB::GlobalTable),
// provisioned, with a second replica and an index, synthesized: the price synth prints and
// cost.Declare of the template synth wrote are one figure, and not $0. Each of the two replicas
// reads 5 (its index 3, the table's defaults a replica inherits) and writes 2 (its index 1),
// autoscaled: at the minimum (8 × $0.00013 + 3 × $0.00065) × 730 × 2 = $4.3654, at the maximum
// (10 and 5) (8 × $0.00013 + 15 × $0.00065) × 730 × 2 = $15.7534.
func TestSynthPricesAGlobalTable(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("GlobalPriced"), &awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("us-east-1")}})
	awsdynamodb.NewTableV2(stack, jsii.String("Table"), &awsdynamodb.TablePropsV2{
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("user_id"), Type: awsdynamodb.AttributeType_STRING},
		Billing: awsdynamodb.Billing_Provisioned(&awsdynamodb.ThroughputProps{
			ReadCapacity:  awsdynamodb.Capacity_Fixed(jsii.Number(5)),
			WriteCapacity: awsdynamodb.Capacity_Autoscaled(&awsdynamodb.AutoscaledCapacityOptions{MinCapacity: jsii.Number(2), MaxCapacity: jsii.Number(10)}),
		}),
		GlobalSecondaryIndexes: &[]*awsdynamodb.GlobalSecondaryIndexPropsV2{{
			IndexName:     jsii.String("by_balance"),
			PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String("balance"), Type: awsdynamodb.AttributeType_NUMBER},
			ReadCapacity:  awsdynamodb.Capacity_Fixed(jsii.Number(3)),
			WriteCapacity: awsdynamodb.Capacity_Autoscaled(&awsdynamodb.AutoscaledCapacityOptions{MinCapacity: jsii.Number(1), MaxCapacity: jsii.Number(5)}),
		}},
		Replicas:      &[]*awsdynamodb.ReplicaTableProps{{Region: jsii.String("eu-west-1")}},
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	asm := app.Synth(nil)
	var out strings.Builder
	printPrices(&out, asm, func(string) string { return "" })

	body, err := os.ReadFile(*asm.GetStackByName(jsii.String("GlobalPriced")).TemplateFullPath())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"AWS::DynamoDB::GlobalTable"`) {
		t.Fatalf("TableV2 synthesized no AWS::DynamoDB::GlobalTable:\n%s", body)
	}
	d, err := cost.Declare(body, cost.USEast1())
	if err != nil {
		t.Fatal(err)
	}
	if d.DeclaredMonthlyUSD != 4.3654 || d.DeclaredMaxMonthlyUSD == nil || *d.DeclaredMaxMonthlyUSD != 15.7534 || len(d.Tables) != 1 || len(d.Tables[0].Replicas) != 2 {
		t.Fatalf("declared %+v: want $4.3654 to $15.7534, two replicas", d)
	}
	if printed := out.String(); printed != d.Summary("GlobalPriced")+"\n" ||
		printed != "GlobalPriced: 1 table (1 global, of 2 replicas), 16 RCU / 6 WCU provisioned, auto scaled up to 16 RCU / 30 WCU: $4.37 to $15.75/month\n" {
		t.Fatalf("synth printed %q; cost.Declare says %q", printed, d.Summary("GlobalPriced"))
	}
}

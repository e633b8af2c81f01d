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
// the templates synth wrote: at the prices of the region it is for (no region of its own here:
// CDK's default, else us-east-1), from the shipped table (synth asks no network, and the cache
// is empty), at a price from the environment, from the least to the most an auto-scaled table
// costs, and never fatal. A region no price is known for is priced at us-east-1's, and the line
// says so.
func TestSynthPrintsEachStacksDeclaredCost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		env     map[string]string
		want    []string
	}{
		{"dev at us-east-1's list prices", map[string]any{}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month at us-east-1 prices\n",
			"WalletJanitor: 1 table, 1 on-demand: $0.00/month + on-demand requests at us-east-1 prices\n"}}, // the ledger
		// (0.0001586 + 0.000793) × 730 = $0.69: the shipped table's eu-central-1 row.
		{"dev at CDK's default region's prices", map[string]any{}, map[string]string{"CDK_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "us-west-2"}, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.69/month at eu-central-1 prices\n"}},
		{"a region no price is known for is said", map[string]any{}, map[string]string{"AWS_REGION": "xx-nowhere-1"}, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month at xx-nowhere-1 prices (no prices are known for xx-nowhere-1, not a commercial region: us-east-1's, an estimate)\n"}},
		// (5 × 0.001 + 3 × 0.00065) × 730 = $5.07.
		{"dev 5/3 at a price from the environment", map[string]any{"readCapacity": "5", "writeCapacity": "3"},
			map[string]string{"WALLET_PRICE_RCU_HOUR": "0.001"}, []string{"Wallet-dev: 1 table, 5 RCU / 3 WCU provisioned: $5.07/month at us-east-1 prices\n"}},
		// 1/1 to 10/10: 10 × $0.0949 + 10 × $0.4745 = $5.69 at the top of the range.
		{"dev auto scaled to 10/10", map[string]any{"readMax": "10", "writeMax": "10"}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned, auto scaled up to 10 RCU / 10 WCU: $0.57 to $5.69/month at us-east-1 prices\n"}},
		{"prod on demand", map[string]any{"stage": "prod", "billing": "on-demand"}, nil, []string{
			"Wallet-prod: 1 table, 1 on-demand: $0.00/month + on-demand requests at us-east-1 prices\n"}},
		// (0.00016 + 0.00081) × 730 = $0.71: us-east-1's Standard-IA prices, not Standard's $0.57.
		{"dev of the Standard-IA class at its prices", map[string]any{"tableClass": "standard-ia"}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.71/month at us-east-1 prices\n"}},
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
// autoscaled, each replica at its region's prices (the shipped table's: synth asks no network):
// at the minimum (8 × $0.00013 + 3 × $0.00065) × 730 = $2.1827 in us-east-1, (8 × $0.000147 +
// 3 × $0.000735) × 730 = $2.4681 in eu-west-1, $4.6508 together; at the maximum (10 and 5)
// (8 × $0.00013 + 15 × $0.00065) × 730 = $7.8767 and (8 × $0.000147 + 15 × $0.000735) × 730 =
// $8.9067, $16.7834 together.
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
	d, err := cost.Declare(body, cost.ShippedPrices("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	if d.DeclaredMonthlyUSD != 4.6508 || d.DeclaredMaxMonthlyUSD == nil || *d.DeclaredMaxMonthlyUSD != 16.7834 || len(d.Tables) != 1 || len(d.Tables[0].Replicas) != 2 {
		t.Fatalf("declared %+v: want $4.6508 to $16.7834, two replicas", d)
	}
	if printed := out.String(); printed != d.Summary("GlobalPriced")+" at us-east-1, eu-west-1 prices\n" ||
		printed != "GlobalPriced: 1 table (1 global, of 2 replicas), 16 RCU / 6 WCU provisioned, auto scaled up to 16 RCU / 30 WCU: $4.65 to $16.78/month at us-east-1, eu-west-1 prices\n" {
		t.Fatalf("synth printed %q; cost.Declare says %q", printed, d.Summary("GlobalPriced"))
	}
}

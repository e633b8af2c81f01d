package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// The app synthesized as `cdk synth` does, and each stack's declared monthly cost printed from
// the templates synth wrote: at list prices, at a price from the environment, and never fatal.
func TestSynthPrintsEachStacksDeclaredCost(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		env     map[string]string
		want    []string
	}{
		{"dev at list prices", map[string]any{}, nil, []string{
			"Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month\n",
			"WalletJanitor: no DynamoDB tables: $0.00/month\n"}},
		// (5 × 0.001 + 3 × 0.00065) × 730 = $5.07.
		{"dev 5/3 at a price from the environment", map[string]any{"readCapacity": "5", "writeCapacity": "3"},
			map[string]string{"WALLET_PRICE_RCU_HOUR": "0.001"}, []string{"Wallet-dev: 1 table, 5 RCU / 3 WCU provisioned: $5.07/month\n"}},
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

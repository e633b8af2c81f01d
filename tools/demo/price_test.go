package main

import "testing"

func TestDeclaredCostFindsTheStacksLine(t *testing.T) {
	printed := "Bundling...\nWalletJanitor: 1 table, 1 on-demand: $0.00/month + on-demand requests at us-east-1 prices\nWallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month at us-east-1 prices\n ✅  Wallet-dev\n"
	if got := declaredCost(printed, "Wallet-dev"); got != "1 table, 1 RCU / 1 WCU provisioned: $0.57/month at us-east-1 prices" {
		t.Fatalf("got %q", got)
	}
	if got := declaredCost("Wallet-dev: deploying...\n", "Wallet-dev"); got != "no price line printed" {
		t.Fatalf("got %q", got)
	}
}

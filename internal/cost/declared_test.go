package cost

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// tableTemplate is a template with one table: provisioned read/write, or on demand when both
// are 0; gsi adds an index with that capacity.
func tableTemplate(read, write int, gsi string) []byte {
	props := `"KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"user_id","AttributeType":"S"}]`
	if read == 0 && write == 0 {
		props += `,"BillingMode":"PAY_PER_REQUEST"`
	} else {
		props += fmt.Sprintf(`,"ProvisionedThroughput":{"ReadCapacityUnits":%d,"WriteCapacityUnits":"%d"}`, read, write)
	}
	if gsi != "" {
		props += `,"GlobalSecondaryIndexes":[{"IndexName":"by_balance","KeySchema":[{"AttributeName":"balance","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":` + gsi + `}]`
	}
	return []byte(`{"Resources":{"WalletTable":{"Type":"AWS::DynamoDB::Table","Properties":{` + props + `}},"Topic":{"Type":"AWS::SNS::Topic"}}}`)
}

func TestDeclareOneByOneIs57Cents(t *testing.T) {
	d, err := Declare(tableTemplate(1, 1, ""), USEast1())
	if err != nil {
		t.Fatal(err)
	}
	if d.DeclaredMonthlyUSD != 0.5694 || d.ChangeMonthlyUSD != 0.5694 || d.DeployedMonthlyUSD != nil || len(d.Tables) != 1 || d.Tables[0].Provisioned != (Capacity{1, 1}) {
		t.Fatalf("1/1 at list prices: %+v, want $0.5694 declared, no deployed", d)
	}
	if got, want := d.Summary("Wallet-dev"), "Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned: $0.57/month"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
}

func TestDeclareIndexesAndOnDemand(t *testing.T) {
	// The index's 5/5 bills like the table's 1/1: 6 × ($0.00013 + $0.00065) × 730.
	d, err := Declare(tableTemplate(1, 1, `{"ReadCapacityUnits":5,"WriteCapacityUnits":5}`), USEast1())
	if err != nil || d.DeclaredMonthlyUSD != 3.4164 || len(d.Tables[0].Indexes) != 1 || d.Tables[0].Indexes[0].Provisioned != (Capacity{5, 5}) {
		t.Fatalf("1/1 with a 5/5 index: %+v, %v; want $3.4164", d, err)
	}
	if s := d.Summary("S"); !strings.Contains(s, "6 RCU / 6 WCU provisioned: $3.42/month") {
		t.Fatalf("summary %q", s)
	}
	d, err = Declare(tableTemplate(0, 0, ""), USEast1())
	if err != nil || d.DeclaredMonthlyUSD != 0 || !d.RequestsExtra || d.Tables[0].Billing != wallet.BillingOnDemand {
		t.Fatalf("on demand: %+v, %v", d, err)
	}
	if s := d.Summary("Wallet-prod"); s != "Wallet-prod: 1 table, 1 on-demand: $0.00/month + on-demand requests" {
		t.Fatalf("summary %q", s)
	}
	var b bytes.Buffer
	if err := d.WriteText(&b); err != nil || !strings.Contains(b.String(), "requests are extra: $0.125 per million reads, $0.625 per million writes") {
		t.Fatalf("text: %v\n%s", err, b.String())
	}
}

func TestDeclareAgainstTheDeployedStack(t *testing.T) {
	d, err := Declare(tableTemplate(5, 5, ""), USEast1())
	if err != nil {
		t.Fatal(err)
	}
	live := []LiveTable{{LogicalID: "WalletTable", Table: "Wallet-dev-WalletTable-1", Billing: wallet.BillingProvisioned, Provisioned: Capacity{1, 1},
		footprint: Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1}}}
	got := d.Against("Wallet-dev", live, true)
	if got.DeclaredMonthlyUSD != 2.847 || got.DeployedMonthlyUSD == nil || *got.DeployedMonthlyUSD != 0.5694 || got.ChangeMonthlyUSD != 2.2776 || got.Tables[0].Deployed == nil {
		t.Fatalf("5/5 over a live 1/1: %+v; want +$2.2776", got)
	}
	// A live table the template drops: its cost goes.
	live = append(live, LiveTable{LogicalID: "Old", Table: "old", Billing: wallet.BillingProvisioned, footprint: Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1}})
	got = d.Against("Wallet-dev", live, true)
	if len(got.Removed) != 1 || got.ChangeMonthlyUSD != Round(2.847-2*0.5694) {
		t.Fatalf("with a table removed: %+v", got)
	}
	got = d.Against("Wallet-nope", nil, false)
	var b bytes.Buffer
	if err := got.WriteText(&b); err != nil || got.DeployedMonthlyUSD != nil || got.ChangeMonthlyUSD != 2.847 || !strings.Contains(b.String(), "Stack Wallet-nope is not deployed: deploying the template adds $2.8470/month.") {
		t.Fatalf("not deployed: %+v\n%s", got, b.String())
	}
}

func TestDeclareRefusesWhatItCannotPrice(t *testing.T) {
	if _, err := Declare([]byte(`Resources: {}`), USEast1()); err == nil || !strings.Contains(err.Error(), "not JSON") {
		t.Fatalf("YAML: %v", err)
	}
	noCapacity := []byte(`{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","Properties":{"BillingMode":"PROVISIONED"}}}}`)
	if _, err := Declare(noCapacity, USEast1()); err == nil || !strings.Contains(err.Error(), "ReadCapacityUnits") {
		t.Fatalf("provisioned without capacity: %v", err)
	}
	intrinsic := []byte(`{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","Properties":{"ProvisionedThroughput":{"ReadCapacityUnits":{"Ref":"R"},"WriteCapacityUnits":1}}}}}`)
	d, err := Declare(intrinsic, USEast1())
	if err != nil || d.Tables[0].Provisioned != (Capacity{0, 1}) || !strings.Contains(strings.Join(d.Tables[0].Notes, ""), "not priced") {
		t.Fatalf("an intrinsic capacity: %+v, %v", d, err)
	}
	d, err = Declare([]byte(`{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}`), USEast1())
	if err != nil || len(d.Tables) != 0 || d.Summary("WalletJanitor") != "WalletJanitor: no DynamoDB tables: $0.00/month" {
		t.Fatalf("no tables: %+v, %v", d, err)
	}
}

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
	if _, err := Declare(noCapacity, USEast1()); err == nil || !strings.Contains(err.Error(), "resource T") || !strings.Contains(err.Error(), "ProvisionedThroughput is not declared") {
		t.Fatalf("provisioned without capacity: %v", err)
	}
	intrinsic := []byte(`{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","Properties":{"ProvisionedThroughput":{"ReadCapacityUnits":{"Ref":"R"},"WriteCapacityUnits":1}}}}}`)
	d, err := Declare(intrinsic, USEast1())
	if err != nil || d.Tables[0].Provisioned != (Capacity{0, 1}) || !strings.Contains(strings.Join(d.Tables[0].Notes, ""), "not priced") || !d.LowerBound {
		t.Fatalf("an intrinsic capacity: %+v, %v", d, err)
	}
	d, err = Declare([]byte(`{"Resources":{"Q":{"Type":"AWS::SQS::Queue"}}}`), USEast1())
	if err != nil || len(d.Tables) != 0 || d.Summary("WalletJanitor") != "WalletJanitor: no DynamoDB tables: $0.00/month" {
		t.Fatalf("no tables: %+v, %v", d, err)
	}
}

// globalTemplate is CDK's TableV2 shape: a provisioned global table whose writes autoscale from
// 2 (its index's from 1), with an index, and two replicas: us-east-1 reads 5 (its index 3),
// eu-west-1 autoscales its reads from 4 (its index reads 2).
const globalTemplate = `{"Resources":{"Wallet":{"Type":"AWS::DynamoDB::GlobalTable","Properties":{
  "KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"}],
  "AttributeDefinitions":[{"AttributeName":"user_id","AttributeType":"S"},{"AttributeName":"balance","AttributeType":"N"}],
  "BillingMode":"PROVISIONED",
  "WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":2,"MaxCapacity":10,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}},
  "GlobalSecondaryIndexes":[{"IndexName":"by_balance","KeySchema":[{"AttributeName":"balance","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
    "WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":5,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}}}],
  "Replicas":[
    {"Region":"eu-west-1","ReadProvisionedThroughputSettings":{"ReadCapacityAutoScalingSettings":{"MinCapacity":4,"MaxCapacity":20,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}},
     "GlobalSecondaryIndexes":[{"IndexName":"by_balance","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":2}}]},
    {"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":5},
     "GlobalSecondaryIndexes":[{"IndexName":"by_balance","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":3}}]}]}}}}`

// A provisioned global table of two replicas, one with an autoscaled read, both with an index:
// each replica prices its reads, its replicated writes (rWCU, at the write price) and its
// index's writes in its region. us-east-1: (5+3) × $0.00013 × 730 + (2+1) × $0.00065 × 730 =
// $2.1827; eu-west-1: (4+2) × 0.0949 + 3 × 0.4745 = $1.9929; together $4.1756 at the least: the
// writes and eu-west-1's reads autoscale. At their maximum: us-east-1 8 × 0.0949 + (10+5) ×
// 0.4745 = $7.8767, eu-west-1 (20+2) × 0.0949 + 15 × 0.4745 = $9.2053; together $17.082.
func TestDeclareGlobalTablePricesEachReplica(t *testing.T) {
	d, err := Declare([]byte(globalTemplate), USEast1())
	if err != nil {
		t.Fatal(err)
	}
	tb := d.Tables[0]
	if d.DeclaredMonthlyUSD != 4.1756 || tb.MonthlyUSD != 4.1756 || !d.LowerBound || !tb.LowerBound || tb.Type != GlobalTableType || len(tb.Replicas) != 2 ||
		d.DeclaredMaxMonthlyUSD == nil || *d.DeclaredMaxMonthlyUSD != 17.082 || tb.MaxMonthlyUSD == nil || *tb.MaxMonthlyUSD != 17.082 {
		t.Fatalf("declared %+v; want $4.1756 to $17.082", d)
	}
	eu, us := tb.Replicas[0], tb.Replicas[1]
	if us.Region != "us-east-1" || us.MonthlyUSD != 2.1827 || us.Provisioned != (Capacity{5, 2}) || !us.ReplicatedWrites || len(us.Indexes) != 1 || us.Indexes[0].Provisioned != (Capacity{3, 1}) {
		t.Errorf("us-east-1 replica: %+v", us)
	}
	if eu.Region != "eu-west-1" || eu.MonthlyUSD != 1.9929 || eu.Provisioned != (Capacity{4, 2}) || eu.Indexes[0].Provisioned != (Capacity{2, 1}) {
		t.Errorf("eu-west-1 replica: %+v", eu)
	}
	if tb.Provisioned != (Capacity{9, 4}) {
		t.Errorf("table's own capacity %+v, want its replicas' 9/4", tb.Provisioned)
	}
	notes := strings.Join(tb.Notes, "\n")
	for _, want := range []string{
		"WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings: autoscaled from 2 to 10 units in each replica: priced from its minimum to its maximum",
		"GlobalSecondaryIndexes[by_balance].WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings: autoscaled from 1 to 5 units in each replica: priced from its minimum to its maximum",
		"Replicas[eu-west-1].ReadProvisionedThroughputSettings.ReadCapacityAutoScalingSettings: autoscaled from 4 to 20 units: priced from its minimum to its maximum",
		"replicated writes (rWCU), priced as a WCU of its region",
		"cross-Region data transfer",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not say %q:\n%s", want, notes)
		}
	}
	if strings.Count(notes, "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings: autoscaled") != 2 {
		t.Errorf("a write policy is noted once, not once a replica:\n%s", notes)
	}
	// The prices are us-east-1's: said for eu-west-1.
	if !strings.Contains(strings.Join(d.Notes, ""), "prices are us-east-1 estimates for eu-west-1") {
		t.Errorf("declaration notes %q: want the region's prices said to be estimates", d.Notes)
	}
	// 14 RCU, 6 write units (4 replicated, 2 of the index); 30 and 30 at the maximum.
	if got, want := d.Summary("Wallet-global"), "Wallet-global: 1 table (1 global, of 2 replicas), 14 RCU / 6 WCU provisioned, auto scaled up to 30 RCU / 30 WCU: $4.18 to $17.08/month"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	var b bytes.Buffer
	if err := d.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Wallet  ", "14/6", "replica us-east-1", "8/3", "2.1827", "replica eu-west-1", "Declared: $4.1756 to $17.0820/month (some capacity is auto scaled"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text does not say %q:\n%s", want, b.String())
		}
	}
}

// A replica's writes are priced through Prices, at ReplicatedWCUHour: a WCU price from the
// environment moves them, and a global table of one replica bills its writes as a table's.
func TestDeclareReplicatedWritesTakeTheWritePrice(t *testing.T) {
	p, err := USEast1().Override(map[string]string{"WALLET_PRICE_WCU_HOUR": "0.001", "WALLET_PRICE_RCU_HOUR": "0"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := Declare([]byte(globalTemplate), p)
	// 6 write units × $0.001 × 730 = $4.38; reads free.
	if err != nil || d.DeclaredMonthlyUSD != 4.38 {
		t.Fatalf("at $0.001/WCU-hour: %+v, %v; want $4.38", d, err)
	}
	one := `{"Resources":{"G":{"Type":"AWS::DynamoDB::GlobalTable","Properties":{
		"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":3,"MaxCapacity":3}},
		"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1}}]}}}}`
	d, err = Declare([]byte(one), USEast1())
	if err != nil || d.DeclaredMonthlyUSD != Round((0.00013+3*0.00065)*730) || d.Tables[0].Replicas[0].ReplicatedWrites ||
		strings.Contains(strings.Join(d.Tables[0].Notes, ""), "rWCU") {
		t.Fatalf("a global table of one replica: %+v, %v; want its writes billed as a table's", d, err)
	}
}

// An on-demand global table is priced as an on-demand table is, in each replica: storage only
// (none before deploy), requests extra, and said so.
func TestDeclareOnDemandGlobalTable(t *testing.T) {
	body := `{"Resources":{"G":{"Type":"AWS::DynamoDB::GlobalTable","Properties":{"BillingMode":"PAY_PER_REQUEST",
		"GlobalSecondaryIndexes":[{"IndexName":"i"}],"Replicas":[{"Region":"us-east-1"},{"Region":"us-west-2"}]}}}}`
	d, err := Declare([]byte(body), USEast1())
	if err != nil || d.DeclaredMonthlyUSD != 0 || !d.RequestsExtra || d.LowerBound || d.Tables[0].Billing != wallet.BillingOnDemand || len(d.Tables[0].Replicas) != 2 {
		t.Fatalf("on demand: %+v, %v", d, err)
	}
	if s := d.Summary("S"); s != "S: 1 table (1 global, of 2 replicas), 1 on-demand: $0.00/month + on-demand requests" {
		t.Fatalf("summary %q", s)
	}
	if n := strings.Join(d.Tables[0].Notes, ""); !strings.Contains(n, "requests are extra, in each replica") {
		t.Fatalf("notes %q", n)
	}
}

// What an intrinsic function decides is never a silent $0: each is a note, and the price a lower
// bound ("at least") in the summary, the text and the JSON.
func TestDeclareSaysWhatIntrinsicFunctionsLeaveOut(t *testing.T) {
	for _, tc := range []struct{ name, gsi, want string }{
		{"index read by Ref", `{"ReadCapacityUnits":{"Ref":"Rcu"},"WriteCapacityUnits":5}`, "GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits is decided by CloudFormation"},
		{"index throughput by Fn::If", `{"Fn::If":["IsProd",{"ReadCapacityUnits":5,"WriteCapacityUnits":5},{"ReadCapacityUnits":1,"WriteCapacityUnits":1}]}`, "GlobalSecondaryIndexes[by_balance].ProvisionedThroughput is decided by CloudFormation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Declare(tableTemplate(1, 1, tc.gsi), USEast1())
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := d.WriteText(&b); err != nil || !d.LowerBound || !strings.Contains(b.String(), tc.want) || !strings.Contains(b.String(), "Declared: at least $") ||
				!strings.Contains(d.Summary("S"), "at least $") {
				t.Fatalf("lower bound %v, %v:\n%s", d.LowerBound, err, b.String())
			}
		})
	}
	list := []byte(`{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","Properties":{"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},
		"GlobalSecondaryIndexes":{"Fn::If":["IsProd",[{"IndexName":"i","ProvisionedThroughput":{"ReadCapacityUnits":9,"WriteCapacityUnits":9}}],{"Ref":"AWS::NoValue"}]}}}}}`)
	d, err := Declare(list, USEast1())
	if err != nil || !d.LowerBound || d.DeclaredMonthlyUSD != 0.5694 || !strings.Contains(strings.Join(d.Tables[0].Notes, ""), "GlobalSecondaryIndexes is decided by CloudFormation") {
		t.Fatalf("an index list by Fn::If: %+v, %v", d, err)
	}
}

// The largest int64 once gave a negative monthly cost: now no capacity out of 1..40000 is
// priced at all.
func TestDeclareRefusesCapacityOutOfRange(t *testing.T) {
	for _, gsi := range []string{`{"ReadCapacityUnits":9223372036854775807,"WriteCapacityUnits":1}`, `{"ReadCapacityUnits":0,"WriteCapacityUnits":1}`, `{"ReadCapacityUnits":1e3,"WriteCapacityUnits":1}`} {
		if d, err := Declare(tableTemplate(1, 1, gsi), USEast1()); err == nil || !strings.Contains(err.Error(), "from 1 to 40000") {
			t.Errorf("index %s: %+v, %v", gsi, d, err)
		}
	}
}

// A deployed global table is not read (the stack's AWS::DynamoDB::Table resources are): against a
// deployed stack the change counts it whole, and says so, without touching the declaration it
// was worked out from.
func TestDeclareAgainstAStackSaysAGlobalTableIsCountedWhole(t *testing.T) {
	// Five notes (the condition's among them) leave room in their slice: an append to the copy
	// would write into the declaration's.
	conditional := strings.Replace(globalTemplate, `"Type":"AWS::DynamoDB::GlobalTable",`, `"Type":"AWS::DynamoDB::GlobalTable","Condition":"IsProd",`, 1)
	d, err := Declare([]byte(conditional), USEast1())
	if err != nil {
		t.Fatal(err)
	}
	notes := len(d.Tables[0].Notes)
	if notes != 5 || cap(d.Tables[0].Notes) == notes {
		t.Fatalf("notes %d of capacity %d: the fixture no longer tests sharing", notes, cap(d.Tables[0].Notes))
	}
	got := d.Against("Wallet-global", nil, true)
	if got.ChangeMonthlyUSD != 4.1756 || !strings.Contains(strings.Join(got.Tables[0].Notes, ""), "a deployed global table is not read") {
		t.Fatalf("against a deployed stack: %+v", got)
	}
	if len(d.Tables[0].Notes) != notes || strings.Contains(strings.Join(d.Tables[0].Notes[:cap(d.Tables[0].Notes)], ""), "not read") {
		t.Fatalf("Against changed the declaration it was given: %q", d.Tables[0].Notes)
	}
	var b bytes.Buffer
	if err := got.WriteText(&b); err != nil || !strings.Contains(b.String(), "changes the bill by +4.1756 to +17.0820 US$/month") {
		t.Fatalf("text: %v\n%s", err, b.String())
	}
}

// The wallet stack auto scaled as `make demo` deploys it (reads and writes each 1 to 10 units,
// the ScalableTargets CDK writes): priced from 1/1, $0.5694, to 10/10, 10 × $0.0949 + 10 ×
// $0.4745 = $5.694, at synth and against a live 1/1 table alike.
func TestDeclareAnAutoScaledTableStatesItsRange(t *testing.T) {
	body := strings.Replace(string(tableTemplate(1, 1, "")), `"Topic":{"Type":"AWS::SNS::Topic"}`, scalingTargets("WalletTable", 10, 10), 1)
	d, err := Declare([]byte(body), USEast1())
	if err != nil {
		t.Fatal(err)
	}
	if d.DeclaredMonthlyUSD != 0.5694 || d.DeclaredMaxMonthlyUSD == nil || *d.DeclaredMaxMonthlyUSD != 5.694 || d.Tables[0].MaxMonthlyUSD == nil || *d.Tables[0].MaxMonthlyUSD != 5.694 ||
		d.Tables[0].MaxProvisioned != (Capacity{10, 10}) {
		t.Fatalf("declared %+v; want $0.5694 to $5.694", d)
	}
	if got, want := d.Summary("Wallet-dev"), "Wallet-dev: 1 table, 1 RCU / 1 WCU provisioned, auto scaled up to 10 RCU / 10 WCU: $0.57 to $5.69/month"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
	live := []LiveTable{{LogicalID: "WalletTable", Table: "t", Billing: wallet.BillingProvisioned, Provisioned: Capacity{1, 1},
		footprint: Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1}}}
	got := d.Against("Wallet-dev", live, true)
	var b bytes.Buffer
	if err := got.WriteText(&b); err != nil || got.ChangeMaxMonthlyUSD == nil || *got.ChangeMaxMonthlyUSD != Round(5.694-0.5694) ||
		!strings.Contains(b.String(), "Declared: $0.5694 to $5.6940/month") || !strings.Contains(b.String(), "changes the bill by +0.0000 to +5.1246 US$/month") ||
		!strings.Contains(b.String(), "ProvisionedThroughput.ReadCapacityUnits: autoscaled from 1 to 10 units: priced from its minimum to its maximum") {
		t.Fatalf("against a live 1/1: %+v, %v\n%s", got, err, b.String())
	}
	// A maximum only CloudFormation knows bounds the bill from below only.
	d, err = Declare([]byte(strings.Replace(body, `"MaxCapacity":10,"MinCapacity":1,"ResourceId":{"Fn::Join":["",["table/",{"Ref":"WalletTable"}]]},"ScalableDimension":"dynamodb:table:ReadCapacityUnits"`,
		`"MaxCapacity":{"Ref":"Max"},"MinCapacity":1,"ResourceId":{"Fn::Join":["",["table/",{"Ref":"WalletTable"}]]},"ScalableDimension":"dynamodb:table:ReadCapacityUnits"`, 1)), USEast1())
	if err != nil || d.DeclaredMaxMonthlyUSD != nil || !strings.Contains(d.Summary("S"), "at least $0.57/month") {
		t.Fatalf("a maximum by Ref: %+v, %v: %s", d, err, d.Summary("S"))
	}
}

// scalingTargets are CDK's scalable targets of a table's reads and writes.
func scalingTargets(table string, readMax, writeMax int) string {
	target := func(dim string, max int) string {
		return fmt.Sprintf(`{"Type":"AWS::ApplicationAutoScaling::ScalableTarget","Properties":{"MaxCapacity":%d,"MinCapacity":1,"ResourceId":{"Fn::Join":["",["table/",{"Ref":"%s"}]]},"ScalableDimension":"dynamodb:table:%s","ServiceNamespace":"dynamodb"}}`, max, table, dim)
	}
	return `"ReadTarget":` + target("ReadCapacityUnits", readMax) + `,"WriteTarget":` + target("WriteCapacityUnits", writeMax)
}

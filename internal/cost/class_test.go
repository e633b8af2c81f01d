package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/usage"
)

// provisionedReading is a provisioned table of read/write units storing gib GiB, of the
// Standard-IA class when ia, as DescribeTable gives it (moto gives no TableClassSummary and no
// TableSizeBytes: built by hand), its use read over 72 hours.
func provisionedReading(name string, read, write, gib int64, ia bool) reading {
	d := &types.TableDescription{
		TableName:             aws.String(name),
		BillingModeSummary:    &types.BillingModeSummary{BillingMode: types.BillingModeProvisioned},
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(read), WriteCapacityUnits: aws.Int64(write)},
		TableSizeBytes:        aws.Int64(gib << 30),
	}
	if ia {
		d.TableClassSummary = &types.TableClassSummary{TableClass: types.TableClassStandardInfrequentAccess}
	}
	return reading{desc: d, hours: 72}
}

// cents4 compares dollars to the 4 places a report rounds to.
func cents4(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

// The class advice is the table's own bill in both classes at its region's prices of each (here
// us-east-1's shipped ones: Standard $0.00013/$0.00065/$0.25, Standard-IA $0.00016/$0.00081/$0.10):
// a 1/1 table storing 100 GiB pays (0.00013 + 0.00065) × 730 + 100 × 0.25 = $25.5694 in
// Standard, (0.00016 + 0.00081) × 730 + 100 × 0.10 = $10.7081 in Standard-IA, and is told to
// switch, with the break-even from its own throughput ratio: a = 0.7081 / 0.5694, b = 0.4,
// (a − 1) / ((a − 1) + (1 − b)) = 28.88 %. A 100/100 table storing nothing keeps Standard; a
// Standard-IA table storing nothing is told to go back. AWS's two changes in 30 days are said.
func TestClassAdviceIsTheTablesOwnBillInBothClasses(t *testing.T) {
	p := ShippedPrices("us-east-1")
	heavy := price("us-east-1", provisionedReading("storage-heavy", 1, 1, 100, false), 3, p)
	a := heavy.ClassAdvice
	if a == nil || !a.Switch || a.Other != "standard-ia" || a.Context != "-c tableClass=standard-ia" ||
		!cents4(a.MonthlyUSD, 25.5694) || !cents4(a.OtherMonthlyUSD, 10.7081) || !cents4(a.MonthlySavingsUSD, 14.8613) ||
		!cents4(a.BreakEvenStorageShare, 0.2888) || !cents4(a.StorageShare, 25/25.5694) {
		t.Fatalf("storage-heavy: %+v", a)
	}
	if notes := strings.Join(heavy.Notes, " "); !strings.Contains(notes, "redeploy with -c tableClass=standard-ia") || !strings.Contains(notes, "twice in 30 days") {
		t.Fatalf("storage-heavy notes: %v", heavy.Notes)
	}

	busyCost := price("us-east-1", provisionedReading("throughput-heavy", 100, 100, 0, false), 3, p)
	if strings.Contains(strings.Join(busyCost.Notes, " "), "table class") {
		t.Errorf("a table to keep in its class needs no note (the advice is in table_class_advice): %v", busyCost.Notes)
	}
	busy := busyCost.ClassAdvice
	// No storage: its throughput ratio is its own (the same 1:1 mix, 28.88 %), its storage ratio
	// the region's GB-month prices'.
	if busy == nil || busy.Switch || busy.Context != "" || !cents4(busy.MonthlySavingsUSD, 56.94-70.81) || busy.StorageShare != 0 ||
		!cents4(busy.BreakEvenStorageShare, 0.2888) {
		t.Fatalf("throughput-heavy: %+v", busy)
	}

	back := price("us-east-1", provisionedReading("ia-busy", 100, 100, 0, true), 3, p)
	if back.TableClass != "standard-ia" || back.ClassAdvice == nil || !back.ClassAdvice.Switch || back.ClassAdvice.Context != "-c tableClass=standard" ||
		!cents4(back.MonthlyCostUSD.Current, 100*(0.00016+0.00081)*730) {
		t.Fatalf("a Standard-IA table is priced at Standard-IA's prices and told to go back: %+v %+v", back.MonthlyCostUSD, back.ClassAdvice)
	}

	// Prices set by hand are one price for both classes: nothing to compare.
	if a := price("us-east-1", provisionedReading("by-hand", 1, 1, 100, false), 3, testPrices()).ClassAdvice; a != nil {
		t.Fatalf("prices set by hand: %+v", a)
	}
}

// Reserved capacity is said once per region for its tables together, on what each held through
// the window (the least CloudWatch saw, else its capacity now), in whole blocks of 100, at the
// region's reserved prices; a Standard-IA table's, an on-demand table's and a replica's writes are
// not counted. Here 150/150 that held only 100/120, 80/80, and a replica's 200 reads: 380 RCU
// (3 blocks) and 200 WCU (2 blocks). us-east-1's 1-year term (shipped: $30 + $0.0025/h per 100
// RCU, $150 + $0.0128/h per 100 WCU): $390 upfront, 390 / 12 + (3 × 0.0025 + 2 × 0.0128) × 730 =
// $56.663 a month, against (300 × 0.00013 + 200 × 0.00065) × 730 = $123.37 by the hour.
func TestReservedCapacityIsCountedPerRegionOnWhatWasHeld(t *testing.T) {
	p := ShippedPrices("us-east-1")
	dipped := provisionedReading("dipped", 150, 150, 0, false)
	dipped.held = &usage.Held{Read: 100, Write: 120, Known: true}
	replica := provisionedReading("replica", 200, 200, 0, false)
	replica.desc.Replicas = []types.ReplicaDescription{{RegionName: aws.String("eu-west-1")}}
	onDemand := provisionedReading("on-demand", 0, 0, 0, false)
	onDemand.desc.BillingModeSummary.BillingMode = types.BillingModePayPerRequest
	onDemand.desc.ProvisionedThroughput = nil
	var tables []TableCost
	for _, r := range []reading{dipped, provisionedReading("steady", 80, 80, 0, false), provisionedReading("ia", 500, 500, 0, true), replica, onDemand} {
		tables = append(tables, price("us-east-1", r, 3, p))
	}
	rs := reservable(tables, p)
	if len(rs) != 1 {
		t.Fatalf("want one group for us-east-1: %+v", rs)
	}
	g := rs[0]
	if g.HeldRCU != 100+80+200 || g.HeldWCU != 120+80 || g.BlocksRCU != 3 || g.BlocksWCU != 2 || strings.Join(g.Tables, ",") != "dipped,steady,replica" {
		t.Fatalf("held %d/%d in %d/%d blocks by %v", g.HeldRCU, g.HeldWCU, g.BlocksRCU, g.BlocksWCU, g.Tables)
	}
	if len(g.Terms) != 2 || g.Terms[0].Years != 1 || !cents4(g.Terms[0].UpfrontUSD, 390) || !cents4(g.Terms[0].MonthlyUSD, 56.663) ||
		!cents4(g.Terms[0].ProvisionedMonthlyUSD, 123.37) || !cents4(g.Terms[0].MonthlySavingsUSD, 123.37-56.663) {
		t.Fatalf("terms %+v", g.Terms)
	}
	notes := strings.Join(g.Notes, " ")
	for _, want := range []string{"ia is Standard-IA, whose capacity cannot be reserved", "replica is a replica of a global table", "steady: CloudWatch has no provisioned capacity over the window"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q: %v", want, g.Notes)
		}
	}
	if strings.Contains(notes, "on-demand") {
		t.Errorf("an on-demand table has nothing to reserve, and nothing to say: %v", g.Notes)
	}
	var b strings.Builder
	writeReserved(&b, rs)
	if text := b.String(); !strings.Contains(text, "Reserved capacity in us-east-1: 380 RCU / 200 WCU held through the window by 3 tables together (3 + 2 blocks of 100): 1-year saves $66.71/month ($390.00 upfront)") {
		t.Errorf("text:\n%s", text)
	}
	// Less than a block: one line, no terms of $0.00.
	small := reservable([]TableCost{price("us-east-1", provisionedReading("small", 5, 5, 0, false), 3, p)}, p)
	b.Reset()
	writeReserved(&b, small)
	if text := b.String(); text != "Reserved capacity in us-east-1: 5 RCU / 5 WCU held through the window by 1 table, less than the block of 100 AWS sells: nothing to reserve.\n" {
		t.Errorf("less than a block:\n%s", text)
	}
}

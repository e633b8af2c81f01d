package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Round prices: the arithmetic below is checked by hand, so they are chosen to make it short.
func testPrices() Prices {
	return Prices{RCUHour: 0.0001, WCUHour: 0.0005, GBMonth: 0.25, RRUMillion: 0.125, WRUMillion: 0.625, PITRGBMonth: 0.2, BackupGBMonth: 0.1}
}

// light is three days of light use: 7,200 read units with a busiest minute of 84 (1.4/s), and
// 1,440 write units with a busiest minute of 42 (0.7/s).
var light = usage.Consumed{ReadUnits: 7200, WriteUnits: 1440, ReadPeak: 1.4, WritePeak: 0.7, Datapoints: 121}

func provisionedTable(read, write int64, c usage.Consumed) Usage {
	return Usage{
		Footprint: Footprint{Billing: wallet.BillingProvisioned, RCU: read, WCU: write},
		Loads:     []Load{{Provisioned: Capacity{read, write}, Consumed: c}},
		Hours:     72,
	}
}

func TestAdviseA10by10TableWithLightUse(t *testing.T) {
	p := testPrices()
	a := Advise(provisionedTable(10, 10, light), p)
	// 10 × 0.0001 + 10 × 0.0005 = 0.006 an hour; × 730.
	// Right-sized: ⌈1.4 / 0.7⌉ = 2 read, ⌈0.7 / 0.7⌉ = 1 write: (0.0002 + 0.0005) × 730.
	// On demand: 7,200 × 730/72 = 73,000 reads a month × $0.125/M, 1,440 × 730/72 = 14,600 writes × $0.625/M.
	want := Advice{Current: 4.38, RightSized: 0.511, OnDemand: 0.009125 + 0.009125, Change: ToOnDemand, Context: "-c billing=on-demand"}
	want.Savings = want.Current - want.OnDemand
	sameAdvice(t, a, want)
	if a.RightSizedCapacity[0] != (Capacity{2, 1}) {
		t.Fatalf("right-sized %+v, want 2/1 (1.4 / 0.7 is 2, float noise must not make it 3)", a.RightSizedCapacity)
	}

	// Requests priced high enough, provisioning for the busiest minute wins.
	p.RRUMillion, p.WRUMillion = 10, 50
	a = Advise(provisionedTable(10, 10, light), p)
	want = Advice{Current: 4.38, RightSized: 0.511, OnDemand: 0.73 + 0.73, Change: Lower, Context: "-c readCapacity=2 -c writeCapacity=1", Savings: 4.38 - 0.511}
	sameAdvice(t, a, want)
}

func TestAdviseKeepRaiseAndProvisioned(t *testing.T) {
	p := testPrices()
	p.RRUMillion, p.WRUMillion = 10, 50
	steady := usage.Consumed{ReadUnits: 3000, WriteUnits: 600, ReadPeak: 40.0 / 60, WritePeak: 20.0 / 60, Datapoints: 105}
	// 3,000 × 730/72 × $10/M + 600 × 730/72 × $50/M.
	steadyOnDemand := 3000*730.0/72*10/1e6 + 600*730.0/72*50/1e6

	sameAdvice(t, Advise(provisionedTable(1, 1, steady), p),
		Advice{Current: 0.438, RightSized: 0.438, OnDemand: steadyOnDemand, Change: Keep})

	// A busiest minute of 2 reads a second on 1 RCU: throttled (or on burst capacity), so the
	// table as it is cannot be the advice even though it is the cheapest.
	spiky := steady
	spiky.ReadPeak = 2
	a := Advise(provisionedTable(1, 1, spiky), p)
	sameAdvice(t, a, Advice{Current: 0.438, RightSized: 0.584, OnDemand: steadyOnDemand, Throttled: true,
		Change: Raise, Context: "-c readCapacity=3 -c writeCapacity=1", Savings: 0.438 - 0.584})
	// The same load priced cheaper on demand goes on demand instead: the cheapest that serves it.
	p2 := p
	p2.RRUMillion, p2.WRUMillion = 0.125, 0.625
	if a := Advise(provisionedTable(1, 1, spiky), p2); a.Change != ToOnDemand || !a.Throttled {
		t.Fatalf("throttled table, requests cheap: %+v", a)
	}

	onDemand := Usage{Footprint: Footprint{Billing: wallet.BillingOnDemand}, Loads: []Load{{Consumed: light}}, Hours: 72}
	sameAdvice(t, Advise(onDemand, p), Advice{Current: 1.46, RightSized: 0.511, OnDemand: 1.46,
		Change: ToProvisioned, Context: "-c billing=provisioned -c readCapacity=2 -c writeCapacity=1", Savings: 1.46 - 0.511})
	p.RRUMillion, p.WRUMillion = 0.125, 0.625
	sameAdvice(t, Advise(onDemand, p), Advice{Current: 0.01825, RightSized: 0.511, OnDemand: 0.01825, Change: Keep})
}

func TestAdviseIndexesAndStorage(t *testing.T) {
	p := testPrices()
	p.RRUMillion, p.WRUMillion = 10, 50
	index := usage.Consumed{ReadUnits: 210, WriteUnits: 420, ReadPeak: 0.35, WritePeak: 0.7, Datapoints: 20}
	u := Usage{
		Footprint: Footprint{Billing: wallet.BillingProvisioned, RCU: 15, WCU: 15, SizeBytes: 2 << 30, PITRBytes: 1 << 30, BackupBytes: 3 << 30},
		Loads:     []Load{{Provisioned: Capacity{10, 10}, Consumed: light}, {Index: "by_balance", Provisioned: Capacity{5, 5}, Consumed: index}},
		Hours:     72,
	}
	a := Advise(u, p)
	rest := 2*0.25 + 1*0.2 + 3*0.1 // every figure includes what the table stores
	want := Advice{
		Current:    (15*0.0001+15*0.0005)*730 + rest,
		RightSized: (3*0.0001+2*0.0005)*730 + rest, // table 2/1, index 1/1
		OnDemand:   (7200+210)*730.0/72*10/1e6 + (1440+420)*730.0/72*50/1e6 + rest,
		Change:     Lower, Context: "-c readCapacity=2 -c writeCapacity=1",
	}
	want.Savings = want.Current - want.RightSized
	sameAdvice(t, a, want)
	if len(a.Notes) != 1 || !strings.Contains(a.Notes[0], "index by_balance 1 read and 1 write") {
		t.Fatalf("the index's capacity cannot go in the wallet stack's context; the notes must say what to set: %q", a.Notes)
	}
}

// Every context value the advice gives is one the wallet stack accepts, and means what it says.
func TestAdviceContextPassesTheStackContract(t *testing.T) {
	right := []Capacity{{Read: 2, Write: 1}}
	for _, tc := range []struct {
		change Change
		want   contract.Stack
	}{
		{Lower, contract.Stack{Billing: wallet.BillingProvisioned, ReadCapacity: 2, WriteCapacity: 1}},
		{Raise, contract.Stack{Billing: wallet.BillingProvisioned, ReadCapacity: 2, WriteCapacity: 1}},
		{ToProvisioned, contract.Stack{Billing: wallet.BillingProvisioned, ReadCapacity: 2, WriteCapacity: 1}},
		{ToOnDemand, contract.Stack{Billing: wallet.BillingOnDemand}},
	} {
		values := map[string]string{}
		fields := strings.Fields(contextValues(tc.change, right))
		for i := 0; i+1 < len(fields); i += 2 {
			k, v, ok := strings.Cut(fields[i+1], "=")
			if fields[i] != "-c" || !ok {
				t.Fatalf("%s: %q is not -c key=value", tc.change, contextValues(tc.change, right))
			}
			values[k] = v
		}
		c, err := contract.ParseStack(func(k string) (string, bool) { v, ok := values[k]; return v, ok })
		if err != nil {
			t.Fatalf("%s: %q refused: %v", tc.change, contextValues(tc.change, right), err)
		}
		if c.Billing != tc.want.Billing || c.ReadCapacity != tc.want.ReadCapacity || c.WriteCapacity != tc.want.WriteCapacity {
			t.Fatalf("%s: %q means %+v", tc.change, contextValues(tc.change, right), c)
		}
	}
	if got := contextValues(Keep, right); got != "" {
		t.Fatalf("keep needs no redeploy, got %q", got)
	}
}

func TestRightSizeStaysWithinTheContract(t *testing.T) {
	for _, tc := range []struct {
		peak float64
		want int64
	}{{0, 1}, {0.01, 1}, {0.7, 1}, {0.71, 2}, {1.4, 2}, {2.1, 3}, {7, 10}, {1e9, wallet.MaxCapacity}} {
		c, capped := rightSize(usage.Consumed{ReadPeak: tc.peak, WritePeak: tc.peak})
		if c.Read != tc.want || c.Write != tc.want || capped != (tc.peak > 28000) {
			t.Errorf("peak %v/s: %+v (capped %v), want %d", tc.peak, c, capped, tc.want)
		}
	}
	a := Advise(provisionedTable(1, 1, usage.Consumed{ReadUnits: 1e12, ReadPeak: 1e9, Datapoints: 1}), testPrices())
	if a.Context != "" && !strings.Contains(a.Context, "readCapacity=40000") {
		t.Fatalf("context beyond the contract: %q", a.Context)
	}
	if len(a.Notes) == 0 || !strings.Contains(a.Notes[0], "quota") {
		t.Fatalf("a capped capacity must be said: %q", a.Notes)
	}
}

func sameAdvice(t *testing.T, got, want Advice) {
	t.Helper()
	cents := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !cents(got.Current, want.Current) || !cents(got.RightSized, want.RightSized) || !cents(got.OnDemand, want.OnDemand) ||
		!cents(got.Savings, want.Savings) || got.Change != want.Change || got.Context != want.Context || got.Throttled != want.Throttled {
		t.Fatalf("advice\n got %+v\nwant %+v", got, want)
	}
}

package cost

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/autoscaling"
	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// minutesOf is a source's minutes from units a second, reads and writes, as CloudWatch's Sums
// would give them.
func minutesOf(read, write []float64) *usage.Minutes {
	m := &usage.Minutes{Read: make([]float64, len(read)), Write: make([]float64, len(write))}
	for i := range read {
		m.Read[i], m.Write[i] = read[i]*60, write[i]*60
		m.ReadUnits += m.Read[i]
		m.WriteUnits += m.Write[i]
		m.ReadPeak, m.WritePeak = max(m.ReadPeak, read[i]), max(m.WritePeak, write[i])
		if read[i] > 0 || write[i] > 0 {
			m.Datapoints++
		}
	}
	return m
}

func loadOf(m *usage.Minutes, c Capacity) Load {
	return Load{Provisioned: c, Consumed: m.Consumed, Minutes: m}
}

var midnight = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func usageOf(billing wallet.Billing, loads ...Load) Usage {
	f := Footprint{Billing: billing}
	for _, l := range loads {
		f.RCU += l.Provisioned.Read
		f.WCU += l.Provisioned.Write
	}
	n := len(loads[0].Minutes.Read)
	return Usage{Footprint: f, Loads: loads, Hours: float64(n) / 60, Start: midnight}
}

// optionThrottled is what the advised change throttles.
func optionThrottled(a Advice) int {
	t := a.ThrottledMinutes
	switch a.Change {
	case Keep:
		return t.Current
	case Lower, Raise, ToProvisioned:
		return t.RightSized
	case AutoScale:
		return t.AutoScaled
	case ToOnDemand:
		return t.OnDemand
	}
	return -1
}

// The load profiles the advice is judged on, a week of each on a table as it is in three ways
// (provisioned for its busiest minute, under-provisioned at 1/1, on demand), at list prices and
// with requests ten times dearer: the advice never throttles more minutes than the table as it
// is, its context is one the wallet stack accepts, and on each profile it is what a person
// would say.
func TestAdviceIsSaneOnEveryLoadProfile(t *testing.T) {
	const minutes = 7 * 24 * 60
	list, dear := USEast1(), USEast1()
	dear.RRUMillion, dear.WRUMillion = dear.RRUMillion*10, dear.WRUMillion*10
	for _, name := range profile.Names() {
		load := profile.Of(name, minutes)
		writes := make([]float64, minutes)
		for i, x := range load {
			writes[i] = x / 10
		}
		m := minutesOf(load, writes)
		right, _ := rightSize(m.Consumed)
		for _, table := range []struct {
			name string
			u    Usage
		}{
			{"sized for its peak", usageOf(wallet.BillingProvisioned, loadOf(m, right))},
			{"at 1/1", usageOf(wallet.BillingProvisioned, loadOf(m, Capacity{1, 1}))},
			{"on demand", usageOf(wallet.BillingOnDemand, loadOf(m, Capacity{}))},
		} {
			for pn, p := range map[string]Prices{"list": list, "dear": dear} {
				t.Run(fmt.Sprintf("%s %s %s prices", name, table.name, pn), func(t *testing.T) {
					a := Advise(table.u, p)
					if a.ThrottledMinutes == nil || a.AutoScaled == nil || len(a.AutoScaling) != 1 {
						t.Fatalf("simulated options missing: %+v", a)
					}
					th := a.ThrottledMinutes
					if got := optionThrottled(a); got > th.Current {
						t.Fatalf("advised %s, which throttles %d minutes, more than the %d of the table as it is", a.Change, got, th.Current)
					}
					if a.Throttled && a.Change == Keep {
						t.Fatalf("a table that throttles is advised to stay as it is: %+v", a)
					}
					checkContext(t, a)
					t.Logf("%s %q saves %.2f; current %.2f right-sized %.2f auto %.2f (%v) on demand %.2f; throttled %+v",
						a.Change, a.Context, a.Savings, a.Current, a.RightSized, *a.AutoScaled, a.AutoScaling[0], a.OnDemand, *th)
					switch {
					case name == "idle" && table.u.Footprint.Billing == wallet.BillingProvisioned:
						if a.Change != ToOnDemand {
							t.Fatalf("idle and provisioned: %s, want on-demand (storage only)", a.Change)
						}
					case name == "idle":
						if a.Change != Keep {
							t.Fatalf("idle on demand: %s, want keep", a.Change)
						}
					case name == "flat" && a.Change == AutoScale:
						t.Fatalf("a flat load is advised auto scaling %v: its saving is only its first minutes at the minimum", a.AutoScaling[0])
					case name == "over-the-max":
						if th.Current == 0 || th.RightSized == 0 || a.AutoScaling[0].Read.Max != wallet.MaxCapacity {
							t.Fatalf("a load over 40000 a second: %+v, auto scaling %v", *th, a.AutoScaling[0])
						}
					case (name == "ramping" || name == "diurnal") && pn == "dear" && table.name == "sized for its peak":
						if a.Change != AutoScale || *a.AutoScaled >= a.RightSized {
							t.Fatalf("%s with requests dear: %s, want autoscale, cheaper than fixed capacity for the peak", name, a.Change)
						}
					}
				})
			}
		}
	}
}

// checkContext: the advice's -c values parse under the wallet stack's contract and mean what
// the advice says: the capacity, and for autoscale the range of each auto-scaled dimension and
// the target.
func checkContext(t *testing.T, a Advice) {
	t.Helper()
	values := map[string]string{}
	fields := strings.Fields(a.Context)
	for i := 0; i+1 < len(fields); i += 2 {
		k, v, ok := strings.Cut(fields[i+1], "=")
		if fields[i] != "-c" || !ok {
			t.Fatalf("%q is not -c key=value", a.Context)
		}
		values[k] = v
	}
	c, err := contract.ParseStack(func(k string) (string, bool) { v, ok := values[k]; return v, ok })
	if err != nil {
		t.Fatalf("%q refused: %v", a.Context, err)
	}
	if a.Change != AutoScale {
		if c.AutoScaled() {
			t.Fatalf("%s auto scales: %q", a.Change, a.Context)
		}
		return
	}
	ps := a.AutoScaling[0]
	if c.Billing != wallet.BillingProvisioned || int64(c.ReadCapacity) != ps.Read.Min || int64(c.WriteCapacity) != ps.Write.Min {
		t.Fatalf("%q means %+v, the policies are %v", a.Context, c, ps)
	}
	for _, d := range []struct {
		got  int
		want autoscaling.Policy
	}{{c.ReadMax, ps.Read}, {c.WriteMax, ps.Write}} {
		if d.want.Max == d.want.Min && d.got != 0 || d.want.Max > d.want.Min && int64(d.got) != d.want.Max {
			t.Fatalf("%q: max %d for %v", a.Context, d.got, d.want)
		}
	}
	if c.AutoScaled() && c.TargetUtilization != ps.Read.Target && c.TargetUtilization != ps.Write.Target {
		t.Fatalf("%q: target %d for %v", a.Context, c.TargetUtilization, ps)
	}
}

// The simulation's bounds on a target are the stack's.
func TestTheSimulationsTargetsAreTheStacks(t *testing.T) {
	if autoscaling.MinTarget != wallet.MinTargetUtilization || autoscaling.MaxTarget != wallet.MaxTargetUtilization || autoscaling.DefaultTarget != wallet.DefaultTargetUtilization {
		t.Fatalf("autoscaling %d–%d (%d), the stack's %d–%d (%d)", autoscaling.MinTarget, autoscaling.MaxTarget, autoscaling.DefaultTarget,
			wallet.MinTargetUtilization, wallet.MaxTargetUtilization, wallet.DefaultTargetUtilization)
	}
}

// A table auto scaled now is priced by what CloudWatch says it had, minute by minute, not by
// the instant DescribeTable was read: here it sits at 1 unit (the instant) but was at 100 for
// half the window. Its throttled minutes are counted against that history too.
func TestAnAutoScaledTableIsPricedByWhatItWasBilledFor(t *testing.T) {
	const n = 24 * 60
	reads := make([]float64, n)
	for i := range n / 2 {
		reads[i] = 60
	}
	m := minutesOf(reads, make([]float64, n))
	m.ProvisionedRead, m.ProvisionedWrite = make([]float64, n), make([]float64, n)
	for i := range n {
		m.ProvisionedRead[i], m.ProvisionedWrite[i] = 1, 1
		if i < n/2 {
			m.ProvisionedRead[i] = 100
		}
	}
	m.ProvisionedRead[10] = 50 // one minute under its load: throttled
	l := Load{Provisioned: Capacity{1, 1}, Consumed: m.Consumed, Minutes: m, Scaling: discover.Ranges{Read: &discover.Range{Min: 1, Max: 100}}}
	u := usageOf(wallet.BillingProvisioned, l)
	u.Footprint.Billed = BilledOf(u.Loads)
	p := testPrices()
	if b := u.Footprint.Billed; b == nil || !near(b.RCU, (100*719+50+1*720)/1440.0) || b.WCU != 1 {
		t.Fatalf("billed %+v", b)
	}
	a := Advise(u, p)
	want := ((100*719+50+720)/1440.0*p.RCUHour + p.WCUHour) * HoursPerMonth
	if a.Basis != BasisBilled || !near(a.Current, want) {
		t.Fatalf("current %.4f (%s), want %.4f billed (the instant's 1/1 is %.4f)", a.Current, a.Basis, want, (p.RCUHour+p.WCUHour)*HoursPerMonth)
	}
	if a.ThrottledMinutes.Current != 1 || !a.Throttled || a.Change == Keep {
		t.Fatalf("throttled %+v, change %s: the minute at 50 of a load of 60 throttled", a.ThrottledMinutes, a.Change)
	}
	// Without the history (no datapoints), the instant's capacity: it throttles half the window.
	l.Minutes.ProvisionedRead, l.Minutes.ProvisionedWrite = nil, nil
	u = usageOf(wallet.BillingProvisioned, l)
	u.Footprint.Billed = BilledOf(u.Loads)
	if a := Advise(u, p); a.Basis != BasisInstant || u.Footprint.Billed != nil || a.ThrottledMinutes.Current != n/2 {
		t.Fatalf("without history: %s, billed %v, throttled %+v", a.Basis, u.Footprint.Billed, a.ThrottledMinutes)
	}
}

// --autoscale prices the policies given, and the dimension not given is searched at the given
// one's target (the stack declares one target).
func TestAGivenPolicyIsPricedNotSearched(t *testing.T) {
	const n = 3 * 24 * 60
	m := minutesOf(profile.Of("diurnal", n), profile.Of("spiky", n))
	given := autoscaling.Policy{Min: 5, Max: 40, Target: 50}
	l := loadOf(m, Capacity{10, 10})
	l.AutoScale = Given{Read: &given}
	a := Advise(usageOf(wallet.BillingProvisioned, l), testPrices())
	if a.AutoScaling[0].Read != given || a.AutoScaling[0].Write.Target != 50 {
		t.Fatalf("given reads %v: got %v", given, a.AutoScaling[0])
	}
	r := autoscaling.Simulate(perSecond(m.Read, 0), given, nil)
	w := autoscaling.Simulate(perSecond(m.Write, 0), a.AutoScaling[0].Write, nil)
	p := testPrices()
	want := (float64(r.CapacityMinutes)*p.RCUHour + float64(w.CapacityMinutes)*p.WCUHour) / 60 * HoursPerMonth / (n / 60.0)
	if !near(*a.AutoScaled, want) {
		t.Fatalf("auto scaled %.6f, want %.6f", *a.AutoScaled, want)
	}
	// Capped at 40 against a diurnal peak of 1000: it throttles, more than the 10/10 table? No:
	// 10/10 throttles nearly every minute. The advice may take it; it never takes one that
	// throttles more than the table.
	if a.ThrottledMinutes.AutoScaled == 0 {
		t.Fatalf("a maximum of 40 under 1000 a second throttles: %+v", a.ThrottledMinutes)
	}
}

// Indexes are auto scaled with the table, each on its own load; the stack's context declares the
// table's only, and a note says what to give each index.
func TestAutoScalingAdviceCoversIndexes(t *testing.T) {
	const n = 7 * 24 * 60
	table := minutesOf(profile.Of("ramping", n), profile.Of("diurnal", n))
	index := minutesOf(profile.Of("diurnal", n), profile.Of("ramping", n))
	tr, _ := rightSize(table.Consumed)
	ir, _ := rightSize(index.Consumed)
	u := usageOf(wallet.BillingProvisioned, loadOf(table, tr), Load{Index: "by_balance", Provisioned: ir, Consumed: index.Consumed, Minutes: index})
	p := USEast1()
	p.RRUMillion, p.WRUMillion = 10*p.RRUMillion, 10*p.WRUMillion
	a := Advise(u, p)
	if a.Change != AutoScale || len(a.AutoScaling) != 2 {
		t.Fatalf("a ramping table with a diurnal index: %s %v", a.Change, a.AutoScaling)
	}
	notes := strings.Join(a.Notes, "\n")
	ix := a.AutoScaling[1]
	if !strings.Contains(notes, fmt.Sprintf("auto scale index by_balance where it is declared, reads %d to %d and writes %d to %d", ix.Read.Min, ix.Read.Max, ix.Write.Min, ix.Write.Max)) {
		t.Fatalf("the index's auto scaling must be said: %q", notes)
	}
}

// Auto scaling's simulation starts at the minimum: on a flat load its first two minutes are
// cheaper than a fixed capacity, and that is all. It is not advised for that.
func TestAutoScalingMustSaveMoreThanItsStart(t *testing.T) {
	for _, n := range []int{60, 7 * 24 * 60} {
		m := minutesOf(profile.Of("flat", n), profile.Of("flat", n))
		a := Advise(usageOf(wallet.BillingProvisioned, loadOf(m, Capacity{200, 200})), testPrices())
		if a.Change == AutoScale || *a.AutoScaled >= a.RightSized {
			t.Fatalf("flat for %d minutes: %s; auto %.4f against right-sized %.4f (cheaper by its first minutes, not advised)", n, a.Change, *a.AutoScaled, a.RightSized)
		}
	}
}

// An option that throttles more minutes than the table as it is is never the advice, however
// cheap: auto scaling capped at 50 units is far cheaper than a table sized for a diurnal peak
// of 1000 a second, and throttles most of each day.
func TestAnOptionThatThrottlesMoreThanTheTableIsNotAdvised(t *testing.T) {
	const n = 7 * 24 * 60
	m := minutesOf(profile.Of("diurnal", n), profile.Of("diurnal", n))
	right, _ := rightSize(m.Consumed)
	capped := autoscaling.Policy{Min: 1, Max: 50, Target: 70}
	l := loadOf(m, right)
	l.AutoScale = Given{Read: &capped, Write: &capped}
	a := Advise(usageOf(wallet.BillingProvisioned, l), USEast1())
	if *a.AutoScaled >= a.Current || a.ThrottledMinutes.AutoScaled <= a.ThrottledMinutes.Current {
		t.Fatalf("the test needs a cheaper option that throttles more: auto %.2f against %.2f, throttled %+v", *a.AutoScaled, a.Current, *a.ThrottledMinutes)
	}
	if a.Change == AutoScale {
		t.Fatalf("advised auto scaling that throttles %d minutes against the table's %d", a.ThrottledMinutes.AutoScaled, a.ThrottledMinutes.Current)
	}
}

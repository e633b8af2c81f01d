package autoscaling

import (
	"github.com/wallet-dynamodb/wallet/internal/autoscaling/profile"
	"testing"
)

// BenchmarkSimulate10000Tables simulates 14 days of minutes (20,160) for 10,000 tables, reads
// and writes each, in one goroutine: 403 million steps. The tables draw on the profiles (8
// loads of 20,160 minutes, each read by many tables as a fleet's similar tables would be) under
// 16 policies, so that the data stays in cache as the fleet's own series would, one table at a
// time. It reports tables·minutes per second; bench/README.md has the figure.
func BenchmarkSimulate10000Tables(b *testing.B) {
	const tables, minutes = 10_000, 14 * 24 * 60
	var loads []Load
	for _, s := range profile.All(minutes) {
		loads = append(loads, Load{PerSecond: s})
	}
	policies := make([]Policy, 16)
	for i := range policies {
		policies[i] = Policy{Min: int64(1 + 7*i), Max: int64(2000 + 2500*i), Target: MinTarget + 5*(i%15)}
	}
	var sink int64
	b.ResetTimer()
	for range b.N {
		for t := range tables {
			for d := range 2 {
				r := Simulate(loads[(2*t+d)%len(loads)], policies[(t+d)%len(policies)], nil)
				sink += r.CapacityMinutes
			}
		}
	}
	b.StopTimer()
	if sink == 0 {
		b.Fatal("nothing simulated")
	}
	b.ReportMetric(float64(tables)*minutes*float64(b.N)/b.Elapsed().Seconds(), "table·minutes/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/10000-tables")
}

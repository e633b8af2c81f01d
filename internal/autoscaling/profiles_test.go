package autoscaling

import (
	"math"
	"math/rand/v2"
)

// profiles are the loads the search and the rules are held to, n minutes each (units per
// second), starting at midnight UTC: flat, diurnal, spiky, idle, ramping, a load over the
// 40000-unit bound, a random walk and a bursty one.
func profiles(n int) map[string][]float64 {
	rnd := rand.New(rand.NewPCG(21, 2026))
	p := map[string][]float64{}
	each := func(name string, f func(m int) float64) {
		s := make([]float64, n)
		for m := range s {
			s[m] = math.Round(f(m)*100) / 100 // a minute's Sum / 60, to the hundredth
		}
		p[name] = s
	}
	day := func(m int) float64 { return (1 - math.Cos(2*math.Pi*float64(m%1440)/1440)) / 2 }
	each("flat", func(int) float64 { return 50 })
	each("diurnal", func(m int) float64 { return 100 + 900*day(m) })
	each("spiky", func(m int) float64 {
		if m%120 >= 60 && m%120 < 63 {
			return 500
		}
		return 10
	})
	each("idle", func(int) float64 { return 0 })
	each("ramping", func(m int) float64 { return 10 + 1990*float64(m)/float64(n) })
	each("over-the-max", func(m int) float64 { return 1000 + 59000*day(m) })
	walk := 200.0
	each("random-walk", func(int) float64 {
		walk = min(max(walk*math.Exp(rnd.NormFloat64()*0.05), 1), 5000)
		return walk
	})
	each("bursty", func(m int) float64 {
		if (m/37)%5 == 0 {
			return 300 + 100*rnd.Float64()
		}
		return rnd.Float64() * 5
	})
	return p
}

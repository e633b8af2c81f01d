// Package profile makes the loads the simulation, the advice and the cost command are tested and
// benchmarked on: units per second, one value a minute, starting at midnight UTC, the same on
// every run. Only tests import it.
package profile

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Names are the profiles: flat, diurnal, spiky, idle, ramping, a load over DynamoDB's default
// 40000 units a second, a random walk and a bursty one.
func Names() []string {
	names := make([]string, 0, len(makers))
	for n := range makers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Of is the profile name over n minutes; nil for a name that is none.
func Of(name string, n int) []float64 {
	f, ok := makers[name]
	if !ok {
		return nil
	}
	g := f(rand.New(rand.NewPCG(21, 2026)), n)
	s := make([]float64, n)
	for m := range s {
		s[m] = math.Round(g(m)*100) / 100 // a minute's Sum / 60, to the hundredth
	}
	return s
}

// All is every profile over n minutes.
func All(n int) map[string][]float64 {
	p := map[string][]float64{}
	for _, name := range Names() {
		p[name] = Of(name, n)
	}
	return p
}

// day is 0 at midnight UTC, 1 at noon.
func day(m int) float64 { return (1 - math.Cos(2*math.Pi*float64(m%1440)/1440)) / 2 }

// makers make each profile's generator, called minute after minute from 0.
var makers = map[string]func(rnd *rand.Rand, n int) func(m int) float64{
	"flat":    func(*rand.Rand, int) func(int) float64 { return func(int) float64 { return 50 } },
	"diurnal": func(*rand.Rand, int) func(int) float64 { return func(m int) float64 { return 100 + 900*day(m) } },
	"spiky": func(*rand.Rand, int) func(int) float64 {
		return func(m int) float64 {
			if m%120 >= 60 && m%120 < 63 {
				return 500
			}
			return 10
		}
	},
	"idle": func(*rand.Rand, int) func(int) float64 { return func(int) float64 { return 0 } },
	"ramping": func(_ *rand.Rand, n int) func(int) float64 {
		return func(m int) float64 { return 10 + 1990*float64(m)/float64(n) }
	},
	"over-the-max": func(*rand.Rand, int) func(int) float64 {
		return func(m int) float64 { return 1000 + 59000*day(m) }
	},
	"random-walk": func(rnd *rand.Rand, _ int) func(int) float64 {
		walk := 200.0
		return func(int) float64 {
			walk = min(max(walk*math.Exp(rnd.NormFloat64()*0.05), 1), 5000)
			return walk
		}
	},
	"bursty": func(rnd *rand.Rand, _ int) func(int) float64 {
		return func(m int) float64 {
			if (m/37)%5 == 0 {
				return 300 + 100*rnd.Float64()
			}
			return rnd.Float64() * 5
		}
	},
}

package cost

import (
	"fmt"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// ClassAdvice compares a table's class with the other one, from the table's own storage and
// throughput at its region's prices of each class: Standard-Infrequent-Access pays less to store
// and more to read and write, so it wins above some share of storage in the bill, and that share
// (the break-even) is the region's and the table's own, not a fixed ratio.
type ClassAdvice struct {
	// Class is the table's; Other the class compared with.
	Class wallet.TableClass `json:"class"`
	Other wallet.TableClass `json:"other"`
	// MonthlyUSD and OtherMonthlyUSD are the table's storage, throughput (at its billing mode and
	// capacity as they are) and backups a month in each class.
	MonthlyUSD      float64 `json:"monthly_usd"`
	OtherMonthlyUSD float64 `json:"other_monthly_usd"`
	// MonthlySavingsUSD is what switching saves; negative when the table's class is cheaper.
	MonthlySavingsUSD float64 `json:"monthly_savings_usd"`
	// StorageShare is the table's storage over its storage and throughput, at Standard prices;
	// BreakEvenStorageShare is the share above which Standard-IA costs less.
	StorageShare          float64 `json:"storage_share"`
	BreakEvenStorageShare float64 `json:"break_even_storage_share"`
	// Switch: the other class is cheaper; Context is then the -c value to redeploy with.
	Switch  bool   `json:"switch"`
	Context string `json:"context"`
}

// classChangeRule is AWS's rule on switching classes, which the advice cannot check: it does not
// see the table's history.
const classChangeRule = "AWS changes a table's class at most twice in 30 days (this review cannot see the table's history)"

// adviseClass compares the table in its class (p, its region's prices of it) with the other
// class. It needs the table's throughput: its capacity when provisioned, its requests (read from
// CloudWatch) on demand; without them, or with one set of prices for both classes (set by hand),
// there is nothing to compare and it is nil.
func adviseClass(r reading, t TableCost, p Prices) *ClassAdvice {
	other := wallet.ClassStandardIA
	if t.TableClass == wallet.ClassStandardIA {
		other = wallet.ClassStandard
	}
	q := p.For(p.Region, other)
	if p.book == nil || sameRates(p, q) {
		return nil
	}
	// The table as priced: an auto-scaled one at the capacity it was billed for.
	loads, _ := loadsOf(r)
	f, _ := rest(t.Region, r, loads, p)
	var reads, writes float64 // units a month, on demand
	if f.Billing == wallet.BillingOnDemand {
		if r.unavailable != "" || r.hours <= 0 {
			return nil
		}
		datapoints := 0
		for _, l := range loads {
			reads += l.Consumed.ReadUnits
			writes += l.Consumed.WriteUnits
			datapoints += l.Consumed.Datapoints
		}
		if datapoints == 0 {
			return nil // no datapoint is no knowledge of its requests, not zero requests
		}
		reads, writes = reads*HoursPerMonth/r.hours, writes*HoursPerMonth/r.hours
	}
	f.PITRBytes, f.BackupBytes = t.Storage.PITRBytes, t.Storage.BackupBytes
	throughput := func(p Prices) float64 {
		if f.Billing == wallet.BillingOnDemand {
			return (reads*p.RRUMillion + writes*p.WRUMillion) / 1e6
		}
		return Monthly(f, p).Capacity
	}
	storage := func(p Prices) float64 { return float64(f.SizeBytes) / bytesPerGB * p.GBMonth }
	total := func(p Prices) float64 {
		return Monthly(Footprint{Billing: wallet.BillingOnDemand, SizeBytes: f.SizeBytes, PITRBytes: f.PITRBytes, BackupBytes: f.BackupBytes}, p).Total + throughput(p)
	}

	std, ia := p, q
	if t.TableClass == wallet.ClassStandardIA {
		std, ia = q, p
	}
	a := &ClassAdvice{Class: classOr(t.TableClass), Other: other, MonthlyUSD: Round(total(p)), OtherMonthlyUSD: Round(total(q))}
	a.MonthlySavingsUSD = Round(total(p) - total(q))
	ts, ss := throughput(std), storage(std)
	if ts+ss > 0 {
		a.StorageShare = Round(ss / (ts + ss))
	}
	a.BreakEvenStorageShare = Round(breakEven(ts, ss, throughput(ia), storage(ia), std, ia))
	a.Switch = a.MonthlySavingsUSD > 0
	if a.Switch {
		a.Context = fmt.Sprintf("-c %s=%s", contract.CtxTableClass, other)
	}
	return a
}

// breakEven is the storage share of the Standard bill at which both classes cost the same: with
// throughput dearer by a (IA over Standard) and storage cheaper by b, T + S = aT + bS, so
// S / (S + T) = (a - 1) / ((a - 1) + (1 - b)). With no throughput or no storage the ratios are
// the region's unit prices' (writes, and GB-months).
func breakEven(ts, ss, ti, si float64, std, ia Prices) float64 {
	a := ia.WCUHour / std.WCUHour
	if ts > 0 {
		a = ti / ts
	}
	b := ia.GBMonth / std.GBMonth
	if ss > 0 {
		b = si / ss
	}
	switch {
	case a <= 1: // Standard-IA's throughput no dearer: it wins at any storage
		return 0
	case b >= 1: // its storage no cheaper: it never wins
		return 1
	}
	return (a - 1) / ((a - 1) + (1 - b))
}

func sameRates(p, q Prices) bool {
	for _, s := range Specs() {
		if s.Of(p) != s.Of(q) {
			return false
		}
	}
	return true
}

// classNote is the advice in words, for the table's notes.
func (a *ClassAdvice) note() string {
	verdict := fmt.Sprintf("%s is cheaper: keep it", a.Class)
	if a.Switch {
		verdict = fmt.Sprintf("%s saves $%.2f/month: redeploy with %s", a.Other, a.MonthlySavingsUSD, a.Context)
	}
	return fmt.Sprintf("table class %s: $%.2f/month, %s: $%.2f/month at its storage and throughput; %s. Standard-IA wins above a storage share of %.0f %% of the Standard bill (this table: %.0f %%). %s",
		a.Class, a.MonthlyUSD, a.Other, a.OtherMonthlyUSD, verdict, a.BreakEvenStorageShare*100, a.StorageShare*100, classChangeRule)
}

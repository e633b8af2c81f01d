// Package cost estimates what a DynamoDB table costs per month. Monthly prices a table at rest:
// provisioned read and write capacity by the hour, storage, point-in-time recovery and backups by
// the GB-month (an on-demand table at rest costs only its storage, and at rest is what a forgotten
// table is). Advise prices it against what it used: as it is, right-sized, and on demand, and
// says which is cheapest in the wallet stack's own context values; Review reads a region's
// tables and their use for it. Declare prices a template's tables before anything is deployed.
// Every price is one row of Specs.
package cost

import (
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// HoursPerMonth is AWS's own month for hourly prices.
const HoursPerMonth = 730

// Footprint is what a table's monthly cost at rest depends on. PITRBytes and BackupBytes are
// known only to a caller that asked (DescribeTable does not say): zero leaves them out.
type Footprint struct {
	Billing  wallet.Billing
	RCU, WCU int64 // provisioned units, table and global secondary indexes together
	// RWCU are replicated write capacity units: the table's own writes when it is a replica of
	// a global table of more than one (its indexes' writes stay WCU).
	RWCU      int64
	SizeBytes int64 // table and index storage
	// PITRBytes is what point-in-time recovery bills for: the table and its local secondary
	// indexes, when it is on.
	PITRBytes int64
	// BackupBytes are the table's on-demand backups together, the janitor's among them.
	BackupBytes int64
	// Class is the table's class (absent: standard), whose prices it bills at.
	Class wallet.TableClass
	// Billed, when set, is what an auto-scaled table's capacity was billed for (BilledOf), in
	// place of RCU and WCU, which are only the instant's.
	Billed *BilledUnits
}

// BilledUnits are a table's average provisioned units over a window, its indexes' with them:
// the capacity an auto-scaled table paid for, minute by minute.
type BilledUnits struct{ RCU, WCU float64 }

// Estimate is a table's cost per month in US dollars.
type Estimate struct {
	Capacity float64 `json:"capacity_usd"`
	Storage  float64 `json:"storage_usd"`
	// Backup is point-in-time recovery and on-demand backups: absent when there are none.
	Backup float64 `json:"backup_usd,omitempty"`
	Total  float64 `json:"total_usd"`
}

const bytesPerGB = 1 << 30 // AWS bills storage in binary gigabytes

// MonthlyIn prices a table of region for one month of standing still, at the prices of its
// region and class.
func MonthlyIn(region string, t Footprint, p Prices) Estimate {
	return Monthly(t, p.For(region, t.Class))
}

// Monthly prices a table for one month of standing still, at p as they are (already the
// table's region's and class's: see MonthlyIn).
func Monthly(t Footprint, p Prices) Estimate {
	var e Estimate
	if t.Billing != wallet.BillingOnDemand {
		rcu, wcu := float64(t.RCU), float64(t.WCU)
		if t.Billed != nil {
			rcu, wcu = t.Billed.RCU, t.Billed.WCU
		}
		e.Capacity = (rcu*p.RCUHour + wcu*p.WCUHour + float64(t.RWCU)*p.ReplicatedWCUHour()) * HoursPerMonth
	}
	e.Storage = float64(t.SizeBytes) / bytesPerGB * p.GBMonth
	e.Backup = float64(t.PITRBytes)/bytesPerGB*p.PITRGBMonth + float64(t.BackupBytes)/bytesPerGB*p.BackupGBMonth
	e.Total = e.Capacity + e.Storage + e.Backup
	return e
}

// FromDescription reads the billing mode, provisioned capacity (of the table and its global
// secondary indexes, which are billed alike) and storage (table plus indexes) of a table.
func FromDescription(d *types.TableDescription) Footprint {
	if d == nil {
		return Footprint{}
	}
	t := Footprint{Billing: wallet.BillingOf(d), SizeBytes: aws.ToInt64(d.TableSizeBytes), Class: wallet.ClassOf(d)}
	provisioned := t.Billing == wallet.BillingProvisioned
	if provisioned && d.ProvisionedThroughput != nil {
		t.RCU += aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits)
		t.WCU += aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)
	}
	for _, g := range d.GlobalSecondaryIndexes {
		t.SizeBytes += aws.ToInt64(g.IndexSizeBytes)
		if provisioned && g.ProvisionedThroughput != nil {
			t.RCU += aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits)
			t.WCU += aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits)
		}
	}
	for _, l := range d.LocalSecondaryIndexes {
		t.SizeBytes += aws.ToInt64(l.IndexSizeBytes)
	}
	return t
}

// Round gives dollars to four places, for reports: enough to see a table's storage. It is always
// finite, because JSON cannot carry anything else and a report of what was deleted must print:
// prices are bounded where they are read (MaxPrice), and this is the second guard.
func Round(usd float64) float64 {
	switch {
	case math.IsNaN(usd):
		return 0
	case usd > math.MaxFloat64/1e4:
		return math.MaxFloat64
	case usd < -math.MaxFloat64/1e4:
		return -math.MaxFloat64
	}
	return math.Round(usd*1e4) / 1e4
}

// Package cost estimates what a DynamoDB table costs per month. Monthly prices a table at rest:
// provisioned read and write capacity by the hour, storage, point-in-time recovery and backups by
// the GB-month (an on-demand table at rest costs only its storage, and at rest is what a forgotten
// table is). Advise prices it against what it used: as it is, right-sized, and on demand, and
// says which is cheapest in the wallet stack's own context values; Review reads a region's
// tables and their use for it.
package cost

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// HoursPerMonth is AWS's own month for hourly prices.
const HoursPerMonth = 730

// Prices are US dollars for the standard table class.
type Prices struct {
	RCUHour float64 `json:"rcu_hour_usd"`
	WCUHour float64 `json:"wcu_hour_usd"`
	GBMonth float64 `json:"gb_month_usd"`
	// RRUMillion and WRUMillion are on-demand billing: per million read and write request units.
	RRUMillion float64 `json:"rru_million_usd"`
	WRUMillion float64 `json:"wru_million_usd"`
	// PITRGBMonth is continuous backup (point-in-time recovery) storage, billed on the table's
	// size; BackupGBMonth is on-demand backup storage, billed on each backup's size.
	PITRGBMonth   float64 `json:"pitr_gb_month_usd"`
	BackupGBMonth float64 `json:"backup_gb_month_usd"`
	// Region is where these prices were written down; empty once a user has overridden one.
	Region string `json:"region,omitempty"`
	Source string `json:"source"`
}

// USEast1 are the list prices of https://aws.amazon.com/dynamodb/pricing/ (provisioned capacity
// and on-demand tabs, standard table class, US East (N. Virginia)) as listed in 2025, written
// down here on 2026-11-25 (capacity and storage) and 2026-11-26 (request units, point-in-time
// recovery, backups). The request prices are those after the on-demand price cut of
// 2024-11-01 ($0.125 per million reads, $0.625 per million writes). Other table classes and
// regions differ: see Note.
// The free tiers (25 GB of storage, 25 RCU and 25 WCU) are ignored on purpose: an estimate
// that errs high never talks anyone out of deleting a table.
func USEast1() Prices {
	return Prices{
		RCUHour:       0.00013,
		WCUHour:       0.00065,
		GBMonth:       0.25,
		RRUMillion:    0.125,
		WRUMillion:    0.625,
		PITRGBMonth:   0.20,
		BackupGBMonth: 0.10,
		Region:        "us-east-1",
		Source:        "aws.amazon.com/dynamodb/pricing, standard table class, us-east-1, 2025 list prices (written down 2026-11-25 and 2026-11-26); free tier ignored",
	}
}

// Environment variables that override the written-down prices; flags override them in turn.
const (
	EnvRCUHour       = "WALLET_PRICE_RCU_HOUR"
	EnvWCUHour       = "WALLET_PRICE_WCU_HOUR"
	EnvGBMonth       = "WALLET_PRICE_GB_MONTH"
	EnvRRUMillion    = "WALLET_PRICE_RRU_MILLION"
	EnvWRUMillion    = "WALLET_PRICE_WRU_MILLION"
	EnvPITRGBMonth   = "WALLET_PRICE_PITR_GB_MONTH"
	EnvBackupGBMonth = "WALLET_PRICE_BACKUP_GB_MONTH"
)

// EnvNames are every price's environment variable, in the order prices are listed everywhere.
func EnvNames() []string {
	return []string{EnvRCUHour, EnvWCUHour, EnvGBMonth, EnvRRUMillion, EnvWRUMillion, EnvPITRGBMonth, EnvBackupGBMonth}
}

func (p *Prices) byEnv(name string) *float64 {
	switch name {
	case EnvRCUHour:
		return &p.RCUHour
	case EnvWCUHour:
		return &p.WCUHour
	case EnvGBMonth:
		return &p.GBMonth
	case EnvRRUMillion:
		return &p.RRUMillion
	case EnvWRUMillion:
		return &p.WRUMillion
	case EnvPITRGBMonth:
		return &p.PITRGBMonth
	case EnvBackupGBMonth:
		return &p.BackupGBMonth
	}
	return nil
}

// Override replaces the prices whose value is non-empty, from the environment first and then
// from flags (each a map from Env* name to the flag's text). Every bad value is named.
func (p Prices) Override(values map[string]string) (Prices, error) {
	for _, name := range EnvNames() {
		v, ok := values[name]
		if !ok || v == "" {
			continue
		}
		f, err := ParsePrice(v)
		if err != nil {
			return Prices{}, fmt.Errorf("%s=%q: %w", name, v, err)
		}
		*p.byEnv(name) = f
		p.Region = ""
		p.Source = "overridden by the user"
	}
	return p, nil
}

// ParsePrice reads a non-negative number of dollars.
func ParsePrice(v string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("want a non-negative number of US dollars, such as 0.00065")
	}
	return f, nil
}

// Note says when the prices are not the regions' own; empty when they are, or the user set them.
func (p Prices) Note(regions ...string) string {
	if p.Region == "" {
		return ""
	}
	var other []string
	for _, r := range regions {
		if r != p.Region {
			other = append(other, r)
		}
	}
	if len(other) == 0 {
		return ""
	}
	return fmt.Sprintf("prices are %s estimates for %s (set the --price-* flags or %s for the region's own)",
		p.Region, strings.Join(other, ", "), strings.Join(EnvNames(), ", "))
}

// Footprint is what a table's monthly cost at rest depends on. PITRBytes and BackupBytes are
// known only to a caller that asked (DescribeTable does not say): zero leaves them out.
type Footprint struct {
	Billing   wallet.Billing
	RCU, WCU  int64 // provisioned units, table and global secondary indexes together
	SizeBytes int64 // table and index storage
	// PITRBytes is what point-in-time recovery bills for: the table and its local secondary
	// indexes, when it is on.
	PITRBytes int64
	// BackupBytes are the table's on-demand backups together, the janitor's among them.
	BackupBytes int64
}

// Estimate is a table's cost per month in US dollars.
type Estimate struct {
	Capacity float64 `json:"capacity_usd"`
	Storage  float64 `json:"storage_usd"`
	// Backup is point-in-time recovery and on-demand backups: absent when there are none.
	Backup float64 `json:"backup_usd,omitempty"`
	Total  float64 `json:"total_usd"`
}

const bytesPerGB = 1 << 30 // AWS bills storage in binary gigabytes

// Monthly prices a table for one month of standing still.
func Monthly(t Footprint, p Prices) Estimate {
	var e Estimate
	if t.Billing != wallet.BillingOnDemand {
		e.Capacity = (float64(t.RCU)*p.RCUHour + float64(t.WCU)*p.WCUHour) * HoursPerMonth
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
	t := Footprint{Billing: wallet.BillingOf(d), SizeBytes: aws.ToInt64(d.TableSizeBytes)}
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

// Round gives dollars to four places, for reports: enough to see a table's storage.
func Round(usd float64) float64 { return math.Round(usd*1e4) / 1e4 }

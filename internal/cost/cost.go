// Package cost estimates what a DynamoDB table costs per month while it sits there: provisioned
// read and write capacity by the hour, and storage by the GB-month. On-demand requests are not
// counted: an on-demand table at rest costs only its storage, and at rest is what a forgotten
// table is.
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
	// Region is where these prices were written down; empty once a user has overridden one.
	Region string `json:"region,omitempty"`
	Source string `json:"source"`
}

// USEast1 are the list prices of https://aws.amazon.com/dynamodb/pricing/ (provisioned capacity
// and on-demand tabs, standard table class, US East (N. Virginia)) as listed in 2025, written
// down here on 2026-11-25. Other table classes and regions differ: see Note.
// The 25 GB free storage tier is ignored on purpose: an estimate that errs high never talks
// anyone out of deleting a table.
func USEast1() Prices {
	return Prices{
		RCUHour: 0.00013,
		WCUHour: 0.00065,
		GBMonth: 0.25,
		Region:  "us-east-1",
		Source:  "aws.amazon.com/dynamodb/pricing, standard table class, us-east-1, 2025 list prices (written down 2026-11-25); free tier ignored",
	}
}

// Environment variables that override the written-down prices; flags override them in turn.
const (
	EnvRCUHour = "WALLET_PRICE_RCU_HOUR"
	EnvWCUHour = "WALLET_PRICE_WCU_HOUR"
	EnvGBMonth = "WALLET_PRICE_GB_MONTH"
)

// Override replaces the prices whose value is non-empty, from the environment first and then
// from flags (each a map from Env* name to the flag's text). Every bad value is named.
func (p Prices) Override(values map[string]string) (Prices, error) {
	for _, k := range []struct {
		name string
		dst  *float64
	}{{EnvRCUHour, &p.RCUHour}, {EnvWCUHour, &p.WCUHour}, {EnvGBMonth, &p.GBMonth}} {
		v, ok := values[k.name]
		if !ok || v == "" {
			continue
		}
		f, err := ParsePrice(v)
		if err != nil {
			return Prices{}, fmt.Errorf("%s=%q: %w", k.name, v, err)
		}
		*k.dst = f
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
	return fmt.Sprintf("prices are %s estimates for %s (set --price-rcu-hour, --price-wcu-hour, --price-gb-month or %s, %s, %s for the region's own)",
		p.Region, strings.Join(other, ", "), EnvRCUHour, EnvWCUHour, EnvGBMonth)
}

// Footprint is what a table's monthly cost depends on.
type Footprint struct {
	Billing   wallet.Billing
	RCU, WCU  int64 // provisioned units, table and global secondary indexes together
	SizeBytes int64 // table and index storage
}

// Estimate is a table's cost per month in US dollars.
type Estimate struct {
	Capacity float64 `json:"capacity_usd"`
	Storage  float64 `json:"storage_usd"`
	Total    float64 `json:"total_usd"`
}

const bytesPerGB = 1 << 30 // AWS bills storage in binary gigabytes

// Monthly prices a table for one month of standing still.
func Monthly(t Footprint, p Prices) Estimate {
	var e Estimate
	if t.Billing != wallet.BillingOnDemand {
		e.Capacity = (float64(t.RCU)*p.RCUHour + float64(t.WCU)*p.WCUHour) * HoursPerMonth
	}
	e.Storage = float64(t.SizeBytes) / bytesPerGB * p.GBMonth
	e.Total = e.Capacity + e.Storage
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

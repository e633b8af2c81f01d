package cost

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Prices are US dollars for the standard table class. Each field has one row in Specs, which
// names, defaults, reads and prints it: a new price is a field here and a row there.
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

// Spec is one price: its flag, its environment variable, its list price and where that was
// read, and how it is printed.
type Spec struct {
	Flag    string  // without the dashes: price-rcu-hour
	Env     string  // WALLET_PRICE_RCU_HOUR
	Default float64 // the us-east-1 list price
	// Unit is what one dollar figure buys, as printed after "$0.00013/".
	Unit string
	// Help says what the price is for, as the flag's usage.
	Help string
	// Source is where on the pricing page Default was read.
	Source string
	field  func(*Prices) *float64
}

// Of is the spec's price in p.
func (s Spec) Of(p Prices) float64 { return *s.field(&p) }

// listSource is where the list prices were written down. The request prices are those after the
// on-demand price cut of 2024-11-01. The free tiers (25 GB of storage, 25 RCU and 25 WCU) are
// ignored on purpose: an estimate that errs high never talks anyone out of deleting a table.
const listSource = "aws.amazon.com/dynamodb/pricing, standard table class, us-east-1, 2025 list prices (written down 2026-11-25 and 2026-11-26); free tier ignored"

// Specs are every price, in the order they are listed everywhere: flags, environment, text.
func Specs() []Spec {
	const provisioned, onDemand = "provisioned capacity tab", "on-demand tab"
	return []Spec{
		{"price-rcu-hour", "WALLET_PRICE_RCU_HOUR", 0.00013, "RCU-hour", "US$ per provisioned RCU-hour", provisioned, func(p *Prices) *float64 { return &p.RCUHour }},
		{"price-wcu-hour", "WALLET_PRICE_WCU_HOUR", 0.00065, "WCU-hour", "US$ per provisioned WCU-hour", provisioned, func(p *Prices) *float64 { return &p.WCUHour }},
		{"price-gb-month", "WALLET_PRICE_GB_MONTH", 0.25, "GB-month stored", "US$ per GB-month of storage", provisioned, func(p *Prices) *float64 { return &p.GBMonth }},
		{"price-rru-million", "WALLET_PRICE_RRU_MILLION", 0.125, "million read request units", "US$ per million on-demand read request units", onDemand, func(p *Prices) *float64 { return &p.RRUMillion }},
		{"price-wru-million", "WALLET_PRICE_WRU_MILLION", 0.625, "million write request units", "US$ per million on-demand write request units", onDemand, func(p *Prices) *float64 { return &p.WRUMillion }},
		{"price-pitr-gb-month", "WALLET_PRICE_PITR_GB_MONTH", 0.20, "GB-month of PITR", "US$ per GB-month of point-in-time recovery", onDemand, func(p *Prices) *float64 { return &p.PITRGBMonth }},
		{"price-backup-gb-month", "WALLET_PRICE_BACKUP_GB_MONTH", 0.10, "GB-month of backups", "US$ per GB-month of on-demand backups", onDemand, func(p *Prices) *float64 { return &p.BackupGBMonth }},
	}
}

// USEast1 are the list prices of https://aws.amazon.com/dynamodb/pricing/ (standard table class,
// US East (N. Virginia)): each Spec's Default. Other table classes and regions differ: see Note.
func USEast1() Prices {
	p := Prices{Region: "us-east-1", Source: listSource}
	for _, s := range Specs() {
		*s.field(&p) = s.Default
	}
	return p
}

// In is the prices of region. One set of prices serves every region today (us-east-1's list
// prices, or the user's own), and Note says so; every priced item keeps its region and takes its
// prices here, so that prices per region change this method alone.
func (p Prices) In(region string) Prices { return p }

// ReplicatedWCUHour is the price of a replicated write capacity unit (rWCU), what a global
// table's replica bills for its own writes: AWS prices it as a WCU of the same region since the
// price cut of 2024-11-01 (DynamoDB Developer Guide, "Understanding Amazon DynamoDB billing for
// global tables": replicated write units are priced the same as single-Region write units).
func (p Prices) ReplicatedWCUHour() float64 { return p.WCUHour }

// EnvNames are every price's environment variable, in Specs' order.
func EnvNames() []string {
	var names []string
	for _, s := range Specs() {
		names = append(names, s.Env)
	}
	return names
}

// Environment reads every price's variable with getenv (os.Getenv): an empty one is unset.
func Environment(getenv func(string) string) map[string]string {
	values := map[string]string{}
	for _, s := range Specs() {
		values[s.Env] = getenv(s.Env)
	}
	return values
}

// Override replaces the prices whose value is non-empty (a map from a Spec's Env to its text),
// in Specs' order so that with two bad values the same one is named on every run.
func (p Prices) Override(values map[string]string) (Prices, error) {
	for _, s := range Specs() {
		v, ok := values[s.Env]
		if !ok || v == "" {
			continue
		}
		f, err := ParsePrice(v)
		if err != nil {
			return Prices{}, fmt.Errorf("%s=%q: %w", s.Env, v, err)
		}
		*s.field(&p) = f
		p.Region = ""
		p.Source = "overridden by the user"
	}
	return p, nil
}

// MaxPrice bounds every price, in US dollars per unit. Above it a month's products (a price ×
// 730 hours × capacity, or × bytes of storage) can overflow a float64 to +Inf, which no report
// can carry; and a dollar amount that large is a typo, not a price.
const MaxPrice = 1e9

// plainDecimal is digits with an optional fraction and exponent: what people write for money.
// Go's own float syntax also takes 1_000, 0x1p-3, Inf and NaN, which no price is written as.
var plainDecimal = regexp.MustCompile(`^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$`)

// ParsePrice reads a price: a plain decimal number of US dollars, 0 to MaxPrice.
func ParsePrice(v string) (float64, error) {
	want := fmt.Errorf("want a non-negative plain decimal number of US dollars up to %g, such as 0.00065", float64(MaxPrice))
	if !plainDecimal.MatchString(strings.TrimSpace(v)) {
		return 0, want
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f > MaxPrice {
		return 0, fmt.Errorf("%w (larger prices overflow a month's cost)", want)
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

// Line is the one text of the prices every report prints: each price in Specs' order, the
// month's hours, and where the prices come from.
func (p Prices) Line() string {
	var each []string
	for _, s := range Specs() {
		each = append(each, fmt.Sprintf("$%g/%s", s.Of(p), s.Unit))
	}
	return fmt.Sprintf("Prices: %s; %d hours a month; %s.", strings.Join(each, ", "), HoursPerMonth, p.Source)
}

package cost

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Prices are one region's US dollar prices of one table class, where they were read and when.
// Each price has one row in Specs, which names, defaults, reads and prints it: a new price is a
// field here and a row there. Behind a Prices built by Priced stand the run's prices of every
// other region and class, which In and For give: each table takes its own region's and class's.
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
	// Region is whose prices these are; empty for prices set by hand with no region.
	Region string `json:"region,omitempty"`
	// Class is the table class priced; empty means standard.
	Class  wallet.TableClass `json:"table_class,omitempty"`
	Source string            `json:"source"`
	// Date is the day the prices were read from the Price List API, or written down.
	Date string `json:"date,omitempty"`
	// Reserved are the region's reserved capacity terms (Standard only: Standard-IA capacity
	// cannot be reserved).
	Reserved []Reservation `json:"reserved,omitempty"`
	// Notes say what is not a list price of the region: derived figures, a fallback and why.
	Notes []string `json:"notes,omitempty"`

	book *book
}

// Reservation is one reserved capacity term of a region, for 100 units as AWS sells them: an
// upfront fee and an hourly fee for each of reads and writes.
type Reservation struct {
	Years      int     `json:"years"`
	RCUUpfront float64 `json:"rcu_upfront_usd_per_100"`
	RCUHour    float64 `json:"rcu_hour_usd_per_100"`
	WCUUpfront float64 `json:"wcu_upfront_usd_per_100"`
	WCUHour    float64 `json:"wcu_hour_usd_per_100"`
	Source     string  `json:"source"`
}

// book is the run's prices of every region and class it resolved, and the user's overrides,
// which also apply to a region resolved later from the shipped table.
type book struct {
	entries   map[bookKey]Prices
	overrides map[string]string
}

type bookKey struct {
	region string
	class  wallet.TableClass
}

func classOr(c wallet.TableClass) wallet.TableClass {
	if c == "" {
		return wallet.ClassStandard
	}
	return c
}

// Priced is the run's prices: entries (one per region and class, as the Price List API or the
// shipped table gave them), the first being the one returned. A region or class none of them
// has is priced from the shipped table, with its notes.
func Priced(entries ...Prices) Prices {
	b := &book{entries: map[bookKey]Prices{}}
	for _, e := range entries {
		e.book = nil
		e.Class = classOr(e.Class)
		b.entries[bookKey{e.Region, e.Class}] = e
	}
	if len(entries) == 0 {
		return Prices{book: b}
	}
	first := b.entries[bookKey{entries[0].Region, classOr(entries[0].Class)}]
	first.book = b
	return first
}

// Shipped prices for every region: the shipped table alone, as the janitor prices (it asks no
// network for prices) and as a run whose Price List cannot be read falls back to.
func ShippedPrices(defaultRegion string) Prices {
	p := shippedOr(defaultRegion, wallet.ClassStandard)
	return Priced(p)
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

// Set sets the spec's price in p (a price read from a price list, already checked).
func (s Spec) Set(p *Prices, v float64) { *s.field(p) = v }

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

// In is the standard class's prices of region: For(region, standard).
func (p Prices) In(region string) Prices { return p.For(region, wallet.ClassStandard) }

// For is the prices of region and class. Prices set by hand (no Priced behind them) are the
// same in every region and class; a run's are the entry of that region and class, or the shipped
// table's when the run did not resolve it, with the user's overrides applied either way.
func (p Prices) For(region string, class wallet.TableClass) Prices {
	if p.book == nil {
		return p
	}
	k := bookKey{region, classOr(class)}
	e, ok := p.book.entries[k]
	if !ok {
		var err error
		e = shippedOr(region, k.class)
		if e, err = e.override(p.book.overrides, true); err != nil {
			e = shippedOr(region, k.class) // the overrides were read once already: cannot fail
		}
	}
	e.book = p.book
	return e
}

// Entries are the prices of regions (every class of each), in region then class order: what a
// report lists as where its prices came from. Prices set by hand are their one entry.
func (p Prices) Entries(regions ...string) []Prices {
	if p.book == nil {
		q := p
		return []Prices{q}
	}
	rs := slices.Clone(regions)
	slices.Sort(rs)
	rs = slices.Compact(rs)
	var out []Prices
	for _, r := range rs {
		for _, c := range []wallet.TableClass{wallet.ClassStandard, wallet.ClassStandardIA} {
			e := p.For(r, c)
			e.book = nil
			out = append(out, e)
		}
	}
	if out == nil {
		out = []Prices{}
	}
	return out
}

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
// in Specs' order so that with two bad values the same one is named on every run. Behind a run's
// prices every region and class takes them: a price the user sets is theirs everywhere.
func (p Prices) Override(values map[string]string) (Prices, error) {
	if p.book == nil {
		return p.override(values, false)
	}
	b := &book{entries: map[bookKey]Prices{}, overrides: map[string]string{}}
	for k, v := range p.book.overrides {
		b.overrides[k] = v
	}
	for k, v := range values {
		if v != "" {
			b.overrides[k] = v
		}
	}
	for k, e := range p.book.entries {
		o, err := e.override(values, true)
		if err != nil {
			return Prices{}, err
		}
		b.entries[k] = o
	}
	q, err := p.override(values, true)
	if err != nil {
		return Prices{}, err
	}
	q.book = b
	return q, nil
}

// override is Override on this one entry; a regional one (a run's entry) keeps its region.
func (p Prices) override(values map[string]string, regional bool) (Prices, error) {
	var set []string
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
		set = append(set, s.Env)
	}
	if len(set) == 0 {
		return p, nil
	}
	if !regional {
		// Prices set by hand over us-east-1's are no region's any more.
		p.Region, p.Source = "", "overridden by the user"
		return p, nil
	}
	p.Source = fmt.Sprintf("%s; overridden by the user: %s", p.Source, strings.Join(set, ", "))
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
// Behind a run's prices, it is each region's notes (standard class; Notes of the Standard-IA
// entries are in the report's prices).
func (p Prices) Note(regions ...string) string {
	if p.book != nil {
		var notes []string
		rs := slices.Clone(regions)
		slices.Sort(rs)
		for _, r := range slices.Compact(rs) {
			for _, n := range p.In(r).Notes {
				if !slices.Contains(notes, n) { // a note of several regions, once
					notes = append(notes, n)
				}
			}
		}
		return strings.Join(notes, "; ")
	}
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

// Line is the one text of these prices: each price in Specs' order, the month's hours, and
// where the prices come from.
func (p Prices) Line() string {
	var each []string
	for _, s := range Specs() {
		each = append(each, fmt.Sprintf("$%g/%s", s.Of(p), s.Unit))
	}
	where := ""
	if p.Region != "" {
		where = fmt.Sprintf(" in %s, %s class", p.Region, classOr(p.Class))
	}
	date := ""
	if p.Date != "" {
		date = " (" + p.Date + ")"
	}
	return fmt.Sprintf("Prices%s: %s; %d hours a month; %s%s.", where, strings.Join(each, ", "), HoursPerMonth, p.Source, date)
}

// Lines are the text of the prices of regions, one line per region and class (one line for
// prices set by hand): every report names, per region, the source and date of its prices.
func (p Prices) Lines(regions ...string) string {
	var b strings.Builder
	for _, e := range p.Entries(regions...) {
		b.WriteString(e.Line())
		b.WriteString("\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

package pricelist

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// prefixes are the usage type prefixes of the Price List, region by region (us-east-1 has none,
// or USE1). A region not here, or a product whose regionCode says it is the region's, is matched
// by any one prefix: the answer is filtered by regionCode already, so a prefix this table has
// wrong or lacks costs no price.
var prefixes = map[string][]string{
	"us-east-1": {"", "USE1"}, "us-east-2": {"USE2"}, "us-west-1": {"USW1"}, "us-west-2": {"USW2"},
	"af-south-1": {"AFS1"}, "ap-east-1": {"APE1"}, "ap-northeast-1": {"APN1"}, "ap-northeast-2": {"APN2"},
	"ap-northeast-3": {"APN3"}, "ap-south-1": {"APS3"}, "ap-south-2": {"APS5"}, "ap-southeast-1": {"APS1"},
	"ap-southeast-2": {"APS2"}, "ap-southeast-3": {"APS4"}, "ap-southeast-4": {"APS6"}, "ca-central-1": {"CAN1"},
	"ca-west-1": {"CAW1"}, "eu-central-1": {"EUC1"}, "eu-central-2": {"EUC2"}, "eu-north-1": {"EUN1"},
	"eu-south-1": {"EUS1"}, "eu-south-2": {"EUS2"}, "eu-west-1": {"EU"}, "eu-west-2": {"EUW2"},
	"eu-west-3": {"EUW3"}, "il-central-1": {"ILC1"}, "me-central-1": {"MEC1"}, "me-south-1": {"MES1"},
	"sa-east-1": {"SAE1"},
}

// usageTypes map the Price List's usage types (after the region prefix and the IA- of the
// Standard-IA class) to the price they give, and the factor from its unit to ours.
var usageTypes = map[string]struct {
	flag   string // the cost.Spec's Flag
	factor float64
}{
	"ReadCapacityUnit-Hrs":       {"price-rcu-hour", 1},
	"WriteCapacityUnit-Hrs":      {"price-wcu-hour", 1},
	"ReadRequestUnits":           {"price-rru-million", 1e6},
	"WriteRequestUnits":          {"price-wru-million", 1e6},
	"TimedStorage-ByteHrs":       {"price-gb-month", 1},
	"TimedPITRStorage-ByteHrs":   {"price-pitr-gb-month", 1},
	"TimedBackupStorage-ByteHrs": {"price-backup-gb-month", 1},
}

// required are the prices a region's list must give for each class; Standard-IA's backups and
// point-in-time recovery bill as Standard's when the list has no IA- product of them.
var required = map[wallet.TableClass][]string{
	wallet.ClassStandard:   {"price-rcu-hour", "price-wcu-hour", "price-gb-month", "price-rru-million", "price-wru-million", "price-pitr-gb-month", "price-backup-gb-month"},
	wallet.ClassStandardIA: {"price-rcu-hour", "price-wcu-hour", "price-gb-month", "price-rru-million", "price-wru-million"},
}

var anyPrefix = regexp.MustCompile(`^[A-Z]{2,4}[0-9]?-`)

// usage splits a usage type into its class and its name without the region's prefix; ok is
// false for another region's, or a usage type that prices nothing here. ofRegion: the product's
// regionCode is region.
func usage(region, u string, ofRegion bool) (class wallet.TableClass, name string, ok bool) {
	rest, matched := "", false
	for _, p := range prefixes[region] {
		switch {
		case p == "" && !anyPrefix.MatchString(u) || p == "" && strings.HasPrefix(u, "IA-"):
			rest, matched = u, true
		case p != "" && strings.HasPrefix(u, p+"-"):
			rest, matched = strings.TrimPrefix(u, p+"-"), true
		}
		if matched {
			break
		}
	}
	if _, known := prefixes[region]; !matched && (!known || ofRegion) {
		if m := anyPrefix.FindString(u); m != "" && m != "IA-" {
			rest, matched = strings.TrimPrefix(u, m), true
		}
	}
	if !matched {
		return "", "", false
	}
	class = wallet.ClassStandard
	if strings.HasPrefix(rest, "IA-") {
		class, rest = wallet.ClassStandardIA, strings.TrimPrefix(rest, "IA-")
	}
	_, ok = usageTypes[rest]
	return class, rest, ok
}

// product is one PriceList item: a JSON document of its own, in the shape of the offer files.
type product struct {
	Product struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"product"`
	Terms struct {
		OnDemand map[string]term `json:"OnDemand"`
		Reserved map[string]term `json:"Reserved"`
	} `json:"terms"`
}

type term struct {
	TermAttributes  map[string]string    `json:"termAttributes"`
	PriceDimensions map[string]dimension `json:"priceDimensions"`
}

type dimension struct {
	Unit         string            `json:"unit"`
	BeginRange   string            `json:"beginRange"`
	PricePerUnit map[string]string `json:"pricePerUnit"`
}

// found is what a region's products gave: a price per class and Spec flag, and reservations.
type found struct {
	prices   map[wallet.TableClass]map[string]float64
	reserved map[int]*cost.Reservation // by years
}

func newFound() *found {
	return &found{prices: map[wallet.TableClass]map[string]float64{wallet.ClassStandard: {}, wallet.ClassStandardIA: {}}, reserved: map[int]*cost.Reservation{}}
}

// add reads one PriceList item. A price that is not a price (text, a number out of bounds) makes
// the answer a bad one: the error, and the caller falls back on the whole region.
func (f *found) add(region, item string) error {
	var p product
	if err := json.Unmarshal([]byte(item), &p); err != nil {
		return fmt.Errorf("a PriceList item is not a JSON product: %v", err)
	}
	attrs := p.Product.Attributes
	if rc := attrs["regionCode"]; rc != "" && rc != region {
		return nil // another region's product, whatever the filter said: not ours
	}
	class, name, ok := usage(region, attrs["usagetype"], attrs["regionCode"] == region)
	if !ok {
		return nil
	}
	ut := usageTypes[name]
	price, found, err := onDemand(p.Terms.OnDemand)
	if err != nil {
		return fmt.Errorf("%s: %w", attrs["usagetype"], err)
	}
	if found {
		v := tidy(price * ut.factor)
		if v > cost.MaxPrice {
			return fmt.Errorf("%s: %g is no price", attrs["usagetype"], v)
		}
		// Two products of one usage type (us-east-1 lists both TimedStorage-ByteHrs and
		// USE1-TimedStorage-ByteHrs): the higher, as an estimate that errs high.
		f.prices[class][ut.flag] = max(f.prices[class][ut.flag], v)
	}
	if class == wallet.ClassStandard && (name == "ReadCapacityUnit-Hrs" || name == "WriteCapacityUnit-Hrs") {
		if err := f.addReserved(name, p.Terms.Reserved); err != nil {
			return fmt.Errorf("%s reserved: %w", attrs["usagetype"], err)
		}
	}
	return nil
}

// onDemand is the term's price after the free tier: the lowest range whose price is not $0.
func onDemand(terms map[string]term) (price float64, found bool, err error) {
	begin := -1.0
	for _, code := range sortedKeys(terms) {
		for _, dcode := range sortedKeys(terms[code].PriceDimensions) {
			d := terms[code].PriceDimensions[dcode]
			usd, ok := d.PricePerUnit["USD"]
			if !ok {
				continue
			}
			v, err := cost.ParsePrice(usd)
			if err != nil {
				return 0, false, fmt.Errorf("price %s: %v", cut(usd), err)
			}
			if v == 0 {
				continue // the free tier's first range
			}
			b, err := strconv.ParseFloat(d.BeginRange, 64)
			if err != nil || b < 0 {
				b = 0
			}
			if !found || b < begin {
				price, begin, found = v, b, true
			}
		}
	}
	return price, found, nil
}

// addReserved reads the Reserved terms of the provisioned RCU or WCU product: per term length,
// an upfront fee (unit Quantity) and an hourly fee, each per capacity unit, kept per 100 units.
func (f *found) addReserved(name string, terms map[string]term) error {
	for _, code := range sortedKeys(terms) {
		t := terms[code]
		years := 0
		switch strings.ReplaceAll(strings.ToLower(t.TermAttributes["LeaseContractLength"]), " ", "") {
		case "1yr":
			years = 1
		case "3yr":
			years = 3
		default:
			continue
		}
		r := f.reserved[years]
		if r == nil {
			r = &cost.Reservation{Years: years}
			f.reserved[years] = r
		}
		for _, dcode := range sortedKeys(t.PriceDimensions) {
			d := t.PriceDimensions[dcode]
			v, err := cost.ParsePrice(d.PricePerUnit["USD"])
			if err != nil {
				return fmt.Errorf("price %s: %v", cut(d.PricePerUnit["USD"]), err)
			}
			upfront := strings.EqualFold(d.Unit, "Quantity")
			switch {
			case name == "ReadCapacityUnit-Hrs" && upfront:
				r.RCUUpfront = tidy(v * cost.ReservedBlock)
			case name == "ReadCapacityUnit-Hrs":
				r.RCUHour = tidy(v * cost.ReservedBlock)
			case upfront:
				r.WCUUpfront = tidy(v * cost.ReservedBlock)
			default:
				r.WCUHour = tidy(v * cost.ReservedBlock)
			}
		}
	}
	return nil
}

// entries are the region's prices in both classes, or what the list lacks.
func (f *found) entries(region, source, date string) ([]cost.Prices, error) {
	if len(f.prices[wallet.ClassStandard]) == 0 && len(f.prices[wallet.ClassStandardIA]) == 0 {
		return nil, fmt.Errorf("the price list has no DynamoDB price for %s", region)
	}
	var lacks []string
	var out []cost.Prices
	for _, class := range []wallet.TableClass{wallet.ClassStandard, wallet.ClassStandardIA} {
		p := cost.Prices{Region: region, Class: class, Source: source, Date: date}
		for _, s := range cost.Specs() {
			v, ok := f.prices[class][s.Flag]
			if !ok && class == wallet.ClassStandardIA && !slices.Contains(required[class], s.Flag) {
				v, ok = f.prices[wallet.ClassStandard][s.Flag]
				if ok {
					p.Notes = appendOnce(p.Notes, "the price list has no Standard-IA point-in-time recovery or backup product: Standard's, which DynamoDB bills alike")
				}
			}
			if !ok {
				lacks = append(lacks, fmt.Sprintf("%s %s", class, s.Unit))
				continue
			}
			s.Set(&p, v)
		}
		out = append(out, p)
	}
	if len(lacks) > 0 {
		return nil, fmt.Errorf("the price list lacks %s", strings.Join(lacks, ", "))
	}
	if err := plausible(out); err != nil {
		return nil, err
	}
	std := &out[0]
	for _, years := range []int{1, 3} {
		r := f.reserved[years]
		if r == nil {
			continue
		}
		if r.RCUHour == 0 && r.RCUUpfront == 0 || r.WCUHour == 0 && r.WCUUpfront == 0 ||
			r.RCUHour >= std.RCUHour*cost.ReservedBlock || r.WCUHour >= std.WCUHour*cost.ReservedBlock {
			std.Notes = append(std.Notes, fmt.Sprintf("the price list's %d-year reservation is incomplete or dearer than capacity by the hour: left out", years))
			continue
		}
		r.Source = source
		std.Reserved = append(std.Reserved, *r)
	}
	return out, nil
}

// plausible refuses prices no region has: above 20 times or below a twentieth of us-east-1's
// list price (the dearest region is about 1.5 times it). Such an answer is not the Price List.
func plausible(entries []cost.Prices) error {
	for _, e := range entries {
		base, _ := cost.Shipped("us-east-1", e.Class)
		for _, s := range cost.Specs() {
			v, b := s.Of(e), s.Of(base)
			if v > 20*b || v < b/20 {
				return fmt.Errorf("%s %s of $%g is implausible (us-east-1's list price is $%g)", e.Class, s.Unit, v, b)
			}
		}
	}
	return nil
}

// tidy drops the float noise a change of unit adds (0.953e-6 × 1e6 = 0.9530000000000001).
func tidy(v float64) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return f
}

func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// cut keeps a hostile answer's text short and printable in a note.
func cut(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

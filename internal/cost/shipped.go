package cost

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The shipped table: list prices written down in the repository for every commercial region, the
// last of the three places prices come from (the user's, then the AWS Price List API's, then
// these). Each row says where its figures were read and which were derived, and how: no source
// was found here for every figure of every region, and a derived figure is said to be one, never
// passed off as a list price.
const (
	shippedDate = "2026-12-06"
	// srcPage is AWS's pricing page, the one source of every us-east-1 Standard figure.
	srcPage = "aws.amazon.com/dynamodb/pricing, us-east-1 list prices after the on-demand price cut of 2024-11-01 (written down 2026-11-25)"
	// srcIA is the us-east-1 Standard-IA products of the AWS Price List.
	srcIA = "the AWS Price List's us-east-1 Standard-IA products (IA-ReadCapacityUnit-Hrs, IA-WriteCapacityUnit-Hrs, IA-TimedStorage-ByteHrs, IA-ReadRequestUnits, IA-WriteRequestUnits), as recorded on 2026-10-08 in a public price-list fixture"
	// srcReco is AWS's own reserved capacity recommender, whose configuration lists provisioned
	// RCU and WCU prices and 1- and 3-year reservation prices region by region.
	srcReco = "github.com/awslabs/amazon-dynamodb-tools archived/reco/src/ddb_rc_reco/config.py (AWS's reserved capacity recommender: provisioned RCU/WCU and reservation prices per region)"
)

// reservedRow is one term's price for 100 units, as AWS sells reserved capacity.
type reservedRow struct{ rcuUpfront, rcuHour, wcuUpfront, wcuHour float64 }

// shippedRow is one region: its own provisioned prices and reservations where a source lists
// them (from: "" and source set), or a neighbour's where none was found (from: the neighbour).
type shippedRow struct {
	region   string
	rcu, wcu float64
	year1    reservedRow // zero: not listed
	year3    reservedRow
	from     string
}

// shippedRows are the regions srcReco lists, and every other commercial region on the row of
// the nearest region it lists. us-east-1's provisioned figures agree with srcPage.
var shippedRows = []shippedRow{
	{region: "us-east-1", rcu: 0.00013, wcu: 0.00065, year1: reservedRow{30, 0.0025, 150, 0.0128}, year3: reservedRow{36, 0.0016, 180, 0.0081}},
	{region: "us-east-2", rcu: 0.00013, wcu: 0.00065, year1: reservedRow{30, 0.0025, 150, 0.0128}, year3: reservedRow{36, 0.0016, 180, 0.0081}},
	{region: "us-west-1", rcu: 0.000145, wcu: 0.000725, year1: reservedRow{33.6, 0.0028, 168, 0.0144}, year3: reservedRow{40.32, 0.0018, 201.6, 0.0091}},
	{region: "us-west-2", rcu: 0.00013, wcu: 0.00065, year1: reservedRow{30, 0.0025, 150, 0.0128}, year3: reservedRow{36, 0.0016, 180, 0.0081}},
	{region: "ca-central-1", rcu: 0.000143, wcu: 0.000715, year1: reservedRow{33, 0.0028, 165, 0.0141}, year3: reservedRow{39.6, 0.0018, 198, 0.009}},
	{region: "sa-east-1", rcu: 0.000195, wcu: 0.000975, year1: reservedRow{45, 0.0038, 225, 0.0193}, year3: reservedRow{54, 0.0024, 270, 0.0122}},
	{region: "eu-west-1", rcu: 0.000147, wcu: 0.000735, year1: reservedRow{33.9, 0.0029, 169.5, 0.0145}, year3: reservedRow{40.68, 0.0018, 203.4, 0.0092}},
	{region: "eu-west-2", rcu: 0.0001544, wcu: 0.000772, year1: reservedRow{35.6, 0.0031, 178, 0.0153}, year3: reservedRow{42.72, 0.0019, 213.57, 0.0097}},
	{region: "eu-west-3", rcu: 0.0001544, wcu: 0.000772, year1: reservedRow{35.6, 0.0031, 178, 0.0153}},
	{region: "eu-central-1", rcu: 0.0001586, wcu: 0.000793, year1: reservedRow{36.6, 0.0032, 183, 0.0157}, year3: reservedRow{43.8, 0.0019, 219.6, 0.0099}},
	{region: "eu-north-1", rcu: 0.00014, wcu: 0.000698, year1: reservedRow{32.2, 0.0028, 161, 0.0138}},
	{region: "ap-northeast-1", rcu: 0.0001484, wcu: 0.000742, year1: reservedRow{34.2, 0.0029, 171.4, 0.0147}, year3: reservedRow{41, 0.0018, 205.6, 0.0093}},
	{region: "ap-northeast-2", rcu: 0.00014098, wcu: 0.0007049, year1: reservedRow{32.49, 0.0028, 162.83, 0.014}, year3: reservedRow{38.95, 0.0017, 195.32, 0.0088}},
	{region: "ap-northeast-3", rcu: 0.0001484, wcu: 0.000742, year1: reservedRow{34.2, 0.0029, 171.4, 0.0147}},
	{region: "ap-southeast-1", rcu: 0.000148, wcu: 0.00074, year1: reservedRow{34.2, 0.0029, 171, 0.0146}, year3: reservedRow{41.04, 0.0018, 205.2, 0.0093}},
	{region: "ap-southeast-2", rcu: 0.000148, wcu: 0.00074, year1: reservedRow{34.2, 0.0029, 171, 0.0146}, year3: reservedRow{41.04, 0.0018, 205.2, 0.0093}},
	{region: "ap-south-1", rcu: 0.000148, wcu: 0.00074, year1: reservedRow{34.2, 0.0029, 171, 0.0146}, year3: reservedRow{40.68, 0.0018, 203.4, 0.0092}},
	{region: "ap-east-1", rcu: 0.0001628, wcu: 0.000814, year1: reservedRow{37.62, 0.0032, 188.1, 0.0161}},
	{region: "af-south-1", rcu: 0.00017493, wcu: 0.00087465, year1: reservedRow{40.341, 0.0035, 201.705, 0.0173}},
	{region: "me-south-1", rcu: 0.0001617, wcu: 0.0008085, year1: reservedRow{37.29, 0.0032, 186.45, 0.016}},
	// No list price for these regions was found in the references this table was written
	// from: each takes the row of the nearest region that has one, and says so.
	{region: "ap-east-2", from: "ap-east-1"},
	{region: "ap-south-2", from: "ap-south-1"},
	{region: "ap-southeast-3", from: "ap-southeast-1"},
	{region: "ap-southeast-4", from: "ap-southeast-2"},
	{region: "ap-southeast-5", from: "ap-southeast-1"},
	{region: "ap-southeast-6", from: "ap-southeast-2"},
	{region: "ap-southeast-7", from: "ap-southeast-1"},
	{region: "ca-west-1", from: "ca-central-1"},
	{region: "eu-central-2", from: "eu-central-1"},
	{region: "eu-south-1", from: "eu-west-3"},
	{region: "eu-south-2", from: "eu-west-3"},
	{region: "il-central-1", from: "eu-central-1"},
	{region: "me-central-1", from: "me-south-1"},
	{region: "mx-central-1", from: "us-east-2"},
}

// ShippedRegions are the regions the shipped table has a row for: every commercial region.
func ShippedRegions() []string {
	var rs []string
	for _, r := range shippedRows {
		rs = append(rs, r.region)
	}
	slices.Sort(rs)
	return rs
}

// iaRatios are us-east-1's Standard-IA prices over its Standard ones (srcIA over srcPage), what
// another region's Standard-IA row is derived with: its throughput dearer by about a quarter,
// its storage 60 % cheaper. Backups and point-in-time recovery bill the same in both classes.
func iaRatios() Prices {
	return Prices{RCUHour: 0.00016 / 0.00013, WCUHour: 0.00081 / 0.00065, GBMonth: 0.10 / 0.25,
		RRUMillion: 0.155 / 0.125, WRUMillion: 0.78 / 0.625, PITRGBMonth: 1, BackupGBMonth: 1}
}

// Shipped is region's row of the shipped table in class, and whether the table has the region.
// Outside us-east-1 only the provisioned RCU and WCU prices and the reservations are a source's;
// storage, requests, PITR and backups are us-east-1's scaled by the region's WCU price over
// us-east-1's (DynamoDB's regional prices move together, within a few per cent), and Standard-IA
// is the region's Standard scaled by iaRatios; Notes say which, so that no report passes a
// derived figure off as a list price.
func Shipped(region string, class wallet.TableClass) (Prices, bool) {
	i := slices.IndexFunc(shippedRows, func(r shippedRow) bool { return r.region == region })
	if i < 0 {
		return Prices{}, false
	}
	row := shippedRows[i]
	var notes []string
	if row.from != "" {
		j := slices.IndexFunc(shippedRows, func(r shippedRow) bool { return r.region == row.from })
		notes = append(notes, fmt.Sprintf("no list price for %s was found when the shipped table was written: %s's figures, an estimate", region, row.from))
		from := shippedRows[j]
		from.region, from.from = row.region, row.from
		row = from
	}
	base := USEast1()
	p := Prices{
		RCUHour: row.rcu, WCUHour: row.wcu, Region: region, Class: wallet.ClassStandard, Date: shippedDate,
		Source: "the shipped table: " + srcReco,
	}
	if region == "us-east-1" {
		p = base
		p.Source, p.Date = "the shipped table: "+srcPage+"; reservations from "+srcReco, shippedDate
	} else {
		scale := row.wcu / base.WCUHour
		p.GBMonth, p.RRUMillion, p.WRUMillion = sig(base.GBMonth*scale), sig(base.RRUMillion*scale), sig(base.WRUMillion*scale)
		p.PITRGBMonth, p.BackupGBMonth = sig(base.PITRGBMonth*scale), sig(base.BackupGBMonth*scale)
		notes = append(notes, fmt.Sprintf("%s's storage, on-demand request, PITR and backup prices are derived, not listed: us-east-1's × %.4g (its WCU price over us-east-1's)", region, scale))
	}
	for _, t := range []struct {
		years int
		r     reservedRow
	}{{1, row.year1}, {3, row.year3}} {
		if t.r != (reservedRow{}) {
			p.Reserved = append(p.Reserved, Reservation{Years: t.years, RCUUpfront: t.r.rcuUpfront, RCUHour: t.r.rcuHour,
				WCUUpfront: t.r.wcuUpfront, WCUHour: t.r.wcuHour, Source: "the shipped table: " + srcReco})
		}
	}
	if class == wallet.ClassStandardIA {
		p = p.scaled(iaRatios())
		p.Class, p.Reserved = wallet.ClassStandardIA, nil
		if region == "us-east-1" {
			p.RCUHour, p.WCUHour, p.GBMonth, p.RRUMillion, p.WRUMillion = 0.00016, 0.00081, 0.10, 0.155, 0.78
			p.Source = "the shipped table: " + srcIA + "; PITR and backups as Standard, " + srcPage
		} else {
			notes = append(notes, fmt.Sprintf("%s's Standard-IA prices are derived, not listed: its Standard prices × us-east-1's Standard-IA over Standard (throughput × about 1.25, storage × 0.4)", region))
		}
	}
	p.Notes = notes
	return p, true
}

// scaled multiplies each price by the same field of by.
func (p Prices) scaled(by Prices) Prices {
	for _, s := range Specs() {
		*s.field(&p) = sig(s.Of(p) * s.Of(by))
	}
	return p
}

// sig rounds a derived price to four significant digits: no more precision than it has.
func sig(v float64) float64 {
	if v == 0 {
		return 0
	}
	e := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*e) / e
}

// shippedOr is region's shipped row, or where the table has none (a region that is not a
// commercial one, or a local endpoint's made-up name) us-east-1's, with a note that says so.
func shippedOr(region string, class wallet.TableClass) Prices {
	if p, ok := Shipped(region, class); ok {
		return p
	}
	p, _ := Shipped("us-east-1", class)
	p.Region = region
	p.Notes = append(slices.Clip(p.Notes), fmt.Sprintf("%s is not a commercial region the shipped table knows: us-east-1's prices, an estimate (set the --price-* flags or %s)", region, strings.Join(EnvNames(), ", ")))
	return p
}

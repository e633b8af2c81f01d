package cost

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestOneRCUOneWCUCostsAbout57Cents(t *testing.T) {
	e := Monthly(Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1}, USEast1())
	if want := (0.00013 + 0.00065) * 730; !near(e.Total, want) || math.Round(e.Total*100) != 57 {
		t.Fatalf("1 RCU + 1 WCU = $%.4f/month, want $%.4f ≈ $0.57", e.Total, want)
	}
	if e.Storage != 0 {
		t.Fatalf("an empty table has no storage cost, got %v", e.Storage)
	}
}

func TestOnDemandAtRestCostsOnlyStorage(t *testing.T) {
	p := USEast1()
	e := Monthly(Footprint{Billing: wallet.BillingOnDemand, RCU: 5, WCU: 5, SizeBytes: 4 << 30}, p)
	if e.Capacity != 0 || !near(e.Storage, 4*0.25) || !near(e.Total, 1.0) {
		t.Fatalf("on-demand 4 GiB: %+v, want storage only, $1.00", e)
	}
}

func TestFromDescriptionAddsIndexesAndReadsBilling(t *testing.T) {
	d := &types.TableDescription{
		TableSizeBytes:        aws.Int64(1 << 30),
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(2)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndexDescription{{
			IndexSizeBytes:        aws.Int64(1 << 30),
			ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(1), WriteCapacityUnits: aws.Int64(1)},
		}},
	}
	got := FromDescription(d)
	if got != (Footprint{Billing: wallet.BillingProvisioned, RCU: 6, WCU: 3, SizeBytes: 2 << 30, Class: wallet.ClassStandard}) {
		t.Fatalf("provisioned without BillingModeSummary: %+v", got)
	}
	d.BillingModeSummary = &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest}
	d.ProvisionedThroughput = &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(0)}
	d.GlobalSecondaryIndexes[0].ProvisionedThroughput = nil
	if got := FromDescription(d); got.Billing != wallet.BillingOnDemand || got.RCU != 0 || got.SizeBytes != 2<<30 {
		t.Fatalf("on-demand: %+v", got)
	}
	if got := FromDescription(nil); got != (Footprint{}) {
		t.Fatalf("nil description: %+v", got)
	}
}

func TestOverrideFromEnvAndFlagsNamesBadValues(t *testing.T) {
	p, err := USEast1().Override(map[string]string{"WALLET_PRICE_RCU_HOUR": "0.0002", "WALLET_PRICE_GB_MONTH": ""})
	if err != nil || p.RCUHour != 0.0002 || p.WCUHour != 0.00065 || p.GBMonth != 0.25 || p.Region != "" {
		t.Fatalf("override: %+v, %v", p, err)
	}
	if p.Note("eu-west-1") != "" {
		t.Fatal("user-set prices need no us-east-1 warning")
	}
	for _, bad := range []string{"abc", "-1", "NaN", "Inf"} {
		_, err := USEast1().Override(map[string]string{"WALLET_PRICE_WCU_HOUR": bad})
		if err == nil || !strings.Contains(err.Error(), "WALLET_PRICE_WCU_HOUR") || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "non-negative") {
			t.Fatalf("%q: want an error naming the variable, value and what is allowed, got %v", bad, err)
		}
	}
}

func TestNoteOutsideUSEast1(t *testing.T) {
	if n := USEast1().Note("us-east-1"); n != "" {
		t.Fatalf("us-east-1 needs no note, got %q", n)
	}
	if n := USEast1().Note("eu-west-1"); !strings.Contains(n, "us-east-1 estimates") {
		t.Fatalf("eu-west-1 note = %q", n)
	}
}

func TestPITRAndBackupsArePricedOnlyWhenSet(t *testing.T) {
	p := USEast1()
	at := Footprint{Billing: wallet.BillingProvisioned, RCU: 1, WCU: 1, SizeBytes: 1 << 30}
	before := Monthly(at, p)
	if before.Backup != 0 || !near(before.Total, 0.5694+0.25) {
		t.Fatalf("without PITR or backup bytes the estimate is what it always was: %+v", before)
	}
	at.PITRBytes, at.BackupBytes = 1<<30, 2<<30
	e := Monthly(at, p)
	if !near(e.Backup, 0.20+2*0.10) || !near(e.Total, before.Total+0.40) || e.Storage != before.Storage || e.Capacity != before.Capacity {
		t.Fatalf("1 GiB under PITR ($0.20) and 2 GiB of backups ($0.10 each): %+v", e)
	}
}

func TestEveryPriceHasAnEnvironmentVariable(t *testing.T) {
	values := map[string]string{}
	for i, name := range EnvNames() {
		values[name] = strconv.Itoa(i + 1)
	}
	p, err := USEast1().Override(values)
	if err != nil {
		t.Fatal(err)
	}
	got := []float64{p.RCUHour, p.WCUHour, p.GBMonth, p.RRUMillion, p.WRUMillion, p.PITRGBMonth, p.BackupGBMonth}
	for i, v := range got {
		if v != float64(i+1) {
			t.Fatalf("%s did not set its price: %+v", EnvNames()[i], p)
		}
	}
	if _, err := USEast1().Override(map[string]string{"WALLET_PRICE_RRU_MILLION": "cheap"}); err == nil || !strings.Contains(err.Error(), "WALLET_PRICE_RRU_MILLION") {
		t.Fatalf("a bad request price must be named: %v", err)
	}
}

// Every price field of Prices has exactly one spec, so a new price cannot be added to the
// struct and forgotten by the flags, the environment or the text.
func TestEveryPriceFieldHasOneSpec(t *testing.T) {
	var p Prices
	rv := reflect.ValueOf(&p).Elem()
	seen := map[string]int{}
	for i, s := range Specs() {
		*s.field(&p) = float64(i + 1)
		for f := range rv.NumField() {
			if rv.Field(f).Kind() == reflect.Float64 && rv.Field(f).Float() == float64(i+1) {
				seen[rv.Type().Field(f).Name]++
			}
		}
	}
	for f := range rv.NumField() {
		if name := rv.Type().Field(f).Name; rv.Field(f).Kind() == reflect.Float64 && seen[name] != 1 {
			t.Errorf("price %s has %d specs, want 1", name, seen[name])
		}
	}
	line := USEast1().Line()
	for _, s := range Specs() {
		if want := fmt.Sprintf("$%g/%s", s.Default, s.Unit); !strings.Contains(line, want) {
			t.Errorf("the price line %q lacks %q", line, want)
		}
	}
}

func TestParsePriceTakesPlainDecimalsUpToMaxPrice(t *testing.T) {
	for _, ok := range []string{"0", "0.00065", "1", "10.", ".5", "1e-4", "2.5E3", "1000000000", " 0.25 "} {
		if _, err := ParsePrice(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " ", "1_000", "0x1p-3", "Inf", "+Inf", "NaN", "-1", "+1", "1e308", "1e400", "1000000001", "1,5", "$1"} {
		if f, err := ParsePrice(bad); err == nil || !strings.Contains(err.Error(), "plain decimal") {
			t.Errorf("%q: got %v, %v; want refused saying what is allowed", bad, f, err)
		}
	}
	// At MaxPrice, the largest products a report makes are still finite.
	e := Monthly(Footprint{Billing: "provisioned", RCU: 1 << 40, WCU: 1 << 40, SizeBytes: math.MaxInt64, PITRBytes: math.MaxInt64, BackupBytes: math.MaxInt64},
		Prices{RCUHour: MaxPrice, WCUHour: MaxPrice, GBMonth: MaxPrice, PITRGBMonth: MaxPrice, BackupGBMonth: MaxPrice})
	if math.IsInf(e.Total, 0) || math.IsNaN(e.Total) {
		t.Fatalf("at MaxPrice: %+v", e)
	}
}

func TestRoundIsAlwaysFinite(t *testing.T) {
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, 1e305} {
		if r := Round(v); math.IsInf(r, 0) || math.IsNaN(r) {
			t.Errorf("Round(%v) = %v", v, r)
		}
	}
	if Round(0.56944) != 0.5694 {
		t.Errorf("Round(0.56944) = %v", Round(0.56944))
	}
}

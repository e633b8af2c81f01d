package cost

import (
	"math"
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
	if got != (Footprint{Billing: wallet.BillingProvisioned, RCU: 6, WCU: 3, SizeBytes: 2 << 30}) {
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
	p, err := USEast1().Override(map[string]string{EnvRCUHour: "0.0002", EnvGBMonth: ""})
	if err != nil || p.RCUHour != 0.0002 || p.WCUHour != 0.00065 || p.GBMonth != 0.25 || p.Region != "" {
		t.Fatalf("override: %+v, %v", p, err)
	}
	if p.Note("eu-west-1") != "" {
		t.Fatal("user-set prices need no us-east-1 warning")
	}
	for _, bad := range []string{"abc", "-1", "NaN", "Inf"} {
		_, err := USEast1().Override(map[string]string{EnvWCUHour: bad})
		if err == nil || !strings.Contains(err.Error(), EnvWCUHour) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "non-negative") {
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
	if _, err := USEast1().Override(map[string]string{EnvRRUMillion: "cheap"}); err == nil || !strings.Contains(err.Error(), EnvRRUMillion) {
		t.Fatalf("a bad request price must be named: %v", err)
	}
}

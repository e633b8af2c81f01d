package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	standin "github.com/wallet-dynamodb/wallet/internal/localcloud/pricelist"
)

// pricesJSON is the documented shape of `prices` in the reports: one entry per region and class.
type pricesJSON struct {
	Tables []struct {
		Table          string `json:"table"`
		Region         string `json:"region"`
		TableClass     string `json:"table_class"`
		MonthlyCostUSD struct {
			Current float64 `json:"current"`
		} `json:"monthly_cost_usd"`
	} `json:"tables"`
	Prices []struct {
		Region     string   `json:"region"`
		TableClass string   `json:"table_class"`
		WCUHour    float64  `json:"wcu_hour_usd"`
		RCUHour    float64  `json:"rcu_hour_usd"`
		Source     string   `json:"source"`
		Date       string   `json:"date"`
		Notes      []string `json:"notes"`
	} `json:"prices"`
	ReservedCapacity []struct {
		Region  string `json:"region"`
		HeldWCU int64  `json:"held_wcu"`
	} `json:"reserved_capacity"`
}

// `verify cost --json` on tables in us-east-1, eu-west-1 and ap-southeast-2 (moto) prices each
// at its own region's prices from the Price List, reached through AWS_ENDPOINT_URL_PRICING as a
// user would (a stand-in: moto has no Price List API); and with the price list unreachable, from
// the shipped table, said in a note. moto returns no TableClassSummary: every table is standard.
func TestCostPricesEachTableAtItsRegionsPrices(t *testing.T) {
	moto := localcloud.Moto(t)
	moto.SetEnv(t)
	clearPriceEnv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	// Round figures, none of them a shipped one, so a figure seen is the stand-in's.
	list := map[string]standin.Region{
		"us-east-1":      {Prefix: "", Standard: standin.Standard(0.0002, 0.001, 0.3), IA: standin.IA(0.00025, 0.00125, 0.12, 0.0000002, 0.000001)},
		"eu-west-1":      {Prefix: "EU", Standard: standin.Standard(0.0003, 0.0015, 0.4), IA: standin.IA(0.000375, 0.001875, 0.16, 0.0000003, 0.0000015)},
		"ap-southeast-2": {Prefix: "APS2", Standard: standin.Standard(0.0004, 0.002, 0.5), IA: standin.IA(0.0005, 0.0025, 0.2, 0.0000004, 0.000002)},
	}
	s := standin.Start(t, list)
	t.Setenv("AWS_ENDPOINT_URL_PRICING", s.URL)
	want := map[string]float64{}
	for region, rw := range map[string][2]float64{"us-east-1": {0.0002, 0.001}, "eu-west-1": {0.0003, 0.0015}, "ap-southeast-2": {0.0004, 0.002}} {
		name := "priced-in-" + region
		newCostCloud(t, region).table(t, name, ours, 1, 1, "")
		want[name] = (rw[0] + rw[1]) * 730 // 1 RCU and 1 WCU, nothing stored
	}
	read := func(t *testing.T, region string) pricesJSON {
		t.Helper()
		code, out, stderr := costRun(t, "cost", "--region", region, "--days", "1", "--json", "--table", "priced-in-"+region)
		if code != exitOK {
			t.Fatalf("exit %d: %s\n%s", code, stderr, out)
		}
		var r pricesJSON
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, region := range []string{"us-east-1", "eu-west-1", "ap-southeast-2"} {
		r := read(t, region)
		if len(r.Tables) != 1 || !cent(r.Tables[0].MonthlyCostUSD.Current, want["priced-in-"+region]) || r.Tables[0].TableClass != "standard" {
			t.Fatalf("%s: %+v, want $%.4f at the stand-in's %s prices", region, r.Tables, want["priced-in-"+region], region)
		}
		if len(r.Prices) != 2 || r.Prices[0].Region != region || r.Prices[0].TableClass != "standard" || r.Prices[1].TableClass != "standard-ia" ||
			!strings.Contains(r.Prices[0].Source, "Price List API") || r.Prices[0].Date == "" {
			t.Fatalf("%s: prices %+v", region, r.Prices)
		}
	}
	// Unreachable: nothing listens there. A fresh cache, so the API is asked and fails.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("AWS_ENDPOINT_URL_PRICING", "http://127.0.0.1:1")
	r := read(t, "eu-west-1")
	p := r.Prices[0]
	if !strings.HasPrefix(p.Source, "the shipped table") || p.WCUHour != 0.000735 || !strings.Contains(strings.Join(p.Notes, " "), "could not be read") {
		t.Fatalf("unreachable: %+v", p)
	}
	if !cent(r.Tables[0].MonthlyCostUSD.Current, (0.000147+0.000735)*730) {
		t.Fatalf("unreachable: table at %v, want eu-west-1's shipped prices", r.Tables[0].MonthlyCostUSD.Current)
	}
}

// `cost --template` of a tableClass=standard-ia stack uses the Standard-IA prices of the stack's
// region (here from the shipped table: a template's price asks no network), and says so.
func TestCostTemplateOfAStandardIAStackUsesIAPrices(t *testing.T) {
	clearPriceEnv(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("AWS_ENDPOINT_URL_PRICING", "http://127.0.0.1:1") // never asked
	body := strings.Replace(walletTemplate(10, 10), `"ProvisionedThroughput"`, `"TableClass":"STANDARD_INFREQUENT_ACCESS","ProvisionedThroughput"`, 1)
	if !strings.Contains(body, "STANDARD_INFREQUENT_ACCESS") {
		t.Fatalf("template without a TableClass to set: %s", body)
	}
	for _, tc := range []struct {
		body string
		usd  float64
	}{
		{walletTemplate(10, 10), (10*0.00013 + 10*0.00065) * 730}, // us-east-1 Standard
		{body, (10*0.00016 + 10*0.00081) * 730},                   // us-east-1 Standard-IA
	} {
		code, out, stderr := costRun(t, "cost", "--region", "us-east-1", "--json", "--template", writeTemplate(t, tc.body))
		if code != exitOK {
			t.Fatalf("exit %d: %s\n%s", code, stderr, out)
		}
		var d struct {
			Tables []struct {
				TableClass string  `json:"table_class"`
				MonthlyUSD float64 `json:"monthly_usd"`
			} `json:"tables"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil || len(d.Tables) != 1 || !cent(d.Tables[0].MonthlyUSD, tc.usd) {
			t.Fatalf("%+v %v: want $%.4f", d, err, tc.usd)
		}
	}
}

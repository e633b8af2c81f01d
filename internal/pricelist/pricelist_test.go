package pricelist_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/cost"
	standin "github.com/wallet-dynamodb/wallet/internal/localcloud/pricelist"
	"github.com/wallet-dynamodb/wallet/internal/pricelist"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The stand-in's Frankfurt: dearer than us-east-1, as the real one is; its reservations per unit.
var frankfurt = standin.Region{Prefix: "EUC1",
	Standard:  standin.Standard(0.0001586, 0.000793, 0.306),
	IA:        standin.IA(0.000198, 0.000991, 0.1224, 0.000000191, 0.000000953),
	Reserved1: [4]string{"0.366", "0.000032", "1.83", "0.000157"},
	Reserved3: [4]string{"0.438", "0.000019", "2.196", "0.000099"},
}

// config is the SDK configuration a user has with AWS_ENDPOINT_URL_PRICING pointing at the
// stand-in (moto has no Price List API: this is a stand-in, not AWS).
func config(t *testing.T, url string) aws.Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_PRICING", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", "eu-central-1")
	cfg, err := awsconf.Load(context.Background(), awsconf.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func shippedSource(p cost.Prices) bool { return strings.HasPrefix(p.Source, "the shipped table") }

// A region's prices are its own, each class's, read from the Price List (after the free tier's
// $0 range), reservations per 100 units; kept on disk and read from there the next time, even
// with the API refusing; --refresh-prices reads the API again.
func TestResolveReadsTheRegionsOwnPricesAndKeepsThem(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg, dir := config(t, s.URL), t.TempDir()
	o := pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: dir}
	p := pricelist.Resolve(context.Background(), o)
	std, ia := p.In("eu-central-1"), p.For("eu-central-1", wallet.ClassStandardIA)
	if std.RCUHour != 0.0001586 || std.WCUHour != 0.000793 || std.GBMonth != 0.306 || shippedSource(std) {
		t.Fatalf("eu-central-1 standard: %+v", std)
	}
	if ia.WCUHour != 0.000991 || ia.GBMonth != 0.1224 || ia.WRUMillion != 0.953 || ia.PITRGBMonth != std.PITRGBMonth {
		t.Fatalf("eu-central-1 standard-ia: %+v", ia)
	}
	if len(std.Reserved) != 2 || std.Reserved[0].Years != 1 || std.Reserved[0].WCUUpfront != 183 || std.Reserved[1].RCUHour != 0.0019 {
		t.Fatalf("reservations (per 100 units): %+v", std.Reserved)
	}
	path, err := o.CachePath("eu-central-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil || filepath.Dir(path) != dir {
		t.Fatalf("not kept in %s: %v", dir, err)
	}
	if !strings.Contains(std.Source, s.URL) || !strings.Contains(std.Source, "not AWS's own") {
		t.Fatalf("a stand-in's prices passed off as AWS's: %s", std.Source)
	}
	s.SetFault(standin.Denied)
	calls := s.Calls.Load()
	again := pricelist.Resolve(context.Background(), o).In("eu-central-1")
	if again.WCUHour != 0.000793 || !strings.Contains(again.Source, "kept in") || s.Calls.Load() != calls {
		t.Fatalf("from the cache, no call: %+v (%d calls)", again, s.Calls.Load()-calls)
	}
	o.Refresh = true
	refreshed := pricelist.Resolve(context.Background(), o).In("eu-central-1")
	if !shippedSource(refreshed) || !strings.Contains(strings.Join(refreshed.Notes, " "), "denied") {
		t.Fatalf("refresh against a denial: %+v", refreshed)
	}
}

// Every bad answer falls back to the shipped table, with a note that says why, within the
// budget: a page of garbage, a price of "abc" or 1e308, a missing dimension, a NextToken loop, a
// slow endpoint, a denial. Never a silent figure.
func TestResolveFallsBackToTheShippedTableOnBadAnswers(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg := config(t, s.URL)
	shipped, _ := cost.Shipped("eu-central-1", wallet.ClassStandard)
	for fault, want := range map[standin.Fault]string{
		standin.Garbage: "not a JSON product", standin.Text: `"abc"`, standin.Huge: "1e308",
		standin.Missing: "lacks standard WCU-hour", standin.TokenLoop: "NextToken", standin.Slow: "deadline",
		standin.Denied: "denied", standin.NotTheAPI: s.URL + ": answered HTTP 500, and not as the Price List API answers",
	} {
		t.Run(string(fault), func(t *testing.T) {
			s.SetFault(fault)
			start := time.Now()
			p := pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: t.TempDir(), Budget: 2 * time.Second}).In("eu-central-1")
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("took %s, past its 2 s budget", took)
			}
			notes := strings.Join(p.Notes, " ")
			if !shippedSource(p) || p.WCUHour != shipped.WCUHour || !strings.Contains(notes, want) || !strings.Contains(notes, "shipped table") {
				t.Fatalf("%s: %s, %v; want the shipped row with a note naming %q", fault, p.Source, p.Notes, want)
			}
		})
	}
}

// A cache file that is corrupt, truncated (as a kill in the middle of a write would leave a file
// written in place), of another region, from the future, absurd, a symlink or a FIFO is never
// trusted: ignored with a note, and read again from the API, which rewrites it whole.
func TestResolveNeverTrustsABadCacheFile(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg, good := config(t, s.URL), t.TempDir()
	pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: good})
	goodPath, _ := pricelist.Options{Config: cfg, CacheDir: good}.CachePath("eu-central-1")
	body, err := os.ReadFile(goodPath)
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere.json")
	_ = os.WriteFile(target, body, 0o600)
	for name, plant := range map[string]func(path string) error{
		"corrupt":   func(p string) error { return os.WriteFile(p, []byte("{not json"), 0o600) },
		"truncated": func(p string) error { return os.WriteFile(p, body[:len(body)/2], 0o600) },
		"another region": func(p string) error {
			return os.WriteFile(p, []byte(strings.ReplaceAll(string(body), "eu-central-1", "us-east-1")), 0o600)
		},
		"from the future": func(p string) error {
			return os.WriteFile(p, []byte(strings.Replace(string(body), `"fetched": "`+time.Now().UTC().Format("2006"), `"fetched": "2999`, 1)), 0o600)
		},
		"absurd price": func(p string) error {
			return os.WriteFile(p, []byte(strings.Replace(string(body), `"wcu_hour_usd": 0.000793`, `"wcu_hour_usd": 900`, 1)), 0o600)
		},
		"a symlink": func(p string) error { return os.Symlink(target, p) },
		"a FIFO":    func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"writable by others": func(p string) error {
			if err := os.WriteFile(p, body, 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o666)
		},
		"of another endpoint": func(p string) error {
			return os.WriteFile(p, []byte(strings.Replace(string(body), s.URL, "http://127.0.0.1:9", 1)), 0o600)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, _ := pricelist.Options{Config: cfg, CacheDir: dir}.CachePath("eu-central-1")
			if err := plant(path); err != nil {
				t.Fatal(err)
			}
			done := make(chan cost.Prices, 1)
			go func() {
				done <- pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: dir}).In("eu-central-1")
			}()
			var p cost.Prices
			select {
			case p = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("hung on the planted cache file")
			}
			if shippedSource(p) || p.WCUHour != 0.000793 || !strings.Contains(strings.Join(p.Notes, " "), "cached price list was ignored") {
				t.Fatalf("%s: %s %v", name, p.Source, p.Notes)
			}
			st, err := os.Lstat(path)
			if err != nil || !st.Mode().IsRegular() {
				t.Fatalf("not rewritten whole as a regular file: %v %v", st, err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*.tmp"))
			if len(left) > 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// Offline (synth, cost --template) asks no network: the cache, else the shipped table, which is
// by design and no failure to note.
// So does a configuration without credentials (cost --template loads none), which the SDK would
// send unsigned to AWS's own endpoints: here the client it would use is the stand-in's.
func TestResolveOfflineCallsNothing(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg := config(t, s.URL)
	toStandIn := func(endpoint string) pricelist.API {
		return pricing.NewFromConfig(cfg, func(o *pricing.Options) { o.Region = endpoint })
	}
	for name, o := range map[string]pricelist.Options{
		"offline":        {Config: cfg, Offline: true},
		"no credentials": {Client: toStandIn},
	} {
		o.Regions, o.CacheDir = []string{"eu-central-1"}, t.TempDir()
		p := pricelist.Resolve(context.Background(), o).In("eu-central-1")
		if s.Calls.Load() != 0 || !shippedSource(p) || strings.Contains(strings.Join(p.Notes, " "), "could not be read") {
			t.Fatalf("%s: %d calls; %s %v", name, s.Calls.Load(), p.Source, p.Notes)
		}
	}
	// The stand-in client does reach it: the test can fail.
	p := pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Client: toStandIn, Regions: []string{"eu-central-1"}, CacheDir: t.TempDir()}).In("eu-central-1")
	if s.Calls.Load() == 0 || shippedSource(p) {
		t.Fatalf("with credentials: %d calls; %s %v", s.Calls.Load(), p.Source, p.Notes)
	}
}

// A price list read from an endpoint the configuration sets (a stand-in here, a local cloud for a
// user) is kept apart from AWS's: a run against AWS's own endpoints never takes it for AWS's
// prices, whatever it cached before.
func TestResolveKeepsAnEndpointsPricesApartFromAWSs(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg, dir := config(t, s.URL), t.TempDir()
	from := pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: dir}).In("eu-central-1")
	if shippedSource(from) {
		t.Fatalf("the stand-in was not read: %+v", from)
	}
	t.Setenv("AWS_ENDPOINT_URL_PRICING", "")
	own := pricelist.Options{Config: awsConfig(), Regions: []string{"eu-central-1"}, CacheDir: dir, Offline: true}
	if p, _ := own.CachePath("eu-central-1"); p != filepath.Join(dir, "dynamodb-eu-central-1.json") {
		t.Fatalf("AWS's price list is not kept as dynamodb-eu-central-1.json: %s", p)
	}
	p := pricelist.Resolve(context.Background(), own).In("eu-central-1")
	if !shippedSource(p) || strings.Contains(p.Source, s.URL) {
		t.Fatalf("a run against AWS took the stand-in's cached prices: %s", p.Source)
	}
}

// The nearest endpoint hanging leaves the next one time to answer: each endpoint has a share of
// the budget, not all of it. Two stand-ins play the endpoints, eu-central-1 the slow one.
func TestResolveAsksTheNextEndpointWhenTheNearestIsSlow(t *testing.T) {
	slow := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	slow.SetFault(standin.Slow)
	good := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	t.Setenv("AWS_ENDPOINT_URL_PRICING", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	asked := map[string]*standin.Server{"eu-central-1": slow, "us-east-1": good, "ap-south-1": good}
	client := func(endpoint string) pricelist.API {
		return pricing.NewFromConfig(awsConfig(), func(o *pricing.Options) {
			o.Region, o.BaseEndpoint, o.RetryMaxAttempts = endpoint, aws.String(asked[endpoint].URL), 1
		})
	}
	start := time.Now()
	p := pricelist.Resolve(context.Background(), pricelist.Options{Config: awsConfig(), Regions: []string{"eu-central-1"}, CacheDir: t.TempDir(), Budget: 3 * time.Second, Client: client}).In("eu-central-1")
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("took %s, past its 3 s budget", took)
	}
	if shippedSource(p) || p.WCUHour != 0.000793 || !strings.Contains(p.Source, "via us-east-1") || slow.Calls.Load() == 0 {
		t.Fatalf("%s %v (slow endpoint asked %d times); want us-east-1's answer", p.Source, p.Notes, slow.Calls.Load())
	}
}

// A region the price list has no price for is a note, with the shipped table's row of it (a
// neighbour's, for a region whose own list price was not found), and for a region the shipped
// table does not know either, us-east-1's said to be an estimate: never a silent figure.
func TestResolveSaysWhenTheListHasNoPriceForARegion(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg := config(t, s.URL)
	p := pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-south-2", "xx-nowhere-1"}, CacheDir: t.TempDir()})
	spain, nowhere := p.In("eu-south-2"), p.In("xx-nowhere-1")
	neighbour, _ := cost.Shipped("eu-west-3", wallet.ClassStandard)
	if notes := strings.Join(spain.Notes, " "); !shippedSource(spain) || spain.WCUHour != neighbour.WCUHour ||
		!strings.Contains(notes, "no DynamoDB price for eu-south-2") || !strings.Contains(notes, "eu-west-3's figures, an estimate") {
		t.Fatalf("eu-south-2: %s %v", spain.Source, spain.Notes)
	}
	if notes := strings.Join(nowhere.Notes, " "); !shippedSource(nowhere) || nowhere.Region != "xx-nowhere-1" ||
		!strings.Contains(notes, "no DynamoDB price for xx-nowhere-1") || !strings.Contains(notes, "us-east-1's prices, an estimate") {
		t.Fatalf("xx-nowhere-1: %s %v", nowhere.Source, nowhere.Notes)
	}
}

// awsConfig is a configuration of AWS's own endpoints (none set) with fake credentials: a test
// that uses it never sends a request without giving an endpoint of its own.
func awsConfig() aws.Config {
	return aws.Config{Region: "eu-central-1", Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", "")}
}

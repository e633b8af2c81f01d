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
	if _, err := os.Stat(filepath.Join(dir, "dynamodb-eu-central-1.json")); err != nil {
		t.Fatalf("not kept: %v", err)
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
		standin.Denied: "denied",
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
	body, err := os.ReadFile(filepath.Join(good, "dynamodb-eu-central-1.json"))
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
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "dynamodb-eu-central-1.json")
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

// Offline (synth, cost --template) asks no network: the cache, else the shipped table, said so.
func TestResolveOfflineCallsNothing(t *testing.T) {
	s := standin.Start(t, map[string]standin.Region{"eu-central-1": frankfurt})
	cfg := config(t, s.URL)
	p := pricelist.Resolve(context.Background(), pricelist.Options{Config: cfg, Regions: []string{"eu-central-1"}, CacheDir: t.TempDir(), Offline: true}).In("eu-central-1")
	if s.Calls.Load() != 0 || !shippedSource(p) || !strings.Contains(strings.Join(p.Notes, " "), "no network") {
		t.Fatalf("%d calls; %s %v", s.Calls.Load(), p.Source, p.Notes)
	}
}

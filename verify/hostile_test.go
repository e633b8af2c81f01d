package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// hostileHangGuard bounds runs that must end on their own --timeout. It is a hang guard, not a
// performance figure: what it catches is a command with no total bound, which took 150 s.
const hostileHangGuard = 30 * time.Second

// An empty or unusable --export is a usage error that deletes nothing: before the fix,
// `--export ""` exported nothing and deleted a stack with its 3000-item table.
func TestUnusableExportPathsDeleteNothing(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	c := newSweepCloud(t, "us-east-1")
	c.CreateTable(t, "hostile-orphan", map[string]string{"Project": "wallet", "Stack": "Wallet-gone"}, false)
	c.CreateStack(t, "Wallet-hostile", fixtureTable("hostile-stack-table"))
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	locked := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(locked, 0o500); err != nil {
		t.Fatal(err)
	}
	before := c.State(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"sweep", "--yes", "--export", ""}, []string{"--export", "empty"}},
		{[]string{"sweep", "--yes", "--export="}, []string{"--export", "empty"}},
		{[]string{"teardown", "--stack", "Wallet-hostile", "--yes", "--export", ""}, []string{"--export", "empty"}},
		{[]string{"teardown", "--stack", "Wallet-hostile", "--yes", "--export="}, []string{"--export", "empty"}},
		{[]string{"sweep", "--yes", "--export", file}, []string{"--export", "not a directory"}},
		{[]string{"sweep", "--yes", "--export", filepath.Join(file, "below")}, []string{"--export", "not a directory"}},
		{[]string{"teardown", "--stack", "Wallet-hostile", "--yes", "--export", filepath.Join(locked, "x")}, []string{"--export", "cannot write"}},
		{[]string{"export", "--table", "hostile-orphan", "--to", file}, []string{"--to", "not a directory"}},
		{[]string{"sweep", "--yes", "--older-than", ""}, []string{"--older-than", "empty"}},
	} {
		if os.Geteuid() == 0 && strings.Contains(strings.Join(tc.args, " "), locked) {
			continue // root writes anywhere: the permission case cannot be made here
		}
		code, _, stderr := sweepRun(t, "", tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2 (stderr %q)", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%q: stderr %q does not mention %q", tc.args, stderr, w)
			}
		}
	}
	if after := c.State(t); after != before {
		t.Fatalf("a refused command changed the cloud:\n%s\n→\n%s", before, after)
	}
}

// Every command ends within its --timeout against an endpoint that accepts connections and never
// answers, with exit 2 and a message saying the endpoint did not answer: one rule for all.
func TestSilentEndpointEndsEveryCommandWithinItsTimeout(t *testing.T) {
	(&localcloud.Server{Endpoint: fixture.SilentEndpoint(t)}).SetEnv(t)
	restoreFrom := t.TempDir()
	writeExport(t, restoreFrom, "silent-restore")
	for _, args := range [][]string{
		{"sweep", "--yes"},
		{"teardown", "--stack", "Wallet-dev", "--yes"},
		{"export", "--table", "silent-export", "--to", t.TempDir()},
		{"restore", "--from", restoreFrom, "--table", "silent-restore"},
		{"check", "--table", "silent-check"},
	} {
		start := time.Now()
		code, out, stderr := sweepRun(t, "", append(args, "--timeout", "2s")...)
		took := time.Since(start)
		if code != exitUsage || took > hostileHangGuard || !strings.Contains(stderr+out, "deadline") {
			t.Errorf("%v: exit %d after %s, want 2 within its --timeout saying so:\n%s\n%s", args, code, took.Round(time.Millisecond), out, stderr)
		}
	}
}

// A sweep that could not list a single region says so (never "No candidates") and exits 2.
func TestASweepThatListedNothingSaysSo(t *testing.T) {
	refusedEndpoint(t)
	for _, args := range [][]string{{"sweep"}, {"sweep", "--yes", "--json"}} {
		code, out, stderr := sweepRun(t, "", args...)
		if code != exitUsage || strings.Contains(out, "No candidates:") || !strings.Contains(out+stderr, "could not be listed") && !strings.Contains(stderr, "no region could be listed") {
			t.Errorf("%v: exit %d\n%s\n%s", args, code, out, stderr)
		}
	}
}

// Missing resources and unreachable endpoints are exit 2 for every command (they were 1 for
// sweep, export and restore).
func TestOneExitRuleForMissingThingsAndEndpoints(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	for _, args := range [][]string{
		{"export", "--table", "no-such-table", "--to", t.TempDir()},
		{"teardown", "--stack", "Wallet-nothing"},
	} {
		if code, _, stderr := sweepRun(t, "", args...); code != exitUsage || !strings.Contains(stderr, "not") {
			t.Errorf("%v: exit %d (%s), want 2", args, code, stderr)
		}
	}
	refusedEndpoint(t)
	from := t.TempDir()
	writeExport(t, from, "refused-restore")
	for _, args := range [][]string{
		{"sweep"},
		{"export", "--table", "refused-export", "--to", t.TempDir()},
		{"restore", "--from", from, "--table", "refused-restore"},
		{"teardown", "--stack", "Wallet-dev"},
	} {
		if code, _, stderr := sweepRun(t, "", args...); code != exitUsage || !strings.Contains(stderr, "connection refused") {
			t.Errorf("%v: exit %d (%s), want 2 naming the refused connection", args, code, stderr)
		}
	}
}

func fixtureTable(name string) fixture.TableDecl {
	return fixture.TableDecl{Name: name, Tags: map[string]string{"Project": "wallet", "Stack": "Wallet-hostile"}}
}

// writeExport writes a finished, empty export of a wallet table under root/table, as `verify
// export` lays it out, for commands that must fail before they would read it.
func writeExport(t *testing.T, root, table string) {
	t.Helper()
	dir := archive.Dir(root, table)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive.ItemsFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	md := archive.Metadata{
		Format: archive.Format, Table: table, Billing: "PAY_PER_REQUEST",
		KeySchema:            []archive.Key{{AttributeName: "user_id", KeyType: "HASH"}},
		AttributeDefinitions: []archive.Attribute{{AttributeName: "user_id", AttributeType: "S"}},
		ItemsSHA256:          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", // sha256 of nothing
	}
	b, err := json.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, archive.MetadataFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

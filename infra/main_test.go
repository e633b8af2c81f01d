package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func getter(ctx map[string]any) func(string) any {
	return func(k string) any { return ctx[k] }
}

func TestContextLookup(t *testing.T) {
	get := contextLookup(getter(map[string]any{
		"one": float64(1), "half": 1.5, "big": float64(40001), "yes": true, "s": "abc", "obj": map[string]any{"a": 1},
	}))
	for key, want := range map[string]string{"one": "1", "half": "1.5", "big": "40001", "yes": "true", "s": "abc", "obj": `{"a":1}`} {
		if got, ok := get(key); !ok || got != want {
			t.Errorf("%s: got %q, %v; want %q", key, got, ok, want)
		}
	}
	if v, ok := get("unset"); ok {
		t.Errorf("unset key reported as set: %q", v)
	}
}

// Every bad value fails before anything is constructed, with an error that names its key.
func TestConfigRejectsBadContext(t *testing.T) {
	for _, tc := range []struct {
		name    string
		context map[string]any
		keys    []string // sorted: every key the errors name, and no other
	}{
		{"readCapacity zero", map[string]any{"readCapacity": "0"}, []string{"readCapacity"}},
		{"readCapacity not a number", map[string]any{"readCapacity": "abc"}, []string{"readCapacity"}},
		{"readCapacity fraction from cdk.json", map[string]any{"readCapacity": 1.5}, []string{"readCapacity"}},
		{"readCapacity negative", map[string]any{"readCapacity": "-3"}, []string{"readCapacity"}},
		{"readCapacity over quota", map[string]any{"readCapacity": "40001"}, []string{"readCapacity"}},
		{"writeCapacity negative", map[string]any{"writeCapacity": "-3"}, []string{"writeCapacity"}},
		{"unknown stage", map[string]any{"stage": "qa"}, []string{"stage"}},
		{"unknown billing", map[string]any{"billing": "free"}, []string{"billing"}},
		{"capacity with on-demand", map[string]any{"billing": "on-demand", "readCapacity": "5", "writeCapacity": float64(3)}, []string{"readCapacity", "writeCapacity"}},
		{"expiresAfter words", map[string]any{"expiresAfter": "soon"}, []string{"expiresAfter"}},
		{"expiresAfter negative", map[string]any{"expiresAfter": "-1h"}, []string{"expiresAfter"}},
		{"expiresAfter with prod", map[string]any{"stage": "prod", "expiresAfter": "72h"}, []string{"expiresAfter"}},
		{"tableName too short", map[string]any{"tableName": "ab"}, []string{"tableName"}},
		{"tableName bad characters", map[string]any{"tableName": "bad name!"}, []string{"tableName"}},
		{"all at once", map[string]any{"stage": "qa", "readCapacity": "abc", "tableName": "ab"}, []string{"readCapacity", "stage", "tableName"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := configFrom(getter(tc.context))
			if err == nil {
				t.Fatalf("accepted %v", tc.context)
			}
			var got []string
			for _, e := range errs(err) {
				var ce *contract.ContextError
				if !errors.As(e, &ce) {
					t.Fatalf("error %q is not a ContextError", e)
				}
				got = append(got, ce.Key)
				if !strings.Contains(e.Error(), ce.Key) || !strings.Contains(e.Error(), ce.Value) {
					t.Errorf("error %q does not name key %s and value %q", e, ce.Key, ce.Value)
				}
				if ce.Allowed == "" {
					t.Errorf("error %q does not say what is allowed", e)
				}
			}
			sort.Strings(got)
			if strings.Join(got, ",") != strings.Join(tc.keys, ",") {
				t.Errorf("errors name keys %v, want %v: %v", got, tc.keys, err)
			}
		})
	}
}

func errs(err error) []error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		return u.Unwrap()
	}
	return []error{err}
}

func TestConfigAcceptsContract(t *testing.T) {
	got, err := configFrom(getter(map[string]any{
		"stage": "dev", "billing": "provisioned", "readCapacity": float64(5), "writeCapacity": "3",
		"expiresAfter": "3d", "tableName": "wallet-dev-custom",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := contract.Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ReadCapacity: 5, WriteCapacity: 3,
		ExpiresAfter: 72 * time.Hour, TableName: "wallet-dev-custom", TableClass: wallet.ClassStandard}
	if got != want {
		t.Errorf("config = %+v, want %+v", got, want)
	}
}

// TestCDKSynth runs the pinned CLI the way a user does, from a checkout with nothing built:
// once with bad values of both stacks (the app must fail before Synth naming both, so no
// template reaches cdk.out) and once for prod (the template on disk retains the table; the
// janitor's function and the deploy check's are built and staged).
func TestCDKSynth(t *testing.T) {
	root := repoRoot(t)
	cdk := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		t.Fatalf("the pinned CDK CLI is missing (%s): run npm ci in %s", cdk, root)
	}
	synth := func(t *testing.T, out string, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cdk, append([]string{"synth", "--quiet", "--output", out}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(),
			"PATH="+filepath.Dir(cdk)+string(os.PathListSeparator)+os.Getenv("PATH"),
			"CDK_DISABLE_VERSION_CHECK=1", "CDK_CLI_NOTICES=false",
			"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1", "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1",
		)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		return stderr.String(), err
	}

	t.Run("bad value", func(t *testing.T) {
		out := t.TempDir()
		stderr, err := synth(t, out, "-c", "readCapacity=abc", "-c", "janitorGrace=616385997d")
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("cdk synth -c readCapacity=abc -c janitorGrace=616385997d: want a non-zero exit, got %v\n%s", err, stderr)
		}
		for _, want := range []string{`readCapacity="abc"`, `janitorGrace="616385997d"`} {
			if !strings.Contains(stderr, want) {
				t.Errorf("stderr does not name the bad key and value %s:\n%s", want, stderr)
			}
		}
		templates, _ := filepath.Glob(filepath.Join(out, "*.template.json"))
		if len(templates) > 0 {
			t.Errorf("templates written despite the bad value: %v", templates)
		}
	})

	t.Run("prod", func(t *testing.T) {
		out := t.TempDir()
		stderr, err := synth(t, out, "-c", "stage=prod")
		if err != nil {
			t.Fatalf("cdk synth -c stage=prod: %v\n%s", err, stderr)
		}
		// What the tables are declared to cost, on stderr (stdout is the template).
		if !strings.Contains(stderr, "Wallet-prod: 1 table, 1 RCU / 1 WCU provisioned: $") || !strings.Contains(stderr, wallet.JanitorStackID+": 1 table, 1 on-demand: $0.00/month + on-demand requests") {
			t.Errorf("cdk synth does not print each stack's declared monthly cost:\n%s", stderr)
		}
		b, err := os.ReadFile(filepath.Join(out, "Wallet-prod.template.json"))
		if err != nil {
			t.Fatal(err)
		}
		// The same app declares the janitor, its function staged as an asset beside the template.
		if _, err := os.Stat(filepath.Join(out, wallet.JanitorStackID+".template.json")); err != nil {
			t.Errorf("no janitor template: %v", err)
		}
		// Two functions staged: the janitor's, and the wallet stack's check inside the deploy.
		if assets, _ := filepath.Glob(filepath.Join(out, "asset.*", "bootstrap")); len(assets) != 2 {
			t.Errorf("staged functions: %v, want two bootstraps (the janitor and the deploy check)", assets)
		}
		var tmpl struct {
			Resources map[string]struct {
				Type                                string
				DeletionPolicy, UpdateReplacePolicy string
				Properties                          struct{ DeletionProtectionEnabled bool }
			}
		}
		if err := json.Unmarshal(b, &tmpl); err != nil {
			t.Fatalf("Wallet-prod.template.json: %v", err)
		}
		tables := 0
		for id, r := range tmpl.Resources {
			if r.Type != "AWS::DynamoDB::Table" {
				continue
			}
			tables++
			if r.DeletionPolicy != "Retain" || r.UpdateReplacePolicy != "Retain" || !r.Properties.DeletionProtectionEnabled {
				t.Errorf("%s: DeletionPolicy=%q UpdateReplacePolicy=%q DeletionProtectionEnabled=%v, want Retain, Retain, true",
					id, r.DeletionPolicy, r.UpdateReplacePolicy, r.Properties.DeletionProtectionEnabled)
			}
		}
		if tables != 1 {
			t.Errorf("%d tables in the prod template, want 1", tables)
		}
	})
}

// repoRoot walks up from the test's directory to go.mod: cdk.json and node_modules live there.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

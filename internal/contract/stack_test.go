package contract_test

import (
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/contract"
)

// The overflow is refused where users type it, too: as expiresAfter.
func TestParseConfigRefusesOverflowingExpiresAfter(t *testing.T) {
	_, err := contract.ParseStack(func(k string) (string, bool) {
		if k == contract.CtxExpiresAfter {
			return "616385997d", true
		}
		return "", false
	})
	if err == nil || !strings.Contains(err.Error(), `expiresAfter="616385997d"`) {
		t.Fatalf("ParseConfig(expiresAfter=616385997d) = %v, want an error naming the key and value", err)
	}
}

// tableClass takes standard and standard-ia (default standard) and refuses anything else,
// naming the key, the value and what is allowed.
func TestParseStackReadsTableClass(t *testing.T) {
	get := func(v string) contract.Lookup {
		return func(k string) (string, bool) { return v, k == contract.CtxTableClass }
	}
	c, err := contract.ParseStack(func(string) (string, bool) { return "", false })
	if err != nil || c.TableClass != "standard" {
		t.Fatalf("default: %q, %v; want standard", c.TableClass, err)
	}
	c, err = contract.ParseStack(get("standard-ia"))
	if err != nil || c.TableClass != "standard-ia" {
		t.Fatalf("tableClass=standard-ia: %q, %v", c.TableClass, err)
	}
	for _, bad := range []string{"STANDARD_INFREQUENT_ACCESS", "ia", "Standard", " standard"} {
		_, err := contract.ParseStack(get(bad))
		if err == nil || !strings.Contains(err.Error(), "tableClass=") || !strings.Contains(err.Error(), "standard, standard-ia") {
			t.Errorf("tableClass=%q: %v, want a refusal naming key, value and what is allowed", bad, err)
		}
	}
}

// readMax, writeMax and targetUtilization are refused, each naming the key, the value and what
// is allowed, wherever auto scaling cannot be what was asked for.
func TestAutoScalingKeysRefuseWhatCannotScale(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   map[string]string
		want []string
	}{
		{"a max below its minimum", map[string]string{contract.CtxReadCapacity: "5", contract.CtxReadMax: "4"},
			[]string{`readMax="4"`, "from readCapacity (5) to 40000", "cannot be below the minimum"}},
		{"a write max below its minimum", map[string]string{contract.CtxWriteCapacity: "10", contract.CtxWriteMax: "9"},
			[]string{`writeMax="9"`, "from writeCapacity (10) to 40000"}},
		{"a max above 40000", map[string]string{contract.CtxWriteMax: "40001"},
			[]string{`writeMax="40001"`, "from writeCapacity (1) to 40000"}},
		{"a max with on-demand billing", map[string]string{contract.CtxBilling: "on-demand", contract.CtxReadMax: "10"},
			[]string{`readMax="10"`, "provisioned billing only, not billing=on-demand"}},
		{"a max that is not a number", map[string]string{contract.CtxReadMax: "1e3"},
			[]string{`readMax="1e3"`, "whole number from readCapacity (1) to 40000"}},
		{"a max of 0", map[string]string{contract.CtxReadMax: "0"},
			[]string{`readMax="0"`, "whole number from readCapacity (1) to 40000"}},
		{"a target below 20", map[string]string{contract.CtxReadMax: "10", contract.CtxTarget: "19"},
			[]string{`targetUtilization="19"`, "whole number of percent from 20 to 90"}},
		{"a target above 90", map[string]string{contract.CtxReadMax: "10", contract.CtxTarget: "91"},
			[]string{`targetUtilization="91"`, "from 20 to 90"}},
		{"a target not a whole number", map[string]string{contract.CtxReadMax: "10", contract.CtxTarget: "70.5"},
			[]string{`targetUtilization="70.5"`, "whole number of percent"}},
		{"a target with nothing auto scaled", map[string]string{contract.CtxTarget: "50"},
			[]string{`targetUtilization="50"`, "give readMax or writeMax too"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := contract.ParseStack(lookup(tc.in))
			if err == nil {
				t.Fatalf("%v accepted", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// An auto-scaled stack reads back what it writes (the deploy check's declared shape), with the
// target's default when none is given; a fixed one writes no auto scaling key at all.
func TestAutoScalingKeysReadWhatTheyWrite(t *testing.T) {
	c, err := contract.ParseStack(lookup(map[string]string{contract.CtxReadCapacity: "2", contract.CtxReadMax: "2", contract.CtxWriteMax: "10"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadMax != 2 || c.WriteMax != 10 || c.TargetUtilization != 70 || !c.AutoScaled() {
		t.Fatalf("parsed %+v; want readMax 2 (equal to its minimum), writeMax 10, target 70", c)
	}
	back, err := contract.ParseStack(lookup(c.Context()))
	if err != nil || back != c {
		t.Fatalf("ParseStack(Context()) = %+v, %v; want %+v", back, err, c)
	}
	fixed, err := contract.ParseStack(lookup(nil))
	if err != nil || fixed.AutoScaled() || fixed.TargetUtilization != 0 {
		t.Fatalf("no auto scaling keys: %+v, %v", fixed, err)
	}
	for _, k := range []string{contract.CtxReadMax, contract.CtxWriteMax, contract.CtxTarget} {
		if _, ok := fixed.Context()[k]; ok {
			t.Errorf("a fixed stack writes %s: %v", k, fixed.Context())
		}
	}
}

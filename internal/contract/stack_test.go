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

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

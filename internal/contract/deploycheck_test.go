package contract_test

import (
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func TestDeployCheckConfigDefaultsAndBounds(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	c, err := contract.ParseDeployCheck(none)
	if err != nil || c != (contract.DeployCheck{Enabled: true, Timeout: 5 * time.Minute, Arch: contract.ArchARM64}) {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for v, want := range map[string]time.Duration{"1m": time.Minute, "90s": 90 * time.Second, "15m": 15 * time.Minute} {
		c, err := contract.ParseDeployCheck(func(k string) (string, bool) { return v, k == contract.CtxVerifyTimeout })
		if err != nil || c.Timeout != want {
			t.Errorf("verifyTimeout=%s: %v, %v; want %s", v, c.Timeout, err, want)
		}
	}
	c, err = contract.ParseDeployCheck(func(k string) (string, bool) { return "false", k == contract.CtxVerifyOnDeploy })
	if err != nil || c.Enabled {
		t.Errorf("verifyOnDeploy=false: %+v, %v", c, err)
	}
}

// Context is how the declared shape reaches the deploy check: it must read back as the same
// config, whatever the stage, billing and name.
func TestConfigContextRoundTrip(t *testing.T) {
	for _, c := range []contract.Stack{
		{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ReadCapacity: 5, WriteCapacity: 3, ExpiresAfter: 90 * time.Minute, TableName: "wallet-x", TableClass: wallet.ClassStandard},
		{Stage: wallet.StageDev, Billing: wallet.BillingOnDemand, ExpiresAfter: contract.DefaultExpiresAfter, TableClass: wallet.ClassStandardIA},
		{Stage: wallet.StageProd, Billing: wallet.BillingProvisioned, ReadCapacity: 10, WriteCapacity: 1, ExpiresAfter: contract.DefaultExpiresAfter, TableClass: wallet.ClassStandard},
	} {
		m := c.Context()
		got, err := contract.ParseStack(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
		if err != nil || got != c {
			t.Errorf("%+v → %v → %+v, %v", c, m, got, err)
		}
	}
	if _, err := contract.ParseStackJSON(`{"stage":"qa"}`); err == nil {
		t.Error("a bad declared stage was accepted")
	}
	if _, err := contract.ParseStackJSON(`not json`); err == nil {
		t.Error("a declared spec that is not JSON was accepted")
	}
}

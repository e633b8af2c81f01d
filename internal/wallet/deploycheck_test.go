package wallet

import (
	"testing"
	"time"
)

func TestDeployCheckConfigDefaultsAndBounds(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	c, err := ParseDeployCheckConfig(none)
	if err != nil || c != (DeployCheckConfig{Enabled: true, Timeout: 5 * time.Minute, Arch: ArchARM64}) {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	for v, want := range map[string]time.Duration{"1m": time.Minute, "90s": 90 * time.Second, "15m": 15 * time.Minute} {
		c, err := ParseDeployCheckConfig(func(k string) (string, bool) { return v, k == CtxVerifyTimeout })
		if err != nil || c.Timeout != want {
			t.Errorf("verifyTimeout=%s: %v, %v; want %s", v, c.Timeout, err, want)
		}
	}
	c, err = ParseDeployCheckConfig(func(k string) (string, bool) { return "false", k == CtxVerifyOnDeploy })
	if err != nil || c.Enabled {
		t.Errorf("verifyOnDeploy=false: %+v, %v", c, err)
	}
}

// Context is how the declared shape reaches the deploy check: it must read back as the same
// config, whatever the stage, billing and name.
func TestConfigContextRoundTrip(t *testing.T) {
	for _, c := range []Config{
		{Stage: StageDev, Billing: BillingProvisioned, ReadCapacity: 5, WriteCapacity: 3, ExpiresAfter: 90 * time.Minute, TableName: "wallet-x"},
		{Stage: StageDev, Billing: BillingOnDemand, ExpiresAfter: DefaultExpiresAfter},
		{Stage: StageProd, Billing: BillingProvisioned, ReadCapacity: 10, WriteCapacity: 1, ExpiresAfter: DefaultExpiresAfter},
	} {
		m := c.Context()
		got, err := ParseConfig(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
		if err != nil || got != c {
			t.Errorf("%+v → %v → %+v, %v", c, m, got, err)
		}
	}
	if _, err := ParseContextJSON(`{"stage":"qa"}`); err == nil {
		t.Error("a bad declared stage was accepted")
	}
	if _, err := ParseContextJSON(`not json`); err == nil {
		t.Error("a declared spec that is not JSON was accepted")
	}
}

package discover

import (
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Declared reads as a template would: CloudFormation's defaults filled in, every tag named
// (exhaustive), the lifecycle of the stage. infra's template tests hold it to the synthesized
// template field for field; this pins what the deploy check compares on its own.
func TestDeclared(t *testing.T) {
	prod := Declared(contract.Stack{Stage: wallet.StageProd, Billing: wallet.BillingOnDemand, ExpiresAfter: time.Hour, TableName: "wallet-p"})
	for field, want := range map[string]string{
		FieldKeySchema: "user_id HASH", FieldAttributes + ".user_id": "S", FieldBillingMode: "PAY_PER_REQUEST",
		FieldDeletionProtection: "true", FieldPITR: "true", FieldTTLEnabled: "true", FieldTTLAttribute: "expires_at",
		FieldSSE: "false", FieldTags + ".Stage": "prod", FieldTags + ".Project": "wallet",
	} {
		if got := prod.Fields[field]; got != want {
			t.Errorf("prod %s = %q, want %q", field, got, want)
		}
	}
	if _, ok := prod.Fields[FieldTags+".ExpiresAfter"]; ok || prod.DeletionPolicy != "Retain" || !prod.Exhaustive || prod.TableName != "wallet-p" || len(prod.Unresolved) != 0 {
		t.Errorf("prod spec %+v", prod)
	}
	dev := Declared(contract.Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ReadCapacity: 3, WriteCapacity: 2, ExpiresAfter: 72 * time.Hour})
	if dev.Fields[FieldReadCapacity] != "3" || dev.Fields[FieldWriteCapacity] != "2" || dev.Fields[FieldBillingMode] != "PROVISIONED" ||
		dev.Fields[FieldTags+".ExpiresAfter"] != "72h" || dev.DeletionPolicy != "Delete" || dev.Fields[FieldDeletionProtection] != "false" {
		t.Errorf("dev spec %+v", dev)
	}
}

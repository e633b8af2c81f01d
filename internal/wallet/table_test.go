package wallet

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestBillingOfAndMode(t *testing.T) {
	for _, tc := range []struct {
		d    *types.TableDescription
		want Billing
		mode types.BillingMode
	}{
		{nil, BillingProvisioned, types.BillingModeProvisioned},
		{&types.TableDescription{}, BillingProvisioned, types.BillingModeProvisioned}, // predates on-demand
		{&types.TableDescription{BillingModeSummary: &types.BillingModeSummary{BillingMode: types.BillingModeProvisioned}}, BillingProvisioned, types.BillingModeProvisioned},
		{&types.TableDescription{BillingModeSummary: &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest}}, BillingOnDemand, types.BillingModePayPerRequest},
	} {
		if got := BillingOf(tc.d); got != tc.want || got.Mode() != tc.mode {
			t.Errorf("BillingOf(%+v) = %s (%s), want %s (%s)", tc.d, got, got.Mode(), tc.want, tc.mode)
		}
	}
}

func TestKeySchemaPutsTheHashKeyFirst(t *testing.T) {
	k := func(name string, kt types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt}
	}
	if got := KeySchema([]types.KeySchemaElement{k("sk", types.KeyTypeRange), k("pk", types.KeyTypeHash)}); got != "pk HASH, sk RANGE" {
		t.Fatalf("got %q", got)
	}
	if got := KeySchema(TableInput("t", nil).KeySchema); got != WalletKeySchema || got != "user_id HASH" {
		t.Fatalf("the wallet table's key schema reads %q, WalletKeySchema %q", got, WalletKeySchema)
	}
}

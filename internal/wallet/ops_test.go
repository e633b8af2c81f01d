package wallet_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The operations run against Amazon's DynamoDB Local: conditions, ADD and transactions (with
// their idempotency tokens) are evaluated by the real engine, not by a fake.
func TestOpsOnDynamoDBLocal(t *testing.T) {
	localcloud.DynamoDBLocal(t).SetEnv(t)
	db := fixture.NewCloud(t, "").DynamoDB
	createTable(t, db, "wallet-ops-test")
	w := wallet.NewStore(db, "wallet-ops-test")
	ctx := t.Context()

	t.Run("create refuses to overwrite and get reads back every field", func(t *testing.T) {
		exp := time.Now().Add(time.Hour).Truncate(time.Second)
		if err := w.Create(ctx, wallet.Wallet{UserID: "alice", Balance: 42, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
		if err := w.Create(ctx, wallet.Wallet{UserID: "alice", Balance: 1}); !errors.Is(err, wallet.ErrExists) {
			t.Fatalf("second create: want ErrExists, got %v", err)
		}
		got, err := w.Get(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.UserID != "alice" || got.Balance != 42 || !got.ExpiresAt.Equal(exp) {
			t.Fatalf("got %+v, want alice 42 expiring %v", got, exp)
		}
		if _, err := w.Get(ctx, "nobody"); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("get missing: want ErrNotFound, got %v", err)
		}
		if err := w.Create(ctx, wallet.Wallet{UserID: "neg", Balance: -1}); !errors.Is(err, wallet.ErrInvalidAmount) {
			t.Fatalf("negative opening balance: want ErrInvalidAmount, got %v", err)
		}
	})

	t.Run("credit and debit keep the balance and refuse overdraft", func(t *testing.T) {
		mustCreate(t, w, "bob", 10)
		if bal, err := w.Credit(ctx, "bob", 5); err != nil || bal != 15 {
			t.Fatalf("credit: %d, %v; want 15", bal, err)
		}
		if bal, err := w.Debit(ctx, "bob", 15); err != nil || bal != 0 {
			t.Fatalf("debit to zero: %d, %v; want 0", bal, err)
		}
		_, err := w.Debit(ctx, "bob", 1)
		if !errors.Is(err, wallet.ErrInsufficientFunds) || !strings.Contains(err.Error(), "balance 0") {
			t.Fatalf("overdraft: want ErrInsufficientFunds naming balance 0, got %v", err)
		}
		if _, err := w.Debit(ctx, "ghost", 1); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("debit missing: want ErrNotFound, got %v", err)
		}
		if _, err := w.Credit(ctx, "ghost", 1); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("credit missing: want ErrNotFound, got %v", err)
		}
		if _, err := w.Get(ctx, "ghost"); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("a refused credit created the wallet: %v", err)
		}
		for _, amt := range []int64{0, -3} {
			if _, err := w.Credit(ctx, "bob", amt); !errors.Is(err, wallet.ErrInvalidAmount) {
				t.Fatalf("credit %d: want ErrInvalidAmount, got %v", amt, err)
			}
			if _, err := w.Debit(ctx, "bob", amt); !errors.Is(err, wallet.ErrInvalidAmount) {
				t.Fatalf("debit %d: want ErrInvalidAmount, got %v", amt, err)
			}
		}
	})

	t.Run("transfer is atomic and idempotent per token", func(t *testing.T) {
		mustCreate(t, w, "from", 100)
		mustCreate(t, w, "to", 0)
		if err := w.Transfer(ctx, "from", "to", 30, "tok-1"); err != nil {
			t.Fatal(err)
		}
		// The replay DynamoDB must recognise: same token, same parameters.
		if err := w.Transfer(ctx, "from", "to", 30, "tok-1"); err != nil {
			t.Fatalf("replay: %v", err)
		}
		wantBalances(t, w, map[string]int64{"from": 70, "to": 30})

		if err := w.Transfer(ctx, "from", "to", 31, "tok-1"); !errors.Is(err, wallet.ErrTokenReused) {
			t.Fatalf("token reused with another amount: want ErrTokenReused, got %v", err)
		}
		err := w.Transfer(ctx, "from", "to", 71, "tok-2")
		if !errors.Is(err, wallet.ErrInsufficientFunds) || !strings.Contains(err.Error(), "balance of from is 70") {
			t.Fatalf("overdrawing transfer: want ErrInsufficientFunds naming the balance, got %v", err)
		}
		if err := w.Transfer(ctx, "from", "nobody", 1, "tok-3"); !errors.Is(err, wallet.ErrNotFound) || !strings.Contains(err.Error(), "nobody") {
			t.Fatalf("transfer to a missing wallet: want ErrNotFound naming it, got %v", err)
		}
		if err := w.Transfer(ctx, "nobody", "to", 1, "tok-4"); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("transfer from a missing wallet: want ErrNotFound, got %v", err)
		}
		wantBalances(t, w, map[string]int64{"from": 70, "to": 30})

		for name, call := range map[string]func() error{
			"zero amount":   func() error { return w.Transfer(ctx, "from", "to", 0, "t") },
			"same wallet":   func() error { return w.Transfer(ctx, "from", "from", 1, "t") },
			"empty token":   func() error { return w.Transfer(ctx, "from", "to", 1, "") },
			"37-char token": func() error { return w.Transfer(ctx, "from", "to", 1, strings.Repeat("x", 37)) },
		} {
			if err := call(); err == nil {
				t.Errorf("%s: want an error before any request", name)
			}
		}
	})

	t.Run("put replaces, so repeating it is harmless", func(t *testing.T) {
		for _, bal := range []int64{3, 4, 4} {
			if err := w.Put(ctx, wallet.Wallet{UserID: "dave", Balance: bal}); err != nil {
				t.Fatal(err)
			}
		}
		wantBalances(t, w, map[string]int64{"dave": 4})
		if err := w.Put(ctx, wallet.Wallet{UserID: "dave", Balance: -1}); !errors.Is(err, wallet.ErrInvalidAmount) {
			t.Fatalf("negative balance: want ErrInvalidAmount, got %v", err)
		}
	})

	t.Run("delete is idempotent", func(t *testing.T) {
		mustCreate(t, w, "carol", 1)
		for i := 0; i < 2; i++ {
			if err := w.Delete(ctx, "carol"); err != nil {
				t.Fatalf("delete #%d: %v", i+1, err)
			}
		}
		if _, err := w.Get(ctx, "carol"); !errors.Is(err, wallet.ErrNotFound) {
			t.Fatalf("after delete: want ErrNotFound, got %v", err)
		}
	})
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	in := wallet.TableInput(name, nil)
	in.BillingMode, in.ProvisionedThroughput = types.BillingModePayPerRequest, nil
	if err := fixture.CreateTableOnce(t, db, in); err != nil { // once: a retry after a lost answer meets its own table
		t.Fatalf("create table %s: %v", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func mustCreate(t *testing.T, w *wallet.Store, id string, balance int64) {
	t.Helper()
	if err := w.Create(context.Background(), wallet.Wallet{UserID: id, Balance: balance}); err != nil {
		t.Fatal(err)
	}
}

func wantBalances(t *testing.T, w *wallet.Store, want map[string]int64) {
	t.Helper()
	for id, bal := range want {
		got, err := w.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != bal {
			t.Errorf("balance of %s = %d, want %d", id, got.Balance, bal)
		}
	}
}

package wallet

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of DynamoDB the wallet operations use: item reads and writes, nothing that
// can change or delete a table.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Errors the operations return, wrapped with the wallet and amount involved; test with errors.Is.
var (
	ErrExists            = errors.New("wallet already exists")
	ErrNotFound          = errors.New("wallet not found")
	ErrInsufficientFunds = errors.New("insufficient funds")
	ErrInvalidAmount     = errors.New("amount must be positive")
	// ErrConflict: another transaction held one of the wallets; the caller may retry.
	ErrConflict = errors.New("transaction conflict")
	// ErrTokenReused: a client request token was replayed with different parameters.
	ErrTokenReused = errors.New("client request token reused with different parameters")
)

// Wallet is one item of the table. Balances are whole minor units (cents): DynamoDB numbers are
// exact decimals, but integers keep every comparison in this code exact too.
type Wallet struct {
	UserID  string
	Balance int64
	// ExpiresAt is zero for real wallets. Test wallets set it so DynamoDB's TTL removes them
	// even if the process that made them dies before deleting them.
	ExpiresAt time.Time
}

// Store runs wallet operations on one table.
type Store struct {
	api  API
	name string
}

// NewStore binds the operations to a table.
func NewStore(api API, name string) *Store { return &Store{api: api, name: name} }

// exprNames aliases both attributes: "balance" is not reserved today, but aliasing costs
// nothing and keeps a future reserved word from breaking every write. A fresh map each call:
// the SDK owns its inputs while a request is in flight.
func exprNames() map[string]string {
	return map[string]string{"#k": KeyAttribute, "#b": BalanceAttribute}
}

// Create stores a new wallet and refuses to overwrite an existing one.
func (t *Store) Create(ctx context.Context, w Wallet) error {
	if w.Balance < 0 {
		return fmt.Errorf("create wallet %s with balance %d: %w", w.UserID, w.Balance, ErrInvalidAmount)
	}
	_, err := t.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.name),
		Item:                     encode(w),
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": KeyAttribute},
	})
	if err != nil {
		if conditionFailed(err) {
			return fmt.Errorf("create wallet %s: %w", w.UserID, ErrExists)
		}
		return fmt.Errorf("create wallet %s in %s: %w", w.UserID, t.name, err)
	}
	return nil
}

// Put stores a wallet whether or not one exists, so repeating it is harmless. Only for ids
// that are unique by construction, as verify's test wallets are; Create is for everything else.
func (t *Store) Put(ctx context.Context, w Wallet) error {
	if w.Balance < 0 {
		return fmt.Errorf("put wallet %s with balance %d: %w", w.UserID, w.Balance, ErrInvalidAmount)
	}
	if _, err := t.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.name), Item: encode(w)}); err != nil {
		return fmt.Errorf("put wallet %s in %s: %w", w.UserID, t.name, err)
	}
	return nil
}

func encode(w Wallet) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{
		KeyAttribute:     &types.AttributeValueMemberS{Value: w.UserID},
		BalanceAttribute: number(w.Balance),
	}
	if !w.ExpiresAt.IsZero() {
		item[TTLAttribute] = number(w.ExpiresAt.Unix())
	}
	return item
}

// Get reads a wallet with a strongly consistent read: a balance must reflect every write that
// was acknowledged before it.
func (t *Store) Get(ctx context.Context, userID string) (Wallet, error) {
	out, err := t.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.name),
		Key:            key(userID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Wallet{}, fmt.Errorf("get wallet %s from %s: %w", userID, t.name, err)
	}
	if out.Item == nil {
		return Wallet{}, fmt.Errorf("get wallet %s: %w", userID, ErrNotFound)
	}
	w, err := decode(out.Item)
	if err != nil {
		return Wallet{}, fmt.Errorf("get wallet %s: %w", userID, err)
	}
	return w, nil
}

// Credit adds amount to an existing wallet and returns the new balance. ADD is applied by
// DynamoDB itself, so concurrent credits never lose an update. The existence condition stops a
// credit from creating a wallet as a side effect (one without an owner's other attributes).
func (t *Store) Credit(ctx context.Context, userID string, amount int64) (int64, error) {
	if amount <= 0 {
		return 0, fmt.Errorf("credit wallet %s with %d: %w", userID, amount, ErrInvalidAmount)
	}
	out, err := t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(t.name),
		Key:                       key(userID),
		UpdateExpression:          aws.String("ADD #b :amt"),
		ConditionExpression:       aws.String("attribute_exists(#k)"),
		ExpressionAttributeNames:  exprNames(),
		ExpressionAttributeValues: map[string]types.AttributeValue{":amt": number(amount)},
		ReturnValues:              types.ReturnValueUpdatedNew,
	})
	if err != nil {
		if conditionFailed(err) {
			return 0, fmt.Errorf("credit wallet %s with %d: %w", userID, amount, ErrNotFound)
		}
		return 0, fmt.Errorf("credit wallet %s in %s: %w", userID, t.name, err)
	}
	return balanceOf(out.Attributes)
}

// Debit takes amount from a wallet and returns the new balance. The balance check is a
// condition evaluated by DynamoDB with the write, not a read before it: two debits racing can
// never both pass.
func (t *Store) Debit(ctx context.Context, userID string, amount int64) (int64, error) {
	if amount <= 0 {
		return 0, fmt.Errorf("debit wallet %s by %d: %w", userID, amount, ErrInvalidAmount)
	}
	out, err := t.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(t.name),
		Key:                                 key(userID),
		UpdateExpression:                    aws.String("SET #b = #b - :amt"),
		ConditionExpression:                 aws.String("attribute_exists(#k) AND #b >= :amt"),
		ExpressionAttributeNames:            exprNames(),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":amt": number(amount)},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			// The old item tells a missing wallet from a short one without a second read.
			if ccf.Item == nil {
				return 0, fmt.Errorf("debit wallet %s by %d: %w", userID, amount, ErrNotFound)
			}
			bal, _ := balanceOf(ccf.Item)
			return 0, fmt.Errorf("debit wallet %s by %d (balance %d): %w", userID, amount, bal, ErrInsufficientFunds)
		}
		return 0, fmt.Errorf("debit wallet %s in %s: %w", userID, t.name, err)
	}
	return balanceOf(out.Attributes)
}

// MaxTokenLength is DynamoDB's limit on a ClientRequestToken.
const MaxTokenLength = 36

// Transfer moves amount from one wallet to another in one transaction: both change or neither
// does. token makes the transfer idempotent for DynamoDB's ten-minute window, so a retry after
// a lost response (by the SDK or by the caller) cannot move the money twice; a caller must use
// a new token for each distinct transfer.
func (t *Store) Transfer(ctx context.Context, from, to string, amount int64, token string) error {
	what := fmt.Sprintf("transfer %d from %s to %s", amount, from, to)
	switch {
	case amount <= 0:
		return fmt.Errorf("%s: %w", what, ErrInvalidAmount)
	case from == to:
		return fmt.Errorf("%s: source and destination are the same wallet", what)
	case token == "" || len(token) > MaxTokenLength:
		return fmt.Errorf("%s: client request token must be 1 to %d characters, got %d", what, MaxTokenLength, len(token))
	}
	amt := map[string]types.AttributeValue{":amt": number(amount)}
	_, err := t.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(token),
		TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{
				TableName:                           aws.String(t.name),
				Key:                                 key(from),
				UpdateExpression:                    aws.String("SET #b = #b - :amt"),
				ConditionExpression:                 aws.String("attribute_exists(#k) AND #b >= :amt"),
				ExpressionAttributeNames:            exprNames(),
				ExpressionAttributeValues:           amt,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
			}},
			{Update: &types.Update{
				TableName:                 aws.String(t.name),
				Key:                       key(to),
				UpdateExpression:          aws.String("ADD #b :amt"),
				ConditionExpression:       aws.String("attribute_exists(#k)"),
				ExpressionAttributeNames:  exprNames(),
				ExpressionAttributeValues: amt,
			}},
		},
	})
	if err == nil {
		return nil
	}
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return fmt.Errorf("%s: %w", what, cancellation(tce, from, to))
	}
	var ipm *types.IdempotentParameterMismatchException
	if errors.As(err, &ipm) {
		return fmt.Errorf("%s with token %s: %w", what, token, ErrTokenReused)
	}
	return fmt.Errorf("%s in %s: %w", what, t.name, err)
}

// cancellation names why DynamoDB cancelled a transfer. Reasons come in the order of the
// transaction's items: the debit first, the credit second.
func cancellation(tce *types.TransactionCanceledException, from, to string) error {
	r := tce.CancellationReasons
	code := func(i int) string {
		if i < len(r) {
			return aws.ToString(r[i].Code)
		}
		return ""
	}
	switch {
	case code(0) == "ConditionalCheckFailed" && r[0].Item != nil:
		bal, _ := balanceOf(r[0].Item)
		return fmt.Errorf("cancelled, balance of %s is %d: %w", from, bal, ErrInsufficientFunds)
	case code(0) == "ConditionalCheckFailed":
		return fmt.Errorf("cancelled, %s: %w", from, ErrNotFound)
	case code(1) == "ConditionalCheckFailed":
		return fmt.Errorf("cancelled, %s: %w", to, ErrNotFound)
	case code(0) == "TransactionConflict" || code(1) == "TransactionConflict":
		return fmt.Errorf("cancelled: %w", ErrConflict)
	}
	return tce
}

// Delete removes a wallet; deleting one that is already gone is not an error, so clean-up can
// be repeated safely.
func (t *Store) Delete(ctx context.Context, userID string) error {
	if _, err := t.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(t.name), Key: key(userID)}); err != nil {
		return fmt.Errorf("delete wallet %s from %s: %w", userID, t.name, err)
	}
	return nil
}

func key(userID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{KeyAttribute: &types.AttributeValueMemberS{Value: userID}}
}

func number(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func conditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func decode(item map[string]types.AttributeValue) (Wallet, error) {
	id, ok := item[KeyAttribute].(*types.AttributeValueMemberS)
	if !ok {
		return Wallet{}, fmt.Errorf("item has no string %s", KeyAttribute)
	}
	w := Wallet{UserID: id.Value}
	bal, err := balanceOf(item)
	if err != nil {
		return Wallet{}, err
	}
	w.Balance = bal
	if v, ok := item[TTLAttribute]; ok {
		n, err := intOf(v)
		if err != nil {
			return Wallet{}, fmt.Errorf("%s: %w", TTLAttribute, err)
		}
		w.ExpiresAt = time.Unix(n, 0)
	}
	return w, nil
}

func balanceOf(item map[string]types.AttributeValue) (int64, error) {
	v, ok := item[BalanceAttribute]
	if !ok {
		return 0, fmt.Errorf("item has no %s", BalanceAttribute)
	}
	n, err := intOf(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", BalanceAttribute, err)
	}
	return n, nil
}

func intOf(v types.AttributeValue) (int64, error) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("not a number: %T", v)
	}
	i, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a whole number: %q", n.Value)
	}
	return i, nil
}

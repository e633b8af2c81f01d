package mark

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Key is the janitor's KMS HMAC key: the calls only the function's role may make on it.
type Key interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, optFns ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, optFns ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

// Table is what a mark is bound to: the table's ARN and its identity, so that a table dropped
// and made again under the same name is another table, and its predecessor's mark is not its
// own. Name is for messages.
type Table struct {
	Name, ARN string
	// TableID is DynamoDB's id of the table where the service returns one (AWS does); empty, the
	// creation time stands for it (moto).
	TableID string
	Created time.Time
}

func (t Table) identity() string {
	if t.TableID != "" {
		return "id:" + t.TableID
	}
	return t.Created.UTC().Format(time.RFC3339Nano)
}

// Signer signs and verifies marks with the janitor's KMS HMAC key KeyARN.
type Signer struct {
	Key    Key
	KeyARN string
}

// Sign is the mark of t, due at due.
func (s Signer) Sign(ctx context.Context, t Table, due time.Time) (string, error) {
	out, err := s.Key.GenerateMac(ctx, &kms.GenerateMacInput{
		KeyId: aws.String(s.KeyARN), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: Message(t.ARN, t.identity(), due),
	})
	if err != nil {
		return "", fmt.Errorf("sign the mark of %s with %s: %w", t.Name, s.KeyARN, err)
	}
	return Format(due, out.Mac)
}

// Verify is the due time of the mark v on t when the janitor wrote it for t; genuine is false
// when it did not (another shape, a MAC for another table or time, a time before the table
// existed), and err is set only when KMS could not say.
func (s Signer) Verify(ctx context.Context, t Table, v string) (due time.Time, genuine bool, err error) {
	due, mac, err := Parse(v)
	if err != nil || due.Before(t.Created) {
		return time.Time{}, false, nil
	}
	out, err := s.Key.VerifyMac(ctx, &kms.VerifyMacInput{
		KeyId: aws.String(s.KeyARN), MacAlgorithm: kmstypes.MacAlgorithmSpecHmacSha256,
		Message: Message(t.ARN, t.identity(), due), Mac: mac,
	})
	var invalid *kmstypes.KMSInvalidMacException
	switch {
	case errors.As(err, &invalid):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("verify the mark of %s with %s: %w", t.Name, s.KeyARN, err)
	}
	return due, out.MacValid, nil
}

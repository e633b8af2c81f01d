package undo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/smithy-go"
)

// A change DynamoDB answers "not yet" (PITR on a table restored moments ago:
// ContinuousBackupsUnavailableException; the table still UPDATING: ResourceInUseException) is
// asked again within the wait, and then done; any other answer is the answer, at once. No local
// backend gives these answers, so the change here is a stand-in that gives them.
func TestAChangeAnsweredNotYetIsAskedAgain(t *testing.T) {
	o := Options{Wait: 10 * time.Second, Poll: 10 * time.Millisecond}
	calls := 0
	err := o.retry(t.Context(), func(context.Context) error {
		calls++
		if calls < 3 {
			return &smithy.GenericAPIError{Code: "ContinuousBackupsUnavailableException", Message: "Backups are being enabled for the table"}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("busy twice, then done: %v after %d calls", err, calls)
	}
	calls = 0
	refused := &smithy.GenericAPIError{Code: "AccessDeniedException"}
	if err := o.retry(t.Context(), func(context.Context) error { calls++; return refused }); !errors.Is(err, refused) || calls != 1 {
		t.Fatalf("a refusal: %v after %d calls, want it at once", err, calls)
	}
	// The wait bounds it.
	o.Wait = 50 * time.Millisecond
	start := time.Now()
	if err := o.retry(t.Context(), func(context.Context) error { return &smithy.GenericAPIError{Code: "ResourceInUseException"} }); err == nil || time.Since(start) > time.Second {
		t.Fatalf("busy for ever: %v after %s, want the error within the wait", err, time.Since(start))
	}
}

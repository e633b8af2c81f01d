package janitor

import (
	"context"
	"testing"
	"time"
)

// Under Lambda the work stops before the function's end, so the report is still logged and sent:
// two minutes early, or a quarter of what is left when that is less.
func TestTheWorkStopsBeforeTheFunctionEnds(t *testing.T) {
	for _, left := range []time.Duration{15 * time.Minute, 8 * time.Second} {
		ctx, cancel := context.WithTimeout(context.Background(), left)
		work, wcancel := reserve(ctx)
		end, _ := ctx.Deadline()
		stop, ok := work.Deadline()
		gap := end.Sub(stop)
		want := min(reportTime, left/4)
		if !ok || gap < want-50*time.Millisecond || gap > want+50*time.Millisecond {
			t.Errorf("%s left: the work stops %s before the end, want %s", left, gap, want)
		}
		wcancel()
		cancel()
	}
	if _, ok := func() (time.Time, bool) { w, c := reserve(context.Background()); defer c(); return w.Deadline() }(); ok {
		t.Error("without a deadline, the work must get none")
	}
}

package cost

import "testing"

// A table read in its first minute is judged on one minute of life, and the note says so in
// English ("its 1 minutes of life" was what a user read).
func TestHoursText(t *testing.T) {
	for _, tc := range []struct {
		hours float64
		want  string
	}{
		{1.0 / 60, "1 minute"},
		{1.3 / 60, "1 minute"},
		{2.0 / 60, "2 minutes"},
		{1, "60 minutes"},
		{2, "2.0 hours"},
	} {
		if got := hoursText(tc.hours); got != tc.want {
			t.Errorf("hoursText(%v) = %q, want %q", tc.hours, got, tc.want)
		}
	}
}

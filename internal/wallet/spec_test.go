package wallet_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func TestParseDuration(t *testing.T) {
	maxDays := int64(math.MaxInt64 / int64(24*time.Hour)) // 106751: the most whole days a time.Duration holds
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"72h", 72 * time.Hour},
		{"90m", 90 * time.Minute},
		{"5s", 5 * time.Second}, // seconds stay valid: tests wait a few seconds, not a day
		{"7d", 7 * 24 * time.Hour},
		{" 3d ", 3 * 24 * time.Hour},
		{"106751d", time.Duration(maxDays) * 24 * time.Hour},
	} {
		got, err := wallet.ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	// A number of days that overflows time.Duration once multiplied must be refused, not wrapped
	// around into some other positive duration (616385997d wraps to half a second).
	for _, in := range []string{"616385997d", "106752d", "9223372036854775807d", "99999999999999999999d", "2562048h", "soon", "0d", "-1d", "0s", "-5m", "d", "1.5d"} {
		got, err := wallet.ParseDuration(in)
		if err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
			continue
		}
		if !strings.Contains(err.Error(), "want a positive duration") {
			t.Errorf("ParseDuration(%q): error %q does not say what is allowed", in, err)
		}
	}
}

func TestFormatDurationRoundTrips(t *testing.T) {
	for _, d := range []time.Duration{168 * time.Hour, 90 * time.Minute, 5 * time.Second, 24*time.Hour + 30*time.Second} {
		s := wallet.FormatDuration(d)
		back, err := wallet.ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("FormatDuration(%v) = %q, read back as %v, %v", d, s, back, err)
		}
	}
}

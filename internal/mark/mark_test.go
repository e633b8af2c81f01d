package mark_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/mark"
)

var (
	testMac  = bytes.Repeat([]byte{0xa5}, 32)
	testDue  = time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	goodMark = "2026-12-02T13:00:00Z/paWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaU"
)

func TestFormatMarkReadsBack(t *testing.T) {
	v, err := mark.Format(testDue, testMac)
	if err != nil || v != goodMark {
		t.Fatalf("FormatMark = %q, %v; want %q", v, err, goodMark)
	}
	due, mac, err := mark.Parse(v)
	if err != nil || !due.Equal(testDue) || !bytes.Equal(mac, testMac) {
		t.Fatalf("Parse(%q) = %v, %x, %v", v, due, mac, err)
	}
	if got := mark.DueText(v); got != "2026-12-02T13:00:00Z" {
		t.Errorf("MarkDueText = %q", got)
	}
}

func TestFormatMarkRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		due  time.Time
		mac  []byte
	}{
		{"fraction", testDue.Add(time.Millisecond), testMac},
		{"short MAC", testDue, testMac[:31]},
		{"year 1", time.Time{}, testMac},
		{"year 10000", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), testMac},
	} {
		if v, err := mark.Format(tc.due, tc.mac); err == nil {
			t.Errorf("%s: FormatMark = %q, want an error", tc.name, v)
		}
	}
}

// Hostile values of the tag: none parses, each with an error that quotes it.
func TestParseMarkRefusesHostileValues(t *testing.T) {
	mac := strings.SplitN(goodMark, "/", 2)[1]
	for _, v := range []string{
		"",
		"2000-01-01T00:00:00Z",                      // the old format: a bare time, no MAC
		"0001-01-01T00:00:00Z/" + mac,               // the zero time
		"2026-12-02T13:00:00+14:00/" + mac,          // an offset
		"2026-12-02T13:00:00.5Z/" + mac,             // a fraction
		"2026-12-02t13:00:00z/" + mac,               // lower case
		"2026-02-30T13:00:00Z/" + mac,               // no such day
		"2026-12-02T24:00:00Z/" + mac,               // no such hour
		"2026-12-02T13:00:60Z/" + mac,               // a leap second
		" 2026-12-02T13:00:00Z/" + mac,              // space before
		goodMark + " ",                              // space after
		goodMark + "=",                              // padding
		"2026-12-02T13:00:00Z/" + mac[:42],          // short MAC
		"2026-12-02T13:00:00Z/" + mac + "A",         // long MAC
		"2026-12-02T13:00:00Z/" + mac[:42] + "V",    // non-canonical base64 (trailing bits set)
		"2026-12-02T13:00:00Z/" + mac[:42] + "+",    // standard, not URL, alphabet
		"2026-12-02T13:00:00Z//" + mac,              // two slashes
		"2026-12-02T13:00:00Z\n/" + mac,             // a newline
		"99999-12-02T13:00:00Z/" + mac,              // five-digit year
		"2026-12-02T13:00:00Z/" + mac + "/" + mac,   // two MACs
		strings.Repeat("2026-12-02T13:00:00Z/", 20), // long garbage
	} {
		if due, _, err := mark.Parse(v); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", v, due)
		} else if !strings.Contains(err.Error(), "mark") {
			t.Errorf("Parse(%q): error %q does not say what it refused", v, err)
		}
		if got := mark.DueText(v); got != "" {
			t.Errorf("DueText(%q) = %q, want empty", v, got)
		}
	}
}

// The message binds the table and the time: any field changed gives other bytes.
func TestMarkMessageBindsEveryField(t *testing.T) {
	arn, id := "arn:aws:dynamodb:us-east-1:123456789012:table/payroll", "2026-12-01T10:00:00.123Z"
	base := mark.Message(arn, id, testDue)
	for name, other := range map[string][]byte{
		"arn":      mark.Message(arn+"2", id, testDue),
		"identity": mark.Message(arn, "2026-12-01T10:00:00.124Z", testDue),
		"due":      mark.Message(arn, id, testDue.Add(time.Second)),
		"shifted":  mark.Message(arn+"\n"+id, "", testDue),
	} {
		if bytes.Equal(base, other) {
			t.Errorf("changing the %s gives the same message %q", name, base)
		}
	}
	if !bytes.Equal(base, mark.Message(arn, id, testDue.In(time.FixedZone("x", 3600)))) {
		t.Error("the same instant in another zone gives another message")
	}
}

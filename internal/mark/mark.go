// Package mark is the janitor's mark on a table it will delete: the value of
// wallet.TagJanitorDeleteAfter, `<due>/<MAC>`, and the signer that writes and checks it with the
// janitor's KMS HMAC key.
package mark

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The janitor's mark, the value of wallet.TagJanitorDeleteAfter: `<due>/<MAC>`, where due is an RFC 3339
// UTC time in whole seconds and MAC is base64url (unpadded) of an HMAC-SHA-256 the janitor's KMS
// key computed over MarkMessage. Anyone allowed dynamodb:TagResource can write the tag; only the
// janitor's role can compute the MAC, so a value it did not write is never believed: the table
// is marked afresh instead, and announced. The MAC binds the due time to one table (its ARN and
// its identity), so a mark copied from another table, or left by a dropped table of the same
// name, is not believed either.

// MacAlgorithm is the KMS MAC algorithm of the mark key (an HMAC_256 key).
const MacAlgorithm = "HMAC_SHA_256"

// markMacLen is the length of an HMAC-SHA-256 in bytes.
const markMacLen = 32

// maxTagValue is DynamoDB's limit on a tag value, in characters.
const maxTagValue = 256

// markRE is the only shape a mark takes. Offsets, fractions, lower-case letters, spaces and
// years outside 2000-2999 are refused before any time parsing: a value of another shape is
// not the janitor's, whatever it says.
var markRE = regexp.MustCompile(`^(2[0-9]{3}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)/([A-Za-z0-9_-]{43})$`)

// tagValueRE is what DynamoDB accepts in a tag value.
var tagValueRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// Message is the canonical message the MAC covers: the table (its ARN and its identity:
// TableId where DescribeTable returns one, else its creation time) and the due time. Fields are
// newline-separated, and none of them can hold a newline, so no two tuples give the same bytes.
func Message(tableARN, identity string, due time.Time) []byte {
	return fmt.Appendf(nil, "%s v1\n%s\n%s\n%s", wallet.TagJanitorDeleteAfter, tableARN, identity, due.UTC().Format(time.RFC3339))
}

// Due is the due time a mark is written with: whole seconds, UTC.
func Due(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// Format is the tag value for a due time and its MAC. It refuses what would not be read back
// the same (a due time with a fraction, a MAC of another length) or what DynamoDB would refuse.
func Format(due time.Time, mac []byte) (string, error) {
	if !due.Equal(Due(due)) {
		return "", fmt.Errorf("mark due time %s has a fraction of a second; want whole seconds", due.Format(time.RFC3339Nano))
	}
	if len(mac) != markMacLen {
		return "", fmt.Errorf("mark MAC is %d bytes; want %d (HMAC-SHA-256)", len(mac), markMacLen)
	}
	v := due.UTC().Format(time.RFC3339) + "/" + base64.RawURLEncoding.EncodeToString(mac)
	if len(v) > maxTagValue || !tagValueRE.MatchString(v) || !markRE.MatchString(v) {
		return "", fmt.Errorf("mark %q is not a valid tag value of the janitor's shape (<RFC 3339 UTC time in 2000-2999>/<MAC>, at most %d characters)", v, maxTagValue)
	}
	return v, nil
}

// Parse splits a mark into its due time and MAC, refusing any value not of the exact shape
// Format writes. A parsed mark is not yet believed: its MAC must be verified against the
// table it is on (Message).
func Parse(v string) (due time.Time, mac []byte, err error) {
	m := markRE.FindStringSubmatch(v)
	if m == nil {
		return time.Time{}, nil, fmt.Errorf("mark %q: want <due time, RFC 3339 UTC in whole seconds>/<MAC>, as the janitor writes it", v)
	}
	due, err = time.Parse(time.RFC3339, m[1])
	if err != nil || due.Format(time.RFC3339) != m[1] {
		return time.Time{}, nil, fmt.Errorf("mark %q: %q is not a valid time", v, m[1])
	}
	mac, err = base64.RawURLEncoding.Strict().DecodeString(m[2])
	if err != nil || len(mac) != markMacLen {
		return time.Time{}, nil, fmt.Errorf("mark %q: the MAC is not %d bytes of unpadded base64url", v, markMacLen)
	}
	return due, mac, nil
}

// DueText is the due time of a value of the mark's shape, as written, for display by those
// who cannot verify it (the sweep's report); "" when the value is not of that shape.
func DueText(v string) string {
	due, _, err := Parse(v)
	if err != nil {
		return ""
	}
	return due.Format(time.RFC3339)
}

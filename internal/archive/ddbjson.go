package archive

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB JSON is the typed form DynamoDB's own APIs and S3 export use: {"N": "1.5"},
// {"SS": ["a"]}, {"B": "<base64>"}. Numbers stay the strings DynamoDB sent, so 38 digits
// survive: nothing here goes through float64.
//
// Writing uses the SDK's own AWS JSON 1.0 serializer (attributevalue.MarshalMapJSON), the
// encoding the item travelled in. Reading does not use its counterpart: UnmarshalMapJSON turns
// an unknown type into a value the SDK later refuses to send, drops {"S": null} silently, and
// picks one of {"S": "x", "N": "1"} at random. An export is read before a table is created or
// written, so the reader here refuses all of that, and every number DynamoDB would refuse.

// MarshalItem writes an item as a DynamoDB JSON object.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	return attributevalue.MarshalMapJSON(item)
}

// UnmarshalItem reads an item written by MarshalItem (or by DynamoDB's export), refusing what
// DynamoDB would refuse to store: unknown or missing types, invalid numbers, empty or
// duplicated sets.
func UnmarshalItem(b []byte) (map[string]types.AttributeValue, error) {
	var w map[string]*wireValue
	if err := decodeStrict(b, &w); err != nil {
		return nil, err
	}
	if w == nil {
		return nil, errors.New("want an item object, got null")
	}
	return fromWireMap(w)
}

// decodeStrict decodes one JSON value into v, refusing unknown type keys and trailing data.
// One pass of encoding/json: the value a nested json.RawMessage would be scanned again at every
// level, which made reading a 14.5 MB item take seconds.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return fmt.Errorf("unknown type key %s (DynamoDB's are S, N, B, SS, NS, BS, BOOL, NULL, M and L)", name)
		}
		return err
	}
	if dec.More() {
		return errors.New("more data after the value")
	}
	return nil
}

// wireValue is a DynamoDB JSON value as encoding/json reads it: exactly one field is set.
// (encoding/json matches field names case-insensitively, so {"s": "x"} reads as {"S": "x"}.)
type wireValue struct {
	S    *string                `json:"S"`
	N    *string                `json:"N"` // a JSON string: the digits as DynamoDB wrote them
	B    *[]byte                `json:"B"`
	SS   *[]string              `json:"SS"`
	NS   *[]string              `json:"NS"`
	BS   *[][]byte              `json:"BS"`
	BOOL *bool                  `json:"BOOL"`
	NULL *bool                  `json:"NULL"`
	M    *map[string]*wireValue `json:"M"`
	L    *[]*wireValue          `json:"L"`
}

func fromWireMap(w map[string]*wireValue) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(w))
	for k, v := range w {
		av, err := fromWire(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		item[k] = av
	}
	return item, nil
}

func fromWire(w *wireValue) (types.AttributeValue, error) {
	if w == nil {
		return nil, errors.New(`want a typed value such as {"S": "x"}, got null`)
	}
	var out []types.AttributeValue
	var err error
	set := func(av types.AttributeValue, e error) {
		out = append(out, av)
		err = cmp.Or(err, e)
	}
	if w.S != nil {
		set(&types.AttributeValueMemberS{Value: *w.S}, nil)
	}
	if w.N != nil {
		_, e := ParseNumber(*w.N)
		set(&types.AttributeValueMemberN{Value: *w.N}, prefix("N", e))
	}
	if w.B != nil {
		set(&types.AttributeValueMemberB{Value: *w.B}, nil)
	}
	if w.SS != nil {
		set(&types.AttributeValueMemberSS{Value: *w.SS}, prefix("SS", distinct(*w.SS, func(s string) (string, error) { return s, nil })))
	}
	if w.NS != nil {
		// 1 and 1.0 are one number to DynamoDB, so a set holding both is refused.
		set(&types.AttributeValueMemberNS{Value: *w.NS}, prefix("NS", distinct(*w.NS, func(s string) (string, error) {
			n, err := ParseNumber(s)
			return n.String(), err
		})))
	}
	if w.BS != nil {
		set(&types.AttributeValueMemberBS{Value: *w.BS}, prefix("BS", distinct(*w.BS, func(b []byte) (string, error) { return string(b), nil })))
	}
	if w.BOOL != nil {
		set(&types.AttributeValueMemberBOOL{Value: *w.BOOL}, nil)
	}
	if w.NULL != nil {
		set(&types.AttributeValueMemberNULL{Value: *w.NULL}, nil)
	}
	if w.M != nil {
		m, e := fromWireMap(*w.M)
		set(&types.AttributeValueMemberM{Value: m}, prefix("M", e))
	}
	if w.L != nil {
		l := make([]types.AttributeValue, len(*w.L))
		var e error
		for i, v := range *w.L {
			if l[i], e = fromWire(v); e != nil {
				e = fmt.Errorf("[%d]: %w", i, e)
				break
			}
		}
		set(&types.AttributeValueMemberL{Value: l}, prefix("L", e))
	}
	switch {
	case len(out) != 1:
		return nil, fmt.Errorf(`want exactly one of S, N, B, SS, NS, BS, BOOL, NULL, M or L with a value, got %d`, len(out))
	case err != nil:
		return nil, err
	}
	return out[0], nil
}

func prefix(t string, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %w", t, err)
	}
	return nil
}

// distinct refuses what DynamoDB refuses in a set: no members, or two that are the same.
func distinct[T any](set []T, key func(T) (string, error)) error {
	if len(set) == 0 {
		return errors.New("a set may not be empty")
	}
	seen := make(map[string]bool, len(set))
	for i, m := range set {
		k, err := key(m)
		if err != nil {
			return fmt.Errorf("[%d]: %w", i, err)
		}
		if seen[k] {
			return fmt.Errorf("[%d]: a set may not hold the same member twice", i)
		}
		seen[k] = true
	}
	return nil
}

// Number is a DynamoDB number reduced to what DynamoDB compares: 1.50, +1.5 and 15E-1 are one
// number, and one key.
type Number struct {
	Neg    bool
	Digits string // significant digits, no leading or trailing zeros; "" is zero
	Exp    int    // the value is 0.Digits × 10^Exp
}

func (n Number) String() string {
	if n.Digits == "" {
		return "0"
	}
	sign := ""
	if n.Neg {
		sign = "-"
	}
	return fmt.Sprintf("%s0.%sE%d", sign, n.Digits, n.Exp)
}

// DynamoDB's number limits: 38 significant digits, magnitudes from 1E-130 to
// 9.9999999999999999999999999999999999999E+125, and zero.
const (
	maxDigits = 38
	minExp    = -129 // 0.1E-129 = 1E-130
	maxExp    = 126  // 0.99…E+126 = 9.9…E+125
)

// ParseNumber checks s is a number DynamoDB stores: an optional sign, ASCII digits with at most
// one decimal point, an optional exponent, within DynamoDB's precision and range. It accepts
// every form DynamoDB Local accepts (and returns verbatim inside lists and sets: "+1", ".5",
// "5.", "1.e5", "00"), except digits of other scripts, which no SDK writes.
func ParseNumber(s string) (Number, error) {
	bad := func(why string) (Number, error) {
		return Number{}, fmt.Errorf("%q is not a DynamoDB number: %s", s, why)
	}
	var n Number
	rest := s
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		n.Neg = rest[0] == '-'
		rest = rest[1:]
	}
	mant, exp, hasExp := strings.Cut(strings.ReplaceAll(rest, "E", "e"), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart+frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return bad("want digits with an optional sign, decimal point and exponent, such as -12.5E+3")
	}
	e := 0
	if hasExp {
		x, err := strconv.ParseInt(exp, 10, 32) // DynamoDB refuses an exponent beyond 32 bits, even for zero
		if err != nil {
			return bad("the exponent is not a whole number that fits in 32 bits")
		}
		e = int(x)
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	e += len(intPart) - (len(intPart+frac) - len(digits)) // the point's place after the leading zeros go
	n.Digits = strings.TrimRight(digits, "0")
	if n.Digits == "" {
		return Number{}, nil // zero, whatever its sign and exponent
	}
	n.Exp = e
	switch {
	case len(n.Digits) > maxDigits:
		return bad(fmt.Sprintf("%d significant digits, DynamoDB keeps at most %d", len(n.Digits), maxDigits))
	case n.Exp > maxExp:
		return bad("larger in magnitude than DynamoDB's 9.9999999999999999999999999999999999999E+125")
	case n.Exp < minExp:
		return bad("smaller in magnitude than DynamoDB's 1E-130")
	}
	return n, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

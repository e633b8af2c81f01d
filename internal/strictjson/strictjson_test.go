package strictjson_test

import (
	"strings"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/strictjson"
)

// A document a person wrote is read one way: one value of the shape asked for, not null,
// nothing after it; and what is wrong is said in words, never with Go's type names.
func TestDecodeRefusesWhatIsNotTheShapeAskedFor(t *testing.T) {
	type doc struct {
		Resources map[string]any `json:"Resources"`
		Name      string         `json:"name"`
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", []string{"empty"}},
		{"null", []string{"null"}},
		{" null \n", []string{"null"}},
		{`{"Resources": {}} trailing`, []string{"more after the first JSON value"}},
		{`{"Resources": {}}{"Resources": {}}`, []string{"more after the first JSON value"}},
		{`[1, 2]`, []string{"valid JSON of another shape", "an array, not an object"}},
		{`{"Resources": 5}`, []string{"valid JSON of another shape", `"Resources" is a number, which is not an object`}},
		{`{"name": true}`, []string{`"name" is bool, which is not a string`}},
		{`{"Resources": {`, []string{"truncated"}},
		{`{x}`, []string{"not JSON (at byte 2"}},
		{`{"other": 1}`, []string{"an unknown field"}},
	} {
		var d doc
		err := strictjson.Decode([]byte(tc.in), &d, "the document", strictjson.Options{DisallowUnknownFields: true})
		if err == nil {
			t.Errorf("%q accepted", tc.in)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: %q lacks %q", tc.in, err, w)
			}
		}
		if strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "map[") || strings.Contains(err.Error(), "struct") {
			t.Errorf("%q: %q names a Go type", tc.in, err)
		}
	}
	var d doc
	if err := strictjson.Decode([]byte(`{"Resources": {"T": {}}, "name": "x"}`), &d, "the document", strictjson.Options{}); err != nil || d.Name != "x" {
		t.Fatalf("a good document: %+v %v", d, err)
	}
}

// Package strictjson reads a JSON document a person may have written or edited (a template, an
// export's metadata, a queue message, a plan) strictly: exactly one value, of the shape asked
// for, nothing after it, and not null; and says what is wrong in words, without Go's type names,
// so a message can be read by the person who wrote the file.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Options tune a Decode.
type Options struct {
	// UseNumber keeps numbers as written (json.Number), not float64.
	UseNumber bool
	// DisallowUnknownFields refuses an object field the shape does not name.
	DisallowUnknownFields bool
}

// Decode reads exactly one JSON value from data into v (a pointer), refusing null, trailing data
// and a value of another shape; want says in words what the document should be, for the error
// ("a CloudFormation template, a JSON object").
func Decode(data []byte, v any, want string, o Options) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if o.UseNumber {
		dec.UseNumber()
	}
	if o.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("empty: want %s", want)
	}
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return fmt.Errorf("null: want %s", want)
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: want %s", Problem(err), want)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("more after the first JSON value (at byte %d): want %s alone", dec.InputOffset(), want)
	}
	return nil
}

// Problem says what is wrong with a JSON document in words, without Go's type names.
func Problem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("not JSON (at byte %d: %s)", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Sprintf("valid JSON of another shape: %q is %s, which is not %s", typ.Field, article(typ.Value), kind(typ.Type))
	case errors.As(err, &typ):
		return fmt.Sprintf("valid JSON of another shape: %s, not %s", article(typ.Value), kind(typ.Type))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "not JSON (it ends too early: truncated?)"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "an unknown field " + f
	}
	return msg
}

func article(v string) string {
	switch v {
	case "array", "object", "number", "string":
		if v == "array" || v == "object" {
			return "an " + v
		}
		return "a " + v
	}
	return v
}

// kind names a Go type as JSON would.
func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a number"
	}
	return "what is expected there"
}

package archive

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB JSON is the typed form DynamoDB's own APIs and S3 export use: {"N": "1.5"},
// {"SS": ["a"]}, {"B": "<base64>"}. Numbers stay the strings DynamoDB sent, so 38 digits
// survive: nothing here goes through float64.

// MarshalItem writes an item as a DynamoDB JSON object.
func MarshalItem(item map[string]types.AttributeValue) ([]byte, error) {
	m, err := encodeMap(item)
	if err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// UnmarshalItem reads an item written by MarshalItem (or by DynamoDB's export).
func UnmarshalItem(b []byte) (map[string]types.AttributeValue, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	return decodeMap(raw)
}

func encodeMap(item map[string]types.AttributeValue) (map[string]any, error) {
	m := make(map[string]any, len(item))
	for k, v := range item {
		e, err := encode(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		m[k] = e
	}
	return m, nil
}

func encode(av types.AttributeValue) (map[string]any, error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}, nil
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}, nil
	case *types.AttributeValueMemberB:
		return map[string]any{"B": nonNil(v.Value)}, nil // encoding/json writes []byte as base64
	case *types.AttributeValueMemberSS:
		return map[string]any{"SS": nonNil(v.Value)}, nil
	case *types.AttributeValueMemberNS:
		return map[string]any{"NS": nonNil(v.Value)}, nil
	case *types.AttributeValueMemberBS:
		return map[string]any{"BS": nonNil(v.Value)}, nil
	case *types.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}, nil
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}, nil
	case *types.AttributeValueMemberM:
		m, err := encodeMap(v.Value)
		if err != nil {
			return nil, err
		}
		return map[string]any{"M": m}, nil
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			x, err := encode(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			l[i] = x
		}
		return map[string]any{"L": l}, nil
	default:
		return nil, fmt.Errorf("unknown attribute value type %T", av)
	}
}

// nonNil keeps an empty list an empty list: a nil slice would be written as null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func decodeMap(raw map[string]json.RawMessage) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(raw))
	for k, r := range raw {
		av, err := decode(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		item[k] = av
	}
	return item, nil
}

func decode(r json.RawMessage) (types.AttributeValue, error) {
	var typed map[string]json.RawMessage
	if err := json.Unmarshal(r, &typed); err != nil {
		return nil, fmt.Errorf("want a typed value such as {\"S\": \"x\"}: %w", err)
	}
	if len(typed) != 1 {
		return nil, fmt.Errorf("want exactly one type key, got %d", len(typed))
	}
	for t, v := range typed {
		av, err := decodeTyped(t, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		return av, nil
	}
	return nil, nil // unreachable: typed has one key
}

func decodeTyped(t string, v json.RawMessage) (types.AttributeValue, error) {
	var err error
	switch t {
	case "S":
		var x string
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberS{Value: x}, err
	case "N":
		var x string // a JSON string: the digits as DynamoDB wrote them
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberN{Value: x}, err
	case "B":
		var x []byte
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberB{Value: x}, err
	case "SS":
		var x []string
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberSS{Value: x}, err
	case "NS":
		var x []string
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberNS{Value: x}, err
	case "BS":
		var x [][]byte
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberBS{Value: x}, err
	case "BOOL":
		var x bool
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberBOOL{Value: x}, err
	case "NULL":
		var x bool
		err = json.Unmarshal(v, &x)
		return &types.AttributeValueMemberNULL{Value: x}, err
	case "M":
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(v, &raw); err != nil {
			return nil, err
		}
		m, err := decodeMap(raw)
		return &types.AttributeValueMemberM{Value: m}, err
	case "L":
		var raw []json.RawMessage
		if err := json.Unmarshal(v, &raw); err != nil {
			return nil, err
		}
		l := make([]types.AttributeValue, len(raw))
		for i, r := range raw {
			if l[i], err = decode(r); err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	default:
		return nil, fmt.Errorf("unknown DynamoDB type %q", t)
	}
}

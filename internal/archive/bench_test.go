package archive

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// worstItem is the item with the largest DynamoDB JSON that DynamoDB Local accepts (see
// testWorstInflationItemsRoundTrip): 102397 numbers of 133 characters, a 14.5 MB line.
func worstItem() map[string]types.AttributeValue {
	return with(key("a", 1), "v", list(102397, func(int) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: plainNumber(1, -130, true)}
	}))
}

func BenchmarkMarshalWorstItem(b *testing.B) {
	item := worstItem()
	line, _ := marshalLine(item)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := marshalLine(item); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadWorstItem(b *testing.B) {
	line, _ := marshalLine(worstItem())
	path := filepath.Join(b.TempDir(), ItemsFile)
	if err := os.WriteFile(path, line, 0o600); err != nil {
		b.Fatal(err)
	}
	s := schemaOf([]Key{{"pk", "HASH"}, {"sk", "RANGE"}}, []Attribute{{"pk", "S"}, {"sk", "N"}})
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := readItems(b.Context(), path, s, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalWorstItem(b *testing.B) {
	js, _ := MarshalItem(worstItem())
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalItem(js); err != nil {
			b.Fatal(err)
		}
	}
}

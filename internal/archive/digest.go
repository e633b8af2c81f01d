package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math/big"
	"path/filepath"
	"slices"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// contentDigest says whether two exports hold the same items, whatever the order of the lines
// and of the attributes inside each (the SDK's encoder writes a map's attributes in Go's random
// map order, and a scan promises no order): the sum, modulo 2^256, of the SHA-256 of each item
// in a canonical form. items.jsonl's own SHA-256 still guards each file against damage.
type contentDigest struct {
	sum *big.Int
	h   hash.Hash
}

var mod256 = new(big.Int).Lsh(big.NewInt(1), 256)

func newContentDigest() *contentDigest { return &contentDigest{sum: new(big.Int), h: sha256.New()} }

// add is a readItems callback.
func (d *contentDigest) add(item map[string]types.AttributeValue, _ int) error {
	d.h.Reset()
	canonical(d.h, &types.AttributeValueMemberM{Value: item})
	d.sum.Add(d.sum, new(big.Int).SetBytes(d.h.Sum(nil)))
	d.sum.Mod(d.sum, mod256)
	return nil
}

func (d *contentDigest) String() string { return hex.EncodeToString(d.sum.FillBytes(make([]byte, 32))) }

// canonical writes v so that equal values, as DynamoDB compares them, write equal bytes: map
// keys and set members sorted, numbers by value, every string and binary length-prefixed.
func canonical(w hash.Hash, v types.AttributeValue) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		fmt.Fprintf(w, "S%d:%s", len(x.Value), x.Value)
	case *types.AttributeValueMemberN:
		fmt.Fprintf(w, "N%s;", number(x.Value))
	case *types.AttributeValueMemberB:
		fmt.Fprintf(w, "B%d:%s", len(x.Value), x.Value)
	case *types.AttributeValueMemberBOOL:
		fmt.Fprintf(w, "T%t;", x.Value)
	case *types.AttributeValueMemberNULL:
		fmt.Fprint(w, "0;")
	case *types.AttributeValueMemberSS:
		set(w, "SS", x.Value, func(s string) string { return fmt.Sprintf("%d:%s", len(s), s) })
	case *types.AttributeValueMemberNS:
		set(w, "NS", x.Value, number)
	case *types.AttributeValueMemberBS:
		set(w, "BS", x.Value, func(b []byte) string { return fmt.Sprintf("%d:%s", len(b), b) })
	case *types.AttributeValueMemberL:
		fmt.Fprintf(w, "L%d[", len(x.Value))
		for _, e := range x.Value {
			canonical(w, e)
		}
		fmt.Fprint(w, "]")
	case *types.AttributeValueMemberM:
		names := make([]string, 0, len(x.Value))
		for k := range x.Value {
			names = append(names, k)
		}
		sort.Strings(names)
		fmt.Fprintf(w, "M%d{", len(names))
		for _, k := range names {
			fmt.Fprintf(w, "%d:%s", len(k), k)
			canonical(w, x.Value[k])
		}
		fmt.Fprint(w, "}")
	default:
		fmt.Fprintf(w, "?%T;", v)
	}
}

func set[T any](w hash.Hash, kind string, members []T, enc func(T) string) {
	s := make([]string, len(members))
	for i, m := range members {
		s[i] = enc(m)
	}
	slices.Sort(s)
	fmt.Fprintf(w, "%s%d[", kind, len(s))
	for _, m := range s {
		fmt.Fprintf(w, "%s;", m)
	}
	fmt.Fprint(w, "]")
}

// number is a number by value (1.0 and 1 are one number to DynamoDB); the reader has checked it.
func number(s string) string {
	n, err := ParseNumber(s)
	if err != nil {
		return s
	}
	return n.String()
}

// Digested is an export's items as Digest reads them: how many, the checksum of items.jsonl, and
// the order-free digest of their content.
type Digested struct {
	Items  int64
	SHA256 string
	// Content is the order-free digest (the sum of each item's SHA-256 in a canonical form):
	// equal for two sets of equal items, whatever the order of lines and attributes.
	Content string
}

// Digest reads the finished export in dir whole, with restore's reader, and returns its count,
// checksum and order-free content digest; an export that does not read as its metadata.json
// says (damaged, cut short) is an error. What a deletion's record keeps, and what `verify undo`
// compares a restored table with (TableDigest).
func Digest(ctx context.Context, dir string) (*Metadata, Digested, error) {
	md, err := ReadMetadata(dir)
	if err != nil {
		return nil, Digested{}, err
	}
	content := newContentDigest()
	n, sum, err := readItems(ctx, filepath.Join(dir, ItemsFile), schemaOf(md.KeySchema, md.AttributeDefinitions), content.add)
	switch {
	case err != nil:
		return md, Digested{}, fmt.Errorf("export %s: %w", dir, err)
	case n != md.ItemCount || sum != md.ItemsSHA256:
		return md, Digested{}, refuse("export %s: %s has %d items with sha256 %s, %s says %d with sha256 %s: it is damaged", dir, ItemsFile, n, sum, MetadataFile, md.ItemCount, md.ItemsSHA256)
	}
	return md, Digested{Items: n, SHA256: sum, Content: content.String()}, nil
}

// TableDigest scans table with consistent reads and returns how many items it holds and their
// order-free content digest, the one Digest gives an export of the same items.
func TableDigest(ctx context.Context, db Scanner, table string) (int64, string, error) {
	content := newContentDigest()
	var n int64
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, "", fmt.Errorf("scan %s: %w", table, err)
		}
		for _, item := range page.Items {
			_ = content.add(item, 0)
			n++
		}
	}
	return n, content.String(), nil
}

// Count counts a table's items with consistent reads, reading none of them (Scan with Select
// COUNT): what a deletion's record says the table held, and a restore must hold again.
func Count(ctx context.Context, db Scanner, table string) (int64, error) {
	var n int64
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), Select: types.SelectCount})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("count the items of %s: %w", table, err)
		}
		n += int64(page.Count)
	}
	return n, nil
}

// Scanner is the one call TableDigest and Count make.
type Scanner interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

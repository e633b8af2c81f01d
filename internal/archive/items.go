package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxLineBytes bounds one line of items.jsonl, so that a damaged or foreign file gives an error
// instead of taking all memory. DynamoDB counts a number as about one byte per two significant
// digits plus one, but returns it written out: -1E-130 is 133 characters. In a number set that
// is 136 bytes of JSON for as little as one byte counted, so a 400 KB item can take at most
// about 400 KB × 136 ≈ 54 MB; 64 MiB leaves a margin. (The worst item DynamoDB Local accepts
// takes 14.5 MB: see TestWorstInflationItemsRoundTrip.)
const MaxLineBytes = 64 << 20

// itemLine is one line of items.jsonl, shaped as DynamoDB's S3 export writes it.
type itemLine struct {
	Item map[string]*wireValue `json:"Item"`
}

func marshalLine(item map[string]types.AttributeValue) ([]byte, error) {
	b, err := MarshalItem(item)
	if err != nil {
		return nil, err
	}
	line := make([]byte, 0, len(b)+10)
	line = append(line, `{"Item":`...)
	line = append(line, b...)
	return append(line, "}\n"...), nil
}

func unmarshalLine(b []byte) (map[string]types.AttributeValue, error) {
	var l itemLine
	if err := decodeStrict(b, &l); err != nil {
		return nil, fmt.Errorf("want {\"Item\": {...}}: %w", err)
	}
	if l.Item == nil {
		return nil, errors.New(`want {"Item": {...}}, found no "Item"`)
	}
	return fromWireMap(l.Item)
}

// lineReader reads items.jsonl a line at a time, each at most MaxLineBytes, hashing every byte.
type lineReader struct {
	r   *bufio.Reader
	sum hash.Hash
	n   int64 // lines read so far
	buf []byte
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 1<<20), sum: sha256.New()}
}

// next returns the next line without its newline; io.EOF after the last.
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if len(lr.buf)+len(chunk) > MaxLineBytes+1 {
			return nil, fmt.Errorf("line %d is longer than %d MiB, more than any DynamoDB item takes: not an export this tool wrote", lr.n+1, MaxLineBytes>>20)
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == nil:
			lr.n++
			lr.sum.Write(lr.buf)
			return lr.buf[:len(lr.buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(lr.buf) == 0:
			return nil, io.EOF
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("line %d does not end with a newline: the file was cut short", lr.n+1)
		default:
			return nil, err
		}
	}
}

// readItems is the one reader of items.jsonl: restore reads with it, and export reads what it
// wrote back with it before a deletion may depend on the file. Each line is decoded and checked
// against s (numbers, sets, key attributes and their types), then handed to each (if not nil)
// with its size in bytes. It returns the count and SHA-256 of the whole file, or the first bad
// line, by number.
func readItems(ctx context.Context, path string, s schema, each func(item map[string]types.AttributeValue, size int) error) (int64, string, error) {
	f, err := openRegular(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	lr := newLineReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return lr.n, "", err
		}
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return lr.n, hex.EncodeToString(lr.sum.Sum(nil)), nil
		}
		if err != nil {
			return lr.n, "", fmt.Errorf("%s: %w", path, err)
		}
		item, err := unmarshalLine(line)
		if err == nil {
			err = s.check(item)
		}
		if err != nil {
			return lr.n, "", fmt.Errorf("%s line %d: %w", path, lr.n, err)
		}
		if each != nil {
			if err := each(item, len(line)+1); err != nil {
				return lr.n, "", err
			}
		}
	}
}

// openRegular opens path for reading only if it is a regular file (a symbolic link to one is
// fine). A FIFO nobody writes to would block open and every read beyond any deadline or signal,
// and a device such as /dev/zero never ends: both are refused, without blocking. The file is
// opened non-blocking and checked with fstat, so it cannot be swapped between the check and
// the open; on a regular file the flag changes nothing.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is a %s, not a regular file: an export is made of files", path, fileKind(st.Mode()))
	}
	return f, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&fs.ModeDevice != 0, m&fs.ModeCharDevice != 0:
		return "device"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m.IsDir():
		return "directory"
	}
	return "special file"
}

// keyOf is an item's key as one comparable string: numbers by value, so 1.0 and 1 are one key,
// as they are to DynamoDB.
func keyOf(item map[string]types.AttributeValue, ks []Key) string {
	var b strings.Builder
	for _, k := range ks {
		switch v := item[k.AttributeName].(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "S%d:%s", len(v.Value), v.Value)
		case *types.AttributeValueMemberB:
			fmt.Fprintf(&b, "B%d:%s", len(v.Value), v.Value)
		case *types.AttributeValueMemberN:
			n, _ := ParseNumber(v.Value) // checked when the line was read
			fmt.Fprintf(&b, "N%s;", n)
		default:
			fmt.Fprintf(&b, "?%T;", v)
		}
	}
	return b.String()
}

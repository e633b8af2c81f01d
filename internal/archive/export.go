package archive

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Export scans the whole table with consistent reads into dir, which must not exist or be
// empty. It writes under a temporary name beside dir, reads items.jsonl back with the reader
// restore uses (count and checksum), writes metadata.json, and only then renames the directory
// into place: a deletion that depends on the export never depends on a file restore cannot
// read. A failed export removes what it created, and nothing else.
func Export(ctx context.Context, db DynamoDB, table, dir string) (*Metadata, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	if err := checkExportDir(dir); err != nil {
		return nil, err
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("export %s: describe: %w", table, err)
	}
	md := metadataFrom(desc.Table)
	parent := filepath.Dir(dir)
	created, err := mkdirs(parent)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*.partial")
	if err != nil {
		removeDirs(created)
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp) // ours alone: its name is unique to this run
			removeDirs(created)
		}
	}()

	items := filepath.Join(tmp, ItemsFile)
	n, sum, err := scanInto(ctx, db, table, items)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	back, backSum, err := readItems(ctx, items, schemaOf(md.KeySchema, md.AttributeDefinitions), nil)
	if err != nil {
		return nil, fmt.Errorf("export %s: the written items do not read back: %w", table, err)
	}
	if back != n || backSum != sum {
		return nil, fmt.Errorf("export %s: wrote %d items with sha256 %s, read back %d with sha256 %s", table, n, sum, back, backSum)
	}
	md.ItemCount, md.ItemsSHA256, md.ExportedAt = n, sum, time.Now().UTC()
	if err := writeMetadata(tmp, md); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	if err := syncDir(tmp); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	// rename(2) replaces only a missing or empty directory, so two exports into one directory
	// cannot both land there.
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("export %s: %s was filled while exporting (another export into it?): %w", table, dir, err)
	}
	done = true
	if err := syncDir(parent); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	return md, nil
}

// checkExportDir refuses, before any scan, a dir that already holds an export or anything else.
func checkExportDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return refuse("export into %s: %w", dir, err)
	case !st.IsDir():
		return refuse("export into %s: it is a file, not a directory", dir)
	}
	if _, err := os.Stat(filepath.Join(dir, MetadataFile)); err == nil {
		return refuse("export into %s: it already holds an export; choose another directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return refuse("export into %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return refuse("export into %s: it is not empty (%s, but no %s); an export goes into a new or empty directory", dir, entries[0].Name(), MetadataFile)
	}
	return nil
}

// scanInto writes every item of table to path, one line each, and returns the count and the
// SHA-256 of what it wrote.
func scanInto(ctx context.Context, db DynamoDB, table, path string) (int64, string, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	sum := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, sum), 1<<20)
	var n int64
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return n, "", fmt.Errorf("scan: %w", err)
		}
		for _, item := range page.Items {
			line, err := marshalLine(item)
			if err != nil {
				return n, "", fmt.Errorf("item %d: %w", n+1, err)
			}
			if _, err := w.Write(line); err != nil {
				return n, "", err
			}
			n++
		}
	}
	if err := w.Flush(); err != nil {
		return n, "", err
	}
	if err := f.Sync(); err != nil {
		return n, "", err
	}
	return n, hex.EncodeToString(sum.Sum(nil)), f.Close()
}

// mkdirs creates dir and its missing parents and returns those it created, outermost first, so
// that a failed export removes exactly them.
func mkdirs(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	slices.Reverse(missing)
	var created []string
	for _, d := range missing {
		if err := os.Mkdir(d, 0o700); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue // made meanwhile by someone else: not ours to remove
			}
			removeDirs(created)
			return nil, err
		}
		created = append(created, d)
	}
	return created, nil
}

// removeDirs removes created directories, innermost first; os.Remove leaves any that another
// run has put something into since.
func removeDirs(created []string) {
	for _, d := range slices.Backward(created) {
		_ = os.Remove(d)
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

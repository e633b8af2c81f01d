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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Export scans the whole table with consistent reads into dir, which must not exist or be
// empty. It writes under a temporary name beside dir, reads items.jsonl back with the reader
// restore uses (count and checksum), writes metadata.json, and only then renames the directory
// into place: a deletion that depends on the export never depends on a file restore cannot
// read. A failed export removes what it created, and nothing else.
//
// A dir that already holds a complete export of this very table (its ARN, and its TableId, or
// its creation time where DynamoDB gives no TableId) is accepted when the table still reads
// exactly as exported: a run killed between its export and the deletion can be run again. An
// export of another table under the same name, or one that does not say which table it is, is
// refused. Leftovers of killed exports (.<table>.*.partial beside dir) are named in errors and
// in Exported.Leftovers, never removed: another run may still be writing one.
func Export(ctx context.Context, db DynamoDB, table, dir string) (*Exported, error) {
	return ExportWith(ctx, db, table, dir, ExportOptions{})
}

// ExportOptions tune an export.
type ExportOptions struct {
	// Progress, when set, is told how far the export has got: the items scanned, then read
	// back, of about total (DescribeTable's item count, which DynamoDB updates every six hours
	// or so; 0 when it says none).
	Progress func(stage string, done, total int64)
}

// Export stages, as Progress names them.
const (
	StageScan     = "scanned"
	StageReadBack = "read back"
)

func (o ExportOptions) progress(stage string, total int64) func(done int64) {
	if o.Progress == nil {
		return func(int64) {}
	}
	return func(done int64) { o.Progress(stage, done, total) }
}

// ExportWith is Export, told how far it has got (ExportOptions).
func ExportWith(ctx context.Context, db DynamoDB, table, dir string, o ExportOptions) (*Exported, error) {
	if err := checkTableName(table); err != nil {
		return nil, err
	}
	leftovers := Leftovers(dir)
	prior, err := checkExportDir(dir)
	if err != nil {
		return nil, withLeftovers(err, leftovers)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, fmt.Errorf("export %s: describe: %w", table, err)
	}
	md := metadataFrom(desc.Table)
	var priorContent string
	if prior != nil {
		if priorContent, err = checkPrior(ctx, dir, prior, md); err != nil {
			return nil, withLeftovers(err, leftovers)
		}
	}
	s, err := stage(dir)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	defer s.discard()
	about := aws.ToInt64(desc.Table.ItemCount)
	n, sum, content, err := scanReadBack(ctx, db, table, filepath.Join(s.tmp, ItemsFile), md, o.progress(StageScan, about), o.progress(StageReadBack, about))
	if err != nil {
		return nil, err
	}
	if err := unreplaced(ctx, db, table, md); err != nil {
		return nil, err
	}
	if prior != nil {
		return reuse(table, dir, prior, priorContent, n, content, leftovers)
	}
	md.ItemCount, md.ItemsSHA256, md.ExportedAt = n, sum, time.Now().UTC()
	if err := s.commit(md); err != nil {
		return nil, fmt.Errorf("export %s: %w", table, err)
	}
	return &Exported{Metadata: md, Dir: dir, Leftovers: leftovers}, nil
}

// reuse keeps the earlier export in dir when the table still reads as it (n items of content,
// in whatever order the scan and the encoder gave them), and refuses it otherwise: this scan
// only showed whether it still holds the table's items.
func reuse(table, dir string, prior *Metadata, priorContent string, n int64, content string, leftovers []string) (*Exported, error) {
	if n != prior.ItemCount || content != priorContent {
		return nil, withLeftovers(refuse("export %s: %s holds an export of this table from %s (%d items), but the table now reads as %d items with other content: "+
			"it changed since. Move that export away to export the table again", table, dir, prior.ExportedAt.Format(time.RFC3339), prior.ItemCount, n), leftovers)
	}
	return &Exported{Metadata: prior, Dir: dir, Reused: true, Leftovers: leftovers}, nil
}

// scanReadBack scans the table into items, then reads the file back with the reader restore
// uses: the count and checksum it reads must be those written. It returns them, and the digest
// of the items' content (independent of their order) to compare with an earlier export.
// scanned and readBack are told how many items each has got through.
func scanReadBack(ctx context.Context, db DynamoDB, table, items string, md *Metadata, scanned, readBack func(int64)) (n int64, sum, content string, err error) {
	n, sum, err = scanInto(ctx, db, table, items, scanned)
	if err != nil {
		return 0, "", "", fmt.Errorf("export %s: %w", table, err)
	}
	digest := newContentDigest()
	var read int64
	back, backSum, err := readItems(ctx, items, schemaOf(md.KeySchema, md.AttributeDefinitions), func(item map[string]types.AttributeValue, size int) error {
		if read++; read%progressEvery == 0 {
			readBack(read)
		}
		return digest.add(item, size)
	})
	readBack(read)
	if err != nil {
		return 0, "", "", fmt.Errorf("export %s: the written items do not read back: %w", table, err)
	}
	if back != n || backSum != sum {
		return 0, "", "", fmt.Errorf("export %s: wrote %d items with sha256 %s, read back %d with sha256 %s", table, n, sum, back, backSum)
	}
	return n, sum, digest.String(), nil
}

// staging is the temporary directory an export writes into beside its dir, and the parent
// directories made for it: discard removes them all unless commit renamed it into place.
type staging struct {
	dir, tmp  string
	created   []string
	committed bool
}

func stage(dir string) (*staging, error) {
	parent := filepath.Dir(dir)
	created, err := mkdirs(parent)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".*"+partialSuffix)
	if err != nil {
		removeDirs(created)
		return nil, err
	}
	return &staging{dir: dir, tmp: tmp, created: created}, nil
}

func (s *staging) discard() {
	if !s.committed {
		_ = os.RemoveAll(s.tmp) // ours alone: its name is unique to this run
		removeDirs(s.created)
	}
}

// commit writes metadata.json last, syncs, and renames the staging directory into place.
func (s *staging) commit(md *Metadata) error {
	if err := writeMetadata(s.tmp, md); err != nil {
		return err
	}
	if err := syncDir(s.tmp); err != nil {
		return err
	}
	// rename(2) replaces only a missing or empty directory, so two exports into one directory
	// cannot both land there.
	if err := os.Rename(s.tmp, s.dir); err != nil {
		return fmt.Errorf("%s was filled while exporting (another export into it?): %w", s.dir, err)
	}
	s.committed = true
	return syncDir(filepath.Dir(s.dir))
}

// Exported is what an export left in Dir.
type Exported struct {
	*Metadata
	Dir string
	// Reused is true when Dir already held a complete export of this table, and the table
	// still read exactly as that export: it was kept as it was.
	Reused bool
	// Leftovers are the temporary directories of exports that were killed (or are running):
	// see Leftovers.
	Leftovers []string
}

// partialSuffix ends the name of the temporary directory an export writes into.
const partialSuffix = ".partial"

// Leftovers lists the temporary directories (.<table>.*.partial beside dir) of exports into dir
// that did not finish: a kill -9 leaves one behind. Nothing removes them, as one may belong to
// an export still running; the user, who knows, can.
func Leftovers(dir string) []string {
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+globEscape(filepath.Base(dir))+".*"+partialSuffix))
	return matches
}

// globEscape quotes the characters filepath.Match treats specially; a table name has none of
// them, but dir's base need not be a table name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// withLeftovers adds to a refusal the leftovers of killed exports, so the user knows what to
// remove.
func withLeftovers(err error, leftovers []string) error {
	if len(leftovers) == 0 {
		return err
	}
	note := fmt.Sprintf(" (left by exports that did not finish, if none is running now: %s; remove them by hand)", strings.Join(leftovers, ", "))
	var r *Refused
	if errors.As(err, &r) {
		return &Refused{fmt.Errorf("%w%s", r.Err, note)}
	}
	return fmt.Errorf("%w%s", err, note)
}

// checkExportDir refuses, before any scan, a dir that is a symbolic link, a file, or a
// directory holding anything but an export. It returns the metadata of the export it holds,
// if any, for the caller to match to the table.
func checkExportDir(dir string) (*Metadata, error) {
	st, err := os.Lstat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, refuse("export into %s: %w", dir, err)
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, refuse("export into %s: it is a symbolic link; an export goes into a new or empty directory of its own, so remove the link or choose another directory", dir)
	case !st.IsDir():
		return nil, refuse("export into %s: it is a file, not a directory", dir)
	}
	if _, err := os.Lstat(filepath.Join(dir, MetadataFile)); err == nil {
		md, err := ReadMetadata(dir)
		if err != nil {
			return nil, refuse("export into %s: it already holds an export that cannot be read (%w); choose another directory", dir, err)
		}
		return md, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, refuse("export into %s: %w", dir, err)
	}
	if len(entries) > 0 {
		return nil, refuse("export into %s: it is not empty (%s, but no %s); an export goes into a new or empty directory", dir, entries[0].Name(), MetadataFile)
	}
	return nil, nil
}

// checkPrior accepts the export dir already holds only if it is of the table md describes (the
// same identity, not merely the same name) and complete: every line read by restore's reader,
// its count and checksum those of its metadata. It returns the digest of the items it holds.
func checkPrior(ctx context.Context, dir string, prior, md *Metadata) (string, error) {
	if err := prior.sameTable(md); err != nil {
		return "", refuse("export into %s: it already holds an export, %v; choose another directory", dir, err)
	}
	path := filepath.Join(dir, ItemsFile)
	content := newContentDigest()
	n, sum, err := readItems(ctx, path, schemaOf(prior.KeySchema, prior.AttributeDefinitions), content.add)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return "", refuse("export into %s: it already holds an export of this table, but it is damaged: %w; move it away to export again", dir, err)
	case n != prior.ItemCount || sum != prior.ItemsSHA256:
		return "", refuse("export into %s: it already holds an export of this table, but %s has %d items with sha256 %s where %s says %d with sha256 %s: it is damaged; move it away to export again",
			dir, ItemsFile, n, sum, MetadataFile, prior.ItemCount, prior.ItemsSHA256)
	}
	return content.String(), nil
}

// scanInto writes every item of table to path, one line each, and returns the count and the
// SHA-256 of what it wrote.
// progressEvery is how many items read back make a step of progress: a page of a scan is one.
const progressEvery = 1000

func scanInto(ctx context.Context, db DynamoDB, table, path string, scanned func(int64)) (int64, string, error) {
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
		scanned(n)
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

// unreplaced proves the table the scan read is still the one described before it: a Scan reads
// by name, so a table dropped and made again meanwhile would leave items of two tables under one
// table's metadata. Such an export is discarded, never kept.
func unreplaced(ctx context.Context, db DynamoDB, table string, md *Metadata) error {
	now, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("export %s: describe after the scan: %w", table, err)
	}
	if err := md.sameTable(metadataFrom(now.Table)); err != nil {
		return fmt.Errorf("export %s: the table was replaced while it was read (the export read was %s): nothing kept; export again", table, err)
	}
	return nil
}

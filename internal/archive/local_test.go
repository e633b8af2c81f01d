package archive

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/faultproxy"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// The integration tests TestOnDynamoDBLocal runs.

func key(pk string, sk int) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberN{Value: fmt.Sprint(sk)}}
}

func with(item map[string]types.AttributeValue, name string, v types.AttributeValue) map[string]types.AttributeValue {
	item[name] = v
	return item
}

func put(t *testing.T, db *dynamodb.Client, table string, items ...map[string]types.AttributeValue) {
	t.Helper()
	for _, it := range items {
		if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatalf("put into %s: %v", table, err)
		}
	}
}

// wallets are n small items, like the tutorial's.
func wallets(n int) []map[string]types.AttributeValue {
	var items []map[string]types.AttributeValue
	for i := range n {
		items = append(items, with(key(fmt.Sprintf("user-%03d", i), i), "balance", &types.AttributeValueMemberN{Value: fmt.Sprint(i * 10)}))
	}
	return items
}

// exported creates table with items, exports it into a new directory and returns that.
func exported(t *testing.T, db *dynamodb.Client, table string, items []map[string]types.AttributeValue) string {
	t.Helper()
	createTable(t, db, table)
	put(t, db, table, items...)
	dir := Dir(t.TempDir(), table)
	if _, err := Export(t.Context(), db, table, dir); err != nil {
		t.Fatalf("export %s: %v", table, err)
	}
	return dir
}

func exists(t *testing.T, db *dynamodb.Client, table string) bool {
	t.Helper()
	_, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func deleteTable(t *testing.T, db *dynamodb.Client, table string) {
	t.Helper()
	if _, err := db.DeleteTable(t.Context(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableNotExistsWaiter(db).Wait(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// rewriteItems edits items.jsonl and then fixes metadata.json's count and checksum, as a
// hostile user (or a buggy writer) could: the checksum guards against accidents, not intent,
// so the reader must find the bad line itself.
func rewriteItems(t *testing.T, dir string, edit func(lines []string) []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := edit(strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"))
	out := []byte(strings.Join(lines, "\n") + "\n")
	if err := os.WriteFile(filepath.Join(dir, ItemsFile), out, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(out)
	rewriteMetadata(t, dir, func(md map[string]any) {
		md["item_count"], md["items_sha256"] = len(lines), hex.EncodeToString(sum[:])
	})
}

// rewriteMetadata edits metadata.json as JSON, so a test can write what Metadata cannot hold.
func rewriteMetadata(t *testing.T, dir string, edit func(md map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, MetadataFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var md map[string]any
	if err := json.Unmarshal(b, &md); err != nil {
		t.Fatal(err)
	}
	edit(md)
	if b, err = json.Marshal(md); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies an export, so one export can be damaged in several ways.
func copyDir(t *testing.T, dir string) string {
	t.Helper()
	to := Dir(t.TempDir(), filepath.Base(dir))
	if err := os.CopyFS(to, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	return to
}

// testNumbersAgreeWithDynamoDB holds ParseNumber to DynamoDB Local's own answers: restore
// refuses exactly the numbers DynamoDB would refuse halfway through.
func testNumbersAgreeWithDynamoDB(t *testing.T, db *dynamodb.Client) {
	createTable(t, db, "numbers")
	cases := []string{"0", "-0", "00", "+1", ".5", "-.5", "5.", "1.e5", "1e5", "00001.5000", "0.000",
		"1E+125", "9.9999999999999999999999999999999999999E+125", "1E+126", "10E+125", "1E-130", "0.1E-129", "10E-131", "1E-131",
		strings.Repeat("9", 38), strings.Repeat("9", 39), "1" + strings.Repeat("0", 38), "1" + strings.Repeat("0", 37) + "1",
		"1" + strings.Repeat("0", 125), "1" + strings.Repeat("0", 126), "-0." + strings.Repeat("0", 129) + "1", "0." + strings.Repeat("0", 130) + "1",
		"0.0e999999", "0e99999999999999999999", "1e0125", "1e-0130",
		"", " 1", "1 ", "0x1", "NaN", "Infinity", "1_000", "--1", "+-1", "1e", "e5", ".", "-", "+", "1.2.3", "1E+", "1e5e5", "1,5"}
	for _, c := range cases {
		item := with(key("n", 1), "v", &types.AttributeValueMemberN{Value: c})
		_, dbErr := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String("numbers"), Item: item})
		_, err := ParseNumber(c)
		if (dbErr == nil) != (err == nil) {
			t.Errorf("%.50q: DynamoDB Local says %v, ParseNumber says %v", c, dbErr, err)
		}
	}
}

// plainNumber writes m × 10^e out in full, as DynamoDB returns numbers: no exponent.
func plainNumber(m, e int, neg bool) string {
	ds := fmt.Sprint(m)
	var s string
	switch {
	case e >= 0:
		s = ds + strings.Repeat("0", e)
	case -e >= len(ds):
		s = "0." + strings.Repeat("0", -e-len(ds)) + ds
	default:
		s = ds[:len(ds)+e] + "." + ds[len(ds)+e:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

func list(n int, v func(i int) types.AttributeValue) types.AttributeValue {
	l := make([]types.AttributeValue, n)
	for i := range l {
		l[i] = v(i)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// testWorstInflationItemsRoundTrip exports and restores the items whose DynamoDB JSON is
// largest for what DynamoDB counts: each at the most elements DynamoDB Local accepts (one
// more is refused, which the test checks). The worst, a list of -1E-130 written out (133
// characters DynamoDB counts as 3 bytes, plus 1 for the list element), makes a 14.5 MB line:
// 35 times the 400 KB limit, and 7 times what bufio.Scanner's 2 MB buffer held before.
func testWorstInflationItemsRoundTrip(t *testing.T, db *dynamodb.Client) {
	const table = "inflation"
	createTable(t, db, table)
	longNumbers := func(n int) []string { // distinct numbers of 1 to 5 digits, at both ends of the range
		var out []string
		for m := 1; len(out) < n; m++ {
			if m%10 == 0 {
				continue
			}
			d := len(fmt.Sprint(m))
			for _, e := range []int{126 - d, -130} {
				out = append(out, plainNumber(m, e, false), plainNumber(m, e, true))
			}
		}
		return out[:n]
	}
	worst := []struct {
		name string
		max  int // the most elements DynamoDB Local accepts in an item keyed like these (0: not at the limit)
		v    func(n int) types.AttributeValue
	}{
		{"list of -1E-130 written out", 102397, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberN{Value: plainNumber(1, -130, true)} })
		}},
		{"list of empty strings", 409589, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberS{Value: ""} })
		}},
		{"list of empty binaries", 409589, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberB{Value: []byte{}} })
		}},
		{"list of false", 204794, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: false} })
		}},
		{"list of NULL", 204794, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberNULL{Value: true} })
		}},
		{"list of empty maps", 102397, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue {
				return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
			})
		}},
		{"list of empty lists", 102397, func(n int) types.AttributeValue {
			return list(n, func(int) types.AttributeValue { return &types.AttributeValueMemberL{Value: []types.AttributeValue{}} })
		}},
		{"string of control characters", 409592, func(n int) types.AttributeValue {
			return &types.AttributeValueMemberS{Value: strings.Repeat("\x01", n)}
		}},
		// A number set written out inflates nearly as much (32 times at its limit of 99100
		// members, a 13.1 MB line), but DynamoDB Local takes over a minute to store one that
		// large; this one takes the same path through the codec.
		{"number set written out", 0, func(int) types.AttributeValue { return &types.AttributeValueMemberNS{Value: longNumbers(1000)} }},
	}
	var want []map[string]types.AttributeValue
	for i, w := range worst {
		pk := string(rune('a' + i)) // one character, like the keys the limits were found with
		if w.max > 0 {
			_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: with(key(pk, 1), "v", w.v(w.max+1))})
			if err == nil || !strings.Contains(err.Error(), "size") {
				t.Fatalf("%s: %d elements must be over DynamoDB Local's item size limit, got %v", w.name, w.max+1, err)
			}
		}
		item := with(key(pk, 1), "v", w.v(max(w.max, 1)))
		put(t, db, table, item)
		want = append(want, item)
	}

	root := t.TempDir()
	md, err := Export(t.Context(), db, table, Dir(root, table))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(Dir(root, table), ItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	largest, name := 0, ""
	for line := range bytes.Lines(raw) {
		var l struct {
			Item struct{ Pk struct{ S string } }
		}
		_ = json.Unmarshal(line, &l)
		if len(line) > largest {
			largest, name = len(line), worst[l.Item.Pk.S[0]-'a'].name
		}
	}
	t.Logf("largest line: %s, %d bytes (%.1f times 400 KB)", name, largest, float64(largest)/(400<<10))
	if md.ItemCount != int64(len(worst)) || largest < 14_000_000 || largest > MaxLineBytes {
		t.Fatalf("exported %d items, largest line %d bytes: want %d items and a line over 14 MB, under %d", md.ItemCount, largest, len(worst), MaxLineBytes)
	}

	deleteTable(t, db, table)
	r, err := Restore(t.Context(), db, Dir(root, table), table, RestoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != int64(len(worst)) || r.Partial {
		t.Fatalf("restored %+v", r)
	}
	// DynamoDB Local returns these items as they were put (numbers in a list keep their
	// form), so the restored table must hold exactly what the test put.
	if after := scanAll(t, db, table); !reflect.DeepEqual(normalise(after), normalise(want)) {
		t.Fatal("the restored items differ from the exported ones")
	}
}

// unreadable stands in for a fault no backend produces: a Scan that returns an item DynamoDB
// could not hold (here a number beyond its range), so the file export writes cannot be
// restored. Everything else is DynamoDB Local's.
type unreadable struct{ DynamoDB }

func (u unreadable) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := u.DynamoDB.Scan(ctx, in, o...)
	if err == nil && len(out.Items) > 0 {
		out.Items[len(out.Items)-1]["balance"] = &types.AttributeValueMemberN{Value: "1E+200"}
	}
	return out, err
}

func testExportReadsBack(t *testing.T, db *dynamodb.Client) {
	createTable(t, db, "readback")
	put(t, db, "readback", wallets(3)...)
	root := t.TempDir()
	_, err := Export(t.Context(), unreadable{db}, "readback", Dir(root, "readback"))
	if err == nil || !strings.Contains(err.Error(), "do not read back") || !strings.Contains(err.Error(), "1E+200") {
		t.Fatalf("want the export refused because its file does not read back, naming the value; got %v", err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Fatalf("a failed export must leave nothing, found %v", entries)
	}
}

func testFailedExportCleansUp(t *testing.T, db *dynamodb.Client) {
	createTable(t, db, "cleanup")
	put(t, db, "cleanup", wallets(3)...)
	// Every Scan fails: a fault DynamoDB produces under load, injected by the proxy.
	p, err := faultproxy.Start(os.Getenv("AWS_ENDPOINT_URL"), faultproxy.Faults{ServerError: 1, Operations: []string{"Scan"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	flaky := dynamodb.NewFromConfig(loadConfig(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })

	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "existing"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{
		filepath.Join(root, "new", "deeper", "cleanup"), // three directories the export creates
		filepath.Join(root, "existing", "cleanup"),      // one it creates in one that was there
	} {
		if _, err := Export(t.Context(), flaky, "cleanup", dir); err == nil || !strings.Contains(err.Error(), "InternalServerError") {
			t.Fatalf("want the scan's error, got %v", err)
		}
	}
	var left []string
	_ = filepath.WalkDir(root, func(path string, _ os.DirEntry, _ error) error {
		left = append(left, strings.TrimPrefix(path, root))
		return nil
	})
	if want := []string{"", "/existing"}; !reflect.DeepEqual(left, want) {
		t.Fatalf("after failed exports %v is left, want %v", left, want)
	}
}

func loadConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// testConcurrentExports runs exports of two different tables into one directory at once, as two
// sweeps of two regions sharing one --export directory do: exactly one may land there, whole.
func testConcurrentExports(t *testing.T, db *dynamodb.Client) {
	tables := map[string][]map[string]types.AttributeValue{"together-a": wallets(300), "together-b": wallets(500)}
	for table, items := range tables {
		createTable(t, db, table)
		put(t, db, table, items...)
	}
	for round := range 3 {
		root := t.TempDir()
		dir := Dir(root, "together")
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for _, table := range []string{"together-a", "together-b", "together-a", "together-b"} {
			wg.Go(func() {
				if _, err := Export(t.Context(), db, table, dir); err == nil {
					mu.Lock()
					won = append(won, table)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("round %d: %v landed in one directory, want exactly one export", round, won)
		}
		if entries, _ := os.ReadDir(root); len(entries) != 1 {
			t.Fatalf("round %d: want only the winner's directory left, got %v", round, entries)
		}
		copyName := fmt.Sprintf("together-restored-%d", round)
		r, err := Restore(t.Context(), db, dir, copyName, RestoreOptions{})
		if err != nil || r.Items != int64(len(tables[won[0]])) {
			t.Fatalf("round %d: the export of %s must restore whole: %+v, %v", round, won[0], r, err)
		}
		if got := scanAll(t, db, copyName); !reflect.DeepEqual(normalise(got), normalise(scanAll(t, db, won[0]))) {
			t.Fatalf("round %d: the restored items are not %s's", round, won[0])
		}
	}
}

func testExportMissingTable(t *testing.T, db *dynamodb.Client) {
	_, err := Export(t.Context(), db, "no-such-table", Dir(t.TempDir(), "no-such-table"))
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("want a wrapped ResourceNotFoundException, got %v", err)
	}
	var refused *Refused
	if _, err := Export(t.Context(), db, "../x", Dir(t.TempDir(), "x")); !errors.As(err, &refused) || !strings.Contains(err.Error(), `"../x"`) {
		t.Fatalf("want a bad table name refused, naming it: %v", err)
	}
}

func testRestoreNonEmptyTarget(t *testing.T, db *dynamodb.Client) {
	dir := exported(t, db, "held", wallets(10))
	// The user's table moves on after the export: a balance changes, an attribute is added, a
	// wallet is added.
	changed := with(with(key("user-003", 3), "balance", &types.AttributeValueMemberN{Value: "999"}), "note", &types.AttributeValueMemberS{Value: "new"})
	put(t, db, "held", changed, with(key("user-new", 100), "balance", &types.AttributeValueMemberN{Value: "1"}))
	before := scanAll(t, db, "held")

	r, err := Restore(t.Context(), db, dir, "held", RestoreOptions{})
	var full *NotEmpty
	var refused *Refused
	if !errors.As(err, &full) || !errors.As(err, &refused) || r != nil {
		t.Fatalf("want a *NotEmpty inside a *Refused, got %+v, %v", r, err)
	}
	if full.Held != 11 || full.Replaced != 10 || full.Exported != 10 || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("want 11 held, 10 to replace, of 10 exported: %+v (%v)", full, err)
	}
	if after := scanAll(t, db, "held"); !reflect.DeepEqual(normalise(after), normalise(before)) {
		t.Fatal("a refused restore changed the table")
	}

	r, err = Restore(t.Context(), db, dir, "held", RestoreOptions{Overwrite: true})
	if err != nil || r.Created || r.Items != 10 || r.Held != 11 || r.Replaced != 10 {
		t.Fatalf("overwrite: %+v, %v", r, err)
	}
	after := scanAll(t, db, "held")
	if len(after) != 11 || after[3]["balance"].(*types.AttributeValueMemberN).Value != "30" || after[3]["note"] != nil {
		t.Fatalf("overwrite must put the exported user-003 back whole and keep user-new: %v", normalise(after))
	}

	// An empty table that exists is no one's data: no overwrite needed.
	createTable(t, db, "held-empty")
	if r, err := Restore(t.Context(), db, dir, "held-empty", RestoreOptions{}); err != nil || r.Created || r.Items != 10 {
		t.Fatalf("into an existing empty table: %+v, %v", r, err)
	}
}

var pkValue = regexp.MustCompile(`"pk":\{"S":"[^"]*"\}`)

// testRestoreChecksFirst damages an export in each way the reader must catch, and proves each
// is refused before the table is created or an item written.
func testRestoreChecksFirst(t *testing.T, db *dynamodb.Client) {
	good := exported(t, db, "checked", wallets(100))
	refused := func(t *testing.T, dir, table string, want ...string) {
		t.Helper()
		r, err := Restore(t.Context(), db, dir, table, RestoreOptions{})
		var ref *Refused
		if !errors.As(err, &ref) || r != nil {
			t.Fatalf("want a *Refused, got %+v, %v", r, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("the error does not say %q: %v", w, err)
			}
		}
	}
	line := func(n int, edit func(string) string) func([]string) []string {
		return func(lines []string) []string { lines[n-1] = edit(lines[n-1]); return lines }
	}
	for _, tc := range []struct {
		name  string
		items func([]string) []string
		want  []string
	}{
		{"a number DynamoDB refuses on line 85", line(85, func(l string) string { return strings.Replace(l, `"balance":{"N":"`, `"balance":{"N":"1E+999`, 1) }),
			[]string{"line 85", "1E+999", "larger"}},
		{"a line without its sort key", line(7, func(l string) string { return strings.Replace(l, `"sk":`, `"other":`, 1) }),
			[]string{"line 7", `no key attribute "sk"`}},
		{"a key of the wrong type", line(9, func(l string) string { return pkValue.ReplaceAllString(l, `"pk":{"N":"8"}`) }),
			[]string{"line 9", `"pk" is N`, "declares S"}},
		{"an index key of the wrong type", line(10, func(l string) string { return strings.Replace(l, `{"Item":{`, `{"Item":{"gsi_key":{"N":"1"},`, 1) }),
			[]string{"line 10", `"gsi_key" is N`}},
		{"an empty key", line(11, func(l string) string { return pkValue.ReplaceAllString(l, `"pk":{"S":""}`) }),
			[]string{"line 11", "empty"}},
		{"an unknown type", line(12, func(l string) string { return strings.Replace(l, `"balance":{"N"`, `"balance":{"X"`, 1) }),
			[]string{"line 12", `unknown type key "X"`}},
		{"a truncated line", line(13, func(l string) string { return l[:len(l)/2] }),
			[]string{"line 13"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			rewriteItems(t, dir, tc.items)
			refused(t, dir, "checked-new", tc.want...)
			if exists(t, db, "checked-new") {
				t.Fatal("a refused restore created the table")
			}
		})
	}
	for _, tc := range []struct {
		name string
		md   func(map[string]any)
		want []string
	}{
		{"an unknown format", func(md map[string]any) { md["format"] = "wallet-archive/9" }, []string{`"wallet-archive/9"`, Format}},
		{"a key with no attribute definition", func(md map[string]any) {
			md["attribute_definitions"] = []any{map[string]any{"attribute_name": "pk", "attribute_type": "S"}, map[string]any{"attribute_name": "gsi_key", "attribute_type": "S"}}
		}, []string{`key "sk" has no attribute definition`}},
		{"the RANGE key first", func(md map[string]any) {
			md["key_schema"] = []any{map[string]any{"attribute_name": "sk", "key_type": "RANGE"}, map[string]any{"attribute_name": "pk", "key_type": "HASH"}}
		}, []string{"want the HASH key first"}},
		{"a key type that is not S, N or B", func(md map[string]any) {
			md["attribute_definitions"].([]any)[0].(map[string]any)["attribute_type"] = "BOOL"
		}, []string{`type "BOOL"`}},
		{"no key schema", func(md map[string]any) { delete(md, "key_schema") }, []string{"0 keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, good)
			rewriteMetadata(t, dir, tc.md)
			refused(t, dir, "checked-new", tc.want...)
			if exists(t, db, "checked-new") {
				t.Fatal("a refused restore created the table")
			}
		})
	}
	t.Run("a table name DynamoDB refuses", func(t *testing.T) {
		refused(t, good, "../x", `"../x"`, "3 to 255")
	})
	t.Run("a target whose key types differ", func(t *testing.T) {
		err := fixture.CreateTableOnce(t, db, &dynamodb.CreateTableInput{
			TableName: aws.String("checked-numeric"),
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeN},
				{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			},
			BillingMode: types.BillingModePayPerRequest,
		})
		if err != nil {
			t.Fatal(err)
		}
		refused(t, good, "checked-numeric", "pk N HASH, sk N RANGE", "pk S HASH, sk N RANGE")
		if n := len(scanAll(t, db, "checked-numeric")); n != 0 {
			t.Fatalf("%d items written into a table that does not fit", n)
		}
	})
	t.Run("a cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := Restore(ctx, db, good, "checked-new", RestoreOptions{}); !errors.Is(err, context.Canceled) || exists(t, db, "checked-new") {
			t.Fatalf("want context.Canceled and no table, got %v", err)
		}
	})
}

// cancelAfter stands in for the user's Ctrl-C at a moment a test can name: every call goes to
// DynamoDB Local, and the restore's context is cancelled once the nth batch has been written.
type cancelAfter struct {
	DynamoDB
	n      int32
	calls  atomic.Int32
	cancel context.CancelFunc
}

func (c *cancelAfter) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	out, err := c.DynamoDB.BatchWriteItem(ctx, in, o...)
	if c.calls.Add(1) == c.n {
		c.cancel()
	}
	return out, err
}

func testRestoreStopped(t *testing.T, db *dynamodb.Client) {
	dir := exported(t, db, "stopped", wallets(60))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r, err := Restore(ctx, &cancelAfter{DynamoDB: db, n: 2, cancel: cancel}, dir, "stopped-copy", RestoreOptions{Workers: 1})
	if !errors.Is(err, context.Canceled) || r == nil || !r.Partial || r.Items != 50 || r.Total != 60 || !r.Created {
		t.Fatalf("want a partial restore of 50 of 60 that says it was cancelled, got %+v, %v", r, err)
	}
	if !strings.Contains(err.Error(), "50 of 60") || !strings.Contains(err.Error(), "partial") {
		t.Fatalf("the error must say how far the restore got: %v", err)
	}
	if n := len(scanAll(t, db, "stopped-copy")); n != 50 {
		t.Fatalf("the table holds %d items, the restore says 50", n)
	}
	// Restoring again, overwriting, completes it.
	r, err = Restore(t.Context(), db, dir, "stopped-copy", RestoreOptions{Overwrite: true})
	if err != nil || r.Items != 60 || r.Replaced != 50 || len(scanAll(t, db, "stopped-copy")) != 60 {
		t.Fatalf("a second restore must complete the first: %+v, %v", r, err)
	}
}

func testRestoreFrozen(t *testing.T, endpoint string) {
	db := dynamodb.NewFromConfig(loadConfig(t))
	dir := exported(t, db, "frozen", wallets(60))
	// BatchWriteItem never answers; every other call reaches DynamoDB Local.
	p, err := faultproxy.Start(endpoint, faultproxy.Faults{Latency: time.Hour, Operations: []string{"BatchWriteItem"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	frozen := dynamodb.NewFromConfig(loadConfig(t), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(p.URL) })

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // the command's --timeout
	defer cancel()
	type result struct {
		r   *Restored
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := Restore(ctx, frozen, dir, "frozen-copy", RestoreOptions{})
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		if !errors.Is(res.err, context.DeadlineExceeded) || res.r == nil || !res.r.Partial || res.r.Items != 0 || res.r.Total != 60 {
			t.Fatalf("want a partial restore stopped by the deadline, got %+v, %v", res.r, res.err)
		}
		if !strings.Contains(res.err.Error(), "0 of 60") {
			t.Fatalf("the error must say how far the restore got: %v", res.err)
		}
	case <-time.After(2 * time.Minute): // hang guard, not a timing assertion
		t.Fatal("the restore ignored its context's deadline")
	}
}

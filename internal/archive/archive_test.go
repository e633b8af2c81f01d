package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
)

// TestOnDynamoDBLocal runs the integration tests on one DynamoDB Local: export and restore are
// about DynamoDB's own type system and limits, and DynamoDB Local is Amazon's implementation of
// them. Each subtest uses tables of its own.
func TestOnDynamoDBLocal(t *testing.T) {
	srv := localcloud.DynamoDBLocal(t)
	srv.SetEnv(t)
	db := fixture.NewCloud(t, "").DynamoDB
	for _, tc := range []struct {
		name string
		run  func(*testing.T, *dynamodb.Client)
	}{
		{"export, delete, restore gives equal items", testExportDeleteRestoreGivesEqualItems},
		{"numbers are checked as DynamoDB checks them", testNumbersAgreeWithDynamoDB},
		{"the worst-inflating items export and restore exactly", testWorstInflationItemsRoundTrip},
		{"export reads its output back before writing metadata", testExportReadsBack},
		{"a failed export removes what it created, nothing else", testFailedExportCleansUp},
		{"concurrent exports into one directory do not collide", testConcurrentExports},
		{"exporting a missing table keeps ResourceNotFound", testExportMissingTable},
		{"restore refuses a non-empty table unless overwrite", testRestoreNonEmptyTarget},
		{"restore checks everything before it writes", testRestoreChecksFirst},
		{"a stopped restore says how far it got", testRestoreStopped},
		{"a rerun accepts a complete export of this very table, nothing else", testExportRerun},
		{"a symbolic link as the export directory is refused before any scan", testExportSymlinkRefusedUpFront},
		{"an export of a table replaced while it was read is discarded", testExportOfAReplacedTableIsDiscarded},
		{"restore refuses a FIFO at once", testRestoreRefusesFIFOs},
		{"restore refuses a table that is not ACTIVE", testRestoreRefusesInactiveTable},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, db) })
	}
	t.Run("a frozen endpoint stops at the deadline, saying how far it got", func(t *testing.T) { testRestoreFrozen(t, srv.Endpoint) })
	t.Run("a lost CreateTable answer is refused where no tag can prove the table this restore's", func(t *testing.T) { testRestoreLostCreateOnDynamoDBLocal(t, srv.Endpoint) })
	t.Run("a lost Scan answer is read again, and the export's rerun keeps it", func(t *testing.T) { testExportLostScanAnswer(t, srv.Endpoint) })
}

// everyType is an item with each DynamoDB type, nested, including numbers float64 would ruin.
func everyType(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"pk":      &types.AttributeValueMemberS{Value: id},
		"sk":      &types.AttributeValueMemberN{Value: "12345678901234567890123456789012345678"},
		"gsi_key": &types.AttributeValueMemberS{Value: "g-" + id},
		"tiny":    &types.AttributeValueMemberN{Value: "-0.00000000000000000000000000000000000012345678901234567890123456789012345678"},
		"huge":    &types.AttributeValueMemberN{Value: "99999999999999999999999999999999999999" + strings.Repeat("0", 88)}, // 9.99…E+125, as DynamoDB writes it
		"bin":     &types.AttributeValueMemberB{Value: []byte{0, 1, 2, 0xfe, 0xff}},
		"ss":      &types.AttributeValueMemberSS{Value: []string{"a", "b", "ü"}},
		"ns":      &types.AttributeValueMemberNS{Value: []string{"1", "99999999999999999999999999999999999999"}},
		"bs":      &types.AttributeValueMemberBS{Value: [][]byte{{0}, {1, 2}, []byte("three")}},
		"t":       &types.AttributeValueMemberBOOL{Value: true},
		"f":       &types.AttributeValueMemberBOOL{Value: false},
		"nul":     &types.AttributeValueMemberNULL{Value: true},
		"empty":   &types.AttributeValueMemberS{Value: ""},
		"list": &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberN{Value: "3.14159265358979323846264338327950288"},
			&types.AttributeValueMemberL{Value: []types.AttributeValue{}},
			&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
		}},
		"map": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"deep": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"ns": &types.AttributeValueMemberNS{Value: []string{"0.1", "0.2"}},
				"b":  &types.AttributeValueMemberB{Value: []byte("x")},
			}},
			"s": &types.AttributeValueMemberS{Value: `quote " and \ backslash and newline
`},
		}},
	}
}

func createTable(t *testing.T, db *dynamodb.Client, name string) {
	t.Helper()
	err := fixture.CreateTableOnce(t, db, &dynamodb.CreateTableInput{
		TableName: aws.String(name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("gsi_key"), AttributeType: types.ScalarAttributeTypeS},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:             aws.String("by_gsi_key"),
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("gsi_key"), KeyType: types.KeyTypeHash}},
			Projection:            &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(3)},
		}},
		BillingMode:           types.BillingModeProvisioned,
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(4), WriteCapacityUnits: aws.Int64(5)},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func scanAll(t *testing.T, db *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, page.Items...)
	}
	sort.Slice(items, func(i, j int) bool {
		return items[i]["pk"].(*types.AttributeValueMemberS).Value < items[j]["pk"].(*types.AttributeValueMemberS).Value
	})
	return items
}

// DynamoDB returns set members in its own order; compare sets as sets.
func normalise(v any) any {
	switch x := v.(type) {
	case []map[string]types.AttributeValue:
		out := make([]any, len(x))
		for i, m := range x {
			out[i] = normalise(m)
		}
		return out
	case map[string]types.AttributeValue:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case *types.AttributeValueMemberSS:
		s := append([]string(nil), x.Value...)
		sort.Strings(s)
		return fmt.Sprintf("SS%q", s)
	case *types.AttributeValueMemberNS:
		s := append([]string(nil), x.Value...)
		sort.Strings(s)
		return fmt.Sprintf("NS%q", s)
	case *types.AttributeValueMemberBS:
		s := make([]string, len(x.Value))
		for i, b := range x.Value {
			s[i] = string(b)
		}
		sort.Strings(s)
		return fmt.Sprintf("BS%q", s)
	case *types.AttributeValueMemberM:
		return map[string]any{"M": normalise(x.Value)}
	case *types.AttributeValueMemberL:
		out := make([]any, len(x.Value))
		for i, e := range x.Value {
			out[i] = normalise(e)
		}
		return map[string]any{"L": out}
	default:
		return fmt.Sprintf("%T%+v", v, v)
	}
}

func testExportDeleteRestoreGivesEqualItems(t *testing.T, db *dynamodb.Client) {
	ctx := t.Context()
	const table = "archive-roundtrip"
	createTable(t, db, table)
	const n = 60 // more than two BatchWriteItem batches
	var want []map[string]types.AttributeValue
	for i := range n {
		item := everyType(fmt.Sprintf("user-%03d", i))
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatalf("put: %v", err)
		}
		want = append(want, item)
	}
	before := scanAll(t, db, table)
	if len(before) != n {
		t.Fatalf("scanned %d items, put %d", len(before), n)
	}
	if !reflect.DeepEqual(normalise(before), normalise(want)) {
		t.Fatalf("DynamoDB Local changed the items on the way in; the test data must be canonical:\n%v", normalise(before[0]))
	}

	root := t.TempDir()
	md, err := Export(ctx, db, table, Dir(root, table))
	if err != nil {
		t.Fatal(err)
	}
	if md.ItemCount != n || md.Billing != "PROVISIONED" || md.ReadCapacity != 4 || len(md.GlobalSecondaryIndexes) != 1 || md.ItemsSHA256 == "" {
		t.Fatalf("metadata: %+v", md)
	}
	raw, _ := os.ReadFile(filepath.Join(Dir(root, table), ItemsFile))
	if !strings.Contains(string(raw), `{"N":"12345678901234567890123456789012345678"}`) || !strings.HasPrefix(string(raw), `{"Item":{`) {
		t.Fatalf("items are not DynamoDB JSON lines with numbers as strings:\n%.300s", raw)
	}
	// A second export of the same, unchanged table into the same directory (a rerun) keeps the
	// first as it is.
	first, _ := os.ReadFile(filepath.Join(Dir(root, table), MetadataFile))
	if again, err := Export(ctx, db, table, Dir(root, table)); err != nil || !again.Reused {
		t.Fatalf("a rerun must accept the export of this very table: %+v, %v", again, err)
	}
	if second, _ := os.ReadFile(filepath.Join(Dir(root, table), MetadataFile)); string(second) != string(first) {
		t.Fatal("a second export into the same directory overwrote the first")
	}

	if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableNotExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, time.Minute); err != nil {
		t.Fatal(err)
	}

	r, err := Restore(ctx, db, Dir(root, table), table, RestoreOptions{OriginalBilling: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Created || r.Items != n {
		t.Fatalf("restore: %+v", r)
	}
	after := scanAll(t, db, table)
	if !reflect.DeepEqual(normalise(after), normalise(before)) {
		t.Fatalf("restored items differ from the exported ones:\nbefore %v\nafter  %v", normalise(before[0]), normalise(after[0]))
	}
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToInt64(d.Table.ProvisionedThroughput.WriteCapacityUnits); got != 5 || len(d.Table.GlobalSecondaryIndexes) != 1 {
		t.Fatalf("billing=original should recreate 5 WCU and the index, got %d WCU, %d indexes", got, len(d.Table.GlobalSecondaryIndexes))
	}

	// Into a new name, on demand: the default.
	r, err = Restore(ctx, db, Dir(root, table), table+"-copy", RestoreOptions{})
	if err != nil || !r.Created || r.Items != n {
		t.Fatalf("restore as a copy: %+v, %v", r, err)
	}
	d, _ = db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table + "-copy")})
	if d.Table.BillingModeSummary == nil || d.Table.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("default restore should be on-demand, got %+v", d.Table.BillingModeSummary)
	}

	// Into an existing table with a different key: refused before writing anything.
	err = fixture.CreateTableOnce(t, db, &dynamodb.CreateTableInput{
		TableName:            aws.String("archive-otherkey"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, db, Dir(root, table), "archive-otherkey", RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "key schema") {
		t.Fatalf("want a key schema mismatch, got %v", err)
	}

	// A damaged export is refused before anything is written.
	f, _ := os.OpenFile(filepath.Join(Dir(root, table), ItemsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"Item":{"pk":{"S":"intruder"},"sk":{"N":"1"}}}` + "\n")
	f.Close()
	if _, err := Restore(ctx, db, Dir(root, table), table+"-damaged", RestoreOptions{}); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("want the damaged export refused, got %v", err)
	}
	if _, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table + "-damaged")}); err == nil {
		t.Fatal("a refused restore must not create the table")
	}
	if _, err := Restore(ctx, db, t.TempDir(), table, RestoreOptions{}); err == nil || !strings.Contains(err.Error(), MetadataFile) {
		t.Fatalf("a directory without metadata is not an export: %v", err)
	}
}

func TestCodecKeepsEveryTypeExactly(t *testing.T) {
	item := everyType("codec")
	b, err := MarshalItem(item)
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalItem(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, item) {
		t.Fatalf("codec round trip differs:\n%s", b)
	}
	for _, bad := range []string{
		`{"a":{"S":"x","N":"1"}}`, `{"a":{"X":"1"}}`, `{"a":"plain"}`, `{"a":{"N":1}}`, `{"a":{}}`,
		`{"a":{"S":null}}`, `{"a":null}`, `{"a":{"L":[null]}}`, `{"a":{"M":{"b":null}}}`, `{"a":{"L":[{}]}}`,
		`{"a":{"N":"1E+126"}}`, `{"a":{"N":""}}`, `{"a":{"NS":["1","1.0"]}}`, `{"a":{"SS":[]}}`, `{"a":{"SS":["x","x"]}}`,
		`{"a":{"BS":["AA==","AA=="]}}`, `{"a":{"B":"not base64!"}}`, `{"a":{"S":"x"}} {}`, `null`,
	} {
		if _, err := UnmarshalItem([]byte(bad)); err == nil {
			t.Errorf("%s must be rejected", bad)
		}
	}
}

func TestLinesAreBounded(t *testing.T) {
	s := schemaOf([]Key{{"pk", "HASH"}}, []Attribute{{"pk", "S"}})
	write := func(content ...[]byte) string {
		path := filepath.Join(t.TempDir(), ItemsFile)
		if err := os.WriteFile(path, bytes.Join(content, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := []byte(`{"Item":{"pk":{"S":"a"}}}` + "\n")
	huge := bytes.Repeat([]byte("x"), MaxLineBytes+1) // garbage with no newline in sight
	for _, tc := range []struct {
		name, path, want string
	}{
		{"a line longer than any item", write(good, huge, []byte("\n")), "line 2 is longer than 64 MiB"},
		{"a last line cut short", write(good, good[:10]), "line 2 does not end with a newline"},
		{"an empty line", write(good, []byte("\n")), "line 2"},
	} {
		if _, _, err := readItems(t.Context(), tc.path, s, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The longest line allowed is read.
	long := append(append([]byte(`{"Item":{"pk":{"S":"`), bytes.Repeat([]byte("y"), MaxLineBytes-len(`{"Item":{"pk":{"S":""}}}`+"\n"))...), `"}}}`+"\n"...)
	if n, _, err := readItems(t.Context(), write(long), s, nil); err != nil || n != 1 || len(long) != MaxLineBytes {
		t.Fatalf("a line of exactly %d bytes: %d items, %v", len(long), n, err)
	}
}

// unprocessedDB is a fake: neither DynamoDB Local nor moto ever leaves items unprocessed, so
// only a fake can prove the retry. It leaves the last item of every call unprocessed, twice.
type unprocessedDB struct {
	DynamoDB
	calls, refusals int
	written         int
}

func (f *unprocessedDB) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.calls++
	for table, reqs := range in.RequestItems {
		if f.refusals < 2 {
			f.refusals++
			f.written += len(reqs) - 1
			return &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{table: reqs[len(reqs)-1:]}}, nil
		}
		f.written += len(reqs)
	}
	return &dynamodb.BatchWriteItemOutput{}, nil
}

func TestBatchRetriesUnprocessedItems(t *testing.T) {
	f := &unprocessedDB{}
	reqs := make([]types.WriteRequest, 25)
	if err := writeBatch(t.Context(), f, "t", reqs, 3, func(int) {}); err != nil {
		t.Fatal(err)
	}
	if f.written != 25 || f.calls != 3 {
		t.Fatalf("wrote %d in %d calls, want 25 in 3", f.written, f.calls)
	}

	err := writeBatch(t.Context(), &alwaysUnprocessed{}, "t", reqs[:1], 3, func(int) {})
	if err == nil || !strings.Contains(err.Error(), "unprocessed") {
		t.Fatalf("want a give-up error after 3 rounds without progress, got %v", err)
	}
}

type alwaysUnprocessed struct{ DynamoDB }

func (alwaysUnprocessed) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return &dynamodb.BatchWriteItemOutput{UnprocessedItems: in.RequestItems}, nil
}

func TestMetadataIsBounded(t *testing.T) {
	dir := t.TempDir()
	huge := append([]byte(`{"format":"`+Format+`","padding":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	if err := os.WriteFile(filepath.Join(dir, MetadataFile), append(huge, `"}`...), 0o600); err != nil {
		t.Fatal(err)
	}
	var refused *Refused
	if _, err := ReadMetadata(dir); !errors.As(err, &refused) || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("want a metadata.json of 2 MiB refused, got %v", err)
	}
}

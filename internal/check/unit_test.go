package check

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/time/rate"
)

func provisioned(r, w int64) *types.TableDescription {
	return &types.TableDescription{ProvisionedThroughput: &types.ProvisionedThroughputDescription{
		ReadCapacityUnits: aws.Int64(r), WriteCapacityUnits: aws.Int64(w)}}
}

func TestPacerModelsCapacityAndBurst(t *testing.T) {
	p := NewPacer(provisioned(5, 3), true)
	if p.Reads.Limit() != 5 || p.Reads.Burst() != 1500 || p.Writes.Limit() != 3 || p.Writes.Burst() != 900 {
		t.Fatalf("reads %v/%d, writes %v/%d; want 5/1500 and 3/900", p.Reads.Limit(), p.Reads.Burst(), p.Writes.Limit(), p.Writes.Burst())
	}
	onDemand := &types.TableDescription{BillingModeSummary: &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest},
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(0)}}
	for name, p := range map[string]Pacer{"on-demand": NewPacer(onDemand, true), "--no-pace": NewPacer(provisioned(1, 1), false)} {
		if p.Reads.Limit() != rate.Inf || p.Writes.Limit() != rate.Inf || !strings.Contains(p.Detail, "not paced") {
			t.Errorf("%s: want unlimited, got %+v", name, p)
		}
	}

	// Costs: a consistent read 1 RCU, a write 1 WCU, a transactional write 2 WCU per item.
	p = NewPacer(provisioned(1, 1), true)
	api := p.API(nopAPI{})
	ctx := t.Context()
	_, _ = api.GetItem(ctx, &dynamodb.GetItemInput{})
	_, _ = api.PutItem(ctx, &dynamodb.PutItemInput{})
	_, _ = api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: make([]types.TransactWriteItem, 2)})
	if r, w := p.Reads.Tokens(), p.Writes.Tokens(); r > 299.1 || r < 298.9 || w > 295.1 || w < 294.9 {
		t.Fatalf("tokens left: %.1f reads, %.1f writes; want 299 and 295", r, w)
	}
	// Once the burst is spent, requests wait for capacity instead of throttling the table.
	p = Pacer{Reads: rate.NewLimiter(1, 1), Writes: rate.NewLimiter(1, 1)}
	api = p.API(nopAPI{})
	_, _ = api.PutItem(ctx, &dynamodb.PutItemInput{})
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := api.PutItem(short, &dynamodb.PutItemInput{}); err == nil {
		t.Fatal("a write beyond the burst did not wait")
	}
}

type nopAPI struct{}

func (nopAPI) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return &dynamodb.BatchGetItemOutput{}, nil
}
func (nopAPI) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}
func (nopAPI) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}
func (nopAPI) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}
func (nopAPI) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return &dynamodb.DeleteItemOutput{}, nil
}
func (nopAPI) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return &dynamodb.TransactWriteItemsOutput{}, nil
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(101-i)*time.Millisecond)
	}
	if p50, p99 := percentile(ds, 0.5), percentile(ds, 0.99); p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Fatalf("p50 %s, p99 %s", p50, p99)
	}
	if percentile(nil, 0.5) != 0 || percentile(ds[:1], 0.99) != 100*time.Millisecond {
		t.Fatal("edge cases")
	}
}

// configDB answers the configuration reads from fixed values, or with errs.
type configDB struct {
	DynamoDB
	tags                []types.Tag
	tagsErr, backupsErr error
}

func (f configDB) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: &types.TimeToLiveDescription{
		TimeToLiveStatus: types.TimeToLiveStatusEnabled, AttributeName: aws.String("expires_at")}}, nil
}

func (f configDB) DescribeContinuousBackups(context.Context, *dynamodb.DescribeContinuousBackupsInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error) {
	if f.backupsErr != nil {
		return nil, f.backupsErr
	}
	return &dynamodb.DescribeContinuousBackupsOutput{ContinuousBackupsDescription: &types.ContinuousBackupsDescription{
		PointInTimeRecoveryDescription: &types.PointInTimeRecoveryDescription{PointInTimeRecoveryStatus: types.PointInTimeRecoveryStatusDisabled}}}, nil
}

func (f configDB) ListTagsOfResource(_ context.Context, in *dynamodb.ListTagsOfResourceInput, _ ...func(*dynamodb.Options)) (*dynamodb.ListTagsOfResourceOutput, error) {
	if f.tagsErr != nil {
		return nil, f.tagsErr
	}
	// Two pages, to prove NextToken is followed.
	if in.NextToken == nil {
		return &dynamodb.ListTagsOfResourceOutput{Tags: f.tags[:1], NextToken: aws.String("p2")}, nil
	}
	return &dynamodb.ListTagsOfResourceOutput{Tags: f.tags[1:]}, nil
}

func TestLiveSpec(t *testing.T) {
	desc := &types.TableDescription{
		TableName: aws.String("t"), TableArn: aws.String("arn:aws:dynamodb:us-east-1:1:table/t"),
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeN}},
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{ReadCapacityUnits: aws.Int64(2), WriteCapacityUnits: aws.Int64(3)},
		SSEDescription:        &types.SSEDescription{SSEType: types.SSETypeKms, Status: types.SSEStatusEnabled},
	}
	tags := []types.Tag{
		{Key: aws.String("Project"), Value: aws.String("wallet")},
		{Key: aws.String("aws:cloudformation:stack-name"), Value: aws.String("Wallet-dev")},
	}
	live, unknown, notes, err := liveSpec(t.Context(), configDB{tags: tags}, desc)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"KeySchema": "pk HASH, sk RANGE", "AttributeDefinitions.pk": "S", "AttributeDefinitions.sk": "N",
		"BillingMode": "PROVISIONED", "ProvisionedThroughput.ReadCapacityUnits": "2", "ProvisionedThroughput.WriteCapacityUnits": "3",
		"DeletionProtectionEnabled": "false", "SSESpecification.SSEEnabled": "true",
		"TimeToLiveSpecification.Enabled": "true", "TimeToLiveSpecification.AttributeName": "expires_at", "TableClass": "STANDARD",
		"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": "false",
		"Tags.Project": "wallet", // aws:* tags are CloudFormation's, never declared
	}
	if !maps.Equal(live, want) || len(unknown) != 0 || len(notes) != 0 {
		t.Fatalf("live %v\nwant %v\nunknown %v notes %v", live, want, unknown, notes)
	}

	unsupportedErr := &smithy.GenericAPIError{Code: "UnknownOperationException", Message: "Tagging is not currently supported in DynamoDB Local."}
	_, unknown, notes, err = liveSpec(t.Context(), configDB{tagsErr: unsupportedErr, backupsErr: unsupportedErr}, desc)
	if err != nil || !slices.Equal(unknown, []string{"PointInTimeRecoverySpecification", "Tags"}) || len(notes) != 2 ||
		!strings.Contains(notes[1], "not supported by this endpoint: ListTagsOfResource") {
		t.Fatalf("unsupported calls: err %v, unknown %v, notes %v", err, unknown, notes)
	}

	// Refused is not unsupported: a verifier without permission must say so, not pass.
	denied := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not authorized to perform dynamodb:ListTagsOfResource"}
	if _, _, _, err := liveSpec(t.Context(), configDB{tags: tags, tagsErr: denied}, desc); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("access denied: want an error, got %v", err)
	}
}

func TestCompare(t *testing.T) {
	declared := discover.TableSpec{Exhaustive: true, Unresolved: []string{"Tags.Stage"}, Fields: map[string]string{
		"KeySchema": "user_id HASH", "Tags.Project": "wallet", "TimeToLiveSpecification.Enabled": "true",
	}}
	live := map[string]string{
		"KeySchema": "user_id HASH", "Tags.Project": "wallet", "Tags.Stage": "anything", "Tags.Extra": "x",
		"AttributeDefinitions.gsi": "S", "BillingMode": "PROVISIONED",
	}
	diffs, compared := compare(declared, live, []string{"TimeToLiveSpecification"})
	want := []Difference{{"AttributeDefinitions.gsi", "(absent)", "S"}, {"Tags.Extra", "(absent)", "x"}}
	if !slices.Equal(diffs, want) || compared != 4 {
		t.Fatalf("diffs %v (compared %d), want %v (4)", diffs, compared, want)
	}
	// The essentials check only what they name.
	diffs, _ = compare(essentials(), live, nil)
	if !slices.Equal(diffs, []Difference{{"AttributeDefinitions.user_id", "S", "(absent)"}}) {
		t.Fatalf("essentials: %v", diffs)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Resources": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		change func(*Options)
		want   string
	}{
		"zero roundtrips":    {func(o *Options) { o.Roundtrips = 0 }, `--roundtrips "0": want a whole number from 1 to 100000`},
		"negative workers":   {func(o *Options) { o.Concurrency = -1 }, `--concurrency "-1": want a whole number from 1 to 64`},
		"stack and table":    {func(o *Options) { o.Table = "wallet-x" }, "give one, not both"},
		"no target":          {func(o *Options) { o.Stack = "" }, "give --stack or --table"},
		"bad table name":     {func(o *Options) { o.Stack, o.Table = "", "a" }, `--table "a": want 3 to 255`},
		"bad stack name":     {func(o *Options) { o.Stack = "1-stack" }, `--stack "1-stack"`},
		"zero timeout":       {func(o *Options) { o.Timeout = 0 }, `--timeout "0s": want a duration of at least 1s`},
		"tiny timeout":       {func(o *Options) { o.Timeout = time.Millisecond }, `--timeout "1ms": want a duration of at least 1s`},
		"missing template":   {func(o *Options) { o.Template = filepath.Join(dir, "nope.json") }, "no such file"},
		"template, no table": {func(o *Options) { o.Template = bad }, "no matching AWS::DynamoDB::Table"},
	} {
		o := Defaults()
		tc.change(&o)
		err := o.Validate(t.Context())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", name, tc.want, err)
		}
	}
	if d := Defaults(); d.Validate(t.Context()) != nil {
		t.Fatalf("defaults: %v", d.Validate(t.Context()))
	}
}

func TestReportJSONShape(t *testing.T) {
	rep := &Report{Table: "t", Region: "us-east-1", RunID: "ab", Passed: true,
		Checks:     []Result{{Name: Discover, Passed: true, Detail: "d", Duration: 1500 * time.Microsecond}},
		Roundtrips: Latency{Count: 10, P50: 2 * time.Millisecond, P99: 3 * time.Millisecond, PerSecond: 123.456}}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	keys := slices.Sorted(maps.Keys(got))
	if want := []string{"checks", "leftover_items", "passed", "region", "roundtrips", "run_id", "table", "throttled"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	check := got["checks"].([]any)[0].(map[string]any)
	if check["name"] != "discover" || check["passed"] != true || check["detail"] != "d" || check["duration_ms"] != 1.5 {
		t.Fatalf("check %v", check)
	}
	rt := got["roundtrips"].(map[string]any)
	if rt["count"] != 10.0 || rt["p50_ms"] != 2.0 || rt["p99_ms"] != 3.0 || rt["per_second"] != 123.46 {
		t.Fatalf("roundtrips %v", rt)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "PASS: all 1 checks passed") {
		t.Fatalf("text: %v\n%s", err, text.String())
	}
}

func TestUnsupported(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "UnknownOperationException"}, true},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "Tagging is not currently supported"}, true},
		{&smithy.GenericAPIError{Code: "AccessDeniedException", Message: "denied"}, false},
		{errors.New("dial tcp: connection refused"), false},
	} {
		if got := unsupported(tc.err); got != tc.want {
			t.Errorf("unsupported(%v) = %v", tc.err, got)
		}
	}
}

func TestLoopbackEndpoint(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://localhost:4566":                                     true,
		"http://127.0.0.1:8000":                                     true,
		"http://[::1]:8000":                                         true,
		"https://dynamodb.us-east-1.amazonaws.com":                  false,
		"https://vpce-0a1b-x.dynamodb.us-east-1.vpce.amazonaws.com": false,
		"http://10.0.0.5:8000":                                      false,
		"":                                                          false,
		"not a url":                                                 false,
	} {
		if got := LoopbackEndpoint(endpoint) != ""; got != want {
			t.Errorf("LoopbackEndpoint(%q) local = %v, want %v", endpoint, got, want)
		}
	}
}

// Only moto's exact gap is set aside, and only on a local endpoint: TTL or PITR declared on and
// live at the untouched default. A TTL on another attribute, or any other field, is drift.
func TestExcuseLocalGaps(t *testing.T) {
	diffs := []Difference{
		{"TimeToLiveSpecification.Enabled", "true", "false"},
		{"TimeToLiveSpecification.AttributeName", "expires_at", absent},
		{"PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", "true", "false"},
		{"TimeToLiveSpecification.AttributeName", "expires_at", "ttl"},
		{"ProvisionedThroughput.ReadCapacityUnits", "1", "5"},
	}
	drift, gaps := excuseLocalGaps(diffs, "http://localhost:1")
	if len(gaps) != 3 || len(drift) != 2 || drift[0].Live != "ttl" || drift[1].Field != "ProvisionedThroughput.ReadCapacityUnits" {
		t.Fatalf("local: drift %v, gaps %v", drift, gaps)
	}
	drift, gaps = excuseLocalGaps(diffs, "")
	if len(gaps) != 0 || len(drift) != len(diffs) {
		t.Fatalf("not local: drift %v, gaps %v; want everything counted", drift, gaps)
	}
}

// A table whose class was changed behind CloudFormation's back fails conformance, naming
// TableClass; and the deploy check's declared spec (discover.Declared) says the class as the
// template does. moto keeps no class (no TableClassSummary), so the live side here is the shape
// DynamoDB describes, built by hand: no local backend can produce it.
func TestConformanceNamesAChangedTableClass(t *testing.T) {
	cfg, err := contract.ParseStack(func(k string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	declared := discover.Declared(cfg)
	if declared.Fields[discover.FieldTableClass] != "STANDARD" {
		t.Fatalf("declared: %v", declared.Fields)
	}
	d := &types.TableDescription{TableName: aws.String("t"),
		TableClassSummary: &types.TableClassSummary{TableClass: types.TableClassStandardInfrequentAccess}}
	live := describedFields(d)
	diffs, _ := compare(declared, live, nil)
	var named bool
	for _, df := range diffs {
		named = named || df.Field == discover.FieldTableClass && df.Declared == "STANDARD" && df.Live == "STANDARD_INFREQUENT_ACCESS"
	}
	if !named {
		t.Fatalf("diffs %v: want TableClass STANDARD declared, STANDARD_INFREQUENT_ACCESS live", diffs)
	}
	// Absent is STANDARD: a table never given a class conforms to a standard stack.
	if describedFields(&types.TableDescription{})[discover.FieldTableClass] != "STANDARD" {
		t.Fatal("no TableClassSummary must read as STANDARD")
	}
	// On a loopback endpoint (moto, which keeps no class) the one gap is noted, not drift.
	ia := discover.Declared(contract.Stack{Stage: cfg.Stage, Billing: cfg.Billing, ReadCapacity: 1, WriteCapacity: 1, ExpiresAfter: cfg.ExpiresAfter, TableClass: wallet.ClassStandardIA})
	diffs, _ = compare(ia, describedFields(&types.TableDescription{}), nil)
	drift, gaps := excuseLocalGaps(diffs, "http://127.0.0.1:5000")
	for _, df := range drift {
		if df.Field == discover.FieldTableClass {
			t.Fatalf("moto's missing class counted as drift: %v", drift)
		}
	}
	if len(gaps) == 0 {
		t.Fatalf("gap not noted: %v", diffs)
	}
	if drift, _ := excuseLocalGaps(diffs, ""); len(drift) == 0 {
		t.Fatal("against AWS the class difference must be drift")
	}
}

package check

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// absent is how a field that one side does not have is shown.
const absent = "(absent)"

type conformance struct {
	detail string
	diffs  []Difference
}

// conform compares the live table with its declared spec, field by field.
func conform(ctx context.Context, c Clients, o Options, t *target, desc *types.TableDescription) (conformance, error) {
	declared, source, notes, err := declaredSpec(ctx, c, o, t)
	if err != nil {
		return conformance{}, err
	}
	live, unknown, liveNotes, err := liveSpec(ctx, c.DynamoDB, desc)
	if err != nil {
		return conformance{}, err
	}
	scaling, err := compareScaling(ctx, c.AutoScaling, c.LocalEndpoint, declared, desc, live)
	if err != nil {
		return conformance{}, err
	}
	diffs, compared := compare(scaling.declared, live, unknown)
	diffs, gaps := excuseLocalGaps(diffs, c.LocalEndpoint)
	diffs, compared = append(diffs, scaling.diffs...), compared+scaling.compared
	parts := []string{fmt.Sprintf("against %s: %d of %d fields match", source, compared-len(diffs)-len(gaps)-len(scaling.gaps), compared)}
	for _, g := range []struct {
		diffs []Difference
		why   string
	}{
		{gaps, "does not apply TimeToLiveSpecification or PointInTimeRecoverySpecification, and whose DynamoDB keeps no TableClass,"},
		{scaling.gaps, "creates no Application Auto Scaling resources (cfngap.AutoScaling registers them as CloudFormation would)"},
	} {
		if len(g.diffs) > 0 {
			parts = append(parts, fmt.Sprintf("not counted on the local endpoint %s, whose CloudFormation (moto) %s: %s", c.LocalEndpoint, g.why, joinDiffs(g.diffs)))
		}
	}
	if len(declared.Unresolved) > 0 {
		parts = append(parts, "not compared, intrinsic functions in the template: "+strings.Join(declared.Unresolved, ", "))
	}
	parts = append(parts, notes...)
	parts = append(parts, liveNotes...)
	parts = append(parts, scaling.notes...)
	res := conformance{detail: join(parts...), diffs: diffs}
	if len(diffs) > 0 {
		return res, fmt.Errorf("drift: %s", joinDiffs(diffs))
	}
	return res, nil
}

func joinDiffs(diffs []Difference) string {
	msgs := make([]string, len(diffs))
	for i, d := range diffs {
		msgs[i] = d.String()
	}
	return strings.Join(msgs, "; ")
}

// localCloudFormationGaps are the properties moto's CloudFormation ignores when it creates an
// AWS::DynamoDB::Table, with the value the live table then has: real CloudFormation applies them.
// moto's DynamoDB keeps no table class at all (no TableClassSummary), so a Standard-IA table
// reads as STANDARD there.
var localCloudFormationGaps = map[string]string{
	discover.FieldTTLEnabled:   "false",
	discover.FieldTTLAttribute: absent,
	discover.FieldPITR:         "false",
	discover.FieldTableClass:   string(types.TableClassStandard),
}

// excuseLocalGaps sets aside, on a local endpoint only, the differences that are exactly what
// moto's CloudFormation leaves: the property declared, the live table at its untouched default.
// They are still reported, but not as drift: on a loopback endpoint the emulator, not a user,
// is the likely cause. Any other value, and any endpoint that is not loopback (AWS, or a VPC
// endpoint of it), keeps full strictness.
func excuseLocalGaps(diffs []Difference, localEndpoint string) (drift, gaps []Difference) {
	if localEndpoint == "" {
		return diffs, nil
	}
	for _, d := range diffs {
		if def, ok := localCloudFormationGaps[d.Field]; ok && d.Live == def {
			gaps = append(gaps, d)
			continue
		}
		drift = append(drift, d)
	}
	return drift, gaps
}

// LoopbackEndpoint returns endpoint when it is a URL on this machine (localhost or a loopback
// address: a local emulator), and "" otherwise.
func LoopbackEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	if h := u.Hostname(); h == "localhost" {
		return endpoint
	} else if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
		return endpoint
	}
	return ""
}

// essentials is what any wallet table must be when nothing declares more: the key schema the
// wallet operations depend on.
func essentials() discover.TableSpec {
	return discover.TableSpec{Fields: map[string]string{
		discover.FieldKeySchema:                              wallet.WalletKeySchema,
		discover.FieldAttributes + "." + wallet.KeyAttribute: wallet.KeyType,
	}}
}

const essentialsSource = "the wallet spec's essentials (key schema only)"

// declaredSpec finds what the table should be: the spec given in Options.Declared, else --template, else the deployed stack's template,
// else the template `cdk synth` left in cdk.out, else the wallet's essentials. notes say which
// sources were tried and why they were not used. A refused GetTemplate is an error, not a
// reason to fall back: the verifier lacks a permission it should have.
func declaredSpec(ctx context.Context, c Clients, o Options, t *target) (discover.TableSpec, string, []string, error) {
	if o.Declared != nil {
		return *o.Declared, o.DeclaredFrom, nil, nil
	}
	if o.Template != "" {
		s, err := discover.SelectTable(o.templateSpecs, t.logicalID, t.table)
		if err != nil {
			return discover.TableSpec{}, "", nil, fmt.Errorf("--template %s: %w", o.Template, err)
		}
		return s, "--template " + o.Template, nil, nil
	}
	if t.stack == "" {
		return essentials(), essentialsSource, []string{"no template: name one with --template, or check by --stack"}, nil
	}
	s, err := deployedSpec(ctx, c, t)
	if err == nil {
		return s, "the deployed template of stack " + t.stack, nil, nil
	}
	if _, denied := awsconf.AsDenied(err); denied || ctx.Err() != nil {
		return discover.TableSpec{}, "", nil, err
	}
	notes := []string{fmt.Sprintf("deployed template not used (%v)", err)}
	path := discover.CDKOutTemplate(o.AppDir, t.stack)
	s, err = cdkOutSpec(ctx, path, o.Timeout, t)
	switch {
	case err == nil:
		return s, path + " (may differ from what is deployed)", notes, nil
	case ctx.Err() != nil:
		return discover.TableSpec{}, "", nil, err
	case !errors.Is(err, fs.ErrNotExist):
		notes = append(notes, fmt.Sprintf("%s not used (%v)", path, err))
	}
	return essentials(), essentialsSource, append(notes, "no template available"), nil
}

// deployedSpec is the table's spec in the template the stack was deployed from.
func deployedSpec(ctx context.Context, c Clients, t *target) (discover.TableSpec, error) {
	body, err := discover.Template(ctx, c.CloudFormation, t.stack)
	if err != nil {
		return discover.TableSpec{}, err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return discover.TableSpec{}, err
	}
	return discover.SelectTable(specs, t.logicalID, t.table)
}

// cdkOutSpec is the table's spec in the template `cdk synth` wrote.
func cdkOutSpec(ctx context.Context, path string, timeout time.Duration, t *target) (discover.TableSpec, error) {
	specs, err := readTemplate(ctx, path, timeout)
	if err != nil {
		return discover.TableSpec{}, err
	}
	return discover.SelectTable(specs, t.logicalID, t.table)
}

// liveSpec reads the table's configuration in the spec's terms: what its description says,
// then what three more calls read. unknown are the fields this endpoint cannot report
// (DynamoDB Local has no tags and no backups): they are not compared, and notes say so,
// rather than guessing.
func liveSpec(ctx context.Context, db DynamoDB, d *types.TableDescription) (map[string]string, []string, []string, error) {
	reads := []struct {
		field, call string
		read        func(context.Context, DynamoDB, *types.TableDescription) (map[string]string, error)
	}{
		{"TimeToLiveSpecification", "DescribeTimeToLive", ttlFields},
		{"PointInTimeRecoverySpecification", "DescribeContinuousBackups", pitrFields},
		{discover.FieldTags, "ListTagsOfResource", tagFields},
	}
	// Independent reads, at once: each is a round trip the check would otherwise wait for.
	got := make([]map[string]string, len(reads))
	errs := make([]error, len(reads))
	var g errgroup.Group
	for i, r := range reads {
		g.Go(func() error {
			got[i], errs[i] = r.read(ctx, db, d)
			return nil
		})
	}
	_ = g.Wait()
	f := describedFields(d)
	var unknown, notes []string
	for i, r := range reads {
		switch err := errs[i]; {
		case unsupported(err):
			unknown = append(unknown, r.field)
			notes = append(notes, fmt.Sprintf("not supported by this endpoint: %s (%s not compared)", r.call, r.field))
		case err != nil:
			return nil, nil, nil, fmt.Errorf("read %s of %s: %w", r.field, aws.ToString(d.TableName), err)
		}
		maps.Copy(f, got[i])
	}
	return f, unknown, notes, nil
}

// describedFields are the fields DescribeTable reports.
func describedFields(d *types.TableDescription) map[string]string {
	f := map[string]string{discover.FieldKeySchema: wallet.KeySchema(d.KeySchema)}
	for _, a := range d.AttributeDefinitions {
		f[discover.FieldAttributes+"."+aws.ToString(a.AttributeName)] = string(a.AttributeType)
	}
	billing := wallet.BillingOf(d)
	f[discover.FieldBillingMode] = string(billing.Mode())
	if billing == wallet.BillingProvisioned && d.ProvisionedThroughput != nil {
		f[discover.FieldReadCapacity] = strconv.FormatInt(aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits), 10)
		f[discover.FieldWriteCapacity] = strconv.FormatInt(aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits), 10)
	}
	f[discover.FieldDeletionProtection] = strconv.FormatBool(aws.ToBool(d.DeletionProtectionEnabled))
	// No TableClassSummary is a table never given another class: STANDARD (moto returns none).
	f[discover.FieldTableClass] = string(wallet.ClassOf(d).SDK())
	// No SSEDescription means the AWS owned key, which is what SSEEnabled=false declares;
	// SSEEnabled=true declares a KMS key.
	sse := d.SSEDescription != nil && d.SSEDescription.SSEType == types.SSETypeKms &&
		(d.SSEDescription.Status == types.SSEStatusEnabled || d.SSEDescription.Status == types.SSEStatusUpdating)
	f[discover.FieldSSE] = strconv.FormatBool(sse)
	return f
}

func ttlFields(ctx context.Context, db DynamoDB, d *types.TableDescription) (map[string]string, error) {
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: d.TableName})
	if err != nil || out.TimeToLiveDescription == nil {
		return nil, err
	}
	td := out.TimeToLiveDescription
	on := td.TimeToLiveStatus == types.TimeToLiveStatusEnabled || td.TimeToLiveStatus == types.TimeToLiveStatusEnabling
	f := map[string]string{discover.FieldTTLEnabled: strconv.FormatBool(on)}
	if on {
		f[discover.FieldTTLAttribute] = aws.ToString(td.AttributeName)
	}
	return f, nil
}

func pitrFields(ctx context.Context, db DynamoDB, d *types.TableDescription) (map[string]string, error) {
	out, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: d.TableName})
	if err != nil || out.ContinuousBackupsDescription == nil {
		return nil, err
	}
	p := out.ContinuousBackupsDescription.PointInTimeRecoveryDescription
	on := p != nil && p.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
	return map[string]string{discover.FieldPITR: strconv.FormatBool(on)}, nil
}

func tagFields(ctx context.Context, db DynamoDB, d *types.TableDescription) (map[string]string, error) {
	tags, err := discover.TableTags(ctx, db, aws.ToString(d.TableArn))
	if err != nil {
		return nil, err
	}
	f := map[string]string{}
	for k, v := range tags {
		// CloudFormation adds aws:cloudformation:* tags itself; no template declares them.
		if !strings.HasPrefix(k, "aws:") {
			f[discover.FieldTags+"."+k] = v
		}
	}
	return f, nil
}

// unsupported recognises an endpoint saying it does not implement an operation (DynamoDB
// Local: UnknownOperationException, "Tagging is not currently supported"), as opposed to
// refusing it (AccessDenied), which is a real problem to report.
func unsupported(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "UnknownOperationException", "NotImplemented", "NotImplementedException",
		"UnsupportedOperation", "UnsupportedOperationException", "InvalidAction":
		return true
	}
	msg := strings.ToLower(ae.ErrorMessage())
	for _, s := range []string{"not supported", "not currently supported", "not implemented", "not yet implemented"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// compare lists the declared fields the live table does not match, and, when the spec is
// exhaustive, the live attribute definitions and tags nobody declared. compared counts the
// fields actually compared.
func compare(declared discover.TableSpec, live map[string]string, unknown []string) (diffs []Difference, compared int) {
	skip := func(field string) bool {
		if declared.Skipped(field) {
			return true
		}
		for _, u := range unknown {
			if field == u || strings.HasPrefix(field, u+".") {
				return true
			}
		}
		return false
	}
	for _, field := range sortedKeys(declared.Fields) {
		if skip(field) {
			continue
		}
		compared++
		want := declared.Fields[field]
		got, ok := live[field]
		if !ok {
			got = absent
		}
		if got != want {
			diffs = append(diffs, Difference{Field: field, Declared: want, Live: got})
		}
	}
	if declared.Exhaustive {
		for _, field := range sortedKeys(live) {
			open := strings.HasPrefix(field, discover.FieldTags+".") || strings.HasPrefix(field, discover.FieldAttributes+".")
			if _, ok := declared.Fields[field]; ok || !open || skip(field) {
				continue
			}
			compared++
			diffs = append(diffs, Difference{Field: field, Declared: absent, Live: live[field]})
		}
	}
	return diffs, compared
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

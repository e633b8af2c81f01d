package discover

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/strictjson"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// TemplateAPI is the CloudFormation call that reads what a stack declared.
type TemplateAPI interface {
	GetTemplate(ctx context.Context, in *cloudformation.GetTemplateInput, optFns ...func(*cloudformation.Options)) (*cloudformation.GetTemplateOutput, error)
}

// Template returns the template a stack was deployed from. Original, not Processed: CDK
// templates use no transforms, and the original is the JSON that `cdk synth` wrote.
func Template(ctx context.Context, cfn TemplateAPI, stack string) ([]byte, error) {
	out, err := cfn.GetTemplate(ctx, &cloudformation.GetTemplateInput{
		StackName:     aws.String(stack),
		TemplateStage: cfntypes.TemplateStageOriginal,
	})
	if err != nil {
		return nil, fmt.Errorf("get template of stack %s: %w", stack, err)
	}
	if aws.ToString(out.TemplateBody) == "" {
		return nil, fmt.Errorf("get template of stack %s: empty body", stack)
	}
	return []byte(aws.ToString(out.TemplateBody)), nil
}

// CDKOutTemplate is where `cdk synth` writes a stack's template, relative to the CDK app.
func CDKOutTemplate(appDir, stack string) string {
	return filepath.Join(appDir, "cdk.out", stack+".template.json")
}

// Fields of a table's spec, named by their CloudFormation property paths so a difference reads
// the same way as the template the user wrote (or CDK wrote for them).
const (
	FieldKeySchema          = "KeySchema"
	FieldAttributes         = "AttributeDefinitions" // one field per attribute: AttributeDefinitions.<name>
	FieldBillingMode        = "BillingMode"
	FieldReadCapacity       = "ProvisionedThroughput.ReadCapacityUnits"
	FieldWriteCapacity      = "ProvisionedThroughput.WriteCapacityUnits"
	FieldDeletionProtection = "DeletionProtectionEnabled"
	FieldSSE                = "SSESpecification.SSEEnabled"
	FieldTTLEnabled         = "TimeToLiveSpecification.Enabled"
	FieldTTLAttribute       = "TimeToLiveSpecification.AttributeName"
	FieldPITR               = "PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled"
	FieldTags               = "Tags" // one field per tag: Tags.<key>
	FieldTableClass         = "TableClass"
)

// TableSpec is a table's configuration as flat fields (property path → canonical value), so
// a declared and a live table compare field by field and a difference reads as field,
// declared, live.
type TableSpec struct {
	LogicalID string
	TableName string // the literal TableName property; empty when CloudFormation names it
	Fields    map[string]string
	// Unresolved are fields whose declared value is an intrinsic function (Ref, Fn::…): only
	// CloudFormation can evaluate them, so they cannot be compared. A field here also covers
	// the fields beneath it ("Tags" covers "Tags.Stage").
	Unresolved []string
	// Exhaustive means the spec names every attribute definition and tag, so a live one it does
	// not name is drift. A partial spec (the wallet's essentials) only checks what it names.
	Exhaustive bool
	// Scaling is the table's auto scaling as the template's scalable targets and scaling
	// policies declare it, by dimension (Scaling.Key order); with an exhaustive spec, a
	// dimension not in it is declared fixed. FieldAutoScaling in Unresolved: not known.
	Scaling []Scaling
	// DeletionPolicy is the resource's: Delete (also when absent), Retain, RetainExceptOnCreate,
	// Snapshot, or "unknown" when an intrinsic function decides it. Teardown reads it to know
	// which tables will outlive their stack.
	DeletionPolicy string
}

// Skipped reports whether field is, or is beneath, an unresolved field.
func (s TableSpec) Skipped(field string) bool {
	for _, u := range s.Unresolved {
		if field == u || strings.HasPrefix(field, u+".") {
			return true
		}
	}
	return false
}

const intrinsicRef = "Ref"

// ParseTables reads every AWS::DynamoDB::Table resource of a JSON template, in logical-ID
// order, with the auto scaling the template declares for each. Properties CloudFormation defaults when absent get those defaults (a table declared
// without TimeToLiveSpecification must have TTL off), so a change made outside the template is
// caught even where the template is silent.
func ParseTables(body []byte) ([]TableSpec, error) {
	resources, err := decodeTemplate(body)
	if err != nil {
		return nil, err
	}
	scaling, err := parseScaling(resources)
	if err != nil {
		return nil, err
	}
	var specs []TableSpec
	for id, r := range resources {
		if r.Type != tableType {
			continue
		}
		s, err := parseTable(id, r.Properties)
		if err != nil {
			return nil, fmt.Errorf("resource %s: %w", id, err)
		}
		s.Scaling = scaling.byTable[id]
		if scaling.unknown {
			s.Unresolved = append(s.Unresolved, FieldAutoScaling)
			sort.Strings(s.Unresolved)
		}
		switch p := r.DeletionPolicy.(type) {
		case nil:
			s.DeletionPolicy = "Delete" // CloudFormation's default for a table
		case string:
			s.DeletionPolicy = p
		default:
			s.DeletionPolicy = "unknown" // an intrinsic function: only CloudFormation can say
		}
		specs = append(specs, s)
	}
	sort.Slice(specs, func(i, j int) bool { return specs[i].LogicalID < specs[j].LogicalID })
	return specs, nil
}

// resource is one resource of a template, as far as this package reads it.
type resource struct {
	Type           string         `json:"Type"`
	Condition      any            `json:"Condition"`
	DeletionPolicy any            `json:"DeletionPolicy"`
	Properties     map[string]any `json:"Properties"`
}

// decodeTemplate reads a JSON template's resources, numbers kept as written (json.Number), so
// that 1e3 or 5.0 reach the reader as the template wrote them, not as a float.
func decodeTemplate(body []byte) (map[string]resource, error) {
	var tpl struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := strictjson.Decode(body, &tpl, "a CloudFormation template as JSON, as CDK writes it (YAML is not supported)", strictjson.Options{UseNumber: true}); err != nil {
		return nil, fmt.Errorf("template: %w", err)
	}
	return tpl.Resources, nil
}

// ErrNoTable means a template declares no table that matches.
var ErrNoTable = errors.New("no matching " + tableType + " in template")

// SelectTable picks the wallet table among a template's tables: the only one, else the one with
// the given logical ID, else the one whose literal TableName is name.
func SelectTable(specs []TableSpec, logicalID, name string) (TableSpec, error) {
	if len(specs) == 1 {
		return specs[0], nil
	}
	for _, s := range specs {
		if (logicalID != "" && s.LogicalID == logicalID) || (name != "" && s.TableName == name) {
			return s, nil
		}
	}
	ids := make([]string, len(specs))
	for i, s := range specs {
		ids[i] = s.LogicalID
	}
	return TableSpec{}, fmt.Errorf("%d tables declared (%s), none with logical ID %q or TableName %q: %w",
		len(specs), strings.Join(ids, ", "), logicalID, name, ErrNoTable)
}

// parseTable reads one table resource in three stages: its keys, its settings (with the
// defaults CloudFormation applies), its tags.
func parseTable(id string, props map[string]any) (TableSpec, error) {
	s := TableSpec{LogicalID: id, Fields: map[string]string{}, Exhaustive: true}
	if n, ok := props["TableName"].(string); ok {
		s.TableName = n
	}
	p := tableParser{props: props, s: &s}
	for _, stage := range []func() error{p.keys, p.settings, p.tags} {
		if err := stage(); err != nil {
			return s, err
		}
	}
	sort.Strings(s.Unresolved)
	return s, nil
}

// tableParser fills one TableSpec from a resource's properties.
type tableParser struct {
	props map[string]any
	s     *TableSpec
}

func (p tableParser) unresolved(field string) {
	if !slices.Contains(p.s.Unresolved, field) {
		p.s.Unresolved = append(p.s.Unresolved, field)
	}
}

// keys reads KeySchema ("user_id HASH" or "pk HASH, sk RANGE", hash key first as DynamoDB
// reports it) and one field per attribute definition.
func (p tableParser) keys() error {
	if v, ok := p.props[FieldKeySchema]; ok {
		elems, err := pairs(v, "AttributeName", "KeyType")
		switch {
		case errors.Is(err, errIntrinsic):
			p.unresolved(FieldKeySchema)
		case err != nil:
			return fmt.Errorf("%s: %w", FieldKeySchema, err)
		default:
			ks := make([]dtypes.KeySchemaElement, len(elems))
			for i, e := range elems {
				ks[i] = dtypes.KeySchemaElement{AttributeName: aws.String(e[0]), KeyType: dtypes.KeyType(e[1])}
			}
			p.s.Fields[FieldKeySchema] = wallet.KeySchema(ks)
		}
	}
	if v, ok := p.props[FieldAttributes]; ok {
		defs, err := pairs(v, "AttributeName", "AttributeType")
		switch {
		case errors.Is(err, errIntrinsic):
			p.unresolved(FieldAttributes)
		case err != nil:
			return fmt.Errorf("%s: %w", FieldAttributes, err)
		default:
			for _, d := range defs {
				p.s.Fields[FieldAttributes+"."+d[0]] = d[1]
			}
		}
	}
	return nil
}

// settings reads the scalar properties, giving absent ones CloudFormation's default, so that a
// change made outside the template is caught even where the template is silent.
func (p tableParser) settings() error {
	defaults := []struct{ field, def string }{
		{FieldBillingMode, string(wallet.BillingProvisioned.Mode())}, // absent means provisioned
		{FieldDeletionProtection, "false"},
		{FieldSSE, "false"},
		{FieldTTLEnabled, "false"},
		{FieldTTLAttribute, ""},
		{FieldPITR, "false"},
		{FieldTableClass, string(wallet.ClassStandard.SDK())}, // absent means STANDARD
	}
	if _, ok := p.props["ProvisionedThroughput"]; ok {
		defaults = append(defaults, struct{ field, def string }{FieldReadCapacity, ""}, struct{ field, def string }{FieldWriteCapacity, ""})
	}
	for _, d := range defaults {
		if err := p.setting(d.field, d.def); err != nil {
			return err
		}
	}
	// A disabled TTL has no attribute that matters; comparing it would report noise.
	if p.s.Fields[FieldTTLEnabled] == "false" {
		delete(p.s.Fields, FieldTTLAttribute)
	}
	return nil
}

// setting reads Property or Property.Sub, where Property itself may be an intrinsic function.
func (p tableParser) setting(field, def string) error {
	prop, sub, nested := strings.Cut(field, ".")
	v, present := p.props[prop]
	if nested && present {
		if isIntrinsic(v) {
			p.unresolved(prop)
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: want an object, got %T", prop, v)
		}
		v, present = m[sub]
	}
	if !present {
		if def != "" {
			p.s.Fields[field] = def
		}
		return nil
	}
	str, err := scalarString(v)
	switch {
	case errors.Is(err, errIntrinsic):
		p.unresolved(field)
	case err != nil:
		return fmt.Errorf("%s: %w", field, err)
	default:
		p.s.Fields[field] = str
	}
	return nil
}

func (p tableParser) tags() error {
	if v, ok := p.props[FieldTags]; ok {
		return parseTags(p.s, v)
	}
	return nil
}

func parseTags(s *TableSpec, v any) error {
	if isIntrinsic(v) {
		s.Unresolved = append(s.Unresolved, FieldTags)
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("%s: want a list, got %T", FieldTags, v)
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || isIntrinsic(e) {
			// Without a literal key, no tag of the table can be said to be undeclared.
			s.Unresolved = append(s.Unresolved, FieldTags)
			return nil
		}
		k, ok := m["Key"].(string)
		if !ok {
			s.Unresolved = append(s.Unresolved, FieldTags)
			return nil
		}
		val, err := scalarString(m["Value"])
		switch {
		case errors.Is(err, errIntrinsic):
			s.Unresolved = append(s.Unresolved, FieldTags+"."+k)
		case err != nil:
			return fmt.Errorf("%s.%s: %w", FieldTags, k, err)
		default:
			s.Fields[FieldTags+"."+k] = val
		}
	}
	return nil
}

var errIntrinsic = errors.New("intrinsic function")

// isIntrinsic recognises {"Ref": …} and {"Fn::…": …}: values only CloudFormation can evaluate.
func isIntrinsic(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false
	}
	for k := range m {
		return k == intrinsicRef || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// scalarString canonicalises a literal: CloudFormation accepts 1 and "1", true and "true".
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), nil
	case json.Number:
		return x.String(), nil
	case bool:
		if x {
			return "true", nil
		}
		return "false", nil
	case nil:
		return "", fmt.Errorf("missing value")
	}
	if isIntrinsic(v) {
		return "", errIntrinsic
	}
	return "", fmt.Errorf("want a literal, got %T", v)
}

// pairs reads a list of objects as (a, b) pairs, e.g. KeySchema's AttributeName and KeyType.
func pairs(v any, a, b string) ([][2]string, error) {
	if isIntrinsic(v) {
		return nil, errIntrinsic
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %T", v)
	}
	out := make([][2]string, 0, len(list))
	for _, e := range list {
		if isIntrinsic(e) {
			return nil, errIntrinsic
		}
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want objects with %s and %s, got %T", a, b, e)
		}
		x, err := scalarString(m[a])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
		y, err := scalarString(m[b])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b, err)
		}
		out = append(out, [2]string{x, y})
	}
	return out, nil
}

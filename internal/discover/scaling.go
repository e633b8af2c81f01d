package discover

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
)

// The resources a template declares a table's auto scaling with.
const (
	ScalableTargetType = "AWS::ApplicationAutoScaling::ScalableTarget"
	ScalingPolicyType  = "AWS::ApplicationAutoScaling::ScalingPolicy"
)

// The dimensions of a table's (or an index's) capacity that Application Auto Scaling moves, in
// its ScalableDimension's last part.
const (
	DimensionRead  = "ReadCapacityUnits"
	DimensionWrite = "WriteCapacityUnits"
)

// Application Auto Scaling's words for DynamoDB.
const (
	ScalingNamespace   = "dynamodb"
	TargetTracking     = "TargetTrackingScaling"
	readUtilization    = "DynamoDBReadCapacityUtilization"
	writeUtilization   = "DynamoDBWriteCapacityUtilization"
	resourcePrefix     = "table/"
	indexResourceInfix = "/index/"
)

// FieldAutoScaling in a TableSpec's Unresolved means an intrinsic function names the table (or
// the dimension, or the target) of some scalable target or scaling policy of the template: which
// of its tables' dimensions are auto scaled cannot be known, so none is compared.
const FieldAutoScaling = "AutoScaling"

// Scaling is Application Auto Scaling declared (or live) for one dimension of a table or of one
// of its indexes: a scalable target from Min to Max units, and the policies that move it.
type Scaling struct {
	Index     string // "" for the table's own capacity
	Dimension string // DimensionRead or DimensionWrite
	Min, Max  int64
	Policies  []ScalingPolicy
	// Suspended names what of the target's scaling is suspended, comma-separated (scale-in,
	// scale-out, scheduled); "" when nothing is.
	Suspended string
	// Unresolved are the properties an intrinsic function gives (MinCapacity, MaxCapacity,
	// TargetValue): only CloudFormation evaluates them, so they cannot be compared.
	Unresolved []string
}

// ScalingPolicy is one scaling policy on a target.
type ScalingPolicy struct {
	Type string // TargetTrackingScaling or StepScaling
	// Metric is a target-tracking policy's predefined metric (DynamoDBReadCapacityUtilization);
	// "" for a customized metric or a step policy.
	Metric string
	Target float64 // a target-tracking policy's TargetValue: percent of the capacity consumed
}

// Name is the dimension as a message names it: ReadCapacityUnits, or index by_balance
// ReadCapacityUnits.
func (s Scaling) Name() string {
	if s.Index != "" {
		return "index " + s.Index + " " + s.Dimension
	}
	return s.Dimension
}

// ScalableDimension is Application Auto Scaling's name of the dimension:
// dynamodb:table:ReadCapacityUnits, dynamodb:index:WriteCapacityUnits.
func (s Scaling) ScalableDimension() string {
	if s.Index != "" {
		return ScalingNamespace + ":index:" + s.Dimension
	}
	return ScalingNamespace + ":table:" + s.Dimension
}

// ResourceID is Application Auto Scaling's name of the table (or its index) the target scales.
func (s Scaling) ResourceID(table string) string {
	if s.Index != "" {
		return resourcePrefix + table + indexResourceInfix + s.Index
	}
	return resourcePrefix + table
}

// UtilizationMetric is the predefined metric that tracks the dimension's utilization.
func UtilizationMetric(dimension string) string {
	if dimension == DimensionWrite {
		return writeUtilization
	}
	return readUtilization
}

// Target is the utilization a target-tracking policy on the dimension's own metric keeps it at,
// and whether one is declared.
func (s Scaling) Target() (float64, bool) {
	for _, p := range s.Policies {
		if p.Type == TargetTracking && p.Metric == UtilizationMetric(s.Dimension) {
			return p.Target, true
		}
	}
	return 0, false
}

// Key orders and matches dimensions: the table's, then each index's, reads before writes.
func (s Scaling) Key() string { return s.Index + "\x00" + s.Dimension }

// SortScaling puts dimensions in Key order, and each one's policies in a stable order.
func SortScaling(list []Scaling) {
	slices.SortFunc(list, func(a, b Scaling) int { return strings.Compare(a.Key(), b.Key()) })
	for i := range list {
		slices.SortFunc(list[i].Policies, func(a, b ScalingPolicy) int { return strings.Compare(a.key(), b.key()) })
	}
}

func (p ScalingPolicy) key() string {
	return p.Type + "\x00" + p.Metric + "\x00" + FormatTarget(p.Target)
}

// FormatTarget writes a TargetValue as the template would: 70, or 70.5.
func FormatTarget(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// TrackingPolicy is the target-tracking policy on the dimension's own utilization metric at
// target percent: what the wallet stack declares.
func TrackingPolicy(dimension string, target float64) ScalingPolicy {
	return ScalingPolicy{Type: TargetTracking, Metric: UtilizationMetric(dimension), Target: target}
}

// Suspension writes a target's SuspendedState as Scaling.Suspended does.
func Suspension(in, out, scheduled bool) string {
	var parts []string
	for _, p := range []struct {
		on   bool
		name string
	}{{in, "scale-in"}, {out, "scale-out"}, {scheduled, "scheduled"}} {
		if p.on {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, ", ")
}

// templateScaling is what a template's scalable targets and scaling policies declare for its
// tables: each table's (by logical ID) dimensions, and whether an intrinsic function hides
// which table some of them are for.
type templateScaling struct {
	byTable map[string][]Scaling
	unknown bool
}

// scalingTarget is one dynamodb scalable target of the template, as it is being read.
type scalingTarget struct {
	table   string // the table's logical ID
	scaling Scaling
}

// parseScaling reads every dynamodb AWS::ApplicationAutoScaling::ScalableTarget of the
// resources, and the scaling policies on them, for the template's tables. A target names its
// table as CDK writes it ({"Fn::Join": ["", ["table/", {"Ref": <table>}]]}), by Fn::Sub, or by
// the literal TableName; a target of a table the template does not declare is not the
// template's tables' business, and is left out. A policy names its target by ScalingTargetId
// (a Ref, as CDK writes it) or by the target's ResourceId and ScalableDimension.
func parseScaling(resources map[string]resource) (templateScaling, error) {
	ts := templateScaling{byTable: map[string][]Scaling{}}
	names := map[string]string{} // literal TableName → logical ID
	for id, r := range resources {
		if r.Type != tableType {
			continue
		}
		if n, ok := r.Properties["TableName"].(string); ok {
			names[n] = id
		}
	}
	targets := map[string]*scalingTarget{} // logical ID → target
	for _, id := range sortedIDs(resources) {
		r := resources[id]
		if r.Type != ScalableTargetType {
			continue
		}
		t, ours, err := parseTarget(r.Properties, resources, names)
		switch {
		case err == errIntrinsic:
			ts.unknown = true
			continue
		case err != nil:
			return ts, fmt.Errorf("resource %s (%s): %w", id, r.Type, err)
		case !ours:
			continue
		}
		targets[id] = &t
	}
	for _, id := range sortedIDs(resources) {
		r := resources[id]
		if r.Type != ScalingPolicyType {
			continue
		}
		if err := parsePolicy(r.Properties, resources, names, targets, &ts); err != nil {
			return ts, fmt.Errorf("resource %s (%s): %w", id, r.Type, err)
		}
	}
	for _, id := range sortedIDs(targets) {
		t := targets[id]
		for _, other := range ts.byTable[t.table] {
			if other.Key() == t.scaling.Key() {
				return ts, fmt.Errorf("resource %s (%s): a second scalable target for %s of table %s", id, ScalableTargetType, t.scaling.Name(), t.table)
			}
		}
		ts.byTable[t.table] = append(ts.byTable[t.table], t.scaling)
	}
	for _, list := range ts.byTable {
		SortScaling(list)
	}
	return ts, nil
}

// sortedIDs are a map's keys in order: the same template reads the same way every time.
func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// parseTarget reads one scalable target. ours is false for another service's target, and for a
// table the template does not declare; errIntrinsic means an intrinsic function hides which.
func parseTarget(props map[string]any, resources map[string]resource, names map[string]string) (scalingTarget, bool, error) {
	var t scalingTarget
	ns, err := scalarString(props["ServiceNamespace"])
	if err != nil {
		return t, false, err // errIntrinsic, or a namespace missing
	}
	if ns != ScalingNamespace {
		return t, false, nil
	}
	table, index, ours, err := scalingResource(props["ResourceId"], resources, names)
	if err != nil || !ours {
		return t, false, err
	}
	kind, dim, err := scalingDimension(props["ScalableDimension"])
	if err != nil {
		return t, false, err
	}
	if (kind == "index") != (index != "") {
		return t, false, fmt.Errorf("ScalableDimension %s does not scale a %s", shown(props["ScalableDimension"]), map[bool]string{true: "table's index", false: "table"}[index != ""])
	}
	t = scalingTarget{table: table, scaling: Scaling{Index: index, Dimension: dim}}
	s := &t.scaling
	for _, b := range []struct {
		prop string
		dst  *int64
	}{{"MinCapacity", &s.Min}, {"MaxCapacity", &s.Max}} {
		v, ok := props[b.prop]
		if !ok {
			return t, false, fmt.Errorf("%s is not declared", b.prop)
		}
		u, err := parseUnits(b.prop, v)
		if err != nil {
			return t, false, err
		}
		if u.Unknown {
			s.Unresolved = append(s.Unresolved, b.prop)
		}
		*b.dst = u.N
	}
	if !slices.Contains(s.Unresolved, "MinCapacity") && !slices.Contains(s.Unresolved, "MaxCapacity") && s.Min > s.Max {
		return t, false, fmt.Errorf("MinCapacity %d is above MaxCapacity %d", s.Min, s.Max)
	}
	if v, ok := props["SuspendedState"]; ok {
		if isIntrinsic(v) {
			s.Unresolved = append(s.Unresolved, "SuspendedState")
		} else if m, ok := v.(map[string]any); ok {
			on := func(k string) bool { b, _ := scalarString(m[k]); return b == "true" }
			s.Suspended = Suspension(on("DynamicScalingInSuspended"), on("DynamicScalingOutSuspended"), on("ScheduledScalingSuspended"))
		}
	}
	return t, true, nil
}

// parsePolicy reads one scaling policy onto the target it names.
func parsePolicy(props map[string]any, resources map[string]resource, names map[string]string, targets map[string]*scalingTarget, ts *templateScaling) error {
	var t *scalingTarget
	if v, ok := props["ScalingTargetId"]; ok {
		m, isMap := v.(map[string]any)
		ref, isRef := m[intrinsicRef].(string)
		switch {
		case isMap && isRef && len(m) == 1:
			if resources[ref].Type != ScalableTargetType {
				return fmt.Errorf("ScalingTargetId refers to %s, not a %s", cut(ref), ScalableTargetType)
			}
			t = targets[ref] // nil: another service's target, or one the template hides
		case isIntrinsic(v):
			ts.unknown = true
			return nil
		default:
			return nil // a target registered outside this template
		}
	} else {
		ns, err := scalarString(props["ServiceNamespace"])
		if err == errIntrinsic {
			ts.unknown = true
			return nil
		}
		if err != nil || ns != ScalingNamespace {
			return nil
		}
		table, index, ours, err := scalingResource(props["ResourceId"], resources, names)
		if err == errIntrinsic {
			ts.unknown = true
			return nil
		}
		if err != nil || !ours {
			return err
		}
		_, dim, err := scalingDimension(props["ScalableDimension"])
		if err != nil {
			return err
		}
		for _, c := range targets {
			if c.table == table && c.scaling.Index == index && c.scaling.Dimension == dim {
				t = c
			}
		}
	}
	if t == nil {
		return nil
	}
	p, unresolved, err := policyOf(props)
	if err != nil {
		return err
	}
	t.scaling.Policies = append(t.scaling.Policies, p)
	if unresolved && !slices.Contains(t.scaling.Unresolved, "TargetValue") {
		t.scaling.Unresolved = append(t.scaling.Unresolved, "TargetValue")
	}
	return nil
}

// policyOf reads a policy's type, and a target-tracking policy's metric and target.
func policyOf(props map[string]any) (ScalingPolicy, bool, error) {
	typ, err := scalarString(props["PolicyType"])
	if err != nil {
		return ScalingPolicy{}, false, fmt.Errorf("PolicyType: %w", err)
	}
	p := ScalingPolicy{Type: typ}
	if typ != TargetTracking {
		return p, false, nil
	}
	cfg, ok := props["TargetTrackingScalingPolicyConfiguration"].(map[string]any)
	if !ok {
		return p, false, fmt.Errorf("a %s policy without a TargetTrackingScalingPolicyConfiguration object", TargetTracking)
	}
	if spec, ok := cfg["PredefinedMetricSpecification"].(map[string]any); ok {
		if p.Metric, err = scalarString(spec["PredefinedMetricType"]); err == errIntrinsic {
			return p, true, nil
		} else if err != nil {
			return p, false, fmt.Errorf("PredefinedMetricSpecification.PredefinedMetricType: %w", err)
		}
	}
	v := cfg["TargetValue"]
	if isIntrinsic(v) {
		return p, true, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return p, false, fmt.Errorf("TargetValue: %w", err)
	}
	if p.Target, err = strconv.ParseFloat(s, 64); err != nil || p.Target <= 0 || p.Target > 100 {
		return p, false, fmt.Errorf("TargetValue %s: want a percentage above 0, at most 100", shown(v))
	}
	return p, false, nil
}

// scalingDimension reads a dynamodb ScalableDimension: dynamodb:table:ReadCapacityUnits and its
// kin.
func scalingDimension(v any) (kind, dim string, err error) {
	s, err := scalarString(v)
	if err != nil {
		return "", "", fmt.Errorf("ScalableDimension: %w", err)
	}
	parts := strings.Split(s, ":")
	if len(parts) == 3 && parts[0] == ScalingNamespace && (parts[1] == "table" || parts[1] == "index") &&
		(parts[2] == DimensionRead || parts[2] == DimensionWrite) {
		return parts[1], parts[2], nil
	}
	return "", "", fmt.Errorf("ScalableDimension %s: want dynamodb:table:ReadCapacityUnits, dynamodb:table:WriteCapacityUnits or their dynamodb:index: kin", shown(v))
}

// subRef is one ${…} of an Fn::Sub.
var subRef = regexp.MustCompile(`\$\{([^}]*)\}`)

// refMark stands for a Ref to a table of the template inside a resource id being read.
var refMark = regexp.MustCompile(`\x00([^\x00]*)\x00`)

// scalingResource reads a target's ResourceId, table/<table> or table/<table>/index/<index>,
// into the table's logical ID and the index. ours is false for a table the template does not
// declare; errIntrinsic means an intrinsic function other than a Ref to a table hides it.
func scalingResource(v any, resources map[string]resource, names map[string]string) (table, index string, ours bool, err error) {
	s, err := resourceString(v, resources)
	if err != nil {
		return "", "", false, err
	}
	rest, ok := strings.CutPrefix(s, resourcePrefix)
	if !ok {
		return "", "", false, fmt.Errorf("ResourceId %s: want table/<table>, or table/<table>/index/<index>", shown(v))
	}
	name, index, _ := strings.Cut(rest, indexResourceInfix)
	if m := refMark.FindStringSubmatch(name); m != nil && m[0] == name {
		return m[1], index, true, nil
	}
	if strings.Contains(name, "\x00") {
		return "", "", false, errIntrinsic // a Ref among other text: not a name this reader can know
	}
	id, ok := names[name]
	return id, index, ok, nil
}

// resourceString writes a ResourceId out, each Ref to a table of the template as a mark: a
// literal, an Fn::Join of literals and such Refs, or an Fn::Sub whose every ${…} is one.
func resourceString(v any, resources map[string]resource) (string, error) {
	ref := func(id string) (string, error) {
		if resources[id].Type != tableType {
			return "", errIntrinsic
		}
		return "\x00" + id + "\x00", nil
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", fmt.Errorf("ResourceId is not declared")
	case map[string]any:
		if len(x) != 1 {
			break
		}
		if id, ok := x[intrinsicRef].(string); ok {
			return ref(id)
		}
		if j, ok := x["Fn::Join"].([]any); ok && len(j) == 2 {
			sep, ok1 := j[0].(string)
			parts, ok2 := j[1].([]any)
			if !ok1 || !ok2 {
				return "", errIntrinsic
			}
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := resourceString(p, resources)
				if err != nil {
					return "", errIntrinsic
				}
				out[i] = s
			}
			return strings.Join(out, sep), nil
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			var bad bool
			out := subRef.ReplaceAllStringFunc(sub, func(m string) string {
				s, err := ref(m[2 : len(m)-1])
				bad = bad || err != nil
				return s
			})
			if bad {
				return "", errIntrinsic
			}
			return out, nil
		}
	}
	if isIntrinsic(v) {
		return "", errIntrinsic
	}
	return "", fmt.Errorf("ResourceId %s: want a string", shown(v))
}

// scalingResources writes a table's scaling as a template declares it (the shape CDK writes),
// for Declared to read back with the template's own parser.
func scalingResources(table string, list []Scaling) map[string]resource {
	out := map[string]resource{}
	for i, s := range list {
		target := fmt.Sprintf("%sScalingTarget%d", table, i)
		out[target] = resource{Type: ScalableTargetType, Properties: map[string]any{
			"ServiceNamespace":  ScalingNamespace,
			"ResourceId":        map[string]any{"Fn::Join": []any{"", []any{resourcePrefix, map[string]any{intrinsicRef: table}}}},
			"ScalableDimension": s.ScalableDimension(),
			"MinCapacity":       json.Number(strconv.FormatInt(s.Min, 10)),
			"MaxCapacity":       json.Number(strconv.FormatInt(s.Max, 10)),
		}}
		for j, p := range s.Policies {
			out[fmt.Sprintf("%sPolicy%d", target, j)] = resource{Type: ScalingPolicyType, Properties: map[string]any{
				"PolicyType":      p.Type,
				"ScalingTargetId": map[string]any{intrinsicRef: target},
				"TargetTrackingScalingPolicyConfiguration": map[string]any{
					"PredefinedMetricSpecification": map[string]any{"PredefinedMetricType": p.Metric},
					"TargetValue":                   json.Number(FormatTarget(p.Target)),
				},
			}}
		}
	}
	return out
}

// AutoScalingAPI is the two Application Auto Scaling reads of a table's auto scaling. Neither
// changes anything, and neither takes a resource in IAM.
type AutoScalingAPI interface {
	DescribeScalableTargets(ctx context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error)
	DescribeScalingPolicies(ctx context.Context, in *applicationautoscaling.DescribeScalingPoliciesInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalingPoliciesOutput, error)
}

// LiveScaling reads the scalable targets registered for table and for each of its indexes,
// and the scaling policies on them, in Key order: what Application Auto Scaling does to the
// table now, whoever registered it. Answers are matched by exact resource id and dimension,
// whatever the service returns beside them.
func LiveScaling(ctx context.Context, api AutoScalingAPI, table string, indexes []string) ([]Scaling, error) {
	ids := []string{resourcePrefix + table}
	for _, i := range indexes {
		ids = append(ids, resourcePrefix+table+indexResourceInfix+i)
	}
	var out []Scaling
	byKey := map[string]int{}       // resource id + dimension → index in out
	registered := map[string]bool{} // resource ids with a target
	pages := applicationautoscaling.NewDescribeScalableTargetsPaginator(api, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceIds: ids,
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("describe scalable targets of table %s: %w", table, err)
		}
		for _, t := range page.ScalableTargets {
			id := aws.ToString(t.ResourceId)
			if !slices.Contains(ids, id) || t.ServiceNamespace != aastypes.ServiceNamespaceDynamodb {
				continue
			}
			kind, dim, err := scalingDimension(string(t.ScalableDimension))
			_, index, _ := strings.Cut(id, indexResourceInfix)
			if err != nil || (kind == "index") != (index != "") {
				continue // not a dimension of this table's capacity
			}
			s := Scaling{Index: index, Dimension: dim, Min: int64(aws.ToInt32(t.MinCapacity)), Max: int64(aws.ToInt32(t.MaxCapacity))}
			if st := t.SuspendedState; st != nil {
				s.Suspended = Suspension(aws.ToBool(st.DynamicScalingInSuspended), aws.ToBool(st.DynamicScalingOutSuspended), aws.ToBool(st.ScheduledScalingSuspended))
			}
			byKey[id+"\x00"+string(t.ScalableDimension)] = len(out)
			registered[id] = true
			out = append(out, s)
		}
	}
	for _, id := range ids {
		if !registered[id] {
			continue // no target: no policy can be on it
		}
		pages := applicationautoscaling.NewDescribeScalingPoliciesPaginator(api, &applicationautoscaling.DescribeScalingPoliciesInput{
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(id),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe scaling policies of %s: %w", id, err)
			}
			for _, p := range page.ScalingPolicies {
				i, ok := byKey[aws.ToString(p.ResourceId)+"\x00"+string(p.ScalableDimension)]
				if !ok || aws.ToString(p.ResourceId) != id {
					continue
				}
				sp := ScalingPolicy{Type: string(p.PolicyType)}
				if c := p.TargetTrackingScalingPolicyConfiguration; c != nil {
					sp.Target = aws.ToFloat64(c.TargetValue)
					if m := c.PredefinedMetricSpecification; m != nil {
						sp.Metric = string(m.PredefinedMetricType)
					}
				}
				out[i].Policies = append(out[i].Policies, sp)
			}
		}
	}
	SortScaling(out)
	return out, nil
}

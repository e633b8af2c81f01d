package check

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// AutoScaling is what the checks read from Application Auto Scaling: the table's scalable
// targets and the policies on them. Nothing here can change either.
type AutoScaling = discover.AutoScalingAPI

// scalingField names a dimension's auto scaling, or one setting of it, in a Difference:
// "auto scaling ReadCapacityUnits max".
func scalingField(s discover.Scaling, setting string) string {
	f := "auto scaling " + s.Name()
	if setting != "" {
		f += " " + setting
	}
	return f
}

// scalingResult is what comparing the table's auto scaling found: its differences, what was
// compared, and the declared spec with the capacity fields auto scaling owns taken out (they are
// compared here, as ranges).
type scalingResult struct {
	declared discover.TableSpec
	diffs    []Difference
	// gaps are declared dimensions with no live target at all on a loopback endpoint, whose
	// CloudFormation (moto) creates no Application Auto Scaling resources.
	gaps     []Difference
	compared int
	notes    []string
}

// compareScaling compares the table's auto scaling with the declared, dimension by dimension
// (the table's reads and writes, and each index's): a dimension declared auto scaled needs its
// scalable target with the declared min and max, and its policies with the declared targets; a
// dimension declared fixed must have no target. While a dimension is auto scaled, its
// provisioned capacity anywhere from the declared min to max is the scaler's, not drift. Only
// a spec that says which dimensions scale (a template, or the stack's own contract) is
// compared: the wallet's essentials say nothing of capacity.
func compareScaling(ctx context.Context, api AutoScaling, localEndpoint string, declared discover.TableSpec, desc *types.TableDescription, liveFields map[string]string) (scalingResult, error) {
	res := scalingResult{declared: declared}
	if !declared.Exhaustive {
		return res, nil
	}
	table := aws.ToString(desc.TableName)
	if declared.Skipped(discover.FieldAutoScaling) {
		res.withoutCapacity()
		res.notes = append(res.notes, "capacity not compared: an intrinsic function hides which table some scalable target of the template scales")
		return res, nil
	}
	var indexes []string
	for _, g := range desc.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName))
	}
	// The capacity of an auto-scaled dimension is held to its declared range whatever the
	// endpoint can say of the scaling itself.
	res.capacityRanges(liveFields)
	if api == nil {
		res.notes = append(res.notes, "auto scaling not compared: no Application Auto Scaling client")
		return res, nil
	}
	live, err := discover.LiveScaling(ctx, api, table, indexes)
	switch {
	case unsupported(err):
		res.notes = append(res.notes, "not supported by this endpoint: DescribeScalableTargets (auto scaling not compared)")
		return res, nil
	case err != nil:
		return res, fmt.Errorf("read the auto scaling of %s: %w", table, err)
	}
	res.compareDimensions(declared.Scaling, live, indexes, localEndpoint)
	return res, nil
}

// withoutCapacity takes the table's capacity fields out of the declared spec (a copy: the spec
// handed in is the caller's).
func (r *scalingResult) withoutCapacity() {
	r.declared.Fields = maps.Clone(r.declared.Fields)
	delete(r.declared.Fields, discover.FieldReadCapacity)
	delete(r.declared.Fields, discover.FieldWriteCapacity)
}

// capacityRanges compares the table's provisioned capacity of each auto-scaled dimension with
// the declared range instead of the declared figure, which is only where the scaler started.
func (r *scalingResult) capacityRanges(live map[string]string) {
	r.declared.Fields = maps.Clone(r.declared.Fields)
	for _, s := range r.declared.Scaling {
		if s.Index != "" {
			continue // an index's capacity is not among the fields compared
		}
		field := discover.FieldReadCapacity
		if s.Dimension == discover.DimensionWrite {
			field = discover.FieldWriteCapacity
		}
		if _, ok := r.declared.Fields[field]; !ok || r.declared.Skipped(field) {
			continue
		}
		delete(r.declared.Fields, field)
		if slices.Contains(s.Unresolved, "MinCapacity") || slices.Contains(s.Unresolved, "MaxCapacity") {
			continue
		}
		r.compared++
		got, ok := live[field]
		n, err := strconv.ParseInt(got, 10, 64)
		if !ok || err != nil || n < s.Min || n > s.Max {
			if !ok {
				got = absent
			}
			r.diffs = append(r.diffs, Difference{Field: field, Declared: fmt.Sprintf("%d to %d (auto scaled)", s.Min, s.Max), Live: got})
		}
	}
}

// compareDimensions compares every dimension of the table and its indexes, declared against
// live.
func (r *scalingResult) compareDimensions(declared, live []discover.Scaling, indexes []string, localEndpoint string) {
	byKey := func(list []discover.Scaling) map[string]discover.Scaling {
		m := map[string]discover.Scaling{}
		for _, s := range list {
			m[s.Key()] = s
		}
		return m
	}
	d, l := byKey(declared), byKey(live)
	var dims []discover.Scaling
	for _, index := range append([]string{""}, indexes...) {
		for _, dim := range []string{discover.DimensionRead, discover.DimensionWrite} {
			dims = append(dims, discover.Scaling{Index: index, Dimension: dim})
		}
	}
	for _, s := range declared { // a declared index the table does not have
		if !slices.ContainsFunc(dims, func(x discover.Scaling) bool { return x.Key() == s.Key() }) {
			dims = append(dims, s)
		}
	}
	var summary []string
	for _, dim := range dims {
		ds, declaredOK := d[dim.Key()]
		ls, liveOK := l[dim.Key()]
		r.compared++
		switch {
		case !declaredOK && !liveOK:
			continue
		case declaredOK && !liveOK:
			diff := Difference{Field: scalingField(ds, ""), Declared: scalingText(ds), Live: absent}
			if localEndpoint != "" {
				r.gaps = append(r.gaps, diff)
			} else {
				r.diffs = append(r.diffs, diff)
			}
		case !declaredOK && liveOK:
			r.diffs = append(r.diffs, Difference{Field: scalingField(ls, ""), Declared: absent, Live: scalingText(ls)})
		default:
			before := len(r.diffs)
			r.compareOne(ds, ls)
			if len(r.diffs) == before {
				summary = append(summary, ds.Name()+" "+scalingText(ds))
			}
		}
	}
	if len(summary) > 0 {
		r.notes = append(r.notes, "auto scaling as declared: "+strings.Join(summary, "; ")+" (capacity within each range is the scaler's)")
	}
}

// compareOne compares one dimension both sides auto scale: its range, what is suspended, and
// its policies, matched by type and metric.
func (r *scalingResult) compareOne(ds, ls discover.Scaling) {
	skip := func(p string) bool { return slices.Contains(ds.Unresolved, p) }
	for _, c := range []struct {
		setting, prop string
		d, l          int64
	}{{"min", "MinCapacity", ds.Min, ls.Min}, {"max", "MaxCapacity", ds.Max, ls.Max}} {
		if skip(c.prop) {
			continue
		}
		r.compared++
		if c.d != c.l {
			r.diffs = append(r.diffs, Difference{Field: scalingField(ds, c.setting), Declared: strconv.FormatInt(c.d, 10), Live: strconv.FormatInt(c.l, 10)})
		}
	}
	if !skip("SuspendedState") {
		r.compared++
		if ds.Suspended != ls.Suspended {
			r.diffs = append(r.diffs, Difference{Field: scalingField(ds, "suspended"), Declared: noneIfEmpty(ds.Suspended), Live: noneIfEmpty(ls.Suspended)})
		}
	}
	used := make([]bool, len(ls.Policies))
	for _, dp := range ds.Policies {
		r.compared++
		i := -1
		for j, lp := range ls.Policies {
			if !used[j] && lp.Type == dp.Type && lp.Metric == dp.Metric {
				i = j
				break
			}
		}
		if i < 0 {
			r.diffs = append(r.diffs, Difference{Field: scalingField(ds, "policy"), Declared: policyText(dp), Live: absent})
			continue
		}
		used[i] = true
		lp := ls.Policies[i]
		if dp.Type != discover.TargetTracking || skip("TargetValue") || dp.Target == lp.Target {
			continue
		}
		setting := "target"
		if dp.Metric != discover.UtilizationMetric(ds.Dimension) {
			setting += " (" + dp.Metric + ")"
		}
		r.diffs = append(r.diffs, Difference{Field: scalingField(ds, setting), Declared: discover.FormatTarget(dp.Target), Live: discover.FormatTarget(lp.Target)})
	}
	for i, lp := range ls.Policies {
		if !used[i] {
			r.compared++
			r.diffs = append(r.diffs, Difference{Field: scalingField(ds, "policy"), Declared: absent, Live: policyText(lp)})
		}
	}
}

// scalingText is a dimension's auto scaling in a few words: "min 1, max 10, target 70".
func scalingText(s discover.Scaling) string {
	text := fmt.Sprintf("min %d, max %d", s.Min, s.Max)
	if t, ok := s.Target(); ok {
		text += ", target " + discover.FormatTarget(t)
	} else if len(s.Policies) == 0 {
		text += ", no policy"
	}
	for _, p := range s.Policies {
		if p.Type != discover.TargetTracking || p.Metric != discover.UtilizationMetric(s.Dimension) {
			text += ", " + policyText(p)
		}
	}
	if s.Suspended != "" {
		text += ", suspended " + s.Suspended
	}
	return text
}

// policyText is one policy in a few words: "target tracking DynamoDBReadCapacityUtilization at
// 70", or "StepScaling".
func policyText(p discover.ScalingPolicy) string {
	if p.Type != discover.TargetTracking {
		return p.Type
	}
	metric := p.Metric
	if metric == "" {
		metric = "a customized metric"
	}
	return fmt.Sprintf("target tracking %s at %s", metric, discover.FormatTarget(p.Target))
}

func noneIfEmpty(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

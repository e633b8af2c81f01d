package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Config is a table's whole configuration, as DynamoDB and Application Auto Scaling describe
// it: everything a restore must bring back. A restore from a backup brings back the keys, the
// indexes and the items; the rest (tags, TTL, PITR, stream, auto scaling, deletion protection,
// contributor insights, Kinesis destinations, table class, capacity) is what `verify undo`
// re-applies from here, and then compares with Diff.
type Config struct {
	KeySchema            []Key       `json:"key_schema"`
	AttributeDefinitions []Attribute `json:"attribute_definitions"`
	// BillingMode is PROVISIONED or PAY_PER_REQUEST.
	BillingMode string `json:"billing_mode"`
	// Capacity is the provisioned read and write capacity (nil on demand).
	Capacity *Capacity `json:"capacity,omitempty"`
	// OnDemandMax is an on-demand table's maximum request units (nil: none set).
	OnDemandMax *Capacity `json:"on_demand_max,omitempty"`
	// TableClass is STANDARD or STANDARD_INFREQUENT_ACCESS (STANDARD when DynamoDB says none).
	TableClass    string  `json:"table_class"`
	GlobalIndexes []Index `json:"global_secondary_indexes,omitempty"`
	LocalIndexes  []Index `json:"local_secondary_indexes,omitempty"`
	Stream        Stream  `json:"stream"`
	// TTL, PITR and ContributorInsights are nil when the endpoint would not describe them
	// (Unread says so): they are then neither re-applied nor compared.
	TTL                *TTL  `json:"ttl,omitempty"`
	PITR               *PITR `json:"pitr,omitempty"`
	DeletionProtection bool  `json:"deletion_protection"`
	SSE                SSE   `json:"sse"`
	// Tags are every tag the table carried, CloudFormation's aws:* ones too (those no one can
	// set again: Carried says which are re-applied).
	Tags map[string]string `json:"tags"`
	// ContributorInsights is the status of the table's ("" key) and each global index's
	// CloudWatch Contributor Insights: ENABLED or DISABLED.
	ContributorInsights map[string]string `json:"contributor_insights,omitempty"`
	// Kinesis are the Kinesis data streams the table's changes were sent to.
	Kinesis []Kinesis `json:"kinesis_destinations,omitempty"`
	// AutoScaling are the table's and its indexes' scalable targets, with their policies.
	AutoScaling []ScalableTarget `json:"auto_scaling,omitempty"`
	// Unread names each part the endpoint does not serve (moto has no Contributor Insights):
	// not recorded, so neither re-applied nor compared.
	Unread []string `json:"unread,omitempty"`
	// Settling names what is still being changed (the table or an index UPDATING, TTL or
	// Contributor Insights ENABLING, …): a configuration is in effect only once none is. Read,
	// never recorded.
	Settling []string `json:"-"`
}

// The parts of a Config that may be Unread.
const (
	PartTTL                 = "time-to-live"
	PartPITR                = "point-in-time-recovery"
	PartContributorInsights = "contributor-insights"
	PartKinesis             = "kinesis-destinations"
	PartAutoScaling         = "auto-scaling"
)

// Key is one element of a key schema.
type Key struct {
	Attribute string `json:"attribute"`
	Type      string `json:"type"` // HASH or RANGE
}

// Attribute is one attribute definition.
type Attribute struct {
	Name string `json:"name"`
	Type string `json:"type"` // S, N or B
}

// Capacity is a pair of read and write units.
type Capacity struct {
	Read  int64 `json:"read"`
	Write int64 `json:"write"`
}

func (c *Capacity) String() string {
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("%d read / %d write", c.Read, c.Write)
}

// Index is a secondary index.
type Index struct {
	Name           string   `json:"name"`
	KeySchema      []Key    `json:"key_schema"`
	ProjectionType string   `json:"projection_type"`
	NonKey         []string `json:"non_key_attributes,omitempty"`
	// Capacity and OnDemandMax are a global index's own.
	Capacity    *Capacity `json:"capacity,omitempty"`
	OnDemandMax *Capacity `json:"on_demand_max,omitempty"`
}

// Stream is the table's DynamoDB stream.
type Stream struct {
	Enabled  bool   `json:"enabled"`
	ViewType string `json:"view_type,omitempty"`
}

// TTL is the table's time to live.
type TTL struct {
	Enabled   bool   `json:"enabled"`
	Attribute string `json:"attribute,omitempty"`
}

// PITR is point-in-time recovery.
type PITR struct {
	Enabled bool `json:"enabled"`
	// RecoveryPeriodDays is the recovery window (AWS: 1 to 35; 0 when not said).
	RecoveryPeriodDays int32 `json:"recovery_period_days,omitempty"`
}

// SSE is the table's encryption at rest: Type "" is DynamoDB's own key (the default), KMS a
// KMS key (KMSKey: its ARN, the AWS managed key or the customer's).
type SSE struct {
	Type   string `json:"type,omitempty"`
	KMSKey string `json:"kms_key,omitempty"`
}

// Kinesis is one Kinesis data stream destination.
type Kinesis struct {
	StreamARN string `json:"stream_arn"`
	Precision string `json:"precision,omitempty"` // MILLISECOND or MICROSECOND
}

// ScalableTarget is one scalable dimension of the table ("table") or of a global index
// ("index/<name>"), with its scaling policies.
type ScalableTarget struct {
	Resource  string `json:"resource"`
	Dimension string `json:"dimension"`
	Min       int32  `json:"min"`
	Max       int32  `json:"max"`
	// Suspended are the target's suspended activities (dynamic in, dynamic out, scheduled).
	Suspended *Suspended      `json:"suspended,omitempty"`
	Policies  []ScalingPolicy `json:"policies,omitempty"`
}

// Suspended is a scalable target's SuspendedState.
type Suspended struct {
	DynamicIn  bool `json:"dynamic_in,omitempty"`
	DynamicOut bool `json:"dynamic_out,omitempty"`
	Scheduled  bool `json:"scheduled,omitempty"`
}

// ScalingPolicy is one scaling policy of a target (DynamoDB scales by target tracking).
type ScalingPolicy struct {
	Name           string                                             `json:"name"`
	Type           string                                             `json:"type"`
	TargetTracking *aastypes.TargetTrackingScalingPolicyConfiguration `json:"target_tracking,omitempty"`
	StepScaling    *aastypes.StepScalingPolicyConfiguration           `json:"step_scaling,omitempty"`
}

// ResourceID is Application Auto Scaling's id of a target's resource on table.
func ResourceID(table, resource string) string {
	if resource == "table" {
		return "table/" + table
	}
	return "table/" + table + "/" + resource
}

// Reader is what capturing a configuration reads of DynamoDB.
type Reader interface {
	discover.TableDescriber
	discover.TagLister
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	DescribeContributorInsights(ctx context.Context, in *dynamodb.DescribeContributorInsightsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContributorInsightsOutput, error)
	DescribeKinesisStreamingDestination(ctx context.Context, in *dynamodb.DescribeKinesisStreamingDestinationInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeKinesisStreamingDestinationOutput, error)
}

// ScalingReader is what capturing reads of Application Auto Scaling.
type ScalingReader interface {
	DescribeScalableTargets(ctx context.Context, in *applicationautoscaling.DescribeScalableTargetsInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalableTargetsOutput, error)
	DescribeScalingPolicies(ctx context.Context, in *applicationautoscaling.DescribeScalingPoliciesInput, optFns ...func(*applicationautoscaling.Options)) (*applicationautoscaling.DescribeScalingPoliciesOutput, error)
}

// Capture reads the whole configuration of table: DescribeTable, DescribeTimeToLive,
// DescribeContinuousBackups, DescribeContributorInsights (the table and each global index),
// DescribeKinesisStreamingDestination, ListTagsOfResource, and Application Auto Scaling's
// targets and policies of the table and its indexes. It returns the description it read the
// configuration from (nil, with no error, when the table does not exist), so the caller can
// check the identity. A part the endpoint does not serve is named in Unread; any other failure
// is an error: a record must not say less than the table had.
func Capture(ctx context.Context, db Reader, as ScalingReader, table string) (*types.TableDescription, Config, error) {
	d, err := discover.DescribeTable(ctx, db, table)
	if err != nil || d == nil {
		return nil, Config{}, err
	}
	c := fromDescription(d)
	tags, err := discover.TableTags(ctx, db, aws.ToString(d.TableArn))
	if err != nil {
		return d, c, fmt.Errorf("tags of %s: %w", table, err)
	}
	c.Tags = tags
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)}, unservedIsFinal)
	switch {
	case unserved(err):
		c.Unread = append(c.Unread, PartTTL)
	case err != nil:
		return d, c, fmt.Errorf("time to live of %s: %w", table, err)
	case ttl.TimeToLiveDescription != nil:
		s := ttl.TimeToLiveDescription.TimeToLiveStatus
		if s == types.TimeToLiveStatusEnabling || s == types.TimeToLiveStatusDisabling {
			c.Settling = append(c.Settling, "time to live "+string(s))
		}
		c.TTL = &TTL{Enabled: s == types.TimeToLiveStatusEnabled || s == types.TimeToLiveStatusEnabling,
			Attribute: aws.ToString(ttl.TimeToLiveDescription.AttributeName)}
		if !c.TTL.Enabled {
			c.TTL.Attribute = ""
		}
	default:
		c.TTL = &TTL{}
	}
	cb, err := db.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)}, unservedIsFinal)
	switch {
	case unserved(err):
		c.Unread = append(c.Unread, PartPITR)
	case err != nil:
		return d, c, fmt.Errorf("point-in-time recovery of %s: %w", table, err)
	default:
		c.PITR = &PITR{}
		if p := cb.ContinuousBackupsDescription; p != nil && p.PointInTimeRecoveryDescription != nil {
			c.PITR.Enabled = p.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled
			if c.PITR.Enabled {
				c.PITR.RecoveryPeriodDays = aws.ToInt32(p.PointInTimeRecoveryDescription.RecoveryPeriodInDays)
			}
		}
	}
	if err := c.readInsights(ctx, db, table); err != nil {
		return d, c, err
	}
	if err := c.readKinesis(ctx, db, table); err != nil {
		return d, c, err
	}
	if err := c.readScaling(ctx, as, table); err != nil {
		return d, c, err
	}
	return d, c, nil
}

// fromDescription is what DescribeTable alone says.
func fromDescription(d *types.TableDescription) Config {
	c := Config{BillingMode: string(wallet.BillingOf(d).Mode()), TableClass: string(types.TableClassStandard),
		DeletionProtection: aws.ToBool(d.DeletionProtectionEnabled)}
	if d.TableStatus != types.TableStatusActive {
		c.Settling = append(c.Settling, "table "+string(d.TableStatus))
	}
	c.KeySchema = keysOf(d.KeySchema)
	for _, a := range d.AttributeDefinitions {
		c.AttributeDefinitions = append(c.AttributeDefinitions, Attribute{aws.ToString(a.AttributeName), string(a.AttributeType)})
	}
	slices.SortFunc(c.AttributeDefinitions, func(a, b Attribute) int { return strings.Compare(a.Name, b.Name) })
	if c.BillingMode == string(types.BillingModeProvisioned) {
		c.Capacity = capacityOf(d.ProvisionedThroughput)
	}
	c.OnDemandMax = onDemandOf(d.OnDemandThroughput)
	if d.TableClassSummary != nil && d.TableClassSummary.TableClass != "" {
		c.TableClass = string(d.TableClassSummary.TableClass)
	}
	for _, g := range d.GlobalSecondaryIndexes {
		ix := Index{Name: aws.ToString(g.IndexName), KeySchema: keysOf(g.KeySchema)}
		ix.ProjectionType, ix.NonKey = projectionOf(g.Projection)
		if c.BillingMode == string(types.BillingModeProvisioned) {
			ix.Capacity = capacityOf(g.ProvisionedThroughput)
		}
		ix.OnDemandMax = onDemandOf(g.OnDemandThroughput)
		if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
			c.Settling = append(c.Settling, "index "+ix.Name+" "+string(g.IndexStatus))
		}
		c.GlobalIndexes = append(c.GlobalIndexes, ix)
	}
	for _, l := range d.LocalSecondaryIndexes {
		ix := Index{Name: aws.ToString(l.IndexName), KeySchema: keysOf(l.KeySchema)}
		ix.ProjectionType, ix.NonKey = projectionOf(l.Projection)
		c.LocalIndexes = append(c.LocalIndexes, ix)
	}
	byName := func(a, b Index) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(c.GlobalIndexes, byName)
	slices.SortFunc(c.LocalIndexes, byName)
	if s := d.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		c.Stream = Stream{Enabled: true, ViewType: string(s.StreamViewType)}
	}
	if s := d.SSEDescription; s != nil && (s.Status == types.SSEStatusEnabled || s.Status == types.SSEStatusEnabling || s.Status == types.SSEStatusUpdating) {
		if s.Status != types.SSEStatusEnabled {
			c.Settling = append(c.Settling, "encryption "+string(s.Status))
		}
		c.SSE = SSE{Type: string(s.SSEType), KMSKey: aws.ToString(s.KMSMasterKeyArn)}
		if c.SSE.Type == "" {
			c.SSE.Type = string(types.SSETypeKms)
		}
	}
	return c
}

func keysOf(ks []types.KeySchemaElement) []Key {
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = Key{aws.ToString(k.AttributeName), string(k.KeyType)}
	}
	return out
}

func capacityOf(p any) *Capacity {
	switch t := p.(type) {
	case *types.ProvisionedThroughputDescription:
		if t == nil {
			return nil
		}
		return &Capacity{aws.ToInt64(t.ReadCapacityUnits), aws.ToInt64(t.WriteCapacityUnits)}
	}
	return nil
}

func onDemandOf(o *types.OnDemandThroughput) *Capacity {
	if o == nil || (aws.ToInt64(o.MaxReadRequestUnits) <= 0 && aws.ToInt64(o.MaxWriteRequestUnits) <= 0) {
		return nil
	}
	return &Capacity{aws.ToInt64(o.MaxReadRequestUnits), aws.ToInt64(o.MaxWriteRequestUnits)}
}

func projectionOf(p *types.Projection) (string, []string) {
	if p == nil {
		return "", nil
	}
	nk := slices.Clone(p.NonKeyAttributes)
	slices.Sort(nk)
	return string(p.ProjectionType), nk
}

// readInsights reads Contributor Insights of the table and of each global index.
func (c *Config) readInsights(ctx context.Context, db Reader, table string) error {
	names := []string{""}
	for _, g := range c.GlobalIndexes {
		names = append(names, g.Name)
	}
	got := map[string]string{}
	for _, ix := range names {
		in := &dynamodb.DescribeContributorInsightsInput{TableName: aws.String(table)}
		if ix != "" {
			in.IndexName = aws.String(ix)
		}
		out, err := db.DescribeContributorInsights(ctx, in, unservedIsFinal)
		switch {
		case unserved(err):
			c.Unread = append(c.Unread, PartContributorInsights)
			return nil
		case err != nil:
			return fmt.Errorf("contributor insights of %s %s: %w", table, ix, err)
		}
		s := out.ContributorInsightsStatus
		if s == types.ContributorInsightsStatusEnabling || s == types.ContributorInsightsStatusDisabling {
			c.Settling = append(c.Settling, "contributor insights "+ix+" "+string(s))
		}
		if s == types.ContributorInsightsStatusEnabled || s == types.ContributorInsightsStatusEnabling {
			got[ix] = string(types.ContributorInsightsStatusEnabled)
		} else {
			got[ix] = string(types.ContributorInsightsStatusDisabled)
		}
	}
	c.ContributorInsights = got
	return nil
}

// readKinesis reads the Kinesis data stream destinations that are on (or being turned on).
func (c *Config) readKinesis(ctx context.Context, db Reader, table string) error {
	out, err := db.DescribeKinesisStreamingDestination(ctx, &dynamodb.DescribeKinesisStreamingDestinationInput{TableName: aws.String(table)}, unservedIsFinal)
	switch {
	case unserved(err):
		c.Unread = append(c.Unread, PartKinesis)
		return nil
	case err != nil:
		return fmt.Errorf("kinesis destinations of %s: %w", table, err)
	}
	for _, k := range out.KinesisDataStreamDestinations {
		if k.DestinationStatus == types.DestinationStatusEnabling || k.DestinationStatus == types.DestinationStatusUpdating || k.DestinationStatus == types.DestinationStatusDisabling {
			c.Settling = append(c.Settling, "kinesis destination "+aws.ToString(k.StreamArn)+" "+string(k.DestinationStatus))
		}
		if k.DestinationStatus == types.DestinationStatusActive || k.DestinationStatus == types.DestinationStatusEnabling || k.DestinationStatus == types.DestinationStatusUpdating {
			c.Kinesis = append(c.Kinesis, Kinesis{StreamARN: aws.ToString(k.StreamArn), Precision: string(k.ApproximateCreationDateTimePrecision)})
		}
	}
	slices.SortFunc(c.Kinesis, func(a, b Kinesis) int { return strings.Compare(a.StreamARN, b.StreamARN) })
	return nil
}

// readScaling reads the scalable targets of the table and of each global index, and their
// policies, from Application Auto Scaling (DynamoDB's namespace).
func (c *Config) readScaling(ctx context.Context, as ScalingReader, table string) error {
	if as == nil {
		c.Unread = append(c.Unread, PartAutoScaling)
		return nil
	}
	resources := []string{"table"}
	for _, g := range c.GlobalIndexes {
		resources = append(resources, "index/"+g.Name)
	}
	ids := make([]string, len(resources))
	byID := map[string]string{}
	for i, r := range resources {
		ids[i] = ResourceID(table, r)
		byID[ids[i]] = r
	}
	var targets []aastypes.ScalableTarget
	p := applicationautoscaling.NewDescribeScalableTargetsPaginator(as, &applicationautoscaling.DescribeScalableTargetsInput{
		ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceIds: ids})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, scalingUnservedIsFinal)
		if unserved(err) {
			c.Unread = append(c.Unread, PartAutoScaling)
			return nil
		}
		if err != nil {
			return fmt.Errorf("scalable targets of %s: %w", table, err)
		}
		targets = append(targets, page.ScalableTargets...)
	}
	policies := map[string][]aastypes.ScalingPolicy{}
	for _, id := range ids {
		if !slices.ContainsFunc(targets, func(t aastypes.ScalableTarget) bool { return aws.ToString(t.ResourceId) == id }) {
			continue
		}
		pp := applicationautoscaling.NewDescribeScalingPoliciesPaginator(as, &applicationautoscaling.DescribeScalingPoliciesInput{
			ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String(id)})
		for pp.HasMorePages() {
			page, err := pp.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("scaling policies of %s: %w", id, err)
			}
			policies[id] = append(policies[id], page.ScalingPolicies...)
		}
	}
	for _, t := range targets {
		id := aws.ToString(t.ResourceId)
		r, ok := byID[id]
		if !ok {
			continue // another resource's, whatever the answer held
		}
		st := ScalableTarget{Resource: r, Dimension: string(t.ScalableDimension), Min: aws.ToInt32(t.MinCapacity), Max: aws.ToInt32(t.MaxCapacity)}
		if s := t.SuspendedState; s != nil && (aws.ToBool(s.DynamicScalingInSuspended) || aws.ToBool(s.DynamicScalingOutSuspended) || aws.ToBool(s.ScheduledScalingSuspended)) {
			st.Suspended = &Suspended{aws.ToBool(s.DynamicScalingInSuspended), aws.ToBool(s.DynamicScalingOutSuspended), aws.ToBool(s.ScheduledScalingSuspended)}
		}
		for _, pol := range policies[id] {
			if pol.ScalableDimension != t.ScalableDimension {
				continue
			}
			st.Policies = append(st.Policies, ScalingPolicy{Name: aws.ToString(pol.PolicyName), Type: string(pol.PolicyType),
				TargetTracking: pol.TargetTrackingScalingPolicyConfiguration, StepScaling: pol.StepScalingPolicyConfiguration})
		}
		slices.SortFunc(st.Policies, func(a, b ScalingPolicy) int { return strings.Compare(a.Name, b.Name) })
		c.AutoScaling = append(c.AutoScaling, st)
	}
	slices.SortFunc(c.AutoScaling, func(a, b ScalableTarget) int {
		return strings.Compare(a.Resource+" "+a.Dimension, b.Resource+" "+b.Dimension)
	})
	return nil
}

// unservedIsFinal makes an answer that the endpoint does not serve the operation final: not a
// fault to send again. The SDK retries moto's 500 for an action it has not implemented as it
// would any 500, up to its attempts with backoff (four questions in all on the local cloud),
// each time only to hear the same; and on a loaded machine each retry is one more chance to
// lose an answer's body on the way, and with it what said "not served". Every other error is
// retried as the client's retryer decides.
func unservedIsFinal(o *dynamodb.Options) { o.Retryer = finalWhenUnserved{o.Retryer} }

// scalingUnservedIsFinal is unservedIsFinal for Application Auto Scaling's reads.
func scalingUnservedIsFinal(o *applicationautoscaling.Options) {
	o.Retryer = finalWhenUnserved{o.Retryer}
}

// finalWhenUnserved is a retryer that is the client's own but for the unserved answer.
type finalWhenUnserved struct{ aws.Retryer }

func (r finalWhenUnserved) IsErrorRetryable(err error) bool {
	return !unserved(err) && r.Retryer.IsErrorRetryable(err)
}

// GetAttemptToken keeps the client's retryer a RetryerV2 when it is one (the SDK asks for it).
func (r finalWhenUnserved) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if v2, ok := r.Retryer.(aws.RetryerV2); ok {
		return v2.GetAttemptToken(ctx)
	}
	return r.Retryer.GetInitialToken(), nil
}

// unserved: the endpoint does not serve the operation at all. DynamoDB Local answers
// UnknownOperationException; moto answers 500 with a NotImplementedError for an action it has
// not implemented (DescribeContributorInsights, DescribeKinesisStreamingDestination).
func unserved(err error) bool {
	if err == nil {
		return false
	}
	if discover.Unsupported(err) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "NotImplementedError" || strings.Contains(ae.ErrorMessage(), "has not been implemented")) {
		return true
	}
	// moto's server answers an action it has not implemented with a 500 and an HTML page, which
	// no AWS service answers (their errors are JSON): the SDK can only say it could not decode it.
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == 500 && strings.Contains(err.Error(), "deserialization failed") &&
		strings.Contains(err.Error(), "invalid character '<'") {
		return true
	}
	return strings.Contains(err.Error(), "has not been implemented")
}

// Carried reports whether undo re-applies a tag of the record: not CloudFormation's aws:* tags
// (no one may set those), not the janitor's mark (signed for the deleted table, it means
// nothing on the restored one), not restore's and undo's own tags (they say which run made the
// table, not what it was).
func Carried(key string) bool {
	switch {
	case strings.HasPrefix(strings.ToLower(key), "aws:"):
		return false
	case key == wallet.TagJanitorDeleteAfter, key == wallet.TagUndoRecord, key == archive.TagRestoreRun:
		return false
	}
	return true
}

// CarriedTags are the tags undo re-applies.
func (c Config) CarriedTags() map[string]string {
	out := map[string]string{}
	for k, v := range c.Tags {
		if Carried(k) {
			out[k] = v
		}
	}
	return out
}

// Unreads reports whether part was not read.
func (c Config) Unreads(part string) bool { return slices.Contains(c.Unread, part) }

// Diff names every difference between the configuration recorded (want) and the one read now
// (got), one a line, in the order a person reads a table: keys, capacity, indexes, settings,
// tags, auto scaling. Tags that are not Carried, and parts the record could not read, are not
// compared; a part the record has and that could not be read now is a difference.
func Diff(want, got Config) []string {
	var d []string
	add := func(what string, w, g any) {
		if ws, gs := show(w), show(g); ws != gs {
			d = append(d, fmt.Sprintf("%s: recorded %s, now %s", what, ws, gs))
		}
	}
	add("key schema", want.KeySchema, got.KeySchema)
	add("attribute definitions", want.AttributeDefinitions, got.AttributeDefinitions)
	add("billing mode", want.BillingMode, got.BillingMode)
	if want.BillingMode == string(types.BillingModeProvisioned) {
		add("provisioned capacity", want.Capacity.String(), got.Capacity.String())
	} else {
		add("on-demand maximum", want.OnDemandMax.String(), got.OnDemandMax.String())
	}
	add("table class", want.TableClass, got.TableClass)
	d = append(d, indexDiff("global secondary index", want.GlobalIndexes, got.GlobalIndexes, want.BillingMode)...)
	d = append(d, indexDiff("local secondary index", want.LocalIndexes, got.LocalIndexes, want.BillingMode)...)
	add("stream", streamText(want.Stream), streamText(got.Stream))
	add("deletion protection", onOff(want.DeletionProtection), onOff(got.DeletionProtection))
	add("encryption", sseText(want.SSE), sseText(got.SSE))
	if !want.Unreads(PartTTL) {
		if got.Unreads(PartTTL) {
			d = append(d, "time to live: recorded "+ttlText(want.TTL)+", now unreadable")
		} else {
			add("time to live", ttlText(want.TTL), ttlText(got.TTL))
		}
	}
	if !want.Unreads(PartPITR) {
		if got.Unreads(PartPITR) {
			d = append(d, "point-in-time recovery: recorded "+pitrText(want.PITR)+", now unreadable")
		} else {
			add("point-in-time recovery", pitrText(want.PITR), pitrText(got.PITR))
		}
	}
	if !want.Unreads(PartContributorInsights) {
		if got.Unreads(PartContributorInsights) {
			d = append(d, "contributor insights: recorded "+show(want.ContributorInsights)+", now unreadable")
		} else {
			for _, k := range slices.Sorted(maps.Keys(want.ContributorInsights)) {
				what := "contributor insights of the table"
				if k != "" {
					what = "contributor insights of index " + k
				}
				add(what, want.ContributorInsights[k], orDisabled(got.ContributorInsights[k]))
			}
		}
	}
	if !want.Unreads(PartKinesis) {
		add("kinesis destinations", want.Kinesis, got.Kinesis)
	}
	d = append(d, tagDiff(want.CarriedTags(), got.CarriedTags())...)
	if !want.Unreads(PartAutoScaling) {
		d = append(d, scalingDiff(want.AutoScaling, got.AutoScaling)...)
	}
	return d
}

func indexDiff(what string, want, got []Index, billing string) []string {
	var d []string
	find := func(ixs []Index, name string) (Index, bool) {
		i := slices.IndexFunc(ixs, func(x Index) bool { return x.Name == name })
		if i < 0 {
			return Index{}, false
		}
		return ixs[i], true
	}
	for _, w := range want {
		g, ok := find(got, w.Name)
		if !ok {
			d = append(d, fmt.Sprintf("%s %s: recorded, now missing", what, w.Name))
			continue
		}
		if show(w.KeySchema) != show(g.KeySchema) || w.ProjectionType != g.ProjectionType || show(w.NonKey) != show(g.NonKey) {
			d = append(d, fmt.Sprintf("%s %s: recorded %s projecting %s %v, now %s projecting %s %v", what, w.Name,
				show(w.KeySchema), w.ProjectionType, w.NonKey, show(g.KeySchema), g.ProjectionType, g.NonKey))
		}
		if billing == string(types.BillingModeProvisioned) && w.Capacity.String() != g.Capacity.String() {
			d = append(d, fmt.Sprintf("%s %s capacity: recorded %s, now %s", what, w.Name, w.Capacity, g.Capacity))
		}
		if billing != string(types.BillingModeProvisioned) && w.OnDemandMax.String() != g.OnDemandMax.String() {
			d = append(d, fmt.Sprintf("%s %s on-demand maximum: recorded %s, now %s", what, w.Name, w.OnDemandMax, g.OnDemandMax))
		}
	}
	for _, g := range got {
		if _, ok := find(want, g.Name); !ok {
			d = append(d, fmt.Sprintf("%s %s: not recorded, now there", what, g.Name))
		}
	}
	return d
}

func tagDiff(want, got map[string]string) []string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[k]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("tag %s: recorded %q, now missing", k, want[k]))
		case g != want[k]:
			d = append(d, fmt.Sprintf("tag %s: recorded %q, now %q", k, want[k], g))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			d = append(d, fmt.Sprintf("tag %s: not recorded, now %q", k, got[k]))
		}
	}
	return d
}

func scalingDiff(want, got []ScalableTarget) []string {
	var d []string
	key := func(t ScalableTarget) string { return t.Resource + " " + t.Dimension }
	find := func(ts []ScalableTarget, k string) (ScalableTarget, bool) {
		i := slices.IndexFunc(ts, func(t ScalableTarget) bool { return key(t) == k })
		if i < 0 {
			return ScalableTarget{}, false
		}
		return ts[i], true
	}
	for _, w := range want {
		g, ok := find(got, key(w))
		if !ok {
			d = append(d, fmt.Sprintf("auto scaling of %s %s: recorded %d to %d, now none", w.Resource, w.Dimension, w.Min, w.Max))
			continue
		}
		if w.Min != g.Min || w.Max != g.Max {
			d = append(d, fmt.Sprintf("auto scaling of %s %s: recorded %d to %d, now %d to %d", w.Resource, w.Dimension, w.Min, w.Max, g.Min, g.Max))
		}
		if show(w.Suspended) != show(g.Suspended) {
			d = append(d, fmt.Sprintf("auto scaling of %s %s suspended: recorded %s, now %s", w.Resource, w.Dimension, show(w.Suspended), show(g.Suspended)))
		}
		if show(w.Policies) != show(g.Policies) {
			d = append(d, fmt.Sprintf("auto scaling of %s %s policies: recorded %s, now %s", w.Resource, w.Dimension, show(w.Policies), show(g.Policies)))
		}
	}
	for _, g := range got {
		if _, ok := find(want, key(g)); !ok {
			d = append(d, fmt.Sprintf("auto scaling of %s %s: not recorded, now %d to %d", g.Resource, g.Dimension, g.Min, g.Max))
		}
	}
	return d
}

// show writes a value the one way both sides of a comparison are written: JSON.
func show(v any) string {
	if s, ok := v.(string); ok {
		if s == "" {
			return "none"
		}
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func orDisabled(s string) string {
	if s == "" {
		return string(types.ContributorInsightsStatusDisabled)
	}
	return s
}

func streamText(s Stream) string {
	if !s.Enabled {
		return "off"
	}
	return "on (" + s.ViewType + ")"
}

func sseText(s SSE) string {
	if s.Type == "" {
		return "DynamoDB's own key"
	}
	if s.KMSKey == "" {
		return s.Type
	}
	return s.Type + " key " + s.KMSKey
}

func ttlText(t *TTL) string {
	if t == nil || !t.Enabled {
		return "off"
	}
	return "on " + t.Attribute
}

func pitrText(p *PITR) string {
	if p == nil || !p.Enabled {
		return "off"
	}
	if p.RecoveryPeriodDays > 0 {
		return fmt.Sprintf("on (%d days)", p.RecoveryPeriodDays)
	}
	return "on"
}

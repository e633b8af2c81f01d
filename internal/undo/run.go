package undo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/wallet-dynamodb/wallet/internal/archive"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/ledger"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Options bound an undo.
type Options struct {
	// Wait bounds the wait for the restored table, and then for everything re-applied, to be in
	// effect (default DefaultWait): a restore takes minutes on AWS, TTL and Contributor Insights
	// take a while to say ENABLED.
	Wait time.Duration
	// Poll is the pause between reads while waiting (default 2s).
	Poll time.Duration
}

// DefaultWait is how long an undo waits for everything to be in effect when told nothing.
const DefaultWait = 30 * time.Minute

func (o Options) wait() time.Duration {
	if o.Wait <= 0 {
		return DefaultWait
	}
	return o.Wait
}

func (o Options) poll() time.Duration {
	if o.Poll <= 0 {
		return 2 * time.Second
	}
	return o.Poll
}

// Result is what an undo did, and what it proved.
type Result struct {
	Plan
	DryRun bool `json:"dry_run"`
	// Restored is true only when the table is there, everything is in effect, its
	// configuration equals the record's and its items are the record's.
	Restored bool `json:"restored"`
	// Applied are the changes this run made, in order.
	Applied []string `json:"applied"`
	// Differences are what still differs from the record (Diff), and Settling what was still
	// being changed when the wait ended: either means not restored.
	Differences []string `json:"differences"`
	Settling    []string `json:"settling,omitempty"`
	// Items is how many items the table holds; ItemsRecorded how many the record says (-1:
	// not counted when deleted).
	Items         int64 `json:"items"`
	ItemsRecorded int64 `json:"items_recorded"`
	// Digest and DigestRecorded are the order-free digests of the table's items and of the
	// export, for a record saved by an export.
	Digest         string `json:"digest,omitempty"`
	DigestRecorded string `json:"digest_recorded,omitempty"`
	// Stack says how to bring a table that went with its stack back under it.
	Stack string `json:"stack,omitempty"`
}

// DryRun is the plan as a result: nothing changed.
func DryRun(p Plan) Result {
	return Result{Plan: p, DryRun: true, Applied: []string{}, Differences: []string{}, ItemsRecorded: p.Record.Saved.Items,
		DigestRecorded: p.Record.Saved.ExportDigest, Stack: stackHint(p)}
}

// Run carries out a checked plan: the table restored (or found, when resuming), every setting
// re-applied and waited for, then compared with the record. An error leaves whatever was done in
// place, tagged with the record's id, for the next run to finish; the result says what was done.
func Run(ctx context.Context, c Clients, p Plan, o Options) (Result, error) {
	r := p.Record.Record
	res := Result{Plan: p, Applied: []string{}, Differences: []string{}, ItemsRecorded: r.Saved.Items, DigestRecorded: r.Saved.ExportDigest, Stack: stackHint(p)}
	if err := restoreItems(ctx, c, p, o, &res); err != nil {
		return res, err
	}
	if err := waitActive(ctx, c.DynamoDB, p.Table, o.wait()); err != nil {
		return res, err
	}
	// Re-apply what the restore dropped, until nothing is left to do: each pass reads the table
	// again, so a run that resumes does only what is missing.
	for pass := 0; pass < 3; pass++ {
		_, got, err := ledger.Capture(ctx, c.DynamoDB, c.Scaling, p.Table)
		if err != nil {
			return res, fmt.Errorf("read %s back: %w", p.Table, err)
		}
		acts := actions(c, p, r.Config, got)
		if len(acts) == 0 {
			break
		}
		for _, a := range acts {
			if err := o.retry(ctx, a.do); err != nil {
				return res, fmt.Errorf("%s on %s: %w (run the same undo again to finish: it finds %s by its tag %s=%s)", a.what, p.Table, err, p.Table, wallet.TagUndoRecord, r.ID)
			}
			res.Applied = append(res.Applied, a.what)
			if a.table {
				if err := waitActive(ctx, c.DynamoDB, p.Table, o.wait()); err != nil {
					return res, err
				}
			}
		}
	}
	if err := settle(ctx, c, p, o, &res); err != nil {
		return res, err
	}
	if err := proveItems(ctx, c, p, &res); err != nil {
		return res, err
	}
	res.Restored = len(res.Differences) == 0 && len(res.Settling) == 0 && itemsMatch(res)
	return res, nil
}

// restoreItems brings the items back into p.Table: from the backup, or the export. A table an
// earlier undo of the record left is finished, not made again: from a backup, the restore was
// DynamoDB's (whole once ACTIVE); from an export, the items are written again unless the table
// already holds exactly the export's.
func restoreItems(ctx context.Context, c Clients, p Plan, o Options, res *Result) error {
	r := p.Record.Record
	if r.Saved.BackupARN != "" {
		if p.Resume {
			return nil
		}
		_, err := c.DynamoDB.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
			BackupArn: aws.String(r.Saved.BackupARN), TargetTableName: aws.String(p.Table)})
		if err != nil {
			// A restore whose answer was lost (the SDK's retry then meets its own table as
			// TableAlreadyExists) is a question: is the table there the one restored from
			// this backup?
			qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			d, derr := discover.DescribeTable(qctx, c.DynamoDB, p.Table)
			if derr != nil || d == nil {
				return fmt.Errorf("restore %s from backup %s: %w", p.Table, r.Saved.BackupARN, err)
			}
			if mine, why, merr := ownTable(qctx, c.DynamoDB, r, d); merr != nil || !mine {
				return fmt.Errorf("restore %s from backup %s: %w; the table there is not this undo's (%s)", p.Table, r.Saved.BackupARN, err, why)
			}
			res.Notes = append(res.Notes, fmt.Sprintf("RestoreTableFromBackup's answer was lost (%v); the table %s there is the one restored from this backup, so the undo went on", err, p.Table))
		}
		res.Applied = append(res.Applied, "restored "+p.Table+" from backup "+r.Saved.BackupARN)
		return nil
	}
	if p.Resume {
		if err := waitActive(ctx, c.DynamoDB, p.Table, o.wait()); err != nil {
			return err
		}
		n, digest, err := archive.TableDigest(ctx, c.DynamoDB, p.Table)
		if err != nil {
			return err
		}
		if n == r.Saved.ExportItems && digest == r.Saved.ExportDigest {
			return nil // its items are the export's already
		}
	}
	want := r.Config
	rr, err := archive.Restore(ctx, c.DynamoDB, r.Saved.ExportDir, p.Table, archive.RestoreOptions{
		OriginalBilling: true, Overwrite: p.Resume, Tags: map[string]string{wallet.TagUndoRecord: r.ID},
		Shape: func(in *dynamodb.CreateTableInput) {
			if want.SSE.Type != "" {
				in.SSESpecification = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSEType(want.SSE.Type), KMSMasterKeyId: nonEmpty(want.SSE.KMSKey)}
			}
			if want.TableClass != "" && want.TableClass != string(types.TableClassStandard) {
				in.TableClass = types.TableClass(want.TableClass)
			}
		}})
	if rr != nil {
		res.Notes = append(res.Notes, rr.Notes...)
	}
	if err != nil {
		return fmt.Errorf("%w (run the same undo again to finish)", err)
	}
	how := "created " + p.Table + " and wrote"
	if !rr.Created {
		how = "wrote again into " + p.Table
	}
	res.Applied = append(res.Applied, fmt.Sprintf("%s the %d items of export %s", how, rr.Items, r.Saved.ExportDir))
	return nil
}

// arnAccount is an ARN's account field.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// busyCodes are the answers that mean "not yet": the table or an index still being changed, too
// many control-plane operations at once, PITR's backups of a table made moments ago not ready
// yet, Application Auto Scaling changing the same target. Each is asked again, at a growing
// pace, within the undo's wait.
var busyCodes = []string{"ResourceInUseException", "LimitExceededException", "ContinuousBackupsUnavailableException", "ConcurrentUpdateException"}

// retry runs one change until it is done, or its answer is not busyCodes', or the wait ends.
func (o Options) retry(ctx context.Context, do func(context.Context) error) error {
	deadline := time.Now().Add(o.wait())
	delay := o.poll()
	for {
		err := do(ctx)
		var ae smithy.APIError
		if err == nil || !errors.As(err, &ae) || !slices.Contains(busyCodes, ae.ErrorCode()) || time.Now().Add(delay).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// action is one change that brings the table nearer the record. table: an UpdateTable, after
// which the table must be ACTIVE again before the next.
type action struct {
	what  string
	table bool
	do    func(context.Context) error
}

// actions are the changes that make got the record's want, in an order DynamoDB takes them:
// billing and capacity, table class, stream, encryption (UpdateTable, one at a time), then TTL,
// PITR, contributor insights, Kinesis, auto scaling, tags, and deletion protection last.
func actions(c Clients, p Plan, want, got ledger.Config) []action {
	t := target{db: c.DynamoDB, name: aws.String(p.Table)}
	return slices.Concat(
		billingActions(t, want, got),
		indexCapacityActions(t, want, got),
		tableClassActions(t, want, got),
		streamActions(t, want, got),
		encryptionActions(t, want, got),
		ttlActions(t, want, got),
		pitrActions(t, want, got),
		contributorInsightsActions(t, want, got),
		kinesisActions(t, p.Record.Account, want, got),
		autoScalingActions(c.Scaling, p.Table, want, got),
		tagActions(t, p, want, got),
		deletionProtectionActions(t, want, got),
	)
}

// target is the table the actions change: the client they call and the name each input carries.
type target struct {
	db   DynamoDB
	name *string
}

// update is one UpdateTable: DynamoDB takes one change of the table's settings at a time, and
// the table is ACTIVE again before the next (action.table).
func (t target) update(what string, in *dynamodb.UpdateTableInput) action {
	in.TableName = t.name
	return action{what: what, table: true, do: func(ctx context.Context) error {
		_, err := t.db.UpdateTable(ctx, in)
		return err
	}}
}

// billingActions put the table's billing mode back, with its capacity (and its indexes', which a
// switch to PROVISIONED needs in the same call) or its on-demand maximum; or, billing being the
// record's, the table's own capacity or on-demand maximum.
func billingActions(t target, want, got ledger.Config) []action {
	provisioned := want.BillingMode == string(types.BillingModeProvisioned)
	switch {
	case want.BillingMode != got.BillingMode && provisioned:
		return []action{t.update("billing PROVISIONED, capacity "+want.Capacity.String(), &dynamodb.UpdateTableInput{BillingMode: types.BillingModeProvisioned,
			ProvisionedThroughput: throughput(want.Capacity), GlobalSecondaryIndexUpdates: indexCapacities(want.GlobalIndexes)})}
	case want.BillingMode != got.BillingMode:
		in := &dynamodb.UpdateTableInput{BillingMode: types.BillingModePayPerRequest}
		if want.OnDemandMax != nil {
			in.OnDemandThroughput = onDemand(want.OnDemandMax)
		}
		return []action{t.update("billing PAY_PER_REQUEST", in)}
	case provisioned && want.Capacity.String() != got.Capacity.String() && want.Capacity != nil:
		return []action{t.update("capacity "+want.Capacity.String(), &dynamodb.UpdateTableInput{ProvisionedThroughput: throughput(want.Capacity)})}
	case !provisioned && want.OnDemandMax.String() != got.OnDemandMax.String() && want.OnDemandMax != nil:
		return []action{t.update("on-demand maximum "+want.OnDemandMax.String(), &dynamodb.UpdateTableInput{OnDemandThroughput: onDemand(want.OnDemandMax)})}
	}
	return nil
}

// indexCapacities are the recorded provisioned capacity of each index that has one.
func indexCapacities(indexes []ledger.Index) []types.GlobalSecondaryIndexUpdate {
	var u []types.GlobalSecondaryIndexUpdate
	for _, w := range indexes {
		if w.Capacity != nil {
			u = append(u, types.GlobalSecondaryIndexUpdate{Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String(w.Name), ProvisionedThroughput: throughput(w.Capacity)}})
		}
	}
	return u
}

// indexCapacityActions put each index's capacity or on-demand maximum back, one index a call,
// once the billing mode is the record's: a switch of billing mode is billingActions', and the
// next pass of Run, reading the table again, finds what it left.
func indexCapacityActions(t target, want, got ledger.Config) []action {
	if want.BillingMode != got.BillingMode {
		return nil
	}
	provisioned := want.BillingMode == string(types.BillingModeProvisioned)
	var acts []action
	for _, w := range want.GlobalIndexes {
		i := slices.IndexFunc(got.GlobalIndexes, func(g ledger.Index) bool { return g.Name == w.Name })
		if i < 0 {
			continue // an index that is not there is a difference no update makes
		}
		g := got.GlobalIndexes[i]
		switch {
		case provisioned && w.Capacity != nil && w.Capacity.String() != g.Capacity.String():
			acts = append(acts, t.update("index "+w.Name+" capacity "+w.Capacity.String(), &dynamodb.UpdateTableInput{GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{
				{Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String(w.Name), ProvisionedThroughput: throughput(w.Capacity)}}}}))
		case !provisioned && w.OnDemandMax != nil && w.OnDemandMax.String() != g.OnDemandMax.String():
			acts = append(acts, t.update("index "+w.Name+" on-demand maximum "+w.OnDemandMax.String(), &dynamodb.UpdateTableInput{GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{
				{Update: &types.UpdateGlobalSecondaryIndexAction{IndexName: aws.String(w.Name), OnDemandThroughput: onDemand(w.OnDemandMax)}}}}))
		}
	}
	return acts
}

// tableClassActions put the recorded table class back; a record that names none leaves it.
func tableClassActions(t target, want, got ledger.Config) []action {
	if want.TableClass == got.TableClass || want.TableClass == "" {
		return nil
	}
	return []action{t.update("table class "+want.TableClass, &dynamodb.UpdateTableInput{TableClass: types.TableClass(want.TableClass)})}
}

// streamActions put the recorded stream back. An enabled stream is not changed in place: it is
// turned off first, then on as recorded.
func streamActions(t target, want, got ledger.Config) []action {
	if want.Stream == got.Stream {
		return nil
	}
	var acts []action
	if got.Stream.Enabled {
		acts = append(acts, t.update("stream off (to turn it on as recorded)", &dynamodb.UpdateTableInput{StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(false)}}))
	}
	if want.Stream.Enabled {
		acts = append(acts, t.update("stream on ("+want.Stream.ViewType+")", &dynamodb.UpdateTableInput{StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(want.Stream.ViewType)}}))
	}
	return acts
}

// encryptionActions put the recorded encryption back: its type and key, or DynamoDB's own.
func encryptionActions(t target, want, got ledger.Config) []action {
	if want.SSE == got.SSE {
		return nil
	}
	spec := &types.SSESpecification{Enabled: aws.Bool(false)}
	if want.SSE.Type != "" {
		spec = &types.SSESpecification{Enabled: aws.Bool(true), SSEType: types.SSEType(want.SSE.Type), KMSMasterKeyId: nonEmpty(want.SSE.KMSKey)}
	}
	return []action{t.update("encryption "+strings.TrimSpace(want.SSE.Type+" "+want.SSE.KMSKey), &dynamodb.UpdateTableInput{SSESpecification: spec})}
}

// ttlActions put the recorded time to live back, when both sides were read. An enabled time to
// live is not moved in place: it is turned off first, then on as recorded.
func ttlActions(t target, want, got ledger.Config) []action {
	if want.TTL == nil || got.Unreads(ledger.PartTTL) || !ttlDiffers(want.TTL, got.TTL) {
		return nil
	}
	var acts []action
	if got.TTL != nil && got.TTL.Enabled {
		acts = append(acts, action{what: "time to live off (to turn it on as recorded)", do: func(ctx context.Context) error {
			_, err := t.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: t.name, TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(false), AttributeName: aws.String(got.TTL.Attribute)}})
			return err
		}})
	}
	if want.TTL.Enabled {
		attr := want.TTL.Attribute
		acts = append(acts, action{what: "time to live on " + attr, do: func(ctx context.Context) error {
			_, err := t.db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: t.name, TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String(attr)}})
			return err
		}})
	}
	return acts
}

// pitrActions put the recorded point-in-time recovery back, with its recovery period when it is
// not DynamoDB's default of 35 days, when both sides were read.
func pitrActions(t target, want, got ledger.Config) []action {
	if want.PITR == nil || got.Unreads(ledger.PartPITR) || (got.PITR != nil && *want.PITR == *got.PITR) {
		return nil
	}
	spec := &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(want.PITR.Enabled)}
	if want.PITR.Enabled && want.PITR.RecoveryPeriodDays > 0 && want.PITR.RecoveryPeriodDays != 35 {
		spec.RecoveryPeriodInDays = aws.Int32(want.PITR.RecoveryPeriodDays)
	}
	return []action{{what: "point-in-time recovery " + onOff(want.PITR.Enabled), do: func(ctx context.Context) error {
		_, err := t.db.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: t.name, PointInTimeRecoverySpecification: spec})
		return err
	}}}
}

// contributorInsightsActions enable or disable Contributor Insights on the table and each index
// as recorded, in the order of their names; never-enabled and disabled are the same.
func contributorInsightsActions(t target, want, got ledger.Config) []action {
	if want.ContributorInsights == nil || got.Unreads(ledger.PartContributorInsights) {
		return nil
	}
	var acts []action
	for _, ix := range sortedKeys(want.ContributorInsights) {
		w, g := want.ContributorInsights[ix], got.ContributorInsights[ix]
		if w == g || (w == string(types.ContributorInsightsStatusDisabled) && g == "") {
			continue
		}
		in := &dynamodb.UpdateContributorInsightsInput{TableName: t.name, ContributorInsightsAction: types.ContributorInsightsActionEnable}
		if w != string(types.ContributorInsightsStatusEnabled) {
			in.ContributorInsightsAction = types.ContributorInsightsActionDisable
		}
		what := "contributor insights " + strings.ToLower(string(in.ContributorInsightsAction)) + "d on the table"
		if ix != "" {
			in.IndexName = aws.String(ix)
			what = "contributor insights " + strings.ToLower(string(in.ContributorInsightsAction)) + "d on index " + ix
		}
		acts = append(acts, action{what: what, do: func(ctx context.Context) error {
			_, err := t.db.UpdateContributorInsights(ctx, in)
			return err
		}})
	}
	return acts
}

// kinesisActions send the table's changes again to each recorded Kinesis stream it lacks, of
// the record's own account only, when both sides were read.
func kinesisActions(t target, account string, want, got ledger.Config) []action {
	if want.Unreads(ledger.PartKinesis) || got.Unreads(ledger.PartKinesis) {
		return nil
	}
	var acts []action
	for _, k := range want.Kinesis {
		if slices.ContainsFunc(got.Kinesis, func(g ledger.Kinesis) bool { return g.StreamARN == k.StreamARN }) {
			continue
		}
		if arnAccount(k.StreamARN) != account {
			continue // never the table's changes to another account's stream: a record file could say anything (Diff names it)
		}
		in := &dynamodb.EnableKinesisStreamingDestinationInput{TableName: t.name, StreamArn: aws.String(k.StreamARN)}
		if k.Precision != "" {
			in.EnableKinesisStreamingConfiguration = &types.EnableKinesisStreamingConfiguration{ApproximateCreationDateTimePrecision: types.ApproximateCreationDateTimePrecision(k.Precision)}
		}
		acts = append(acts, action{what: "kinesis destination " + k.StreamARN, table: true, do: func(ctx context.Context) error {
			_, err := t.db.EnableKinesisStreamingDestination(ctx, in)
			return err
		}})
	}
	return acts
}

// autoScalingActions register the recorded auto scaling again (scalingActions), when both sides
// were read and there is an Application Auto Scaling client.
func autoScalingActions(as Scaling, table string, want, got ledger.Config) []action {
	if want.Unreads(ledger.PartAutoScaling) || got.Unreads(ledger.PartAutoScaling) || as == nil {
		return nil
	}
	return scalingActions(as, table, want.AutoScaling, got.AutoScaling)
}

// tagActions put the tags tagsToApply names back, with the record's id, in one TagResource on
// the table's ARN, read once, when the action first runs.
func tagActions(t target, p Plan, want, got ledger.Config) []action {
	tags := tagsToApply(want, got)
	if len(tags) == 0 {
		return nil
	}
	tags[wallet.TagUndoRecord] = p.Record.ID
	arn := ""
	return []action{{what: fmt.Sprintf("tags %s", strings.Join(sortedKeys(tags), ", ")), do: func(ctx context.Context) error {
		if arn == "" {
			d, err := discover.DescribeTable(ctx, t.db, p.Table)
			if err != nil || d == nil {
				return fmt.Errorf("describe %s to tag it: %v", p.Table, err)
			}
			arn = aws.ToString(d.TableArn)
		}
		var ts []types.Tag
		for _, k := range sortedKeys(tags) {
			ts = append(ts, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
		}
		_, err := t.db.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: aws.String(arn), Tags: ts})
		return err
	}}}
}

// deletionProtectionActions put the recorded deletion protection back: the last of actions.
func deletionProtectionActions(t target, want, got ledger.Config) []action {
	if want.DeletionProtection == got.DeletionProtection {
		return nil
	}
	return []action{t.update("deletion protection "+onOff(want.DeletionProtection), &dynamodb.UpdateTableInput{DeletionProtectionEnabled: aws.Bool(want.DeletionProtection)})}
}

// tagsToApply are the record's carried tags the table lacks or holds otherwise; and, on a table
// restored from a backup (which comes back without tags), the record's id, which is how a later
// run finds it. The id goes in the same call as the record's tags: the policy that lets undo
// re-apply them is held to requests that carry it.
func tagsToApply(want, got ledger.Config) map[string]string {
	out := map[string]string{}
	for k, v := range want.CarriedTags() {
		if got.Tags[k] != v {
			out[k] = v
		}
	}
	if _, ok := got.Tags[wallet.TagUndoRecord]; !ok {
		out[wallet.TagUndoRecord] = ""
	}
	return out
}

func ttlDiffers(want, got *ledger.TTL) bool {
	if got == nil {
		return want.Enabled
	}
	return want.Enabled != got.Enabled || (want.Enabled && want.Attribute != got.Attribute)
}

// scalingActions register each recorded target that is missing or differs, then put each of its
// policies that is missing or differs, on the restored table's resource ids.
func scalingActions(as Scaling, table string, want, got []ledger.ScalableTarget) []action {
	var acts []action
	for _, w := range want {
		i := slices.IndexFunc(got, func(g ledger.ScalableTarget) bool { return g.Resource == w.Resource && g.Dimension == w.Dimension })
		id := ledger.ResourceID(table, w.Resource)
		if i < 0 || got[i].Min != w.Min || got[i].Max != w.Max || fmt.Sprint(got[i].Suspended) != fmt.Sprint(w.Suspended) {
			in := &applicationautoscaling.RegisterScalableTargetInput{ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
				ResourceId: aws.String(id), ScalableDimension: aastypes.ScalableDimension(w.Dimension),
				MinCapacity: aws.Int32(w.Min), MaxCapacity: aws.Int32(w.Max)}
			if w.Suspended != nil {
				in.SuspendedState = &aastypes.SuspendedState{DynamicScalingInSuspended: aws.Bool(w.Suspended.DynamicIn),
					DynamicScalingOutSuspended: aws.Bool(w.Suspended.DynamicOut), ScheduledScalingSuspended: aws.Bool(w.Suspended.Scheduled)}
			}
			acts = append(acts, action{what: fmt.Sprintf("auto scaling target %s %s %d to %d", id, w.Dimension, w.Min, w.Max), do: func(ctx context.Context) error {
				_, err := as.RegisterScalableTarget(ctx, in)
				return err
			}})
		}
		var have []ledger.ScalingPolicy
		if i >= 0 {
			have = got[i].Policies
		}
		for _, pol := range w.Policies {
			if slices.ContainsFunc(have, func(h ledger.ScalingPolicy) bool { return samePolicy(h, pol) }) {
				continue
			}
			in := &applicationautoscaling.PutScalingPolicyInput{PolicyName: aws.String(pol.Name), ServiceNamespace: aastypes.ServiceNamespaceDynamodb,
				ResourceId: aws.String(id), ScalableDimension: aastypes.ScalableDimension(w.Dimension), PolicyType: aastypes.PolicyType(pol.Type),
				TargetTrackingScalingPolicyConfiguration: pol.TargetTracking, StepScalingPolicyConfiguration: pol.StepScaling}
			acts = append(acts, action{what: fmt.Sprintf("scaling policy %s on %s %s", pol.Name, id, w.Dimension), do: func(ctx context.Context) error {
				_, err := as.PutScalingPolicy(ctx, in)
				return err
			}})
		}
	}
	return acts
}

func samePolicy(a, b ledger.ScalingPolicy) bool {
	return ledgerShow(a) == ledgerShow(b)
}

func throughput(c *ledger.Capacity) *types.ProvisionedThroughput {
	if c == nil {
		return nil
	}
	return &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(c.Read), WriteCapacityUnits: aws.Int64(c.Write)}
}

func onDemand(c *ledger.Capacity) *types.OnDemandThroughput {
	o := &types.OnDemandThroughput{}
	if c.Read > 0 {
		o.MaxReadRequestUnits = aws.Int64(c.Read)
	}
	if c.Write > 0 {
		o.MaxWriteRequestUnits = aws.Int64(c.Write)
	}
	return o
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// settle waits until everything is in effect (nothing Settling) and the configuration equals
// the record's, or the wait ends; then the last read is the verdict.
func settle(ctx context.Context, c Clients, p Plan, o Options, res *Result) error {
	deadline := time.Now().Add(o.wait())
	for {
		_, got, err := ledger.Capture(ctx, c.DynamoDB, c.Scaling, p.Table)
		if err != nil {
			return fmt.Errorf("read %s back: %w", p.Table, err)
		}
		res.Differences = ledger.Diff(p.Record.Config, got)
		res.Settling = got.Settling
		if res.Differences == nil {
			res.Differences = []string{}
		}
		if len(res.Differences) == 0 && len(res.Settling) == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(o.poll()):
		}
	}
}

// proveItems counts the restored table's items (a consistent count; for an export, their
// order-free digest too).
func proveItems(ctx context.Context, c Clients, p Plan, res *Result) error {
	r := p.Record.Record
	if r.Saved.ExportDir != "" && r.Saved.BackupARN == "" {
		n, digest, err := archive.TableDigest(ctx, c.DynamoDB, p.Table)
		if err != nil {
			return err
		}
		res.Items, res.Digest = n, digest
		return nil
	}
	n, err := archive.Count(ctx, c.DynamoDB, p.Table)
	if err != nil {
		return err
	}
	res.Items = n
	return nil
}

// itemsMatch: the table holds the record's items (its count, and for an export its digest). A
// record that could not count them is no proof against: the note says so.
func itemsMatch(r Result) bool {
	if r.DigestRecorded != "" && r.Record.Saved.BackupARN == "" {
		return r.Digest == r.DigestRecorded && r.Items == r.Record.Saved.ExportItems
	}
	return r.ItemsRecorded < 0 || r.Items == r.ItemsRecorded
}

// waitActive waits for the table and every index of it to be ACTIVE.
func waitActive(ctx context.Context, db DynamoDB, table string, wait time.Duration) error {
	w := dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
		def := o.Retryable
		o.Retryable = func(ctx context.Context, in *dynamodb.DescribeTableInput, out *dynamodb.DescribeTableOutput, err error) (bool, error) {
			if err == nil && out != nil && out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
				for _, g := range out.Table.GlobalSecondaryIndexes {
					if g.IndexStatus != "" && g.IndexStatus != types.IndexStatusActive {
						return true, nil
					}
				}
				return false, nil
			}
			return def(ctx, in, out, err)
		}
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, wait); err != nil {
		return fmt.Errorf("wait for %s to be ACTIVE: %w", table, err)
	}
	return nil
}

// stackHint says, for a table that went with (or after) its stack, that it is back as a table
// of its own, and how to bring it under the stack again.
func stackHint(p Plan) string {
	r := p.Record.Record
	id := r.LogicalID
	if id == "" {
		id = r.Config.Tags["aws:cloudformation:logical-id"]
	}
	if r.Stack == "" {
		r.Stack = r.Config.Tags[wallet.CloudFormationStackTag]
	}
	if r.Stack == "" || id == "" {
		return "" // never a stack's resource: a table of its own it was, and is
	}
	return fmt.Sprintf("%s was table %s of stack %s. It is back as a table of its own, not a resource of the stack: to bring it under the stack again, import it "+
		"(`cdk import %s`, or a CloudFormation change set of type IMPORT naming %s as %s, with the DeletionPolicy the template gives it); "+
		"redeploying the stack as it is instead creates a new, empty table (and fails while this one holds the name %s).",
		p.Table, id, r.Stack, r.Stack, p.Table, id, p.Table)
}

// candidateAgain warns of a restored table the sweep and the janitor will take again: ours,
// not kept, and deleted for a reason that still holds (its stack is still gone, it has still
// expired).
func candidateAgain(r ledger.Record) string {
	tags := r.Config.Tags
	if tags[wallet.TagProject] != wallet.ProjectName || wallet.Kept(tags) {
		return ""
	}
	for _, why := range r.Reasons {
		if why == "orphaned" || why == "expired" || why == "older-than" {
			return fmt.Sprintf("it was deleted as %s: while that holds, the next sweep finds it again, and the janitor marks it and deletes it after its grace; tag it %s=true to keep it",
				why, wallet.TagKeep)
		}
	}
	return ""
}

// WriteText renders the result for people.
func (r Result) WriteText(w io.Writer) error {
	rec := r.Record
	var b strings.Builder
	mode := "restoring"
	if r.DryRun {
		mode = "dry run, nothing changed"
	}
	fmt.Fprintf(&b, "Undo of record %s (%s)\n", rec.ID, mode)
	fmt.Fprintf(&b, "  table %s (account %s, %s), deleted %s by %s (%s) for %s\n", rec.Table, rec.Account, rec.Region,
		rec.At.Format(time.RFC3339), rec.By, rec.Who, strings.Join(rec.Reasons, ", "))
	fmt.Fprintf(&b, "  record in %s\n", rec.Where)
	fmt.Fprintf(&b, "  comes back as %s from %s\n", r.Table, r.From)
	if r.DryRun {
		b.WriteString("Would:\n")
		for _, s := range r.Steps {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	} else {
		b.WriteString("Done:\n")
		for _, s := range r.Applied {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
		if len(r.Applied) == 0 {
			b.WriteString("  - nothing: it was all in place\n")
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	if !r.DryRun {
		switch {
		case r.Restored:
			fmt.Fprintf(&b, "Restored: %s is in effect as recorded (the configuration equals the record's), with %d items", r.Table, r.Items)
			if r.DigestRecorded != "" && r.Record.Saved.BackupARN == "" {
				fmt.Fprintf(&b, ", whose digest is the export's (%s)", r.Digest)
			}
			b.WriteString(".\n")
		default:
			fmt.Fprintf(&b, "NOT restored as recorded: %s is there, but:\n", r.Table)
			for _, d := range r.Differences {
				fmt.Fprintf(&b, "  - %s\n", d)
			}
			for _, s := range r.Settling {
				fmt.Fprintf(&b, "  - still changing: %s (run the same undo again to wait for it)\n", s)
			}
			if !itemsMatch(r) {
				fmt.Fprintf(&b, "  - items: %d, the record says %d", r.Items, itemsWant(r))
				if r.DigestRecorded != "" && r.Record.Saved.BackupARN == "" {
					fmt.Fprintf(&b, " (digest %s, the export's %s)", r.Digest, r.DigestRecorded)
				}
				b.WriteString("\n")
			}
		}
		if r.ItemsRecorded < 0 && r.Record.Saved.BackupARN != "" {
			fmt.Fprintf(&b, "Note: the record did not count the items (%s): %d items are there, nothing to compare them with.\n", r.Record.Saved.ItemsNote, r.Items)
		}
	}
	if r.Stack != "" {
		fmt.Fprintf(&b, "%s\n", r.Stack)
	}
	if again := candidateAgain(rec.Record); again != "" {
		fmt.Fprintf(&b, "Note: %s\n", again)
	}
	if r.DryRun {
		b.WriteString("Run again with --yes to restore it.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func itemsWant(r Result) int64 {
	if r.DigestRecorded != "" && r.Record.Saved.BackupARN == "" {
		return r.Record.Saved.ExportItems
	}
	return r.ItemsRecorded
}

// ledgerShow writes a policy the one way both sides of a comparison are written.
func ledgerShow(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

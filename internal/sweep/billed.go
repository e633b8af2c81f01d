package sweep

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
	"github.com/wallet-dynamodb/wallet/internal/discover"
	"github.com/wallet-dynamodb/wallet/internal/usage"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"golang.org/x/sync/errgroup"
)

// BilledDays is the window an auto-scaled table's capacity is averaged over to price it: the
// last 14 days, as `verify cost` reads by default (or the table's life, when shorter).
const BilledDays = 14

// readBilled prices our auto-scaled tables as cost does: at the capacity CloudWatch says they
// had over the last BilledDays (cost.BilledOf), not the instant's, and marks them auto scaled.
// What cannot be read leaves a table at its instant capacity, in a note: the price informs
// the sweep, it decides nothing.
func readBilled(ctx context.Context, c RegionClients, inv *Inventory, now time.Time, o Options) {
	if c.AutoScaling == nil {
		return
	}
	var tables []*Observed
	for i := range inv.Tables {
		if t := &inv.Tables[i]; t.Ours && t.Footprint.Billing == wallet.BillingProvisioned {
			tables = append(tables, t)
		}
	}
	note := func(s string) { inv.Notes = append(inv.Notes, s) }
	if err := scalingOf(ctx, c, tables, o.concurrency()); err != nil {
		note(fmt.Sprintf("%s: which tables are auto scaled could not be read, so each is priced at the capacity DescribeTable shows (%v)", c.Region, err))
		return
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.concurrency())
	for _, t := range tables {
		if !t.AutoScaled {
			continue
		}
		g.Go(func() error {
			if n := billedOf(gctx, c, t, now); n != "" {
				mu.Lock()
				note(n)
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
}

// scalingOf reads which of the tables, or their indexes, are auto scaled.
func scalingOf(ctx context.Context, c RegionClients, tables []*Observed, concurrency int) error {
	var ids []string
	for _, t := range tables {
		for _, s := range t.sourcesOrTable() {
			ids = append(ids, discover.ScalableResource(s.Table, s.Index))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	got, err := discover.ScalableTargets(ctx, c.AutoScaling, ids, concurrency)
	if err != nil {
		return err
	}
	for _, t := range tables {
		for k, s := range t.sourcesOrTable() {
			if sc, ok := got[discover.ScalableResource(s.Table, s.Index)]; ok && k < len(t.loads) {
				t.loads[k].Scaling = sc
				t.AutoScaled = true
			}
		}
	}
	return nil
}

// billedOf reads an auto-scaled table's capacity minute by minute over the last BilledDays (its
// life, when shorter) and sets its footprint's billed capacity; a note when it could not.
func billedOf(ctx context.Context, c RegionClients, t *Observed, now time.Time) string {
	w, _ := usage.LastDays(now, BilledDays).Since(t.Created)
	var reqs []usage.Request
	for k, s := range t.sourcesOrTable() {
		reqs = append(reqs, usage.Request{Source: s, Provisioned: k < len(t.loads) && t.loads[k].Scaling.Scaled()})
	}
	err := usage.ReadMinutes(ctx, c.CloudWatch, w, [][]usage.Request{reqs}, 1, func(_ int, m []usage.Minutes) {
		loads := make([]cost.Load, len(t.loads))
		copy(loads, t.loads)
		for k := range loads {
			if k < len(m) {
				loads[k].Minutes = &m[k]
			}
		}
		t.Footprint.Billed = cost.BilledOf(loads)
	})
	switch {
	case err != nil:
		return fmt.Sprintf("%s/%s: auto scaled, but what it was billed for could not be read: priced at the capacity DescribeTable shows (%v)", t.Region, t.Name, err)
	case t.Footprint.Billed == nil:
		return fmt.Sprintf("%s/%s: auto scaled, but CloudWatch has no history of its capacity: priced at the capacity DescribeTable shows", t.Region, t.Name)
	}
	return ""
}

// sourcesOrTable are the table and its indexes, as its use is read.
func (t Observed) sourcesOrTable() []usage.Source {
	if len(t.sources) == 0 {
		return []usage.Source{{Table: t.Name}}
	}
	return t.sources
}

// billedNote is what a candidate's line says of an auto-scaled table's $/month.
func billedNote(t Observed) string {
	if t.Footprint.Billed == nil {
		return fmt.Sprintf("auto scaled: $/month at the capacity DescribeTable shows, %d RCU and %d WCU (no history of what it was billed for)", t.Footprint.RCU, t.Footprint.WCU)
	}
	return fmt.Sprintf("auto scaled: $/month at what it was billed for over the last %d days, %.2f RCU and %.2f WCU on average (CloudWatch), not the capacity DescribeTable shows now (%d/%d)",
		BilledDays, t.Footprint.Billed.RCU, t.Footprint.Billed.WCU, t.Footprint.RCU, t.Footprint.WCU)
}

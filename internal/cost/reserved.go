package cost

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// ReservedBlock is the unit AWS sells reserved capacity in: 100 read or 100 write capacity units.
const ReservedBlock = 100

// Reservable is one account's one region: the provisioned capacity its tables held through the
// whole window, together (reservations are bought per region and account, not per table), and
// what each reserved capacity term would save on the whole blocks of it. Standard-IA tables,
// on-demand tables and a replica's replicated writes cannot be reserved and are not counted.
type Reservable struct {
	Account string `json:"account,omitempty"`
	Region  string `json:"region"`
	// HeldRCU and HeldWCU are the counted tables' capacity held through the window, together;
	// BlocksRCU and BlocksWCU the whole blocks of 100 in it.
	HeldRCU   int64 `json:"held_rcu"`
	HeldWCU   int64 `json:"held_wcu"`
	BlocksRCU int64 `json:"blocks_rcu"`
	BlocksWCU int64 `json:"blocks_wcu"`
	// Tables are the tables counted.
	Tables []string        `json:"tables"`
	Terms  []ReservedTerms `json:"terms"`
	Notes  []string        `json:"notes,omitempty"`
}

// ReservedTerms is one term's price of the blocks, against provisioned capacity by the hour.
type ReservedTerms struct {
	Years int `json:"years"`
	// UpfrontUSD is paid once; MonthlyUSD is the term's upfront spread over its months plus its
	// hourly fee; ProvisionedMonthlyUSD what the same units cost by the hour without it.
	UpfrontUSD            float64 `json:"upfront_usd"`
	MonthlyUSD            float64 `json:"monthly_usd"`
	ProvisionedMonthlyUSD float64 `json:"provisioned_monthly_usd"`
	MonthlySavingsUSD     float64 `json:"monthly_savings_usd"`
	Source                string  `json:"source"`
}

// heldCapacity is what one table held through the window that can be reserved, and why not.
type heldCapacity struct {
	rcu, wcu int64
	counted  bool
	note     string
}

// held is the table's reservable capacity: its least provisioned capacity over the window (the
// Minimum of CloudWatch's Provisioned*CapacityUnits, table and indexes together; its capacity now
// where CloudWatch has none), in the Standard class, with a replica's writes left out.
func held(r reading, t TableCost) heldCapacity {
	switch {
	case t.Billing != wallet.BillingProvisioned:
		return heldCapacity{}
	case t.TableClass == wallet.ClassStandardIA:
		return heldCapacity{note: t.Table + " is Standard-IA, whose capacity cannot be reserved"}
	}
	f := FromDescription(r.desc)
	h := heldCapacity{rcu: f.RCU, wcu: f.WCU, counted: true}
	if r.held != nil {
		h.rcu, h.wcu = min(h.rcu, int64(r.held.Read)), min(h.wcu, int64(r.held.Write))
	} else {
		h.note = t.Table + ": CloudWatch has no provisioned capacity over the window: its capacity now is taken as held"
	}
	if len(r.desc.Replicas) > 0 {
		h.wcu = 0
		h.note = strings.TrimPrefix(h.note+"; ", "; ") + t.Table + " is a replica of a global table: its writes are replicated (rWCU), which cannot be reserved; its reads are counted"
	}
	return h
}

// reservable groups the tables by account and region, and prices each group's whole blocks at
// the region's reserved terms.
func reservable(tables []TableCost, p Prices) []Reservable {
	type key struct{ account, region string }
	groups := map[key]*Reservable{}
	var keys []key
	for _, t := range tables {
		if !t.held.counted && t.held.note == "" {
			continue
		}
		k := key{t.Account, t.Region}
		g := groups[k]
		if g == nil {
			g = &Reservable{Account: t.Account, Region: t.Region, Tables: []string{}, Terms: []ReservedTerms{}}
			groups[k] = g
			keys = append(keys, k)
		}
		if t.held.note != "" {
			g.Notes = append(g.Notes, t.held.note)
		}
		if t.held.counted {
			g.HeldRCU += t.held.rcu
			g.HeldWCU += t.held.wcu
			g.Tables = append(g.Tables, t.Table)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].account < keys[j].account || keys[i].account == keys[j].account && keys[i].region < keys[j].region
	})
	var out []Reservable
	for _, k := range keys {
		g := groups[k]
		g.BlocksRCU, g.BlocksWCU = g.HeldRCU/ReservedBlock, g.HeldWCU/ReservedBlock
		rp := p.In(g.Region)
		if len(rp.Reserved) == 0 {
			g.Notes = append(g.Notes, fmt.Sprintf("no reserved capacity price for %s in its price list or the shipped table", g.Region))
		}
		for _, term := range rp.Reserved {
			g.Terms = append(g.Terms, g.price(term, rp))
		}
		if g.BlocksRCU+g.BlocksWCU == 0 {
			g.Notes = append(g.Notes, fmt.Sprintf("%d RCU and %d WCU held: less than one block of %d, which is what AWS sells", g.HeldRCU, g.HeldWCU, ReservedBlock))
		}
		out = append(out, *g)
	}
	return out
}

// price is one term on the group's whole blocks: the upfront fee spread over the term's months,
// plus the hourly fee, against the same units by the hour.
func (g Reservable) price(t Reservation, p Prices) ReservedTerms {
	months := float64(12 * t.Years)
	rcu, wcu := float64(g.BlocksRCU), float64(g.BlocksWCU)
	upfront := rcu*t.RCUUpfront + wcu*t.WCUUpfront
	monthly := upfront/months + (rcu*t.RCUHour+wcu*t.WCUHour)*HoursPerMonth
	provisioned := (rcu*ReservedBlock*p.RCUHour + wcu*ReservedBlock*p.WCUHour) * HoursPerMonth
	return ReservedTerms{Years: t.Years, UpfrontUSD: Round(upfront), MonthlyUSD: Round(monthly),
		ProvisionedMonthlyUSD: Round(provisioned), MonthlySavingsUSD: Round(provisioned - monthly), Source: t.Source}
}

// writeReserved renders the reserved capacity, one line a region and account.
func writeReserved(b *strings.Builder, rs []Reservable) {
	for _, g := range rs {
		where := g.Region
		if g.Account != "" {
			where += ", account " + g.Account
		}
		if g.BlocksRCU+g.BlocksWCU == 0 && len(g.Tables) > 0 {
			// Nothing to reserve: one line, not terms of $0.00 and notes on how it was counted.
			fmt.Fprintf(b, "Reserved capacity in %s: %d RCU / %d WCU held through the window by %s, less than the block of %d AWS sells: nothing to reserve.\n", where, g.HeldRCU, g.HeldWCU, tablesTogether(len(g.Tables)), ReservedBlock)
			continue
		}
		var terms []string
		for _, t := range g.Terms {
			terms = append(terms, fmt.Sprintf("%d-year saves $%.2f/month ($%.2f upfront)", t.Years, t.MonthlySavingsUSD, t.UpfrontUSD))
		}
		fmt.Fprintf(b, "Reserved capacity in %s: %d RCU / %d WCU held through the window by %s (%d + %d blocks of %d)", where, g.HeldRCU, g.HeldWCU, tablesTogether(len(g.Tables)), g.BlocksRCU, g.BlocksWCU, ReservedBlock)
		if len(terms) > 0 {
			fmt.Fprintf(b, ": %s", strings.Join(terms, ", "))
		}
		b.WriteString(".\n")
		for _, n := range g.Notes {
			fmt.Fprintf(b, "  reserved capacity: %s\n", n)
		}
	}
}

func tablesTogether(n int) string {
	if n == 1 {
		return "1 table"
	}
	return fmt.Sprintf("%d tables together", n)
}

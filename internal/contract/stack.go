package contract

import (
	"fmt"
	"strconv"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/strictjson"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Context keys of a wallet stack (`cdk synth|deploy|destroy -c key=value`).
const (
	CtxStage         = "stage"
	CtxBilling       = "billing"
	CtxReadCapacity  = "readCapacity"
	CtxWriteCapacity = "writeCapacity"
	CtxReadMax       = "readMax"
	CtxWriteMax      = "writeMax"
	CtxTarget        = "targetUtilization"
	CtxExpiresAfter  = "expiresAfter"
	CtxTableName     = "tableName"
	CtxTableClass    = "tableClass"
)

// DefaultExpiresAfter is how long a dev table lives before the sweep and the janitor take it.
const DefaultExpiresAfter = 168 * time.Hour

// Stack is the validated shape of one wallet stack.
type Stack struct {
	Stage         wallet.Stage
	Billing       wallet.Billing
	ReadCapacity  int // zero when Billing is on-demand
	WriteCapacity int // zero when Billing is on-demand
	// ReadMax and WriteMax, when not zero, auto scale that dimension: Application Auto Scaling
	// moves its capacity from ReadCapacity (WriteCapacity), the minimum, up to the maximum.
	ReadMax, WriteMax int
	// TargetUtilization is the percentage of the capacity consumed that auto scaling keeps a
	// dimension at; zero when nothing is auto scaled.
	TargetUtilization int
	ExpiresAfter      time.Duration
	TableName         string // empty: CloudFormation generates one
	TableClass        wallet.TableClass
}

// StackID is the CloudFormation stack name for the config's stage.
func (c Stack) StackID() string { return wallet.StackName(c.Stage) }

// Tags are the tags every resource of the stack carries.
func (c Stack) Tags() map[string]string {
	t := map[string]string{
		wallet.TagProject:   wallet.ProjectName,
		wallet.TagStage:     string(c.Stage),
		wallet.TagStack:     c.StackID(),
		wallet.TagManagedBy: wallet.ManagedByCDK,
	}
	if c.Stage == wallet.StageDev {
		t[wallet.TagExpiresAfter] = wallet.FormatDuration(c.ExpiresAfter)
	}
	return t
}

// Retained reports whether the table outlives its stack (prod) or is destroyed with it (dev).
func (c Stack) Retained() bool { return c.Stage == wallet.StageProd }

const capacityAllowed = "want a whole number from 1 to 40000"

// capacityKey is readCapacity or writeCapacity: set only with provisioned billing, which then
// defaults to the tutorial's 1 unit.
func capacityKey(name string, dst func(*Stack) *int) key[Stack] {
	return key[Stack]{name: name, def: "1 (provisioned)", allowed: capacityAllowed,
		read: func(c *Stack, v string) error {
			if c.Billing == wallet.BillingOnDemand {
				return refused("capacity cannot be set with billing=on-demand (on-demand tables have no provisioned throughput)")
			}
			n, err := ParseCapacity(v)
			*dst(c) = n
			return err
		},
		absent: func(c *Stack) error {
			if c.Billing == wallet.BillingProvisioned {
				*dst(c) = wallet.DefaultCapacity
			}
			return nil
		},
		write: func(c Stack) (string, bool) { return strconv.Itoa(*dst(&c)), c.Billing == wallet.BillingProvisioned },
	}
}

// AutoScaled reports whether Application Auto Scaling moves either dimension's capacity.
func (c Stack) AutoScaled() bool { return c.ReadMax > 0 || c.WriteMax > 0 }

// maxKey is readMax or writeMax: the top of the auto scaling range of the capacity key before
// it in the table (min), which is the range's bottom.
func maxKey(name, min string, lo func(*Stack) int, dst func(*Stack) *int) key[Stack] {
	return key[Stack]{name: name, def: "none: " + min + " is fixed", allowed: fmt.Sprintf("want a whole number from %s to %d", min, wallet.MaxCapacity),
		read: func(c *Stack, v string) error {
			if c.Billing == wallet.BillingOnDemand {
				return refused("auto scaling applies to provisioned billing only, not billing=on-demand (an on-demand table scales by itself)")
			}
			from := fmt.Sprintf("%s (%d)", min, lo(c))
			if lo(c) < wallet.MinCapacity { // min was refused, and is named on its own
				from = min
			}
			n, err := whole(v, wallet.MinCapacity, wallet.MaxCapacity)
			if err != nil {
				return refused("want a whole number from %s to %d", from, wallet.MaxCapacity)
			}
			if n < lo(c) {
				return refused("want a whole number from %s to %d: the maximum cannot be below the minimum", from, wallet.MaxCapacity)
			}
			*dst(c) = n
			return nil
		},
		write: func(c Stack) (string, bool) { return strconv.Itoa(*dst(&c)), *dst(&c) > 0 },
	}
}

// stackKeys are the wallet stack's contract, in the order they are read.
var stackKeys = []key[Stack]{
	{name: CtxStage, def: "dev", allowed: "want one of dev, prod",
		read: func(c *Stack, v string) error {
			switch s := wallet.Stage(v); s {
			case wallet.StageDev, wallet.StageProd:
				c.Stage = s
				return nil
			}
			return refused("want one of dev, prod")
		},
		write: func(c Stack) (string, bool) { return string(c.Stage), true }},
	{name: CtxBilling, def: "provisioned", allowed: "want one of provisioned, on-demand",
		read: func(c *Stack, v string) error {
			switch b := wallet.Billing(v); b {
			case wallet.BillingProvisioned, wallet.BillingOnDemand:
				c.Billing = b
				return nil
			}
			return refused("want one of provisioned, on-demand")
		},
		write: func(c Stack) (string, bool) { return string(c.Billing), true }},
	capacityKey(CtxReadCapacity, func(c *Stack) *int { return &c.ReadCapacity }),
	capacityKey(CtxWriteCapacity, func(c *Stack) *int { return &c.WriteCapacity }),
	maxKey(CtxReadMax, CtxReadCapacity, func(c *Stack) int { return c.ReadCapacity }, func(c *Stack) *int { return &c.ReadMax }),
	maxKey(CtxWriteMax, CtxWriteCapacity, func(c *Stack) int { return c.WriteCapacity }, func(c *Stack) *int { return &c.WriteMax }),
	{name: CtxTarget, def: fmt.Sprintf("%d (with readMax or writeMax)", wallet.DefaultTargetUtilization),
		allowed: fmt.Sprintf("want a whole number of percent from %d to %d", wallet.MinTargetUtilization, wallet.MaxTargetUtilization),
		read: func(c *Stack, v string) error {
			n, err := whole(v, wallet.MinTargetUtilization, wallet.MaxTargetUtilization)
			if err != nil {
				return refused("want a whole number of percent from %d to %d", wallet.MinTargetUtilization, wallet.MaxTargetUtilization)
			}
			if !c.AutoScaled() {
				return refused("targetUtilization applies only to an auto-scaled dimension: give readMax or writeMax too")
			}
			c.TargetUtilization = n
			return nil
		},
		absent: func(c *Stack) error {
			if c.AutoScaled() {
				c.TargetUtilization = wallet.DefaultTargetUtilization
			}
			return nil
		},
		write: func(c Stack) (string, bool) { return strconv.Itoa(c.TargetUtilization), c.AutoScaled() }},
	{name: CtxExpiresAfter, def: "168h (dev only)", allowed: "a positive duration such as 72h or 7d",
		read: func(c *Stack, v string) error {
			d, err := wallet.ParseDuration(v)
			switch {
			case err != nil:
				return refused("%v", err)
			case c.Stage == wallet.StageProd:
				return refused("expiresAfter applies to dev tables only; prod tables never expire")
			}
			c.ExpiresAfter = d
			return nil
		},
		write: func(c Stack) (string, bool) { return wallet.FormatDuration(c.ExpiresAfter), c.Stage == wallet.StageDev }},
	{name: CtxTableName, def: "generated by CloudFormation", allowed: "want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)",
		read: func(c *Stack, v string) error {
			if v == "" {
				return nil // as if not given: CloudFormation names the table
			}
			if !wallet.ValidTableName(v) {
				return refused("want 3 to 255 characters of a-z A-Z 0-9 _ . - (DynamoDB's table naming rules)")
			}
			c.TableName = v
			return nil
		},
		write: func(c Stack) (string, bool) { return c.TableName, c.TableName != "" }},
	{name: CtxTableClass, def: "standard", allowed: "want one of standard, standard-ia",
		read: func(c *Stack, v string) error {
			switch tc := wallet.TableClass(v); tc {
			case wallet.ClassStandard, wallet.ClassStandardIA:
				c.TableClass = tc
				return nil
			}
			return refused("want one of standard, standard-ia")
		},
		write: func(c Stack) (string, bool) { return string(c.TableClass), c.TableClass != "" }},
}

// ParseStack validates the wallet stack's context. Every bad value is reported, not just the
// first, so one failed synth tells the user everything to fix.
func ParseStack(get Lookup) (Stack, error) {
	c := Stack{Stage: wallet.StageDev, Billing: wallet.BillingProvisioned, ExpiresAfter: DefaultExpiresAfter, TableClass: wallet.ClassStandard}
	if err := parse(get, &c, stackKeys, false); err != nil {
		return Stack{}, err
	}
	return c, nil
}

// Context writes the config back as the contract's keys and values, so that
// ParseStack(c.Context()) is c again: how the declared shape reaches the deploy check.
func (c Stack) Context() map[string]string { return write(c, stackKeys) }

// ParseStackJSON reads a Stack from a JSON object of context keys and string values (what
// Context wrote), validated as ParseStack validates -c values.
func ParseStackJSON(s string) (Stack, error) {
	var m map[string]string
	if err := strictjson.Decode([]byte(s), &m, "a JSON object of context keys and string values", strictjson.Options{}); err != nil {
		return Stack{}, err
	}
	return ParseStack(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
}

// ParseCapacity accepts a whole number of capacity units within DynamoDB's per-table quota.
func ParseCapacity(v string) (int, error) {
	return whole(v, wallet.MinCapacity, wallet.MaxCapacity)
}

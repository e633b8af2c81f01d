package discover

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// DeclaredLogicalID names the table of a spec built by Declared, which has no template.
const DeclaredLogicalID = "Table"

// Declared is the spec of the table a wallet stack of cfg declares: the properties the CDK app
// writes for it (infra/stack.go), read as ParseTables reads a template, so it compares with a
// live table exactly as the deployed template would. The deploy check uses it where it cannot
// read the template it is part of (CloudFormation is still deploying it); infra's template
// tests hold the two to the same fields.
func Declared(cfg contract.Stack) TableSpec {
	props := map[string]any{
		FieldKeySchema:                     []any{map[string]any{"AttributeName": wallet.KeyAttribute, "KeyType": "HASH"}},
		FieldAttributes:                    []any{map[string]any{"AttributeName": wallet.KeyAttribute, "AttributeType": wallet.KeyType}},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": wallet.TTLAttribute, "Enabled": true},
		FieldDeletionProtection:            cfg.Retained(),
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": cfg.Retained()},
	}
	if cfg.Billing == wallet.BillingOnDemand {
		props[FieldBillingMode] = string(wallet.BillingOnDemand.Mode())
	} else {
		props["ProvisionedThroughput"] = map[string]any{
			"ReadCapacityUnits":  json.Number(strconv.Itoa(cfg.ReadCapacity)),
			"WriteCapacityUnits": json.Number(strconv.Itoa(cfg.WriteCapacity)),
		}
	}
	if cfg.TableName != "" {
		props["TableName"] = cfg.TableName
	}
	if cfg.TableClass != "" {
		props[FieldTableClass] = string(cfg.TableClass.SDK())
	}
	tags := cfg.Tags()
	var list []any
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		list = append(list, map[string]any{"Key": k, "Value": tags[k]})
	}
	props[FieldTags] = list
	// These properties are literals of known shape: parseTable cannot fail on them.
	s, _ := parseTable(DeclaredLogicalID, props)
	// The auto scaling as CDK writes it (a scalable target and its target-tracking policy per
	// dimension), read back by the template's parser: nor can it fail on them.
	resources := scalingResources(DeclaredLogicalID, declaredScaling(cfg))
	resources[DeclaredLogicalID] = resource{Type: tableType, Properties: props}
	scaling, _ := parseScaling(resources)
	s.Scaling = scaling.byTable[DeclaredLogicalID]
	s.DeletionPolicy = "Delete"
	if cfg.Retained() {
		s.DeletionPolicy = "Retain"
	}
	return s
}

// declaredScaling is the auto scaling a wallet stack of cfg declares (infra's autoScale).
func declaredScaling(cfg contract.Stack) []Scaling {
	var out []Scaling
	for _, d := range []struct {
		dim      string
		min, max int
	}{{DimensionRead, cfg.ReadCapacity, cfg.ReadMax}, {DimensionWrite, cfg.WriteCapacity, cfg.WriteMax}} {
		if d.max > 0 && cfg.Billing == wallet.BillingProvisioned {
			out = append(out, Scaling{Dimension: d.dim, Min: int64(d.min), Max: int64(d.max),
				Policies: []ScalingPolicy{TrackingPolicy(d.dim, float64(cfg.TargetUtilization))}})
		}
	}
	return out
}

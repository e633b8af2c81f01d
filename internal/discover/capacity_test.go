package discover

import (
	"encoding/json"
	"fmt"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
	"reflect"
	"strings"
	"testing"
)

// capacityTemplate is one resource of type typ with the given properties (JSON object members).
func capacityTemplate(typ, props string) []byte {
	return []byte(`{"Resources":{"Wallet":{"Type":"` + typ + `","Properties":{` + props + `}},"Topic":{"Type":"AWS::SNS::Topic"}}}`)
}

// A provisioned table with an index, and a provisioned global table of two replicas with an
// index, as CDK's Table and TableV2 write them, each capacity a %s.
const (
	tableWith = `"KeySchema":[{"AttributeName":"user_id","KeyType":"HASH"}],
		"ProvisionedThroughput":{"ReadCapacityUnits":%s,"WriteCapacityUnits":%s},
		"GlobalSecondaryIndexes":[{"IndexName":"by_balance","KeySchema":[{"AttributeName":"balance","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
			"ProvisionedThroughput":{"ReadCapacityUnits":%s,"WriteCapacityUnits":%s}}]`
	globalWith = `"BillingMode":"PROVISIONED",
		"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":%s,"MaxCapacity":%s,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}},
		"GlobalSecondaryIndexes":[{"IndexName":"by_balance","KeySchema":[{"AttributeName":"balance","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},
			"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":%s,"MaxCapacity":40000,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}}}],
		"Replicas":[
			{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":%s},
			 "GlobalSecondaryIndexes":[{"IndexName":"by_balance","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":%s}}]},
			{"Region":"eu-west-1","ReadProvisionedThroughputSettings":{"ReadCapacityAutoScalingSettings":{"MinCapacity":%s,"MaxCapacity":40000,"TargetTrackingScalingPolicyConfiguration":{"TargetValue":70}}},
			 "GlobalSecondaryIndexes":[{"IndexName":"by_balance","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":2}}]}]`
)

// capacityAt is every place a template declares a capacity: the template with value there
// (and 1 everywhere else), and the property path an error must name.
func capacityAt(value string) []struct{ name, typ, props, property string } {
	at := func(n int, args ...any) []any {
		args[n] = value
		return args
	}
	table := func(n int) string { return fmt.Sprintf(tableWith, at(n, "1", "1", "1", "1")...) }
	global := func(n int) string { return fmt.Sprintf(globalWith, at(n, "1", "40000", "1", "1", "1", "1")...) }
	return []struct{ name, typ, props, property string }{
		{"table read", tableType, table(0), "ProvisionedThroughput.ReadCapacityUnits"},
		{"table write", tableType, table(1), "ProvisionedThroughput.WriteCapacityUnits"},
		{"index read", tableType, table(2), "GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits"},
		{"index write", tableType, table(3), "GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.WriteCapacityUnits"},
		{"global write minimum", globalTableType, global(0), "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings.MinCapacity"},
		{"global write maximum", globalTableType, global(1), "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings.MaxCapacity"},
		{"global index write minimum", globalTableType, global(2), "GlobalSecondaryIndexes[by_balance].WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings.MinCapacity"},
		{"replica read", globalTableType, global(3), "Replicas[us-east-1].ReadProvisionedThroughputSettings.ReadCapacityUnits"},
		{"replica index read", globalTableType, global(4), "Replicas[us-east-1].GlobalSecondaryIndexes[by_balance].ReadProvisionedThroughputSettings.ReadCapacityUnits"},
		{"replica autoscaled read minimum", globalTableType, global(5), "Replicas[eu-west-1].ReadProvisionedThroughputSettings.ReadCapacityAutoScalingSettings.MinCapacity"},
	}
}

// One rule for every capacity, wherever it is declared: a whole number of units from 1 to 40000,
// written in digits. Each bad value is refused at each place, naming the resource, the property
// and the value as written.
func TestParseCapacityRefusesWhatIsNotOneTo40000UnitsInDigits(t *testing.T) {
	for _, bad := range []struct{ value, shown string }{
		{`0`, `0`},
		{`-1`, `-1`},
		{`40001`, `40001`},
		{`1000000000000`, `1000000000000`}, // 1e12
		{`9223372036854775807`, `9223372036854775807`},         // MaxInt64: once a negative bill
		{`99999999999999999999999`, `99999999999999999999999`}, // beyond int64
		{`1e3`, `1e3`}, // once refused for a table, read as 1000 for an index
		{`5.0`, `5.0`},
		{`"1e3"`, `"1e3"`},
		{`" 5"`, `" 5"`},
		{`"+5"`, `"+5"`},
		{`"0x10"`, `"0x10"`},
		{`""`, `""`},
		{`"five"`, `"five"`},
		{`true`, `true`},
		{`null`, `null`},
		{`[5]`, `[5]`},
		{`{"Units":5}`, `{"Units":5}`}, // an object, but no intrinsic function
		{`"` + strings.Repeat("9", 5000) + `"`, `"` + strings.Repeat("9", 59) + `…`},
	} {
		for _, at := range capacityAt(bad.value) {
			t.Run(at.name+" "+bad.value[:min(len(bad.value), 20)], func(t *testing.T) {
				specs, err := ParseCapacity(capacityTemplate(at.typ, at.props))
				if err == nil {
					t.Fatalf("accepted: %+v", specs)
				}
				for _, want := range []string{"resource Wallet", at.property + " " + bad.shown + ":", "from 1 to 40000", `written in digits (5 or "5")`} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				if len(err.Error()) > 600 {
					t.Errorf("error is %d characters: the value is not cut", len(err.Error()))
				}
			})
		}
	}
}

// 1, 5, "5" and 40000 are the same units at every place: CloudFormation takes an integer or a
// string of one.
func TestParseCapacityReadsIntegersAndIntegerStringsAlike(t *testing.T) {
	for _, ok := range []struct {
		value string
		n     int64
	}{{`1`, 1}, {`5`, 5}, {`"5"`, 5}, {`"005"`, 5}, {`40000`, 40000}, {`"40000"`, 40000}} {
		for _, at := range capacityAt(ok.value) {
			specs, err := ParseCapacity(capacityTemplate(at.typ, at.props))
			if err != nil {
				t.Fatalf("%s %s: %v", at.name, ok.value, err)
			}
			u, found := unitsAt(specs[0], at.property)
			if !found || u.N != ok.n && !strings.HasSuffix(at.property, "MaxCapacity") || u.Unknown {
				t.Errorf("%s %s: %+v (found %v), want %d units", at.name, ok.value, u, found, ok.n)
			}
		}
	}
}

// unitsAt finds the units declared at property (an auto scaling maximum: the units it bounds).
func unitsAt(c TableCapacity, property string) (Units, bool) {
	property = strings.TrimSuffix(strings.TrimSuffix(property, ".MinCapacity"), ".MaxCapacity")
	for _, r := range c.Replicas {
		all := []Units{r.Read, r.Write}
		for _, i := range r.Indexes {
			all = append(all, i.Read, i.Write)
		}
		for _, u := range all {
			if u.Property == property {
				return u, true
			}
		}
	}
	return Units{}, false
}

// What an intrinsic function gives cannot be known before deploy: never an error, never a
// silent 0, but Unknown, named by its property (or, for a list or an entry of one, in Unknown).
func TestParseCapacityMarksWhatIntrinsicFunctionsDecide(t *testing.T) {
	ref, ifv := `{"Ref":"Rcu"}`, `{"Fn::If":["IsProd",{"ReadCapacityUnits":5,"WriteCapacityUnits":5},{"Ref":"AWS::NoValue"}]}`
	index := `{"IndexName":"by_balance","KeySchema":[{"AttributeName":"balance","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"},"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1}}`
	for _, tc := range []struct {
		name, typ, props string
		unknown          []string // Units.Property of each Unknown units
		lists            []string // TableCapacity.Unknown
	}{
		{"table read by Ref", tableType, fmt.Sprintf(tableWith, ref, "1", "1", "1"), []string{"ProvisionedThroughput.ReadCapacityUnits"}, nil},
		{"table throughput by Fn::If", tableType, `"ProvisionedThroughput":` + ifv,
			[]string{"ProvisionedThroughput", "ProvisionedThroughput"}, nil},
		{"index read by Ref", tableType, fmt.Sprintf(tableWith, "1", "1", ref, "1"), []string{"GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.ReadCapacityUnits"}, nil},
		{"index write by Fn::If", tableType, fmt.Sprintf(tableWith, "1", "1", "1", `{"Fn::If":["IsProd",5,1]}`), []string{"GlobalSecondaryIndexes[by_balance].ProvisionedThroughput.WriteCapacityUnits"}, nil},
		{"index throughput by Fn::If", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":[{"IndexName":"i","ProvisionedThroughput":` + ifv + `}]`,
			[]string{"GlobalSecondaryIndexes[i].ProvisionedThroughput", "GlobalSecondaryIndexes[i].ProvisionedThroughput"}, nil},
		{"index list by Fn::If", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":{"Fn::If":["IsProd",[` + index + `],{"Ref":"AWS::NoValue"}]}`,
			nil, []string{"GlobalSecondaryIndexes"}},
		{"one index by Fn::If", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":[` + index + `,{"Fn::If":["IsProd",` + index + `,{"Ref":"AWS::NoValue"}]}]`,
			nil, []string{"GlobalSecondaryIndexes[1]"}},
		{"global write minimum by Ref", globalTableType, fmt.Sprintf(globalWith, ref, "10", "1", "1", "1", "1"),
			[]string{"WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings", "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings"}, nil},
		{"replica read by Ref", globalTableType, fmt.Sprintf(globalWith, "1", "10", "1", ref, "1", "1"), []string{"Replicas[us-east-1].ReadProvisionedThroughputSettings.ReadCapacityUnits"}, nil},
		{"replica index read by Fn::If", globalTableType, fmt.Sprintf(globalWith, "1", "10", "1", "1", `{"Fn::If":["IsProd",5,1]}`, "1"),
			[]string{"Replicas[us-east-1].GlobalSecondaryIndexes[by_balance].ReadProvisionedThroughputSettings.ReadCapacityUnits"}, nil},
		{"replica list by Fn::If", globalTableType, `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}},"Replicas":{"Fn::If":["Two",[],[]]}`,
			nil, []string{"Replicas"}},
		{"one replica by Fn::If", globalTableType, `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}},"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1}},{"Fn::If":["Two",{"Region":"eu-west-1"},{"Ref":"AWS::NoValue"}]}]`,
			nil, []string{"Replicas[1]"}},
		{"replica index list by Fn::If", globalTableType, `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}},
			"GlobalSecondaryIndexes":[{"IndexName":"i","WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}}}],
			"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1},"GlobalSecondaryIndexes":{"Fn::If":["C",[],[]]}}]`,
			[]string{"Replicas[us-east-1].GlobalSecondaryIndexes"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := ParseCapacity(capacityTemplate(tc.typ, tc.props))
			if err != nil {
				t.Fatal(err)
			}
			var unknown []string
			for _, r := range specs[0].Replicas {
				all := []Units{r.Read, r.Write}
				for _, i := range r.Indexes {
					all = append(all, i.Read, i.Write)
				}
				for _, u := range all {
					if u.Unknown {
						unknown = append(unknown, u.Property)
						if u.N != 0 {
							t.Errorf("unknown %s has %d units", u.Property, u.N)
						}
					}
				}
			}
			if !reflect.DeepEqual(dedupe(unknown), dedupe(tc.unknown)) || !reflect.DeepEqual(specs[0].Unknown, tc.lists) {
				t.Fatalf("unknown units %v and lists %v; want %v and %v", unknown, specs[0].Unknown, tc.unknown, tc.lists)
			}
		})
	}
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return out
}

// What a provisioned table, index or replica must declare, and declarations CloudFormation would
// refuse: each an error naming what is missing or wrong.
func TestParseCapacityRefusesProvisionedWithoutCapacity(t *testing.T) {
	autoscaled := `{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}}`
	for _, tc := range []struct {
		name, typ, props string
		want             []string
	}{
		{"table, default billing", tableType, `"KeySchema":[]`, []string{"no BillingMode", "ProvisionedThroughput is not declared"}},
		{"table, PROVISIONED", tableType, `"BillingMode":"PROVISIONED"`, []string{`BillingMode "PROVISIONED"`, "ProvisionedThroughput is not declared"}},
		{"table without write", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1}`, []string{"ProvisionedThroughput.WriteCapacityUnits is not declared"}},
		{"index", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":[{"IndexName":"by_balance"}]`,
			[]string{"GlobalSecondaryIndexes[by_balance]", "declares no ProvisionedThroughput"}},
		{"index without a name", tableType, `"ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":[{}]`,
			[]string{"GlobalSecondaryIndexes[0]: IndexName is not declared"}},
		{"a billing mode that is neither", tableType, `"BillingMode":"ON_DEMAND"`, []string{`BillingMode "ON_DEMAND"`, "PROVISIONED or PAY_PER_REQUEST"}},
		{"global table", globalTableType, `"Replicas":[{"Region":"us-east-1"}]`, []string{"WriteProvisionedThroughputSettings is not declared"}},
		{"global table without the autoscaling", globalTableType, `"WriteProvisionedThroughputSettings":{},"Replicas":[{"Region":"us-east-1"}]`,
			[]string{"WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings is not declared"}},
		{"global table without a maximum", globalTableType, `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1}},"Replicas":[{"Region":"us-east-1"}]`,
			[]string{"WriteCapacityAutoScalingSettings.MaxCapacity is not declared"}},
		{"minimum above maximum", globalTableType, `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":10,"MaxCapacity":2}},"Replicas":[{"Region":"us-east-1"}]`,
			[]string{"MinCapacity 10 is above MaxCapacity 2"}},
		{"replica", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"Replicas":[{"Region":"us-east-1"}]`,
			[]string{"Replicas[us-east-1]", "declares no ReadProvisionedThroughputSettings"}},
		{"replica with both", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1,"ReadCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}}}]`,
			[]string{"Replicas[us-east-1].ReadProvisionedThroughputSettings", "both"}},
		{"replica with neither", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{}}]`,
			[]string{"Replicas[us-east-1].ReadProvisionedThroughputSettings", "neither"}},
		{"global index", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"GlobalSecondaryIndexes":[{"IndexName":"i"}],"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1}}]`,
			[]string{"GlobalSecondaryIndexes[i]", "declares no WriteProvisionedThroughputSettings"}},
		{"replica's index", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"GlobalSecondaryIndexes":[{"IndexName":"i","WriteProvisionedThroughputSettings":` + autoscaled + `}],"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1}}]`,
			[]string{"Replicas[us-east-1].GlobalSecondaryIndexes", "no ReadProvisionedThroughputSettings for index i"}},
		{"replica's index the table lacks", globalTableType, `"WriteProvisionedThroughputSettings":` + autoscaled + `,"Replicas":[{"Region":"us-east-1","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1},"GlobalSecondaryIndexes":[{"IndexName":"nope","ReadProvisionedThroughputSettings":{"ReadCapacityUnits":1}}]}]`,
			[]string{"Replicas[us-east-1].GlobalSecondaryIndexes[nope]", "no index nope"}},
		{"no replicas", globalTableType, `"BillingMode":"PAY_PER_REQUEST"`, []string{"Replicas is not declared"}},
		{"empty replicas", globalTableType, `"BillingMode":"PAY_PER_REQUEST","Replicas":[]`, []string{"Replicas is empty"}},
		{"a region twice", globalTableType, `"BillingMode":"PAY_PER_REQUEST","Replicas":[{"Region":"eu-west-1"},{"Region":"eu-west-1"}]`, []string{"region eu-west-1 is declared twice"}},
		{"a replica without a region", globalTableType, `"BillingMode":"PAY_PER_REQUEST","Replicas":[{}]`, []string{"Replicas[0]: Region is not declared"}},
		{"an index of a 5000-character name", tableType, `"BillingMode":"PROVISIONED","ProvisionedThroughput":{"ReadCapacityUnits":1,"WriteCapacityUnits":1},"GlobalSecondaryIndexes":[{"IndexName":"` + strings.Repeat("x", 5000) + `","ProvisionedThroughput":{"ReadCapacityUnits":0,"WriteCapacityUnits":1}}]`,
			[]string{"GlobalSecondaryIndexes[" + strings.Repeat("x", 60) + "…].ProvisionedThroughput.ReadCapacityUnits 0:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			specs, err := ParseCapacity(capacityTemplate(tc.typ, tc.props))
			if err == nil {
				t.Fatalf("accepted: %+v", specs)
			}
			for _, want := range append([]string{"resource Wallet (" + tc.typ + ")"}, tc.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

// A global table's capacity per replica: its own read (fixed or autoscaled), the table's write
// policy in each, every index's write in each and its read per replica, a region each; on demand,
// the replicas and nothing provisioned.
func TestParseCapacityReadsGlobalTablesPerReplica(t *testing.T) {
	specs, err := ParseCapacity(capacityTemplate(globalTableType, fmt.Sprintf(globalWith, "2", "10", "1", "5", "3", "4")))
	if err != nil {
		t.Fatal(err)
	}
	write := Units{Property: "WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings", N: 2, Autoscaled: true, Max: 10}
	indexWrite := Units{Property: "GlobalSecondaryIndexes[by_balance].WriteProvisionedThroughputSettings.WriteCapacityAutoScalingSettings", N: 1, Autoscaled: true, Max: 40000}
	want := []ReplicaCapacity{
		{Region: "us-east-1", Property: "Replicas[us-east-1]", ReplicatedWrites: true, Write: write,
			Read:    Units{Property: "Replicas[us-east-1].ReadProvisionedThroughputSettings.ReadCapacityUnits", N: 5},
			Indexes: []IndexCapacity{{Name: "by_balance", Write: indexWrite, Read: Units{Property: "Replicas[us-east-1].GlobalSecondaryIndexes[by_balance].ReadProvisionedThroughputSettings.ReadCapacityUnits", N: 3}}}, Class: wallet.ClassStandard},
		{Region: "eu-west-1", Property: "Replicas[eu-west-1]", ReplicatedWrites: true, Write: write,
			Read:    Units{Property: "Replicas[eu-west-1].ReadProvisionedThroughputSettings.ReadCapacityAutoScalingSettings", N: 4, Autoscaled: true, Max: 40000},
			Indexes: []IndexCapacity{{Name: "by_balance", Write: indexWrite, Read: Units{Property: "Replicas[eu-west-1].GlobalSecondaryIndexes[by_balance].ReadProvisionedThroughputSettings.ReadCapacityUnits", N: 2}}}, Class: wallet.ClassStandard},
	}
	if got := specs[0]; got.Type != globalTableType || got.OnDemand || !reflect.DeepEqual(got.Replicas, want) {
		g, _ := json.MarshalIndent(got.Replicas, "", " ")
		t.Fatalf("replicas:\n%s", g)
	}

	// The table's and the index's ReadProvisionedThroughputSettings serve a replica that
	// declares none; a global table of one replica bills its writes as a table's.
	one := `"WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}},"ReadProvisionedThroughputSettings":{"ReadCapacityUnits":7},
		"GlobalSecondaryIndexes":[{"IndexName":"i","WriteProvisionedThroughputSettings":{"WriteCapacityAutoScalingSettings":{"MinCapacity":1,"MaxCapacity":2}},"ReadProvisionedThroughputSettings":{"ReadCapacityUnits":"6"}}],
		"Replicas":[{"Region":{"Ref":"AWS::Region"}}]`
	specs, err = ParseCapacity(capacityTemplate(globalTableType, one))
	if err != nil {
		t.Fatal(err)
	}
	r := specs[0].Replicas[0]
	if r.ReplicatedWrites || r.Region != "" || r.Property != "Replicas[0]" || r.Read.N != 7 || r.Indexes[0].Read.N != 6 {
		t.Fatalf("one replica on the table's defaults: %+v", r)
	}

	specs, err = ParseCapacity(capacityTemplate(globalTableType, `"BillingMode":"PAY_PER_REQUEST","TableName":"wallet",
		"GlobalSecondaryIndexes":[{"IndexName":"i"}],"Replicas":[{"Region":"us-east-1"},{"Region":"eu-west-1"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if c := specs[0]; !c.OnDemand || c.TableName != "wallet" || len(c.Replicas) != 2 || c.Replicas[1].Region != "eu-west-1" || c.Replicas[1].Read != (Units{}) {
		t.Fatalf("on demand: %+v", c)
	}
}

// A billing mode an intrinsic function decides: provisioned when the table declares capacity,
// else on demand, and said so; a conditional resource keeps its condition.
func TestParseCapacityReadsUnknownBillingByWhatIsDeclared(t *testing.T) {
	body := []byte(`{"Resources":{
		"P":{"Type":"AWS::DynamoDB::Table","Condition":"IsProd","Properties":{"BillingMode":{"Fn::If":["IsProd","PROVISIONED","PAY_PER_REQUEST"]},"ProvisionedThroughput":{"ReadCapacityUnits":2,"WriteCapacityUnits":3}}},
		"Q":{"Type":"AWS::DynamoDB::Table","Properties":{"BillingMode":{"Ref":"Billing"}}}}}`)
	specs, err := ParseCapacity(body)
	if err != nil {
		t.Fatal(err)
	}
	if p, q := specs[0], specs[1]; !p.BillingUnknown || p.OnDemand || p.Replicas[0].Read.N != 2 || p.Condition != "IsProd" || !q.BillingUnknown || !q.OnDemand {
		t.Fatalf("P %+v\nQ %+v", p, q)
	}
}

package discover

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"unicode/utf8"

	dtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

const globalTableType = "AWS::DynamoDB::GlobalTable"

// MinUnits and MaxUnits bound every capacity a template declares: a table's, an index's, a
// replica's, an auto scaling minimum or maximum. 40,000 is DynamoDB's default quota of read (and
// of write) capacity units for one table; above it, or below 1, a value is a typo, and priced it
// would be a bill nobody can have.
const (
	MinUnits = 1
	MaxUnits = 40000
)

// Units is one declared capacity: a number of capacity units, or what cannot be known before
// deploy.
type Units struct {
	// Property is where the template declares it, as a property path of the resource
	// (ProvisionedThroughput.ReadCapacityUnits, Replicas[eu-west-1].ReadProvisionedThroughputSettings).
	Property string
	N        int64
	// Unknown means an intrinsic function (Ref, Fn::If, …) gives the value: only CloudFormation
	// evaluates it, at deploy. N is then 0, and a price of it is a lower bound.
	Unknown bool
	// Autoscaled means an auto scaling policy sets the capacity between N (its MinCapacity) and
	// Max (its MaxCapacity; 0 when an intrinsic function gives it).
	Autoscaled bool
	Max        int64
}

// IndexCapacity is a global secondary index's capacity in one replica.
type IndexCapacity struct {
	Name        string
	Read, Write Units
}

// ReplicaCapacity is what one copy of a table provisions: an AWS::DynamoDB::Table is one, a
// global table has one in each region of its Replicas.
type ReplicaCapacity struct {
	// Region is a global table's replica region; empty for an AWS::DynamoDB::Table (it is the
	// stack's) and where an intrinsic function names it.
	Region string
	// Property is a global table's replica as a property path: Replicas[eu-west-1], or
	// Replicas[0] where an intrinsic function names its region.
	Property    string
	Read, Write Units // zero on demand
	// ReplicatedWrites means the table's writes are replicated writes (rWCU), as in every
	// replica of a global table of more than one; a global table of one bills as a table. Index
	// writes are never replicated writes: DynamoDB bills them as a table's.
	ReplicatedWrites bool
	Indexes          []IndexCapacity
	// Class is the replica's table class (a global table's replica's TableClass; a table's own):
	// standard when absent, ClassUnknown when an intrinsic function gives it.
	Class        wallet.TableClass
	ClassUnknown bool
}

// TableCapacity is what a table resource of a template provisions: the part of its declaration
// its bill at rest depends on.
type TableCapacity struct {
	LogicalID string
	Type      string // AWS::DynamoDB::Table or AWS::DynamoDB::GlobalTable
	TableName string // the literal TableName; empty when CloudFormation names it
	OnDemand  bool   // PAY_PER_REQUEST: nothing is provisioned
	// BillingUnknown means an intrinsic function decides the billing mode: the table is read
	// as provisioned when it declares capacity, else as on demand.
	BillingUnknown bool
	// Condition is the template condition the resource is created under; empty: always.
	Condition string
	Replicas  []ReplicaCapacity
	// Unknown are the lists, or entries of a list, of indexes or replicas that an intrinsic
	// function gives (GlobalSecondaryIndexes, Replicas[1]): their capacity cannot be known
	// before deploy.
	Unknown []string
	// Scaling is an AWS::DynamoDB::Table's auto scaling, as its template's scalable targets
	// declare it (TableSpec.Scaling); the Units of each dimension it scales are Autoscaled.
	Scaling []Scaling
	// ScalingUnknown means an intrinsic function hides which table some scalable target of the
	// template scales: this one's capacity may rise above what its Units say.
	ScalingUnknown bool
}

// ParseCapacity reads what every AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable of a JSON
// template provisions, in logical-ID order. Every capacity is read by one rule (Units), and a
// provisioned table, index or replica that declares none is an error naming it.
func ParseCapacity(body []byte) ([]TableCapacity, error) {
	resources, err := decodeTemplate(body)
	if err != nil {
		return nil, err
	}
	scaling, err := parseScaling(resources)
	if err != nil {
		return nil, err
	}
	var out []TableCapacity
	for id, r := range resources {
		var (
			c   TableCapacity
			err error
		)
		switch r.Type {
		case tableType:
			c, err = tableCapacity(r.Properties)
			if err == nil {
				err = c.scale(scaling.byTable[id])
				c.ScalingUnknown = scaling.unknown && !c.OnDemand
			}
		case globalTableType:
			c, err = globalTableCapacity(r.Properties)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("resource %s (%s): %w", id, r.Type, err)
		}
		c.LogicalID, c.Type = id, r.Type
		if r.Type == tableType {
			for i := range c.Replicas {
				c.Replicas[i].Class, c.Replicas[i].ClassUnknown = tableClass(r.Properties)
			}
		}
		c.Condition, _ = r.Condition.(string)
		if n, ok := r.Properties["TableName"].(string); ok {
			c.TableName = n
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out, nil
}

// tableClass reads TableClass: STANDARD when absent or not a class; unknown when an intrinsic
// function gives it. CloudFormation itself refuses a class it does not know.
func tableClass(props map[string]any) (wallet.TableClass, bool) {
	v, ok := props[FieldTableClass]
	switch {
	case !ok:
		return wallet.ClassStandard, false
	case isIntrinsic(v):
		return wallet.ClassStandard, true
	case v == string(dtypes.TableClassStandardInfrequentAccess):
		return wallet.ClassStandardIA, false
	}
	return wallet.ClassStandard, false
}

// billing reads BillingMode: PROVISIONED when absent (CloudFormation's default for both kinds of
// table), unknown when an intrinsic function gives it.
func billing(props map[string]any) (onDemand, unknown bool, err error) {
	v, ok := props[FieldBillingMode]
	if !ok {
		return false, false, nil
	}
	if isIntrinsic(v) {
		return false, true, nil
	}
	switch v {
	case string(dtypes.BillingModeProvisioned):
		return false, false, nil
	case string(dtypes.BillingModePayPerRequest):
		return true, false, nil
	}
	return false, false, fmt.Errorf("%s %s: want %s or %s", FieldBillingMode, shown(v), dtypes.BillingModeProvisioned, dtypes.BillingModePayPerRequest)
}

// tableCapacity reads an AWS::DynamoDB::Table: ProvisionedThroughput, and each global secondary
// index's.
func tableCapacity(props map[string]any) (TableCapacity, error) {
	var c TableCapacity
	onDemand, unknown, err := billing(props)
	if err != nil {
		return c, err
	}
	pt, declared := props["ProvisionedThroughput"]
	c.BillingUnknown = unknown
	c.OnDemand = onDemand || (unknown && !declared)
	var r ReplicaCapacity
	if !c.OnDemand {
		if !declared {
			return c, fmt.Errorf("provisioned (%s), but ProvisionedThroughput is not declared", billingSaid(props))
		}
		if r.Read, r.Write, err = throughput("ProvisionedThroughput", pt); err != nil {
			return c, err
		}
	}
	gsis, err := entries(props, "GlobalSecondaryIndexes", &c)
	if err != nil {
		return c, err
	}
	for _, g := range gsis {
		i := IndexCapacity{Name: g.name}
		if !c.OnDemand {
			pt, ok := g.props["ProvisionedThroughput"]
			if !ok {
				return c, fmt.Errorf("%s: the table is provisioned, but the index declares no ProvisionedThroughput", g.path)
			}
			if i.Read, i.Write, err = throughput(g.path+".ProvisionedThroughput", pt); err != nil {
				return c, err
			}
		}
		r.Indexes = append(r.Indexes, i)
	}
	c.Replicas = []ReplicaCapacity{r}
	return c, nil
}

// scale makes each dimension a scalable target declares Autoscaled, from its minimum to its
// maximum. An on-demand table has no capacity to scale (Application Auto Scaling refuses to
// register it); a target on an index the table does not declare is an error.
func (c *TableCapacity) scale(list []Scaling) error {
	c.Scaling = list
	if len(list) == 0 || c.OnDemand {
		return nil
	}
	r := &c.Replicas[0]
	for _, s := range list {
		u := Units{Property: "ProvisionedThroughput." + s.Dimension, N: s.Min, Max: s.Max, Autoscaled: true,
			Unknown: slices.Contains(s.Unresolved, "MinCapacity")}
		if slices.Contains(s.Unresolved, "MaxCapacity") {
			u.Max = 0
		}
		var read, write *Units
		if s.Index == "" {
			read, write = &r.Read, &r.Write
		} else {
			i := slices.IndexFunc(r.Indexes, func(g IndexCapacity) bool { return g.Name == s.Index })
			if i < 0 {
				if len(c.Unknown) > 0 { // the index may be among those an intrinsic function gives
					continue
				}
				return fmt.Errorf("%s scales index %s, which the table does not declare", ScalableTargetType, cut(s.Index))
			}
			u.Property = "GlobalSecondaryIndexes[" + cut(s.Index) + "].ProvisionedThroughput." + s.Dimension
			read, write = &r.Indexes[i].Read, &r.Indexes[i].Write
		}
		if s.Dimension == DimensionRead {
			*read = u
		} else {
			*write = u
		}
	}
	return nil
}

// globalTableCapacity reads an AWS::DynamoDB::GlobalTable. Its write capacity is one auto
// scaling policy for every replica (WriteProvisionedThroughputSettings, and each index's); its
// read capacity is each replica's own (Replicas[].ReadProvisionedThroughputSettings, and
// Replicas[].GlobalSecondaryIndexes[] for its indexes), else the table's or the index's
// ReadProvisionedThroughputSettings where one is declared.
func globalTableCapacity(props map[string]any) (TableCapacity, error) {
	var c TableCapacity
	onDemand, unknown, err := billing(props)
	if err != nil {
		return c, err
	}
	wp, declared := props["WriteProvisionedThroughputSettings"]
	c.BillingUnknown = unknown
	c.OnDemand = onDemand || (unknown && !declared)
	var write Units
	var read *Units // the table's read capacity, for a replica that declares none
	if !c.OnDemand {
		if !declared {
			return c, fmt.Errorf("provisioned (%s), but WriteProvisionedThroughputSettings is not declared (a provisioned global table's writes are autoscaled: WriteCapacityAutoScalingSettings)", billingSaid(props))
		}
		if write, err = writeSettings("WriteProvisionedThroughputSettings", wp); err != nil {
			return c, err
		}
		if read, err = globalRead(props, "ReadProvisionedThroughputSettings"); err != nil {
			return c, err
		}
	}
	indexes, err := globalIndexes(props, &c)
	if err != nil {
		return c, err
	}
	replicas, replicated, err := replicaEntries(props, &c)
	if err != nil {
		return c, err
	}
	seen := map[string]bool{}
	for _, e := range replicas {
		r := ReplicaCapacity{Property: e.path, ReplicatedWrites: replicated}
		r.Class, r.ClassUnknown = tableClass(e.props)
		if region, ok := e.props["Region"].(string); ok {
			if seen[region] {
				return c, fmt.Errorf("Replicas: region %s is declared twice", cut(region))
			}
			seen[region], r.Region = true, region
		}
		if !c.OnDemand {
			r.Write = write
			if r.Read, err = replicaRead(e.props, e.path+".ReadProvisionedThroughputSettings", read, e.path+": the table is provisioned, but the replica declares no ReadProvisionedThroughputSettings"); err != nil {
				return c, err
			}
		}
		if r.Indexes, err = replicaIndexes(e, indexes, c.OnDemand); err != nil {
			return c, err
		}
		c.Replicas = append(c.Replicas, r)
	}
	return c, nil
}

// globalIndex is a global table's index as the table declares it: its write capacity (one
// autoscaling policy for every replica) and its read capacity, for a replica that declares none.
type globalIndex struct {
	entry
	write Units
	read  *Units
}

// globalIndexes are the table's GlobalSecondaryIndexes with their capacity.
func globalIndexes(props map[string]any, c *TableCapacity) ([]globalIndex, error) {
	gsis, err := entries(props, "GlobalSecondaryIndexes", c)
	if err != nil {
		return nil, err
	}
	var indexes []globalIndex
	for _, g := range gsis {
		i := globalIndex{entry: g}
		if !c.OnDemand {
			wp, ok := g.props["WriteProvisionedThroughputSettings"]
			if !ok {
				return nil, fmt.Errorf("%s: the table is provisioned, but the index declares no WriteProvisionedThroughputSettings", g.path)
			}
			if i.write, err = writeSettings(g.path+".WriteProvisionedThroughputSettings", wp); err != nil {
				return nil, err
			}
			if i.read, err = globalRead(g.props, g.path+".ReadProvisionedThroughputSettings"); err != nil {
				return nil, err
			}
		}
		indexes = append(indexes, i)
	}
	return indexes, nil
}

// replicaEntries are the table's Replicas, one at least, and whether writes are replicated
// (more than one replica).
func replicaEntries(props map[string]any, c *TableCapacity) ([]entry, bool, error) {
	if _, ok := props["Replicas"]; !ok {
		return nil, false, fmt.Errorf("Replicas is not declared (a global table has one replica at least, in the stack's region)")
	}
	replicas, err := entries(props, "Replicas", c)
	if err != nil {
		return nil, false, err
	}
	list, _ := props["Replicas"].([]any)
	if len(list) == 0 && !isIntrinsic(props["Replicas"]) {
		return nil, false, fmt.Errorf("Replicas is empty (a global table has one replica at least, in the stack's region)")
	}
	return replicas, len(list) > 1, nil
}

// replicaIndexes are one replica's capacity for each of the table's indexes: the replica's own
// read capacity for the index where it declares one, else the index's; a replica that names an
// index the table does not declare is an error.
func replicaIndexes(e entry, indexes []globalIndex, onDemand bool) ([]IndexCapacity, error) {
	own, err := entries(e.props, "GlobalSecondaryIndexes", nil)
	ownUnknown := err != nil || len(own) < lenList(e.props["GlobalSecondaryIndexes"])
	if err != nil && !isIntrinsic(e.props["GlobalSecondaryIndexes"]) {
		return nil, fmt.Errorf("%s.%w", e.path, err)
	}
	byName := map[string]entry{}
	for _, o := range own {
		if o.nameUnknown {
			ownUnknown = true
			continue
		}
		byName[o.name] = o
	}
	var out []IndexCapacity
	for _, g := range indexes {
		i := IndexCapacity{Name: g.name}
		if !onDemand {
			i.Write = g.write
			o, ok := byName[g.name]
			ok = ok && !g.nameUnknown
			delete(byName, g.name)
			switch {
			case ok:
				path := e.path + "." + o.path
				if i.Read, err = replicaRead(o.props, path+".ReadProvisionedThroughputSettings", g.read, path+": the table is provisioned, but the replica's index declares no ReadProvisionedThroughputSettings"); err != nil {
					return nil, err
				}
			case g.read != nil:
				i.Read = *g.read
			case ownUnknown || g.nameUnknown:
				i.Read = Units{Property: e.path + ".GlobalSecondaryIndexes", Unknown: true}
			default:
				return nil, fmt.Errorf("%s.GlobalSecondaryIndexes: the table is provisioned, but declares no ReadProvisionedThroughputSettings for index %s in this replica", e.path, cut(g.name))
			}
		}
		out = append(out, i)
	}
	for _, o := range own { // in order: the same stray index is named on every run
		if _, stray := byName[o.name]; stray && !o.nameUnknown && !onDemand {
			return nil, fmt.Errorf("%s.%s: the table declares no index %s (GlobalSecondaryIndexes)", e.path, o.path, cut(o.name))
		}
	}
	return out, nil
}

// entry is one literal object of a list property: an index or a replica.
type entry struct {
	name        string // IndexName or Region
	nameUnknown bool   // an intrinsic function gives the name
	path        string // GlobalSecondaryIndexes[by_balance], Replicas[eu-west-1], or by position
	props       map[string]any
}

// entries reads the objects of list property prop of props, each named by its IndexName (or a
// replica by its Region). A list, or an entry of it, that an intrinsic function gives is added to
// c.Unknown (with c nil, it is an error): nothing about it can be known before deploy.
func entries(props map[string]any, prop string, c *TableCapacity) ([]entry, error) {
	v, ok := props[prop]
	if !ok {
		return nil, nil
	}
	if isIntrinsic(v) {
		if c == nil {
			return nil, fmt.Errorf("%s: %w", prop, errIntrinsic)
		}
		c.Unknown = append(c.Unknown, prop)
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list, got %s", prop, shown(v))
	}
	key := "IndexName"
	if prop == "Replicas" {
		key = "Region"
	}
	var out []entry
	for n, e := range list {
		at := fmt.Sprintf("%s[%d]", prop, n)
		if isIntrinsic(e) {
			if c != nil {
				c.Unknown = append(c.Unknown, at)
			}
			continue
		}
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an object, got %s", at, shown(e))
		}
		en := entry{path: at, props: m}
		switch name := m[key].(type) {
		case string:
			en.name, en.path = name, fmt.Sprintf("%s[%s]", prop, cut(name))
		case nil:
			return nil, fmt.Errorf("%s: %s is not declared", at, key)
		default:
			if !isIntrinsic(name) {
				return nil, fmt.Errorf("%s.%s %s: want a string", at, key, shown(name))
			}
			en.nameUnknown = true
		}
		out = append(out, en)
	}
	return out, nil
}

func lenList(v any) int {
	l, _ := v.([]any)
	return len(l)
}

// throughput reads a ProvisionedThroughput: ReadCapacityUnits and WriteCapacityUnits.
func throughput(path string, v any) (read, write Units, err error) {
	if isIntrinsic(v) {
		return Units{Property: path, Unknown: true}, Units{Property: path, Unknown: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return read, write, fmt.Errorf("%s %s: want an object with ReadCapacityUnits and WriteCapacityUnits", path, shown(v))
	}
	if read, err = required(m, path, "ReadCapacityUnits", parseUnits); err != nil {
		return read, write, err
	}
	write, err = required(m, path, "WriteCapacityUnits", parseUnits)
	return read, write, err
}

// writeSettings reads a global table's WriteProvisionedThroughputSettings: always autoscaled.
func writeSettings(path string, v any) (Units, error) {
	if isIntrinsic(v) {
		return Units{Property: path, Unknown: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Units{}, fmt.Errorf("%s %s: want an object with WriteCapacityAutoScalingSettings", path, shown(v))
	}
	return required(m, path, "WriteCapacityAutoScalingSettings", autoscaling)
}

// replicaRead reads a ReadProvisionedThroughputSettings of a replica or a replica's index:
// ReadCapacityUnits or ReadCapacityAutoScalingSettings, not both. Absent, it is fallback (the
// table's or the index's own setting), and without one the error missing.
func replicaRead(props map[string]any, path string, fallback *Units, missing string) (Units, error) {
	v, ok := props["ReadProvisionedThroughputSettings"]
	switch {
	case !ok && fallback != nil:
		return *fallback, nil
	case !ok:
		return Units{}, fmt.Errorf("%s", missing)
	case isIntrinsic(v):
		return Units{Property: path, Unknown: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Units{}, fmt.Errorf("%s %s: want an object with ReadCapacityUnits or ReadCapacityAutoScalingSettings", path, shown(v))
	}
	fixed, hasFixed := m["ReadCapacityUnits"]
	scaled, hasScaled := m["ReadCapacityAutoScalingSettings"]
	switch {
	case hasFixed && hasScaled:
		return Units{}, fmt.Errorf("%s: declares both ReadCapacityUnits and ReadCapacityAutoScalingSettings; want one", path)
	case hasFixed:
		return parseUnits(path+".ReadCapacityUnits", fixed)
	case hasScaled:
		return autoscaling(path+".ReadCapacityAutoScalingSettings", scaled)
	}
	return Units{}, fmt.Errorf("%s: declares neither ReadCapacityUnits nor ReadCapacityAutoScalingSettings", path)
}

// globalRead reads the ReadProvisionedThroughputSettings of a global table or of its index
// (ReadCapacityUnits only), a default for the replicas that declare no read capacity of their
// own; nil when it is not declared.
func globalRead(props map[string]any, path string) (*Units, error) {
	v, ok := props["ReadProvisionedThroughputSettings"]
	if !ok {
		return nil, nil
	}
	if isIntrinsic(v) {
		return &Units{Property: path, Unknown: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s %s: want an object with ReadCapacityUnits", path, shown(v))
	}
	u, err := required(m, path, "ReadCapacityUnits", parseUnits)
	return &u, err
}

// autoscaling reads CapacityAutoScalingSettings: the capacity is MinCapacity at least, MaxCapacity
// at most.
func autoscaling(path string, v any) (Units, error) {
	if isIntrinsic(v) {
		return Units{Property: path, Unknown: true, Autoscaled: true}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return Units{}, fmt.Errorf("%s %s: want an object with MinCapacity and MaxCapacity", path, shown(v))
	}
	lo, err := required(m, path, "MinCapacity", parseUnits)
	if err != nil {
		return lo, err
	}
	hi, err := required(m, path, "MaxCapacity", parseUnits)
	if err != nil {
		return hi, err
	}
	if !lo.Unknown && !hi.Unknown && lo.N > hi.N {
		return Units{}, fmt.Errorf("%s: MinCapacity %d is above MaxCapacity %d", path, lo.N, hi.N)
	}
	return Units{Property: path, N: lo.N, Unknown: lo.Unknown, Autoscaled: true, Max: hi.N}, nil
}

// required reads m[key] with read, an error naming path.key when it is absent.
func required(m map[string]any, path, key string, read func(string, any) (Units, error)) (Units, error) {
	v, ok := m[key]
	if !ok {
		return Units{}, fmt.Errorf("%s.%s is not declared", path, key)
	}
	return read(path+"."+key, v)
}

// digits is how a capacity is written: CloudFormation takes an integer, or a string of one.
var digits = regexp.MustCompile(`^[0-9]+$`)

// parseUnits is the one rule for a capacity: a JSON number or a string written in digits only
// (5 or "5"), MinUnits to MaxUnits; an intrinsic function is Unknown. 1e3, 5.0, " 5" and "+5" are
// refused everywhere alike: CDK never writes them, and a number written so is better spelled out
// than guessed at.
func parseUnits(path string, v any) (Units, error) {
	u := Units{Property: path}
	if isIntrinsic(v) {
		u.Unknown = true
		return u, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if !digits.MatchString(s) || err != nil || n < MinUnits || n > MaxUnits {
		return u, fmt.Errorf("%s %s: want a whole number of capacity units from %d to %d (DynamoDB's default quota for a table), written in digits (5 or \"5\")", path, shown(v), MinUnits, MaxUnits)
	}
	u.N = n
	return u, nil
}

// billingSaid says how a table came to be provisioned, for an error.
func billingSaid(props map[string]any) string {
	if _, ok := props[FieldBillingMode]; ok {
		return "BillingMode " + shown(props[FieldBillingMode])
	}
	return "no BillingMode: PROVISIONED is CloudFormation's default"
}

// shown is a template value as JSON, cut short: an error quotes the value it refuses, not a
// megabyte of it.
func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return cut(string(b))
}

// cut shortens what a template names (a value, an index name) to what an error can quote.
func cut(s string) string {
	const most = 60
	if utf8.RuneCountInString(s) <= most {
		return s
	}
	return string([]rune(s)[:most]) + "…"
}

package archive

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/wallet-dynamodb/wallet/internal/strictjson"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// Metadata describes an export: enough to recreate the table and to check the items are whole.
type Metadata struct {
	Format   string `json:"format"`
	Table    string `json:"table"`
	TableARN string `json:"table_arn"`
	// TableID and TableCreated tell this table from another created later under the same name
	// (and ARN): DynamoDB's TableId where it gives one (AWS does; moto does not), else the
	// creation time. Exports written before they were recorded have neither.
	TableID                string            `json:"table_id,omitempty"`
	TableCreated           *time.Time        `json:"table_created,omitempty"`
	KeySchema              []Key             `json:"key_schema"`
	AttributeDefinitions   []Attribute       `json:"attribute_definitions"`
	Billing                types.BillingMode `json:"billing"` // PROVISIONED or PAY_PER_REQUEST
	ReadCapacity           int64             `json:"read_capacity,omitempty"`
	WriteCapacity          int64             `json:"write_capacity,omitempty"`
	GlobalSecondaryIndexes []Index           `json:"global_secondary_indexes,omitempty"`
	LocalSecondaryIndexes  []Index           `json:"local_secondary_indexes,omitempty"`
	ItemCount              int64             `json:"item_count"`
	ItemsSHA256            string            `json:"items_sha256"`
	ExportedAt             time.Time         `json:"exported_at"`
}

// Key is one element of a key schema.
type Key struct {
	AttributeName string `json:"attribute_name"`
	KeyType       string `json:"key_type"` // HASH or RANGE
}

// Attribute is one attribute definition (S, N or B).
type Attribute struct {
	AttributeName string `json:"attribute_name"`
	AttributeType string `json:"attribute_type"`
}

// Index is a secondary index as far as recreating it needs.
type Index struct {
	Name             string   `json:"name"`
	KeySchema        []Key    `json:"key_schema"`
	ProjectionType   string   `json:"projection_type"`
	NonKeyAttributes []string `json:"non_key_attributes,omitempty"`
	ReadCapacity     int64    `json:"read_capacity,omitempty"`
	WriteCapacity    int64    `json:"write_capacity,omitempty"`
}

func metadataFrom(d *types.TableDescription) *Metadata {
	md := &Metadata{Format: Format, Table: aws.ToString(d.TableName), TableARN: aws.ToString(d.TableArn), Billing: wallet.BillingOf(d).Mode()}
	md.TableID, md.TableCreated = aws.ToString(d.TableId), d.CreationDateTime
	md.KeySchema = keys(d.KeySchema)
	md.AttributeDefinitions = attributes(d.AttributeDefinitions)
	if md.Billing == types.BillingModeProvisioned && d.ProvisionedThroughput != nil {
		md.ReadCapacity = aws.ToInt64(d.ProvisionedThroughput.ReadCapacityUnits)
		md.WriteCapacity = aws.ToInt64(d.ProvisionedThroughput.WriteCapacityUnits)
	}
	for _, g := range d.GlobalSecondaryIndexes {
		ix := Index{Name: aws.ToString(g.IndexName), KeySchema: keys(g.KeySchema)}
		projection(&ix, g.Projection)
		if g.ProvisionedThroughput != nil {
			ix.ReadCapacity = aws.ToInt64(g.ProvisionedThroughput.ReadCapacityUnits)
			ix.WriteCapacity = aws.ToInt64(g.ProvisionedThroughput.WriteCapacityUnits)
		}
		md.GlobalSecondaryIndexes = append(md.GlobalSecondaryIndexes, ix)
	}
	for _, l := range d.LocalSecondaryIndexes {
		ix := Index{Name: aws.ToString(l.IndexName), KeySchema: keys(l.KeySchema)}
		projection(&ix, l.Projection)
		md.LocalSecondaryIndexes = append(md.LocalSecondaryIndexes, ix)
	}
	return md
}

// sameTable says why the table md (read from DynamoDB now) is not the one this export was taken
// of, or nil if it is.
func (exp *Metadata) sameTable(md *Metadata) error {
	switch {
	case exp.TableID == "" && exp.TableCreated == nil:
		return fmt.Errorf("of %s, written before exports recorded which table they are of (%s has no table_id or table_created), so it cannot be matched to this table", exp.Table, MetadataFile)
	case exp.TableARN != md.TableARN:
		return fmt.Errorf("of table %s, not of %s", exp.TableARN, md.TableARN)
	case exp.TableID != "" && md.TableID != "":
		if exp.TableID != md.TableID {
			return fmt.Errorf("of an earlier table named %s (TableId %s; this one's is %s)", exp.Table, exp.TableID, md.TableID)
		}
		return nil
	case exp.TableCreated == nil || md.TableCreated == nil || !exp.TableCreated.Equal(*md.TableCreated):
		return fmt.Errorf("of an earlier table named %s (created %s; this one was created %s)", exp.Table, timeOrUnknown(exp.TableCreated), timeOrUnknown(md.TableCreated))
	}
	return nil
}

func timeOrUnknown(t *time.Time) string {
	if t == nil {
		return "at an unknown time"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func keys(ks []types.KeySchemaElement) []Key {
	out := make([]Key, len(ks))
	for i, k := range ks {
		out[i] = Key{aws.ToString(k.AttributeName), string(k.KeyType)}
	}
	return out
}

func attributes(ds []types.AttributeDefinition) []Attribute {
	out := make([]Attribute, len(ds))
	for i, a := range ds {
		out[i] = Attribute{aws.ToString(a.AttributeName), string(a.AttributeType)}
	}
	return out
}

func projection(ix *Index, p *types.Projection) {
	if p == nil {
		ix.ProjectionType = string(types.ProjectionTypeAll)
		return
	}
	ix.ProjectionType = string(p.ProjectionType)
	ix.NonKeyAttributes = p.NonKeyAttributes
}

// writeMetadata writes dir's metadata.json and makes it durable: a deletion depends on it.
func writeMetadata(dir string, md *Metadata) error {
	b, err := json.MarshalIndent(md, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, MetadataFile), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// maxMetadataBytes bounds metadata.json: a table's description is a few KB even with the 25
// indexes DynamoDB allows.
const maxMetadataBytes = 1 << 20

// ReadMetadata reads and checks dir's metadata.json; its absence means the export is missing
// or unfinished. Every problem is a *Refused.
func ReadMetadata(dir string) (*Metadata, error) {
	path := filepath.Join(dir, MetadataFile)
	f, err := openRegular(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, refuse("%s has no %s: not an export, or one that did not finish", dir, MetadataFile)
		}
		return nil, refuse("%w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxMetadataBytes+1))
	switch {
	case err != nil:
		return nil, refuse("%w", err)
	case len(b) > maxMetadataBytes:
		return nil, refuse("%s is larger than %d MiB: not a metadata file this tool wrote", path, maxMetadataBytes>>20)
	}
	var md Metadata
	if err := strictjson.Decode(b, &md, "the metadata.json an export writes", strictjson.Options{}); err != nil {
		return nil, refuse("%s: %w", path, err)
	}
	if md.Format != Format {
		return nil, refuse("%s: format %q, but this version of verify reads only %q", path, md.Format, Format)
	}
	if problems := md.problems(); len(problems) > 0 {
		return nil, refuse("%s is not a table this export can recreate: %s", path, strings.Join(problems, "; "))
	}
	return &md, nil
}

// problems lists what CreateTable would refuse, or what would make the items unreadable, so a
// tampered metadata.json is found before a table is created, not by CreateTable or halfway.
func (md *Metadata) problems() []string {
	var p []string
	add := func(format string, a ...any) { p = append(p, fmt.Sprintf(format, a...)) }
	if !wallet.ValidTableName(md.Table) {
		add("table %q: %s", md.Table, TableNameRule)
	}
	defs := map[string]string{}
	for _, a := range md.AttributeDefinitions {
		switch {
		case a.AttributeName == "":
			add("an attribute definition has no name")
		case defs[a.AttributeName] != "":
			add("attribute %q is defined twice", a.AttributeName)
		case !slices.Contains([]string{"S", "N", "B"}, a.AttributeType):
			add("attribute %q has type %q, want S, N or B", a.AttributeName, a.AttributeType)
		}
		defs[a.AttributeName] = a.AttributeType
	}
	used := map[string]bool{}
	checkKeys := func(what string, ks []Key) {
		if len(ks) == 0 || len(ks) > 2 {
			add("%s has %d keys, want a HASH key and an optional RANGE key", what, len(ks))
			return
		}
		if ks[0].KeyType != string(types.KeyTypeHash) {
			add("%s starts with %q key %q, want the HASH key first", what, ks[0].KeyType, ks[0].AttributeName)
		}
		if len(ks) == 2 && (ks[1].KeyType != string(types.KeyTypeRange) || ks[1].AttributeName == ks[0].AttributeName) {
			add("%s's second key %q is %q, want a RANGE key on another attribute", what, ks[1].AttributeName, ks[1].KeyType)
		}
		for _, k := range ks {
			used[k.AttributeName] = true
			if _, ok := defs[k.AttributeName]; !ok {
				add("%s key %q has no attribute definition", what, k.AttributeName)
			}
		}
	}
	checkKeys("the key schema", md.KeySchema)
	names := map[string]bool{}
	checkIndex := func(kind string, ix Index) {
		what := fmt.Sprintf("%s %q", kind, ix.Name)
		if ix.Name == "" || names[ix.Name] {
			add("%s: index names must be present and unique", what)
		}
		names[ix.Name] = true
		checkKeys(what, ix.KeySchema)
		if !slices.Contains(types.ProjectionTypeAll.Values(), types.ProjectionType(ix.ProjectionType)) {
			add("%s: projection %q, want ALL, KEYS_ONLY or INCLUDE", what, ix.ProjectionType)
		}
		if ix.ReadCapacity < 0 || ix.WriteCapacity < 0 {
			add("%s: negative capacity", what)
		}
	}
	for _, ix := range md.GlobalSecondaryIndexes {
		checkIndex("global index", ix)
	}
	for _, ix := range md.LocalSecondaryIndexes {
		checkIndex("local index", ix)
		if len(ix.KeySchema) != 2 || len(md.KeySchema) == 0 || ix.KeySchema[0].AttributeName != md.KeySchema[0].AttributeName {
			add("local index %q: want the table's HASH key and a RANGE key", ix.Name)
		}
	}
	for name := range defs {
		if !used[name] {
			add("attribute %q is defined but is no key of the table or an index", name)
		}
	}
	if md.Billing != types.BillingModeProvisioned && md.Billing != types.BillingModePayPerRequest {
		add("billing %q, want PROVISIONED or PAY_PER_REQUEST", md.Billing)
	}
	if md.ReadCapacity < 0 || md.WriteCapacity < 0 {
		add("negative capacity")
	}
	if md.ItemCount < 0 {
		add("item_count %d", md.ItemCount)
	}
	if b, err := hex.DecodeString(md.ItemsSHA256); err != nil || len(b) != 32 {
		add("items_sha256 %q is not a SHA-256", md.ItemsSHA256)
	}
	slices.Sort(p) // defs is a map: the same file gives the same message every time
	return p
}

// schema is what DynamoDB enforces on an item's attributes: the table's key attributes must be
// there, and every key attribute of the table or an index has its declared type.
type schema struct {
	keys  []Key
	types map[string]string
}

func schemaOf(ks []Key, defs []Attribute) schema {
	s := schema{keys: ks, types: map[string]string{}}
	for _, a := range defs {
		s.types[a.AttributeName] = a.AttributeType
	}
	return s
}

// check refuses an item DynamoDB would refuse for its keys.
func (s schema) check(item map[string]types.AttributeValue) error {
	for _, k := range s.keys {
		if _, ok := item[k.AttributeName]; !ok {
			return fmt.Errorf("no key attribute %q", k.AttributeName)
		}
	}
	for name, want := range s.types {
		v, ok := item[name]
		if !ok {
			continue // an index key may be absent: the item is then not in that index
		}
		got, empty := scalarType(v)
		switch {
		case got != want:
			return fmt.Errorf("key attribute %q is %s, the table declares %s", name, typeName(v), want)
		case empty:
			return fmt.Errorf("key attribute %q is empty: DynamoDB refuses an empty key", name)
		}
	}
	return nil
}

// scalarType is a value's key type (S, N or B, "" for any other) and whether it is empty.
func scalarType(v types.AttributeValue) (string, bool) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return "S", x.Value == ""
	case *types.AttributeValueMemberN:
		return "N", false
	case *types.AttributeValueMemberB:
		return "B", len(x.Value) == 0
	}
	return "", false
}

func typeName(v types.AttributeValue) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", v), "*types.AttributeValueMember")
}

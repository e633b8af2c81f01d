package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The parts of the policy-engine test (iam_test.go) that know nothing of the wallet: resolving
// a template's intrinsics as CloudFormation would, running the engine, and reading the questions
// out of docs/iam.md.

// cfnEnv resolves the intrinsics of one template to what CloudFormation would make of them when
// deploying it as stack in account and region: exactly the intrinsics the policies use (Ref,
// Fn::GetAtt, Fn::Join), each resource named as CloudFormation names one it is not given a name
// for, <stack>-<logical id>-<suffix>. Anything else is an error naming it, never a guess: a
// question about a policy resolved wrongly would be a question about another policy.
type cfnEnv struct {
	stack, account, region, partition string
	resources                         map[string]any    // the template's Resources
	params                            map[string]string // a StackSet's parameter values
}

// cfnSuffix stands for the random suffix of a name CloudFormation generates (12 characters).
const cfnSuffix = "K4M2XQ7ZP9RT"

// uuidOf is a fixed UUID-shaped id for s: a stack's id, a key's id.
func uuidOf(s string) string {
	h := sha256.Sum256([]byte(s))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

func (e cfnEnv) stackID() string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", e.partition, e.region, e.account, e.stack, uuidOf(e.account+"/"+e.stack))
}

func (e cfnEnv) resolve(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k, arg := range v {
				switch {
				case k == "Ref":
					return e.ref(arg)
				case k == "Fn::GetAtt":
					return e.getAtt(arg)
				case k == "Fn::Join":
					return e.join(arg)
				case strings.HasPrefix(k, "Fn::"):
					return nil, fmt.Errorf("%s %s: an intrinsic this resolver does not know (it resolves Ref, Fn::GetAtt, Fn::Join)", k, js(arg))
				}
			}
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := e.resolve(x)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := e.resolve(x)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

func (e cfnEnv) resolveString(v any) (string, error) {
	r, err := e.resolve(v)
	if err != nil {
		return "", err
	}
	s, ok := r.(string)
	if !ok {
		return "", fmt.Errorf("%s resolves to %s, not a string", js(v), js(r))
	}
	return s, nil
}

// nameProperty is the property that names a resource of each type the policies refer to.
var nameProperty = map[string]string{
	"AWS::IAM::Role":          "RoleName",
	"AWS::IAM::ManagedPolicy": "ManagedPolicyName",
	"AWS::DynamoDB::Table":    "TableName",
	"AWS::Logs::LogGroup":     "LogGroupName",
	"AWS::SQS::Queue":         "QueueName",
	"AWS::SNS::Topic":         "TopicName",
	"AWS::CloudWatch::Alarm":  "AlarmName",
	"AWS::Lambda::Function":   "FunctionName",
	"AWS::KMS::Key":           "",
}

// resource is the type and physical name of the template's resource id.
func (e cfnEnv) resource(id string) (typ, name string, err error) {
	r, ok := e.resources[id].(map[string]any)
	if !ok {
		return "", "", fmt.Errorf("%s: no such resource in %s's template", id, e.stack)
	}
	typ, _ = r["Type"].(string)
	prop, known := nameProperty[typ]
	if !known {
		return "", "", fmt.Errorf("%s: a %s, which this resolver does not name", id, typ)
	}
	if typ == "AWS::KMS::Key" {
		return typ, uuidOf(e.account + "/" + e.stack + "/" + id), nil
	}
	props, _ := r["Properties"].(map[string]any)
	if n, ok := props[prop]; ok {
		name, err := e.resolveString(n)
		return typ, name, err
	}
	return typ, e.stack + "-" + id + "-" + cfnSuffix, nil
}

func (e cfnEnv) ref(arg any) (any, error) {
	name, ok := arg.(string)
	if !ok {
		return nil, fmt.Errorf("Ref %s: not a name", js(arg))
	}
	switch name {
	case "AWS::Partition":
		return e.partition, nil
	case "AWS::AccountId":
		return e.account, nil
	case "AWS::Region":
		return e.region, nil
	case "AWS::StackName":
		return e.stack, nil
	case "AWS::StackId":
		return e.stackID(), nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if v, ok := e.params[name]; ok {
		return v, nil
	}
	typ, phys, err := e.resource(name)
	if err != nil {
		return nil, fmt.Errorf("Ref %s: %w", name, err)
	}
	switch typ {
	case "AWS::IAM::Role", "AWS::DynamoDB::Table", "AWS::Logs::LogGroup", "AWS::Lambda::Function", "AWS::KMS::Key", "AWS::CloudWatch::Alarm":
		return phys, nil
	case "AWS::IAM::ManagedPolicy":
		return fmt.Sprintf("arn:%s:iam::%s:policy/%s", e.partition, e.account, phys), nil
	case "AWS::SNS::Topic":
		return fmt.Sprintf("arn:%s:sns:%s:%s:%s", e.partition, e.region, e.account, phys), nil
	case "AWS::SQS::Queue":
		return fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", e.region, e.account, phys), nil
	}
	return nil, fmt.Errorf("Ref %s: a %s, whose Ref this resolver does not know", name, typ)
}

func (e cfnEnv) getAtt(arg any) (any, error) {
	var id, attr string
	switch a := arg.(type) {
	case []any:
		if len(a) == 2 {
			id, _ = a[0].(string)
			attr, _ = a[1].(string)
		}
	case string:
		id, attr, _ = strings.Cut(a, ".")
	}
	if id == "" || attr != "Arn" {
		return nil, fmt.Errorf("Fn::GetAtt %s: this resolver knows only <resource>.Arn", js(arg))
	}
	typ, phys, err := e.resource(id)
	if err != nil {
		return nil, fmt.Errorf("Fn::GetAtt %s: %w", js(arg), err)
	}
	p, r, a := e.partition, e.region, e.account
	switch typ {
	case "AWS::IAM::Role":
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p, a, phys), nil
	case "AWS::KMS::Key":
		return fmt.Sprintf("arn:%s:kms:%s:%s:key/%s", p, r, a, phys), nil
	case "AWS::Logs::LogGroup":
		return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", p, r, a, phys), nil
	case "AWS::SQS::Queue":
		return fmt.Sprintf("arn:%s:sqs:%s:%s:%s", p, r, a, phys), nil
	case "AWS::DynamoDB::Table":
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", p, r, a, phys), nil
	case "AWS::CloudWatch::Alarm":
		return fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:%s", p, r, a, phys), nil
	case "AWS::Lambda::Function":
		return fmt.Sprintf("arn:%s:lambda:%s:%s:function:%s", p, r, a, phys), nil
	}
	return nil, fmt.Errorf("Fn::GetAtt %s: a %s, whose Arn this resolver does not know", js(arg), typ)
}

func (e cfnEnv) join(arg any) (any, error) {
	a, ok := arg.([]any)
	if !ok || len(a) != 2 {
		return nil, fmt.Errorf("Fn::Join %s: want [separator, [values]]", js(arg))
	}
	sep, ok1 := a[0].(string)
	parts, ok2 := a[1].([]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("Fn::Join %s: want [separator, [values]]", js(arg))
	}
	out := make([]string, len(parts))
	for i, p := range parts {
		s, err := e.resolveString(p)
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		out[i] = s
	}
	return strings.Join(out, sep), nil
}

// engineQuestion is one request put to the engine (tools/iamsim/simulate.mjs describes them).
type engineQuestion struct {
	ID               string         `json:"id"`
	Principal        string         `json:"principal"`
	Action           string         `json:"action"`
	Resource         string         `json:"resource"`
	ResourceAccount  string         `json:"resourceAccount"`
	Context          map[string]any `json:"context"`
	IdentityPolicies []string       `json:"identityPolicies"`
	ResourcePolicy   string         `json:"resourcePolicy,omitempty"`
}

type engineRun struct {
	Name      string           `json:"name"`
	Policies  map[string]any   `json:"policies"`
	Questions []engineQuestion `json:"questions"`
}

type engineAnswer struct {
	ID          string   `json:"id"`
	Result      string   `json:"result"` // Allowed, ImplicitlyDenied, ExplicitlyDenied
	IgnoredKeys []string `json:"ignoredContextKeys"`
	Error       string   `json:"error"`
}

// engineTimeout bounds one call of the engine, a hang guard: a few thousand questions take
// seconds.
const engineTimeout = 5 * time.Minute

// askEngine runs the pinned Node on tools/iamsim/simulate.mjs with the runs and returns each
// run's answers, in order. Missing Node modules fail the test naming what installs them.
func askEngine(t *testing.T, runs []engineRun) [][]engineAnswer {
	t.Helper()
	root := repoRoot(t)
	node := filepath.Join(root, "node_modules", ".bin", "node")
	script := filepath.Join(root, "tools", "iamsim", "simulate.mjs")
	for _, need := range []string{node, filepath.Join(root, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run `make deps` (npm ci) to install the pinned Node and @cloud-copilot/iam-simulate", need)
		}
	}
	in, err := json.Marshal(map[string]any{"runs": runs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), engineTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", node, script, err, stderr.String())
	}
	var out struct {
		Runs []struct {
			Name    string         `json:"name"`
			Answers []engineAnswer `json:"answers"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("engine output is not its JSON: %v\n%.2000s", err, stdout.String())
	}
	if len(out.Runs) != len(runs) {
		t.Fatalf("engine answered %d runs of %d", len(out.Runs), len(runs))
	}
	answers := make([][]engineAnswer, len(runs))
	for i, r := range out.Runs {
		if len(r.Answers) != len(runs[i].Questions) {
			t.Fatalf("engine answered %d questions of %d in run %s", len(r.Answers), len(runs[i].Questions), runs[i].Name)
		}
		for j, a := range r.Answers {
			if a.ID != runs[i].Questions[j].ID {
				t.Fatalf("run %s: answer %d is to question %s, want %s", runs[i].Name, j, a.ID, runs[i].Questions[j].ID)
			}
		}
		answers[i] = r.Answers
	}
	return answers
}

// docQuestion is one row of a question table of docs/iam.md.
type docQuestion struct {
	line                                   int
	section                                string // the heading the table sits under
	claim, as, action, on, context, answer string
}

func (q docQuestion) String() string {
	s := fmt.Sprintf("docs/iam.md:%d %s %s on %s", q.line, q.as, q.action, q.on)
	if q.context != "" {
		s += " [" + q.context + "]"
	}
	return s
}

// docTables are what the test reads from docs/iam.md: the question tables (header
// `| claim | as | action | on | context | answer |`) and the names of its vocabulary tables
// (`| principal | … |`, `| resource | … |`, `| value | … |`).
type docTables struct {
	questions                     []docQuestion
	principals, resources, values []string
}

var (
	questionHeader = []string{"claim", "as", "action", "on", "context", "answer"}
	tableSeparator = regexp.MustCompile(`^\|(\s*:?-+:?\s*\|)+$`)
)

// cells splits a table row; `\|` is a | inside a cell, and code spans' backticks are dropped.
func cells(line string) []string {
	const pipe = "\x00"
	line = strings.ReplaceAll(strings.TrimSpace(line), `\|`, pipe)
	parts := strings.Split(strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|"), "|")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(p, "`", ""), pipe, "|"))
	}
	return parts
}

func readDocTables(path string) (docTables, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return docTables{}, err
	}
	var out docTables
	var section string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(strings.TrimLeft(line, "#"))
			continue
		}
		if !strings.HasPrefix(line, "|") || i+1 >= len(lines) || !tableSeparator.MatchString(strings.TrimSpace(lines[i+1])) {
			continue
		}
		header := cells(line)
		kind := ""
		switch {
		case strings.Join(header, "|") == strings.Join(questionHeader, "|"):
			kind = "question"
		case header[0] == "principal", header[0] == "resource", header[0] == "value":
			kind = header[0]
		default:
			continue
		}
		for i += 2; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			row := cells(lines[i])
			if len(row) != len(header) {
				return docTables{}, fmt.Errorf("%s:%d: %d cells, want %d (%s)", path, i+1, len(row), len(header), strings.Join(header, ", "))
			}
			switch kind {
			case "question":
				out.questions = append(out.questions, docQuestion{line: i + 1, section: section,
					claim: row[0], as: row[1], action: row[2], on: row[3], context: row[4], answer: row[5]})
			case "principal":
				out.principals = append(out.principals, row[0])
			case "resource":
				out.resources = append(out.resources, row[0])
			case "value":
				out.values = append(out.values, row[0])
			}
		}
	}
	if len(out.questions) == 0 {
		return docTables{}, errors.New(path + ": no question table (header | claim | as | action | on | context | answer |)")
	}
	return out, nil
}

// The resolver names resources as CloudFormation does and refuses what it does not know: an
// intrinsic resolved by guess would put a question to another policy than the template's.
func TestPolicyResolverKnowsOnlyWhatThePoliciesUse(t *testing.T) {
	env := cfnEnv{stack: "Wallet-dev", account: centralAccount, region: iamRegion, partition: iamPartition, resources: map[string]any{
		"Table1":  map[string]any{"Type": "AWS::DynamoDB::Table", "Properties": map[string]any{}},
		"Named1":  map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"RoleName": map[string]any{"Fn::Join": []any{"-", []any{"a", map[string]any{"Ref": "AWS::Region"}}}}}},
		"Policy1": map[string]any{"Type": "AWS::IAM::ManagedPolicy", "Properties": map[string]any{}},
		"Bucket1": map[string]any{"Type": "AWS::S3::Bucket", "Properties": map[string]any{}},
	}}
	for _, tc := range []struct {
		in   any
		want string // "" for an error
	}{
		{map[string]any{"Fn::GetAtt": []any{"Table1", "Arn"}}, "arn:aws:dynamodb:us-east-1:111111111111:table/Wallet-dev-Table1-" + cfnSuffix},
		{map[string]any{"Fn::GetAtt": []any{"Named1", "Arn"}}, "arn:aws:iam::111111111111:role/a-us-east-1"},
		{map[string]any{"Ref": "Policy1"}, "arn:aws:iam::111111111111:policy/Wallet-dev-Policy1-" + cfnSuffix},
		{map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, ":x"}}}, "arn:aws:x"},
		{map[string]any{"Fn::Sub": "arn:${AWS::Partition}:x"}, ""},
		{map[string]any{"Fn::If": []any{"c", "a", "b"}}, ""},
		{map[string]any{"Ref": "Missing"}, ""},
		{map[string]any{"Ref": "Bucket1"}, ""},
		{map[string]any{"Fn::GetAtt": []any{"Table1", "StreamArn"}}, ""},
		{map[string]any{"Fn::Join": []any{"", []any{map[string]any{"Fn::Sub": "x"}}}}, ""},
	} {
		got, err := env.resolve(map[string]any{"Resource": tc.in})
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("%s resolved to %s; want an error naming it", js(tc.in), js(got))
		case tc.want != "" && err != nil:
			t.Errorf("%s: %v", js(tc.in), err)
		case tc.want != "" && got.(map[string]any)["Resource"] != tc.want:
			t.Errorf("%s = %s, want %s", js(tc.in), js(got), tc.want)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// The accounts the questions of docs/iam.md are asked in. The wallet stack and the janitor (the
// organization's) are deployed in the central account, the management account of the
// organization the janitor is synthesized for (orgContext); the StackSet puts the member role
// in the member account; the foreign account is in another organization.
const (
	centralAccount = "111111111111"
	memberAccount  = "222222222222"
	foreignAccount = "333333333333"
	foreignOrgID   = "o-zzzzzzzzzz"
	iamRegion      = "us-east-1"
	iamPartition   = "aws"
)

// iamWorld is what the questions speak of: the policies of the synthesized templates, resolved
// for the accounts above, the principals that hold them and the resources they are asked about,
// each by the name docs/iam.md's vocabulary tables give it.
type iamWorld struct {
	policies   map[string]any // name → resolved document
	templated  []string       // the names of the policies the templates declare (not the fixtures)
	principals map[string]iamPrincipal
	resources  map[string]iamResource
	values     map[string]string // <name> in a question's context: an ARN that is not a resource asked about
	orgOf      map[string]string // account → organization id
}

type iamPrincipal struct {
	arn      string // the request's principal: a role's session, or a service
	roleArn  string // aws:PrincipalArn ("" for a service)
	account  string
	policies []string // identity policies, by name
}

type iamResource struct {
	arn, account string
	tags         map[string]string
	policy       string // its resource policy (key policy, trust policy, topic or queue policy), by name
}

// templatePolicies records one template's policy documents: the identity policies of each role,
// the resource policy of each resource, by logical id; each document is in the world by name.
type templatePolicies struct {
	identity map[string][]string
	resource map[string]string
	byID     map[string]string // managed policy logical id → name
}

// addTemplate resolves every policy document the template declares into the world, named
// <stack>/<logical id>[/<inline policy name>|/trust]. A resource that carries a policy document
// in a way this function does not know fails: a policy the questions cannot see is not proven.
func (w *iamWorld) addTemplate(env cfnEnv) (templatePolicies, error) {
	tp := templatePolicies{identity: map[string][]string{}, resource: map[string]string{}, byID: map[string]string{}}
	add := func(name string, doc any) error {
		r, err := env.resolve(doc)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		w.policies[name] = r
		w.templated = append(w.templated, name)
		return nil
	}
	refs := func(v any) []string {
		var out []string
		list, _ := v.([]any)
		for _, x := range list {
			if m, ok := x.(map[string]any); ok {
				if id, ok := m["Ref"].(string); ok {
					out = append(out, id)
				}
			}
		}
		return out
	}
	for _, id := range slices.Sorted(maps.Keys(env.resources)) {
		r := env.resources[id].(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		name := env.stack + "/" + id
		var err error
		switch typ := r["Type"]; typ {
		case "AWS::IAM::ManagedPolicy":
			err = add(name, props["PolicyDocument"])
			tp.byID[id] = name
			for _, role := range refs(props["Roles"]) {
				tp.identity[role] = append(tp.identity[role], name)
			}
		case "AWS::IAM::Policy":
			err = add(name, props["PolicyDocument"])
			for _, role := range refs(props["Roles"]) {
				tp.identity[role] = append(tp.identity[role], name)
			}
		case "AWS::IAM::Role":
			if err = add(name+"/trust", props["AssumeRolePolicyDocument"]); err != nil {
				break
			}
			tp.resource[id] = name + "/trust"
			inline, _ := props["Policies"].([]any)
			for _, p := range inline {
				p := p.(map[string]any)
				n := name + "/" + p["PolicyName"].(string)
				if err = add(n, p["PolicyDocument"]); err != nil {
					break
				}
				tp.identity[id] = append(tp.identity[id], n)
			}
		case "AWS::KMS::Key":
			err = add(name, props["KeyPolicy"])
			tp.resource[id] = name
		case "AWS::SNS::TopicPolicy", "AWS::SQS::QueuePolicy":
			err = add(name, props["PolicyDocument"])
			targets := refs(props["Topics"])
			if typ == "AWS::SQS::QueuePolicy" {
				targets = refs(props["Queues"])
			}
			for _, target := range targets {
				tp.resource[target] = name
			}
		default:
			for _, k := range []string{"PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument", "Policies"} {
				if _, ok := props[k]; ok {
					err = fmt.Errorf("%s: a %s with a %s, which these tests do not read: teach addTemplate it", name, typ, k)
				}
			}
		}
		if err != nil {
			return tp, err
		}
	}
	// Managed policies a role lists by ARN.
	for id, r := range env.resources {
		r := r.(map[string]any)
		if r["Type"] != "AWS::IAM::Role" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		for _, mp := range refs(props["ManagedPolicyArns"]) {
			name, ok := tp.byID[mp]
			if !ok {
				return tp, fmt.Errorf("%s/%s: managed policy %s is not in the template", env.stack, id, mp)
			}
			tp.identity[id] = append(tp.identity[id], name)
		}
	}
	return tp, nil
}

// role adds the principal name: a session of the template's role id, with the role's policies.
func (w *iamWorld) role(name string, env cfnEnv, id string, tp templatePolicies) error {
	a, err := env.getAtt([]any{id, "Arn"})
	if err != nil {
		return err
	}
	arn := a.(string)
	_, roleName, _ := strings.Cut(arn, ":role/")
	w.principals[name] = iamPrincipal{
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", env.partition, env.account, roleName, name),
		roleArn: arn, account: env.account, policies: tp.identity[id],
	}
	return nil
}

// person adds the principal name: a session of a role someone made outside the stacks, holding
// policies (the ones the README tells people to attach, or an administrator's).
func (w *iamWorld) person(name, account, role string, policies ...string) {
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", iamPartition, account, role)
	w.principals[name] = iamPrincipal{
		arn:     fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", iamPartition, account, role, name),
		roleArn: arn, account: account, policies: policies,
	}
}

func arnOf(env cfnEnv, id string) string {
	a, err := env.getAtt([]any{id, "Arn"})
	if err != nil {
		panic(err) // the caller names a resource the stack declares
	}
	return a.(string)
}

func refOf(env cfnEnv, id string) string {
	a, err := env.ref(id)
	if err != nil {
		panic(err)
	}
	return a.(string)
}

func tagsOf(env cfnEnv, id string) map[string]string {
	out := map[string]string{}
	props, _ := env.resources[id].(map[string]any)["Properties"].(map[string]any)
	list, _ := props["Tags"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out[m["Key"].(string)] = m["Value"].(string)
	}
	return out
}

// newIAMWorld synthesizes the app (the dev wallet stack with its deploy check, and the
// organization's janitor) and builds the world of docs/iam.md's vocabulary tables from it.
func newIAMWorld(t *testing.T) *iamWorld {
	t.Helper()
	context := orgContext()
	orgID := context[contract.CtxJanitorOrgID].(string)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &context, Outdir: jsii.String(t.TempDir())})
	built, err := build(app, testCode(t))
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	env := func(stack awscdk.Stack, account string) cfnEnv {
		doc := norm(t, assertions.Template_FromStack(stack, nil).ToJSON())
		return cfnEnv{stack: *stack.StackName(), account: account, region: iamRegion, partition: iamPartition, resources: doc["Resources"].(map[string]any)}
	}
	wenv, jenv := env(built.Wallet, centralAccount), env(built.Janitor, centralAccount)
	w := &iamWorld{
		policies: map[string]any{}, principals: map[string]iamPrincipal{}, resources: map[string]iamResource{}, values: map[string]string{},
		orgOf: map[string]string{centralAccount: orgID, memberAccount: orgID, foreignAccount: foreignOrgID},
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wt, err := w.addTemplate(wenv)
	must(err)
	jt, err := w.addTemplate(jenv)
	must(err)

	// The member account's stack of the StackSet: its template, its parameters resolved in the
	// central stack.
	wid := func(path ...string) string { return logicalID(built.Wallet, path...) }
	jid := func(path ...string) string { return logicalID(built.Janitor, path...) }
	ssID := *built.Janitor.GetLogicalId(built.Janitor.Node().FindChild(jsii.String("MemberRole")).(awscdk.CfnElement))
	ss := jenv.resources[ssID].(map[string]any)["Properties"].(map[string]any)
	var member map[string]any
	must(json.Unmarshal([]byte(ss["TemplateBody"].(string)), &member))
	params := map[string]string{}
	for _, p := range ss["Parameters"].([]any) {
		p := p.(map[string]any)
		v, err := jenv.resolveString(p["ParameterValue"])
		must(err)
		params[p["ParameterKey"].(string)] = v
	}
	menv := cfnEnv{stack: "StackSet-" + contract.JanitorMemberRole + "-" + uuidOf("stackset"), account: memberAccount, region: iamRegion,
		partition: iamPartition, resources: member["Resources"].(map[string]any), params: params}
	mt, err := w.addTemplate(menv)
	must(err)

	// Policies of the world outside the stacks.
	w.policies["fixture/AdministratorAccess"] = map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}}
	trusting := func(principal string) any {
		return map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": "sts:AssumeRole"}}}
	}
	janitorRole := arnOf(jenv, jid("Role"))
	w.policies["fixture/TrustsTheCentralRole"] = trusting(janitorRole)
	w.policies["fixture/TrustsTheManagementAccount"] = trusting(fmt.Sprintf("arn:%s:iam::%s:root", iamPartition, centralAccount))

	must(w.role("janitor", jenv, jid("Role"), jt))
	must(w.role("check", wenv, wid("CheckRole"), wt))
	must(w.role("member", menv, "Role", mt))
	w.person("verifier", centralAccount, "pipeline-verify", wt.byID[wid(verifyPolicyID)])
	w.person("teardown", centralAccount, "pipeline-teardown", jt.byID[jid("TeardownPolicy")])
	w.person("admin", centralAccount, "Admin", "fixture/AdministratorAccess")
	w.person("member-admin", memberAccount, "Admin", "fixture/AdministratorAccess")
	w.principals["cloudwatch"] = iamPrincipal{arn: "cloudwatch.amazonaws.com", account: centralAccount}

	table := func(account, name string) string {
		return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", iamPartition, iamRegion, account, name)
	}
	stack := func(account, name, id string) string {
		return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", iamPartition, iamRegion, account, name, uuidOf(id))
	}
	ours := map[string]string{wallet.TagProject: wallet.ProjectName}
	inMember := wenv // the wallet stack, deployed in the member account
	inMember.account = memberAccount
	tableID := wid("Table")
	for name, r := range map[string]iamResource{
		"stack-table":          {arn: arnOf(wenv, tableID), account: centralAccount, tags: tagsOf(wenv, tableID)},
		"wallet-table":         {arn: table(centralAccount, "wallet-forgotten"), account: centralAccount, tags: ours},
		"payroll-table":        {arn: table(centralAccount, "payroll"), account: centralAccount},
		"backup":               {arn: table(centralAccount, "wallet-forgotten") + "/backup/01795710609733-9bc68f7d", account: centralAccount},
		"wallet-stack":         {arn: wenv.stackID(), account: centralAccount},
		"earlier-wallet-stack": {arn: stack(centralAccount, wenv.stack, "earlier"), account: centralAccount},
		"payroll-stack":        {arn: stack(centralAccount, "Payroll-prod", "payroll"), account: centralAccount},
		"janitor-stack":        {arn: jenv.stackID(), account: centralAccount},
		"verify-policy":        {arn: refOf(wenv, wid(verifyPolicyID)), account: centralAccount},
		"teardown-policy":      {arn: refOf(jenv, jid("TeardownPolicy")), account: centralAccount},
		"wallet-named-policy":  {arn: fmt.Sprintf("arn:%s:iam::%s:policy/%spayroll-admin", iamPartition, centralAccount, wallet.StackPrefix), account: centralAccount},
		"mark-key":             {arn: arnOf(jenv, jid("MarkKey")), account: centralAccount, policy: jt.resource[jid("MarkKey")]},
		"topic-key":            {arn: arnOf(jenv, jid("TopicKey")), account: centralAccount, policy: jt.resource[jid("TopicKey")]},
		"topic":                {arn: refOf(jenv, jid("Topic")), account: centralAccount, policy: jt.resource[jid("Topic")]},
		"janitor-logs":         {arn: strings.TrimSuffix(arnOf(jenv, jid("Logs")), "*") + "log-stream:run", account: centralAccount},
		"check-logs":           {arn: strings.TrimSuffix(arnOf(wenv, wid("CheckLogs")), "*") + "log-stream:run", account: centralAccount},
		"units-queue":          {arn: arnOf(jenv, jid("Units")), account: centralAccount, policy: jt.resource[jid("Units")]},
		"units-dlq":            {arn: arnOf(jenv, jid("UnitsDLQ")), account: centralAccount, policy: jt.resource[jid("UnitsDLQ")]},
		"member-role":          {arn: arnOf(menv, "Role"), account: memberAccount, policy: mt.resource["Role"]},
		"org-access-role": {arn: fmt.Sprintf("arn:%s:iam::%s:role/OrganizationAccountAccessRole", iamPartition, memberAccount),
			account: memberAccount, policy: "fixture/TrustsTheManagementAccount"},
		"foreign-role": {arn: fmt.Sprintf("arn:%s:iam::%s:role/%s", iamPartition, foreignAccount, contract.JanitorMemberRole),
			account: foreignAccount, policy: "fixture/TrustsTheCentralRole"},
		"member-wallet-table":  {arn: table(memberAccount, "wallet-forgotten"), account: memberAccount, tags: ours},
		"member-payroll-table": {arn: table(memberAccount, "payroll"), account: memberAccount},
		"member-backup":        {arn: table(memberAccount, "wallet-forgotten") + "/backup/01795710609733-1f2e3d4c", account: memberAccount},
		"member-wallet-stack":  {arn: inMember.stackID(), account: memberAccount},
		"member-verify-policy": {arn: refOf(inMember, wid(verifyPolicyID)), account: memberAccount},
		"ledger":               {arn: table(centralAccount, wallet.LedgerTable), account: centralAccount, tags: tagsOf(jenv, jid("Ledger"))},
		"member-ledger":        {arn: table(memberAccount, wallet.LedgerTable), account: memberAccount, tags: ledgerTags()},
		"tracking-alarm": {arn: fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:TargetTracking-table/wallet-forgotten-AlarmHigh-9be8690e", iamPartition, iamRegion, centralAccount),
			account: centralAccount},
		"other-alarm": {arn: fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:payroll-latency", iamPartition, iamRegion, centralAccount), account: centralAccount},
		"scaling-role": {arn: fmt.Sprintf("arn:%s:iam::%s:role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
			iamPartition, centralAccount), account: centralAccount},
	} {
		w.resources[name] = r
	}
	w.values["errors-alarm"] = arnOf(jenv, jid("ErrorsAlarm"))
	w.values["worker-alarm"] = arnOf(jenv, jid("WorkerErrorsAlarm"))
	w.values["payroll-alarm"] = fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:payroll-latency", iamPartition, iamRegion, centralAccount)
	for name, r := range w.resources {
		if r.policy != "" && w.policies[r.policy] == nil {
			t.Fatalf("resource %s: no policy %s", name, r.policy)
		}
	}
	return w
}

// answers are what a question table's answer column may say, as the engine says it.
var answers = map[string]string{"allow": "Allowed", "deny": "ImplicitlyDenied", "explicit deny": "ExplicitlyDenied"}

var contextValueRef = regexp.MustCompile(`<([a-z-]+)>`)

// question turns a row into the engine's request: the principal's session and policies, the
// resource and its policy, the context AWS would send (who asks, in which organization; the
// resource's account, organization and tags; TLS), changed by the row's context cell:
// `key=value; key=[a, b]; !key` (a list for a multi-valued key, ! to take a key out), with
// <name> for the ARN of a resource or value of the vocabulary. It returns the keys the row set.
func (w *iamWorld) question(q docQuestion) (engineQuestion, []string, error) {
	p, ok := w.principals[q.as]
	if !ok {
		return engineQuestion{}, nil, fmt.Errorf("no principal %q in the vocabulary", q.as)
	}
	if _, ok := answers[q.answer]; !ok {
		return engineQuestion{}, nil, fmt.Errorf("answer %q: want allow, deny or explicit deny", q.answer)
	}
	ctx := map[string]any{"aws:SecureTransport": "true"}
	if p.roleArn != "" {
		ctx["aws:PrincipalArn"], ctx["aws:PrincipalAccount"] = p.roleArn, p.account
		if org := w.orgOf[p.account]; org != "" {
			ctx["aws:PrincipalOrgID"] = org
		}
	}
	eq := engineQuestion{ID: fmt.Sprint(q.line), Principal: p.arn, Action: q.action, IdentityPolicies: p.policies}
	if q.on == "*" {
		eq.Resource, eq.ResourceAccount = "*", p.account
	} else {
		r, ok := w.resources[q.on]
		if !ok {
			return engineQuestion{}, nil, fmt.Errorf("no resource %q in the vocabulary", q.on)
		}
		eq.Resource, eq.ResourceAccount, eq.ResourcePolicy = r.arn, r.account, r.policy
		ctx["aws:ResourceAccount"] = r.account
		if org := w.orgOf[r.account]; org != "" {
			ctx["aws:ResourceOrgID"] = org
		}
		for k, v := range r.tags {
			ctx["aws:ResourceTag/"+k] = v
		}
	}
	var set []string
	for _, item := range strings.Split(q.context, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if key, ok := strings.CutPrefix(item, "!"); ok {
			delete(ctx, key)
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		if !ok {
			return engineQuestion{}, nil, fmt.Errorf("context %q: want key=value, key=[a, b] or !key", item)
		}
		var err error
		value = contextValueRef.ReplaceAllStringFunc(value, func(ref string) string {
			name := ref[1 : len(ref)-1]
			if v, ok := w.values[name]; ok {
				return v
			}
			if r, ok := w.resources[name]; ok {
				return r.arn
			}
			err = fmt.Errorf("context %q: no %s in the vocabulary", item, ref)
			return ref
		})
		if err != nil {
			return engineQuestion{}, nil, err
		}
		key = strings.TrimSpace(key)
		if list, ok := strings.CutPrefix(value, "["); ok {
			var vs []string
			for _, v := range strings.Split(strings.TrimSuffix(list, "]"), ",") {
				vs = append(vs, strings.TrimSpace(v))
			}
			ctx[key] = vs
		} else {
			ctx[key] = strings.TrimSpace(value)
		}
		set = append(set, key)
	}
	eq.Context = ctx
	return eq, set, nil
}

// mutation is one policy of the world with one condition, or one Deny statement, taken out.
type mutation struct {
	label, policy string
	doc           any
}

func statementsOf(doc any) []any {
	switch s := doc.(map[string]any)["Statement"].(type) {
	case []any:
		return s
	case map[string]any:
		return []any{s}
	}
	return nil
}

func deepCopy(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

// mutationsOf are the policy's mutants: each condition key of each statement removed (the
// operator with it when it was its last key, the Condition when it was the last operator), and
// each Deny statement removed whole.
func mutationsOf(name string, doc any) []mutation {
	var out []mutation
	for i, st := range statementsOf(doc) {
		st := st.(map[string]any)
		sid, _ := st["Sid"].(string)
		if sid == "" {
			sid = fmt.Sprintf("statement %d", i)
		}
		if st["Effect"] == "Deny" {
			d := deepCopy(doc).(map[string]any)
			d["Statement"] = slices.Delete(slices.Clone(statementsOf(d)), i, i+1)
			out = append(out, mutation{label: fmt.Sprintf("%s %s: the Deny", name, sid), policy: name, doc: d})
		}
		cond, _ := st["Condition"].(map[string]any)
		for _, op := range slices.Sorted(maps.Keys(cond)) {
			for _, key := range slices.Sorted(maps.Keys(cond[op].(map[string]any))) {
				d := deepCopy(doc).(map[string]any)
				s := statementsOf(d)[i].(map[string]any)
				c := s["Condition"].(map[string]any)
				delete(c[op].(map[string]any), key)
				if len(c[op].(map[string]any)) == 0 {
					delete(c, op)
				}
				if len(c) == 0 {
					delete(s, "Condition")
				}
				out = append(out, mutation{label: fmt.Sprintf("%s %s: %s %s", name, sid, op, key), policy: name, doc: d})
			}
		}
	}
	return out
}

// unpinnedConditions are the conditions whose removal no question can tell, and why; each must
// indeed change no answer (else it is pinned, and belongs off this list).
var unpinnedConditions = []struct {
	label *regexp.Regexp
	why   string
}{
	{regexp.MustCompile(`/TopicPolicy\w* \w*ErrorsAlarmPublish: StringEquals aws:SourceAccount$`),
		"the statement's aws:SourceArn is this account's alarm, whose ARN names the account: aws:SourceAccount adds the confused-deputy check AWS recommends, which no request that passes aws:SourceArn can fail"},
}

// TestPolicyEngineAnswersAsDocumented asks an IAM policy evaluation engine
// (@cloud-copilot/iam-simulate, pinned in package.json) every question of docs/iam.md about the
// synthesized templates' policies, resolved for fixed accounts: moto evaluates neither
// conditions nor key policies, so this is where the tag conditions, the mark key's Deny and the
// organization's conditions are proven. Then it takes each condition (and each Deny) out of the
// policies, one at a time, and requires some question to answer otherwise: a condition no
// question notices is a claim nobody checks.
func TestPolicyEngineAnswersAsDocumented(t *testing.T) {
	docs, err := readDocTables(filepath.Join(repoRoot(t), "docs", "iam.md"))
	if err != nil {
		t.Fatal(err)
	}
	w := newIAMWorld(t)

	var questions []engineQuestion
	var bad []string
	setKeys := map[string][]string{}
	usedP, usedR, usedV := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, q := range docs.questions {
		eq, set, err := w.question(q)
		if err != nil {
			bad = append(bad, fmt.Sprintf("%v: %v", q, err))
			continue
		}
		questions = append(questions, eq)
		setKeys[eq.ID] = set
		usedP[q.as], usedR[q.on] = true, true
		for _, m := range contextValueRef.FindAllStringSubmatch(q.context, -1) {
			usedV[m[1]] = true
		}
	}
	if len(bad) > 0 {
		t.Fatalf("questions the vocabulary cannot ask:\n  %s", strings.Join(bad, "\n  "))
	}
	byID := map[string]docQuestion{}
	for _, q := range docs.questions {
		byID[fmt.Sprint(q.line)] = q
	}

	runs := []engineRun{{Name: "as synthesized", Policies: w.policies, Questions: questions}}
	var muts []mutation
	for _, name := range w.templated {
		muts = append(muts, mutationsOf(name, w.policies[name])...)
	}
	for _, m := range muts {
		p := maps.Clone(w.policies)
		p[m.policy] = m.doc
		runs = append(runs, engineRun{Name: m.label, Policies: p, Questions: questions})
	}
	start := time.Now()
	got := askEngine(t, runs)
	t.Logf("the engine answered %d questions in %d runs (as synthesized, and %d mutants) in %v",
		len(questions), len(runs), len(muts), time.Since(start).Round(time.Millisecond))
	wrong := func(a engineAnswer) bool { return a.Error != "" || a.Result != answers[byID[a.ID].answer] }

	t.Run("every question gets its documented answer", func(t *testing.T) {
		if len(questions) < 40 {
			t.Errorf("%d questions; the claims of docs/iam.md take at least 40", len(questions))
		}
		for _, a := range got[0] {
			q := byID[a.ID]
			switch {
			case a.Error != "":
				t.Errorf("%v: the engine refused the question: %s", q, a.Error)
			case a.Result != answers[q.answer]:
				t.Errorf("%v: %s, documented %q (%s: %s)", q, a.Result, q.answer, q.section, q.claim)
			}
			for _, k := range setKeys[a.ID] {
				if slices.Contains(a.IgnoredKeys, k) {
					t.Errorf("%v: the engine ignores %s for %s: the question does not ask what it says", q, k, q.action)
				}
			}
		}
		// The vocabulary tables say what each name is; they list exactly the test's names, and
		// each name is in some question.
		for _, v := range []struct {
			what string
			doc  []string
			test []string
			used map[string]bool
		}{
			{"principal", docs.principals, slices.Sorted(maps.Keys(w.principals)), usedP},
			{"resource", docs.resources, append(slices.Sorted(maps.Keys(w.resources)), "*"), usedR},
			{"value", docs.values, slices.Sorted(maps.Keys(w.values)), usedV},
		} {
			doc := slices.Sorted(slices.Values(v.doc))
			test := slices.Sorted(slices.Values(v.test))
			if !slices.Equal(doc, test) {
				t.Errorf("docs/iam.md's %s table names %v; the test's world has %v", v.what, doc, test)
			}
			for _, n := range test {
				if !v.used[n] {
					t.Errorf("%s %s is in no question", v.what, n)
				}
			}
		}
	})

	t.Run("each condition and each Deny decides some answer", func(t *testing.T) {
		for _, a := range got[0] {
			if wrong(a) {
				t.Fatal("the documented answers are not all right as synthesized (see the other subtest): a mutant's answers mean nothing yet")
			}
		}
		// The conditions issue 20 names must be among those tried.
		var labels []string
		for _, m := range muts {
			labels = append(labels, m.label)
		}
		all := strings.Join(labels, "\n")
		for _, want := range []string{"aws:ResourceTag/Project", "aws:TagKeys", "aws:PrincipalOrgID", "aws:ResourceOrgID", "aws:PrincipalArn", "NobodyElseSignsMarks: the Deny"} {
			if !strings.Contains(all, want) {
				t.Errorf("no mutation takes out %s: the policies lost it, or the test stopped seeing it", want)
			}
		}
		for i, m := range muts {
			var flipped []string
			for _, a := range got[i+1] {
				if wrong(a) {
					q := byID[a.ID]
					flipped = append(flipped, fmt.Sprintf("%v: %s, documented %s", q, a.Result, q.answer))
				}
			}
			sort.Strings(flipped)
			why := ""
			for _, u := range unpinnedConditions {
				if u.label.MatchString(m.label) {
					why = u.why
				}
			}
			switch {
			case why != "" && len(flipped) > 0:
				t.Errorf("%s is listed as unpinned, yet %d questions notice it: take it off unpinnedConditions", m.label, len(flipped))
			case why != "":
				t.Logf("%s: unpinned (%s)", m.label, why)
			case len(flipped) == 0:
				t.Errorf("%s: taken out, every question still gets its documented answer; add the question that needs it to docs/iam.md", m.label)
			default:
				t.Logf("%s: %d questions answer otherwise, e.g. %s", m.label, len(flipped), flipped[0])
			}
		}
	})
}

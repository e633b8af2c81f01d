package janitor_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/org"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// refusingSTS refuses AssumeRole into one account, as AWS does when the member role is missing
// (an account the StackSet has not reached yet). A fake only for that fault: moto assumes any
// role in any account.
type refusingSTS struct {
	org.STS
	account string
}

func (r refusingSTS) AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error) {
	if strings.Contains(aws.ToString(in.RoleArn), ":"+r.account+":") {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRole"}
	}
	return r.STS.AssumeRole(ctx, in, optFns...)
}

// An account whose member role is refused is that account's failure: the other accounts' units
// run (their orphans marked in their own accounts), the one digest names the failure under its
// account, and the run returns an error so the Errors alarm fires.
func TestOrgRunWithARefusedAccount(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	o := fixture.NewOrg(t, "refused", 2)
	good, refused := o.Members[0], o.Members[1]
	for _, acct := range []string{good, refused} {
		fixture.InAccount(t, acct, contract.JanitorMemberRole, "us-east-1").CreateTable(t, "orphan-"+acct, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	}
	fixture.NewCloud(t, "us-east-1").CreateTable(t, "orphan-own", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	topic, err := sns.NewFromConfig(cfg).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("janitor-org")})
	if err != nil {
		t.Fatal(err)
	}
	box := inbox.Subscribe(t, cfg, aws.ToString(topic.TopicArn))
	var log bytes.Buffer
	d := janitor.Deps{Base: cfg, Organizations: organizations.NewFromConfig(cfg), STS: refusingSTS{sts.NewFromConfig(cfg), refused},
		Topic: sns.NewFromConfig(cfg), Log: &log}
	oc := janitor.Config{Janitor: contract.Janitor{Mode: contract.JanitorDelete, Grace: time.Hour, TopicArn: aws.ToString(topic.TopicArn),
		MarkKey: hmacKey(t, cfg)},
		Org: true, Role: contract.JanitorMemberRole, Regions: []string{"us-east-1"}, UnitsPerRun: 10}
	r, err := janitor.Run(t.Context(), d, oc)
	if err == nil {
		t.Fatal("a run with a refused account returned no error: the Errors alarm would stay silent")
	}
	marked := map[string]string{}
	for _, u := range r.Units {
		for _, m := range u.Marked {
			marked[u.Account] = m.Table
		}
	}
	if marked[good] != "orphan-"+good || marked[o.Management] != "orphan-own" || len(marked) != 2 {
		t.Errorf("marked %v", marked)
	}
	for _, a := range r.Accounts {
		if (a.ID == refused) != (a.Error != "") {
			t.Errorf("account %s error %q", a.ID, a.Error)
		}
	}
	if n := strings.Count(log.String(), "\n"); n != 1 {
		t.Errorf("log: %d lines", n)
	}
	note := box.Receive(t, 1, 30*time.Second)[0]
	if !strings.Contains(note.Subject, "FAILED") || !strings.Contains(note.Message, refused) {
		t.Errorf("digest %q: %s", note.Subject, note.Message)
	}
}

// The organization's environment is checked as the single janitor's is: every bad variable
// named; a region named twice (which would run each of its units twice at once) and a count
// written "+5" are refused too.
func TestOrgConfigFromEnv(t *testing.T) {
	env := map[string]string{contract.EnvJanitorMode: "delete", contract.EnvJanitorGrace: "24h", contract.EnvJanitorTopicArn: "arn:aws:sns:us-east-1:123456789012:t",
		contract.EnvJanitorMarkKey: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		contract.EnvJanitorOrg:     contract.JanitorOrgCentral, contract.EnvJanitorOrgRole: "bad role", contract.EnvJanitorUnitsPerRun: "0"}
	get := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := janitor.ConfigFromEnv(get, "us-east-1")
	for _, w := range []string{contract.EnvJanitorOrgRole, contract.EnvJanitorOrgRegions, contract.EnvJanitorUnitsPerRun} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not name %s", err, w)
		}
	}
	env[contract.EnvJanitorOrgRole], env[contract.EnvJanitorUnitsPerRun], env[contract.EnvJanitorOrgRegions] = contract.JanitorMemberRole, "+5", "us-east-1,us-east-1"
	_, err = janitor.ConfigFromEnv(get, "us-east-1")
	for _, w := range []string{contract.EnvJanitorOrgRegions + `="us-east-1,us-east-1"`, contract.EnvJanitorUnitsPerRun + `="+5"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not name %s", err, w)
		}
	}
	env[contract.EnvJanitorUnitsPerRun], env[contract.EnvJanitorOrgRegions] = "7", "us-east-1,eu-west-1"
	c, err := janitor.ConfigFromEnv(get, "us-east-1")
	if err != nil || !c.Org || c.UnitsPerRun != 7 || len(c.Regions) != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	// Without the organization's variable it is the function's own account and region.
	delete(env, contract.EnvJanitorOrg)
	c, err = janitor.ConfigFromEnv(get, "eu-west-3")
	if err != nil || c.Org || !slices.Equal(c.Regions, []string{"eu-west-3"}) {
		t.Fatalf("single-account: %+v %v", c, err)
	}
}

// The worker runs a queued unit only in an ACTIVE account of the organization, as
// Organizations lists it at that moment: a message naming an account outside the organization
// (anybody who can write to the queue could send one) or a suspended member is refused by name
// and run nowhere, and the run fails so the alarm fires; the member's unit runs.
func TestTheWorkerRunsOnlyTheOrganizationsActiveAccounts(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	o := fixture.NewOrg(t, "worker", 2)
	member, suspended := o.Members[0], o.Members[1]
	const outsider = "999988887777"
	for _, acct := range []string{member, suspended, outsider} {
		fixture.InAccount(t, acct, contract.JanitorMemberRole, "us-east-1").CreateTable(t, "orphan-"+acct, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	}
	o.Close(t, suspended)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	d := janitor.Deps{Base: cfg, Organizations: organizations.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg)}
	oc := janitor.Config{Janitor: contract.Janitor{Mode: contract.JanitorDelete, Grace: time.Hour, MarkKey: hmacKey(t, cfg)},
		Org: true, Role: contract.JanitorMemberRole, Regions: []string{"us-east-1"}}
	r, err := janitor.RunWorker(t.Context(), d, oc, []janitor.UnitMessage{
		{Account: member, Region: "us-east-1"}, {Account: outsider, Region: "us-east-1"}, {Account: suspended, Region: "us-east-1"}})
	if err == nil {
		t.Fatal("a batch with a forged unit returned no error: the alarm would stay silent")
	}
	if len(r.Units) != 1 || r.Units[0].Account != member || len(r.Units[0].Marked) != 1 {
		t.Fatalf("units %+v, want only the member's, its orphan marked", r.Units)
	}
	errs := strings.Join(r.Errors, "\n")
	for _, want := range []string{outsider + " is not an account of organization " + o.ID, suspended + " is SUSPENDED"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors %q lack %q", errs, want)
		}
	}
	for _, acct := range []string{outsider, suspended} {
		c := fixture.InAccount(t, acct, contract.JanitorMemberRole, "us-east-1")
		d, err := c.DynamoDB.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String("orphan-" + acct)})
		if err != nil {
			t.Fatal(err)
		}
		tags, err := c.DynamoDB.ListTagsOfResource(t.Context(), &dynamodb.ListTagsOfResourceInput{ResourceArn: d.Table.TableArn})
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range tags.Tags {
			if aws.ToString(tag.Key) == wallet.TagJanitorDeleteAfter {
				t.Errorf("account %s was touched: its orphan is marked", acct)
			}
		}
	}
}

package janitor_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
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
		fixture.InAccount(t, acct, wallet.JanitorMemberRole, "us-east-1").CreateTable(t, "orphan-"+acct, map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
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
	d := janitor.OrgDeps{Base: cfg, Organizations: organizations.NewFromConfig(cfg), STS: refusingSTS{sts.NewFromConfig(cfg), refused},
		Topic: sns.NewFromConfig(cfg), Log: &log}
	oc := janitor.OrgConfig{JanitorConfig: wallet.JanitorConfig{Mode: wallet.JanitorDelete, Grace: time.Hour, TopicArn: aws.ToString(topic.TopicArn),
		MarkKey: hmacKey(t, cfg)},
		Role: wallet.JanitorMemberRole, Regions: []string{"us-east-1"}, UnitsPerRun: 10}
	r, err := janitor.RunOrg(t.Context(), d, oc)
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

// The organization's environment is checked as the single janitor's is: every bad variable named.
func TestOrgConfigFromEnv(t *testing.T) {
	env := map[string]string{wallet.EnvJanitorMode: "delete", wallet.EnvJanitorGrace: "24h", wallet.EnvJanitorTopicArn: "arn:aws:sns:us-east-1:123456789012:t",
		wallet.EnvJanitorMarkKey: "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		wallet.EnvJanitorOrgRole: "bad role", wallet.EnvJanitorUnitsPerRun: "0"}
	_, err := janitor.OrgConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	for _, w := range []string{wallet.EnvJanitorOrgRole, wallet.EnvJanitorOrgRegions, wallet.EnvJanitorUnitsPerRun} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not name %s", err, w)
		}
	}
	env[wallet.EnvJanitorOrgRole], env[wallet.EnvJanitorUnitsPerRun], env[wallet.EnvJanitorOrgRegions] = wallet.JanitorMemberRole, "7", "us-east-1,eu-west-1"
	c, err := janitor.OrgConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil || c.UnitsPerRun != 7 || len(c.Regions) != 2 {
		t.Fatalf("%+v %v", c, err)
	}
}

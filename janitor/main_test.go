package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// scheduledEvent is what an EventBridge schedule delivers.
const scheduledEvent = `{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event",
"source":"aws.events","account":"123456789012","time":"2026-11-30T12:00:00Z","region":"us-east-1",
"resources":["arn:aws:events:us-east-1:123456789012:rule/WalletJanitor-Schedule"],"detail":{}}`

// The handler in-process against moto, configured the way the stack configures it: by
// environment only.
func TestHandlerOnMoto(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cloud := fixture.NewCloud(t, "")
	cloud.CreateTable(t, "wallet-one", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagStack: "Wallet-gone"}, false)
	topic, err := sns.NewFromConfig(cloud.Config).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("janitor")})
	if err != nil {
		t.Fatal(err)
	}
	box := inbox.Subscribe(t, cloud.Config, aws.ToString(topic.TopicArn))
	key, err := kms.NewFromConfig(cloud.Config).CreateKey(t.Context(), &kms.CreateKeyInput{
		KeySpec: kmstypes.KeySpecHmac256, KeyUsage: kmstypes.KeyUsageTypeGenerateVerifyMac})
	if err != nil {
		t.Fatal(err)
	}
	env := contract.Janitor{Mode: contract.JanitorReport, Grace: 5 * time.Second,
		TopicArn: aws.ToString(topic.TopicArn), MarkKey: aws.ToString(key.KeyMetadata.Arn)}.Env()

	var log bytes.Buffer
	r, err := handler(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &log)(t.Context(), json.RawMessage(scheduledEvent))
	if err != nil {
		t.Fatalf("handler: %v", err)
	}
	// The single-account janitor is a run over the function's own account and region: one unit.
	if r.Mode != contract.JanitorReport || r.Grace != "5s" || r.Role != "account" || len(r.Units) != 1 || len(r.Errors) != 0 {
		t.Fatalf("report %+v", r)
	}
	if u := r.Units[0]; len(u.Marked) != 1 || u.Marked[0].Table != "wallet-one" || len(u.Errors) != 0 || u.Account != "123456789012" {
		t.Fatalf("unit report %+v", u)
	}
	if n := strings.Count(log.String(), "\n"); n != 1 {
		t.Errorf("log: %d lines, want 1:\n%s", n, log.String())
	}
	if note := box.Receive(t, 1, 30*time.Second)[0]; !strings.Contains(note.Message, `"wallet-one"`) {
		t.Errorf("notification %q does not carry the report", note.Message)
	}
}

// A bad environment fails every invocation with an error naming the variable, and touches nothing.
func TestHandlerNamesABadEnvironment(t *testing.T) {
	env := map[string]string{contract.EnvJanitorMode: "nuke", contract.EnvJanitorGrace: "24h", contract.EnvJanitorTopicArn: "arn:aws:sns:us-east-1:123456789012:t"}
	var log bytes.Buffer
	_, err := handler(func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &log)(t.Context(), json.RawMessage(`{}`))
	if err == nil || !strings.Contains(err.Error(), contract.EnvJanitorMode+`="nuke"`) {
		t.Fatalf("err %v, want one naming %s", err, contract.EnvJanitorMode)
	}
	if log.Len() != 0 {
		t.Errorf("a misconfigured run logged a report: %s", log.String())
	}
}

package janitor_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/wallet-dynamodb/wallet/internal/awsconf"
	"github.com/wallet-dynamodb/wallet/internal/janitor"
	"github.com/wallet-dynamodb/wallet/internal/localcloud"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/fixture"
	"github.com/wallet-dynamodb/wallet/internal/localcloud/inbox"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

// One run on moto: the report lists exactly this project's tables with their marks, the log
// gets it as one JSON line, and an SQS subscriber gets the same report through the topic.
func TestRunOnMoto(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cloud := fixture.NewCloud(t, "")
	ours := map[string]string{wallet.TagProject: wallet.ProjectName}
	cloud.CreateTable(t, "wallet-plain", ours, false)
	cloud.CreateTable(t, "wallet-marked", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagJanitorDeleteAfter: "2026-12-01T10:00:00Z"}, false)
	cloud.CreateTable(t, "wallet-kept", map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagKeep: "true"}, false)
	cloud.CreateTable(t, "wallet-protected", ours, true)
	cloud.CreateTable(t, "someone-elses", map[string]string{wallet.TagProject: "other"}, false)
	cloud.CreateTable(t, "untagged", nil, false)
	// ListTagsOfResource pages (moto by 10): 40 tags that sort first put Project and the mark
	// on the last page, so a run that read only the first page would miss this table.
	many := map[string]string{wallet.TagProject: wallet.ProjectName, wallet.TagJanitorDeleteAfter: "2026-12-02T00:00:00Z"}
	for i := range 40 {
		many[fmt.Sprintf("A%02d", i)] = "v"
	}
	cloud.CreateTable(t, "wallet-many-tags", many, false)

	topic, err := sns.NewFromConfig(cloud.Config).CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("janitor")})
	if err != nil {
		t.Fatal(err)
	}
	box := inbox.Subscribe(t, cloud.Config, aws.ToString(topic.TopicArn))

	cfg, err := awsconf.Load(t.Context(), awsconf.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	deps := janitor.Deps{Clients: janitor.NewClients(cfg), Log: &log, Now: func() time.Time { return now }}
	r, err := janitor.Run(t.Context(), deps, janitor.Config{Mode: wallet.JanitorReport, Grace: 5 * time.Second, TopicArn: aws.ToString(topic.TopicArn)})
	if err != nil {
		t.Fatalf("run: %v", err)
	}

	want := janitor.Report{Region: localcloud.Region, Mode: wallet.JanitorReport, Grace: "5s", StartedAt: now, Tables: []janitor.Table{
		{Table: "wallet-kept", Keep: true},
		{Table: "wallet-many-tags", DeleteAfter: "2026-12-02T00:00:00Z"},
		{Table: "wallet-marked", DeleteAfter: "2026-12-01T10:00:00Z"},
		{Table: "wallet-plain"},
		{Table: "wallet-protected", Protected: true},
	}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("report:\n got %+v\nwant %+v", r, want)
	}

	lines := strings.Split(strings.TrimSuffix(log.String(), "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("log has %d lines, want the report as one JSON line:\n%s", len(lines), log.String())
	}
	var logged janitor.Report
	if err := json.Unmarshal([]byte(lines[0]), &logged); err != nil || !reflect.DeepEqual(logged, want) {
		t.Fatalf("logged report %+v (%v), want %+v", logged, err, want)
	}

	notes := box.Receive(t, 1, 30*time.Second)
	var delivered janitor.Report
	if err := json.Unmarshal([]byte(notes[0].Message), &delivered); err != nil {
		t.Fatalf("the SQS subscriber did not get the JSON report: %v\n%s", err, notes[0].Message)
	}
	if !reflect.DeepEqual(delivered, want) {
		t.Errorf("delivered report %+v, want %+v", delivered, want)
	}
	if notes[0].Subject != janitor.Subject(want) {
		t.Errorf("subject %q, want %q", notes[0].Subject, janitor.Subject(want))
	}
}

// A failed publish is a failed run: the report still comes back and is logged, and the error
// names the topic, so the function's Errors alarm fires.
func TestRunFailsWhenThePublishFails(t *testing.T) {
	localcloud.Moto(t).SetEnv(t)
	cfg, err := awsconf.Load(t.Context(), awsconf.Options{MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	fixture.NewCloud(t, "").CreateTable(t, "wallet-plain", map[string]string{wallet.TagProject: wallet.ProjectName}, false)
	missing := "arn:aws:sns:us-east-1:123456789012:no-such-topic"
	var log bytes.Buffer
	r, err := janitor.Run(t.Context(), janitor.Deps{Clients: janitor.NewClients(cfg), Log: &log},
		janitor.Config{Mode: wallet.JanitorDelete, Grace: time.Hour, TopicArn: missing})
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("run with a missing topic: err %v, want one naming %s", err, missing)
	}
	if len(r.Tables) != 1 || !strings.Contains(log.String(), `"wallet-plain"`) {
		t.Fatalf("the report must survive a failed publish: %+v, log %q", r, log.String())
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(kv map[string]string) wallet.Lookup {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	// What the stack writes is what the function reads back.
	stack := wallet.JanitorConfig{Mode: wallet.JanitorReport, Grace: 90 * time.Minute}.Env()
	stack[wallet.EnvJanitorTopicArn] = "arn:aws:sns:us-east-1:123456789012:janitor"
	got, err := janitor.ConfigFromEnv(env(stack))
	if err != nil {
		t.Fatal(err)
	}
	if want := (janitor.Config{Mode: wallet.JanitorReport, Grace: 90 * time.Minute, TopicArn: stack[wallet.EnvJanitorTopicArn]}); got != want {
		t.Errorf("config = %+v, want %+v", got, want)
	}

	_, err = janitor.ConfigFromEnv(env(map[string]string{wallet.EnvJanitorMode: "nuke", wallet.EnvJanitorGrace: "616385997d"}))
	for _, name := range []string{wallet.EnvJanitorMode + `="nuke"`, wallet.EnvJanitorGrace + `="616385997d"`, wallet.EnvJanitorTopicArn} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

// The email part is for people: every table, its mark and notes, and any problem, in words.
func TestText(t *testing.T) {
	r := janitor.Report{Region: "eu-west-1", Mode: wallet.JanitorDelete, Grace: "24h", StartedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC),
		Tables:   []janitor.Table{{Table: "wallet-a", DeleteAfter: "2026-12-01T12:00:00Z", Protected: true}, {Table: "wallet-b", Keep: true}},
		Problems: []janitor.Problem{{Table: "wallet-c", Error: "describe: AccessDenied"}}}
	text := janitor.Text(r)
	for _, want := range []string{"eu-west-1", "2026-11-30T12:00:00Z", "mode delete", "grace 24h", "wallet-a", "2026-12-01T12:00:00Z",
		"deletion protection on", "wallet-b", "kept (wallet:keep=true)", "1 problems", "wallet-c: describe: AccessDenied"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	msg, err := janitor.Message(r)
	if err != nil {
		t.Fatal(err)
	}
	var parts map[string]string
	if err := json.Unmarshal([]byte(msg), &parts); err != nil || parts["email"] != text || len(parts) != 2 {
		t.Fatalf("message %s: want exactly default and email", msg)
	}
	var back janitor.Report
	if err := json.Unmarshal([]byte(parts["default"]), &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Fatalf("default part %s does not read back as the report (%v)", parts["default"], err)
	}
	if s := janitor.Subject(r); len(s) > 100 {
		t.Errorf("subject longer than SNS allows: %q", s)
	}
}

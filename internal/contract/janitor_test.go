package contract_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/contract"
)

func lookup(kv map[string]string) contract.Lookup {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestParseJanitorConfigDefaults(t *testing.T) {
	got, err := contract.ParseJanitor(lookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := contract.Janitor{Schedule: "rate(1 hour)", Grace: 24 * time.Hour, Mode: contract.JanitorDelete, Arch: contract.ArchARM64}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

func TestParseJanitorConfigAccepts(t *testing.T) {
	got, err := contract.ParseJanitor(lookup(map[string]string{
		contract.CtxJanitorSchedule: "cron(0/15 8-18 ? * MON-FRI *)", contract.CtxJanitorGrace: "5s",
		contract.CtxJanitorMode: "report", contract.CtxJanitorEmail: "ops@example.com", contract.CtxJanitorArch: "x86_64",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := contract.Janitor{Schedule: "cron(0/15 8-18 ? * MON-FRI *)", Grace: 5 * time.Second, Mode: contract.JanitorReport,
		Email: "ops@example.com", Arch: contract.ArchX8664}
	if got != want {
		t.Errorf("config = %+v, want %+v", got, want)
	}
	if env := got.Env(); env[contract.EnvJanitorMode] != "report" || env[contract.EnvJanitorGrace] != "5s" || len(env) != 2 {
		t.Errorf("Env() = %v", env)
	}
}

// Every bad value is named in one pass, each with its key, its value and what is allowed.
func TestParseJanitorConfigRejectsEveryBadValue(t *testing.T) {
	bad := map[string]string{
		contract.CtxJanitorSchedule: "every hour",
		contract.CtxJanitorGrace:    "616385997d",
		contract.CtxJanitorMode:     "nuke",
		contract.CtxJanitorEmail:    "Ops <ops@example.com>",
		contract.CtxJanitorArch:     "amd64",
	}
	_, err := contract.ParseJanitor(lookup(bad))
	var ce *contract.ConfigErrors
	if !errors.As(err, &ce) {
		t.Fatalf("want *ConfigErrors, got %v", err)
	}
	var keys []string
	for _, e := range ce.Errs {
		var c *contract.ContextError
		if !errors.As(e, &c) {
			t.Fatalf("%v is not a ContextError", e)
		}
		keys = append(keys, c.Key)
		if !strings.Contains(e.Error(), c.Key) || !strings.Contains(e.Error(), bad[c.Key]) || c.Allowed == "" {
			t.Errorf("error %q does not name key, value and what is allowed", e)
		}
	}
	slices.Sort(keys)
	want := []string{contract.CtxJanitorArch, contract.CtxJanitorEmail, contract.CtxJanitorGrace, contract.CtxJanitorMode, contract.CtxJanitorSchedule}
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Errorf("errors name %v, want %v:\n%v", keys, want, err)
	}
}

func TestValidSchedule(t *testing.T) {
	for _, ok := range []string{
		"rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(12 hours)", "rate(1 day)", "rate(7 days)",
		"cron(0 12 * * ? *)",           // every day at 12:00 UTC
		"cron(15 10 ? * 6L 2026-2030)", // last Friday of the month
		"cron(0/10 * ? * MON-FRI *)",
		"cron(0 8 1 * ? *)",
		"cron(0 18 ? * MON#1 *)",
		"cron(0 0 L * ? *)",
		"cron(0 0 LW * ? *)",
		"cron(0 0 15W * ? *)",
		"cron(0 9 ? JAN,JUL 2,4,6 *)",
		"cron(*/5 0-23/2 ? * * 2199)",
	} {
		if err := contract.ValidSchedule(ok); err != nil {
			t.Errorf("ValidSchedule(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{
		"", "1h", "every hour", "rate(1 hours)", "rate(2 hour)", "rate(0 minutes)", "rate(-1 days)",
		"rate(1 week)", "rate(5  minutes)", "rate( 5 minutes)", "rate(05 minutes)", "rate(1.5 hours)",
		"rate(99999999999 minutes)", "rate(1 hour", "RATE(1 hour)",
		"cron(0 12 * * *)",         // five fields: Unix cron, not EventBridge's
		"cron(0 12 * * * * *)",     // seven
		"cron(0 12 * * * *)",       // both day fields set
		"cron(0 12 ? * ? *)",       // neither
		"cron(60 12 * * ? *)",      // minute out of range
		"cron(0 24 * * ? *)",       // hour out of range
		"cron(0 12 32 * ? *)",      // day out of range
		"cron(0 12 0 * ? *)",       // days start at 1
		"cron(0 12 * 13 ? *)",      // month out of range
		"cron(0 12 ? * 8 *)",       // day-of-week out of range
		"cron(0 12 ? * MON#6 *)",   // no sixth Monday
		"cron(0 12 * * ? 1969)",    // year out of range
		"cron(0 12 ? * MON/2 *)",   // no / in day-of-week
		"cron(? 12 * * ? *)",       // ? only in the day fields
		"cron(0 12 * * ? *",        // unclosed
		"cron(0  12 * * ? *)",      // double space
		"cron(0 12 * FOO ? *)",     // no such month
		"cron(0 12 L-2 * ? *)",     // not supported
		"cron(0 12 * * ? *) extra", // trailing text
		"cron(0 12 1,,2 * ? *)",    // empty list element
		"cron(0 12 */0 * ? *)",     // zero step
	} {
		if err := contract.ValidSchedule(bad); err == nil {
			t.Errorf("ValidSchedule(%q) accepted", bad)
		} else if !strings.Contains(err.Error(), "want an EventBridge schedule") {
			t.Errorf("ValidSchedule(%q): %v does not say what is allowed", bad, err)
		}
	}
}

func TestArch(t *testing.T) {
	for goarch, want := range map[string]contract.Arch{"amd64": contract.ArchX8664, "arm64": contract.ArchARM64} {
		got, ok := contract.ArchOfGOARCH(goarch)
		if !ok || got != want || got.GOARCH() != goarch {
			t.Errorf("ArchOfGOARCH(%s) = %s, %v (GOARCH %s)", goarch, got, ok, got.GOARCH())
		}
	}
	if _, ok := contract.ArchOfGOARCH("riscv64"); ok {
		t.Error("riscv64 has no Lambda architecture")
	}
}

// What the stack writes is what the function reads back: one contract, both ways.
func TestJanitorConfigFromEnvReadsWhatEnvWrites(t *testing.T) {
	stack := contract.Janitor{Mode: contract.JanitorReport, Grace: 90 * time.Minute,
		TopicArn: "arn:aws:sns:us-east-1:123456789012:janitor",
		MarkKey:  "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
	got, err := contract.JanitorFromEnv(lookup(stack.Env()))
	if err != nil {
		t.Fatal(err)
	}
	if got != stack {
		t.Errorf("config = %+v, want %+v", got, stack)
	}
	for _, ok := range []map[string]string{
		{contract.EnvJanitorTopicArn: "arn:aws-us-gov:sns:us-gov-west-1:123456789012:Janitor_Topic-1"},
		{contract.EnvJanitorTopicArn: "arn:aws-cn:sns:cn-north-1:123456789012:t"},
		{contract.EnvJanitorMarkKey: "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"},
	} {
		env := stack.Env()
		for k, v := range ok {
			env[k] = v
		}
		if _, err := contract.JanitorFromEnv(lookup(env)); err != nil {
			t.Errorf("%v refused: %v", ok, err)
		}
	}
}

// Every bad or missing variable is named in one error, with its value and what is allowed.
func TestJanitorConfigFromEnvRefuses(t *testing.T) {
	good := contract.Janitor{Mode: contract.JanitorDelete, Grace: time.Hour,
		TopicArn: "arn:aws:sns:us-east-1:123456789012:janitor",
		MarkKey:  "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}.Env()
	for _, tc := range []struct {
		name, value, allowed string
	}{
		{contract.EnvJanitorMode, "nuke", "want one of delete, report"},
		{contract.EnvJanitorGrace, "616385997d", ""},
		{contract.EnvJanitorTopicArn, "arn:", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:x", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:aws:sns:us-east-1:123456789012:", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:aws:sqs:us-east-1:123456789012:janitor", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:aws:sns:us-east-1:12345678901:janitor", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:aws:sns:us-east-1:123456789012:janitor\n", "want an SNS topic ARN"},
		{contract.EnvJanitorTopicArn, "arn:aws:sns:*:123456789012:janitor", "want an SNS topic ARN"},
		{contract.EnvJanitorMarkKey, "", "want a KMS key ARN"},
		{contract.EnvJanitorMarkKey, "alias/janitor", "want a KMS key ARN"},
		{contract.EnvJanitorMarkKey, "1234abcd-12ab-34cd-56ef-1234567890ab", "want a KMS key ARN"},
		{contract.EnvJanitorMarkKey, "arn:aws:kms:us-east-1:123456789012:alias/janitor", "want a KMS key ARN"},
		{contract.EnvJanitorMarkKey, "arn:aws:kms:us-east-1:123456789012:key/*", "want a KMS key ARN"},
	} {
		env := map[string]string{}
		for k, v := range good {
			env[k] = v
		}
		env[tc.name] = tc.value
		_, err := contract.JanitorFromEnv(lookup(env))
		if want := tc.name + "=" + strconvQuote(tc.value); err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.allowed) {
			t.Errorf("%s=%q: error %v, want one naming %s and %q", tc.name, tc.value, err, want, tc.allowed)
		}
	}
	// Unset: each named.
	_, err := contract.JanitorFromEnv(lookup(nil))
	for _, name := range []string{contract.EnvJanitorMode, contract.EnvJanitorGrace, contract.EnvJanitorTopicArn, contract.EnvJanitorMarkKey} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name the unset %s", err, name)
		}
	}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

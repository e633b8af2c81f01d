package awsconf

import (
	"errors"
	"strings"
	"testing"
)

// isolate empties every source of the default chain, so only what a test sets is seen.
func isolate(t *testing.T) {
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	// No instance metadata on this machine, and a test must not wait for it either.
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestNoRegionIsAConfigError(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	_, err := Load(t.Context(), Options{})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--region") {
		t.Fatalf("want a ConfigError that says to pass --region, got %v", err)
	}
}

func TestNoCredentialsIsAConfigError(t *testing.T) {
	isolate(t)
	_, err := Load(t.Context(), Options{Region: "eu-west-1"})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("want a ConfigError about credentials, got %v", err)
	}
}

func TestFlagsWinOverTheEnvironment(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "us-west-2")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	cfg, err := Load(t.Context(), Options{Region: "eu-central-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-central-1" {
		t.Fatalf("region %q, want the flag's eu-central-1", cfg.Region)
	}
}

func TestUnknownProfileIsAConfigError(t *testing.T) {
	isolate(t)
	_, err := Load(t.Context(), Options{Region: "us-east-1", Profile: "no-such-profile"})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "no-such-profile") {
		t.Fatalf("want a ConfigError naming the profile, got %v", err)
	}
}

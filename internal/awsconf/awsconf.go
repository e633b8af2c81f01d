// Package awsconf builds the one SDK configuration every command shares: the default credential
// chain (never a key in a file or flag), --region and --profile, AWS_ENDPOINT_URL for local
// backends (the SDK reads it itself), and bounded retries and timeouts, so that an unreachable
// endpoint or missing credentials fail in seconds instead of hanging a pipeline.
package awsconf

import (
	"context"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// Options are the user's choices; zero values mean "what the environment says".
type Options struct {
	Region  string
	Profile string
	// MaxAttempts bounds each request's tries, throttling included (default 5).
	MaxAttempts int
	// Adaptive turns on the SDK's client-side rate limiting, which slows down after throttles
	// instead of only retrying them: right for a 1-WCU table.
	Adaptive bool
}

// ConfigError is a usage or environment problem (no region, no credentials): exit 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Load resolves the configuration and proves credentials can be had, within a few seconds.
func Load(ctx context.Context, o Options) (aws.Config, error) {
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = 5
	}
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 3 * time.Second }).
		WithTimeout(30 * time.Second)
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// Every client reports a refusal as *Denied, naming the call, the IAM action and the
		// resource, and keeps a broken server's bytes out of its messages.
		config.WithAPIOptions([]func(*middleware.Stack) error{installErrors, FillMissingCRC32}),
		config.WithLogger(Logger(os.Stderr)),
		config.WithRetryer(func() aws.Retryer {
			if o.Adaptive {
				return retry.NewAdaptiveMode(func(a *retry.AdaptiveModeOptions) {
					a.StandardOptions = append(a.StandardOptions, func(s *retry.StandardOptions) {
						s.MaxAttempts = attempts
						s.MaxBackoff = 2 * time.Second
					})
				})
			}
			return retry.NewStandard(func(s *retry.StandardOptions) {
				s.MaxAttempts = attempts
				s.MaxBackoff = 2 * time.Second
			})
		}),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, &ConfigError{fmt.Errorf("load AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return aws.Config{}, &ConfigError{fmt.Errorf("no AWS region: pass --region or set AWS_REGION")}
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(cctx); err != nil {
		return aws.Config{}, &ConfigError{fmt.Errorf("no AWS credentials: configure the default chain (AWS_PROFILE, aws configure, SSO, or an instance role): %w", err)}
	}
	return cfg, nil
}

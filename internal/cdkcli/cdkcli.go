// Package cdkcli runs the project's pinned CDK CLI (node_modules/.bin/cdk, with the Node 22 that
// npm installed beside it) the way a user does, for the end-to-end tests and the demo. It is a
// thin wrapper on purpose: what is tested is the real `cdk bootstrap|deploy|destroy`.
package cdkcli

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// CLI is the CDK CLI of one checkout, pointed at one environment.
type CLI struct {
	Root string   // the repo root: cdk.json and node_modules live here
	Env  []string // added to the process environment (endpoint, test credentials)
	Out  io.Writer
	// Output is the cloud assembly directory (cdk --output); empty means cdk.json's default.
	Output string
	// App is the CDK app to run (cdk --app), for tests that build it once instead of letting
	// every command `go run` it (a link of the CDK library each time); empty means cdk.json's.
	App string
}

// Bin is the path of the pinned cdk executable, or an error saying to run npm ci.
func (c CLI) Bin() (string, error) {
	bin := filepath.Join(c.Root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("the pinned CDK CLI is not installed (%s): run `npm ci` in %s", bin, c.Root)
	}
	return bin, nil
}

// Bootstrap prepares the account/region for deployments (the CDKToolkit stack).
func (c CLI) Bootstrap(ctx context.Context, account, region string) error {
	return c.Run(ctx, nil, "bootstrap", fmt.Sprintf("aws://%s/%s", account, region))
}

// Deploy deploys one stack with the given context, without prompts.
func (c CLI) Deploy(ctx context.Context, stack string, context map[string]string) error {
	return c.Run(ctx, context, "deploy", stack, "--require-approval", "never", "--progress", "events")
}

// Destroy destroys one stack without prompts.
func (c CLI) Destroy(ctx context.Context, stack string, context map[string]string) error {
	return c.Run(ctx, context, "destroy", stack, "--force")
}

// Synth synthesizes with the given context and returns the CLI's error output on failure.
func (c CLI) Synth(ctx context.Context, context map[string]string, args ...string) error {
	return c.Run(ctx, context, append([]string{"synth", "--quiet"}, args...)...)
}

// Run runs `cdk <args> -c k=v ...` in the repo root.
func (c CLI) Run(ctx context.Context, context map[string]string, args ...string) error {
	bin, err := c.Bin()
	if err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(context))
	for _, k := range keys {
		args = append(args, "-c", k+"="+context[k])
	}
	if c.Output != "" {
		args = append(args, "--output", c.Output)
	}
	if c.App != "" {
		args = append(args, "--app", c.App)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = c.Root
	cmd.Env = append(c.environ(), c.Env...)
	out := c.Out
	if out == nil {
		out = io.Discard
	}
	var stderr strings.Builder
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, &stderr)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cdk %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 15))
	}
	return nil
}

// environ puts the pinned Node first on PATH and quiets notices that only add noise to logs.
func (c CLI) environ() []string {
	env := os.Environ()
	bin := filepath.Join(c.Root, "node_modules", ".bin")
	env = append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"CDK_DISABLE_VERSION_CHECK=1",
		"CDK_CLI_NOTICES=false",
		"JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1",
		"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION=1",
	)
	return env
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

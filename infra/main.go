// Command infra is the wallet CDK app: `cdk synth|deploy|destroy` run it (cdk.json's "app") to
// declare one wallet stack, shaped by the context contract of internal/wallet.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func main() {
	os.Exit(run(os.Stderr))
}

// run returns the exit code instead of exiting so that the deferred jsii.Close still stops the
// node child process. A bad context value ends the run before Synth: no template for the CLI to
// deploy, only the message naming every key to fix.
func run(stderr io.Writer) int {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := build(app); err != nil {
		fmt.Fprintf(stderr, "wallet stack not synthesized; fix these context values (-c key=value or cdk.json):\n  %s\n",
			strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return 1
	}
	app.Synth(nil)
	return 0
}

// build reads the context contract, declares the wallet stack and puts cdk-nag's AwsSolutions
// checks on the app. The template tests call it too, so what they assert is what synth emits.
func build(app awscdk.App) (awscdk.Stack, error) {
	cfg, err := configFrom(func(key string) any { return app.Node().TryGetContext(jsii.String(key)) })
	if err != nil {
		return nil, err
	}
	stack := NewWalletStack(app, cfg.StackID(), &WalletStackProps{Config: cfg})
	// Verbose: a finding then explains itself in the synth output, not just names its rule.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return stack, nil
}

// configFrom turns raw CDK context (get returns nil for an unset key) into a validated config.
func configFrom(get func(key string) any) (wallet.Config, error) {
	return wallet.ParseConfig(contextLookup(get))
}

// contextLookup adapts CDK context to the contract's strings. Values from cdk.json are JSON, so
// one may arrive as a number or a bool; it is written as a user would type it (1, 1.5, true) and
// ParseConfig judges it like a -c value: a capacity of 1.5 is rejected, not rounded.
func contextLookup(get func(key string) any) wallet.Lookup {
	return func(key string) (string, bool) {
		switch v := get(key).(type) {
		case nil:
			return "", false
		case string:
			return v, true
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64), true
		case bool:
			return strconv.FormatBool(v), true
		default:
			// Objects, arrays, other numeric types: shown as JSON in the error that follows.
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Sprint(v), true
			}
			return string(b), true
		}
	}
}

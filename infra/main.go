// Command infra is the wallet CDK app: `cdk synth|deploy|destroy` run it (cdk.json's "app").
// It declares two stacks, both shaped by the context contract of internal/wallet: the wallet
// stack of one stage (`cdk deploy Wallet-dev`), and the janitor of the account and region
// (`cdk deploy WalletJanitor`), whose function it builds first with the local Go toolchain.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/wallet-dynamodb/wallet/internal/contract"
	"github.com/wallet-dynamodb/wallet/internal/wallet"
)

func main() {
	os.Exit(run(os.Stderr))
}

// run returns the exit code instead of exiting so that the deferred jsii.Close still stops the
// node child process, and the janitor's build directory is removed (Synth has copied the
// function into cdk.out by then). A bad context value ends the run before anything is built or
// synthesized: no template for the CLI to deploy, only the message naming every key to fix.
func run(stderr io.Writer) int {
	defer jsii.Close()
	dir, err := os.MkdirTemp("", "wallet-janitor-")
	if err != nil {
		fmt.Fprintf(stderr, "janitor function not built: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	app := awscdk.NewApp(nil)
	code := func(pkg string, arch contract.Arch) (string, error) {
		sub := filepath.Join(dir, path.Base(pkg))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", err
		}
		return sub, buildFunction(context.Background(), pkg, arch, sub)
	}
	if _, err := build(app, code); err != nil {
		var ce *contract.ConfigErrors
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "wallet app not synthesized; fix these context values (-c key=value or cdk.json):\n  %s\n",
				strings.ReplaceAll(err.Error(), "\n", "\n  "))
		} else {
			fmt.Fprintf(stderr, "wallet app not synthesized: %v\n", err)
		}
		return 1
	}
	printPrices(stderr, app.Synth(nil), os.Getenv)
	return 0
}

// stacks are what the app declares.
type stacks struct {
	Wallet, Janitor awscdk.Stack
}

// build reads the context contract of both stacks (every bad key of either named in one
// error), builds their functions (the janitor's, and the wallet stack's deploy check unless
// verifyOnDeploy=false), declares the stacks and puts cdk-nag's AwsSolutions
// checks on the app. The template tests call it too, so what they assert is what synth emits.
func build(app awscdk.App, code functionCode) (stacks, error) {
	get := func(key string) any { return app.Node().TryGetContext(jsii.String(key)) }
	cfg, werr := configFrom(get)
	jcfg, jerr := janitorConfigFrom(get)
	ccfg, cerr := contract.ParseDeployCheck(contextLookup(get))
	ocfg, oerr := contract.ParseJanitorOrg(contextLookup(get))
	if err := contract.Join(werr, jerr, cerr, oerr); err != nil {
		return stacks{}, err
	}
	dir, err := builtCode(code, janitorPackage, jcfg.Arch)
	if err != nil {
		return stacks{}, err
	}
	wprops := &WalletStackProps{Config: cfg, Check: ccfg, Deployed: time.Now()}
	if ccfg.Enabled {
		if wprops.CheckCodeDir, err = builtCode(code, deployCheckPackage, ccfg.Arch); err != nil {
			return stacks{}, err
		}
	}
	s := stacks{
		Wallet:  NewWalletStack(app, cfg.StackID(), wprops),
		Janitor: NewJanitorStack(app, wallet.JanitorStackID, &JanitorStackProps{Config: jcfg, CodeDir: dir, Org: ocfg}),
	}
	// Verbose: a finding then explains itself in the synth output, not just names its rule.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return s, nil
}

// configFrom turns raw CDK context (get returns nil for an unset key) into a validated config.
func configFrom(get func(key string) any) (contract.Stack, error) {
	return contract.ParseStack(contextLookup(get))
}

// janitorConfigFrom is configFrom for the janitor's keys.
func janitorConfigFrom(get func(key string) any) (contract.Janitor, error) {
	return contract.ParseJanitor(contextLookup(get))
}

// contextLookup adapts CDK context to the contract's strings. Values from cdk.json are JSON, so
// one may arrive as a number or a bool; it is written as a user would type it (1, 1.5, true) and
// ParseConfig judges it like a -c value: a capacity of 1.5 is rejected, not rounded.
func contextLookup(get func(key string) any) contract.Lookup {
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

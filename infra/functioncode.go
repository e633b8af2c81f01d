package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/wallet-dynamodb/wallet/internal/contract"
)

// The app's Lambda functions, by their main packages' import paths, so that the build works
// from wherever the app runs inside the module (the repo root under `cdk`, infra/ under
// `go test`).
const (
	janitorPackage     = "github.com/wallet-dynamodb/wallet/janitor"
	deployCheckPackage = "github.com/wallet-dynamodb/wallet/deploycheck"
)

// functionBuildTimeout bounds one build: the first cross-compilation of the SDK for another
// architecture takes a minute or two on a small machine; later ones come from Go's build cache.
const functionBuildTimeout = 10 * time.Minute

// functionCode builds a function's main package for an architecture and returns the directory
// that holds it (its bootstrap). The app builds into a temporary directory; tests build once.
type functionCode func(pkg string, arch contract.Arch) (string, error)

// buildFunction compiles a function's main package for arch into dir/bootstrap, the layout the
// provided.al2023 runtime runs, with the local Go toolchain (no Docker: CDK's Go construct
// library is not on the module proxy). The build is reproducible — same source and toolchain,
// same bytes, whatever the directory — so the asset hash, and with it the deployed function,
// changes only when the code does:
//   - -trimpath and -buildvcs=false keep paths and the checkout's state out of the binary;
//   - -ldflags "-s -w -buildid=" drops the symbol table, DWARF and the build id (smaller zip);
//   - GOOS, GOARCH, CGO_ENABLED and the GOARM64/GOAMD64 levels are set here, not inherited;
//   - -tags lambda.norpc leaves out aws-lambda-go's RPC mode, which provided.al2023 never uses.
func buildFunction(ctx context.Context, pkg string, arch contract.Arch, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, functionBuildTimeout)
	defer cancel()
	out := filepath.Join(dir, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build",
		"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags", "-s -w -buildid=",
		"-o", out, pkg)
	cmd.Env = append(os.Environ(),
		"GOOS=linux", "GOARCH="+arch.GOARCH(), "CGO_ENABLED=0", "GOARM64=v8.0", "GOAMD64=v1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the function %s (%s): go %s: %w\n%s", pkg, arch, strings.Join(cmd.Args[1:], " "), err, b)
	}
	return nil
}

// buildJanitor is buildFunction for the janitor.
func buildJanitor(ctx context.Context, arch contract.Arch, dir string) error {
	return buildFunction(ctx, janitorPackage, arch, dir)
}

// builtCode calls code and checks that it left a bootstrap where it says.
func builtCode(code functionCode, pkg string, arch contract.Arch) (string, error) {
	dir, err := code(pkg, arch)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil {
		return "", fmt.Errorf("function %s: no bootstrap in %s: %w", pkg, dir, err)
	}
	return dir, nil
}

// lambdaArch is Lambda's architecture for a function built for a.
func lambdaArch(a contract.Arch) awslambda.Architecture {
	if a == contract.ArchX8664 {
		return awslambda.Architecture_X86_64()
	}
	return awslambda.Architecture_ARM_64()
}

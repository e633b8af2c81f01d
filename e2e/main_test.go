package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// appBin is the CDK app (./infra), built once for the package. cdk.json's `go run ./infra` links
// the CDK library again on every cdk command, and these tests run a dozen; the built app is the
// same program, run by the same pinned CLI with the same context. Set once in TestMain, read
// only after.
var appBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "wallet-e2e-app-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temporary directory for the app:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Where no ledger is deployed, verify writes a deletion's record into the user's state
	// directory: the test run's own here, not the home directory of whoever runs the tests.
	os.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	appBin = filepath.Join(dir, "infra")
	build := exec.Command("go", "build", "-o", appBin, "./infra")
	build.Dir = localcloud.ModuleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build the CDK app: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

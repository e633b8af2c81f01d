package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// TestMain points the default record directory (defaultRecordDir, under XDG_STATE_HOME) at a
// directory of the test run's own, so that the sweeps these tests run where no ledger is
// deployed write their records there, not into the home directory of whoever runs the tests;
// and the user's cache directory too, so that the price lists a developer's own runs cached
// change no test's figures and no test's stand-in prices reach them.
func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "verify-test-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify tests: state directory:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv("XDG_STATE_HOME", dir)
	removeCache, err := localcloud.PrivateUserCache()
	if err != nil {
		fmt.Fprintln(os.Stderr, "verify tests: cache directory:", err)
		return 1
	}
	defer removeCache()
	return m.Run()
}

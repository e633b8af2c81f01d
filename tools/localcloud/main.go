// Command localcloud starts, stops and describes the moto server that `make local-up` runs for
// people (tests start their own). Its state — pid, port, log — lives in .localcloud/ so that
// `make local-down` stops exactly that process, by pid.
//
//	localcloud up        start moto on a free localhost port, wait until it answers
//	localcloud down      stop it by pid
//	localcloud env       print the exports for the CDK CLI, the aws CLI and verify
//	localcloud prereqs   check moto, Java, DynamoDB Local, the CDK CLI, Chromium and cfn-lint; say what to install
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

type state struct {
	Pid      int    `json:"pid"`
	Port     int    `json:"port"`
	Endpoint string `json:"endpoint"`
	Log      string `json:"log"`
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: localcloud up|down|env|prereqs")
		os.Exit(2)
	}
	root := localcloud.ModuleRoot()
	dir := filepath.Join(root, ".localcloud")
	file := filepath.Join(dir, "moto.json")
	var err error
	switch os.Args[1] {
	case "up":
		err = up(dir, file)
	case "down":
		err = down(file)
	case "env":
		err = printEnv(file)
	case "prereqs":
		if missing := append(localcloud.Prereqs(root), linters()...); len(missing) > 0 {
			fmt.Fprintln(os.Stderr, "missing prerequisites:")
			for _, m := range missing {
				fmt.Fprintln(os.Stderr, "  -", m)
			}
			os.Exit(1)
		}
	default:
		fmt.Fprintf(os.Stderr, "localcloud: unknown command %q: want up, down, env or prereqs\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "localcloud:", err)
		os.Exit(1)
	}
}

// linters are the tools `make lint` runs that Go cannot install: cfn-lint is Python (moto's
// server extra brings it too). actionlint is a Go tool of the module, installed by go itself.
func linters() []error {
	if _, err := exec.LookPath("cfn-lint"); err != nil {
		return []error{&localcloud.MissingError{What: "cfn-lint (lints every synthesized template in make test)", Install: "pip install cfn-lint"}}
	}
	return nil
}

func up(dir, file string) error {
	if st, err := load(file); err == nil && alive(st.Pid) {
		fmt.Printf("moto already running at %s (pid %d)\n", st.Endpoint, st.Pid)
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s, err := localcloud.StartMoto(context.Background(), localcloud.Options{Detach: true, LogDir: dir})
	if err != nil {
		return err
	}
	b, _ := json.MarshalIndent(state{s.Pid, s.Port, s.Endpoint, s.LogPath}, "", "  ")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		_ = s.Stop()
		return err
	}
	fmt.Printf("moto running at %s (pid %d, log %s)\n", s.Endpoint, s.Pid, s.LogPath)
	fmt.Println("point your shell at it with:  eval \"$(make -s local-env)\"")
	return nil
}

func down(file string) error {
	st, err := load(file)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Println("no local cloud recorded in", file)
		return nil
	}
	if err != nil {
		return err
	}
	if err := localcloud.Kill(st.Pid); err != nil {
		return err
	}
	fmt.Printf("stopped moto (pid %d)\n", st.Pid)
	return os.Remove(file)
}

func printEnv(file string) error {
	st, err := load(file)
	if err != nil {
		return fmt.Errorf("no local cloud running (run make local-up): %w", err)
	}
	s := localcloud.Server{Endpoint: st.Endpoint}
	for _, kv := range s.Env() {
		fmt.Println("export " + kv)
	}
	return nil
}

func load(file string) (state, error) {
	var st state
	b, err := os.ReadFile(file)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

func alive(pid int) bool { return pid > 0 && syscall.Kill(pid, 0) == nil }

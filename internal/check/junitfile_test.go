package check

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A report goes to a new file or over a regular one, nowhere else: a symbolic link is refused
// and its target left as it was (a dangling one creates nothing), and so are a directory, a FIFO
// (refused at once, not waited on for a reader), a socket, a device, and a path under a file.
func TestCreateJUnitRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	write := func(name, content string) string {
		if err := os.WriteFile(path(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path(name)
	}
	target := write("precious.txt", "keep me")
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(target, path("link.xml")))
	must(os.Symlink(path("nowhere.txt"), path("dangling.xml")))
	must(os.Symlink(dir, path("dirlink.xml")))
	must(os.Mkdir(path("reports"), 0o700))
	must(syscall.Mkfifo(path("fifo.xml"), 0o600))
	sock, err := net.Listen("unix", path("sock.xml"))
	must(err)
	defer sock.Close()
	aFile := write("a-file", "")

	for _, tc := range []struct {
		path string
		want []string
	}{
		{path("link.xml"), []string{"link.xml", "is a symbolic link", "precious.txt", "overwrite its target"}},
		{path("dangling.xml"), []string{"is a symbolic link", "nowhere.txt"}},
		{path("dirlink.xml"), []string{"is a symbolic link"}},
		{path("reports"), []string{"is a directory", "want the path of a file to write"}},
		{path("fifo.xml"), []string{"is a named pipe (FIFO)"}},
		{path("sock.xml"), []string{"is a socket"}},
		{"/dev/full", []string{"is a device"}},
		{"/dev/null", []string{"is a device"}},
		{"/dev/stdout", []string{"is a symbolic link"}},
		{filepath.Join(aFile, "report.xml"), []string{"a-file/report.xml", "cannot be written", "not a directory"}},
		{path("missing/report.xml"), []string{"cannot be written", "no such file"}},
	} {
		start := time.Now()
		f, err := CreateJUnit(tc.path)
		var pe *JUnitPathError
		if err == nil || !errors.As(err, &pe) {
			t.Errorf("%s: %v; want it refused", tc.path, err)
			if f != nil {
				_ = f.Write(nil)
			}
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want it to say %q", tc.path, err, w)
			}
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused after %s; want at once", tc.path, d)
		}
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep me" {
		t.Errorf("the link's target now holds %q (%v)", b, err)
	}
	if _, err := os.Lstat(path("nowhere.txt")); err == nil {
		t.Error("the dangling link's target was created")
	}

	// A new file, and an existing one, which is overwritten.
	for _, p := range []string{path("new.xml"), write("old.xml", strings.Repeat("stale ", 1000))} {
		f, err := CreateJUnit(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := f.Write(&Report{Table: "wallet-t"}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(p)
		if !strings.HasPrefix(string(b), "<?xml") || strings.Contains(string(b), "stale") {
			t.Errorf("%s holds %.80q…; want the report alone", p, b)
		}
	}
}

package lambdarie

import (
	"archive/zip"
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"
)

func zipOf(t *testing.T, name string, mode os.FileMode, content []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(mode)
	f, err := w.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The harness refuses what Lambda would refuse, with the reason, instead of running something
// Lambda could not: a bootstrap without its executable bit, no bootstrap at all, and (since it
// runs the binary natively) one built for another architecture.
func TestUnzipBootstrapRefuses(t *testing.T) {
	self, err := os.ReadFile("/proc/self/exe") // a Linux executable for this machine
	if err != nil {
		t.Fatal(err)
	}
	if path, err := unzipBootstrap(zipOf(t, "bootstrap", 0o755, self), t.TempDir()); err != nil {
		t.Fatalf("a good bootstrap: %v", err)
	} else if fi, _ := os.Stat(path); fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("unzipped without its mode: %v", fi.Mode())
	}
	for _, tc := range []struct {
		name, want string
		zipped     []byte
	}{
		{"not executable", "not executable", zipOf(t, "bootstrap", 0o644, self)},
		{"no bootstrap", "no bootstrap", zipOf(t, "main", 0o755, self)},
		{"not a zip", "not a zip", []byte("PK?")},
		{"not ELF", "not a Linux executable", zipOf(t, "bootstrap", 0o755, []byte("#!/bin/sh\n"))},
		{"other architecture", "this machine is " + runtime.GOARCH, zipOf(t, "bootstrap", 0o755, otherArch(self))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := unzipBootstrap(tc.zipped, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// otherArch is the executable with its ELF machine changed to the other Lambda architecture.
func otherArch(exe []byte) []byte {
	b := bytes.Clone(exe)
	if runtime.GOARCH == "arm64" {
		b[18], b[19] = 62, 0 // EM_X86_64
	} else {
		b[18], b[19] = 183, 0 // EM_AARCH64
	}
	return b
}

package check

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// JUnitFile is the file a run's JUnit report goes to, opened before the run so that a path that
// must not or cannot be written is refused while nothing has happened yet.
type JUnitFile struct {
	Path string
	f    *os.File
}

// JUnitPathError is a path CreateJUnit refuses: nothing was written, nothing opened.
type JUnitPathError struct {
	Path string
	Err  error
}

func (e *JUnitPathError) Error() string { return fmt.Sprintf("%q: %v", e.Path, e.Err) }
func (e *JUnitPathError) Unwrap() error { return e.Err }

// CreateJUnit opens path to receive a report: a new file, or an existing regular file, which it
// truncates. It refuses, writing nothing, what a report must not go to: a symbolic link (its
// target would be overwritten, as an export refuses one), a directory, a FIFO (opening one
// waits for a reader that may never come), a socket or a device, and a path under a file or in
// a directory that does not exist. The link is refused by the open itself (O_NOFOLLOW), and
// the kind checked again on the open file, so a path swapped after the first look is refused
// too.
func CreateJUnit(path string) (*JUnitFile, error) {
	refuse := func(format string, a ...any) (*JUnitFile, error) {
		return nil, &JUnitPathError{path, fmt.Errorf(format, a...)}
	}
	cannot := func(err error) (*JUnitFile, error) {
		return refuse("cannot be written (want a file path in an existing, writable directory): %w", err)
	}
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return cannot(err)
	default:
		if why := notAFile(path, st); why != "" {
			return refuse("%s", why)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if errors.Is(err, syscall.ELOOP) {
		return refuse("%s", notAFile(path, nil))
	}
	if err != nil {
		return cannot(err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return cannot(err)
		}
		return refuse("%s", notAFile(path, st))
	}
	if err := f.Truncate(0); err != nil {
		f.Close()
		return cannot(err)
	}
	return &JUnitFile{Path: path, f: f}, nil
}

// notAFile says why what is at path is not a file a report may overwrite ("" when it is one);
// st nil: a symbolic link.
func notAFile(path string, st fs.FileInfo) string {
	const want = "want the path of a file to write"
	switch {
	case st == nil || st.Mode()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return fmt.Sprintf("is a symbolic link (to %q): writing through it would overwrite its target; %s, such as the target's own path", target, want)
	case st.IsDir():
		return "is a directory; " + want
	case st.Mode()&fs.ModeNamedPipe != 0:
		return "is a named pipe (FIFO); " + want
	case st.Mode()&fs.ModeSocket != 0:
		return "is a socket; " + want
	case st.Mode()&fs.ModeDevice != 0:
		return "is a device; " + want
	case !st.Mode().IsRegular():
		return fmt.Sprintf("is not a regular file (%s); %s", st.Mode().Type(), want)
	}
	return ""
}

// Write writes the report (nil: none, the run never began) and closes the file.
func (j *JUnitFile) Write(rep *Report) error {
	var err error
	if rep != nil {
		err = rep.WriteJUnit(j.f)
	}
	if cerr := j.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", j.Path, err)
	}
	return nil
}

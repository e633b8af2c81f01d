//go:build unix

package ledger

import "syscall"

// syscallNoFollow refuses a path whose last element became a symbolic link after Lstat.
const syscallNoFollow = syscall.O_NOFOLLOW

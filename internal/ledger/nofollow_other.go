//go:build !unix

package ledger

const syscallNoFollow = 0

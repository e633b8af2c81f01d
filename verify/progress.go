package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/cost"
)

// statusEvery is the most often a status line is redrawn: a run of 10,000 tables tells its
// progress 10,000 times, and a terminal needs a few a second.
const statusEvery = 100 * time.Millisecond

// statusLine returns a function that rewrites one line of w (at most every statusEvery), and
// the function that clears it at the end; nil and a no-op when w is not a terminal: logs and
// pipes get nothing extra.
func statusLine(w any) (func(string), func()) {
	if !isTerminal(w) {
		return nil, func() {}
	}
	out := w.(io.Writer)
	var mu sync.Mutex
	var last time.Time
	shown := false
	return func(line string) {
			mu.Lock()
			defer mu.Unlock()
			if now := time.Now(); now.Sub(last) >= statusEvery {
				last, shown = now, true
				fmt.Fprintf(out, "\r\033[K%s", line)
			}
		}, func() {
			mu.Lock()
			defer mu.Unlock()
			if shown {
				fmt.Fprint(out, "\r\033[K")
			}
		}
}

// costProgress is a review's progress on a status line of stderr, when it is a terminal.
func costProgress(w any) (func(cost.Progress), func()) {
	line, clear := statusLine(w)
	if line == nil {
		return nil, clear
	}
	return func(p cost.Progress) {
		line(fmt.Sprintf("cost: %d/%d accounts and regions reviewed, %d/%d tables priced", p.UnitsDone, p.Units, p.Priced, p.Tables))
	}, clear
}

// exportProgress is an export's progress on a status line of stderr, when it is a terminal.
func exportProgress(w any, table string) (func(stage string, done, total int64), func()) {
	line, clear := statusLine(w)
	if line == nil {
		return nil, clear
	}
	return func(stage string, done, total int64) {
		about := ""
		if total > 0 {
			about = fmt.Sprintf(" of about %d", total)
		}
		line(fmt.Sprintf("export %s: %d items %s%s", table, done, stage, about))
	}, clear
}

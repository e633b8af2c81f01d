package check

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/wallet-dynamodb/wallet/internal/discover"
)

// MaxTemplateBytes is CloudFormation's own limit on a template (1 MB, for one uploaded to S3;
// 51,200 bytes inline): a larger file cannot be what a stack was deployed from, and reading it
// whole (a device such as /dev/zero never ends) would only exhaust memory.
const MaxTemplateBytes = 1 << 20

// readTemplate reads and parses a template file within ctx (ReadTemplateFile).
func readTemplate(ctx context.Context, path string, timeout time.Duration) ([]discover.TableSpec, error) {
	body, err := ReadTemplateFile(ctx, path, timeout)
	if err != nil {
		return nil, err
	}
	specs, err := discover.ParseTables(body)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, discover.ErrNoTable
	}
	return specs, nil
}

// ReadTemplateFile reads a template file, at most MaxTemplateBytes, within ctx. Opening a FIFO
// blocks until a writer comes, and no system call in Go can be given a deadline for that, so
// the file is read on a goroutine the caller stops waiting for at the deadline; the process
// ends soon after. timeout is named in the error.
func ReadTemplateFile(ctx context.Context, path string, timeout time.Duration) ([]byte, error) {
	type result struct {
		body []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		body, err := readCapped(ctx, path)
		done <- result{body, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("not read within --timeout %s (a pipe or device nobody writes?): %w", timeout, ctx.Err())
	}
	return r.body, r.err
}

// readCapped reads at most MaxTemplateBytes, refusing a longer file.
func readCapped(ctx context.Context, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Pipes are pollable: a deadline lets a reader that has a writer, but no data, give up
	// too. Regular files refuse deadlines, and never block.
	if d, ok := ctx.Deadline(); ok {
		_ = f.SetReadDeadline(d)
	}
	body, err := io.ReadAll(io.LimitReader(f, MaxTemplateBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > MaxTemplateBytes {
		return nil, fmt.Errorf("longer than %d bytes, CloudFormation's 1 MB limit on a template: not a template", MaxTemplateBytes)
	}
	return body, nil
}

// Package chromium opens a page in a real browser for a test: Debian's headless Chromium, driven
// over the DevTools protocol by chromedp. It records every request the page makes, every console
// message and every Content-Security-Policy violation, and takes screenshots, so that a test
// can prove a page that must need nothing from anywhere fetched nothing. Only tests import it.
package chromium

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/wallet-dynamodb/wallet/internal/localcloud"
)

// Path finds the browser (localcloud.Chromium): Debian installs /usr/bin/chromium.
func Path() (string, error) { return localcloud.Chromium() }

// flags are what Chromium needs on this machine: headless and without a sandbox (tests run as
// root in CI), and none of its own connections (updates, sync, safe browsing, QUIC), which a
// closed network refuses and which are not the page's.
var flags = []chromedp.ExecAllocatorOption{
	chromedp.Headless,
	chromedp.NoSandbox,
	chromedp.DisableGPU,
	chromedp.NoFirstRun,
	chromedp.NoDefaultBrowserCheck,
	chromedp.Flag("disable-quic", true),
	chromedp.Flag("disable-background-networking", true),
	chromedp.Flag("disable-component-update", true),
	chromedp.Flag("disable-sync", true),
	chromedp.Flag("disable-default-apps", true),
	chromedp.Flag("disable-extensions", true),
	chromedp.Flag("disable-breakpad", true),
	chromedp.Flag("disable-dev-shm-usage", true),
	chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
	chromedp.Flag("safebrowsing-disable-auto-update", true),
	chromedp.Flag("metrics-recording-only", true),
	chromedp.Flag("force-color-profile", "srgb"),
	chromedp.Flag("hide-scrollbars", true),
	chromedp.Flag("font-render-hinting", "none"),
}

// Browser is one Chromium process for a test, with a user data directory of its own; cleanup
// stops it (the allocator kills the process it started).
type Browser struct {
	ctx context.Context
}

// Start starts Chromium for the test; a missing browser fails the test naming the package to
// install.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := Path()
	if err != nil {
		t.Fatal(err)
	}
	opts := append([]chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900)}, flags...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The browser starts with its first action: start it here, so that a page's time is its own.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Page is a page opened in the browser, and everything it did while it loaded.
type Page struct {
	t   testing.TB
	ctx context.Context
	URL string
	// Load is from the navigation's start to its load event, as the browser's Navigation
	// Timing measures it; Wall is the same seen from the test.
	Load, Wall time.Duration

	mu         sync.Mutex
	requests   []string
	violations []string
	console    []string
}

// Open opens a file in a new tab, as a person opens a saved page, and waits until it has
// loaded (its load event).
func (b *Browser) Open(t testing.TB, file string) *Page {
	t.Helper()
	abs, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &Page{t: t, ctx: ctx, URL: (&url.URL{Scheme: "file", Path: abs}).String()}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	if err := chromedp.Listen(ctx, p.record); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(p.URL)); err != nil {
		t.Fatalf("open %s: %v", p.URL, err)
	}
	p.Wall = time.Since(start)
	var timing struct {
		Start float64 `json:"startTime"`
		Load  float64 `json:"loadEventEnd"`
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(performance.getEntriesByType("navigation")[0])`))
	if err != nil {
		t.Fatalf("read the navigation's timing: %v", err)
	}
	if err := json.Unmarshal([]byte(raw), &timing); err != nil {
		t.Fatalf("the navigation's timing %q: %v", raw, err)
	}
	p.Load = time.Duration((timing.Load - timing.Start) * float64(time.Millisecond))
	return p
}

// record keeps what the page asked for and said; it runs on the tab's reading goroutine.
func (p *Page) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests = append(p.requests, e.Request.URL)
	case *log.EventEntryAdded:
		line := fmt.Sprintf("%s %s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text)
		if e.Entry.Source == log.EntrySourceSecurity || e.Entry.Source == log.EntrySourceViolation || strings.Contains(e.Entry.Text, "Content Security Policy") {
			p.violations = append(p.violations, line)
		}
		p.console = append(p.console, line)
	case *runtime.EventConsoleAPICalled:
		p.console = append(p.console, fmt.Sprintf("console.%s", e.Type))
	case *runtime.EventExceptionThrown:
		p.console = append(p.console, "exception: "+e.ExceptionDetails.Text)
	}
}

// Requests are the URLs the page asked for beyond itself (its own file), in order: a page
// that needs nothing else asks for nothing.
func (p *Page) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, u := range p.requests {
		if u != p.URL {
			out = append(out, u)
		}
	}
	return out
}

// Violations are the Content-Security-Policy violations and security messages the browser
// logged: what the page tried and was refused.
func (p *Page) Violations() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.violations...)
}

// Console is every message the page's console and log received.
func (p *Page) Console() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.console...)
}

// Eval evaluates a JavaScript expression in the page (through the DevTools protocol, not the
// page's own scripts: the page has none) and decodes its value, JSON-stringified, into into.
func (p *Page) Eval(expression string, into any) {
	p.t.Helper()
	raw, err := chromedp.Run(p.ctx, chromedp.Evaluate[string]("JSON.stringify("+expression+")"))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expression, err)
	}
	if err := json.Unmarshal([]byte(raw), into); err != nil {
		p.t.Fatalf("evaluate %s: %v (%s)", expression, err, raw)
	}
}

// Screenshot writes a PNG of the whole page, or of its first height pixels when height > 0,
// at the window's width, to file.
func (p *Page) Screenshot(file string, height int) {
	p.t.Helper()
	whole := height <= 0
	if whole {
		// The whole page in the viewport: what content-visibility leaves unrendered out of
		// view is drawn too.
		p.Eval(`document.documentElement.scrollHeight`, &height)
	}
	err := chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, int64(height)))
	if whole && err == nil {
		// Two frames later, what the larger viewport shows is laid out.
		_, err = chromedp.Run(p.ctx, chromedp.Evaluate[*runtime.RemoteObject](`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))`, chromedp.EvalAwaitPromise))
	}
	if whole && err == nil {
		// Drawn, what was out of view has its real height, not its estimate (the document is
		// at least as tall as the viewport: the body's height is the page's).
		p.Eval(`Math.ceil(document.body.getBoundingClientRect().bottom + parseFloat(getComputedStyle(document.body).marginBottom))`, &height)
		err = chromedp.Do(p.ctx, chromedp.EmulateViewport(1280, int64(height)))
	}
	var png []byte
	if err == nil {
		png, err = chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	}
	if err != nil {
		p.t.Fatalf("screenshot of %s: %v", p.URL, err)
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// ArtifactDir is where a test keeps what it shows a person (screenshots, the page it opened):
// <module root>/.artifacts/<test name>/, emptied when the test starts and kept after it, so
// that CI can upload it and a person can open it. Go's own t.ArtifactDir names its directories
// at random under -outputdir; this one is named by the test.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	name := strings.NewReplacer("/", "__", " ", "_").Replace(t.Name())
	dir := filepath.Join(localcloud.ModuleRoot(), ".artifacts", name)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts: %s", dir)
	return dir
}

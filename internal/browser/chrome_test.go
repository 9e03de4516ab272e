package browser

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// screenshots is docs/screenshots of the repository, from this directory.
var screenshots = filepath.Join("..", "..", "docs", "screenshots")

// chromium finds a Chromium or Chrome on PATH, or skips the test; with
// EWALLET_REQUIRE_BROWSER set (CI) a missing browser fails it instead.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("EWALLET_REQUIRE_BROWSER") != "" {
		t.Fatal("EWALLET_REQUIRE_BROWSER is set but no Chromium is on PATH")
	}
	t.Skip("no Chromium on PATH (looked for chromium, chromium-browser, google-chrome): " +
		"apt-get install chromium fonts-wqy-microhei to run the browser tests")
	return ""
}

// tab is one browser tab on a phone-sized screen, in a browser of its own
// that has no network but loopback. It records every request the page
// makes and every error it reports.
type tab struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go

	mu       sync.Mutex
	requests []string // URLs, in order
	problems []string // exceptions, console errors, CSP violations
}

func newTab(t *testing.T, exe string) *tab {
	t.Helper()
	// The whole browser session has a deadline, so a page that never loads
	// fails the test instead of hanging it.
	base, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(base,
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		// No network. The resolver rules make every name and every address
		// but 127.0.0.1 (literals too) resolve to nothing; and, a second
		// lock, any address but loopback (which Chromium never proxies)
		// goes to a proxy that is not there. offline proves it.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.WindowSize(375, 812),
	)
	t.Cleanup(cancelAlloc)
	b := &tab{t: t, shots: t.TempDir()}
	ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithListener(b.listen))
	t.Cleanup(cancelCtx)
	b.ctx = ctx
	require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch)))
	t.Cleanup(func() {
		// What the browser showed when the test failed, to tell a page's
		// error from the test's.
		if t.Failed() {
			where, _ := chromedp.Run(ctx, chromedp.Location())
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Logf("the browser was at %s showing:\n%s", where, body)
			b.mu.Lock()
			t.Logf("requests: %q\nproblems: %q", b.requests, b.problems)
			b.mu.Unlock()
		}
	})
	return b
}

// listen runs in the tab's event loop: it only records.
func (b *tab) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if len(u) > 120 {
			u = u[:120] + "…" // a data: URL can be long
		}
		b.requests = append(b.requests, u)
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil {
			text += " " + d.Exception.Description
		}
		b.problems = append(b.problems, "exception: "+text)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
			b.problems = append(b.problems, fmt.Sprintf("console.%s", ev.Type))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Source, ev.Entry.Level, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// seen returns the requests and problems recorded so far.
func (b *tab) seen() (requests, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...), append([]string(nil), b.problems...)
}

// onlyOrigins fails unless every request of the page went to one of the
// origins (scheme://host:port).
func (b *tab) onlyOrigins(origins ...string) {
	b.t.Helper()
	requests, _ := b.seen()
	require.NotEmpty(b.t, requests)
	for _, r := range requests {
		u, err := url.Parse(r)
		require.NoError(b.t, err, r)
		require.Contains(b.t, origins, u.Scheme+"://"+u.Host, "the page asked for %s", r)
	}
}

// offline fails unless the browser really has no way out: a name on the
// internet does not resolve, and a server of this machine on an address
// other than loopback — which Go reaches — is out of the browser's reach.
func (b *tab) offline() {
	b.t.Helper()
	links := []string{"http://example.com/", "https://1.1.1.1/"}
	if ip := nonLoopback(); ip != "" {
		ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		require.NoError(b.t, err)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "reached") }),
			ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		b.t.Cleanup(func() { _ = srv.Close() })
		link := "http://" + ln.Addr().String() + "/"
		resp, err := http.Get(link)
		require.NoError(b.t, err, "Go reaches %s", link)
		resp.Body.Close()
		links = append(links, link)
	} else {
		b.t.Log("no address but loopback on this machine: the proxy rule is not exercised")
	}
	for _, link := range links {
		ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
		_, err := chromedp.Run(ctx, chromedp.NavigateResponse(link))
		cancel()
		require.Error(b.t, err, "%s loaded: the browser has network", link)
	}
	// What Chromium's error pages asked for is not the test's.
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Navigate("about:blank")))
	b.mu.Lock()
	b.requests, b.problems = nil, nil
	b.mu.Unlock()
}

// open loads a link and fails unless the page answers with want.
func (b *tab) open(link string, want int) *network.Response {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(link))
	require.NoError(b.t, err)
	require.Equal(b.t, int64(want), resp.Status, "%s", resp.URL)
	return resp
}

// press clicks a button that submits its form and waits for the next page.
func (b *tab) press(css string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(css)))
	require.NoError(b.t, err)
	require.Equal(b.t, int64(http.StatusOK), resp.Status, "%s", resp.URL)
}

// click clicks an element that does not navigate.
func (b *tab) click(css string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(css))))
}

// keys types on the keyboard, into whatever has the focus.
func (b *tab) keys(text string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.KeyEvent(text)))
}

func (b *tab) typeIn(id, text string) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.ID(id), text)))
}

func (b *tab) value(id string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID(id)))
	require.NoError(b.t, err)
	return v
}

func (b *tab) text(css string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	require.NoError(b.t, err)
	return v
}

func (b *tab) attr(css, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(css), name))
	require.NoError(b.t, err)
	return v.Value
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, "%s", expr)
	return v
}

// waitFor waits until a JavaScript expression is true.
func (b *tab) waitFor(expr string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(b.t, err, "waiting for %s", expr)
}

// waitPath waits until the tab has navigated to a page at path (a Poll in
// the page does not survive the navigation; this asks from outside).
func (b *tab) waitPath(path string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		where, err := chromedp.Run(b.ctx, chromedp.Location())
		if err == nil {
			if u, err := url.Parse(where); err == nil && u.Path == path {
				ready, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.readyState`))
				if err == nil && ready == "complete" {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the tab never reached %s (it is at %s)", path, where)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shoot takes a full-page screenshot at 375 px, and checks that nothing is
// wider than the screen.
func (b *tab) shoot(name string) {
	b.t.Helper()
	width, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	require.NoError(b.t, err)
	require.LessOrEqual(b.t, width, 375, "%s overflows a 375 px screen", name)
	// The screen grows to the page's height for the picture: Chromium does
	// not always paint what lies below a mobile viewport.
	height, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	require.NoError(b.t, err)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(375, max(height, 812), chromedp.EmulateMobile, chromedp.EmulateTouch)))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	require.NoError(b.t, err)
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch)))
	require.NoError(b.t, os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644))
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		require.NoError(b.t, os.MkdirAll(screenshots, 0o755))
		require.NoError(b.t, os.WriteFile(filepath.Join(screenshots, name+".png"), png, 0o644))
	}
}

// origin is scheme://host:port of a URL.
func origin(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	return u.Scheme + "://" + u.Host
}

// noProblems fails if the page reported an exception, a console error or
// warning, or a CSP violation.
func (b *tab) noProblems() {
	b.t.Helper()
	_, problems := b.seen()
	require.Empty(b.t, problems, "the page reported problems")
}

// nonLoopback is an IPv4 address of this machine other than loopback, or "".
func nonLoopback() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	return ""
}

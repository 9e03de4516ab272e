// Package browser holds the tests that drive a real browser, headless
// Chromium through chromedp, on a 375 px phone screen: the bank-hosted H5
// pages (h5_test.go) and the PIN pad of wallet/pinpad (pinpad_test.go),
// against the sandbox bank. The screenshots they take are those of
// docs/screenshots (UPDATE_SCREENSHOTS=1 rewrites them).
//
// It is a module of its own so that chromedp and the Chrome DevTools
// Protocol types stay out of the module graph of every merchant who
// requires github.com/xinyun-open/ewallet-go. Its tests run from this
// directory:
//
//	cd internal/browser && go test ./...
//	cd internal/browser && UPDATE_SCREENSHOTS=1 go test ./...
//
// They need Chromium and a CJK font (Debian: apt-get install chromium
// fonts-wqy-microhei) and skip without them, unless EWALLET_REQUIRE_BROWSER
// is set (CI sets it), which makes a missing browser a failure. Chromium
// runs without network: every name resolves to nothing and every address
// but loopback goes to a dead proxy, so a page that needs anything but the
// test's own servers fails.
//
// The package has no API; it holds tests only.
package browser

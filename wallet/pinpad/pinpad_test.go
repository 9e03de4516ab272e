package pinpad

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// vectorKey is the TEST bank key of testdata/vectors/keys.json as the page
// gets it.
func vectorKey(t *testing.T) wallet.PINKey {
	t.Helper()
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	return wallet.PINKey{KeyID: keys.BankKeyID, Hex: keys.Bank.PublicHex, PEM: keys.Bank.PublicPEM}
}

func newPad(t *testing.T, key wallet.PINKey, opts ...Option) *Handler {
	t.Helper()
	h, err := New(KeyFunc(func() (wallet.PINKey, error) { return key, nil }), "/shop/pay", opts...)
	require.NoError(t, err)
	return h
}

func get(t *testing.T, h http.Handler, target string, hdr ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestPageCarriesKeyActionAndRef(t *testing.T) {
	key := vectorKey(t)
	key.Hex = strings.ToUpper(key.Hex[:2]) + strings.ToUpper(key.Hex[2:]) // the page takes any case, renders lower
	h := newPad(t, key, WithPrompt(func(r *http.Request) (Prompt, error) {
		return Prompt{Title: "请输入支付密码", Subject: `会员 <月卡> & "礼包"`, Amount: 9900, Ref: r.URL.Query().Get("order")}, nil
	}))
	resp := get(t, h, `/?order=T1"><script>alert(1)</script>`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, CSP, resp.Header.Get("Content-Security-Policy"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	page := body(t, resp)

	require.Contains(t, page, `data-key-id="bank-2026-01"`)
	require.Contains(t, page, `data-key="`+strings.ToLower(key.Hex)+`"`)
	require.Contains(t, page, `data-action="/shop/pay"`)
	require.Contains(t, page, `data-ref="T1&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	require.Contains(t, page, `会员 &lt;月卡&gt; &amp; &#34;礼包&#34;`)
	require.Contains(t, page, `<span class="cny">¥</span>99.00`)
	require.Contains(t, page, "<title>请输入支付密码</title>")

	// The CSP forbids inline script and style: the page has none to break.
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	require.Equal(t, []string{`<script src="sm2.js" defer>`, `<script src="pinpad.js" defer>`}, scripts)
	require.NotRegexp(t, `(?i)\son[a-z]+=`, page, "no inline event handlers")
	require.NotRegexp(t, `(?i)\sstyle=`, page, "no inline styles")
	require.NotContains(t, page, "<style")
	require.Equal(t, 10, strings.Count(page, `data-digit="`), "ten digit buttons")
}

func TestPageDefaultsAndErrors(t *testing.T) {
	key := vectorKey(t)
	page := body(t, get(t, newPad(t, key), "/"))
	require.Contains(t, page, "<h1>请输入交易密码</h1>")
	require.NotContains(t, page, `class="amount"`, "no amount when the prompt has none")

	cases := []struct {
		name   string
		keys   KeySource
		opts   []Option
		status int
		text   string
	}{
		{"no key", KeyFunc(func() (wallet.PINKey, error) { return wallet.PINKey{}, errors.New("no trusted bank key") }), nil, 503, "暂时无法输入密码"},
		{"no key id", KeyFunc(func() (wallet.PINKey, error) { k := key; k.KeyID = ""; return k, nil }), nil, 503, "暂时无法输入密码"},
		{"compressed point", KeyFunc(func() (wallet.PINKey, error) { k := key; k.Hex = "02" + key.Hex[2:66]; return k, nil }), nil, 503, "暂时无法输入密码"},
		{"not on the curve", KeyFunc(func() (wallet.PINKey, error) { k := key; k.Hex = key.Hex[:128] + "00"; return k, nil }), nil, 503, "暂时无法输入密码"},
		{"expired", KeyFunc(func() (wallet.PINKey, error) {
			k := key
			k.NotAfter = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
			return k, nil
		}), []Option{WithClock(func() time.Time { return time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC) })}, 503, "暂时无法输入密码"},
		{"no such order", KeyFunc(func() (wallet.PINKey, error) { return key, nil }),
			[]Option{WithPrompt(func(*http.Request) (Prompt, error) { return Prompt{}, errors.New("no order") })}, 404, "链接已失效"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, err := New(c.keys, "/pay", c.opts...)
			require.NoError(t, err)
			resp := get(t, h, "/")
			require.Equal(t, c.status, resp.StatusCode)
			require.Equal(t, CSP, resp.Header.Get("Content-Security-Policy"))
			page := body(t, resp)
			require.Contains(t, page, c.text)
			require.NotContains(t, page, "<script", "no pad without a usable key")
			require.NotContains(t, page, "data-key")
		})
	}

	// A way back, only to a path of the page's own origin.
	withCancel := func(c string) *Handler {
		return newPad(t, key, WithPrompt(func(*http.Request) (Prompt, error) { return Prompt{Cancel: c}, nil }))
	}
	page = body(t, get(t, withCancel("/orders/T1?from=pin"), "/"))
	require.Contains(t, page, `<a class="cancel" href="/orders/T1?from=pin">取消</a>`)
	require.NotContains(t, body(t, get(t, newPad(t, key), "/")), `class="cancel"`, "no link without Cancel")
	for _, bad := range []string{"https://evil.example/", "//evil.example", "javascript:alert(1)", "/\\evil.example", "/a\nb"} {
		resp := get(t, withCancel(bad), "/")
		require.Equal(t, http.StatusNotFound, resp.StatusCode, bad)
		page := body(t, resp)
		require.Contains(t, page, "链接已失效", bad)
		require.NotContains(t, page, "evil", bad)
	}

	// A key valid until later is served.
	later := KeyFunc(func() (wallet.PINKey, error) { k := key; k.NotAfter = time.Now().Add(time.Hour); return k, nil })
	h, err := New(later, "/pay")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, get(t, h, "/").StatusCode)
}

func TestAssets(t *testing.T) {
	h := newPad(t, vectorKey(t))
	for name, want := range map[string]string{"sm2.js": "text/javascript", "pinpad.js": "text/javascript", "pinpad.css": "text/css"} {
		resp := get(t, h, "/"+name)
		require.Equal(t, http.StatusOK, resp.StatusCode, name)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), want), name)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		etag := resp.Header.Get("ETag")
		require.NotEmpty(t, etag)
		require.NotEmpty(t, body(t, resp))
		require.Equal(t, http.StatusNotModified, get(t, h, "/"+name, "If-None-Match", etag).StatusCode, name)
	}
	for _, p := range []string{"/index.html", "/static/pinpad.js", "/sm-crypto/sm2.js", "/LICENCE_MIT", "/../pinpad.go", "/x/"} {
		require.Equal(t, http.StatusNotFound, get(t, h, p).StatusCode, p)
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusMethodNotAllowed, w.Code)
	require.Equal(t, "GET, HEAD", w.Header().Get("Allow"))
}

// Mounted at /pin/, a link to /pin (no slash) is sent to /pin/, so that
// the page's relative links resolve under the mount.
func TestMountAddsSlash(t *testing.T) {
	// Mounted under a slash: the page's files resolve beside it.
	mux := http.NewServeMux()
	mux.Handle("/shop/pin/", http.StripPrefix("/shop/pin", newPad(t, vectorKey(t))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/shop/pin/sm2.js")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	// Mounted without the slash, the handler itself sends the browser on,
	// relative to where it is (it cannot see the stripped prefix).
	direct := http.NewServeMux()
	direct.Handle("/shop/pin", http.StripPrefix("/shop/pin", newPad(t, vectorKey(t))))
	r := httptest.NewRequest(http.MethodGet, "/shop/pin?order=7", nil)
	w := httptest.NewRecorder()
	direct.ServeHTTP(w, r)
	require.Equal(t, http.StatusMovedPermanently, w.Code)
	loc, err := url.Parse(w.Header().Get("Location"))
	require.NoError(t, err)
	require.False(t, loc.IsAbs())
	base, err := url.Parse("https://shop.example/shop/pin?order=7")
	require.NoError(t, err)
	require.Equal(t, "https://shop.example/shop/pin/?order=7", base.ResolveReference(loc).String())
}

func TestNewRefuses(t *testing.T) {
	keys := KeyFunc(func() (wallet.PINKey, error) { return wallet.PINKey{}, nil })
	_, err := New(nil, "/pay")
	require.ErrorContains(t, err, "KeySource")
	for _, action := range []string{"", "https://evil.example/pay", "//evil.example/pay", "javascript:alert(1)", "/pay\r\nX: y", `\\evil\pay`, "%zz"} {
		_, err := New(keys, action)
		require.Error(t, err, "%q", action)
	}
	for _, action := range []string{"/pay", "pay", "../pay?x=1", "/shop/pay#frag"} {
		_, err := New(keys, action)
		require.NoError(t, err, "%q", action)
	}
	for _, o := range []Option{nil, WithPrompt(nil), WithLogger(nil), WithClock(nil)} {
		_, err := New(keys, "/pay", o)
		require.Error(t, err)
	}
}

// The shipped sm-crypto is the file its README names: version and SHA-256
// agree with VERSION, SMCryptoVersion and the package doc, and its
// licences are beside it.
func TestShippedSMCrypto(t *testing.T) {
	js, err := static.ReadFile("static/sm-crypto/sm2.js")
	require.NoError(t, err)
	sum := sha256.Sum256(js)
	readme, err := os.ReadFile("static/sm-crypto/README.md")
	require.NoError(t, err)
	require.Contains(t, string(readme), "`"+hex.EncodeToString(sum[:])+"`", "README's SHA-256 of sm2.js")
	require.Contains(t, string(readme), "# sm-crypto "+SMCryptoVersion+" ")
	version, err := os.ReadFile("static/sm-crypto/VERSION")
	require.NoError(t, err)
	require.Equal(t, "sm-crypto "+SMCryptoVersion+"\n", string(version))
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	require.Contains(t, string(doc), "sm-crypto "+SMCryptoVersion)
	for _, f := range []string{"LICENCE_MIT", "LICENSE-jsbn"} {
		b, err := os.ReadFile("static/sm-crypto/" + f)
		require.NoError(t, err)
		require.Contains(t, string(b), "Permission is hereby granted", f)
	}
	// What the page relies on: the UMD global and C1C3C2 by mode 1.
	require.Contains(t, string(js), `t.sm2=r()`)
	require.Contains(t, string(js), "Invalid public key", "0.5.7+ checks the public key")
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 1: "0.01", 9900: "99.00", 123456: "1234.56", -150: "-1.50",
		-9223372036854775808: "-92233720368547758.08"} {
		require.Equal(t, want, yuan(fen), fmt.Sprint(fen))
	}
}

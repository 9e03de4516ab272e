package pinpad

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// SMCryptoVersion is the version of npm sm-crypto whose dist/sm2.js the
// page loads (static/sm-crypto, with its licence and SHA-256).
const SMCryptoVersion = "0.5.8"

// CSP is the Content-Security-Policy of the page: scripts, styles and
// requests from its own origin only, no inline script or style, no frames
// around it, no form posts and no <base>. The page needs nothing else; a
// copy of it served elsewhere should keep this header.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed static/index.html static/pinpad.js static/pinpad.css static/sm-crypto/sm2.js
var static embed.FS

// assetFiles are the files the handler serves besides the page: the name
// the page asks for (relative to it), the embedded file, its type.
func assetFiles() [3][3]string {
	return [...][3]string{
		{"pinpad.js", "static/pinpad.js", "text/javascript; charset=utf-8"},
		{"pinpad.css", "static/pinpad.css", "text/css; charset=utf-8"},
		{"sm2.js", "static/sm-crypto/sm2.js", "text/javascript; charset=utf-8"},
	}
}

// KeySource gives the bank key the page encrypts PINs to. *wallet.Client
// is one: its PINKey is the key its requests are encrypted to, which is the
// key a request carrying the PIN will be encrypted to as well.
type KeySource interface {
	PINKey() (wallet.PINKey, error)
}

// KeyFunc makes a function a KeySource.
type KeyFunc func() (wallet.PINKey, error)

// PINKey calls f.
func (f KeyFunc) PINKey() (wallet.PINKey, error) { return f() }

// Prompt is what the page shows above the pad, and the merchant's reference
// it sends back with the ciphertext. Every field is optional.
type Prompt struct {
	Title   string // the heading; "请输入交易密码" when empty
	Subject string // what the PIN is for, e.g. "会员月卡"
	Amount  int64  // in fen, shown as ¥99.00; 0 shows none
	// Ref is the merchant's own reference (an order number, a session id),
	// posted back as "ref" for Decode. It is not secret and not trusted:
	// the merchant's endpoint looks it up and checks it belongs to the user.
	Ref string
	// Cancel is where 取消 leads, shown above the pad: a path of the
	// page's own origin ("/orders/T2026…"), so that a user in a webview has
	// a way back other than the system's. Empty shows no link. Anything
	// else (a scheme, "//host", a backslash) would make the pad an open
	// redirect and is refused: the page then says its link expired, as for
	// a prompt error.
	Cancel string
}

// Handler serves the PIN pad: the page at its root and the three files the
// page loads (pinpad.js, pinpad.css, sm2.js) beside it. Mount it under a
// path ending in "/" with http.StripPrefix:
//
//	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
//
// Every page view asks the KeySource for the current key, so a page always
// carries a key the client trusts now. A Handler is safe for concurrent use.
type Handler struct {
	keys   KeySource
	action string
	prompt func(*http.Request) (Prompt, error)
	log    *slog.Logger
	now    func() time.Time
	page   *template.Template
	assets map[string]asset
}

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Option configures a Handler.
type Option func(*Handler) error

// WithPrompt sets what the page shows for a request, typically looked up
// from a query parameter (?order=…). An error answers 404 with a page that
// says the link is no longer valid; the error itself is logged, not shown.
func WithPrompt(f func(r *http.Request) (Prompt, error)) Option {
	return func(h *Handler) error {
		if f == nil {
			return errors.New("pinpad: WithPrompt: nil function")
		}
		h.prompt = f
		return nil
	}
}

// WithLogger logs what goes wrong while serving the page (no key, a prompt
// error) at warn level. No request data is logged. Default: nothing.
func WithLogger(l *slog.Logger) Option {
	return func(h *Handler) error {
		if l == nil {
			return errors.New("pinpad: WithLogger: nil logger")
		}
		h.log = l
		return nil
	}
}

// WithClock replaces time.Now for the check that the key has not expired:
// for tests.
func WithClock(now func() time.Time) Option {
	return func(h *Handler) error {
		if now == nil {
			return errors.New("pinpad: WithClock: nil function")
		}
		h.now = now
		return nil
	}
}

// New returns the PIN pad for keys, posting to action: the merchant's
// endpoint that takes the ciphertext (with Decode) and makes the call with
// the PIN. action is a path or a relative reference of the page's own
// origin, such as "/pay" — the page's CSP allows no other — since the page
// is served by the merchant and the ciphertext goes to the merchant's server.
func New(keys KeySource, action string, opts ...Option) (*Handler, error) {
	if keys == nil {
		return nil, errors.New("pinpad: no KeySource (pass the *wallet.Client)")
	}
	if err := checkAction(action); err != nil {
		return nil, err
	}
	h := &Handler{
		keys:   keys,
		action: action,
		prompt: func(*http.Request) (Prompt, error) { return Prompt{}, nil },
		log:    slog.New(slog.DiscardHandler),
		now:    time.Now,
		assets: make(map[string]asset, len(assetFiles())),
	}
	if err := option.Apply(h, "pinpad: nil Option", opts); err != nil {
		return nil, err
	}
	page, err := template.New("index.html").Funcs(template.FuncMap{"yuan": yuan}).ParseFS(static, "static/index.html")
	if err != nil {
		return nil, fmt.Errorf("pinpad: %w", err)
	}
	h.page = page
	for _, f := range assetFiles() {
		name, file, ctype := f[0], f[1], f[2]
		b, err := static.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("pinpad: %w", err)
		}
		sum := sha256.Sum256(b)
		h.assets[name] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return h, nil
}

func checkAction(action string) error {
	if action == "" {
		return errors.New("pinpad: action is empty (the merchant's endpoint, e.g. \"/pay\")")
	}
	return ownPath("action", action)
}

// ownPath refuses anything but a path (absolute or relative) of the
// page's own origin.
func ownPath(name, p string) error {
	u, err := url.Parse(p)
	if err != nil {
		return fmt.Errorf("pinpad: %s %q: %w", name, p, err)
	}
	if u.Scheme != "" || u.Host != "" || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return fmt.Errorf("pinpad: %s %q is not a path of the page's own origin", name, p)
	}
	return nil
}

// ServeHTTP serves the page for "/" (GET, HEAD) and the page's files.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	switch {
	case p == "":
		// Mounted at /pin/ and asked for /pin: the page's relative links
		// need the slash.
		h.addSlash(w, r)
	case p == "/":
		h.servePage(w, r)
	default:
		a, ok := h.assets[strings.TrimPrefix(p, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("ETag", a.etag)
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
	}
}

func (h *Handler) addSlash(w http.ResponseWriter, r *http.Request) {
	orig, err := url.ParseRequestURI(r.RequestURI)
	if err != nil || orig.Path == "" || strings.HasSuffix(orig.Path, "/") {
		http.NotFound(w, r)
		return
	}
	// Relative to the request's own URL (http.Redirect would resolve it
	// against the stripped path), so it also holds behind a proxy that
	// mounts the merchant's site under another prefix.
	target := "./" + url.PathEscape(path.Base(orig.Path)) + "/"
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusMovedPermanently)
}

// view is what the template renders.
type view struct {
	Prompt
	KeyID  string
	KeyHex string
	Action string
	Error  string // set: the page shows this and no pad
}

func (h *Handler) servePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Type", "text/html; charset=utf-8")

	v := view{Action: h.action}
	status := http.StatusOK
	prompt, err := h.prompt(r)
	if err == nil && prompt.Cancel != "" {
		err = ownPath("Prompt.Cancel", prompt.Cancel)
	}
	if err != nil {
		h.log.Warn("pinpad: no prompt for the page", "err", err)
		v.Error, status = "链接已失效，请返回重新发起", http.StatusNotFound
	} else if k, err := h.key(); err != nil {
		h.log.Warn("pinpad: no PIN key for the page", "err", err)
		v.Error, status = "暂时无法输入密码，请稍后再试", http.StatusServiceUnavailable
	} else {
		v.Prompt, v.KeyID, v.KeyHex = prompt, k.KeyID, strings.ToLower(k.Hex)
	}
	if v.Title == "" {
		v.Title = "请输入交易密码"
	}
	var buf bytes.Buffer
	if err := h.page.Execute(&buf, v); err != nil {
		h.log.Warn("pinpad: page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, &buf)
}

// key is the KeySource's key, checked to be one the page can use: an id,
// a point on the SM2 curve in the 04‖X‖Y form, and not expired.
func (h *Handler) key() (wallet.PINKey, error) {
	k, err := h.keys.PINKey()
	if err != nil {
		return wallet.PINKey{}, err
	}
	if k.KeyID == "" {
		return wallet.PINKey{}, errors.New("pinpad: the PIN key has no key id")
	}
	if len(k.Hex) != 130 || !strings.HasPrefix(k.Hex, "04") {
		return wallet.PINKey{}, fmt.Errorf("pinpad: PIN key %q: public_key_hex is not 04‖X‖Y (130 hex characters)", k.KeyID)
	}
	if _, err := sign.ParsePublicKey([]byte(k.Hex)); err != nil {
		return wallet.PINKey{}, fmt.Errorf("pinpad: PIN key %q: %w", k.KeyID, err)
	}
	if !k.NotAfter.IsZero() && !h.now().Before(k.NotAfter) {
		return wallet.PINKey{}, fmt.Errorf("pinpad: PIN key %q expired at %s", k.KeyID, k.NotAfter.Format(time.RFC3339))
	}
	return k, nil
}

// yuan formats fen as 99.00.
func yuan(fen int64) string {
	minus, u := "", uint64(fen)
	if fen < 0 {
		minus, u = "-", -u // two's complement: right for math.MinInt64 too
	}
	return fmt.Sprintf("%s%d.%02d", minus, u/100, u%100)
}

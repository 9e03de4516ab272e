package h5site

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

// assets holds the page templates and the stylesheet. Read-only: embedded
// at build time.
//
//go:embed assets
var assets embed.FS

// sessionTTL is how long a session lives after its link was opened.
const sessionTTL = 30 * time.Minute

// cookieName holds the session's binding value; its Path is the session's
// own URL, so each session has its own cookie.
const cookieName = "h5_bind"

// Site is the H5 part of one bank: its pages, sessions and spent nonces.
// It is safe for concurrent use.
type Site struct {
	bank     Bank
	log      *slog.Logger
	pages    map[string]*page
	tmpl     map[string]*template.Template
	css      []byte
	testFace []byte // the built-in colour face of the 使用测试人脸 button
	sessions *sessions
	nonces   *nonces
	// linkFieldNames are the names of every field any link may carry: a
	// refusal may name one of these, never a name of the sender's.
	linkFieldNames map[string]bool
}

// New builds the site of bank; log receives one line per link, flow and
// refusal, never personal data.
func New(bank Bank, log *slog.Logger) (*Site, error) {
	s := &Site{bank: bank, log: log, pages: pageTable(), tmpl: map[string]*template.Template{},
		sessions: newSessions(), nonces: newNonces()}
	// One template per page, the result page of a flow that failed for
	// good, and the error page.
	for _, v := range append(pageNames(), "result", "error") {
		t, err := template.New(v).ParseFS(assets, "assets/layout.html", "assets/parts.html", "assets/"+v+".html")
		if err != nil {
			return nil, fmt.Errorf("h5site: template %s: %w", v, err)
		}
		s.tmpl[v] = t
	}
	css, err := fs.ReadFile(assets, "assets/h5.css")
	if err != nil {
		return nil, fmt.Errorf("h5site: stylesheet: %w", err)
	}
	s.css = css
	s.testFace = testFace()
	s.linkFieldNames = map[string]bool{"sign": true}
	for _, k := range append(envelopeFields(), dataFields()...) {
		s.linkFieldNames[k] = true
	}
	for _, f := range commonFields() {
		s.linkFieldNames[f.name] = true
	}
	for _, p := range s.pages {
		for _, f := range p.fields {
			s.linkFieldNames[f.name] = true
		}
	}
	return s, nil
}

// testFace is a 96×96 colour PNG that passes the sandbox face check: a
// warm oval on a blue ground, so that it also looks like a face placeholder.
func testFace() []byte {
	const n = 96
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			dx, dy := float64(x-n/2)/30, float64(y-n/2)/38
			c := color.RGBA{uint8(70 + x/3), uint8(130 + y/2), 220, 255}
			if dx*dx+dy*dy <= 1 {
				c = color.RGBA{240, uint8(190 + y/8), uint8(150 + x/6), 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img) // encoding an in-memory image into a buffer cannot fail
	return buf.Bytes()
}

// Serve routes one request under /h5/. base is the bank's mount prefix
// ("" or "/bank"), rest the path as sent from /h5/ on (escapes kept: a
// page name is matched as sent, never decoded).
//
//	GET  /h5/{page}?{signed link}   verify the link; on success start a session
//	                                and 303 to the session's page
//	GET  /h5/s/{sid}/{view}         the session's page (a form, or a result)
//	POST /h5/s/{sid}/{view}         one step of the flow (send SMS, submit, cancel…)
//	GET  /h5/assets/h5.css          the embedded stylesheet
func (s *Site) Serve(w http.ResponseWriter, r *http.Request, base, rest string) {
	if !PlainPath(base) {
		// The prefix goes into redirects, cookie paths and page links: a
		// real mount prefix is plain, anything else is not the bank's.
		http.NotFound(w, r)
		return
	}
	rest = strings.TrimPrefix(rest, "/h5/")
	switch {
	case strings.HasPrefix(rest, "assets/"):
		s.serveAsset(w, r, strings.TrimPrefix(rest, "assets/"))
	case strings.HasPrefix(rest, "s/"):
		sid, view, _ := strings.Cut(strings.TrimPrefix(rest, "s/"), "/")
		s.serveSession(w, r, base, sid, view)
	default:
		s.serveLink(w, r, base, rest)
	}
}

// PlainPath reports whether a mount prefix holds only letters, digits and
// "/_.~-": no escapes, nothing a decoder could turn into something else.
// The bank's router applies the same rule to the prefix of its API.
func PlainPath(p string) bool {
	for _, c := range p {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/_.~-", c)) {
			return false
		}
	}
	return true
}

func (s *Site) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	if name != "h5.css" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(s.css)
}

// serveLink is GET /h5/{page}?...: verify the link, start the session,
// and send the browser to it.
func (s *Site) serveLink(w http.ResponseWriter, r *http.Request, base, name string) {
	// GET only: opening a link spends it, and a HEAD (a link preview, a
	// checker) must not use up the user's single visit.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		s.renderError(w, base, &linkError{kind: errMethod})
		return
	}
	l, lerr := s.verifyLink(name, r.URL.RawQuery)
	if lerr != nil {
		// The query is not logged: it is the merchant's signed link, and
		// nothing in it is needed to explain the refusal.
		s.log.Info("sandbox: h5 link refused", "page", name, "reason", lerr.kind, "field", lerr.field)
		s.renderError(w, base, lerr)
		return
	}
	sess, err := s.start(l, base)
	if err != nil {
		s.log.Info("sandbox: h5 link refused", "page", name, "reason", err.kind, "app_id", l.appID)
		s.renderError(w, base, err)
		return
	}
	s.log.Info("sandbox: h5 session started", "page", name, "app_id", l.appID)
	http.SetCookie(w, sess.cookie(r, sessionTTL))
	http.Redirect(w, r, sess.url(l.page.name), http.StatusSeeOther)
}

// serveSession is GET or POST /h5/s/{sid}/{view}.
func (s *Site) serveSession(w http.ResponseWriter, r *http.Request, base, sid, view string) {
	sess := s.sessions.get(sid, s.bank.Now())
	if sess == nil {
		s.renderError(w, base, &linkError{kind: errSession})
		return
	}
	c, err := r.Cookie(cookieName)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sess.bind)) != 1 {
		s.renderError(w, base, &linkError{kind: errSession})
		return
	}
	if view == "" {
		http.Redirect(w, r, sess.url(sess.link.page.name), http.StatusSeeOther)
		return
	}
	p := sess.allows(s.pages, view)
	if p == nil {
		s.renderError(w, base, &linkError{kind: errPage})
		return
	}
	// One step at a time per session: a double-clicked 确认支付 runs once and
	// the second post finds the flow over.
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.done {
		s.renderError(w, base, &linkError{kind: errSession})
		return
	}
	st := &step{s: s, w: w, r: r, sess: sess, page: p}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		st.show(nil)
	case http.MethodPost:
		s.post(st)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.renderError(w, base, &linkError{kind: errMethod})
	}
}

// view is everything a template may show. One type for every page keeps
// the templates simple; each page reads only its own fields.
type view struct {
	Title  string
	Assets string // the stylesheet's URL
	Action string // where the form posts
	Home   string // the wallet page of the session, for a flow opened from it

	Err    string // what went wrong with the last step, in Chinese
	Hint   string // what to do about it
	Notice string // what the last step did ("验证码已发送…")
	Flash  string // the outcome of a flow that returned to the wallet

	V       map[string]string // what the user typed, shown again (never a PIN)
	Account *accountView

	SMSTo     string // the masked mobile an SMS goes to
	SMSSent   bool
	FaceReady bool
	FaceLabel string

	AmountFixed bool   // the link fixed the amount: shown, not typed
	Amount      string // 元, formatted
	Subject     string
	OutTradeNo  string
	Links       map[string]string // wallet: the entries

	// The result and error pages.
	OK     bool
	Kind   string // error page: what failed, as a stable token
	Head   string
	Detail string
	Button string
}

// accountView is the account as the pages show it.
type accountView struct {
	NoMasked  string
	Status    string // NORMAL, FROZEN, CLOSED
	StatusCN  string
	Name      string // masked
	Balance   string // 元
	Available string // 元
	BankName  string
	CardNo    string // masked
	Open      bool   // NORMAL: money may move
}

// render writes a template with the security headers every H5 response
// has. formTo is the origin the page's form may send the browser to
// besides the bank itself (the merchant's return_url), "" for none.
func (s *Site) render(w http.ResponseWriter, status int, tmpl string, v *view, formTo string) {
	var buf bytes.Buffer
	if err := s.tmpl[tmpl].ExecuteTemplate(&buf, "layout", v); err != nil {
		// Only a template bug gets here: the data are plain strings.
		s.log.Error("sandbox: h5 template failed", "template", tmpl, "err", err)
		http.Error(w, "页面出错", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	formAction := "'self'"
	if formTo != "" {
		formAction += " " + formTo
	}
	// No script at all; the form may post to the bank and, through the
	// bank's 303, land on the merchant's return_url, which form-action must
	// allow as Chrome applies it to the redirect too.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action "+formAction+"; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Balances and forms are personal: never from a cache, and the session
	// URL never leaves in a Referer.
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func assetsURL(base string) string { return base + "/h5/assets/h5.css" }

// viewURL is a view of a session, under the bank's mount prefix.
func viewURL(base, sid, view string) string {
	return path.Join(base+"/h5/s", sid, view)
}

// cspOrigin is the origin of a verified return_url as a CSP source, or ""
// when its host holds a character that could break out of the header.
func cspOrigin(returnURL string) string {
	u, err := url.Parse(returnURL)
	if err != nil || u.Host == "" {
		return ""
	}
	for _, c := range u.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	return u.Scheme + "://" + u.Host
}

// --- errors ----------------------------------------------------------------

// linkError is a refused link or a lost session: the error page, never the
// flow.
type linkError struct {
	kind  string
	field string // errParam: which field (one of the protocol's), "" for one the page does not know
	why   string // errParam: what is wrong with it, in Chinese
}

// The kinds of linkError; the error page carries the kind as data-error so
// that tests and support can tell them apart without reading Chinese.
const (
	errExpired   = "expired"
	errEarly     = "not_yet_valid"
	errReused    = "reused"
	errSignature = "signature"
	errParam     = "param"
	errMerchant  = "merchant"
	errPage      = "page"
	errAccount   = "account"
	errSession   = "session"
	errMethod    = "method"
)

func (e *linkError) Error() string { return "h5 " + e.kind + " " + e.field }

// status is 404 for an unknown page, 400 for a malformed link, 403 for a
// link or session the bank will not honour.
func (e *linkError) status() int {
	switch e.kind {
	case errPage:
		return http.StatusNotFound
	case errParam:
		return http.StatusBadRequest
	case errMethod:
		return http.StatusMethodNotAllowed
	}
	return http.StatusForbidden
}

// text is the page's heading and explanation: the bank's own words, with
// at most the name of a protocol field.
func (e *linkError) text() (head, detail string) {
	switch e.kind {
	case errExpired:
		return "链接已过期", "链接自生成起10分钟内有效，已超过有效期。"
	case errEarly:
		return "链接尚未生效", "链接的生成时间晚于银行时间5分钟以上，请检查商户服务器的时钟。"
	case errReused:
		return "链接已被使用", "为保障您的资金安全，每个链接只能打开一次。"
	case errSignature:
		return "链接签名无效或已被篡改", "链接内容与商户签名不符，为保障您的资金安全，已停止办理。"
	case errParam:
		if e.field == "" {
			return "参数错误", e.why + "。"
		}
		return "参数错误", "参数 " + e.field + " " + e.why + "。"
	case errMerchant:
		return "商户无效", "商户不存在，或商户号与应用不匹配。"
	case errPage:
		return "页面不存在", "没有这个页面。"
	case errAccount:
		return "账户不存在", "该电子账户不存在，或不属于此商户。"
	case errSession:
		return "页面已失效", "本次办理已结束或已超过30分钟。"
	case errMethod:
		return "请求方式错误", "请从商户应用打开此页面。"
	}
	return "出错了", "请稍后再试。"
}

func (s *Site) renderError(w http.ResponseWriter, base string, e *linkError) {
	head, detail := e.text()
	s.render(w, e.status(), "error", &view{Title: "安全提示", Assets: assetsURL(base), Kind: e.kind, Head: head, Detail: detail}, "")
}

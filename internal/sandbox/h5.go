package sandbox

// The bank-hosted H5 pages of PROTOCOL.md section 9.
//
// Routes (all under /h5/, after any mount prefix):
//
//	GET  /h5/{page}?{signed link}   verify the link; on success start a session
//	                                and 303 to the session's page
//	GET  /h5/s/{sid}/{view}         the session's page (a form, or a result)
//	POST /h5/s/{sid}/{view}         one step of the flow (send SMS, submit, cancel…)
//	GET  /h5/assets/{file}          the embedded stylesheet
//
// The signed link is used exactly once, to start the session: its nonce is
// spent then, and everything after runs on the session, so that a reload or
// a second form post never needs the link again. The session id is in the
// path and a second random value, bound to it, is in an HttpOnly cookie
// scoped to that path: a session URL that leaks (history, a screenshot) is
// useless without the cookie, and two sessions in one browser do not
// collide. Pages are plain HTML forms that post back, without JavaScript,
// which is what works in every webview and under a test browser.

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// h5Assets holds the page templates and the stylesheet. Read-only: embedded
// at build time.
//
//go:embed h5assets
var h5Assets embed.FS

// h5Views are the templates, one per view: the eight pages of section 9,
// the result page of a flow that ended in failure, and the error page.
func h5Views() []string {
	return []string{"open", "wallet", "recharge", "withdraw", "pay", "card", "password", "close", "result", "error"}
}

// h5Site is the H5 part of one Bank: its templates, sessions and spent
// nonces. Created once per Bank by New.
type h5Site struct {
	b        *Bank
	core     *core
	tmpl     map[string]*template.Template
	css      []byte
	testFace []byte // the built-in colour face of the 使用测试人脸 button
	sessions *h5Sessions
	nonces   *h5Nonces
}

func newH5Site(b *Bank) (*h5Site, error) {
	s := &h5Site{b: b, core: b.core, tmpl: map[string]*template.Template{},
		sessions: newH5Sessions(), nonces: newH5Nonces()}
	for _, v := range h5Views() {
		t, err := template.New(v).ParseFS(h5Assets, "h5assets/layout.html", "h5assets/parts.html", "h5assets/"+v+".html")
		if err != nil {
			return nil, fmt.Errorf("sandbox: H5 template %s: %w", v, err)
		}
		s.tmpl[v] = t
	}
	css, err := fs.ReadFile(h5Assets, "h5assets/h5.css")
	if err != nil {
		return nil, fmt.Errorf("sandbox: H5 stylesheet: %w", err)
	}
	s.css = css
	s.testFace = h5TestFace()
	return s, nil
}

// h5TestFace is a 96×96 colour PNG that passes the sandbox face check: a
// warm oval on a blue ground, so that it also looks like a face placeholder.
func h5TestFace() []byte {
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

// serve routes one request under /h5/. base is the mount prefix ("" or
// "/bank"), sub the path from /h5/ on.
func (s *h5Site) serve(w http.ResponseWriter, r *http.Request, base, sub string) {
	if !plainPath(base) {
		// The prefix goes into redirects, cookie paths and page links: a
		// real mount prefix is plain, anything else is not the bank's.
		http.NotFound(w, r)
		return
	}
	rest := strings.TrimPrefix(sub, "/h5/")
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

func (s *h5Site) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
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
func (s *h5Site) serveLink(w http.ResponseWriter, r *http.Request, base, page string) {
	// GET only: opening a link spends it, and a HEAD (a link preview, a
	// checker) must not use up the user's single visit.
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		s.renderError(w, base, &h5Error{kind: h5ErrMethod})
		return
	}
	link, lerr := s.verifyLink(page, r.URL.RawQuery)
	if lerr != nil {
		// The query is not logged: it is the merchant's signed link, and
		// nothing in it is needed to explain the refusal.
		s.b.log.Info("sandbox: h5 link refused", "page", page, "reason", lerr.kind, "field", lerr.field)
		s.renderError(w, base, lerr)
		return
	}
	sess, err := s.start(link, base)
	if err != nil {
		s.b.log.Info("sandbox: h5 link refused", "page", page, "reason", err.kind, "app_id", link.appID)
		s.renderError(w, base, err)
		return
	}
	s.b.log.Info("sandbox: h5 session started", "page", page, "app_id", link.appID)
	http.SetCookie(w, sess.cookie(r, h5SessionTTL))
	http.Redirect(w, r, sess.url(sess.link.page), http.StatusSeeOther)
}

// serveSession is GET or POST /h5/s/{sid}/{view}.
func (s *h5Site) serveSession(w http.ResponseWriter, r *http.Request, base, sid, view string) {
	sess := s.sessions.get(sid, s.b.now())
	if sess == nil {
		s.renderError(w, base, &h5Error{kind: h5ErrSession})
		return
	}
	c, err := r.Cookie(h5CookieName)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), []byte(sess.bind)) != 1 {
		s.renderError(w, base, &h5Error{kind: h5ErrSession})
		return
	}
	if view == "" {
		http.Redirect(w, r, sess.url(sess.link.page), http.StatusSeeOther)
		return
	}
	if !sess.allows(view) {
		s.renderError(w, base, &h5Error{kind: h5ErrPage})
		return
	}
	// One step at a time per session: a double-clicked 确认支付 runs once and
	// the second post finds the flow over.
	sess.mu.Lock()
	defer sess.mu.Unlock()
	if sess.done {
		s.renderError(w, base, &h5Error{kind: h5ErrSession})
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.show(w, sess, view, nil)
	case http.MethodPost:
		s.post(w, r, sess, view)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.renderError(w, base, &h5Error{kind: h5ErrMethod})
	}
}

// h5View is everything a template may show. One type for every view keeps
// the templates simple; each view reads only its own fields.
type h5View struct {
	Title  string
	Assets string // the stylesheet's URL
	Action string // where the form posts
	Home   string // the wallet page of the session, for a flow opened from it

	Err    string // what went wrong with the last step, in Chinese
	Hint   string // what to do about it
	Notice string // what the last step did ("验证码已发送…")
	Flash  string // the outcome of a flow that returned to the wallet

	V       map[string]string // what the user typed, shown again (never a PIN)
	Account *h5Account

	SMSTo     string // the masked mobile an SMS goes to
	SMSSent   bool
	FaceReady bool
	FaceLabel string

	AmountFixed bool   // pay: the merchant fixed the amount
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

// h5Account is the account as the pages show it.
type h5Account struct {
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

// render writes a view with the security headers every H5 response has.
// formTo is the origin the page's form may send the browser to besides the
// bank itself (the merchant's return_url), "" for none.
func (s *h5Site) render(w http.ResponseWriter, status int, view string, v *h5View, formTo string) {
	var buf bytes.Buffer
	if err := s.tmpl[view].ExecuteTemplate(&buf, "layout", v); err != nil {
		// Only a template bug gets here: the data are plain strings.
		s.b.log.Error("sandbox: h5 template failed", "view", view, "err", err)
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

func (s *h5Site) assets(base string) string { return base + "/h5/assets/h5.css" }

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

// h5Error is a refused link or a lost session: the error page, never the
// flow.
type h5Error struct {
	kind  string
	field string // h5ErrParam: which field
	why   string // h5ErrParam: what is wrong with it, in Chinese
}

// The kinds of h5Error; the error page carries the kind as data-error so
// that tests and support can tell them apart without reading Chinese.
const (
	h5ErrExpired   = "expired"
	h5ErrEarly     = "not_yet_valid"
	h5ErrReused    = "reused"
	h5ErrSignature = "signature"
	h5ErrParam     = "param"
	h5ErrMerchant  = "merchant"
	h5ErrPage      = "page"
	h5ErrAccount   = "account"
	h5ErrSession   = "session"
	h5ErrMethod    = "method"
)

func (e *h5Error) Error() string { return "h5 " + e.kind + " " + e.field }

// status is 404 for an unknown page, 400 for a malformed link, 403 for a
// link or session the bank will not honour.
func (e *h5Error) status() int {
	switch e.kind {
	case h5ErrPage:
		return http.StatusNotFound
	case h5ErrParam:
		return http.StatusBadRequest
	case h5ErrMethod:
		return http.StatusMethodNotAllowed
	}
	return http.StatusForbidden
}

// text is the page's heading and explanation.
func (e *h5Error) text() (head, detail string) {
	switch e.kind {
	case h5ErrExpired:
		return "链接已过期", "链接自生成起10分钟内有效，已超过有效期。"
	case h5ErrEarly:
		return "链接尚未生效", "链接的生成时间晚于银行时间5分钟以上，请检查商户服务器的时钟。"
	case h5ErrReused:
		return "链接已被使用", "为保障您的资金安全，每个链接只能打开一次。"
	case h5ErrSignature:
		return "链接签名无效或已被篡改", "链接内容与商户签名不符，为保障您的资金安全，已停止办理。"
	case h5ErrParam:
		return "参数错误", "参数 " + e.field + " " + e.why + "。"
	case h5ErrMerchant:
		return "商户无效", "商户不存在，或商户号与应用不匹配。"
	case h5ErrPage:
		return "页面不存在", "没有这个页面。"
	case h5ErrAccount:
		return "账户不存在", "该电子账户不存在，或不属于此商户。"
	case h5ErrSession:
		return "页面已失效", "本次办理已结束或已超过30分钟。"
	case h5ErrMethod:
		return "请求方式错误", "请从商户应用打开此页面。"
	}
	return "出错了", "请稍后再试。"
}

func (s *h5Site) renderError(w http.ResponseWriter, base string, e *h5Error) {
	head, detail := e.text()
	s.render(w, e.status(), "error", &h5View{Title: "安全提示", Assets: s.assets(base), Kind: e.kind, Head: head, Detail: detail}, "")
}

// --- the return redirect ---------------------------------------------------

// Flow results (section 9).
const (
	h5Success   = "SUCCESS"
	h5Failed    = "FAILED"
	h5Cancelled = "CANCELLED"
)

// h5ReturnPath is what the return signature covers (section 2).
const h5ReturnPath = "/return"

// returnURL is the merchant's return_url with the signed result added:
// page, result, out_trade_no or account_no, timestamp, sign_key_id,
// sign_type and sign, the bank's signature over canonical("/return", those
// fields). The merchant's own query parameters stay as they were, byte for
// byte; one that has the name of a signed field is replaced, so that the
// redirect never carries a field twice.
func (s *h5Site) returnURL(returnURL, page, result, outTradeNo, accountNo string) (string, error) {
	u, err := url.Parse(returnURL)
	if err != nil {
		return "", err
	}
	keyID, key := s.b.keys.signer()
	f := map[string]string{
		"page":         page,
		"result":       result,
		"out_trade_no": outTradeNo,
		"account_no":   accountNo,
		"timestamp":    formatTime(s.b.now()),
		"sign_key_id":  keyID,
		"sign_type":    "SM2",
	}
	sig, err := sign.SignCanonical(context.Background(), key, h5ReturnPath, f)
	if err != nil {
		return "", err
	}
	q := url.Values{"sign": {sig}}
	for k, v := range f {
		if v != "" {
			q.Set(k, v)
		}
	}
	var kept []string
	if u.RawQuery != "" {
		for _, part := range strings.Split(u.RawQuery, "&") {
			name, _, _ := strings.Cut(part, "=")
			n, err := url.QueryUnescape(name)
			if err != nil {
				n = name
			}
			// Every name the merchant reads as signed goes, even one this
			// return leaves empty (account_no of a pay): a merchant's
			// account_no=… would otherwise join the verified fields.
			if _, signed := f[n]; signed || n == "sign" {
				continue
			}
			kept = append(kept, part)
		}
	}
	u.RawQuery = strings.Join(append(kept, q.Encode()), "&")
	u.ForceQuery = false
	return u.String(), nil
}

// finish ends a session and sends the browser back to the merchant.
func (s *h5Site) finish(w http.ResponseWriter, r *http.Request, sess *h5Session, result string) {
	l := sess.link
	var outTradeNo, accountNo string
	switch l.page {
	case "recharge", "withdraw", "pay":
		outTradeNo = sess.outTradeNo
	default:
		accountNo = sess.accountNo // open: set only once the account exists
	}
	to, err := s.returnURL(l.returnURL, l.page, result, outTradeNo, accountNo)
	if err != nil {
		// return_url was verified when the session began and the signing
		// key is the bank's own: only a failing random source gets here.
		s.b.log.Error("sandbox: h5 return not signed", "err", err)
		http.Error(w, "银行系统繁忙，请稍后再试", http.StatusInternalServerError)
		return
	}
	sess.done = true
	s.sessions.remove(sess.id)
	http.SetCookie(w, sess.cookie(r, -1))
	s.b.log.Info("sandbox: h5 flow ended", "page", l.page, "result", result, "app_id", l.appID)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// viewURL is a view of a session, under the bank's mount prefix.
func viewURL(base, sid, view string) string {
	return path.Join(base+"/h5/s", sid, view)
}

// h5SessionTTL is how long a session lives after its link was opened.
const h5SessionTTL = 30 * time.Minute

// h5CookieName holds the session's binding value; its Path is the session's
// own URL, so each session has its own cookie.
const h5CookieName = "h5_bind"

package main

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// assets are the app's templates and static files, embedded so that the
// binary is all it needs.
//
//go:embed templates static
var assets embed.FS

// views are the app's pages: each template of templates/ with the layout.
type views struct {
	pages map[string]*template.Template
	files http.Handler // static/
}

func newViews() (*views, error) {
	funcs := template.FuncMap{
		"yuan":     yuan,
		"clock":    func(t time.Time) string { return inZone(t, "15:04:05") },
		"datetime": func(t time.Time) string { return inZone(t, "2006-01-02 15:04:05") },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	v := &views{pages: map[string]*template.Template{}, files: http.StripPrefix("/static/", http.FileServerFS(sub))}
	for _, f := range files {
		name := path.Base(f)
		if name == "layout.html" || name == "parts.html" {
			continue
		}
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(assets, f); err != nil {
			return nil, err
		}
		v.pages[strings.TrimSuffix(name, ".html")] = t
	}
	return v, nil
}

// static serves the CSS and the script.
func (v *views) static() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		v.files.ServeHTTP(w, r)
	})
}

// page is what every template gets.
type page struct {
	Title  string
	Back   string    // the back link, "" for none
	User   *userView // the signed-in user, nil for none
	Events string    // "" for a page without live updates, else the stream's URL
	Page   string    // the page's name, in <body data-page>
	Flash  string
	Data   any
}

// userView is the signed-in user as the pages show them: their own name in
// clear (it is theirs), everything else masked.
type userView struct {
	ID      string
	Name    string
	Initial string // for the avatar
	Mobile  string // masked
}

func viewUser(u *user) *userView {
	if u == nil {
		return nil
	}
	name := string(u.Person.Name)
	return &userView{ID: u.ID, Name: name, Initial: first(name), Mobile: u.Person.Mobile.String()}
}

// first is the first character of s.
func first(s string) string {
	for _, c := range s {
		return string(c)
	}
	return ""
}

// render writes a page with the app's security headers. A template error
// is the app's bug: it is logged and answered 500 before anything is
// written.
func (a *app) render(w http.ResponseWriter, status int, name string, p page) {
	t, ok := a.views.pages[name]
	if !ok {
		a.log.Error("merchant-app: no template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.Page = name
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		a.log.Error("merchant-app: template", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	a.headers(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// headers are sent with every page. Scripts, styles, images and the event
// stream come from the app's own origin only, nothing inline; forms post to
// the app, whose answer may redirect them to the bank's pages (Chromium
// applies form-action to the redirect too). No page may be framed, cached
// (they show balances and personal data) or leak its URL as a referrer.
func (a *app) headers(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "+
		"form-action 'self' "+a.bankOrigin+"; base-uri 'none'; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
}

// fail shows an error page.
func (a *app) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	a.render(w, status, "error", page{Title: "出错了", Back: "/", User: viewUser(a.signedIn(r)), Data: msg})
}

// sessions maps a session cookie to a user id. The app has no real
// sign-in: picking a test user is enough.
type sessions struct {
	mu   sync.Mutex
	byID map[string]string
}

func newSessions() *sessions { return &sessions{byID: map[string]string{}} }

const sessionCookie = "merchant_session"

// signedIn is the user of the request's session, or nil.
func (a *app) signedIn(r *http.Request) *user {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	a.sessions.mu.Lock()
	id := a.sessions.byID[c.Value]
	a.sessions.mu.Unlock()
	u, ok := a.books.user(id)
	if !ok {
		return nil
	}
	return u
}

// mustSignIn is signedIn, or a redirect to the sign-in page.
func (a *app) mustSignIn(w http.ResponseWriter, r *http.Request) *user {
	u := a.signedIn(r)
	if u == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
	return u
}

func (a *app) signIn(w http.ResponseWriter, r *http.Request) {
	u, ok := a.books.user(r.PostFormValue("user"))
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "没有这个用户")
		return
	}
	sid := randomHex(16)
	a.sessions.mu.Lock()
	a.sessions.byID[sid] = u.ID
	a.sessions.mu.Unlock()
	// Lax: the cookie comes along when the bank's page sends the user back
	// to the return URL (a top-level GET), and never with another site's
	// POST.
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	a.log.Info("merchant-app: signed in", "user", u.ID)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) signOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		a.sessions.mu.Lock()
		delete(a.sessions.byID, c.Value)
		a.sessions.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// sameOrigin refuses a form POST another site made the browser send, as
// Go 1.25's http.CrossOriginProtection does (this example builds with Go
// 1.24): a browser's Sec-Fetch-Site must say same-origin (or none: typed by
// the user); without it, an Origin must be the app's. Requests with
// neither (the bank's notifications, programs) pass. The pages' referrer
// policy makes Chromium send "Origin: null" with their own forms, which is
// why Sec-Fetch-Site comes first. The pad's POST is JSON, which no other
// site can send without the app's consent.
func sameOrigin(self string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && !sameOriginRequest(self, r) {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func sameOriginRequest(self string, r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
		o := r.Header.Get("Origin")
		return o == "" || o == self
	}
	return false
}

// yuan writes fen as yuan with two decimals: 12345 is "123.45".
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// maxYuan is the largest amount the forms take: ¥10,000,000.00, far above
// any limit (docs/protocol.md, section 8), far below int64.
const maxYuan = 10_000_000

// parseYuan reads an amount typed in yuan — digits, and at most two
// decimals — as fen. It must be more than zero.
func parseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || len(whole) > 8 || (dot && (frac == "" || len(frac) > 2)) || !digits(whole) || !digits(frac) {
		return 0, errors.New("请输入金额，如 12.50")
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w > maxYuan {
		return 0, errors.New("金额过大")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	fen := w*100 + f
	if fen <= 0 {
		return 0, errors.New("金额须大于 0")
	}
	return fen, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// inZone formats a time in UTC+8, the zone of the bank and its users; ""
// for the zero time.
func inZone(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.In(businessZone()).Format(layout)
}

// origin is scheme://host of a URL.
func origin(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b)
}

package h5site

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
)

// Input is what a user does on a page, for Complete. A field the page does
// not ask for is an error, so that a test cannot believe it typed a PIN on
// a page that takes none.
type Input struct {
	// PIN is what the user types as the PIN: the account's on withdraw,
	// pay, card and close; the new one (typed twice) on open and password.
	PIN string
	// Amount in fen, on a recharge or withdraw page whose link sets no
	// amount (a link's amount is the flow's and cannot be typed over).
	Amount int64
	// SMSCode is the code typed after 发送验证码; "" types the sandbox's
	// 123456.
	SMSCode string
	// Name, IDNumber, Mobile and CardNo fill the form where the page asks
	// for them: on open over the link's prefill; on card the new card and
	// its mobile; on password the holder's IDNumber.
	Name, IDNumber, Mobile, CardNo string
	// Face is the photo uploaded on open and password (JPEG or PNG); nil
	// presses 使用测试人脸.
	Face []byte
	// Cancel presses the page's cancel button instead of completing it.
	Cancel bool
}

// PageError is what the bank showed instead of going on: an error page for
// the link or the session (Kind is the page's data-error: expired, reused,
// signature, param, merchant, page, account, session, method), or a step
// the page refused (Kind "step": a wrong PIN, a wrong SMS code, too little
// money...). Message is what the user reads. After a refused step the
// flow has not ended: its session stays until it expires.
type PageError struct {
	Page    string // the page, "" when the link was refused
	Kind    string
	Message string
}

// Error says which page refused what, and the page's own words.
func (e *PageError) Error() string {
	if e.Page == "" {
		return "h5: link refused (" + e.Kind + "): " + e.Message
	}
	return "h5: page " + e.Page + " refused the step (" + e.Kind + "): " + e.Message
}

// Complete does on an H5 page what a user with in would do, through the
// pages' own HTTP handlers and exactly as a browser without JavaScript
// does: it GETs the signed link on h (the bank), follows the redirect to
// the session page with its cookie, and POSTs the page's forms — 发送验证码,
// 使用测试人脸 or the photo, then the main button (or 取消) — with every
// field the page's form holds. It returns the URL the bank finally
// redirects to: the merchant's return_url with the signed result. A flow
// that fails for good (a locked PIN, a frozen account) ends FAILED like a
// user pressing 返回商户 on its result page.
//
// link is an absolute URL or a path with its query; its host is ignored.
func Complete(ctx context.Context, h http.Handler, link string, in Input) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("h5: link: %w", err)
	}
	b := &robot{ctx: ctx, h: h}
	res := b.do(http.MethodGet, u.RequestURI(), "", nil)
	if res.Code != http.StatusSeeOther {
		return "", errorPage("", res)
	}
	sessionURL := res.Header().Get("Location")
	for _, c := range res.Result().Cookies() {
		if c.Name == cookieName {
			b.cookie = c
		}
	}
	name := sessionURL[strings.LastIndex(sessionURL, "/")+1:]
	p := pageTable()[name]
	if p == nil || b.cookie == nil {
		return "", fmt.Errorf("h5: the link led to %q, not a page", sessionURL)
	}
	if err := in.fits(p); err != nil {
		return "", err
	}
	res = b.do(http.MethodGet, sessionURL, "", nil)
	if res.Code != http.StatusOK {
		return "", errorPage(name, res)
	}
	f, err := readForm(res.Body.String())
	if err != nil {
		return "", err
	}

	if in.Cancel {
		return b.submit(p, f, "cancel", nil)
	}
	if p.name == "wallet" {
		return b.submit(p, f, "return", nil)
	}
	fill := map[string]string{"name": in.Name, "id_number": in.IDNumber, "mobile": in.Mobile, "card_no": in.CardNo}
	for k, v := range fill {
		if _, asks := f.values[k]; asks && v != "" {
			f.values[k] = v
		}
	}
	if in.Amount > 0 {
		if f.readonly["amount"] {
			return "", fmt.Errorf("h5: the link fixes the amount at ¥%s: the user cannot type another", f.values["amount"])
		}
		f.values["amount"] = yuan(in.Amount)
	}
	if p.scene != "" {
		f.values["sms_code"] = cmpOr(in.SMSCode, "123456")
		if f, err = b.step(p, f, "sms", nil); err != nil {
			return "", err
		}
	}
	if p.face && in.Face == nil {
		if f, err = b.step(p, f, "testface", nil); err != nil {
			return "", err
		}
	}
	switch p.pin {
	case accountPIN:
		f.values["pin"] = in.PIN
	case newPIN:
		f.values["pin"], f.values["pin2"] = in.PIN, in.PIN
	}
	return b.submit(p, f, "submit", in.Face)
}

// fits refuses input the page does not ask for.
func (in Input) fits(p *page) error {
	switch {
	case in.PIN != "" && p.pin == noPIN:
		return fmt.Errorf("h5: page %s asks for no PIN", p.name)
	case in.Amount != 0 && p.amount != linkOrTyped:
		return fmt.Errorf("h5: page %s asks for no amount", p.name)
	case in.Amount < 0:
		return errors.New("h5: a negative amount")
	case in.Face != nil && !p.face:
		return fmt.Errorf("h5: page %s asks for no face photo", p.name)
	case in.SMSCode != "" && p.scene == "":
		return fmt.Errorf("h5: page %s sends no SMS", p.name)
	case in.Cancel && !p.cancel:
		return fmt.Errorf("h5: page %s has no cancel button: its way out is 返回商户", p.name)
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// robot is the browser of Complete: one session cookie, requests served
// in process.
type robot struct {
	ctx    context.Context
	h      http.Handler
	cookie *http.Cookie
}

func (b *robot) do(method, target, contentType string, body []byte) *httptest.ResponseRecorder {
	req, err := http.NewRequestWithContext(b.ctx, method, "http://127.0.0.1"+target, bytes.NewReader(body))
	rec := httptest.NewRecorder()
	if err != nil {
		rec.Code = http.StatusBadRequest
		return rec
	}
	req.RequestURI = target // the path as a browser sends it
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	b.h.ServeHTTP(rec, req)
	return rec
}

// post sends a form as the page's enctype says, with a photo in the face
// field when there is one.
func (b *robot) post(f *pageForm, action string, photo []byte) (*httptest.ResponseRecorder, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	values := map[string]string{"action": action}
	for k, v := range f.values {
		values[k] = v
	}
	if !f.multipart {
		q := url.Values{}
		for k, v := range values {
			q.Set(k, v)
		}
		return b.do(http.MethodPost, f.action, "application/x-www-form-urlencoded", []byte(q.Encode())), nil
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range values {
		if err := mw.WriteField(k, v); err != nil {
			return nil, err
		}
	}
	// A browser sends the file input even when no file was chosen: an
	// empty part, which the page takes as "no photo".
	fw, err := mw.CreateFormFile("face", "face.jpg")
	if err == nil {
		_, err = fw.Write(photo)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return nil, err
	}
	return b.do(http.MethodPost, f.action, mw.FormDataContentType(), buf.Bytes()), nil
}

// step posts an intermediate action (SMS, test face) and reads the page it
// shows next, which must show no error.
func (b *robot) step(p *page, f *pageForm, action string, photo []byte) (*pageForm, error) {
	res, err := b.post(f, action, photo)
	if err != nil {
		return nil, err
	}
	if res.Code != http.StatusOK {
		return nil, errorPage(p.name, res)
	}
	body := res.Body.String()
	if msg := alertText(body); msg != "" {
		return nil, &PageError{Page: p.name, Kind: "step", Message: msg}
	}
	next, err := readForm(body)
	if err != nil {
		return nil, err
	}
	// Keep what was typed but not shown again (never shown: a PIN).
	for k, v := range f.values {
		if _, ok := next.values[k]; !ok {
			next.values[k] = v
		}
	}
	return next, nil
}

// submit posts the page's final action and follows it to the merchant:
// the return URL, or the result page of a failed flow and then its 返回商户.
func (b *robot) submit(p *page, f *pageForm, action string, photo []byte) (string, error) {
	for range 2 {
		res, err := b.post(f, action, photo)
		if err != nil {
			return "", err
		}
		if res.Code == http.StatusSeeOther {
			loc := res.Header().Get("Location")
			if u, err := url.Parse(loc); err == nil && u.IsAbs() {
				return loc, nil
			}
			return "", fmt.Errorf("h5: page %s redirected within the bank to %s", p.name, loc)
		}
		if res.Code != http.StatusOK {
			return "", errorPage(p.name, res)
		}
		body := res.Body.String()
		if !strings.Contains(body, `value="finish"`) {
			return "", &PageError{Page: p.name, Kind: "step", Message: alertText(body)}
		}
		// The flow failed for good: the user leaves through 返回商户.
		if f, err = readForm(body); err != nil {
			return "", err
		}
		action, photo = "finish", nil
	}
	return "", fmt.Errorf("h5: page %s did not end", p.name)
}

// pageForm is the form of a page as a browser holds it.
type pageForm struct {
	action    string
	multipart bool
	values    map[string]string // the text inputs with their values
	readonly  map[string]bool   // inputs the user cannot change
}

var (
	formTag  = regexp.MustCompile(`<form method="post" action="([^"]+)"([^>]*)>`)
	inputTag = regexp.MustCompile(`<input ([^>]*)>`)
	attr     = regexp.MustCompile(`([a-z]+)="([^"]*)"`)
	alertDiv = regexp.MustCompile(`(?s)<div class="alert error" role="alert"><strong>(.*?)</strong>(?:<span>(.*?)</span>)?</div>`)
	errorSec = regexp.MustCompile(`(?s)data-error="([a-z_]+)">.*?<h2>(.*?)</h2>\s*<p>(.*?)</p>`)
)

// readForm reads the first form of a page and its text inputs, the way a
// browser would submit them (a PIN or a file input carries no value).
func readForm(body string) (*pageForm, error) {
	m := formTag.FindStringSubmatch(body)
	if m == nil {
		return nil, errors.New("h5: the page has no form")
	}
	f := &pageForm{action: html.UnescapeString(m[1]), multipart: strings.Contains(m[2], "multipart/form-data"),
		values: map[string]string{}, readonly: map[string]bool{}}
	end := strings.Index(body, "</form>")
	for _, in := range inputTag.FindAllStringSubmatch(body[:max(end, 0)], -1) {
		a := map[string]string{}
		for _, kv := range attr.FindAllStringSubmatch(in[1], -1) {
			a[kv[1]] = html.UnescapeString(kv[2])
		}
		switch a["type"] {
		case "password", "file":
			continue
		}
		if a["name"] != "" {
			f.values[a["name"]] = a["value"]
			f.readonly[a["name"]] = strings.Contains(in[1], " readonly")
		}
	}
	return f, nil
}

func alertText(body string) string {
	m := alertDiv.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(html.UnescapeString(m[1] + " " + m[2]))
}

// errorPage reads the bank's error page into a PageError.
func errorPage(name string, res *httptest.ResponseRecorder) error {
	body, _ := io.ReadAll(res.Body)
	m := errorSec.FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("h5: HTTP %d from the bank", res.Code)
	}
	return &PageError{Page: name, Kind: string(m[1]), Message: html.UnescapeString(string(m[2]) + "：" + string(m[3]))}
}

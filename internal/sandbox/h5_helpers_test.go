package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Like the API tests, these build links and check returns with the sign
// package alone, from PROTOCOL.md section 9, not with the SDK's h5 package.

// testReturnURL is where the pages send the browser back. Nothing listens
// there: the test browser stops at the redirect and reads it.
const testReturnURL = "http://127.0.0.1:9/back?from=h5test&keep=a%20b"

// h5Nonce is a fresh link nonce.
func h5Nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// linkFields are the fields of a link to page for the built-in merchant at
// the fixture's clock; extra adds or replaces fields ("" removes one).
func (f *fixture) linkFields(extra map[string]string) map[string]string {
	fields := map[string]string{
		"app_id": DefaultAppID, "merchant_id": DefaultMerchantID, "timestamp": formatTime(f.clock.Now()),
		"nonce": h5Nonce(), "sign_type": "SM2", "user_id": "u-1001", "return_url": testReturnURL,
	}
	for k, v := range extra {
		if v == "" {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	return fields
}

// signLink signs fields as the merchant does for signedPage and returns
// the link's path and query for page (normally the same page).
func signLink(t testing.TB, key *sign.PrivateKey, signedPage, page string, fields map[string]string) string {
	t.Helper()
	sig, err := sign.SignCanonical(context.Background(), key, "/h5/"+signedPage, fields)
	require.NoError(t, err)
	q := url.Values{}
	for k, v := range fields {
		q.Set(k, v)
	}
	q.Set("sign", sig)
	return "/h5/" + page + "?" + q.Encode()
}

// link is a signed link of the built-in merchant.
func (f *fixture) link(page string, extra map[string]string) string {
	return signLink(f.t, f.c.key, page, page, f.linkFields(extra))
}

// openData encrypts an open page's prefill to the bank key bank-2026-01
// with the link's nonce as AAD, and returns the fields that carry it.
func (f *fixture) openData(nonce string, prefill any) map[string]string {
	f.t.Helper()
	plain, err := json.Marshal(prefill)
	require.NoError(f.t, err)
	ek, ct, err := sign.Seal(f.c.bankKeys[DefaultBankKeyID], plain, nonce)
	require.NoError(f.t, err)
	return map[string]string{"nonce": nonce, "data": ct, "encrypt_type": "SM4-GCM", "encrypt_key": ek, "encrypt_key_id": DefaultBankKeyID}
}

// browser is a user agent without JavaScript: a cookie jar, redirects
// followed within the bank, and the redirect that leaves the bank kept
// (the return to the merchant).
type browser struct {
	t        testing.TB
	f        *fixture
	srv      *httptest.Server
	c        *http.Client
	returned *url.URL
	page     *page // the last page
}

type page struct {
	status int
	url    string // where the page was served from
	header http.Header
	body   string
}

func (f *fixture) browser() *browser {
	srv := httptest.NewServer(f.bank)
	f.t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(f.t, err)
	b := &browser{t: f.t, f: f, srv: srv}
	b.c = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != strings.TrimPrefix(srv.URL, "http://") {
			b.returned = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return b
}

func (b *browser) keep(resp *http.Response, err error) *page {
	b.t.Helper()
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	b.page = &page{status: resp.StatusCode, url: resp.Request.URL.String(), header: resp.Header, body: string(body)}
	return b.page
}

// open follows a link (a path and query on the bank).
func (b *browser) open(link string) *page {
	b.t.Helper()
	b.returned = nil
	return b.keep(b.c.Get(b.srv.URL + link))
}

// submit posts the last page's form with the button action and the fields.
func (b *browser) submit(action string, fields map[string]string) *page {
	b.t.Helper()
	b.returned = nil
	v := url.Values{"action": {action}}
	for k, x := range fields {
		v.Set(k, x)
	}
	return b.keep(b.c.PostForm(b.formAction(), v))
}

// upload posts the last page's form as multipart, with a face photo.
func (b *browser) upload(action string, fields map[string]string, photo []byte) *page {
	b.t.Helper()
	b.returned = nil
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(b.t, mw.WriteField("action", action))
	for k, x := range fields {
		require.NoError(b.t, mw.WriteField(k, x))
	}
	fw, err := mw.CreateFormFile("face", "face.jpg")
	require.NoError(b.t, err)
	_, _ = fw.Write(photo)
	require.NoError(b.t, mw.Close())
	return b.keep(b.c.Post(b.formAction(), mw.FormDataContentType(), &buf))
}

func (b *browser) formAction() string {
	b.t.Helper()
	require.NotNil(b.t, b.page, "no page")
	m := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(b.page.body)
	require.NotNil(b.t, m, "no form on the page:\n%s", b.page.body)
	return b.srv.URL + strings.ReplaceAll(m[1], "&amp;", "&")
}

// back is the verified return redirect: its signed fields, after checking
// the bank's signature over canonical("/return", fields) and that the
// merchant's own parameters came back untouched.
func (b *browser) back() map[string]string {
	b.t.Helper()
	require.NotNil(b.t, b.returned, "the flow did not return to the merchant; last page:\n%s", b.page.body)
	u := b.returned
	require.Equal(b.t, "127.0.0.1:9", u.Host)
	require.Equal(b.t, "/back", u.Path)
	require.True(b.t, strings.HasPrefix(u.RawQuery, "from=h5test&keep=a%20b&"), "the merchant's parameters come back as they were: %s", u.RawQuery)
	q := u.Query()
	fields := map[string]string{}
	for _, k := range []string{"page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type"} {
		require.LessOrEqual(b.t, len(q[k]), 1, k)
		if v := q.Get(k); v != "" {
			fields[k] = v
		}
	}
	key := b.f.c.bankKeys[fields["sign_key_id"]]
	require.NotNil(b.t, key, "sign_key_id names a bank key")
	require.NoError(b.t, key.VerifyCanonical("/return", fields, q.Get("sign")))
	require.Equal(b.t, "SM2", fields["sign_type"])
	require.Equal(b.t, formatTime(b.f.clock.Now()), fields["timestamp"], "returns are stamped with the real clock")
	return fields
}

// errorKind is the kind of error page shown, or "" for another page.
func (p *page) errorKind() string {
	m := regexp.MustCompile(`data-error="([a-z_]+)"`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// alert is the error message the page shows, or "".
func (p *page) alert() string {
	m := regexp.MustCompile(`(?s)<div class="alert error" role="alert">(.*?)</div>`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// notice is the information message the page shows, or "".
func (p *page) notice() string {
	m := regexp.MustCompile(`<div class="alert (?:info|ok)" role="status">(.*?)</div>`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

package h5site_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// These tests drive the pages with the sandbox bank behind them, as a user
// and a merchant would: links signed from docs/protocol.md section 9 with
// the sign package alone (not the SDK's h5 package), a browser without
// JavaScript, and the bank's exported methods. Accounts and money are made
// through the pages themselves (Bank.CompleteH5), so that these tests need
// no API client.

// testStart is the real-clock time the tests run at: 16:00 UTC+8, far from
// midnight, so that a flow never sees its business day turn over.
var testStart = time.Date(2026, 11, 25, 16, 0, 0, 0, wire.Shanghai)

// testReturnURL is where the pages send the browser back. Nothing listens
// there: the browser stops at the redirect and reads it.
const testReturnURL = "http://127.0.0.1:9/back?from=h5test&keep=a%20b"

const goodPIN = "135790"

// clock is a settable real clock shared by the bank and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a sandbox bank and its built-in test merchant.
type fixture struct {
	t        testing.TB
	bank     *sandbox.Bank
	clock    *clock
	key      *sign.PrivateKey
	bankKeys map[string]*sign.PublicKey
	seq      int
}

func newFixture(t testing.TB, opts ...func(*sandbox.Options)) *fixture {
	t.Helper()
	c := &clock{t: testStart}
	o := sandbox.Options{Now: c.Now, NotifyScale: 0.001, NotifyTimeout: 2 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	b, err := sandbox.New(o)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	key, err := sign.ParsePrivateKey([]byte(sandbox.DefaultMerchantKeyPEM))
	require.NoError(t, err)
	f := &fixture{t: t, bank: b, clock: c, key: key, bankKeys: map[string]*sign.PublicKey{}}
	for _, k := range b.Credentials().BankKeys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKeyPEM))
		require.NoError(t, err)
		f.bankKeys[k.KeyID] = pub
	}
	return f
}

// sameDay moves the business clock to the next 10:00 UTC+8: a test that
// counts on one business day (PIN tries, the verification limit) starts
// there, so that it never sees the day turn over, whenever it runs.
func (f *fixture) sameDay() {
	f.t.Helper()
	_, err := f.bank.AdvanceClockToNext(10, 0)
	require.NoError(f.t, err)
}

// nonce is a fresh link nonce.
func nonce() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// linkFields are the fields of a link for the built-in merchant at the
// fixture's clock; extra adds or replaces fields ("" removes one).
func (f *fixture) linkFields(extra map[string]string) map[string]string {
	fields := map[string]string{
		"app_id": sandbox.DefaultAppID, "merchant_id": sandbox.DefaultMerchantID, "timestamp": wire.Format(f.clock.Now()),
		"nonce": nonce(), "sign_type": "SM2", "user_id": "u-1001", "return_url": testReturnURL,
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
	return signLink(f.t, f.key, page, page, f.linkFields(extra))
}

// openData encrypts an open page's prefill to the bank key bank-2026-01
// with the link's nonce as AAD, and returns the fields that carry it.
func (f *fixture) openData(n string, prefill any) map[string]string {
	f.t.Helper()
	plain, err := json.Marshal(prefill)
	require.NoError(f.t, err)
	ek, ct, err := sign.Seal(f.bankKeys[sandbox.DefaultBankKeyID], plain, n)
	require.NoError(f.t, err)
	return map[string]string{"nonce": n, "data": ct, "encrypt_type": "SM4-GCM", "encrypt_key": ek, "encrypt_key_id": sandbox.DefaultBankKeyID}
}

// --- people, accounts and money, through the pages --------------------------

// person is a set of four factors.
type person struct {
	name, id, card, mobile string
}

func (p person) prefill() map[string]string {
	return map[string]string{"name": p.name, "id_number": p.id, "mobile": p.mobile, "card_no": p.card}
}

// idNumber builds a valid identity number born on birth (yyyymmdd).
func idNumber(birth string, n int) string {
	first := "110101" + birth + fmt.Sprintf("%03d", n%1000)
	return first + string(rules.IDCheckChar(first))
}

// cardNumber builds a valid 19-digit card number with a prefix.
func cardNumber(prefix string, n int) string {
	body := prefix + fmt.Sprintf("%0*d", 18-len(prefix), n)
	return body + string(rules.LuhnDigit(body))
}

// person makes a fresh adult with a debit card and a mobile that passes the
// sandbox's four-factor test data.
func (f *fixture) person() person {
	f.seq++
	n := f.seq
	return person{
		name:   "张三" + string(rune('甲'+n%10)),
		id:     idNumber("19900307", n),
		card:   cardNumber("6222", n),
		mobile: fmt.Sprintf("139%08d", n*10+1),
	}
}

func (f *fixture) orderNo() string {
	f.seq++
	return fmt.Sprintf("T%010d", f.seq)
}

// complete runs a flow with Bank.CompleteH5 and returns its verified
// return fields.
func (f *fixture) complete(link string, in sandbox.H5Input) map[string]string {
	f.t.Helper()
	to, err := f.bank.CompleteH5(context.Background(), link, in)
	require.NoError(f.t, err)
	return f.verifyReturn(to, sandbox.DefaultAppID, sandbox.DefaultMerchantID)
}

// openFor opens an account for p through the open page of a merchant.
func (f *fixture) openFor(key *sign.PrivateKey, appID, merchantID string, p person) string {
	f.t.Helper()
	n := nonce()
	extra := f.openData(n, p.prefill())
	extra["app_id"], extra["merchant_id"] = appID, merchantID
	link := signLink(f.t, key, "open", "open", f.linkFields(extra))
	to, err := f.bank.CompleteH5(context.Background(), link, sandbox.H5Input{PIN: goodPIN})
	require.NoError(f.t, err)
	back := f.verifyReturn(to, appID, merchantID)
	require.Equal(f.t, "SUCCESS", back["result"])
	return back["account_no"]
}

// newAccount opens an account for a fresh person.
func (f *fixture) newAccount() (string, person) {
	f.t.Helper()
	p := f.person()
	return f.openFor(f.key, sandbox.DefaultAppID, sandbox.DefaultMerchantID, p), p
}

// recharge adds fen to an account through the recharge page.
func (f *fixture) recharge(acct string, fen int64) {
	f.t.Helper()
	back := f.complete(f.link("recharge", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(),
		"amount": fmt.Sprint(fen)}), sandbox.H5Input{})
	require.Equal(f.t, "SUCCESS", back["result"])
}

// balance is the account's balance from its ledger.
func (f *fixture) balance(acct string) int64 {
	f.t.Helper()
	l, err := f.bank.Ledger(acct)
	require.NoError(f.t, err)
	if len(l) == 0 {
		return 0
	}
	return l[len(l)-1].BalanceAfter
}

// ledgerHas reports whether the account's ledger has an entry of typ for
// the order.
func (f *fixture) ledgerHas(acct, typ, outTradeNo string) bool {
	l, err := f.bank.Ledger(acct)
	require.NoError(f.t, err)
	for _, e := range l {
		if e.Type == typ && e.OutTradeNo == outTradeNo {
			return true
		}
	}
	return false
}

// verifyReturn checks a return redirect as the merchant must
// (docs/protocol.md, section 9): the bank's signature over exactly the
// signed fields, for this merchant, the merchant's own parameters back as
// they were. The query is split by hand: it may hold a ";" that
// url.ParseQuery refuses.
func (f *fixture) verifyReturn(to, appID, merchantID string) map[string]string {
	f.t.Helper()
	u, err := url.Parse(to)
	require.NoError(f.t, err)
	fields, sig := returnFields(f.t, u.RawQuery)
	key := f.bankKeys[fields["sign_key_id"]]
	require.NotNil(f.t, key, "sign_key_id names a bank key")
	require.NoError(f.t, key.VerifyCanonical("/return", fields, sig))
	require.Equal(f.t, "SM2", fields["sign_type"])
	require.Equal(f.t, appID, fields["app_id"])
	require.Equal(f.t, merchantID, fields["merchant_id"])
	require.Equal(f.t, wire.Format(f.clock.Now()), fields["timestamp"], "returns are stamped with the real clock")
	return fields
}

// returnFields splits a return query into the signed fields and sign; a
// signed name may appear once only.
func returnFields(t testing.TB, rawQuery string) (map[string]string, string) {
	t.Helper()
	fields := map[string]string{}
	sig := ""
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "app_id", "merchant_id", "page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type", "sign":
		default:
			continue // the merchant's own parameter
		}
		v, err := url.QueryUnescape(v)
		require.NoError(t, err)
		_, twice := fields[k]
		require.False(t, twice || (k == "sign" && sig != ""), "%s twice", k)
		if k == "sign" {
			sig = v
		} else {
			fields[k] = v
		}
	}
	return fields, sig
}

// --- a browser ---------------------------------------------------------------

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

// get loads a page of the bank.
func (b *browser) get(u string) *page {
	b.t.Helper()
	return b.keep(b.c.Get(u))
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

// back is the verified return redirect of the built-in merchant: its
// signed fields, after checking that the merchant's own parameters came
// back untouched.
func (b *browser) back() map[string]string {
	b.t.Helper()
	require.NotNil(b.t, b.returned, "the flow did not return to the merchant; last page:\n%s", b.page.body)
	u := b.returned
	require.Equal(b.t, "127.0.0.1:9", u.Host)
	require.Equal(b.t, "/back", u.Path)
	require.True(b.t, strings.HasPrefix(u.RawQuery, "from=h5test&keep=a%20b&"), "the merchant's parameters come back as they were: %s", u.RawQuery)
	return b.f.verifyReturn(u.String(), sandbox.DefaultAppID, sandbox.DefaultMerchantID)
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

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// --- images -----------------------------------------------------------------

// colourImage is a w×h gradient in colour: it passes the face check.
func colourImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 3), 160, 255})
		}
	}
	return img
}

// grayImage is a gray gradient, as an RGBA image (gray by content, not by
// colour model).
func grayImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x + y) * 2)
			img.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	return img
}

func jpegOf(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	return b.Bytes()
}

// --- notifications ------------------------------------------------------------

// receiver is the merchant's notification endpoint: it verifies each
// notification under the bank key it names, opens its biz_content with the
// merchant key, and answers SUCCESS.
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	mu  sync.Mutex
	got []notification
}

type notification struct {
	fields map[string]string
	biz    map[string]any
}

func (f *fixture) receiver() *receiver {
	r := &receiver{t: f.t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var fields map[string]string
		body, _ := io.ReadAll(req.Body)
		if json.Unmarshal(body, &fields) != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		key := f.bankKeys[fields["sign_key_id"]]
		if key == nil || key.VerifyCanonical("/notify", fields, fields["sign"]) != nil {
			http.Error(w, "bad signature", http.StatusBadRequest)
			return
		}
		plain, err := sign.Open(context.Background(), f.key, fields["encrypt_key"], fields["biz_content"], fields["notify_id"])
		var biz map[string]any
		if err != nil || json.Unmarshal(plain, &biz) != nil {
			http.Error(w, "bad biz_content", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, notification{fields: fields, biz: biz})
		r.mu.Unlock()
		_, _ = w.Write([]byte(`{"code":"SUCCESS"}`))
	}))
	f.t.Cleanup(r.srv.Close)
	return r
}

// waitFor waits until n notifications arrived and returns them.
func (r *receiver) waitFor(n int) []notification {
	r.t.Helper()
	var got []notification
	require.Eventually(r.t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		got = append([]notification(nil), r.got...)
		return len(got) >= n
	}, 5*time.Second, 5*time.Millisecond)
	return got
}

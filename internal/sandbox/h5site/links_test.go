package h5site_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// serveLink opens a link on the bank directly and returns the response.
func (f *fixture) serveLink(link string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, link, nil))
	return rec
}

// requireStarted: the link was accepted and the browser is sent to its
// session.
func requireStarted(t *testing.T, rec *httptest.ResponseRecorder, page string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.Regexp(t, `^/h5/s/[0-9a-f]{32}/`+page+`$`, loc)
	c := rec.Result().Cookies()
	require.Len(t, c, 1)
	require.Equal(t, "h5_bind", c[0].Name)
	require.True(t, c[0].HttpOnly)
	require.Equal(t, strings.TrimSuffix(loc, "/"+page), c[0].Path)
	require.Equal(t, http.SameSiteLaxMode, c[0].SameSite)
}

// requireRefused: the link got the error page of that kind, with its
// status, and nothing of a flow.
func requireRefused(t *testing.T, rec *httptest.ResponseRecorder, status int, kind, text string) {
	t.Helper()
	body := rec.Body.String()
	require.Equal(t, status, rec.Code, body)
	p := &page{body: body}
	require.Equal(t, kind, p.errorKind(), body)
	require.Contains(t, body, text)
	require.NotContains(t, body, "<form", "an error page never shows the flow")
	require.Empty(t, rec.Result().Cookies(), "a refused link starts no session")
	require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'none'")
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestH5LinkAccepted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	for _, tc := range []struct {
		page  string
		extra map[string]string
	}{
		{"open", nil},
		{"wallet", map[string]string{"account_no": acct}},
		{"recharge", map[string]string{"account_no": acct, "out_trade_no": f.orderNo()}},
		{"recharge", map[string]string{"account_no": acct, "amount": "10000", "out_trade_no": f.orderNo()}},
		{"withdraw", map[string]string{"account_no": acct, "amount": "1", "out_trade_no": f.orderNo()}},
		{"pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "990", "subject": "会员月卡 & 礼包"}},
		{"card", map[string]string{"account_no": acct}},
		{"password", map[string]string{"account_no": acct, "notify_url": "https://merchant.example/notify"}},
		{"close", map[string]string{"account_no": acct, "return_url": "https://merchant.example/back?x=1"}},
	} {
		requireStarted(t, f.serveLink(f.link(tc.page, tc.extra)), tc.page)
	}
}

func TestH5LinkWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	at := func(d time.Duration) map[string]string {
		return map[string]string{"account_no": acct, "timestamp": wire.Format(f.clock.Now().Add(d))}
	}
	// Valid from timestamp − 300 s to timestamp + 10 min, inclusive.
	requireStarted(t, f.serveLink(f.link("wallet", at(-10*time.Minute))), "wallet")
	requireStarted(t, f.serveLink(f.link("wallet", at(300*time.Second))), "wallet")
	requireRefused(t, f.serveLink(f.link("wallet", at(-10*time.Minute-time.Second))), http.StatusForbidden, "expired", "链接已过期")
	requireRefused(t, f.serveLink(f.link("wallet", at(301*time.Second))), http.StatusForbidden, "not_yet_valid", "链接尚未生效")

	// The window is on the real clock: a link that was fine goes stale.
	link := f.link("wallet", map[string]string{"account_no": acct})
	f.clock.Add(10*time.Minute + time.Second)
	requireRefused(t, f.serveLink(link), http.StatusForbidden, "expired", "链接已过期")
}

func TestH5LinkReused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	n := nonce()
	link := f.link("wallet", map[string]string{"account_no": acct, "nonce": n})
	// A HEAD (a link preview) does not use up the user's visit.
	rec := httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, link, nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	requireStarted(t, f.serveLink(link), "wallet")
	requireRefused(t, f.serveLink(link), http.StatusForbidden, "reused", "链接已被使用")
	// The nonce is spent for the app, whatever page the next link is for.
	requireRefused(t, f.serveLink(f.link("card", map[string]string{"account_no": acct, "nonce": n})),
		http.StatusForbidden, "reused", "链接已被使用")
	// A refused link does not spend its nonce: only a link that passed can.
	n = nonce()
	requireRefused(t, f.serveLink(f.link("wallet", map[string]string{"account_no": acct, "nonce": n, "return_url": "http://merchant.example/"})),
		http.StatusBadRequest, "param", "return_url")
	requireStarted(t, f.serveLink(f.link("wallet", map[string]string{"account_no": acct, "nonce": n})), "wallet")

	// A nonce is remembered as long as its link could be valid, and no
	// longer: after that the link is expired anyway.
	f.clock.Add(10*time.Minute + time.Second)
	requireRefused(t, f.serveLink(link), http.StatusForbidden, "expired", "链接已过期")
	requireStarted(t, f.serveLink(f.link("wallet", map[string]string{"account_no": acct})), "wallet")
}

func TestH5LinkTampered(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	other, _ := f.newAccount()
	order := f.orderNo()
	link := f.link("pay", map[string]string{"account_no": acct, "out_trade_no": order, "amount": "990", "subject": "月卡"})

	for name, bad := range map[string]string{
		"amount":         strings.Replace(link, "amount=990", "amount=9900", 1),
		"account":        strings.Replace(link, acct, other, 1),
		"field added":    link + "&notify_url=https%3A%2F%2Fevil.example%2Fn",
		"field removed":  strings.Replace(link, "&user_id=u-1001", "", 1),
		"no signature":   link[:strings.Index(link, "&sign=")] + link[strings.Index(link, "&sign_type"):],
		"other page":     strings.Replace(link, "/h5/pay?", "/h5/wallet?", 1),
		"garbage sign":   strings.Replace(link, "sign=", "sign=AAAA", 1),
		"other key sign": signLink(t, mustGenerate(t), "pay", "pay", f.linkFields(map[string]string{"account_no": acct, "out_trade_no": order, "amount": "990", "subject": "月卡"})),
	} {
		require.NotEqual(t, link, bad, name)
		rec := f.serveLink(bad)
		if name == "other page" {
			// The wallet page does not take the pay fields: the link is
			// refused before its signature is looked at.
			requireRefused(t, rec, http.StatusBadRequest, "param", "不是此页面的参数")
			continue
		}
		requireRefused(t, rec, http.StatusForbidden, "signature", "链接签名无效或已被篡改")
	}
	// Signed for one page, opened as another with the same fields.
	fields := f.linkFields(map[string]string{"account_no": acct})
	requireRefused(t, f.serveLink(signLink(t, f.key, "wallet", "close", fields)), http.StatusForbidden, "signature", "链接签名无效或已被篡改")
	// The untouched link still works: none of the above spent its nonce.
	requireStarted(t, f.serveLink(link), "pay")
}

func mustGenerate(t *testing.T) *sign.PrivateKey {
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	return k
}

func TestH5LinkMerchant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	otherKey := mustGenerate(t)
	require.NoError(t, f.bank.RegisterMerchant(sandbox.Merchant{AppID: "other-app", MerchantID: "M200000002", PublicKey: otherKey.Public()}))
	otherAcct := f.openFor(otherKey, "other-app", "M200000002", f.person())

	requireRefused(t, f.serveLink(f.link("wallet", map[string]string{"account_no": acct, "app_id": "no-such-app"})),
		http.StatusForbidden, "merchant", "商户无效")
	requireRefused(t, f.serveLink(f.link("wallet", map[string]string{"account_no": acct, "merchant_id": "M200000002"})),
		http.StatusForbidden, "merchant", "商户无效")
	// Another channel's account is as unknown as a missing one.
	requireRefused(t, f.serveLink(f.link("wallet", map[string]string{"account_no": otherAcct})),
		http.StatusForbidden, "account", "账户不存在")
	requireRefused(t, f.serveLink(f.link("pay", map[string]string{"account_no": "6236889999999999", "out_trade_no": f.orderNo(), "amount": "1", "subject": "s"})),
		http.StatusForbidden, "account", "账户不存在")
	// The other merchant's own link works, with its own key.
	fields := f.linkFields(map[string]string{"app_id": "other-app", "merchant_id": "M200000002", "account_no": otherAcct})
	requireStarted(t, f.serveLink(signLink(t, otherKey, "wallet", "wallet", fields)), "wallet")
}

func TestH5LinkParams(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	w := func(extra map[string]string) map[string]string {
		m := map[string]string{"account_no": acct}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		page  string
		extra map[string]string
		field string
	}{
		{"wallet", w(map[string]string{"return_url": "http://merchant.example/back"}), "return_url"},
		{"wallet", w(map[string]string{"return_url": "javascript:alert(1)"}), "return_url"},
		{"wallet", w(map[string]string{"return_url": ""}), "return_url"},
		{"wallet", w(map[string]string{"notify_url": "ftp://merchant.example/n"}), "notify_url"},
		{"wallet", w(map[string]string{"user_id": ""}), "user_id"},
		{"wallet", w(map[string]string{"user_id": "有空格 的"}), "user_id"},
		{"wallet", map[string]string{}, "account_no"},
		{"wallet", w(map[string]string{"account_no": "123"}), "account_no"},
		{"wallet", w(map[string]string{"amount": "100"}), "amount"},
		{"recharge", w(map[string]string{"out_trade_no": "T2026112501", "amount": "0"}), "amount"},
		{"recharge", w(map[string]string{"out_trade_no": "T2026112501", "amount": "1.5"}), "amount"},
		{"recharge", w(map[string]string{"out_trade_no": "T2026112501", "amount": "-5"}), "amount"},
		{"recharge", w(map[string]string{"out_trade_no": "T2026112501", "amount": "9007199254740992"}), "amount"},
		{"recharge", w(map[string]string{"out_trade_no": "T1"}), "out_trade_no"},
		// out_trade_no is required on recharge, withdraw and pay links
		// (docs/protocol.md, section 9).
		{"recharge", w(map[string]string{"amount": "5000"}), "out_trade_no"},
		{"recharge", w(nil), "out_trade_no"},
		{"withdraw", w(map[string]string{"amount": "5000"}), "out_trade_no"},
		{"pay", w(map[string]string{"amount": "1", "subject": "s"}), "out_trade_no"},
		{"pay", w(map[string]string{"out_trade_no": "T2026112501", "subject": "s"}), "amount"},
		{"pay", w(map[string]string{"out_trade_no": "T2026112501", "amount": "1", "subject": "a\x01b"}), "subject"},
		{"open", map[string]string{"account_no": acct}, "account_no"},
		{"wallet", w(map[string]string{"data": "abc"}), "data"},
		{"open", map[string]string{"data": "abc"}, "data"},
		{"open", map[string]string{"encrypt_type": "AES"}, "encrypt_type"},
	} {
		rec := f.serveLink(f.link(tc.page, tc.extra))
		requireRefused(t, rec, http.StatusBadRequest, "param", "参数 "+tc.field+" ")
	}
	// The envelope's own fields are checked before the merchant's key is
	// even looked up: they need no signature to be wrong.
	for field, value := range map[string]string{"nonce": "short", "sign_type": "RSA", "timestamp": "2026-11-25T16:00:00"} {
		requireRefused(t, f.serveLink(f.link("wallet", w(map[string]string{field: value}))), http.StatusBadRequest, "param", "参数 "+field+" ")
	}
	link := f.link("wallet", w(nil))
	requireRefused(t, f.serveLink(link+"&account_no=6236880000000009"), http.StatusBadRequest, "param", "重复出现")
	requireRefused(t, f.serveLink(link+"&%zz=1"), http.StatusBadRequest, "param", "参数 query ")
	// A field no page knows is refused without repeating its name: the
	// error page says only what the bank knows.
	rec := f.serveLink(link + "&zq%3C%E6%81%B6%26code%3DSUCCESS=1")
	requireRefused(t, rec, http.StatusBadRequest, "param", "链接含有此页面不接受的参数")
	require.NotContains(t, rec.Body.String(), "zq")
	require.NotContains(t, rec.Body.String(), "恶")
	requireRefused(t, f.serveLink("/h5/nothing?"+strings.SplitN(link, "?", 2)[1]), http.StatusNotFound, "page", "页面不存在")

	rec = httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, link, nil))
	requireRefused(t, rec, http.StatusMethodNotAllowed, "method", "请求方式错误")
}

func TestH5LinkData(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.person()
	prefill := map[string]string{"name": p.name, "id_number": p.id, "mobile": p.mobile, "card_no": p.card}

	n := nonce()
	data := f.openData(n, prefill)
	link := f.link("open", data)
	for _, secret := range []string{p.id, p.mobile, p.card} {
		require.NotContains(t, link, secret, "personal data never appears in clear in a link")
	}
	requireStarted(t, f.serveLink(link), "open")

	bad := func(change func(d map[string]string)) map[string]string {
		d := f.openData(nonce(), prefill)
		change(d)
		return d
	}
	for name, tc := range map[string]struct {
		data  map[string]string
		field string
	}{
		"ciphertext flipped": {bad(func(d map[string]string) {
			b := []byte(d["data"])
			b[20] ^= 1
			d["data"] = string(b)
		}), "data"},
		"other nonce (AAD)":        {bad(func(d map[string]string) { d["nonce"] = nonce() }), "data"},
		"envelope for another key": {bad(func(d map[string]string) { d["encrypt_key_id"] = sandbox.DefaultNextBankKeyID }), "data"},
		"unknown key id":           {bad(func(d map[string]string) { d["encrypt_key_id"] = "bank-1999-01" }), "encrypt_key_id"},
		"no envelope":              {bad(func(d map[string]string) { d["encrypt_key"] = "" }), "encrypt_key"},
		"no type":                  {bad(func(d map[string]string) { d["encrypt_type"] = "" }), "data"},
		"not the prefill object":   {f.openData(nonce(), map[string]any{"name": p.name, "age": 30}), "data"},
		"a number":                 {f.openData(nonce(), map[string]any{"mobile": 13900000001}), "data"},
	} {
		rec := f.serveLink(f.link("open", tc.data))
		require.Equal(t, http.StatusBadRequest, rec.Code, name)
		requireRefused(t, rec, http.StatusBadRequest, "param", "参数 "+tc.field+" ")
	}
}

// A bank mounted under a prefix verifies the link over /h5/{page} and keeps
// the prefix in every URL of the flow.
func TestH5LinkUnderPrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	rec := f.serveLink("/bank" + f.link("wallet", map[string]string{"account_no": acct}))
	require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
	loc := rec.Header().Get("Location")
	require.True(t, strings.HasPrefix(loc, "/bank/h5/s/"), loc)
	require.True(t, strings.HasPrefix(rec.Result().Cookies()[0].Path, "/bank/h5/s/"))

	req := httptest.NewRequest(http.MethodGet, loc, nil)
	req.AddCookie(rec.Result().Cookies()[0])
	rec = httptest.NewRecorder()
	f.bank.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `href="/bank/h5/assets/h5.css"`)
	require.Contains(t, rec.Body.String(), `action="/bank/h5/s/`)

	rec = httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/bank/h5/assets/h5.css", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/css; charset=utf-8", rec.Header().Get("Content-Type"))

	// A prefix that is not a plain path is no mount of the bank's.
	rec = f.serveLink("/a%22%3E/h5/wallet?x=1")
	require.Equal(t, http.StatusNotFound, rec.Code)
}

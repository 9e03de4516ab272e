package h5_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

type vectorKeys struct {
	merchant   *sign.PrivateKey
	bank       *sign.PrivateKey
	bankNext   *sign.PrivateKey
	bankID     string
	bankNextID string
}

var ctx = context.Background()

func loadVectorKeys(t *testing.T) vectorKeys {
	k, err := vectors.LoadKeys()
	require.NoError(t, err)
	parse := func(pem string) *sign.PrivateKey {
		p, err := sign.ParsePrivateKey([]byte(pem))
		require.NoError(t, err)
		return p
	}
	return vectorKeys{parse(k.Merchant.PrivatePEM), parse(k.Bank.PrivatePEM), parse(k.BankNext.PrivatePEM), k.BankKeyID, k.BankNextKeyID}
}

// vectorBuilder is a builder with the vectors' TEST keys, clock at now.
func vectorBuilder(t *testing.T, now string, opts ...h5.Option) *h5.Builder {
	k := loadVectorKeys(t)
	at, err := vectors.Time(now)
	require.NoError(t, err)
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://sandbox.example", AppID: "sandbox-app", MerchantID: "M100000001", PrivateKey: k.merchant,
		BankKeys: map[string]*sign.PublicKey{k.bankID: k.bank.Public(), k.bankNextID: k.bankNext.Public()},
	}, wallet.WithClock(func() time.Time { return at }), wallet.WithEncryptKeyID(k.bankID), wallet.WithHTTPClient(&http.Client{Transport: noNetwork{}}))
	require.NoError(t, err)
	return h5.New(c, opts...)
}

func TestVectorReturns(t *testing.T) {
	var cases []vectors.H5Case
	require.NoError(t, vectors.Load("h5.json", &cases))
	n := 0
	for i, v := range cases {
		if v.ReturnURL == "" {
			continue
		}
		n++
		t.Run(vectors.Name(i, v.Valid, v.Why), func(t *testing.T) {
			u, err := url.Parse(v.ReturnURL)
			require.NoError(t, err)
			r, err := vectorBuilder(t, v.Now).VerifyReturn(u)
			if !v.Valid {
				require.ErrorIs(t, err, h5.ErrBadReturn)
				require.Nil(t, r)
				return
			}
			require.NoError(t, err)
			require.Equal(t, h5.Result(v.Result), r.Result)
			require.Equal(t, "pay", r.Page)
			require.Equal(t, "T20261125003", r.OutTradeNo)
		})
	}
	require.NotZero(t, n)
}

// The builder makes, field for field, the links of the vectors: rebuilt with
// their nonce and time, every field but the (randomised) signature is equal,
// and the vector's own signature verifies over what the builder signs.
func TestBuilderReproducesVectorLinks(t *testing.T) {
	var cases []vectors.H5Case
	require.NoError(t, vectors.Load("h5.json", &cases))
	pages := map[string]func(q url.Values) h5.Page{
		"wallet": func(q url.Values) h5.Page {
			return h5.WalletPage{Common: h5.Common{UserID: q.Get("user_id"), ReturnURL: q.Get("return_url")}, AccountNo: q.Get("account_no")}
		},
		"pay": func(q url.Values) h5.Page {
			return h5.PayPage{Common: h5.Common{UserID: q.Get("user_id"), ReturnURL: q.Get("return_url")},
				AccountNo: q.Get("account_no"), OutTradeNo: q.Get("out_trade_no"), Amount: 990, Subject: q.Get("subject")}
		},
	}
	k := loadVectorKeys(t)
	done := 0
	for _, v := range cases {
		mk, ok := pages[v.Page]
		if !ok || !v.Valid || v.URL == "" {
			continue
		}
		want, err := url.Parse(v.URL)
		require.NoError(t, err)
		wq := want.Query()
		b := vectorBuilder(t, v.Now, h5.WithNonce(func() string { return wq.Get("nonce") }))
		link, err := b.URL(ctx, mk(wq))
		require.NoError(t, err)
		got, err := url.Parse(link)
		require.NoError(t, err)
		gq := got.Query()
		require.Equal(t, want.Path, got.Path)
		require.NoError(t, k.merchant.Public().VerifyCanonical(got.Path, flat(gq), gq.Get("sign")))
		require.NoError(t, k.merchant.Public().VerifyCanonical(got.Path, flat(gq), wq.Get("sign")), "the vector's signature covers our fields")
		gq.Del("sign")
		wq.Del("sign")
		require.Equal(t, wq, gq)
		done++
	}
	require.Equal(t, 2, done)
}

func flat(q url.Values) map[string]string {
	m := map[string]string{}
	for k, v := range q {
		m[k] = v[0]
	}
	return m
}

func TestOpenPrefillIsEncryptedWithTheNonce(t *testing.T) {
	k := loadVectorKeys(t)
	b := vectorBuilder(t, "2026-11-25 16:00:00")
	p := wallettest.Person()
	link, err := b.URL(ctx, h5.OpenPage{Common: h5.Common{UserID: "u-1001", ReturnURL: "https://merchant.example/back"},
		Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo})
	require.NoError(t, err)
	for _, secret := range []string{string(p.IDNumber), string(p.Mobile), string(p.CardNo), url.QueryEscape(string(p.Name))} {
		require.NotContains(t, link, secret, "personal data never appears in clear in a URL")
	}
	u, _ := url.Parse(link)
	q := u.Query()
	require.Equal(t, "SM4-GCM", q.Get("encrypt_type"))
	require.Equal(t, "bank-2026-01", q.Get("encrypt_key_id"))
	plain, err := sign.Open(context.Background(), k.bank, q.Get("encrypt_key"), q.Get("data"), q.Get("nonce"))
	require.NoError(t, err)
	require.Contains(t, string(plain), string(p.IDNumber))
	_, err = sign.Open(context.Background(), k.bank, q.Get("encrypt_key"), q.Get("data"), "another-nonce")
	require.Error(t, err, "the data is bound to its link's nonce")
	require.Len(t, q.Get("nonce"), 32)

	// Without prefill there is no data and no key envelope.
	link, err = b.URL(ctx, h5.OpenPage{Common: h5.Common{UserID: "u-1001", ReturnURL: "https://merchant.example/back"}})
	require.NoError(t, err)
	require.NotContains(t, link, "data=")
	require.NotContains(t, link, "encrypt_key")
}

func TestLinksAreFreshEachTime(t *testing.T) {
	b := vectorBuilder(t, "2026-11-25 16:00:00")
	page := h5.WalletPage{Common: h5.Common{UserID: "u1", ReturnURL: "https://m.example/back"}, AccountNo: "6236880000000001"}
	a, err := b.URL(ctx, page)
	require.NoError(t, err)
	c, err := b.URL(ctx, page)
	require.NoError(t, err)
	ua, _ := url.Parse(a)
	uc, _ := url.Parse(c)
	require.NotEqual(t, ua.Query().Get("nonce"), uc.Query().Get("nonce"), "a nonce is single use")
}

func TestPageValidation(t *testing.T) {
	b := vectorBuilder(t, "2026-11-25 16:00:00")
	common := h5.Common{UserID: "u1", ReturnURL: "https://m.example/back"}
	for _, tc := range []struct {
		page          h5.Page
		field, reason string
	}{
		{h5.WalletPage{Common: h5.Common{ReturnURL: "https://m.example/back"}, AccountNo: "6236880000000001"}, "user_id", "must be 1 to 64 characters"},
		{h5.WalletPage{Common: h5.Common{UserID: "u1", ReturnURL: "http://m.example/back"}, AccountNo: "6236880000000001"}, "return_url", "must use https (http only on a loopback host)"},
		{h5.WalletPage{Common: h5.Common{UserID: "u1", ReturnURL: ""}, AccountNo: "6236880000000001"}, "return_url", "must be an absolute URL"},
		{h5.WalletPage{Common: h5.Common{UserID: "u1", ReturnURL: "https://m.example/back", NotifyURL: "ftp://x/y"}, AccountNo: "6236880000000001"}, "notify_url", "must use https (http only on a loopback host)"},
		{h5.WalletPage{Common: common}, "account_no", "must be 16 to 19 digits"},
		{h5.CardPage{Common: common, AccountNo: "1"}, "account_no", "must be 16 to 19 digits"},
		{h5.PasswordPage{Common: common}, "account_no", "must be 16 to 19 digits"},
		{h5.ClosePage{Common: common}, "account_no", "must be 16 to 19 digits"},
		{h5.RechargePage{Common: common, AccountNo: "6236880000000001"}, "out_trade_no", "must be 6 to 32 characters"},
		{h5.RechargePage{Common: common, AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: -1}, "amount", "must be at least 1 fen"},
		{h5.WithdrawPage{Common: common, AccountNo: "6236880000000001", OutTradeNo: "T1"}, "out_trade_no", "must be 6 to 32 characters"},
		{h5.PayPage{Common: common, AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Subject: "s"}, "amount", "must be at least 1 fen"},
		{h5.PayPage{Common: common, AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1}, "subject", "is required"},
		{h5.OpenPage{Common: common, IDNumber: "110101199003074515"}, "id_number", "check digit does not match"},
		{h5.OpenPage{Common: common, Mobile: "123"}, "mobile", "must be 11 digits starting 13 to 19"},
		{h5.OpenPage{Common: common, CardNo: "6222021234567890127"}, "card_no", "check digit does not match (Luhn)"},
	} {
		_, err := b.URL(ctx, tc.page)
		var fe *wallet.FieldError
		require.ErrorAs(t, err, &fe, "%#v", tc.page)
		require.Equal(t, tc.field, fe.Field)
		require.Equal(t, tc.reason, fe.Reason)
	}
	_, err := b.URL(ctx, nil)
	require.Error(t, err)
	_, err = vectorBuilder(t, "2026-11-25 16:00:00", h5.WithNonce(func() string { return "short" })).URL(ctx, h5.WalletPage{Common: common, AccountNo: "6236880000000001"})
	require.ErrorContains(t, err, "nonce")
}

func TestVerifyReturnRefusals(t *testing.T) {
	k := loadVectorKeys(t)
	stranger, _ := sign.GenerateKey()
	b := vectorBuilder(t, "2026-11-25 16:00:00")
	mkFor := func(appID, merchantID string, key *sign.PrivateKey, keyID, ts string, extra string) *url.URL {
		f := map[string]string{"app_id": appID, "merchant_id": merchantID, "page": "pay", "result": "SUCCESS",
			"out_trade_no": "T20261125003", "timestamp": ts, "sign_key_id": keyID, "sign_type": "SM2"}
		sig, err := sign.SignCanonical(context.Background(), key, "/return", f)
		require.NoError(t, err)
		q := url.Values{}
		for k, v := range f {
			q.Set(k, v)
		}
		q.Set("sign", sig)
		u, _ := url.Parse("https://m.example/back?" + extra + q.Encode())
		return u
	}
	mk := func(key *sign.PrivateKey, keyID, ts string, extra string) *url.URL {
		return mkFor("sandbox-app", "M100000001", key, keyID, ts, extra)
	}
	r, err := b.VerifyReturn(mk(k.bank, k.bankID, "2026-11-25 16:00:00", "order=42&"))
	require.NoError(t, err, "the merchant's own parameters are not signed and do not matter")
	require.Equal(t, h5.ResultSuccess, r.Result)
	r, err = b.VerifyReturn(mk(k.bank, k.bankID, "2026-11-25 16:00:00", "order=42;lang=zh&x=%zz&"))
	require.NoError(t, err, "whatever syntax the merchant's own parameters use (a ';', a bad escape)")
	require.Equal(t, h5.ResultSuccess, r.Result)
	r, err = b.VerifyReturn(mk(k.bankNext, k.bankNextID, "2026-11-25 15:55:01", ""))
	require.NoError(t, err, "any trusted bank key, 299 s old")
	require.Equal(t, "bank-2026-07", r.SignKeyID)

	for name, u := range map[string]*url.URL{
		"stranger's key":   mk(stranger, k.bankID, "2026-11-25 16:00:00", ""),
		"unknown key id":   mk(k.bank, "bank-1999-01", "2026-11-25 16:00:00", ""),
		"old":              mk(k.bank, k.bankID, "2026-11-25 15:54:59", ""),
		"from the future":  mk(k.bank, k.bankID, "2026-11-25 16:05:01", ""),
		"duplicate result": mk(k.bank, k.bankID, "2026-11-25 16:00:00", "result=FAILED&"),
		"another merchant": mkFor("sandbox-app", "M999999999", k.bank, k.bankID, "2026-11-25 16:00:00", ""),
		"another app":      mkFor("other-app", "M100000001", k.bank, k.bankID, "2026-11-25 16:00:00", ""),
		"no merchant":      mkFor("sandbox-app", "", k.bank, k.bankID, "2026-11-25 16:00:00", ""),
		"nil":              nil,
	} {
		_, err := b.VerifyReturn(u)
		require.ErrorIs(t, err, h5.ErrBadReturn, name)
	}
	u := mk(k.bank, k.bankID, "2026-11-25 16:00:00", "")
	u.RawQuery = strings.Replace(u.RawQuery, "SUCCESS", "CANCELLED", 1)
	_, err = b.VerifyReturn(u)
	require.ErrorIs(t, err, h5.ErrBadReturn)
}

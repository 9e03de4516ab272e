package h5site_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// vectorFixture is a bank that holds the conformance vectors' keys (bank
// and bank_next under their ids, the vectors' merchant as the test app) at
// the vectors' now, with the fixture helpers signing as that merchant.
func vectorFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	parse := func(pem string) *sign.PrivateKey {
		k, err := sign.ParsePrivateKey([]byte(pem))
		require.NoError(t, err)
		return k
	}
	merchant := parse(keys.Merchant.PrivatePEM)
	f := newFixture(t, func(o *sandbox.Options) {
		o.Now = func() time.Time { return now }
		o.BankKeys = []sandbox.BankKey{{ID: keys.BankKeyID, Key: parse(keys.Bank.PrivatePEM)},
			{ID: keys.BankNextKeyID, Key: parse(keys.BankNext.PrivatePEM)}}
		o.Merchants = []sandbox.Merchant{{AppID: sandbox.DefaultAppID, MerchantID: sandbox.DefaultMerchantID, PublicKey: merchant.Public()}}
	})
	f.key = merchant
	f.clock.t = now
	return f
}

// get opens a link on the bank without following the redirect.
func get(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// TestH5Vectors runs every entry of h5.json on the bank side.
//
// url entries: each link is accepted or refused at its now exactly as it
// says. Accepted links are then used for real on a bank whose first
// account is the vectors' 6236880000000001: the wallet link starts a
// session once (and is reused after), the open link shows its decrypted
// prefill, the recharge link recharges its fixed 50 元, the pay link pays
// 9.90 元 for 会员月卡 & 礼包.
//
// return_url entries: each verifies, or not, as the merchant must check it
// (the bank's signature over exactly the signed fields, for app
// sandbox-app and merchant M100000001). And the bank's own return for the
// same flow — the pay vector completed on this bank, at the same now — has
// exactly the valid entries' fields, the merchant's own ";" parameter
// kept: the two sides agree on what a return is.
func TestH5Vectors(t *testing.T) {
	t.Parallel()
	var cases []vectors.H5Case
	require.NoError(t, vectors.Load("h5.json", &cases))
	wantKind := map[string]string{
		"older than 10 minutes":        "expired",
		"amount changed after signing": "signature",
		"signed for another page":      "signature",
		"out_trade_no folded into notify_url (verified only under an unescaped canonical string)": "signature",
	}
	linkErrors := map[string]bool{"expired": true, "not_yet_valid": true, "reused": true, "signature": true,
		"param": true, "merchant": true, "page": true}
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	bankPub, err := sign.ParsePublicKey([]byte(keys.Bank.PublicPEM))
	require.NoError(t, err)

	now, err := vectors.Time("2026-11-25 16:00:00")
	require.NoError(t, err)
	live := vectorFixture(t, now)
	p := live.person()
	acct := live.openFor(live.key, sandbox.DefaultAppID, sandbox.DefaultMerchantID, p)
	require.Equal(t, "6236880000000001", acct, "the vectors' account")
	live.recharge(acct, 10_000)

	var links, returns int
	var bankReturn string
	for i, v := range cases {
		name := vectors.Name(i, v.Valid, v.Why)
		switch {
		case v.URL != "":
			links++
			at, err := vectors.Time(v.Now)
			require.NoError(t, err)
			u, err := url.Parse(v.URL)
			require.NoError(t, err)
			pageName := strings.TrimPrefix(u.Path, "/h5/")
			if !v.Valid {
				rec := get(vectorFixture(t, at).bank, u.RequestURI())
				kind := (&page{body: rec.Body.String()}).errorKind()
				require.True(t, linkErrors[kind], "%s: kind %q", name, kind)
				if want, ok := wantKind[v.Why]; ok {
					require.Equal(t, want, kind, name)
				} else {
					t.Errorf("%s: no expected kind for %q", name, v.Why)
				}
				require.NotContains(t, rec.Body.String(), "<form", name)
				continue
			}
			require.Equal(t, now, at, name)
			require.Equal(t, v.Page, pageName, name)
			switch pageName {
			case "wallet":
				rec := get(live.bank, u.RequestURI())
				require.Equal(t, http.StatusSeeOther, rec.Code, name)
				rec = get(live.bank, u.RequestURI())
				require.Equal(t, "reused", (&page{body: rec.Body.String()}).errorKind(), "%s: a link opens once", name)
			case "open":
				b := live.browser()
				pg := b.open(u.RequestURI())
				require.Equal(t, http.StatusOK, pg.status, name)
				for _, s := range []string{"张三", "110101199003074514", "13800138000", "6222020200112345678"} {
					require.Contains(t, pg.body, `value="`+s+`"`, "%s: data decrypts under the bank key with AAD = nonce", name)
				}
			case "recharge":
				before := live.balance(acct)
				back := live.complete(u.RequestURI(), sandbox.H5Input{})
				require.Equal(t, "SUCCESS", back["result"], name)
				require.Equal(t, "T20261125004", back["out_trade_no"], name)
				require.Equal(t, before+5000, live.balance(acct), "%s: the link's amount", name)
			case "pay":
				before := live.balance(acct)
				to, err := live.bank.CompleteH5(context.Background(), u.RequestURI(), sandbox.H5Input{PIN: goodPIN})
				require.NoError(t, err, name)
				require.Equal(t, before-990, live.balance(acct), name)
				bankReturn = to
			default:
				t.Fatalf("%s: page %q", name, pageName)
			}
		case v.ReturnURL != "":
			returns++
			u, err := url.Parse(v.ReturnURL)
			require.NoError(t, err)
			fields, sig := returnFields(t, u.RawQuery)
			ok := bankPub.VerifyCanonical("/return", fields, sig) == nil &&
				fields["app_id"] == sandbox.DefaultAppID && fields["merchant_id"] == sandbox.DefaultMerchantID
			require.Equal(t, v.Valid, ok, "%s: %v", name, fields)
			if v.Valid {
				require.Equal(t, v.Result, fields["result"], name)
			}
		default:
			t.Fatalf("%s: neither url nor return_url", name)
		}
	}
	require.Equal(t, len(cases), links+returns)
	require.GreaterOrEqual(t, links, 8)
	require.GreaterOrEqual(t, returns, 4)

	// The bank's own return for the pay vector, and for the same pay with
	// a return_url that holds the merchant's own ";" parameter, against
	// the valid return vectors.
	require.NotEmpty(t, bankReturn)
	ownURL := live.link("pay", map[string]string{"account_no": acct, "out_trade_no": "T20261125003", "amount": "990",
		"subject": "会员月卡 & 礼包", "return_url": "http://127.0.0.1:9000/done?order=42;x=1"})
	ownReturn, err := live.bank.CompleteH5(context.Background(), ownURL, sandbox.H5Input{PIN: goodPIN})
	require.NoError(t, err)
	for _, v := range cases {
		if v.ReturnURL == "" || !v.Valid {
			continue
		}
		got := bankReturn
		if strings.Contains(v.ReturnURL, ";") {
			got = ownReturn
		}
		want, _ := url.Parse(v.ReturnURL)
		have, _ := url.Parse(got)
		require.Equal(t, want.Scheme+"://"+want.Host+want.Path, have.Scheme+"://"+have.Host+have.Path)
		wantFields, _ := returnFields(t, want.RawQuery)
		haveFields, sig := returnFields(t, have.RawQuery)
		require.Equal(t, wantFields, haveFields, "the bank signs exactly the fields of the vector")
		require.NoError(t, bankPub.VerifyCanonical("/return", haveFields, sig))
		wantOwn, _, _ := strings.Cut(want.RawQuery, "app_id=")
		require.True(t, strings.HasPrefix(have.RawQuery, wantOwn), "the merchant's own parameters first, as they were: %s", have.RawQuery)
	}
}

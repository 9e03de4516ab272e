package h5site_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
)

// FuzzH5Link: whatever page and query arrive, the link parser does not
// panic, and no flow starts for anything but a link the merchant signed for
// that page; an error page never repeats a query name of the sender's.
//
//	go test ./internal/sandbox/h5site -run '^$' -fuzz FuzzH5Link -fuzztime 30s
func FuzzH5Link(f *testing.F) {
	fx := newFixture(f)
	acct, p := fx.newAccount()
	seed := func(page string, extra map[string]string) {
		link := signLink(f, fx.key, page, page, fx.linkFields(extra))
		_, q, _ := strings.Cut(link, "?")
		f.Add(page, q)
	}
	seed("open", fx.openData(nonce(), p.prefill()))
	seed("open", nil)
	seed("wallet", map[string]string{"account_no": acct})
	seed("recharge", map[string]string{"account_no": acct, "amount": "100", "out_trade_no": "T20261125001"})
	seed("withdraw", map[string]string{"account_no": acct, "out_trade_no": "T20261125005"})
	seed("pay", map[string]string{"account_no": acct, "out_trade_no": "T20261125002", "amount": "990", "subject": "会员月卡 & 礼包"})
	seed("card", map[string]string{"account_no": acct})
	seed("password", map[string]string{"account_no": acct, "notify_url": "https://m.example/n"})
	seed("close", map[string]string{"account_no": acct})
	var cases []vectors.H5Case
	if err := vectors.Load("h5.json", &cases); err == nil {
		for _, v := range cases {
			if u, err := url.Parse(v.URL); err == nil && v.URL != "" {
				f.Add(strings.TrimPrefix(u.Path, "/h5/"), u.RawQuery)
			}
		}
	}
	f.Add("wallet", "")
	f.Add("", "a=1&a=2")
	f.Add("s/x/open", "%zz")
	f.Add("open", "data=%FF&encrypt_type=SM4-GCM&encrypt_key=&encrypt_key_id=bank-2026-01")
	f.Add("wallet", "zqmark%26code%3DSUCCESS=1")

	f.Fuzz(func(t *testing.T, page, rawQuery string) {
		target := "/h5/" + page
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: target, RawQuery: rawQuery},
			RequestURI: target + "?" + rawQuery, Header: http.Header{}, Host: "bank.example"}
		rec := httptest.NewRecorder()
		fx.bank.ServeHTTP(rec, req)
		started := rec.Code == http.StatusSeeOther && len(rec.Result().Cookies()) > 0
		if !started {
			// A refusal names at most a field of the protocol.
			if m := namedField.FindStringSubmatch(rec.Body.String()); m != nil && !knownName(m[1]) {
				t.Fatalf("the error page names %q", m[1])
			}
			return
		}
		// A flow started: the link must be the merchant's, for that page.
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			t.Fatalf("started a flow for a query that does not parse: %q", rawQuery)
		}
		got := map[string]string{}
		for k, v := range q {
			// An empty value is no field at all (section 2).
			if k != "sign" && v[0] != "" {
				got[k] = v[0]
			}
		}
		if fx.key.Public().VerifyCanonical("/h5/"+page, got, q.Get("sign")) != nil {
			t.Fatalf("started a flow for a link the merchant did not sign: %s %q", page, rawQuery)
		}
	})
}

// namedField is the field a 参数错误 page names.
var namedField = regexp.MustCompile(`<p>参数 (\S+) `)

// knownName reports whether a query name is the protocol's (a page may
// name those) or a word the page says anyway.
func knownName(k string) bool {
	switch k {
	case "app_id", "merchant_id", "timestamp", "nonce", "sign_type", "sign", "user_id", "return_url", "notify_url",
		"account_no", "out_trade_no", "amount", "subject", "data", "encrypt_type", "encrypt_key", "encrypt_key_id", "query":
		return true
	}
	return false
}

package sandbox

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
)

// FuzzH5Link: whatever page and query arrive, the link parser does not
// panic, and nothing but a link the merchant signed for that page passes
// it. Over
// HTTP no input starts a flow: the parser has already spent the nonce of
// every link that could.
//
//	go test ./internal/sandbox -run '^$' -fuzz FuzzH5Link -fuzztime 1m
func FuzzH5Link(f *testing.F) {
	fx := newFixture(f)
	acct, _ := fx.newAccount()
	p := fx.person()
	seed := func(page string, extra map[string]string) {
		link := signLink(f, fx.c.key, page, page, fx.linkFields(extra))
		_, q, _ := strings.Cut(link, "?")
		f.Add(page, q)
	}
	seed("open", fx.openData(h5Nonce(), map[string]string{"name": p.name, "id_number": p.id, "mobile": p.mobile, "card_no": p.card}))
	seed("open", nil)
	seed("wallet", map[string]string{"account_no": acct})
	seed("recharge", map[string]string{"account_no": acct, "amount": "100", "out_trade_no": "T20261125001"})
	seed("withdraw", map[string]string{"account_no": acct})
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

	f.Fuzz(func(t *testing.T, page, rawQuery string) {
		l, lerr := fx.bank.h5.verifyLink(page, rawQuery)
		if lerr == nil {
			q, err := url.ParseQuery(rawQuery)
			if err != nil {
				t.Fatalf("accepted a query that does not parse: %q", rawQuery)
			}
			got := map[string]string{}
			for k, v := range q {
				// An empty value is no field at all (section 2).
				if k != "sign" && v[0] != "" {
					got[k] = v[0]
				}
			}
			// Checked apart from the parser: the fuzzer's seeds are signed
			// afresh in every worker, so they cannot be listed.
			if fx.c.key.Public().VerifyCanonical("/h5/"+page, got, q.Get("sign")) != nil {
				t.Fatalf("accepted a link the merchant did not sign: %s %q", page, rawQuery)
			}
			if l.page != page {
				t.Fatalf("verified for %q, opened as %q", l.page, page)
			}
		}

		rec := httptest.NewRecorder()
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/h5/" + page, RawQuery: rawQuery},
			Header: http.Header{}, Host: "bank.example"}
		fx.bank.ServeHTTP(rec, req)
		if rec.Code == http.StatusSeeOther || len(rec.Result().Cookies()) > 0 || strings.Contains(rec.Body.String(), "<form") {
			t.Fatalf("a flow started for %s %q: %d", page, rawQuery, rec.Code)
		}
	})
}

package h5_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/oracle"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// FuzzVerifyReturn feeds VerifyReturn arbitrary URLs and bare queries, as
// a user's browser can bring anything to return_url. It must never panic,
// and it may accept only what an independent reading of docs/protocol.md
// section 9 accepts (internal/oracle): the bank's fields at most once each,
// a valid signature over canonical("/return", fields) by a trusted bank
// key, this app and merchant, sign_type SM2, a timestamp within 300 s of
// the clock, a known page and result; and what it returns must be those
// fields.

// returnNow is the vectors' "now": 2026-11-25 16:00:00 UTC+8.
var returnNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// returnVerifies is the oracle: the signed fields of u when a merchant at
// now may accept it. It reads the query by splitting at "&" and "=" itself
// (the merchant's own parameters may hold anything), keeps the bank's
// fields, refuses one that appears twice or does not unescape, and asks
// internal/oracle.
func returnVerifies(k vectorKeys, now time.Time, u *url.URL) (map[string]string, bool) {
	fields := map[string]string{}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		rk, rv, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rk)
		if err != nil || !slices.Contains(oracle.ReturnFields(), key) {
			continue
		}
		if _, dup := fields[key]; dup {
			return nil, false
		}
		v, err := url.QueryUnescape(rv)
		if err != nil {
			return nil, false
		}
		fields[key] = v
	}
	o := oracle.Keyset{Merchant: k.merchant, Bank: k.bank, BankNext: k.bankNext, BankID: k.bankID, NextID: k.bankNextID}
	if !o.Return(now, fields) {
		return nil, false
	}
	return fields, true
}

// signedReturn is a return redirect as the bank makes it, signed with a
// key of the vectors, on top of the merchant's own return_url.
func signedReturn(tb testing.TB, key *sign.PrivateKey, keyID, returnURL string, f map[string]string) string {
	f["sign_key_id"], f["sign_type"] = keyID, "SM2"
	if _, ok := f["app_id"]; !ok {
		f["app_id"], f["merchant_id"] = oracle.AppID, oracle.MerchantID
	}
	sig, err := sign.SignCanonical(context.Background(), key, "/return", f)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(returnURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := url.Values{}
	for k, v := range f {
		q.Set(k, v)
	}
	q.Set("sign", sig)
	if u.RawQuery != "" {
		u.RawQuery += "&"
	}
	u.RawQuery += q.Encode()
	return u.String()
}

// returnKeys loads the vectors' TEST keys (loadVectorKeys wants a *testing.T).
func returnKeys(tb testing.TB) vectorKeys {
	keys, err := vectors.LoadKeys()
	if err != nil {
		tb.Fatal(err)
	}
	parse := func(pem string) *sign.PrivateKey {
		p, err := sign.ParsePrivateKey([]byte(pem))
		if err != nil {
			tb.Fatal(err)
		}
		return p
	}
	return vectorKeys{parse(keys.Merchant.PrivatePEM), parse(keys.Bank.PrivatePEM), parse(keys.BankNext.PrivatePEM), keys.BankKeyID, keys.BankNextKeyID}
}

func FuzzVerifyReturn(f *testing.F) {
	k := returnKeys(f)
	var cases []vectors.H5Case
	if err := vectors.Load("h5.json", &cases); err != nil {
		f.Fatal(err)
	}
	for _, v := range cases {
		if v.ReturnURL == "" {
			continue
		}
		at, err := vectors.Time(v.Now)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(int64(at.Sub(returnNow)/time.Second), v.ReturnURL)
	}
	ts := func(d time.Duration) string {
		return returnNow.Add(d).In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05")
	}
	for i, s := range []struct {
		back   string
		fields map[string]string
	}{
		{"https://merchant.example/back", map[string]string{"page": "pay", "result": "SUCCESS", "out_trade_no": "T20261125003", "timestamp": ts(0)}},
		{"https://merchant.example/back?order=42;lang=zh", map[string]string{"page": "pay", "result": "FAILED", "out_trade_no": "T20261125004", "timestamp": ts(0)}},
		{"https://merchant.example/back?order=42&from=app", map[string]string{"page": "recharge", "result": "CANCELLED", "out_trade_no": "T1", "timestamp": ts(-300 * time.Second)}},
		{"http://127.0.0.1:9000/done#frag", map[string]string{"page": "open", "result": "SUCCESS", "account_no": "6236880000000001", "timestamp": ts(300 * time.Second)}},
		{"https://m.example/r?page=mine", map[string]string{"page": "close", "result": "FAILED", "account_no": "6236880000000001", "timestamp": ts(0)}},
		{"https://m.example/r", map[string]string{"page": "open", "result": "CANCELLED", "timestamp": ts(-301 * time.Second)}},
		{"https://m.example/r", map[string]string{"page": "withdraw", "result": "PENDING", "out_trade_no": "T 1&x=y", "timestamp": ts(0)}},
	} {
		key, id := k.bank, k.bankID
		if i%2 == 1 {
			key, id = k.bankNext, k.bankNextID
		}
		link := signedReturn(f, key, id, s.back, s.fields)
		f.Add(int64(0), link)
		if u, err := url.Parse(link); err == nil {
			f.Add(int64(0), u.RawQuery)
		}
	}
	f.Add(int64(0), "")
	f.Add(int64(0), "%zz;&&==")

	f.Fuzz(func(t *testing.T, skew int64, raw string) {
		now := returnNow.Add(time.Duration(skew%1_000_000) * time.Second)
		c, err := wallet.NewClient(wallet.Config{
			BaseURL: "https://sandbox.example", AppID: "sandbox-app", MerchantID: "M100000001", PrivateKey: k.merchant,
			BankKeys: map[string]*sign.PublicKey{k.bankID: k.bank.Public(), k.bankNextID: k.bankNext.Public()},
		}, wallet.WithClock(func() time.Time { return now }), wallet.WithHTTPClient(&http.Client{Transport: noNetwork{}}))
		if err != nil {
			t.Fatal(err)
		}
		b := h5.New(c)
		check := func(u *url.URL) {
			r, err := b.VerifyReturn(u)
			fields, ok := returnVerifies(k, now, u)
			if err != nil {
				if r != nil || !errors.Is(err, h5.ErrBadReturn) {
					t.Fatalf("a refusal returns nothing and wraps ErrBadReturn: %v", err)
				}
				return
			}
			if !ok {
				t.Fatalf("accepted a return that does not verify at %v: %q", now, u.RawQuery)
			}
			if r.Page != fields["page"] || string(r.Result) != fields["result"] || r.OutTradeNo != fields["out_trade_no"] ||
				r.AccountNo != fields["account_no"] || r.SignKeyID != fields["sign_key_id"] || r.Timestamp.IsZero() {
				t.Fatalf("returned %+v, the redirect signs %v", r, fields)
			}
		}
		if u, err := url.Parse(raw); err == nil {
			check(u)
		}
		check(&url.URL{RawQuery: raw})
	})
}

// noNetwork is a transport for clients that must never call the bank.
type noNetwork struct{}

func (noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network in this test")
}

package h5_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// FuzzVerifyReturn feeds VerifyReturn arbitrary URLs and bare queries, as
// a user's browser can bring anything to return_url. It must never panic,
// and it may accept only what an independent reading of PROTOCOL.md
// section 9 accepts: the seven signed fields at most once each, one sign,
// a valid signature over canonical("/return", fields) by a trusted bank
// key, sign_type SM2, a timestamp within 300 s of the clock, and a known
// result; and what it returns must be those fields.

// returnNow is the vectors' "now": 2026-11-25 16:00:00 UTC+8.
var returnNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

var returnFields = []string{"page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type"}

// returnCanonical is PROTOCOL.md section 2, written again for the oracle.
func returnCanonical(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + fields[k]
	}
	return "/return?" + strings.Join(parts, "&")
}

// returnVerifies is the oracle: the signed fields of u when a merchant at
// now may accept it.
func returnVerifies(k vectorKeys, now time.Time, u *url.URL) (map[string]string, bool) {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || len(q["sign"]) != 1 || q.Get("sign") == "" {
		return nil, false
	}
	fields := map[string]string{}
	for _, name := range returnFields {
		switch v := q[name]; len(v) {
		case 0:
		case 1:
			fields[name] = v[0]
		default:
			return nil, false
		}
	}
	var key *sign.PublicKey
	switch fields["sign_key_id"] {
	case k.bankID:
		key = k.bank.Public()
	case k.bankNextID:
		key = k.bankNext.Public()
	default:
		return nil, false
	}
	if key.Verify([]byte(returnCanonical(fields)), q.Get("sign")) != nil || fields["sign_type"] != "SM2" {
		return nil, false
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", fields["timestamp"], time.FixedZone("UTC+8", 8*3600))
	if err != nil || now.Sub(ts) > 300*time.Second || ts.Sub(now) > 300*time.Second {
		return nil, false
	}
	switch fields["result"] {
	case "SUCCESS", "FAILED", "CANCELLED":
		return fields, true
	}
	return nil, false
}

// signedReturn is a return redirect as the bank makes it, signed with a
// key of the vectors, on top of the merchant's own return_url.
func signedReturn(tb testing.TB, key *sign.PrivateKey, keyID, returnURL string, f map[string]string) string {
	f["sign_key_id"], f["sign_type"] = keyID, "SM2"
	sig, err := sign.SignCanonical(context.Background(), key, "/return", f)
	if err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(returnURL)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	for k, v := range f {
		q.Set(k, v)
	}
	q.Set("sign", sig)
	u.RawQuery = q.Encode()
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
		}, wallet.WithClock(func() time.Time { return now }), wallet.WithHTTPClient(&http.Client{Transport: httpmock.NewMockTransport()}))
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

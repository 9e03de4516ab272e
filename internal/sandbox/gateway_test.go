package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/sandbox/h5site"
	"github.com/xinyun-open/ewallet-go/sign"
)

const walletQuery = "/api/v1/wallet/query"

func walletQueryBiz() map[string]any {
	return map[string]any{"id_number": idNumber("19900307", 1), "mobile": "13800138000", "user_id": "u-1001"}
}

func TestGatewayHappyPathEncryptedAndPlain(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.c.ok(walletQuery, walletQueryBiz())
	require.Equal(t, "SM4-GCM", r.fields["encrypt_type"])
	require.Equal(t, DefaultBankKeyID, r.fields["sign_key_id"])
	require.Equal(t, DefaultAppID, r.fields["app_id"])
	require.Equal(t, "ok", r.msg)
	require.JSONEq(t, `{"opened":false}`, string(r.biz))

	// A plain request to an API that is not 🔒 gets a plain answer.
	r = f.c.do(&treq{path: "/api/v1/platform/keys", plain: true})
	require.Equal(t, codeSuccess, r.code)
	require.Empty(t, r.fields["encrypt_type"])
	require.Empty(t, r.fields["encrypt_key"])
	require.Contains(t, string(r.biz), `"keys"`)
}

// TestGatewayErrors walks the gateway checks of docs/protocol.md in order,
// each failure asserted on a verified, signed answer.
func TestGatewayErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	otherKey, err := sign.GenerateKey()
	require.NoError(t, err)
	set := func(k, v string) func(map[string]string) { return func(m map[string]string) { m[k] = v } }
	del := func(k string) func(map[string]string) { return func(m map[string]string) { delete(m, k) } }

	cases := []struct {
		name    string
		req     treq
		code    string
		msg     string // prefix of the message, when it matters
		noEchos bool   // app_id and msg_id are not echoed
	}{
		{name: "not JSON", req: treq{rawBody: []byte("app_id=x")}, code: codeParamInvalid, msg: "body: ", noEchos: true},
		{name: "JSON array", req: treq{rawBody: []byte(`["a"]`)}, code: codeParamInvalid, msg: "body: ", noEchos: true},
		{name: "number value", req: treq{rawBody: []byte(`{"app_id":"sandbox-app","version":1}`)}, code: codeParamInvalid, msg: "version: must be a string", noEchos: true},
		{name: "duplicate field", req: treq{rawBody: []byte(`{"msg_id":"a","msg_id":"b"}`)}, code: codeParamInvalid, msg: "msg_id: appears twice", noEchos: true},
		{name: "trailing data", req: treq{rawBody: []byte(`{"a":"b"} {}`)}, code: codeParamInvalid, msg: "body: ", noEchos: true},
		{name: "version", req: treq{before: set("version", "2.0")}, code: codeParamInvalid, msg: "version: must be 1.0"},
		{name: "sign_type", req: treq{before: set("sign_type", "RSA")}, code: codeParamInvalid, msg: "sign_type: must be SM2"},
		{name: "msg_id", req: treq{msgID: "ABC"}, code: codeParamInvalid, msg: "msg_id: "},
		{name: "timestamp format", req: treq{before: set("timestamp", "2026-11-25T16:00:00Z")}, code: codeParamInvalid, msg: "timestamp: "},
		{name: "one-digit hour", req: treq{before: set("timestamp", "2026-11-25 6:00:00")}, code: codeParamInvalid, msg: "timestamp: "},
		{name: "encrypt_type", req: treq{before: set("encrypt_type", "AES")}, code: codeParamInvalid, msg: "encrypt_type: "},
		{name: "encrypt_key_id missing", req: treq{before: del("encrypt_key_id")}, code: codeParamInvalid, msg: "encrypt_key_id: "},
		{name: "app_id unknown", req: treq{before: set("app_id", "nope")}, code: codeAppInvalid},
		{name: "app_id missing", req: treq{before: del("app_id")}, code: codeAppInvalid},
		{name: "merchant_id", req: treq{before: set("merchant_id", "M999")}, code: codePermissionDenied},
		{name: "timestamp 301 s old", req: treq{ts: testStart.Add(-301 * time.Second)}, code: codeTimestampExpired},
		{name: "timestamp 301 s ahead", req: treq{ts: testStart.Add(301 * time.Second)}, code: codeTimestampExpired},
		{name: "path", req: treq{path: "/api/v1/wallet/delete"}, code: codeAPINotFound},
		{name: "signature missing", req: treq{after: del("sign")}, code: codeSignatureInvalid},
		{name: "field changed after signing", req: treq{after: set("timestamp", formatTime(testStart.Add(time.Second)))}, code: codeSignatureInvalid},
		{name: "signed by another key", req: treq{after: func(m map[string]string) {
			m["sign"], _ = sign.SignCanonical(context.Background(), otherKey, walletQuery, m)
		}}, code: codeSignatureInvalid},
		{name: "empty value dropped from canonical", req: treq{after: set("extra", "")}, code: codeSuccess},
		{name: "unsigned extra field", req: treq{after: set("extra", "x")}, code: codeSignatureInvalid},
		{name: "plain on a locked API", req: treq{plain: true}, code: codeEncryptionRequired},
		{name: "unknown encrypt_key_id", req: treq{before: set("encrypt_key_id", "bank-1999-01")}, code: codeDecryptFailed},
		{name: "AAD mismatch", req: treq{before: set("msg_id", newMsgID())}, code: codeDecryptFailed},
		{name: "encrypted to the other bank key", req: treq{before: set("encrypt_key_id", DefaultNextBankKeyID)}, code: codeDecryptFailed},
		{name: "ciphertext not base64", req: treq{before: set("biz_content", "!!!")}, code: codeDecryptFailed},
		{name: "timestamp exactly 300 s old", req: treq{ts: testStart.Add(-300 * time.Second)}, code: codeSuccess},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.biz = bizJSON(t, walletQueryBiz())
			if tc.req.path == "" {
				tc.req.path = walletQuery
			}
			r := f.c.on(t).do(&tc.req)
			require.Equal(t, tc.code, r.code, r.msg)
			require.True(t, strings.HasPrefix(r.msg, tc.msg), "msg %q", r.msg)
			if tc.noEchos {
				require.Empty(t, r.fields["app_id"])
				require.Empty(t, r.fields["msg_id"])
			}
		})
	}
}

func TestGatewayParamInvalidNeverEchoesValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := idNumber("19900307", 7)
	bad := id[:17] + "0"
	if bad == id {
		bad = id[:17] + "1"
	}
	r := f.c.fails(codeParamInvalid, walletQuery, map[string]any{"id_number": bad, "mobile": "13800138000", "user_id": "u1"})
	require.Equal(t, "id_number: check digit does not match", r.msg)
	require.NotContains(t, r.msg, bad)

	r = f.c.fails(codeParamInvalid, walletQuery, map[string]any{"id_number": id, "mobile": "12345", "user_id": "u1"})
	require.True(t, strings.HasPrefix(r.msg, "mobile: "), r.msg)
	require.NotContains(t, r.msg, "12345")
}

func TestGatewayStrictBizContent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	cases := []struct{ biz, msg string }{
		{`{"id_number":"x","mobile":"13800138000","user_id":"u1","idnumber":"typo"}`, "biz_content: a member is not a field of this API"},
		{`{"idnumber":"a","idnumber":"b"}`, "biz_content: a member appears twice"},
		{`{"id_number":110101,"mobile":"13800138000","user_id":"u1"}`, "id_number: must be a string"},
		{`{"id_number":null,"mobile":"13800138000","user_id":"u1"}`, "id_number: must be a string"},
		{`{"id_number":"a","id_number":"b"}`, "id_number: appears twice"},
		{`[1,2]`, "biz_content: must be one JSON object"},
		{`{"mobile":"13800138000"`, "biz_content: must be one JSON object"},
		{`{}`, "id_number: is required"},
	}
	for _, tc := range cases {
		r := f.c.fails(codeParamInvalid, walletQuery, tc.biz)
		require.Equal(t, tc.msg, r.msg, tc.biz)
	}
	// Amounts are JSON integers.
	for _, amount := range []string{`"100"`, `100.5`, `1e2`, `true`, `99999999999999999999`} {
		r := f.c.fails(codeParamInvalid, "/api/v1/payment/recharge",
			`{"account_no":"`+acct+`","out_trade_no":"`+f.orderNo()+`","amount":`+amount+`}`)
		require.Equal(t, "amount: must be an integer number of fen", r.msg, amount)
	}
	r := f.c.fails(codeParamInvalid, "/api/v1/platform/keys", `{"x":1}`)
	require.Equal(t, "biz_content: a member is not a field of this API", r.msg)
}

func TestGatewayNonPostAndUnknownRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rec := httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, walletQuery, nil))
	require.Equal(t, http.StatusOK, rec.Code)
	out := &tresp{}
	require.NoError(t, f.c.open(walletQuery, "", rec.Body.Bytes(), out))
	require.Equal(t, codeAPINotFound, out.code)

	rec = httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nothing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	rec = httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/h5/nothing", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
}

// TestGatewayMountedUnderPrefix: the signed path starts at /api/v1/ whatever
// prefix the base URL has.
func TestGatewayMountedUnderPrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := f.c.body(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
	rec := httptest.NewRecorder()
	f.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/bank/gw"+walletQuery, bytes.NewReader(body)))
	out := &tresp{}
	var env map[string]string
	require.NoError(t, json.Unmarshal(body, &env))
	require.NoError(t, f.c.open(walletQuery, env["msg_id"], rec.Body.Bytes(), out))
	require.Equal(t, codeSuccess, out.code)
}

func TestGatewayBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A 1 MiB face image, encrypted, is well inside the limit.
	big := strings.Repeat("A", 2<<20)
	r := f.c.do(&treq{path: walletQuery, biz: []byte(`{"x":"` + big + `"}`)})
	require.Equal(t, codeParamInvalid, r.code)
	require.Equal(t, "biz_content: a member is not a field of this API", r.msg)
	// Over the limit: still a signed answer.
	r = f.c.do(&treq{path: walletQuery, rawBody: []byte(`{"a":"` + strings.Repeat("A", maxBodyBytes) + `"}`)})
	require.Equal(t, codeParamInvalid, r.code)
	require.Equal(t, "body: is larger than 6 MiB", r.msg)
}

// TestIdempotentRepeat: the same msg_id and body twice moves money once and
// answers the original result in a fresh envelope.
func TestIdempotentRepeat(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	args := f.payArgs(f.c, acct, 1_000)
	msgID := newMsgID()
	first := f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, args)})
	require.Equal(t, codeSuccess, first.code)
	f.clock.Add(2 * time.Second)
	second := f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, args)})
	require.Equal(t, codeSuccess, second.code)
	require.JSONEq(t, string(first.biz), string(second.biz))
	require.NotEqual(t, first.fields["encrypt_key"], second.fields["encrypt_key"], "fresh key envelope")
	require.NotEqual(t, first.fields["timestamp"], second.fields["timestamp"], "fresh timestamp")
	require.Equal(t, int64(9_000), f.balance(f.c, acct), "money moved once")

	// The same msg_id with another body is a conflict, even when only the
	// PIN ciphertext differs: the fingerprint covers the plaintext, so a
	// retry must resend the very same biz_content and only re-seal it.
	fresh := clone(args)
	fresh["password"] = f.c.pin(goodPIN)
	r0 := f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, fresh)})
	require.Equal(t, codeMsgIDConflict, r0.code)
	args["amount"] = 2_000
	r := f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, args)})
	require.Equal(t, codeMsgIDConflict, r.code)
	// ...and so is the same body to another path.
	r = f.c.do(&treq{path: "/api/v1/payment/query", msgID: msgID, biz: bizJSON(t, map[string]any{"out_trade_no": args["out_trade_no"]})})
	require.Equal(t, codeMsgIDConflict, r.code)
	require.Equal(t, int64(9_000), f.balance(f.c, acct))

	// Errors are remembered too: the repeat answers the same code.
	msgID = newMsgID()
	big := f.payArgs(f.c, acct, 1_000_000_000)
	r = f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, big)})
	require.Equal(t, codeInsufficientBalance, r.code)
	f.recharge(f.c, acct, 1_000_000_000)
	r = f.c.do(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: bizJSON(t, big)})
	require.Equal(t, codeInsufficientBalance, r.code, "the original answer, not a fresh attempt")

	// A repeat may be plain where the original was encrypted (platform/keys
	// is not 🔒): the answer follows the repeat.
	msgID = newMsgID()
	r = f.c.do(&treq{path: "/api/v1/platform/keys", msgID: msgID})
	require.Equal(t, "SM4-GCM", r.fields["encrypt_type"])
	r = f.c.do(&treq{path: "/api/v1/platform/keys", msgID: msgID, plain: true})
	require.Equal(t, codeSuccess, r.code)
	require.Empty(t, r.fields["encrypt_type"])
}

func TestIdempotencyIsPerApp(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.otherMerchant("other-app", "M200000002")
	msgID := newMsgID()
	r := f.c.do(&treq{path: walletQuery, msgID: msgID, biz: bizJSON(t, walletQueryBiz())})
	require.Equal(t, codeSuccess, r.code)
	r = other.do(&treq{path: "/api/v1/platform/keys", msgID: msgID})
	require.Equal(t, codeSuccess, r.code, "another app's msg_id space is its own")
}

func TestIdempotencyExpiresAfter24h(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	msgID := newMsgID()
	f.c.do(&treq{path: walletQuery, msgID: msgID, biz: bizJSON(t, walletQueryBiz())})
	f.clock.Add(24*time.Hour + time.Second)
	r := f.c.do(&treq{path: "/api/v1/platform/keys", msgID: msgID})
	require.Equal(t, codeSuccess, r.code, "forgotten after 24 h")
}

// TestIdempotencyConcurrentTwins: many concurrent requests with one msg_id
// are serialised and all get the one answer; money moves once.
func TestIdempotencyConcurrentTwins(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 100_000)
	args := bizJSON(t, f.payArgs(f.c, acct, 1_000))
	msgID := newMsgID()
	var wg sync.WaitGroup
	results := make([]*tresp, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = f.c.send(&treq{path: "/api/v1/payment/pay", msgID: msgID, biz: args})
		}()
	}
	wg.Wait()
	var trade string
	for _, r := range results {
		require.NoError(t, r.verifyErr)
		require.Equal(t, codeSuccess, r.code)
		no := r.obj(t)["trade_no"].(string)
		if trade == "" {
			trade = no
		}
		require.Equal(t, trade, no)
	}
	require.Equal(t, int64(99_000), f.balance(f.c, acct))
	ledger, err := f.bank.Ledger(acct)
	require.NoError(t, err)
	require.Len(t, ledger, 2)
}

func TestRetryableAnswersAreNotRemembered(t *testing.T) {
	t.Parallel()
	c := newMsgCache()
	k := msgKey{"a", "m"}
	e, cached, err := c.begin(t.Context(), k, "fp", testStart)
	require.NotNil(t, e)
	require.Nil(t, cached)
	require.Nil(t, err)
	c.finish(e, result{code: codeSystemError})
	e, cached, err = c.begin(t.Context(), k, "other", testStart)
	require.NotNil(t, e, "a retryable answer is forgotten: the retry runs afresh")
	require.Nil(t, cached)
	require.Nil(t, err)
	c.finish(e, result{code: codeSuccess, biz: []byte("{}")})
	_, cached, err = c.begin(t.Context(), k, "other", testStart)
	require.Nil(t, err)
	require.Equal(t, codeSuccess, cached.code)
}

func TestPlatformKeysAndRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.c.ok("/api/v1/platform/keys", nil)
	var v struct {
		Keys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
			NotBefore string `json:"not_before"`
			NotAfter  string `json:"not_after"`
		} `json:"keys"`
	}
	r.decode(t, &v)
	require.Len(t, v.Keys, 2)
	require.Equal(t, DefaultBankKeyID, v.Keys[0].KeyID)
	require.Equal(t, "2026-01-01 00:00:00", v.Keys[0].NotBefore)
	require.Equal(t, DefaultNextBankKeyID, v.Keys[1].KeyID)
	require.Equal(t, "2026-07-01 00:00:00", v.Keys[1].NotBefore)
	require.Equal(t, "2036-01-01 00:00:00", v.Keys[1].NotAfter)
	for _, k := range v.Keys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
		require.NoError(t, err)
		require.True(t, pub.Equal(f.c.bankKeys[k.KeyID]))
	}

	// Requests encrypted to either key decrypt; switching the signing key
	// changes sign_key_id and the key the answer verifies under.
	f.c.encKeyID = DefaultNextBankKeyID
	r = f.c.ok(walletQuery, walletQueryBiz())
	require.Equal(t, DefaultBankKeyID, r.fields["sign_key_id"])
	require.NoError(t, f.bank.SetSigningKey(DefaultNextBankKeyID))
	r = f.c.ok(walletQuery, walletQueryBiz())
	require.Equal(t, DefaultNextBankKeyID, r.fields["sign_key_id"])
	require.Error(t, f.bank.SetSigningKey("bank-1999-01"))
	require.Equal(t, DefaultNextBankKeyID, f.bank.Credentials().SigningKeyID)
}

func TestRetiredKeyDoesNotDecrypt(t *testing.T) {
	t.Parallel()
	keys, err := DefaultBankKeys()
	require.NoError(t, err)
	keys[1].NotAfter = testStart.Add(-time.Second) // bank-2026-07 retired
	f := newFixture(t, func(o *Options) { o.BankKeys = keys })
	f.c.encKeyID = DefaultNextBankKeyID
	r := f.c.fails(codeDecryptFailed, walletQuery, walletQueryBiz())
	require.Contains(t, r.msg, "retired")
	f.c.encKeyID = DefaultBankKeyID
	f.c.ok(walletQuery, walletQueryBiz())
}

func TestClosedBankAnswersServiceUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.bank.Close())
	r := f.c.fails(codeServiceUnavailable, walletQuery, walletQueryBiz())
	require.NotEmpty(t, r.fields["sign"])
	require.NoError(t, f.bank.Close(), "Close twice is fine")
}

// FuzzGateway: whatever arrives — a body of any bytes to any path, or a
// request whose envelope, biz_content member or value the sender chose,
// signed or not — the gateway does not panic, answers a path of the signed
// form with a signed answer (a recovered panic would show as
// SYSTEM_ERROR) and any other path with an unsigned 404, echoes app_id and
// msg_id only in validated form, and never copies more than 3 bytes of the
// sender's input into msg.
//
//	go test ./internal/sandbox -run '^$' -fuzz FuzzGateway -fuzztime 30s
func FuzzGateway(f *testing.F) {
	fx := newFixture(f)
	own := bankText(f)
	acct, _ := fx.newAccount()
	f.Add(fx.c.body(&treq{path: walletQuery, biz: bizJSON(f, walletQueryBiz())}), walletQuery, "account_no", acct)
	f.Add(fx.c.body(&treq{path: walletQuery, plain: true, biz: []byte(`{"id_number":1}`)}), "/api/v1/payment/pay", "x&code=SUCCESS", "y=1")
	f.Add([]byte(`{}`), "/api/v1/wallet%3Fquery", "out_trade_no", "T&msg=ok")
	f.Add([]byte(`{"app_id":"sandbox-app","merchant_id":"M100000001","version":"1.0","sign_type":"SM2","msg_id":"0123456789abcdef0123456789abcdef","timestamp":"2026-11-25 16:00:00","encrypt_type":"SM4-GCM","encrypt_key":"AAAA","encrypt_key_id":"bank-2026-01","biz_content":"AAAA","sign":"MEQCIAWNj3qVXC4jZrusffeP5r7dlDRUtGfRqFVWub5PRLkMAiAj1v8sTFM8+4Z43gwGs6Y46dr/AKN1vcH0xZkUm9p0+A=="}`),
		"/api/v1/account/query", "app_id", "x&y=z")
	f.Add([]byte(`{"a":"\ud800"}`), "/api/v1/zz_top", "msg_id", "ABCDEF")
	f.Add([]byte("\xff\xfe{"), "/api/v1/payment/refund/query", "amount", "1e9")
	f.Add([]byte(`{"a":{"b":"c"}}`), "/bank/api/v1/platform/keys", "version", "2.0&sign_type=SM2")
	f.Fuzz(func(t *testing.T, body []byte, path, name, value string) {
		path = "/" + strings.TrimLeft(path, "/")
		if strings.ContainsAny(path, "?#") || strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			return // not a request target httptest can send
		}
		check := func(path string, body []byte, inputs ...string) {
			t.Helper()
			status, fields, raw := rawCall(t, fx.bank, http.MethodPost, path, body)
			sub, isAPI := under(path, "/api/v1/")
			if !isAPI || !signablePath(sub) || !h5site.PlainPath(path[:len(path)-len(sub)]) {
				if status == http.StatusOK && fields["sign"] != "" {
					t.Fatalf("a path of another form got a signed answer: %s %s", path, raw)
				}
				return
			}
			if status != http.StatusOK || fields == nil {
				t.Fatalf("status %d: %s", status, raw)
			}
			pub := fx.c.bankKeys[fields["sign_key_id"]]
			if pub == nil || pub.VerifyCanonical(sub, fields, fields["sign"]) != nil {
				t.Fatalf("answer is not signed: %s", raw)
			}
			if fields["code"] == codeSystemError || fields["code"] == "" {
				t.Fatalf("code %q: %s", fields["code"], fields["msg"])
			}
			if a := fields["app_id"]; a != "" && a != DefaultAppID {
				t.Fatalf("echoed app_id %q", a)
			}
			if m := fields["msg_id"]; m != "" && rules.MsgID(m) != nil {
				t.Fatalf("echoed msg_id %q", m)
			}
			if w := copiedInput(fields["msg"], own, inputs...); w != "" {
				t.Fatalf("msg %q copies %q of the request", fields["msg"], w)
			}
		}
		// The bytes as they came.
		check(path, body, string(body), path, name, value)
		// An envelope member of the sender's choosing, unsigned.
		env := map[string]string{"app_id": DefaultAppID, "merchant_id": DefaultMerchantID, "msg_id": newMsgID(),
			"timestamp": formatTime(fx.clock.Now()), "version": "1.0", "sign_type": "SM2", "biz_content": "{}", name: value}
		b, _ := json.Marshal(env)
		check(path, b, path, name, value)
		// A biz_content member of the sender's choosing, signed by the
		// merchant: the bank's answers to its own merchant copy nothing
		// either (to the API at path, when it has the signed form).
		if _, ok := under(path, "/api/v1/"); !ok {
			path = queryPath
		}
		sub, _ := under(path, "/api/v1/")
		biz, _ := json.Marshal(map[string]string{name: value})
		for _, plain := range []bool{true, false} {
			check(path, fx.c.on(t).body(&treq{path: sub, plain: plain, biz: biz}), path, name, value)
		}
	})
}

// BenchmarkGatewayWalletQuery measures the gateway alone: verify, decrypt,
// idempotency, the query, encrypt and sign, in process with pre-built
// requests (each with a fresh msg_id).
func BenchmarkGatewayWalletQuery(b *testing.B) {
	fx := newFixture(b)
	_, p := fx.newAccount()
	biz := bizJSON(b, map[string]any{"id_number": p.id, "mobile": p.mobile, "user_id": "u-1"})
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = fx.c.body(&treq{path: walletQuery, biz: biz})
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		rec := httptest.NewRecorder()
		fx.bank.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, walletQuery, bytes.NewReader(bodies[i])))
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"code":"SUCCESS"`)) {
			b.Fatalf("answer %s", rec.Body.Bytes())
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// control calls the control API in process, as a program on the same
// machine does (Host 127.0.0.1, JSON), and decodes the answer.
func control(t *testing.T, b *Bank, method, path string, body any) (int, map[string]any) {
	t.Helper()
	h := http.Header{}
	if method == http.MethodPost {
		h.Set("Content-Type", "application/json")
	}
	return controlAs(t, b, "127.0.0.1:8360", h, method, path, body)
}

// controlAs calls the control API with the given Host and headers.
func controlAs(t *testing.T, b *Bank, host string, h http.Header, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewReader([]byte(s))
	} else if body != nil {
		j, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = host
	for k, v := range h {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	b.ServeHTTP(rec, req)
	require.Equal(t, "application/json; charset=utf-8", rec.Header().Get("Content-Type"))
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	return rec.Code, out
}

func TestControlCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, out := control(t, f.bank, http.MethodGet, "/sandbox/credentials", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, DefaultAppID, out["app_id"])
	require.Equal(t, DefaultMerchantID, out["merchant_id"])
	require.Equal(t, DefaultMerchantKeyPEM, out["merchant_private_key"])
	require.Equal(t, DefaultMerchantPublicKeyPEM, out["merchant_public_key"])
	require.Equal(t, DefaultBankKeyID, out["signing_key_id"])
	keys := out["bank_keys"].([]any)
	require.Len(t, keys, 2)
	require.Equal(t, map[string]any{"key_id": DefaultBankKeyID, "public_key": DefaultBankPublicKeyPEM}, keys[0])
	require.Equal(t, map[string]any{"key_id": DefaultNextBankKeyID, "public_key": DefaultNextBankPublicKeyPEM}, keys[1])

	// The published private key is the one the bank verifies with.
	priv, err := sign.ParsePrivateKey([]byte(out["merchant_private_key"].(string)))
	require.NoError(t, err)
	c := f.client(DefaultAppID, DefaultMerchantID, priv)
	c.ok(walletQuery, walletQueryBiz())

	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/credentials", nil)
	require.Equal(t, http.StatusMethodNotAllowed, code)

	// Replacing the test app's key: the sandbox no longer knows the private key.
	other, err := sign.GenerateKey()
	require.NoError(t, err)
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: DefaultAppID, MerchantID: DefaultMerchantID, PublicKey: other.Public()}))
	require.Empty(t, f.bank.Credentials().MerchantPrivateKeyPEM)
}

func TestControlMerchants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	pem, err := k.Public().MarshalPEM()
	require.NoError(t, err)
	body := map[string]any{"app_id": "my-app", "merchant_id": "M500000005", "public_key": string(pem), "notify_url": "http://127.0.0.1:9000/notify"}
	code, out := control(t, f.bank, http.MethodPost, "/sandbox/merchants", body)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, body, out)
	c := f.client("my-app", "M500000005", k)
	c.ok(walletQuery, walletQueryBiz())
	// Hex keys are fine too.
	body["public_key"] = k.Public().Hex()
	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/merchants", body)
	require.Equal(t, http.StatusOK, code)

	for name, bad := range map[string]any{
		"no key":            map[string]any{"app_id": "x", "merchant_id": "M1"},
		"bad key":           map[string]any{"app_id": "x", "merchant_id": "M1", "public_key": "nope"},
		"no app":            map[string]any{"merchant_id": "M1", "public_key": string(pem)},
		"no merchant":       map[string]any{"app_id": "x", "public_key": string(pem)},
		"plain http url":    map[string]any{"app_id": "x", "merchant_id": "M1", "public_key": string(pem), "notify_url": "http://merchant.example/n"},
		"unknown field":     map[string]any{"app_id": "x", "merchant_id": "M1", "public_key": string(pem), "colour": "red"},
		"not json":          "app_id=x",
		"wrong type":        map[string]any{"app_id": 5},
		"app id with space": map[string]any{"app_id": "my app", "merchant_id": "M1", "public_key": string(pem)},
	} {
		code, out := control(t, f.bank, http.MethodPost, "/sandbox/merchants", bad)
		require.Equal(t, http.StatusBadRequest, code, name)
		require.NotEmpty(t, out["error"], name)
	}
}

func TestControlClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, out := control(t, f.bank, http.MethodPost, "/sandbox/clock", map[string]any{"advance": "24h30m"})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "2026-11-26 16:30:00", out["now"])
	// Envelope timestamps stay on the real clock: a client that knows
	// nothing of the move still gets through, and the business time shows
	// in the order.
	acct, _ := f.newAccount()
	r := f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1})
	require.Equal(t, "2026-11-26 16:30:00", r.obj(t)["created_at"])
	require.Equal(t, "2026-11-25 16:00:00", r.fields["timestamp"])
	for _, bad := range []any{map[string]any{"advance": "-1h"}, map[string]any{"advance": "tomorrow"}, map[string]any{}} {
		code, _ = control(t, f.bank, http.MethodPost, "/sandbox/clock", bad)
		require.Equal(t, http.StatusBadRequest, code)
	}
	require.Equal(t, "2026-11-26 16:30:00", formatTime(f.bank.AdvanceClock(-time.Hour)), "never backwards")
}

func TestControlFaultsAndSigningKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	code, out := control(t, f.bank, http.MethodPost, "/sandbox/faults", map[string]any{"kind": "http_503", "count": 1, "path": "/api/v1/wallet/query"})
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, out)
	r := f.c.send(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/faults", map[string]any{"kind": "latency", "latency_ms": 1})
	require.Equal(t, http.StatusOK, code)
	code, out = control(t, f.bank, http.MethodPost, "/sandbox/faults", map[string]any{"kind": "meteor"})
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["error"], "kind must be one of")

	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/signing-key", map[string]any{"key_id": DefaultNextBankKeyID})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, DefaultNextBankKeyID, f.c.ok(walletQuery, walletQueryBiz()).fields["sign_key_id"])
	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/signing-key", map[string]any{"key_id": "nope"})
	require.Equal(t, http.StatusBadRequest, code)
}

func TestControlAccounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 700)
	code, out := control(t, f.bank, http.MethodPost, "/sandbox/accounts/"+acct+"/freeze", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "FROZEN", out["status"])
	require.Equal(t, float64(0), out["available_balance"])
	f.c.fails(codeAccountFrozen, payPath, f.payArgs(f.c, acct, 1))
	code, out = control(t, f.bank, http.MethodPost, "/sandbox/accounts/"+acct+"/unfreeze", nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "NORMAL", out["status"])
	f.c.ok(payPath, f.payArgs(f.c, acct, 200))

	code, out = control(t, f.bank, http.MethodGet, "/sandbox/accounts/"+acct+"/ledger", nil)
	require.Equal(t, http.StatusOK, code)
	entries := out["entries"].([]any)
	require.Len(t, entries, 2)
	require.Equal(t, map[string]any{"time": "2026-11-25 16:00:00", "type": "PAY", "amount": float64(-200),
		"balance_after": float64(500), "out_trade_no": entries[1].(map[string]any)["out_trade_no"]}, entries[1])

	code, _ = control(t, f.bank, http.MethodPost, "/sandbox/accounts/6236889999999999/freeze", nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = control(t, f.bank, http.MethodGet, "/sandbox/accounts/6236889999999999/ledger", nil)
	require.Equal(t, http.StatusNotFound, code)
	code, _ = control(t, f.bank, http.MethodGet, "/sandbox/accounts/"+acct+"/freeze", nil)
	require.Equal(t, http.StatusMethodNotAllowed, code)
	code, _ = control(t, f.bank, http.MethodGet, "/sandbox/nothing", nil)
	require.Equal(t, http.StatusNotFound, code)
}

func TestControlNotifications(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := newReceiver(t, f.c, always(http.StatusOK, ack))
	acct, _ := f.newAccount()
	f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1, "notify_url": rcv.srv.URL})
	rcv.waitFor(1)
	require.Eventually(t, func() bool {
		d := f.bank.Deliveries("")
		return len(d) == 1 && d[0].Done
	}, 5*time.Second, 5*time.Millisecond)
	code, out := control(t, f.bank, http.MethodGet, "/sandbox/notifications?merchant_id="+DefaultMerchantID, nil)
	require.Equal(t, http.StatusOK, code)
	ds := out["deliveries"].([]any)
	require.Len(t, ds, 1)
	d := ds[0].(map[string]any)
	require.Equal(t, "RECHARGE_SUCCEEDED", d["notify_type"])
	require.Equal(t, rcv.srv.URL, d["url"])
	require.Equal(t, true, d["done"])
	require.Regexp(t, `^N[0-9a-f]{32}$`, d["notify_id"])
	a := d["attempts"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"time": "2026-11-25 16:00:00", "status": float64(200), "ok": true}, a)

	_, out = control(t, f.bank, http.MethodGet, "/sandbox/notifications?merchant_id=M-other", nil)
	require.Empty(t, out["deliveries"])
}

// TestControlRefusesBrowsers: the control API answers programs on the
// machine (or at the sandbox's own address), not a web page that a
// developer's browser runs: another Host (DNS rebinding), another Origin,
// and a POST that is not application/json (a cross-site form) get 403.
func TestControlRefusesBrowsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.Addr = "sandbox.test:8360" })
	get := func(host string, h http.Header) int {
		code, _ := controlAs(t, f.bank, host, h, http.MethodGet, "/sandbox/credentials", nil)
		return code
	}
	post := func(host string, h http.Header) int {
		code, _ := controlAs(t, f.bank, host, h, http.MethodPost, "/sandbox/clock", map[string]any{"advance": "1s"})
		return code
	}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for host, want := range map[string]int{
		"127.0.0.1:8360":         http.StatusOK,
		"127.9.9.9":              http.StatusOK,
		"[::1]:8360":             http.StatusOK,
		"localhost:8360":         http.StatusOK,
		"LocalHost":              http.StatusOK,
		"sandbox.test:8360":      http.StatusOK, // Options.Addr
		"SANDBOX.TEST":           http.StatusOK,
		"evil.example":           http.StatusForbidden,
		"evil.example:8360":      http.StatusForbidden, // a rebound name on the sandbox's port
		"sandbox.test.evil:8360": http.StatusForbidden,
		"localhost.evil.example": http.StatusForbidden,
		"128.0.0.1:8360":         http.StatusForbidden,
		"[::2]:8360":             http.StatusForbidden,
		"":                       http.StatusForbidden,
	} {
		require.Equal(t, want, get(host, nil), "GET Host %q", host)
		require.Equal(t, want, post(host, hdr("Content-Type", "application/json")), "POST Host %q", host)
	}
	for origin, want := range map[string]int{
		"http://127.0.0.1:8360":  http.StatusOK,
		"https://127.0.0.1:8360": http.StatusOK,
		"http://127.0.0.1:9999":  http.StatusForbidden, // another port is another origin
		"http://evil.example":    http.StatusForbidden,
		"http://localhost:8360":  http.StatusForbidden, // same machine, but another origin
		"null":                   http.StatusForbidden,
		"file://":                http.StatusForbidden,
	} {
		require.Equal(t, want, get("127.0.0.1:8360", hdr("Origin", origin)), "GET Origin %q", origin)
		require.Equal(t, want, post("127.0.0.1:8360", hdr("Origin", origin, "Content-Type", "application/json")), "POST Origin %q", origin)
	}
	for ct, want := range map[string]int{
		"application/json":                  http.StatusOK,
		"application/json; charset=utf-8":   http.StatusOK,
		"Application/JSON":                  http.StatusOK,
		"":                                  http.StatusForbidden,
		"text/plain":                        http.StatusForbidden, // what a cross-site fetch sends without a preflight
		"application/x-www-form-urlencoded": http.StatusForbidden,
		"multipart/form-data; boundary=x":   http.StatusForbidden,
		"application/json-seq":              http.StatusForbidden,
		"application/json;;":                http.StatusForbidden,
	} {
		require.Equal(t, want, post("127.0.0.1:8360", hdr("Content-Type", ct)), "Content-Type %q", ct)
	}

	// Nothing happened through the refused calls: the clock moved one
	// second per allowed POST above (7 hosts, 2 origins, 3 types).
	require.Equal(t, testStart.Add(12*time.Second), f.bank.BusinessNow())

	// Over a real connection, a rebound Host is refused too; the sandbox's
	// own Host is not. The API and the H5 pages are not affected: they are
	// signed.
	srv := httptest.NewServer(f.bank)
	t.Cleanup(srv.Close)
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/sandbox/credentials", nil)
	require.NoError(t, err)
	req.Host = "rebind.example"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.NotContains(t, string(readAll(t, resp)), "PRIVATE KEY")
	resp, err = http.Get(srv.URL + "/sandbox/credentials")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp.Body.Close()
}

// TestControlMerchantList: GET /sandbox/merchants and Bank.Merchants list
// every registered app with its current notify URL, and every change of a
// notify URL is logged.
func TestControlMerchantList(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	f := newFixture(t, func(o *Options) { o.Logger = slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)) })
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: "b-app", MerchantID: "M200000002", PublicKey: k.Public(),
		NotifyURL: "http://127.0.0.1:9001/notify"}))
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: "a-app", MerchantID: "M300000003", PublicKey: k.Public()}))
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: "b-app", MerchantID: "M200000002", PublicKey: k.Public(),
		NotifyURL: "https://merchant.example/n2"}))
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: "b-app", MerchantID: "M200000002", PublicKey: k.Public(),
		NotifyURL: "https://merchant.example/n2"}))

	ms := f.bank.Merchants()
	require.Len(t, ms, 3)
	require.Equal(t, []string{"a-app", "b-app", DefaultAppID}, []string{ms[0].AppID, ms[1].AppID, ms[2].AppID})
	require.Equal(t, "https://merchant.example/n2", ms[1].NotifyURL)
	require.Empty(t, ms[0].NotifyURL)
	require.True(t, ms[1].PublicKey.Equal(k.Public()))

	code, out := control(t, f.bank, http.MethodGet, "/sandbox/merchants", nil)
	require.Equal(t, http.StatusOK, code)
	list := out["merchants"].([]any)
	require.Len(t, list, 3)
	b := list[1].(map[string]any)
	require.Equal(t, "b-app", b["app_id"])
	require.Equal(t, "M200000002", b["merchant_id"])
	require.Equal(t, "https://merchant.example/n2", b["notify_url"])
	pub, err := sign.ParsePublicKey([]byte(b["public_key"].(string)))
	require.NoError(t, err)
	require.True(t, pub.Equal(k.Public()))
	require.NotContains(t, list[0].(map[string]any), "notify_url")
	code, _ = control(t, f.bank, http.MethodDelete, "/sandbox/merchants", nil)
	require.Equal(t, http.StatusMethodNotAllowed, code)

	log := logs.String()
	require.Contains(t, log, `msg="sandbox: notify URL registered" app_id=b-app merchant_id=M200000002 notify_url=http://127.0.0.1:9001/notify`)
	require.Contains(t, log, `msg="sandbox: notify URL changed" app_id=b-app merchant_id=M200000002 from=http://127.0.0.1:9001/notify notify_url=https://merchant.example/n2`)
	require.Equal(t, 2, strings.Count(log, "notify URL"), "registering the same URL again is no change; a-app has none")
}

// syncWriter serialises writes to a buffer that a test reads.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// TestAdvanceClockToNext: the business clock moves forward to the next
// time of day asked for (UTC+8), stays when it reads it already, and never
// goes back.
func TestAdvanceClockToNext(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // real clock 2026-11-25 16:00 UTC+8
	at, err := f.bank.AdvanceClockToNext(10, 0)
	require.NoError(t, err)
	require.Equal(t, "2026-11-26 10:00:00", formatTime(at))
	at, err = f.bank.AdvanceClockToNext(10, 0)
	require.NoError(t, err)
	require.Equal(t, "2026-11-26 10:00:00", formatTime(at), "already there")
	at, err = f.bank.AdvanceClockToNext(23, 59)
	require.NoError(t, err)
	require.Equal(t, "2026-11-26 23:59:00", formatTime(at))
	at, err = f.bank.AdvanceClockToNext(0, 0)
	require.NoError(t, err)
	require.Equal(t, "2026-11-27 00:00:00", formatTime(at))
	for _, bad := range [][2]int{{24, 0}, {-1, 0}, {10, 60}} {
		_, err = f.bank.AdvanceClockToNext(bad[0], bad[1])
		require.Error(t, err)
	}
	require.Equal(t, "2026-11-27 00:00:00", formatTime(f.bank.BusinessNow()))
	// Envelope time is untouched.
	require.Equal(t, testStart, f.clock.Now())
}

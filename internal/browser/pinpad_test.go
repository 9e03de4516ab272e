package browser

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The PIN pad of wallet/pinpad in headless Chromium, without network: the
// page encrypts the PIN, the merchant's endpoint pays through the SDK
// against the sandbox bank, and nothing the merchant's server receives or
// logs — nor what its client sends the bank — holds the digits.
func TestBrowserPINPad(t *testing.T) {
	exe := chromium(t)
	logs := &wallettest.Logs{}
	debug := func(who string) *slog.Logger { return logs.Logger().With("who", who) }
	sb := wallettest.NewServer(t, wallettest.WithLogger(debug("bank")))
	wire := &wireRecorder{next: http.DefaultTransport}
	client := sb.Client(wallet.WithLogger(debug("client")), wallet.WithHTTPClient(&http.Client{Transport: wire}))
	ctx := context.Background()
	acct, err := wallettest.Open(ctx, client, wallettest.Person())
	require.NoError(t, err)
	pay := payment.New(client)
	_, err = pay.Recharge(ctx, payment.RechargeRequest{AccountNo: acct.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 200_00})
	require.NoError(t, err)

	m := newMerchant(t, client, debug("merchant"))
	order := m.add(payment.PayRequest{AccountNo: acct.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 99_00, Subject: "会员月卡 & 礼包"})
	key, err := client.PINKey()
	require.NoError(t, err)

	tab := newTab(t, exe)
	tab.offline()
	resp := tab.open(m.srv.URL+"/pin/?order="+order, http.StatusOK)
	require.Equal(t, pinpad.CSP, resp.Headers["Content-Security-Policy"])
	tab.waitFor(`document.getElementById('pinpad').dataset.state === 'ready'`)
	require.Equal(t, key.KeyID, tab.attr("#pinpad", "data-key-id"), "the page encrypts to the client's key")
	require.Equal(t, key.Hex, tab.attr("#pinpad", "data-key"))
	require.Contains(t, tab.text(".amount"), "99.00")
	require.Equal(t, "会员月卡 & 礼包", tab.text(".subject"))

	// A wrong PIN, typed on a keyboard. The digits never reach the DOM.
	const wrong = "246813"
	tab.keys(wrong[:3])
	require.Equal(t, "3", tab.attr("#pinpad", "data-count"))
	require.NotContains(t, eval[string](tab, `document.documentElement.outerHTML`), wrong[:3])
	tab.shoot("pinpad")
	tab.keys(wrong[3:])
	tab.waitFor(`document.getElementById('status').dataset.code === 'PASSWORD_INCORRECT' && document.getElementById('pinpad').dataset.state === 'ready'`)
	require.Equal(t, "密码错误，请重新输入", tab.text("#status"))
	require.Equal(t, "0", tab.attr("#pinpad", "data-count"), "the pad is cleared for another try")
	tab.shoot("pinpad-wrong")

	// The right PIN on the pad's buttons, with a slip corrected.
	tab.click(`button[data-digit="8"]`)
	tab.click(`button[data-del]`)
	for _, d := range wallettest.TestPIN {
		tab.click(fmt.Sprintf(`button[data-digit="%c"]`, d))
	}
	// Paid, the page follows the merchant's redirect to its order page,
	// which asks the bank.
	tab.waitPath("/orders/" + order)
	require.Equal(t, "SUCCESS", tab.text("#status"))
	require.Equal(t, []string{"PASSWORD_INCORRECT", "SUCCESS"}, m.outcomes())

	// The bank has the order, paid, and the money moved once.
	o, err := pay.Query(ctx, order)
	require.NoError(t, err)
	require.Equal(t, wallet.StatusSuccess, o.Status)
	require.Equal(t, int64(99_00), o.Amount)
	a, err := account.New(client).Query(ctx, acct.AccountNo)
	require.NoError(t, err)
	require.Equal(t, int64(101_00), a.Balance)

	// The page posted {key_id, ciphertext, ref} and nothing else, twice,
	// with a fresh ciphertext each time.
	var posts []map[string]string
	for _, r := range m.received() {
		if r.method == http.MethodPost {
			require.Equal(t, "/pay", r.path)
			var body map[string]string
			require.NoError(t, json.Unmarshal([]byte(r.body), &body), r.body)
			require.ElementsMatch(t, []string{"key_id", "ciphertext", "ref"}, slices.Collect(maps.Keys(body)))
			require.Equal(t, key.KeyID, body["key_id"])
			require.Equal(t, order, body["ref"])
			require.NoError(t, wallet.EncryptedPIN{KeyID: body["key_id"], Ciphertext: body["ciphertext"]}.Check())
			posts = append(posts, body)
		}
	}
	require.Len(t, posts, 2)
	require.NotEqual(t, posts[0]["ciphertext"], posts[1]["ciphertext"])

	// Nowhere on the merchant's side are the digits: not in what its server
	// received, not in its logs or its SDK client's, not on the wire to the
	// bank; nor in the bank's logs.
	var everything []string
	for _, r := range m.received() {
		everything = append(everything, r.method+" "+r.path+"?"+r.query+"\n"+r.body)
	}
	everything = append(everything, wire.bodies()...)
	everything = append(everything, logs.String())
	require.Contains(t, logs.String(), "who=merchant", "the merchant logged")
	require.Contains(t, logs.String(), "who=client", "the client logged")
	require.Contains(t, logs.String(), "level=DEBUG", "at debug level")
	for _, pin := range []string{wallettest.TestPIN, wrong} {
		for _, text := range everything {
			require.Empty(t, leaks(text, pin), "the PIN %s shows in:\n%s", pin, text)
		}
	}

	// The page asked its own origin for everything, and reported no error
	// (a CSP violation would be one).
	tab.onlyOrigins(origin(t, m.srv.URL))
	tab.noProblems()
}

// What sm-crypto in the browser encrypts opens in Go with the bank's
// private key: the pad's own output (through the page, with its 04 put
// back) and, in bulk, sm-crypto's doEncrypt called directly — whose output
// lacks C1's 04, and whose mode 0 (C1C2C3) does not open.
func TestBrowserPINPadConformance(t *testing.T) {
	exe := chromium(t)
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	bank, err := sign.ParsePrivateKey([]byte(keys.Bank.PrivatePEM))
	require.NoError(t, err)
	key := wallet.PINKey{KeyID: keys.BankKeyID, Hex: keys.Bank.PublicHex}

	got := make(chan pinpad.Submission, 1)
	var last atomic.Bool // the last submission is answered OK with a redirect off the origin
	pad, err := pinpad.New(pinpad.KeyFunc(func() (wallet.PINKey, error) { return key, nil }), "/collect")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("POST /collect", func(w http.ResponseWriter, r *http.Request) {
		sub, err := pinpad.Decode(r)
		if err != nil {
			t.Errorf("the page's submission: %v", err)
			pinpad.Reply(w, pinpad.Failure(err))
			return
		}
		got <- sub
		if last.Load() {
			pinpad.Reply(w, pinpad.Result{OK: true, Message: "完成", Redirect: "https://evil.example/phish"})
			return
		}
		pinpad.Reply(w, pinpad.Result{Message: "已收到", Retry: true}) // the pad stays open for the next
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	tab := newTab(t, exe)
	tab.open(srv.URL+"/pin/", http.StatusOK)
	tab.waitFor(`document.getElementById('pinpad').dataset.state === 'ready'`)
	pins := []string{"000000", "999999", wallettest.TestPIN, "314159"}
	for range 12 {
		pins = append(pins, fmt.Sprintf("%06d", rand.IntN(1_000_000)))
	}
	for _, pin := range pins {
		for _, d := range pin {
			tab.click(fmt.Sprintf(`button[data-digit="%c"]`, d))
		}
		var sub pinpad.Submission
		select {
		case sub = <-got:
		case <-time.After(20 * time.Second):
			t.Fatalf("the page posted nothing for %s", pin)
		}
		tab.waitFor(`document.getElementById('pinpad').dataset.state === 'ready'`)
		require.Equal(t, keys.BankKeyID, sub.PIN.KeyID)
		raw, err := base64.StdEncoding.Strict().DecodeString(sub.PIN.Ciphertext)
		require.NoError(t, err)
		require.Len(t, raw, 103)
		plain, err := bank.Decrypt(context.Background(), raw)
		require.NoError(t, err, pin)
		require.Equal(t, pin, string(plain))
	}

	// Done, with a redirect to another origin: the page does not follow it.
	last.Store(true)
	for _, d := range "111111" {
		tab.click(fmt.Sprintf(`button[data-digit="%c"]`, d))
	}
	<-got
	tab.waitFor(`document.getElementById('pinpad').dataset.state === 'done'`)
	require.Equal(t, "完成", tab.text("#status"))
	require.Equal(t, "/pin/", eval[string](tab, `location.pathname`))

	// sm-crypto directly, many times, to meet the rare points (x or y with
	// leading zero bytes) that a padding bug would break on.
	type pair struct {
		PIN    string `json:"pin"`
		C1C3C2 string `json:"c1c3c2"`
		C1C2C3 string `json:"c1c2c3"`
	}
	const n = 100
	out := eval[[]pair](tab, fmt.Sprintf(`(() => {
		const key = %q, out = [];
		for (let i = 0; i < %d; i++) {
			const pin = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
			out.push({pin, c1c3c2: sm2.doEncrypt(pin, key, 1), c1c2c3: sm2.doEncrypt(pin, key, 0)});
		}
		return out;
	})()`, keys.Bank.PublicHex, n))
	require.Len(t, out, n)
	for _, p := range out {
		c1c3c2, err := hex.DecodeString(p.C1C3C2)
		require.NoError(t, err)
		require.Len(t, c1c3c2, 102, "sm-crypto leaves out C1's 04")
		_, err = bank.Decrypt(context.Background(), c1c3c2)
		require.Error(t, err, "as sm-crypto writes it, it does not open")
		plain, err := bank.Decrypt(context.Background(), append([]byte{0x04}, c1c3c2...))
		require.NoError(t, err, p.PIN)
		require.Equal(t, p.PIN, string(plain))
		c1c2c3, err := hex.DecodeString(p.C1C2C3)
		require.NoError(t, err)
		_, err = bank.Decrypt(context.Background(), append([]byte{0x04}, c1c2c3...))
		require.Error(t, err, "C1C2C3 is not the protocol's order")
	}
	tab.onlyOrigins(origin(t, srv.URL))
	tab.noProblems()
}

// A page whose key is no good shows no pad: nothing can be typed.
func TestBrowserPINPadWithoutKey(t *testing.T) {
	exe := chromium(t)
	pad, err := pinpad.New(pinpad.KeyFunc(func() (wallet.PINKey, error) { return wallet.PINKey{}, errors.New("no key") }), "/pay")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	tab := newTab(t, exe)
	tab.open(srv.URL+"/pin/", http.StatusServiceUnavailable)
	require.Equal(t, "暂时无法输入密码，请稍后再试", tab.text(".status"))
	require.Equal(t, 0, eval[int](tab, `document.querySelectorAll('button').length`))
	tab.onlyOrigins(origin(t, srv.URL))
}

// TestLeaksFinds keeps the leak check honest: each way a PIN could slip
// out is found, and a ciphertext that happens to hold the digits is not.
func TestLeaksFinds(t *testing.T) {
	const pin = "135790"
	for _, text := range []string{
		`{"pin":"135790"}`, `pin=135790`, "135790", `level=DEBUG msg=x pin=135790 who=merchant`,
		`digits=[1 3 5 7 9 0]`, `{"digits":["1","3","5","7","9","0"]}`, `[49,51,53,55,57,48]`,
		`hex=313335373930`, `b64=MTM1Nzkw`,
	} {
		require.NotEmpty(t, leaks(text, pin), text)
	}
	for _, text := range []string{
		`{"ciphertext":"BAx135790yZ+/Q=="}`, `msg_id=0f135790aa`, `out_trade_no=T20261130135790123abcdef01`, `amount=9900`,
	} {
		require.Empty(t, leaks(text, pin), text)
	}
}

// leaks returns the forms in which text shows pin: the digits as a token
// of their own (not inside a longer run of letters, digits or base64, as a
// ciphertext or an order number may hold them by chance), the digits one
// by one (an array), their char codes, or their ASCII in hex or base64.
func leaks(text, pin string) []string {
	var found []string
	q := regexp.QuoteMeta
	token := regexp.MustCompile(`(^|[^0-9A-Za-z+/])` + q(pin) + `($|[^0-9A-Za-z+/=])`)
	if token.MatchString(text) {
		found = append(found, "token")
	}
	sep := `[^0-9A-Za-z]{1,4}`
	var digits, codes []string
	for _, d := range pin {
		digits = append(digits, q(string(d)))
		codes = append(codes, fmt.Sprint(d))
	}
	if regexp.MustCompile(strings.Join(digits, sep)).MatchString(text) {
		found = append(found, "digits")
	}
	if regexp.MustCompile(`(^|[^0-9])` + strings.Join(codes, `[^0-9]{1,3}`) + `($|[^0-9])`).MatchString(text) {
		found = append(found, "char codes")
	}
	if strings.Contains(strings.ToLower(text), hex.EncodeToString([]byte(pin))) {
		found = append(found, "hex")
	}
	if strings.Contains(text, base64.StdEncoding.EncodeToString([]byte(pin))) {
		found = append(found, "base64")
	}
	return found
}

// merchant is the shop under test: the PIN pad at /pin/, and /pay, which
// decodes the page's POST and pays through the SDK. It records every
// request it receives, bodies included.
type merchant struct {
	t   *testing.T
	srv *httptest.Server
	log *slog.Logger
	pay *payment.Service

	mu       sync.Mutex
	orders   map[string]payment.PayRequest
	requests []received
	results  []string
}

type received struct{ method, path, query, body string }

func newMerchant(t *testing.T, c *wallet.Client, log *slog.Logger) *merchant {
	m := &merchant{t: t, log: log, pay: payment.New(c), orders: map[string]payment.PayRequest{}}
	pad, err := pinpad.New(c, "/pay", pinpad.WithLogger(log), pinpad.WithPrompt(func(r *http.Request) (pinpad.Prompt, error) {
		o, ok := m.order(r.URL.Query().Get("order"))
		if !ok {
			return pinpad.Prompt{}, errors.New("no such order")
		}
		return pinpad.Prompt{Title: "请输入支付密码", Subject: o.Subject, Amount: o.Amount, Ref: o.OutTradeNo}, nil
	}))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("POST /pay", m.handlePay)
	mux.HandleFunc("GET /orders/{no}", m.showOrder)
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	m.srv = httptest.NewServer(m.record(mux))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *merchant) add(o payment.PayRequest) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.orders[o.OutTradeNo] = o
	return o.OutTradeNo
}

func (m *merchant) order(ref string) (payment.PayRequest, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.orders[ref]
	return o, ok
}

// handlePay is what a merchant writes, logging as a careful one would at
// debug level: the submission and the request, which print masked.
func (m *merchant) handlePay(w http.ResponseWriter, r *http.Request) {
	sub, err := pinpad.Decode(r)
	if err != nil {
		m.log.Warn("pin pad: bad submission", "err", err)
		m.outcome("BAD_SUBMISSION")
		pinpad.Reply(w, pinpad.Failure(err))
		return
	}
	m.log.Debug("pin pad: submission", "submission", sub)
	req, ok := m.order(sub.Ref)
	if !ok {
		m.outcome("NO_ORDER")
		pinpad.Reply(w, pinpad.Result{Message: "订单不存在"})
		return
	}
	req.Password = sub.PIN
	m.log.Debug("paying", "request", req, "pin", req.Password)
	o, err := m.pay.Pay(r.Context(), req)
	if err != nil {
		m.log.Info("pay refused", "out_trade_no", req.OutTradeNo, "err", err)
		res := pinpad.Failure(err)
		m.outcome(res.Code)
		pinpad.Reply(w, res)
		return
	}
	m.log.Info("paid", "order", o)
	m.outcome(string(o.Status))
	pinpad.Reply(w, pinpad.Result{OK: true, Message: "支付成功", Redirect: "/orders/" + o.OutTradeNo})
}

// showOrder is the merchant's order page: what the bank says of it.
func (m *merchant) showOrder(w http.ResponseWriter, r *http.Request) {
	o, err := m.pay.Query(r.Context(), r.PathValue("no"))
	if err != nil {
		http.Error(w, "查询失败", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = fmt.Fprintf(w, `<!DOCTYPE html><title>订单</title><p id="status">%s</p>`, o.Status)
}

func (m *merchant) outcome(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.results = append(m.results, s)
}

func (m *merchant) outcomes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.results)
}

func (m *merchant) received() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.requests)
}

// record keeps every request's body, then hands the request on.
func (m *merchant) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		m.requests = append(m.requests, received{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		m.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		next.ServeHTTP(w, r)
	})
}

// wireRecorder keeps the body of every request the SDK client sends.
type wireRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []string
}

func (w *wireRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		_ = r.Body.Close()
		if err != nil {
			return nil, err
		}
		w.mu.Lock()
		w.sent = append(w.sent, string(b))
		w.mu.Unlock()
		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return w.next.RoundTrip(r)
}

func (w *wireRecorder) bodies() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.sent)
}

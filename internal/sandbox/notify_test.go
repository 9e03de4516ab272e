package sandbox

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// receiver is a merchant notification endpoint that verifies every
// delivery as a merchant must and answers as told.
type receiver struct {
	t       *testing.T
	c       *tclient
	srv     *httptest.Server
	mu      sync.Mutex
	got     []received
	answer  func(n int) (int, string) // status and body for the n-th delivery (from 1)
	onEvery func()
}

type received struct {
	at     time.Time
	fields map[string]string
	biz    []byte
	err    error
}

func newReceiver(t *testing.T, c *tclient, answer func(n int) (int, string)) *receiver {
	r := &receiver{t: t, c: c, answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{at: time.Now()}
	rec.err = json.Unmarshal(body, &rec.fields)
	if rec.err == nil {
		f := rec.fields
		pub := r.c.bankKeys[f["sign_key_id"]]
		if pub == nil {
			rec.err = sign.ErrInvalidSignature
		} else if rec.err = pub.VerifyCanonical("/notify", f, f["sign"]); rec.err == nil {
			rec.biz, rec.err = sign.Open(context.Background(), r.c.key, f["encrypt_key"], f["biz_content"], f["notify_id"])
		}
	}
	r.mu.Lock()
	r.got = append(r.got, rec)
	n := len(r.got)
	r.mu.Unlock()
	if r.onEvery != nil {
		r.onEvery()
	}
	status, text := r.answer(n)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(text))
}

func (r *receiver) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) waitFor(n int) []received {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.received()) >= n }, 10*time.Second, 5*time.Millisecond)
	return r.received()
}

func always(status int, body string) func(int) (int, string) {
	return func(int) (int, string) { return status, body }
}

const ack = `{"code":"SUCCESS"}`

// TestNotificationRetriedOnSchedule: a receiver that fails twice then
// succeeds gets three attempts, 15 s and 15 s apart (scaled), each verified
// under the bank key and decrypted with the merchant key; notify_id stays,
// timestamp and envelope are fresh.
func TestNotificationRetriedOnSchedule(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.NotifyScale = 0.002 }) // 15 s → 30 ms
	rcv := newReceiver(t, f.c, func(n int) (int, string) {
		switch n {
		case 1:
			return http.StatusInternalServerError, "oops"
		case 2:
			return http.StatusOK, `{"code":"FAIL"}`
		}
		return http.StatusOK, ack
	})
	rcv.onEvery = func() { f.clock.Add(time.Second) } // so that timestamps differ
	acct, _ := f.newAccount()
	r := f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "N-0001", "amount": 100, "notify_url": rcv.srv.URL})

	got := rcv.waitFor(3)
	require.Eventually(t, func() bool {
		d := f.bank.Deliveries(DefaultMerchantID)
		return len(d) == 1 && d[0].Done
	}, 5*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, rcv.received(), 3, "no attempt after success")
	for i, g := range got {
		require.NoError(t, g.err, "attempt %d", i+1)
		require.JSONEq(t, string(r.biz), string(g.biz), "biz_content is the order")
		require.Equal(t, "RECHARGE_SUCCEEDED", g.fields["notify_type"])
		require.Equal(t, DefaultAppID, g.fields["app_id"])
		require.Equal(t, DefaultMerchantID, g.fields["merchant_id"])
		require.Equal(t, "SM4-GCM", g.fields["encrypt_type"])
		require.Regexp(t, `^N[0-9a-f]{32}$`, g.fields["notify_id"])
		if i > 0 {
			prev := got[i-1]
			require.Equal(t, prev.fields["notify_id"], g.fields["notify_id"])
			require.NotEqual(t, prev.fields["timestamp"], g.fields["timestamp"])
			require.NotEqual(t, prev.fields["encrypt_key"], g.fields["encrypt_key"])
			require.NotEqual(t, prev.fields["sign"], g.fields["sign"])
			require.GreaterOrEqual(t, g.at.Sub(prev.at), 30*time.Millisecond, "15 s × 0.002")
		}
	}

	d := f.bank.Deliveries(DefaultMerchantID)[0]
	require.Equal(t, rcv.srv.URL, d.URL)
	require.Equal(t, got[0].fields["notify_id"], d.NotifyID)
	require.Len(t, d.Attempts, 3)
	require.Equal(t, []int{500, 200, 200}, []int{d.Attempts[0].Status, d.Attempts[1].Status, d.Attempts[2].Status})
	require.Equal(t, []bool{false, false, true}, []bool{d.Attempts[0].OK, d.Attempts[1].OK, d.Attempts[2].OK})
	require.True(t, d.Delivered())
	require.Empty(t, f.bank.Deliveries("M-nobody"))
}

func TestNotificationGivesUpAfterSchedule(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.NotifyScale = 1e-6 }) // the whole day in ~90 ms
	rcv := newReceiver(t, f.c, always(http.StatusBadGateway, ""))
	acct, _ := f.newAccount()
	f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "N-0002", "amount": 100, "notify_url": rcv.srv.URL})
	require.Eventually(t, func() bool {
		d := f.bank.Deliveries("")
		return len(d) == 1 && d[0].Done
	}, 10*time.Second, 5*time.Millisecond)
	d := f.bank.Deliveries("")[0]
	require.Len(t, d.Attempts, 1+len(notifySchedule()), "the first attempt and 15 retries")
	require.False(t, d.Delivered())
	require.Len(t, rcv.received(), 16)
}

func TestNotificationTypesAndURLs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	merchantRcv := newReceiver(t, f.c, always(http.StatusOK, ack))
	orderRcv := newReceiver(t, f.c, always(http.StatusOK, ack))
	// The test merchant gets a default notify URL.
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: DefaultAppID, MerchantID: DefaultMerchantID,
		PublicKey: f.c.key.Public(), NotifyURL: merchantRcv.srv.URL}))

	// Two ACCOUNT_OPENED and a RECHARGE_SUCCEEDED to the merchant's URL.
	acct, p := f.newAccount()
	payee, pp := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	// PAYMENT_SUCCEEDED, and the REFUND_SUCCEEDED of that order, to the
	// order's URL.
	pay := f.payArgs(f.c, acct, 1_000)
	pay["notify_url"] = orderRcv.srv.URL
	f.c.ok(payPath, pay)
	f.c.ok(refundPath, map[string]any{"out_trade_no": pay["out_trade_no"], "out_refund_no": "RF-0001", "amount": 10})
	// TRANSFER_SUCCEEDED, WITHDRAW_SUCCEEDED, ACCOUNT_CARD_CHANGED and
	// ACCOUNT_CLOSED to the merchant's URL.
	f.c.ok(transferPath, map[string]any{"account_no": acct, "payee_account_no": payee, "payee_name": pp.name,
		"out_trade_no": f.orderNo(), "amount": 10, "password": f.c.pin(goodPIN)})
	f.c.ok(withdrawPath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 9_000,
		"password": f.c.pin(goodPIN)})
	newMobile := "13655556666"
	f.c.ok(cardPath, map[string]any{"account_no": acct, "card_no": cardNumber("6227", 1), "mobile": newMobile,
		"sms_serial": f.sms(f.c, newMobile, "CHANGE_CARD"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
	f.c.ok(closePath, map[string]any{"account_no": acct, "sms_serial": f.sms(f.c, newMobile, "CLOSE"),
		"sms_code": sandboxCode, "password": f.c.pin(goodPIN)})

	merchantGot := merchantRcv.waitFor(7)
	orderGot := orderRcv.waitFor(2)
	types := map[string]int{}
	for _, g := range append(merchantGot, orderGot...) {
		require.NoError(t, g.err)
		types[g.fields["notify_type"]]++
	}
	require.Equal(t, map[string]int{
		"ACCOUNT_OPENED": 2, "RECHARGE_SUCCEEDED": 1, "PAYMENT_SUCCEEDED": 1, "REFUND_SUCCEEDED": 1,
		"TRANSFER_SUCCEEDED": 1, "WITHDRAW_SUCCEEDED": 1, "ACCOUNT_CARD_CHANGED": 1, "ACCOUNT_CLOSED": 1,
	}, types)
	for _, g := range orderGot {
		require.Contains(t, []string{"PAYMENT_SUCCEEDED", "REFUND_SUCCEEDED"}, g.fields["notify_type"])
	}
	for _, g := range merchantGot {
		if g.fields["notify_type"] == "ACCOUNT_CLOSED" {
			var v map[string]any
			require.NoError(t, json.Unmarshal(g.biz, &v))
			require.Equal(t, "CLOSED", v["status"])
			require.Equal(t, acct, v["account_no"])
			require.NotContains(t, v, "limits")
			require.NotContains(t, string(g.biz), p.id, "no clear personal data")
		}
		if g.fields["notify_type"] == "REFUND_SUCCEEDED" {
			t.Fatal("a refund goes to the order's notify_url")
		}
	}
}

func TestNoNotifyURLNoDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 100)
	time.Sleep(20 * time.Millisecond)
	require.Empty(t, f.bank.Deliveries(""))
}

// TestCloseStopsRetries: a retry 15 s away does not hold Close up.
func TestCloseStopsRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.NotifyScale = 1 })
	rcv := newReceiver(t, f.c, always(http.StatusInternalServerError, ""))
	acct, _ := f.newAccount()
	f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "N-0003", "amount": 100, "notify_url": rcv.srv.URL})
	rcv.waitFor(1)
	start := time.Now()
	require.NoError(t, f.bank.Close())
	require.Less(t, time.Since(start), time.Second)
	d := f.bank.Deliveries("")
	require.Len(t, d, 1)
	require.Len(t, d[0].Attempts, 1)
	require.False(t, d[0].Done)
}

// TestCloseStopsSlowAttempt: an attempt hanging on a slow receiver ends
// with Close too.
func TestCloseStopsSlowAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.NotifyTimeout = time.Minute; o.HTTPClient = &http.Client{} })
	hold := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hold:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hold); slow.Close() })
	acct, _ := f.newAccount()
	f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "N-0004", "amount": 100, "notify_url": slow.URL})
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	require.NoError(t, f.bank.Close())
	require.Less(t, time.Since(start), 2*time.Second)
}

func TestNotificationTimeoutIsAFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(o *Options) { o.NotifyTimeout = 50 * time.Millisecond; o.NotifyScale = 1e-6 })
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		first := n == 1
		mu.Unlock()
		if first {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
			}
			return
		}
		_, _ = w.Write([]byte(ack))
	}))
	t.Cleanup(srv.Close)
	acct, _ := f.newAccount()
	f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "N-0005", "amount": 100, "notify_url": srv.URL})
	require.Eventually(t, func() bool {
		d := f.bank.Deliveries("")
		return len(d) == 1 && d[0].Done
	}, 5*time.Second, 5*time.Millisecond)
	d := f.bank.Deliveries("")[0]
	require.Len(t, d.Attempts, 2)
	require.False(t, d.Attempts[0].OK)
	require.NotEmpty(t, d.Attempts[0].Error)
	require.True(t, d.Attempts[1].OK)
}

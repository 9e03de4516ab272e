package e2e

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Replay and tampering (docs/protocol.md, sections 3.1, 3.2, 3.4, 7 and 10): what an
// eavesdropper can do with a captured request or notification, what a
// client with a wrong clock gets, and what the client does with answers it
// cannot verify.

func balance(t *testing.T, c *wallet.Client, acct string) int64 {
	t.Helper()
	a, err := account.New(c).Query(context.Background(), acct)
	require.NoError(t, err)
	return a.Balance
}

func ledgerFor(sb *wallettest.Server, acct, outTradeNo string) []wallettest.LedgerEntry {
	var out []wallettest.LedgerEntry
	for _, e := range sb.Ledger(acct) {
		if e.OutTradeNo == outTradeNo {
			out = append(out, e)
		}
	}
	return out
}

// docs/protocol.md, section 3.4: the bank remembers (app_id, msg_id) with the request's
// fingerprint. The same msg_id and body get the original answer and move
// no money; the same msg_id with another body is MSG_ID_CONFLICT; and an
// envelope changed in any signed field is SIGNATURE_INVALID, so a replay
// cannot escape the idempotency cache under a new msg_id.
func TestReplayedRequests(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	acct := sb.OpenAccount(wallettest.Person())
	sb.Recharge(acct, 10_000)
	sent := &sentLog{}
	c := sb.Client(wallet.WithHTTPClient(&http.Client{Transport: sent}), wallet.WithRetry(0))
	pin := wallettest.PIN(t, c)
	req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 2_000, Subject: "会员月卡", Password: pin}
	paid, err := payment.New(c).Pay(t.Context(), req)
	require.NoError(t, err)
	captured := sent.last(t, "payment/pay")
	env := parseEnvelope(t, captured)
	msgID := env["msg_id"]

	t.Run("same msg_id, same body: the original answer, no second debit", func(t *testing.T) {
		var again wallet.Order
		require.NoError(t, c.Do(t.Context(), "payment/pay", req, &again, wallet.WithMsgID(msgID)))
		require.Equal(t, paid.TradeNo, again.TradeNo)
		again2 := sent.last(t, "payment/pay")
		require.NotEqual(t, env["sign"], parseEnvelope(t, again2)["sign"], "a repeat is a fresh envelope, not a copy")
	})

	t.Run("the captured envelope, byte for byte: the original answer, no second debit", func(t *testing.T) {
		ans := postAPI(t, c, "payment/pay", captured)
		require.Equal(t, "SUCCESS", ans["code"])
		require.Equal(t, msgID, ans["msg_id"])
		merchant, err := sign.ParsePrivateKey([]byte(sandbox.DefaultMerchantKeyPEM))
		require.NoError(t, err)
		plain, err := sign.Open(context.Background(), merchant, ans["encrypt_key"], ans["biz_content"], msgID)
		require.NoError(t, err, "the answer is encrypted to the merchant: the eavesdropper learns nothing")
		require.Contains(t, string(plain), paid.TradeNo)
	})

	t.Run("same msg_id, another body: MSG_ID_CONFLICT", func(t *testing.T) {
		for _, change := range []func(*payment.PayRequest){
			func(r *payment.PayRequest) { r.Amount = 2_001 },
			func(r *payment.PayRequest) { r.OutTradeNo = payment.NewOutTradeNo() },
			func(r *payment.PayRequest) { r.Password = wallettest.PIN(t, c) }, // a fresh PIN ciphertext is another body
		} {
			other := req
			change(&other)
			err := c.Do(t.Context(), "payment/pay", other, nil, wallet.WithMsgID(msgID))
			require.ErrorIs(t, err, wallet.ErrMsgIDConflict)
			require.False(t, wallet.IsOutcomeUnknown(err), "a verified refusal: nothing happened")
		}
	})

	t.Run("the captured envelope, changed: SIGNATURE_INVALID", func(t *testing.T) {
		other := parseEnvelope(t, sent.last(t, "payment/pay"))
		for field, value := range map[string]string{
			"msg_id":         "0123456789abcdef0123456789abcdef", // escape the idempotency cache
			"timestamp":      env["timestamp"][:17] + "59",
			"biz_content":    other["biz_content"],
			"encrypt_key":    other["encrypt_key"],
			"encrypt_key_id": otherKeyID(env["encrypt_key_id"]),
			"merchant_id":    env["merchant_id"] + "0",
		} {
			if value == env[field] {
				continue
			}
			ans := postAPI(t, c, "payment/pay", env.with(field, value))
			want := "SIGNATURE_INVALID"
			if field == "merchant_id" {
				want = "PERMISSION_DENIED" // checked before the signature (docs/protocol.md, "Errors")
			}
			require.Equal(t, want, ans["code"], "%s changed", field)
		}
	})

	require.Equal(t, int64(8_000), balance(t, c, acct), "one debit")
	require.Len(t, ledgerFor(sb, acct, req.OutTradeNo), 1, "one ledger entry")
}

// docs/protocol.md 3.1 and 3.2: the bank rejects a timestamp more than
// 300 s from its clock, and a client refuses an answer more than 300 s
// from its own; either way nothing happens at the bank, so the order number
// stays free, and the client says its clock is off.
func TestStaleTimestampIsRefused(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	acct := sb.OpenAccount(wallettest.Person())
	sb.Recharge(acct, 10_000)
	good := sb.Client()
	req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 1_000, Subject: "会员月卡", Password: wallettest.PIN(t, good)}
	for _, skew := range []time.Duration{-301 * time.Second, 305 * time.Second, -24 * time.Hour} {
		c := sb.Client(wallet.WithClock(shifted(skew)))
		_, err := payment.New(c).Pay(t.Context(), req)
		// The bank's TIMESTAMP_EXPIRED answer carries the bank's time,
		// which a client 5 minutes off does not trust either.
		require.ErrorIs(t, err, wallet.ErrUnverifiedResponse, "clock %v off", skew)
		require.ErrorContains(t, err, "a clock to fix")
		require.False(t, wallet.IsRetryable(err), "a clock to fix, not a fault to retry")
	}
	for _, skew := range []time.Duration{-290 * time.Second, 290 * time.Second} {
		_, err := account.New(sb.Client(wallet.WithClock(shifted(skew)))).Query(t.Context(), acct)
		require.NoError(t, err, "clock %v off is inside the window", skew)
	}
	require.Equal(t, int64(10_000), balance(t, good, acct))
	_, err := payment.New(good).Pay(t.Context(), req)
	require.NoError(t, err, "the refused calls recorded nothing: the out_trade_no is free")
	require.Equal(t, int64(9_000), balance(t, good, acct))
}

// A captured request is answered from the idempotency cache while its
// timestamp is fresh, and refused once it is older than 300 s: the window
// is checked before the cache (docs/protocol.md, "Errors"), so a replay can
// never be served for the cache's 24 hours.
func TestCapturedRequestExpiresAfter300s(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Now()}
	bank, err := sandbox.New(sandbox.Options{Now: clock.Now})
	require.NoError(t, err)
	srv := httptest.NewServer(bank)
	t.Cleanup(func() { srv.Close(); _ = bank.Close() })
	creds := bank.Credentials()
	key, err := sign.ParsePrivateKey([]byte(creds.MerchantPrivateKeyPEM))
	require.NoError(t, err)
	keys := map[string]*sign.PublicKey{}
	for _, k := range creds.BankKeys {
		keys[k.KeyID], err = sign.ParsePublicKey([]byte(k.PublicKeyPEM))
		require.NoError(t, err)
	}
	sent := &sentLog{}
	c, err := wallet.NewClient(wallet.Config{BaseURL: srv.URL, AppID: creds.AppID, MerchantID: creds.MerchantID, PrivateKey: key, BankKeys: keys},
		wallet.WithClock(clock.Now), wallet.WithHTTPClient(&http.Client{Transport: sent}), wallet.WithRetry(0))
	require.NoError(t, err)
	a, err := wallettest.Open(t.Context(), c, wallettest.Person())
	require.NoError(t, err)
	_, err = payment.New(c).Recharge(t.Context(), payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 10_000})
	require.NoError(t, err)
	_, err = payment.New(c).Pay(t.Context(), payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(),
		Amount: 2_500, Subject: "会员月卡", Password: wallettest.PIN(t, c)})
	require.NoError(t, err)
	captured := sent.last(t, "payment/pay")

	clock.Add(299 * time.Second)
	require.Equal(t, "SUCCESS", postAPI(t, c, "payment/pay", captured)["code"], "299 s: the original answer")
	clock.Add(2 * time.Second)
	require.Equal(t, "TIMESTAMP_EXPIRED", postAPI(t, c, "payment/pay", captured)["code"], "301 s: refused")
	clock.Add(time.Hour)
	require.Equal(t, "TIMESTAMP_EXPIRED", postAPI(t, c, "payment/pay", captured)["code"])
	require.Equal(t, int64(7_500), balance(t, c, a.AccountNo))
}

func otherKeyID(id string) string {
	if id == "bank-2026-01" {
		return "bank-2026-07"
	}
	return "bank-2026-01"
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// docs/protocol.md, section 10: a delivery is signed with a fresh timestamp; a receiver
// refuses one more than 300 s from its clock, and de-duplicates on
// notify_id. The body is a real delivery of the sandbox, received at a
// notify URL registered through the control API.
func TestReplayedNotifications(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	live := sb.Client()
	var handled atomic.Int32
	liveHandler := mustHandler(t, live, func(context.Context, *notify.Event) error {
		handled.Add(1)
		return nil
	})
	rc := newReceiver(t, liveHandler)
	rc.loseFirst = true
	acct := sb.OpenAccount(wallettest.Person())
	registerNotifyURL(t, sb, rc.URL+"/notify")
	sb.Recharge(acct, 10_000)

	// The merchant handled the first delivery, but its answer was lost: the
	// bank delivers again, with the same notify_id in a fresh envelope, and
	// the handler does not run twice.
	got := rc.wait(t, 2)
	first, second := parseEnvelope(t, got[0].body), parseEnvelope(t, got[1].body)
	require.Equal(t, "RECHARGE_SUCCEEDED", first["notify_type"])
	require.Equal(t, first["notify_id"], second["notify_id"])
	require.NotEqual(t, first["encrypt_key"], second["encrypt_key"], "a fresh key envelope each attempt")
	require.Equal(t, http.StatusOK, got[0].status)
	require.Equal(t, http.StatusOK, got[1].status, "a duplicate is answered SUCCESS, so the bank stops")
	require.Equal(t, int32(1), handled.Load(), "and handled once")

	deliver := func(c *wallet.Client, body []byte) (int, int32) {
		var calls atomic.Int32
		rec := httptest.NewRecorder()
		mustHandler(t, c, func(context.Context, *notify.Event) error { calls.Add(1); return nil }).
			ServeHTTP(rec, notificationRequest(body))
		return rec.Code, calls.Load()
	}
	replay := got[0].body

	t.Run("to the same handler: a duplicate", func(t *testing.T) {
		rec := httptest.NewRecorder()
		liveHandler.ServeHTTP(rec, notificationRequest(replay))
		require.Equal(t, http.StatusOK, rec.Code)
		require.Equal(t, int32(1), handled.Load())
	})
	t.Run("more than 300 s later: refused", func(t *testing.T) {
		for _, skew := range []time.Duration{301 * time.Second, time.Hour, -301 * time.Second} {
			c := sb.Client(wallet.WithClock(shifted(skew)))
			_, err := notify.Parse(c, notificationRequest(replay))
			require.ErrorIs(t, err, notify.ErrRefused)
			require.ErrorContains(t, err, "300 s")
			code, calls := deliver(c, replay)
			require.Equal(t, http.StatusBadRequest, code, "answered as a failure")
			require.Zero(t, calls)
		}
	})
	t.Run("within 300 s at another process: handled again unless the deduper is shared", func(t *testing.T) {
		code, calls := deliver(sb.Client(wallet.WithClock(shifted(290*time.Second))), replay)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, int32(1), calls, "a fresh in-memory deduper has not seen it: share one (notify.WithDeduper)")
		shared := notify.NewMemoryDeduper(0)
		var calls2 atomic.Int32
		fn := func(context.Context, *notify.Event) error { calls2.Add(1); return nil }
		for _, c := range []*wallet.Client{sb.Client(), sb.Client()} {
			h, err := notify.NewHandler(c, fn, notify.WithDeduper(shared))
			require.NoError(t, err)
			h.ServeHTTP(httptest.NewRecorder(), notificationRequest(replay))
		}
		require.Equal(t, int32(1), calls2.Load(), "two instances with one deduper handle it once")
	})
	t.Run("changed or re-signed: refused", func(t *testing.T) {
		stranger, err := sign.GenerateKey()
		require.NoError(t, err)
		env := parseEnvelope(t, replay)
		forged := envelope{}
		for k, v := range env {
			forged[k] = v
		}
		delete(forged, "sign")
		forged["sign"], err = sign.SignCanonical(context.Background(), stranger, "/notify", forged)
		require.NoError(t, err)
		for name, body := range map[string][]byte{
			"new notify_id, to pass de-duplication": env.with("notify_id", "N0123456789abcdef0123456789abcdef"),
			"fresh timestamp":                       env.with("timestamp", time.Now().Add(time.Second).In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05")),
			"signed by a stranger":                  forged.with("sign_key_id", env["sign_key_id"]),
		} {
			code, calls := deliver(live, body)
			require.Equal(t, http.StatusBadRequest, code, name)
			require.Zero(t, calls, name)
		}
	})
}

// docs/protocol.md, sections 3.2 and 7: an answer that does not verify under a trusted
// bank key is not an answer. The client reports the outcome unknown, never
// the code or body such an answer carries; the merchant queries.
func TestUntrustedAnswersAreOutcomeUnknown(t *testing.T) {
	t.Parallel()

	t.Run("sandbox: a corrupted signature on a refusal", func(t *testing.T) {
		t.Parallel()
		sb := wallettest.NewServer(t)
		acct := sb.OpenAccount(wallettest.Person())
		sb.Recharge(acct, 1_000)
		c := sb.Client()
		req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 5_000, Subject: "太贵了", Password: wallettest.PIN(t, c)}
		sb.InjectFault(wallettest.Fault{Kind: wallettest.FaultBadSignature, Path: "payment/pay"})
		_, err := payment.New(c).Pay(t.Context(), req)
		require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)
		require.NotErrorIs(t, err, wallet.ErrInsufficientBalance, "the unverified code is not believed")
		var apiErr *wallet.APIError
		require.False(t, errors.As(err, &apiErr))
		_, err = payment.New(c).Query(t.Context(), req.OutTradeNo)
		require.ErrorIs(t, err, wallet.ErrOrderNotFound, "the query tells the truth: nothing happened")
		_, err = payment.New(c).Pay(t.Context(), req)
		require.ErrorIs(t, err, wallet.ErrInsufficientBalance, "and the same request, verified this time")
	})

	t.Run("sandbox: signed by a bank key the client does not trust", func(t *testing.T) {
		t.Parallel()
		sb := wallettest.NewServer(t)
		acct := sb.OpenAccount(wallettest.Person())
		sb.Recharge(acct, 10_000)
		cfg := sb.Config()
		delete(cfg.BankKeys, "bank-2026-07")
		c, err := wallet.NewClient(cfg, wallet.WithBackoff(time.Millisecond, 10*time.Millisecond))
		require.NoError(t, err)
		req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 1_000, Subject: "会员", Password: wallettest.PIN(t, c)}

		sb.SetSigningKey("bank-2026-07")
		o, err := payment.New(c).Pay(t.Context(), req)
		require.Nil(t, o)
		require.True(t, wallet.IsOutcomeUnknown(err))
		require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
		require.ErrorContains(t, err, "not a trusted bank key")
		found, err := payment.New(sb.Client()).Query(t.Context(), req.OutTradeNo)
		require.NoError(t, err, "the bank did act: this is why the outcome is unknown, not failed")
		require.Equal(t, int64(1_000), found.Amount)

		// Nor can the key list itself come from an untrusted signer.
		require.Error(t, c.RefreshBankKeys(t.Context()))
		require.Len(t, c.BankKeys(), 1, "the trusted set is unchanged")
		// Signed by a trusted key, the list is accepted, and the rotation
		// goes through.
		sb.SetSigningKey("bank-2026-01")
		require.NoError(t, c.RefreshBankKeys(t.Context()))
		require.Len(t, c.BankKeys(), 2)
		sb.SetSigningKey("bank-2026-07")
		again, err := payment.New(c).Pay(t.Context(), req)
		require.NoError(t, err)
		require.Equal(t, found.TradeNo, again.TradeNo, "the same out_trade_no returns the order, no second debit")
		require.Equal(t, int64(9_000), balance(t, c, acct))
	})

	t.Run("mock bank: answers signed by a stranger under the bank's key id", func(t *testing.T) {
		t.Parallel()
		stranger, err := sign.GenerateKey()
		require.NoError(t, err)
		bank := wallettest.NewMockBank(t)
		c := bank.Client()
		pin := wallettest.PIN(t, c)
		req := payment.PayRequest{AccountNo: goodAccount, OutTradeNo: goodTradeNo, Amount: 100, Subject: "会员", Password: pin}
		bank.On("payment/pay", func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Code: wallet.ErrInsufficientBalance, Msg: "余额不足", SignWith: stranger}
		})
		_, err = payment.New(c).Pay(t.Context(), req)
		require.True(t, wallet.IsOutcomeUnknown(err))
		require.NotErrorIs(t, err, wallet.ErrInsufficientBalance, "a forged refusal would hide a debit")

		bank.On("payment/pay", func(r *wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: map[string]any{"out_trade_no": goodTradeNo, "trade_no": "B1", "type": "PAY", "amount": 100, "status": "SUCCESS"}, SignWith: stranger}
		})
		o, err := payment.New(c).Pay(t.Context(), req)
		require.Nil(t, o, "a forged success is not returned")
		require.True(t, wallet.IsOutcomeUnknown(err))

		bank.On("account/query", func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: map[string]any{"account_no": goodAccount, "status": "NORMAL", "balance": 1 << 40}, SignWith: stranger}
		})
		a, err := account.New(c).Query(t.Context(), goodAccount)
		require.Nil(t, a)
		require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
		for _, r := range bank.Requests() {
			require.Equal(t, 1, r.Attempt, "unverifiable answers are not retried")
		}
	})
}

// A peer that floods the client gets nothing through: an answer over 1 MiB
// (signed properly or not) leaves the outcome unknown, and a notification
// over 256 KiB is refused before it is parsed.
func TestOversizedMessagesAreRefused(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	big := strings.Repeat("会", 400_000) // 1.2 MB of UTF-8
	bank.Reply("payment/query", map[string]any{"out_trade_no": goodTradeNo, "subject": big})
	c := bank.Client(wallet.WithRetry(0))
	o, err := payment.New(c).Query(t.Context(), goodTradeNo)
	require.Nil(t, o)
	require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)

	rec := httptest.NewRecorder()
	var calls atomic.Int32
	mustHandler(t, c, func(context.Context, *notify.Event) error { calls.Add(1); return nil }).
		ServeHTTP(rec, bank.Notification("/notify", notify.PaymentSucceeded, "N1", map[string]any{"subject": big[:300_000]}, time.Now()))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Zero(t, calls.Load())
	small := httptest.NewRecorder()
	mustHandler(t, c, func(context.Context, *notify.Event) error { calls.Add(1); return nil }).
		ServeHTTP(small, bank.Notification("/notify", notify.PaymentSucceeded, "N2", map[string]any{"subject": "会员"}, time.Now()))
	require.Equal(t, http.StatusOK, small.Code, "the same notification, small, is accepted")
}

package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

var paid = map[string]any{
	"out_trade_no": "T20261125002", "trade_no": "B2", "type": "PAY", "account_no": "6236880000000001",
	"amount": 2500, "refunded_amount": 0, "status": "SUCCESS",
	"created_at": "2026-11-25 15:58:00", "finished_at": "2026-11-25 15:58:02",
}

func deliver(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func handler(t *testing.T, c *wallet.Client, fn notify.Func, opts ...notify.Option) *notify.Handler {
	t.Helper()
	h, err := notify.NewHandler(c, fn, opts...)
	require.NoError(t, err)
	return h
}

func TestHandlerAnswersAndDeduplicates(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	var calls atomic.Int32
	var got *notify.Event
	h := handler(t, c, func(_ context.Context, e *notify.Event) error {
		calls.Add(1)
		got = e
		return nil
	})
	for i := 0; i < 3; i++ {
		w := deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now()))
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"code":"SUCCESS"}`, w.Body.String())
	}
	require.Equal(t, int32(1), calls.Load(), "the same notify_id is handled once")
	o, err := got.Order()
	require.NoError(t, err)
	require.Equal(t, "T20261125002", o.OutTradeNo)
	_, err = got.Refund()
	require.ErrorIs(t, err, notify.ErrWrongType)
}

func TestHandlerFailureIsRedelivered(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	var calls atomic.Int32
	h := handler(t, bank.Client(), func(context.Context, *notify.Event) error {
		switch calls.Add(1) {
		case 1:
			return errors.New("database down")
		case 2:
			panic("bug")
		}
		return nil
	})
	deliverN1 := func() int {
		return deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now())).Code
	}
	require.Equal(t, 500, deliverN1())
	require.Equal(t, 500, deliverN1(), "a panic is a failure, and releases the claim")
	require.Equal(t, 200, deliverN1())
	require.Equal(t, 200, deliverN1())
	require.Equal(t, int32(3), calls.Load())
}

func TestInFlightDuplicateFails(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	h := handler(t, bank.Client(), func(context.Context, *notify.Event) error {
		close(entered)
		<-release
		return nil
	})
	first := make(chan int)
	go func() {
		first <- deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now())).Code
	}()
	<-entered
	require.Equal(t, 503, deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now())).Code,
		"a duplicate while the first is running must fail, not succeed: the first may still fail")
	close(release)
	require.Equal(t, 200, <-first)
}

// ctxDeduper is a Deduper that honours its context as every database/sql
// one does: a call on a done context fails, and nothing is recorded.
type ctxDeduper struct {
	mem   *notify.MemoryDeduper
	calls atomic.Int32
}

func (d *ctxDeduper) Claim(ctx context.Context, id, owner string, lease time.Duration) (bool, error) {
	d.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return d.mem.Claim(ctx, id, owner, lease)
}

func (d *ctxDeduper) Release(ctx context.Context, id, owner string, handled bool) error {
	d.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.mem.Release(ctx, id, owner, handled)
}

// The bank waits 5 s and hangs up; a handler slower than that still
// records the event, on a context the hang-up does not cancel, so the
// redelivery is answered SUCCESS without running the handler again.
func TestSlowHandlerAndBankHangUpHandledExactlyOnce(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	d := &ctxDeduper{mem: notify.NewMemoryDeduper(0)}
	var calls atomic.Int32
	deadlines := make(chan time.Time, 2)
	h := handler(t, bank.Client(), func(ctx context.Context, e *notify.Event) error {
		calls.Add(1)
		deadline, _ := ctx.Deadline()
		deadlines <- deadline
		time.Sleep(150 * time.Millisecond) // longer than the bank waits (scaled below)
		return ctx.Err()
	}, notify.WithDeduper(d), notify.WithTimeout(2*time.Second))
	srv := httptest.NewServer(h)
	defer srv.Close()

	// The bank's client gives up after 50 ms, as the real one does after 5 s.
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	send := func() (*http.Response, error) {
		r := bank.Notification(srv.URL+"/notify", notify.PaymentSucceeded, "N1", paid, time.Now())
		return impatient.Do(r)
	}
	_, err := send()
	require.Error(t, err, "the bank hung up")
	require.False(t, (<-deadlines).IsZero(), "the handler sees a deadline")
	// The handler finishes after the hang-up; then the bank delivers again.
	require.Eventually(t, func() bool {
		done, err := d.mem.Claim(ctx, "N1", "probe", time.Second)
		if err == nil && !done {
			_ = d.mem.Release(ctx, "N1", "probe", false)
		}
		return done
	}, 2*time.Second, 10*time.Millisecond, "the event is recorded as handled although the bank hung up")
	resp, err := send()
	require.NoError(t, err)
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, int32(1), calls.Load(), "handled exactly once")
}

// A claim left by a process that crashed while handling the event lapses
// after its lease; a later delivery handles the event.
func TestAbandonedClaimIsTakenOverAfterItsLease(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	shared := notify.NewMemoryDeduper(0)
	// The "crashed" process: it claimed N1 and died before Release.
	done, err := shared.Claim(ctx, "N1", "crashed-process", 200*time.Millisecond)
	require.NoError(t, err)
	require.False(t, done)

	var calls atomic.Int32
	h := handler(t, bank.Client(), func(context.Context, *notify.Event) error { calls.Add(1); return nil },
		notify.WithDeduper(shared), notify.WithTimeout(50*time.Millisecond), notify.WithLease(time.Second))
	deliverN1 := func() int {
		return deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now())).Code
	}
	require.Equal(t, 503, deliverN1(), "within the lease the claim holds")
	require.Zero(t, calls.Load())
	time.Sleep(250 * time.Millisecond)
	require.Equal(t, 200, deliverN1(), "after the lease a delivery takes the event over")
	require.Equal(t, int32(1), calls.Load())
	require.Equal(t, 200, deliverN1())
	require.Equal(t, int32(1), calls.Load())
	// The crashed owner's late release cannot undo it.
	require.NoError(t, shared.Release(ctx, "N1", "crashed-process", false))
	require.Equal(t, 200, deliverN1())
	require.Equal(t, int32(1), calls.Load())
}

func TestDeduperDownIsAFailureTheBankRetries(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	var calls atomic.Int32
	h := handler(t, bank.Client(), func(context.Context, *notify.Event) error { calls.Add(1); return nil },
		notify.WithDeduper(downDeduper{}))
	require.Equal(t, 503, deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now())).Code)
	require.Zero(t, calls.Load(), "never handled without a claim")
}

type downDeduper struct{}

func (downDeduper) Claim(context.Context, string, string, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}
func (downDeduper) Release(context.Context, string, string, bool) error { return errors.New("down") }

func TestNewHandlerRefusesBadArguments(t *testing.T) {
	t.Parallel()
	c := wallettest.NewMockBank(t).Client()
	fn := func(context.Context, *notify.Event) error { return nil }
	for name, make := range map[string]func() (*notify.Handler, error){
		"nil client":      func() (*notify.Handler, error) { return notify.NewHandler(nil, fn) },
		"zero client":     func() (*notify.Handler, error) { return notify.NewHandler(&wallet.Client{}, fn) },
		"nil func":        func() (*notify.Handler, error) { return notify.NewHandler(c, nil) },
		"nil deduper":     func() (*notify.Handler, error) { return notify.NewHandler(c, fn, notify.WithDeduper(nil)) },
		"nil option":      func() (*notify.Handler, error) { return notify.NewHandler(c, fn, nil) },
		"zero timeout":    func() (*notify.Handler, error) { return notify.NewHandler(c, fn, notify.WithTimeout(0)) },
		"lease < timeout": func() (*notify.Handler, error) { return notify.NewHandler(c, fn, notify.WithLease(time.Second)) },
		"negative lease":  func() (*notify.Handler, error) { return notify.NewHandler(c, fn, notify.WithLease(-1)) },
	} {
		h, err := make()
		require.Error(t, err, name)
		require.Nil(t, h, name)
	}
	_, err := notify.Parse(nil, httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader("{}")))
	require.Error(t, err)
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	other := wallettest.NewMockBank(t)
	now := time.Now()
	c := bank.Client(wallet.WithClock(func() time.Time { return now }))
	var calls atomic.Int32
	h := handler(t, c, func(context.Context, *notify.Event) error { calls.Add(1); return nil })
	extra, err := bank.NotificationBody(notify.PaymentSucceeded, "N5", paid, now)
	require.NoError(t, err)
	var f map[string]string
	require.NoError(t, json.Unmarshal(extra, &f))
	f["code"] = "SUCCESS" // a field the protocol does not sign in a notification, even signed
	delete(f, "sign")
	f["sign"], err = sign.SignCanonical(ctx, bank.BankKey("mock-bank-1"), "/notify", f)
	require.NoError(t, err)
	extra, _ = json.Marshal(f)
	for name, r := range map[string]*http.Request{
		"replayed after 300 s":    bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, now.Add(-301*time.Second)),
		"from the future":         bank.Notification("/notify", notify.PaymentSucceeded, "N2", paid, now.Add(301*time.Second)),
		"another bank":            other.Notification("/notify", notify.PaymentSucceeded, "N3", paid, now),
		"GET":                     httptest.NewRequest(http.MethodGet, "/notify", nil),
		"garbage":                 httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(`{"a":`)),
		"a field not signed here": httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(extra)),
	} {
		w := deliver(h, r)
		require.Equal(t, 400, w.Code, name)
		require.JSONEq(t, `{"code":"FAIL","msg":"notification refused"}`, w.Body.String())
	}
	require.Zero(t, calls.Load())
	// 299 s is inside the window
	require.Equal(t, 200, deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N4", paid, now.Add(-299*time.Second))).Code)
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	e, err := notify.Parse(c, bank.Notification("/notify", notify.RefundSucceeded, "N1", map[string]any{
		"out_refund_no": "R1", "refund_no": "BR1", "out_trade_no": "T1", "amount": 5, "status": "SUCCESS", "refunded_at": "2026-11-25 16:00:00",
	}, time.Now()))
	require.NoError(t, err)
	r, err := e.Refund()
	require.NoError(t, err)
	require.Equal(t, int64(5), r.Amount)
	require.False(t, r.RefundedAt.IsZero())
	_, err = e.Order()
	require.ErrorIs(t, err, notify.ErrWrongType)

	e, err = notify.Parse(c, bank.Notification("/notify", notify.AccountOpened, "N2", map[string]any{
		"account_no": "6236880000000001", "status": "NORMAL", "opened_at": "2026-11-25 16:00:00", "bound_card": map[string]string{"bank_name": "x", "card_no_masked": "6222********1234"},
	}, time.Now()))
	require.NoError(t, err)
	a, err := e.Account()
	require.NoError(t, err)
	require.Equal(t, wallet.AccountNormal, a.Status)
	require.True(t, a.ClosedAt.IsZero())
}

func TestMemoryDeduperForgetsAfterRetention(t *testing.T) {
	t.Parallel()
	d := notify.NewMemoryDeduper(time.Hour)
	done, err := d.Claim(ctx, "N1", "a", time.Minute)
	require.NoError(t, err)
	require.False(t, done)
	_, err = d.Claim(ctx, "N1", "b", time.Minute)
	require.ErrorIs(t, err, notify.ErrInFlight)
	require.NoError(t, d.Release(ctx, "N1", "a", true))
	done, err = d.Claim(ctx, "N1", "b", time.Minute)
	require.NoError(t, err)
	require.True(t, done)
}

func TestVectorNotifications(t *testing.T) {
	var cases []vectors.Message
	require.NoError(t, vectors.Load("notifications.json", &cases))
	require.NotEmpty(t, cases)
	k := loadKeys(t)
	for i, v := range cases {
		t.Run(vectors.Name(i, v.Valid, v.Why), func(t *testing.T) {
			at, err := vectors.Time(v.Now)
			require.NoError(t, err)
			c := vectorClient(t, k, at)
			e, err := notify.Verify(ctx, c, []byte(v.Body))
			if !v.Valid {
				require.ErrorIs(t, err, notify.ErrRefused)
				require.Nil(t, e)
				return
			}
			require.NoError(t, err)
			require.Equal(t, notify.Type(v.NotifyType), e.Type)
			require.JSONEq(t, v.BizContent, string(e.Data))
			o, err := e.Order()
			require.NoError(t, err)
			require.Equal(t, wallet.OrderPay, o.Type)
			require.Equal(t, int64(2500), o.Amount)
			require.Equal(t, "2026-11-25 15:58:02", o.FinishedAt.In(time.FixedZone("", 8*3600)).Format("2006-01-02 15:04:05"))
		})
	}
}

// The log of a handler at debug level holds no payload and no key.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	bank := wallettest.NewMockBank(t)
	c := bank.Client(wallet.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	h := handler(t, c, func(context.Context, *notify.Event) error { return nil })
	deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now()))
	deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N1", paid, time.Now()))
	deliver(h, bank.Notification("/notify", notify.PaymentSucceeded, "N2", paid, time.Now().Add(-time.Hour)))
	out := logs.String()
	require.Contains(t, out, "N1")
	for _, secret := range []string{"6236880000000001", "T20261125002", "biz_content", "BEGIN", bank.MerchantKey.Hex()} {
		require.NotContains(t, out, secret)
	}
}

// Concurrent duplicates of many events across handlers that share a
// Deduper: each event runs exactly once.
func TestConcurrentDuplicatesAcrossHandlers(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	shared := notify.NewMemoryDeduper(0)
	var mu sync.Mutex
	runs := map[string]int{}
	fn := func(_ context.Context, e *notify.Event) error {
		mu.Lock()
		runs[e.ID]++
		mu.Unlock()
		time.Sleep(time.Millisecond)
		return nil
	}
	hs := []*notify.Handler{handler(t, bank.Client(), fn, notify.WithDeduper(shared)), handler(t, bank.Client(), fn, notify.WithDeduper(shared))}
	var wg sync.WaitGroup
	for i := 0; i < 40; i++ {
		id := "N" + string(rune('A'+i%20))
		for j := 0; j < 3; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					code := deliver(hs[j%2], bank.Notification("/notify", notify.PaymentSucceeded, id, paid, time.Now())).Code
					if code == 200 {
						return
					}
					time.Sleep(2 * time.Millisecond) // the bank retries later
				}
			}()
		}
	}
	wg.Wait()
	require.Len(t, runs, 20)
	for id, n := range runs {
		require.Equal(t, 1, n, id)
	}
}

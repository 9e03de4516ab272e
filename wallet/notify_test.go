package wallet_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

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

func TestNotificationHandlerAnswersAndDeduplicates(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	var calls atomic.Int32
	h := c.NotificationHandler(func(_ context.Context, n *wallet.Notification) error {
		calls.Add(1)
		o, err := n.Order()
		require.NoError(t, err)
		require.Equal(t, "T20261125002", o.OutTradeNo)
		_, err = n.Refund()
		require.ErrorIs(t, err, wallet.ErrNotificationType)
		return nil
	})
	for i := 0; i < 3; i++ {
		w := deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now()))
		require.Equal(t, 200, w.Code)
		require.JSONEq(t, `{"code":"SUCCESS"}`, w.Body.String())
	}
	require.Equal(t, int32(1), calls.Load(), "the same notify_id is handled once")
}

func TestNotificationHandlerFailureIsRedelivered(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	var calls atomic.Int32
	h := bank.Client().NotificationHandler(func(context.Context, *wallet.Notification) error {
		switch calls.Add(1) {
		case 1:
			return errors.New("database down")
		case 2:
			panic("bug")
		}
		return nil
	})
	require.Equal(t, 500, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code)
	require.Equal(t, 500, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code, "a panic is a failure, and releases the claim")
	require.Equal(t, 200, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code)
	require.Equal(t, 200, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code)
	require.Equal(t, int32(3), calls.Load())
}

func TestNotificationInFlightDuplicateFails(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	release := make(chan struct{})
	entered := make(chan struct{})
	h := bank.Client().NotificationHandler(func(context.Context, *wallet.Notification) error {
		close(entered)
		<-release
		return nil
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		require.Equal(t, 200, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code)
	}()
	<-entered
	require.Equal(t, 503, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, time.Now())).Code,
		"a duplicate while the first is running must fail, not succeed: the first may still fail")
	close(release)
	wg.Wait()
}

func TestNotificationRefusals(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	other := wallettest.NewMockBank(t)
	now := time.Now()
	c := bank.Client(wallet.WithClock(func() time.Time { return now }))
	var calls atomic.Int32
	h := c.NotificationHandler(func(context.Context, *wallet.Notification) error { calls.Add(1); return nil })
	for name, r := range map[string]*http.Request{
		"replayed after 300 s": bank.Notification(wallet.NotifyPaymentSucceeded, "N1", paid, now.Add(-301*time.Second)),
		"from the future":      bank.Notification(wallet.NotifyPaymentSucceeded, "N2", paid, now.Add(301*time.Second)),
		"another bank":         other.Notification(wallet.NotifyPaymentSucceeded, "N3", paid, now),
		"GET":                  httptest.NewRequest(http.MethodGet, "/notify", nil),
		"garbage":              httptest.NewRequest(http.MethodPost, "/notify", stringsReader(`{"a":`)),
	} {
		w := deliver(h, r)
		require.Equal(t, 400, w.Code, name)
		require.JSONEq(t, `{"code":"FAIL","msg":"notification refused"}`, w.Body.String())
	}
	require.Zero(t, calls.Load())
	// 299 s is inside the window
	require.Equal(t, 200, deliver(h, bank.Notification(wallet.NotifyPaymentSucceeded, "N4", paid, now.Add(-299*time.Second))).Code)
}

func TestNotificationAccessors(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	n, err := c.ParseNotification(bank.Notification(wallet.NotifyRefundSucceeded, "N1", map[string]any{
		"out_refund_no": "R1", "refund_no": "BR1", "out_trade_no": "T1", "amount": 5, "status": "SUCCESS", "refunded_at": "2026-11-25 16:00:00",
	}, time.Now()))
	require.NoError(t, err)
	r, err := n.Refund()
	require.NoError(t, err)
	require.Equal(t, int64(5), r.Amount)
	require.False(t, r.RefundedAt.IsZero())
	_, err = n.Order()
	require.ErrorIs(t, err, wallet.ErrNotificationType)

	n, err = c.ParseNotification(bank.Notification(wallet.NotifyAccountOpened, "N2", map[string]any{
		"account_no": "6236880000000001", "status": "NORMAL", "opened_at": "2026-11-25 16:00:00", "bound_card": map[string]string{"bank_name": "x", "card_no_masked": "6222********1234"},
	}, time.Now()))
	require.NoError(t, err)
	a, err := n.Account()
	require.NoError(t, err)
	require.Equal(t, wallet.AccountNormal, a.Status)
	require.True(t, a.ClosedAt.IsZero())
}

func TestMemoryDeduperForgetsAfterRetention(t *testing.T) {
	t.Parallel()
	d := wallet.NewMemoryDeduper(time.Hour)
	done, err := d.Claim(ctx, "N1")
	require.NoError(t, err)
	require.False(t, done)
	require.NoError(t, d.Done(ctx, "N1", true))
	done, err = d.Claim(ctx, "N1")
	require.NoError(t, err)
	require.True(t, done)
}

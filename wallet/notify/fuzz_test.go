package notify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/oracle"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// fuzzNow is the vectors' "now": 2026-11-25 16:00:00 UTC+8.
var fuzzNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func loadKeys(t testing.TB) oracle.Keyset { return oracle.Load(t) }

// vectorClient is a client of the vectors' merchant at now.
func vectorClient(tb testing.TB, k oracle.Keyset, now time.Time) *wallet.Client {
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://bank.fuzz", AppID: oracle.AppID, MerchantID: oracle.MerchantID, PrivateKey: k.Merchant,
		BankKeys: map[string]*sign.PublicKey{k.BankID: k.Bank.Public(), k.NextID: k.BankNext.Public()},
	}, wallet.WithClock(func() time.Time { return now }))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// resign signs a notification body again with a bank key of the vectors.
func resign(tb testing.TB, body []byte, keyID string, key *sign.PrivateKey) []byte {
	var f map[string]string
	if err := json.Unmarshal(body, &f); err != nil {
		tb.Fatal(err)
	}
	delete(f, "sign")
	f["sign_key_id"] = keyID
	sig, err := sign.SignCanonical(context.Background(), key, "/notify", f)
	if err != nil {
		tb.Fatal(err)
	}
	f["sign"] = sig
	out, _ := json.Marshal(f)
	return out
}

// FuzzNotification checks every notification the client accepts against
// internal/oracle, an independent reading of docs/protocol.md sections 2
// and 10, and that the Handler answers SUCCESS exactly for those.
func FuzzNotification(f *testing.F) {
	k := loadKeys(f)
	var cases []vectors.Message
	if err := vectors.Load("notifications.json", &cases); err != nil {
		f.Fatal(err)
	}
	for _, v := range cases {
		at, err := vectors.Time(v.Now)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(int64(at.Sub(fuzzNow)/time.Second), []byte(v.Body))
	}
	// Every type of notification, built by a mock bank for the vectors'
	// merchant and signed with the vectors' bank keys, at the edges of the
	// 300 s window.
	bank := wallettest.NewMockBank(f)
	bank.MerchantKey, bank.AppID, bank.MerchantID = k.Merchant, oracle.AppID, oracle.MerchantID
	order := map[string]any{"out_trade_no": "T1", "type": "PAY", "amount": 990, "status": "SUCCESS"}
	account := map[string]any{"account_no": "6236880000000001", "status": "NORMAL", "opened_at": "2026-11-20 10:00:00"}
	for i, n := range []struct {
		typ     notify.Type
		payload any
		at      time.Duration
	}{
		{notify.PaymentSucceeded, order, 0},
		{notify.PaymentFailed, map[string]any{"out_trade_no": "T2", "type": "PAY", "amount": 5, "status": "FAILED"}, -299 * time.Second},
		{notify.RechargeSucceeded, map[string]any{"out_trade_no": "T3", "type": "RECHARGE", "amount": 100000, "status": "SUCCESS"}, 299 * time.Second},
		{notify.WithdrawSucceeded, map[string]any{"out_trade_no": "T4", "type": "WITHDRAW", "amount": 1, "status": "SUCCESS"}, 300 * time.Second},
		{notify.TransferSucceeded, map[string]any{"out_trade_no": "T5", "type": "TRANSFER", "payee_account_no": "6236880000000002", "amount": 7, "status": "SUCCESS"}, -300 * time.Second},
		{notify.RefundSucceeded, map[string]any{"out_refund_no": "R1", "out_trade_no": "T1", "amount": 5, "status": "SUCCESS"}, 0},
		{notify.AccountOpened, account, 0},
		{notify.AccountCardChanged, account, 0},
		{notify.AccountClosed, map[string]any{"account_no": "6236880000000001", "status": "CLOSED", "closed_at": "2026-11-25 15:00:00"}, 301 * time.Second},
	} {
		body, err := bank.NotificationBody(n.typ, "N0000000000000000000000000000000"+string(rune('a'+i)), n.payload, fuzzNow.Add(n.at))
		if err != nil {
			f.Fatal(err)
		}
		if i%2 == 0 {
			f.Add(int64(0), resign(f, body, k.BankID, k.Bank))
		} else {
			f.Add(int64(0), resign(f, body, k.NextID, k.BankNext))
		}
	}

	f.Fuzz(func(t *testing.T, skew int64, body []byte) {
		now := fuzzNow.Add(time.Duration(skew%1_000_000) * time.Second)
		c := vectorClient(t, k, now)
		e, err := notify.Parse(c, httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body)))
		fields, data, ok := k.Notification(now, body)
		if err != nil {
			if e != nil || !errors.Is(err, notify.ErrRefused) {
				t.Fatalf("a refusal returns nothing and wraps ErrRefused: %v", err)
			}
		} else {
			if !ok {
				t.Fatalf("accepted a notification that does not verify at %v: %q", now, body)
			}
			if e.ID != fields["notify_id"] || string(e.Type) != fields["notify_type"] || e.SignKeyID != fields["sign_key_id"] || !bytes.Equal(e.Data, data) {
				t.Fatalf("accepted %+v, the notification says %v %q", e, fields, data)
			}
			// The typed payloads decode or fail; they never panic.
			_, _ = e.Order()
			_, _ = e.Refund()
			_, _ = e.Account()
		}

		// The handler answers SUCCESS exactly when the notification is good,
		// and hands the function exactly that event.
		var got *notify.Event
		h, herr := notify.NewHandler(c, func(_ context.Context, e *notify.Event) error { got = e; return nil })
		if herr != nil {
			t.Fatal(herr)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body)))
		switch {
		case err == nil && (rec.Code != http.StatusOK || got == nil || got.ID != e.ID):
			t.Fatalf("a good notification was answered %d", rec.Code)
		case err != nil && (rec.Code == http.StatusOK || got != nil):
			t.Fatalf("a refused notification was answered %d and handled", rec.Code)
		}
	})
}

package e2e

import (
	"context"
	"encoding/json"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

// oldCanonical is the canonical string before 2026-11-30, without the
// escapes: the one the forgeries below were made for.
func oldCanonical(path string, f map[string]string) string {
	var keys []string
	for k, v := range f {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + f[k]
	}
	return path + "?" + strings.Join(parts, "&")
}

// forge signs genuine (what the bank once signed: an echoed app_id, a
// notify_id, carrying "&" and "=") as the bank did before the escapes,
// over the old canonical string, and returns forged with that signature,
// after checking that the two had one old canonical string — so the
// forgery verified then. The SDK, on the escaped string, must refuse it.
func forge(t *testing.T, bank *wallettest.MockBank, path string, genuine, forged map[string]string) []byte {
	t.Helper()
	// The bank of before the escapes signed the old canonical string.
	genuine["sign_key_id"], genuine["sign_type"] = "mock-bank-1", "SM2"
	sig, err := bank.BankKey("mock-bank-1").Sign([]byte(oldCanonical(path, genuine)))
	require.NoError(t, err)
	forged["sign_key_id"], forged["sign_type"], forged["sign"] = "mock-bank-1", "SM2", sig
	require.Equal(t, oldCanonical(path, genuine), oldCanonical(path, forged), "the forgery had the genuine message's old canonical string")
	require.NoError(t, bank.BankKey("mock-bank-1").Public().Verify([]byte(oldCanonical(path, forged)), sig),
		"so the bank's signature verified over it")
	return body(forged)
}

// replyWith answers every call with fields signed by the mock bank's key
// over path, after edit.
func signFields(t *testing.T, bank *wallettest.MockBank, path string, f map[string]string) map[string]string {
	t.Helper()
	f["sign_key_id"], f["sign_type"] = "mock-bank-1", "SM2"
	sig, err := sign.SignCanonical(context.Background(), bank.BankKey("mock-bank-1"), path, f)
	require.NoError(t, err)
	f["sign"] = sig
	return f
}

func body(f map[string]string) []byte {
	b, _ := json.Marshal(f)
	return b
}

// Issue 19: the forgeries of the attack test, each tried against the SDK,
// each refused. The bank's side of the same table (no signing oracle, no
// echo of unregistered ids, paths taken as sent) is in internal/sandbox.
func TestForgeriesAreRefused(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ts := wire.Format(now)
	order := `{"out_trade_no":"T20261130000001","type":"PAY","amount":1,"status":"SUCCESS"}`

	// Each answer is made for the request it answers (its msg_id), so that
	// what refuses it is the check named in want, not a msg_id that was
	// never the call's.
	for name, tc := range map[string]struct {
		answer func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply
		want   string // the reason in the error
	}{
		// The critical one: the bank echoed an attacker's app_id into a
		// signed APP_INVALID answer; re-split, it was a SUCCESS with an
		// order of the attacker's choosing (and an extra field to hide the
		// genuine code in).
		"re-split echoed app_id into a SUCCESS payment/query": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: forge(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app&biz_content=" + order + "&code=SUCCESS&codex=y", "code": "APP_INVALID", "msg": "hi",
					"msg_id": msgID, "timestamp": ts,
				}, map[string]string{
					"app_id": "mock-app", "biz_content": order, "code": "SUCCESS", "codex": "y&code=APP_INVALID&msg=hi",
					"msg_id": msgID, "timestamp": ts,
				})}
			},
			want: "signature does not verify", // the escaped canonical string differs
		},
		"re-split echoed msg_id": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: forge(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "code": "SIGNATURE_INVALID", "msg": "m",
					"msg_id": msgID + "&sign_key_id=mock-bank-1&sign_type=SM2&timestamp=" + ts + "&timestampx=z", "timestamp": ts,
				}, map[string]string{
					"app_id": "mock-app", "code": "SIGNATURE_INVALID", "msg": "m", "msg_id": msgID,
					"timestamp": ts, "timestampx": "z&sign_key_id=mock-bank-1&sign_type=SM2&timestamp=" + ts,
				})}
			},
			want: "signature does not verify",
		},
		"re-split echoed app_id, with fields the protocol has": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: forge(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app&code=SUCCESS", "code": "APP_INVALID", "msg": "m", "msg_id": msgID, "timestamp": ts,
				}, map[string]string{
					"app_id": "mock-app", "code": "SUCCESS&code=APP_INVALID", "msg": "m", "msg_id": msgID, "timestamp": ts,
				})}
			},
			want: "signature does not verify",
		},
		"a genuine answer 301 s old (a replay)": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": wire.Format(now.Add(-301 * time.Second)), "code": "ORDER_NOT_FOUND",
				}))}
			},
			want: "timestamp",
		},
		"a field the protocol does not sign in an answer": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": ts, "code": "ORDER_NOT_FOUND", "status": "SUCCESS",
				}))}
			},
			want: `field "status" is not one the protocol signs here`,
		},
		"an answer signed for another path": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/refund/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": ts, "code": "ORDER_NOT_FOUND",
				}))}
			},
			want: "signature does not verify",
		},
		"an answer to another request": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": "0123456789abcdef0123456789abcdef", "timestamp": ts, "code": "ORDER_NOT_FOUND",
				}))}
			},
			want: "msg_id is not the request's",
		},
		"a genuine SUCCESS for another order": {
			answer: func(*testing.T, *wallettest.MockBank, string) wallettest.Reply {
				return wallettest.Reply{Biz: `{"out_trade_no":"T20261130000099","type":"PAY","amount":1,"status":"SUCCESS"}`}
			},
			want: "out_trade_no",
		},
		"an error answer that carries a body": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": ts, "code": "ORDER_NOT_FOUND",
					"biz_content": `{"out_trade_no":"T20261130000001"}`,
				}))}
			},
			want: "an error answer carries biz_content",
		},
		"a plain body where the request was encrypted": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				return wallettest.Reply{Body: body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": ts, "code": "SUCCESS", "biz_content": order,
				}))}
			},
			want: "answer to an encrypted request is not encrypted", // the client encrypts every request by default
		},
		// A parser that keeps the first of two names reads SUCCESS where
		// encoding/json, keeping the last, reads the signed ORDER_NOT_FOUND:
		// one message, two meanings. A name twice is refused (wire.ParseFlat).
		"a genuine answer with a name given twice": {
			answer: func(t *testing.T, bank *wallettest.MockBank, msgID string) wallettest.Reply {
				b := body(signFields(t, bank, "/api/v1/payment/query", map[string]string{
					"app_id": "mock-app", "msg_id": msgID, "timestamp": ts, "code": "ORDER_NOT_FOUND", "msg": "订单不存在",
				}))
				return wallettest.Reply{Body: append([]byte(`{"code":"SUCCESS",`), b[1:]...)}
			},
			want: `a name appears twice: "code"`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			bank := wallettest.NewMockBank(t)
			bank.On("payment/query", func(r *wallettest.Request) wallettest.Reply { return tc.answer(t, bank, r.MsgID) })
			c := bank.Client(wallet.WithRetry(0), wallet.WithClock(func() time.Time { return now }))
			_, err := payment.New(c).Query(ctx, "T20261130000001")
			require.ErrorIs(t, err, wallet.ErrUnverifiedResponse, "a forgery must never pass")
			require.True(t, wallet.IsOutcomeUnknown(err))
			require.ErrorContains(t, err, tc.want, "refused, but not by the check this entry is about")
		})
	}
	t.Run("a genuine answer passes", func(t *testing.T) {
		bank := wallettest.NewMockBank(t)
		bank.Reply("payment/query", map[string]any{"out_trade_no": "T20261130000001", "type": "PAY", "amount": 1, "status": "SUCCESS"})
		_, err := payment.New(bank.Client()).Query(ctx, "T20261130000001")
		require.NoError(t, err)
	})
}

// Forged notifications and returns: a re-split field, a field not signed
// there, another merchant.
func TestForgedNotificationsAndReturnsAreRefused(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	now := time.Now()
	genuine, err := bank.NotificationBody(notify.PaymentFailed, "N1", map[string]any{"out_trade_no": "T1"}, now)
	require.NoError(t, err)
	var f map[string]string
	require.NoError(t, json.Unmarshal(genuine, &f))

	// A notify_id carrying "&notify_type=PAYMENT_SUCCEEDED&…" once
	// re-split a PAYMENT_FAILED into a success.
	g := map[string]string{}
	for k, v := range f {
		g[k] = v
	}
	delete(g, "sign")
	g["notify_id"] = "N1&notify_type=PAYMENT_SUCCEEDED&notify_typf=x"
	forged := map[string]string{}
	for k, v := range g {
		forged[k] = v
	}
	forged["notify_id"], forged["notify_type"], forged["notify_typf"] = "N1", "PAYMENT_SUCCEEDED", "x&notify_type=PAYMENT_FAILED"
	_, err = notify.Verify(ctx, c, forge(t, bank, "/notify", g, forged))
	require.ErrorIs(t, err, notify.ErrRefused)

	// A return for another merchant, and one whose merchant_id re-splits.
	b := h5.New(c)
	for name, fields := range map[string]map[string]string{
		"another merchant": {"app_id": "mock-app", "merchant_id": "M999", "page": "pay", "result": "SUCCESS", "out_trade_no": "T1", "timestamp": wire.Format(now)},
		"another app":      {"app_id": "other-app", "merchant_id": bank.MerchantID, "page": "pay", "result": "SUCCESS", "out_trade_no": "T1", "timestamp": wire.Format(now)},
	} {
		signed := signFields(t, bank, "/return", fields)
		q := url.Values{}
		for k, v := range signed {
			q.Set(k, v)
		}
		_, err := b.VerifyReturn(&url.URL{RawQuery: q.Encode()})
		require.ErrorIs(t, err, h5.ErrBadReturn, name)
	}
	good, err := bank.ReturnURL("https://merchant.example/back?order=42;x", wallettest.Return{Page: "pay", Result: "SUCCESS", OutTradeNo: "T1", At: now})
	require.NoError(t, err)
	_, err = b.VerifyReturn(good)
	require.NoError(t, err, "the genuine return, with the merchant's own ';' in its query, passes")
}

// Issue 12 item 2: an answer that names another order, refund, account or
// amount than the request, or another order type, is not the answer to
// this request, whoever signed it — for every API that echoes what it was
// asked.
func TestEveryEndpointChecksTheEcho(t *testing.T) {
	t.Parallel()
	pinFor := func(c *wallet.Client) wallet.EncryptedPIN { return wallettest.PIN(t, c) }
	p := wallettest.Person()
	face := wallettest.Face()
	type endpoint struct {
		path  string
		call  func(c *wallet.Client) error
		reply map[string]any // a right answer
		wrong []string       // fields to change one at a time
	}
	order := func(typ string, extra map[string]any) map[string]any {
		m := map[string]any{"out_trade_no": "T20261130000001", "trade_no": "B1", "type": typ, "account_no": "6236880000000001",
			"amount": 990, "status": "SUCCESS", "created_at": "2026-11-30 10:00:00", "finished_at": "2026-11-30 10:00:00"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	endpoints := []endpoint{
		{"payment/recharge", func(c *wallet.Client) error {
			_, err := payment.New(c).Recharge(ctx, payment.RechargeRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261130000001", Amount: 990})
			return err
		}, order("RECHARGE", nil), []string{"out_trade_no", "account_no", "amount", "type"}},
		{"payment/withdraw", func(c *wallet.Client) error {
			_, err := payment.New(c).Withdraw(ctx, payment.WithdrawRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261130000001", Amount: 990, Password: pinFor(c)})
			return err
		}, order("WITHDRAW", nil), []string{"out_trade_no", "account_no", "amount", "type"}},
		{"payment/pay", func(c *wallet.Client) error {
			_, err := payment.New(c).Pay(ctx, payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261130000001", Amount: 990, Subject: "s", Password: pinFor(c)})
			return err
		}, order("PAY", nil), []string{"out_trade_no", "account_no", "amount", "type"}},
		{"payment/transfer", func(c *wallet.Client) error {
			_, err := payment.New(c).Transfer(ctx, payment.TransferRequest{AccountNo: "6236880000000001", PayeeAccountNo: "6236880000000002",
				PayeeName: "李四", OutTradeNo: "T20261130000001", Amount: 990, Password: pinFor(c)})
			return err
		}, order("TRANSFER", map[string]any{"payee_account_no": "6236880000000002"}), []string{"out_trade_no", "account_no", "payee_account_no", "amount", "type"}},
		{"payment/refund", func(c *wallet.Client) error {
			_, err := payment.New(c).Refund(ctx, payment.RefundRequest{OutTradeNo: "T20261130000001", OutRefundNo: "R20261130000001", Amount: 90})
			return err
		}, map[string]any{"out_refund_no": "R20261130000001", "refund_no": "BR1", "out_trade_no": "T20261130000001", "amount": 90, "status": "SUCCESS"},
			[]string{"out_trade_no", "out_refund_no", "amount"}},
		{"payment/query", func(c *wallet.Client) error {
			_, err := payment.New(c).Query(ctx, "T20261130000001")
			return err
		}, order("PAY", nil), []string{"out_trade_no"}},
		{"payment/refund/query", func(c *wallet.Client) error {
			_, err := payment.New(c).QueryRefund(ctx, "R20261130000001")
			return err
		}, map[string]any{"out_refund_no": "R20261130000001", "out_trade_no": "T1", "amount": 90, "status": "SUCCESS"}, []string{"out_refund_no"}},
		{"account/query", func(c *wallet.Client) error {
			_, err := account.New(c).Query(ctx, "6236880000000001")
			return err
		}, map[string]any{"account_no": "6236880000000001", "status": "NORMAL"}, []string{"account_no"}},
		{"account/open", func(c *wallet.Client) error {
			_, err := account.New(c).OpenAccount(ctx, account.OpenRequest{UserID: "u-1001", VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber,
				CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: pinFor(c)})
			return err
		}, map[string]any{"account_no": "6236880000000001", "user_id": "u-1001", "status": "NORMAL"}, []string{"user_id"}},
	}
	for _, e := range endpoints {
		t.Run(e.path, func(t *testing.T) {
			t.Parallel()
			bank := wallettest.NewMockBank(t)
			bank.Reply(e.path, e.reply)
			c := bank.Client(wallet.WithRetry(0))
			require.NoError(t, e.call(c), "the right answer passes")
			for _, field := range e.wrong {
				wrong := map[string]any{}
				for k, v := range e.reply {
					wrong[k] = v
				}
				switch v := wrong[field].(type) {
				case int:
					wrong[field] = v + 1
				default:
					wrong[field] = "OTHER"
				}
				bank.Reply(e.path, wrong)
				err := e.call(c)
				require.ErrorIs(t, err, wallet.ErrUnverifiedResponse, "%s: an answer with another %s", e.path, field)
				require.True(t, wallet.IsOutcomeUnknown(err))
				require.ErrorContains(t, err, field)
			}
		})
	}
	// The APIs whose answers echo nothing of the request are listed here,
	// so that the table above is seen to be every API.
	echoless := []string{"wallet/query", "account/sms/send", "account/verify", "account/card/change", "account/password/reset", "account/close", "platform/keys"}
	require.Equal(t, 16, len(echoless)+len(endpoints), "every API of docs/protocol.md section 4 but bill/download, which package statement checks")
}

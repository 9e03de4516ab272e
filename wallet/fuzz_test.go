package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Fuzz targets for every parser of outside bytes on the client side: the
// bank's answers through Client.Do, its notifications through
// ParseNotification and NotificationHandler, and the decoders of verified
// payloads (orders, accounts, key lists...). Nothing may panic, and the
// client may never trust what does not verify: every answer it returns as
// a success or as a bank code, and every notification it accepts, is
// checked here against an independent reading of PROTOCOL.md sections 2,
// 3.2 and 10 (own canonical string, signature, msg_id, window, AAD).
//
// Seeds: the conformance vectors, and valid messages built with
// wallettest.MockBank and signed with the vectors' TEST keys, so that
// checked-in corpus entries verify on every run.

const (
	fuzzAppID      = "sandbox-app"
	fuzzMerchantID = "M100000001"
	fuzzMsgID      = "0123456789abcdef0123456789abcdef"
)

// fuzzNow is the vectors' "now": 2026-11-25 16:00:00 UTC+8.
var fuzzNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// fuzzAPIs are the APIs of PROTOCOL.md section 4; locked ones (🔒) are
// encrypted under wallet.EncryptRequired.
var fuzzAPIs = []struct {
	path   string
	locked bool
}{
	{"wallet/query", true}, {"account/sms/send", true}, {"account/verify", true}, {"account/open", true},
	{"account/query", false}, {"account/card/change", true}, {"account/password/reset", true}, {"account/close", true},
	{"payment/recharge", true}, {"payment/withdraw", true}, {"payment/pay", true}, {"payment/transfer", true},
	{"payment/refund", false}, {"payment/query", false}, {"payment/refund/query", false}, {"platform/keys", false},
}

func fuzzAPI(path string) uint8 {
	for i, a := range fuzzAPIs {
		if a.path == path {
			return uint8(i)
		}
	}
	panic("no API " + path)
}

// fuzzKeyset is the vectors' TEST keys.
type fuzzKeyset struct {
	merchant       *sign.PrivateKey
	bank, bankNext *sign.PrivateKey
	bankID, nextID string
}

func loadFuzzKeys(tb testing.TB) fuzzKeyset {
	tb.Helper()
	k, err := vectors.LoadKeys()
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
	return fuzzKeyset{parse(k.Merchant.PrivatePEM), parse(k.Bank.PrivatePEM), parse(k.BankNext.PrivatePEM), k.BankKeyID, k.BankNextKeyID}
}

func (k fuzzKeyset) trusted(id string) (*sign.PublicKey, bool) {
	switch id {
	case k.bankID:
		return k.bank.Public(), true
	case k.nextID:
		return k.bankNext.Public(), true
	}
	return nil, false
}

func (k fuzzKeyset) client(tb testing.TB, now time.Time, rt http.RoundTripper) *wallet.Client {
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://bank.fuzz", AppID: fuzzAppID, MerchantID: fuzzMerchantID, PrivateKey: k.merchant,
		BankKeys: map[string]*sign.PublicKey{k.bankID: k.bank.Public(), k.nextID: k.bankNext.Public()},
	}, wallet.WithTransport(rt), wallet.WithClock(func() time.Time { return now }), wallet.WithRetry(0),
		wallet.WithEncryption(wallet.EncryptRequired))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// canonical is PROTOCOL.md section 2, written again here: the fuzz oracle
// must not share a mistake with the code it checks.
func canonical(path string, fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k, v := range fields {
		if k != "sign" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(path)
	b.WriteByte('?')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + fields[k])
	}
	return b.String()
}

// signedBy reports whether fields carry a valid signature over path by a
// trusted bank key.
func (k fuzzKeyset) signedBy(path string, fields map[string]string) bool {
	key, ok := k.trusted(fields["sign_key_id"])
	return ok && fields["sign"] != "" && key.Verify([]byte(canonical(path, fields)), fields["sign"]) == nil
}

// answerVerifies is the oracle of FuzzDoAnswer: whether body is an answer
// the client may trust for a request to path with msgID (PROTOCOL.md 3.2),
// and if so its code and plaintext biz_content.
func (k fuzzKeyset) answerVerifies(path, msgID string, encrypted bool, body []byte) (code string, payload []byte, ok bool) {
	var f map[string]string
	if json.Unmarshal(body, &f) != nil || !k.signedBy("/api/v1/"+path, f) {
		return "", nil, false
	}
	if f["msg_id"] != msgID || f["app_id"] != fuzzAppID || f["sign_type"] != "SM2" || f["code"] == "" {
		return "", nil, false
	}
	if f["code"] != "SUCCESS" {
		return f["code"], nil, true
	}
	switch f["encrypt_type"] {
	case "SM4-GCM":
		pt, err := sign.Open(context.Background(), k.merchant, f["encrypt_key"], f["biz_content"], msgID)
		if err != nil {
			return "", nil, false
		}
		payload = pt
	case "":
		if encrypted {
			return "", nil, false
		}
		payload = []byte(f["biz_content"])
	default:
		return "", nil, false
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	return "SUCCESS", payload, true
}

// cannedAnswer answers every request with the same body, as a bank (or
// whatever sits in its place) might.
type cannedAnswer []byte

func (b cannedAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body: io.NopCloser(bytes.NewReader(b)), ContentLength: int64(len(b)), Request: r}, nil
}

// recorder keeps the answers a mock bank gives, to seed the corpus.
type recorder struct {
	next    http.RoundTripper
	answers [][]byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r.answers = append(r.answers, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// vectorBank is a MockBank that answers like the bank of the vectors: its
// merchant is the vectors' merchant, and it signs with the vectors' bank
// keys.
func vectorBank(tb testing.TB, k fuzzKeyset) *wallettest.MockBank {
	bank := wallettest.NewMockBank(tb)
	bank.MerchantKey, bank.AppID, bank.MerchantID = k.merchant, fuzzAppID, fuzzMerchantID
	return bank
}

var seedOrder = map[string]any{"out_trade_no": "T20261125001", "trade_no": "B1", "type": "PAY", "account_no": "6236880000000001",
	"amount": 990, "refunded_amount": 0, "status": "SUCCESS", "subject": "会员月卡", "created_at": "2026-11-25 15:59:00", "finished_at": "2026-11-25 15:59:01"}

var seedRefund = map[string]any{"out_refund_no": "R20261125001", "refund_no": "BR1", "out_trade_no": "T20261125001",
	"amount": 500, "status": "SUCCESS", "refunded_at": "2026-11-25 15:59:30"}

var seedAccount = map[string]any{"account_no": "6236880000000001", "user_id": "u-1001", "status": "NORMAL", "name_masked": "*三",
	"balance": 12345, "available_balance": 12345, "bound_card": map[string]string{"bank_name": "中国工商银行", "card_no_masked": "6222********1234"},
	"opened_at": "2026-11-20 10:00:00", "limits": map[string]int64{"daily_in_used": 0, "daily_out_used": 990, "yearly_in_used": 0,
		"yearly_out_used": 990, "daily_limit": 1_000_000, "yearly_limit": 20_000_000}}

func FuzzDoAnswer(f *testing.F) {
	k := loadFuzzKeys(f)
	var cases []vectors.Message
	if err := vectors.Load("responses.json", &cases); err != nil {
		f.Fatal(err)
	}
	for _, v := range cases {
		f.Add(fuzzAPI(strings.TrimPrefix(v.Path, "/api/v1/")), v.RequestMsgID, []byte(v.Body))
	}
	// Answers of a mock bank signed with the vectors' keys: successes,
	// plain and encrypted, and refusals, by either bank key.
	bank := vectorBank(f, k)
	rec := &recorder{next: bank.Transport}
	gen := bank.Client(wallet.WithTransport(rec), wallet.WithRetry(0), wallet.WithEncryption(wallet.EncryptRequired))
	next := func(biz any) wallettest.Responder {
		return func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: biz, SignKeyID: k.nextID, SignWith: k.bankNext}
		}
	}
	for path, reply := range map[string]wallettest.Responder{
		"payment/pay": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: seedOrder, SignKeyID: k.bankID, SignWith: k.bank}
		},
		"payment/query":        next(seedOrder),
		"payment/refund/query": next(seedRefund),
		"account/query":        next(seedAccount),
		"wallet/query":         next(map[string]any{"opened": false}),
		"platform/keys":        next(map[string]any{"keys": []map[string]string{{"key_id": k.nextID, "not_before": "2026-07-01 00:00:00", "not_after": "2036-07-01 00:00:00"}}}),
		"payment/transfer": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Code: wallet.ErrDailyLimitExceeded, Msg: "超出日累计限额", SignKeyID: k.bankID, SignWith: k.bank}
		},
		"payment/refund": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Code: wallet.ErrParamInvalid, Msg: "amount: must be at least 1 fen", SignKeyID: k.bankID, SignWith: k.bank}
		},
	} {
		bank.On(path, reply)
		rec.answers = nil
		_ = gen.Do(context.Background(), path, json.RawMessage(`{}`), nil, wallet.WithMsgID(fuzzMsgID))
		for _, a := range rec.answers {
			f.Add(fuzzAPI(path), fuzzMsgID, a)
		}
	}

	f.Fuzz(func(t *testing.T, api uint8, msgID string, body []byte) {
		a := fuzzAPIs[int(api)%len(fuzzAPIs)]
		if len(msgID) != 32 || strings.Trim(msgID, "0123456789abcdef") != "" {
			msgID = fuzzMsgID // the client makes and checks msg_ids itself; the answer is what is fuzzed
		}
		c := k.client(t, fuzzNow, cannedAnswer(body))
		var raw json.RawMessage
		err := c.Do(context.Background(), a.path, json.RawMessage(`{}`), &raw, wallet.WithMsgID(msgID))
		code, payload, ok := k.answerVerifies(a.path, msgID, a.locked, body)
		var apiErr *wallet.APIError
		var te *wallet.TransportError
		switch {
		case err == nil:
			if !ok || code != "SUCCESS" {
				t.Fatalf("%s: success from an answer that does not verify: %q", a.path, body)
			}
			if !bytes.Equal(raw, payload) {
				t.Fatalf("%s: returned %q, the answer carries %q", a.path, raw, payload)
			}
		case errors.As(err, &apiErr):
			if !ok || apiErr.Code != wallet.ErrorCode(code) || code == "SUCCESS" {
				t.Fatalf("%s: code %s from an answer that does not verify or says otherwise: %q", a.path, apiErr.Code, body)
			}
			if apiErr.MsgID != msgID || wallet.OutcomeUnknown(err) {
				t.Fatalf("%s: %v", a.path, err)
			}
		case errors.As(err, &te):
			if !te.Sent || !wallet.OutcomeUnknown(err) || !errors.Is(err, wallet.ErrUnverifiedResponse) || raw != nil {
				t.Fatalf("%s: an answer that could not be trusted must leave the outcome unknown: %v", a.path, err)
			}
			if wallet.IsRetryable(err) {
				t.Fatalf("%s: an unverifiable answer is not retried (PROTOCOL.md 3.4): %v", a.path, err)
			}
		default:
			t.Fatalf("%s: unexpected error %T: %v", a.path, err, err)
		}
	})
}

// notificationVerifies is the oracle of FuzzNotification: whether body is
// a notification a receiver at now may accept (PROTOCOL.md section 10),
// and if so its fields and plaintext.
func (k fuzzKeyset) notificationVerifies(now time.Time, body []byte) (map[string]string, []byte, bool) {
	var f map[string]string
	if json.Unmarshal(body, &f) != nil || !k.signedBy("/notify", f) {
		return nil, nil, false
	}
	if f["app_id"] != fuzzAppID || f["merchant_id"] != fuzzMerchantID || f["sign_type"] != "SM2" ||
		f["notify_id"] == "" || f["notify_type"] == "" || f["encrypt_type"] != "SM4-GCM" {
		return nil, nil, false
	}
	ts, err := time.ParseInLocation("2006-01-02 15:04:05", f["timestamp"], time.FixedZone("UTC+8", 8*3600))
	if err != nil || now.Sub(ts) > 300*time.Second || ts.Sub(now) > 300*time.Second {
		return nil, nil, false
	}
	data, err := sign.Open(context.Background(), k.merchant, f["encrypt_key"], f["biz_content"], f["notify_id"])
	if err != nil || !json.Valid(data) {
		return nil, nil, false
	}
	return f, data, true
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

func FuzzNotification(f *testing.F) {
	k := loadFuzzKeys(f)
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
	bank := vectorBank(f, k)
	for i, n := range []struct {
		typ     wallet.NotifyType
		payload any
		at      time.Duration
	}{
		{wallet.NotifyPaymentSucceeded, seedOrder, 0},
		{wallet.NotifyPaymentFailed, map[string]any{"out_trade_no": "T2", "type": "PAY", "amount": 5, "status": "FAILED"}, -299 * time.Second},
		{wallet.NotifyRechargeSucceeded, map[string]any{"out_trade_no": "T3", "type": "RECHARGE", "amount": 100000, "status": "SUCCESS"}, 299 * time.Second},
		{wallet.NotifyWithdrawSucceeded, map[string]any{"out_trade_no": "T4", "type": "WITHDRAW", "amount": 1, "status": "SUCCESS"}, 300 * time.Second},
		{wallet.NotifyTransferSucceeded, map[string]any{"out_trade_no": "T5", "type": "TRANSFER", "payee_account_no": "6236880000000002", "amount": 7, "status": "SUCCESS"}, -300 * time.Second},
		{wallet.NotifyRefundSucceeded, seedRefund, 0},
		{wallet.NotifyAccountOpened, seedAccount, 0},
		{wallet.NotifyAccountCardChanged, seedAccount, 0},
		{wallet.NotifyAccountClosed, map[string]any{"account_no": "6236880000000001", "status": "CLOSED", "closed_at": "2026-11-25 15:00:00"}, 301 * time.Second},
	} {
		body, err := bank.NotificationBody(n.typ, "N0000000000000000000000000000000"+string(rune('a'+i)), n.payload, fuzzNow.Add(n.at))
		if err != nil {
			f.Fatal(err)
		}
		if i%2 == 0 {
			f.Add(int64(0), resign(f, body, k.bankID, k.bank))
		} else {
			f.Add(int64(0), resign(f, body, k.nextID, k.bankNext))
		}
	}

	f.Fuzz(func(t *testing.T, skew int64, body []byte) {
		now := fuzzNow.Add(time.Duration(skew%1_000_000) * time.Second)
		c := k.client(t, now, cannedAnswer(nil))
		n, err := c.ParseNotification(httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body)))
		fields, data, ok := k.notificationVerifies(now, body)
		if err != nil {
			if n != nil || !errors.Is(err, wallet.ErrBadNotification) {
				t.Fatalf("a refusal returns nothing and wraps ErrBadNotification: %v", err)
			}
		} else {
			if !ok {
				t.Fatalf("accepted a notification that does not verify at %v: %q", now, body)
			}
			if n.NotifyID != fields["notify_id"] || string(n.Type) != fields["notify_type"] || n.SignKeyID != fields["sign_key_id"] || !bytes.Equal(n.Data, data) {
				t.Fatalf("accepted %+v, the notification says %v %q", n, fields, data)
			}
			// The typed payloads decode or fail; they never panic.
			_, _ = n.Order()
			_, _ = n.Refund()
			_, _ = n.Account()
		}

		// The handler answers SUCCESS exactly when the notification is good,
		// and hands the handler exactly that notification.
		var got *wallet.Notification
		rec := httptest.NewRecorder()
		c.NotificationHandler(func(_ context.Context, n *wallet.Notification) error { got = n; return nil }).
			ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/notify", bytes.NewReader(body)))
		switch {
		case err == nil && (rec.Code != http.StatusOK || got == nil || got.NotifyID != n.NotifyID):
			t.Fatalf("a good notification was answered %d", rec.Code)
		case err != nil && (rec.Code == http.StatusOK || got != nil):
			t.Fatalf("a refused notification was answered %d and handled", rec.Code)
		}
	})
}

// FuzzSignedPayload fuzzes what a verified answer carries: the
// biz_content decoders behind every typed call, and the key list that
// RefreshBankKeys trusts. A mock bank signs whatever bytes the fuzzer
// gives as a SUCCESS answer. The client either returns the decoded value
// or reports the outcome unknown (the bank said it acted, but what it did
// cannot be read); it never panics, never turns SUCCESS into a bank code,
// and keeps its trusted keys unless the new list is entirely good.
func FuzzSignedPayload(f *testing.F) {
	for i, biz := range []any{seedOrder, seedRefund, seedAccount, map[string]any{"opened": true, "account_no": "6236880000000001", "status": "FROZEN"},
		map[string]any{"keys": []map[string]string{{"key_id": "bank-2026-07", "public_key": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"}}},
		map[string]any{"sms_serial": "S1", "expires_in": 300}, map[string]any{"verify_token": "VT1", "bank_name": "中国银行", "card_type": "DEBIT"},
		map[string]any{"bound_card": map[string]string{"bank_name": "x", "card_no_masked": "6222********1234"}},
		map[string]any{"reset_at": "2026-11-25 16:00:00"}, map[string]any{"closed_at": "2026-13-01 00:00:00"},
		seedOrder, seedAccount,
	} {
		b, _ := json.Marshal(biz)
		f.Add(uint8(i), b)
	}
	keys := loadFuzzKeys(f)
	pem, _ := keys.bankNext.Public().MarshalPEM()
	good, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"key_id": "bank-next", "public_key": string(pem), "not_before": "2026-07-01 00:00:00"}}})
	f.Add(uint8(4), good)
	f.Add(uint8(3), []byte(`{"opened":false}`))
	f.Add(uint8(0), []byte(`{"created_at":"2026-11-25 24:00:00"}`))
	f.Add(uint8(2), []byte(`{"balance":1e400}`))
	face := wallettest.Face()

	f.Fuzz(func(t *testing.T, call uint8, biz []byte) {
		bank := wallettest.NewMockBank(t)
		// Plain where the protocol allows: both kinds of answer, and
		// fewer SM2 operations per run.
		c := bank.Client(wallet.WithRetry(0), wallet.WithEncryption(wallet.EncryptRequired))
		for _, a := range fuzzAPIs {
			bank.Reply(a.path, json.RawMessage(biz))
		}
		ctx := context.Background()
		pin, err := c.EncryptPIN("135790")
		if err != nil {
			t.Fatal(err)
		}
		before := c.BankKeys()
		acct, pay := account.New(c), payment.New(c)
		p := wallettest.TestPerson{Name: "张三", IDNumber: "110101199003074514", CardNo: "6222021234567890128", Mobile: "13800138000", UserID: "u-1001"}
		switch call % 12 {
		case 0:
			_, err = pay.Query(ctx, "T20261125001")
		case 1:
			_, err = pay.QueryRefund(ctx, "R20261125001")
		case 2:
			_, err = acct.Get(ctx, "6236880000000001")
		case 3:
			_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		case 4:
			err = c.RefreshBankKeys(ctx)
			after := c.BankKeys()
			if err != nil && !slices.EqualFunc(before, after, func(a, b wallet.BankKey) bool { return a.ID == b.ID && a.Key.Equal(b.Key) }) {
				t.Fatalf("a refused key list changed the trusted keys: %v", after)
			}
			if err == nil {
				requireListed(t, biz, after)
			}
		case 5:
			_, err = acct.SendSMS(ctx, account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen})
		case 6:
			_, err = acct.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile})
		case 7:
			_, err = acct.ChangeCard(ctx, account.ChangeCardRequest{AccountNo: "6236880000000001", CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", Password: pin})
		case 8:
			_, err = acct.ResetPassword(ctx, account.ResetPasswordRequest{AccountNo: "6236880000000001", IDNumber: p.IDNumber, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, NewPassword: pin})
		case 9:
			_, err = acct.Close(ctx, account.CloseRequest{AccountNo: "6236880000000001", SMSSerial: "S1", SMSCode: "123456", Password: pin})
		case 10:
			_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 990, Subject: "会员", Password: pin})
		case 11:
			_, err = acct.Open(ctx, account.OpenRequest{UserID: p.UserID, VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
				Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: pin})
		}
		var apiErr *wallet.APIError
		var te *wallet.TransportError
		switch {
		case err == nil:
		case errors.As(err, &apiErr):
			t.Fatalf("the bank said SUCCESS, the client reports %v", err)
		case errors.As(err, &te):
			if !wallet.OutcomeUnknown(err) || !errors.Is(err, wallet.ErrUnverifiedResponse) {
				t.Fatalf("an answer that cannot be read leaves the outcome unknown: %v", err)
			}
		case call%12 == 4:
			// RefreshBankKeys refuses a bad list with its own error.
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
		for _, typ := range []wallet.NotifyType{wallet.NotifyPaymentSucceeded, wallet.NotifyRefundSucceeded, wallet.NotifyAccountOpened} {
			n := &wallet.Notification{NotifyID: "N1", Type: typ, Data: biz}
			_, _ = n.Order()
			_, _ = n.Refund()
			_, _ = n.Account()
		}
	})
}

// requireListed checks that the trusted keys after a refresh are exactly
// the keys of the list (the last of each id).
func requireListed(t *testing.T, biz []byte, after []wallet.BankKey) {
	var list struct {
		Keys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(biz, &list); err != nil {
		t.Fatalf("accepted a key list that does not decode: %v", err)
	}
	want := map[string]string{}
	for _, k := range list.Keys {
		want[k.KeyID] = k.PublicKey
	}
	if len(after) != len(want) {
		t.Fatalf("trusts %d keys, the list has %d ids", len(after), len(want))
	}
	for _, k := range after {
		pub, err := sign.ParsePublicKey([]byte(want[k.ID]))
		if err != nil || !pub.Equal(k.Key) || k.ID == "" {
			t.Fatalf("trusts %q, which the list does not hold as such", k.ID)
		}
	}
}

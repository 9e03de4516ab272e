package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/oracle"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Fuzz targets for every parser of outside bytes in the client: the
// bank's answers through Client.Do, and the decoders of verified payloads
// (orders, accounts, key lists...). Nothing may panic, and the client may
// never trust what does not verify: every answer it returns as a success or
// as a bank code is checked here against internal/oracle, an independent
// reading of docs/protocol.md sections 2 and 3.2 (own canonical string,
// signature, fields, msg_id, window, AAD). Notifications are fuzzed in
// package notify.
//
// Seeds: the conformance vectors, and valid messages built with
// wallettest.MockBank and signed with the vectors' TEST keys, so that
// checked-in corpus entries verify on every run.

const fuzzMsgID = "0123456789abcdef0123456789abcdef"

// fuzzNow is the vectors' "now": 2026-11-25 16:00:00 UTC+8.
var fuzzNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

// fuzzAPIs are the APIs of docs/protocol.md, section 4; locked ones (🔒) are
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

// fuzzClient is a client of the vectors' merchant at now, sending through rt.
func fuzzClient(tb testing.TB, k oracle.Keyset, now time.Time, rt http.RoundTripper) *wallet.Client {
	c, err := wallet.NewClient(wallet.Config{
		BaseURL: "https://bank.fuzz", AppID: oracle.AppID, MerchantID: oracle.MerchantID, PrivateKey: k.Merchant,
		BankKeys: map[string]*sign.PublicKey{k.BankID: k.Bank.Public(), k.NextID: k.BankNext.Public()},
	}, wallet.WithHTTPClient(&http.Client{Transport: rt}), wallet.WithClock(func() time.Time { return now }), wallet.WithRetry(0),
		wallet.WithEncryption(wallet.EncryptRequired))
	if err != nil {
		tb.Fatal(err)
	}
	return c
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
func vectorBank(tb testing.TB, k oracle.Keyset) *wallettest.MockBank {
	bank := wallettest.NewMockBank(tb)
	bank.MerchantKey, bank.AppID, bank.MerchantID = k.Merchant, oracle.AppID, oracle.MerchantID
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
	k := oracle.Load(f)
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
	rec := &recorder{next: bank}
	gen := bank.Client(wallet.WithHTTPClient(&http.Client{Transport: rec}), wallet.WithRetry(0), wallet.WithEncryption(wallet.EncryptRequired))
	next := func(biz any) wallettest.Responder {
		return func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: biz, SignKeyID: k.NextID, SignWith: k.BankNext}
		}
	}
	for path, reply := range map[string]wallettest.Responder{
		"payment/pay": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Biz: seedOrder, SignKeyID: k.BankID, SignWith: k.Bank}
		},
		"payment/query":        next(seedOrder),
		"payment/refund/query": next(seedRefund),
		"account/query":        next(seedAccount),
		"wallet/query":         next(map[string]any{"opened": false}),
		"platform/keys":        next(map[string]any{"keys": []map[string]string{{"key_id": k.NextID, "not_before": "2026-07-01 00:00:00", "not_after": "2036-07-01 00:00:00"}}}),
		"payment/transfer": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Code: wallet.ErrDailyLimitExceeded, Msg: "超出日累计限额", SignKeyID: k.BankID, SignWith: k.Bank}
		},
		"payment/refund": func(*wallettest.Request) wallettest.Reply {
			return wallettest.Reply{Code: wallet.ErrParamInvalid, Msg: "amount: must be at least 1 fen", SignKeyID: k.BankID, SignWith: k.Bank}
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
		c := fuzzClient(t, k, fuzzNow, cannedAnswer(body))
		var raw json.RawMessage
		err := c.Do(context.Background(), a.path, json.RawMessage(`{}`), &raw, wallet.WithMsgID(msgID))
		code, payload, ok := k.Answer(fuzzNow, a.path, msgID, a.locked, body)
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
			if apiErr.MsgID != msgID || wallet.IsOutcomeUnknown(err) {
				t.Fatalf("%s: %v", a.path, err)
			}
		case errors.As(err, &te):
			if !te.Sent || !wallet.IsOutcomeUnknown(err) || !errors.Is(err, wallet.ErrUnverifiedResponse) || raw != nil {
				t.Fatalf("%s: an answer that could not be trusted must leave the outcome unknown: %v", a.path, err)
			}
			if wallet.IsRetryable(err) {
				t.Fatalf("%s: an unverifiable answer is not retried (docs/protocol.md, section 3.4): %v", a.path, err)
			}
		default:
			t.Fatalf("%s: unexpected error %T: %v", a.path, err, err)
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
	keys := oracle.Load(f)
	pem, _ := keys.BankNext.Public().MarshalPEM()
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
			_, err = acct.Query(ctx, "6236880000000001")
		case 3:
			_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		case 4:
			err = c.RefreshBankKeys(ctx)
			after := c.BankKeys()
			if err != nil && !slices.EqualFunc(before, after, func(a, b wallet.BankKey) bool { return a.ID == b.ID && a.Key.Equal(b.Key) }) {
				t.Fatalf("a refused key list changed the trusted keys: %v", after)
			}
			if err == nil {
				requireListed(t, biz, before, after)
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
			_, err = acct.CloseAccount(ctx, account.CloseRequest{AccountNo: "6236880000000001", SMSSerial: "S1", SMSCode: "123456", Password: pin})
		case 10:
			_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 990, Subject: "会员", Password: pin})
		case 11:
			_, err = acct.OpenAccount(ctx, account.OpenRequest{UserID: p.UserID, VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
				Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: pin})
		}
		var apiErr *wallet.APIError
		var te *wallet.TransportError
		switch {
		case err == nil:
		case errors.As(err, &apiErr):
			t.Fatalf("the bank said SUCCESS, the client reports %v", err)
		case errors.As(err, &te):
			if !wallet.IsOutcomeUnknown(err) || !errors.Is(err, wallet.ErrUnverifiedResponse) {
				t.Fatalf("an answer that cannot be read leaves the outcome unknown: %v", err)
			}
		case call%12 == 4:
			// RefreshBankKeys refuses a bad list with its own error.
		default:
			t.Fatalf("unexpected error %T: %v", err, err)
		}
	})
}

// requireListed checks that the trusted keys after a refresh are exactly
// the keys of the list and the configured ones.
func requireListed(t *testing.T, biz []byte, before, after []wallet.BankKey) {
	var list struct {
		Keys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(biz, &list); err != nil {
		t.Fatalf("accepted a key list that does not decode: %v", err)
	}
	want := map[string]*sign.PublicKey{}
	for _, k := range before {
		if k.Configured {
			want[k.ID] = k.Key
		}
	}
	for _, k := range list.Keys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
		if err != nil {
			t.Fatalf("accepted a key that does not parse: %q", k.KeyID)
		}
		if old, ok := want[k.KeyID]; ok && !old.Equal(pub) {
			t.Fatalf("accepted a list that changes the key behind %q", k.KeyID)
		}
		want[k.KeyID] = pub
	}
	if len(after) != len(want) {
		t.Fatalf("trusts %d keys, want %d (the list and the configured keys)", len(after), len(want))
	}
	for _, k := range after {
		if w, ok := want[k.ID]; !ok || !w.Equal(k.Key) {
			t.Fatalf("trusts %q, which neither the list nor the configuration holds as such", k.ID)
		}
	}
}

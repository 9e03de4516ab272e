package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The per-call cost of the SDK, next to the cryptographic floor of one call
// measured in the same run (DESIGN.md, "Performance, measured in one run").

const benchWallet = `{"opened":true,"account_no":"6236880000000001","status":"NORMAL","name_masked":"*三","balance":12345,"available_balance":12345,"bound_card":{"bank_name":"中国工商银行","card_no_masked":"6222********1234"},"opened_at":"2026-11-20 10:00:00"}`

var benchQuery = wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u-1001"}

// BenchmarkCallCryptoFloor is what one encrypted call cannot avoid on the
// client: sign the request envelope, seal its body to the bank, verify the
// answer's signature and open its body.
func BenchmarkCallCryptoFloor(b *testing.B) {
	merchant, _ := sign.GenerateKey()
	bank, _ := sign.GenerateKey()
	biz, _ := json.Marshal(benchQuery)
	msgID := "3fc9228fbae88fd580663a0454b68312"
	ansKey, ansBody, _ := sign.Seal(merchant.Public(), []byte(benchWallet), msgID)
	answer := map[string]string{"app_id": "a", "msg_id": msgID, "timestamp": "2026-11-25 16:00:00", "code": "SUCCESS", "msg": "ok",
		"sign_key_id": "k", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ansKey, "biz_content": ansBody}
	ansSig, _ := sign.SignCanonical(context.Background(), bank, "/api/v1/wallet/query", answer)
	b.ReportAllocs()
	for b.Loop() {
		ek, ct, err := sign.Seal(bank.Public(), biz, msgID)
		if err != nil {
			b.Fatal(err)
		}
		req := map[string]string{"app_id": "a", "merchant_id": "m", "msg_id": msgID, "timestamp": "2026-11-25 16:00:00",
			"version": "1.0", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ek, "encrypt_key_id": "k", "biz_content": ct}
		if _, err := sign.SignCanonical(context.Background(), merchant, "/api/v1/wallet/query", req); err != nil {
			b.Fatal(err)
		}
		if err := bank.Public().VerifyCanonical("/api/v1/wallet/query", answer, ansSig); err != nil {
			b.Fatal(err)
		}
		if _, err := sign.Open(context.Background(), merchant, ansKey, ansBody, msgID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBankCryptoFloor is what the bank cannot avoid for the same
// call: verify the request's signature, open its body, seal the answer's
// body to the merchant and sign the answer. With the client's floor it
// bounds the calls per second one core can carry end to end.
func BenchmarkBankCryptoFloor(b *testing.B) {
	merchant, _ := sign.GenerateKey()
	bank, _ := sign.GenerateKey()
	biz, _ := json.Marshal(benchQuery)
	msgID := "3fc9228fbae88fd580663a0454b68312"
	ek, ct, _ := sign.Seal(bank.Public(), biz, msgID)
	req := map[string]string{"app_id": "a", "merchant_id": "m", "msg_id": msgID, "timestamp": "2026-11-25 16:00:00",
		"version": "1.0", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ek, "encrypt_key_id": "k", "biz_content": ct}
	reqSig, _ := sign.SignCanonical(context.Background(), merchant, "/api/v1/wallet/query", req)
	b.ReportAllocs()
	for b.Loop() {
		if err := merchant.Public().VerifyCanonical("/api/v1/wallet/query", req, reqSig); err != nil {
			b.Fatal(err)
		}
		if _, err := sign.Open(context.Background(), bank, ek, ct, msgID); err != nil {
			b.Fatal(err)
		}
		ansKey, ansBody, err := sign.Seal(merchant.Public(), []byte(benchWallet), msgID)
		if err != nil {
			b.Fatal(err)
		}
		answer := map[string]string{"app_id": "a", "msg_id": msgID, "timestamp": "2026-11-25 16:00:00", "code": "SUCCESS", "msg": "ok",
			"sign_key_id": "k", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ansKey, "biz_content": ansBody}
		if _, err := sign.SignCanonical(context.Background(), bank, "/api/v1/wallet/query", answer); err != nil {
			b.Fatal(err)
		}
	}
}

// cannedBank answers every request with one pre-signed, pre-encrypted
// answer: the benchmark fixes the msg_id (WithMsgID), so one answer fits
// every call, and the bank's side costs nothing but reading the request.
// What remains on the clock is the SDK's own work.
type cannedBank struct{ answer []byte }

func (cb cannedBank) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(cb.answer)), ContentLength: int64(len(cb.answer)), Request: r}, nil
}

const benchMsgID = "3fc9228fbae88fd580663a0454b68312"

// BenchmarkDo is the SDK's full per-call cost for wallet/query: validation,
// marshalling, the envelope with its key envelope, SM4-GCM and signature,
// resty, the answer's verification, decryption and decoding.
func BenchmarkDo(b *testing.B) {
	bank := wallettest.NewMockBank(b)
	ek, body, err := sign.Seal(bank.MerchantKey.Public(), []byte(benchWallet), benchMsgID)
	if err != nil {
		b.Fatal(err)
	}
	answer := map[string]string{"app_id": bank.AppID, "msg_id": benchMsgID, "timestamp": "2026-11-25 16:00:00", "code": "SUCCESS",
		"msg": "ok", "sign_key_id": "mock-bank-1", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ek, "biz_content": body}
	if answer["sign"], err = sign.SignCanonical(context.Background(), bank.BankKey("mock-bank-1"), "/api/v1/wallet/query", answer); err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(answer)
	// The canned answer's timestamp is the client's clock: a real answer is
	// checked against a 300 s window.
	at := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	c := bank.Client(wallet.WithHTTPClient(&http.Client{Transport: cannedBank{raw}}), wallet.WithClock(func() time.Time { return at }))
	b.ReportAllocs()
	for b.Loop() {
		if err := benchQuery.Validate(); err != nil {
			b.Fatal(err)
		}
		var w wallet.QueryResponse
		if err := c.Do(ctx, "wallet/query", benchQuery, &w, wallet.WithMsgID(benchMsgID)); err != nil || !w.Opened {
			b.Fatal(err)
		}
	}
}

// BenchmarkDoWithBank is a whole call against the in-memory MockBank,
// whose verification, decryption, encryption and signing are counted too.
func BenchmarkDoWithBank(b *testing.B) {
	bank := wallettest.NewMockBank(b)
	bank.Reply("wallet/query", benchWallet)
	c := bank.Client(wallet.WithHTTPClient(&http.Client{Transport: bank}))
	b.ReportAllocs()
	for b.Loop() {
		w, err := c.Query(ctx, benchQuery)
		if err != nil || !w.Opened {
			b.Fatal(err)
		}
	}
}

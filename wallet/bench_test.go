package wallet_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/wire"
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
	ansSig, _ := bank.SignCanonical("/api/v1/wallet/query", answer)
	b.ReportAllocs()
	for b.Loop() {
		ek, ct, err := sign.Seal(bank.Public(), biz, msgID)
		if err != nil {
			b.Fatal(err)
		}
		req := map[string]string{"app_id": "a", "merchant_id": "m", "msg_id": msgID, "timestamp": "2026-11-25 16:00:00",
			"version": "1.0", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ek, "encrypt_key_id": "k", "biz_content": ct}
		if _, err := merchant.SignCanonical("/api/v1/wallet/query", req); err != nil {
			b.Fatal(err)
		}
		if err := bank.Public().VerifyCanonical("/api/v1/wallet/query", answer, ansSig); err != nil {
			b.Fatal(err)
		}
		if _, err := sign.Open(merchant, ansKey, ansBody, msgID); err != nil {
			b.Fatal(err)
		}
	}
}

// bankResponder answers wallet/query like the bank, with the benchmark timer
// stopped while it works, so that BenchmarkDo counts the SDK alone.
type bankResponder struct {
	b        *testing.B
	merchant *sign.PublicKey
	bank     *sign.PrivateKey
	stop     bool
}

func (r *bankResponder) RoundTrip(hr *http.Request) (*http.Response, error) {
	if r.stop {
		r.b.StopTimer()
		defer r.b.StartTimer()
	}
	body, _ := io.ReadAll(hr.Body)
	var f map[string]string
	_ = json.Unmarshal(body, &f)
	ek, ct, _ := sign.Seal(r.merchant, []byte(benchWallet), f["msg_id"])
	ans := map[string]string{"app_id": f["app_id"], "msg_id": f["msg_id"], "timestamp": wire.Format(testNow), "code": "SUCCESS", "msg": "ok",
		"sign_key_id": "mock-bank-1", "sign_type": "SM2", "encrypt_type": "SM4-GCM", "encrypt_key": ek, "biz_content": ct}
	ans["sign"], _ = r.bank.SignCanonical(hr.URL.Path, ans)
	out, _ := json.Marshal(ans)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(out)), ContentLength: int64(len(out)), Request: hr}, nil
}

func benchDo(b *testing.B, stop bool) {
	bank := wallettest.NewMockBank(b)
	rt := &bankResponder{b: b, merchant: bank.MerchantKey.Public(), bank: bank.BankKey("mock-bank-1"), stop: stop}
	c, err := wallet.NewClient(bank.Config(), wallet.WithTransport(rt))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w, err := c.Query(ctx, benchQuery)
		if err != nil || !w.Opened {
			b.Fatal(err)
		}
	}
}

// BenchmarkDo is the SDK's full per-call cost for wallet/query (validation,
// envelope, crypto, resty, verification, decoding), the bank's work excluded.
func BenchmarkDo(b *testing.B) { benchDo(b, true) }

// BenchmarkDoWithBank includes the in-memory bank's work as well.
func BenchmarkDoWithBank(b *testing.B) { benchDo(b, false) }

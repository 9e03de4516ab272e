package pinpad

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// smCryptoVector is testdata/sm-crypto-pin.json: a PIN that npm sm-crypto
// encrypted to the TEST bank key of testdata/vectors/keys.json.
type smCryptoVector struct {
	KeyID         string `json:"key_id"`
	PublicHex     string `json:"public_hex"`
	PIN           string `json:"pin"`
	SMCryptoHex   string `json:"sm_crypto_hex"`
	CiphertextB64 string `json:"ciphertext_b64"`
}

func loadVector(t *testing.T) smCryptoVector {
	t.Helper()
	b, err := os.ReadFile("testdata/sm-crypto-pin.json")
	require.NoError(t, err)
	var v smCryptoVector
	require.NoError(t, json.Unmarshal(b, &v))
	return v
}

// The vector: what sm-crypto made opens, with the bank's private key in
// Go, to the digits — once its 04 is put back, and not before.
func TestSMCryptoVectorOpensInGo(t *testing.T) {
	v := loadVector(t)
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	require.Equal(t, keys.BankKeyID, v.KeyID)
	require.Equal(t, keys.Bank.PublicHex, v.PublicHex)
	bank, err := sign.ParsePrivateKey([]byte(keys.Bank.PrivatePEM))
	require.NoError(t, err)

	// sm-crypto's own output: 102 bytes, C1 without its 04.
	fromJS, err := hex.DecodeString(v.SMCryptoHex)
	require.NoError(t, err)
	require.Len(t, fromJS, 64+32+6)
	_, err = bank.Decrypt(context.Background(), fromJS)
	require.Error(t, err, "sm-crypto's hex as it is is not the protocol's form")

	raw, err := base64.StdEncoding.Strict().DecodeString(v.CiphertextB64)
	require.NoError(t, err)
	require.Len(t, raw, 103)
	require.Len(t, v.CiphertextB64, 140)
	require.Equal(t, append([]byte{0x04}, fromJS...), raw, "ciphertext_b64 is 04 ‖ sm-crypto's bytes")
	pin, err := bank.Decrypt(context.Background(), raw)
	require.NoError(t, err)
	require.Equal(t, v.PIN, string(pin))

	// And the endpoint takes it as the page posts it.
	sub, err := Decode(post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"T1"}`, v.KeyID, v.CiphertextB64)))
	require.NoError(t, err)
	require.Equal(t, wallet.EncryptedPIN{KeyID: v.KeyID, Ciphertext: v.CiphertextB64}, sub.PIN)
	require.Equal(t, "T1", sub.Ref)
}

func post(t testing.TB, body string, hdr ...string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/pay", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestDecode(t *testing.T) {
	v := loadVector(t)
	good := fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"T20261130"}`, v.KeyID, v.CiphertextB64)
	sub, err := Decode(post(t, good, "Content-Type", "application/json; charset=utf-8", "Sec-Fetch-Site", "same-origin"))
	require.NoError(t, err)
	require.Equal(t, Submission{PIN: wallet.EncryptedPIN{KeyID: v.KeyID, Ciphertext: v.CiphertextB64}, Ref: "T20261130"}, sub)
	sub, err = Decode(post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q}`, v.KeyID, v.CiphertextB64)))
	require.NoError(t, err, "ref is optional")
	require.Empty(t, sub.Ref)

	raw, _ := hex.DecodeString(v.SMCryptoHex)
	without04 := base64.StdEncoding.EncodeToString(raw)
	ct := v.CiphertextB64
	cases := []struct {
		name  string
		req   *http.Request
		field string // "" for an error that is not about a field
	}{
		{"GET", httptest.NewRequest(http.MethodGet, "/pay", nil), ""},
		{"cross-site", post(t, good, "Sec-Fetch-Site", "cross-site"), ""},
		{"form post", post(t, "key_id=a&ciphertext=b", "Content-Type", "application/x-www-form-urlencoded"), ""},
		{"no content type", post(t, good, "Content-Type", ""), ""},
		{"text/plain", post(t, good, "Content-Type", "text/plain"), ""},
		{"not JSON", post(t, `{"key_id":`), ""},
		{"an array", post(t, `[1,2,3]`), ""},
		{"null", post(t, `null`), ""},
		{"two objects", post(t, good+good), ""},
		{"too big", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"%s"}`, v.KeyID, ct, strings.Repeat("x", MaxBody))), ""},
		{"a number", post(t, fmt.Sprintf(`{"key_id":7,"ciphertext":%q}`, ct)), ""},
		{"the digits themselves", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"pin":"135790"}`, v.KeyID, ct)), "body"},
		{"digits as a member name", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"135790":1}`, v.KeyID, ct)), "body"},
		{"member in other case", post(t, fmt.Sprintf(`{"Key_ID":%q,"ciphertext":%q}`, v.KeyID, ct)), "body"},
		{"no key id", post(t, fmt.Sprintf(`{"ciphertext":%q}`, ct)), "key_id"},
		{"empty key id", post(t, fmt.Sprintf(`{"key_id":"","ciphertext":%q}`, ct)), "key_id"},
		{"control in key id", post(t, fmt.Sprintf(`{"key_id":"bank\n","ciphertext":%q}`, ct)), "key_id"},
		{"no ciphertext", post(t, fmt.Sprintf(`{"key_id":%q}`, v.KeyID)), "ciphertext"},
		{"sm-crypto output without 04", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q}`, v.KeyID, without04)), "ciphertext"},
		{"hex, not base64", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":"04%s"}`, v.KeyID, v.SMCryptoHex)), "ciphertext"},
		{"URL-safe base64", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q}`, v.KeyID, base64.URLEncoding.EncodeToString(append([]byte{4}, raw...)))), "ciphertext"},
		{"no padding", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q}`, v.KeyID, strings.TrimRight(ct, "="))), "ciphertext"},
		{"ref too long", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"%s"}`, v.KeyID, ct, strings.Repeat("r", MaxRef+1))), "ref"},
		{"control in ref", post(t, fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"a\u0000b"}`, v.KeyID, ct)), "ref"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.req)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrBadSubmission)
			require.NotContains(t, err.Error(), "135790", "an error never repeats what was sent")
			var fe *wallet.FieldError
			if c.field == "" {
				require.False(t, errors.As(err, &fe), "%v", err)
				return
			}
			require.ErrorAs(t, err, &fe)
			require.Equal(t, c.field, fe.Field)
			require.ErrorIs(t, err, wallet.ErrParamInvalid)
			require.Equal(t, string(wallet.ErrParamInvalid), Failure(err).Code)
		})
	}
}

func TestSubmissionPrintsMasked(t *testing.T) {
	v := loadVector(t)
	s := Submission{PIN: wallet.EncryptedPIN{KeyID: v.KeyID, Ciphertext: v.CiphertextB64}, Ref: "T1"}
	var sb strings.Builder
	wallettest.RequireMasked(t, []any{s, &s}, v.CiphertextB64)
	fmt.Fprintf(&sb, "%v %+v %#v %s", s, s, s, s)
	require.NotContains(t, sb.String(), v.CiphertextB64[:20])
	require.Equal(t, "[pin=******(bank-2026-01) ref=T1]", s.LogValue().Resolve().String())
}

func TestFailure(t *testing.T) {
	api := func(c wallet.ErrorCode) error {
		return fmt.Errorf("pay: %w", &wallet.APIError{Code: c, Message: "password is incorrect; 4 attempts left today", Path: "payment/pay", HTTPStatus: 200})
	}
	cases := []struct {
		err   error
		code  string
		retry bool
		text  string
	}{
		{api(wallet.ErrPasswordIncorrect), "PASSWORD_INCORRECT", true, "密码错误，请重新输入"},
		{api(wallet.ErrPasswordLocked), "PASSWORD_LOCKED", false, "已锁定"},
		{api(wallet.ErrDecryptFailed), "DECRYPT_FAILED", false, "刷新页面"},
		{&wallet.FieldError{Field: "password", Reason: `is encrypted to bank key "x", which this client does not trust`}, "PARAM_INVALID", false, "刷新页面"},
		{api(wallet.ErrInsufficientBalance), "INSUFFICIENT_BALANCE", false, "余额不足"},
		{api(wallet.ErrDailyLimitExceeded), "DAILY_LIMIT_EXCEEDED", false, "今日限额"},
		{api(wallet.ErrYearlyLimitExceeded), "YEARLY_LIMIT_EXCEEDED", false, "年度限额"},
		{api(wallet.ErrAccountFrozen), "ACCOUNT_FROZEN", false, "冻结"},
		{api(wallet.ErrAccountClosed), "ACCOUNT_CLOSED", false, "销户"},
		{api(wallet.ErrSystemError), "SYSTEM_ERROR", true, "繁忙"},
		{api(wallet.ErrOrderConflict), "ORDER_CONFLICT", false, "操作失败"},
		{&wallet.TransportError{Path: "payment/pay", Attempts: 3, Sent: true, Err: context.DeadlineExceeded}, CodeOutcomeUnknown, false, "请勿重复"},
		// The codes before authentication are unknown outcomes too.
		{api(wallet.ErrTimestampExpired), CodeOutcomeUnknown, false, "请勿重复"},
		{errors.New("disk full"), "", false, "操作失败"},
	}
	for _, c := range cases {
		r := Failure(c.err)
		require.False(t, r.OK, "%v", c.err)
		require.Equal(t, c.code, r.Code, "%v", c.err)
		require.Equal(t, c.retry, r.Retry, "%v", c.err)
		require.Contains(t, r.Message, c.text, "%v", c.err)
		require.NotContains(t, r.Message, "attempts", "the bank's English message is not shown")
	}
	require.True(t, Failure(nil).OK)
}

func TestReply(t *testing.T) {
	w := httptest.NewRecorder()
	Reply(w, Result{Code: "PASSWORD_INCORRECT", Message: "交易密码错误，请重新输入", Retry: true})
	require.Equal(t, http.StatusOK, w.Code)
	require.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	require.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	require.JSONEq(t, `{"ok":false,"code":"PASSWORD_INCORRECT","message":"交易密码错误，请重新输入","retry":true}`, w.Body.String())
	w = httptest.NewRecorder()
	Reply(w, Result{OK: true, Message: "支付成功", Redirect: "/orders/T1"})
	require.JSONEq(t, `{"ok":true,"message":"支付成功","redirect":"/orders/T1"}`, w.Body.String())
}

// The endpoint of the package doc, against the sandbox bank: a submission
// (here made with Client.EncryptPIN, which stands in for the page; the
// browser test in internal/browser uses the page) pays, a wrong PIN comes
// back as a retry, and a PIN for a key the client does not trust is
// refused before anything is sent.
func TestEndpointPaysThroughTheSDK(t *testing.T) {
	sb := wallettest.NewServer(t)
	c := sb.Client()
	ctx := context.Background()
	a, err := wallettest.Open(ctx, c, wallettest.Person())
	require.NoError(t, err)
	pay := payment.New(c)
	_, err = pay.Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 100_00})
	require.NoError(t, err)
	order := payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 12_34, Subject: "测试商品"}

	endpoint := func(r *http.Request) Result {
		sub, err := Decode(r)
		if err != nil {
			return Failure(err)
		}
		if sub.Ref != order.OutTradeNo {
			return Result{Message: "订单不存在"}
		}
		req := order
		req.Password = sub.PIN
		if _, err := pay.Pay(r.Context(), req); err != nil {
			return Failure(err)
		}
		return Result{OK: true, Message: "支付成功"}
	}
	submit := func(pin wallet.EncryptedPIN) Result {
		b, err := json.Marshal(map[string]string{"key_id": pin.KeyID, "ciphertext": pin.Ciphertext, "ref": order.OutTradeNo})
		require.NoError(t, err)
		return endpoint(post(t, string(b)))
	}
	key, err := c.PINKey()
	require.NoError(t, err)

	wrong, err := c.EncryptPIN("000000")
	require.NoError(t, err)
	require.Equal(t, key.KeyID, wrong.KeyID, "EncryptPIN and PINKey name the same key")
	require.Equal(t, Result{Code: "PASSWORD_INCORRECT", Message: "密码错误，请重新输入", Retry: true}, submit(wrong))

	other, err := sign.GenerateKey()
	require.NoError(t, err)
	ct, err := sign.EncryptPIN(other.Public(), wallettest.TestPIN)
	require.NoError(t, err)
	r := submit(wallet.EncryptedPIN{KeyID: "bank-1999-01", Ciphertext: ct})
	require.Equal(t, "PARAM_INVALID", r.Code)
	require.Contains(t, r.Message, "刷新页面")

	require.Equal(t, Result{OK: true, Message: "支付成功"}, submit(wallettest.PIN(t, c)))
	o, err := pay.Query(ctx, order.OutTradeNo)
	require.NoError(t, err)
	require.Equal(t, wallet.StatusSuccess, o.Status)
	require.Equal(t, int64(12_34), o.Amount)
}

func FuzzDecode(f *testing.F) {
	v := smCryptoVector{}
	if b, err := os.ReadFile("testdata/sm-crypto-pin.json"); err == nil {
		_ = json.Unmarshal(b, &v)
	}
	f.Add(fmt.Sprintf(`{"key_id":%q,"ciphertext":%q,"ref":"T1"}`, v.KeyID, v.CiphertextB64), "application/json")
	f.Add(`{"key_id":"k","ciphertext":"BA==","ref":"\u0007"}`, "application/json; charset=utf-8")
	f.Add(`{"key_id":"k","ciphertext":null}`, "application/json")
	f.Add(`{"ref":1}`, "text/plain")
	f.Add(`[]`, "application/json")
	f.Fuzz(func(t *testing.T, body, ctype string) {
		sub, err := Decode(post(t, body, "Content-Type", ctype))
		if err != nil {
			require.ErrorIs(t, err, ErrBadSubmission)
			return
		}
		require.NoError(t, sub.PIN.Check())
		require.LessOrEqual(t, len(sub.Ref), MaxRef)
		require.True(t, printable(sub.Ref) && printable(sub.PIN.KeyID))
		require.LessOrEqual(t, len(body), MaxBody)
	})
}

// docs/device-pin.md prints the vector for app developers: it must be
// this one.
func TestDocCarriesTheVector(t *testing.T) {
	v := loadVector(t)
	doc, err := os.ReadFile("../../docs/device-pin.md")
	require.NoError(t, err)
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	for _, s := range []string{v.PublicHex, keys.Bank.PrivateHex, "`" + v.PIN + "`", v.SMCryptoHex, v.CiphertextB64, "sm-crypto " + SMCryptoVersion} {
		require.Contains(t, string(doc), s)
	}
}

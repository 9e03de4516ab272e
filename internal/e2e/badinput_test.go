package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Bad input, field by field, on both sides of the wire (docs/protocol.md,
// "Field rules"): every request field of every API has at least one wrong
// value that
//
//	(a) the typed SDK call refuses with a *wallet.FieldError naming the
//	    field, before any network call; and
//	(b) the bank refuses with PARAM_INVALID and a message that starts
//	    "field:", when the same request is sent raw through Client.Do,
//	    bypassing the SDK's checks.
//
// The raw side also gets what a typed call cannot send: every field with a
// value of the wrong JSON type, an unknown field, and a field given twice.

// The values each table starts from: well formed, so that the one field a
// case breaks is the only thing wrong. Nothing needs to exist at the bank:
// formats are checked before any business rule.
const (
	goodAccount = "6236880000000001"
	goodPayee   = "6236880000000002"
	goodTradeNo = "T20261125000001"
	goodRefund  = "R20261125000001"
	goodToken   = "VT-0000000001"
	goodSerial  = "S-0000000001"
	goodCode    = wallet.Secret("123456")
	goodNotify  = "https://merchant.example/notify"
)

// badCase is one wrong value of one field of one API.
type badCase struct {
	path  string
	field string
	value string // the wrong value as text, to check it is never echoed
	typed func(context.Context, *wallet.Client) error
	raw   json.RawMessage // the same request as the typed call would send it
}

// fieldCase breaks one field of a request.
type fieldCase[R any] struct {
	field string
	value string
	edit  func(*R)
}

// cases turns an API's table into badCases: the typed call made with the
// edited request, and the request as JSON, which is what the typed call
// would put on the wire.
func cases[R any](t *testing.T, path string, good R, call func(context.Context, *wallet.Client, R) error, table ...fieldCase[R]) []badCase {
	out := make([]badCase, 0, len(table))
	for _, fc := range table {
		r := good
		fc.edit(&r)
		raw, err := core.Bridge.MarshalWire(r) // the wire form: personal data in clear
		require.NoError(t, err)
		out = append(out, badCase{path: path, field: fc.field, value: fc.value, raw: raw,
			typed: func(ctx context.Context, c *wallet.Client) error { return call(ctx, c, r) }})
	}
	return out
}

// one is a table for an API whose only field is a string argument.
func one(path, field string, call func(context.Context, *wallet.Client, string) error, values ...string) []badCase {
	out := make([]badCase, 0, len(values))
	for _, v := range values {
		raw, _ := json.Marshal(map[string]string{field: v})
		out = append(out, badCase{path: path, field: field, value: v, raw: raw,
			typed: func(ctx context.Context, c *wallet.Client) error { return call(ctx, c, v) }})
	}
	return out
}

func badInputTable(t *testing.T, pin wallet.EncryptedPIN) []badCase {
	p := wallettest.Person()
	face := wallettest.Face()
	var all []badCase
	add := func(cs []badCase) { all = append(all, cs...) }

	// Wrong values shared by many fields.
	const (
		badID     = wallet.IDNumber("110101199003074515") // check digit
		badCard   = wallet.CardNumber("6222021234567890127")
		badMobile = wallet.Mobile("12800138000")
		badAcct   = "62368800000"
		longText  = 129
	)
	gif := wallet.FaceImage("GIF89a\x01\x00\x01\x00")
	nopin := wallet.EncryptedPIN{}

	add(cases(t, "wallet/query", wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID},
		func(ctx context.Context, c *wallet.Client, r wallet.QueryRequest) error {
			_, err := c.Query(ctx, r)
			return err
		},
		fieldCase[wallet.QueryRequest]{"id_number", string(badID), func(r *wallet.QueryRequest) { r.IDNumber = badID }},
		fieldCase[wallet.QueryRequest]{"id_number", "11010119900307451x", func(r *wallet.QueryRequest) { r.IDNumber = "11010119900307451x" }},
		fieldCase[wallet.QueryRequest]{"id_number", "110101209912314513", func(r *wallet.QueryRequest) { r.IDNumber = "110101209912314513" }},
		fieldCase[wallet.QueryRequest]{"mobile", string(badMobile), func(r *wallet.QueryRequest) { r.Mobile = badMobile }},
		fieldCase[wallet.QueryRequest]{"user_id", "u 1001", func(r *wallet.QueryRequest) { r.UserID = "u 1001" }},
		fieldCase[wallet.QueryRequest]{"user_id", "", func(r *wallet.QueryRequest) { r.UserID = "" }},
	))

	sms := func(ctx context.Context, c *wallet.Client, r account.SendSMSRequest) error {
		_, err := account.New(c).SendSMS(ctx, r)
		return err
	}
	add(cases(t, "account/sms/send", account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen}, sms,
		fieldCase[account.SendSMSRequest]{"mobile", "1380013800", func(r *account.SendSMSRequest) { r.Mobile = "1380013800" }},
		fieldCase[account.SendSMSRequest]{"scene", "LOGIN", func(r *account.SendSMSRequest) { r.Scene = "LOGIN" }},
		fieldCase[account.SendSMSRequest]{"scene", "open", func(r *account.SendSMSRequest) { r.Scene = "open" }},
	))

	verify := func(ctx context.Context, c *wallet.Client, r account.VerifyRequest) error {
		_, err := account.New(c).Verify(ctx, r)
		return err
	}
	add(cases(t, "account/verify", account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile}, verify,
		fieldCase[account.VerifyRequest]{"name", "   ", func(r *account.VerifyRequest) { r.Name = "   " }},
		fieldCase[account.VerifyRequest]{"name", "张\x00三", func(r *account.VerifyRequest) { r.Name = "张\x00三" }},
		fieldCase[account.VerifyRequest]{"id_number", string(badID), func(r *account.VerifyRequest) { r.IDNumber = badID }},
		fieldCase[account.VerifyRequest]{"card_no", string(badCard), func(r *account.VerifyRequest) { r.CardNo = badCard }},
		fieldCase[account.VerifyRequest]{"card_no", "622202123456789", func(r *account.VerifyRequest) { r.CardNo = "622202123456789" }},
		fieldCase[account.VerifyRequest]{"mobile", string(badMobile), func(r *account.VerifyRequest) { r.Mobile = badMobile }},
	))

	open := func(ctx context.Context, c *wallet.Client, r account.OpenRequest) error {
		_, err := account.New(c).OpenAccount(ctx, r)
		return err
	}
	add(cases(t, "account/open", account.OpenRequest{UserID: p.UserID, VerifyToken: goodToken, Name: p.Name, IDNumber: p.IDNumber,
		CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: goodSerial, SMSCode: goodCode, FaceImage: face, Password: pin,
		Occupation: "工程师", Address: "北京市东城区"}, open,
		fieldCase[account.OpenRequest]{"user_id", "u/1001", func(r *account.OpenRequest) { r.UserID = "u/1001" }},
		fieldCase[account.OpenRequest]{"verify_token", "", func(r *account.OpenRequest) { r.VerifyToken = "" }},
		fieldCase[account.OpenRequest]{"verify_token", "tok en", func(r *account.OpenRequest) { r.VerifyToken = "tok en" }},
		fieldCase[account.OpenRequest]{"name", "", func(r *account.OpenRequest) { r.Name = "" }},
		fieldCase[account.OpenRequest]{"id_number", string(badID), func(r *account.OpenRequest) { r.IDNumber = badID }},
		fieldCase[account.OpenRequest]{"card_no", string(badCard), func(r *account.OpenRequest) { r.CardNo = badCard }},
		fieldCase[account.OpenRequest]{"mobile", string(badMobile), func(r *account.OpenRequest) { r.Mobile = badMobile }},
		fieldCase[account.OpenRequest]{"sms_serial", strings.Repeat("s", 65), func(r *account.OpenRequest) { r.SMSSerial = strings.Repeat("s", 65) }},
		fieldCase[account.OpenRequest]{"sms_code", "12345", func(r *account.OpenRequest) { r.SMSCode = "12345" }},
		fieldCase[account.OpenRequest]{"sms_code", "12345a", func(r *account.OpenRequest) { r.SMSCode = "12345a" }},
		fieldCase[account.OpenRequest]{"face_image", "GIF89a", func(r *account.OpenRequest) { r.FaceImage = gif }},
		fieldCase[account.OpenRequest]{"face_image", "", func(r *account.OpenRequest) { r.FaceImage = nil }},
		fieldCase[account.OpenRequest]{"password", "", func(r *account.OpenRequest) { r.Password = nopin }},
		fieldCase[account.OpenRequest]{"occupation", strings.Repeat("职", 65), func(r *account.OpenRequest) { r.Occupation = strings.Repeat("职", 65) }},
		fieldCase[account.OpenRequest]{"address", strings.Repeat("址", longText), func(r *account.OpenRequest) { r.Address = strings.Repeat("址", longText) }},
		fieldCase[account.OpenRequest]{"address", "北京\n东城", func(r *account.OpenRequest) { r.Address = "北京\n东城" }},
	))

	add(one("account/query", "account_no", func(ctx context.Context, c *wallet.Client, v string) error {
		_, err := account.New(c).Query(ctx, v)
		return err
	}, badAcct, "623688000000000000001", "62368800000000O1", ""))

	change := func(ctx context.Context, c *wallet.Client, r account.ChangeCardRequest) error {
		_, err := account.New(c).ChangeCard(ctx, r)
		return err
	}
	add(cases(t, "account/card/change", account.ChangeCardRequest{AccountNo: goodAccount, CardNo: p.CardNo, Mobile: p.Mobile,
		SMSSerial: goodSerial, SMSCode: goodCode, Password: pin}, change,
		fieldCase[account.ChangeCardRequest]{"account_no", badAcct, func(r *account.ChangeCardRequest) { r.AccountNo = badAcct }},
		fieldCase[account.ChangeCardRequest]{"card_no", string(badCard), func(r *account.ChangeCardRequest) { r.CardNo = badCard }},
		fieldCase[account.ChangeCardRequest]{"mobile", string(badMobile), func(r *account.ChangeCardRequest) { r.Mobile = badMobile }},
		fieldCase[account.ChangeCardRequest]{"sms_serial", "", func(r *account.ChangeCardRequest) { r.SMSSerial = "" }},
		fieldCase[account.ChangeCardRequest]{"sms_code", "1234567", func(r *account.ChangeCardRequest) { r.SMSCode = "1234567" }},
		fieldCase[account.ChangeCardRequest]{"password", "", func(r *account.ChangeCardRequest) { r.Password = nopin }},
	))

	reset := func(ctx context.Context, c *wallet.Client, r account.ResetPasswordRequest) error {
		_, err := account.New(c).ResetPassword(ctx, r)
		return err
	}
	add(cases(t, "account/password/reset", account.ResetPasswordRequest{AccountNo: goodAccount, IDNumber: p.IDNumber,
		SMSSerial: goodSerial, SMSCode: goodCode, FaceImage: face, NewPassword: pin}, reset,
		fieldCase[account.ResetPasswordRequest]{"account_no", "", func(r *account.ResetPasswordRequest) { r.AccountNo = "" }},
		fieldCase[account.ResetPasswordRequest]{"id_number", string(badID), func(r *account.ResetPasswordRequest) { r.IDNumber = badID }},
		fieldCase[account.ResetPasswordRequest]{"sms_serial", "序列", func(r *account.ResetPasswordRequest) { r.SMSSerial = "序列" }},
		fieldCase[account.ResetPasswordRequest]{"sms_code", "", func(r *account.ResetPasswordRequest) { r.SMSCode = "" }},
		fieldCase[account.ResetPasswordRequest]{"face_image", "GIF89a", func(r *account.ResetPasswordRequest) { r.FaceImage = gif }},
		fieldCase[account.ResetPasswordRequest]{"new_password", "", func(r *account.ResetPasswordRequest) { r.NewPassword = nopin }},
	))

	closeAcct := func(ctx context.Context, c *wallet.Client, r account.CloseRequest) error {
		_, err := account.New(c).CloseAccount(ctx, r)
		return err
	}
	add(cases(t, "account/close", account.CloseRequest{AccountNo: goodAccount, SMSSerial: goodSerial, SMSCode: goodCode, Password: pin}, closeAcct,
		fieldCase[account.CloseRequest]{"account_no", "6236 8800 0000 0001", func(r *account.CloseRequest) { r.AccountNo = "6236 8800 0000 0001" }},
		fieldCase[account.CloseRequest]{"sms_serial", "", func(r *account.CloseRequest) { r.SMSSerial = "" }},
		fieldCase[account.CloseRequest]{"sms_code", "１２３４５６", func(r *account.CloseRequest) { r.SMSCode = "１２３４５６" }},
		fieldCase[account.CloseRequest]{"password", "", func(r *account.CloseRequest) { r.Password = nopin }},
	))

	recharge := func(ctx context.Context, c *wallet.Client, r payment.RechargeRequest) error {
		_, err := payment.New(c).Recharge(ctx, r)
		return err
	}
	add(cases(t, "payment/recharge", payment.RechargeRequest{AccountNo: goodAccount, OutTradeNo: goodTradeNo, Amount: 100, NotifyURL: goodNotify}, recharge,
		fieldCase[payment.RechargeRequest]{"account_no", badAcct, func(r *payment.RechargeRequest) { r.AccountNo = badAcct }},
		fieldCase[payment.RechargeRequest]{"out_trade_no", "T1", func(r *payment.RechargeRequest) { r.OutTradeNo = "T1" }},
		fieldCase[payment.RechargeRequest]{"out_trade_no", "T2026/1125", func(r *payment.RechargeRequest) { r.OutTradeNo = "T2026/1125" }},
		fieldCase[payment.RechargeRequest]{"amount", "0", func(r *payment.RechargeRequest) { r.Amount = 0 }},
		fieldCase[payment.RechargeRequest]{"amount", "-100", func(r *payment.RechargeRequest) { r.Amount = -100 }},
		fieldCase[payment.RechargeRequest]{"amount", "9007199254740992", func(r *payment.RechargeRequest) { r.Amount = rules.MaxAmount + 1 }},
		fieldCase[payment.RechargeRequest]{"notify_url", "http://merchant.example/notify", func(r *payment.RechargeRequest) { r.NotifyURL = "http://merchant.example/notify" }},
		fieldCase[payment.RechargeRequest]{"notify_url", "/notify", func(r *payment.RechargeRequest) { r.NotifyURL = "/notify" }},
	))

	withdraw := func(ctx context.Context, c *wallet.Client, r payment.WithdrawRequest) error {
		_, err := payment.New(c).Withdraw(ctx, r)
		return err
	}
	add(cases(t, "payment/withdraw", payment.WithdrawRequest{AccountNo: goodAccount, OutTradeNo: goodTradeNo, Amount: 100, Password: pin, NotifyURL: goodNotify}, withdraw,
		fieldCase[payment.WithdrawRequest]{"account_no", "", func(r *payment.WithdrawRequest) { r.AccountNo = "" }},
		fieldCase[payment.WithdrawRequest]{"out_trade_no", strings.Repeat("T", 33), func(r *payment.WithdrawRequest) { r.OutTradeNo = strings.Repeat("T", 33) }},
		fieldCase[payment.WithdrawRequest]{"amount", "0", func(r *payment.WithdrawRequest) { r.Amount = 0 }},
		fieldCase[payment.WithdrawRequest]{"password", "", func(r *payment.WithdrawRequest) { r.Password = nopin }},
		fieldCase[payment.WithdrawRequest]{"notify_url", "https://user:pw@merchant.example/notify", func(r *payment.WithdrawRequest) { r.NotifyURL = "https://user:pw@merchant.example/notify" }},
	))

	pay := func(ctx context.Context, c *wallet.Client, r payment.PayRequest) error {
		_, err := payment.New(c).Pay(ctx, r)
		return err
	}
	add(cases(t, "payment/pay", payment.PayRequest{AccountNo: goodAccount, OutTradeNo: goodTradeNo, Amount: 100, Subject: "会员月卡", Password: pin, NotifyURL: goodNotify}, pay,
		fieldCase[payment.PayRequest]{"account_no", "A236880000000001", func(r *payment.PayRequest) { r.AccountNo = "A236880000000001" }},
		fieldCase[payment.PayRequest]{"out_trade_no", "T 20261125", func(r *payment.PayRequest) { r.OutTradeNo = "T 20261125" }},
		fieldCase[payment.PayRequest]{"amount", "-1", func(r *payment.PayRequest) { r.Amount = -1 }},
		fieldCase[payment.PayRequest]{"subject", "", func(r *payment.PayRequest) { r.Subject = "" }},
		fieldCase[payment.PayRequest]{"subject", strings.Repeat("会", longText), func(r *payment.PayRequest) { r.Subject = strings.Repeat("会", longText) }},
		fieldCase[payment.PayRequest]{"subject", "会员\x7f月卡", func(r *payment.PayRequest) { r.Subject = "会员\x7f月卡" }},
		fieldCase[payment.PayRequest]{"password", "", func(r *payment.PayRequest) { r.Password = nopin }},
		fieldCase[payment.PayRequest]{"notify_url", "ftp://merchant.example/notify", func(r *payment.PayRequest) { r.NotifyURL = "ftp://merchant.example/notify" }},
	))

	transfer := func(ctx context.Context, c *wallet.Client, r payment.TransferRequest) error {
		_, err := payment.New(c).Transfer(ctx, r)
		return err
	}
	add(cases(t, "payment/transfer", payment.TransferRequest{AccountNo: goodAccount, PayeeAccountNo: goodPayee, PayeeName: p.Name,
		OutTradeNo: goodTradeNo, Amount: 100, Password: pin, Remark: "午饭", NotifyURL: goodNotify}, transfer,
		fieldCase[payment.TransferRequest]{"account_no", badAcct, func(r *payment.TransferRequest) { r.AccountNo = badAcct }},
		fieldCase[payment.TransferRequest]{"payee_account_no", "", func(r *payment.TransferRequest) { r.PayeeAccountNo = "" }},
		fieldCase[payment.TransferRequest]{"payee_account_no", goodAccount, func(r *payment.TransferRequest) { r.PayeeAccountNo = goodAccount }},
		fieldCase[payment.TransferRequest]{"payee_name", "", func(r *payment.TransferRequest) { r.PayeeName = "" }},
		fieldCase[payment.TransferRequest]{"payee_name", strings.Repeat("名", 65), func(r *payment.TransferRequest) { r.PayeeName = wallet.Name(strings.Repeat("名", 65)) }},
		fieldCase[payment.TransferRequest]{"out_trade_no", "", func(r *payment.TransferRequest) { r.OutTradeNo = "" }},
		fieldCase[payment.TransferRequest]{"amount", "0", func(r *payment.TransferRequest) { r.Amount = 0 }},
		fieldCase[payment.TransferRequest]{"password", "", func(r *payment.TransferRequest) { r.Password = nopin }},
		fieldCase[payment.TransferRequest]{"remark", strings.Repeat("备", 65), func(r *payment.TransferRequest) { r.Remark = strings.Repeat("备", 65) }},
		fieldCase[payment.TransferRequest]{"remark", "午饭\t", func(r *payment.TransferRequest) { r.Remark = "午饭\t" }},
		fieldCase[payment.TransferRequest]{"notify_url", "https://", func(r *payment.TransferRequest) { r.NotifyURL = "https://" }},
	))

	refund := func(ctx context.Context, c *wallet.Client, r payment.RefundRequest) error {
		_, err := payment.New(c).Refund(ctx, r)
		return err
	}
	add(cases(t, "payment/refund", payment.RefundRequest{OutTradeNo: goodTradeNo, OutRefundNo: goodRefund, Amount: 100, Reason: "缺货"}, refund,
		fieldCase[payment.RefundRequest]{"out_trade_no", "", func(r *payment.RefundRequest) { r.OutTradeNo = "" }},
		fieldCase[payment.RefundRequest]{"out_refund_no", strings.Repeat("R", 33), func(r *payment.RefundRequest) { r.OutRefundNo = strings.Repeat("R", 33) }},
		fieldCase[payment.RefundRequest]{"out_refund_no", "R.1.2.3.4", func(r *payment.RefundRequest) { r.OutRefundNo = "R.1.2.3.4" }},
		fieldCase[payment.RefundRequest]{"amount", "0", func(r *payment.RefundRequest) { r.Amount = 0 }},
		fieldCase[payment.RefundRequest]{"reason", strings.Repeat("因", longText), func(r *payment.RefundRequest) { r.Reason = strings.Repeat("因", longText) }},
	))

	add(one("payment/query", "out_trade_no", func(ctx context.Context, c *wallet.Client, v string) error {
		_, err := payment.New(c).Query(ctx, v)
		return err
	}, "", "T1", "T2026'1125"))
	add(one("payment/refund/query", "out_refund_no", func(ctx context.Context, c *wallet.Client, v string) error {
		_, err := payment.New(c).QueryRefund(ctx, v)
		return err
	}, "", strings.Repeat("R", 33), "R<script>"))
	return all
}

// apiFields lists every request field of every API, docs/protocol.md, section 4.
var apiFields = map[string][]string{
	"wallet/query":           {"id_number", "mobile", "user_id"},
	"account/sms/send":       {"mobile", "scene"},
	"account/verify":         {"name", "id_number", "card_no", "mobile"},
	"account/open":           {"user_id", "verify_token", "name", "id_number", "card_no", "mobile", "sms_serial", "sms_code", "face_image", "password", "occupation", "address"},
	"account/query":          {"account_no"},
	"account/card/change":    {"account_no", "card_no", "mobile", "sms_serial", "sms_code", "password"},
	"account/password/reset": {"account_no", "id_number", "sms_serial", "sms_code", "face_image", "new_password"},
	"account/close":          {"account_no", "sms_serial", "sms_code", "password"},
	"payment/recharge":       {"account_no", "out_trade_no", "amount", "notify_url"},
	"payment/withdraw":       {"account_no", "out_trade_no", "amount", "password", "notify_url"},
	"payment/pay":            {"account_no", "out_trade_no", "amount", "subject", "password", "notify_url"},
	"payment/transfer":       {"account_no", "payee_account_no", "payee_name", "out_trade_no", "amount", "password", "remark", "notify_url"},
	"payment/refund":         {"out_trade_no", "out_refund_no", "amount", "reason"},
	"payment/query":          {"out_trade_no"},
	"payment/refund/query":   {"out_refund_no"},
}

// countingTransport counts the requests a client sends.
type countingTransport struct{ n atomic.Int64 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

// requireParamInvalid checks the bank's refusal: PARAM_INVALID, the field
// named first, and the value not echoed.
func requireParamInvalid(t *testing.T, err error, field, value string) {
	t.Helper()
	var apiErr *wallet.APIError
	require.ErrorAs(t, err, &apiErr, "the bank answers, verified")
	require.Equal(t, wallet.ErrParamInvalid, apiErr.Code, "%v", err)
	require.True(t, strings.HasPrefix(apiErr.Message, field+": "), "the message names %s first: %q", field, apiErr.Message)
	if len(value) >= 4 {
		require.NotContains(t, apiErr.Message, value, "the value is never echoed")
	}
}

func TestBadInputIsRefusedOnBothSides(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	pin := wallettest.PIN(t, sb.Client())
	table := badInputTable(t, pin)

	covered := map[string]map[string]bool{}
	for _, bc := range table {
		if covered[bc.path] == nil {
			covered[bc.path] = map[string]bool{}
		}
		covered[bc.path][bc.field] = true
	}
	for path, fields := range apiFields {
		for _, f := range fields {
			require.True(t, covered[path][f], "no bad value for %s %s", path, f)
		}
	}
	require.Len(t, covered, len(apiFields))

	byPath := map[string][]badCase{}
	for _, bc := range table {
		byPath[bc.path] = append(byPath[bc.path], bc)
	}
	var typedTried, rawTried atomic.Int64
	t.Run("typed", func(t *testing.T) {
		for path, list := range byPath {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				sent := &countingTransport{}
				c := sb.Client(wallet.WithHTTPClient(&http.Client{Transport: sent}))
				for _, bc := range list {
					err := bc.typed(t.Context(), c)
					var fe *wallet.FieldError
					require.ErrorAs(t, err, &fe, "%s %s=%q", path, bc.field, bc.value)
					require.Equal(t, bc.field, fe.Field, "%s %s=%q: %v", path, bc.field, bc.value, err)
					require.ErrorIs(t, err, wallet.ErrParamInvalid)
					if len(bc.value) >= 4 {
						require.NotContains(t, err.Error(), bc.value, "the value is never echoed")
					}
					typedTried.Add(1)
				}
				require.Zero(t, sent.n.Load(), "no bad input reaches the network")
			})
		}
	})
	t.Run("raw", func(t *testing.T) {
		for path, list := range byPath {
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				sent := &countingTransport{}
				c := sb.Client(wallet.WithHTTPClient(&http.Client{Transport: sent}), wallet.WithRetry(0))
				for _, bc := range list {
					before := sent.n.Load()
					err := c.Do(t.Context(), path, bc.raw, nil)
					requireParamInvalid(t, err, bc.field, bc.value)
					require.Equal(t, before+1, sent.n.Load(), "sent, answered, not retried")
					rawTried.Add(1)
				}
			})
		}
	})
	t.Run("raw wrong types and unknown fields", func(t *testing.T) {
		for path, list := range byPath {
			good := goodBody(t, list[0].raw, list[0].field, pin)
			t.Run(path, func(t *testing.T) {
				t.Parallel()
				c := sb.Client(wallet.WithRetry(0))
				try := func(body []byte, field string) {
					t.Helper()
					err := c.Do(t.Context(), path, json.RawMessage(body), nil)
					requireParamInvalid(t, err, field, "")
					rawTried.Add(1)
				}
				fields := apiFields[path]
				for _, f := range fields {
					if f == "amount" {
						try(withMember(t, good, f, `"100"`), f) // a string amount
						try(withMember(t, good, f, `1.5`), f)   // fen are integers
						try(withMember(t, good, f, `1e2`), f)
						continue
					}
					try(withMember(t, good, f, `13800138000`), f) // a number where a string belongs
					try(withMember(t, good, f, `{"v":"x"}`), f)
				}
				// An unknown field (a typo) is refused, not ignored; the bank
				// never copies the attacker-chosen name into its signed msg.
				try(withMember(t, good, "amout", `100`), "biz_content")
				try(withMember(t, good, "extra_field", `""`), "biz_content")
				// A field given twice: what was signed and what is used must not differ.
				dup := append(bytes.TrimSuffix(good, []byte("}")), []byte(`,"`+fields[0]+`":`+string(memberOf(t, good, fields[0]))+`}`)...)
				try(dup, fields[0])
			})
		}
	})
	t.Logf("bad inputs tried: %d typed (no network call), %d raw at the bank; %d APIs, %d fields",
		typedTried.Load(), rawTried.Load(), len(apiFields), countFields())
}

func countFields() int {
	n := 0
	for _, f := range apiFields {
		n += len(f)
	}
	return n
}

// goodBody rebuilds a well-formed body of the API from one of its bad
// cases by putting the good value back into the field that case broke.
func goodBody(t *testing.T, bad json.RawMessage, field string, pin wallet.EncryptedPIN) []byte {
	p := wallettest.Person()
	good := map[string]any{
		"account_no": goodAccount, "payee_account_no": goodPayee, "out_trade_no": goodTradeNo, "out_refund_no": goodRefund,
		"amount": 100, "id_number": string(p.IDNumber), "mobile": string(p.Mobile), "user_id": p.UserID,
		"name": string(p.Name), "payee_name": string(p.Name), "card_no": string(p.CardNo), "scene": "OPEN",
		"verify_token": goodToken, "sms_serial": goodSerial, "sms_code": string(goodCode),
		"face_image": wallettest.Face(), "password": pin, "new_password": pin,
		"occupation": "工程师", "address": "北京市东城区", "subject": "会员月卡", "remark": "午饭",
		"reason": "缺货", "notify_url": goodNotify,
	}
	v, ok := good[field]
	require.True(t, ok, field)
	raw, err := core.Bridge.MarshalWire(v)
	require.NoError(t, err)
	return withMember(t, bad, field, string(raw))
}

// withMember returns the JSON object body with member key set to the raw
// JSON value, keeping the other members as they are.
func withMember(t *testing.T, body []byte, key, value string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	m[key] = json.RawMessage(value)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}

func memberOf(t *testing.T, body []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &m))
	v, ok := m[key]
	if !ok {
		require.Fail(t, "no member", key)
	}
	return v
}

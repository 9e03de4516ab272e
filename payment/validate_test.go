package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

func requireField(t *testing.T, err error, field, reason string) {
	t.Helper()
	var fe *wallet.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, field, fe.Field)
	require.Equal(t, reason, fe.Reason)
	require.ErrorIs(t, err, wallet.ErrParamInvalid)
}

type bad struct{ field, reason string }

// The money fields every money request shares, with their errors.
func moneyCases() []struct {
	bad
	acct, no string
	amount   int64
	notify   string
} {
	return []struct {
		bad
		acct, no string
		amount   int64
		notify   string
	}{
		{bad{"account_no", "must be 16 to 19 digits"}, "623688", "T20261125001", 1, ""},
		{bad{"out_trade_no", "must be 6 to 32 characters"}, "6236880000000001", "T1", 1, ""},
		{bad{"out_trade_no", "may hold only letters, digits, '_' and '-'"}, "6236880000000001", "T2026/1125", 1, ""},
		{bad{"amount", "must be at least 1 fen"}, "6236880000000001", "T20261125001", 0, ""},
		{bad{"amount", "must be at least 1 fen"}, "6236880000000001", "T20261125001", -100, ""},
		{bad{"amount", "is larger than the protocol carries (2^53-1 fen)"}, "6236880000000001", "T20261125001", rules.MaxAmount + 1, ""},
		{bad{"notify_url", "must use https (http only on a loopback host)"}, "6236880000000001", "T20261125001", 1, "http://merchant.example/notify"},
		{bad{"notify_url", "must be an absolute URL"}, "6236880000000001", "T20261125001", 1, "/notify"},
	}
}

func TestValidationNamesTheField(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	svc := payment.New(c)
	pin, err := c.EncryptPIN("135790")
	require.NoError(t, err)

	for _, tc := range moneyCases() {
		_, err := svc.Recharge(ctx, payment.RechargeRequest{AccountNo: tc.acct, OutTradeNo: tc.no, Amount: tc.amount, NotifyURL: tc.notify})
		requireField(t, err, tc.field, tc.reason)
		_, err = svc.Withdraw(ctx, payment.WithdrawRequest{AccountNo: tc.acct, OutTradeNo: tc.no, Amount: tc.amount, Password: pin, NotifyURL: tc.notify})
		requireField(t, err, tc.field, tc.reason)
		_, err = svc.Pay(ctx, payment.PayRequest{AccountNo: tc.acct, OutTradeNo: tc.no, Amount: tc.amount, Subject: "s", Password: pin, NotifyURL: tc.notify})
		requireField(t, err, tc.field, tc.reason)
		_, err = svc.Transfer(ctx, payment.TransferRequest{AccountNo: tc.acct, PayeeAccountNo: "6236880000000002", PayeeName: "张三",
			OutTradeNo: tc.no, Amount: tc.amount, Password: pin, NotifyURL: tc.notify})
		requireField(t, err, tc.field, tc.reason)
	}

	good := payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1, Subject: "会员", Password: pin}
	for _, tc := range []struct {
		bad
		edit func(*payment.PayRequest)
	}{
		{bad{"subject", "is required"}, func(r *payment.PayRequest) { r.Subject = "" }},
		{bad{"subject", "is longer than 128 characters"}, func(r *payment.PayRequest) { r.Subject = strings.Repeat("会", 129) }},
		{bad{"subject", "holds a control character"}, func(r *payment.PayRequest) { r.Subject = "a\x00b" }},
		{bad{"password", "is required (the user's device encrypts it with the key of Client.PINKey)"}, func(r *payment.PayRequest) { r.Password = wallet.EncryptedPIN{} }},
	} {
		r := good
		tc.edit(&r)
		_, err := svc.Pay(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}
	_, err = svc.Withdraw(ctx, payment.WithdrawRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1})
	requireField(t, err, "password", "is required (the user's device encrypts it with the key of Client.PINKey)")

	transfer := payment.TransferRequest{AccountNo: "6236880000000001", PayeeAccountNo: "6236880000000002", PayeeName: "张三",
		OutTradeNo: "T20261125001", Amount: 1, Password: pin}
	for _, tc := range []struct {
		bad
		edit func(*payment.TransferRequest)
	}{
		{bad{"payee_account_no", "must be 16 to 19 digits"}, func(r *payment.TransferRequest) { r.PayeeAccountNo = "" }},
		{bad{"payee_account_no", "must not be the paying account"}, func(r *payment.TransferRequest) { r.PayeeAccountNo = r.AccountNo }},
		{bad{"payee_name", "is required"}, func(r *payment.TransferRequest) { r.PayeeName = "" }},
		{bad{"remark", "is longer than 64 characters"}, func(r *payment.TransferRequest) { r.Remark = strings.Repeat("备", 65) }},
	} {
		r := transfer
		tc.edit(&r)
		_, err := svc.Transfer(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	refund := payment.RefundRequest{OutTradeNo: "T20261125001", OutRefundNo: "R20261125001", Amount: 1}
	for _, tc := range []struct {
		bad
		edit func(*payment.RefundRequest)
	}{
		{bad{"out_trade_no", "must be 6 to 32 characters"}, func(r *payment.RefundRequest) { r.OutTradeNo = "" }},
		{bad{"out_refund_no", "must be 6 to 32 characters"}, func(r *payment.RefundRequest) { r.OutRefundNo = strings.Repeat("R", 33) }},
		{bad{"amount", "must be at least 1 fen"}, func(r *payment.RefundRequest) { r.Amount = 0 }},
		{bad{"reason", "is longer than 128 characters"}, func(r *payment.RefundRequest) { r.Reason = strings.Repeat("因", 129) }},
	} {
		r := refund
		tc.edit(&r)
		_, err := svc.Refund(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	_, err = svc.Query(ctx, "T1")
	requireField(t, err, "out_trade_no", "must be 6 to 32 characters")
	_, err = svc.QueryRefund(ctx, "R 1 2 3 4")
	requireField(t, err, "out_refund_no", "may hold only letters, digits, '_' and '-'")

	require.Empty(t, bank.Requests(), "no bad input reaches the network")
}

func TestPINRequestsAreEncryptedToThePINsKey(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	bank.AddBankKey("mock-bank-2")
	bank.Reply("payment/pay", map[string]any{"out_trade_no": "T20261125001", "account_no": "6236880000000001", "amount": 1, "type": "PAY", "status": "SUCCESS"})
	c := bank.Client(wallet.WithEncryptKeyID("mock-bank-2"))
	pin, err := c.EncryptPIN("135790")
	require.NoError(t, err)
	require.Equal(t, "mock-bank-2", pin.KeyID)
	// A PIN the merchant's app encrypted to the other key travels with a
	// request encrypted to that key, whatever the client would pick.
	appPIN := wallet.EncryptedPIN{KeyID: "mock-bank-1", Ciphertext: mustPIN(t, bank, "mock-bank-1")}
	o, err := payment.New(c).Pay(ctx, payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1, Subject: "s", Password: appPIN})
	require.NoError(t, err)
	require.Equal(t, payment.StatusSuccess, o.Status)
	reqs := bank.Requests()
	require.Equal(t, "mock-bank-1", reqs[0].EncryptKeyID)
	var sent map[string]any
	require.NoError(t, reqs[0].Decode(&sent))
	require.Equal(t, appPIN.Ciphertext, sent["password"])
	require.Equal(t, float64(1), sent["amount"], "money is a JSON number of fen")
}

func mustPIN(t *testing.T, bank *wallettest.MockBank, keyID string) string {
	c := bank.Client(wallet.WithEncryptKeyID(keyID))
	p, err := c.EncryptPIN("246810")
	require.NoError(t, err)
	return p.Ciphertext
}

func TestNewOutTradeNo(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 1000; i++ {
		no := payment.NewOutTradeNo()
		require.NoError(t, rules.OrderNo(no))
		require.Len(t, no, 28)
		require.False(t, seen[no])
		seen[no] = true
		if i%100 == 0 {
			time.Sleep(2 * time.Millisecond)
			if prev != "" {
				require.Less(t, prev[:18], no[:18], "later numbers sort after earlier ones")
			}
			prev = no
		}
	}
	require.Equal(t, byte('R'), payment.NewOutRefundNo()[0])
}

func TestRequestsMaskPersonalData(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	pin, err := bank.Client().EncryptPIN("135790")
	require.NoError(t, err)
	wallettest.RequireMasked(t, []any{
		payment.WithdrawRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1, Password: pin},
		payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 1, Subject: "s", Password: pin},
		payment.TransferRequest{AccountNo: "6236880000000001", PayeeAccountNo: "6236880000000002", PayeeName: "欧阳娜娜", OutTradeNo: "T20261125001", Amount: 1, Password: pin},
	}, pin.Ciphertext, "欧阳娜娜")
}

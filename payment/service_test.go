package payment_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// End-to-end tests against the sandbox bank, one per method and error code.

type fixture struct {
	t    *testing.T
	sb   *wallettest.Server
	c    *wallet.Client
	pay  *payment.Service
	acct string
	pin  wallet.EncryptedPIN
}

func newFixture(t *testing.T, balance int64) *fixture {
	t.Parallel()
	sb := wallettest.NewServer(t)
	c := sb.Client()
	f := &fixture{t: t, sb: sb, c: c, pay: payment.New(c), acct: sb.OpenAccount(wallettest.Person()), pin: wallettest.PIN(t, c)}
	if balance > 0 {
		sb.Recharge(f.acct, balance)
	}
	return f
}

func (f *fixture) payReq(amount int64) payment.PayRequest {
	return payment.PayRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Subject: "会员月卡 & 礼包", Password: f.pin}
}

func (f *fixture) balance(acct string) int64 {
	f.t.Helper()
	a, err := account.New(f.c).Query(ctx, acct)
	require.NoError(f.t, err)
	return a.Balance
}

func TestRecharge(t *testing.T) {
	f := newFixture(t, 0)
	req := payment.RechargeRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 10_000}
	o, err := f.pay.Recharge(ctx, req)
	require.NoError(t, err)
	require.Equal(t, payment.StatusSuccess, o.Status)
	require.Equal(t, wallet.OrderRecharge, o.Type)
	require.Equal(t, int64(10_000), o.Amount)
	require.NotEmpty(t, o.TradeNo)
	require.False(t, o.FinishedAt.IsZero())
	require.Equal(t, int64(10_000), f.balance(f.acct))

	again, err := f.pay.Recharge(ctx, req)
	require.NoError(t, err, "the same out_trade_no and parameters return the existing order")
	require.Equal(t, o.TradeNo, again.TradeNo)
	require.Equal(t, int64(10_000), f.balance(f.acct), "and move no money")

	req.Amount = 20_000
	_, err = f.pay.Recharge(ctx, req)
	require.ErrorIs(t, err, wallet.ErrOrderConflict)

	_, err = f.pay.Recharge(ctx, payment.RechargeRequest{AccountNo: "6236889999999999", OutTradeNo: payment.NewOutTradeNo(), Amount: 1})
	require.ErrorIs(t, err, wallet.ErrAccountNotFound)
	f.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.RechargeSucceeded })
}

func TestWithdraw(t *testing.T) {
	f := newFixture(t, 10_000)
	o, err := f.pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 4_000, Password: f.pin})
	require.NoError(t, err)
	require.Equal(t, wallet.OrderWithdraw, o.Type)
	require.Equal(t, int64(6_000), f.balance(f.acct))

	_, err = f.pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 6_001, Password: f.pin})
	require.ErrorIs(t, err, wallet.ErrInsufficientBalance)
	wrong, _ := f.c.EncryptPIN("246813")
	_, err = f.pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Password: wrong})
	require.ErrorIs(t, err, wallet.ErrPasswordIncorrect)
	// Withdrawals do not count against the limits.
	_, err = f.pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 6_000, Password: f.pin})
	require.NoError(t, err)
	a, err := account.New(f.c).Query(ctx, f.acct)
	require.NoError(t, err)
	require.Zero(t, a.Limits.DailyOutUsed)
	f.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.WithdrawSucceeded })
}

func TestPayAndQuery(t *testing.T) {
	f := newFixture(t, 10_000)
	req := f.payReq(990)
	o, err := f.pay.Pay(ctx, req)
	require.NoError(t, err)
	require.Equal(t, wallet.OrderPay, o.Type)
	require.Equal(t, "会员月卡 & 礼包", o.Subject)
	require.Equal(t, int64(9_010), f.balance(f.acct))

	q, err := f.pay.Query(ctx, req.OutTradeNo)
	require.NoError(t, err)
	require.Equal(t, o.TradeNo, q.TradeNo)
	require.Equal(t, payment.StatusSuccess, q.Status)

	// A retry with a fresh PIN ciphertext is still "the same request".
	req.Password = wallettest.PIN(t, f.c)
	again, err := f.pay.Pay(ctx, req)
	require.NoError(t, err)
	require.Equal(t, o.TradeNo, again.TradeNo)
	require.Equal(t, int64(9_010), f.balance(f.acct))
	req.Subject = "另一个商品"
	_, err = f.pay.Pay(ctx, req)
	require.ErrorIs(t, err, wallet.ErrOrderConflict)

	_, err = f.pay.Query(ctx, payment.NewOutTradeNo())
	require.ErrorIs(t, err, wallet.ErrOrderNotFound)

	_, err = f.pay.Pay(ctx, f.payReq(9_011))
	require.ErrorIs(t, err, wallet.ErrInsufficientBalance)
	failed := f.payReq(9_011)
	_, _ = f.pay.Pay(ctx, failed)
	_, err = f.pay.Query(ctx, failed.OutTradeNo)
	require.ErrorIs(t, err, wallet.ErrOrderNotFound, "a failed call records no order")
	failed.Amount = 11
	_, err = f.pay.Pay(ctx, failed)
	require.NoError(t, err, "and its out_trade_no stays free")

	n := f.sb.WaitNotification(func(n *notify.Event) bool {
		o, _ := n.Order()
		return n.Type == notify.PaymentSucceeded && o != nil && o.OutTradeNo == req.OutTradeNo
	})
	no, err := n.Order()
	require.NoError(t, err)
	require.Equal(t, int64(990), no.Amount)
}

func TestPayLimits(t *testing.T) {
	f := newFixture(t, 3_000_000)
	_, err := f.pay.Pay(ctx, f.payReq(1_000_000))
	require.NoError(t, err, "exactly the daily limit")
	_, err = f.pay.Pay(ctx, f.payReq(1))
	require.ErrorIs(t, err, wallet.ErrDailyLimitExceeded, "one fen over")
	f.sb.AdvanceClock(24 * time.Hour)
	_, err = f.pay.Pay(ctx, f.payReq(1))
	require.NoError(t, err, "a new day (UTC+8)")
	a, err := account.New(f.c).Query(ctx, f.acct)
	require.NoError(t, err)
	require.Equal(t, int64(1), a.Limits.DailyOutUsed)
	require.Equal(t, int64(1_000_001), a.Limits.YearlyOutUsed)
}

func TestTransfer(t *testing.T) {
	f := newFixture(t, 50_000)
	payeePerson := wallettest.Person()
	payee := f.sb.OpenAccount(payeePerson)
	req := payment.TransferRequest{AccountNo: f.acct, PayeeAccountNo: payee, PayeeName: payeePerson.Name,
		OutTradeNo: payment.NewOutTradeNo(), Amount: 12_345, Password: f.pin, Remark: "午饭"}
	o, err := f.pay.Transfer(ctx, req)
	require.NoError(t, err)
	require.Equal(t, wallet.OrderTransfer, o.Type)
	require.Equal(t, payee, o.PayeeAccountNo)
	require.Equal(t, int64(50_000-12_345), f.balance(f.acct))
	require.Equal(t, int64(12_345), f.balance(payee))

	bad := req
	bad.OutTradeNo = payment.NewOutTradeNo()
	bad.PayeeName = "不是他"
	_, err = f.pay.Transfer(ctx, bad)
	require.ErrorIs(t, err, wallet.ErrParamInvalid)
	var apiErr *wallet.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Contains(t, apiErr.Message, "payee_name")

	bad.PayeeName = payeePerson.Name
	bad.PayeeAccountNo = "6236889999999999"
	_, err = f.pay.Transfer(ctx, bad)
	require.ErrorIs(t, err, wallet.ErrAccountNotFound)

	f.sb.Freeze(payee)
	bad.PayeeAccountNo = payee
	_, err = f.pay.Transfer(ctx, bad)
	require.ErrorIs(t, err, wallet.ErrAccountFrozen)
	f.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.TransferSucceeded })
}

func TestTransferInLimitOfThePayee(t *testing.T) {
	f := newFixture(t, 0)
	// Two payers, each within its own out-limit, fill the payee's in-limit.
	payeePerson := wallettest.Person()
	payee := f.sb.OpenAccount(payeePerson)
	for i, amount := range []int64{600_000, 400_000} {
		payer := f.sb.OpenAccount(wallettest.Person())
		f.sb.Recharge(payer, 700_000)
		_, err := f.pay.Transfer(ctx, payment.TransferRequest{AccountNo: payer, PayeeAccountNo: payee, PayeeName: payeePerson.Name,
			OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Password: f.pin})
		require.NoError(t, err, "payer %d", i)
		if i == 1 {
			_, err = f.pay.Transfer(ctx, payment.TransferRequest{AccountNo: payer, PayeeAccountNo: payee, PayeeName: payeePerson.Name,
				OutTradeNo: payment.NewOutTradeNo(), Amount: 1, Password: f.pin})
			require.ErrorIs(t, err, wallet.ErrDailyLimitExceeded, "the payee's inflow is at 10,000 CNY for the day")
		}
	}
}

func TestRefund(t *testing.T) {
	f := newFixture(t, 10_000)
	paid := f.payReq(1_000)
	_, err := f.pay.Pay(ctx, paid)
	require.NoError(t, err)

	r1 := payment.RefundRequest{OutTradeNo: paid.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 600, Reason: "缺货"}
	ref, err := f.pay.Refund(ctx, r1)
	require.NoError(t, err)
	require.Equal(t, payment.StatusSuccess, ref.Status)
	require.NotEmpty(t, ref.RefundNo)
	require.Equal(t, int64(9_600), f.balance(f.acct))

	again, err := f.pay.Refund(ctx, r1)
	require.NoError(t, err)
	require.Equal(t, ref.RefundNo, again.RefundNo)
	require.Equal(t, int64(9_600), f.balance(f.acct), "an idempotent repeat refunds nothing more")

	_, err = f.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: paid.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 401})
	require.ErrorIs(t, err, wallet.ErrRefundAmountExceeded)
	_, err = f.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: paid.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 400})
	require.NoError(t, err, "exactly the rest")
	o, err := f.pay.Query(ctx, paid.OutTradeNo)
	require.NoError(t, err)
	require.Equal(t, int64(1_000), o.RefundedAmount)
	require.Equal(t, payment.StatusSuccess, o.Status)

	r1.Amount = 1
	_, err = f.pay.Refund(ctx, r1)
	require.ErrorIs(t, err, wallet.ErrOrderConflict)

	q, err := f.pay.QueryRefund(ctx, r1.OutRefundNo)
	require.NoError(t, err)
	require.Equal(t, int64(600), q.Amount)
	_, err = f.pay.QueryRefund(ctx, payment.NewOutRefundNo())
	require.ErrorIs(t, err, wallet.ErrOrderNotFound)

	recharge := payment.RechargeRequest{AccountNo: f.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 5}
	_, err = f.pay.Recharge(ctx, recharge)
	require.NoError(t, err)
	_, err = f.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: recharge.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 1})
	require.ErrorIs(t, err, wallet.ErrOrderNotRefundable)
	_, err = f.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: payment.NewOutTradeNo(), OutRefundNo: payment.NewOutRefundNo(), Amount: 1})
	require.ErrorIs(t, err, wallet.ErrOrderNotFound)
	f.sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.RefundSucceeded })
}

func TestConcurrentPaymentsNeverExceedTheLimit(t *testing.T) {
	f := newFixture(t, 2_000_000)
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.pay.Pay(ctx, f.payReq(100_000))
			switch {
			case err == nil:
				ok.Add(1)
			case wallet.IsOutcomeUnknown(err):
				t.Error(err)
			default:
				require.ErrorIs(t, err, wallet.ErrDailyLimitExceeded)
				limited.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(10), ok.Load(), "10 × 1,000 CNY fill the daily limit exactly")
	require.Equal(t, int32(6), limited.Load())
	require.Equal(t, int64(1_000_000), f.balance(f.acct))
}

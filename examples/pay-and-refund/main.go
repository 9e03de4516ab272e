// Command pay-and-refund takes a payment from a user's e-account, refunds
// part of it, and shows the one rule a payment integration must get right:
// when the outcome of a money call is unknown, query it (or send the same
// request again) — never pay again under a new order number.
//
//	go run ./examples/pay-and-refund
//	go run ./examples/pay-and-refund -base-url http://127.0.0.1:8360
//
// Against a sandbox it makes the bank drop the connection after it took the
// money, to show the unknown outcome being resolved.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/examples/internal/connect"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() { connect.Main("pay-and-refund", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	// No retries, so that the dropped answer below reaches this code as an
	// unknown outcome (with retries the SDK would resolve it by itself).
	env, err := connect.Setup(ctx, "pay-and-refund", args, nil, wallet.WithRetry(0))
	if err != nil {
		return err
	}
	defer env.Close()
	c := env.Client
	pay := payment.New(c)
	acct, err := openAndFund(ctx, c, 500_00)
	if err != nil {
		return err
	}
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return err
	}

	// A payment.
	req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 128_00, Subject: "年度会员", Password: pin}
	o, err := pay.Pay(ctx, req)
	switch {
	case errors.Is(err, wallet.ErrInsufficientBalance):
		return errors.New("not enough money: offer a recharge")
	case errors.Is(err, wallet.ErrDailyLimitExceeded), errors.Is(err, wallet.ErrYearlyLimitExceeded):
		return errors.New("over the Class II account's limit")
	case errors.Is(err, wallet.ErrPasswordIncorrect):
		return errors.New("wrong PIN: ask again (five wrong PINs lock it for the day)")
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "paid ¥%s: order %s %s\n", yuan(o.Amount), o.OutTradeNo, o.Status)

	// A partial refund, then its query.
	ref, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 28_00, Reason: "优惠"})
	if err != nil {
		return err
	}
	q, err := pay.QueryRefund(ctx, ref.OutRefundNo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "refunded ¥%s: refund %s %s\n", yuan(q.Amount), q.OutRefundNo, q.Status)
	_, err = pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 100_01})
	fmt.Fprintf(out, "refunding more than is left: %v\n", errors.Is(err, wallet.ErrRefundAmountExceeded))

	// The unknown outcome: the bank takes the money, then the connection drops.
	if err := env.InjectFault(ctx, "drop_after_commit", 1, "payment/pay"); err != nil {
		return err
	}
	req = payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 66_00, Subject: "加购", Password: pin}
	_, err = pay.Pay(ctx, req)
	if !wallet.IsOutcomeUnknown(err) {
		return fmt.Errorf("expected an unknown outcome, got %v", err)
	}
	fmt.Fprintf(out, "pay %s: %v\n", req.OutTradeNo, err)
	found, err := resolve(ctx, pay, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "resolved by query: order %s %s, ¥%s taken once\n", found.OutTradeNo, found.Status, yuan(found.Amount))

	a, err := account.New(c).Query(ctx, acct)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "balance ¥%s = 500.00 − 128.00 + 28.00 − 66.00\n", yuan(a.Balance))
	return nil
}

// resolve settles a payment whose outcome is unknown: if the bank has the
// order it took effect; if not, the very same request is safe to send again.
func resolve(ctx context.Context, pay *payment.Service, req payment.PayRequest) (*payment.Order, error) {
	o, err := pay.Query(ctx, req.OutTradeNo)
	if errors.Is(err, wallet.ErrOrderNotFound) {
		return pay.Pay(ctx, req) // same OutTradeNo: the bank pays at most once
	}
	return o, err
}

func openAndFund(ctx context.Context, c *wallet.Client, amount int64) (string, error) {
	a, err := wallettest.Open(ctx, c, wallettest.Person()) // the journey itself: examples/open-account
	if err != nil {
		return "", err
	}
	_, err = payment.New(c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	return a.AccountNo, err
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

package payment_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// A payment, a partial refund, and the two answers a merchant branches on
// most: not enough money, and an order the bank never saw.
func ExampleService_Pay() {
	ctx := context.Background()
	sb, stop, err := wallettest.StartServer() // the sandbox bank, in-process
	if err != nil {
		panic(err)
	}
	defer stop()
	c := sb.Client()
	acct := sb.OpenAccount(wallettest.Person())
	sb.Recharge(acct, 100_00) // ¥100.00
	pay := payment.New(c)

	pin, _ := c.EncryptPIN(wallettest.TestPIN) // the PIN the user typed
	o, err := pay.Pay(ctx, payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(),
		Amount: 9_90, Subject: "会员月卡", Password: pin})
	fmt.Println(o.Status, o.Amount, err)

	r, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 4_90})
	fmt.Println(r.Status, r.Amount, err)

	_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(),
		Amount: 500_00, Subject: "年卡", Password: pin})
	fmt.Println(errors.Is(err, wallet.ErrInsufficientBalance))

	_, err = pay.Query(ctx, payment.NewOutTradeNo())
	fmt.Println(errors.Is(err, wallet.ErrOrderNotFound))
	// Output:
	// SUCCESS 990 <nil>
	// SUCCESS 490 <nil>
	// true
	// true
}

// Bad input is refused before anything is sent, naming the field.
func ExamplePayRequest_Validate() {
	err := payment.PayRequest{AccountNo: "6236880000000001", OutTradeNo: "T20261125001", Amount: 0, Subject: "会员"}.Validate()
	var fe *wallet.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field, fe.Reason)
	// Output: true amount must be at least 1 fen
}

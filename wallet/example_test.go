package wallet_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// 我的钱包: does this person have an account in our channel?
func ExampleClient_Query() {
	sb, stop, err := wallettest.StartServer() // the sandbox bank, in-process
	if err != nil {
		panic(err)
	}
	defer stop()
	c := sb.Client()
	p := wallettest.Person()

	w, err := c.Query(context.Background(), wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	fmt.Println(w.Opened, err)

	sb.OpenAccount(p)
	w, err = c.Query(context.Background(), wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	fmt.Println(w.Opened, w.Account.Status, w.Account.Balance, err)

	_, err = c.Query(context.Background(), wallet.QueryRequest{IDNumber: "110101199003074515", Mobile: p.Mobile, UserID: p.UserID})
	var fe *wallet.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field, fe.Reason)
	// Output:
	// false <nil>
	// true NORMAL 0 <nil>
	// true id_number check digit does not match
}

// How to tell the three kinds of failure apart.
func ExampleIsOutcomeUnknown() {
	handle := func(err error) string {
		var apiErr *wallet.APIError
		switch {
		case err == nil:
			return "done"
		case wallet.IsOutcomeUnknown(err):
			return "unknown: query before anything else"
		case errors.As(err, &apiErr):
			return "refused: " + string(apiErr.Code)
		default:
			return "not sent: " + err.Error()
		}
	}
	fmt.Println(handle(nil))
	fmt.Println(handle(&wallet.APIError{Code: wallet.ErrInsufficientBalance}))
	fmt.Println(handle(&wallet.TransportError{Path: "payment/pay", Sent: true, Err: context.DeadlineExceeded}))
	fmt.Println(handle(&wallet.FieldError{Field: "amount", Reason: "must be at least 1 fen"}))
	// Output:
	// done
	// refused: INSUFFICIENT_BALANCE
	// unknown: query before anything else
	// not sent: wallet: invalid amount: must be at least 1 fen
}

package payment

import (
	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

func notifyURL(u string) error {
	if u == "" {
		return nil
	}
	return rules.CallbackURL(u)
}

// Validate checks the request as the bank would, without the network.
func (r RechargeRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(r.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(r.Amount)},
		check.Field{Name: "notify_url", Err: notifyURL(r.NotifyURL)},
	)
}

// Validate checks the request as the bank would, without the network.
func (r WithdrawRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(r.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(r.Amount)},
		check.Field{Name: "password", Err: r.Password.Check()},
		check.Field{Name: "notify_url", Err: notifyURL(r.NotifyURL)},
	)
}

// Validate checks the request as the bank would, without the network.
func (r PayRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(r.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(r.Amount)},
		check.Field{Name: "subject", Err: subject(r.Subject)},
		check.Field{Name: "password", Err: r.Password.Check()},
		check.Field{Name: "notify_url", Err: notifyURL(r.NotifyURL)},
	)
}

func subject(s string) error {
	if err := check.If(s == "", "is required"); err != nil {
		return err
	}
	return rules.Text(s, 128)
}

// Validate checks the request as the bank would, without the network.
func (r TransferRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "payee_account_no", Err: rules.AccountNo(r.PayeeAccountNo)},
		check.Field{Name: "payee_account_no", Err: check.If(r.PayeeAccountNo == r.AccountNo, "must not be the paying account")},
		check.Field{Name: "payee_name", Err: rules.Name(string(r.PayeeName))},
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(r.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(r.Amount)},
		check.Field{Name: "password", Err: r.Password.Check()},
		check.Field{Name: "remark", Err: rules.Text(r.Remark, 64)},
		check.Field{Name: "notify_url", Err: notifyURL(r.NotifyURL)},
	)
}

// Validate checks the request as the bank would, without the network.
func (r RefundRequest) Validate() error {
	return check.First(
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(r.OutTradeNo)},
		check.Field{Name: "out_refund_no", Err: rules.OrderNo(r.OutRefundNo)},
		check.Field{Name: "amount", Err: rules.Amount(r.Amount)},
		check.Field{Name: "reason", Err: rules.Text(r.Reason, 128)},
	)
}

package h5

import (
	"log/slog"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Page is one of the bank-hosted pages: OpenPage, WalletPage, RechargePage,
// WithdrawPage, PayPage, CardPage, PasswordPage or ClosePage. Its fields become the link's query (through
// their url tags); personal data goes only into the encrypted data field.
type Page interface {
	// name is the page's path segment: /h5/{name}.
	name() string
	validate() error
	// prefill is the personal data to encrypt into data, or nil.
	prefill() any
}

// Common holds the fields every page link carries.
type Common struct {
	UserID    string `url:"user_id"`              // the merchant's own user id; required
	ReturnURL string `url:"return_url"`           // where the page sends the user back; https, or http on loopback
	NotifyURL string `url:"notify_url,omitempty"` // overrides the merchant's notify URL for this flow
}

func (c Common) checks() []check.Field {
	return []check.Field{
		{Name: "user_id", Err: rules.UserID(c.UserID)},
		{Name: "return_url", Err: rules.CallbackURL(c.ReturnURL)},
		{Name: "notify_url", Err: optionalURL(c.NotifyURL)},
	}
}

func optionalURL(u string) error {
	if u == "" {
		return nil
	}
	return rules.CallbackURL(u)
}

// OpenPage is the account-opening page (开户). The optional prefill fills the
// form for the user; it travels encrypted.
type OpenPage struct {
	Common
	Name     wallet.Name       `url:"-"`
	IDNumber wallet.IDNumber   `url:"-"`
	Mobile   wallet.Mobile     `url:"-"`
	CardNo   wallet.CardNumber `url:"-"`
}

// WalletPage is 我的钱包: balance, bound card, and entries to the other pages.
type WalletPage struct {
	Common
	AccountNo string `url:"account_no"`
}

// RechargePage is 充值 from the bound card. OutTradeNo is required (find
// the order with it: payment.Service.Query). Amount (fen) is optional: when
// set it is the amount of the flow, which the user cannot change; without
// it the user types one.
type RechargePage struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount,omitempty"`
}

// WithdrawPage is 提现 to the bound card. OutTradeNo is required; Amount
// (fen), when set, is the amount of the flow, as for RechargePage.
type WithdrawPage struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount,omitempty"`
}

// PayPage is the payment page: order summary and PIN entry.
type PayPage struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount"`
	Subject    string `url:"subject"`
}

// CardPage is 换卡: bind another debit card.
type CardPage struct {
	Common
	AccountNo string `url:"account_no"`
}

// PasswordPage is 交易密码重置.
type PasswordPage struct {
	Common
	AccountNo string `url:"account_no"`
}

// ClosePage is 销户.
type ClosePage struct {
	Common
	AccountNo string `url:"account_no"`
}

func (OpenPage) name() string     { return "open" }
func (WalletPage) name() string   { return "wallet" }
func (RechargePage) name() string { return "recharge" }
func (WithdrawPage) name() string { return "withdraw" }
func (PayPage) name() string      { return "pay" }
func (CardPage) name() string     { return "card" }
func (PasswordPage) name() string { return "password" }
func (ClosePage) name() string    { return "close" }

// isPage reports whether name is one of the bank's pages.
func isPage(name string) bool {
	switch name {
	case OpenPage{}.name(), WalletPage{}.name(), RechargePage{}.name(), WithdrawPage{}.name(),
		PayPage{}.name(), CardPage{}.name(), PasswordPage{}.name(), ClosePage{}.name():
		return true
	}
	return false
}

type openData struct {
	Name     wallet.Name       `json:"name,omitempty"`
	IDNumber wallet.IDNumber   `json:"id_number,omitempty"`
	Mobile   wallet.Mobile     `json:"mobile,omitempty"`
	CardNo   wallet.CardNumber `json:"card_no,omitempty"`
}

func (p OpenPage) prefill() any {
	if p.Name == "" && p.IDNumber == "" && p.Mobile == "" && p.CardNo == "" {
		return nil
	}
	return openData{Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo}
}
func (WalletPage) prefill() any   { return nil }
func (RechargePage) prefill() any { return nil }
func (WithdrawPage) prefill() any { return nil }
func (PayPage) prefill() any      { return nil }
func (CardPage) prefill() any     { return nil }
func (PasswordPage) prefill() any { return nil }
func (ClosePage) prefill() any    { return nil }

func optional(v string, rule func(string) error) error {
	if v == "" {
		return nil
	}
	return rule(v)
}

func (p OpenPage) validate() error {
	return check.First(append(p.checks(),
		check.Field{Name: "name", Err: optional(string(p.Name), rules.Name)},
		check.Field{Name: "id_number", Err: optional(string(p.IDNumber), rules.IDNumber)},
		check.Field{Name: "mobile", Err: optional(string(p.Mobile), rules.Mobile)},
		check.Field{Name: "card_no", Err: optional(string(p.CardNo), rules.CardNumber)},
	)...)
}

func accountChecks(c Common, accountNo string) []check.Field {
	return append(c.checks(), check.Field{Name: "account_no", Err: rules.AccountNo(accountNo)})
}

func optionalAmount(n int64) error {
	if n == 0 {
		return nil
	}
	return rules.Amount(n)
}

func (p WalletPage) validate() error   { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p CardPage) validate() error     { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p PasswordPage) validate() error { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p ClosePage) validate() error    { return check.First(accountChecks(p.Common, p.AccountNo)...) }

func (p RechargePage) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: optionalAmount(p.Amount)},
	)...)
}

func (p WithdrawPage) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: optionalAmount(p.Amount)},
	)...)
}

func (p PayPage) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(p.Amount)},
		check.Field{Name: "subject", Err: check.If(p.Subject == "", "is required")},
		check.Field{Name: "subject", Err: rules.Text(p.Subject, 128)},
	)...)
}

// LogValue prints the page with its prefill masked.
func (p OpenPage) LogValue() slog.Value { return mask.Value(p) }

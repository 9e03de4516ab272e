package h5

import (
	"log/slog"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Page is one of the bank-hosted pages: Open, Wallet, Recharge, Withdraw,
// Pay, Card, Password or Close. Its fields become the link's query (through
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

// Open is the account-opening page (开户). The optional prefill fills the
// form for the user; it travels encrypted.
type Open struct {
	Common
	Name     wallet.Name       `url:"-"`
	IDNumber wallet.IDNumber   `url:"-"`
	Mobile   wallet.Mobile     `url:"-"`
	CardNo   wallet.CardNumber `url:"-"`
}

// Wallet is 我的钱包: balance, bound card, and entries to the other pages.
type Wallet struct {
	Common
	AccountNo string `url:"account_no"`
}

// Recharge is 充值 from the bound card. Amount (fen) is optional: without
// it the user types one.
type Recharge struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount,omitempty"`
}

// Withdraw is 提现 to the bound card. Amount (fen) is optional.
type Withdraw struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount,omitempty"`
}

// Pay is the payment page: order summary and PIN entry.
type Pay struct {
	Common
	AccountNo  string `url:"account_no"`
	OutTradeNo string `url:"out_trade_no"`
	Amount     int64  `url:"amount"`
	Subject    string `url:"subject"`
}

// Card is 换卡: bind another debit card.
type Card struct {
	Common
	AccountNo string `url:"account_no"`
}

// Password is 交易密码重置.
type Password struct {
	Common
	AccountNo string `url:"account_no"`
}

// Close is 销户.
type Close struct {
	Common
	AccountNo string `url:"account_no"`
}

func (Open) name() string     { return "open" }
func (Wallet) name() string   { return "wallet" }
func (Recharge) name() string { return "recharge" }
func (Withdraw) name() string { return "withdraw" }
func (Pay) name() string      { return "pay" }
func (Card) name() string     { return "card" }
func (Password) name() string { return "password" }
func (Close) name() string    { return "close" }

type openData struct {
	Name     wallet.Name       `json:"name,omitempty"`
	IDNumber wallet.IDNumber   `json:"id_number,omitempty"`
	Mobile   wallet.Mobile     `json:"mobile,omitempty"`
	CardNo   wallet.CardNumber `json:"card_no,omitempty"`
}

func (p Open) prefill() any {
	if p.Name == "" && p.IDNumber == "" && p.Mobile == "" && p.CardNo == "" {
		return nil
	}
	return openData{Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo}
}
func (Wallet) prefill() any   { return nil }
func (Recharge) prefill() any { return nil }
func (Withdraw) prefill() any { return nil }
func (Pay) prefill() any      { return nil }
func (Card) prefill() any     { return nil }
func (Password) prefill() any { return nil }
func (Close) prefill() any    { return nil }

func optional(v string, rule func(string) error) error {
	if v == "" {
		return nil
	}
	return rule(v)
}

func (p Open) validate() error {
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

func (p Wallet) validate() error   { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p Card) validate() error     { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p Password) validate() error { return check.First(accountChecks(p.Common, p.AccountNo)...) }
func (p Close) validate() error    { return check.First(accountChecks(p.Common, p.AccountNo)...) }

func (p Recharge) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: optionalAmount(p.Amount)},
	)...)
}

func (p Withdraw) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: optionalAmount(p.Amount)},
	)...)
}

func (p Pay) validate() error {
	return check.First(append(accountChecks(p.Common, p.AccountNo),
		check.Field{Name: "out_trade_no", Err: rules.OrderNo(p.OutTradeNo)},
		check.Field{Name: "amount", Err: rules.Amount(p.Amount)},
		check.Field{Name: "subject", Err: check.If(p.Subject == "", "is required")},
		check.Field{Name: "subject", Err: rules.Text(p.Subject, 128)},
	)...)
}

// LogValue prints the page with its prefill masked.
func (p Open) LogValue() slog.Value { return wallet.Masked(p) }

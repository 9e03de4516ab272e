package wallet

import (
	"encoding/json"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// AccountStatus is the state of a Class II e-account.
type AccountStatus string

// Account states.
const (
	AccountNormal AccountStatus = "NORMAL"
	AccountFrozen AccountStatus = "FROZEN"
	AccountClosed AccountStatus = "CLOSED"
)

// BoundCard is the one debit card bound to an account, masked by the bank.
type BoundCard struct {
	BankName     string `json:"bank_name"`
	CardNoMasked string `json:"card_no_masked"`
}

// Limits is the turnover of an account against the limits of PROTOCOL.md
// section 8, in fen, for the current day and year (UTC+8).
type Limits struct {
	DailyInUsed   int64 `json:"daily_in_used"`
	DailyOutUsed  int64 `json:"daily_out_used"`
	YearlyInUsed  int64 `json:"yearly_in_used"`
	YearlyOutUsed int64 `json:"yearly_out_used"`
	DailyLimit    int64 `json:"daily_limit"`
	YearlyLimit   int64 `json:"yearly_limit"`
}

// Account is a user's Class II e-account (渠道II类账户) as the bank shows it:
// the answer of account/query and account/open and the payload of the
// ACCOUNT_* notifications. Money is in fen.
type Account struct {
	AccountNo        string        `json:"account_no"`
	UserID           string        `json:"user_id,omitempty"`
	Status           AccountStatus `json:"status"`
	NameMasked       string        `json:"name_masked,omitempty"`
	Balance          int64         `json:"balance"`
	AvailableBalance int64         `json:"available_balance"`
	BoundCard        BoundCard     `json:"bound_card"`
	OpenedAt         time.Time     `json:"-"`
	ClosedAt         time.Time     `json:"-"`                // zero unless CLOSED
	Limits           *Limits       `json:"limits,omitempty"` // account/query only
}

// UnmarshalJSON reads the protocol's time format into OpenedAt and ClosedAt.
func (a *Account) UnmarshalJSON(b []byte) error {
	v := a.wire()
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	a.fromWire(v)
	return nil
}

// accountJSON is Account as the wire has it: the same fields, with the
// times in the protocol's format.
type accountJSON struct {
	*accountPlain
	OpenedAt wire.Time `json:"opened_at"`
	ClosedAt wire.Time `json:"closed_at"`
}

type accountPlain Account // Account's fields without its methods

func (a *Account) wire() *accountJSON { return &accountJSON{accountPlain: (*accountPlain)(a)} }

func (a *Account) fromWire(v *accountJSON) { a.OpenedAt, a.ClosedAt = v.OpenedAt.Time, v.ClosedAt.Time }

// Wallet is the answer of wallet/query (我的钱包): whether the person has an
// open account in this merchant's channel, and if so, the account.
type Wallet struct {
	Opened  bool
	Account *Account // nil when !Opened
}

// UnmarshalJSON reads the flat wallet/query object in one pass: the
// account's fields and "opened" side by side.
func (w *Wallet) UnmarshalJSON(b []byte) error {
	var a Account
	v := struct {
		*accountJSON
		Opened bool `json:"opened"`
	}{accountJSON: a.wire()}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.fromWire(v.accountJSON)
	w.Opened, w.Account = v.Opened, nil
	if v.Opened {
		w.Account = &a
	}
	return nil
}

// OrderType is the kind of a money movement.
type OrderType string

// Order types.
const (
	OrderRecharge OrderType = "RECHARGE"
	OrderWithdraw OrderType = "WITHDRAW"
	OrderPay      OrderType = "PAY"
	OrderTransfer OrderType = "TRANSFER"
)

// OrderStatus is the state of an order or refund.
type OrderStatus string

// Order states. The sandbox completes every call at once, so its orders are
// SUCCESS; a real bank may answer PROCESSING and finish later (learn the end
// from the notification or payment.Query).
const (
	StatusProcessing OrderStatus = "PROCESSING"
	StatusSuccess    OrderStatus = "SUCCESS"
	StatusFailed     OrderStatus = "FAILED"
	StatusClosed     OrderStatus = "CLOSED"
)

// Order is a money movement of an account: the answer of the payment APIs
// and the payload of the payment notifications. Amounts are in fen.
type Order struct {
	OutTradeNo     string      `json:"out_trade_no"`
	TradeNo        string      `json:"trade_no"`
	Type           OrderType   `json:"type"`
	AccountNo      string      `json:"account_no"`
	PayeeAccountNo string      `json:"payee_account_no,omitempty"` // TRANSFER
	Subject        string      `json:"subject,omitempty"`          // PAY
	Amount         int64       `json:"amount"`
	RefundedAmount int64       `json:"refunded_amount"`
	Status         OrderStatus `json:"status"`
	CreatedAt      time.Time   `json:"-"`
	FinishedAt     time.Time   `json:"-"` // zero while PROCESSING
}

// UnmarshalJSON reads the protocol's time format into the time fields.
func (o *Order) UnmarshalJSON(b []byte) error {
	type plain Order
	v := struct {
		*plain
		CreatedAt  wire.Time `json:"created_at"`
		FinishedAt wire.Time `json:"finished_at"`
	}{plain: (*plain)(o)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	o.CreatedAt, o.FinishedAt = v.CreatedAt.Time, v.FinishedAt.Time
	return nil
}

// Refund gives back (part of) a PAY order to the paying account.
type Refund struct {
	OutRefundNo string      `json:"out_refund_no"`
	RefundNo    string      `json:"refund_no"`
	OutTradeNo  string      `json:"out_trade_no"`
	Amount      int64       `json:"amount"`
	Status      OrderStatus `json:"status"`
	RefundedAt  time.Time   `json:"-"`
}

// UnmarshalJSON reads the protocol's time format into RefundedAt.
func (r *Refund) UnmarshalJSON(b []byte) error {
	type plain Refund
	v := struct {
		*plain
		RefundedAt wire.Time `json:"refunded_at"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.RefundedAt = v.RefundedAt.Time
	return nil
}

package wallet

import (
	"encoding/json"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// The answers of the bank below encode to JSON in the protocol's own form
// (snake_case fields, times as yyyy-MM-dd HH:mm:ss in UTC+8, money in fen)
// and decode from it: json.Marshal then json.Unmarshal gives the value back
// (times to the second, in UTC+8), so a merchant can store them, and a test
// double can answer with them.

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

// Limits is the turnover of an account against the limits of
// docs/protocol.md, section 8, in fen, for the current day and year
// (UTC+8).
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

// accountJSON is Account as the wire has it: the same fields, with the
// times in the protocol's format.
type accountJSON struct {
	*accountPlain
	OpenedAt wire.Time `json:"opened_at"`
	ClosedAt wire.Time `json:"closed_at"`
}

type accountPlain Account // Account's fields without its methods

func (a *Account) wire() *accountJSON {
	return &accountJSON{accountPlain: (*accountPlain)(a), OpenedAt: wire.Time{Time: a.OpenedAt}, ClosedAt: wire.Time{Time: a.ClosedAt}}
}

func (a *Account) fromWire(v *accountJSON) { a.OpenedAt, a.ClosedAt = v.OpenedAt.Time, v.ClosedAt.Time }

// MarshalJSON writes the protocol's form.
func (a Account) MarshalJSON() ([]byte, error) { return json.Marshal(a.wire()) }

// UnmarshalJSON reads the protocol's form.
func (a *Account) UnmarshalJSON(b []byte) error {
	v := a.wire()
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	a.fromWire(v)
	return nil
}

// QueryResponse is the answer of wallet/query (我的钱包): whether the person
// has an open account in this merchant's channel, and if so, the account.
type QueryResponse struct {
	Opened  bool
	Account *Account // nil when !Opened
}

// MarshalJSON writes the flat wallet/query object: "opened" and, when
// opened, the account's fields beside it.
func (r QueryResponse) MarshalJSON() ([]byte, error) {
	if !r.Opened || r.Account == nil {
		return []byte(`{"opened":false}`), nil
	}
	return json.Marshal(struct {
		*accountJSON
		Opened bool `json:"opened"`
	}{accountJSON: r.Account.wire(), Opened: true})
}

// UnmarshalJSON reads the flat wallet/query object in one pass: the
// account's fields and "opened" side by side.
func (r *QueryResponse) UnmarshalJSON(b []byte) error {
	var a Account
	v := struct {
		*accountJSON
		Opened bool `json:"opened"`
	}{accountJSON: a.wire()}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	a.fromWire(v.accountJSON)
	r.Opened, r.Account = v.Opened, nil
	if v.Opened {
		r.Account = &a
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
// from the notification or payment.Service.Query).
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

type orderPlain Order

type orderJSON struct {
	*orderPlain
	CreatedAt  wire.Time `json:"created_at"`
	FinishedAt wire.Time `json:"finished_at"`
}

// MarshalJSON writes the protocol's form.
func (o Order) MarshalJSON() ([]byte, error) {
	return json.Marshal(orderJSON{orderPlain: (*orderPlain)(&o), CreatedAt: wire.Time{Time: o.CreatedAt}, FinishedAt: wire.Time{Time: o.FinishedAt}})
}

// UnmarshalJSON reads the protocol's form.
func (o *Order) UnmarshalJSON(b []byte) error {
	v := orderJSON{orderPlain: (*orderPlain)(o)}
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

type refundPlain Refund

type refundJSON struct {
	*refundPlain
	RefundedAt wire.Time `json:"refunded_at"`
}

// MarshalJSON writes the protocol's form.
func (r Refund) MarshalJSON() ([]byte, error) {
	return json.Marshal(refundJSON{refundPlain: (*refundPlain)(&r), RefundedAt: wire.Time{Time: r.RefundedAt}})
}

// UnmarshalJSON reads the protocol's form.
func (r *Refund) UnmarshalJSON(b []byte) error {
	v := refundJSON{refundPlain: (*refundPlain)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.RefundedAt = v.RefundedAt.Time
	return nil
}

package statement

import (
	"encoding/json"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// API is the path of the call that asks for a statement, for
// wallet.Client.Do: POST /api/v1/bill/download (need not be encrypted).
const API = "bill/download"

// Type is a statement's kind (bill_type).
type Type string

// The two statements of a business day.
const (
	// Trade has one line per order that ended that day (SUCCESS, FAILED or
	// CLOSED, at finished_at) and one per successful refund (at
	// refunded_at): what you reconcile your orders against.
	Trade Type = "TRADE"
	// Ledger has one line per balance movement of an account of your
	// channel that day, with the balance it left.
	Ledger Type = "LEDGER"
)

// TradeType is the type column of a TRADE statement.
type TradeType string

// Trade line types: the four order types and REFUND.
const (
	TradeRecharge TradeType = "RECHARGE"
	TradeWithdraw TradeType = "WITHDRAW"
	TradePay      TradeType = "PAY"
	TradeTransfer TradeType = "TRANSFER"
	TradeRefund   TradeType = "REFUND"
)

// LedgerType is the type column of a LEDGER statement.
type LedgerType string

// Ledger line types. RECHARGE, TRANSFER_IN and REFUND bring money in (a
// positive amount); WITHDRAW, PAY and TRANSFER_OUT take it out (negative).
const (
	LedgerRecharge    LedgerType = "RECHARGE"
	LedgerWithdraw    LedgerType = "WITHDRAW"
	LedgerPay         LedgerType = "PAY"
	LedgerTransferOut LedgerType = "TRANSFER_OUT"
	LedgerTransferIn  LedgerType = "TRANSFER_IN"
	LedgerRefund      LedgerType = "REFUND"
)

// Status is the state of an order or refund: the wallet package's type, so
// that an Order's Status goes into a MerchantRecord as it is.
type Status = wallet.OrderStatus

// The states a statement line or a merchant record may have. A statement
// holds only orders that ended (SUCCESS, FAILED, CLOSED) and successful
// refunds; PROCESSING occurs only in your own books.
const (
	StatusSuccess    = wallet.StatusSuccess
	StatusFailed     = wallet.StatusFailed
	StatusClosed     = wallet.StatusClosed
	StatusProcessing = wallet.StatusProcessing
)

// TradeRecord is one line of a TRADE statement. Money is fen; Time is in
// UTC+8, to the second.
type TradeRecord struct {
	// Time is the order's finished_at, or the refund's refunded_at.
	Time time.Time
	Type TradeType
	// OutTradeNo and TradeNo name the order (for a REFUND, the refunded
	// order).
	OutTradeNo string
	TradeNo    string
	// OutRefundNo and RefundNo name the refund; empty unless Type is REFUND.
	OutRefundNo string
	RefundNo    string
	// AccountNo is the paying account of the order, or the account a
	// refund went back to.
	AccountNo string
	// PayeeAccountNo is the payee of a TRANSFER; empty otherwise.
	PayeeAccountNo string
	// Amount is positive: the order's amount or the refund's.
	Amount int64
	Status Status
}

// LedgerRecord is one line of a LEDGER statement: a balance movement.
type LedgerRecord struct {
	Time      time.Time
	AccountNo string
	Type      LedgerType
	// Amount is signed: negative for money leaving the account.
	Amount int64
	// BalanceAfter is the account's balance after the movement.
	BalanceAfter int64
	OutTradeNo   string
	// OutRefundNo is set on REFUND lines only.
	OutRefundNo string
}

// Request asks for the statement of one business day (bill/download).
type Request struct {
	// Date is the business day (UTC+8): any instant within it. It must
	// have ended (BILL_NOT_READY otherwise) and lie within the last 365 days.
	Date time.Time
	Type Type
}

// Validate checks the request locally; the error is a *wallet.FieldError.
func (r Request) Validate() error {
	return check.First(
		check.Field{Name: "bill_date", Err: check.If(r.Date.IsZero(), "is required")},
		check.Field{Name: "bill_type", Err: check.OneOf(r.Type, Trade, Ledger)},
	)
}

// MarshalJSON writes the request's biz_content:
// {"bill_date":"yyyy-MM-dd","bill_type":"TRADE"}.
func (r Request) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		BillDate string `json:"bill_date"`
		BillType Type   `json:"bill_type"`
	}{r.Date.In(wire.Shanghai).Format(dateLayout), r.Type})
}

// UnmarshalJSON reads what MarshalJSON writes (a merchant's job queue may
// hold requests as JSON); Date comes back as the day's 00:00 UTC+8. A bad
// bill_date is a *wallet.FieldError naming it.
func (r *Request) UnmarshalJSON(b []byte) error {
	var w struct {
		BillDate string `json:"bill_date"`
		BillType Type   `json:"bill_type"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	d, err := parseDate(w.BillDate)
	if err != nil {
		return check.First(check.Field{Name: "bill_date", Err: err})
	}
	*r = Request{Date: d, Type: w.BillType}
	return nil
}

// dateLayout is the protocol's date (bill_date).
const dateLayout = "2006-01-02"

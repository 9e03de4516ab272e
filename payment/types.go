package payment

import (
	"log/slog"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Order is a money movement; Refund gives back part of a PAY order. They
// are the wallet package's types, shared with notifications.
type (
	Order       = wallet.Order
	Refund      = wallet.Refund
	OrderType   = wallet.OrderType
	OrderStatus = wallet.OrderStatus
)

// Order types, as wallet.OrderPay etc.
const (
	OrderRecharge = wallet.OrderRecharge
	OrderWithdraw = wallet.OrderWithdraw
	OrderPay      = wallet.OrderPay
	OrderTransfer = wallet.OrderTransfer
)

// Order states, as wallet.StatusSuccess etc.
const (
	StatusProcessing = wallet.StatusProcessing
	StatusSuccess    = wallet.StatusSuccess
	StatusFailed     = wallet.StatusFailed
	StatusClosed     = wallet.StatusClosed
)

// RechargeRequest moves money from the bound card into the account.
type RechargeRequest struct {
	AccountNo  string `json:"account_no"`
	OutTradeNo string `json:"out_trade_no"` // yours, unique; NewOutTradeNo makes one
	Amount     int64  `json:"amount"`       // fen
	NotifyURL  string `json:"notify_url,omitempty"`
}

// WithdrawRequest moves money from the account to the bound card.
type WithdrawRequest struct {
	AccountNo  string              `json:"account_no"`
	OutTradeNo string              `json:"out_trade_no"`
	Amount     int64               `json:"amount"`
	Password   wallet.EncryptedPIN `json:"password"`
	NotifyURL  string              `json:"notify_url,omitempty"`
}

// PayRequest debits the account for one of the merchant's orders.
type PayRequest struct {
	AccountNo  string              `json:"account_no"`
	OutTradeNo string              `json:"out_trade_no"`
	Amount     int64               `json:"amount"`
	Subject    string              `json:"subject"` // what is bought, shown to the user
	Password   wallet.EncryptedPIN `json:"password"`
	NotifyURL  string              `json:"notify_url,omitempty"`
}

// TransferRequest moves money to another account of the same merchant's
// channel, whose holder's name must be PayeeName.
type TransferRequest struct {
	AccountNo      string              `json:"account_no"`
	PayeeAccountNo string              `json:"payee_account_no"`
	PayeeName      wallet.Name         `json:"payee_name"`
	OutTradeNo     string              `json:"out_trade_no"`
	Amount         int64               `json:"amount"`
	Password       wallet.EncryptedPIN `json:"password"`
	Remark         string              `json:"remark,omitempty"`
	NotifyURL      string              `json:"notify_url,omitempty"`
}

// RefundRequest gives back (part of) a PAY order to the account that paid.
type RefundRequest struct {
	OutTradeNo  string `json:"out_trade_no"`  // the PAY order
	OutRefundNo string `json:"out_refund_no"` // yours, unique; NewOutRefundNo makes one
	Amount      int64  `json:"amount"`
	Reason      string `json:"reason,omitempty"`
}

// LogValue prints the request masked.
func (r RechargeRequest) LogValue() slog.Value { return mask.Value(r) }

// LogValue prints the request masked.
func (r WithdrawRequest) LogValue() slog.Value { return mask.Value(r) }

// LogValue prints the request masked.
func (r PayRequest) LogValue() slog.Value { return mask.Value(r) }

// LogValue prints the request masked.
func (r TransferRequest) LogValue() slog.Value { return mask.Value(r) }

// LogValue prints the request masked.
func (r RefundRequest) LogValue() slog.Value { return mask.Value(r) }

// MoneyRequest is a request that makes an order: RechargeRequest,
// WithdrawRequest, PayRequest or TransferRequest. Resolve takes any of
// them.
type MoneyRequest interface {
	Validate() error
	// path is the API the request is for; unexported, so that only the
	// four order requests are MoneyRequests.
	path() string
	orderNo() string
}

func (RechargeRequest) path() string { return pathRecharge }
func (WithdrawRequest) path() string { return pathWithdraw }
func (PayRequest) path() string      { return pathPay }
func (TransferRequest) path() string { return pathTransfer }

func (r RechargeRequest) orderNo() string { return r.OutTradeNo }
func (r WithdrawRequest) orderNo() string { return r.OutTradeNo }
func (r PayRequest) orderNo() string      { return r.OutTradeNo }
func (r TransferRequest) orderNo() string { return r.OutTradeNo }

type orderQuery struct {
	OutTradeNo string `json:"out_trade_no"`
}

func (q orderQuery) Validate() error {
	return check.First(check.Field{Name: "out_trade_no", Err: rules.OrderNo(q.OutTradeNo)})
}

type refundQuery struct {
	OutRefundNo string `json:"out_refund_no"`
}

func (q refundQuery) Validate() error {
	return check.First(check.Field{Name: "out_refund_no", Err: rules.OrderNo(q.OutRefundNo)})
}

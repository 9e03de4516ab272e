package payment

import (
	"log/slog"

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
func (r RechargeRequest) LogValue() slog.Value { return wallet.Masked(r) }

// LogValue prints the request masked.
func (r WithdrawRequest) LogValue() slog.Value { return wallet.Masked(r) }

// LogValue prints the request masked.
func (r PayRequest) LogValue() slog.Value { return wallet.Masked(r) }

// LogValue prints the request masked.
func (r TransferRequest) LogValue() slog.Value { return wallet.Masked(r) }

// LogValue prints the request masked.
func (r RefundRequest) LogValue() slog.Value { return wallet.Masked(r) }

type orderQuery struct {
	OutTradeNo string `json:"out_trade_no"`
}

type refundQuery struct {
	OutRefundNo string `json:"out_refund_no"`
}

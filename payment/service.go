package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/wallet"
)

const (
	pathRecharge    = "payment/recharge"
	pathWithdraw    = "payment/withdraw"
	pathPay         = "payment/pay"
	pathTransfer    = "payment/transfer"
	pathRefund      = "payment/refund"
	pathQuery       = "payment/query"
	pathQueryRefund = "payment/refund/query"
)

// Service moves money in and out of users' e-accounts.
type Service struct {
	c *wallet.Client
}

// New returns the payment service of a client.
func New(c *wallet.Client) *Service { return &Service{c: c} }

// Recharge moves Amount fen from the bound card into the account (充值).
//
// API: POST /api/v1/payment/recharge (encrypted). Idempotent on OutTradeNo:
// the same request again returns the existing order. Errors:
// ErrAccountNotFound, ErrAccountFrozen, ErrAccountClosed, ErrOrderConflict
// (OutTradeNo used with other parameters). When wallet.OutcomeUnknown(err),
// Query by OutTradeNo (or send the same request again) before anything
// else; never retry under a new OutTradeNo.
func (s *Service) Recharge(ctx context.Context, req RechargeRequest) (*Order, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return s.order(ctx, pathRecharge, req, "")
}

// Withdraw moves Amount fen from the account to the bound card (提现).
//
// API: POST /api/v1/payment/withdraw (encrypted). Idempotent on OutTradeNo.
// Errors: ErrInsufficientBalance, ErrPasswordIncorrect, ErrPasswordLocked,
// ErrAccountFrozen, ErrAccountClosed, ErrAccountNotFound, ErrOrderConflict.
// On wallet.OutcomeUnknown(err), Query by OutTradeNo.
func (s *Service) Withdraw(ctx context.Context, req WithdrawRequest) (*Order, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return s.order(ctx, pathWithdraw, req, req.Password.KeyID)
}

// Pay debits the user's e-account for an order of the merchant.
//
// API: POST /api/v1/payment/pay (encrypted). Idempotent on OutTradeNo:
// repeating a request with the same OutTradeNo and parameters returns the
// existing order. Errors: ErrInsufficientBalance, ErrDailyLimitExceeded,
// ErrYearlyLimitExceeded, ErrPasswordIncorrect, ErrPasswordLocked,
// ErrAccountFrozen, ErrAccountClosed, ErrAccountNotFound, ErrOrderConflict.
// An error for which wallet.OutcomeUnknown(err) is true means the order may
// or may not exist: Query it by OutTradeNo before you try again with a new
// one.
func (s *Service) Pay(ctx context.Context, req PayRequest) (*Order, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return s.order(ctx, pathPay, req, req.Password.KeyID)
}

// Transfer moves Amount fen to another account of the merchant's channel
// (转账), whose holder's name must equal PayeeName.
//
// API: POST /api/v1/payment/transfer (encrypted). Idempotent on
// OutTradeNo. Errors: ErrAccountNotFound (no such payee in this channel),
// ErrParamInvalid (payee_name does not match), ErrInsufficientBalance,
// ErrDailyLimitExceeded, ErrYearlyLimitExceeded (the payer's out-limits or
// the payee's in-limits), ErrPasswordIncorrect, ErrPasswordLocked,
// ErrAccountFrozen, ErrOrderConflict. On wallet.OutcomeUnknown(err), Query
// by OutTradeNo.
func (s *Service) Transfer(ctx context.Context, req TransferRequest) (*Order, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return s.order(ctx, pathTransfer, req, req.Password.KeyID)
}

func (s *Service) order(ctx context.Context, path string, req any, pinKeyID string) (*Order, error) {
	var opts []wallet.CallOption
	if pinKeyID != "" {
		opts = append(opts, wallet.UseBankKey(pinKeyID))
	}
	var o Order
	if err := s.c.Do(ctx, path, req, &o, opts...); err != nil {
		return nil, err
	}
	return &o, nil
}

// Refund gives back Amount fen of a PAY order to the account that paid. The
// refunds of an order add up to at most its amount.
//
// API: POST /api/v1/payment/refund. Idempotent on OutRefundNo. Errors:
// ErrOrderNotFound, ErrOrderNotRefundable (not a successful PAY order),
// ErrRefundAmountExceeded, ErrOrderConflict. On wallet.OutcomeUnknown(err),
// QueryRefund by OutRefundNo.
func (s *Service) Refund(ctx context.Context, req RefundRequest) (*Refund, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var r Refund
	if err := s.c.Do(ctx, pathRefund, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Query returns an order by the merchant's OutTradeNo. It is how to resolve
// a money call whose outcome is unknown: ErrOrderNotFound means the bank has
// no such order, so the same request may be sent again; an order means the
// call took effect (check its Status).
//
// API: POST /api/v1/payment/query. Read-only: safe to repeat.
func (s *Service) Query(ctx context.Context, outTradeNo string) (*Order, error) {
	if err := check.First(check.Field{Name: "out_trade_no", Err: rules.OrderNo(outTradeNo)}); err != nil {
		return nil, err
	}
	var o Order
	if err := s.c.Do(ctx, pathQuery, orderQuery{OutTradeNo: outTradeNo}, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// QueryRefund returns a refund by the merchant's OutRefundNo.
//
// API: POST /api/v1/payment/refund/query. Errors: ErrOrderNotFound.
func (s *Service) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	if err := check.First(check.Field{Name: "out_refund_no", Err: rules.OrderNo(outRefundNo)}); err != nil {
		return nil, err
	}
	var r Refund
	if err := s.c.Do(ctx, pathQueryRefund, refundQuery{OutRefundNo: outRefundNo}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// NewOutTradeNo returns a fresh order number: "T", the time to the
// millisecond in UTC+8, and 40 random bits (28 characters). Numbers made
// later sort after earlier ones (to the millisecond), and two made at the
// same millisecond collide with probability 2^-40.
func NewOutTradeNo() string { return newNo('T', time.Now()) }

// NewOutRefundNo is NewOutTradeNo for refunds, starting with "R".
func NewOutRefundNo() string { return newNo('R', time.Now()) }

func newNo(prefix byte, t time.Time) string {
	var r [5]byte
	_, _ = rand.Read(r[:])
	ts := t.In(wire.Shanghai).Format("20060102150405.000")
	b := make([]byte, 0, 26)
	b = append(b, prefix)
	b = append(b, ts[:14]...)
	b = append(b, ts[15:]...)
	return string(hex.AppendEncode(b, r[:]))
}

package payment

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/endpoint"
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
	c       *wallet.Client
	journal Journal
	err     error // a bad Option, returned by every call
}

// New returns the payment service of a client. A nil client, or a bad
// option, gives a Service whose calls fail with an error saying so.
func New(c *wallet.Client, opts ...Option) *Service {
	s := &Service{c: c}
	for _, o := range opts {
		if o == nil {
			s.err = errors.New("payment: nil Option")
			continue
		}
		o(s)
	}
	return s
}

// Recharge moves Amount fen from the bound card into the account (充值).
//
// API: POST /api/v1/payment/recharge (encrypted). Idempotent on OutTradeNo:
// the same request again returns the existing order. Errors:
// ErrAccountNotFound, ErrAccountFrozen, ErrAccountClosed, ErrOrderConflict
// (OutTradeNo used with other parameters). When
// wallet.IsOutcomeUnknown(err), settle it with Resolve; never retry under
// a new OutTradeNo.
func (s *Service) Recharge(ctx context.Context, req RechargeRequest, opts ...wallet.CallOption) (*Order, error) {
	return s.order(ctx, req, opts)
}

// Withdraw moves Amount fen from the account to the bound card (提现).
//
// API: POST /api/v1/payment/withdraw (encrypted, to the bank key of the
// PIN). Idempotent on OutTradeNo. Errors: ErrInsufficientBalance,
// ErrPasswordIncorrect, ErrPasswordLocked, ErrAccountFrozen,
// ErrAccountClosed, ErrAccountNotFound, ErrOrderConflict. When
// wallet.IsOutcomeUnknown(err), settle it with Resolve.
func (s *Service) Withdraw(ctx context.Context, req WithdrawRequest, opts ...wallet.CallOption) (*Order, error) {
	return s.order(ctx, req, opts)
}

// Pay debits the user's e-account for an order of the merchant.
//
// API: POST /api/v1/payment/pay (encrypted, to the bank key of the PIN).
// Idempotent on OutTradeNo: repeating a request with the same OutTradeNo and
// parameters returns the existing order. Errors: ErrInsufficientBalance,
// ErrDailyLimitExceeded, ErrYearlyLimitExceeded, ErrPasswordIncorrect,
// ErrPasswordLocked, ErrAccountFrozen, ErrAccountClosed,
// ErrAccountNotFound, ErrOrderConflict. An error for which
// wallet.IsOutcomeUnknown(err) is true means the order may or may not
// exist: settle it with Resolve, never by paying again under a new
// OutTradeNo.
func (s *Service) Pay(ctx context.Context, req PayRequest, opts ...wallet.CallOption) (*Order, error) {
	return s.order(ctx, req, opts)
}

// Transfer moves Amount fen to another account of the merchant's channel
// (转账), whose holder's name must equal PayeeName.
//
// API: POST /api/v1/payment/transfer (encrypted, to the bank key of the
// PIN). Idempotent on OutTradeNo. Errors: ErrAccountNotFound (no such payee
// in this channel), ErrParamInvalid (payee_name does not match),
// ErrInsufficientBalance, ErrDailyLimitExceeded, ErrYearlyLimitExceeded
// (the payer's out-limits or the payee's in-limits), ErrPasswordIncorrect,
// ErrPasswordLocked, ErrAccountFrozen, ErrOrderConflict. When
// wallet.IsOutcomeUnknown(err), settle it with Resolve.
func (s *Service) Transfer(ctx context.Context, req TransferRequest, opts ...wallet.CallOption) (*Order, error) {
	return s.order(ctx, req, opts)
}

func (s *Service) order(ctx context.Context, req MoneyRequest, opts []wallet.CallOption) (*Order, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.journal != nil {
		return journaled[Order](ctx, s, req.path(), req.orderNo(), req, opts)
	}
	return endpoint.Call[Order](ctx, s.c, req.path(), req, opts...)
}

// Refund gives back Amount fen of a PAY order to the account that paid. The
// refunds of an order add up to at most its amount.
//
// API: POST /api/v1/payment/refund. Idempotent on OutRefundNo. Errors:
// ErrOrderNotFound, ErrOrderNotRefundable (not a successful PAY order),
// ErrRefundAmountExceeded, ErrOrderConflict. When
// wallet.IsOutcomeUnknown(err), settle it with ResolveRefund.
func (s *Service) Refund(ctx context.Context, req RefundRequest, opts ...wallet.CallOption) (*Refund, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.journal != nil {
		return journaled[Refund](ctx, s, pathRefund, req.OutRefundNo, req, opts)
	}
	return endpoint.Call[Refund](ctx, s.c, pathRefund, req, opts...)
}

// Query returns an order by the merchant's OutTradeNo. An order means the
// call took effect (check its Status); ErrOrderNotFound means the bank has
// no such order. Resolve uses it to settle a call whose outcome is unknown.
//
// API: POST /api/v1/payment/query. Read-only: safe to repeat.
func (s *Service) Query(ctx context.Context, outTradeNo string) (*Order, error) {
	return endpoint.Call[Order](ctx, s.c, pathQuery, orderQuery{OutTradeNo: outTradeNo})
}

// QueryRefund returns a refund by the merchant's OutRefundNo.
//
// API: POST /api/v1/payment/refund/query. Errors: ErrOrderNotFound.
func (s *Service) QueryRefund(ctx context.Context, outRefundNo string) (*Refund, error) {
	return endpoint.Call[Refund](ctx, s.c, pathQueryRefund, refundQuery{OutRefundNo: outRefundNo})
}

// NewOutTradeNo returns a fresh order number: "T", the time to the
// millisecond in UTC+8 (17 digits), and 40 random bits in hex (10
// characters): 28 characters. Numbers made later sort after earlier ones (to
// the millisecond), and two made at the same millisecond collide with
// probability 2^-40.
func NewOutTradeNo() string { return newNo('T', time.Now()) }

// NewOutRefundNo is NewOutTradeNo for refunds, starting with "R".
func NewOutRefundNo() string { return newNo('R', time.Now()) }

func newNo(prefix byte, t time.Time) string {
	var r [5]byte
	_, _ = rand.Read(r[:])
	ts := t.In(wire.Shanghai).Format("20060102150405.000")
	b := make([]byte, 0, 28)
	b = append(b, prefix)
	b = append(b, ts[:14]...)
	b = append(b, ts[15:]...)
	return string(hex.AppendEncode(b, r[:]))
}

package payment

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/xinyun-open/ewallet-go/internal/endpoint"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// ResolveTimeout bounds Resolve and ResolveRefund.
const ResolveTimeout = 2 * time.Minute

// Resolve settles a money call whose outcome is unknown
// (wallet.IsOutcomeUnknown), by the protocol's rule: it queries the order
// by its OutTradeNo; an order found is the call's outcome (check its
// Status: PROCESSING ends in a notification); wallet.ErrOrderNotFound means
// the bank never acted, so it sends the same request again — with msgID,
// the original call's msg_id, when you have it (TransportError.MsgID, or
// the one you passed with wallet.WithMsgID), so that a request still in
// flight is answered from the bank's idempotency cache. It repeats, with
// backoff, while the outcome stays unknown. Either way the money moves
// exactly once, because the bank keeps one order per OutTradeNo.
//
// Resolve does not stop when ctx is cancelled (it keeps ctx's values): the
// context of the failed call is often an HTTP request that already ended,
// while the bank may have moved money that must not be reported lost. It
// gives up after ResolveTimeout with an error for which
// wallet.IsOutcomeUnknown is still true; run it again later (the journal of
// a crash-safe service does).
//
// An order found under the number whose type, account, payee or amount is
// not the request's is an error matching wallet.ErrOrderConflict: the
// number was used for another order.
func (s *Service) Resolve(ctx context.Context, req MoneyRequest, msgID string) (*Order, error) {
	if req == nil {
		return nil, errors.New("payment: Resolve: nil request")
	}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var opts []wallet.CallOption
	if msgID != "" {
		opts = append(opts, wallet.WithMsgID(msgID))
	}
	o, err := settle(ctx,
		func(ctx context.Context) (*Order, error) { return s.Query(ctx, req.orderNo()) },
		func(ctx context.Context) (*Order, error) {
			return endpoint.Call[Order](ctx, s.c, req.path(), req, opts...)
		},
		func(o *Order) error { return sameOrder(req, o) })
	s.record(ctx, msgID, o, err)
	return o, err
}

// record settles the journal entry of msgID once Resolve knows the
// outcome, so that Recover does not resolve it again.
func (s *Service) record(ctx context.Context, msgID string, result any, err error) {
	if s.journal == nil || msgID == "" || wallet.IsOutcomeUnknown(err) || (err != nil && !isBankAnswer(err)) {
		return
	}
	if serr := s.settle(ctx, msgID, result, err); serr != nil {
		s.warn(ctx, "payment: journal settle failed", msgID, serr)
	}
}

// ResolveRefund is Resolve for a refund: it queries the refund by its
// OutRefundNo, and sends the same request again when the bank has none.
func (s *Service) ResolveRefund(ctx context.Context, req RefundRequest, msgID string) (*Refund, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var opts []wallet.CallOption
	if msgID != "" {
		opts = append(opts, wallet.WithMsgID(msgID))
	}
	r, err := settle(ctx,
		func(ctx context.Context) (*Refund, error) { return s.QueryRefund(ctx, req.OutRefundNo) },
		func(ctx context.Context) (*Refund, error) {
			return endpoint.Call[Refund](ctx, s.c, pathRefund, req, opts...)
		},
		func(r *Refund) error {
			if r.OutTradeNo != req.OutTradeNo || r.Amount != req.Amount {
				return fmt.Errorf("payment: %w: the bank holds refund %s of another order or amount", wallet.ErrOrderConflict, req.OutRefundNo)
			}
			return nil
		})
	s.record(ctx, msgID, r, err)
	return r, err
}

// settle is the resolution loop: query; found → done; not found → send
// again; unknown → wait and repeat. resty's Backoff spaces the rounds.
func settle[T any](ctx context.Context, query, resend func(context.Context) (*T, error), same func(*T) error) (*T, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ResolveTimeout)
	defer cancel()
	var (
		out *T
		err error
	)
	round := func() (*resty.Response, error) {
		if ctx.Err() != nil {
			return nil, err // out of time: keep the last round's (unknown) outcome
		}
		if out, err = query(ctx); err == nil {
			if err = same(out); err != nil {
				out = nil
			}
			return nil, err
		}
		if errors.Is(err, wallet.ErrOrderNotFound) {
			out, err = resend(ctx)
		}
		return nil, err
	}
	_ = resty.Backoff(round,
		resty.Retries(1000), // bounded by ctx: ResolveTimeout
		resty.WaitTime(200*time.Millisecond),
		resty.MaxWaitTime(5*time.Second),
		resty.RetryConditions([]resty.RetryConditionFunc{func(*resty.Response, error) bool {
			return ctx.Err() == nil && err != nil && (wallet.IsOutcomeUnknown(err) || wallet.IsRetryable(err))
		}}),
	)
	if err != nil && !wallet.IsOutcomeUnknown(err) && errors.Is(err, context.DeadlineExceeded) {
		// Out of time in the middle of a round: still unknown.
		err = fmt.Errorf("payment: not settled within %v: %w (%w)", ResolveTimeout, wallet.ErrOutcomeUnknown, err)
	}
	return out, err
}

// sameOrder checks that an order found under the request's number is the
// request's order.
func sameOrder(req MoneyRequest, o *Order) error {
	var typ OrderType
	var account, payee string
	var amount int64
	switch r := req.(type) {
	case RechargeRequest:
		typ, account, amount = OrderRecharge, r.AccountNo, r.Amount
	case WithdrawRequest:
		typ, account, amount = OrderWithdraw, r.AccountNo, r.Amount
	case PayRequest:
		typ, account, amount = OrderPay, r.AccountNo, r.Amount
	case TransferRequest:
		typ, account, amount, payee = OrderTransfer, r.AccountNo, r.Amount, r.PayeeAccountNo
	}
	if o.Type != typ || o.AccountNo != account || o.Amount != amount || o.PayeeAccountNo != payee {
		return fmt.Errorf("payment: %w: the bank holds order %s with other parameters", wallet.ErrOrderConflict, req.orderNo())
	}
	return nil
}

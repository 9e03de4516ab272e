package payment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Journal makes money calls crash-safe: the Service records each call
// before it is sent and its verified outcome after, so that a process that
// dies in between leaves a pending entry, and Recover — run by the
// restarted process, or by any other instance — settles it with Resolve.
// Nothing is lost (a pending entry is resolved) and nothing doubled (the
// bank keeps one order per out_trade_no, and Recover repeats the call under
// its own msg_id).
//
// FileJournal is the embedded default; the nested modules redisstore and
// sqlstore keep a journal that every instance of a service shares.
// Implementations must be safe for concurrent use, and Begin must be
// durable before it returns: the call is sent right after.
type Journal interface {
	// Begin records a call about to be sent. An entry whose MsgID the
	// journal holds (pending, or settled and not yet forgotten) is an
	// error.
	Begin(ctx context.Context, e Entry) error
	// Settle records the outcome of a call and takes it off the pending
	// list. Settling an entry again keeps the first outcome; settling a
	// msg_id the journal does not hold does nothing.
	Settle(ctx context.Context, msgID string, o Outcome) error
	// Pending lists the calls begun and not settled, oldest first.
	Pending(ctx context.Context) ([]Entry, error)
}

// Entry is one money call in a Journal.
type Entry struct {
	MsgID   string    `json:"msg_id"`            // the call's msg_id: the key of the entry
	Path    string    `json:"path"`              // the API: payment/recharge, withdraw, pay, transfer, refund
	OrderNo string    `json:"order_no"`          // out_trade_no, or out_refund_no for a refund
	Request []byte    `json:"request"`           // the request as the wire carries it (biz_content, before encryption)
	PINKey  string    `json:"pin_key,omitempty"` // the bank key id of the request's PIN
	Begun   time.Time `json:"begun"`
}

// Outcome is how a journaled call ended.
type Outcome struct {
	// Code is SUCCESS when the bank made the order or refund (Result
	// holds it), or the bank's code when it refused (nothing happened).
	Code   string          `json:"code"`
	Result json.RawMessage `json:"result,omitempty"`
	At     time.Time       `json:"at"`
}

// Option tunes a Service.
type Option func(*Service)

// WithJournal records every money call of the Service in j (see Journal).
func WithJournal(j Journal) Option {
	return func(s *Service) {
		if j == nil {
			s.err = errors.New("payment: WithJournal: nil Journal")
			return
		}
		s.journal = j
	}
}

// journaled makes one money call through the journal: Begin, the call
// under the entry's msg_id, and Settle when the outcome is known. When it
// is unknown the entry stays pending for Resolve or Recover. A journal
// that fails makes the outcome unknown, never a failure: the entry may be
// there, and Recover would send it.
func journaled[T any](ctx context.Context, s *Service, path, orderNo string, req requestValidator, opts []wallet.CallOption) (*T, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	biz, err := core.Bridge.MarshalWire(req)
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	e := Entry{MsgID: wallet.NewMsgID(), Path: path, OrderNo: orderNo, Request: biz, PINKey: pinKeyOf(req), Begun: time.Now()}
	if err := s.journal.Begin(ctx, e); err != nil {
		// Nothing was sent. But a Begin that failed may still have been
		// recorded — its reply lost or late (a timeout, a reset), an
		// fsync that failed after the write — and Recover would then make
		// the call. The merchant must not be told "failed" for a call that
		// may yet be made: the outcome is unknown, to be settled like any
		// other (Recover, or Resolve under this msg_id).
		return nil, fmt.Errorf("payment: %w: %s %s was not sent, but the journal failed to record it (%w) and may hold it, so Recover may still make it (msg_id %s)",
			wallet.ErrOutcomeUnknown, path, orderNo, err, e.MsgID)
	}
	var out T
	err = s.c.Do(ctx, path, req, &out, append(opts, wallet.WithMsgID(e.MsgID))...)
	if wallet.IsOutcomeUnknown(err) {
		return nil, err
	}
	if serr := s.settle(ctx, e.MsgID, &out, err); serr != nil {
		if err == nil {
			// The bank acted and the answer is verified, but the journal
			// could not record it: report the order; the entry stays
			// pending, and Recover will find the order and settle it.
			s.warn(ctx, "payment: journal settle failed", e.MsgID, serr)
			return &out, nil
		}
		// The call failed (a refusal, or nothing left), but the journal
		// still says pending, and Recover would send it: the merchant must
		// not be told "failed" for a call that may yet be made. Report it
		// as unknown, to be settled like any unknown outcome.
		return nil, fmt.Errorf("payment: %w: the call failed (%w) but the journal could not record it (%w), so Recover may still make it", wallet.ErrOutcomeUnknown, err, serr)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

type requestValidator interface{ Validate() error }

// CodeNotSent is the Outcome code of a call that never left: it failed
// before a byte was sent (the merchant's context was done, its signer
// failed, the bank could not be dialled), so nothing happened.
const CodeNotSent = "NOT_SENT"

// settle records a known outcome: the verified result, the bank's code, or
// CodeNotSent. Only an unknown outcome leaves an entry pending: a call the
// merchant was told failed must never be sent later by Recover.
func (s *Service) settle(ctx context.Context, msgID string, result any, callErr error) error {
	o := Outcome{Code: "SUCCESS", At: time.Now()}
	if callErr != nil {
		o.Code = CodeNotSent
		var apiErr *wallet.APIError
		if errors.As(callErr, &apiErr) {
			o.Code = string(apiErr.Code)
		}
	} else {
		b, err := json.Marshal(result)
		if err != nil {
			return err
		}
		o.Result = b
	}
	// On a context of its own: the caller's may be done, and the outcome
	// must be recorded all the same.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return s.journal.Settle(sctx, msgID, o)
}

func pinKeyOf(req any) string {
	switch r := req.(type) {
	case WithdrawRequest:
		return r.Password.KeyID
	case PayRequest:
		return r.Password.KeyID
	case TransferRequest:
		return r.Password.KeyID
	}
	return ""
}

// Recovery is what Recover did.
type Recovery struct {
	Pending  int     `json:"pending"`  // entries found pending
	Settled  int     `json:"settled"`  // settled now (the order or refund found or made, or the bank's refusal)
	Unknown  int     `json:"unknown"`  // still unknown (the bank could not be reached): run Recover again
	Failures []error `json:"failures"` // one per entry not settled, naming it
}

// MarshalJSON writes Failures as their messages.
func (r Recovery) MarshalJSON() ([]byte, error) {
	type plain Recovery
	v := struct {
		plain
		Failures []string `json:"failures,omitempty"`
	}{plain: plain(r)}
	for _, f := range r.Failures {
		v.Failures = append(v.Failures, f.Error())
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes; the failures come back as
// errors with their messages.
func (r *Recovery) UnmarshalJSON(b []byte) error {
	type plain Recovery
	v := struct {
		*plain
		Failures []string `json:"failures"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	r.Failures = nil
	for _, f := range v.Failures {
		r.Failures = append(r.Failures, errors.New(f))
	}
	return nil
}

// Recover settles every pending entry of the Service's journal, oldest
// first, with Resolve (or ResolveRefund) under the entry's own msg_id, and
// records each outcome. Run it when a process starts, and from time to
// time: an entry another instance is still sending is settled correctly
// too, since both reach the same order. It needs WithJournal.
func (s *Service) Recover(ctx context.Context) (Recovery, error) {
	var rec Recovery
	if s.err != nil {
		return rec, s.err
	}
	if s.journal == nil {
		return rec, errors.New("payment: Recover needs a journal (WithJournal)")
	}
	pending, err := s.journal.Pending(ctx)
	if err != nil {
		return rec, fmt.Errorf("payment: journal: %w", err)
	}
	rec.Pending = len(pending)
	for _, e := range pending {
		result, err := s.resolveEntry(ctx, e)
		switch {
		case wallet.IsOutcomeUnknown(err):
			rec.Unknown++
			rec.Failures = append(rec.Failures, fmt.Errorf("%s %s: %w", e.Path, e.OrderNo, err))
			continue
		case err != nil && !isBankAnswer(err):
			rec.Failures = append(rec.Failures, fmt.Errorf("%s %s: %w", e.Path, e.OrderNo, err))
			continue
		}
		// Resolve recorded the outcome under the entry's msg_id; make
		// sure it holds (the journal may have failed there).
		if serr := s.settle(ctx, e.MsgID, result, err); serr != nil {
			rec.Failures = append(rec.Failures, fmt.Errorf("%s %s: journal: %w", e.Path, e.OrderNo, serr))
			continue
		}
		rec.Settled++
	}
	return rec, nil
}

// isBankAnswer reports whether err is the bank's verified refusal (or a
// refusal Resolve derived from one), an outcome to record.
func isBankAnswer(err error) bool {
	var apiErr *wallet.APIError
	return errors.As(err, &apiErr)
}

// resolveEntry rebuilds the typed request of an entry and resolves it.
func (s *Service) resolveEntry(ctx context.Context, e Entry) (any, error) {
	switch e.Path {
	case pathRecharge:
		return resolveAs[RechargeRequest](ctx, s, e)
	case pathWithdraw:
		return resolveAs[WithdrawRequest](ctx, s, e)
	case pathPay:
		return resolveAs[PayRequest](ctx, s, e)
	case pathTransfer:
		return resolveAs[TransferRequest](ctx, s, e)
	case pathRefund:
		var req RefundRequest
		if err := json.Unmarshal(e.Request, &req); err != nil {
			return nil, fmt.Errorf("payment: journal entry %s: %w", e.MsgID, err)
		}
		return s.ResolveRefund(ctx, req, e.MsgID)
	}
	return nil, fmt.Errorf("payment: journal entry %s: unknown path %q", e.MsgID, e.Path)
}

func resolveAs[R MoneyRequest](ctx context.Context, s *Service, e Entry) (*Order, error) {
	var req R
	if err := json.Unmarshal(e.Request, &req); err != nil {
		return nil, fmt.Errorf("payment: journal entry %s: %w", e.MsgID, err)
	}
	// The wire form carries a PIN's ciphertext only; its key id travels in
	// the entry.
	var r MoneyRequest = req
	switch v := r.(type) {
	case WithdrawRequest:
		v.Password.KeyID = e.PINKey
		r = v
	case PayRequest:
		v.Password.KeyID = e.PINKey
		r = v
	case TransferRequest:
		v.Password.KeyID = e.PINKey
		r = v
	}
	return s.Resolve(ctx, r, e.MsgID)
}

func (s *Service) warn(ctx context.Context, msg, msgID string, err error) {
	if cc, cerr := core.Bridge.Core(s.c); cerr == nil {
		cc.Log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("msg_id", msgID), slog.String("error", err.Error()))
	}
}

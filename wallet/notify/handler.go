package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Func handles one event. It returns nil once the event is recorded (the
// bank is then told SUCCESS and stops delivering it); an error makes the
// bank deliver it again later. Its context carries a deadline
// (WithTimeout): honour it, because past it the claim on the event may
// pass to another delivery.
type Func func(ctx context.Context, e *Event) error

// Handler serves the merchant's notify URL: it verifies each delivery,
// claims it in a Deduper so that it runs once across redeliveries (and,
// with a shared Deduper, across instances), calls the merchant's Func and
// answers the bank.
type Handler struct {
	c       *wallet.Client
	core    *core.Core
	fn      Func
	dedup   Deduper
	timeout time.Duration
	lease   time.Duration
	book    time.Duration
}

// Option tunes a Handler.
type Option func(*Handler) error

// WithDeduper replaces the in-memory de-duplication (one process only) with
// d, for example one over Redis or SQL shared by every instance that serves
// the notify URL.
func WithDeduper(d Deduper) Option {
	return func(h *Handler) error {
		if d == nil {
			return errors.New("notify: WithDeduper: nil Deduper")
		}
		h.dedup = d
		return nil
	}
}

// WithTimeout is the deadline of the merchant's Func for one delivery
// (default 10 s). The bank waits 5 s for an answer; a Func that takes
// longer still finishes and is recorded, and the bank's next delivery of
// the event is answered SUCCESS without calling it again.
func WithTimeout(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return errors.New("notify: WithTimeout: must be positive")
		}
		h.timeout = d
		return nil
	}
}

// WithLease is how long a claim on an event holds before another delivery
// may take it over (default: the Func's timeout plus 20 s). A process that
// crashes or hangs while it handles an event leaves a claim; once the lease
// has passed, a later delivery handles the event. It must exceed the
// Func's timeout, or a slow Func could run twice.
func WithLease(d time.Duration) Option {
	return func(h *Handler) error {
		if d <= 0 {
			return errors.New("notify: WithLease: must be positive")
		}
		h.lease = d
		return nil
	}
}

// bookkeeping bounds each call of the Deduper. It runs on a context of its
// own, so that a bank that hangs up (its 5 s are over) does not cancel the
// recording of an event that was handled.
const bookkeeping = 10 * time.Second

// NewHandler returns the handler of the merchant's notify URL for client c:
// events that verify are passed to fn once per notify_id per Deduper.
func NewHandler(c *wallet.Client, fn Func, opts ...Option) (*Handler, error) {
	cc, err := core.Bridge.Core(c)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if fn == nil {
		return nil, errors.New("notify: nil Func")
	}
	h := &Handler{c: c, core: cc, fn: fn, timeout: 10 * time.Second, book: bookkeeping}
	if err := option.Apply(h, "notify: nil Option", opts); err != nil {
		return nil, err
	}
	if h.lease == 0 {
		h.lease = h.timeout + 2*h.book
	}
	if h.lease <= h.timeout {
		return nil, fmt.Errorf("notify: the lease (%v) must be longer than the Func's timeout (%v)", h.lease, h.timeout)
	}
	if h.dedup == nil {
		h.dedup = NewMemoryDeduper(0)
	}
	return h, nil
}

// ServeHTTP handles one delivery. It answers HTTP 200 {"code":"SUCCESS"}
// when the event was handled now or before, and a failure otherwise (a
// refused notification, an event another delivery is handling, a Func
// that failed or panicked, a Deduper that is down), so that the bank
// delivers it again: an event is never lost and never handled twice by
// handlers that share a Deduper.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e, err := Parse(h.c, r)
	if err != nil && !errors.Is(err, ErrRefused) {
		h.log(r.Context(), slog.LevelWarn, "wallet notification not opened", nil, err)
		answer(w, http.StatusServiceUnavailable, "FAIL", "busy, deliver again")
		return
	}
	if err != nil {
		h.log(r.Context(), slog.LevelWarn, "wallet notification refused", nil, err)
		answer(w, http.StatusBadRequest, "FAIL", "notification refused")
		return
	}
	// From here on the bank may hang up at any moment: nothing below runs
	// on the request's context.
	base := context.WithoutCancel(r.Context())
	owner := newOwner()
	done, err := h.claim(base, e.ID, owner)
	switch {
	case err != nil:
		h.log(base, slog.LevelWarn, "wallet notification not claimed", e, err)
		answer(w, http.StatusServiceUnavailable, "FAIL", "busy, deliver again")
		return
	case done:
		h.log(base, slog.LevelDebug, "wallet notification duplicate", e, nil)
		answer(w, http.StatusOK, "SUCCESS", "")
		return
	}
	ctx, cancel := context.WithTimeout(base, h.timeout)
	herr := run(ctx, h.fn, e)
	cancel()
	if err := h.release(base, e.ID, owner, herr == nil); err != nil && herr == nil {
		herr = fmt.Errorf("notify: recording the handled event: %w", err)
	}
	if herr != nil {
		h.log(base, slog.LevelWarn, "wallet notification handler failed", e, herr)
		answer(w, http.StatusInternalServerError, "FAIL", "handler failed")
		return
	}
	h.log(base, slog.LevelInfo, "wallet notification handled", e, nil)
	answer(w, http.StatusOK, "SUCCESS", "")
}

func (h *Handler) claim(base context.Context, id, owner string) (bool, error) {
	ctx, cancel := context.WithTimeout(base, h.book)
	defer cancel()
	return h.dedup.Claim(ctx, id, owner, h.lease)
}

func (h *Handler) release(base context.Context, id, owner string, handled bool) error {
	ctx, cancel := context.WithTimeout(base, h.book)
	defer cancel()
	return h.dedup.Release(ctx, id, owner, handled)
}

// run calls fn and turns a panic into an error, so that the claim on the
// event is always released and the bank delivers it again.
func run(ctx context.Context, fn Func, e *Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("notify: handler panicked: %v", p)
		}
	}()
	return fn(ctx, e)
}

// newOwner names one delivery's claim.
func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func answer(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if msg == "" {
		_, _ = io.WriteString(w, `{"code":"`+code+`"}`)
		return
	}
	_, _ = io.WriteString(w, `{"code":"`+code+`","msg":"`+msg+`"}`)
}

// log writes one line per delivery: notify_id and type, never the payload.
func (h *Handler) log(ctx context.Context, level slog.Level, msg string, e *Event, err error) {
	if !h.core.Log.Enabled(ctx, level) {
		return
	}
	var attrs []slog.Attr
	if e != nil {
		attrs = append(attrs, slog.String("notify_id", e.ID), slog.String("notify_type", string(e.Type)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	h.core.Log.LogAttrs(ctx, level, msg, attrs...)
}

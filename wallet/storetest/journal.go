package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
)

// JournalStore opens the Journals of one implementation for TestJournal.
type JournalStore struct {
	// Open returns a Journal over the namespace ns (a key prefix, a
	// schema, a file). Opening ns again after the first Journal was closed
	// (when it is an io.Closer) reaches the same entries: a new
	// connection, or the file opened again. Open closes what it opened
	// with t.Cleanup.
	Open func(t *testing.T, ns string) payment.Journal
	// Down returns a Journal whose store cannot answer. Nil skips the
	// test of a store that is down.
	Down func(t *testing.T) payment.Journal
	// Hung returns a Journal whose store accepts connections and never
	// answers (HungServer gives one). Nil skips the test of a store that
	// hangs.
	Hung func(t *testing.T) payment.Journal
	// Outcome returns the outcome j recorded for msgID, nil while it is
	// pending. Nil skips the checks of which outcome is kept.
	Outcome func(t *testing.T, j payment.Journal, ns, msgID string) *payment.Outcome
	// Exclusive is true when a namespace can be open once at a time (a
	// FileJournal locks its file): the tests of two instances sharing a
	// journal are skipped.
	Exclusive bool
	// IgnoresContext is true for a Journal that never waits on a server,
	// and does not look at its context (payment.FileJournal).
	IgnoresContext bool
}

// TestJournal holds a payment.Journal to the contract of the interface:
// Begin recorded (and seen by a new connection) before it returns, a
// msg_id begun twice refused, Settle idempotent (the first outcome kept)
// and a no-op for a msg_id the journal does not hold, Pending oldest first,
// and errors, never a silent success, from a store that is down.
//
// Begun times are compared to the microsecond, the precision of SQL
// timestamps.
func TestJournal(t *testing.T, s JournalStore) {
	t.Helper()
	if s.Open == nil {
		t.Fatal("storetest: JournalStore.Open is nil")
	}
	ctx := context.Background()
	base := time.Now().Truncate(time.Microsecond).Add(-time.Hour)

	t.Run("BeginSettle", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		j := s.Open(t, ns)
		e := NewEntry(base)
		begin(t, j, e)
		requirePending(t, j, e)
		o := payment.Outcome{Code: "SUCCESS", Result: json.RawMessage(`{"out_trade_no":"` + e.OrderNo + `","status":"SUCCESS"}`), At: base.Add(time.Second)}
		settle(t, j, e.MsgID, o)
		requirePending(t, j)
		s.requireOutcome(t, j, ns, e.MsgID, &o)
	})

	t.Run("PendingOldestFirst", func(t *testing.T) {
		t.Parallel()
		j := s.Open(t, Namespace())
		var es []payment.Entry
		for i := range 12 {
			es = append(es, NewEntry(base.Add(time.Duration(i)*time.Millisecond+time.Duration(i)*time.Microsecond)))
		}
		for _, i := range rand.Perm(len(es)) {
			begin(t, j, es[i])
		}
		requirePending(t, j, es...)
		settle(t, j, es[5].MsgID, payment.Outcome{Code: "SUCCESS", At: base})
		settle(t, j, es[0].MsgID, payment.Outcome{Code: "INSUFFICIENT_BALANCE", At: base})
		requirePending(t, j, append(append([]payment.Entry{}, es[1:5]...), es[6:]...)...)
	})

	t.Run("DuplicateBeginRefused", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		j := s.Open(t, ns)
		e := NewEntry(base)
		begin(t, j, e)
		dup := e
		dup.OrderNo, dup.Begun = "T-OTHER", base.Add(time.Minute)
		if err := j.Begin(ctx, dup); err == nil {
			t.Fatal("Begin of a msg_id that is pending = nil, want an error")
		}
		requirePending(t, j, e) // the first entry, unchanged
		o := payment.Outcome{Code: "SUCCESS", At: base}
		settle(t, j, e.MsgID, o)
		if err := j.Begin(ctx, dup); err == nil {
			t.Fatal("Begin of a msg_id that is settled = nil, want an error")
		}
		requirePending(t, j)
		s.requireOutcome(t, j, ns, e.MsgID, &o)
	})

	t.Run("SettleKeepsTheFirst", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		j := s.Open(t, ns)
		e := NewEntry(base)
		begin(t, j, e)
		first := payment.Outcome{Code: "SUCCESS", Result: json.RawMessage(`{"status":"SUCCESS"}`), At: base.Add(time.Second)}
		settle(t, j, e.MsgID, first)
		settle(t, j, e.MsgID, payment.Outcome{Code: payment.CodeNotSent, At: base.Add(time.Minute)})
		requirePending(t, j)
		s.requireOutcome(t, j, ns, e.MsgID, &first)
	})

	t.Run("SettleUnknownIsNoOp", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		j := s.Open(t, ns)
		kept := NewEntry(base)
		begin(t, j, kept)
		e := NewEntry(base.Add(time.Second))
		settle(t, j, e.MsgID, payment.Outcome{Code: "SUCCESS", At: base})
		requirePending(t, j, kept)
		s.requireOutcome(t, j, ns, e.MsgID, nil)
		// It left nothing behind that would refuse the msg_id later.
		begin(t, j, e)
		requirePending(t, j, kept, e)
		s.requireOutcome(t, j, ns, e.MsgID, nil)
	})

	t.Run("Durable", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		j := s.Open(t, ns)
		es := []payment.Entry{NewEntry(base), NewEntry(base.Add(time.Second)), NewEntry(base.Add(2 * time.Second))}
		for _, e := range es {
			begin(t, j, e)
		}
		o := payment.Outcome{Code: "SUCCESS", Result: json.RawMessage(`{"n":1}`), At: base}
		settle(t, j, es[1].MsgID, o)
		closeJournal(t, j)
		// A new connection (a restarted process, another instance) finds
		// what the first recorded, and can settle it.
		j2 := s.Open(t, ns)
		requirePending(t, j2, es[0], es[2])
		s.requireOutcome(t, j2, ns, es[1].MsgID, &o)
		settle(t, j2, es[0].MsgID, o)
		requirePending(t, j2, es[2])
		if err := j2.Begin(ctx, es[1]); err == nil {
			t.Fatal("Begin of a msg_id settled before the journal was opened again = nil, want an error")
		}
	})

	t.Run("SharedByInstances", func(t *testing.T) {
		t.Parallel()
		if s.Exclusive {
			t.Skip("one process opens this journal at a time")
		}
		ns := Namespace()
		a, b := s.Open(t, ns), s.Open(t, ns)
		e1, e2 := NewEntry(base), NewEntry(base.Add(time.Second))
		begin(t, a, e1)
		begin(t, b, e2)
		requirePending(t, a, e1, e2)
		requirePending(t, b, e1, e2)
		if err := b.Begin(ctx, e1); err == nil {
			t.Fatal("Begin at instance B of a msg_id begun at A = nil, want an error")
		}
		settle(t, b, e1.MsgID, payment.Outcome{Code: "SUCCESS", At: base})
		requirePending(t, a, e2)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		js := []payment.Journal{s.Open(t, ns)}
		if !s.Exclusive {
			js = append(js, s.Open(t, ns), s.Open(t, ns), s.Open(t, ns))
		}
		const workers = 32
		// Distinct entries from every worker; half of them settled.
		es := make([]payment.Entry, workers)
		for i := range es {
			es[i] = NewEntry(base.Add(time.Duration(i) * time.Millisecond))
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers)
		for i, e := range es {
			j := js[i%len(js)]
			wg.Go(func() {
				if err := j.Begin(ctx, e); err != nil {
					errs <- fmt.Errorf("Begin %d: %w", i, err)
					return
				}
				if i%2 == 1 {
					if err := j.Settle(ctx, e.MsgID, payment.Outcome{Code: "SUCCESS", At: base}); err != nil {
						errs <- fmt.Errorf("Settle %d: %w", i, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		var want []payment.Entry
		for i := 0; i < workers; i += 2 {
			want = append(want, es[i])
		}
		requirePending(t, js[0], want...)

		// One msg_id begun by every worker at once: exactly one wins.
		e := NewEntry(base.Add(-time.Minute))
		var begins, settles sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		start := make(chan struct{})
		for i := range workers {
			j := js[i%len(js)]
			begins.Go(func() {
				<-start
				if j.Begin(ctx, e) == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		close(start)
		begins.Wait()
		if wins != 1 {
			t.Fatalf("%d concurrent Begins of one msg_id: %d succeeded, want exactly 1", workers, wins)
		}
		// Concurrent Settles with different outcomes: one is kept.
		outcomes := make([]payment.Outcome, workers)
		for i := range workers {
			outcomes[i] = payment.Outcome{Code: fmt.Sprintf("CODE_%02d", i), At: base}
			j := js[i%len(js)]
			settles.Go(func() {
				if err := j.Settle(ctx, e.MsgID, outcomes[i]); err != nil {
					t.Errorf("concurrent Settle %d: %v", i, err)
				}
			})
		}
		settles.Wait()
		requirePending(t, js[0], want...)
		if s.Outcome != nil {
			got := s.Outcome(t, js[0], ns, e.MsgID)
			if got == nil {
				t.Fatal("after concurrent Settles the entry has no outcome")
			}
			for i := range outcomes {
				if got.Code == outcomes[i].Code {
					return
				}
			}
			t.Fatalf("after concurrent Settles the outcome is %q, none of those settled", got.Code)
		}
	})

	t.Run("Context", func(t *testing.T) {
		t.Parallel()
		if s.IgnoresContext {
			t.Skip("this Journal never waits and does not look at its context")
		}
		j := s.Open(t, Namespace())
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		e := NewEntry(base)
		if err := j.Begin(cctx, e); !errors.Is(err, context.Canceled) {
			t.Fatalf("Begin on a cancelled context = %v, want context.Canceled", err)
		}
		requirePending(t, j) // nothing recorded: the call is not sent
		begin(t, j, e)
		if err := j.Settle(cctx, e.MsgID, payment.Outcome{Code: "SUCCESS", At: base}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Settle on a cancelled context = %v, want context.Canceled", err)
		}
		requirePending(t, j, e) // still pending: Recover settles it
		if _, err := j.Pending(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Pending on a cancelled context = %v, want context.Canceled", err)
		}
	})

	t.Run("Down", func(t *testing.T) {
		t.Parallel()
		if s.Down == nil {
			t.Skip("no way to take this store down")
		}
		j := s.Down(t)
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		e := NewEntry(base)
		if err := j.Begin(dctx, e); err == nil {
			t.Fatal("Begin on a store that is down = nil, want an error: the call would be sent unrecorded")
		}
		if err := j.Settle(dctx, e.MsgID, payment.Outcome{Code: "SUCCESS", At: base}); err == nil {
			t.Fatal("Settle on a store that is down = nil, want an error: the outcome was not recorded")
		}
		if p, err := j.Pending(dctx); err == nil {
			t.Fatalf("Pending on a store that is down = (%d entries, nil), want an error", len(p))
		}
	})

	t.Run("Hung", func(t *testing.T) {
		t.Parallel()
		if s.Hung == nil {
			t.Skip("no way to make this store hang")
		}
		j := s.Hung(t)
		for name, call := range map[string]func(context.Context) error{
			"Begin": func(c context.Context) error { return j.Begin(c, NewEntry(base)) },
			"Settle": func(c context.Context) error {
				return j.Settle(c, NewID("M"), payment.Outcome{Code: "SUCCESS", At: base})
			},
			"Pending": func(c context.Context) error { _, err := j.Pending(c); return err },
		} {
			hctx, cancel := context.WithTimeout(ctx, HungDeadline)
			t0 := time.Now()
			err := call(hctx)
			cancel()
			if err == nil {
				t.Fatalf("%s on a store that hangs = nil, want an error", name)
			}
			if late := time.Since(t0) - HungDeadline; late > time.Second {
				t.Fatalf("%s on a store that hangs returned %v after its context's deadline: it does not honour its context", name, late)
			}
		}
	})
}

// NewEntry returns a journal entry of a recharge begun at begun, with a
// request that is not JSON (a Journal stores bytes, whatever they are).
func NewEntry(begun time.Time) payment.Entry {
	no := NewID("T")
	return payment.Entry{
		MsgID:   NewID("M"),
		Path:    "payment/recharge",
		OrderNo: no,
		Request: []byte("{\"out_trade_no\":\"" + no + "\"}\x00\xff"),
		PINKey:  "bank-2026-01",
		Begun:   begun,
	}
}

func begin(t *testing.T, j payment.Journal, e payment.Entry) {
	t.Helper()
	if err := j.Begin(context.Background(), e); err != nil {
		t.Fatalf("Begin(%s) = %v", e.MsgID, err)
	}
}

func settle(t *testing.T, j payment.Journal, msgID string, o payment.Outcome) {
	t.Helper()
	if err := j.Settle(context.Background(), msgID, o); err != nil {
		t.Fatalf("Settle(%s) = %v", msgID, err)
	}
}

func closeJournal(t *testing.T, j payment.Journal) {
	t.Helper()
	if c, ok := j.(io.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
	}
}

// requirePending checks that Pending lists exactly want, in that order.
func requirePending(t *testing.T, j payment.Journal, want ...payment.Entry) {
	t.Helper()
	got, err := j.Pending(context.Background())
	if err != nil {
		t.Fatalf("Pending = %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("Pending lists %d entries %v, want %d %v", len(got), ids(got), len(want), ids(want))
	}
	for i := range want {
		if err := sameEntry(got[i], want[i]); err != nil {
			t.Fatalf("Pending[%d]: %v (pending %v, want %v)", i, err, ids(got), ids(want))
		}
	}
}

func sameEntry(got, want payment.Entry) error {
	switch {
	case got.MsgID != want.MsgID:
		return fmt.Errorf("msg_id %s, want %s", got.MsgID, want.MsgID)
	case got.Path != want.Path || got.OrderNo != want.OrderNo || got.PINKey != want.PINKey:
		return fmt.Errorf("entry %s: path/order/pin key %q %q %q, want %q %q %q", got.MsgID, got.Path, got.OrderNo, got.PINKey, want.Path, want.OrderNo, want.PINKey)
	case !bytes.Equal(got.Request, want.Request):
		return fmt.Errorf("entry %s: request %q, want %q", got.MsgID, got.Request, want.Request)
	case !got.Begun.Equal(want.Begun):
		return fmt.Errorf("entry %s: begun %v, want %v", got.MsgID, got.Begun, want.Begun)
	}
	return nil
}

func (s JournalStore) requireOutcome(t *testing.T, j payment.Journal, ns, msgID string, want *payment.Outcome) {
	t.Helper()
	if s.Outcome == nil {
		return
	}
	got := s.Outcome(t, j, ns, msgID)
	switch {
	case want == nil && got == nil:
		return
	case want == nil:
		t.Fatalf("outcome of %s = %+v, want none", msgID, *got)
	case got == nil:
		t.Fatalf("outcome of %s = none, want %+v", msgID, *want)
	case got.Code != want.Code || !bytes.Equal(got.Result, want.Result) || !got.At.Equal(want.At):
		t.Fatalf("outcome of %s = %s %s %v, want %s %s %v", msgID, got.Code, got.Result, got.At, want.Code, want.Result, want.At)
	}
}

func ids(es []payment.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.MsgID
	}
	return out
}

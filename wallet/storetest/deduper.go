package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// DeduperStore opens the Dedupers of one implementation for TestDeduper.
type DeduperStore struct {
	// Open returns a Deduper over the namespace ns (a key prefix, a
	// schema, a file) that keeps done marks for retention (the
	// implementation's default when zero). Two Opens of one ns share their
	// state, as two instances of one merchant do, each on a connection of
	// its own where the store has connections. Every test uses namespaces
	// of its own. Open closes what it opened with t.Cleanup.
	Open func(t *testing.T, ns string, retention time.Duration) notify.Deduper
	// Down returns a Deduper whose store cannot answer: its connection
	// closed, or pointed at a port nothing listens on. Nil skips the
	// test of a store that is down.
	Down func(t *testing.T) notify.Deduper
	// Hung returns a Deduper whose store accepts connections and never
	// answers (HungServer gives one). Nil skips the test of a store that
	// hangs.
	Hung func(t *testing.T) notify.Deduper
	// IgnoresContext is true for an in-process Deduper that never waits,
	// and so never looks at its context (notify.MemoryDeduper). A Deduper
	// over a server must honour it: a done context is an error.
	IgnoresContext bool
}

// Lease is the claim lease of the tests of lapsed claims: short, so that
// the tests wait little, and long enough for a loaded CI machine to make
// the calls that must land within it.
const Lease = 400 * time.Millisecond

// TestDeduper holds a notify.Deduper to the contract of the interface: a
// claim is exclusive within its lease, then lapses and passes to another
// owner; a done mark answers every later claim; a late release by a lapsed
// owner changes nothing; of 32 concurrent claims exactly one wins; a store
// that is down gives errors, never a false "done".
func TestDeduper(t *testing.T, s DeduperStore) {
	t.Helper()
	if s.Open == nil {
		t.Fatal("storetest: DeduperStore.Open is nil")
	}
	ctx := context.Background()
	open := func(t *testing.T) (notify.Deduper, func() notify.Deduper) {
		ns := Namespace()
		return s.Open(t, ns, 0), func() notify.Deduper { return s.Open(t, ns, 0) }
	}

	t.Run("ClaimThenDone", func(t *testing.T) {
		t.Parallel()
		d, _ := open(t)
		id, a, b := NewID("N"), NewID("o"), NewID("o")
		mustClaim(t, d, id, a, time.Minute)
		release(t, d, id, a, true)
		done, err := d.Claim(ctx, id, b, time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim of a handled event = (%v, %v), want (true, nil)", done, err)
		}
		// Done stays done, for every owner, the one that did it too.
		done, err = d.Claim(ctx, id, a, time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim of a handled event by its handler = (%v, %v), want (true, nil)", done, err)
		}
	})

	t.Run("InFlight", func(t *testing.T) {
		t.Parallel()
		d, again := open(t)
		other := again() // another instance
		id, a, b := NewID("N"), NewID("o"), NewID("o")
		mustClaim(t, d, id, a, time.Minute)
		for _, dd := range []notify.Deduper{d, other} {
			done, err := dd.Claim(ctx, id, b, time.Minute)
			if done || !errors.Is(err, notify.ErrInFlight) {
				t.Fatalf("Claim while another owner holds it = (%v, %v), want (false, ErrInFlight)", done, err)
			}
		}
		// The holder claiming again keeps (renews) its claim.
		mustClaim(t, d, id, a, time.Minute)
	})

	t.Run("ReleaseUnhandled", func(t *testing.T) {
		t.Parallel()
		d, again := open(t)
		id, a, b := NewID("N"), NewID("o"), NewID("o")
		mustClaim(t, d, id, a, time.Minute)
		release(t, d, id, a, false)
		// The Func failed: a redelivery, at any instance, runs it again.
		mustClaim(t, again(), id, b, time.Minute)
	})

	t.Run("LeaseLapses", func(t *testing.T) {
		t.Parallel()
		d, again := open(t)
		other := again()
		id, a, b, c := NewID("N"), NewID("o"), NewID("o"), NewID("o")
		mustClaim(t, d, id, a, Lease)
		done, err := other.Claim(ctx, id, b, time.Minute)
		if done || !errors.Is(err, notify.ErrInFlight) {
			t.Fatalf("Claim within the lease = (%v, %v), want (false, ErrInFlight)", done, err)
		}
		time.Sleep(Lease + Lease/2)
		// a crashed: its claim lapsed, and b takes the event over.
		mustClaim(t, other, id, b, time.Minute)
		// a comes back late and gives up its claim: b's must hold.
		release(t, d, id, a, false)
		done, err = d.Claim(ctx, id, c, time.Minute)
		if done || !errors.Is(err, notify.ErrInFlight) {
			t.Fatalf("Claim after a lapsed owner's late release = (%v, %v), want (false, ErrInFlight): the late release dropped the new owner's claim", done, err)
		}
		release(t, other, id, b, true)
		done, err = d.Claim(ctx, id, c, time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim after the new owner handled it = (%v, %v), want (true, nil)", done, err)
		}
	})

	t.Run("LapsedOwnerFinishes", func(t *testing.T) {
		t.Parallel()
		d, again := open(t)
		other := again()
		id, a, b, c := NewID("N"), NewID("o"), NewID("o"), NewID("o")
		mustClaim(t, d, id, a, Lease)
		time.Sleep(Lease + Lease/2)
		mustClaim(t, other, id, b, time.Minute)
		// a was slow, not dead: it finished, so the event is done…
		release(t, d, id, a, true)
		// …and b, which then fails, must not undo that.
		release(t, other, id, b, false)
		done, err := d.Claim(ctx, id, c, time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim after a lapsed owner marked it handled = (%v, %v), want (true, nil)", done, err)
		}
	})

	t.Run("UnknownEvents", func(t *testing.T) {
		t.Parallel()
		d, _ := open(t)
		id, a := NewID("N"), NewID("o")
		// Dropping a claim nobody holds changes nothing.
		release(t, d, id, a, false)
		mustClaim(t, d, id, a, time.Minute)
		// Marking an event nobody claimed marks it: the work was done.
		id2 := NewID("N")
		release(t, d, id2, a, true)
		done, err := d.Claim(ctx, id2, NewID("o"), time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim after an unclaimed event was marked handled = (%v, %v), want (true, nil)", done, err)
		}
	})

	t.Run("Namespaces", func(t *testing.T) {
		t.Parallel()
		d1, _ := open(t)
		d2, _ := open(t)
		id := NewID("N")
		mustClaim(t, d1, id, NewID("o"), time.Minute)
		release(t, d1, id, NewID("o"), true)
		// Another namespace (another merchant's prefix) knows nothing of it.
		mustClaim(t, d2, id, NewID("o"), time.Minute)
	})

	t.Run("Retention", func(t *testing.T) {
		t.Parallel()
		ns := Namespace()
		d := s.Open(t, ns, Lease)
		id := NewID("N")
		mustClaim(t, d, id, NewID("o"), time.Minute)
		release(t, d, id, NewID("o"), true)
		done, err := d.Claim(ctx, id, NewID("o"), time.Minute)
		if err != nil || !done {
			t.Fatalf("Claim within the retention = (%v, %v), want (true, nil)", done, err)
		}
		time.Sleep(Lease + Lease/2)
		mustClaim(t, s.Open(t, ns, Lease), id, NewID("o"), time.Minute)
	})

	t.Run("ConcurrentClaims", func(t *testing.T) {
		t.Parallel()
		d, again := open(t)
		instances := []notify.Deduper{d, again(), again(), again()}
		const claimers = 32
		for round := range 8 {
			id := NewID("N")
			var (
				wg                        sync.WaitGroup
				start                     = make(chan struct{})
				mu                        sync.Mutex
				won, inFlight, done, errs int
				winner                    string
				other                     []error
			)
			for i := range claimers {
				owner := NewID("o")
				dd := instances[i%len(instances)]
				wg.Go(func() {
					<-start
					isDone, err := dd.Claim(ctx, id, owner, time.Minute)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil && !isDone:
						won++
						winner = owner
					case errors.Is(err, notify.ErrInFlight) && !isDone:
						inFlight++
					case err == nil && isDone:
						done++
					default:
						errs++
						other = append(other, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won != 1 || inFlight != claimers-1 {
				t.Fatalf("round %d: %d concurrent claims: %d won, %d in flight, %d done, %d errors %v; want exactly one winner and %d in flight",
					round, claimers, won, inFlight, done, errs, other, claimers-1)
			}
			// Once the winner has handled it, every concurrent claim is done.
			release(t, instances[0], id, winner, true)
			var wg2 sync.WaitGroup
			var notDone sync.Map
			for i := range claimers {
				dd := instances[i%len(instances)]
				wg2.Go(func() {
					isDone, err := dd.Claim(ctx, id, NewID("o"), time.Minute)
					if err != nil || !isDone {
						notDone.Store(i, fmt.Sprintf("(%v, %v)", isDone, err))
					}
				})
			}
			wg2.Wait()
			notDone.Range(func(k, v any) bool {
				t.Errorf("round %d: claim %v of a handled event = %v, want (true, nil)", round, k, v)
				return true
			})
		}
	})

	t.Run("Context", func(t *testing.T) {
		t.Parallel()
		if s.IgnoresContext {
			t.Skip("this Deduper never waits and does not look at its context")
		}
		d, _ := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		id, a := NewID("N"), NewID("o")
		done, err := d.Claim(cctx, id, a, time.Minute)
		if done || !errors.Is(err, context.Canceled) {
			t.Fatalf("Claim on a cancelled context = (%v, %v), want (false, context.Canceled)", done, err)
		}
		if err := d.Release(cctx, id, a, true); !errors.Is(err, context.Canceled) {
			t.Fatalf("Release on a cancelled context = %v, want context.Canceled", err)
		}
		// Nothing was recorded by either.
		mustClaim(t, d, id, NewID("o"), time.Minute)
	})

	t.Run("Down", func(t *testing.T) {
		t.Parallel()
		if s.Down == nil {
			t.Skip("no way to take this store down")
		}
		d := s.Down(t)
		dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		id, a := NewID("N"), NewID("o")
		for range 3 {
			done, err := d.Claim(dctx, id, a, time.Minute)
			if done || err == nil {
				t.Fatalf("Claim on a store that is down = (%v, %v), want (false, an error)", done, err)
			}
			if errors.Is(err, notify.ErrInFlight) {
				t.Fatalf("Claim on a store that is down = %v: ErrInFlight claims knowledge the store could not give", err)
			}
		}
		if err := d.Release(dctx, id, a, true); err == nil {
			t.Fatal("Release(handled) on a store that is down = nil, want an error: the done mark was not recorded")
		}
		if err := d.Release(dctx, id, a, false); err == nil {
			t.Fatal("Release on a store that is down = nil, want an error")
		}
	})

	t.Run("Hung", func(t *testing.T) {
		t.Parallel()
		if s.Hung == nil {
			t.Skip("no way to make this store hang")
		}
		d := s.Hung(t)
		hctx, cancel := context.WithTimeout(ctx, HungDeadline)
		defer cancel()
		t0 := time.Now()
		done, err := d.Claim(hctx, NewID("N"), NewID("o"), time.Minute)
		if done || err == nil {
			t.Fatalf("Claim on a store that hangs = (%v, %v), want (false, an error)", done, err)
		}
		if late := time.Since(t0) - HungDeadline; late > time.Second {
			t.Fatalf("Claim on a store that hangs returned %v after its context's deadline: it does not honour its context", late)
		}
	})
}

func mustClaim(t *testing.T, d notify.Deduper, id, owner string, lease time.Duration) {
	t.Helper()
	done, err := d.Claim(context.Background(), id, owner, lease)
	if err != nil || done {
		t.Fatalf("Claim(%s, %s) = (%v, %v), want (false, nil): the claim should be taken", id, owner, done, err)
	}
}

func release(t *testing.T, d notify.Deduper, id, owner string, handled bool) {
	t.Helper()
	if err := d.Release(context.Background(), id, owner, handled); err != nil {
		t.Fatalf("Release(%s, %s, %v) = %v", id, owner, handled, err)
	}
}

// Namespace returns a fresh namespace name: lower-case letters and digits,
// usable as a key prefix or an SQL schema name.
func Namespace() string { return "t" + randHex(8) }

// NewID returns a fresh identifier with the prefix: a notify_id, msg_id or
// owner token of a test.
func NewID(prefix string) string { return prefix + randHex(12) }

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

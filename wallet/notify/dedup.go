package notify

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Deduper remembers which events were handled, so that a redelivery does
// not run the Func twice, and holds a claim on an event while one delivery
// handles it. Implement it over storage that every instance serving the
// notify URL shares (the nested modules redisstore and sqlstore do); the
// in-memory MemoryDeduper serves one process only.
//
// Each delivery claims with an owner token of its own. A claim lapses after
// its lease, so that a process that crashed or hung while handling an event
// does not block it forever: a later delivery takes it over.
type Deduper interface {
	// Claim is called before the Func. It returns done=true when the
	// event was handled already (the bank is told SUCCESS);
	// ErrInFlight while another owner's claim is within its lease (the
	// bank is told to deliver again); another error when the store cannot
	// answer (likewise); or nil after it recorded owner's claim, valid for
	// lease.
	Claim(ctx context.Context, notifyID, owner string, lease time.Duration) (done bool, err error)
	// Release ends owner's claim: handled=true marks the event handled
	// (whoever holds the claim now: the work was done); handled=false
	// drops the claim if owner still holds it, so that a redelivery runs
	// the Func again.
	Release(ctx context.Context, notifyID, owner string, handled bool) error
}

// ErrInFlight is returned by Claim while another delivery of the same event
// holds a claim within its lease.
var ErrInFlight = errors.New("notify: the same event is being handled")

// Retention is how long a Deduper should remember a handled event: longer
// than the bank's retry schedule (about 25 hours) with a wide margin.
const Retention = 72 * time.Hour

// MemoryDeduper is the in-memory Deduper: one process only, forgetting
// handled events after a retention period.
type MemoryDeduper struct {
	retention time.Duration
	now       func() time.Time
	mu        sync.Mutex
	seen      map[string]memEntry
	lastSweep time.Time
}

type memEntry struct {
	done  bool
	owner string
	until time.Time // end of the claim's lease, or of the retention once done
}

// NewMemoryDeduper returns a MemoryDeduper that remembers handled events
// for retention (Retention when zero or negative).
func NewMemoryDeduper(retention time.Duration) *MemoryDeduper {
	if retention <= 0 {
		retention = Retention
	}
	return &MemoryDeduper{retention: retention, now: time.Now, seen: make(map[string]memEntry)}
}

// Claim implements Deduper.
func (d *MemoryDeduper) Claim(_ context.Context, id, owner string, lease time.Duration) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.sweep(now)
	if e, ok := d.seen[id]; ok && now.Before(e.until) {
		if e.done {
			return true, nil
		}
		if e.owner != owner {
			return false, ErrInFlight
		}
	}
	d.seen[id] = memEntry{owner: owner, until: now.Add(lease)}
	return false, nil
}

// Release implements Deduper.
func (d *MemoryDeduper) Release(_ context.Context, id, owner string, handled bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if handled {
		d.seen[id] = memEntry{done: true, until: d.now().Add(d.retention)}
		return nil
	}
	if e, ok := d.seen[id]; ok && !e.done && e.owner == owner {
		delete(d.seen, id)
	}
	return nil
}

// sweep drops lapsed entries, at most once a minute so that Claim stays
// cheap.
func (d *MemoryDeduper) sweep(now time.Time) {
	if now.Sub(d.lastSweep) < time.Minute {
		return
	}
	d.lastSweep = now
	for id, e := range d.seen {
		if !now.Before(e.until) {
			delete(d.seen, id)
		}
	}
}

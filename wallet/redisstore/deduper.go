package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// Deduper is a notify.Deduper over Redis, shared by every instance that
// serves the merchant's notify URL. It keeps one key per event (see the
// package documentation): a claim while a delivery handles the event, a
// done mark for the retention after.
//
// A Deduper is safe for concurrent use; it holds no connection of its own
// (the redis client does).
type Deduper struct {
	rdb       redis.UniversalClient
	prefix    string
	retention time.Duration
}

// DeduperOption tunes a Deduper.
type DeduperOption func(*Deduper) error

// WithRetention is how long a done mark is kept (default notify.Retention,
// 72 h): it must outlast the bank's retries of an event (about 25 hours),
// or a late redelivery runs the merchant's function again.
func WithRetention(d time.Duration) DeduperOption {
	return func(dd *Deduper) error {
		dd.retention = d
		return option.Retention("redisstore: WithRetention", d)
	}
}

// NewDeduper returns a Deduper that keeps its keys under prefix (for
// example "shop1:ewallet:"), in the Redis that rdb reaches. The prefix
// keeps the keys of two merchants, or of two apps of one merchant, apart
// in one Redis; it must not be empty. Create rdb with
// ContextTimeoutEnabled: true, so that a context's deadline also stops a
// command in flight (see the package documentation).
func NewDeduper(rdb redis.UniversalClient, prefix string, opts ...DeduperOption) (*Deduper, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: NewDeduper: nil redis client")
	}
	if prefix == "" {
		return nil, errors.New("redisstore: NewDeduper: prefix: must not be empty")
	}
	d := &Deduper{rdb: rdb, prefix: prefix, retention: notify.Retention}
	if err := option.Apply(d, "redisstore: NewDeduper: nil DeduperOption", opts); err != nil {
		return nil, err
	}
	return d, nil
}

// The value of an event's key: claimed by an owner, or done. An owner's
// value carries a prefix so that no owner token can read as done.
const (
	doneValue   = "done"
	ownerPrefix = "owner:"
)

// claimScript takes the claim (SET NX PX with the owner's value), or tells
// why it cannot: 0 claimed, 1 done, 2 another owner's claim. The same owner
// claiming again renews its lease. One script, so that the answer is about
// the value the claim was refused on.
var claimScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return 0
end
local v = redis.call('GET', KEYS[1])
if v == ARGV[3] then
	return 1
end
if v == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 0
end
return 2
`)

// releaseScript drops a claim if the owner still holds it: a lapsed owner
// must not drop the claim of the delivery that took the event over.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// doneScript marks the event done for the retention, whoever holds the
// claim (the work was done), unless it is marked already: the first mark
// keeps its expiry, so that redeliveries do not stretch the retention.
var doneScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Claim implements notify.Deduper.
func (d *Deduper) Claim(ctx context.Context, notifyID, owner string, lease time.Duration) (bool, error) {
	if err := checkClaim(notifyID, owner, lease); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("redisstore: claim %s: %w", notifyID, err)
	}
	r, err := claimScript.Run(ctx, d.rdb, []string{d.key(notifyID)},
		ownerPrefix+owner, lease.Milliseconds(), doneValue).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: claim %s: %w", notifyID, err)
	}
	switch r {
	case 0:
		return false, nil
	case 1:
		return true, nil
	case 2:
		return false, notify.ErrInFlight
	}
	return false, fmt.Errorf("redisstore: claim %s: unexpected answer %d from Redis", notifyID, r)
}

// Release implements notify.Deduper.
func (d *Deduper) Release(ctx context.Context, notifyID, owner string, handled bool) error {
	if notifyID == "" {
		return errors.New("redisstore: release: notify_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: release %s: %w", notifyID, err)
	}
	var err error
	if handled {
		err = doneScript.Run(ctx, d.rdb, []string{d.key(notifyID)}, doneValue, d.retention.Milliseconds()).Err()
	} else {
		err = releaseScript.Run(ctx, d.rdb, []string{d.key(notifyID)}, ownerPrefix+owner).Err()
	}
	if err != nil {
		return fmt.Errorf("redisstore: release %s: %w", notifyID, err)
	}
	return nil
}

// key is the key of one event.
func (d *Deduper) key(notifyID string) string { return d.prefix + "notify:" + notifyID }

func checkClaim(notifyID, owner string, lease time.Duration) error {
	switch {
	case notifyID == "":
		return errors.New("redisstore: claim: notify_id: must not be empty")
	case owner == "":
		return errors.New("redisstore: claim: owner: must not be empty")
	case lease < time.Millisecond:
		return fmt.Errorf("redisstore: claim: lease: %v is shorter than a millisecond", lease)
	}
	return nil
}

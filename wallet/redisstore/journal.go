package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/payment"
)

// SettledRetention is how long the Journal keeps a settled entry by
// default: a week, for the merchant's own look-ups (Journal.Entry) and
// audits. A settled entry is never needed again by Recover.
const SettledRetention = 7 * 24 * time.Hour

// ErrNotFound is returned by Journal.Entry for a msg_id the journal does not
// hold: never begun, or settled longer ago than the settled retention.
var ErrNotFound = errors.New("redisstore: no journal entry for this msg_id")

// Journal is a payment.Journal over Redis, shared by every instance of a
// payment.Service: any of them can Recover what another began. Each entry
// is a hash; a sorted set on the begin time lists the pending ones (see
// the package documentation).
//
// Begin is durable when Redis is: run it with appendonly yes and
// appendfsync always (see the package documentation), or a Redis crash
// can lose an entry whose call was sent.
//
// A Journal is safe for concurrent use.
type Journal struct {
	rdb       redis.UniversalClient
	entry     string // key prefix of the entries
	pending   string // key of the sorted set of pending msg_ids
	retention time.Duration
}

// JournalOption tunes a Journal.
type JournalOption func(*Journal) error

// WithSettledRetention is how long a settled entry is kept (default
// SettledRetention).
func WithSettledRetention(d time.Duration) JournalOption {
	return func(j *Journal) error {
		j.retention = d
		return option.Retention("redisstore: WithSettledRetention", d)
	}
}

// NewJournal returns a Journal that keeps its keys under prefix (for
// example "shop1:ewallet:"), in the Redis that rdb reaches; the prefix must
// not be empty. Every instance of one merchant's payment service uses the
// same prefix, so that each sees the others' pending entries. Create rdb
// with ContextTimeoutEnabled: true (see the package documentation).
func NewJournal(rdb redis.UniversalClient, prefix string, opts ...JournalOption) (*Journal, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: NewJournal: nil redis client")
	}
	if prefix == "" {
		return nil, errors.New("redisstore: NewJournal: prefix: must not be empty")
	}
	// "{journal}" is a Redis Cluster hash tag: the scripts touch an entry
	// and the pending set at once, which Cluster allows only within one
	// slot. A prefix with a hash tag of its own takes precedence, which
	// keeps all the journal's keys in one slot just the same.
	j := &Journal{rdb: rdb, entry: prefix + "{journal}:entry:", pending: prefix + "{journal}:pending", retention: SettledRetention}
	if err := option.Apply(j, "redisstore: NewJournal: nil JournalOption", opts); err != nil {
		return nil, err
	}
	return j, nil
}

// beginScript records an entry unless its msg_id is recorded already
// (pending or settled): 1 recorded, 0 refused.
var beginScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
redis.call('HSET', KEYS[1], 'entry', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
`)

// settleScript records the first outcome of a pending entry, takes it off
// the pending set and lets it expire after the settled retention. An
// unknown msg_id, or one settled already, is left as it is.
var settleScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'entry') == 0 then
	return 0
end
if redis.call('HSETNX', KEYS[1], 'outcome', ARGV[1]) == 0 then
	return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[3])
return 1
`)

// Begin implements payment.Journal. The entry is recorded, and on the
// pending list, when Begin returns nil; an entry whose msg_id the journal
// holds (pending or settled) is refused.
func (j *Journal) Begin(ctx context.Context, e payment.Entry) error {
	if e.MsgID == "" {
		return errors.New("redisstore: begin: msg_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: begin %s: %w", e.MsgID, err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redisstore: begin %s: %w", e.MsgID, err)
	}
	ok, err := beginScript.Run(ctx, j.rdb, []string{j.entry + e.MsgID, j.pending}, b, e.Begun.UnixMicro(), e.MsgID).Int()
	if err != nil {
		return fmt.Errorf("redisstore: begin %s: %w", e.MsgID, err)
	}
	if ok == 0 {
		return fmt.Errorf("redisstore: begin: msg_id %s is recorded already", e.MsgID)
	}
	return nil
}

// Settle implements payment.Journal: the first outcome of an entry is
// kept; settling a msg_id the journal does not hold does nothing.
func (j *Journal) Settle(ctx context.Context, msgID string, o payment.Outcome) error {
	if msgID == "" {
		return errors.New("redisstore: settle: msg_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstore: settle %s: %w", msgID, err)
	}
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("redisstore: settle %s: %w", msgID, err)
	}
	if err := settleScript.Run(ctx, j.rdb, []string{j.entry + msgID, j.pending}, b, j.retention.Milliseconds(), msgID).Err(); err != nil {
		return fmt.Errorf("redisstore: settle %s: %w", msgID, err)
	}
	return nil
}

// pendingBatch bounds the entries read in one pipeline by Pending.
const pendingBatch = 256

// Pending implements payment.Journal: the entries begun and not settled,
// oldest first (by Entry.Begun to the microsecond, then by msg_id).
func (j *Journal) Pending(ctx context.Context) ([]payment.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: pending: %w", err)
	}
	ids, err := j.rdb.ZRange(ctx, j.pending, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: pending: %w", err)
	}
	out := make([]payment.Entry, 0, len(ids))
	for start := 0; start < len(ids); start += pendingBatch {
		batch := ids[start:min(start+pendingBatch, len(ids))]
		cmds := make([]*redis.SliceCmd, len(batch))
		_, err := j.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range batch {
				cmds[i] = p.HMGet(ctx, j.entry+id, "entry", "outcome")
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("redisstore: pending: %w", err)
		}
		for i, c := range cmds {
			v := c.Val()
			if v[1] != nil {
				continue // settled since the sorted set was read
			}
			s, ok := v[0].(string)
			if !ok {
				// Only an eviction or a hand can remove a pending entry:
				// say so rather than hide a call whose outcome is unknown.
				return nil, fmt.Errorf("redisstore: pending: entry %s is listed as pending but missing from Redis (was it evicted? use maxmemory-policy noeviction)", batch[i])
			}
			var e payment.Entry
			if err := json.Unmarshal([]byte(s), &e); err != nil {
				return nil, fmt.Errorf("redisstore: pending: entry %s: %w", batch[i], err)
			}
			out = append(out, e)
		}
	}
	return out, nil
}

// Entry returns the entry of msgID and, once it is settled, its outcome
// (nil while it is pending). A msg_id the journal does not hold is an error
// matching ErrNotFound.
func (j *Journal) Entry(ctx context.Context, msgID string) (payment.Entry, *payment.Outcome, error) {
	var e payment.Entry
	if msgID == "" {
		return e, nil, errors.New("redisstore: entry: msg_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return e, nil, fmt.Errorf("redisstore: entry %s: %w", msgID, err)
	}
	v, err := j.rdb.HMGet(ctx, j.entry+msgID, "entry", "outcome").Result()
	if err != nil {
		return e, nil, fmt.Errorf("redisstore: entry %s: %w", msgID, err)
	}
	s, ok := v[0].(string)
	if !ok {
		return e, nil, fmt.Errorf("redisstore: entry %s: %w", msgID, ErrNotFound)
	}
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		return e, nil, fmt.Errorf("redisstore: entry %s: %w", msgID, err)
	}
	s, ok = v[1].(string)
	if !ok {
		return e, nil, nil
	}
	var o payment.Outcome
	if err := json.Unmarshal([]byte(s), &o); err != nil {
		return e, nil, fmt.Errorf("redisstore: entry %s: outcome: %w", msgID, err)
	}
	return e, &o, nil
}

package sandbox

import (
	"context"
	"sync"
	"time"
)

// msgIDTTL is how long the bank remembers an (app_id, msg_id) (section 3.4).
const msgIDTTL = 24 * time.Hour

// result is a remembered answer: what a repeat of the request gets again,
// re-signed and in a fresh envelope.
type result struct {
	code string
	msg  string
	biz  []byte // SUCCESS only
}

type msgKey struct{ appID, msgID string }

// msgEntry is one remembered msg_id. While res is nil the first request is
// still running and done is open; a repeat waits on it.
type msgEntry struct {
	key     msgKey
	fp      string // SM3(path ‖ plaintext biz_content), hex
	created time.Time
	done    chan struct{}
	res     *result
}

// msgCache is the 24-hour idempotency cache of section 3.4. Expiry is on
// the real clock, as it belongs to the envelope, not to business time.
type msgCache struct {
	mu      sync.Mutex
	entries map[msgKey]*msgEntry
	queue   []*msgEntry // by creation, for expiry
}

func newMsgCache() *msgCache {
	return &msgCache{entries: map[msgKey]*msgEntry{}}
}

// begin looks a request up. It returns exactly one of: an entry the caller
// now owns and must finish; the remembered result of an earlier request with
// the same fingerprint; or an error (MSG_ID_CONFLICT, or SYSTEM_ERROR when
// ctx ends while waiting for a concurrent twin).
func (c *msgCache) begin(ctx context.Context, k msgKey, fp string, now time.Time) (*msgEntry, *result, *apiError) {
	for {
		c.mu.Lock()
		c.expire(now)
		e := c.entries[k]
		if e == nil {
			e = &msgEntry{key: k, fp: fp, created: now, done: make(chan struct{})}
			c.entries[k] = e
			c.queue = append(c.queue, e)
			c.mu.Unlock()
			return e, nil, nil
		}
		if e.fp != fp {
			c.mu.Unlock()
			return nil, nil, failCode(codeMsgIDConflict)
		}
		if e.res != nil {
			res := e.res
			c.mu.Unlock()
			return nil, res, nil
		}
		done := e.done
		c.mu.Unlock()
		// Two concurrent requests with one msg_id are serialised: wait for
		// the first, then look again (it may have been forgotten because its
		// answer was retryable, and then this one runs afresh).
		select {
		case <-done:
		case <-ctx.Done():
			return nil, nil, fail(codeSystemError, "the request ended while an identical one was running: retry with the same msg_id")
		}
	}
}

// finish records the owner's answer, or forgets the msg_id when the answer
// is retryable, and wakes any waiting twin.
func (c *msgCache) finish(e *msgEntry, res result) {
	c.mu.Lock()
	if retryable(res.code) {
		if c.entries[e.key] == e {
			delete(c.entries, e.key)
		}
	} else {
		e.res = &res
	}
	close(e.done)
	c.mu.Unlock()
}

// expire forgets finished entries older than msgIDTTL. Entries are queued
// in creation order, so only the front needs looking at.
func (c *msgCache) expire(now time.Time) {
	n := 0
	for _, e := range c.queue {
		if now.Sub(e.created) < msgIDTTL || e.res == nil && c.entries[e.key] == e {
			break
		}
		if c.entries[e.key] == e {
			delete(c.entries, e.key)
		}
		n++
	}
	if n > 0 {
		clear(c.queue[:n])
		c.queue = c.queue[n:]
	}
}

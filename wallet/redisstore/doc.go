// Package redisstore keeps the state that several instances of a merchant
// share in Redis: a notify.Deduper, so that a notification is handled once
// whichever instance the bank's delivery reaches, and a payment.Journal, so
// that a money call begun by an instance that then crashed is settled by
// any other (payment.Service.Recover).
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis.internal:6379", ContextTimeoutEnabled: true})
//	d, err := redisstore.NewDeduper(rdb, "shop1:ewallet:")
//	h, err := notify.NewHandler(c, handle, notify.WithDeduper(d))
//	j, err := redisstore.NewJournal(rdb, "shop1:ewallet:")
//	pay := payment.New(c, payment.WithJournal(j))
//	rec, err := pay.Recover(ctx) // at start, and from time to time
//
// It is a module of its own (github.com/xinyun-open/ewallet-go/wallet/redisstore),
// so that merchants who do not use Redis do not depend on its client.
//
// # Keys
//
// Every key starts with the prefix the merchant chooses:
//
//	<prefix>notify:<notify_id>        string  "owner:<token>" while a delivery holds the claim: expires with the lease;
//	                                          "done" once the event is handled: expires after the retention
//	                                          (notify.Retention, 72 h, by default; WithRetention)
//	<prefix>{journal}:entry:<msg_id>  hash    field entry: the payment.Entry as JSON;
//	                                          field outcome: the payment.Outcome as JSON, once settled.
//	                                          No expiry while pending; once settled, expires after the settled
//	                                          retention (SettledRetention, a week, by default; WithSettledRetention)
//	<prefix>{journal}:pending         zset    the msg_ids of the pending entries, scored by Entry.Begun in µs
//
// A claim is SET NX PX with the delivery's owner token; dropping it
// (Release of a Func that failed) and marking the event done are Lua
// scripts, so that a delivery whose lease lapsed cannot drop the claim of
// the delivery that took the event over, and a second done mark does not
// stretch the first one's retention. Begin and Settle are Lua scripts too:
// an entry and its place on the pending set change together, a msg_id is
// begun once, and the first outcome of an entry is the one kept. Leases and
// expiries run on the Redis server's clock, not on the instances'.
//
// In Redis Cluster, the journal's scripts touch two keys, which must be in
// one slot: "{journal}" is a hash tag that puts them there (a prefix with a
// hash tag of its own, such as "{shop1}:", does the same). The Deduper's
// scripts touch one key each.
//
// # Configuring Redis
//
// The Journal's Begin must be durable before the call is sent. Redis makes
// a write durable before it answers only with
//
//	appendonly yes
//	appendfsync always
//
// (with the default, a snapshot now and then, a crash loses the entries of
// the last minutes; with appendfsync everysec, of the last second). With
// replicas and automatic failover, a write not yet copied to the replica
// that takes over is lost too: keep the journal on a primary whose disk
// you trust, or accept that window. Use maxmemory-policy noeviction: an
// evicted done mark makes the next redelivery run the function again, and
// an evicted pending entry is reported by Pending as an error.
//
// # When Redis is down
//
// Nothing is lost and nothing is done twice; the work waits:
//
//   - Claim fails: the Handler answers the bank with a failure, and the bank
//     delivers the event again later (its retries last about 25 hours).
//     The function is not called.
//   - Release fails after the function succeeded: the Handler answers a
//     failure; the claim lapses after its lease, and a later delivery runs
//     the function again. This is why the function must be idempotent (the
//     notify package documentation says so too).
//   - Begin fails: the money call is not sent, but the entry may have been
//     recorded all the same (a reply lost or late), and Recover would
//     then make the call; so the Service reports the outcome as unknown
//     (wallet.IsOutcomeUnknown), to be settled by Recover or Resolve.
//   - Settle fails: the Service returns the bank's answer all the same and
//     logs a warning; the entry stays pending, and Recover settles it later
//     (it finds the order, and records the outcome).
//   - Pending fails: Recover returns the error; run it again later.
//
// Every method gives up when its context is done. A method called with a
// context that is done already fails at once; for a deadline to stop a
// command in flight too, create the client with ContextTimeoutEnabled:
// true. Without it, go-redis bounds a command by its own read and write
// timeouts instead (3 s each by default): a Redis that hangs held a Claim
// for 5 s in the tests, past a 300 ms deadline. With go-redis's defaults,
// a command to a Redis that refuses connections fails after about 2 s
// (4 attempts, each of 5 dials 100 ms apart).
package redisstore

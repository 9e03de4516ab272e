// Package notify receives the bank's notifications at the merchant's
// notify URL: it verifies them (signature under a trusted bank key, the
// fields the protocol signs, app and merchant, a timestamp within 300 s),
// opens their encrypted payload, and runs the merchant's function once per
// event.
//
//	h, err := notify.NewHandler(c, func(ctx context.Context, e *notify.Event) error {
//		if e.Type.IsOrder() {
//			o, err := e.Order()
//			if err != nil {
//				return err
//			}
//			return orders.MarkPaid(ctx, o.OutTradeNo, o.Status) // idempotent, in your database
//		}
//		return nil
//	}, notify.WithDeduper(shared))
//	http.Handle("/notify", h)
//
// # Exactly once
//
// The bank delivers an event until it is answered SUCCESS, keeping its
// notify_id, with a fresh signature each time (docs/protocol.md, section
// 10); the same event may also arrive twice at once at two instances. The
// Handler claims each event in a Deduper before it calls the function, and
// marks it handled after: a duplicate of a handled event is answered
// SUCCESS without running the function; a duplicate of an event still being
// handled is answered as a failure, so the bank delivers it again later.
// A claim has a lease: a process that crashes while it handles an event
// leaves a claim that lapses, and a later delivery handles the event.
//
// The function runs on a context of its own with a deadline (WithTimeout,
// default 10 s), not on the bank's request: when the bank hangs up after
// its 5 s, the function still finishes, the event is recorded as handled
// (also on a context of its own), and the bank's next delivery is answered
// SUCCESS. A function must honour its context's deadline: past the lease,
// another delivery may run it again.
//
// The default MemoryDeduper serves one process. Several instances behind a
// load balancer share one Deduper: the nested modules
// github.com/xinyun-open/ewallet-go/wallet/redisstore and
// github.com/xinyun-open/ewallet-go/wallet/sqlstore provide them.
//
// # Errors
//
// Verify and Parse refuse with an error wrapping ErrRefused; nothing of a
// refused notification is returned. The Handler answers a refusal HTTP
// 400, so the bank retries (a notification refused because the merchant's
// clock is off is delivered again once it is fixed).
//
// # Testing
//
// wallettest.MockBank builds signed notifications for a handler under
// test; wallettest.Server delivers real ones from the sandbox bank.
package notify

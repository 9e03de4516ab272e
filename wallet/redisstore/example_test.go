package redisstore_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/redisstore"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// One instance of a merchant whose instances share a Redis: its notify
// receiver runs each event once across all of them, and its payment
// service journals money calls where any instance can recover them.
// (It needs a Redis server, so it is compiled, not run, by go test.)
func Example() {
	ctx := context.Background()
	bank, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver()) // the sandbox bank
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	c := bank.Client()

	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("EWALLET_REDIS_ADDR"), ContextTimeoutEnabled: true})
	defer rdb.Close()

	// Notifications: one Deduper over the shared Redis.
	d, err := redisstore.NewDeduper(rdb, "shop1:ewallet:")
	if err != nil {
		log.Fatal(err)
	}
	h, err := notify.NewHandler(c, func(ctx context.Context, e *notify.Event) error {
		log.Printf("event %s: %s", e.ID, e.Type) // record it in your database, idempotently
		return nil
	}, notify.WithDeduper(d))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/notify", h) // serve mux at the notify URL the bank has

	// Money calls: one Journal over the shared Redis. At start, settle what
	// a crashed instance left pending.
	j, err := redisstore.NewJournal(rdb, "shop1:ewallet:")
	if err != nil {
		log.Fatal(err)
	}
	pay := payment.New(c, payment.WithJournal(j))
	rec, err := pay.Recover(ctx)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("recovered %d of %d pending money calls", rec.Settled, rec.Pending)

	acct := bank.OpenAccount(wallettest.Person())
	o, err := pay.Recharge(ctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 10000})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("recharge %s: %s", o.OutTradeNo, o.Status)
}

package sqlstore_test

import (
	"context"
	"database/sql"
	"log"
	"net/http"
	"os"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/sqlstore"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// One instance of a merchant whose instances share a PostgreSQL database:
// its notify receiver runs each event once across all of them, and its
// payment service journals money calls where any instance can recover
// them. (It needs a PostgreSQL server, so it is compiled, not run, by go
// test.)
func Example() {
	ctx := context.Background()
	bank, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver()) // the sandbox bank
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	c := bank.Client()

	db, err := sql.Open("pgx", os.Getenv("EWALLET_POSTGRES_DSN"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	db.SetMaxIdleConns(16)
	if err := sqlstore.Migrate(ctx, db); err != nil { // every instance, at start
		log.Fatal(err)
	}

	// Notifications: one Deduper over the shared database.
	d, err := sqlstore.NewDeduper(db)
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

	// Money calls: one Journal over the shared database. At start, settle
	// what a crashed instance left pending.
	j, err := sqlstore.NewJournal(db)
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

	// From time to time (hourly, say), drop what expired.
	if _, err := d.Purge(ctx); err != nil {
		log.Print(err)
	}
	if _, err := j.Purge(ctx); err != nil {
		log.Print(err)
	}
}

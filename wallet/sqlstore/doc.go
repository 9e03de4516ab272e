// Package sqlstore keeps the state that several instances of a merchant
// share in an SQL database, through database/sql: a notify.Deduper, so
// that a notification is handled once whichever instance the bank's
// delivery reaches, and a payment.Journal, so that a money call begun by an
// instance that then crashed is settled by any other
// (payment.Service.Recover). It is written and tested for PostgreSQL
// (through github.com/jackc/pgx/v5/stdlib; any PostgreSQL driver for
// database/sql will do).
//
//	db, err := sql.Open("pgx", "postgres://ewallet@db.internal/shop1")
//	err = sqlstore.Migrate(ctx, db) // at start: creates the tables if they are missing
//	d, err := sqlstore.NewDeduper(db)
//	h, err := notify.NewHandler(c, handle, notify.WithDeduper(d))
//	j, err := sqlstore.NewJournal(db)
//	pay := payment.New(c, payment.WithJournal(j))
//	rec, err := pay.Recover(ctx) // at start, and from time to time
//
// It is a module of its own (github.com/xinyun-open/ewallet-go/wallet/sqlstore),
// so that merchants who do not use it do not depend on a database driver.
//
// # Schema
//
// Migrate runs Schema, which is idempotent; a merchant with a migration
// tool of its own can apply it as it is:
//
//	CREATE TABLE IF NOT EXISTS ewallet_notify_claims (
//		notify_id  TEXT        PRIMARY KEY,
//		owner      TEXT        NOT NULL,
//		done       BOOLEAN     NOT NULL DEFAULT FALSE,
//		expires_at TIMESTAMPTZ NOT NULL
//	);
//	CREATE INDEX IF NOT EXISTS ewallet_notify_claims_expires_at ON ewallet_notify_claims (expires_at);
//	CREATE TABLE IF NOT EXISTS ewallet_journal (
//		msg_id         TEXT        PRIMARY KEY,
//		path           TEXT        NOT NULL,
//		order_no       TEXT        NOT NULL,
//		request        BYTEA       NOT NULL,
//		pin_key        TEXT        NOT NULL DEFAULT '',
//		begun          TIMESTAMPTZ NOT NULL,
//		state          TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'settled')),
//		outcome_code   TEXT,
//		outcome_result BYTEA,
//		outcome_at     TIMESTAMPTZ,
//		settled_at     TIMESTAMPTZ
//	);
//	CREATE INDEX IF NOT EXISTS ewallet_journal_pending ON ewallet_journal (begun, msg_id) WHERE state = 'pending';
//	CREATE INDEX IF NOT EXISTS ewallet_journal_settled_at ON ewallet_journal (settled_at) WHERE state = 'settled';
//
// The tables are created in the first schema of the search_path: two
// merchants, or two apps of one, that share a database keep their tables
// apart in two PostgreSQL schemas (search_path=shop1 in the DSN).
//
// ewallet_notify_claims has one row per event: a claim (done false, owner
// the delivery's token, expires_at the end of its lease) or a done mark
// (done true, expires_at the end of the retention, notify.Retention by
// default). A claim is one INSERT … ON CONFLICT DO UPDATE … WHERE the row
// expired … RETURNING: it returns a row only to the delivery that holds
// the claim, and row locking makes it exclusive. Releasing a claim
// deletes the row only where the owner still holds it, so that a delivery
// whose lease lapsed cannot drop the claim of the one that took the event
// over; a done mark is written whoever holds the claim. Leases and
// expiries run on the database's clock (CURRENT_TIMESTAMP), not on the
// instances'.
//
// ewallet_journal has one row per money call: state pending from Begin
// (an INSERT … ON CONFLICT DO NOTHING, so a msg_id is begun once) until
// Settle records the outcome and makes it settled (an UPDATE … WHERE state
// = 'pending', so the first outcome is kept). Pending reads the pending
// rows oldest first, through a partial index. Times are kept to the
// microsecond.
//
// Expired rows answer nothing, and are deleted by Deduper.Purge; settled
// journal rows are kept for the settled retention (SettledRetention, a
// week, by default) and then deleted by Journal.Purge. Run both from time
// to time; pending rows are never deleted.
//
// Each call is one statement on a pooled connection (a Claim that is
// refused, two). database/sql keeps only two idle connections by default:
// set db.SetMaxIdleConns to about the number of deliveries and money calls
// an instance serves at once, or every burst of them connects anew (tens
// of milliseconds each).
//
// # Portability
//
// The tables and most statements are standard SQL. PostgreSQL's are: the
// types TIMESTAMPTZ and BYTEA; INSERT … ON CONFLICT and RETURNING (SQLite
// has them too, MySQL has neither); the interval arithmetic of leases
// (CURRENT_TIMESTAMP + n * INTERVAL '1 millisecond'); the $1 placeholders;
// the partial indexes; and Migrate's advisory lock (pg_advisory_xact_lock),
// which lets instances that start together migrate in turn.
//
// # When the database is down
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
// Every method gives up when its context is done: database/sql passes it
// to the driver, and pgx cancels a query in flight.
//
// Begin is durable when it returns: its row is committed, and PostgreSQL,
// with its default synchronous_commit = on, has flushed the commit to its
// write-ahead log.
package sqlstore

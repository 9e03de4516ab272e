package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/sqlstore"
	"github.com/xinyun-open/ewallet-go/wallet/storetest"
)

var ctx = context.Background()

// schemaDSN is dsn with the search_path set to schema, so that the
// tables Migrate creates, and the queries, are the namespace's.
func schemaDSN(t *testing.T, dsn, schema string) string {
	t.Helper()
	if !strings.Contains(dsn, "://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("EWALLET_POSTGRES_DSN: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// open connects to the namespace ns, a schema of its own, which it
// creates and migrates the first time, and drops when the test ends. Each
// call is a pool of its own, as each instance of a merchant has.
func open(t *testing.T, dsn, ns string, schemas *sync.Map) *sql.DB {
	t.Helper()
	if _, loaded := schemas.LoadOrStore(ns, true); !loaded {
		admin := connect(t, dsn)
		if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			a, err := sql.Open("pgx", dsn)
			if err == nil {
				_, _ = a.ExecContext(context.Background(), `DROP SCHEMA `+ns+` CASCADE`)
				a.Close()
			}
		})
		if err := sqlstore.Migrate(ctx, connect(t, schemaDSN(t, dsn, ns))); err != nil {
			t.Fatal(err)
		}
	}
	return connect(t, schemaDSN(t, dsn, ns))
}

func connect(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// database/sql keeps 2 idle connections by default: a burst of
	// concurrent claims would connect anew each time (tens of ms each).
	db.SetMaxIdleConns(16)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// downDB is a pool whose server refuses connections.
func downDB(t *testing.T) *sql.DB {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return connect(t, "postgres://ewallet@"+addr+"/ewallet?sslmode=disable&connect_timeout=5")
}

// hungDB is a pool whose server accepts connections and never answers.
func hungDB(t *testing.T) *sql.DB {
	t.Helper()
	return connect(t, "postgres://ewallet@"+storetest.HungServer(t)+"/ewallet?sslmode=disable")
}

func TestDeduperContract(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var schemas sync.Map
	storetest.TestDeduper(t, storetest.DeduperStore{
		Open: func(t *testing.T, ns string, retention time.Duration) notify.Deduper {
			var opts []sqlstore.DeduperOption
			if retention > 0 {
				opts = append(opts, sqlstore.WithRetention(retention))
			}
			d, err := sqlstore.NewDeduper(open(t, dsn, ns, &schemas), opts...)
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Down: func(t *testing.T) notify.Deduper {
			d, err := sqlstore.NewDeduper(downDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		Hung: func(t *testing.T) notify.Deduper {
			d, err := sqlstore.NewDeduper(hungDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
	})
}

func TestJournalContract(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var schemas sync.Map
	storetest.TestJournal(t, storetest.JournalStore{
		Open: func(t *testing.T, ns string) payment.Journal {
			j, err := sqlstore.NewJournal(open(t, dsn, ns, &schemas))
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Down: func(t *testing.T) payment.Journal {
			j, err := sqlstore.NewJournal(downDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Hung: func(t *testing.T) payment.Journal {
			j, err := sqlstore.NewJournal(hungDB(t))
			if err != nil {
				t.Fatal(err)
			}
			return j
		},
		Outcome: func(t *testing.T, j payment.Journal, _, msgID string) *payment.Outcome {
			_, o, err := j.(*sqlstore.Journal).Entry(ctx, msgID)
			if err != nil && !errors.Is(err, sqlstore.ErrNotFound) {
				t.Fatal(err)
			}
			return o
		},
	})
}

// A pool that was closed (the application shutting down) is a store that
// is down too: errors, never a false "done".
func TestClosedDB(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var schemas sync.Map
	db := open(t, dsn, storetest.Namespace(), &schemas)
	d, _ := sqlstore.NewDeduper(db)
	j, _ := sqlstore.NewJournal(db)
	db.Close()
	storetest.TestClosed(t, d, j)
}

// Migrate is idempotent and safe when instances start together.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	ns := storetest.Namespace()
	if _, err := connect(t, dsn).ExecContext(ctx, `CREATE SCHEMA `+ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = connect(t, dsn).ExecContext(context.Background(), `DROP SCHEMA `+ns+` CASCADE`) })
	var wg sync.WaitGroup
	for range 8 {
		db := connect(t, schemaDSN(t, dsn, ns))
		wg.Go(func() {
			if err := sqlstore.Migrate(ctx, db); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	db := connect(t, schemaDSN(t, dsn, ns))
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables WHERE table_schema = $1`, ns).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if tables != 2 {
		t.Fatalf("after Migrate the schema has %d tables, want 2", tables)
	}
}

// Purge deletes what expired, and nothing that still answers a claim or
// is pending.
func TestPurge(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var schemas sync.Map
	db := open(t, dsn, storetest.Namespace(), &schemas)
	d, err := sqlstore.NewDeduper(db, sqlstore.WithRetention(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"N1", "N2"} {
		if _, err := d.Claim(ctx, id, "o", 300*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Release(ctx, "N1", "o", true); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Claim(ctx, "N3", "o", time.Hour); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("Purge before anything expired = (%d, %v), want (0, nil)", n, err)
	}
	time.Sleep(500 * time.Millisecond)
	if n, err := d.Purge(ctx); err != nil || n != 2 {
		t.Fatalf("Purge = (%d, %v), want (2, nil): N1's done mark and N2's claim expired", n, err)
	}
	if _, err := d.Claim(ctx, "N3", "other", time.Hour); !errors.Is(err, notify.ErrInFlight) {
		t.Fatalf("Purge dropped a live claim: Claim = %v, want ErrInFlight", err)
	}

	j, err := sqlstore.NewJournal(db, sqlstore.WithSettledRetention(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	settled, pending := storetest.NewEntry(time.Now()), storetest.NewEntry(time.Now())
	for _, e := range []payment.Entry{settled, pending} {
		if err := j.Begin(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Settle(ctx, settled.MsgID, payment.Outcome{Code: "SUCCESS", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if n, err := j.Purge(ctx); err != nil || n != 0 {
		t.Fatalf("journal Purge within the retention = (%d, %v), want (0, nil)", n, err)
	}
	time.Sleep(500 * time.Millisecond)
	if n, err := j.Purge(ctx); err != nil || n != 1 {
		t.Fatalf("journal Purge = (%d, %v), want (1, nil)", n, err)
	}
	if _, _, err := j.Entry(ctx, settled.MsgID); !errors.Is(err, sqlstore.ErrNotFound) {
		t.Fatalf("Entry of a purged entry: %v, want ErrNotFound", err)
	}
	if p, err := j.Pending(ctx); err != nil || len(p) != 1 || p[0].MsgID != pending.MsgID {
		t.Fatalf("Pending after Purge = %v, %v; want the pending entry", p, err)
	}
}

// The package documentation shows Schema as it is.
func TestDocShowsSchema(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(sqlstore.Schema, "\n"), "\n") {
		b.WriteString("//\t" + line + "\n")
	}
	if !strings.Contains(string(doc), b.String()) {
		t.Fatalf("doc.go does not show Schema as it is; it should hold:\n%s", b.String())
	}
}

func TestNewRefusesBadArguments(t *testing.T) {
	t.Parallel()
	db, err := sql.Open("pgx", "postgres://127.0.0.1:1/x")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"nil db":            {err2(sqlstore.NewDeduper(nil)), "nil *sql.DB"},
		"short retention":   {err2(sqlstore.NewDeduper(db, sqlstore.WithRetention(0))), "WithRetention"},
		"nil option":        {err2(sqlstore.NewDeduper(db, nil)), "nil DeduperOption"},
		"journal nil db":    {err2(sqlstore.NewJournal(nil)), "nil *sql.DB"},
		"journal retention": {err2(sqlstore.NewJournal(db, sqlstore.WithSettledRetention(-time.Hour))), "WithSettledRetention"},
		"migrate nil db":    {sqlstore.Migrate(ctx, nil), "nil *sql.DB"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", name, tc.err, tc.want)
		}
	}
	d, _ := sqlstore.NewDeduper(db)
	for name, err := range map[string]error{
		"notify_id": err2(d.Claim(ctx, "", "o", time.Minute)),
		"owner":     err2(d.Claim(ctx, "N", "", time.Minute)),
		"lease":     err2(d.Claim(ctx, "N", "o", time.Microsecond)),
	} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("Claim without a good %s: %v, want an error naming it", name, err)
		}
	}
}

func err2[T any](_ T, err error) error { return err }

// Four receivers and two payment services of one merchant share one
// PostgreSQL.
func TestFleet(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	var schemas sync.Map
	ns := storetest.Namespace()
	rep := storetest.Fleet{}.Run(t,
		func(t *testing.T) notify.Deduper {
			d, err := sqlstore.NewDeduper(open(t, dsn, ns, &schemas))
			if err != nil {
				t.Fatal(err)
			}
			return d
		},
		func(t *testing.T) payment.Journal {
			j, err := sqlstore.NewJournal(open(t, dsn, ns, &schemas))
			if err != nil {
				t.Fatal(err)
			}
			return j
		})
	t.Log("fleet over PostgreSQL: " + rep.String())
}

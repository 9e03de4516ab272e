package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Schema is the SQL that Migrate runs: the tables of the Deduper and of the
// Journal, and their indexes (PostgreSQL). Every statement is idempotent,
// so it can also be applied by the merchant's own migration tool, as it is.
const Schema = `CREATE TABLE IF NOT EXISTS ewallet_notify_claims (
	notify_id  TEXT        PRIMARY KEY,
	owner      TEXT        NOT NULL,
	done       BOOLEAN     NOT NULL DEFAULT FALSE,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS ewallet_notify_claims_expires_at ON ewallet_notify_claims (expires_at);
CREATE TABLE IF NOT EXISTS ewallet_journal (
	msg_id         TEXT        PRIMARY KEY,
	path           TEXT        NOT NULL,
	order_no       TEXT        NOT NULL,
	request        BYTEA       NOT NULL,
	pin_key        TEXT        NOT NULL DEFAULT '',
	begun          TIMESTAMPTZ NOT NULL,
	state          TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'settled')),
	outcome_code   TEXT,
	outcome_result BYTEA,
	outcome_at     TIMESTAMPTZ,
	settled_at     TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS ewallet_journal_pending ON ewallet_journal (begun, msg_id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS ewallet_journal_settled_at ON ewallet_journal (settled_at) WHERE state = 'settled';
`

// migrateLock is the key of the advisory lock that serialises Migrate
// across instances: PostgreSQL's CREATE … IF NOT EXISTS can fail on a
// duplicate catalog row when two sessions run it at the same moment, as
// instances that start together do.
const migrateLock = 0x65_77_61_6c_6c_65_74 // "ewallet"

// Migrate creates the tables and indexes of Schema where they do not exist
// yet, in one transaction. It is idempotent, and safe to run from every
// instance as it starts, at the same time: a PostgreSQL advisory lock
// (pg_advisory_xact_lock) makes concurrent runs take turns. The tables
// are created in the first schema of the connection's search_path.
func Migrate(ctx context.Context, db *sql.DB) error {
	if db == nil {
		return errors.New("sqlstore: Migrate: nil *sql.DB")
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
		return fmt.Errorf("sqlstore: migrate: taking the migration lock: %w", err)
	}
	for _, stmt := range statements(Schema) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: migrate: %s: %w", firstLine(stmt), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// statements splits Schema at the semicolons that end its statements
// (none of which holds a semicolon of its own).
func statements(schema string) []string {
	var out []string
	for _, s := range strings.Split(schema, ";\n") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/payment"
)

// SettledRetention is how long Journal.Purge keeps a settled entry by
// default: a week, for the merchant's own look-ups (Journal.Entry) and
// audits. A settled entry is never needed again by Recover.
const SettledRetention = 7 * 24 * time.Hour

// ErrNotFound is returned by Journal.Entry for a msg_id the journal does not
// hold: never begun, or settled and purged.
var ErrNotFound = errors.New("sqlstore: no journal entry for this msg_id")

// Journal is a payment.Journal over SQL (the table ewallet_journal, see
// Schema), shared by every instance of a payment.Service: any of them can
// Recover what another began. Each money call is a row whose state goes
// from pending to settled.
//
// Begin returns once the row is committed; PostgreSQL's default
// synchronous_commit = on makes that durable (flushed to its write-ahead
// log). Turning synchronous_commit off for the journal's sessions gives
// that up.
//
// A Journal is safe for concurrent use. Run Migrate before its first use,
// and Purge from time to time.
type Journal struct {
	db        *sql.DB
	retention time.Duration
}

// JournalOption tunes a Journal.
type JournalOption func(*Journal) error

// WithSettledRetention is how long Purge keeps a settled entry (default
// SettledRetention).
func WithSettledRetention(d time.Duration) JournalOption {
	return func(j *Journal) error {
		j.retention = d
		return option.Retention("sqlstore: WithSettledRetention", d)
	}
}

// NewJournal returns a Journal over db, whose tables Migrate created.
func NewJournal(db *sql.DB, opts ...JournalOption) (*Journal, error) {
	if db == nil {
		return nil, errors.New("sqlstore: NewJournal: nil *sql.DB")
	}
	j := &Journal{db: db, retention: SettledRetention}
	if err := option.Apply(j, "sqlstore: NewJournal: nil JournalOption", opts); err != nil {
		return nil, err
	}
	return j, nil
}

const (
	beginSQL = `INSERT INTO ewallet_journal (msg_id, path, order_no, request, pin_key, begun, state)
VALUES ($1, $2, $3, $4, $5, $6, 'pending')
ON CONFLICT (msg_id) DO NOTHING`
	settleSQL = `UPDATE ewallet_journal
SET state = 'settled', outcome_code = $2, outcome_result = $3, outcome_at = $4, settled_at = CURRENT_TIMESTAMP
WHERE msg_id = $1 AND state = 'pending'`
	pendingSQL = `SELECT msg_id, path, order_no, request, pin_key, begun FROM ewallet_journal
WHERE state = 'pending' ORDER BY begun, msg_id`
	entrySQL = `SELECT msg_id, path, order_no, request, pin_key, begun, state, outcome_code, outcome_result, outcome_at
FROM ewallet_journal WHERE msg_id = $1`
	purgeJournalSQL = `DELETE FROM ewallet_journal
WHERE state = 'settled' AND settled_at <= CURRENT_TIMESTAMP - $1 * INTERVAL '1 millisecond'`
)

// Begin implements payment.Journal: the entry is committed, pending, when
// Begin returns nil; an entry whose msg_id the journal holds (pending or
// settled) is refused.
func (j *Journal) Begin(ctx context.Context, e payment.Entry) error {
	if e.MsgID == "" {
		return errors.New("sqlstore: begin: msg_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: begin %s: %w", e.MsgID, err)
	}
	req := e.Request
	if req == nil {
		req = []byte{} // the column is NOT NULL: no request is an empty one
	}
	res, err := j.db.ExecContext(ctx, beginSQL, e.MsgID, e.Path, e.OrderNo, req, e.PINKey, e.Begun)
	if err != nil {
		return fmt.Errorf("sqlstore: begin %s: %w", e.MsgID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: begin %s: %w", e.MsgID, err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: begin: msg_id %s is recorded already", e.MsgID)
	}
	return nil
}

// Settle implements payment.Journal: the first outcome of an entry is
// kept; settling a msg_id the journal does not hold does nothing.
func (j *Journal) Settle(ctx context.Context, msgID string, o payment.Outcome) error {
	if msgID == "" {
		return errors.New("sqlstore: settle: msg_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: settle %s: %w", msgID, err)
	}
	var result []byte
	if len(o.Result) > 0 {
		result = o.Result
	}
	at := sql.NullTime{Time: o.At, Valid: !o.At.IsZero()}
	if _, err := j.db.ExecContext(ctx, settleSQL, msgID, o.Code, result, at); err != nil {
		return fmt.Errorf("sqlstore: settle %s: %w", msgID, err)
	}
	return nil
}

// Pending implements payment.Journal: the entries begun and not settled,
// oldest first (by Entry.Begun to the microsecond, then by msg_id).
func (j *Journal) Pending(ctx context.Context) ([]payment.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending: %w", err)
	}
	rows, err := j.db.QueryContext(ctx, pendingSQL)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pending: %w", err)
	}
	defer rows.Close()
	var out []payment.Entry
	for rows.Next() {
		var e payment.Entry
		if err := rows.Scan(&e.MsgID, &e.Path, &e.OrderNo, &e.Request, &e.PINKey, &e.Begun); err != nil {
			return nil, fmt.Errorf("sqlstore: pending: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: pending: %w", err)
	}
	return out, nil
}

// Entry returns the entry of msgID and, once it is settled, its outcome
// (nil while it is pending). A msg_id the journal does not hold is an error
// matching ErrNotFound.
func (j *Journal) Entry(ctx context.Context, msgID string) (payment.Entry, *payment.Outcome, error) {
	var e payment.Entry
	if err := ctx.Err(); err != nil {
		return e, nil, fmt.Errorf("sqlstore: entry %s: %w", msgID, err)
	}
	var (
		state  string
		code   sql.NullString
		result []byte
		at     sql.NullTime
	)
	err := j.db.QueryRowContext(ctx, entrySQL, msgID).Scan(&e.MsgID, &e.Path, &e.OrderNo, &e.Request, &e.PINKey, &e.Begun,
		&state, &code, &result, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil, fmt.Errorf("sqlstore: entry %s: %w", msgID, ErrNotFound)
	}
	if err != nil {
		return e, nil, fmt.Errorf("sqlstore: entry %s: %w", msgID, err)
	}
	if state != "settled" {
		return e, nil, nil
	}
	o := &payment.Outcome{Code: code.String, At: at.Time}
	if result != nil {
		o.Result = json.RawMessage(result)
	}
	return e, o, nil
}

// Purge deletes the entries settled longer ago than the settled retention
// (WithSettledRetention), and returns how many. Pending entries are never
// purged. Run it from time to time (daily, say).
func (j *Journal) Purge(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	res, err := j.db.ExecContext(ctx, purgeJournalSQL, j.retention.Milliseconds())
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	return n, nil
}

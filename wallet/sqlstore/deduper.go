package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/option"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// Deduper is a notify.Deduper over SQL (the table ewallet_notify_claims,
// see Schema), shared by every instance that serves the merchant's notify
// URL. Leases and retention run on the database's clock, so that the
// instances' clocks need not agree.
//
// A Deduper is safe for concurrent use. Run Migrate before its first use,
// and Purge from time to time.
type Deduper struct {
	db        *sql.DB
	retention time.Duration
}

// DeduperOption tunes a Deduper.
type DeduperOption func(*Deduper) error

// WithRetention is how long a done mark is kept (default notify.Retention,
// 72 h): it must outlast the bank's retries of an event (about 25 hours),
// or a late redelivery runs the merchant's function again.
func WithRetention(d time.Duration) DeduperOption {
	return func(dd *Deduper) error {
		dd.retention = d
		return option.Retention("sqlstore: WithRetention", d)
	}
}

// NewDeduper returns a Deduper over db, whose tables Migrate created.
func NewDeduper(db *sql.DB, opts ...DeduperOption) (*Deduper, error) {
	if db == nil {
		return nil, errors.New("sqlstore: NewDeduper: nil *sql.DB")
	}
	d := &Deduper{db: db, retention: notify.Retention}
	if err := option.Apply(d, "sqlstore: NewDeduper: nil DeduperOption", opts); err != nil {
		return nil, err
	}
	return d, nil
}

// claimSQL takes the claim: a new row, or the row of a claim or done mark
// that expired, or the caller's own claim (renewed). A row is returned
// only when the claim is the caller's.
const claimSQL = `INSERT INTO ewallet_notify_claims AS c (notify_id, owner, done, expires_at)
VALUES ($1, $2, FALSE, CURRENT_TIMESTAMP + $3 * INTERVAL '1 millisecond')
ON CONFLICT (notify_id) DO UPDATE
	SET owner = EXCLUDED.owner, done = FALSE, expires_at = EXCLUDED.expires_at
	WHERE c.expires_at <= CURRENT_TIMESTAMP OR (NOT c.done AND c.owner = EXCLUDED.owner)
RETURNING notify_id`

// stateSQL tells a refused claim's reason: done, or another owner's claim.
const stateSQL = `SELECT done FROM ewallet_notify_claims WHERE notify_id = $1 AND expires_at > CURRENT_TIMESTAMP`

// doneSQL marks the event done, whoever holds the claim (the work was
// done); a done mark that is still valid keeps its expiry, so that
// redeliveries do not stretch the retention.
const doneSQL = `INSERT INTO ewallet_notify_claims AS c (notify_id, owner, done, expires_at)
VALUES ($1, $2, TRUE, CURRENT_TIMESTAMP + $3 * INTERVAL '1 millisecond')
ON CONFLICT (notify_id) DO UPDATE
	SET owner = EXCLUDED.owner, done = TRUE, expires_at = EXCLUDED.expires_at
	WHERE NOT c.done OR c.expires_at <= CURRENT_TIMESTAMP`

// releaseSQL drops a claim if the owner still holds it: a delivery whose
// lease lapsed must not drop the claim of the one that took the event over.
const releaseSQL = `DELETE FROM ewallet_notify_claims WHERE notify_id = $1 AND owner = $2 AND NOT done`

// purgeClaimsSQL deletes expired claims and done marks.
const purgeClaimsSQL = `DELETE FROM ewallet_notify_claims WHERE expires_at <= CURRENT_TIMESTAMP`

// claimTries bounds Claim's rounds: a refused claim whose row is gone when
// Claim looks at it (released or lapsed in between) is tried again.
const claimTries = 3

// Claim implements notify.Deduper.
func (d *Deduper) Claim(ctx context.Context, notifyID, owner string, lease time.Duration) (bool, error) {
	if err := checkClaim(notifyID, owner, lease); err != nil {
		return false, err
	}
	for range claimTries {
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("sqlstore: claim %s: %w", notifyID, err)
		}
		var id string
		err := d.db.QueryRowContext(ctx, claimSQL, notifyID, owner, lease.Milliseconds()).Scan(&id)
		if err == nil {
			return false, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("sqlstore: claim %s: %w", notifyID, err)
		}
		var done bool
		err = d.db.QueryRowContext(ctx, stateSQL, notifyID).Scan(&done)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return false, fmt.Errorf("sqlstore: claim %s: %w", notifyID, err)
		case done:
			return true, nil
		default:
			return false, notify.ErrInFlight
		}
	}
	// The row keeps changing under us: another delivery is at work.
	return false, notify.ErrInFlight
}

// Release implements notify.Deduper.
func (d *Deduper) Release(ctx context.Context, notifyID, owner string, handled bool) error {
	if notifyID == "" {
		return errors.New("sqlstore: release: notify_id: must not be empty")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlstore: release %s: %w", notifyID, err)
	}
	var err error
	if handled {
		_, err = d.db.ExecContext(ctx, doneSQL, notifyID, owner, d.retention.Milliseconds())
	} else {
		_, err = d.db.ExecContext(ctx, releaseSQL, notifyID, owner)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: release %s: %w", notifyID, err)
	}
	return nil
}

// Purge deletes the claims and done marks that expired, and returns how
// many. Expired rows answer no claim already; Purge only keeps the table
// small. Run it from time to time (hourly, say), from one instance or
// from all.
func (d *Deduper) Purge(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	res, err := d.db.ExecContext(ctx, purgeClaimsSQL)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purge: %w", err)
	}
	return n, nil
}

func checkClaim(notifyID, owner string, lease time.Duration) error {
	switch {
	case notifyID == "":
		return errors.New("sqlstore: claim: notify_id: must not be empty")
	case owner == "":
		return errors.New("sqlstore: claim: owner: must not be empty")
	case lease < time.Millisecond:
		return fmt.Errorf("sqlstore: claim: lease: %v is shorter than a millisecond", lease)
	}
	return nil
}

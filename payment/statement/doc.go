// Package statement downloads the bank's daily statements (对账单), checks
// them, and reconciles them with the merchant's own books.
//
// Every business day (UTC+8) the bank keeps two statements of your channel:
// TRADE, one line per order that ended that day and per successful refund,
// and LEDGER, one line per balance movement of your users' accounts. Get
// them once the day is over (at the bank from 10:00 the next morning; in
// the sandbox as soon as its clock has passed midnight), for any of the
// last 365 days:
//
//	var d statement.Descriptor
//	err := client.Do(ctx, statement.API, statement.Request{Date: yesterday, Type: statement.Trade}, &d)
//	key, err := statement.OpenKey(ctx, merchantKey, d)            // the file's SM4 key
//	get := statement.HTTPGet(http.DefaultClient, statement.FileURL(baseURL, d.FileID))
//	st, err := statement.Download(ctx, get, key, d, statement.WithRawCopy(archive))
//	defer st.Close()
//	report, err := st.Reconcile(myOrdersOf(yesterday))          // your books, sorted by time
//
// A day without activity still has a statement: the header alone, 0
// records. Asking too early, or for a future day, gets the code
// BILL_NOT_READY (a *wallet.APIError): try later (the next hour, say), not
// in a loop.
//
// # What is checked
//
// The descriptor (the signed answer of bill/download) pins the file: its
// size, its SM3, its number of lines and the sum of its amounts. The file
// is encrypted to you in 64 KiB segments, each authenticated with its place
// in the file. Download and NewReader hand out a record only once the
// segment that holds it has opened, and report the statement Complete only
// at the end: after the last segment opened, nothing followed it, and size,
// SM3, line count and amount sum all matched. A statement that fails any
// check is refused with an error naming the check (ErrSegment with the
// segment, ErrTruncated, ErrTrailingData, ErrSize, ErrSM3, ErrRecords,
// ErrAmountSum, or a *CSVError with the line and column); never book from
// one. The CSV is read strictly: exact header, UTF-8 without BOM, "\n"
// line ends, field counts, integers, times on the statement's day, the
// statement's sort order.
//
// Reading streams: memory is a few segments, whatever the file's size, and
// WithRawCopy saves the file while it streams (keep it only if Complete).
// Download survives broken connections: it asks for the rest with an HTTP
// Range request and the reader never notices. The file URL expires 10
// minutes after the descriptor (ErrExpired): ask bill/download again.
//
// # Reconciliation
//
// Reconcile (or Statement.Reconcile, which copies less) pairs each
// statement line with your record of the same
// out_trade_no (out_refund_no for a refund). Give your records sorted by
// time — the bank's finished_at or refunded_at when you have it (from the
// answer, the notification or a query), your own time of the call
// otherwise — and it settles each pair as soon as both halves are in, so
// memory holds only lines still waiting for their partner, never the ones
// that matched. Every difference comes out as one of:
//
//   - MissingInBooks: the bank has it, you do not. The classic is an
//     unknown outcome never resolved: a call that timed out, which you
//     took for failed, but the bank did it. Book it from the line (the
//     money did move), and find why the unknown outcome was not resolved
//     (payment/query by out_trade_no after every timeout).
//   - MissingAtBank: you have it, the bank does not. Either the order did
//     not end that day (still PROCESSING at the bank, or it ended just
//     after midnight: check the next day's statement before acting), or it
//     never reached the bank: query it; if the bank does not know it,
//     correct your books (no money moved).
//   - AmountMismatch: same order, another amount. The bank's amount is the
//     money that moved: correct your books and find the bug that wrote
//     the other amount.
//   - StatusMismatch: same order and amount, another status. Typically
//     PROCESSING in your books and SUCCESS or FAILED at the bank: a
//     notification you missed. Take the bank's status.
//   - TypeMismatch: your number names another movement at the bank
//     (another type, or a refund of another order): two of your records
//     share a number, which the bank forbids; investigate by hand.
//
// The Report's totals add up on each side: the bank's lines (and their
// amount) are Matched + MissingInBooks + the three pair kinds, yours
// Matched + MissingAtBank + the three pair kinds. Orders near midnight may
// land on either day: a difference within a few minutes of midnight that
// the adjacent day's statement explains is not a difference.
//
// # Saving and re-reading
//
// A saved file (WithRawCopy) and its descriptor (which marshals to JSON)
// can be read again with NewReader until you no longer need them; the file
// key is in the descriptor's envelope, so the merchant key opens it again.
package statement

package statement

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MerchantRecord is one line of the merchant's own books for the day: an
// order (keyed by OutTradeNo) or a refund (keyed by OutRefundNo).
type MerchantRecord struct {
	// Time orders your records (Reconcile needs them sorted by it): the
	// bank's finished_at or refunded_at when you have it — from the
	// answer, the notification or a query — else your own time of the
	// call.
	Time time.Time
	Type TradeType
	// OutTradeNo is the order; for a REFUND, the refunded order.
	OutTradeNo string
	// OutRefundNo is the refund (REFUND only).
	OutRefundNo string
	Amount      int64 // fen
	// Status is what your books say: SUCCESS, FAILED, CLOSED, or
	// PROCESSING for an order whose outcome you do not know yet.
	Status Status
}

// DiffKind is the kind of a reconciliation difference.
type DiffKind string

// The differences Reconcile reports. See the package documentation for
// what each means and what to do about it.
const (
	// MissingInBooks: the bank has the line, your books do not.
	MissingInBooks DiffKind = "MISSING_IN_BOOKS"
	// MissingAtBank: your books have the line, the bank's statement does not.
	MissingAtBank DiffKind = "MISSING_AT_BANK"
	// TypeMismatch: the same number is another movement at the bank (another
	// type, or a refund of another order).
	TypeMismatch DiffKind = "TYPE_MISMATCH"
	// AmountMismatch: same movement, other amount.
	AmountMismatch DiffKind = "AMOUNT_MISMATCH"
	// StatusMismatch: same movement and amount, other status.
	StatusMismatch DiffKind = "STATUS_MISMATCH"
)

// Difference is one line that does not reconcile. Bank is nil for
// MissingAtBank, Books for MissingInBooks.
type Difference struct {
	Kind  DiffKind
	Bank  *TradeRecord
	Books *MerchantRecord
}

// Tally counts lines and their amount in fen.
type Tally struct {
	Lines  int64
	Amount int64
}

// PairTally counts pairs of lines (one of the bank's, one of yours) that
// differ, with the amounts of each side.
type PairTally struct {
	Pairs       int64
	BankAmount  int64
	BooksAmount int64
}

// Report is the outcome of a reconciliation. Its totals add up on each
// side (Check): the bank's lines are Matched + MissingInBooks + the three
// pair kinds, your lines Matched + MissingAtBank + the three pair kinds,
// in number and in amount.
type Report struct {
	Bank  Tally // every statement line read
	Books Tally // every record of yours read
	// Matched pairs agree in type, amount and status; Amount is either
	// side's (they are equal).
	Matched        Tally
	MissingInBooks Tally
	MissingAtBank  Tally
	TypeMismatch   PairTally
	AmountMismatch PairTally
	StatusMismatch PairTally
	// Differences lists every difference, unless OnDifference took them:
	// pair differences as found, the unmatched lines at the end sorted by
	// time.
	Differences []Difference
}

// Clean reports whether the day reconciled without a difference.
func (r *Report) Clean() bool {
	return r.MissingInBooks.Lines == 0 && r.MissingAtBank.Lines == 0 &&
		r.TypeMismatch.Pairs == 0 && r.AmountMismatch.Pairs == 0 && r.StatusMismatch.Pairs == 0
}

// Check verifies that the totals add up on both sides, in lines and in
// amount. Reconcile's reports always do; Check is for reports that were
// stored and read back.
func (r *Report) Check() error {
	pairs := r.TypeMismatch.Pairs + r.AmountMismatch.Pairs + r.StatusMismatch.Pairs
	bankAmt := r.TypeMismatch.BankAmount + r.AmountMismatch.BankAmount + r.StatusMismatch.BankAmount
	booksAmt := r.TypeMismatch.BooksAmount + r.AmountMismatch.BooksAmount + r.StatusMismatch.BooksAmount
	switch {
	case r.Bank.Lines != r.Matched.Lines+r.MissingInBooks.Lines+pairs:
		return errors.New("statement: report: the bank's lines do not add up")
	case r.Books.Lines != r.Matched.Lines+r.MissingAtBank.Lines+pairs:
		return errors.New("statement: report: your lines do not add up")
	case r.Bank.Amount != r.Matched.Amount+r.MissingInBooks.Amount+bankAmt:
		return errors.New("statement: report: the bank's amounts do not add up")
	case r.Books.Amount != r.Matched.Amount+r.MissingAtBank.Amount+booksAmt:
		return errors.New("statement: report: your amounts do not add up")
	}
	return nil
}

// Errors of Reconcile's input.
var (
	// ErrOutOfOrder: a record's time is before the previous record's on the
	// same side.
	ErrOutOfOrder = errors.New("statement: records out of order")
	// ErrBadRecord: a merchant record lacks a field it needs.
	ErrBadRecord = errors.New("statement: invalid merchant record")
	// ErrTooManyPending: more lines wait for their other half than
	// MaxPending allows.
	ErrTooManyPending = errors.New("statement: too many lines wait for their other half")
)

// RecordError names the record (from 1, per side) a Reconcile input error
// is about. It matches ErrOutOfOrder or ErrBadRecord.
type RecordError struct {
	Side   string // "bank" or "books"
	Index  int64
	Field  string
	Reason string
	kind   error
}

// Error reads "statement: books record 12: time: is before ...".
func (e *RecordError) Error() string {
	return "statement: " + e.Side + " record " + strconv.FormatInt(e.Index, 10) + ": " + e.Field + ": " + e.Reason
}

// Is matches ErrOutOfOrder or ErrBadRecord.
func (e *RecordError) Is(target error) bool { return target == e.kind }

// ReconcileOption tunes Reconcile.
type ReconcileOption func(*reconcileOptions)

type reconcileOptions struct {
	onDiff     func(Difference) error
	maxPending int
}

// OnDifference hands each difference to f as it is known instead of
// keeping it in Report.Differences, so that a day with many differences
// costs no memory for the list. An error from f stops Reconcile with it.
func OnDifference(f func(Difference) error) ReconcileOption {
	return func(o *reconcileOptions) { o.onDiff = f }
}

// MaxPending bounds the lines that wait for their other half (see
// Reconcile): default 1,000,000, at roughly 400 bytes a waiting line. 0 or
// less is no bound.
func MaxPending(n int) ReconcileOption {
	return func(o *reconcileOptions) { o.maxPending = n }
}

const defaultMaxPending = 1_000_000

// key is what pairs a statement line with a record of the merchant: the
// refund's out_refund_no for a REFUND, the order's out_trade_no otherwise
// (the two numbers are unique per merchant, each in its own kind).
type key struct {
	refund bool
	no     string
}

// Reconcile compares the day's TRADE statement (st.Trades()) with your own
// records of the same day and reports every difference by kind, with totals
// that add up.
//
// Give your records sorted by Time, ascending (ties in any order), where
// Time is the bank's finished_at or refunded_at when you have it: the
// statement is sorted by that time, and both sides are read together in
// time order, so a pair that matches is settled as soon as both halves
// are in, and memory holds only the lines whose other half has not come
// yet. Memory does not grow with the lines that match: with your records
// on the bank's time it holds about one second of lines; on your own times,
// the lines within your clock's distance from the bank's. Lines without a
// partner (differences) are held to the end, when they are reported; at
// most MaxPending lines wait at once (ErrTooManyPending otherwise). A record
// out of order is ErrOutOfOrder, naming it.
//
// Whether a file was complete is the statement's business: an error from
// bank (a broken or refused statement) ends Reconcile with that error, and
// no report.
//
// Statement.Reconcile does the same for a Statement, with less copying.
func Reconcile(bank iter.Seq2[TradeRecord, error], books iter.Seq2[MerchantRecord, error], opts ...ReconcileOption) (*Report, error) {
	return reconcile(bank, books, false, opts)
}

// reconcile is Reconcile; borrowed says that the bank's records are good
// only until the next one, so that what is kept must be copied.
func reconcile(bank iter.Seq2[TradeRecord, error], books iter.Seq2[MerchantRecord, error], borrowed bool, opts []ReconcileOption) (*Report, error) {
	o := reconcileOptions{maxPending: defaultMaxPending}
	for _, f := range opts {
		f(&o)
	}
	rc := &reconciler{o: o, borrowed: borrowed, bank: map[key]TradeRecord{}, books: map[key]MerchantRecord{}}
	next, stop := iter.Pull2(books)
	defer stop()
	var (
		m   MerchantRecord
		mOK bool
	)
	advance := func() error {
		var err error
		m, err, mOK = next()
		if !mOK {
			return nil
		}
		if err != nil {
			return err
		}
		return rc.checkBooks(&m)
	}
	if err := advance(); err != nil {
		return nil, err
	}
	for b, err := range bank {
		if err != nil {
			return nil, err
		}
		if err := rc.checkBank(&b); err != nil {
			return nil, err
		}
		for mOK && m.Time.Before(b.Time) {
			if err := rc.addBooks(m); err != nil {
				return nil, err
			}
			if err := advance(); err != nil {
				return nil, err
			}
		}
		// The common case: nothing waits, and your next record is this
		// line's partner. Pair them without a trip through the maps.
		if mOK && len(rc.bank) == 0 && len(rc.books) == 0 && booksKey(&m) == bankKey(&b) {
			rc.count(&b, &m)
			if err := rc.pair(&b, &m); err != nil {
				return nil, err
			}
			if err := advance(); err != nil {
				return nil, err
			}
			continue
		}
		for mOK && !m.Time.After(b.Time) {
			if err := rc.addBooks(m); err != nil {
				return nil, err
			}
			if err := advance(); err != nil {
				return nil, err
			}
		}
		if err := rc.addBank(b); err != nil {
			return nil, err
		}
	}
	for mOK {
		if err := rc.addBooks(m); err != nil {
			return nil, err
		}
		if err := advance(); err != nil {
			return nil, err
		}
	}
	if err := rc.finish(); err != nil {
		return nil, err
	}
	return &rc.r, nil
}

// reconciler is the state of one Reconcile: the lines waiting for their
// other half, by key.
type reconciler struct {
	o        reconcileOptions
	borrowed bool // the bank's records must be copied to be kept
	r        Report
	bank     map[key]TradeRecord
	books    map[key]MerchantRecord
	bankN    int64
	booksN   int64
	lastBank time.Time
	lastBook time.Time
}

func (rc *reconciler) checkBank(b *TradeRecord) error {
	rc.bankN++
	if b.Time.Before(rc.lastBank) {
		return &RecordError{Side: "bank", Index: rc.bankN, Field: "time", Reason: "is before the previous line's", kind: ErrOutOfOrder}
	}
	rc.lastBank = b.Time
	return nil
}

func (rc *reconciler) checkBooks(m *MerchantRecord) error {
	rc.booksN++
	bad := func(field, reason string) error {
		return &RecordError{Side: "books", Index: rc.booksN, Field: field, Reason: reason, kind: ErrBadRecord}
	}
	switch {
	case m.Time.IsZero():
		return bad("time", "is required")
	case m.OutTradeNo == "":
		return bad("out_trade_no", "is required")
	case m.Type == TradeRefund && m.OutRefundNo == "":
		return bad("out_refund_no", "is required on a REFUND")
	case m.Type != TradeRefund && m.OutRefundNo != "":
		return bad("out_refund_no", "must be empty unless the type is REFUND")
	}
	switch m.Type {
	case TradeRecharge, TradeWithdraw, TradePay, TradeTransfer, TradeRefund:
	default:
		return bad("type", "must be RECHARGE, WITHDRAW, PAY, TRANSFER or REFUND")
	}
	switch m.Status {
	case StatusSuccess, StatusFailed, StatusClosed, StatusProcessing:
	default:
		return bad("status", "must be SUCCESS, FAILED, CLOSED or PROCESSING")
	}
	if m.Time.Before(rc.lastBook) {
		return &RecordError{Side: "books", Index: rc.booksN, Field: "time",
			Reason: "is before the previous record's: give your records sorted by time", kind: ErrOutOfOrder}
	}
	rc.lastBook = m.Time
	return nil
}

func bankKey(b *TradeRecord) key {
	if b.Type == TradeRefund {
		return key{true, b.OutRefundNo}
	}
	return key{false, b.OutTradeNo}
}

func booksKey(m *MerchantRecord) key {
	if m.Type == TradeRefund {
		return key{true, m.OutRefundNo}
	}
	return key{false, m.OutTradeNo}
}

// count adds a statement line (b) and a record of yours (m) to the sides'
// totals; either may be nil.
func (rc *reconciler) count(b *TradeRecord, m *MerchantRecord) {
	if b != nil {
		rc.r.Bank.Lines++
		rc.r.Bank.Amount += b.Amount
	}
	if m != nil {
		rc.r.Books.Lines++
		rc.r.Books.Amount += m.Amount
	}
}

func (rc *reconciler) addBank(b TradeRecord) error {
	rc.count(&b, nil)
	k := bankKey(&b)
	if m, ok := rc.books[k]; ok {
		delete(rc.books, k)
		return rc.pair(&b, &m)
	}
	if _, dup := rc.bank[k]; dup {
		// The same number twice at the bank: the first may still find its
		// partner, this one cannot.
		return rc.unmatchedBank(&b)
	}
	b = rc.keep(b)
	rc.bank[bankKey(&b)] = b
	return rc.bound()
}

// keep returns a record the reconciler may hold on to: a copy of a
// borrowed one.
func (rc *reconciler) keep(b TradeRecord) TradeRecord {
	if rc.borrowed {
		b.OutTradeNo = strings.Clone(b.OutTradeNo)
		b.TradeNo = strings.Clone(b.TradeNo)
		b.OutRefundNo = strings.Clone(b.OutRefundNo)
		b.RefundNo = strings.Clone(b.RefundNo)
		b.AccountNo = strings.Clone(b.AccountNo)
		b.PayeeAccountNo = strings.Clone(b.PayeeAccountNo)
	}
	return b
}

func (rc *reconciler) addBooks(m MerchantRecord) error {
	rc.count(nil, &m)
	k := booksKey(&m)
	if b, ok := rc.bank[k]; ok {
		delete(rc.bank, k)
		return rc.pair(&b, &m)
	}
	if _, dup := rc.books[k]; dup {
		return rc.unmatchedBooks(&m)
	}
	rc.books[k] = m
	return rc.bound()
}

func (rc *reconciler) bound() error {
	if rc.o.maxPending > 0 && len(rc.bank)+len(rc.books) > rc.o.maxPending {
		return fmt.Errorf("%w: more than %d (give your records sorted by the bank's time, or raise MaxPending)",
			ErrTooManyPending, rc.o.maxPending)
	}
	return nil
}

// pair settles a statement line and a record with the same key.
func (rc *reconciler) pair(b *TradeRecord, m *MerchantRecord) error {
	var t *PairTally
	var kind DiffKind
	switch {
	case b.Type != m.Type || (b.Type == TradeRefund && b.OutTradeNo != m.OutTradeNo):
		t, kind = &rc.r.TypeMismatch, TypeMismatch
	case b.Amount != m.Amount:
		t, kind = &rc.r.AmountMismatch, AmountMismatch
	case b.Status != m.Status:
		t, kind = &rc.r.StatusMismatch, StatusMismatch
	default:
		rc.r.Matched.Lines++
		rc.r.Matched.Amount += b.Amount
		return nil
	}
	t.Pairs++
	t.BankAmount += b.Amount
	t.BooksAmount += m.Amount
	bc, mc := rc.keep(*b), *m
	return rc.emit(Difference{Kind: kind, Bank: &bc, Books: &mc})
}

func (rc *reconciler) unmatchedBank(b *TradeRecord) error {
	rc.r.MissingInBooks.Lines++
	rc.r.MissingInBooks.Amount += b.Amount
	bc := rc.keep(*b)
	return rc.emit(Difference{Kind: MissingInBooks, Bank: &bc})
}

func (rc *reconciler) unmatchedBooks(m *MerchantRecord) error {
	rc.r.MissingAtBank.Lines++
	rc.r.MissingAtBank.Amount += m.Amount
	mc := *m
	return rc.emit(Difference{Kind: MissingAtBank, Books: &mc})
}

func (rc *reconciler) emit(d Difference) error {
	if rc.o.onDiff != nil {
		return rc.o.onDiff(d)
	}
	rc.r.Differences = append(rc.r.Differences, d)
	return nil
}

// finish reports what never found its other half, in time order.
func (rc *reconciler) finish() error {
	rc.borrowed = false // what waits was copied when it began to wait
	bank := sortedValues(rc.bank, func(a, b TradeRecord) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.TradeNo, b.TradeNo), cmp.Compare(a.RefundNo, b.RefundNo))
	})
	for i := range bank {
		if err := rc.unmatchedBank(&bank[i]); err != nil {
			return err
		}
	}
	books := sortedValues(rc.books, func(a, b MerchantRecord) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.OutTradeNo, b.OutTradeNo), cmp.Compare(a.OutRefundNo, b.OutRefundNo))
	})
	for i := range books {
		if err := rc.unmatchedBooks(&books[i]); err != nil {
			return err
		}
	}
	clear(rc.bank)
	clear(rc.books)
	return nil
}

// sortedValues is m's values, sorted by cmp.
func sortedValues[K comparable, V any](m map[K]V, cmp func(a, b V) int) []V {
	out := slices.AppendSeq(make([]V, 0, len(m)), maps.Values(m))
	slices.SortFunc(out, cmp)
	return out
}

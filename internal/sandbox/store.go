package sandbox

import (
	"cmp"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Account statuses.
const (
	statusNormal = "NORMAL"
	statusFrozen = "FROZEN"
	statusClosed = "CLOSED"
)

// merchantRec is a registered app: the channel it belongs to (merchant_id),
// the key its requests verify under and the key its answers are encrypted to.
type merchantRec struct {
	AppID      string
	MerchantID string
	PublicKey  *sign.PublicKey
	NotifyURL  string
}

// account is one channel Class II e-account. Records are never modified in
// place: a transaction edits a copy and installs it when the change is saved,
// so a failed save leaves memory as it was.
type account struct {
	No         string `json:"no"`
	MerchantID string `json:"merchant_id"`
	AppID      string `json:"app_id"`
	UserID     string `json:"user_id"`
	Name       string `json:"name"`
	IDNumber   string `json:"id_number"`
	Mobile     string `json:"mobile"`
	CardNo     string `json:"card_no"`
	BankName   string `json:"bank_name"`
	Occupation string `json:"occupation,omitempty"`
	Address    string `json:"address,omitempty"`
	Status     string `json:"status"`
	Balance    int64  `json:"balance"`
	// The PIN is kept as SM3(salt ‖ PIN), never in clear.
	PINSalt    string    `json:"pin_salt"`
	PINHash    string    `json:"pin_hash"`
	PINFailDay string    `json:"pin_fail_day,omitempty"`
	PINFails   int       `json:"pin_fails,omitempty"`
	OpenedAt   time.Time `json:"opened_at"`
	ClosedAt   time.Time `json:"closed_at,omitzero"`
	Turnover   turnover  `json:"turnover"`
}

// turnover is what counts against the limits of section 8, for the business
// day and year named by Day and Year; a stale key means nothing used yet.
type turnover struct {
	Day     string `json:"day,omitempty"`
	DayIn   int64  `json:"day_in,omitempty"`
	DayOut  int64  `json:"day_out,omitempty"`
	Year    string `json:"year,omitempty"`
	YearIn  int64  `json:"year_in,omitempty"`
	YearOut int64  `json:"year_out,omitempty"`
}

// order is a money call that succeeded (a failed call records nothing).
type order struct {
	MerchantID     string    `json:"merchant_id"`
	AppID          string    `json:"app_id"`
	OutTradeNo     string    `json:"out_trade_no"`
	TradeNo        string    `json:"trade_no"`
	Type           string    `json:"type"`
	AccountNo      string    `json:"account_no"`
	Amount         int64     `json:"amount"`
	RefundedAmount int64     `json:"refunded_amount"`
	Status         string    `json:"status"`
	Subject        string    `json:"subject,omitempty"`
	PayeeAccountNo string    `json:"payee_account_no,omitempty"`
	PayeeName      string    `json:"payee_name,omitempty"`
	Remark         string    `json:"remark,omitempty"`
	NotifyURL      string    `json:"notify_url,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	FinishedAt     time.Time `json:"finished_at"`
}

// refund is one successful refund of a PAY order.
type refund struct {
	MerchantID  string    `json:"merchant_id"`
	AppID       string    `json:"app_id"`
	OutRefundNo string    `json:"out_refund_no"`
	RefundNo    string    `json:"refund_no"`
	OutTradeNo  string    `json:"out_trade_no"`
	Amount      int64     `json:"amount"`
	Reason      string    `json:"reason,omitempty"`
	Status      string    `json:"status"`
	RefundedAt  time.Time `json:"refunded_at"`
}

// meta holds the counters behind bank numbers and the business clock.
type meta struct {
	AccountSeq  int64 `json:"account_seq"`
	TradeSeq    int64 `json:"trade_seq"`
	RefundSeq   int64 `json:"refund_seq"`
	ClockOffset int64 `json:"clock_offset_ns"`
}

// orderKey scopes out_trade_no and out_refund_no to a merchant channel.
type orderKey struct{ merchantID, no string }

// personKey finds the open account of a person in a channel.
type personKey struct{ merchantID, idNumber string }

// store is all the bank's state behind one lock. One lock is enough for a
// sandbox and makes the money rules easy to trust: a transaction sees and
// changes everything atomically, so concurrent calls cannot double-spend or
// slip past a limit. The expensive work (signatures, decryption, image
// decoding) happens outside it.
type store struct {
	file *stateFile // nil: memory only
	log  *slog.Logger
	now  func() time.Time // real clock; business time adds offset

	mu       sync.Mutex
	accounts map[string]*account
	people   map[personKey]string
	orders   map[orderKey]*order
	refunds  map[orderKey]*refund
	ledgers  map[string][]LedgerEntry
	meta     meta
	eph      ephemeral

	// offset mirrors meta.ClockOffset so that reading business time needs
	// no lock.
	offset atomic.Int64

	// Merchants have their own lock: every request reads them, and must not
	// wait behind a transaction that is saving to disk.
	merchMu   sync.RWMutex
	merchants map[string]*merchantRec
	savedApps map[string]bool // registered or loaded: kept in the state file
}

func newStore(now func() time.Time, log *slog.Logger) *store {
	return &store{
		log:       log,
		now:       now,
		accounts:  map[string]*account{},
		people:    map[personKey]string{},
		orders:    map[orderKey]*order{},
		refunds:   map[orderKey]*refund{},
		ledgers:   map[string][]LedgerEntry{},
		eph:       newEphemeral(),
		merchants: map[string]*merchantRec{},
		savedApps: map[string]bool{},
	}
}

// businessNow is the sandbox clock: the real clock moved by /sandbox/clock.
func (s *store) businessNow() time.Time {
	return s.now().Add(time.Duration(s.offset.Load()))
}

func (s *store) merchant(appID string) *merchantRec {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	return s.merchants[appID]
}

// merchantList is every registered app, by app id.
func (s *store) merchantList() []*merchantRec {
	s.merchMu.RLock()
	defer s.merchMu.RUnlock()
	out := make([]*merchantRec, 0, len(s.merchants))
	for _, m := range s.merchants {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *merchantRec) int { return cmp.Compare(a.AppID, b.AppID) })
	return out
}

// putMerchant registers or replaces an app and saves it; it returns the
// record it replaced, nil for a new app.
func (s *store) putMerchant(m *merchantRec) (*merchantRec, error) {
	s.merchMu.Lock()
	defer s.merchMu.Unlock()
	if s.file != nil {
		// The file is shared with the transactions, whose lock orders
		// the appends (lock order: merchMu, then mu).
		s.mu.Lock()
		err := s.file.append(&stateLine{Merchants: []merchantFile{merchantRecord(m)}})
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	prev := s.merchants[m.AppID]
	s.merchants[m.AppID] = m
	s.savedApps[m.AppID] = true
	return prev, nil
}

// update runs fn as one transaction: everything fn staged is saved (when a
// state file is open) and then installed in memory, whether fn succeeded or
// answered a business error, because some failures must be remembered (a
// wrong PIN counts). Business operations stage only what their outcome
// allows. The events of a successful fn are returned for delivery outside
// the lock.
func (s *store) update(fn func(tx *txn) *apiError) ([]event, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &txn{s: s, now: s.businessNow()}
	aerr := fn(tx)
	if err := tx.commit(); err != nil {
		s.log.Error("sandbox: state could not be saved", "err", err)
		return nil, fail(codeSystemError, "the bank could not save its state: retry with the same msg_id")
	}
	return tx.events, aerr
}

// txn stages the changes of one business operation.
type txn struct {
	s        *store
	now      time.Time // business time, fixed for the whole operation
	accounts map[string]*account
	orders   map[orderKey]*order
	refunds  map[orderKey]*refund
	ledger   []ledgerRow
	meta     *meta
	after    []func()
	events   []event
}

type ledgerRow struct {
	accountNo string
	entry     LedgerEntry
}

// account returns the current record (staged or stored) for reading only.
func (tx *txn) account(no string) *account {
	if a, ok := tx.accounts[no]; ok {
		return a
	}
	return tx.s.accounts[no]
}

// accountIn returns the account only if it belongs to the merchant's
// channel: another channel's account is as invisible as a missing one.
func (tx *txn) accountIn(merchantID, no string) *account {
	a := tx.account(no)
	if a == nil || a.MerchantID != merchantID {
		return nil
	}
	return a
}

// usableAccount is the merchant's account that may be changed: found in
// its channel (ACCOUNT_NOT_FOUND) and neither frozen nor closed.
func (tx *txn) usableAccount(merchantID, no string) (*account, *apiError) {
	a := tx.accountIn(merchantID, no)
	if a == nil {
		return nil, failCode(codeAccountNotFound)
	}
	if err := statusErr(a); err != nil {
		return nil, err
	}
	return a, nil
}

// edit returns a staged copy of an account to change.
func (tx *txn) edit(a *account) *account {
	if tx.accounts == nil {
		tx.accounts = map[string]*account{}
	}
	if s, ok := tx.accounts[a.No]; ok {
		return s
	}
	c := *a
	tx.accounts[a.No] = &c
	return &c
}

// create stages a new account.
func (tx *txn) create(a *account) {
	if tx.accounts == nil {
		tx.accounts = map[string]*account{}
	}
	tx.accounts[a.No] = a
}

func (tx *txn) order(merchantID, outTradeNo string) *order {
	k := orderKey{merchantID, outTradeNo}
	if o, ok := tx.orders[k]; ok {
		return o
	}
	return tx.s.orders[k]
}

// putOrder stages a new or changed order (pass a copy to change one).
func (tx *txn) putOrder(o *order) {
	if tx.orders == nil {
		tx.orders = map[orderKey]*order{}
	}
	tx.orders[orderKey{o.MerchantID, o.OutTradeNo}] = o
}

func (tx *txn) refund(merchantID, outRefundNo string) *refund {
	k := orderKey{merchantID, outRefundNo}
	if r, ok := tx.refunds[k]; ok {
		return r
	}
	return tx.s.refunds[k]
}

func (tx *txn) putRefund(r *refund) {
	if tx.refunds == nil {
		tx.refunds = map[orderKey]*refund{}
	}
	tx.refunds[orderKey{r.MerchantID, r.OutRefundNo}] = r
}

// post records a balance change on the ledger; a is the staged account
// after the change.
func (tx *txn) post(a *account, typ string, amount int64, outTradeNo, outRefundNo string) {
	tx.ledger = append(tx.ledger, ledgerRow{a.No, LedgerEntry{
		Time: tx.now, Type: typ, Amount: amount, BalanceAfter: a.Balance,
		OutTradeNo: outTradeNo, OutRefundNo: outRefundNo,
	}})
}

func (tx *txn) stagedMeta() *meta {
	if tx.meta == nil {
		m := tx.s.meta
		tx.meta = &m
	}
	return tx.meta
}

// onCommit runs f once the transaction is saved; it is for the memory-only
// state (SMS serials, verify tokens) that is used up by a success.
func (tx *txn) onCommit(f func()) { tx.after = append(tx.after, f) }

// notify queues a notification to send once the transaction is saved.
func (tx *txn) notify(ev event) { tx.events = append(tx.events, ev) }

func (tx *txn) dirty() bool {
	return len(tx.accounts) > 0 || len(tx.orders) > 0 || len(tx.refunds) > 0 || len(tx.ledger) > 0 || tx.meta != nil
}

// commit saves the staged records, then installs them. Nothing is installed
// when the save fails, so memory and file never disagree.
func (tx *txn) commit() error {
	s := tx.s
	if s.file != nil && tx.dirty() {
		if err := s.file.append(tx.line()); err != nil {
			return err
		}
	}
	for no, a := range tx.accounts {
		s.accounts[no] = a
		s.index(a)
	}
	maps.Copy(s.orders, tx.orders)
	maps.Copy(s.refunds, tx.refunds)
	for _, r := range tx.ledger {
		s.ledgers[r.accountNo] = append(s.ledgers[r.accountNo], r.entry)
	}
	if tx.meta != nil {
		s.meta = *tx.meta
		s.offset.Store(s.meta.ClockOffset)
	}
	for _, f := range tx.after {
		f()
	}
	return nil
}

// index keeps the person → open account map in step with an account's
// status: a closed account no longer stops its holder from opening again.
func (s *store) index(a *account) {
	k := personKey{a.MerchantID, a.IDNumber}
	if a.Status == statusClosed {
		if s.people[k] == a.No {
			delete(s.people, k)
		}
		return
	}
	s.people[k] = a.No
}

package main

import (
	"slices"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The app's own states of an order, before or beside the bank's
// (wallet.StatusSuccess...): a real app keeps them in its database.
const (
	// stCreated: recorded, and not yet known to the bank (the page or the
	// pad is open, or a PIN was refused and the user may try again).
	stCreated = "CREATED"
	// stResolving: a call with this order's number had an unknown outcome;
	// payment.Service.Resolve is settling it.
	stResolving = "RESOLVING"
	// stCancelled: the user left the bank's page and the bank has no order
	// under the number (a query said so).
	stCancelled = "CANCELLED"
	// stRefused: the bank refused the call (not enough money, a locked
	// PIN...), and the order ends here.
	stRefused = "REFUSED"
)

// How an order was paid, or where it came from.
const (
	viaBankPage   = "银行页面"
	viaPINPad     = "密码键盘"
	viaBankWallet = "银行钱包页" // made on the bank's wallet page: learnt from its notification
	viaSeed       = "演示数据"
)

// user is a test user of the app. There is no real sign-in: a user is
// picked from the list. The person's data is personal (it prints masked);
// the app sends it to the bank only encrypted (wallet/query, the open
// page's prefill).
type user struct {
	ID     string
	Person wallettest.TestPerson
}

// order is the app's record of one money movement, made before the bank
// hears of it.
type order struct {
	OutTradeNo     string
	Type           wallet.OrderType
	UserID         string
	AccountNo      string
	PayeeAccountNo string // TRANSFER
	PayeeUserID    string // TRANSFER
	Subject        string // PAY
	Remark         string // TRANSFER
	Amount         int64  // fen; 0 until the bank says, when the user types it on the bank's page
	Via            string
	Created        time.Time // the app's clock

	Status   string // stCreated... or the bank's wallet.OrderStatus
	Source   string // how the status was learnt
	Note     string // the last thing worth telling (a refused PIN...)
	TradeNo  string
	Finished time.Time // the bank's business time of the end state
	Refunded int64
	Notified time.Time // when the bank's notification arrived (the app's clock)
	Attempts []attempt // the app's own calls with this number
}

// attempt is one money call the app made: its msg_id is recorded before
// the call, so that an unknown outcome is settled under it.
type attempt struct {
	MsgID   string
	At      time.Time
	Outcome string // "" while in flight, then SUCCESS, the bank's code, or OUTCOME_UNKNOWN
}

// refund is the app's record of one refund, made before the call.
type refund struct {
	OutRefundNo string
	OutTradeNo  string
	MsgID       string
	Amount      int64
	Reason      string
	Created     time.Time
	Status      string // stCreated, stResolving, SUCCESS, stRefused
	Note        string
	RefundNo    string
	RefundedAt  time.Time // business time
	Notified    time.Time
}

// notice is one notification the app received and handled.
type notice struct {
	At     time.Time
	ID     string
	Type   notify.Type
	Ref    string // the order, refund or account it is about
	Amount int64
	Status string
	Known  bool // it matched a record the app had made
}

// books is the app's memory: users, orders, refunds, the notifications it
// received, and which account is whose. Safe for concurrent use; readers
// get copies.
type books struct {
	mu       sync.Mutex
	users    []*user
	orders   map[string]*order
	seq      []string // order numbers, oldest first
	refunds  map[string]*refund
	rseq     []string
	notices  []notice
	accounts map[string]string // account_no -> user id, as the bank said
}

func newBooks(users []*user) *books {
	return &books{users: users, orders: map[string]*order{}, refunds: map[string]*refund{}, accounts: map[string]string{}}
}

func (b *books) user(id string) (*user, bool) {
	for _, u := range b.users {
		if u.ID == id {
			return u, true
		}
	}
	return nil, false
}

// setAccount records whose account a number is, as the bank said.
func (b *books) setAccount(accountNo, userID string) {
	if accountNo == "" || userID == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts[accountNo] = userID
}

func (b *books) accountUser(accountNo string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.accounts[accountNo]
}

// add records a new order under a fresh number, before the bank hears
// of it, and returns a copy.
func (b *books) add(o order) order {
	o.OutTradeNo = payment.NewOutTradeNo()
	o.Created = time.Now()
	o.Status = stCreated
	b.mu.Lock()
	defer b.mu.Unlock()
	b.orders[o.OutTradeNo] = &o
	b.seq = append(b.seq, o.OutTradeNo)
	return o.copy()
}

func (o *order) copy() order {
	c := *o
	c.Attempts = slices.Clone(o.Attempts)
	return c
}

// order returns a copy of an order.
func (b *books) order(no string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[no]
	if !ok {
		return order{}, false
	}
	return o.copy(), true
}

// list returns copies of the orders a keep accepts, newest first.
func (b *books) list(keep func(*order) bool) []order {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []order
	for i := len(b.seq) - 1; i >= 0; i-- {
		if o := b.orders[b.seq[i]]; keep == nil || keep(o) {
			out = append(out, o.copy())
		}
	}
	return out
}

// begin records a call about to be made with an order's number, under
// msgID. It refuses (false) while another call with the number is in
// flight or being resolved, or once the order has ended, so that a
// double-tapped pad does not pay twice.
func (b *books) begin(no, msgID string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[no]
	if !ok || o.Status != stCreated {
		return order{}, false
	}
	for _, a := range o.Attempts {
		if a.Outcome == "" {
			return order{}, false
		}
	}
	o.Attempts = append(o.Attempts, attempt{MsgID: msgID, At: time.Now()})
	return o.copy(), true
}

// outcome records how the call under msgID ended, and the order's new
// state: the bank's order when it made one (o non-nil), else the app's
// state st with a note.
func (b *books) outcome(no, msgID, code string, o *wallet.Order, st, source, note string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, ok := b.orders[no]
	if !ok {
		return order{}, false
	}
	for i := range rec.Attempts {
		if rec.Attempts[i].MsgID == msgID {
			rec.Attempts[i].Outcome = code
		}
	}
	if o != nil {
		rec.apply(o, source)
	} else if st != "" && !rec.final() {
		rec.Status, rec.Source = st, source
	}
	if note != "" {
		rec.Note = note
	}
	return rec.copy(), true
}

// final reports whether the bank has said how the order ended.
func (o *order) final() bool {
	switch wallet.OrderStatus(o.Status) {
	case wallet.StatusSuccess, wallet.StatusFailed, wallet.StatusClosed:
		return true
	}
	return false
}

// apply takes the bank's order (from an answer, a query or a
// notification). A SUCCESS is never taken back: a FAILED notification of
// the bank's pay page records no order, and its number may be paid later.
func (o *order) apply(bank *wallet.Order, source string) {
	if wallet.OrderStatus(o.Status) == wallet.StatusSuccess && bank.Status != wallet.StatusSuccess {
		return
	}
	o.Status, o.Source = string(bank.Status), source
	if bank.TradeNo != "" {
		o.TradeNo = bank.TradeNo
	}
	if o.Amount == 0 {
		o.Amount = bank.Amount // typed on the bank's page
	}
	if !bank.FinishedAt.IsZero() {
		o.Finished = bank.FinishedAt
	}
	o.Refunded = max(o.Refunded, bank.RefundedAmount)
}

// confirm records what a query of the bank said of an order: its order,
// or (bank nil) that it has none, which after a page the user left means
// the order was cancelled.
func (b *books) confirm(no string, bank *wallet.Order, source string) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, ok := b.orders[no]
	if !ok {
		return order{}, false
	}
	if bank != nil {
		rec.apply(bank, source)
	} else if rec.Status == stCreated {
		rec.Status, rec.Source = stCancelled, source
	}
	return rec.copy(), true
}

// orderNotified records an order notification. An order the app did not
// make (a recharge or withdrawal made on the bank's own wallet page) is
// recorded now, for its user when the account is known.
func (b *books) orderNotified(e *notify.Event, o *wallet.Order) (order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, known := b.orders[o.OutTradeNo]
	if !known {
		rec = &order{OutTradeNo: o.OutTradeNo, Type: o.Type, UserID: b.accounts[o.AccountNo], AccountNo: o.AccountNo,
			PayeeAccountNo: o.PayeeAccountNo, Subject: o.Subject, Via: viaBankWallet, Created: time.Now(), Status: stCreated}
		b.orders[o.OutTradeNo] = rec
		b.seq = append(b.seq, o.OutTradeNo)
	}
	rec.apply(o, "通知")
	rec.Notified = time.Now()
	b.notices = append(b.notices, notice{At: time.Now(), ID: e.ID, Type: e.Type, Ref: o.OutTradeNo, Amount: o.Amount, Status: string(o.Status), Known: known})
	return rec.copy(), known
}

// addRefund records a refund about to be asked for, under a fresh number
// and msg_id, if the order is a paid PAY with at least amount left to
// refund (counting refunds still unsettled).
func (b *books) addRefund(no string, amount int64, reason string) (refund, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.orders[no]
	switch {
	case !ok:
		return refund{}, "没有这个订单"
	case o.Type != wallet.OrderPay || wallet.OrderStatus(o.Status) != wallet.StatusSuccess:
		return refund{}, "只有支付成功的消费订单可以退款"
	case amount <= 0:
		return refund{}, "退款金额须大于 0"
	}
	left := o.Amount - o.Refunded
	for _, r := range b.refunds {
		if r.OutTradeNo == no && (r.Status == stCreated || r.Status == stResolving) {
			left -= r.Amount
		}
	}
	if amount > left {
		return refund{}, "退款金额超过可退金额 ¥" + yuan(left)
	}
	r := &refund{OutRefundNo: payment.NewOutRefundNo(), OutTradeNo: no, MsgID: wallet.NewMsgID(), Amount: amount,
		Reason: reason, Created: time.Now(), Status: stCreated}
	b.refunds[r.OutRefundNo] = r
	b.rseq = append(b.rseq, r.OutRefundNo)
	return *r, ""
}

// refundOutcome records how a refund call ended: the bank's refund, or the
// app's state with a note.
func (b *books) refundOutcome(no string, bank *wallet.Refund, st, note string) (refund, order) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.refunds[no]
	if bank != nil {
		r.Status, r.RefundNo, r.RefundedAt = string(bank.Status), bank.RefundNo, bank.RefundedAt
	} else if r.Status != string(wallet.StatusSuccess) {
		r.Status = st
	}
	if note != "" {
		r.Note = note
	}
	o := b.orders[r.OutTradeNo]
	o.Refunded = max(o.Refunded, b.refundedLocked(r.OutTradeNo))
	return *r, o.copy()
}

// refundedLocked is the sum of an order's refunds the bank made.
func (b *books) refundedLocked(no string) int64 {
	var sum int64
	for _, r := range b.refunds {
		if r.OutTradeNo == no && r.Status == string(wallet.StatusSuccess) {
			sum += r.Amount
		}
	}
	return sum
}

// refundNotified records a REFUND_SUCCEEDED notification.
func (b *books) refundNotified(e *notify.Event, r *wallet.Refund) (refund, order, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	rec, known := b.refunds[r.OutRefundNo]
	b.notices = append(b.notices, notice{At: time.Now(), ID: e.ID, Type: e.Type, Ref: r.OutRefundNo, Amount: r.Amount, Status: string(r.Status), Known: known})
	if !known {
		return refund{}, order{}, false
	}
	rec.Status, rec.RefundNo, rec.RefundedAt, rec.Notified = string(r.Status), r.RefundNo, r.RefundedAt, time.Now()
	o := b.orders[rec.OutTradeNo]
	o.Refunded = max(o.Refunded, b.refundedLocked(rec.OutTradeNo))
	return *rec, o.copy(), true
}

// accountNotified records an ACCOUNT_* notification.
func (b *books) accountNotified(e *notify.Event, a *wallet.Account) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if a.UserID != "" {
		b.accounts[a.AccountNo] = a.UserID
	}
	_, known := b.accounts[a.AccountNo]
	b.notices = append(b.notices, notice{At: time.Now(), ID: e.ID, Type: e.Type, Ref: a.AccountNo, Status: string(a.Status), Known: known})
}

// otherNotified records a notification of a type this app does not know.
func (b *books) otherNotified(e *notify.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.notices = append(b.notices, notice{At: time.Now(), ID: e.ID, Type: e.Type})
}

// refundsOf returns copies of the refunds (of one order, or all when no is
// ""), newest first.
func (b *books) refundsOf(no string) []refund {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []refund
	for i := len(b.rseq) - 1; i >= 0; i-- {
		if r := b.refunds[b.rseq[i]]; no == "" || r.OutTradeNo == no {
			out = append(out, *r)
		}
	}
	return out
}

// noticesNewestFirst returns the notifications received, newest first.
func (b *books) noticesNewestFirst() []notice {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.notices)
	slices.Reverse(out)
	return out
}

package sandbox

import (
	"cmp"
	"container/heap"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/envelope"
	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// Statements (docs/protocol.md, "Statements"): bill/download answers a
// signed descriptor of a day's TRADE or LEDGER statement, made from the
// bank's own books, and GET {base}/bills/{file_id} serves the file.

const (
	codeBillNotReady = "BILL_NOT_READY"

	billTrade  = "TRADE"
	billLedger = "LEDGER"

	// billMaxAge is how far back a statement can be asked for.
	billMaxAge = 365
	// billTTL is how long a file can be downloaded after its descriptor,
	// on the real clock (like the envelope windows, so that moving the
	// sandbox clock forward to end a day does not expire the file).
	billTTL = 10 * time.Minute

	billTradeHeader  = "time,type,out_trade_no,trade_no,out_refund_no,refund_no,account_no,payee_account_no,amount,status"
	billLedgerHeader = "time,account_no,type,amount,balance_after,out_trade_no,out_refund_no"
)

// billArgs is bill/download.
type billArgs struct {
	BillDate string `json:"bill_date"`
	BillType string `json:"bill_type"`
}

// billView is the descriptor.
type billView struct {
	FileID     string `json:"file_id"`
	BillDate   string `json:"bill_date"`
	BillType   string `json:"bill_type"`
	Records    int64  `json:"records"`
	AmountSum  int64  `json:"amount_sum"`
	Size       int64  `json:"size"`
	SM3        string `json:"sm3"`
	EncryptKey string `json:"encrypt_key"`
	ExpiresAt  string `json:"expires_at"`
}

// billDownload is bill/download: the statement of a business day that has
// ended on the sandbox clock, of the caller's channel only. Order of
// checks: bill_date format → bill_type → more than 365 days back
// (PARAM_INVALID) → not ended yet (BILL_NOT_READY).
func (b *Bank) billDownload(who caller, a billArgs) (billView, *apiError) {
	day, err := parseBillDate(a.BillDate)
	if err != nil {
		return billView{}, err
	}
	if a.BillType != billTrade && a.BillType != billLedger {
		return billView{}, paramInvalid("bill_type", "must be TRADE or LEDGER")
	}
	today, _ := parseBillDate(dayKey(b.BusinessNow()))
	switch {
	case day.Before(today.AddDate(0, 0, -billMaxAge)):
		return billView{}, paramInvalid("bill_date", "is more than 365 days back")
	case !day.Before(today):
		return billView{}, fail(codeBillNotReady, "the statement of that day is not ready: a day's statement exists once the day has ended (sandbox clock); try again later")
	}
	m := b.st.merchant(who.AppID)
	if m == nil {
		return billView{}, failCode(codeAppInvalid)
	}

	var key [envelope.KeySize]byte
	var prefix [billPrefixSize]byte
	var id [16]byte
	_, _ = rand.Read(key[:]) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(prefix[:])
	_, _ = rand.Read(id[:])
	fileID := hex.EncodeToString(id[:])
	ek, kerr := m.PublicKey.Encrypt(key[:])
	if kerr != nil {
		b.log.Error("sandbox: statement key envelope", "err", kerr)
		return billView{}, failCode(codeSystemError)
	}

	f, ferr := b.bills.create()
	if ferr != nil {
		b.log.Error("sandbox: statement file", "err", ferr)
		return billView{}, failCode(codeSystemError)
	}
	w, werr := newBillWriter(f, key[:], fileID, prefix[:], map[string]string{billTrade: billTradeHeader, billLedger: billLedgerHeader}[a.BillType])
	if werr == nil {
		if a.BillType == billTrade {
			werr = writeTrade(w, b.st.tradeRows(who.MerchantID, day))
		} else {
			werr = writeLedger(w, b.st.ledgerRows(who.MerchantID, day))
		}
	}
	if werr == nil {
		werr = w.close()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		b.log.Error("sandbox: statement file", "err", werr)
		return billView{}, failCode(codeSystemError)
	}
	expires := b.now().Add(billTTL)
	b.bills.put(fileID, &billFile{path: f.Name(), size: w.sealer.n, expires: expires}, b.now())
	b.log.Info("sandbox: statement", "merchant_id", who.MerchantID, "bill_date", a.BillDate,
		"bill_type", a.BillType, "records", w.records, "bytes", w.sealer.n)
	return billView{
		FileID: fileID, BillDate: a.BillDate, BillType: a.BillType, Records: w.records, AmountSum: w.sum,
		Size: w.sealer.n, SM3: w.sealer.sum(), EncryptKey: base64.StdEncoding.EncodeToString(ek),
		ExpiresAt: formatTime(expires),
	}, nil
}

// parseBillDate reads yyyy-MM-dd strictly, as 00:00 UTC+8 of that day.
func parseBillDate(s string) (time.Time, *apiError) {
	if s == "" {
		return time.Time{}, paramInvalid("bill_date", "is required")
	}
	t, err := time.ParseInLocation("2006-01-02", s, wire.Shanghai)
	if err != nil || t.Format("2006-01-02") != s {
		return time.Time{}, paramInvalid("bill_date", "must be yyyy-MM-dd")
	}
	return t, nil
}

// --- TRADE -------------------------------------------------------------

// tradeRow is one TRADE line: an order that ended that day (r nil), or a
// successful refund (o its order). Orders and refunds are never changed in
// place (a transaction installs new copies), so the pointers stay good
// after the store's lock is released.
type tradeRow struct {
	sec int64 // Unix second of the line's time
	o   *order
	r   *refund
}

func (t tradeRow) refundNo() string {
	if t.r == nil {
		return ""
	}
	return t.r.RefundNo
}

// tradeRows collects the day's lines of a channel, sorted by time (to the
// second, as the file writes it), then trade_no, then refund_no. A day of a
// million orders costs 24 bytes a line here; the file itself is streamed.
func (s *store) tradeRows(merchantID string, day time.Time) []tradeRow {
	from, to := day, day.AddDate(0, 0, 1)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	orderIn := func(k orderKey, o *order) bool {
		return k.merchantID == merchantID && in(o.FinishedAt) &&
			(o.Status == orderSuccess || o.Status == "FAILED" || o.Status == "CLOSED")
	}
	refundIn := func(k orderKey, r *refund) bool {
		return k.merchantID == merchantID && r.Status == orderSuccess && in(r.RefundedAt)
	}
	s.mu.Lock()
	// Counted first, so that the index is allocated once at its size
	// rather than grown through copies five times its size.
	n := 0
	for k, o := range s.orders {
		if orderIn(k, o) {
			n++
		}
	}
	for k, r := range s.refunds {
		if refundIn(k, r) {
			n++
		}
	}
	rows := make([]tradeRow, 0, n)
	for k, o := range s.orders {
		if orderIn(k, o) {
			rows = append(rows, tradeRow{sec: o.FinishedAt.Unix(), o: o})
		}
	}
	for k, r := range s.refunds {
		if !refundIn(k, r) {
			continue
		}
		if o := s.orders[orderKey{merchantID, r.OutTradeNo}]; o != nil {
			rows = append(rows, tradeRow{sec: r.RefundedAt.Unix(), o: o, r: r})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(rows, func(a, b tradeRow) int {
		if a.sec != b.sec {
			return cmp.Compare(a.sec, b.sec)
		}
		if a.o.TradeNo != b.o.TradeNo {
			return strings.Compare(a.o.TradeNo, b.o.TradeNo)
		}
		return strings.Compare(a.refundNo(), b.refundNo())
	})
	return rows
}

func writeTrade(w *billWriter, rows []tradeRow) error {
	for _, t := range rows {
		o := t.o
		amount, status := o.Amount, o.Status
		if t.r == nil {
			w.time(o.FinishedAt)
			w.str(o.Type)
		} else {
			amount, status = t.r.Amount, t.r.Status
			w.time(t.r.RefundedAt)
			w.str("REFUND")
		}
		w.str(o.OutTradeNo)
		w.str(o.TradeNo)
		if t.r == nil {
			w.str("")
			w.str("")
		} else {
			w.str(t.r.OutRefundNo)
			w.str(t.r.RefundNo)
		}
		w.str(o.AccountNo)
		if t.r == nil {
			w.str(o.PayeeAccountNo)
		} else {
			w.str("")
		}
		w.num(amount)
		w.str(status)
		if err := w.end(amount); err != nil {
			return err
		}
	}
	return nil
}

// --- LEDGER ------------------------------------------------------------

// ledgerRun is the day's entries of one account, in the order they were
// posted. Entries are never changed once posted, so the slice stays good
// after the lock is released (appends write beyond it).
type ledgerRun struct {
	accountNo string
	entries   []LedgerEntry
}

// ledgerRows collects the day's entries of every account of a channel.
func (s *store) ledgerRows(merchantID string, day time.Time) []ledgerRun {
	from, to := day, day.AddDate(0, 0, 1)
	var runs []ledgerRun
	s.mu.Lock()
	for no, a := range s.accounts {
		if a.MerchantID != merchantID {
			continue
		}
		l := s.ledgers[no]
		i := sort.Search(len(l), func(i int) bool { return !l[i].Time.Before(from) })
		j := sort.Search(len(l), func(i int) bool { return !l[i].Time.Before(to) })
		if i < j {
			runs = append(runs, ledgerRun{no, l[i:j:j]})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(runs, func(a, b ledgerRun) int { return cmp.Compare(a.accountNo, b.accountNo) })
	return runs
}

// writeLedger merges the accounts' entries by time. Each account's own
// order is kept exactly; a transfer's TRANSFER_IN waits for its
// TRANSFER_OUT; other movements at the same instant follow account_no (the
// sandbox keeps no sequence across accounts).
func writeLedger(w *billWriter, runs []ledgerRun) error {
	outs := map[string]int{} // TRANSFER_OUT not yet written, by out_trade_no
	for _, r := range runs {
		for _, e := range r.entries {
			if e.Type == ledgerTransferOut {
				outs[e.OutTradeNo]++
			}
		}
	}
	h := &ledgerHeap{}
	for i := range runs {
		heap.Push(h, &runs[i])
	}
	parked := map[string][]*ledgerRun{} // waiting for a TRANSFER_OUT
	for h.Len() > 0 || len(parked) > 0 {
		if h.Len() == 0 {
			// Only a TRANSFER_IN without its TRANSFER_OUT is left, which
			// the books never hold: write it rather than lose it.
			for k, ps := range parked {
				for _, p := range ps {
					heap.Push(h, p)
				}
				delete(parked, k)
				delete(outs, k)
			}
			continue
		}
		r := heap.Pop(h).(*ledgerRun)
		e := r.entries[0]
		if e.Type == ledgerTransferIn && outs[e.OutTradeNo] > 0 {
			parked[e.OutTradeNo] = append(parked[e.OutTradeNo], r)
			continue
		}
		w.time(e.Time)
		w.str(r.accountNo)
		w.str(e.Type)
		w.num(e.Amount)
		w.num(e.BalanceAfter)
		w.str(e.OutTradeNo)
		w.str(e.OutRefundNo)
		if err := w.end(e.Amount); err != nil {
			return err
		}
		if e.Type == ledgerTransferOut {
			if outs[e.OutTradeNo]--; outs[e.OutTradeNo] == 0 {
				delete(outs, e.OutTradeNo)
				for _, p := range parked[e.OutTradeNo] {
					heap.Push(h, p)
				}
				delete(parked, e.OutTradeNo)
			}
		}
		if r.entries = r.entries[1:]; len(r.entries) > 0 {
			heap.Push(h, r)
		}
	}
	return nil
}

// ledgerHeap orders accounts by their next entry's time, then account_no.
type ledgerHeap []*ledgerRun

func (h ledgerHeap) Len() int { return len(h) }
func (h ledgerHeap) Less(i, j int) bool {
	if c := h[i].entries[0].Time.Compare(h[j].entries[0].Time); c != 0 {
		return c < 0
	}
	return h[i].accountNo < h[j].accountNo
}
func (h ledgerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *ledgerHeap) Push(x any)   { *h = append(*h, x.(*ledgerRun)) }
func (h *ledgerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

package main

import (
	"errors"
	"iter"
	"net/http"
	"slices"
	"time"

	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// statementView is one business day's TRADE statement and its
// reconciliation with the app's books.
type statementView struct {
	Date       string
	Prev, Next string
	Error      string
	FileID     string
	Records    int64
	AmountSum  string
	Complete   bool
	Lines      []tradeLineView
	Books      int
	Report     *reportView
	Clean      bool
}

type tradeLineView struct {
	Time, Type, OutTradeNo, OutRefundNo, Amount, Status string
}

type reportView struct {
	BankLines, BooksLines                                                                int64
	BankAmount, BooksAmount                                                              string
	Matched, MissingInBooks, MissingAtBank, TypeMismatch, AmountMismatch, StatusMismatch int64
	Differences                                                                          []diffView
}

type diffView struct {
	Kind, Text, Ref, Bank, Books string
}

// adminStatement fetches the TRADE statement of a business day (by default
// the one before the sandbox's today), checks it completely, and
// reconciles it with the app's books of that day (docs/protocol.md,
// section 12). A day that has not ended yet is BILL_NOT_READY: move the
// clock on the admin page.
func (a *app) adminStatement(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	zone := businessZone()
	var day time.Time
	if s := r.URL.Query().Get("date"); s != "" {
		d, err := time.ParseInLocation(time.DateOnly, s, zone)
		if err != nil {
			a.fail(w, r, http.StatusBadRequest, "日期格式应为 2026-12-01")
			return
		}
		day = d
	} else {
		now, err := a.clock.Now(ctx)
		if err != nil {
			a.log.Warn("merchant-app: sandbox clock", "err", err)
			a.fail(w, r, http.StatusBadGateway, "无法读取沙箱时钟")
			return
		}
		n := now.In(zone)
		day = time.Date(n.Year(), n.Month(), n.Day()-1, 0, 0, 0, 0, zone)
	}
	v := statementView{Date: day.Format(time.DateOnly), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly), Next: day.AddDate(0, 0, 1).Format(time.DateOnly)}
	a.reconcile(r, day, &v)
	a.render(w, http.StatusOK, "statement", page{Title: "对账单 " + v.Date, Back: "/admin", User: viewUser(a.signedIn(r)), Data: v})
}

func (a *app) reconcile(r *http.Request, day time.Time, v *statementView) {
	st, err := statement.Fetch(r.Context(), a.client, statement.Request{Date: day, Type: statement.Trade})
	switch {
	case errors.Is(err, wallet.ErrBillNotReady):
		v.Error = "这一天的对账单尚未生成：营业日结束后才能下载（可在商户后台前进时钟）"
		return
	case err != nil:
		a.log.Warn("merchant-app: statement", "date", v.Date, "err", err)
		v.Error = "对账单下载失败：" + err.Error()
		return
	}
	defer st.Close()
	d := st.Descriptor()
	v.FileID, v.Records, v.AmountSum = d.FileID, d.Records, yuan(d.AmountSum)
	// A day of the demo has a few lines: they are kept to be shown. A
	// merchant with many reconciles straight from the stream
	// (Statement.Reconcile), which keeps only the lines that differ.
	var lines []statement.TradeRecord
	for rec, err := range st.Trades() {
		if err != nil {
			a.log.Warn("merchant-app: statement refused", "date", v.Date, "err", err)
			v.Error = "对账单校验失败，不能用于对账：" + err.Error()
			return
		}
		lines = append(lines, rec)
		v.Lines = append(v.Lines, tradeLineView{Time: inZone(rec.Time, "15:04:05"), Type: string(rec.Type), OutTradeNo: rec.OutTradeNo,
			OutRefundNo: rec.OutRefundNo, Amount: yuan(rec.Amount), Status: string(rec.Status)})
	}
	if v.Complete = st.Complete(); !v.Complete {
		v.Error = "对账单不完整，不能用于对账"
		return
	}
	books := a.booksOf(day)
	v.Books = len(books)
	report, err := statement.Reconcile(seq(lines), seq(books))
	if err != nil {
		a.log.Warn("merchant-app: reconcile", "date", v.Date, "err", err)
		v.Error = "对账出错：" + err.Error()
		return
	}
	rv := &reportView{BankLines: report.Bank.Lines, BooksLines: report.Books.Lines, BankAmount: yuan(report.Bank.Amount),
		BooksAmount: yuan(report.Books.Amount), Matched: report.Matched.Lines, MissingInBooks: report.MissingInBooks.Lines,
		MissingAtBank: report.MissingAtBank.Lines, TypeMismatch: report.TypeMismatch.Pairs,
		AmountMismatch: report.AmountMismatch.Pairs, StatusMismatch: report.StatusMismatch.Pairs}
	for _, d := range report.Differences {
		rv.Differences = append(rv.Differences, viewDifference(d))
	}
	v.Report, v.Clean = rv, report.Clean()
	a.log.Info("merchant-app: reconciled", "date", v.Date, "bank_lines", report.Bank.Lines, "books", report.Books.Lines,
		"matched", report.Matched.Lines, "clean", report.Clean())
}

// booksOf is the app's records of a business day, as statement.Reconcile
// takes them, sorted by the bank's time: every order the bank said ended
// that day (from an answer, a query or a notification) and every refund it
// made that day. An order whose outcome the app does not know yet has no
// bank time and is in no day's books: if the bank made it, the statement
// shows it as MissingInBooks, which is what reconciling is for.
func (a *app) booksOf(day time.Time) []statement.MerchantRecord {
	end := day.AddDate(0, 0, 1)
	on := func(t time.Time) bool { return !t.IsZero() && !t.Before(day) && t.Before(end) }
	var out []statement.MerchantRecord
	for _, o := range a.books.list(nil) {
		if !o.final() || !on(o.Finished) {
			continue
		}
		out = append(out, statement.MerchantRecord{Time: o.Finished, Type: statement.TradeType(o.Type), OutTradeNo: o.OutTradeNo,
			Amount: o.Amount, Status: wallet.OrderStatus(o.Status)})
	}
	for _, rf := range a.books.refundsOf("") {
		if rf.Status != string(wallet.StatusSuccess) || !on(rf.RefundedAt) {
			continue
		}
		out = append(out, statement.MerchantRecord{Time: rf.RefundedAt, Type: statement.TradeRefund, OutTradeNo: rf.OutTradeNo,
			OutRefundNo: rf.OutRefundNo, Amount: rf.Amount, Status: wallet.StatusSuccess})
	}
	slices.SortStableFunc(out, func(x, y statement.MerchantRecord) int { return x.Time.Compare(y.Time) })
	return out
}

// seq ranges over a slice as Reconcile takes its input.
func seq[T any](s []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, v := range s {
			if !yield(v, nil) {
				return
			}
		}
	}
}

func viewDifference(d statement.Difference) diffView {
	v := diffView{Kind: string(d.Kind)}
	switch d.Kind {
	case statement.MissingInBooks:
		v.Text = "银行有、本应用没有：补记账，并查明为何未确认结果"
	case statement.MissingAtBank:
		v.Text = "本应用有、银行没有：查询订单，或看次日对账单"
	case statement.AmountMismatch:
		v.Text = "金额不一致：以银行为准"
	case statement.StatusMismatch:
		v.Text = "状态不一致：以银行为准（可能漏了通知）"
	case statement.TypeMismatch:
		v.Text = "类型不一致：订单号重复，需人工核查"
	}
	if b := d.Bank; b != nil {
		v.Ref = b.OutTradeNo
		if b.OutRefundNo != "" {
			v.Ref = b.OutRefundNo
		}
		v.Bank = string(b.Type) + " ¥" + yuan(b.Amount) + " " + string(b.Status)
	}
	if m := d.Books; m != nil {
		v.Ref = m.OutTradeNo
		if m.OutRefundNo != "" {
			v.Ref = m.OutRefundNo
		}
		v.Books = string(m.Type) + " ¥" + yuan(m.Amount) + " " + string(m.Status)
	}
	return v
}

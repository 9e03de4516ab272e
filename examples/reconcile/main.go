// Command reconcile is a merchant's daily reconciliation (对账): a day of
// payments on the sandbox bank, the day ended, the bank's signed statement
// of it downloaded and checked, and every line matched against the
// merchant's own books.
//
//	go run ./examples/reconcile                                 # a sandbox embedded in the program
//	go run ./examples/reconcile -base-url http://127.0.0.1:8360 # a standalone one (go run ./examples/sandbox)
//
// The day holds recharges, payments, a refund — and one payment whose
// answer was lost (the sandbox drops the connection after the bank took
// the money) and which this merchant's code, wrongly, took for a failure
// and never resolved. Its books are short by that payment, and only the
// statement shows it: reconciliation finds it (MISSING_IN_BOOKS), the
// merchant queries the order and books it, and the second reconciliation
// is clean. (The right code resolves an unknown outcome at once with
// payment.Service.Resolve: examples/pay-and-refund.)
//
// Then the program moves the sandbox's business clock a day forward so
// that the day has ended: the bank issues a day's statement only then
// (BILL_NOT_READY before). On a standalone sandbox that moves every
// program's business day; envelope timestamps stay on the real clock.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "reconcile:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("reconcile", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("reconcile"))
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(out, "on the sandbox at %s as app %s\n", sb.URL, sb.Config.AppID)
	// No retries, so that the dropped answer below reaches this code.
	c, err := wallet.NewClient(sb.Config, wallet.WithRetry(0))
	if err != nil {
		return err
	}
	// Start the day at 09:00 on the sandbox's business clock, so that the
	// whole day of activity falls on one business day.
	if _, err := sb.AdvanceClock(ctx, untilNext(sb.Now(), 9)); err != nil {
		return err
	}
	day := sb.Now()

	books, lost, err := businessDay(ctx, c, sb)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "the day of %s: %d orders and refunds in the books, amounts ¥%s\n", day.Format("2006-01-02"), len(books.records), yuan(books.total()))

	// The bank issues the statement of a day once the day has ended.
	_, err = statement.Fetch(ctx, c, statement.Request{Date: day, Type: statement.Trade})
	fmt.Fprintf(out, "the statement before the day ended: %v\n", errors.Is(err, wallet.ErrBillNotReady))
	if _, err := sb.AdvanceClock(ctx, 24*time.Hour); err != nil {
		return err
	}

	r, err := reconcile(ctx, c, day, books)
	if err != nil {
		return err
	}
	report(out, r)

	// Every line at the bank and not in the books is money that moved and
	// that the merchant does not know about: ask the bank for the order,
	// book what it says.
	pay := payment.New(c)
	for _, d := range r.Differences {
		if d.Kind != statement.MissingInBooks || d.Bank.Type == statement.TradeRefund {
			continue
		}
		o, err := pay.Query(ctx, d.Bank.OutTradeNo)
		if err != nil {
			return err
		}
		if o.OutTradeNo == lost {
			fmt.Fprintf(out, "the missed payment is found: %s, lost answer, %s at the bank\n", o.OutTradeNo, o.Status)
		}
		books.order(o)
	}

	r, err = reconcile(ctx, c, day, books)
	if err != nil {
		return err
	}
	report(out, r)
	if !r.Clean() {
		return errors.New("the books still differ from the bank's statement")
	}
	fmt.Fprintln(out, "reconciled: clean")
	return nil
}

// businessDay is the day's activity: two users, recharges, payments, a
// refund, and a payment whose answer is lost. It returns the merchant's
// books — what its code recorded from the answers it got — and the order
// number of the lost payment, which is not in them.
func businessDay(ctx context.Context, c *wallet.Client, sb *wallettest.Sandbox) (*books, string, error) {
	b := &books{}
	pay := payment.New(c)
	pin, err := c.EncryptPIN(wallettest.TestPIN) // on a real device, the user's device encrypts it
	if err != nil {
		return nil, "", err
	}
	var accts []string
	for range 2 {
		a, err := wallettest.Open(ctx, c, wallettest.Person()) // the journey itself: examples/open-account
		if err != nil {
			return nil, "", err
		}
		accts = append(accts, a.AccountNo)
		o, err := pay.Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 300_00})
		if err != nil {
			return nil, "", err
		}
		b.order(o)
	}
	var first *payment.Order
	for i, amount := range []int64{58_00, 19_90, 120_00} {
		o, err := pay.Pay(ctx, payment.PayRequest{AccountNo: accts[i%2], OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Subject: "商品", Password: pin})
		if err != nil {
			return nil, "", err
		}
		b.order(o)
		if first == nil {
			first = o
		}
	}
	r, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: first.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 8_00, Reason: "差价"})
	if err != nil {
		return nil, "", err
	}
	b.refund(r)

	// The lost answer: the bank takes the money, the connection drops.
	if err := sb.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "payment/pay"}); err != nil {
		return nil, "", err
	}
	lost := payment.NewOutTradeNo()
	_, err = pay.Pay(ctx, payment.PayRequest{AccountNo: accts[1], OutTradeNo: lost, Amount: 45_00, Subject: "商品", Password: pin})
	if !wallet.IsOutcomeUnknown(err) {
		return nil, "", fmt.Errorf("expected an unknown outcome, got %v", err)
	}
	// The mistake this example is about: an unknown outcome taken for a
	// failure, nothing booked, nothing resolved.
	return b, lost, nil
}

// reconcile fetches the day's TRADE statement and matches it against the
// books. Fetch checks every segment before handing out its lines, and the
// size and SM3 of the whole file against the signed descriptor: a report
// comes back only for a complete, verified statement.
func reconcile(ctx context.Context, c *wallet.Client, day time.Time, b *books) (*statement.Report, error) {
	st, err := statement.Fetch(ctx, c, statement.Request{Date: day, Type: statement.Trade})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r, err := st.Reconcile(b.sorted())
	if err != nil {
		return nil, err // a broken or forged statement: book nothing from it
	}
	if !st.Complete() {
		return nil, errors.New("the statement ended early")
	}
	return r, r.Check()
}

func report(out io.Writer, r *statement.Report) {
	fmt.Fprintf(out, "statement %d lines ¥%s, books %d lines ¥%s, matched %d, differences %d\n",
		r.Bank.Lines, yuan(r.Bank.Amount), r.Books.Lines, yuan(r.Books.Amount), r.Matched.Lines, len(r.Differences))
	for _, d := range r.Differences {
		switch {
		case d.Bank != nil:
			fmt.Fprintf(out, "  %-16s %-8s %s ¥%s %s at the bank\n", d.Kind, d.Bank.Type, d.Bank.OutTradeNo, yuan(d.Bank.Amount), d.Bank.Status)
		default:
			fmt.Fprintf(out, "  %-16s %-8s %s ¥%s %s in the books\n", d.Kind, d.Books.Type, d.Books.OutTradeNo, yuan(d.Books.Amount), d.Books.Status)
		}
	}
}

// books are the merchant's own records of the day, in memory here; a real
// merchant reads them from its order table, sorted by time.
type books struct{ records []statement.MerchantRecord }

func (b *books) order(o *payment.Order) {
	b.records = append(b.records, statement.MerchantRecord{Time: o.FinishedAt, Type: statement.TradeType(o.Type),
		OutTradeNo: o.OutTradeNo, Amount: o.Amount, Status: o.Status})
}

func (b *books) refund(r *payment.Refund) {
	b.records = append(b.records, statement.MerchantRecord{Time: r.RefundedAt, Type: statement.TradeRefund,
		OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, Amount: r.Amount, Status: r.Status})
}

// sorted hands the records out in the order Reconcile needs: by the bank's
// time (finished_at, refunded_at), ascending.
func (b *books) sorted() iter.Seq2[statement.MerchantRecord, error] {
	slices.SortStableFunc(b.records, func(x, y statement.MerchantRecord) int { return x.Time.Compare(y.Time) })
	return func(yield func(statement.MerchantRecord, error) bool) {
		for _, r := range b.records {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func (b *books) total() int64 {
	var n int64
	for _, r := range b.records {
		n += r.Amount
	}
	return n
}

// untilNext is how far the next hour:00 of UTC+8 is from now.
func untilNext(now time.Time, hour int) time.Duration {
	cst := time.FixedZone("UTC+8", 8*3600)
	l := now.In(cst)
	at := time.Date(l.Year(), l.Month(), l.Day(), hour, 0, 0, 0, cst)
	if at.Before(l) {
		at = at.AddDate(0, 0, 1)
	}
	return at.Sub(now)
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// Command pay-and-refund takes a payment from a user's e-account, refunds
// part of it, and shows the one rule a payment integration must get right:
// when the outcome of a money call is unknown, settle it with
// payment.Service.Resolve — which queries the order and, only if the bank
// never made it, sends the very same request again — and never pay again
// under a new order number.
//
//	go run ./examples/pay-and-refund                                 # a sandbox embedded in the program
//	go run ./examples/pay-and-refund -base-url http://127.0.0.1:8360 # a standalone one (go run ./examples/sandbox)
//
// It makes the sandbox drop the connection after the bank took the money
// (a drop_after_commit fault), and cancels a caller's context while the
// bank is still working, to show both unknown outcomes being settled. The
// merchant writes each order (its OutTradeNo, the request and its msg_id)
// to its own order book before it calls the bank, so that an unknown
// outcome, or a crash, leaves a record to settle.
//
// The program registers a merchant of its own with the sandbox (a fresh
// TEST key, a unique app id). On a standalone sandbox shared with other
// programs, a fault is the sandbox's: another program's payment/pay made
// in the same instant could take it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "pay-and-refund:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("pay-and-refund", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("pay-and-refund"))
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(out, "on the sandbox at %s as app %s\n", sb.URL, sb.Config.AppID)
	// No retries, so that the dropped answer below reaches this code as an
	// unknown outcome (with retries the client would repeat the request
	// under the same msg_id, and the bank would answer it from its cache).
	c, err := wallet.NewClient(sb.Config, wallet.WithRetry(0))
	if err != nil {
		return err
	}
	m := &merchant{pay: payment.New(c), book: &orderBook{orders: map[string]*bookedPay{}}}
	acct, err := openAndFund(ctx, c, 500_00)
	if err != nil {
		return err
	}
	// In production the user's device encrypts the PIN (c.PINKey says to
	// which key); the sandbox demo encrypts the test PIN here.
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return err
	}

	// A payment.
	o, err := m.payOrder(ctx, payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 128_00, Subject: "年度会员", Password: pin})
	switch {
	case errors.Is(err, wallet.ErrInsufficientBalance):
		return errors.New("not enough money: offer a recharge")
	case errors.Is(err, wallet.ErrDailyLimitExceeded), errors.Is(err, wallet.ErrYearlyLimitExceeded):
		return errors.New("over the Class II account's limit")
	case errors.Is(err, wallet.ErrPasswordIncorrect):
		return errors.New("wrong PIN: ask again (five wrong PINs lock it for the day)")
	case err != nil:
		return err
	}
	fmt.Fprintf(out, "paid ¥%s: order %s %s\n", yuan(o.Amount), o.OutTradeNo, o.Status)

	// A partial refund, then its query. (A refund whose outcome is unknown
	// is settled the same way, with ResolveRefund.)
	ref, err := m.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 28_00, Reason: "优惠"})
	if err != nil {
		return err
	}
	q, err := m.pay.QueryRefund(ctx, ref.OutRefundNo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "refunded ¥%s: refund %s %s\n", yuan(q.Amount), q.OutRefundNo, q.Status)
	_, err = m.pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 100_01})
	fmt.Fprintf(out, "refunding more than is left: %v\n", errors.Is(err, wallet.ErrRefundAmountExceeded))

	// Unknown outcome 1: the bank takes the money, then the connection drops.
	if err := sb.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "payment/pay"}); err != nil {
		return err
	}
	req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 66_00, Subject: "加购", Password: pin}
	_, err = m.payOrder(ctx, req)
	if !wallet.IsOutcomeUnknown(err) {
		return fmt.Errorf("expected an unknown outcome, got %v", err)
	}
	fmt.Fprintf(out, "pay %s: %v\n", req.OutTradeNo, err)
	found, err := m.settle(ctx, req.OutTradeNo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "resolved: order %s %s, ¥%s taken once\n", found.OutTradeNo, found.Status, yuan(found.Amount))

	// Unknown outcome 2: the caller gives up mid-call — the user closed the
	// page, a deadline passed — while the bank is still working (here, it
	// waits half a second before it acts). The call ends with the caller's
	// context, and nobody knows whether the bank will act.
	if err := sb.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultLatency, Latency: 500 * time.Millisecond, Path: "payment/pay"}); err != nil {
		return err
	}
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	time.AfterFunc(100*time.Millisecond, cancel)
	req = payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 12_00, Subject: "小食", Password: pin}
	_, err = m.payOrder(callCtx, req)
	if !wallet.IsOutcomeUnknown(err) || !errors.Is(err, context.Canceled) {
		return fmt.Errorf("expected an unknown outcome after the cancellation, got %v", err)
	}
	fmt.Fprintf(out, "pay %s: the caller's context was cancelled mid-call: outcome unknown\n", req.OutTradeNo)
	// The money may move whatever the caller does now, so settle it anyway,
	// on the dead context if that is the one at hand: Resolve does not stop
	// when its context is cancelled (it keeps its values) and gives up after
	// payment.ResolveTimeout. In a server, run it in the background, or
	// leave the order to a sweeper that settles everything still pending.
	found, err = m.settle(callCtx, req.OutTradeNo)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "resolved after the caller left: order %s %s, ¥%s taken once\n", found.OutTradeNo, found.Status, yuan(found.Amount))

	a, err := account.New(c).Query(ctx, acct)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "balance ¥%s = 500.00 − 128.00 + 28.00 − 66.00 − 12.00; pending orders: %d\n", yuan(a.Balance), m.book.pendingCount())
	return nil
}

// merchant is the merchant's payment code: it writes each order down
// before it asks the bank to pay it.
type merchant struct {
	pay  *payment.Service
	book *orderBook
}

// payOrder records req and the msg_id it will carry, then sends it. The
// record comes first: if the process dies or the answer is lost, the
// order book still says what was asked, under which numbers.
func (m *merchant) payOrder(ctx context.Context, req payment.PayRequest) (*payment.Order, error) {
	msgID := wallet.NewMsgID()
	if err := m.book.begin(req, msgID); err != nil {
		return nil, err
	}
	o, err := m.pay.Pay(ctx, req, wallet.WithMsgID(msgID))
	if !wallet.IsOutcomeUnknown(err) {
		// Known: the bank paid, or refused and nothing happened.
		m.book.done(req.OutTradeNo)
	}
	return o, err
}

// settle resolves a booked order whose outcome is unknown. Resolve queries
// it by OutTradeNo; if the bank never made it, it sends the booked request
// again under the booked msg_id, so the money moves exactly once.
func (m *merchant) settle(ctx context.Context, outTradeNo string) (*payment.Order, error) {
	b, ok := m.book.get(outTradeNo)
	if !ok {
		return nil, fmt.Errorf("order %s is not in the order book", outTradeNo)
	}
	o, err := m.pay.Resolve(ctx, b.req, b.msgID)
	if err != nil {
		return nil, err // still unknown (the bank unreachable for ResolveTimeout): try again later
	}
	m.book.done(outTradeNo)
	return o, nil
}

// orderBook is the merchant's own table of payments, in memory here; a
// real one is a database table, written (and committed) before the call.
// payment.WithJournal does the same inside the SDK, with a FileJournal or
// a journal every instance shares, and payment.Service.Recover settles
// what a crash left pending.
type orderBook struct {
	mu     sync.Mutex
	orders map[string]*bookedPay // by OutTradeNo
}

type bookedPay struct {
	req   payment.PayRequest // the PIN in it is a ciphertext to the bank's key
	msgID string
	done  bool
}

func (b *orderBook) begin(req payment.PayRequest, msgID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.orders[req.OutTradeNo]; dup {
		return fmt.Errorf("order %s is booked already: settle it, never pay it again", req.OutTradeNo)
	}
	b.orders[req.OutTradeNo] = &bookedPay{req: req, msgID: msgID}
	return nil
}

func (b *orderBook) get(outTradeNo string) (bookedPay, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	p, ok := b.orders[outTradeNo]
	if !ok {
		return bookedPay{}, false
	}
	return *p, true
}

func (b *orderBook) done(outTradeNo string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.orders[outTradeNo]; ok {
		p.done = true
	}
}

func (b *orderBook) pendingCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, p := range b.orders {
		if !p.done {
			n++
		}
	}
	return n
}

func openAndFund(ctx context.Context, c *wallet.Client, amount int64) (string, error) {
	a, err := wallettest.Open(ctx, c, wallettest.Person()) // the journey itself: examples/open-account
	if err != nil {
		return "", err
	}
	_, err = payment.New(c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	return a.AccountNo, err
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

package e2e

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// One Client, shared by many goroutines (DESIGN.md: "safe for concurrent
// use"), moving money between a few accounts at once: recharges,
// withdrawals, payments, transfers, refunds of those payments, queries and
// idempotent repeats, racing for the same balances and the same daily
// limits. Run under -race. Afterwards the books add up: every balance is
// what the successful orders say, each ledger holds exactly the successful
// orders, no balance was ever negative, and no account went over its daily
// limits.

const (
	workers         = 64
	opsPerWorker    = 8
	accountsInPlay  = 4
	startingBalance = 500_000
	dailyLimit      = 1_000_000 // fen, docs/protocol.md, section 8
)

// placed is a money call the bank accepted.
type placed struct {
	typ        wallet.OrderType
	acct       string
	payee      string
	amount     int64
	outTradeNo string
	tradeNo    string
	repeat     func(context.Context) (*wallet.Order, error) // the same request again
}

type refunded struct {
	outRefundNo string
	outTradeNo  string
	acct        string
	amount      int64
}

// books is what the merchant's side knows: every order and refund the bank
// confirmed, and every refusal.
type books struct {
	mu       sync.Mutex
	orders   []placed
	refunds  []refunded
	refused  map[string]int
	accepted map[string]int
	queries  int
	repeats  int
}

func (b *books) order(p placed) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.orders = append(b.orders, p)
	b.accepted[string(p.typ)]++
}

func (b *books) pick(r *rand.Rand, typ wallet.OrderType) (placed, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var list []placed
	for _, o := range b.orders {
		if typ == "" || o.typ == typ {
			list = append(list, o)
		}
	}
	if len(list) == 0 {
		return placed{}, false
	}
	return list[r.IntN(len(list))], true
}

// refusedOK lists the refusals a racing mix may meet: anything else,
// above all an unknown outcome, is a failure.
var refusedOK = []wallet.ErrorCode{wallet.ErrInsufficientBalance, wallet.ErrDailyLimitExceeded, wallet.ErrRefundAmountExceeded}

func (b *books) refusal(t *testing.T, err error) {
	var apiErr *wallet.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("not a verified refusal: %v", err)
		return
	}
	for _, code := range refusedOK {
		if apiErr.Code == code {
			b.mu.Lock()
			b.refused[string(code)]++
			b.mu.Unlock()
			return
		}
	}
	t.Errorf("unexpected refusal: %v", err)
}

func TestConcurrentMoneyKeepsTheBooks(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	// Business noon: the whole test falls inside one business day, so the
	// day's limits are counted once (docs/protocol.md, section 8: days turn at midnight
	// UTC+8).
	now := sb.BusinessNow().In(wire.Shanghai)
	noon := time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, wire.Shanghai)
	sb.AdvanceClock(noon.Sub(now))

	c := sb.Client()
	svc := payment.New(c)
	pin := wallettest.PIN(t, c)
	accts := make([]string, accountsInPlay)
	names := map[string]wallet.Name{}
	bk := &books{refused: map[string]int{}, accepted: map[string]int{}}
	for i := range accts {
		p := wallettest.Person()
		accts[i] = sb.OpenAccount(p)
		names[accts[i]] = p.Name
		req := payment.RechargeRequest{AccountNo: accts[i], OutTradeNo: payment.NewOutTradeNo(), Amount: startingBalance}
		o, err := svc.Recharge(t.Context(), req)
		require.NoError(t, err)
		bk.order(placed{typ: wallet.OrderRecharge, acct: accts[i], amount: req.Amount, outTradeNo: req.OutTradeNo, tradeNo: o.TradeNo})
	}

	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2026))
			ctx := context.Background()
			for range opsPerWorker {
				acct := accts[r.IntN(len(accts))]
				amount := int64(5_000 + r.IntN(55_000))
				var (
					o   *wallet.Order
					err error
					p   placed
				)
				switch k := r.IntN(100); {
				case k < 18:
					req := payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 2 * amount}
					o, err = svc.Recharge(ctx, req)
					p = placed{typ: wallet.OrderRecharge, acct: acct, amount: req.Amount, outTradeNo: req.OutTradeNo,
						repeat: func(ctx context.Context) (*wallet.Order, error) { return svc.Recharge(ctx, req) }}
				case k < 28:
					req := payment.WithdrawRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: amount / 4, Password: pin}
					o, err = svc.Withdraw(ctx, req)
					p = placed{typ: wallet.OrderWithdraw, acct: acct, amount: req.Amount, outTradeNo: req.OutTradeNo,
						repeat: func(ctx context.Context) (*wallet.Order, error) { return svc.Withdraw(ctx, req) }}
				case k < 52:
					req := payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Subject: "并发订单", Password: pin}
					o, err = svc.Pay(ctx, req)
					p = placed{typ: wallet.OrderPay, acct: acct, amount: req.Amount, outTradeNo: req.OutTradeNo,
						repeat: func(ctx context.Context) (*wallet.Order, error) { return svc.Pay(ctx, req) }}
				case k < 74:
					payee := accts[(indexOf(accts, acct)+1+r.IntN(len(accts)-1))%len(accts)]
					req := payment.TransferRequest{AccountNo: acct, PayeeAccountNo: payee, PayeeName: names[payee],
						OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Password: pin}
					o, err = svc.Transfer(ctx, req)
					p = placed{typ: wallet.OrderTransfer, acct: acct, payee: payee, amount: req.Amount, outTradeNo: req.OutTradeNo,
						repeat: func(ctx context.Context) (*wallet.Order, error) { return svc.Transfer(ctx, req) }}
				case k < 86:
					paid, ok := bk.pick(r, wallet.OrderPay)
					if !ok {
						continue
					}
					req := payment.RefundRequest{OutTradeNo: paid.outTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 1 + int64(r.IntN(int(paid.amount/2)))}
					ref, err := svc.Refund(ctx, req)
					if err != nil {
						bk.refusal(t, err)
						continue
					}
					if ref.Amount != req.Amount || ref.OutTradeNo != paid.outTradeNo {
						t.Errorf("refund %s answered %+v", req.OutRefundNo, ref)
					}
					bk.mu.Lock()
					bk.refunds = append(bk.refunds, refunded{outRefundNo: req.OutRefundNo, outTradeNo: paid.outTradeNo, acct: paid.acct, amount: req.Amount})
					bk.accepted["REFUND"]++
					bk.mu.Unlock()
					continue
				case k < 94:
					known, ok := bk.pick(r, "")
					if !ok {
						continue
					}
					q, err := svc.Query(ctx, known.outTradeNo)
					if err != nil || q.TradeNo != known.tradeNo || q.Amount != known.amount || q.AccountNo != known.acct {
						t.Errorf("query %s: %+v, %v; placed %+v", known.outTradeNo, q, err, known)
					}
					bk.mu.Lock()
					bk.queries++
					bk.mu.Unlock()
					continue
				default:
					known, ok := bk.pick(r, "")
					if !ok || known.repeat == nil {
						continue
					}
					again, err := known.repeat(ctx)
					if err != nil || again.TradeNo != known.tradeNo {
						t.Errorf("repeat of %s: %+v, %v", known.outTradeNo, again, err)
					}
					bk.mu.Lock()
					bk.repeats++
					bk.mu.Unlock()
					continue
				}
				if err != nil {
					bk.refusal(t, err)
					continue
				}
				if o.OutTradeNo != p.outTradeNo || o.Amount != p.amount || o.Status != wallet.StatusSuccess {
					t.Errorf("%s answered %+v", p.outTradeNo, o)
				}
				p.tradeNo = o.TradeNo
				bk.order(p)
			}
		}()
	}
	wg.Wait()

	books := account.New(c)
	for _, acct := range accts {
		var want, out, in int64
		entries := map[string]int64{} // ledger entries the books expect, by reference and sign
		for _, o := range bk.orders {
			switch {
			case o.acct == acct && (o.typ == wallet.OrderRecharge):
				want += o.amount
				entries["+"+o.outTradeNo] += o.amount
			case o.acct == acct:
				want -= o.amount
				entries["-"+o.outTradeNo] -= o.amount
				if o.typ == wallet.OrderPay || o.typ == wallet.OrderTransfer {
					out += o.amount
				}
			case o.payee == acct:
				want += o.amount
				in += o.amount
				entries["+"+o.outTradeNo] += o.amount
			}
		}
		for _, r := range bk.refunds {
			if r.acct == acct {
				want += r.amount
				entries["R"+r.outRefundNo] += r.amount
			}
		}

		a, err := books.Query(t.Context(), acct)
		require.NoError(t, err)
		require.Equal(t, want, a.Balance, "%s: the balance is the sum of its successful orders", acct)
		require.GreaterOrEqual(t, a.Balance, int64(0))
		require.Equal(t, out, a.Limits.DailyOutUsed, "%s: payments and transfers out count against the limit", acct)
		require.Equal(t, in, a.Limits.DailyInUsed, "%s: transfers in count against the payee's limit", acct)
		require.LessOrEqual(t, a.Limits.DailyOutUsed, int64(dailyLimit))
		require.LessOrEqual(t, a.Limits.DailyInUsed, int64(dailyLimit))
		require.Equal(t, int64(dailyLimit), a.Limits.DailyLimit)

		var running int64
		seen := map[string]int64{}
		for _, e := range sb.Ledger(acct) {
			running += e.Amount
			require.Equal(t, running, e.BalanceAfter, "%s: each entry moves the balance by its amount", acct)
			require.GreaterOrEqual(t, e.BalanceAfter, int64(0), "%s: never negative", acct)
			switch {
			case e.OutRefundNo != "":
				seen["R"+e.OutRefundNo] += e.Amount
			case e.Amount > 0:
				seen["+"+e.OutTradeNo] += e.Amount
			default:
				seen["-"+e.OutTradeNo] += e.Amount
			}
		}
		require.Equal(t, want, running)
		require.Equal(t, entries, seen, "%s: the ledger holds the successful orders, each once", acct)
		require.Len(t, seen, len(sb.Ledger(acct)), "%s: no order twice in the ledger", acct)
	}
	for _, o := range bk.orders {
		if o.typ != wallet.OrderPay {
			continue
		}
		var refundedSum int64
		for _, r := range bk.refunds {
			if r.outTradeNo == o.outTradeNo {
				refundedSum += r.amount
			}
		}
		q, err := svc.Query(t.Context(), o.outTradeNo)
		require.NoError(t, err)
		require.Equal(t, refundedSum, q.RefundedAmount, "%s: refunds add up", o.outTradeNo)
		require.LessOrEqual(t, q.RefundedAmount, q.Amount)
	}
	t.Logf("%d goroutines × %d calls on one client, %d accounts: accepted %v; refused %v; %d queries, %d idempotent repeats",
		workers, opsPerWorker, accountsInPlay, bk.accepted, bk.refused, bk.queries, bk.repeats)
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

package sandbox

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPropertyBillsAgreeWithTheBooks runs random days of activity — money
// calls that succeed and fail, refunds, another channel's orders, the clock
// moving by minutes or hours across midnights — and checks every day's
// statements against what the bank answered and its ledgers: the TRADE
// lines are exactly the orders that ended that day and the refunds of that
// day, all columns, in the protocol's order; the LEDGER lines are exactly
// each account's ledger entries of that day, in the account's order; the
// descriptor's records and amount_sum agree to the fen.
func TestPropertyBillsAgreeWithTheBooks(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			t.Parallel()
			runBillProperty(t, seed, 120)
		})
	}
}

func runBillProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0xb111))
	f := newFixture(t)
	type acct struct{ no, name string }
	var accts []acct
	for i := 0; i < 4; i++ {
		no, p := f.newAccount()
		accts = append(accts, acct{no, p.name})
	}
	other := f.otherMerchant("other-app", "M200000002")
	otherAcct := f.open(other, f.person())

	orders := map[string]orderView{} // by out_trade_no
	var refunds []refundView
	var pays []string
	record := func(r *tresp) {
		if r.code != codeSuccess {
			return
		}
		var o orderView
		r.decode(t, &o)
		orders[o.OutTradeNo] = o
	}
	days := map[string]bool{}
	for step := 0; step < steps; step++ {
		if step == steps/2 {
			f.bank.AdvanceClock(9 * time.Hour) // from 16:00 on day one: past midnight
		}
		days[dayKey(f.bank.BusinessNow())] = true
		a := accts[rng.IntN(len(accts))]
		amount := 1 + rng.Int64N(300_000)
		switch rng.IntN(9) {
		case 0, 1:
			record(f.c.call(rechargePath, map[string]any{"account_no": a.no, "out_trade_no": f.orderNo(), "amount": amount}))
		case 2:
			record(f.c.call(withdrawPath, map[string]any{"account_no": a.no, "out_trade_no": f.orderNo(), "amount": amount, "password": f.c.pin(goodPIN)}))
		case 3, 4:
			args := f.payArgs(f.c, a.no, amount)
			r := f.c.call(payPath, args)
			record(r)
			if r.code == codeSuccess {
				pays = append(pays, args["out_trade_no"].(string))
			}
		case 5:
			b := accts[rng.IntN(len(accts))]
			if b.no != a.no {
				record(f.c.call(transferPath, map[string]any{"account_no": a.no, "payee_account_no": b.no, "payee_name": b.name,
					"out_trade_no": f.orderNo(), "amount": amount, "password": f.c.pin(goodPIN)}))
			}
		case 6:
			if len(pays) > 0 {
				o := orders[pays[rng.IntN(len(pays))]]
				r := f.c.call(refundPath, map[string]any{"out_trade_no": o.OutTradeNo, "out_refund_no": "RF" + f.orderNo(),
					"amount": 1 + rng.Int64N(o.Amount)})
				if r.code == codeSuccess {
					var v refundView
					r.decode(t, &v)
					refunds = append(refunds, v)
				}
			}
		case 7:
			f.recharge(other, otherAcct, amount)
		case 8:
			// Time passes: seconds, minutes, or hours (across midnight).
			f.bank.AdvanceClock([]time.Duration{time.Second, 7 * time.Minute, 5 * time.Hour}[rng.IntN(3)])
		}
	}
	f.bank.AdvanceClock(24 * time.Hour)

	var tradeLines, ledgerLines int
	for day := range days {
		// TRADE: what the bank answered that day, in the protocol's order.
		type line struct {
			row      []string
			time     string
			tradeNo  string
			refundNo string
		}
		var want []line
		for _, o := range orders {
			if o.FinishedAt[:10] == day {
				want = append(want, line{[]string{o.FinishedAt, o.Type, o.OutTradeNo, o.TradeNo, "", "", o.AccountNo,
					o.PayeeAccountNo, strconv.FormatInt(o.Amount, 10), o.Status}, o.FinishedAt, o.TradeNo, ""})
			}
		}
		for _, r := range refunds {
			if r.RefundedAt[:10] == day {
				o := orders[r.OutTradeNo]
				want = append(want, line{[]string{r.RefundedAt, "REFUND", o.OutTradeNo, o.TradeNo, r.OutRefundNo, r.RefundNo,
					o.AccountNo, "", strconv.FormatInt(r.Amount, 10), r.Status}, r.RefundedAt, o.TradeNo, r.RefundNo})
			}
		}
		slices.SortFunc(want, func(a, b line) int {
			return cmp.Or(cmp.Compare(a.time, b.time), cmp.Compare(a.tradeNo, b.tradeNo), cmp.Compare(a.refundNo, b.refundNo))
		})
		_, got := f.billCSV(f.c, day, billTrade)
		require.Len(t, got, len(want)+1, "day %s", day)
		for i, w := range want {
			require.Equal(t, w.row, got[i+1], "day %s line %d", day, i+2)
		}
		tradeLines += len(want)

		// LEDGER: each account's entries of the day, in its own order.
		_, ledger := f.billCSV(f.c, day, billLedger)
		byAcct := map[string][][]string{}
		for i, l := range ledger[1:] {
			if i > 0 {
				require.LessOrEqual(t, ledger[i][0], l[0], "day %s: sorted by time", day)
			}
			byAcct[l[1]] = append(byAcct[l[1]], l)
		}
		for _, a := range accts {
			entries, err := f.bank.Ledger(a.no)
			require.NoError(t, err)
			var wantRows [][]string
			for _, e := range entries {
				if dayKey(e.Time) == day {
					wantRows = append(wantRows, []string{formatTime(e.Time), a.no, e.Type, strconv.FormatInt(e.Amount, 10),
						strconv.FormatInt(e.BalanceAfter, 10), e.OutTradeNo, e.OutRefundNo})
				}
			}
			require.Equal(t, wantRows, byAcct[a.no], "day %s account %s", day, a.no)
			ledgerLines += len(wantRows)
			delete(byAcct, a.no)
		}
		require.Empty(t, byAcct, "day %s: no other channel's account", day)
	}
	require.NotZero(t, tradeLines)
	require.NotZero(t, ledgerLines)
	require.GreaterOrEqual(t, len(days), 2, "the activity spans midnight")
}

package sandbox

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPropertyMoneyIsConserved runs random sequences of money calls (some
// of which fail) and checks after each that money is conserved — the sum
// of balances equals recharges + refunds − withdrawals − payments — that no
// balance or ledger entry goes negative, that every ledger adds up to its
// balance, and that no account ever pays out over its daily limit.
func TestPropertyMoneyIsConserved(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{1, 2, 3} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			runMoneyProperty(t, seed, 150)
		})
	}
}

func runMoneyProperty(t *testing.T, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	f := newFixture(t)
	type acct struct {
		no   string
		name string
	}
	var accts []acct
	for i := 0; i < 4; i++ {
		no, p := f.newAccount()
		accts = append(accts, acct{no, p.name})
	}
	var recharged, withdrawn, paid, refunded int64
	type payment struct {
		outTradeNo string
		left       int64
	}
	var pays []*payment
	amount := func() int64 { return 1 + rng.Int64N(400_000) }
	pin := func() string {
		if rng.IntN(20) == 0 {
			return f.c.pin("975310") // now and then a wrong PIN
		}
		return f.c.pin(goodPIN)
	}

	for step := 0; step < steps; step++ {
		a := accts[rng.IntN(len(accts))]
		switch op := rng.IntN(10); op {
		case 0, 1:
			n := amount()
			if r := f.c.call(rechargePath, map[string]any{"account_no": a.no, "out_trade_no": f.orderNo(), "amount": n}); r.code == codeSuccess {
				recharged += n
			}
		case 2:
			n := amount()
			if r := f.c.call(withdrawPath, map[string]any{"account_no": a.no, "out_trade_no": f.orderNo(), "amount": n, "password": pin()}); r.code == codeSuccess {
				withdrawn += n
			}
		case 3, 4:
			n := amount()
			args := f.payArgs(f.c, a.no, n)
			args["password"] = pin()
			if r := f.c.call(payPath, args); r.code == codeSuccess {
				paid += n
				pays = append(pays, &payment{args["out_trade_no"].(string), n})
			}
		case 5, 6:
			b := accts[rng.IntN(len(accts))]
			if b.no == a.no {
				continue
			}
			f.c.call(transferPath, map[string]any{"account_no": a.no, "payee_account_no": b.no, "payee_name": b.name,
				"out_trade_no": f.orderNo(), "amount": amount(), "password": pin()})
		case 7:
			if len(pays) == 0 {
				continue
			}
			p := pays[rng.IntN(len(pays))]
			n := 1 + rng.Int64N(p.left+50) // sometimes over what is left
			r := f.c.call(refundPath, map[string]any{"out_trade_no": p.outTradeNo, "out_refund_no": f.orderNo(), "amount": n})
			if r.code == codeSuccess {
				refunded += n
				p.left -= n
			} else {
				require.Contains(t, []string{codeRefundAmountExceeded}, r.code)
			}
		case 8:
			if rng.IntN(2) == 0 {
				require.NoError(t, f.bank.Freeze(a.no))
			} else {
				require.NoError(t, f.bank.Unfreeze(a.no))
			}
		case 9:
			f.bank.AdvanceClock(time.Duration(rng.IntN(30)) * time.Hour)
		}

		var total int64
		for _, a := range accts {
			bal := f.balance(f.c, a.no)
			require.GreaterOrEqual(t, bal, int64(0), "step %d", step)
			ledger, err := f.bank.Ledger(a.no)
			require.NoError(t, err)
			var sum int64
			outByDay := map[string]int64{}
			for _, e := range ledger {
				sum += e.Amount
				require.Equal(t, sum, e.BalanceAfter)
				require.GreaterOrEqual(t, e.BalanceAfter, int64(0))
				if e.Type == ledgerPay || e.Type == ledgerTransferOut {
					outByDay[dayKey(e.Time)] -= e.Amount
				}
			}
			require.Equal(t, bal, sum, "ledger of %s adds up to its balance", a.no)
			for day, out := range outByDay {
				require.LessOrEqual(t, out, dailyLimit, "%s on %s", a.no, day)
			}
			total += bal
		}
		require.Equal(t, recharged+refunded-withdrawn-paid, total, "step %d: money conserved", step)
	}
}

package statement_test

import (
	"bytes"
	"errors"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment/statement"
)

func seq[T any](xs []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for _, x := range xs {
			if !yield(x, nil) {
				return
			}
		}
	}
}

func booksOf(recs []statement.TradeRecord) []statement.MerchantRecord {
	out := make([]statement.MerchantRecord, len(recs))
	for i, r := range recs {
		out[i] = books(r)
	}
	return out
}

func TestReconcileKinds(t *testing.T) {
	t.Parallel()
	bank := genTrades(21) // line 6, 13 and 20 are refunds, 0 and 11 FAILED
	require.Equal(t, statement.TradeRefund, bank[13].Type)
	extra := statement.MerchantRecord{Time: bank[4].Time, Type: statement.TradePay, OutTradeNo: "T-never-reached-bank",
		Amount: 500, Status: statement.StatusProcessing}
	cases := []struct {
		name  string
		books func([]statement.MerchantRecord) []statement.MerchantRecord
		kind  statement.DiffKind
		bankN int64 // the bank's amount in the difference
		mine  int64 // yours
	}{
		{"an unknown outcome never booked", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			return slices.Delete(m, 5, 6)
		}, statement.MissingInBooks, bank[5].Amount, 0},
		{"a refund never booked", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			return slices.Delete(m, 13, 14)
		}, statement.MissingInBooks, bank[13].Amount, 0},
		{"booked but not at the bank", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			return slices.Insert(m, 5, extra)
		}, statement.MissingAtBank, 0, 500},
		{"another amount", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			m[7].Amount++
			return m
		}, statement.AmountMismatch, bank[7].Amount, bank[7].Amount + 1},
		{"still PROCESSING in the books", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			m[8].Status = statement.StatusProcessing
			return m
		}, statement.StatusMismatch, bank[8].Amount, bank[8].Amount},
		{"booked as success, failed at the bank", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			m[11].Status = statement.StatusSuccess
			return m
		}, statement.StatusMismatch, bank[11].Amount, bank[11].Amount},
		{"another type", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			m[2].Type = statement.TradeWithdraw
			return m
		}, statement.TypeMismatch, bank[2].Amount, bank[2].Amount},
		{"a refund of another order", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			m[6].OutTradeNo = "T-other"
			return m
		}, statement.TypeMismatch, bank[6].Amount, bank[6].Amount},
		{"an order booked twice", func(m []statement.MerchantRecord) []statement.MerchantRecord {
			return slices.Insert(m, 10, m[9])
		}, statement.MissingAtBank, 0, bank[9].Amount},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := statement.Reconcile(seq(bank), seq(c.books(booksOf(bank))))
			require.NoError(t, err)
			require.NoError(t, r.Check())
			require.False(t, r.Clean())
			require.Len(t, r.Differences, 1)
			d := r.Differences[0]
			require.Equal(t, c.kind, d.Kind)
			var bankAmt, mine int64
			if d.Bank != nil {
				bankAmt = d.Bank.Amount
			}
			if d.Books != nil {
				mine = d.Books.Amount
			}
			require.Equal(t, c.bankN, bankAmt)
			require.Equal(t, c.mine, mine)
			require.Equal(t, int64(len(bank)), r.Bank.Lines)
			require.Equal(t, int64(len(bank))-1+boolInt(c.kind == statement.MissingAtBank), r.Matched.Lines)
		})
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestReconcileCleanDay(t *testing.T) {
	t.Parallel()
	bank := genTrades(10_000)
	// MaxPending(2): a matching line never waits for long, however many.
	r, err := statement.Reconcile(seq(bank), seq(booksOf(bank)), statement.MaxPending(2))
	require.NoError(t, err)
	require.True(t, r.Clean())
	require.Equal(t, int64(10_000), r.Matched.Lines)
	require.Equal(t, r.Bank, r.Books)
	require.Equal(t, r.Bank, r.Matched)
}

func TestReconcileInputErrors(t *testing.T) {
	t.Parallel()
	bank := genTrades(50)
	mine := booksOf(bank)

	swapped := slices.Clone(mine)
	swapped[10], swapped[30] = swapped[30], swapped[10]
	_, err := statement.Reconcile(seq(bank), seq(swapped))
	require.ErrorIs(t, err, statement.ErrOutOfOrder)
	var re *statement.RecordError
	require.True(t, errors.As(err, &re))
	require.Equal(t, "books", re.Side)
	require.Equal(t, int64(12), re.Index, "the first record before its predecessor")

	bad := slices.Clone(mine)
	bad[3].OutTradeNo = ""
	_, err = statement.Reconcile(seq(bank), seq(bad))
	require.ErrorIs(t, err, statement.ErrBadRecord)
	require.ErrorContains(t, err, "books record 4: out_trade_no")

	bad = slices.Clone(mine)
	bad[6].OutRefundNo = "" // a REFUND
	_, err = statement.Reconcile(seq(bank), seq(bad))
	require.ErrorContains(t, err, "out_refund_no")

	bad = slices.Clone(mine)
	bad[1].Status = "DONE"
	_, err = statement.Reconcile(seq(bank), seq(bad))
	require.ErrorContains(t, err, "status")

	// Your records a day late, and in another order than the bank's:
	// every bank line waits for its partner.
	late := make([]statement.MerchantRecord, len(mine))
	for i := range late {
		late[i] = mine[(i+25)%len(mine)]
		late[i].Time = mine[i].Time.Add(24 * time.Hour)
	}
	_, err = statement.Reconcile(seq(bank), seq(late), statement.MaxPending(10))
	require.ErrorIs(t, err, statement.ErrTooManyPending)
	r, err := statement.Reconcile(seq(bank), seq(late))
	require.NoError(t, err, "without the bound they still pair up")
	require.True(t, r.Clean())

	// A refused statement ends the reconciliation without a report.
	refused := func(yield func(statement.TradeRecord, error) bool) {
		if yield(bank[0], nil) {
			yield(statement.TradeRecord{}, statement.ErrSM3)
		}
	}
	r, err = statement.Reconcile(refused, seq(mine))
	require.ErrorIs(t, err, statement.ErrSM3)
	require.Nil(t, r)

	failing := func(yield func(statement.MerchantRecord, error) bool) {
		yield(statement.MerchantRecord{}, errors.New("database down"))
	}
	_, err = statement.Reconcile(seq(bank), failing)
	require.ErrorContains(t, err, "database down")
}

func TestReconcileOnDifference(t *testing.T) {
	t.Parallel()
	bank := genTrades(100)
	mine := booksOf(bank)[:90]
	var got []statement.Difference
	r, err := statement.Reconcile(seq(bank), seq(mine), statement.OnDifference(func(d statement.Difference) error {
		got = append(got, d)
		return nil
	}))
	require.NoError(t, err)
	require.Empty(t, r.Differences)
	require.Len(t, got, 10)
	require.Equal(t, int64(10), r.MissingInBooks.Lines)
	require.NoError(t, r.Check())
	for i := 1; i < len(got); i++ {
		require.False(t, got[i].Bank.Time.Before(got[i-1].Bank.Time), "unmatched lines come in time order")
	}
	stop := errors.New("stop")
	_, err = statement.Reconcile(seq(bank), seq(mine), statement.OnDifference(func(statement.Difference) error { return stop }))
	require.ErrorIs(t, err, stop)
}

// TestReconcileProperty: random days, random changes to the books; every
// change shows as exactly its difference, and the totals add up.
func TestReconcileProperty(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 200; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		n := rng.IntN(400)
		bank := genTrades(n)
		var mine []statement.MerchantRecord
		want := map[statement.DiffKind]int64{}
		wantAmt := map[statement.DiffKind][2]int64{}
		add := func(k statement.DiffKind, b, m int64) {
			want[k]++
			a := wantAmt[k]
			wantAmt[k] = [2]int64{a[0] + b, a[1] + m}
		}
		for i, b := range bank {
			m := books(b)
			// Your clock is a little off the bank's, and rounds differently.
			m.Time = m.Time.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
			switch rng.IntN(20) {
			case 0:
				add(statement.MissingInBooks, b.Amount, 0)
				continue
			case 1:
				m.Amount += 1 + rng.Int64N(1000)
				add(statement.AmountMismatch, b.Amount, m.Amount)
			case 2:
				m.Status = statement.StatusProcessing
				add(statement.StatusMismatch, b.Amount, m.Amount)
			case 3:
				if b.Type == statement.TradeRefund {
					m.OutTradeNo += "x"
				} else {
					m.Type = map[statement.TradeType]statement.TradeType{
						statement.TradePay: statement.TradeRecharge, statement.TradeRecharge: statement.TradeWithdraw,
						statement.TradeWithdraw: statement.TradeTransfer, statement.TradeTransfer: statement.TradePay,
					}[b.Type]
				}
				add(statement.TypeMismatch, b.Amount, m.Amount)
			case 4:
				extra := statement.MerchantRecord{Time: m.Time, Type: statement.TradePay, OutTradeNo: "X" + pad(i, 8),
					Amount: 1 + rng.Int64N(5000), Status: statement.StatusSuccess}
				mine = append(mine, extra)
				add(statement.MissingAtBank, 0, extra.Amount)
			}
			mine = append(mine, m)
		}
		slices.SortStableFunc(mine, func(a, b statement.MerchantRecord) int { return a.Time.Compare(b.Time) })

		r, err := statement.Reconcile(seq(bank), seq(mine))
		require.NoError(t, err, "seed %d", seed)
		require.NoError(t, r.Check(), "seed %d", seed)
		pairs := map[statement.DiffKind]statement.PairTally{
			statement.TypeMismatch: r.TypeMismatch, statement.AmountMismatch: r.AmountMismatch, statement.StatusMismatch: r.StatusMismatch,
		}
		for k, p := range pairs {
			require.Equal(t, want[k], p.Pairs, "seed %d %s", seed, k)
			require.Equal(t, wantAmt[k], [2]int64{p.BankAmount, p.BooksAmount}, "seed %d %s", seed, k)
		}
		require.Equal(t, want[statement.MissingInBooks], r.MissingInBooks.Lines, "seed %d", seed)
		require.Equal(t, wantAmt[statement.MissingInBooks][0], r.MissingInBooks.Amount, "seed %d", seed)
		require.Equal(t, want[statement.MissingAtBank], r.MissingAtBank.Lines, "seed %d", seed)
		require.Equal(t, wantAmt[statement.MissingAtBank][1], r.MissingAtBank.Amount, "seed %d", seed)
		var total int64
		for _, v := range want {
			total += v
		}
		require.Len(t, r.Differences, int(total), "seed %d", seed)
		require.Equal(t, total == 0, r.Clean())
		require.Equal(t, int64(n), r.Bank.Lines)
		require.Equal(t, int64(len(mine)), r.Books.Lines)
	}
}

// TestStatementReconcileCopiesWhatItKeeps: Statement.Reconcile reads lines
// without copying them; the lines it keeps (waiting, or different) must
// survive the read buffer's reuse. Its report must equal the one of
// Reconcile over Trades, differences included, on a file of many buffers
// with books that wait and differ.
func TestStatementReconcileCopiesWhatItKeeps(t *testing.T) {
	t.Parallel()
	bank := genTrades(20_000)
	b := tradeFile(t, bank)
	rng := rand.New(rand.NewPCG(7, 7))
	var mine []statement.MerchantRecord
	for _, r := range bank {
		m := books(r)
		// Up to a minute late: many lines wait for their partner.
		m.Time = m.Time.Add(time.Duration(rng.IntN(60)) * time.Second)
		switch rng.IntN(50) {
		case 0:
			continue
		case 1:
			m.Amount++
		case 2:
			m.Status = statement.StatusProcessing
		}
		mine = append(mine, m)
	}
	slices.SortStableFunc(mine, func(a, b statement.MerchantRecord) int { return a.Time.Compare(b.Time) })

	read := func() *statement.Statement {
		st, err := statement.NewReader(bytes.NewReader(b.file), testKey, b.d)
		require.NoError(t, err)
		return st
	}
	want, err := statement.Reconcile(read().Trades(), seq(mine))
	require.NoError(t, err)
	st := read()
	got, err := st.Reconcile(seq(mine))
	require.NoError(t, err)
	require.True(t, st.Complete())
	require.NotEmpty(t, want.Differences)
	require.Equal(t, want, got)
	for _, d := range got.Differences {
		if d.Bank != nil {
			require.Regexp(t, `^B20261124\d{17}$`, d.Bank.TradeNo, "a kept line is intact")
			require.Regexp(t, `^62368800\d{8}$`, d.Bank.AccountNo)
		}
	}
}

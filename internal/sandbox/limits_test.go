package sandbox

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// TestLimitsDayAndYear drives the section 8 limits exactly to their bounds
// and one fen over, across day and year turnovers on the business clock.
func TestLimitsDayAndYear(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, wire.Shanghai)
	f := newFixtureAt(t, start)
	a, _ := f.newAccount()  // pays and transfers out
	b, pb := f.newAccount() // receives transfers
	c, _ := f.newAccount()  // a second payer
	f.recharge(f.c, a, 25_000_000)
	f.recharge(f.c, c, 1_000)
	transfer := func(from, to string, name string, amount int64) *tresp {
		return f.c.call(transferPath, map[string]any{"account_no": from, "payee_account_no": to, "payee_name": name,
			"out_trade_no": f.orderNo(), "amount": amount, "password": f.c.pin(goodPIN)})
	}

	// Day 1: exactly at the daily bound in two steps.
	require.Equal(t, codeSuccess, transfer(a, b, pb.name, 999_999).code)
	require.Equal(t, codeSuccess, transfer(a, b, pb.name, 1).code)
	// One fen over: the payer's out-limit...
	r := f.c.call(payPath, f.payArgs(f.c, a, 1))
	require.Equal(t, codeDailyLimitExceeded, r.code)
	// ...and the payee's in-limit, for another payer.
	r = transfer(c, b, pb.name, 1)
	require.Equal(t, codeDailyLimitExceeded, r.code)
	require.Contains(t, r.msg, "payee")
	// Recharge and withdrawal do not count.
	f.recharge(f.c, a, 1)
	f.c.ok(withdrawPath, map[string]any{"account_no": a, "out_trade_no": f.orderNo(), "amount": 1, "password": f.c.pin(goodPIN)})

	// The day turns over at midnight UTC+8, not a second earlier.
	f.bank.AdvanceClock(13*time.Hour + 59*time.Minute + 59*time.Second) // 23:59:59
	require.Equal(t, codeDailyLimitExceeded, f.c.call(payPath, f.payArgs(f.c, a, 1)).code)
	f.bank.AdvanceClock(time.Second) // 00:00:00 on day 2
	require.Equal(t, "2026-01-06 00:00:00", formatTime(f.bank.BusinessNow()))
	require.Equal(t, codeSuccess, f.c.call(payPath, f.payArgs(f.c, a, 1)).code)
	require.Equal(t, codeSuccess, transfer(a, b, pb.name, 999_999).code)
	require.Equal(t, codeSuccess, transfer(c, b, pb.name, 1).code)

	// Days 3 to 20: a million a day; by then the year is used up exactly.
	for day := 3; day <= 20; day++ {
		f.bank.AdvanceClock(24 * time.Hour)
		require.Equal(t, codeSuccess, transfer(a, b, pb.name, 1_000_000).code, "day %d", day)
	}
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": a}).decode(t, &v)
	require.Equal(t, int64(20_000_000), v.Limits.YearlyOutUsed)
	f.c.ok(queryPath, map[string]any{"account_no": b}).decode(t, &v)
	require.Equal(t, int64(20_000_000), v.Limits.YearlyInUsed)

	// Day 21: the daily limit is free again, the yearly one is not.
	f.bank.AdvanceClock(24 * time.Hour)
	r = f.c.call(payPath, f.payArgs(f.c, a, 1))
	require.Equal(t, codeYearlyLimitExceeded, r.code)
	r = transfer(c, b, pb.name, 1)
	require.Equal(t, codeYearlyLimitExceeded, r.code)
	require.Contains(t, r.msg, "payee")

	// The year turns over at midnight UTC+8 on 1 January.
	newYear := time.Date(2027, 1, 1, 0, 0, 0, 0, wire.Shanghai)
	f.bank.AdvanceClock(newYear.Sub(f.bank.BusinessNow()) - time.Second)
	require.Equal(t, "2026-12-31 23:59:59", formatTime(f.bank.BusinessNow()))
	require.Equal(t, codeYearlyLimitExceeded, f.c.call(payPath, f.payArgs(f.c, a, 1)).code)
	f.bank.AdvanceClock(time.Second)
	require.Equal(t, codeSuccess, f.c.call(payPath, f.payArgs(f.c, a, 1)).code)
	require.Equal(t, codeSuccess, transfer(c, b, pb.name, 1).code)
	f.c.ok(queryPath, map[string]any{"account_no": a}).decode(t, &v)
	require.Equal(t, int64(1), v.Limits.YearlyOutUsed)
	require.Equal(t, int64(1), v.Limits.DailyOutUsed)
}

// newFixtureAt is a fixture whose real clock starts at t.
func newFixtureAt(tb testing.TB, start time.Time) *fixture {
	tb.Helper()
	f := newFixture(tb)
	f.clock.Add(start.Sub(f.clock.Now()))
	return f
}

// TestConcurrentPaymentsRespectTheLimit: payments racing the daily limit
// never exceed it, and balances stay exact.
func TestConcurrentPaymentsRespectTheLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // one daily limit
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 5_000_000)
	const n = 24
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = bizJSON(t, f.payArgs(f.c, acct, 100_000))
	}
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.c.send(&treq{path: payPath, biz: bodies[i]})
			codes[i] = r.code
		}()
	}
	wg.Wait()
	counts := map[string]int{}
	for _, c := range codes {
		counts[c]++
	}
	require.Equal(t, map[string]int{codeSuccess: 10, codeDailyLimitExceeded: n - 10}, counts)
	require.Equal(t, int64(4_000_000), f.balance(f.c, acct))
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, int64(1_000_000), v.Limits.DailyOutUsed)
}

// TestConcurrentTransfersConserveMoney: transfers both ways at once never
// create or lose money and never overdraw.
func TestConcurrentTransfersConserveMoney(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	a, pa := f.newAccount()
	b, pb := f.newAccount()
	f.recharge(f.c, a, 3_000)
	f.recharge(f.c, b, 3_000)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		from, to, name := a, b, pb.name
		if i%2 == 1 {
			from, to, name = b, a, pa.name
		}
		biz := bizJSON(t, map[string]any{"account_no": from, "payee_account_no": to, "payee_name": name,
			"out_trade_no": f.orderNo(), "amount": 700, "password": f.c.pin(goodPIN)})
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.c.send(&treq{path: transferPath, biz: biz})
			if r.code != codeSuccess && r.code != codeInsufficientBalance {
				t.Errorf("transfer: %s %s", r.code, r.msg)
			}
		}()
	}
	wg.Wait()
	ba, bb := f.balance(f.c, a), f.balance(f.c, b)
	require.Equal(t, int64(6_000), ba+bb)
	require.GreaterOrEqual(t, ba, int64(0))
	require.GreaterOrEqual(t, bb, int64(0))
}

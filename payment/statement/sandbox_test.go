package statement_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/payment/statement"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The reader against the sandbox bank's files: two implementations of the
// format, written apart, that must agree. The call to bill/download goes
// through wallet.Client.Do, which signs it with the TEST merchant key.

// sandboxDay makes a business day of activity in a sandbox and ends it; it
// returns the merchant's own books of the day (from the answers).
func sandboxDay(t *testing.T, sb *wallettest.Server) []statement.MerchantRecord {
	t.Helper()
	ctx := context.Background()
	c := sb.Client()
	pay := payment.New(c)
	a := sb.OpenAccount(wallettest.Person())
	b := sb.OpenAccount(wallettest.Person())
	var mine []statement.MerchantRecord
	order := func(o *payment.Order, err error) *payment.Order {
		t.Helper()
		require.NoError(t, err)
		mine = append(mine, statement.MerchantRecord{Time: o.FinishedAt, Type: statement.TradeType(o.Type),
			OutTradeNo: o.OutTradeNo, Amount: o.Amount, Status: o.Status})
		return o
	}
	order(sb.Recharge(a, 500_00), nil)
	order(sb.Recharge(b, 20_00), nil)
	pin := wallettest.PIN(t, c)
	for i := 0; i < 30; i++ {
		p := order(pay.Pay(ctx, payment.PayRequest{AccountNo: a, OutTradeNo: payment.NewOutTradeNo(), Amount: int64(100 + i),
			Subject: "会员", Password: pin}))
		if i%10 == 0 {
			r, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: p.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 50})
			require.NoError(t, err)
			mine = append(mine, statement.MerchantRecord{Time: r.RefundedAt, Type: statement.TradeRefund,
				OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, Amount: r.Amount, Status: r.Status})
		}
	}
	order(pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: b, OutTradeNo: payment.NewOutTradeNo(), Amount: 5_00, Password: pin}))
	slices.SortStableFunc(mine, func(x, y statement.MerchantRecord) int { return x.Time.Compare(y.Time) })
	sb.AdvanceClock(24 * time.Hour)
	return mine
}

// descriptorOf asks the sandbox for a statement.
func descriptorOf(t *testing.T, sb *wallettest.Server, day time.Time, typ statement.Type) (statement.Descriptor, []byte) {
	t.Helper()
	c := sb.Client()
	var d statement.Descriptor
	require.NoError(t, c.Do(context.Background(), statement.API, statement.Request{Date: day, Type: typ}, &d))
	key, err := statement.OpenKey(context.Background(), sb.Config().PrivateKey, d)
	require.NoError(t, err)
	return d, key
}

func sandboxGet(sb *wallettest.Server, d statement.Descriptor) statement.GetFunc {
	return statement.HTTPGet(&http.Client{}, statement.FileURL(sb.Client().BaseURL(), d.FileID))
}

func TestSandboxStatementsReconcile(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	day := sb.BusinessNow()
	mine := sandboxDay(t, sb)

	d, key := descriptorOf(t, sb, day, statement.Trade)
	require.Equal(t, int64(len(mine)), d.Records)
	st, err := statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.NoError(t, err)
	r, err := statement.Reconcile(st.Trades(), seq(mine))
	require.NoError(t, err)
	require.True(t, st.Complete())
	require.True(t, r.Clean(), "%+v", r.Differences)
	require.Equal(t, d.Records, r.Matched.Lines)
	require.Equal(t, d.AmountSum, r.Matched.Amount)

	// A payment the merchant took for failed (an unknown outcome never
	// resolved) and a refund booked twice as much.
	var refund int
	for i, m := range mine {
		if m.Type == statement.TradeRefund {
			refund = i
		}
	}
	changed := slices.Clone(mine)
	changed[refund].Amount *= 2
	changed = slices.Delete(changed, 3, 4)
	d, key = descriptorOf(t, sb, day, statement.Trade)
	st, err = statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.NoError(t, err)
	r, err = statement.Reconcile(st.Trades(), seq(changed))
	require.NoError(t, err)
	require.NoError(t, r.Check())
	require.Equal(t, int64(1), r.MissingInBooks.Lines)
	require.Equal(t, mine[3].OutTradeNo, r.Differences[len(r.Differences)-1].Bank.OutTradeNo)
	require.Equal(t, int64(1), r.AmountMismatch.Pairs)

	// LEDGER: every movement, each account's balance chain unbroken.
	d, key = descriptorOf(t, sb, day, statement.Ledger)
	st, err = statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.NoError(t, err)
	balance := map[string]int64{}
	for rec, err := range st.Ledger() {
		require.NoError(t, err)
		require.Equal(t, balance[rec.AccountNo]+rec.Amount, rec.BalanceAfter)
		balance[rec.AccountNo] = rec.BalanceAfter
	}
	require.True(t, st.Complete())
	for acct, bal := range balance {
		entries := sb.Ledger(acct)
		require.Equal(t, entries[len(entries)-1].BalanceAfter, bal)
	}
}

func TestSandboxQuietDayAndNotReady(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	c := sb.Client()
	yesterday := sb.BusinessNow().AddDate(0, 0, -1)
	d, key := descriptorOf(t, sb, yesterday, statement.Ledger)
	require.Equal(t, int64(0), d.Records)
	st, err := statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.NoError(t, err)
	require.NoError(t, st.Verify())

	var nd statement.Descriptor
	err = c.Do(context.Background(), statement.API, statement.Request{Date: sb.BusinessNow(), Type: statement.Trade}, &nd)
	var apiErr *wallet.APIError
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, wallet.ErrorCode("BILL_NOT_READY"), apiErr.Code)

	// An id the bank never gave (or one that expired) is ErrExpired.
	d.FileID = "0123456789abcdef0123456789abcdef"
	_, err = statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.ErrorIs(t, err, statement.ErrExpired)
}

// TestSandboxFaults: the sandbox's statement faults, as the reader sees
// them: a cut download resumes unseen, a flipped byte is refused.
func TestSandboxFaults(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t)
	day := sb.BusinessNow()
	mine := sandboxDay(t, sb)
	d, key := descriptorOf(t, sb, day, statement.Trade)

	sb.InjectFault(wallettest.Fault{Kind: "bill_truncate", Count: 2})
	st, err := statement.Download(context.Background(), sandboxGet(sb, d), key, d, statement.WithRetryWait(time.Millisecond))
	require.NoError(t, err)
	r, err := statement.Reconcile(st.Trades(), seq(mine))
	require.NoError(t, err)
	require.True(t, r.Clean())
	require.Equal(t, 2, st.Resumes(), "the first download and the first resume were cut")

	sb.InjectFault(wallettest.Fault{Kind: "bill_corrupt"})
	st, err = statement.Download(context.Background(), sandboxGet(sb, d), key, d)
	require.NoError(t, err)
	_, err = statement.Reconcile(st.Trades(), seq(mine))
	require.ErrorIs(t, err, statement.ErrSegment)
	require.False(t, st.Complete())

	sb.InjectFault(wallettest.Fault{Kind: "bill_truncate", Count: 10})
	st, err = statement.Download(context.Background(), sandboxGet(sb, d), key, d,
		statement.WithRetries(3), statement.WithRetryWait(time.Millisecond))
	require.NoError(t, err)
	require.ErrorIs(t, st.Verify(), statement.ErrDownload)
}

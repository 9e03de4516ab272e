package payment_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func openJournal(t *testing.T, path string) *payment.FileJournal {
	t.Helper()
	j, err := payment.OpenFileJournal(path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = j.Close() })
	return j
}

func TestFileJournalKeepsPendingAcrossReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal")
	j := openJournal(t, path)
	now := time.Now()
	for i, id := range []string{"a1", "b2", "c3"} {
		require.NoError(t, j.Begin(ctx, payment.Entry{MsgID: id, Path: "payment/pay", OrderNo: "T" + id, Request: []byte(`{"amount":1}`), Begun: now.Add(time.Duration(i) * time.Second)}))
	}
	require.Error(t, j.Begin(ctx, payment.Entry{MsgID: "a1"}), "a msg_id is recorded once")
	require.NoError(t, j.Settle(ctx, "b2", payment.Outcome{Code: "SUCCESS", Result: []byte(`{"trade_no":"B1"}`)}))
	require.NoError(t, j.Settle(ctx, "b2", payment.Outcome{Code: "INSUFFICIENT_BALANCE"}), "settling again is a no-op")
	require.NoError(t, j.Settle(ctx, "zz", payment.Outcome{Code: "SUCCESS"}), "an unknown msg_id is a no-op")
	require.NoError(t, j.Close())

	// A crash in the middle of a write leaves a torn last line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"op":"begin","entry":{"msg_id":"torn"`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	again := openJournal(t, path)
	pending, err := again.Pending(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 2)
	require.Equal(t, "a1", pending[0].MsgID, "oldest first")
	require.Equal(t, "c3", pending[1].MsgID)
	require.JSONEq(t, `{"amount":1}`, string(pending[0].Request))
	require.Error(t, again.Begin(ctx, payment.Entry{MsgID: "b2"}), "a settled msg_id is not begun again")
	require.NoError(t, again.Begin(ctx, payment.Entry{MsgID: "d4", Begun: now}), "writes go on after the dropped torn line")
}

func TestFileJournalIsOneProcessOnly(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal")
	openJournal(t, path)
	_, err := payment.OpenFileJournal(path)
	require.ErrorContains(t, err, "in use by another process")
}

func TestFileJournalCompacts(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal")
	j := openJournal(t, path)
	for i := 0; i < 200; i++ {
		id := wallet.NewMsgID()
		require.NoError(t, j.Begin(ctx, payment.Entry{MsgID: id, Begun: time.Now()}))
		if i != 7 {
			require.NoError(t, j.Settle(ctx, id, payment.Outcome{Code: "SUCCESS"}))
		}
	}
	require.NoError(t, j.Close())
	before, err := os.Stat(path)
	require.NoError(t, err)
	again := openJournal(t, path)
	after, err := os.Stat(path)
	require.NoError(t, err)
	require.Less(t, after.Size(), before.Size()/50, "settled entries are dropped on open")
	pending, err := again.Pending(ctx)
	require.NoError(t, err)
	require.Len(t, pending, 1)
}

// journaledBed is a payment service with a journal against the sandbox.
type journaledBed struct {
	sb   *wallettest.Server
	c    *wallet.Client
	j    *payment.FileJournal
	svc  *payment.Service
	acct string
}

func newJournaledBed(t *testing.T) *journaledBed {
	t.Helper()
	sb := wallettest.NewServer(t)
	sb.AdvanceClockTo(10, 0)
	c := sb.Client(wallet.WithRetry(0), wallet.WithTimeout(500*time.Millisecond))
	j := openJournal(t, filepath.Join(t.TempDir(), "journal"))
	acct := sb.OpenAccount(wallettest.Person())
	sb.Recharge(acct, 100_00)
	return &journaledBed{sb: sb, c: c, j: j, svc: payment.New(c, payment.WithJournal(j)), acct: acct}
}

func (b *journaledBed) pending(t *testing.T) []payment.Entry {
	t.Helper()
	p, err := b.j.Pending(ctx)
	require.NoError(t, err)
	return p
}

func (b *journaledBed) pay(t *testing.T, amount int64) payment.PayRequest {
	return payment.PayRequest{AccountNo: b.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: amount, Subject: "会员月卡", Password: wallettest.PIN(t, b.c)}
}

func TestJournalSettlesKnownOutcomes(t *testing.T) {
	t.Parallel()
	b := newJournaledBed(t)
	_, err := b.svc.Pay(ctx, b.pay(t, 10_00))
	require.NoError(t, err)
	_, err = b.svc.Pay(ctx, b.pay(t, 1_000_00))
	require.ErrorIs(t, err, wallet.ErrInsufficientBalance)
	done, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.svc.Pay(done, b.pay(t, 1_00))
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, b.pending(t), "a success, a refusal and a call that never left are all known: nothing pending")
	rec, err := b.svc.Recover(ctx)
	require.NoError(t, err)
	require.Equal(t, payment.Recovery{}, rec)
	require.Len(t, b.sb.Ledger(b.acct), 2, "the recharge and one payment: the cancelled call is never sent later")
}

// A call whose answer is lost stays pending; Recover settles it under its
// own msg_id, and the money moves once, whether the bank acted or not.
func TestRecoverSettlesWhatACrashLeft(t *testing.T) {
	t.Parallel()
	for _, kind := range []wallettest.FaultKind{wallettest.FaultDropAfterCommit, wallettest.FaultDropBeforeCommit, wallettest.FaultBadSignature} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := newJournaledBed(t)
			req := b.pay(t, 12_00)
			b.sb.InjectFault(wallettest.Fault{Kind: kind, Path: "payment/pay"})
			_, err := b.svc.Pay(ctx, req)
			require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)
			pending := b.pending(t)
			require.Len(t, pending, 1)
			require.Equal(t, req.OutTradeNo, pending[0].OrderNo)

			// A restarted process: a new client and service on the same journal.
			restarted := payment.New(b.sb.Client(), payment.WithJournal(b.j))
			rec, err := restarted.Recover(ctx)
			require.NoError(t, err)
			require.Equal(t, payment.Recovery{Pending: 1, Settled: 1}, rec)
			require.Empty(t, b.pending(t))
			o, err := restarted.Query(ctx, req.OutTradeNo)
			require.NoError(t, err)
			require.Equal(t, payment.StatusSuccess, o.Status)
			var pays int
			for _, e := range b.sb.Ledger(b.acct) {
				if e.OutTradeNo == req.OutTradeNo {
					pays++
				}
			}
			require.Equal(t, 1, pays, "the money moved exactly once")
		})
	}
}

func TestResolveSettlesTheJournalEntry(t *testing.T) {
	t.Parallel()
	b := newJournaledBed(t)
	req := b.pay(t, 3_00)
	b.sb.InjectFault(wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "payment/pay"})
	_, err := b.svc.Pay(ctx, req)
	require.True(t, wallet.IsOutcomeUnknown(err))
	msgID := b.pending(t)[0].MsgID
	o, err := b.svc.Resolve(ctx, req, msgID)
	require.NoError(t, err)
	require.Equal(t, req.OutTradeNo, o.OutTradeNo)
	require.Empty(t, b.pending(t))
}

func TestRecoverNeedsAJournal(t *testing.T) {
	t.Parallel()
	_, err := payment.New(wallettest.NewMockBank(t).Client()).Recover(ctx)
	require.ErrorContains(t, err, "WithJournal")
	_, err = payment.New(wallettest.NewMockBank(t).Client(), payment.WithJournal(nil)).Recover(ctx)
	require.ErrorContains(t, err, "nil Journal")
}

// flakyJournal fails its next Settle.
type flakyJournal struct {
	*payment.FileJournal
	failSettle bool
}

func (f *flakyJournal) Settle(ctx context.Context, msgID string, o payment.Outcome) error {
	if f.failSettle {
		f.failSettle = false
		return errors.New("journal down")
	}
	return f.FileJournal.Settle(ctx, msgID, o)
}

// A call the merchant was told failed must never be sent later by
// Recover: when the journal cannot record the failure, the merchant is
// told the outcome is unknown instead.
func TestAFailureTheJournalCannotRecordIsReportedUnknown(t *testing.T) {
	t.Parallel()
	b := newJournaledBed(t)
	j := &flakyJournal{FileJournal: b.j, failSettle: true}
	svc := payment.New(b.c, payment.WithJournal(j))
	done, cancel := context.WithCancel(ctx)
	cancel()
	req := payment.RechargeRequest{AccountNo: b.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 5_00}
	_, err := svc.Recharge(done, req)
	require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, b.pending(t), 1)
	rec, err := svc.Recover(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rec.Settled, "settled as the unknown outcome it was reported as")
}

// lostReplyJournal records Begin and then fails it, as a store does whose
// reply was lost or came too late.
type lostReplyJournal struct{ *payment.FileJournal }

func (j lostReplyJournal) Begin(ctx context.Context, e payment.Entry) error {
	if err := j.FileJournal.Begin(ctx, e); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// A Begin that failed may have been recorded: the merchant is told the
// outcome is unknown (not "failed"), and Recover makes the call once.
func TestABeginThatFailedMayHaveBeenRecorded(t *testing.T) {
	t.Parallel()
	b := newJournaledBed(t)
	svc := payment.New(b.c, payment.WithJournal(lostReplyJournal{b.j}))
	req := payment.RechargeRequest{AccountNo: b.acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 7_00}
	_, err := svc.Recharge(ctx, req)
	require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	pending := b.pending(t)
	require.Len(t, pending, 1)
	require.Contains(t, err.Error(), pending[0].MsgID, "the error names the msg_id to resolve")

	rec, err := payment.New(b.c, payment.WithJournal(b.j)).Recover(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, rec.Settled)
	o, err := b.svc.Query(ctx, req.OutTradeNo)
	require.NoError(t, err)
	require.Equal(t, wallet.StatusSuccess, o.Status, "made once, by Recover")
}

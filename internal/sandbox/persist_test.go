package sandbox

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// TestStateSurvivesRestart: with StatePath, New → Close → New keeps
// merchants, accounts, orders, refunds, ledgers and the business clock.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.db")
	clock := newFakeClock(testStart)
	open := func() *fixture {
		b, err := New(Options{Now: clock.Now, StatePath: path, NotifyScale: 0.001})
		require.NoError(t, err)
		f := &fixture{t: t, bank: b, clock: clock}
		f.c = f.client(DefaultAppID, DefaultMerchantID, mustPrivateKey(t, DefaultMerchantKeyPEM))
		return f
	}

	f := open()
	otherKey, err := sign.GenerateKey()
	require.NoError(t, err)
	require.NoError(t, f.bank.RegisterMerchant(Merchant{AppID: "kept-app", MerchantID: "M600000006", PublicKey: otherKey.Public(),
		NotifyURL: "https://merchant.example/notify"}))
	acct, p := f.newAccount()
	payee, pp := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	pay := f.payArgs(f.c, acct, 3_000)
	f.c.ok(payPath, pay)
	f.c.ok(refundPath, map[string]any{"out_trade_no": pay["out_trade_no"], "out_refund_no": "RF-0001", "amount": 1_000})
	f.c.ok(transferPath, map[string]any{"account_no": acct, "payee_account_no": payee, "payee_name": pp.name,
		"out_trade_no": f.orderNo(), "amount": 500, "password": f.c.pin(goodPIN)})
	require.NoError(t, f.bank.Freeze(payee))
	f.bank.AdvanceClock(2 * time.Hour)
	// Three wrong PINs are remembered too.
	for i := 0; i < 3; i++ {
		bad := f.payArgs(f.c, acct, 1)
		bad["password"] = f.c.pin("975310")
		f.c.fails(codePasswordIncorrect, payPath, bad)
	}
	var before accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &before)
	order := f.c.ok(orderQueryPath, map[string]any{"out_trade_no": pay["out_trade_no"]}).biz
	ledger, err := f.bank.Ledger(acct)
	require.NoError(t, err)
	seq := f.seq
	require.NoError(t, f.bank.Close())

	g := open()
	defer g.bank.Close()
	g.seq = seq
	var after accountView
	g.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &after)
	require.Equal(t, before, after)
	require.Equal(t, int64(7_500), after.Balance)
	require.Equal(t, int64(3_500), after.Limits.DailyOutUsed)
	require.JSONEq(t, string(order), string(g.c.ok(orderQueryPath, map[string]any{"out_trade_no": pay["out_trade_no"]}).biz))
	require.Equal(t, float64(1_000), g.c.ok(refundQueryPath, map[string]any{"out_refund_no": "RF-0001"}).obj(t)["amount"])
	ledger2, err := g.bank.Ledger(acct)
	require.NoError(t, err)
	require.Len(t, ledger2, len(ledger))
	for i := range ledger {
		require.True(t, ledger[i].Time.Equal(ledger2[i].Time))
		ledger2[i].Time = ledger[i].Time
	}
	require.Equal(t, ledger, ledger2)
	require.Equal(t, "2026-11-25 18:00:00", formatTime(g.bank.BusinessNow()), "the business clock is kept")
	require.Equal(t, "FROZEN", g.c.ok(queryPath, map[string]any{"account_no": payee}).obj(t)["status"])

	// The kept merchant still works, the person still has the account, PIN
	// failures still count, numbers keep counting up.
	k := g.client("kept-app", "M600000006", otherKey)
	k.fails(codeAccountNotFound, queryPath, map[string]any{"account_no": acct})
	g.c.fails(codeAccountAlreadyOpened, openPath, g.openArgs(g.c, p))
	for i := 0; i < 2; i++ {
		bad := g.payArgs(g.c, acct, 1)
		bad["password"] = g.c.pin("975310")
		g.c.fails(codePasswordIncorrect, payPath, bad)
	}
	g.c.fails(codePasswordLocked, payPath, g.payArgs(g.c, acct, 1))
	third, _ := g.newAccount()
	require.Equal(t, "6236880000000003", third)
	require.NotEmpty(t, g.c.ok(rechargePath, map[string]any{"account_no": third, "out_trade_no": g.orderNo(), "amount": 1}).obj(t)["trade_no"])
}

func TestStateFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := New(Options{StatePath: filepath.Join(dir, "missing", "dir", "state.db")})
	require.Error(t, err)
	// A second bank cannot open a file the first holds.
	path := filepath.Join(dir, "state.db")
	b, err := New(Options{StatePath: path})
	require.NoError(t, err)
	defer b.Close()
	_, err = New(Options{StatePath: path})
	require.Error(t, err)
}

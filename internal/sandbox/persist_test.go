package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// TestStateSurvivesRestart: with StatePath, New → Close → New keeps
// merchants, accounts, orders, refunds, ledgers and the business clock.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.jsonl")
	clock := newFakeClock(testStart)
	open := func() *fixture {
		b, err := New(Options{Now: clock.Now, StatePath: path, NotifyScale: 0.001})
		require.NoError(t, err)
		f := &fixture{t: t, bank: b, clock: clock}
		f.c = f.client(DefaultAppID, DefaultMerchantID, mustPrivateKey(t, DefaultMerchantKeyPEM))
		return f
	}

	f := open()
	start := f.sameDay() // the PIN failures below count within one day
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
	require.Equal(t, formatTime(start.Add(2*time.Hour)), formatTime(g.bank.BusinessNow()), "the business clock is kept")
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

// TestStateTornLastLine: a crash in the middle of an append leaves a last
// line cut short; the next start drops it (that transaction never
// happened, as its caller never got an answer), keeps everything before,
// and compacts the log so that the next append starts on a whole line.
func TestStateTornLastLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.jsonl")
	clock := newFakeClock(testStart)
	open := func() *fixture {
		b, err := New(Options{Now: clock.Now, StatePath: path})
		require.NoError(t, err)
		f := &fixture{t: t, bank: b, clock: clock}
		f.c = f.client(DefaultAppID, DefaultMerchantID, mustPrivateKey(t, DefaultMerchantKeyPEM))
		return f
	}
	f := open()
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	seq := f.seq
	require.NoError(t, f.bank.Close())
	whole, err := os.ReadFile(path)
	require.NoError(t, err)

	for name, tail := range map[string]string{
		"cut short":       `{"accounts":[{"no":"6236880000000099","bal`,
		"zeros":           "\x00\x00\x00\x00",
		"whole but wrong": "{\"accounts\":[\n",
	} {
		require.NoError(t, os.WriteFile(path, append(slices.Clone(whole), tail...), 0o600), name)
		g := open()
		g.seq = seq
		require.Equal(t, int64(1_000), g.balance(g.c, acct), name)
		g.recharge(g.c, acct, 1)
		require.Equal(t, int64(1_001), g.balance(g.c, acct), name)
		require.NoError(t, g.bank.Close())
		// The restart compacted the log: no trace of the torn line.
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NotContains(t, string(data), "6236880000000099", name)
		require.True(t, bytes.HasSuffix(data, []byte("\n")), name)

		g = open()
		require.Equal(t, int64(1_001), g.balance(g.c, acct), name)
		require.NoError(t, g.bank.Close())
		require.NoError(t, os.WriteFile(path, whole, 0o600))
	}

	// A bad line before good ones is not an interrupted append: the file
	// is damaged, and the bank refuses to start rather than lose data.
	lines := bytes.SplitAfter(whole, []byte("\n"))
	damaged := slices.Concat(lines[0], []byte("{not json}\n"), bytes.Join(lines[1:], nil))
	require.NoError(t, os.WriteFile(path, damaged, 0o600))
	_, err = New(Options{Now: clock.Now, StatePath: path})
	require.ErrorContains(t, err, "line 2 is not a saved transaction")
}

// TestStateCompactsAtOpen: the log grows by one line per transaction while
// the bank runs and is rewritten as one snapshot at the next start, which
// replays to the same state.
func TestStateCompactsAtOpen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "state.jsonl")
	clock := newFakeClock(testStart)
	b, err := New(Options{Now: clock.Now, StatePath: path})
	require.NoError(t, err)
	f := &fixture{t: t, bank: b, clock: clock}
	f.c = f.client(DefaultAppID, DefaultMerchantID, mustPrivateKey(t, DefaultMerchantKeyPEM))
	acct, _ := f.newAccount()
	for range 20 {
		f.recharge(f.c, acct, 1)
	}
	require.NoError(t, b.Close())
	grown, err := os.ReadFile(path)
	require.NoError(t, err)
	require.GreaterOrEqual(t, bytes.Count(grown, []byte("\n")), 21)

	b, err = New(Options{Now: clock.Now, StatePath: path})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	compact, err := os.ReadFile(path)
	require.NoError(t, err)
	// One line each for accounts, orders, ledger and meta.
	require.Equal(t, 4, bytes.Count(compact, []byte("\n")), string(compact))
	require.Less(t, len(compact), len(grown))
	b, err = New(Options{Now: clock.Now, StatePath: path})
	require.NoError(t, err)
	defer b.Close()
	ledger, err := b.Ledger(acct)
	require.NoError(t, err)
	require.Len(t, ledger, 20)
	require.Equal(t, int64(20), ledger[19].BalanceAfter)
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, compact, again, "one state, one file")
}

func TestStateFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := New(Options{StatePath: filepath.Join(dir, "missing", "dir", "state.jsonl")})
	require.Error(t, err)
	// A second bank cannot open a file the first holds.
	path := filepath.Join(dir, "state.jsonl")
	b, err := New(Options{StatePath: path})
	require.NoError(t, err)
	defer b.Close()
	_, err = New(Options{StatePath: path})
	require.Error(t, err)
}

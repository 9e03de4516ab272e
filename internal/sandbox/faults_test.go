package sandbox

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// overHTTP serves the fixture's bank on a real loopback server, which the
// drop faults need (they close the TCP connection).
func overHTTP(t *testing.T, f *fixture) *tclient {
	srv := httptest.NewServer(f.bank)
	t.Cleanup(srv.Close)
	c := f.c.on(t)
	c.url = srv.URL
	c.httpClient = srv.Client()
	return c
}

func TestFaultHTTP503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	c := overHTTP(t, f)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultHTTP503, Path: "payment/pay"}))
	req := &treq{path: payPath, biz: bizJSON(t, f.payArgs(c, acct, 100))}
	r := c.send(req)
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, int64(1_000), f.balance(f.c, acct), "the bank did not act")
	r = c.do(&treq{path: payPath, msgID: req.msgID, biz: req.biz})
	require.Equal(t, codeSuccess, r.code)
	require.Equal(t, int64(900), f.balance(f.c, acct))
}

func TestFaultDropBeforeCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	c := overHTTP(t, f)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultDropBeforeCommit}))
	req := &treq{path: payPath, biz: bizJSON(t, f.payArgs(c, acct, 100))}
	r := c.send(req)
	require.Error(t, r.netErr, "the connection is closed without an answer")
	require.Equal(t, int64(1_000), f.balance(f.c, acct))
	r = c.do(&treq{path: payPath, msgID: req.msgID, biz: req.biz})
	require.Equal(t, codeSuccess, r.code)
	require.Equal(t, int64(900), f.balance(f.c, acct))
}

// TestFaultDropAfterCommit: the bank acts, the client hears nothing, and a
// retry with the same msg_id returns the original result; money moved once.
func TestFaultDropAfterCommit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	c := overHTTP(t, f)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultDropAfterCommit, Path: "/api/v1/payment/pay"}))
	args := f.payArgs(c, acct, 100)
	req := &treq{path: payPath, biz: bizJSON(t, args)}
	r := c.send(req)
	require.Error(t, r.netErr)
	require.Equal(t, int64(900), f.balance(f.c, acct), "the bank acted")

	f.clock.Add(3 * time.Second)
	retry := c.do(&treq{path: payPath, msgID: req.msgID, biz: req.biz})
	require.Equal(t, codeSuccess, retry.code)
	require.Equal(t, args["out_trade_no"], retry.obj(t)["out_trade_no"])
	require.Equal(t, int64(900), f.balance(f.c, acct), "money moved once")
	q := f.c.ok(orderQueryPath, map[string]any{"out_trade_no": args["out_trade_no"]})
	require.JSONEq(t, string(q.biz), string(retry.biz))
	ledger, err := f.bank.Ledger(acct)
	require.NoError(t, err)
	require.Len(t, ledger, 2)
}

func TestFaultBadSignature(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultBadSignature, Count: 2}))
	req := &treq{path: payPath, biz: bizJSON(t, f.payArgs(f.c, acct, 100))}
	r := f.c.send(req)
	require.Equal(t, http.StatusOK, r.status)
	require.Error(t, r.verifyErr, "a client must not trust this answer")
	r = f.c.send(&treq{path: payPath, msgID: req.msgID, biz: req.biz})
	require.Error(t, r.verifyErr, "count 2: the second call too")
	r = f.c.do(&treq{path: payPath, msgID: req.msgID, biz: req.biz})
	require.Equal(t, codeSuccess, r.code)
	require.Equal(t, int64(900), f.balance(f.c, acct), "the bank acted once")
}

func TestFaultLatencyAndPathFilter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultLatency, Latency: 150 * time.Millisecond, Path: "/api/v1/platform/keys"}))
	start := time.Now()
	f.c.ok(walletQuery, walletQueryBiz())
	require.Less(t, time.Since(start), 150*time.Millisecond, "another path is not delayed")
	start = time.Now()
	f.c.ok("/api/v1/platform/keys", nil)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	start = time.Now()
	f.c.ok("/api/v1/platform/keys", nil)
	require.Less(t, time.Since(start), 150*time.Millisecond, "count 1: used up")

	// Latency combines with a drop on the same call.
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultLatency, Latency: 50 * time.Millisecond}))
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultHTTP503}))
	start = time.Now()
	r := f.c.send(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.GreaterOrEqual(t, time.Since(start), 50*time.Millisecond)
}

func TestFaultValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.Error(t, f.bank.InjectFault(Fault{Kind: "explode"}))
	require.Error(t, f.bank.InjectFault(Fault{Kind: FaultHTTP503, Count: -1}))
	require.Error(t, f.bank.InjectFault(Fault{Kind: FaultHTTP503, Path: "/api/v1/nope"}))
	require.Error(t, f.bank.InjectFault(Fault{Kind: FaultLatency, Latency: -time.Second}))
}

// TestFaultDropWithoutHijacker: in process there is no connection to close;
// the handler aborts the way net/http expects.
func TestFaultDropWithoutHijacker(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.bank.InjectFault(Fault{Kind: FaultDropBeforeCommit}))
	body := f.c.body(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
	require.PanicsWithValue(t, http.ErrAbortHandler, func() {
		f.bank.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, walletQuery, bytes.NewReader(body)))
	})
}

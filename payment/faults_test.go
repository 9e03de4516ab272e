package payment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Exactly-once money movement under the sandbox's injected faults
// (docs/protocol.md, sections 3.4 and 11). Every money call meets every fault on its first
// attempt, and the merchant reaches the truth in each of the three ways the
// SDK documents:
//
//   - sdk-retry: the client's own retries (same msg_id) settle the call, or,
//     for a failure the protocol does not retry, report OutcomeUnknown and
//     the merchant takes the query path;
//   - query: no retries; OutcomeUnknown, then payment.Query (QueryRefund) by
//     out_trade_no (out_refund_no): an order means it took effect,
//     ORDER_NOT_FOUND means it did not, so the same request is sent again;
//   - same-msg-id: no retries; OutcomeUnknown, then the same request again
//     under the msg_id the error names (wallet.WithMsgID), which the bank
//     answers from its idempotency cache or executes afresh.
//
// Whatever the path, the end is the same: the order the merchant was told
// about is the one a query finds, every balance moved by exactly the
// order's amount, and each account's ledger holds exactly one entry for it.

const (
	// faultTimeout bounds each attempt of the faulted client: far above a
	// sandbox call (a few ms, also under -race on a loaded machine), far
	// below faultLatency.
	faultTimeout = 500 * time.Millisecond
	// faultLatency is how long the latency fault holds the bank before it
	// acts: longer than the client waits, so the client gives up on an
	// attempt that the bank then carries out.
	faultLatency = 3 * faultTimeout
)

// acted says whether the bank carried out the faulted attempt.
type acted int

const (
	actedNo    acted = iota // the bank refused or never saw it
	actedYes                // the bank moved the money before the fault hit
	actedLater              // the bank acts after the client gave up, and after the merchant resolved the call: idempotency must absorb it
)

var moneyFaults = []struct {
	kind    wallettest.FaultKind
	retried bool // docs/protocol.md, section 3.4: the SDK retries it under the same msg_id
	acted   acted
}{
	{wallettest.FaultDropBeforeCommit, true, actedNo},
	{wallettest.FaultDropAfterCommit, true, actedYes},
	{wallettest.FaultHTTP503, true, actedNo},
	{wallettest.FaultLatency, true, actedLater},
	{wallettest.FaultBadSignature, false, actedYes},
}

const (
	resolveBySDKRetry = "sdk-retry"
	resolveByQuery    = "query"
	resolveByMsgID    = "same-msg-id"
	resolveByResolver = "payment.Resolve"
)

func TestMoneyMovesExactlyOnceUnderFaults(t *testing.T) {
	t.Parallel()
	scenarios := 0
	for _, op := range moneyOps {
		for _, fault := range moneyFaults {
			for _, mode := range []string{resolveBySDKRetry, resolveByQuery, resolveByMsgID, resolveByResolver} {
				scenarios++
				t.Run(op.name+"/"+string(fault.kind)+"/"+mode, func(t *testing.T) {
					t.Parallel()
					bed := newFaultBed(t, op.payee)
					req := op.prepare(t, bed)
					bed.sb.InjectFault(wallettest.Fault{Kind: fault.kind, Path: op.path, Latency: faultLatency})

					retries := 0
					if mode == resolveBySDKRetry {
						retries = 2
					}
					attempts := &attemptLog{}
					faulted := bed.client(t, wallet.WithHTTPClient(&http.Client{Transport: attempts}), wallet.WithTimeout(faultTimeout), wallet.WithRetry(retries))
					ctx := t.Context()
					told, err := req.send(ctx, payment.New(faulted))
					ids := attempts.msgIDs()
					require.NotEmpty(t, ids)
					for _, id := range ids {
						require.Equal(t, ids[0], id, "every attempt of one call carries the same msg_id")
					}

					recovery := payment.New(bed.ok)
					var route string
					switch {
					case err == nil:
						route = "success after the SDK's retry"
						require.True(t, mode == resolveBySDKRetry && fault.retried,
							"only the SDK's own retry can turn this fault into a success")
						require.GreaterOrEqual(t, len(ids), 2, "the SDK retried")
					default:
						require.True(t, wallet.IsOutcomeUnknown(err), "the merchant is told the outcome is unknown, not a failure: %v", err)
						require.False(t, mode == resolveBySDKRetry && fault.retried, "the SDK should have retried this: %v", err)
						var te *wallet.TransportError
						require.ErrorAs(t, err, &te)
						require.Equal(t, ids[0], te.MsgID, "the error names the call's msg_id")
						require.Equal(t, len(ids), te.Attempts)
						if !fault.retried {
							require.ErrorIs(t, err, wallet.ErrUnverifiedResponse)
							require.Len(t, ids, 1, "an unverifiable answer is not retried")
						}

						if mode == resolveByResolver {
							// The caller's context is done: Resolve must not run on it.
							dead, cancel := context.WithCancel(ctx)
							cancel()
							told, err = req.resolve(dead, recovery, te.MsgID)
							require.NoError(t, err, "the resolver settles every fault")
							route = "unknown, then payment.Resolve on a dead context"
							break
						}
						if mode == resolveByMsgID {
							told, err = req.repeat(ctx, bed.ok, te.MsgID)
							require.NoError(t, err, "the same msg_id gets the original answer, or runs now")
							route = "unknown, then the same msg_id"
							break
						}
						found, qerr := req.query(ctx, recovery)
						switch {
						case qerr == nil:
							require.NotEqual(t, actedNo, fault.acted, "the bank did not act, yet the query found an order")
							told = found
							route = "unknown, then the query found the order"
						case errors.Is(qerr, wallet.ErrOrderNotFound):
							require.NotEqual(t, actedYes, fault.acted, "the bank acted, yet the query found nothing")
							told, err = req.send(ctx, recovery)
							require.NoError(t, err, "not found: the same request (same out_trade_no) again")
							route = "unknown, then not found, then the same request again"
						default:
							t.Fatalf("query: %v", qerr)
						}
					}

					final, err := req.query(ctx, recovery)
					require.NoError(t, err)
					require.Equal(t, told, final, "the order the merchant was told about is the bank's order")
					// An attempt the client gave up on may still be inside the
					// bank (latency); let it finish before counting money.
					bed.front.Close()
					bed.requireMovedOnce(t, req)
					t.Logf("%d attempt(s) under one msg_id; %s; moved once", len(ids), route)
				})
			}
		}
	}
	require.Equal(t, 100, scenarios, "5 money calls × 5 faults × 4 ways to resolve")
}

// faultBed is one sandbox with the accounts of one scenario. The client
// under test reaches the bank through front, a server of its own, so that
// the scenario can wait for every attempt it started to end in the bank.
type faultBed struct {
	sb        *wallettest.Server
	front     *httptest.Server
	ok        *wallet.Client // reaches the bank through front, without faults
	payer     string
	payee     string
	payeeName wallet.Name
	pin       wallet.EncryptedPIN
}

func newFaultBed(t *testing.T, withPayee bool) *faultBed {
	sb := wallettest.NewServer(t)
	bed := &faultBed{sb: sb, front: httptest.NewServer(sb.Handler())}
	t.Cleanup(bed.front.Close)
	bed.ok = bed.client(t)
	bed.pin = wallettest.PIN(t, bed.ok)
	bed.payer = sb.OpenAccount(wallettest.Person())
	if withPayee {
		p := wallettest.Person()
		bed.payee, bed.payeeName = sb.OpenAccount(p), p.Name
	}
	return bed
}

func (b *faultBed) client(t *testing.T, opts ...wallet.Option) *wallet.Client {
	cfg := b.sb.Config()
	cfg.BaseURL = b.front.URL
	c, err := wallet.NewClient(cfg, append([]wallet.Option{wallet.WithBackoff(time.Millisecond, 20*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c
}

// requireMovedOnce checks the bank's books after the scenario: each
// account holds the balance of exactly one execution of the request, and
// its ledger has exactly one entry for the request's order, of the right
// kind and amount, and adds up to the balance.
func (b *faultBed) requireMovedOnce(t *testing.T, req moneyRequest) {
	t.Helper()
	books := account.New(b.sb.Client())
	for acct, want := range req.balances {
		a, err := books.Query(context.Background(), acct)
		require.NoError(t, err)
		require.Equal(t, want, a.Balance, "balance of %s", acct)
		var sum int64
		var mine []wallettest.LedgerEntry
		for _, e := range b.sb.Ledger(acct) {
			sum += e.Amount
			require.GreaterOrEqual(t, e.BalanceAfter, int64(0))
			if (req.refund && e.OutRefundNo == req.ref) || (!req.refund && e.OutTradeNo == req.ref && e.OutRefundNo == "") {
				mine = append(mine, e)
			}
		}
		require.Equal(t, want, sum, "the ledger of %s adds up to its balance", acct)
		require.Len(t, mine, 1, "one ledger entry for the order in %s: %+v", acct, mine)
		require.Equal(t, req.entries[acct], mine[0].Type)
		require.Equal(t, req.delta[acct], mine[0].Amount)
	}
}

// moneyRequest is one request of a scenario, built once, so that every
// repeat is the same request.
type moneyRequest struct {
	ref    string // out_trade_no, or out_refund_no for a refund
	refund bool
	body   any    // what the typed call marshals
	pinKey string // the bank key of the request's PIN, if any
	path   string
	// send makes the typed call; query finds the order (or refund). Both
	// return the bank's number for it (trade_no or refund_no).
	send  func(context.Context, *payment.Service) (string, error)
	query func(context.Context, *payment.Service) (string, error)
	// resolve settles the call with the SDK's resolver, under msgID.
	resolve func(ctx context.Context, s *payment.Service, msgID string) (string, error)
	// After exactly one execution: balances, and the ledger entry each
	// account holds for it.
	balances map[string]int64
	entries  map[string]string
	delta    map[string]int64
}

// repeat sends the request again under msgID through Do, as a merchant
// does after a restart when it kept the msg_id of a call whose outcome is
// unknown.
func (r moneyRequest) repeat(ctx context.Context, c *wallet.Client, msgID string) (string, error) {
	opts := []wallet.CallOption{wallet.WithMsgID(msgID)}
	var out struct {
		TradeNo  string `json:"trade_no"`
		RefundNo string `json:"refund_no"`
	}
	if err := c.Do(ctx, r.path, r.body, &out, opts...); err != nil {
		return "", err
	}
	if r.refund {
		return out.RefundNo, nil
	}
	return out.TradeNo, nil
}

func orderNo(o *payment.Order, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return o.TradeNo, nil
}

func refundNo(r *payment.Refund, err error) (string, error) {
	if err != nil {
		return "", err
	}
	return r.RefundNo, nil
}

func resolveOrder(req payment.MoneyRequest) func(context.Context, *payment.Service, string) (string, error) {
	return func(ctx context.Context, s *payment.Service, msgID string) (string, error) {
		return orderNo(s.Resolve(ctx, req, msgID))
	}
}

func queryOrder(no string) func(context.Context, *payment.Service) (string, error) {
	return func(ctx context.Context, s *payment.Service) (string, error) { return orderNo(s.Query(ctx, no)) }
}

const startBalance = 10_000

var moneyOps = []struct {
	name    string
	path    string
	payee   bool
	prepare func(*testing.T, *faultBed) moneyRequest
}{
	{"recharge", "payment/recharge", false, func(t *testing.T, b *faultBed) moneyRequest {
		req := payment.RechargeRequest{AccountNo: b.payer, OutTradeNo: payment.NewOutTradeNo(), Amount: 10_000}
		return moneyRequest{
			ref: req.OutTradeNo, body: req, path: "payment/recharge",
			send:     func(ctx context.Context, s *payment.Service) (string, error) { return orderNo(s.Recharge(ctx, req)) },
			resolve:  resolveOrder(req),
			query:    queryOrder(req.OutTradeNo),
			balances: map[string]int64{b.payer: 10_000},
			entries:  map[string]string{b.payer: "RECHARGE"},
			delta:    map[string]int64{b.payer: 10_000},
		}
	}},
	{"withdraw", "payment/withdraw", false, func(t *testing.T, b *faultBed) moneyRequest {
		b.sb.Recharge(b.payer, startBalance)
		req := payment.WithdrawRequest{AccountNo: b.payer, OutTradeNo: payment.NewOutTradeNo(), Amount: 3_000, Password: b.pin}
		return moneyRequest{
			ref: req.OutTradeNo, body: req, pinKey: b.pin.KeyID, path: "payment/withdraw",
			send:     func(ctx context.Context, s *payment.Service) (string, error) { return orderNo(s.Withdraw(ctx, req)) },
			resolve:  resolveOrder(req),
			query:    queryOrder(req.OutTradeNo),
			balances: map[string]int64{b.payer: startBalance - 3_000},
			entries:  map[string]string{b.payer: "WITHDRAW"},
			delta:    map[string]int64{b.payer: -3_000},
		}
	}},
	{"pay", "payment/pay", false, func(t *testing.T, b *faultBed) moneyRequest {
		b.sb.Recharge(b.payer, startBalance)
		req := payment.PayRequest{AccountNo: b.payer, OutTradeNo: payment.NewOutTradeNo(), Amount: 2_500, Subject: "会员月卡", Password: b.pin}
		return moneyRequest{
			ref: req.OutTradeNo, body: req, pinKey: b.pin.KeyID, path: "payment/pay",
			send:     func(ctx context.Context, s *payment.Service) (string, error) { return orderNo(s.Pay(ctx, req)) },
			resolve:  resolveOrder(req),
			query:    queryOrder(req.OutTradeNo),
			balances: map[string]int64{b.payer: startBalance - 2_500},
			entries:  map[string]string{b.payer: "PAY"},
			delta:    map[string]int64{b.payer: -2_500},
		}
	}},
	{"transfer", "payment/transfer", true, func(t *testing.T, b *faultBed) moneyRequest {
		b.sb.Recharge(b.payer, startBalance)
		req := payment.TransferRequest{AccountNo: b.payer, PayeeAccountNo: b.payee, PayeeName: b.payeeName,
			OutTradeNo: payment.NewOutTradeNo(), Amount: 1_234, Password: b.pin, Remark: "还你的饭钱"}
		return moneyRequest{
			ref: req.OutTradeNo, body: req, pinKey: b.pin.KeyID, path: "payment/transfer",
			send:     func(ctx context.Context, s *payment.Service) (string, error) { return orderNo(s.Transfer(ctx, req)) },
			resolve:  resolveOrder(req),
			query:    queryOrder(req.OutTradeNo),
			balances: map[string]int64{b.payer: startBalance - 1_234, b.payee: 1_234},
			entries:  map[string]string{b.payer: "TRANSFER_OUT", b.payee: "TRANSFER_IN"},
			delta:    map[string]int64{b.payer: -1_234, b.payee: 1_234},
		}
	}},
	{"refund", "payment/refund", false, func(t *testing.T, b *faultBed) moneyRequest {
		b.sb.Recharge(b.payer, startBalance)
		paid := payment.PayRequest{AccountNo: b.payer, OutTradeNo: payment.NewOutTradeNo(), Amount: 4_000, Subject: "退货的商品", Password: b.pin}
		_, err := payment.New(b.ok).Pay(t.Context(), paid)
		require.NoError(t, err)
		req := payment.RefundRequest{OutTradeNo: paid.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 1_500, Reason: "缺货"}
		return moneyRequest{
			ref: req.OutRefundNo, refund: true, body: req, path: "payment/refund",
			send: func(ctx context.Context, s *payment.Service) (string, error) { return refundNo(s.Refund(ctx, req)) },
			resolve: func(ctx context.Context, s *payment.Service, msgID string) (string, error) {
				return refundNo(s.ResolveRefund(ctx, req, msgID))
			},
			query: func(ctx context.Context, s *payment.Service) (string, error) {
				return refundNo(s.QueryRefund(ctx, req.OutRefundNo))
			},
			balances: map[string]int64{b.payer: startBalance - 4_000 + 1_500},
			entries:  map[string]string{b.payer: "REFUND"},
			delta:    map[string]int64{b.payer: 1_500},
		}
	}},
}

// attemptLog is the faulted client's transport: it notes the msg_id of
// every attempt on its way out, so a test sees what the SDK's retries
// carried.
type attemptLog struct {
	mu  sync.Mutex
	ids []string
}

func (l *attemptLog) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	_ = r.Body.Close()
	var env struct {
		MsgID string `json:"msg_id"`
	}
	_ = json.Unmarshal(body, &env)
	l.mu.Lock()
	l.ids = append(l.ids, env.MsgID)
	l.mu.Unlock()
	out := r.Clone(r.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	return http.DefaultTransport.RoundTrip(out)
}

func (l *attemptLog) msgIDs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.ids...)
}

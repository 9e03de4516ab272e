package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// attemptTimeout is the per-attempt timeout (wallet.WithTimeout) of the
// clients behind the fault proxy; heldFor is the latency toxics' delay,
// beyond it.
const (
	attemptTimeout = 600 * time.Millisecond
	heldFor        = 900 * time.Millisecond
)

// callSizes are the bytes of one call of a kind on the wire.
type callSizes struct {
	reqHeader, reqBody, ansHeader, ansBody int64
}

// toxicRow is one fault of the matrix and the toxics that make it.
type toxicRow struct {
	name, what string
	toxics     func(s callSizes) []toxic
}

var toxicRows = []toxicRow{
	{"latency_up", fmt.Sprintf("latency upstream %v: the request reaches the bank after the %v per-attempt timeout", heldFor, attemptTimeout),
		func(callSizes) []toxic {
			return []toxic{{Type: "latency", Stream: "upstream", Attributes: map[string]any{"latency": heldFor.Milliseconds()}}}
		}},
	{"latency_down", fmt.Sprintf("latency downstream %v: the bank acts, its answer comes after the timeout", heldFor),
		func(callSizes) []toxic {
			return []toxic{{Type: "latency", Stream: "downstream", Attributes: map[string]any{"latency": heldFor.Milliseconds()}}}
		}},
	{"reset_up", "reset_peer upstream: the connection is reset (RST) as the request arrives; the bank reads nothing",
		func(callSizes) []toxic {
			return []toxic{{Type: "reset_peer", Stream: "upstream", Attributes: map[string]any{"timeout": 0}}}
		}},
	{"cut_request", "limit_data upstream: the connection closes in the middle of the request body",
		func(s callSizes) []toxic {
			return []toxic{{Type: "limit_data", Stream: "upstream", Attributes: map[string]any{"bytes": s.reqHeader + s.reqBody/2}}}
		}},
	{"reset_down", "reset_peer downstream: the connection is reset (RST) as the answer starts; the bank has acted",
		func(callSizes) []toxic {
			return []toxic{{Type: "reset_peer", Stream: "downstream", Attributes: map[string]any{"timeout": 0}}}
		}},
	{"cut_answer", "limit_data downstream: the connection closes in the middle of the answer body; the bank has acted",
		func(s callSizes) []toxic {
			return []toxic{{Type: "limit_data", Stream: "downstream", Attributes: map[string]any{"bytes": s.ansHeader + s.ansBody/2}}}
		}},
	{"slow_close", "slow_close both ways, 1 s: closing a connection takes a second",
		func(callSizes) []toxic {
			return []toxic{{Type: "slow_close", Stream: "upstream", Attributes: map[string]any{"delay": 1000}},
				{Type: "slow_close", Stream: "downstream", Attributes: map[string]any{"delay": 1000}}}
		}},
	{"bandwidth", "bandwidth 32 KB/s both ways",
		func(callSizes) []toxic {
			return []toxic{{Type: "bandwidth", Stream: "upstream", Attributes: map[string]any{"rate": 32}},
				{Type: "bandwidth", Stream: "downstream", Attributes: map[string]any{"rate": 32}}}
		}},
	{"slicer", "slicer both ways: the bytes arrive in 16±8-byte pieces, 50 µs apart",
		func(callSizes) []toxic {
			attrs := map[string]any{"average_size": 16, "size_variation": 8, "delay": 50}
			return []toxic{{Type: "slicer", Stream: "upstream", Attributes: attrs}, {Type: "slicer", Stream: "downstream", Attributes: attrs}}
		}},
}

// lane is one money call kind behind a fault proxy of its own (the byte
// limits are the kind's), with its own client and accounts.
type lane struct {
	kind    string
	proxy   *toxiproxy.Proxy
	meter   *meter
	client  *wallet.Client   // through the proxy
	svc     *payment.Service // through the proxy
	direct  *payment.Service // straight to the bank: setup
	pinC    *wallet.Client
	account string
	payee   string
	payeeNm wallet.Name
	sizes   callSizes
	toxics  []toxic // the row's, on the proxy now
	rng     *rand.Rand

	mu      sync.Mutex
	setup   []order
	made    []order
	told    map[string]string // order no → the bank's number the merchant was told
	results map[string][]string
	slowest map[string]time.Duration // the longest a call of the row took to settle (the SDK's call and Resolve)
	stats   map[string]int
}

// cell is how one call under a toxic ended.
type cell struct {
	mode     string // hard: toxicity 1 during the call; flaky: 0.5
	attempts int64  // HTTP attempts of the SDK's call
	sdk      string // ok, unknown, refused CODE, error
	moved    bool   // unknown: the bank had acted when the SDK gave up (asked straight, not through the proxy)
	resolved string // after Resolve: ok, or what it said; "" when not needed
	took     time.Duration
}

func (c cell) String() string {
	s := fmt.Sprintf("%s%d", map[string]string{"ok": "ok", "unknown": "U"}[c.sdk], c.attempts)
	if c.sdk != "ok" && c.sdk != "unknown" {
		s = c.sdk
	}
	if c.sdk == "unknown" {
		s += map[bool]string{true: "+", false: "-"}[c.moved]
	}
	if c.resolved != "" {
		s += "→R:" + c.resolved
	}
	return s
}

// TestToxics makes every money call through a Toxiproxy proxy under each
// toxic of toxicRows: once with the toxic on every connection (toxicity
// 1) for the SDK's call, then at toxicity 0.5 while Resolve settles an
// unknown outcome; and once at toxicity 0.5 throughout, where the SDK's
// own retries often settle it. The merchant's client uses the SDK's
// defaults but for a per-attempt timeout of 600 ms and short backoff.
// Money must move exactly once, and what the merchant was told must be
// what the bank's books say.
func TestToxics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	upstream := strings.TrimPrefix(srv.URL, "http://")
	direct := payment.New(srv.Client())
	payeePerson := wallettest.Person()
	payee := srv.OpenAccount(payeePerson)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)

	var lanes []*lane
	for i, k := range moneyKinds {
		m := newMeter()
		p := newToxiproxy(t, k, upstream)
		cfg := srv.Config()
		cfg.BaseURL = "http://" + p.Listen
		c, err := wallet.NewClient(cfg, wallet.WithHTTPClient(&http.Client{Transport: m}), wallet.WithTimeout(attemptTimeout),
			wallet.WithBackoff(20*time.Millisecond, 100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		l := &lane{kind: k, proxy: p, meter: m, client: c, svc: payment.New(c), direct: direct, pinC: srv.Client(),
			account: srv.OpenAccount(wallettest.Person()), payee: payee, payeeNm: payeePerson.Name,
			rng: rand.New(rand.NewPCG(seed, uint64(i))), told: map[string]string{}, results: map[string][]string{}, slowest: map[string]time.Duration{}, stats: map[string]int{}}
		l.setupRecharge(t, 500_000)
		lanes = append(lanes, l)
	}

	// Calibrate: one call of each kind with no toxic, to learn its sizes.
	for _, l := range lanes {
		closed := l.meter.closed.Load()
		c := l.run(t, ctx, "calibrate")
		if c.sdk != "ok" || c.attempts != 1 {
			t.Fatalf("%s without a toxic: %s", l.kind, c)
		}
		if !l.meter.waitClosed(closed, 10*time.Second) {
			t.Fatalf("%s: the connection of the call did not close", l.kind)
		}
		l.sizes.reqHeader, l.sizes.reqBody, l.sizes.ansHeader, l.sizes.ansBody = l.meter.sizes()
		t.Logf("%-8s request %d+%d bytes, answer %d+%d bytes (header+body)", l.kind, l.sizes.reqHeader, l.sizes.reqBody, l.sizes.ansHeader, l.sizes.ansBody)
		if s := l.sizes; s.reqHeader < 100 || s.reqBody < 200 || s.ansHeader < 50 || s.ansBody < 100 {
			t.Fatalf("%s: implausible sizes %+v", l.kind, l.sizes)
		}
	}

	start := time.Now()
	for _, row := range toxicRows {
		var wg sync.WaitGroup
		for _, l := range lanes {
			wg.Go(func() {
				l.toxics = row.toxics(l.sizes)
				addToxics(t, l.proxy, 1, l.toxics...)
				hard := l.run(t, ctx, "hard")
				setToxics(t, l.proxy, 0.5, l.toxics...)
				flaky := l.run(t, ctx, "flaky")
				clearToxics(l.proxy)
				l.mu.Lock()
				l.results[row.name] = []string{hard.String(), flaky.String()}
				l.slowest[row.name] = max(hard.took, flaky.took)
				l.mu.Unlock()
			})
		}
		wg.Wait()
	}
	elapsed := time.Since(start)

	// The books: every order made exactly once, and what the merchant was
	// told is the bank's.
	var made []order
	accounts := []string{payee}
	for _, l := range lanes {
		made = append(made, l.setup...)
		made = append(made, l.made...)
		accounts = append(accounts, l.account)
		for no, told := range l.told {
			var bank string
			if l.kind == kindRefund {
				r, err := direct.QueryRefund(ctx, no)
				if err != nil {
					t.Errorf("refund %s: %v", no, err)
					continue
				}
				bank = r.RefundNo
			} else {
				o, err := direct.Query(ctx, no)
				if err != nil {
					t.Errorf("order %s: %v", no, err)
					continue
				}
				bank = o.TradeNo
			}
			if bank != told {
				t.Errorf("%s %s: the merchant was told %s, the bank has %s", l.kind, no, told, bank)
			}
		}
	}
	bk, err := readBooks(ctx, srv.URL, accounts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bk.check(made, nil) {
		t.Error(p)
	}

	// The matrix.
	var sb strings.Builder
	fmt.Fprintf(&sb, "toxics × calls in %v (cell: hard | flaky; ok<n> = the SDK's call succeeded after n attempts, U<n>+ or U<n>- = outcome unknown after n attempts, and the bank had (+) or had not (-) acted then, →R:ok = Resolve settled it)\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(&sb, "%-13s", "")
	for _, l := range lanes {
		fmt.Fprintf(&sb, " %-22s", l.kind)
	}
	sb.WriteString("\n")
	for _, row := range toxicRows {
		fmt.Fprintf(&sb, "%-13s", row.name)
		for _, l := range lanes {
			r := l.results[row.name]
			fmt.Fprintf(&sb, " %-22s", strings.Join(r, " | "))
		}
		sb.WriteString("\n")
	}
	stats := map[string]int{}
	for _, l := range lanes {
		for k, v := range l.stats {
			stats[k] += v
		}
	}
	fmt.Fprintf(&sb, "calls: %s\n", kindCounts(stats))
	for _, row := range toxicRows {
		var slowest time.Duration
		for _, l := range lanes {
			slowest = max(slowest, l.slowest[row.name])
		}
		fmt.Fprintf(&sb, "  %-13s settled within %-7v %s\n", row.name, slowest.Round(10*time.Millisecond), row.what)
	}
	t.Log(sb.String())
}

func (l *lane) setupRecharge(t *testing.T, amount int64) {
	t.Helper()
	o, err := l.direct.Recharge(context.Background(), payment.RechargeRequest{AccountNo: l.account, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.setup = append(l.setup, order{Kind: kindRecharge, No: o.OutTradeNo, Account: l.account, Amount: amount})
	l.mu.Unlock()
}

// run makes one call of the lane's kind through the proxy, and settles an
// unknown outcome with Resolve (at toxicity 0.5 when mode is hard).
func (l *lane) run(t *testing.T, ctx context.Context, mode string) cell {
	o := order{Kind: l.kind, No: payment.NewOutTradeNo(), Account: l.account, Amount: 100 + l.rng.Int64N(900)}
	var req payment.MoneyRequest
	var refund payment.RefundRequest
	switch l.kind {
	case kindRecharge:
		req = payment.RechargeRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount}
	case kindWithdraw:
		req = payment.WithdrawRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount, Password: wallettest.PIN(t, l.pinC)}
	case kindPay:
		req = payment.PayRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount, Subject: "toxic", Password: wallettest.PIN(t, l.pinC)}
	case kindTransfer:
		o.Payee = l.payee
		req = payment.TransferRequest{AccountNo: o.Account, PayeeAccountNo: l.payee, PayeeName: l.payeeNm, OutTradeNo: o.No, Amount: o.Amount,
			Password: wallettest.PIN(t, l.pinC)}
	case kindRefund:
		// The PAY order to refund, made straight at the bank.
		paid := o.Amount + 1000
		p, err := l.direct.Pay(ctx, payment.PayRequest{AccountNo: o.Account, OutTradeNo: payment.NewOutTradeNo(), Amount: paid, Subject: "toxic setup",
			Password: wallettest.PIN(t, l.pinC)})
		if err != nil {
			t.Error(err)
			return cell{mode: mode, sdk: "error"}
		}
		l.mu.Lock()
		l.setup = append(l.setup, order{Kind: kindPay, No: p.OutTradeNo, Account: o.Account, Amount: paid})
		l.mu.Unlock()
		o.PaidNo, o.No = p.OutTradeNo, payment.NewOutRefundNo()
		refund = payment.RefundRequest{OutTradeNo: o.PaidNo, OutRefundNo: o.No, Amount: o.Amount}
	}

	c := cell{mode: mode}
	start := time.Now()
	before := l.meter.attempts.Load()
	bankNo, err := l.call(ctx, req, refund)
	c.attempts = l.meter.attempts.Load() - before
	c.sdk = outcomeWord(err)
	if wallet.IsOutcomeUnknown(err) {
		var te *wallet.TransportError
		msgID := ""
		if errors.As(err, &te) {
			msgID = te.MsgID
		}
		c.moved = l.exists(ctx, o)
		if mode == "hard" {
			setToxics(t, l.proxy, 0.5, l.toxics...)
		}
		bankNo, err = l.resolve(ctx, req, refund, msgID)
		c.resolved = outcomeWord(err)
	}
	c.took = time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats[c.sdk]++
	if c.resolved != "" {
		l.stats["resolved "+c.resolved]++
	}
	if err != nil {
		t.Errorf("%s %s (%s): %v", l.kind, o.No, mode, err)
		return c
	}
	l.made = append(l.made, o)
	l.told[o.No] = bankNo
	return c
}

// exists asks the bank, not through the proxy, whether it holds the order
// (or refund) now.
func (l *lane) exists(ctx context.Context, o order) bool {
	var err error
	if o.Kind == kindRefund {
		_, err = l.direct.QueryRefund(ctx, o.No)
	} else {
		_, err = l.direct.Query(ctx, o.No)
	}
	return err == nil
}

func (l *lane) call(ctx context.Context, req payment.MoneyRequest, refund payment.RefundRequest) (string, error) {
	if l.kind == kindRefund {
		r, err := l.svc.Refund(ctx, refund)
		if err != nil {
			return "", err
		}
		return r.RefundNo, nil
	}
	var (
		o   *payment.Order
		err error
	)
	switch r := req.(type) {
	case payment.RechargeRequest:
		o, err = l.svc.Recharge(ctx, r)
	case payment.WithdrawRequest:
		o, err = l.svc.Withdraw(ctx, r)
	case payment.PayRequest:
		o, err = l.svc.Pay(ctx, r)
	case payment.TransferRequest:
		o, err = l.svc.Transfer(ctx, r)
	}
	if err != nil {
		return "", err
	}
	return o.TradeNo, nil
}

func (l *lane) resolve(ctx context.Context, req payment.MoneyRequest, refund payment.RefundRequest, msgID string) (string, error) {
	if l.kind == kindRefund {
		r, err := l.svc.ResolveRefund(ctx, refund, msgID)
		if err != nil {
			return "", err
		}
		return r.RefundNo, nil
	}
	o, err := l.svc.Resolve(ctx, req, msgID)
	if err != nil {
		return "", err
	}
	return o.TradeNo, nil
}

// outcomeWord names how a call ended.
func outcomeWord(err error) string {
	var apiErr *wallet.APIError
	switch {
	case err == nil:
		return "ok"
	case wallet.IsOutcomeUnknown(err):
		return "unknown"
	case errors.As(err, &apiErr):
		return "refused " + string(apiErr.Code)
	default:
		return "error"
	}
}

package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Call kinds of the load test besides the five money calls.
const (
	kindWalletQuery  = "wallet/query"
	kindPaymentQuery = "payment/query"
)

// loadMix is the share of each call kind, in percent.
var loadMix = []struct {
	kind  string
	share int
}{
	{kindWalletQuery, 25}, {kindRecharge, 20}, {kindPay, 20}, {kindTransfer, 15}, {kindRefund, 10}, {kindPaymentQuery, 10},
}

// TestLoad runs four merchant instances (four wallet.Clients, each with
// its own connection pool and EWALLET_CHAOS_LOAD_CALLERS callers, default
// 4) against a standalone sandbox process on loopback, as fast as they go,
// for EWALLET_CHAOS_LOAD (a Go duration; default 4s, the reported run used
// 60s): a mix of wallet/query,
// recharge, pay, transfer, refund and payment/query over eight accounts.
// It reports the throughput and the p50/p99 latency of each kind, with the
// load average; then the books must hold every successful order exactly
// once, nothing else, and balances that are their sum.
func TestLoad(t *testing.T) {
	duration := envDuration(t, "EWALLET_CHAOS_LOAD", 4*time.Second)
	callers := envInt(t, "EWALLET_CHAOS_LOAD_CALLERS", 4)
	const instances, nAccounts = 4, 8
	ctx := context.Background()
	url, sandbox := startSandbox(t)
	key, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := wallettest.Connect(ctx, url, wallettest.WithAppName("chaos-load"), wallettest.WithMerchantKey(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	var clients []*wallet.Client
	for range instances {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = callers
		c, err := wallet.NewClient(sb.Config, wallet.WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}

	var (
		people   []wallettest.TestPerson
		accounts []string
		made     []order
	)
	setup := payment.New(clients[0])
	for range nAccounts {
		p := wallettest.Person()
		a, err := wallettest.Open(ctx, clients[0], p)
		if err != nil {
			t.Fatal(err)
		}
		people, accounts = append(people, p), append(accounts, a.AccountNo)
		o, err := setup.Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 5_000_000})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, order{Kind: kindRecharge, No: o.OutTradeNo, Account: a.AccountNo, Amount: o.Amount})
	}

	load0 := loadAvg()
	cpu0 := procCPU(os.Getpid()) + procCPU(sandbox.cmd.Process.Pid)
	seed := uint64(time.Now().UnixNano())
	var workers []*loadWorker
	for i, c := range clients {
		for j := range callers {
			workers = append(workers, &loadWorker{c: c, svc: payment.New(c), people: people, accounts: accounts,
				rng: rand.New(rand.NewPCG(seed, uint64(i*callers+j))), lat: map[string][]time.Duration{}, errs: map[string]int{}})
		}
	}
	start := time.Now()
	deadline := start.Add(duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.run(t, ctx, deadline) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := procCPU(os.Getpid()) + procCPU(sandbox.cmd.Process.Pid) - cpu0
	load1 := loadAvg()

	// Settle the unknown outcomes, if any, and gather the books.
	var notMade []string
	lat := map[string][]time.Duration{}
	errs := map[string]int{}
	total := 0
	for _, w := range workers {
		for k, l := range w.lat {
			lat[k] = append(lat[k], l...)
			total += len(l)
		}
		for k, n := range w.errs {
			errs[k] += n
		}
		made = append(made, w.made...)
		notMade = append(notMade, w.refused...)
		for _, u := range w.unknown {
			if ok := w.resolve(ctx, u); ok {
				made = append(made, u.o)
			} else {
				notMade = append(notMade, u.o.No)
			}
		}
		for _, e := range w.mismatch {
			t.Error(e)
		}
	}
	bk, err := readBooks(ctx, url, accounts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range bk.check(made, notMade) {
		t.Error(p)
	}
	acct := account.New(clients[0])
	for _, a := range accounts {
		got, err := acct.Query(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		if got.Balance != bk.balance(a) {
			t.Errorf("account %s: account/query says %d fen, the ledger %d", a, got.Balance, bk.balance(a))
		}
	}

	var sb2 strings.Builder
	fmt.Fprintf(&sb2, "%d instances × %d callers, %v (GOMAXPROCS %d, %d CPUs): %d calls, %.0f calls/s; CPU used %.1f s of %.1f s available (test process and sandbox process)\n",
		instances, callers, elapsed.Round(time.Millisecond), runtime.GOMAXPROCS(0), runtime.NumCPU(), total, float64(total)/elapsed.Seconds(),
		cpu.Seconds(), elapsed.Seconds()*float64(runtime.NumCPU()))
	fmt.Fprintf(&sb2, "  load average before: %s, after: %s\n", load0, load1)
	fmt.Fprintf(&sb2, "  %-14s %7s %8s %8s %8s %8s\n", "call", "calls", "calls/s", "p50 ms", "p99 ms", "max ms")
	for _, m := range loadMix {
		l := lat[m.kind]
		slices.Sort(l)
		fmt.Fprintf(&sb2, "  %-14s %7d %8.1f %8.2f %8.2f %8.2f\n", m.kind, len(l), float64(len(l))/elapsed.Seconds(),
			ms(percentile(l, 0.50)), ms(percentile(l, 0.99)), ms(percentile(l, 1)))
	}
	refused := len(notMade)
	fmt.Fprintf(&sb2, "  books: %d orders and refunds made (%d before the run), %d refused; errors: %s", len(made), nAccounts, refused, kindCounts(errs))
	t.Log(sb2.String())
	if total == 0 {
		t.Fatal("no call completed")
	}
}

// loadWorker is one caller of one merchant instance.
type loadWorker struct {
	c        *wallet.Client
	svc      *payment.Service
	people   []wallettest.TestPerson
	accounts []string
	rng      *rand.Rand

	lat      map[string][]time.Duration // successful calls by kind
	errs     map[string]int             // kind: outcome
	made     []order
	refused  []string
	unknown  []unknownCall
	paid     []paidOrder // this worker's PAY orders with something left to refund
	mismatch []string
}

type paidOrder struct {
	no      string
	account string
	left    int64
}

type unknownCall struct {
	o     order
	req   payment.MoneyRequest
	rreq  payment.RefundRequest
	msgID string
}

func (w *loadWorker) run(t *testing.T, ctx context.Context, deadline time.Time) {
	for time.Now().Before(deadline) {
		kind := w.pick()
		if err := w.one(ctx, kind); err != nil {
			t.Error(err)
			return
		}
	}
}

func (w *loadWorker) pick() string {
	n := w.rng.IntN(100)
	for _, m := range loadMix {
		if n < m.share {
			return m.kind
		}
		n -= m.share
	}
	return kindWalletQuery
}

// one makes one call of kind and records it. Only a failure of the test
// itself is returned.
func (w *loadWorker) one(ctx context.Context, kind string) error {
	acct := w.rng.IntN(len(w.accounts))
	o := order{Kind: kind, No: payment.NewOutTradeNo(), Account: w.accounts[acct], Amount: 1 + w.rng.Int64N(99)}
	var (
		req  payment.MoneyRequest
		rreq payment.RefundRequest
		pin  wallet.EncryptedPIN
		err  error
	)
	// The PIN is encrypted before the clock starts, as a PIN pad would.
	if kind == kindPay || kind == kindTransfer {
		if pin, err = w.c.EncryptPIN(wallettest.TestPIN); err != nil {
			return err
		}
	}
	switch kind {
	case kindWalletQuery:
		p := w.people[acct]
		start := time.Now()
		q, err := w.c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		took := time.Since(start)
		if err == nil && (!q.Opened || q.Account.AccountNo != w.accounts[acct]) {
			w.mismatch = append(w.mismatch, fmt.Sprintf("wallet/query of %s: %+v", w.accounts[acct], q))
		}
		w.note(kind, took, err)
		return nil
	case kindPaymentQuery:
		if len(w.made) == 0 {
			return nil
		}
		want := w.made[w.rng.IntN(len(w.made))]
		if want.Kind == kindRefund {
			return nil
		}
		start := time.Now()
		got, err := w.svc.Query(ctx, want.No)
		took := time.Since(start)
		if err == nil && (got.Amount != want.Amount || got.AccountNo != want.Account || got.Status != wallet.StatusSuccess) {
			w.mismatch = append(w.mismatch, fmt.Sprintf("payment/query of %s: %+v, made as %+v", want.No, got, want))
		}
		w.note(kind, took, err)
		return nil
	case kindRecharge:
		req = payment.RechargeRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount}
	case kindPay:
		req = payment.PayRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount, Subject: "load", Password: pin}
	case kindTransfer:
		payee := (acct + 1 + w.rng.IntN(len(w.accounts)-1)) % len(w.accounts)
		o.Payee = w.accounts[payee]
		req = payment.TransferRequest{AccountNo: o.Account, PayeeAccountNo: o.Payee, PayeeName: w.people[payee].Name, OutTradeNo: o.No,
			Amount: o.Amount, Password: pin}
	case kindRefund:
		if len(w.paid) == 0 {
			return nil
		}
		i := w.rng.IntN(len(w.paid))
		p := &w.paid[i]
		o.No, o.PaidNo, o.Account = payment.NewOutRefundNo(), p.no, p.account
		o.Amount = 1 + w.rng.Int64N(p.left)
		p.left -= o.Amount
		if p.left == 0 {
			w.paid = slices.Delete(w.paid, i, i+1)
		}
		rreq = payment.RefundRequest{OutTradeNo: o.PaidNo, OutRefundNo: o.No, Amount: o.Amount}
	}
	start := time.Now()
	if kind == kindRefund {
		_, err = w.svc.Refund(ctx, rreq)
	} else {
		var got *payment.Order
		switch r := req.(type) {
		case payment.RechargeRequest:
			got, err = w.svc.Recharge(ctx, r)
		case payment.PayRequest:
			got, err = w.svc.Pay(ctx, r)
		case payment.TransferRequest:
			got, err = w.svc.Transfer(ctx, r)
		}
		if err == nil && (got.Amount != o.Amount || got.OutTradeNo != o.No) {
			w.mismatch = append(w.mismatch, fmt.Sprintf("%s %s: answered %+v", kind, o.No, got))
		}
	}
	took := time.Since(start)
	w.note(kind, took, err)
	var apiErr *wallet.APIError
	switch {
	case err == nil:
		w.made = append(w.made, o)
		if kind == kindPay {
			w.paid = append(w.paid, paidOrder{no: o.No, account: o.Account, left: o.Amount})
		}
	case wallet.IsOutcomeUnknown(err):
		var te *wallet.TransportError
		u := unknownCall{o: o, req: req, rreq: rreq}
		if errors.As(err, &te) {
			u.msgID = te.MsgID
		}
		w.unknown = append(w.unknown, u)
	case errors.As(err, &apiErr):
		w.refused = append(w.refused, o.No)
	default:
		return fmt.Errorf("%s %s: %w", kind, o.No, err)
	}
	return nil
}

// note records a call: its latency when it succeeded, its outcome
// otherwise.
func (w *loadWorker) note(kind string, took time.Duration, err error) {
	if err == nil {
		w.lat[kind] = append(w.lat[kind], took)
		return
	}
	w.errs[kind+" "+outcomeWord(err)]++
}

// resolve settles a call whose outcome was unknown, and reports whether
// it was made.
func (w *loadWorker) resolve(ctx context.Context, u unknownCall) bool {
	var err error
	if u.o.Kind == kindRefund {
		_, err = w.svc.ResolveRefund(ctx, u.rreq, u.msgID)
	} else {
		_, err = w.svc.Resolve(ctx, u.req, u.msgID)
	}
	return err == nil
}

// percentile is the q-quantile of sorted durations (0 for none).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadAvg is /proc/loadavg's three averages ("" where there is none).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// procCPU is the CPU time (user and system) a process has used, from
// /proc/<pid>/stat (0 where there is none).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

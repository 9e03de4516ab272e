package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/redisstore"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// merchantEnv names the file of the merchant process's merchantConfig.
const merchantEnv = "EWALLET_CHAOS_MERCHANT"

// merchantConfig is what a merchant process is started with: the merchant
// registered on the sandbox (every key a TEST KEY), and its journal.
type merchantConfig struct {
	BaseURL    string            `json:"base_url"`
	AppID      string            `json:"app_id"`
	MerchantID string            `json:"merchant_id"`
	KeyPEM     string            `json:"key_pem"`   // TEST KEY made by the test
	BankKeys   map[string]string `json:"bank_keys"` // key id → public key PEM

	JournalFile string `json:"journal_file,omitempty"` // a payment.FileJournal, or
	RedisAddr   string `json:"redis_addr,omitempty"`   // a redisstore.Journal at this Redis
	RedisPrefix string `json:"redis_prefix,omitempty"` // under this prefix

	// SideLog is where the merchant's journal wrapper notes every Begin
	// (before it is made) and every Settle (before it is made), so that
	// the test can check each outcome handed to the journal against the
	// bank's books, whatever the journal keeps.
	SideLog string `json:"side_log"`
}

func (c merchantConfig) wallet() (wallet.Config, error) {
	key, err := sign.ParsePrivateKey([]byte(c.KeyPEM))
	if err != nil {
		return wallet.Config{}, err
	}
	keys := map[string]*sign.PublicKey{}
	for id, pemText := range c.BankKeys {
		k, err := sign.ParsePublicKey([]byte(pemText))
		if err != nil {
			return wallet.Config{}, fmt.Errorf("bank key %s: %w", id, err)
		}
		keys[id] = k
	}
	return wallet.Config{BaseURL: c.BaseURL, AppID: c.AppID, MerchantID: c.MerchantID, PrivateKey: key, BankKeys: keys}, nil
}

// openJournal opens the journal the configuration names.
func (c merchantConfig) openJournal() (payment.Journal, func(), error) {
	if c.RedisAddr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: c.RedisAddr, ContextTimeoutEnabled: true})
		j, err := redisstore.NewJournal(rdb, c.RedisPrefix)
		if err != nil {
			rdb.Close()
			return nil, nil, err
		}
		return j, func() { rdb.Close() }, nil
	}
	j, err := payment.OpenFileJournal(c.JournalFile)
	if err != nil {
		return nil, nil, err
	}
	return j, func() { j.Close() }, nil
}

// Kill points: where a merchant process stops, tells the test, and waits
// to be killed (trial.Pause).
const (
	pauseBegin        = "begin"         // Begin is durable, nothing sent
	pauseAttemptError = "attempt_error" // an attempt failed (the bank dropped the connection after it committed)
	pauseAnswer       = "answer"        // the bank's answer arrived (status and headers), unread
	pauseSettle       = "settle"        // the outcome is known and not yet in the journal
)

// trial is one money call the test asks a merchant process to make.
type trial struct {
	ID        int    `json:"id"`
	Order     order  `json:"order"`
	PayeeName string `json:"payee_name,omitempty"` // wallet.Name, which refuses to marshal
	Pause     string `json:"pause,omitempty"`
	DialFail  bool   `json:"dial_fail,omitempty"` // every attempt fails to dial: nothing is sent
}

// event is one line a merchant process prints: "EV {json}".
type event struct {
	Ev       string            `json:"ev"` // opened, recovered, begun, sending, attempt_error, answer, settling, paused, result
	Trial    int               `json:"trial,omitempty"`
	MsgID    string            `json:"msg_id,omitempty"`
	Point    string            `json:"point,omitempty"`   // paused: where
	Outcome  string            `json:"outcome,omitempty"` // result: success, failed, unknown
	Code     string            `json:"code,omitempty"`    // result failed: the bank's code, or NOT_SENT
	TradeNo  string            `json:"trade_no,omitempty"`
	Err      string            `json:"err,omitempty"`
	Recovery *payment.Recovery `json:"recovery,omitempty"`
}

// sideStart is the side log's record of a merchant process starting.
const sideStart = `{"op":"start"}`

// sideRecord is one line of the side log.
type sideRecord struct {
	Op      string          `json:"op"` // start, begin, settle
	MsgID   string          `json:"msg_id"`
	Trial   int             `json:"trial,omitempty"` // begin: the trial, 0 when Recover
	Path    string          `json:"path,omitempty"`
	OrderNo string          `json:"order_no,omitempty"`
	Code    string          `json:"code,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
}

// hooks is the merchant process's link to the test: events on stdout, and
// the trial in progress, whose Pause makes the process stop there.
type hooks struct {
	mu    sync.Mutex
	trial *trial
	gone  chan struct{} // closed when stdin closes: the test is done with us
	side  *os.File
}

func (h *hooks) emit(e event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.trial != nil && e.Trial == 0 {
		e.Trial = h.trial.ID
	}
	b, _ := json.Marshal(e)
	fmt.Printf("EV %s\n", b)
}

func (h *hooks) current() *trial {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.trial
}

func (h *hooks) arm(t *trial) {
	h.mu.Lock()
	h.trial = t
	h.mu.Unlock()
}

// pause stops the process at point when the trial asks for it: it says so
// and waits to be killed (or for the test to go away).
func (h *hooks) pause(point string) {
	t := h.current()
	if t == nil || t.Pause != point {
		return
	}
	h.emit(event{Ev: "paused", Point: point})
	select {
	case <-h.gone:
	case <-time.After(2 * time.Minute):
	}
	os.Exit(3)
}

// note appends a record to the side log. A write(2) that returned is in
// the kernel's cache, which SIGKILL does not lose.
func (h *hooks) note(r sideRecord) {
	b, _ := json.Marshal(r)
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.side.Write(append(b, '\n')); err != nil {
		fmt.Fprintln(os.Stderr, "chaos merchant: side log:", err)
		os.Exit(4)
	}
}

// tapJournal is the merchant's journal with the test's hooks around it.
type tapJournal struct {
	inner payment.Journal
	h     *hooks
}

func (j *tapJournal) Begin(ctx context.Context, e payment.Entry) error {
	id := 0
	if t := j.h.current(); t != nil {
		id = t.ID
	}
	j.h.note(sideRecord{Op: "begin", MsgID: e.MsgID, Trial: id, Path: e.Path, OrderNo: e.OrderNo})
	if err := j.inner.Begin(ctx, e); err != nil {
		return err
	}
	j.h.emit(event{Ev: "begun", MsgID: e.MsgID})
	j.h.pause(pauseBegin)
	return nil
}

func (j *tapJournal) Settle(ctx context.Context, msgID string, o payment.Outcome) error {
	j.h.note(sideRecord{Op: "settle", MsgID: msgID, Code: o.Code, Result: o.Result})
	j.h.emit(event{Ev: "settling", MsgID: msgID, Code: o.Code})
	j.h.pause(pauseSettle)
	return j.inner.Settle(ctx, msgID, o)
}

func (j *tapJournal) Pending(ctx context.Context) ([]payment.Entry, error) {
	return j.inner.Pending(ctx)
}

// hookTransport tells the test where an attempt is, and stops there when
// the trial asks; DialFail makes every attempt fail to dial.
type hookTransport struct {
	next http.RoundTripper
	h    *hooks
}

func (t hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	tr := t.h.current()
	if tr == nil {
		return t.next.RoundTrip(r)
	}
	if tr.DialFail {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("chaos: dialling refused on purpose")}
	}
	t.h.emit(event{Ev: "sending"})
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.h.emit(event{Ev: "attempt_error", Err: err.Error()})
		t.h.pause(pauseAttemptError)
		return nil, err
	}
	t.h.emit(event{Ev: "answer"})
	t.h.pause(pauseAnswer)
	return resp, nil
}

// runMerchant is the merchant process: it opens its journal, runs
// Recover, prints what it did, then makes the money calls the test writes
// on stdin, one JSON trial per line, printing what happens, until stdin
// closes.
func runMerchant() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "chaos merchant:", err)
		return 1
	}
	raw, err := os.ReadFile(os.Getenv(merchantEnv))
	if err != nil {
		return fail(err)
	}
	var cfg merchantConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fail(err)
	}
	wcfg, err := cfg.wallet()
	if err != nil {
		return fail(err)
	}
	side, err := os.OpenFile(cfg.SideLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fail(err)
	}
	defer side.Close()
	// Start on a line of our own: the last process may have been killed in
	// the middle of a record.
	if _, err := side.Write([]byte("\n" + sideStart + "\n")); err != nil {
		return fail(err)
	}
	h := &hooks{gone: make(chan struct{}), side: side}
	inner, closeJournal, err := cfg.openJournal()
	if err != nil {
		return fail(err)
	}
	defer closeJournal()
	h.emit(event{Ev: "opened"})
	transport := http.DefaultTransport.(*http.Transport).Clone()
	c, err := wallet.NewClient(wcfg, wallet.WithHTTPClient(&http.Client{Transport: hookTransport{next: transport, h: h}}),
		wallet.WithTimeout(10*time.Second), wallet.WithRetry(2), wallet.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		return fail(err)
	}
	svc := payment.New(c, payment.WithJournal(&tapJournal{inner: inner, h: h}))
	ctx := context.Background()

	rec, err := svc.Recover(ctx)
	if err != nil {
		return fail(fmt.Errorf("Recover: %w", err))
	}
	h.emit(event{Ev: "recovered", Recovery: &rec})

	trials := make(chan trial)
	go func() {
		defer close(h.gone)
		defer close(trials)
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			var t trial
			if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
				fmt.Fprintf(os.Stderr, "chaos merchant: bad trial %q: %v\n", sc.Text(), err)
				return
			}
			trials <- t
		}
	}()
	for t := range trials {
		h.arm(&t)
		res := makeCall(ctx, svc, c, t)
		h.arm(nil)
		res.Trial = t.ID
		h.emit(res)
	}
	return 0
}

// makeCall makes a trial's money call and says how it ended.
func makeCall(ctx context.Context, svc *payment.Service, c *wallet.Client, t trial) event {
	o := t.Order
	var (
		tradeNo string
		ord     *payment.Order
	)
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return outcomeEvent("", err)
	}
	switch o.Kind {
	case kindRecharge:
		ord, err = svc.Recharge(ctx, payment.RechargeRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount})
	case kindWithdraw:
		ord, err = svc.Withdraw(ctx, payment.WithdrawRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount, Password: pin})
	case kindPay:
		ord, err = svc.Pay(ctx, payment.PayRequest{AccountNo: o.Account, OutTradeNo: o.No, Amount: o.Amount, Subject: "chaos", Password: pin})
	case kindTransfer:
		ord, err = svc.Transfer(ctx, payment.TransferRequest{AccountNo: o.Account, PayeeAccountNo: o.Payee, PayeeName: wallet.Name(t.PayeeName),
			OutTradeNo: o.No, Amount: o.Amount, Password: pin})
	case kindRefund:
		var r *payment.Refund
		r, err = svc.Refund(ctx, payment.RefundRequest{OutTradeNo: o.PaidNo, OutRefundNo: o.No, Amount: o.Amount})
		if err == nil {
			tradeNo = r.RefundNo
		}
	default:
		err = fmt.Errorf("unknown kind %q", o.Kind)
	}
	if ord != nil {
		tradeNo = ord.TradeNo
	}
	return outcomeEvent(tradeNo, err)
}

// outcomeEvent is the result event of a money call.
func outcomeEvent(tradeNo string, err error) event {
	var apiErr *wallet.APIError
	switch {
	case err == nil:
		return event{Ev: "result", Outcome: "success", TradeNo: tradeNo}
	case wallet.IsOutcomeUnknown(err):
		return event{Ev: "result", Outcome: "unknown", Err: err.Error()}
	case errors.As(err, &apiErr):
		return event{Ev: "result", Outcome: "failed", Code: string(apiErr.Code), Err: err.Error()}
	default:
		return event{Ev: "result", Outcome: "failed", Code: payment.CodeNotSent, Err: err.Error()}
	}
}

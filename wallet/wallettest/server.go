package wallettest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// TestPIN is the PIN OpenAccount sets: six digits the bank does not find
// weak.
const TestPIN = "135790"

// TB is the part of testing.TB the kit uses. *testing.T, *testing.B and
// *testing.F satisfy it; a program (an example, a standalone sandbox)
// uses StartServer instead, so that it links no testing package.
type TB interface {
	Helper()
	Fatal(args ...any)
	Errorf(format string, args ...any)
	Cleanup(func())
}

// Server is the sandbox bank running in-process, with the built-in test
// merchant (TEST keys), a notification receiver that verifies what the
// bank sends, and helpers for the control API. It speaks the whole
// protocol (docs/protocol.md) and keeps real books: balances, limits,
// orders, refunds, statements.
type Server struct {
	// URL is the bank's base URL.
	URL string

	t    TB
	bank *sandbox.Bank
	http *httptest.Server

	mu     sync.Mutex
	events []*notify.Event
	seen   chan struct{} // closed and replaced on every event
}

// ServerOption tunes NewServer and StartServer.
type ServerOption func(*serverOptions)

type serverOptions struct {
	notifyScale float64
	receiver    bool
	statePath   string
	addr        string
	logger      *slog.Logger
}

// WithNotifyScale multiplies the bank's notification retry schedule
// (default 0.001: the 15 s first retry comes after 15 ms).
func WithNotifyScale(f float64) ServerOption { return func(o *serverOptions) { o.notifyScale = f } }

// WithoutNotifyReceiver leaves the test merchant without a notify URL, for
// tests that serve their own (SetNotifyURL).
func WithoutNotifyReceiver() ServerOption { return func(o *serverOptions) { o.receiver = false } }

// WithStatePath keeps the bank's books (merchants, accounts, orders,
// refunds, ledgers, business clock) in a file across restarts.
func WithStatePath(path string) ServerOption { return func(o *serverOptions) { o.statePath = path } }

// WithAddr serves the bank on addr (e.g. "127.0.0.1:8360") instead of a
// free loopback port.
func WithAddr(addr string) ServerOption { return func(o *serverOptions) { o.addr = addr } }

// WithLogger gives the bank a logger; it never logs personal data.
func WithLogger(l *slog.Logger) ServerOption { return func(o *serverOptions) { o.logger = l } }

// NewServer starts the sandbox bank for the test and stops it when the test
// ends.
func NewServer(t TB, opts ...ServerOption) *Server {
	t.Helper()
	s, stop, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// StartServer is NewServer for programs, which have no TB: call stop when
// done. Its helpers panic where NewServer's would fail the test.
func StartServer(opts ...ServerOption) (s *Server, stop func(), err error) {
	return start(nil, opts)
}

func start(t TB, opts []ServerOption) (*Server, func(), error) {
	o := serverOptions{notifyScale: 0.001, receiver: true}
	for _, opt := range opts {
		opt(&o)
	}
	bank, err := sandbox.New(sandbox.Options{NotifyScale: o.notifyScale, NotifyTimeout: 2 * time.Second,
		StatePath: o.statePath, Logger: o.logger, Addr: o.addr})
	if err != nil {
		return nil, nil, err
	}
	hs := httptest.NewUnstartedServer(bank)
	if o.addr != "" {
		l, err := net.Listen("tcp", o.addr)
		if err != nil {
			_ = bank.Close()
			return nil, nil, err
		}
		hs.Listener.Close()
		hs.Listener = l
	}
	hs.Start()
	s := &Server{URL: hs.URL, t: t, bank: bank, http: hs, seen: make(chan struct{})}
	stops := []func(){hs.Close, func() { _ = bank.Close() }}
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	if o.receiver {
		h, err := notify.NewHandler(s.Client(), s.collect)
		if err != nil {
			stop()
			return nil, nil, err
		}
		rs := httptest.NewServer(h)
		stops = append([]func(){rs.Close}, stops...)
		if err := s.setNotifyURL(rs.URL + "/notify"); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return s, stop, nil
}

// fatal ends the test, or panics outside one (StartServer).
func (s *Server) fatal(args ...any) {
	if s.t == nil {
		panic(fmt.Sprint(append([]any{"wallettest: "}, args...)...))
	}
	s.t.Helper()
	s.t.Fatal(args...)
}

func (s *Server) helper() {
	if s.t != nil {
		s.t.Helper()
	}
}

// check fails the test (or panics) on err.
func (s *Server) check(err error) {
	if err != nil {
		s.helper()
		s.fatal(err)
	}
}

// Handler is the bank's HTTP handler, to serve it behind a proxy of the
// test's own (a fault-injecting one, say).
func (s *Server) Handler() http.Handler { return s.bank }

// Credentials are what a developer needs to point a client at the
// sandbox: the built-in test merchant and the bank's public keys. Every key
// is a TEST KEY, published on purpose.
type Credentials struct {
	AppID      string
	MerchantID string
	// MerchantKey is the test merchant's private key; nil when the test app
	// was registered again with a key of its own, which the sandbox does
	// not know.
	MerchantKey  *sign.PrivateKey
	BankKeys     map[string]*sign.PublicKey
	SigningKeyID string // the bank key that signs now
}

// Credentials returns the sandbox's published test credentials.
func (s *Server) Credentials() (Credentials, error) {
	creds := s.bank.Credentials()
	c := Credentials{AppID: creds.AppID, MerchantID: creds.MerchantID, BankKeys: map[string]*sign.PublicKey{}, SigningKeyID: creds.SigningKeyID}
	if creds.MerchantPrivateKeyPEM != "" {
		key, err := sign.ParsePrivateKey([]byte(creds.MerchantPrivateKeyPEM))
		if err != nil {
			return Credentials{}, err
		}
		c.MerchantKey = key
	}
	for _, k := range creds.BankKeys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKeyPEM))
		if err != nil {
			return Credentials{}, err
		}
		c.BankKeys[k.KeyID] = pub
	}
	return c, nil
}

// Config is a wallet.Config for the sandbox's test merchant, trusting both
// sandbox bank keys. Every key in it is a TEST KEY.
func (s *Server) Config() wallet.Config {
	s.helper()
	creds, err := s.Credentials()
	s.check(err)
	if creds.MerchantKey == nil {
		s.fatal("the sandbox's test app was registered again with another key: its private key is not the sandbox's to give")
	}
	return wallet.Config{BaseURL: s.URL, AppID: creds.AppID, MerchantID: creds.MerchantID, PrivateKey: creds.MerchantKey, BankKeys: creds.BankKeys}
}

// Client returns a new client of the sandbox's test merchant. A short
// backoff comes first, so opts can replace it.
func (s *Server) Client(opts ...wallet.Option) *wallet.Client {
	s.helper()
	base := []wallet.Option{wallet.WithBackoff(time.Millisecond, 20*time.Millisecond)}
	c, err := wallet.NewClient(s.Config(), append(base, opts...)...)
	s.check(err)
	return c
}

// SetNotifyURL points the test merchant's notifications at url (a handler
// under test), in place of the built-in receiver.
func (s *Server) SetNotifyURL(url string) {
	s.helper()
	s.check(s.setNotifyURL(url))
}

func (s *Server) setNotifyURL(url string) error {
	creds := s.bank.Credentials()
	pub, err := sign.ParsePublicKey([]byte(creds.MerchantPublicKeyPEM))
	if err != nil {
		return err
	}
	return s.bank.RegisterMerchant(sandbox.Merchant{AppID: creds.AppID, MerchantID: creds.MerchantID, PublicKey: pub, NotifyURL: url})
}

// RegisterMerchant registers another merchant app with the bank (or
// replaces the key and notify URL of one), as POST /sandbox/merchants does.
func (s *Server) RegisterMerchant(appID, merchantID string, key *sign.PublicKey, notifyURL string) {
	s.helper()
	s.check(s.bank.RegisterMerchant(sandbox.Merchant{AppID: appID, MerchantID: merchantID, PublicKey: key, NotifyURL: notifyURL}))
}

// AdvanceClock moves the bank's business clock (limits, SMS and token
// expiry, order times, which days have a statement) and returns the new
// business time. Envelope timestamps stay on the real clock.
func (s *Server) AdvanceClock(d time.Duration) time.Time { return s.bank.AdvanceClock(d) }

// AdvanceClockTo moves the business clock forward to the next hh:mm in
// UTC+8 (today's, or tomorrow's when it has passed), so that a test that
// then moves the clock by minutes does not cross midnight by chance.
func (s *Server) AdvanceClockTo(hour, minute int) time.Time {
	s.helper()
	t, err := s.bank.AdvanceClockToNext(hour, minute)
	s.check(err)
	return t
}

// BusinessNow is the bank's business clock.
func (s *Server) BusinessNow() time.Time { return s.bank.BusinessNow() }

// FaultKind is how an injected fault makes the bank misbehave.
type FaultKind string

// Fault kinds (docs/protocol.md, section 11).
const (
	// FaultLatency delays the call by Fault.Latency before the bank acts.
	FaultLatency FaultKind = "latency"
	// FaultHTTP503 answers HTTP 503 without acting.
	FaultHTTP503 FaultKind = "http_503"
	// FaultDropBeforeCommit closes the connection before the bank acts.
	FaultDropBeforeCommit FaultKind = "drop_before_commit"
	// FaultDropAfterCommit acts (moves money, remembers the msg_id) and
	// closes the connection without an answer.
	FaultDropAfterCommit FaultKind = "drop_after_commit"
	// FaultBadSignature acts and answers with a corrupted signature.
	FaultBadSignature FaultKind = "bad_signature"
)

// Fault makes the next Count API calls (to Path only, when set)
// misbehave as Kind says.
type Fault struct {
	Kind    FaultKind
	Count   int           // default 1
	Path    string        // the API path as Do takes it ("payment/pay"); "" for any API
	Latency time.Duration // FaultLatency only; default 1 s
}

// InjectFault makes the next f.Count API calls misbehave.
func (s *Server) InjectFault(f Fault) {
	s.helper()
	path := f.Path
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/api/v1/" + path
	}
	s.check(s.bank.InjectFault(sandbox.Fault{Kind: string(f.Kind), Count: f.Count, Path: path, Latency: f.Latency}))
}

// SetSigningKey makes the bank sign with another of its keys
// ("bank-2026-01", "bank-2026-07").
func (s *Server) SetSigningKey(id string) {
	s.helper()
	s.check(s.bank.SetSigningKey(id))
}

// Freeze freezes an account, as the bank's risk control would.
func (s *Server) Freeze(accountNo string) {
	s.helper()
	s.check(s.bank.Freeze(accountNo))
}

// Unfreeze lifts a freeze.
func (s *Server) Unfreeze(accountNo string) {
	s.helper()
	s.check(s.bank.Unfreeze(accountNo))
}

// LedgerEntry is one balance change of an account.
type LedgerEntry struct {
	Time         time.Time
	Type         string // RECHARGE, WITHDRAW, PAY, TRANSFER_OUT, TRANSFER_IN, REFUND
	Amount       int64  // fen; negative for money leaving the account
	BalanceAfter int64
	OutTradeNo   string
	OutRefundNo  string // REFUND entries only
}

// Ledger returns an account's balance changes, oldest first.
func (s *Server) Ledger(accountNo string) []LedgerEntry {
	s.helper()
	l, err := s.bank.Ledger(accountNo)
	s.check(err)
	out := make([]LedgerEntry, len(l))
	for i, e := range l {
		out[i] = LedgerEntry{Time: e.Time, Type: e.Type, Amount: e.Amount, BalanceAfter: e.BalanceAfter, OutTradeNo: e.OutTradeNo, OutRefundNo: e.OutRefundNo}
	}
	return out
}

// Delivery is the bank's record of one notification.
type Delivery struct {
	NotifyID   string
	NotifyType string
	MerchantID string
	URL        string
	Attempts   []Attempt
	Done       bool // delivered, or given up after the last retry
}

// Delivered reports whether the receiver accepted the notification.
func (d Delivery) Delivered() bool {
	return len(d.Attempts) > 0 && d.Attempts[len(d.Attempts)-1].OK
}

// Attempt is one delivery attempt.
type Attempt struct {
	Time   time.Time
	Status int    // the HTTP status, 0 when no answer came
	OK     bool   // the receiver answered 200 {"code":"SUCCESS"}
	Error  string // why the attempt failed, when it did
}

// Deliveries returns every notification the bank sent or is retrying.
func (s *Server) Deliveries() []Delivery {
	ds := s.bank.Deliveries("")
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = Delivery{NotifyID: d.NotifyID, NotifyType: d.NotifyType, MerchantID: d.MerchantID, URL: d.URL, Done: d.Done}
		for _, a := range d.Attempts {
			out[i].Attempts = append(out[i].Attempts, Attempt{Time: a.Time, Status: a.Status, OK: a.OK, Error: a.Error})
		}
	}
	return out
}

func (s *Server) collect(_ context.Context, e *notify.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
	close(s.seen)
	s.seen = make(chan struct{})
	return nil
}

// Notifications returns the events the built-in receiver verified and
// accepted, in arrival order.
func (s *Server) Notifications() []*notify.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*notify.Event(nil), s.events...)
}

// WaitNotification waits up to 5 s for a received event that match
// accepts, and fails the test without one.
func (s *Server) WaitNotification(match func(*notify.Event) bool) *notify.Event {
	s.helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		for _, e := range s.events {
			if match(e) {
				s.mu.Unlock()
				return e
			}
		}
		seen := s.seen
		s.mu.Unlock()
		select {
		case <-seen:
		case <-deadline:
			s.fatal("no matching notification within 5 s")
			return nil
		}
	}
}

// PIN returns TestPIN encrypted for c.
func PIN(t TB, c *wallet.Client) wallet.EncryptedPIN {
	t.Helper()
	p, err := c.EncryptPIN(TestPIN)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// OpenAccount walks the account-opening journey for p (four factors, SMS,
// open with TestPIN) and returns the new account number.
func (s *Server) OpenAccount(p TestPerson) string {
	s.helper()
	a, err := Open(context.Background(), s.Client(), p)
	s.check(err)
	return a.AccountNo
}

// Open opens an account for a test person through c against any sandbox
// (its SMS code is always 123456): four factors, SMS, face and TestPIN.
func Open(ctx context.Context, c *wallet.Client, p TestPerson) (*wallet.Account, error) {
	if c == nil {
		return nil, errors.New("wallettest: Open: nil client")
	}
	svc := account.New(c)
	v, err := svc.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile})
	if err != nil {
		return nil, err
	}
	sms, err := svc.SendSMS(ctx, account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen})
	if err != nil {
		return nil, err
	}
	pin, err := c.EncryptPIN(TestPIN)
	if err != nil {
		return nil, err
	}
	return svc.OpenAccount(ctx, account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber,
		CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: Face(), Password: pin})
}

// Recharge puts amount fen into an account from its bound card.
func (s *Server) Recharge(accountNo string, amount int64) *wallet.Order {
	s.helper()
	o, err := payment.New(s.Client()).Recharge(context.Background(), payment.RechargeRequest{
		AccountNo: accountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	s.check(err)
	return o
}

// Merchant is a merchant app registered with the sandbox.
type Merchant struct {
	AppID      string
	MerchantID string
	PublicKey  *sign.PublicKey
	NotifyURL  string // "" when it has none
}

// Merchants lists the registered merchant apps with their notify URLs.
func (s *Server) Merchants() []Merchant {
	ms := s.bank.Merchants()
	out := make([]Merchant, len(ms))
	for i, m := range ms {
		out[i] = Merchant{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: m.PublicKey, NotifyURL: m.NotifyURL}
	}
	return out
}

// H5Input is what the user does on a bank page that CompleteH5 drives.
type H5Input struct {
	// PIN is what the user types as the PIN: the account's on withdraw,
	// pay, card and close; the new one on open and password.
	PIN string
	// Amount in fen, on a recharge or withdraw page whose link sets no
	// amount (a link's amount is the flow's and cannot be typed over).
	Amount int64
	// SMSCode is the code typed after 发送验证码; "" types the sandbox's
	// 123456.
	SMSCode string
	// Name, IDNumber, Mobile and CardNo fill the form where the page asks
	// for them: on open over the link's prefill; on card the new card and
	// its mobile; on password the holder's IDNumber.
	Name     wallet.Name
	IDNumber wallet.IDNumber
	Mobile   wallet.Mobile
	CardNo   wallet.CardNumber
	// Face is the photo uploaded on open and password; nil uses the
	// sandbox's test face.
	Face wallet.FaceImage
	// Cancel presses the page's cancel button instead of completing it.
	Cancel bool
}

// H5PageError is what CompleteH5 returns when the bank showed an error
// page for the link (Page is "") or refused a step of the page (a wrong
// PIN, a wrong SMS code, too little money: Kind "step").
type H5PageError struct {
	Page    string
	Kind    string // the error page's kind: expired, reused, signature, param, merchant, page, account, session, method, or step
	Message string // what the user reads
}

// Error says which page refused what.
func (e *H5PageError) Error() string {
	if e.Page == "" {
		return "wallettest: the bank refused the link (" + e.Kind + "): " + e.Message
	}
	return "wallettest: page " + e.Page + " refused the step (" + e.Kind + "): " + e.Message
}

// CompleteH5 does what a user does on the bank's page that link opens —
// through the pages' own HTTP handlers, exactly as a browser would (the
// session cookie, the forms, 发送验证码, the face photo, the PIN, the main
// button or 取消) — and returns the return redirect the bank sends the
// user to at the end: the merchant's return_url with the signed result,
// ready for h5.Builder.VerifyReturn. Use it to test a merchant's whole H5
// flow, return handler included, without a browser.
func (s *Server) CompleteH5(ctx context.Context, link string, in H5Input) (*url.URL, error) {
	ret, err := s.bank.CompleteH5(ctx, link, sandbox.H5Input{PIN: in.PIN, Amount: in.Amount, SMSCode: in.SMSCode,
		Name: string(in.Name), IDNumber: string(in.IDNumber), Mobile: string(in.Mobile), CardNo: string(in.CardNo),
		Face: in.Face, Cancel: in.Cancel})
	var pe *sandbox.H5PageError
	if errors.As(err, &pe) {
		return nil, &H5PageError{Page: pe.Page, Kind: pe.Kind, Message: pe.Message}
	}
	if err != nil {
		return nil, err
	}
	return url.Parse(ret)
}

package wallettest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// TestPIN is the PIN OpenAccount sets: six digits the bank does not find
// weak.
const TestPIN = "135790"

// Fault, LedgerEntry, Delivery and Attempt are the sandbox's control types.
type (
	Fault       = sandbox.Fault
	LedgerEntry = sandbox.LedgerEntry
	Delivery    = sandbox.Delivery
	Attempt     = sandbox.Attempt
)

// Fault kinds for InjectFault (PROTOCOL.md section 11).
const (
	FaultLatency          = sandbox.FaultLatency
	FaultHTTP503          = sandbox.FaultHTTP503
	FaultDropBeforeCommit = sandbox.FaultDropBeforeCommit
	FaultDropAfterCommit  = sandbox.FaultDropAfterCommit
	FaultBadSignature     = sandbox.FaultBadSignature
)

// Server is the sandbox bank running in-process on httptest, with the
// built-in test merchant, a notification receiver that verifies what the
// bank sends, and helpers for the control API.
type Server struct {
	// URL is the bank's base URL.
	URL string

	t    testing.TB
	bank *sandbox.Bank
	opts serverOptions

	mu    sync.Mutex
	notes []*wallet.Notification
	seen  chan struct{} // closed and replaced on every notification
}

// ServerOption tunes NewServer.
type ServerOption func(*serverOptions)

type serverOptions struct {
	notifyScale float64
	receiver    bool
}

// WithNotifyScale multiplies the bank's notification retry schedule
// (default 0.001: the 15 s first retry comes after 15 ms).
func WithNotifyScale(f float64) ServerOption { return func(o *serverOptions) { o.notifyScale = f } }

// WithoutNotifyReceiver leaves the test merchant without a notify URL, for
// tests that register their own (sandbox control API, POST
// /sandbox/merchants).
func WithoutNotifyReceiver() ServerOption { return func(o *serverOptions) { o.receiver = false } }

// NewServer starts the sandbox bank for the test and stops it when the test
// ends.
func NewServer(t testing.TB, opts ...ServerOption) *Server {
	t.Helper()
	s, stop, err := start(t, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return s
}

// StartServer is NewServer for examples and programs, which have no
// testing.TB: call stop when done. Its helpers panic where NewServer's
// would fail the test.
func StartServer(opts ...ServerOption) (s *Server, stop func(), err error) {
	return start(nil, opts)
}

func start(t testing.TB, opts []ServerOption) (*Server, func(), error) {
	o := serverOptions{notifyScale: 0.001, receiver: true}
	for _, opt := range opts {
		opt(&o)
	}
	bank, err := sandbox.New(sandbox.Options{NotifyScale: o.notifyScale, NotifyTimeout: 2 * time.Second})
	if err != nil {
		return nil, nil, err
	}
	hs := httptest.NewServer(bank)
	s := &Server{URL: hs.URL, t: t, bank: bank, opts: o, seen: make(chan struct{})}
	stops := []func(){hs.Close, func() { _ = bank.Close() }}
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	if o.receiver {
		rs := httptest.NewServer(s.Client().NotificationHandler(s.collect))
		stops = append([]func(){rs.Close}, stops...)
		creds := bank.Credentials()
		pub, err := sign.ParsePublicKey([]byte(creds.MerchantPublicKeyPEM))
		if err == nil {
			err = bank.RegisterMerchant(sandbox.Merchant{AppID: creds.AppID, MerchantID: creds.MerchantID, PublicKey: pub, NotifyURL: rs.URL + "/notify"})
		}
		if err != nil {
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

// Config is a wallet.Config for the sandbox's test merchant, trusting both
// sandbox bank keys. Every key in it is a TEST KEY.
func (s *Server) Config() wallet.Config {
	s.helper()
	creds := s.bank.Credentials()
	key, err := sign.ParsePrivateKey([]byte(creds.MerchantPrivateKeyPEM))
	if err != nil {
		s.fatal(err)
	}
	keys := map[string]*sign.PublicKey{}
	for _, k := range creds.BankKeys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKeyPEM))
		if err != nil {
			s.fatal(err)
		}
		keys[k.KeyID] = pub
	}
	return wallet.Config{BaseURL: s.URL, AppID: creds.AppID, MerchantID: creds.MerchantID, PrivateKey: key, BankKeys: keys}
}

// Client returns a new client of the sandbox's test merchant. A short
// backoff comes first, so opts can replace it.
func (s *Server) Client(opts ...wallet.Option) *wallet.Client {
	s.helper()
	base := []wallet.Option{wallet.WithBackoff(time.Millisecond, 20*time.Millisecond)}
	c, err := wallet.NewClient(s.Config(), append(base, opts...)...)
	if err != nil {
		s.fatal(err)
	}
	return c
}

// Bank is the sandbox itself, for tests inside this module that need more
// than the helpers.
func (s *Server) Bank() *sandbox.Bank { return s.bank }

// AdvanceClock moves the bank's business clock (limits, SMS and token
// expiry, order times) and returns the new business time. Envelope
// timestamps stay on the real clock.
func (s *Server) AdvanceClock(d time.Duration) time.Time { return s.bank.AdvanceClock(d) }

// BusinessNow is the bank's business clock.
func (s *Server) BusinessNow() time.Time { return s.bank.BusinessNow() }

// InjectFault makes the next f.Count API calls misbehave (see the Fault*
// kinds).
func (s *Server) InjectFault(f Fault) {
	s.helper()
	if err := s.bank.InjectFault(f); err != nil {
		s.fatal(err)
	}
}

// SetSigningKey makes the bank sign with another of its keys.
func (s *Server) SetSigningKey(id string) {
	s.helper()
	if err := s.bank.SetSigningKey(id); err != nil {
		s.fatal(err)
	}
}

// Freeze freezes an account, as the bank's risk control would.
func (s *Server) Freeze(accountNo string) {
	s.helper()
	if err := s.bank.Freeze(accountNo); err != nil {
		s.fatal(err)
	}
}

// Unfreeze lifts a freeze.
func (s *Server) Unfreeze(accountNo string) {
	s.helper()
	if err := s.bank.Unfreeze(accountNo); err != nil {
		s.fatal(err)
	}
}

// Ledger returns an account's balance changes, oldest first.
func (s *Server) Ledger(accountNo string) []LedgerEntry {
	s.helper()
	l, err := s.bank.Ledger(accountNo)
	if err != nil {
		s.fatal(err)
	}
	return l
}

// Deliveries returns every notification the bank sent or is retrying.
func (s *Server) Deliveries() []Delivery { return s.bank.Deliveries("") }

func (s *Server) collect(_ context.Context, n *wallet.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes = append(s.notes, n)
	close(s.seen)
	s.seen = make(chan struct{})
	return nil
}

// Notifications returns the notifications the built-in receiver verified
// and accepted, in arrival order.
func (s *Server) Notifications() []*wallet.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*wallet.Notification(nil), s.notes...)
}

// WaitNotification waits up to 5 s for a received notification that match
// accepts, and fails the test without one.
func (s *Server) WaitNotification(match func(*wallet.Notification) bool) *wallet.Notification {
	s.helper()
	deadline := time.After(5 * time.Second)
	for {
		s.mu.Lock()
		for _, n := range s.notes {
			if match(n) {
				s.mu.Unlock()
				return n
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
func PIN(t testing.TB, c *wallet.Client) wallet.EncryptedPIN {
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
	if err != nil {
		s.fatal(err)
	}
	return a.AccountNo
}

// Open opens an account for a test person through c against any sandbox
// (its SMS code is always 123456): four factors, SMS, face and TestPIN.
func Open(ctx context.Context, c *wallet.Client, p TestPerson) (*wallet.Account, error) {
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
	return svc.Open(ctx, account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber,
		CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: Face(), Password: pin})
}

// Recharge puts amount fen into an account from its bound card.
func (s *Server) Recharge(accountNo string, amount int64) *wallet.Order {
	s.helper()
	o, err := payment.New(s.Client()).Recharge(context.Background(), payment.RechargeRequest{
		AccountNo: accountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: amount})
	if err != nil {
		s.fatal(err)
	}
	return o
}

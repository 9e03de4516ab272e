package sandbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Options configure a Bank. The zero value is a ready sandbox: the built-in
// test merchant and bank keys, the real clock, memory only.
type Options struct {
	// Now is the real clock: envelope timestamps, their ±300 s window, key
	// expiry, the msg_id cache. The business clock is Now plus whatever
	// AdvanceClock added. Default time.Now.
	Now func() time.Time
	// BankKeys are the bank's key pairs; default DefaultBankKeys().
	BankKeys []BankKey
	// SigningKeyID is the key that signs at start; default the first key.
	SigningKeyID string
	// Merchants are registered at start, after the built-in test merchant
	// (which one with the same AppID replaces).
	Merchants []Merchant
	// NotifyScale multiplies the retry schedule of section 10 (0.001 makes
	// 15 s into 15 ms); default 1.
	NotifyScale float64
	// NotifyTimeout bounds one delivery attempt; default 5 s.
	NotifyTimeout time.Duration
	// HTTPClient delivers notifications; default a client with
	// NotifyTimeout.
	HTTPClient *http.Client
	// StatePath, when set, is a bbolt file that keeps merchants, accounts,
	// orders, refunds, ledgers and the business clock across restarts.
	StatePath string
	// Logger receives the sandbox's log; personal data is never logged.
	// Default: discard.
	Logger *slog.Logger
}

// Merchant is a registered merchant app: its channel (MerchantID), the
// public key its requests are verified with and its answers encrypted to,
// and its default notification URL ("" for none).
type Merchant struct {
	AppID      string
	MerchantID string
	PublicKey  *sign.PublicKey
	NotifyURL  string
}

// Credentials are what a developer needs to point a client at the sandbox:
// the built-in test merchant and the bank's public keys. All of them are
// TEST keys. MerchantPrivateKeyPEM is empty when the test app was
// registered again with another key, which the sandbox does not know.
type Credentials struct {
	AppID                 string          `json:"app_id"`
	MerchantID            string          `json:"merchant_id"`
	MerchantPrivateKeyPEM string          `json:"merchant_private_key"`
	MerchantPublicKeyPEM  string          `json:"merchant_public_key"`
	BankKeys              []PublicBankKey `json:"bank_keys"`
	SigningKeyID          string          `json:"signing_key_id"`
}

// LedgerEntry is one balance change of an account: Amount is signed (a
// debit is negative) and BalanceAfter the balance it left.
type LedgerEntry struct {
	Time         time.Time
	Type         string // RECHARGE, WITHDRAW, PAY, TRANSFER_OUT, TRANSFER_IN, REFUND
	Amount       int64
	BalanceAfter int64
	OutTradeNo   string
	OutRefundNo  string // REFUND entries only
}

// ErrUnknownAccount is returned by the control methods for an account
// number the bank has never issued.
var ErrUnknownAccount = errors.New("sandbox: no such account")

// Bank is the sandbox bank: an http.Handler for /api/v1/... (the signed
// gateway) and /sandbox/... (the control API), and Go methods that do what
// the control API does. It is safe for concurrent use.
type Bank struct {
	now     func() time.Time
	log     *slog.Logger
	keys    *keyring
	st      *store
	core    *core
	notify  *notifier
	msgs    *msgCache
	faults  faultSet
	apis    map[string]apiSpec
	h5      *h5Site
	bills   *billStore
	testKey *sign.PrivateKey // the built-in merchant's private key

	closeOnce sync.Once
	closing   chan struct{}
}

// New starts a sandbox bank. Close it to stop notification retries and
// release the state file.
func New(opts Options) (*Bank, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.NotifyScale < 0:
		return nil, errors.New("sandbox: NotifyScale must not be negative")
	case opts.NotifyScale == 0:
		opts.NotifyScale = 1
	}
	if opts.NotifyTimeout <= 0 {
		opts.NotifyTimeout = 5 * time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: opts.NotifyTimeout}
	}
	if len(opts.BankKeys) == 0 {
		keys, err := DefaultBankKeys()
		if err != nil {
			return nil, err
		}
		opts.BankKeys = keys
	}
	keys, err := newKeyring(opts.BankKeys, opts.SigningKeyID)
	if err != nil {
		return nil, err
	}
	testKey, err := sign.ParsePrivateKey([]byte(DefaultMerchantKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("sandbox: built-in merchant key: %w", err)
	}

	b := &Bank{
		now:     opts.Now,
		log:     opts.Logger,
		keys:    keys,
		st:      newStore(opts.Now, opts.Logger),
		msgs:    newMsgCache(),
		bills:   newBillStore(),
		testKey: testKey,
		closing: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.notify = &notifier{
		client: opts.HTTPClient, timeout: opts.NotifyTimeout, scale: opts.NotifyScale,
		now: opts.Now, signer: keys.signer, lookup: b.st.merchant, log: opts.Logger,
		ctx: ctx, cancel: cancel,
	}
	b.core = &core{st: b.st, log: opts.Logger, notify: b.notify.send}
	b.apis = b.apiTable()
	if b.h5, err = newH5Site(b); err != nil {
		cancel()
		return nil, err
	}

	// The built-in merchant first, then the state file (which remembers
	// later registrations), then explicit options, which win.
	b.st.merchants[DefaultAppID] = &merchantRec{AppID: DefaultAppID, MerchantID: DefaultMerchantID, PublicKey: testKey.Public()}
	if opts.StatePath != "" {
		if err := b.st.openState(opts.StatePath); err != nil {
			cancel()
			return nil, err
		}
	}
	for _, m := range opts.Merchants {
		if err := b.RegisterMerchant(m); err != nil {
			b.Close()
			return nil, err
		}
	}
	return b, nil
}

// Close stops notification deliveries (pending retries end at once) and
// closes the state file. API calls after Close answer SERVICE_UNAVAILABLE.
func (b *Bank) Close() error {
	var err error
	b.closeOnce.Do(func() {
		close(b.closing)
		b.notify.close()
		b.bills.close()
		b.st.mu.Lock()
		err = b.st.close()
		b.st.mu.Unlock()
	})
	return err
}

func (b *Bank) isClosing() bool {
	select {
	case <-b.closing:
		return true
	default:
		return false
	}
}

// ServeHTTP serves the signed API under /api/v1/, the H5 pages under /h5/
// and the control API under /sandbox/. The bank may be mounted under a
// prefix (/bank/api/v1/...): the signed path always starts at /api/v1/ or
// /h5/.
func (b *Bank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if sub, ok := under(p, "/api/v1/"); ok {
		b.serveAPI(w, r, sub)
		return
	}
	if sub, ok := under(p, "/sandbox/"); ok {
		b.serveControl(w, r, sub)
		return
	}
	if sub, ok := under(p, "/h5/"); ok {
		b.h5.serve(w, r, p[:len(p)-len(sub)], sub)
		return
	}
	if sub, ok := under(p, "/bills/"); ok {
		b.serveBill(w, r, sub)
		return
	}
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found: the sandbox serves /api/v1/..., /h5/... and /sandbox/..."})
}

// under finds the part of path from prefix on, at the start or after a
// mount prefix.
func under(path, prefix string) (string, bool) {
	if strings.HasPrefix(path, prefix) {
		return path, true
	}
	if i := strings.Index(path, prefix); i > 0 {
		return path[i:], true
	}
	return "", false
}

// Credentials returns the built-in test merchant and the bank's public
// keys (GET /sandbox/credentials).
func (b *Bank) Credentials() Credentials {
	c := Credentials{
		AppID:        DefaultAppID,
		MerchantID:   DefaultMerchantID,
		BankKeys:     b.keys.public(),
		SigningKeyID: b.keys.signingID(),
	}
	if m := b.st.merchant(DefaultAppID); m != nil {
		c.MerchantID = m.MerchantID
		if pem, err := m.PublicKey.MarshalPEM(); err == nil {
			c.MerchantPublicKeyPEM = string(pem)
		}
		if m.PublicKey.Equal(b.testKey.Public()) {
			c.MerchantPrivateKeyPEM = DefaultMerchantKeyPEM
		}
	}
	return c
}

// RegisterMerchant registers an app, or replaces the key and notify URL of
// an app already registered (POST /sandbox/merchants).
func (b *Bank) RegisterMerchant(m Merchant) error {
	if err := safeID("app_id", m.AppID); err != nil {
		return err
	}
	if err := safeID("merchant_id", m.MerchantID); err != nil {
		return err
	}
	if m.PublicKey == nil {
		return errors.New("sandbox: public_key is required")
	}
	if m.NotifyURL != "" {
		if err := rules.CallbackURL(m.NotifyURL); err != nil {
			return fmt.Errorf("sandbox: notify_url: %w", err)
		}
	}
	if err := b.st.putMerchant(&merchantRec{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: m.PublicKey, NotifyURL: m.NotifyURL}); err != nil {
		return fmt.Errorf("sandbox: save merchant: %w", err)
	}
	b.log.Info("sandbox: merchant registered", "app_id", m.AppID, "merchant_id", m.MerchantID, "key", m.PublicKey.Fingerprint())
	return nil
}

func safeID(field, v string) error {
	if v == "" {
		return fmt.Errorf("sandbox: %s is required", field)
	}
	if safeField(v, "") == "" {
		return fmt.Errorf("sandbox: %s must be 1 to 64 printable ASCII characters", field)
	}
	return nil
}

// AdvanceClock moves the business clock forward by d and returns the new
// business time. A negative d is ignored: business time never runs
// backwards, or day and year turnovers would count twice.
func (b *Bank) AdvanceClock(d time.Duration) time.Time {
	if d > 0 {
		_, err := b.st.update(func(tx *txn) *apiError {
			tx.stagedMeta().ClockOffset += int64(d)
			return nil
		})
		if err != nil {
			b.log.Error("sandbox: clock not saved", "err", err)
		}
	}
	return b.BusinessNow()
}

// BusinessNow is the sandbox's business time: the real clock plus every
// AdvanceClock. Limits, SMS and token expiry and order times follow it.
func (b *Bank) BusinessNow() time.Time { return b.st.businessNow() }

// InjectFault queues a fault for the next API calls (POST /sandbox/faults).
// A drop fault on a connection that cannot be hijacked (HTTP/2, an
// httptest.ResponseRecorder) panics with http.ErrAbortHandler, which
// net/http's server absorbs.
func (b *Bank) InjectFault(f Fault) error {
	if isBillFault(f.Kind) {
		if err := b.bills.addFault(f); err != nil {
			return fmt.Errorf("sandbox: fault: %w", err)
		}
		return nil
	}
	f, err := normalizeFault(f, func(p string) bool { _, ok := b.apis[p]; return ok })
	if err != nil {
		return fmt.Errorf("sandbox: fault: %w", err)
	}
	b.faults.add(f)
	b.log.Info("sandbox: fault injected", "kind", f.Kind, "count", f.Count, "path", f.Path, "latency", f.Latency)
	return nil
}

// SetSigningKey chooses the bank key that signs from now on
// (POST /sandbox/signing-key).
func (b *Bank) SetSigningKey(id string) error {
	if err := b.keys.setSigning(id); err != nil {
		return err
	}
	b.log.Info("sandbox: signing key switched", "key_id", id)
	return nil
}

// Freeze freezes an account: it keeps its balance, shows an available
// balance of 0, and every call that moves its money or changes it answers
// ACCOUNT_FROZEN (refunds back to it still pass).
func (b *Bank) Freeze(accountNo string) error {
	_, err := b.core.setFrozen(accountNo, true)
	return err
}

// Unfreeze returns a frozen account to NORMAL.
func (b *Bank) Unfreeze(accountNo string) error {
	_, err := b.core.setFrozen(accountNo, false)
	return err
}

// Ledger returns every balance change of an account, oldest first.
func (b *Bank) Ledger(accountNo string) ([]LedgerEntry, error) {
	b.st.mu.Lock()
	defer b.st.mu.Unlock()
	if b.st.accounts[accountNo] == nil {
		return nil, ErrUnknownAccount
	}
	return slices.Clone(b.st.ledgers[accountNo]), nil
}

// Deliveries returns the notifications sent to one merchant ("" for all),
// oldest first, with every attempt so far.
func (b *Bank) Deliveries(merchantID string) []Delivery { return b.notify.snapshot(merchantID) }

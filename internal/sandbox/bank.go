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

	"github.com/xinyun-open/ewallet-go/internal/sandbox/h5site"

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
	// StatePath, when set, is a file that keeps merchants, accounts,
	// orders, refunds, ledgers and the business clock across restarts: a
	// log of JSON lines, one per saved change, fsynced, compacted at each
	// start (persist.go). A lock file StatePath+".lock" beside it keeps a
	// second sandbox off it.
	StatePath string
	// Logger receives the sandbox's log; personal data is never logged.
	// Default: discard.
	Logger *slog.Logger
	// Addr is the address the sandbox is served at, as clients name it
	// ("sandbox.internal:8360"). The control API (/sandbox/...) answers a
	// request whose Host is a loopback name or address, or this address's
	// host; anything else (a browser led there by DNS rebinding, say) gets
	// HTTP 403. Empty: loopback only.
	Addr string
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
	addr    string // Options.Addr
	h5      *h5site.Site
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
		addr:    opts.Addr,
		closing: make(chan struct{}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.notify = &notifier{
		client: opts.HTTPClient, timeout: opts.NotifyTimeout, scale: opts.NotifyScale,
		now: opts.Now, signer: keys.signer, lookup: b.st.merchant, log: opts.Logger,
		ctx: ctx, cancel: cancel,
	}
	b.core = &core{st: b.st, log: opts.Logger, notify: b.notify.send, decodes: make(chan struct{}, maxFaceDecodes)}
	b.apis = b.apiTable()
	if b.h5, err = h5site.New(h5Bank{b}, opts.Logger); err != nil {
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
// /h5/. Routing reads the path as the client sent it, escapes and all,
// never r.URL.Path: "%3F" is not "?" and "%2F" is not "/", so a path can
// never be made to look like another after decoding (docs/protocol.md,
// section 2).
func (b *Bank) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := requestPath(r)
	if sub, ok := under(p, "/api/v1/"); ok {
		if !h5site.PlainPath(p[:len(p)-len(sub)]) || !signablePath(sub) {
			// Not a path the bank signs for: no signed answer at all, so
			// that nothing chosen by the sender is ever signed as a path.
			writeError(w, http.StatusNotFound, "not found: an API path is /api/v1/ and segments of a-z and _")
			return
		}
		b.serveAPI(w, r, sub)
		return
	}
	if sub, ok := under(p, "/sandbox/"); ok {
		b.serveControl(w, r, sub)
		return
	}
	if sub, ok := under(p, "/h5/"); ok {
		b.h5.Serve(w, r, p[:len(p)-len(sub)], sub)
		return
	}
	if sub, ok := under(p, "/bills/"); ok {
		b.serveBill(w, r, sub)
		return
	}
	writeError(w, http.StatusNotFound, "not found: the sandbox serves /api/v1/..., /h5/..., /bills/... and /sandbox/...")
}

// requestPath is the request's path exactly as the client sent it (the
// request line without the query), or its escaped form when the request
// did not come off the wire.
func requestPath(r *http.Request) string {
	if p := r.RequestURI; strings.HasPrefix(p, "/") {
		p, _, _ = strings.Cut(p, "?")
		return p
	}
	return r.URL.EscapedPath()
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

// signablePath reports whether p has the only form of API path the bank
// signs an answer for: /api/v1/ and one or more /-separated segments of
// lowercase letters and "_" (docs/protocol.md, section 2).
func signablePath(p string) bool {
	rest, ok := strings.CutPrefix(p, "/api/v1/")
	if !ok || rest == "" {
		return false
	}
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; (c < 'a' || c > 'z') && c != '_' {
				return false
			}
		}
	}
	return true
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
	prev, err := b.st.putMerchant(&merchantRec{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: m.PublicKey, NotifyURL: m.NotifyURL})
	if err != nil {
		return fmt.Errorf("sandbox: save merchant: %w", err)
	}
	b.log.Info("sandbox: merchant registered", "app_id", m.AppID, "merchant_id", m.MerchantID, "key", m.PublicKey.Fingerprint())
	// Where notifications go is what a developer most often gets wrong:
	// every change of it is a line of its own.
	switch {
	case prev == nil && m.NotifyURL != "":
		b.log.Info("sandbox: notify URL registered", "app_id", m.AppID, "merchant_id", m.MerchantID, "notify_url", m.NotifyURL)
	case prev != nil && prev.NotifyURL != m.NotifyURL:
		b.log.Info("sandbox: notify URL changed", "app_id", m.AppID, "merchant_id", m.MerchantID,
			"from", prev.NotifyURL, "notify_url", m.NotifyURL)
	}
	return nil
}

// Merchants lists the registered merchant apps, the built-in test
// merchant included, by app id, each with its current notify URL
// (GET /sandbox/merchants).
func (b *Bank) Merchants() []Merchant {
	list := b.st.merchantList()
	out := make([]Merchant, 0, len(list))
	for _, m := range list {
		out = append(out, Merchant{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: m.PublicKey, NotifyURL: m.NotifyURL})
	}
	return out
}

func safeID(field, v string) error {
	if v == "" {
		return fmt.Errorf("sandbox: %s is required", field)
	}
	if !printableID(v) {
		return fmt.Errorf("sandbox: %s must be 1 to 64 printable ASCII characters", field)
	}
	return nil
}

// printableID reports whether v is 1 to 64 printable ASCII characters
// without spaces: the form of app and merchant ids.
func printableID(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' {
			return false
		}
	}
	return true
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

// AdvanceClockToNext moves the business clock forward to the next
// hour:minute of the UTC+8 wall clock (or leaves it there if it reads that
// already) and returns the new business time. A test that counts on one
// business day (daily limits, PIN locks, SMS counts) starts with, say,
// AdvanceClockToNext(10, 0), so that a run near midnight cannot see the
// day turn over half-way.
func (b *Bank) AdvanceClockToNext(hour, minute int) (time.Time, error) {
	if hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return time.Time{}, errors.New("sandbox: time of day must be 00:00 to 23:59")
	}
	_, err := b.st.update(func(tx *txn) *apiError {
		if d := nextTimeOfDay(tx.now, hour, minute).Sub(tx.now); d > 0 {
			tx.stagedMeta().ClockOffset += int64(d)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, errors.New("sandbox: the clock could not be saved")
	}
	return b.BusinessNow(), nil
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

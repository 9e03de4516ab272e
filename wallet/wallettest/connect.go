package wallettest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Sandbox is a sandbox bank a program is connected to — one embedded in
// the program, or a standalone one (go run ./examples/sandbox) — together
// with the merchant the program registered on it for itself. Connect
// makes one.
//
// Programs that share a standalone sandbox each get a merchant of their
// own, so that none of them re-registers or repoints another's: the
// sandbox's built-in test merchant (sandbox-app) is never touched, and its
// notifications keep going where whoever started the sandbox sent them.
//
// Its methods are safe for concurrent use.
type Sandbox struct {
	// URL is the sandbox's base URL, without a trailing slash.
	URL string
	// Config is the program's merchant, ready for wallet.NewClient: URL,
	// a fresh AppID and MerchantID, the merchant key (a fresh TEST key made
	// in the process, or the one given with WithMerchantKey) and every bank
	// key the sandbox publishes.
	Config wallet.Config
	// Server is the embedded sandbox, for what only it offers (Ledger,
	// Deliveries, AdvanceClockTo; like StartServer's, its helpers panic on
	// error); nil when URL is a standalone one.
	Server *Server

	control *http.Client
	stop    func() // stops an embedded sandbox; nil for a standalone one

	mu        sync.Mutex
	notifyURL string        // registered now
	offset    time.Duration // the sandbox's business clock less this machine's, as last seen
	closed    bool
}

// ConnectOption tunes Connect.
type ConnectOption func(*connectOptions)

type connectOptions struct {
	name      string
	notifyURL string
	key       sign.Signer
	keySet    bool
	server    []ServerOption
	control   *http.Client
}

// WithAppName starts the merchant's app id with name, so that the
// sandbox's logs and GET /sandbox/notifications tell which program it is:
// "quickstart" gives app ids like quickstart-5f0c2a9e13d7. The name is 1 to
// 40 characters of letters, digits, '.', '_' and '-' (default "program").
func WithAppName(name string) ConnectOption { return func(o *connectOptions) { o.name = name } }

// WithNotifyURL registers url as the merchant's notify URL: where the
// sandbox POSTs the notifications of this merchant's calls. It is https,
// or http on a loopback host (docs/protocol.md, section 4.1). Without it
// the merchant gets no notifications; Sandbox.SetNotifyURL sets one later.
func WithNotifyURL(url string) ConnectOption { return func(o *connectOptions) { o.notifyURL = url } }

// WithMerchantKey registers the public half of k instead of a fresh TEST
// key, and puts k in Config.PrivateKey: for a key the program made or
// loaded itself, or one held by an HSM or a signing service (only
// k.Public is used to register).
func WithMerchantKey(k sign.Signer) ConnectOption {
	return func(o *connectOptions) { o.key, o.keySet = k, true }
}

// WithServerOptions tunes the embedded sandbox Connect starts when the
// base URL is empty (WithNotifyScale, WithLogger, WithStatePath...). They
// do nothing for a standalone one.
func WithServerOptions(opts ...ServerOption) ConnectOption {
	return func(o *connectOptions) { o.server = append(o.server, opts...) }
}

// WithControlClient sends the control API calls (GET /sandbox/credentials,
// POST /sandbox/merchants, /sandbox/faults...) through hc instead of a
// client with a 10 s timeout (nil keeps that one).
func WithControlClient(hc *http.Client) ConnectOption {
	return func(o *connectOptions) { o.control = hc }
}

// Connect connects a program to a sandbox bank and registers a merchant of
// the program's own on it: a fresh app id and merchant id, a fresh TEST key
// made in the process (or WithMerchantKey's), and the program's notify URL
// (WithNotifyURL), through the sandbox's control API (POST
// /sandbox/merchants; docs/protocol.md, section 11.3).
//
// With baseURL "" it starts a sandbox embedded in the program, on a free
// loopback port, with notification retries 1000 times faster than the
// bank's (WithServerOptions tunes it); otherwise baseURL is a standalone sandbox, such as
// http://127.0.0.1:8360 from go run ./examples/sandbox. Either way the
// program talks to it over HTTP, as to the bank.
//
// Close ends it: call it when done. Connect is for programs (examples,
// demos, tools) and links no testing package; a test can use it too, or
// NewServer for the built-in test merchant.
func Connect(ctx context.Context, baseURL string, opts ...ConnectOption) (*Sandbox, error) {
	o := connectOptions{name: "program"}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("wallettest: Connect: nil ConnectOption")
		}
		opt(&o)
	}
	if err := checkAppName(o.name); err != nil {
		return nil, err
	}
	switch {
	case !o.keySet:
		k, err := sign.GenerateKey()
		if err != nil {
			return nil, fmt.Errorf("wallettest: making a TEST key: %w", err)
		}
		o.key = k
	case isNil(o.key):
		return nil, errors.New("wallettest: WithMerchantKey: nil key")
	case o.key.Public() == nil:
		return nil, errors.New("wallettest: WithMerchantKey: the key has no public half")
	}
	if o.control == nil {
		o.control = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Sandbox{control: o.control}
	if baseURL == "" {
		srv, stop, err := StartServer(append([]ServerOption{WithoutNotifyReceiver()}, o.server...)...)
		if err != nil {
			return nil, fmt.Errorf("wallettest: starting an embedded sandbox: %w", err)
		}
		s.URL, s.Server, s.stop = srv.URL, srv, stop
	} else {
		u, err := checkBaseURL(baseURL)
		if err != nil {
			return nil, err
		}
		s.URL = u
	}
	if err := s.setup(ctx, o); err != nil {
		if s.stop != nil {
			s.stop()
		}
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) setup(ctx context.Context, o connectOptions) error {
	var creds struct {
		BankKeys []struct {
			KeyID     string `json:"key_id"`
			PublicKey string `json:"public_key"`
		} `json:"bank_keys"`
	}
	if err := s.call(ctx, http.MethodGet, "credentials", nil, &creds); err != nil {
		return err
	}
	// A standalone sandbox's business clock may have been moved already.
	if _, err := s.AdvanceClock(ctx, 0); err != nil {
		return err
	}
	keys := make(map[string]*sign.PublicKey, len(creds.BankKeys))
	for _, k := range creds.BankKeys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
		if err != nil {
			return fmt.Errorf("wallettest: the sandbox at %s publishes bank key %q that does not parse: %w", s.URL, k.KeyID, err)
		}
		keys[k.KeyID] = pub
	}
	if len(keys) == 0 {
		return fmt.Errorf("wallettest: the sandbox at %s publishes no bank key (GET /sandbox/credentials)", s.URL)
	}
	s.Config = wallet.Config{
		BaseURL:    s.URL,
		AppID:      o.name + "-" + randomHex(6),
		MerchantID: "M9" + randomDigits(10),
		PrivateKey: o.key,
		BankKeys:   keys,
	}
	return s.register(ctx, o.notifyURL)
}

// SetNotifyURL points the notifications of the program's merchant (and of
// no other) at url; "" stops them. For a program that learns its URL only
// after Connect.
func (s *Sandbox) SetNotifyURL(ctx context.Context, url string) error {
	return s.register(ctx, url)
}

// register (re-)registers the program's merchant: the same app id,
// merchant id and key, with notifyURL.
func (s *Sandbox) register(ctx context.Context, notifyURL string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("wallettest: the Sandbox is closed")
	}
	return s.registerLocked(ctx, notifyURL)
}

func (s *Sandbox) registerLocked(ctx context.Context, notifyURL string) error {
	pub, err := s.Config.PrivateKey.Public().MarshalPEM()
	if err != nil {
		return fmt.Errorf("wallettest: the merchant key's public half: %w", err)
	}
	in := map[string]string{"app_id": s.Config.AppID, "merchant_id": s.Config.MerchantID, "public_key": string(pub)}
	if notifyURL != "" {
		in["notify_url"] = notifyURL
	}
	if err := s.call(ctx, http.MethodPost, "merchants", in, nil); err != nil {
		return err
	}
	s.notifyURL = notifyURL
	return nil
}

// InjectFault makes the next f.Count API calls (to f.Path only, when set)
// misbehave, through POST /sandbox/faults, on an embedded sandbox and a
// standalone one alike. A fault is the sandbox's, not the merchant's: on a
// standalone sandbox another program's call may take it, so give it a
// Path only this program calls just then.
func (s *Sandbox) InjectFault(ctx context.Context, f Fault) error {
	in := map[string]any{"kind": string(f.Kind)}
	if f.Count != 0 {
		in["count"] = f.Count
	}
	if f.Path != "" {
		in["path"] = f.Path
	}
	if f.Latency != 0 {
		in["latency_ms"] = f.Latency.Milliseconds()
	}
	return s.call(ctx, http.MethodPost, "faults", in, nil)
}

// SetSigningKey makes the sandbox sign with its bank key id
// ("bank-2026-01", "bank-2026-07") and returns the one it signed with
// before, to put back. The signing key is the sandbox's, for every
// merchant: clients that trust only the other key fail until it is put
// back.
func (s *Sandbox) SetSigningKey(ctx context.Context, id string) (previous string, err error) {
	var creds struct {
		SigningKeyID string `json:"signing_key_id"`
	}
	if err := s.call(ctx, http.MethodGet, "credentials", nil, &creds); err != nil {
		return "", err
	}
	if err := s.call(ctx, http.MethodPost, "signing-key", map[string]string{"key_id": id}, nil); err != nil {
		return "", err
	}
	return creds.SigningKeyID, nil
}

// AdvanceClock moves the sandbox's business clock forward by d (POST
// /sandbox/clock) and returns the business time after the move: to end a
// business day (its statement is ready once the day has ended), to turn
// daily limits and PIN locks over, to let a verification expire.
//
// Envelope timestamps and their ±300 s window stay on the real clock, so
// clients go on as before (docs/protocol.md, section 11.5). The business
// clock is the sandbox's, for every merchant: on a standalone sandbox
// shared with other programs, their days move too.
func (s *Sandbox) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, fmt.Errorf("wallettest: AdvanceClock: d is %v; the clock only moves forward", d)
	}
	var out struct {
		Now string `json:"now"`
	}
	if err := s.call(ctx, http.MethodPost, "clock", map[string]string{"advance": d.String()}, &out); err != nil {
		return time.Time{}, err
	}
	now, err := wire.Parse(out.Now)
	if err != nil {
		return time.Time{}, fmt.Errorf("wallettest: POST %s/sandbox/clock answered now %q: %w", s.URL, out.Now, err)
	}
	s.mu.Lock()
	s.offset = time.Until(now)
	s.mu.Unlock()
	return now, nil
}

// Now is the sandbox's business clock, to the second: this machine's time
// moved as far as the sandbox's business clock was (by AdvanceClock, or by
// another program before Connect). It says which days have ended there.
func (s *Sandbox) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Now().Add(s.offset)
}

// Embedded reports whether the sandbox runs in this program.
func (s *Sandbox) Embedded() bool { return s.Server != nil }

// Close ends the connection: it stops an embedded sandbox, and takes the
// notify URL off the program's merchant on a standalone one, so that the
// sandbox does not keep POSTing to a port that closed with the program.
// The merchant stays registered: its key was the program's. Close is
// idempotent.
func (s *Sandbox) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	var err error
	if s.stop == nil && s.notifyURL != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = s.registerLocked(ctx, "")
		cancel()
	}
	s.mu.Unlock()
	if s.stop != nil {
		s.stop()
	}
	return err
}

// call is one control API call: JSON in and out (docs/protocol.md, section
// 11.3). Its errors say what to do.
func (s *Sandbox) call(ctx context.Context, method, endpoint string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("wallettest: %s /sandbox/%s: %w", method, endpoint, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.URL+"/sandbox/"+endpoint, body)
	if err != nil {
		return fmt.Errorf("wallettest: %s /sandbox/%s: %w", method, endpoint, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.control.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wallettest: %s %s/sandbox/%s: %w", method, s.URL, endpoint, ctx.Err())
		}
		return fmt.Errorf("wallettest: no sandbox answers at %s (%v): start one with `go run ./examples/sandbox`, "+
			"or pass an empty base URL for one embedded in the program", s.URL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("wallettest: %s %s/sandbox/%s: reading the answer: %w", method, s.URL, endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return s.controlError(method, endpoint, resp.StatusCode, e.Error)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("wallettest: %s %s/sandbox/%s answered something other than the sandbox's JSON (%v): is it a sandbox?", method, s.URL, endpoint, err)
	}
	return nil
}

func (s *Sandbox) controlError(method, endpoint string, status int, msg string) error {
	what := method + " /sandbox/" + endpoint
	switch {
	case status == http.StatusNotFound && endpoint == "credentials":
		return fmt.Errorf("wallettest: %s has no sandbox control API (%s: HTTP 404): Connect needs a sandbox bank "+
			"(go run ./examples/sandbox); for the real bank, build the wallet.Config from the credentials it gave you", s.URL, what)
	case status == http.StatusForbidden:
		if msg == "" {
			msg = "forbidden"
		}
		return fmt.Errorf("wallettest: the sandbox at %s refused %s (HTTP 403: %s): reach it through a loopback address, "+
			"or through the address it was started with (-addr)", s.URL, what, msg)
	case msg != "":
		return fmt.Errorf("wallettest: the sandbox at %s refused %s (HTTP %d): %s", s.URL, what, status, msg)
	default:
		return fmt.Errorf("wallettest: %s at %s answered HTTP %d: is it a sandbox (go run ./examples/sandbox)?", what, s.URL, status)
	}
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the
// method and URL the caller names already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// isNil reports whether a Signer is nil, or a nil pointer inside the
// interface, whose methods would panic.
func isNil(k sign.Signer) bool {
	if k == nil {
		return true
	}
	v := reflect.ValueOf(k)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("wallettest: base URL %q: want the address of a sandbox such as http://127.0.0.1:8360 "+
			"(go run ./examples/sandbox), or \"\" for one embedded in the program", raw)
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return "", fmt.Errorf("wallettest: base URL %q: plain http only on a loopback host (a sandbox publishes its test keys; "+
			"keep it on 127.0.0.1, or put it behind https)", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkAppName(name string) error {
	ok := name != "" && len(name) <= 40
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("wallettest: WithAppName(%q): want 1 to 40 letters, digits, '.', '_' or '-'", name)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand never fails (it crashes instead)
	return hex.EncodeToString(b)
}

func randomDigits(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

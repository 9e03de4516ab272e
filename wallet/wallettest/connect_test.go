package wallettest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func TestConnectEmbedded(t *testing.T) {
	ctx := context.Background()
	sb, err := wallettest.Connect(ctx, "", wallettest.WithAppName("embedded"))
	require.NoError(t, err)
	require.True(t, sb.Embedded())
	require.NotNil(t, sb.Server)
	require.Equal(t, sb.Server.URL, sb.URL)
	require.True(t, strings.HasPrefix(sb.Config.AppID, "embedded-"), sb.Config.AppID)
	require.NotEqual(t, sb.Server.Config().AppID, sb.Config.AppID, "a merchant of its own, not the built-in one")
	require.Len(t, sb.Config.BankKeys, 2)

	c, err := wallet.NewClient(sb.Config)
	require.NoError(t, err)
	p := wallettest.Person()
	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	require.NoError(t, err)
	require.False(t, w.Opened)

	require.NoError(t, sb.Close())
	require.NoError(t, sb.Close(), "Close is idempotent")
	_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	require.Error(t, err, "Close stopped the embedded sandbox")
	require.ErrorContains(t, sb.SetNotifyURL(ctx, ""), "closed")
}

// inbox is a notify URL: it collects the events its handler verified.
type inbox struct {
	URL string
	mu  sync.Mutex
	got []*notify.Event
}

func (b *inbox) add(_ context.Context, e *notify.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.got = append(b.got, e)
	return nil
}

func (b *inbox) events() []*notify.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]*notify.Event(nil), b.got...)
}

// serveInbox serves the notify URL of client c. The URL is known before
// the client, so Connect can register it: the handler is set afterwards.
func serveInbox(t *testing.T) (*inbox, func(c *wallet.Client)) {
	b := &inbox{}
	var h http.Handler = http.NotFoundHandler()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hh := h
		mu.Unlock()
		hh.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.URL = srv.URL + "/notify"
	return b, func(c *wallet.Client) {
		nh, err := notify.NewHandler(c, b.add)
		require.NoError(t, err)
		mu.Lock()
		h = nh
		mu.Unlock()
	}
}

// TestConnectLeavesTheDefaultMerchantAlone is the issue this helper fixes:
// a program pointed at a shared sandbox once re-registered the built-in
// test merchant's notify URL to its own port, and every later event of
// every other program went to a dead port.
func TestConnectLeavesTheDefaultMerchantAlone(t *testing.T) {
	ctx := context.Background()
	s, stop, err := wallettest.StartServer() // with its built-in receiver for the test merchant
	require.NoError(t, err)
	t.Cleanup(stop)
	defaultURL := defaultMerchantNotifyURL(t, s)

	in, serve := serveInbox(t)
	sb, err := wallettest.Connect(ctx, s.URL, wallettest.WithAppName("program"), wallettest.WithNotifyURL(in.URL))
	require.NoError(t, err)
	require.False(t, sb.Embedded())
	require.Nil(t, sb.Server)
	c, err := wallet.NewClient(sb.Config)
	require.NoError(t, err)
	serve(c)

	a, err := wallettest.Open(ctx, c, wallettest.Person())
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		for _, e := range in.events() {
			if acct, err := e.Account(); err == nil && acct.AccountNo == a.AccountNo {
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "the program's own notification reached its own notify URL")

	require.NoError(t, sb.Close())
	// After Close the program's merchant has no notify URL: the sandbox
	// makes no delivery for it any more.
	before := len(deliveriesOf(s, sb.Config.MerchantID))
	_, err = wallettest.Open(ctx, c, wallettest.Person())
	require.NoError(t, err)

	// The built-in merchant still notifies its own receiver, and never
	// notified any other URL.
	require.Equal(t, defaultURL, defaultMerchantNotifyURL(t, s))
	for _, d := range deliveriesOf(s, s.Config().MerchantID) {
		require.Equal(t, defaultURL, d.URL)
	}
	require.Len(t, deliveriesOf(s, sb.Config.MerchantID), before, "no delivery after Close")
	var creds struct {
		AppID      string `json:"app_id"`
		PrivateKey string `json:"merchant_private_key"`
	}
	getJSON(t, s.URL+"/sandbox/credentials", &creds)
	require.Equal(t, "sandbox-app", creds.AppID)
	require.NotEmpty(t, creds.PrivateKey, "the built-in app was never registered again with another key")
}

// defaultMerchantNotifyURL makes the built-in test merchant open an
// account and returns where the sandbox sent the ACCOUNT_OPENED, after
// checking that its built-in receiver got it.
func defaultMerchantNotifyURL(t *testing.T, s *wallettest.Server) string {
	t.Helper()
	a, err := wallettest.Open(context.Background(), s.Client(), wallettest.Person())
	require.NoError(t, err)
	var url string
	require.Eventually(t, func() bool {
		for _, e := range s.Notifications() {
			if acct, err := e.Account(); err == nil && acct.AccountNo == a.AccountNo {
				for _, d := range deliveriesOf(s, s.Config().MerchantID) {
					if d.NotifyID == e.ID {
						url = d.URL
					}
				}
				return true
			}
		}
		return false
	}, 5*time.Second, 5*time.Millisecond, "the built-in merchant's notification reached the built-in receiver")
	require.NotEmpty(t, url)
	return url
}

func deliveriesOf(s *wallettest.Server, merchantID string) []wallettest.Delivery {
	var out []wallettest.Delivery
	for _, d := range s.Deliveries() {
		if d.MerchantID == merchantID {
			out = append(out, d)
		}
	}
	return out
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
}

func TestConnectGivesEachProgramItsOwnMerchant(t *testing.T) {
	ctx := context.Background()
	s, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver())
	require.NoError(t, err)
	t.Cleanup(stop)
	a, err := wallettest.Connect(ctx, s.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	b, err := wallettest.Connect(ctx, s.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	require.NotEqual(t, a.Config.AppID, b.Config.AppID)
	require.NotEqual(t, a.Config.MerchantID, b.Config.MerchantID)
	require.False(t, a.Config.PrivateKey.Public().Equal(b.Config.PrivateKey.Public()), "a fresh key each")
	for _, sb := range []*wallettest.Sandbox{a, b} {
		c, err := wallet.NewClient(sb.Config)
		require.NoError(t, err)
		_, err = wallettest.Open(ctx, c, wallettest.Person())
		require.NoError(t, err)
	}
}

// publicOnly is a merchant key whose private half is elsewhere: Connect
// must register it from Public alone.
type publicOnly struct{ k *sign.PrivateKey }

func (p publicOnly) Public() *sign.PublicKey { return p.k.Public() }
func (p publicOnly) SignDigest(ctx context.Context, d []byte) ([]byte, error) {
	return p.k.SignDigest(ctx, d)
}
func (p publicOnly) Decrypt(ctx context.Context, c []byte) ([]byte, error) {
	return p.k.Decrypt(ctx, c)
}

func TestConnectWithMerchantKey(t *testing.T) {
	ctx := context.Background()
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	sb, err := wallettest.Connect(ctx, "", wallettest.WithMerchantKey(publicOnly{k}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	require.Equal(t, publicOnly{k}, sb.Config.PrivateKey)
	c, err := wallet.NewClient(sb.Config)
	require.NoError(t, err)
	_, err = wallettest.Open(ctx, c, wallettest.Person())
	require.NoError(t, err, "the sandbox verifies under the key given")

	other, err := sign.GenerateKey()
	require.NoError(t, err)
	cfg := sb.Config
	cfg.PrivateKey = other
	c, err = wallet.NewClient(cfg)
	require.NoError(t, err)
	_, err = wallettest.Open(ctx, c, wallettest.Person())
	require.ErrorIs(t, err, wallet.ErrSignatureInvalid)
}

func TestConnectSetNotifyURL(t *testing.T) {
	ctx := context.Background()
	sb, err := wallettest.Connect(ctx, "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	in, serve := serveInbox(t)
	c, err := wallet.NewClient(sb.Config)
	require.NoError(t, err)
	serve(c)
	require.NoError(t, sb.SetNotifyURL(ctx, in.URL))
	_, err = wallettest.Open(ctx, c, wallettest.Person())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(in.events()) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, notify.AccountOpened, in.events()[0].Type)
}

func TestConnectErrorsSayWhatToDo(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	notSandbox := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notSandbox.Close)
	notJSON := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	t.Cleanup(notJSON.Close)

	for _, tc := range []struct {
		name, baseURL string
		opts          []wallettest.ConnectOption
		want          string
	}{
		{"nothing listening", closed, nil, "start one with `go run ./examples/sandbox`"},
		{"not a sandbox", notSandbox.URL, nil, "has no sandbox control API"},
		{"not JSON", notJSON.URL, nil, "is it a sandbox?"},
		{"not a URL", "127.0.0.1:8360", nil, `want the address of a sandbox such as http://127.0.0.1:8360`},
		{"another scheme", "ftp://127.0.0.1:8360", nil, "want the address of a sandbox"},
		{"plain http beyond loopback", "http://sandbox.example:8360", nil, "plain http only on a loopback host"},
		{"bad notify URL", "", []wallettest.ConnectOption{wallettest.WithNotifyURL("http://merchant.example/notify")},
			"notify_url: must use https (http only on a loopback host)"},
		{"bad app name", "", []wallettest.ConnectOption{wallettest.WithAppName("my app")}, `WithAppName("my app")`},
		{"nil option", "", []wallettest.ConnectOption{nil}, "nil ConnectOption"},
		{"nil key", "", []wallettest.ConnectOption{wallettest.WithMerchantKey(nil)}, "WithMerchantKey: nil key"},
		{"nil *sign.PrivateKey", "", []wallettest.ConnectOption{wallettest.WithMerchantKey((*sign.PrivateKey)(nil))}, "WithMerchantKey: nil key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sb, err := wallettest.Connect(ctx, tc.baseURL, tc.opts...)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, sb)
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		s, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver())
		require.NoError(t, err)
		t.Cleanup(stop)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = wallettest.Connect(cctx, s.URL)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestSandboxInjectFault(t *testing.T) {
	ctx := context.Background()
	s, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver())
	require.NoError(t, err)
	t.Cleanup(stop)
	for _, baseURL := range []string{"", s.URL} {
		sb, err := wallettest.Connect(ctx, baseURL)
		require.NoError(t, err)
		t.Cleanup(func() { _ = sb.Close() })
		c, err := wallet.NewClient(sb.Config, wallet.WithRetry(0))
		require.NoError(t, err)
		p := wallettest.Person()
		q := wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID}

		require.NoError(t, sb.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "wallet/query"}))
		_, err = c.Query(ctx, q)
		require.True(t, wallet.IsOutcomeUnknown(err), "%v", err)
		_, err = c.Query(ctx, q)
		require.NoError(t, err, "the fault applied to one call")

		require.NoError(t, sb.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultLatency, Latency: 150 * time.Millisecond, Path: "wallet/query"}))
		start := time.Now()
		_, err = c.Query(ctx, q)
		require.NoError(t, err)
		require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

		err = sb.InjectFault(ctx, wallettest.Fault{Kind: "meteor"})
		require.ErrorContains(t, err, "refused POST /sandbox/faults (HTTP 400): kind must be one of")
	}
}

func TestSandboxSetSigningKey(t *testing.T) {
	ctx := context.Background()
	sb, err := wallettest.Connect(ctx, "")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	cfg := sb.Config
	cfg.BankKeys = map[string]*sign.PublicKey{"bank-2026-01": cfg.BankKeys["bank-2026-01"]}
	c, err := wallet.NewClient(cfg, wallet.WithRetry(0))
	require.NoError(t, err)
	p := wallettest.Person()
	q := wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID}

	prev, err := sb.SetSigningKey(ctx, "bank-2026-07")
	require.NoError(t, err)
	require.Equal(t, "bank-2026-01", prev)
	_, err = c.Query(ctx, q)
	require.True(t, errors.Is(err, wallet.ErrUnverifiedResponse), "%v", err)

	prev, err = sb.SetSigningKey(ctx, prev)
	require.NoError(t, err)
	require.Equal(t, "bank-2026-07", prev)
	_, err = c.Query(ctx, q)
	require.NoError(t, err)

	_, err = sb.SetSigningKey(ctx, "bank-1999-01")
	require.ErrorContains(t, err, "refused POST /sandbox/signing-key (HTTP 400)")
}

// FuzzConnectCredentials feeds Connect the answers of a sandbox that is
// not what it seems: it returns an error or a usable Config, never panics.
func FuzzConnectCredentials(f *testing.F) {
	s, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(stop)
	resp, err := http.Get(s.URL + "/sandbox/credentials")
	if err != nil {
		f.Fatal(err)
	}
	real, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real, 200)
	f.Add([]byte(`{"bank_keys":[]}`), 200)
	f.Add([]byte(`{"bank_keys":[{"key_id":"k","public_key":"04"}]}`), 200)
	f.Add([]byte(`{"error":"no"}`), 403)
	f.Add([]byte(`null`), 200)
	key, err := sign.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte, code int) {
		if code < 200 || code > 599 {
			code = 200
		}
		// The fake sandbox answers in memory: credentials with the fuzzed
		// bytes, a registration with {}.
		fake := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			status, body := code, b
			if r.Method == http.MethodPost {
				status, body = http.StatusOK, []byte("{}")
			}
			return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{},
				Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
		})}
		sb, err := wallettest.Connect(context.Background(), "http://127.0.0.1:1",
			wallettest.WithControlClient(fake), wallettest.WithMerchantKey(key))
		if err != nil {
			require.Contains(t, err.Error(), "wallettest: ")
			return
		}
		require.NotEmpty(t, sb.Config.BankKeys)
		for id, k := range sb.Config.BankKeys {
			require.NotNil(t, k, id)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A program that moves the sandbox's business clock sees it in Now; one
// that connects later learns where it is; clients carry on, on the real
// clock (envelope timestamps are not business time).
func TestSandboxAdvanceClock(t *testing.T) {
	ctx := context.Background()
	s, stop, err := wallettest.StartServer(wallettest.WithoutNotifyReceiver())
	require.NoError(t, err)
	t.Cleanup(stop)
	sb, err := wallettest.Connect(ctx, s.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sb.Close() })
	require.WithinDuration(t, time.Now(), sb.Now(), 2*time.Second)

	before := s.BusinessNow()
	now, err := sb.AdvanceClock(ctx, 24*time.Hour)
	require.NoError(t, err)
	require.WithinDuration(t, before.Add(24*time.Hour), now, 2*time.Second)
	require.WithinDuration(t, s.BusinessNow(), sb.Now(), 2*time.Second)

	c, err := wallet.NewClient(sb.Config, wallet.WithRetry(0))
	require.NoError(t, err)
	p := wallettest.Person()
	_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	require.NoError(t, err, "timestamps stay on the real clock")

	other, err := wallettest.Connect(ctx, s.URL)
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	require.WithinDuration(t, s.BusinessNow(), other.Now(), 2*time.Second, "a later program learns the moved clock")

	_, err = sb.AdvanceClock(ctx, -time.Hour)
	require.ErrorContains(t, err, "only moves forward")
}

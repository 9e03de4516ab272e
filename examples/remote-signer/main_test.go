package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// childEnv makes the test binary the signing service (TestMain): the
// process that holds the key, apart from the merchant's.
const (
	childEnv    = "REMOTE_SIGNER_TEST_CHILD"
	childPubEnv = "REMOTE_SIGNER_TEST_PUBLIC_KEY_OUT"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child runs the signing service alone (-serve-signer, with a key it makes
// itself) until the parent closes its stdin, or dies.
func child() int {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	err := run(ctx, []string{"-serve-signer", "-addr", "127.0.0.1:0", "-public-key-out", os.Getenv(childPubEnv)}, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func TestRemoteSignerBothHalvesInOneProgram(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &out))
	requireJourney(t, out.String())
}

func requireJourney(t *testing.T, out string) {
	t.Helper()
	for _, step := range []string{
		"it opened a challenge encrypted to the configured public key",
		"account/open ", "payment/recharge  ¥100.00", "payment/pay       ¥30.00", "payment/refund    ¥10.00",
		"h5 link ", "/h5/wallet?",
		"notifications     4 received, decrypted through the service: ACCOUNT_OPENED, PAYMENT_SUCCEEDED, RECHARGE_SUCCEEDED, REFUND_SUCCEEDED",
		"and never held the private key",
	} {
		require.Contains(t, out, step)
	}
}

// TestMerchantProcessNeverHoldsTheKey runs the signing service in a child
// process that makes the key itself, and the whole journey in this one with
// the public key and the service's URL and token only: the private key is
// in no byte of this process's memory, so no code path of the merchant's
// can reach it. The journey succeeding proves the signatures and
// decryptions came from the child; killing the child stops them.
func TestMerchantProcessNeverHoldsTheKey(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	token := randomToken()
	pubFile := filepath.Join(t.TempDir(), "merchant_public_key.pem")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"=1", childPubEnv+"="+pubFile, tokenEnv+"="+token)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan struct{}) // closed once the child exited, with waitErr
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = stdin.Close() // the child stops when its stdin closes
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // our own child, by its pid
			<-exited
		}
	})
	require.NotEqual(t, os.Getpid(), cmd.Process.Pid)

	signerURL := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "signing service listening on "); ok {
				signerURL <- u
			}
		}
	}()
	var url string
	select {
	case url = <-signerURL:
	case <-exited:
		t.Fatalf("the signing service exited: %v\n%s", waitErr, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the signing service did not start\n%s", stderr.String())
	}

	// All the merchant's process gets: a public key file, a URL, a token.
	pubPEM, err := os.ReadFile(pubFile)
	require.NoError(t, err)
	require.Contains(t, string(pubPEM), "-----BEGIN PUBLIC KEY-----")
	require.NotContains(t, string(pubPEM), "PRIVATE")
	_, err = sign.ParsePrivateKey(pubPEM)
	require.Error(t, err, "there is no private key to parse")

	t.Setenv(tokenEnv, token)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-signer-url", url, "-public-key", pubFile}, &out))
	requireJourney(t, out.String())

	// Once the child is gone, this process cannot sign at all.
	_ = stdin.Close()
	select {
	case <-exited:
		require.NoError(t, waitErr, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("the signing service did not stop when its stdin closed")
	}
	k, err := dialSigner(url, token, pubPEM)
	require.NoError(t, err)
	_, err = k.SignDigest(context.Background(), make([]byte, 32))
	require.ErrorContains(t, err, "signing service "+url+": sign:")
}

// outage is a merchant whose key is in a signing service the test can stop
// and start again on the same address, and whose notify URL can hold
// deliveries back.
type outage struct {
	t        *testing.T
	bank     *wallettest.Server
	key      *sign.PrivateKey
	token    string
	addr     string
	stop     func()
	client   *wallet.Client
	bankHits atomic.Int64 // requests that reached the bank's API

	mu     sync.Mutex
	hold   chan struct{} // deliveries wait until it is closed
	events []*notify.Event
}

func newOutage(t *testing.T) *outage {
	o := &outage{t: t, bank: wallettest.NewServer(t, wallettest.WithoutNotifyReceiver()), token: randomToken(), hold: closedChan()}
	var err error
	o.key, err = sign.GenerateKey()
	require.NoError(t, err)
	o.serviceUp("127.0.0.1:0")
	t.Cleanup(func() { o.stop() })
	pubPEM, err := o.key.Public().MarshalPEM()
	require.NoError(t, err)
	rk, err := dialSigner("http://"+o.addr, o.token, pubPEM)
	require.NoError(t, err)

	cfg := o.bank.Config()
	cfg.AppID, cfg.MerchantID, cfg.PrivateKey = "outage-app", "M900000077", rk
	o.client, err = wallet.NewClient(cfg, wallet.WithBackoff(time.Millisecond, 10*time.Millisecond),
		wallet.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			o.bankHits.Add(1)
			return http.DefaultTransport.RoundTrip(r)
		})}))
	require.NoError(t, err)
	h, err := notify.NewHandler(o.client, func(_ context.Context, e *notify.Event) error {
		o.mu.Lock()
		defer o.mu.Unlock()
		o.events = append(o.events, e)
		return nil
	})
	require.NoError(t, err)
	notifySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		hold := o.hold
		o.mu.Unlock()
		<-hold
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(notifySrv.Close)
	o.bank.RegisterMerchant(cfg.AppID, cfg.MerchantID, o.key.Public(), notifySrv.URL+"/notify")
	return o
}

func closedChan() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (o *outage) serviceUp(addr string) {
	svc, err := newSigningService(o.key, o.token, slog.New(slog.DiscardHandler))
	require.NoError(o.t, err)
	u, stop, err := svc.start(addr)
	require.NoError(o.t, err)
	o.addr, o.stop = strings.TrimPrefix(u, "http://"), stop
}

func (o *outage) handled(typ notify.Type) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, e := range o.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func (o *outage) delivery(typ notify.Type) (wallettest.Delivery, bool) {
	for _, d := range o.bank.Deliveries() {
		if d.MerchantID == "M900000077" && d.NotifyType == string(typ) {
			return d, true
		}
	}
	return wallettest.Delivery{}, false
}

// TestSigningServiceOutage is what a merchant sees while its signing
// service is down: calls fail before anything is sent, with an error that
// says so and an outcome that is known; notifications are answered as a
// failure, so the bank delivers them again, and are handled once the
// service is back.
func TestSigningServiceOutage(t *testing.T) {
	ctx := context.Background()
	o := newOutage(t)
	a, err := wallettest.Open(ctx, o.client, wallettest.Person())
	require.NoError(t, err)
	require.Eventually(t, func() bool { return o.handled(notify.AccountOpened) == 1 }, 5*time.Second, 5*time.Millisecond)

	t.Run("calls fail before anything is sent", func(t *testing.T) {
		o.stop()
		t.Cleanup(func() { o.serviceUp(o.addr) })
		before := o.bankHits.Load()
		p := wallettest.Person()
		start := time.Now()
		_, err := o.client.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		require.ErrorIs(t, err, wallet.ErrSigner)
		require.False(t, wallet.IsOutcomeUnknown(err), "nothing was sent: %v", err)
		require.ErrorContains(t, err, "signing service http://"+o.addr+": sign:", "the error names the service")
		require.Less(t, time.Since(start), 2*time.Second, "a service that is down fails fast")

		// A money call too: its outcome is known (nothing happened), so the
		// same request can simply be sent again later.
		req := payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1_00}
		_, err = payment.New(o.client).Recharge(ctx, req)
		require.ErrorIs(t, err, wallet.ErrSigner)
		require.False(t, wallet.IsOutcomeUnknown(err), "%v", err)
		require.Equal(t, before, o.bankHits.Load(), "no request reached the bank")
		_, err = payment.New(o.client).Query(ctx, req.OutTradeNo)
		require.ErrorIs(t, err, wallet.ErrSigner)
	})

	t.Run("notifications wait for the service", func(t *testing.T) {
		// Deliveries wait at the door while the merchant recharges (with
		// the service up), then the service goes down and they go in.
		o.mu.Lock()
		o.hold = make(chan struct{})
		hold := o.hold
		o.mu.Unlock()
		_, err := payment.New(o.client).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 8_00})
		require.NoError(t, err)
		o.stop()
		close(hold)

		require.Eventually(t, func() bool {
			d, ok := o.delivery(notify.RechargeSucceeded)
			return ok && len(d.Attempts) >= 2 && !d.Delivered()
		}, 10*time.Second, 5*time.Millisecond, "the bank was told to deliver again, and did")
		d, _ := o.delivery(notify.RechargeSucceeded)
		for _, at := range d.Attempts {
			require.False(t, at.OK)
			require.NotEqual(t, http.StatusOK, at.Status, "a failure answer, never SUCCESS")
		}
		t.Logf("attempts while the service was down: %+v", d.Attempts)
		require.Equal(t, 0, o.handled(notify.RechargeSucceeded), "nothing handled without the key")

		o.serviceUp(o.addr)
		require.Eventually(t, func() bool {
			d, _ := o.delivery(notify.RechargeSucceeded)
			return d.Delivered()
		}, 30*time.Second, 5*time.Millisecond, "a redelivery after the service came back was accepted")
		require.Equal(t, 1, o.handled(notify.RechargeSucceeded), "handled once")
	})
}

// service is a signing service on loopback with a fresh key and a log the
// test reads.
func service(t *testing.T) (key *sign.PrivateKey, url, token string, log *bytes.Buffer) {
	t.Helper()
	key, err := sign.GenerateKey()
	require.NoError(t, err)
	token = randomToken()
	log = &bytes.Buffer{}
	var mu sync.Mutex
	svc, err := newSigningService(key, token, slog.New(slog.NewTextHandler(lockedWriter{&mu, log}, nil)))
	require.NoError(t, err)
	url, stop, err := svc.start("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(stop)
	return key, url, token, log
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSigningServiceProtocol(t *testing.T) {
	key, url, token, log := service(t)
	post := func(path, auth, contentType, body string) (int, string) {
		req, err := http.NewRequest(http.MethodPost, url+path, strings.NewReader(body))
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bearer := "Bearer " + token
	digest := bytes.Repeat([]byte{0xab}, 32)
	envelope, err := key.Public().Encrypt([]byte("0123456789abcdef"))
	require.NoError(t, err)
	other, err := sign.GenerateKey()
	require.NoError(t, err)
	otherEnvelope, err := other.Public().Encrypt([]byte("0123456789abcdef"))
	require.NoError(t, err)
	long, err := key.Public().Encrypt([]byte("thirty-two bytes of other secret"))
	require.NoError(t, err)
	js := func(field string, b []byte) string {
		return `{"` + field + `":"` + base64.StdEncoding.EncodeToString(b) + `"}`
	}

	for _, tc := range []struct {
		name, path, auth, ct, body string
		status                     int
		want                       string
	}{
		{"sign", "/v1/sign", bearer, "application/json", js("digest", digest), 200, `"signature":`},
		{"decrypt", "/v1/decrypt", bearer, "application/json", js("ciphertext", envelope), 200, `"plaintext":"` + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))},
		{"no token", "/v1/sign", "", "application/json", js("digest", digest), 401, "no or wrong token"},
		{"wrong token", "/v1/sign", "Bearer " + randomToken(), "application/json", js("digest", digest), 401, "no or wrong token"},
		{"token without Bearer", "/v1/sign", token, "application/json", js("digest", digest), 401, "no or wrong token"},
		{"short digest", "/v1/sign", bearer, "application/json", js("digest", digest[:31]), 400, "digest is 31 bytes, want 32"},
		{"not an envelope", "/v1/decrypt", bearer, "application/json", js("ciphertext", long), 400, "want 113 (an SM4 key envelope)"},
		{"another key's envelope", "/v1/decrypt", bearer, "application/json", js("ciphertext", otherEnvelope), 400, "does not open with this key"},
		{"not JSON", "/v1/sign", bearer, "application/json", "digest=abc", 400, "not the expected JSON object"},
		{"unknown field", "/v1/sign", bearer, "application/json", `{"digest":"","extra":1}`, 400, "not the expected JSON object"},
		{"two objects", "/v1/sign", bearer, "application/json", js("digest", digest) + "{}", 400, "not the expected JSON object"},
		{"form", "/v1/sign", bearer, "application/x-www-form-urlencoded", js("digest", digest), 415, "application/json"},
		{"too big", "/v1/sign", bearer, "application/json", `{"digest":"` + strings.Repeat("A", 2000) + `"}`, 413, "larger than"},
		{"unknown path", "/v1/export", bearer, "application/json", "{}", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := post(tc.path, tc.auth, tc.ct, tc.body)
			require.Equal(t, tc.status, status, body)
			require.Contains(t, body, tc.want)
		})
	}

	req, err := http.NewRequest(http.MethodGet, url+"/v1/key", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var pub struct {
		PublicKey   string `json:"public_key"`
		Fingerprint string `json:"fingerprint"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&pub))
	resp.Body.Close()
	p, err := sign.ParsePublicKey([]byte(pub.PublicKey))
	require.NoError(t, err)
	require.True(t, p.Equal(key.Public()))
	require.Equal(t, key.Public().Fingerprint(), pub.Fingerprint)

	// The log says what was asked, never with what.
	logged := log.String()
	require.Contains(t, logged, "path=/v1/sign status=200")
	require.Contains(t, logged, "path=/v1/sign status=401")
	for _, secret := range [][]byte{digest, envelope, []byte("0123456789abcdef"), []byte(token)} {
		for _, form := range []string{string(secret), hex.EncodeToString(secret), base64.StdEncoding.EncodeToString(secret)} {
			require.NotContains(t, logged, form)
		}
	}
	require.NotContains(t, logged, key.Hex())
}

func TestRemoteKey(t *testing.T) {
	ctx := context.Background()
	key, url, token, _ := service(t)
	pubPEM, err := key.Public().MarshalPEM()
	require.NoError(t, err)

	t.Run("signs what verifies", func(t *testing.T) {
		k, err := dialSigner(url, token, pubPEM)
		require.NoError(t, err)
		require.NoError(t, k.Check(ctx))
		sig, err := sign.SignCanonical(ctx, k, "/api/v1/wallet/query", map[string]string{"app_id": "a", "msg_id": "m"})
		require.NoError(t, err)
		require.NoError(t, key.Public().VerifyCanonical("/api/v1/wallet/query", map[string]string{"app_id": "a", "msg_id": "m"}, sig))
		require.Equal(t, int64(1), k.signs.Load())
		require.Equal(t, int64(0), k.decrypts.Load(), "Check is not counted")
	})

	t.Run("another key", func(t *testing.T) {
		other, err := sign.GenerateKey()
		require.NoError(t, err)
		otherPEM, err := other.Public().MarshalPEM()
		require.NoError(t, err)
		k, err := dialSigner(url, token, otherPEM)
		require.NoError(t, err)
		require.ErrorContains(t, k.Check(ctx), "does not open with this key")
	})

	t.Run("wrong token", func(t *testing.T) {
		k, err := dialSigner(url, randomToken(), pubPEM)
		require.NoError(t, err)
		require.ErrorContains(t, k.Check(ctx), "HTTP 401: the service refused the token (set SIGNER_TOKEN")
	})

	t.Run("never prints the token", func(t *testing.T) {
		k, err := dialSigner(url, token, pubPEM)
		require.NoError(t, err)
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("key", "k", k)
		for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), logged.String()} {
			require.NotContains(t, s, token)
			require.Contains(t, s, key.Public().Fingerprint())
		}
	})

	t.Run("bad configuration", func(t *testing.T) {
		for _, tc := range []struct{ url, token, want string }{
			{"http://signer.example:8361", token, "plain http only on loopback"},
			{"127.0.0.1:8361", token, "want http://127.0.0.1:port"},
			{url, "", "set SIGNER_TOKEN"},
		} {
			_, err := dialSigner(tc.url, tc.token, pubPEM)
			require.ErrorContains(t, err, tc.want)
		}
		_, err := dialSigner(url, token, []byte("not a key"))
		require.ErrorContains(t, err, "the merchant's public key")
	})

	t.Run("a broken service", func(t *testing.T) {
		for _, tc := range []struct{ body, want string }{
			{`{"signature":"` + base64.StdEncoding.EncodeToString([]byte("not DER")) + `"}`, "the answer is not a DER SM2 signature"},
			{`<html>`, "the answer is not the service's JSON"},
		} {
			bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, tc.body) }))
			k, err := dialSigner(bad.URL, token, pubPEM)
			require.NoError(t, err)
			_, err = k.SignDigest(ctx, make([]byte, 32))
			require.ErrorContains(t, err, "signing service "+bad.URL+": sign: "+tc.want)
			bad.Close()
		}
	})

	t.Run("a hung service times out", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() { // accepts and never answers
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
			}
		}()
		k, err := dialSigner("http://"+ln.Addr().String(), token, pubPEM)
		require.NoError(t, err)
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err = k.SignDigest(cctx, make([]byte, 32))
		require.ErrorIs(t, err, context.DeadlineExceeded, "the caller's deadline holds")
		require.Less(t, time.Since(start), time.Second)

		k.timeout = 50 * time.Millisecond // and without one, the client's own
		_, err = k.Decrypt(ctx, make([]byte, envelopeCiphertextLen))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.ErrorContains(t, err, "decrypt:")
	})
}

func TestRunRefusesMixedFlags(t *testing.T) {
	t.Setenv(tokenEnv, "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-serve-signer", "-signer-url", "http://127.0.0.1:1"}, "give one of them"},
		{[]string{"-signer-url", "http://127.0.0.1:1"}, "-signer-url needs -public-key"},
		{[]string{"-signer-url", "http://127.0.0.1:1", "-public-key", "x", "-key", "y"}, "are the service's"},
		{[]string{"-public-key", "x"}, "-public-key goes with -signer-url"},
		{[]string{"-serve-signer"}, "the token is 0 characters, want at least 32"},
		{[]string{"-serve-signer", "-base-url", "http://127.0.0.1:8360"}, "are the merchant's side"},
		{[]string{"-addr", "0.0.0.0:0"}, "loopback only"},
		{[]string{"-key-password-env", "X"}, "-key-password-env goes with -key"},
	} {
		err := run(context.Background(), tc.args, io.Discard)
		require.ErrorContains(t, err, tc.want, "%v", tc.args)
	}
}

// FuzzSigningService feeds the service bodies from anywhere: it answers
// every one, never panics, and signs or opens only what is well formed.
func FuzzSigningService(f *testing.F) {
	key, err := sign.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	token := randomToken()
	svc, err := newSigningService(key, token, slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	h := svc.handler()
	env, _ := key.Public().Encrypt(make([]byte, 16))
	f.Add("/v1/sign", `{"digest":"`+base64.StdEncoding.EncodeToString(make([]byte, 32))+`"}`)
	f.Add("/v1/decrypt", `{"ciphertext":"`+base64.StdEncoding.EncodeToString(env)+`"}`)
	f.Add("/v1/decrypt", `{"ciphertext":null}`)
	f.Add("/v1/sign", `[]`)
	f.Fuzz(func(t *testing.T, path, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return
		}
		var out map[string][]byte
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("a 200 that is not JSON: %q", rec.Body.String())
		}
		if sig, ok := out["signature"]; ok {
			if err := checkDER(sig); err != nil {
				t.Fatalf("signed into something that is not DER: %v", err)
			}
		} else if pt, ok := out["plaintext"]; !ok || len(pt) != 16 {
			t.Fatalf("an unexpected 200: %q", rec.Body.String())
		}
	})
}

// FuzzCheckDER: the client's check of the service's signatures never
// panics, and accepts what the key makes.
func FuzzCheckDER(f *testing.F) {
	key, err := sign.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	sig, err := key.SignDigest(context.Background(), make([]byte, 32))
	if err != nil {
		f.Fatal(err)
	}
	if err := checkDER(sig); err != nil {
		f.Fatal(err)
	}
	f.Add(sig)
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01})
	f.Add([]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) { _ = checkDER(b) })
}

// The cost of going remote, per call: Client.Do of wallet/query against an
// embedded sandbox, with the key in memory and with the key in a signing
// service over loopback (one signature and one decryption per call).
func BenchmarkWalletQuery(b *testing.B) {
	mem, remote, req := benchClients(b)
	for _, bc := range []struct {
		name string
		c    *wallet.Client
	}{{"signer=memory", mem}, {"signer=remote", remote}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			var resp wallet.QueryResponse
			for b.Loop() {
				if err := bc.c.Do(ctx, "wallet/query", req, &resp); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWalletQueryRemoteOverMemory interleaves the two, so that both
// see the same machine load, and reports each one's time per call and
// their ratio.
func BenchmarkWalletQueryRemoteOverMemory(b *testing.B) {
	mem, remote, req := benchClients(b)
	ctx := context.Background()
	var resp wallet.QueryResponse
	var memTime, remoteTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		if err := mem.Do(ctx, "wallet/query", req, &resp); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if err := remote.Do(ctx, "wallet/query", req, &resp); err != nil {
			b.Fatal(err)
		}
		memTime += t1.Sub(t0)
		remoteTime += time.Since(t1)
	}
	b.ReportMetric(float64(memTime.Nanoseconds())/float64(b.N), "memory-ns/call")
	b.ReportMetric(float64(remoteTime.Nanoseconds())/float64(b.N), "remote-ns/call")
	b.ReportMetric(float64(remoteTime)/float64(memTime), "remote/memory")
}

func benchClients(b *testing.B) (mem, remote *wallet.Client, req wallet.QueryRequest) {
	b.Helper()
	bank := wallettest.NewServer(b, wallettest.WithoutNotifyReceiver())
	mem = bank.Client()
	key, err := sign.GenerateKey()
	if err != nil {
		b.Fatal(err)
	}
	token := randomToken()
	svc, err := newSigningService(key, token, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	url, stop, err := svc.start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	pubPEM, err := key.Public().MarshalPEM()
	if err != nil {
		b.Fatal(err)
	}
	rk, err := dialSigner(url, token, pubPEM)
	if err != nil {
		b.Fatal(err)
	}
	bank.RegisterMerchant("bench-remote", "M900000088", key.Public(), "")
	cfg := bank.Config()
	cfg.AppID, cfg.MerchantID, cfg.PrivateKey = "bench-remote", "M900000088", rk
	remote, err = wallet.NewClient(cfg, wallet.WithBackoff(time.Millisecond, 20*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	p := wallettest.Person()
	req = wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID}
	for _, c := range []*wallet.Client{mem, remote} { // warm up: connections, key caches
		if err := c.Do(context.Background(), "wallet/query", req, nil); err != nil {
			b.Fatal(err)
		}
	}
	if rk.signs.Load() == 0 {
		b.Fatal("the remote client did not go through the service")
	}
	return mem, remote, req
}

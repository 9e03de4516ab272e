// Command remote-signer keeps the merchant's private key out of the
// merchant's process. A small signing service holds the key and, on
// request, signs digests and opens the SM2 key envelopes addressed to the
// merchant; the merchant's process is configured with the public key and a
// client of that service — a sign.Signer — and nothing else.
//
//	go run ./examples/remote-signer                                 # both halves, on a sandbox embedded in the program
//	go run ./examples/remote-signer -base-url http://127.0.0.1:8360 # on a standalone sandbox (go run ./examples/sandbox)
//
// By default both halves run in this one program: the service on
// 127.0.0.1 with a fresh TEST key, the merchant beside it with the
// service's URL, a token and the public key only — the key is never handed
// to it. The merchant then walks a quickstart-like journey (open an
// account, recharge, pay, refund, receive the notifications, build an H5
// link), every signature and decryption going through the service.
//
// Run the service alone, and the merchant against it, with a shared token:
//
//	export SIGNER_TOKEN=$(openssl rand -hex 32)
//	go run ./examples/remote-signer -serve-signer -addr 127.0.0.1:8361 -public-key-out merchant_public_key.pem [-key merchant_private_key.pem]
//	go run ./examples/remote-signer -signer-url http://127.0.0.1:8361 -public-key merchant_public_key.pem -base-url http://127.0.0.1:8360
//
// # The signing service's protocol
//
// HTTP/1.1 and JSON on a loopback address; binary values are standard
// base64 strings.
//
//	POST /v1/sign     {"digest": 32 bytes}         → {"signature": ASN.1 DER}
//	POST /v1/decrypt  {"ciphertext": 113 bytes}    → {"plaintext": 16 bytes}
//	GET  /v1/key                                   → {"public_key": PEM, "fingerprint": hex}
//
// The digest is e = SM3(Z_A ‖ M) of GB/T 32918.2 under the protocol's
// signer ID (what sign.Signer.SignDigest receives). The ciphertext is a raw
// C1‖C3‖C2 SM2 ciphertext of an SM4 key (a key envelope's encrypt_key); the
// service opens nothing else, so that it cannot be used to decrypt other
// data encrypted to the key. Every request carries Authorization: Bearer
// <token>; a refusal is {"error": "…"} with HTTP 400 (bad input), 401 (no
// or wrong token), 404, 405 or 413.
//
// # Security
//
// The shared token (at least 32 characters, from the environment, never
// a flag that ps shows) is the minimum: whoever holds it can have anything
// signed with the merchant's key. Beyond a demo, put the service behind
// mutual TLS or a Unix socket only the merchant's user can open, rate-limit
// it, and keep an audit log of who signed when. The service never logs
// digests, ciphertexts, plaintexts, signatures or the token, and it
// listens on loopback only: over plain HTTP the token travels in clear.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/asn1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "remote-signer:", err)
		os.Exit(1)
	}
}

// tokenEnv names the environment variable that holds the shared token.
const tokenEnv = "SIGNER_TOKEN"

// minTokenLen is the shortest token the service accepts: 32 characters
// (openssl rand -hex 32 gives 64).
const minTokenLen = 32

type options struct {
	baseURL string
	verbose bool
	// The service's side.
	serveSigner    bool
	addr           string
	keyFile        string
	keyPasswordEnv string
	publicKeyOut   string
	// The merchant's side, against a service of its own.
	signerURL     string
	publicKeyFile string
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("remote-signer", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.baseURL, "base-url", "", "the merchant's side: a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	fs.BoolVar(&o.verbose, "v", false, "log every call and every signing request (never their contents) to stderr")
	fs.BoolVar(&o.serveSigner, "serve-signer", false, "run the signing service alone, until interrupted; the token comes from $"+tokenEnv)
	fs.StringVar(&o.addr, "addr", "", "the signing service's loopback address (default 127.0.0.1:8361 with -serve-signer, a free port otherwise)")
	fs.StringVar(&o.keyFile, "key", "", "the signing service's merchant private key, PEM (default: a fresh TEST key, in memory only)")
	fs.StringVar(&o.keyPasswordEnv, "key-password-env", "", "name of the environment variable holding the password of an encrypted -key")
	fs.StringVar(&o.publicKeyOut, "public-key-out", "", "with -serve-signer: write the key's public half (PEM) to this file, for the merchant's side")
	fs.StringVar(&o.signerURL, "signer-url", "", "the merchant's side alone: the signing service's URL; the token comes from $"+tokenEnv)
	fs.StringVar(&o.publicKeyFile, "public-key", "", "with -signer-url: the merchant's public key (PEM), as registered with the bank")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := newLogger(o.verbose)

	switch {
	case o.serveSigner && o.signerURL != "":
		return errors.New("-serve-signer runs the service, -signer-url the merchant against one: give one of them")
	case o.serveSigner:
		if !o.verbose { // a service alone logs every request (never its data)
			logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		}
		return serveSigner(ctx, out, o, logger)
	case o.signerURL != "":
		if o.keyFile != "" || o.publicKeyOut != "" || o.addr != "" {
			return errors.New("-key, -addr and -public-key-out are the service's (-serve-signer); the merchant's side has -signer-url and -public-key only")
		}
		if o.publicKeyFile == "" {
			return errors.New("-signer-url needs -public-key: the merchant's public key as registered with the bank")
		}
		pubPEM, err := os.ReadFile(o.publicKeyFile)
		if err != nil {
			return fmt.Errorf("-public-key: %w", err)
		}
		return merchant(ctx, out, o.baseURL, o.signerURL, os.Getenv(tokenEnv), pubPEM, logger)
	}

	// Both halves in one program. The service gets the key; the merchant's
	// side gets the service's URL, the token and the public half.
	if o.publicKeyFile != "" {
		return errors.New("-public-key goes with -signer-url")
	}
	token := randomToken()
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	signerURL, pubPEM, stop, err := startOwnService(o, token, addr, logger)
	if err != nil {
		return err
	}
	defer stop()
	return merchant(ctx, out, o.baseURL, signerURL, token, pubPEM, logger)
}

// startOwnService loads or makes the key and starts the service on addr.
// The key stays inside: only the service's URL and the public half come
// out.
func startOwnService(o options, token, addr string, logger *slog.Logger) (signerURL string, pubPEM []byte, stop func(), err error) {
	key, err := loadKey(o.keyFile, o.keyPasswordEnv)
	if err != nil {
		return "", nil, nil, err
	}
	if pubPEM, err = key.Public().MarshalPEM(); err != nil {
		return "", nil, nil, err
	}
	svc, err := newSigningService(key, token, logger)
	if err != nil {
		return "", nil, nil, err
	}
	signerURL, stop, err = svc.start(addr)
	return signerURL, pubPEM, stop, err
}

// --- the signing service ---------------------------------------------------

// signingService holds the merchant's private key and answers the
// protocol of the package comment. It is the only code that touches the
// key.
type signingService struct {
	key   *sign.PrivateKey
	token []byte
	log   *slog.Logger
}

func newSigningService(key *sign.PrivateKey, token string, log *slog.Logger) (*signingService, error) {
	if key == nil {
		return nil, errors.New("signing service: no key")
	}
	if len(token) < minTokenLen {
		return nil, fmt.Errorf("signing service: the token is %d characters, want at least %d: export %s=$(openssl rand -hex 32)",
			len(token), minTokenLen, tokenEnv)
	}
	return &signingService{key: key, token: []byte(token), log: log}, nil
}

// maxRequest bounds a request body: the largest is a 113-byte ciphertext in
// base64 and JSON.
const maxRequest = 1 << 10

// envelopeCiphertextLen is an SM2 C1‖C3‖C2 ciphertext of a 16-byte SM4 key:
// 65 + 32 + 16 bytes.
const envelopeCiphertextLen = 65 + 32 + 16

func (s *signingService) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/sign", s.sign)
	mux.HandleFunc("POST /v1/decrypt", s.decrypt)
	mux.HandleFunc("GET /v1/key", s.publicKey)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		if s.authorized(r) {
			mux.ServeHTTP(rec, r)
		} else {
			writeError(rec, http.StatusUnauthorized, "no or wrong token")
		}
		// What was asked and how it ended; never what was signed or opened.
		s.log.Info("signing service", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"took", time.Since(start), "remote", r.RemoteAddr)
	})
}

func (s *signingService) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), s.token) == 1
}

func (s *signingService) sign(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Digest []byte `json:"digest"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if len(in.Digest) != 32 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("digest is %d bytes, want 32 (SM3)", len(in.Digest)))
		return
	}
	sig, err := s.key.SignDigest(r.Context(), in.Digest)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the key could not sign")
		return
	}
	writeJSON(w, http.StatusOK, map[string][]byte{"signature": sig})
}

func (s *signingService) decrypt(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Ciphertext []byte `json:"ciphertext"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	// Key envelopes only: an SM4 key, never other data encrypted to the
	// merchant's key.
	if len(in.Ciphertext) != envelopeCiphertextLen {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("ciphertext is %d bytes, want %d (an SM4 key envelope)", len(in.Ciphertext), envelopeCiphertextLen))
		return
	}
	pt, err := s.key.Decrypt(r.Context(), in.Ciphertext)
	if err != nil {
		writeError(w, http.StatusBadRequest, "the ciphertext does not open with this key")
		return
	}
	writeJSON(w, http.StatusOK, map[string][]byte{"plaintext": pt})
}

func (s *signingService) publicKey(w http.ResponseWriter, _ *http.Request) {
	pub, err := s.key.Public().MarshalPEM()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "the public key could not be encoded")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"public_key": string(pub), "fingerprint": s.key.Public().Fingerprint()})
}

// start serves the service on addr, a loopback address, and returns its
// URL and a function that stops it.
func (s *signingService) start(addr string) (string, func(), error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", nil, fmt.Errorf("signing service: -addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("signing service: -addr %q: loopback only (127.0.0.1, ::1): over plain HTTP the token travels in clear", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("signing service: %w", err)
	}
	srv := &http.Server{Handler: s.handler(), ReadHeaderTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second,
		WriteTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// serveSigner runs the signing service alone until SIGINT, SIGTERM or ctx.
func serveSigner(ctx context.Context, out io.Writer, o options, logger *slog.Logger) error {
	if o.publicKeyFile != "" || o.baseURL != "" {
		return errors.New("-public-key and -base-url are the merchant's side (-signer-url)")
	}
	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:8361"
	}
	key, err := loadKey(o.keyFile, o.keyPasswordEnv)
	if err != nil {
		return err
	}
	svc, err := newSigningService(key, os.Getenv(tokenEnv), logger)
	if err != nil {
		return err
	}
	pubPEM, err := key.Public().MarshalPEM()
	if err != nil {
		return err
	}
	if o.publicKeyOut != "" {
		if err := os.WriteFile(o.publicKeyOut, pubPEM, 0o644); err != nil {
			return fmt.Errorf("-public-key-out: %w", err)
		}
	}
	signerURL, stop, err := svc.start(addr)
	if err != nil {
		return err
	}
	defer stop()
	ctx, cancel := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer cancel()
	what := "from " + o.keyFile
	if o.keyFile == "" {
		what = "a fresh TEST key, in memory only"
	}
	fmt.Fprintf(out, "signing service listening on %s\n  key %s (%s)\n", signerURL, key.Public().Fingerprint(), what)
	if o.publicKeyOut != "" {
		fmt.Fprintf(out, "  public key written to %s\n", o.publicKeyOut)
	} else {
		fmt.Fprintf(out, "  public key:\n%s", pubPEM)
	}
	<-ctx.Done()
	return nil
}

// loadKey reads the service's key, or makes a fresh TEST key.
func loadKey(file, passwordEnv string) (*sign.PrivateKey, error) {
	if file == "" {
		if passwordEnv != "" {
			return nil, errors.New("-key-password-env goes with -key")
		}
		return sign.GenerateKey()
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("-key: %w", err)
	}
	var password []byte
	if passwordEnv != "" {
		if password = []byte(os.Getenv(passwordEnv)); len(password) == 0 {
			return nil, fmt.Errorf("-key-password-env: the environment variable %s is empty", passwordEnv)
		}
	}
	key, err := sign.ParseEncryptedPrivateKey(data, password)
	if err != nil {
		return nil, fmt.Errorf("-key %s: %w", file, err)
	}
	return key, nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes", maxRequest))
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil || dec.More() {
		writeError(w, http.StatusBadRequest, "the body is not the expected JSON object")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// --- the merchant's side ---------------------------------------------------

// remoteKey is the merchant's key as the merchant's process has it: the
// public half, and a client of the signing service that holds the private
// half. It implements sign.Signer, so it goes in wallet.Config.PrivateKey
// like an in-memory key. It is safe for concurrent use.
type remoteKey struct {
	pub     *sign.PublicKey
	url     string // the service's base URL
	token   string
	hc      *http.Client
	timeout time.Duration // of one request when ctx has no earlier deadline

	signs, decrypts atomic.Int64 // requests that succeeded
}

// defaultSignerTimeout bounds one request to the service when the caller's
// context allows more: a loopback round trip takes well under a
// millisecond, so a service that needs seconds is down, and the call
// should fail fast, before anything is sent to the bank.
const defaultSignerTimeout = 2 * time.Second

// dialSigner returns the client of the service at serviceURL for the key
// whose public half is publicKeyPEM. It makes no request: Check does.
func dialSigner(serviceURL, token string, publicKeyPEM []byte) (*remoteKey, error) {
	u, err := url.Parse(serviceURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("signing service URL %q: want http://127.0.0.1:port or an https URL", serviceURL)
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("signing service URL %q: plain http only on loopback, where the token cannot be overheard", serviceURL)
	}
	if token == "" {
		return nil, fmt.Errorf("no token for the signing service: set %s to the service's token", tokenEnv)
	}
	pub, err := sign.ParsePublicKey(publicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("the merchant's public key: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // the service is local: never through a proxy
	tr.MaxIdleConnsPerHost = 64
	return &remoteKey{
		pub: pub, url: strings.TrimRight(u.String(), "/"), token: token, timeout: defaultSignerTimeout,
		hc: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}, nil
}

// Public returns the public half the merchant was configured with.
func (k *remoteKey) Public() *sign.PublicKey { return k.pub }

// SignDigest asks the service to sign a digest, and checks that the answer
// is a DER signature.
func (k *remoteKey) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != 32 {
		return nil, fmt.Errorf("signing service %s: sign: the digest is %d bytes, want 32", k.url, len(digest))
	}
	var out struct {
		Signature []byte `json:"signature"`
	}
	if err := k.call(ctx, "sign", map[string][]byte{"digest": digest}, &out); err != nil {
		return nil, err
	}
	if err := checkDER(out.Signature); err != nil {
		return nil, fmt.Errorf("signing service %s: sign: %w", k.url, err)
	}
	k.signs.Add(1)
	return out.Signature, nil
}

// Decrypt asks the service to open a key envelope addressed to the key.
func (k *remoteKey) Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error) {
	pt, err := k.open(ctx, ciphertext)
	if err == nil {
		k.decrypts.Add(1)
	}
	return pt, err
}

func (k *remoteKey) open(ctx context.Context, ciphertext []byte) ([]byte, error) {
	var out struct {
		Plaintext []byte `json:"plaintext"`
	}
	if err := k.call(ctx, "decrypt", map[string][]byte{"ciphertext": ciphertext}, &out); err != nil {
		return nil, err
	}
	return out.Plaintext, nil
}

// Check proves that the service holds the private half of the configured
// public key: it encrypts a random challenge to the public key and asks the
// service to open it. Run it at start-up, so that a wrong key or token is
// found before the first payment.
func (k *remoteKey) Check(ctx context.Context) error {
	challenge := make([]byte, 16)
	_, _ = rand.Read(challenge)
	ct, err := k.pub.Encrypt(challenge)
	if err != nil {
		return err
	}
	got, err := k.open(ctx, ct)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(got, challenge) != 1 {
		return fmt.Errorf("signing service %s holds another key than the configured public key %s", k.url, k.pub.Fingerprint())
	}
	return nil
}

// String names the key and the service, never the token.
func (k *remoteKey) String() string {
	return fmt.Sprintf("remote SM2 key %s at %s", k.pub.Fingerprint(), k.url)
}

// GoString is String, so %#v does not print the token either.
func (k *remoteKey) GoString() string { return k.String() }

// LogValue makes slog print String.
func (k *remoteKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// call is one request to the service. Its errors name the service and the
// operation, never the data.
func (k *remoteKey) call(ctx context.Context, op string, in, out any) error {
	if k.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, k.timeout) // ctx's own deadline still holds when earlier
		defer cancel()
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("signing service %s: %s: %s", k.url, op, fmt.Sprintf(format, a...))
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fail("%v", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, k.url+"/v1/"+op, bytes.NewReader(body))
	if err != nil {
		return fail("%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+k.token)
	resp, err := k.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is named already
		}
		return fmt.Errorf("signing service %s: %s: %w", k.url, op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return fmt.Errorf("signing service %s: %s: reading the answer: %w", k.url, op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode == http.StatusUnauthorized {
			return fail("HTTP 401: the service refused the token (set %s to the service's token)", tokenEnv)
		}
		if e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		return fail("HTTP %d: %s", resp.StatusCode, e.Error)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fail("the answer is not the service's JSON")
	}
	return nil
}

// checkDER accepts an ASN.1 DER SEQUENCE of two positive INTEGERs and
// nothing after it: what the bank verifies. A service that answers
// anything else is broken, and is told apart from a bank that refuses.
func checkDER(sig []byte) error {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	if err != nil || len(rest) != 0 || rs.R == nil || rs.S == nil || rs.R.Sign() <= 0 || rs.S.Sign() <= 0 {
		return errors.New("the answer is not a DER SM2 signature")
	}
	return nil
}

// merchant is the merchant's process: it has the service's URL, the token
// and the public key, and walks the journey with them.
func merchant(ctx context.Context, out io.Writer, baseURL, signerURL, token string, pubPEM []byte, logger *slog.Logger) error {
	key, err := dialSigner(signerURL, token, pubPEM)
	if err != nil {
		return err
	}
	if err := key.Check(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "signing service %s holds the key %s: it opened a challenge encrypted to the configured public key\n", key.url, key.pub.Fingerprint())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	merchantURL := "http://" + ln.Addr().String()
	sb, err := wallettest.Connect(ctx, baseURL, wallettest.WithAppName("remote-signer"), wallettest.WithMerchantKey(key),
		wallettest.WithNotifyURL(merchantURL+"/notify"))
	if err != nil {
		ln.Close()
		return err
	}
	defer sb.Close()
	c, err := wallet.NewClient(sb.Config, wallet.WithLogger(logger))
	if err != nil {
		ln.Close()
		return err
	}
	in := &inbox{}
	h, err := notify.NewHandler(c, in.add)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /notify", h)
	mux.HandleFunc("GET /return", func(w http.ResponseWriter, r *http.Request) {
		// Advisory: the notification (or a query) confirms it.
		if ret, err := h5.New(c).VerifyReturn(r.URL); err == nil {
			fmt.Fprintf(w, "%s: %s\n", ret.Page, ret.Result)
			return
		}
		http.Error(w, "bad return redirect", http.StatusBadRequest)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	fmt.Fprintf(out, "merchant app %s on the sandbox at %s, with the public key and the service's client only\n", c.AppID(), sb.URL)

	p := wallettest.Person()
	a, err := wallettest.Open(ctx, c, p) // the journey itself: examples/open-account
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "account/open      account %s opened for %s\n", a.AccountNo, a.NameMasked)
	pay := payment.New(c)
	r, err := pay.Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 100_00})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "payment/recharge  ¥%s: order %s %s\n", yuan(r.Amount), r.OutTradeNo, r.Status)
	// The PIN is encrypted to the bank's key, not the merchant's: in
	// production on the user's device (c.PINKey), here for the demo.
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return err
	}
	o, err := pay.Pay(ctx, payment.PayRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 30_00, Subject: "会员月卡", Password: pin})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "payment/pay       ¥%s: order %s %s\n", yuan(o.Amount), o.OutTradeNo, o.Status)
	ref, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 10_00})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "payment/refund    ¥%s: refund %s %s\n", yuan(ref.Amount), ref.OutRefundNo, ref.Status)
	link, err := h5.New(c).URL(ctx, h5.WalletPage{Common: h5.Common{UserID: p.UserID, ReturnURL: merchantURL + "/return"}, AccountNo: a.AccountNo})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "h5 link           我的钱包, signed by the service:\n%s\n", link)

	want := []notify.Type{notify.AccountOpened, notify.RechargeSucceeded, notify.PaymentSucceeded, notify.RefundSucceeded}
	got := in.wait(len(want), 10*time.Second)
	fmt.Fprintf(out, "notifications     %d received, decrypted through the service: %s\n", len(got), strings.Join(got, ", "))
	if len(got) < len(want) {
		return fmt.Errorf("%d notifications received, want %d", len(got), len(want))
	}
	fmt.Fprintf(out, "done: the merchant asked the service for %d signatures and %d decryptions, and never held the private key\n",
		key.signs.Load(), key.decrypts.Load())
	return nil
}

// inbox collects the types of the notifications the handler verified.
type inbox struct {
	mu    sync.Mutex
	types []string
}

func (b *inbox) add(_ context.Context, e *notify.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.types = append(b.types, string(e.Type))
	return nil
}

func (b *inbox) wait(n int, d time.Duration) []string {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		b.mu.Lock()
		got := append([]string(nil), b.types...)
		b.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			sort.Strings(got)
			return got
		}
	}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails (it crashes instead)
	return hex.EncodeToString(b)
}

// newLogger logs warnings (everything with -v) to stderr.
func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func yuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// Package connect points an example at a sandbox bank: one started
// in-process by default, so every example runs with nothing to configure,
// or a standalone one (go run ./examples/sandbox) with -base-url. It also
// reaches the sandbox's control API, which only a sandbox has.
package connect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Flags are the connection flags every example takes.
type Flags struct {
	BaseURL    string
	AppID      string
	MerchantID string
	KeyFile    string
	BankKeys   bankKeyFlags
	Verbose    bool
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.BaseURL, "base-url", "", "a running sandbox or bank (default: start an embedded sandbox)")
	fs.StringVar(&f.AppID, "app-id", "", "app id (default: the sandbox's test app)")
	fs.StringVar(&f.MerchantID, "merchant-id", "", "merchant id (default: the sandbox's test merchant)")
	fs.StringVar(&f.KeyFile, "key", "", "merchant private key PEM file (default: the sandbox's TEST key)")
	fs.Var(&f.BankKeys, "bank-key", "trusted bank key as id=public.pem; repeat for several (default: the sandbox's)")
	fs.BoolVar(&f.Verbose, "v", false, "log every call at debug level to stderr")
}

type bankKeyFlags []string

func (b *bankKeyFlags) String() string     { return strings.Join(*b, ",") }
func (b *bankKeyFlags) Set(v string) error { *b = append(*b, v); return nil }

// Main is an example's main: it runs run with the command line and stdout,
// and exits 1 with the error.
func Main(name string, run func(ctx context.Context, args []string, out io.Writer) error) {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Setup parses args — the connection flags, and the example's own, which
// extra adds when not nil — and connects. The caller closes the Env.
func Setup(ctx context.Context, name string, args []string, extra func(*flag.FlagSet), opts ...wallet.Option) (*Env, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var f Flags
	f.Register(fs)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return Open(ctx, f, opts...)
}

// Env is a connected example: a client, and the sandbox's control API.
type Env struct {
	BaseURL  string
	Client   *wallet.Client
	Config   wallet.Config
	Embedded bool
	Logger   *slog.Logger

	http  *http.Client
	close func()
}

// Open connects per f: an embedded sandbox unless f.BaseURL is set; the
// sandbox's published TEST credentials unless keys are given.
func Open(ctx context.Context, f Flags, opts ...wallet.Option) (*Env, error) {
	e := &Env{BaseURL: strings.TrimRight(f.BaseURL, "/"), http: &http.Client{Timeout: 10 * time.Second}, close: func() {}}
	level := slog.LevelWarn
	if f.Verbose {
		level = slog.LevelDebug
	}
	e.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if e.BaseURL == "" {
		if err := e.startEmbedded(); err != nil {
			return nil, err
		}
	}
	cfg, err := e.config(ctx, f)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Config = cfg
	c, err := wallet.NewClient(cfg, append([]wallet.Option{wallet.WithLogger(e.Logger)}, opts...)...)
	if err != nil {
		e.Close()
		return nil, err
	}
	e.Client = c
	return e, nil
}

func (e *Env) startEmbedded() error {
	bank, err := sandbox.New(sandbox.Options{NotifyScale: 0.01})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = bank.Close()
		return err
	}
	srv := &http.Server{Handler: bank, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.BaseURL, e.Embedded = "http://"+ln.Addr().String(), true
	// Close, not Shutdown: the example is done, and Shutdown would wait five
	// seconds for a connection a client dialled but never used.
	e.close = func() {
		_ = srv.Close()
		_ = bank.Close()
	}
	return nil
}

// Close stops an embedded sandbox.
func (e *Env) Close() { e.close() }

type credentials struct {
	AppID      string `json:"app_id"`
	MerchantID string `json:"merchant_id"`
	PrivateKey string `json:"merchant_private_key"`
	BankKeys   []struct {
		KeyID     string `json:"key_id"`
		PublicKey string `json:"public_key"`
	} `json:"bank_keys"`
}

func (e *Env) config(ctx context.Context, f Flags) (wallet.Config, error) {
	cfg := wallet.Config{BaseURL: e.BaseURL, AppID: f.AppID, MerchantID: f.MerchantID, BankKeys: map[string]*sign.PublicKey{}}
	needCreds := f.AppID == "" || f.MerchantID == "" || f.KeyFile == "" || len(f.BankKeys) == 0
	var creds credentials
	if needCreds {
		if err := e.control(ctx, http.MethodGet, "credentials", nil, &creds); err != nil {
			return cfg, fmt.Errorf("reading the sandbox's test credentials (give -app-id, -merchant-id, -key and -bank-key for a bank without them): %w", err)
		}
	}
	if cfg.AppID == "" {
		cfg.AppID = creds.AppID
	}
	if cfg.MerchantID == "" {
		cfg.MerchantID = creds.MerchantID
	}
	keyPEM := []byte(creds.PrivateKey)
	if f.KeyFile != "" {
		b, err := os.ReadFile(f.KeyFile)
		if err != nil {
			return cfg, err
		}
		keyPEM = b
	}
	key, err := sign.ParsePrivateKey(keyPEM)
	if err != nil {
		return cfg, fmt.Errorf("merchant key: %w", err)
	}
	cfg.PrivateKey = key
	for _, kv := range f.BankKeys {
		id, file, ok := strings.Cut(kv, "=")
		if !ok {
			return cfg, fmt.Errorf("-bank-key %q: want id=public.pem", kv)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return cfg, err
		}
		if cfg.BankKeys[id], err = sign.ParsePublicKey(b); err != nil {
			return cfg, fmt.Errorf("bank key %s: %w", id, err)
		}
	}
	if len(f.BankKeys) == 0 {
		for _, k := range creds.BankKeys {
			pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
			if err != nil {
				return cfg, fmt.Errorf("bank key %s: %w", k.KeyID, err)
			}
			cfg.BankKeys[k.KeyID] = pub
		}
	}
	return cfg, nil
}

// SetNotifyURL registers url as the merchant's notify URL with the
// sandbox (POST /sandbox/merchants).
func (e *Env) SetNotifyURL(ctx context.Context, url string) error {
	return e.RegisterMerchant(ctx, e.Config, url)
}

// RegisterMerchant registers cfg's app, merchant and public key with the
// sandbox, with notifyURL ("" for none); an app id already there is
// replaced.
func (e *Env) RegisterMerchant(ctx context.Context, cfg wallet.Config, notifyURL string) error {
	pub, err := cfg.PrivateKey.Public().MarshalPEM()
	if err != nil {
		return err
	}
	body := map[string]string{"app_id": cfg.AppID, "merchant_id": cfg.MerchantID, "public_key": string(pub), "notify_url": notifyURL}
	return e.control(ctx, http.MethodPost, "merchants", body, nil)
}

// AdvanceClock moves the sandbox's business clock (POST /sandbox/clock).
func (e *Env) AdvanceClock(ctx context.Context, d time.Duration) error {
	return e.control(ctx, http.MethodPost, "clock", map[string]string{"advance": d.String()}, nil)
}

// InjectFault makes the next count calls to path misbehave (POST
// /sandbox/faults): kind is latency, http_503, drop_before_commit,
// drop_after_commit or bad_signature.
func (e *Env) InjectFault(ctx context.Context, kind string, count int, path string) error {
	return e.control(ctx, http.MethodPost, "faults", map[string]any{"kind": kind, "count": count, "path": path}, nil)
}

// SetSigningKey makes the sandbox sign with another of its keys.
func (e *Env) SetSigningKey(ctx context.Context, id string) error {
	return e.control(ctx, http.MethodPost, "signing-key", map[string]string{"key_id": id}, nil)
}

// Listen starts h on a loopback port and returns its base URL and a stop
// function: the merchant's side of notifications and return redirects.
func Listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

func (e *Env) control(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.BaseURL+"/sandbox/"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return errors.New("sandbox control API: " + e.Error)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

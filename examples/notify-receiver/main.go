// Command notify-receiver is the merchant's notify URL: an HTTP server
// that verifies the bank's notifications with notify.NewHandler, runs the
// merchant's logic once per event (de-duplicated on notify_id), and
// answers the bank so that it stops, or keeps, delivering.
//
//	go run ./examples/notify-receiver                                 # demo on a sandbox embedded in the program, then exit
//	go run ./examples/notify-receiver -base-url http://127.0.0.1:8360 # the demo on a standalone one (go run ./examples/sandbox)
//	go run ./examples/notify-receiver -serve -addr 127.0.0.1:9090 -base-url http://127.0.0.1:8360
//
// The demo opens an account and recharges it, fails the first event on
// purpose so that the bank delivers it again, and replays a delivery to
// show a duplicate being answered without running the logic twice. On a
// standalone sandbox the bank's first retry comes 15 s later, unless the
// sandbox runs with a smaller -notify-scale.
//
// With -serve it keeps serving until interrupted. On a sandbox it
// registers a merchant of its own whose notify URL is this server, and
// prints a link to the sandbox's account-opening page: open it in a
// browser, and that merchant's notifications arrive here. With the real
// bank's credentials (-key, -app-id, -merchant-id, -bank-key, -base-url)
// it verifies that bank's notifications; the notify URL is set with the
// bank, as an https address that reaches -addr.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
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
		fmt.Fprintln(os.Stderr, "notify-receiver:", err)
		os.Exit(1)
	}
}

// orders is the merchant's order book, updated by notifications. A real one
// is a database table; the de-duplication across instances is a shared
// notify.Deduper (redisstore, sqlstore).
type orders struct {
	mu       sync.Mutex
	out      io.Writer
	paid     map[string]int64
	handled  int
	failOnce bool
}

// handle is the merchant's business logic for one verified notification.
// It runs once per notify_id; an error makes the bank deliver it again.
func (o *orders) handle(_ context.Context, e *notify.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failOnce {
		o.failOnce = false
		fmt.Fprintf(o.out, "  %s %s: the database is busy, so answer FAIL — the bank will deliver it again\n", e.ID, e.Type)
		return errors.New("database busy")
	}
	o.handled++
	switch {
	case e.Type.IsOrder():
		ord, err := e.Order()
		if err != nil {
			return err
		}
		o.paid[ord.OutTradeNo] = ord.Amount
		fmt.Fprintf(o.out, "  %s %s: order %s %s ¥%d.%02d\n", e.ID, e.Type, ord.OutTradeNo, ord.Status, ord.Amount/100, ord.Amount%100)
	case e.Type.IsAccount():
		a, err := e.Account()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.out, "  %s %s: account %s %s\n", e.ID, e.Type, a.AccountNo, a.Status)
	case e.Type == notify.RefundSucceeded:
		r, err := e.Refund()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.out, "  %s %s: refund %s of order %s\n", e.ID, e.Type, r.OutRefundNo, r.OutTradeNo)
	default:
		// A type this SDK does not know yet: verified, kept, not acted on.
		fmt.Fprintf(o.out, "  %s %s\n", e.ID, e.Type)
	}
	return nil
}

// bankFlags are the real bank's credentials.
type bankFlags struct {
	keyFile, keyPasswordEnv, appID, merchantID string
	bankKeys                                   bankKeyList
}

type bankKeyList []string

func (l *bankKeyList) String() string     { return strings.Join(*l, ",") }
func (l *bankKeyList) Set(v string) error { *l = append(*l, v); return nil }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("notify-receiver", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360, or the bank's gateway with -key (default: a sandbox embedded in this program)")
	serve := fs.Bool("serve", false, "keep serving until interrupted")
	addr := fs.String("addr", "127.0.0.1:0", "listen address of the notify URL")
	verbose := fs.Bool("v", false, "log every delivery to stderr")
	var bank bankFlags
	fs.StringVar(&bank.keyFile, "key", "", "the real bank: the merchant's private key (PEM); with -app-id, -merchant-id, -bank-key and -base-url")
	fs.StringVar(&bank.keyPasswordEnv, "key-password-env", "", "name of the environment variable holding the password of an encrypted -key")
	fs.StringVar(&bank.appID, "app-id", "", "the real bank: the app id it assigned")
	fs.StringVar(&bank.merchantID, "merchant-id", "", "the real bank: the merchant id (商户号) it assigned")
	fs.Var(&bank.bankKeys, "bank-key", "the real bank: a public key of the bank as key_id=file.pem; repeat for each")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if bank.keyFile == "" && (bank.appID != "" || bank.merchantID != "" || len(bank.bankKeys) > 0) {
		return errors.New("-app-id, -merchant-id and -bank-key go with -key (the real bank); leave them all out for a sandbox")
	}
	if bank.keyFile != "" && !*serve {
		return errors.New("with the real bank's credentials, add -serve: the demo needs a sandbox")
	}
	logger := newLogger(*verbose)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	notifyURL := "http://" + ln.Addr().String() + "/notify"

	var cfg wallet.Config
	var sb *wallettest.Sandbox
	if bank.keyFile != "" {
		if cfg, err = bank.config(*baseURL); err != nil {
			ln.Close()
			return err
		}
	} else {
		sb, err = wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("notify-receiver"), wallettest.WithNotifyURL(notifyURL))
		if err != nil {
			ln.Close()
			return err
		}
		defer sb.Close()
		cfg = sb.Config
	}
	c, err := wallet.NewClient(cfg, wallet.WithLogger(logger))
	if err != nil {
		ln.Close()
		return err
	}

	book := &orders{out: out, paid: map[string]int64{}, failOnce: !*serve}
	handler, err := notify.NewHandler(c, book.handle)
	if err != nil {
		ln.Close()
		return err
	}
	// The demo keeps every delivery's raw body, to replay one below.
	var mu sync.Mutex
	var bodies [][]byte
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify", func(w http.ResponseWriter, r *http.Request) {
		if !*serve {
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		handler.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /return", func(w http.ResponseWriter, r *http.Request) {
		// The bank's redirect after an H5 page: advisory, confirmed by the
		// notification (or a query) before anything is done.
		ret, err := h5.New(c).VerifyReturn(r.URL)
		if err != nil {
			http.Error(w, "bad return redirect", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(out, "  return from the %s page: %s (the notification confirms it)\n", ret.Page, ret.Result)
		fmt.Fprintf(w, "%s: %s — you can close this page\n", ret.Page, ret.Result)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	if *serve {
		return serveUntilInterrupted(ctx, out, c, sb, notifyURL)
	}
	fmt.Fprintf(out, "notify URL %s registered with the sandbox at %s for app %s\n", notifyURL, sb.URL, c.AppID())

	// Demo: a few events.
	a, err := wallettest.Open(ctx, c, wallettest.Person()) // the journey itself: examples/open-account
	if err != nil {
		return err
	}
	rc, err := payment.New(c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 88_00})
	if err != nil {
		return err
	}
	// The failed first event comes back on the bank's retry schedule: 15 s
	// on a sandbox with -notify-scale 1, milliseconds on the embedded one.
	wait := 10 * time.Second
	if !sb.Embedded() {
		wait = 60 * time.Second
	}
	if !waitFor(wait, func() bool {
		book.mu.Lock()
		defer book.mu.Unlock()
		_, ok := book.paid[rc.OutTradeNo]
		return ok && book.handled >= 2
	}) {
		return fmt.Errorf("the two notifications were not handled within %v", wait)
	}

	// A duplicate delivery (the bank may send one notify_id more than once)
	// is answered SUCCESS without running the business logic again.
	mu.Lock()
	last := bodies[len(bodies)-1]
	mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURL, bytes.NewReader(last))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	reply, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	book.mu.Lock()
	defer book.mu.Unlock()
	fmt.Fprintf(out, "a duplicate delivery was answered %d %s and handled %d times in all\n", resp.StatusCode, bytes.TrimSpace(reply), book.handled)
	return nil
}

// serveUntilInterrupted serves until SIGINT, SIGTERM or ctx. On a sandbox
// it prints a link that makes events for this merchant.
func serveUntilInterrupted(ctx context.Context, out io.Writer, c *wallet.Client, sb *wallettest.Sandbox, notifyURL string) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if sb == nil {
		fmt.Fprintf(out, "serving the notify URL of app %s at %s; give the bank the https address that reaches it. Ctrl-C stops.\n", c.AppID(), notifyURL)
	} else {
		fmt.Fprintf(out, "notify URL %s registered with the sandbox at %s for app %s\n", notifyURL, sb.URL, c.AppID())
		p := wallettest.Person()
		link, err := h5.New(c).URL(ctx, h5.OpenPage{Common: h5.Common{UserID: p.UserID, ReturnURL: strings.TrimSuffix(notifyURL, "/notify") + "/return"},
			Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "open this link within 10 minutes to open an account (SMS code 123456, PIN %s); its notification arrives here:\n%s\nCtrl-C stops.\n",
			wallettest.TestPIN, link)
	}
	<-ctx.Done()
	return nil
}

// config is the real bank's wallet.Config from the flags.
func (b bankFlags) config(baseURL string) (wallet.Config, error) {
	if baseURL == "" || b.appID == "" || b.merchantID == "" || len(b.bankKeys) == 0 {
		return wallet.Config{}, errors.New("the real bank needs -base-url, -app-id, -merchant-id and at least one -bank-key with -key")
	}
	pem, err := os.ReadFile(b.keyFile)
	if err != nil {
		return wallet.Config{}, fmt.Errorf("-key: %w", err)
	}
	var password []byte
	if b.keyPasswordEnv != "" {
		if password = []byte(os.Getenv(b.keyPasswordEnv)); len(password) == 0 {
			return wallet.Config{}, fmt.Errorf("-key-password-env: the environment variable %s is empty", b.keyPasswordEnv)
		}
	}
	key, err := sign.ParseEncryptedPrivateKey(pem, password)
	if err != nil {
		return wallet.Config{}, fmt.Errorf("-key %s: %w", b.keyFile, err)
	}
	keys := map[string]*sign.PublicKey{}
	for _, kv := range b.bankKeys {
		id, file, ok := strings.Cut(kv, "=")
		if !ok || id == "" || file == "" {
			return wallet.Config{}, fmt.Errorf("-bank-key %q: want key_id=file.pem", kv)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return wallet.Config{}, fmt.Errorf("-bank-key %s: %w", id, err)
		}
		if keys[id], err = sign.ParsePublicKey(data); err != nil {
			return wallet.Config{}, fmt.Errorf("-bank-key %s: %w", id, err)
		}
	}
	return wallet.Config{BaseURL: baseURL, AppID: b.appID, MerchantID: b.merchantID, PrivateKey: key, BankKeys: keys}, nil
}

// newLogger logs warnings (every delivery with -v) to stderr: notify_id
// and type, never the payload.
func newLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// Command merchant-app is a merchant's own app, server-rendered for a phone,
// as the bank's integration plan draws the page flow (开户, 我的钱包, 支付) from
// the merchant's side: it asks the bank whether a user has an e-account,
// opens the bank's H5 pages with signed links and takes the user back at the
// end, pays with the bank's pay page or with a PIN pad that encrypts the PIN
// on the device, transfers, refunds, hears the bank's notifications, and
// moves the sandbox's clock for the next day's statement.
//
//	go run ./examples/merchant-app                   # with a sandbox bank embedded in the program
//	go run ./examples/merchant-app -addr 127.0.0.1:8090
//	go run ./examples/sandbox &                      # or a standalone sandbox, shared by several programs:
//	go run ./examples/merchant-app -base-url http://127.0.0.1:8360
//
// It prints the app's URL: open it in a browser, in a phone-sized window
// (375 px), and sign in as one of the test users (there is no real sign-in).
// The last user already has an e-account, so that there is someone to
// transfer to; the others open one on the bank's page (the SMS code is
// 123456, the PIN anything not weak, such as 135790).
//
// What it shows, with the sections of docs/protocol.md:
//
//   - 我的钱包: wallet/query (4.2) says whether the user has an account; without
//     one the app sends the user to the bank's open page, prefilled with the
//     user's data encrypted into the link (9.1, 9.2); with one it shows the
//     balance and the bound card and links to the bank's wallet, recharge,
//     withdraw, card, password and close pages.
//   - Every return from a bank page is verified (h5.Builder.VerifyReturn,
//     9.4) and then confirmed by a query — payment/query for recharge,
//     withdraw and pay, account/query or wallet/query for the others — since
//     the redirect passed through the user's browser and is only advisory.
//   - The shop pays an order on the bank's pay page or with the PIN pad of
//     wallet/pinpad (section 5): the PIN is encrypted in the browser and the
//     app's server passes on only its ciphertext. Transfers use the pad too.
//   - Every money call the app makes is recorded before it is made: its
//     out_trade_no (payment.NewOutTradeNo) and its msg_id (wallet.NewMsgID,
//     sent with wallet.WithMsgID); an unknown outcome is settled with
//     payment.Service.Resolve under that msg_id (3.4), never by paying again.
//   - The bank's notifications (section 10) arrive at the app's /notify
//     (notify.NewHandler, de-duplicated on notify_id); an open order page
//     shows them at once, through server-sent events.
//   - The admin page (/admin) lists the orders and the notifications,
//     refunds a payment, and moves the sandbox's business clock
//     (section 11.5); once a business day is over, /admin/statement fetches
//     its TRADE statement with payment/statement, checks it whole, and
//     reconciles it with the app's books (section 12).
//
// Its routes:
//
//	GET  /                    sign in (pick a test user), or the home page
//	POST /signin, /signout
//	GET  /wallet              我的钱包: wallet/query, then the account or the offer to open one
//	POST /h5/{page}           a fresh signed link to the bank's open, wallet, recharge,
//	                          withdraw, card, password or close page (303)
//	GET  /return              the return_url: VerifyReturn, then a query of the bank
//	GET  /shop, POST /shop/buy            an order, paid on the bank's pay page or the PIN pad
//	GET  /transfer, POST /transfer        a transfer, paid with the PIN pad
//	GET  /pin/, POST /pin/submit          the PIN pad (wallet/pinpad) and its endpoint
//	GET  /orders, /orders/{no}            the user's orders, live
//	GET  /events              server-sent events of the user's orders (?all=1: everyone's)
//	POST /notify              the bank's notifications (notify.Handler)
//	GET  /admin, POST /admin/refund, POST /admin/clock, GET /admin/statement?date=yyyy-mm-dd
//
// The pages are plain HTML from html/template, in Chinese, for a 375 px
// screen; the only script is the app's own static/app.js (the live order
// status) and the PIN pad's, and every page is sent with a strict
// Content-Security-Policy: scripts and styles from the app's origin only,
// nothing inline.
//
// The app keeps its books in memory: a real one keeps orders and their
// msg_ids in its database, written before each call (payment.WithJournal
// is the SDK's way), and de-duplicates notifications in a store every
// instance shares (wallet/redisstore, wallet/sqlstore).
//
// -merchant-key loads the merchant's key from a PEM file (a TEST key; the
// browser test uses it to read the bank's books as this merchant); without
// it a fresh TEST key is made. -v logs every SDK call (never personal data
// or keys).
//
// It uses the public API only: its templates and static files are embedded
// from this directory.
package main

import (
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
	"sync"
	"syscall"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "merchant-app:", err)
		os.Exit(1)
	}
}

// run starts the app, prints where it is, and serves until ctx is done.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("merchant-app", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "where the app listens (a loopback address: the bank accepts http return URLs only there)")
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	keyFile := fs.String("merchant-key", "", "a PEM file with the merchant's TEST key (default: a fresh one)")
	verbose := fs.Bool("v", false, "log every SDK call to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	opts := options{addr: *addr, baseURL: *baseURL, log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))}
	if *keyFile != "" {
		pem, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		k, err := sign.ParsePrivateKey(pem)
		if err != nil {
			return fmt.Errorf("-merchant-key %s: %w", *keyFile, err)
		}
		opts.key = k
	}
	a, err := start(ctx, opts)
	if err != nil {
		return err
	}
	defer a.close()
	where := "a standalone sandbox"
	if a.sandbox.Embedded() {
		where = "the embedded sandbox"
	}
	fmt.Fprintf(out, "merchant-app: %s/\n", a.url)
	fmt.Fprintf(out, "bank: %s at %s, app_id %s, merchant_id %s\n", where, a.sandbox.URL, a.client.AppID(), a.client.MerchantID())
	fmt.Fprintf(out, "admin: %s/admin   (Ctrl-C stops the app)\n", a.url)
	<-ctx.Done()
	return nil
}

// options are what start needs.
type options struct {
	addr    string
	baseURL string       // "" for an embedded sandbox
	key     sign.Signer  // nil for a fresh TEST key
	log     *slog.Logger // never nil
	users   int          // test users; 3 when 0
}

// app is the merchant: its books, its SDK services, and its server.
type app struct {
	url        string // the app's origin, http://127.0.0.1:port
	bankOrigin string // where the bank's pages are, for the CSP's form-action
	log        *slog.Logger

	sandbox  *wallettest.Sandbox
	clock    *sandboxClock
	client   *wallet.Client
	accounts *account.Service
	pay      *payment.Service
	pages    *h5.Builder
	views    *views

	books    *books
	sessions *sessions
	events   *hub

	srv       *http.Server
	stop      context.CancelFunc // cancels the server's base context: streams end
	closeOnce sync.Once
	resolving sync.WaitGroup // Resolve calls under way
}

// start connects to a sandbox bank as a merchant of its own, makes the test
// users, and serves the app on opts.addr.
func start(ctx context.Context, opts options) (*app, error) {
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return nil, err
	}
	// The app serves plain http, and the bank takes an http return_url or
	// notify_url only on loopback (docs/protocol.md, section 4.1): anywhere
	// else the app needs https in front of it.
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		ln.Close()
		return nil, fmt.Errorf("-addr %s: the app serves plain http, which the bank accepts for return and notify URLs on a loopback address only", opts.addr)
	}
	a := &app{url: "http://" + ln.Addr().String(), log: opts.log, events: newHub(), sessions: newSessions()}
	// The app's notify URL is registered with the sandbox for the app's
	// own merchant (docs/protocol.md, section 11.3): the bank POSTs every
	// notification of the app's calls and pages there.
	connect := []wallettest.ConnectOption{wallettest.WithAppName("merchant-app"), wallettest.WithNotifyURL(a.url + "/notify")}
	if opts.key != nil {
		connect = append(connect, wallettest.WithMerchantKey(opts.key))
	}
	a.sandbox, err = wallettest.Connect(ctx, opts.baseURL, connect...)
	if err != nil {
		ln.Close()
		return nil, err
	}
	fail := func(err error) (*app, error) {
		ln.Close()
		a.sandbox.Close()
		return nil, err
	}
	a.bankOrigin = origin(a.sandbox.URL)
	a.clock = newSandboxClock(a.sandbox)
	if a.client, err = wallet.NewClient(a.sandbox.Config, wallet.WithLogger(opts.log)); err != nil {
		return fail(err)
	}
	a.accounts = account.New(a.client)
	a.pay = payment.New(a.client)
	a.pages = h5.New(a.client)
	if a.views, err = newViews(); err != nil {
		return fail(err)
	}
	n := opts.users
	if n == 0 {
		n = 3
	}
	a.books = newBooks(testUsers(n))

	notifications, err := notify.NewHandler(a.client, a.handleEvent, notify.WithDeduper(notify.NewMemoryDeduper(notify.Retention)))
	if err != nil {
		return fail(err)
	}
	pad, err := pinpad.New(a.client, "/pin/submit", pinpad.WithLogger(opts.log), pinpad.WithPrompt(a.pinPrompt))
	if err != nil {
		return fail(err)
	}
	base, stop := context.WithCancel(context.Background())
	a.stop = stop
	a.srv = &http.Server{Handler: a.routes(notifications, pad), ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base }}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			opts.log.Error("merchant-app: serve", "err", err)
		}
	}()

	// The last user has an account from the start, so that there is someone
	// to transfer to. It is opened through the API with the sandbox's test
	// helper (the PIN encrypted here, wallettest.TestPIN): the others open
	// theirs on the bank's page, as users do.
	seed := a.books.users[len(a.books.users)-1]
	acct, err := wallettest.Open(ctx, a.client, seed.Person)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("opening the account of the seeded user: %w", err)
	}
	a.books.setAccount(acct.AccountNo, seed.ID)
	return a, nil
}

// testUsers makes n test people with different names.
func testUsers(n int) []*user {
	var users []*user
	names := map[string]bool{}
	for len(users) < n {
		p := wallettest.Person()
		if names[string(p.Name)] {
			continue
		}
		names[string(p.Name)] = true
		users = append(users, &user{ID: p.UserID, Person: p})
	}
	return users
}

// routes is the app's URL space.
func (a *app) routes(notifications http.Handler, pad http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("POST /signin", a.signIn)
	mux.HandleFunc("POST /signout", a.signOut)

	mux.HandleFunc("GET /wallet", a.walletPage)
	mux.HandleFunc("POST /h5/{page}", a.openBankPage)
	mux.HandleFunc("GET /return", a.bankReturn)

	mux.HandleFunc("GET /shop", a.shopPage)
	mux.HandleFunc("POST /shop/buy", a.buy)
	mux.HandleFunc("GET /transfer", a.transferPage)
	mux.HandleFunc("POST /transfer", a.transfer)
	mux.Handle("GET /pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("POST /pin/submit", a.pinSubmit)
	mux.HandleFunc("GET /orders", a.ordersPage)
	mux.HandleFunc("GET /orders/{no}", a.orderPage)
	mux.HandleFunc("GET /events", a.streamEvents)

	mux.Handle("POST /notify", notifications)

	mux.HandleFunc("GET /admin", a.adminPage)
	mux.HandleFunc("POST /admin/refund", a.adminRefund)
	mux.HandleFunc("POST /admin/clock", a.adminClock)
	mux.HandleFunc("GET /admin/statement", a.adminStatement)

	mux.Handle("GET /static/", a.views.static())
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	return sameOrigin(a.url, mux)
}

// close stops the server and the sandbox connection. Resolve calls still
// under way are waited for a little: they settle money already moved.
func (a *app) close() {
	a.closeOnce.Do(func() {
		a.stop()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.srv.Shutdown(ctx)
		done := make(chan struct{})
		go func() { a.resolving.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			a.log.Warn("merchant-app: stopping with an unknown outcome still being resolved")
		}
		_ = a.sandbox.Close()
	})
}

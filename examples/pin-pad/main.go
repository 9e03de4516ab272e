// Command pin-pad is a shop whose payment page asks for the user's PIN
// without the shop ever seeing it: the PIN pad of wallet/pinpad encrypts
// the six digits in the browser to the bank's key, and the shop's server
// only passes the ciphertext on, as payment.PayRequest.Password.
//
//	go run ./examples/pin-pad
//	go run ./examples/pin-pad -addr 127.0.0.1:8080
//
// It starts the sandbox bank in the process, opens an account for a test
// person and funds it, and prints the shop's URL. Open it in a browser
// (a phone-sized window shows the page as on a phone): each visit makes a
// new order of ¥99.00 and shows the pad. Type the sandbox's test PIN to pay,
// anything else to see a wrong PIN refused. The shop's log shows what its
// server saw: a key id and a reference, never the digits.
//
// It uses the public API only, and can be copied into a module of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "where the shop listens")
	verbose := flag.Bool("v", false, "log at debug level (every SDK call)")
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := start(ctx, *addr, log)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pin-pad:", err)
		os.Exit(1)
	}
	fmt.Printf("shop: %s/  (each visit is a new ¥99.00 order)\n", s.url)
	fmt.Printf("the sandbox's test PIN: %s; the account: %s\n", wallettest.TestPIN, s.account)
	<-ctx.Done()
	s.close()
}

// shop is the merchant: its orders, its server, and the sandbox bank it
// runs against.
type shop struct {
	url     string
	account string // the test person's account, which pays every order
	client  *wallet.Client
	pay     *payment.Service
	log     *slog.Logger
	close   func()

	mu     sync.Mutex
	orders map[string]*order
}

type order struct {
	req  payment.PayRequest // without the PIN, which only comes with a submission
	paid bool
}

// start runs the sandbox bank, opens and funds an account for a test
// person, and serves the shop on addr.
func start(ctx context.Context, addr string, log *slog.Logger) (*shop, error) {
	bank, stopBank, err := wallettest.StartServer()
	if err != nil {
		return nil, err
	}
	client := bank.Client(wallet.WithLogger(log))
	s := &shop{client: client, pay: payment.New(client), log: log, orders: map[string]*order{}}
	a, err := wallettest.Open(ctx, client, wallettest.Person())
	if err != nil {
		stopBank()
		return nil, err
	}
	s.account = a.AccountNo
	if _, err := s.pay.Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1000_00}); err != nil {
		stopBank()
		return nil, err
	}

	// The PIN pad encrypts to the key client.PINKey names, fresh at every
	// page view, and posts to /pay.
	pad, err := pinpad.New(client, "/pay", pinpad.WithLogger(log), pinpad.WithPrompt(s.prompt))
	if err != nil {
		stopBank()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.newOrder)
	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("POST /pay", s.handlePay)
	mux.HandleFunc("GET /orders/{no}", s.showOrder)

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		stopBank()
		return nil, err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("shop: serve", "err", err)
		}
	}()
	s.url = "http://" + ln.Addr().String()
	s.close = func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
		stopBank()
	}
	return s, nil
}

// newOrder makes an order and sends the browser to its PIN pad.
func (s *shop) newOrder(w http.ResponseWriter, r *http.Request) {
	o := &order{req: payment.PayRequest{AccountNo: s.account, OutTradeNo: payment.NewOutTradeNo(), Amount: 99_00, Subject: "会员月卡"}}
	s.mu.Lock()
	s.orders[o.req.OutTradeNo] = o
	s.mu.Unlock()
	http.Redirect(w, r, "/pin/?order="+o.req.OutTradeNo, http.StatusSeeOther)
}

func (s *shop) order(no string) (*order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[no]
	return o, ok
}

// prompt is what the pad shows for ?order=…; an unknown order gets the
// pad's "link no longer valid" page.
func (s *shop) prompt(r *http.Request) (pinpad.Prompt, error) {
	o, ok := s.order(r.URL.Query().Get("order"))
	if !ok {
		return pinpad.Prompt{}, errors.New("no such order")
	}
	return pinpad.Prompt{Title: "请输入支付密码", Subject: o.req.Subject, Amount: o.req.Amount, Ref: o.req.OutTradeNo, Cancel: "/"}, nil
}

// handlePay takes the pad's {key_id, ciphertext, ref} and pays the order
// with it. The digits are not here to log: only their ciphertext, which
// prints masked.
func (s *shop) handlePay(w http.ResponseWriter, r *http.Request) {
	sub, err := pinpad.Decode(r)
	if err != nil {
		s.log.Warn("shop: bad PIN submission", "err", err)
		pinpad.Reply(w, pinpad.Failure(err))
		return
	}
	s.log.Info("shop: PIN submission", "submission", sub)
	o, ok := s.order(sub.Ref)
	if !ok {
		pinpad.Reply(w, pinpad.Result{Message: "订单不存在"})
		return
	}
	s.mu.Lock()
	paid, req := o.paid, o.req
	s.mu.Unlock()
	if paid {
		pinpad.Reply(w, pinpad.Result{OK: true, Message: "订单已支付", Redirect: "/orders/" + req.OutTradeNo})
		return
	}
	// A real shop also checks that the order belongs to the signed-in user.
	req.Password = sub.PIN
	res, err := s.pay.Pay(r.Context(), req)
	if err != nil {
		// A wrong PIN lets the user type again; an unknown outcome is
		// settled by a query (payment.Service.Resolve), never by a new order.
		s.log.Info("shop: payment refused", "out_trade_no", req.OutTradeNo, "err", err)
		pinpad.Reply(w, pinpad.Failure(err))
		return
	}
	s.mu.Lock()
	o.paid = res.Status == wallet.StatusSuccess
	s.mu.Unlock()
	s.log.Info("shop: paid", "order", res)
	pinpad.Reply(w, pinpad.Result{OK: true, Message: "支付成功", Redirect: "/orders/" + req.OutTradeNo})
}

var orderPage = template.Must(template.New("order").Parse(`<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>订单 {{.OutTradeNo}}</title></head>
<body><h1>订单 {{.OutTradeNo}}</h1><p>{{.Subject}}：¥{{.Yuan}}</p><p id="status">{{.Status}}</p><p><a href="/">再下一单</a></p></body></html>
`))

// showOrder asks the bank for the order, as a shop confirms a payment.
func (s *shop) showOrder(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	if _, ok := s.order(no); !ok {
		http.NotFound(w, r)
		return
	}
	o, err := s.pay.Query(r.Context(), no)
	if err != nil {
		http.Error(w, "查询失败", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = orderPage.Execute(w, struct {
		*payment.Order
		Yuan string
	}{o, fmt.Sprintf("%d.%02d", o.Amount/100, o.Amount%100)})
}

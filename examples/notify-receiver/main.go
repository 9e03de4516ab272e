// Command notify-receiver is the merchant's notify URL: an HTTP server that
// verifies the bank's notifications, de-duplicates them on notify_id, and
// answers the bank so that it stops (or keeps) retrying.
//
//	go run ./examples/notify-receiver                 # demo: embedded sandbox, a few events, then exit
//	go run ./examples/notify-receiver -serve -addr 127.0.0.1:9090 -base-url http://127.0.0.1:8360
//
// With -serve it registers itself with the sandbox and runs until
// interrupted. The demo shows a failed handling being redelivered and a
// duplicate delivery being ignored.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/xinyun-open/ewallet-go/examples/internal/connect"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() { connect.Main("notify-receiver", run) }

// orders is the merchant's order book, updated by notifications. A real one
// is a database table, and the de-duplication a unique key on notify_id
// (see notify.Deduper).
type orders struct {
	mu       sync.Mutex
	out      io.Writer
	paid     map[string]int64
	handled  int
	failOnce bool
}

// handle is the merchant's business logic for one verified notification.
func (o *orders) handle(_ context.Context, n *notify.Event) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.failOnce {
		o.failOnce = false
		fmt.Fprintf(o.out, "  %s %s: the database is busy, so answer FAIL — the bank will deliver it again\n", n.NotifyID, n.Type)
		return errors.New("database busy")
	}
	o.handled++
	switch {
	case n.Type.IsOrder():
		ord, err := n.Order()
		if err != nil {
			return err
		}
		o.paid[ord.OutTradeNo] = ord.Amount
		fmt.Fprintf(o.out, "  %s %s: order %s %s ¥%d.%02d\n", n.NotifyID, n.Type, ord.OutTradeNo, ord.Status, ord.Amount/100, ord.Amount%100)
	case n.Type.IsAccount():
		a, err := n.Account()
		if err != nil {
			return err
		}
		fmt.Fprintf(o.out, "  %s %s: account %s %s\n", n.NotifyID, n.Type, a.AccountNo, a.Status)
	default:
		fmt.Fprintf(o.out, "  %s %s\n", n.NotifyID, n.Type)
	}
	return nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var serve bool
	var addr string
	env, err := connect.Setup(ctx, "notify-receiver", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&serve, "serve", false, "keep serving until interrupted")
		fs.StringVar(&addr, "addr", "127.0.0.1:0", "listen address of the notify URL")
	})
	if err != nil {
		return err
	}
	defer env.Close()
	c := env.Client

	book := &orders{out: out, paid: map[string]int64{}, failOnce: !serve}
	// Every delivery's raw body is kept, to replay one below.
	var mu sync.Mutex
	var bodies [][]byte
	handler := c.NotificationHandler(book.handle)
	mux := http.NewServeMux()
	mux.HandleFunc("/notify", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		mu.Lock()
		bodies = append(bodies, b)
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		handler.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	notifyURL := "http://" + ln.Addr().String() + "/notify"
	if err := env.SetNotifyURL(ctx, notifyURL); err != nil {
		return err
	}
	fmt.Fprintf(out, "notify URL %s registered with the sandbox at %s\n", notifyURL, env.BaseURL)

	if serve {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		<-sig
		return nil
	}

	// Demo: a few events.
	a, err := wallettest.Open(ctx, c, wallettest.Person()) // the journey itself: examples/open-account
	if err != nil {
		return err
	}
	rc, err := payment.New(c).Recharge(ctx, payment.RechargeRequest{AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 88_00})
	if err != nil {
		return err
	}
	waitFor(func() bool {
		book.mu.Lock()
		defer book.mu.Unlock()
		_, ok := book.paid[rc.OutTradeNo]
		return ok && book.handled >= 2
	})

	// A duplicate delivery (the bank may send one notify_id more than once)
	// is answered SUCCESS without running the business logic again.
	mu.Lock()
	last := bodies[len(bodies)-1]
	mu.Unlock()
	resp, err := http.Post(notifyURL, "application/json", bytes.NewReader(last))
	if err != nil {
		return err
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	book.mu.Lock()
	defer book.mu.Unlock()
	fmt.Fprintf(out, "a duplicate delivery was answered %d %s and handled %d times in all\n", resp.StatusCode, bytes.TrimSpace(reply), book.handled)
	return nil
}

func waitFor(cond func() bool) {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !cond(); {
		time.Sleep(20 * time.Millisecond)
	}
}

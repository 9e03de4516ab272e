// Command quickstart walks the whole merchant journey against a sandbox
// bank: find out that a user has no wallet, open an e-account with the
// four-factor check, SMS code, face photo and PIN, then recharge, pay,
// refund, transfer to a second user, withdraw, read the limits, build a
// signed H5 link, and receive the bank's notifications.
//
//	go run ./examples/quickstart                                 # a sandbox embedded in the program
//	go run ./examples/sandbox &                                  # or a standalone one, shared by several programs:
//	go run ./examples/quickstart -base-url http://127.0.0.1:8360
//
// It registers a merchant of its own with the sandbox (a fresh TEST key
// made in the process, a unique app id, its own notify URL), so it never
// changes the sandbox's built-in test merchant. -v logs every call to
// stderr (never personal data or keys).
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
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// The notifications the journey causes.
var expected = []notify.Type{
	notify.AccountOpened, notify.AccountOpened, notify.RechargeSucceeded,
	notify.PaymentSucceeded, notify.RefundSucceeded, notify.TransferSucceeded,
	notify.WithdrawSucceeded,
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	verbose := fs.Bool("v", false, "log every call to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// The merchant's side: a notify URL, and a return URL for the H5 page.
	// Listening first gives the URL to register; serving starts once the
	// client that verifies notifications exists.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	merchantURL := "http://" + ln.Addr().String()
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("quickstart"), wallettest.WithNotifyURL(merchantURL+"/notify"))
	if err != nil {
		ln.Close()
		return err
	}
	defer sb.Close()
	c, err := wallet.NewClient(sb.Config, wallet.WithLogger(logger(*verbose)))
	if err != nil {
		ln.Close()
		return err
	}
	inbox := &inbox{}
	notifications, err := notify.NewHandler(c, inbox.add)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /notify", notifications)
	mux.HandleFunc("GET /return", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "back at the merchant") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	where := "a standalone sandbox"
	if sb.Embedded() {
		where = "the embedded sandbox bank"
	}
	fmt.Fprintf(out, "ewallet-go quickstart against %s at %s, as app %s\n\n", where, sb.URL, c.AppID())

	s := &steps{out: out}
	accounts := account.New(c)
	pay := payment.New(c)
	alice, bob := wallettest.Person(), wallettest.Person()

	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: alice.IDNumber, Mobile: alice.Mobile, UserID: alice.UserID})
	if err != nil {
		return err
	}
	s.say("wallet/query", "%s (%s): opened=%v — no e-account yet, so offer to open one", alice.Name, alice.IDNumber, w.Opened)

	acct, err := open(ctx, s, c, accounts, alice)
	if err != nil {
		return err
	}
	w, err = c.Query(ctx, wallet.QueryRequest{IDNumber: alice.IDNumber, Mobile: alice.Mobile, UserID: alice.UserID})
	if err != nil {
		return err
	}
	s.say("wallet/query", "opened=%v: account %s, %s, balance %s", w.Opened, w.Account.AccountNo, w.Account.Status, yuan(w.Account.Balance))

	r, err := pay.Recharge(ctx, payment.RechargeRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 200_00})
	if err != nil {
		return err
	}
	s.say("payment/recharge", "%s from the bound card: order %s %s", yuan(r.Amount), r.OutTradeNo, r.Status)

	// In production the user's device encrypts the PIN (c.PINKey says to
	// which key) and the merchant never sees it; a sandbox demo encrypts
	// the test PIN here.
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return err
	}
	order, err := pay.Pay(ctx, payment.PayRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 99_00, Subject: "会员年卡", Password: pin})
	if err != nil {
		return err
	}
	s.say("payment/pay", "%s for %q: order %s %s (bank trade %s)", yuan(order.Amount), order.Subject, order.OutTradeNo, order.Status, order.TradeNo)

	ref, err := pay.Refund(ctx, payment.RefundRequest{OutTradeNo: order.OutTradeNo, OutRefundNo: payment.NewOutRefundNo(), Amount: 19_00, Reason: "限时优惠差价"})
	if err != nil {
		return err
	}
	s.say("payment/refund", "%s of %s back to the account: refund %s %s", yuan(ref.Amount), order.OutTradeNo, ref.OutRefundNo, ref.Status)

	bobAcct, err := open(ctx, s, c, accounts, bob)
	if err != nil {
		return err
	}
	tr, err := pay.Transfer(ctx, payment.TransferRequest{AccountNo: acct, PayeeAccountNo: bobAcct, PayeeName: bob.Name,
		OutTradeNo: payment.NewOutTradeNo(), Amount: 30_00, Password: pin, Remark: "午饭"})
	if err != nil {
		return err
	}
	s.say("payment/transfer", "%s to %s (%s): order %s %s", yuan(tr.Amount), bob.Name, bobAcct, tr.OutTradeNo, tr.Status)

	wd, err := pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: acct, OutTradeNo: payment.NewOutTradeNo(), Amount: 50_00, Password: pin})
	if err != nil {
		return err
	}
	s.say("payment/withdraw", "%s to the bound card: order %s %s", yuan(wd.Amount), wd.OutTradeNo, wd.Status)

	a, err := accounts.Query(ctx, acct)
	if err != nil {
		return err
	}
	l := a.Limits
	s.say("account/query", "balance %s; today: out %s of %s, in %s; this year: out %s of %s",
		yuan(a.Balance), yuan(l.DailyOutUsed), yuan(l.DailyLimit), yuan(l.DailyInUsed), yuan(l.YearlyOutUsed), yuan(l.YearlyLimit))

	// Unknown outcomes: the one rule a payment integration must get right
	// (examples/pay-and-refund shows it whole).
	_, err = pay.Query(ctx, payment.NewOutTradeNo())
	s.say("payment/query", "an order the bank never saw: %v (so the same request may be sent again)", errors.Is(err, wallet.ErrOrderNotFound))

	link, err := h5.New(c).URL(ctx, h5.WalletPage{Common: h5.Common{UserID: alice.UserID, ReturnURL: merchantURL + "/return"}, AccountNo: acct})
	if err != nil {
		return err
	}
	s.say("h5 link", "我的钱包, signed, valid 10 minutes and once:\n%s", link)

	got := inbox.wait(len(expected), 10*time.Second)
	s.say("notifications", "%d received, verified and de-duplicated by notify.Handler: %s", len(got), strings.Join(got, ", "))
	if missing := missing(expected, got); len(missing) > 0 {
		return fmt.Errorf("notifications not received: %s", strings.Join(missing, ", "))
	}
	fmt.Fprintln(out, "\ndone: every call signed, encrypted and verified; nothing personal in clear.")
	return nil
}

// open walks the account-opening journey: four factors, SMS, face and PIN.
func open(ctx context.Context, s *steps, c *wallet.Client, accounts *account.Service, p wallettest.TestPerson) (string, error) {
	v, err := accounts.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile})
	if err != nil {
		return "", err
	}
	s.say("account/verify", "%s %s %s %s: four factors match (%s, %s card)", p.Name, p.IDNumber, p.CardNo, p.Mobile, v.BankName, v.CardType)
	sms, err := accounts.SendSMS(ctx, account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen})
	if err != nil {
		return "", err
	}
	s.say("account/sms/send", "code sent to %s, valid %v (the sandbox's code is always 123456)", p.Mobile, sms.ExpiresIn)
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	if err != nil {
		return "", err
	}
	a, err := accounts.OpenAccount(ctx, account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber,
		CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: wallettest.Face(), Password: pin})
	if err != nil {
		return "", err
	}
	s.say("account/open", "account %s opened for %s, card %s (%s) bound", a.AccountNo, a.NameMasked, a.BoundCard.CardNoMasked, a.BoundCard.BankName)
	return a.AccountNo, nil
}

// logger logs warnings (every call with -v) to stderr. The SDK never logs
// personal data, bodies or keys.
func logger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

type steps struct {
	out io.Writer
	n   int
}

func (s *steps) say(api, format string, a ...any) {
	s.n++
	fmt.Fprintf(s.out, "%2d. %-17s %s\n", s.n, api, fmt.Sprintf(format, a...))
}

func yuan(fen int64) string { return fmt.Sprintf("¥%d.%02d", fen/100, fen%100) }

// inbox is the merchant's business logic for notifications: here it only
// collects their types. It runs once per event; a real one records the
// order's state in the merchant's database.
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
	deadline := time.Now().Add(d)
	for {
		b.mu.Lock()
		got := append([]string(nil), b.types...)
		b.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			sort.Strings(got)
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func missing(want []notify.Type, got []string) []string {
	count := map[string]int{}
	for _, g := range got {
		count[g]++
	}
	var out []string
	for _, w := range want {
		if count[string(w)] == 0 {
			out = append(out, string(w))
			continue
		}
		count[string(w)]--
	}
	return out
}

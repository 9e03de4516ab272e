package browser

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The merchant demo app (examples/merchant-app), as a user walks it in
// headless Chromium on a 375 px phone screen, against a sandbox bank of the
// test's own: sign in → 我的钱包 → open an account on the bank's page → back
// in the app → recharge → buy on the bank's pay page → buy with the PIN pad
// → transfer → refund (from the admin page, seen live on the user's order
// page) → withdraw → close, and the admin page moving the bank's clock to
// fetch the day's statement and reconcile it.
// After each return and notification the test reads the app's pages and
// the bank's books through the SDK, as the app's own merchant (it gives
// the app its key). The app's pages are photographed as
// docs/screenshots/merchant-*.png (UPDATE_SCREENSHOTS=1).
//
// The app is built from this checkout (with -race when the test is) and run
// as its own process, as a merchant runs it.
func TestBrowserMerchantApp(t *testing.T) {
	exe := chromium(t)
	bin := buildMerchantApp(t)
	ctx := context.Background()
	sb := wallettest.NewServer(t)
	// Mid-morning, so that the journey does not cross midnight: its orders
	// are on one day's statement.
	sb.AdvanceClockTo(10, 0)
	app := runMerchantApp(t, bin, sb)
	client, err := wallet.NewClient(wallet.Config{BaseURL: sb.URL, AppID: app.appID, MerchantID: app.merchantID,
		PrivateKey: app.key, BankKeys: sb.Config().BankKeys})
	require.NoError(t, err)
	accounts, pay := account.New(client), payment.New(client)
	start := time.Now()

	tab := newTab(t, exe)
	tab.offline()

	// Sign in as the first test user.
	tab.open(app.url+"/", http.StatusOK)
	users := eval[[]string](tab, `[...document.querySelectorAll('button[data-user]')].map(b => b.dataset.user)`)
	require.Len(t, users, 3)
	alice, payee := users[0], users[2] // the last one has an account from the start
	tab.shoot("merchant-signin")
	tab.press(`button[data-user="` + alice + `"]`)
	name := tab.text("#who")
	require.NotEmpty(t, name)
	tab.shoot("merchant-home")

	// 我的钱包: the bank says there is no account; the app offers its page.
	tab.press("#to-wallet")
	require.Contains(t, tab.text("#no-account"), "您还没有电子账户")
	tab.shoot("merchant-wallet-none")

	// 开户 on the bank's page, prefilled from the app's encrypted data.
	tab.press("#open")
	require.Equal(t, name, tab.value("name"), "the bank's page prefilled from the link")
	tab.press(`button[value="sms"]`)
	tab.press(`button[value="testface"]`)
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.typeIn("pin2", wallettest.TestPIN)
	tab.press(`.actions button[value="submit"]`)
	// Back in the app: verified, and confirmed by wallet/query.
	tab.requireResult("open", "SUCCESS", "NORMAL")
	tab.shoot("merchant-return-open")
	tab.press("#next")
	acct := tab.attr("#account", "data-account")
	a, err := accounts.Query(ctx, acct)
	require.NoError(t, err)
	require.Equal(t, wallet.AccountNormal, a.Status)
	require.Equal(t, alice, a.UserID)
	app.waitDelivered(t, sb, "ACCOUNT_OPENED", 1)

	// 充值 ¥200: the amount set in the app, fixed on the bank's page.
	tab.typeIn("recharge-amount", "200")
	tab.press("#recharge")
	require.Equal(t, "200.00", tab.value("amount"))
	tab.press(`.actions button[value="submit"]`)
	recharge := tab.requireOrderResult("recharge")
	requireBankOrder(t, pay, recharge, wallet.OrderRecharge, 200_00, 0)
	tab.open(app.url+"/wallet", http.StatusOK)
	require.Equal(t, "200.00", tab.text("#balance"))
	require.Equal(t, "200.00", tab.value("withdraw-amount"), "the withdrawal form offers the whole balance")
	tab.shoot("merchant-wallet")

	// Buy on the bank's pay page.
	tab.open(app.url+"/shop", http.StatusOK)
	require.Contains(t, tab.text("#shop-balance"), "200.00")
	tab.shoot("merchant-shop")
	tab.press(`[data-item="vip"] button[data-buy="bank"]`)
	require.Contains(t, tab.text(".order"), "30.00")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.press(`.actions button[value="submit"]`)
	vip := tab.requireOrderResult("pay")
	tab.shoot("merchant-return-pay")
	requireBankOrder(t, pay, vip, wallet.OrderPay, 30_00, 0)

	// Buy with the PIN pad, which encrypts the PIN in the page.
	tab.open(app.url+"/shop", http.StatusOK)
	tab.press(`[data-item="coffee"] button[data-buy="pinpad"]`)
	tab.waitFor(`document.getElementById('pinpad').dataset.state === 'ready'`)
	coffee := tab.attr("#pinpad", "data-ref")
	require.Contains(t, tab.text(".amount"), "18.80")
	tab.shoot("merchant-pinpad")
	tab.pinPad(wallettest.TestPIN)
	tab.waitPath("/orders/" + coffee)
	tab.waitOrder(coffee, "SUCCESS")
	require.Contains(t, tab.text(`[data-order] [data-field="status"]`), "支付成功")
	tab.shoot("merchant-order")
	requireBankOrder(t, pay, coffee, wallet.OrderPay, 18_80, 0)

	// Transfer ¥20 to the user who had an account, with the pad.
	tab.open(app.url+"/transfer", http.StatusOK)
	require.Equal(t, 1, eval[int](tab, `document.querySelectorAll('input[data-payee]').length`), "the only other user with an account")
	require.Equal(t, payee, tab.attr("input[data-payee]", "data-payee"))
	tab.typeIn("transfer-amount", "20")
	tab.typeIn("transfer-remark", "午饭")
	tab.shoot("merchant-transfer")
	tab.press("#transfer")
	tab.waitFor(`document.getElementById('pinpad').dataset.state === 'ready'`)
	transfer := tab.attr("#pinpad", "data-ref")
	require.Contains(t, tab.text(".subject"), "转账给")
	tab.pinPad(wallettest.TestPIN)
	tab.waitPath("/orders/" + transfer)
	tab.waitOrder(transfer, "SUCCESS")
	o := requireBankOrder(t, pay, transfer, wallet.OrderTransfer, 20_00, 0)
	p, err := accounts.Query(ctx, o.PayeeAccountNo)
	require.NoError(t, err)
	require.Equal(t, int64(20_00), p.Balance, "the payee got it")
	require.Equal(t, payee, p.UserID)

	// A refund of ¥10 from the admin page, in a second tab, while the
	// user's order page is open in the first: the order shows it without a
	// reload, from the bank's notification.
	tab.open(app.url+"/orders/"+vip, http.StatusOK)
	tab.waitFor(`document.body.dataset.listening === '1'`)
	eval[bool](tab, `(window.stillThisPage = true)`)
	admin := tab.newTab()
	admin.open(app.url+"/admin", http.StatusOK)
	admin.waitFor(`document.body.dataset.listening === '1'`)
	require.NoError(t, chromedp.Do(admin.ctx, chromedp.SetValue(chromedp.CSS(`[data-refund-amount="`+vip+`"]`), "10")))
	admin.press(`button[data-refund="` + vip + `"]`)
	require.Equal(t, "SUCCESS", admin.attr("#refund-result", "data-status"))
	tab.waitFor(`document.querySelector('[data-order] [data-field="refunded"]').textContent === '¥10.00' && window.stillThisPage === true`)
	o = requireBankOrder(t, pay, vip, wallet.OrderPay, 30_00, 10_00)
	app.waitDelivered(t, sb, "REFUND_SUCCEEDED", 1)

	// 提现 everything: 200 - 30 - 18.80 - 20 + 10 = 141.20.
	tab.open(app.url+"/wallet", http.StatusOK)
	require.Equal(t, "141.20", tab.text("#balance"))
	tab.press("#withdraw")
	require.Equal(t, "141.20", tab.value("amount"))
	tab.typeIn("pin", wallettest.TestPIN)
	tab.press(`.actions button[value="submit"]`)
	withdraw := tab.requireOrderResult("withdraw")
	requireBankOrder(t, pay, withdraw, wallet.OrderWithdraw, 141_20, 0)

	// 销户 on the bank's page; the app confirms it with account/query.
	tab.open(app.url+"/wallet", http.StatusOK)
	require.Equal(t, "0.00", tab.text("#balance"))
	tab.press("#close")
	tab.press(`button[value="sms"]`)
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.press(`.actions button[value="submit"]`)
	tab.requireResult("close", "SUCCESS", "CLOSED")
	tab.shoot("merchant-return-close")
	a, err = accounts.Query(ctx, acct)
	require.NoError(t, err)
	require.Equal(t, wallet.AccountClosed, a.Status)
	app.waitDelivered(t, sb, "ACCOUNT_CLOSED", 1)
	tab.press("#next")
	require.Contains(t, tab.text("#no-account"), "您还没有电子账户", "a closed account is none: the user may open again")

	// The bank's books, movement by movement.
	var ledger []string
	for _, e := range sb.Ledger(acct) {
		ledger = append(ledger, fmt.Sprintf("%s %d %s", e.Type, e.Amount, e.OutTradeNo))
	}
	require.Equal(t, []string{"RECHARGE 20000 " + recharge, "PAY -3000 " + vip, "PAY -1880 " + coffee,
		"TRANSFER_OUT -2000 " + transfer, "REFUND 1000 " + vip, "WITHDRAW -14120 " + withdraw}, ledger)

	// The admin page: every order and notification; the clock moves a day,
	// and the day's statement reconciles with the app's books.
	admin.open(app.url+"/admin", http.StatusOK)
	for _, no := range []string{recharge, vip, coffee, transfer, withdraw} {
		require.Equal(t, "true", admin.attr(`[data-order="`+no+`"]`, "data-notified"), no)
	}
	require.GreaterOrEqual(t, eval[int](admin, `document.querySelectorAll('#notices [data-notice]').length`), 9)
	before := sb.BusinessNow()
	admin.press("#clock-day")
	require.WithinDuration(t, before.Add(24*time.Hour), sb.BusinessNow(), time.Minute)
	require.Equal(t, sb.BusinessNow().In(time.FixedZone("", 8*3600)).Format(time.DateTime)[:13], admin.text("#business-now")[:13])
	admin.shoot("merchant-admin")
	day := before.In(time.FixedZone("", 8*3600)).Format(time.DateOnly)
	require.Equal(t, day, admin.value("statement-date"), "the statement of the day that just ended")
	admin.press("#statement")
	require.Equal(t, "true", admin.attr("#reconcile", "data-clean"))
	require.Equal(t, "true", admin.attr("#reconcile", "data-complete"))
	require.Equal(t, "6", admin.attr("#reconcile", "data-matched"), "recharge, 2 payments, transfer, refund, withdrawal")
	require.Equal(t, "6", admin.attr("#reconcile", "data-bank"))
	require.Equal(t, "6", admin.attr("#reconcile", "data-books"))
	for _, no := range []string{recharge, vip, coffee, transfer, withdraw} {
		require.Equal(t, 1, eval[int](admin, fmt.Sprintf(`document.querySelectorAll('[data-line=%q]').length`, no)), no)
	}
	admin.shoot("merchant-statement")

	// Every notification of the app's merchant went to the app and was
	// answered SUCCESS, once each.
	var types []string
	for _, d := range sb.Deliveries() {
		if d.MerchantID == app.merchantID {
			require.True(t, d.Delivered(), "%s %s", d.NotifyType, d.NotifyID)
			require.Equal(t, app.url+"/notify", d.URL)
			types = append(types, d.NotifyType)
		}
	}
	require.Equal(t, []string{"ACCOUNT_OPENED", "ACCOUNT_OPENED", "RECHARGE_SUCCEEDED", "PAYMENT_SUCCEEDED", "PAYMENT_SUCCEEDED",
		"TRANSFER_SUCCEEDED", "REFUND_SUCCEEDED", "WITHDRAW_SUCCEEDED", "ACCOUNT_CLOSED"}, types)

	// The pages asked only the app and the bank, and reported nothing
	// (a CSP violation would be a problem); the app's log never held the
	// PIN.
	tab.onlyOrigins(app.url, origin(t, sb.URL))
	_, problems := tab.seen()
	bankFavicon := origin(t, sb.URL) + "/favicon.ico)"
	for _, p := range problems {
		// The sandbox's pages have no icon, and Chromium asks for one: that
		// 404 is the bank's, not the app's.
		if !strings.HasSuffix(p, bankFavicon) {
			t.Errorf("the pages reported: %s", p)
		}
	}
	require.Empty(t, leaks(app.logs.String(), wallettest.TestPIN), "the app logged the PIN")
	require.Contains(t, app.logs.String(), "merchant-app: money call")
	t.Logf("the merchant app's journey took %v in the browser; screenshots in %s", time.Since(start).Round(time.Millisecond), tab.shots)
}

// merchantApp is the app running as a process.
type merchantApp struct {
	url        string
	appID      string
	merchantID string
	key        *sign.PrivateKey // TEST key, given to the app
	logs       *wallettest.Logs // its stderr
}

// buildMerchantApp builds examples/merchant-app of this checkout (the
// module's replace points at it), with -race when this test runs with it.
func buildMerchantApp(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("EWALLET_REQUIRE_BROWSER") != "" {
			t.Fatal("EWALLET_REQUIRE_BROWSER is set but no go command is on PATH to build the app")
		}
		t.Skip("no go command to build examples/merchant-app")
	}
	bin := filepath.Join(t.TempDir(), "merchant-app")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command(goBin, append(args, "github.com/xinyun-open/ewallet-go/examples/merchant-app")...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "building the app:\n%s", out)
	return bin
}

var (
	appURLLine  = regexp.MustCompile(`^merchant-app: (http://127\.0\.0\.1:\d+)/$`)
	appBankLine = regexp.MustCompile(`^bank: .* app_id (\S+), merchant_id (\S+)$`)
)

// runMerchantApp starts the app against the sandbox with a TEST key the
// test keeps, and reads where it listens and who it is from its output.
// It is stopped (SIGINT, then killed) when the test ends.
func runMerchantApp(t *testing.T, bin string, sb *wallettest.Server) *merchantApp {
	t.Helper()
	key, err := sign.GenerateKey()
	require.NoError(t, err)
	pem, err := key.MarshalPEM()
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "merchant-key.pem")
	require.NoError(t, os.WriteFile(keyFile, pem, 0o600))

	app := &merchantApp{key: key, logs: &wallettest.Logs{}}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-base-url", sb.URL, "-merchant-key", keyFile, "-v")
	cmd.Stderr = app.logs
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the app ended with %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Error("the app did not stop on SIGINT")
		}
		if t.Failed() {
			t.Logf("the app's log:\n%s", app.logs.String())
		}
	})

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(30 * time.Second)
	for app.url == "" || app.appID == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the app ended before it said where it listens:\n%s", app.logs.String())
			if m := appURLLine.FindStringSubmatch(line); m != nil {
				app.url = m[1]
			}
			if m := appBankLine.FindStringSubmatch(line); m != nil {
				app.appID, app.merchantID = m[1], m[2]
			}
		case <-deadline:
			t.Fatalf("the app did not start:\n%s", app.logs.String())
		}
	}
	go func() {
		for range lines { // the rest of its output
		}
	}()
	return app
}

// waitDelivered waits until the bank has delivered n notifications of a
// type to the app, each answered SUCCESS.
func (m *merchantApp) waitDelivered(t *testing.T, sb *wallettest.Server, typ string, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := 0
		for _, d := range sb.Deliveries() {
			if d.MerchantID == m.merchantID && d.NotifyType == typ && d.Delivered() {
				got++
			}
		}
		return got >= n
	}, 10*time.Second, 20*time.Millisecond, "%d %s delivered to the app", n, typ)
}

// requireBankOrder reads an order from the bank's books, as the app's
// merchant, and checks it.
func requireBankOrder(t *testing.T, pay *payment.Service, no string, typ wallet.OrderType, amount, refunded int64) *wallet.Order {
	t.Helper()
	o, err := pay.Query(context.Background(), no)
	require.NoError(t, err, no)
	require.Equal(t, wallet.StatusSuccess, o.Status, no)
	require.Equal(t, typ, o.Type, no)
	require.Equal(t, amount, o.Amount, no)
	require.Equal(t, refunded, o.RefundedAmount, no)
	return o
}

// newTab opens a second tab in the same browser (its cookies too), on the
// same phone screen.
func (b *tab) newTab() *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	require.NoError(b.t, chromedp.Do(ctx, chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulateTouch)))
	return &tab{t: b.t, ctx: ctx, shots: b.shots}
}

// requireResult checks the app's page after a return from the bank: which
// page came back, with what result, and what the app's query of the bank
// confirmed.
func (b *tab) requireResult(page, result, confirmed string) {
	b.t.Helper()
	b.waitPath("/return")
	require.Equal(b.t, page, b.attr("#result", "data-page"))
	require.Equal(b.t, result, b.attr("#result", "data-result"))
	require.Equal(b.t, confirmed, b.attr("#result", "data-confirmed"))
}

// requireOrderResult checks a successful return of an order page and waits
// until the order shows the bank's notification; it returns the order's
// number.
func (b *tab) requireOrderResult(page string) string {
	b.t.Helper()
	b.requireResult(page, "SUCCESS", "SUCCESS")
	no := b.attr("[data-order]", "data-order")
	b.waitOrder(no, "SUCCESS")
	return no
}

// waitOrder waits until the page shows the order in a status, with the
// bank's notification received.
func (b *tab) waitOrder(no, status string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf(`(() => { const o = document.querySelector('[data-order=%q]');
		return o !== null && o.dataset.status === %q && o.dataset.notified === 'true'; })()`, no, status))
	require.True(b.t, strings.HasPrefix(b.text(fmt.Sprintf(`[data-order=%q] [data-field="notified"]`, no)), "已收到"))
}

// pinPad types a PIN on the pad's buttons.
func (b *tab) pinPad(pin string) {
	b.t.Helper()
	for _, d := range pin {
		b.click(fmt.Sprintf(`button[data-digit="%c"]`, d))
	}
}

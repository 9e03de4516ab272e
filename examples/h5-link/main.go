// Command h5-link builds signed links to the bank-hosted H5 pages — the
// ones a merchant's app opens in a webview — and verifies the bank's return
// redirect.
//
//	go run ./examples/h5-link                                 # a sandbox embedded in the program
//	go run ./examples/h5-link -base-url http://127.0.0.1:8360 # a standalone one (go run ./examples/sandbox)
//
// Build a fresh link every time a user opens a page: the bank takes each
// link once and for 10 minutes. The return redirect passes through the
// user's browser, so it is only a hint: confirm with a query or the
// notification before acting on it. The program registers a merchant of
// its own with the sandbox (a fresh TEST key, a unique app id).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"time"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "h5-link:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("h5-link", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	returnURL := fs.String("return-url", "https://merchant.example/wallet/back", "where the pages send the user back")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("h5-link"))
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(out, "on the sandbox at %s as app %s\n", sb.URL, sb.Config.AppID)
	c, err := wallet.NewClient(sb.Config)
	if err != nil {
		return err
	}
	b := h5.New(c)

	p := wallettest.Person()
	a, err := wallettest.Open(ctx, c, p) // the journey itself: examples/open-account
	if err != nil {
		return err
	}
	common := h5.Common{UserID: p.UserID, ReturnURL: *returnURL}
	pages := []struct {
		title string
		page  h5.Page
	}{
		// The open page is for users without an account; its prefill is
		// encrypted into the link's data field.
		{"开户 open", h5.OpenPage{Common: common, Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo}},
		{"我的钱包 wallet", h5.WalletPage{Common: common, AccountNo: a.AccountNo}},
		{"充值 recharge", h5.RechargePage{Common: common, AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 100_00}},
		{"提现 withdraw", h5.WithdrawPage{Common: common, AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo()}},
		{"支付 pay", h5.PayPage{Common: common, AccountNo: a.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 9_90, Subject: "会员月卡"}},
		{"换卡 card", h5.CardPage{Common: common, AccountNo: a.AccountNo}},
		{"交易密码重置 password", h5.PasswordPage{Common: common, AccountNo: a.AccountNo}},
		{"销户 close", h5.ClosePage{Common: common, AccountNo: a.AccountNo}},
	}
	var walletLink string
	for _, pg := range pages {
		link, err := b.URL(ctx, pg.page)
		if err != nil {
			return err
		}
		if _, ok := pg.page.(h5.WalletPage); ok {
			walletLink = link
		}
		fmt.Fprintf(out, "%s\n  %s\n", pg.title, link)
	}

	// The sandbox serves the pages: the link verifies, once. A browser
	// (here a client with a cookie jar) follows it into the page's session.
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: 10 * time.Second, Jar: jar}
	for i := range 2 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, walletLink, nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		fmt.Fprintf(out, "opening the wallet link (%d): HTTP %d\n", i+1, resp.StatusCode)
	}

	// Bad input is refused before anything is signed.
	_, err = b.URL(ctx, h5.WalletPage{Common: h5.Common{UserID: p.UserID, ReturnURL: "http://merchant.example/back"}, AccountNo: a.AccountNo})
	fmt.Fprintf(out, "a plain-http return_url: %v\n", err)

	// What the merchant's return handler does with the bank's redirect.
	back, err := url.Parse(*returnURL + "?page=pay&result=SUCCESS&out_trade_no=T1&timestamp=2026-11-25+16%3A00%3A00&sign_key_id=bank-2026-01&sign_type=SM2&sign=forged")
	if err != nil {
		return err
	}
	_, err = b.VerifyReturn(back)
	fmt.Fprintf(out, "a forged return redirect: %v\n", err)
	return nil
}

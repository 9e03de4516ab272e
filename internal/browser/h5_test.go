package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The bank-hosted pages, clicked through in headless Chromium on a 375 px
// phone screen: links from the SDK's Builder, forms filled as a user would,
// returns verified with VerifyReturn, notifications seen by the merchant's
// receiver. Every page is photographed; UPDATE_SCREENSHOTS=1 copies the
// pictures into docs/screenshots.
//
// Needs Chromium (Debian: apt-get install chromium fonts-wqy-microhei; the
// CJK font keeps Chinese from rendering as boxes). Without it the test
// skips, unless EWALLET_REQUIRE_BROWSER is set.

// returns is the merchant's return_url: it records every redirect that
// lands on it and shows a plain page.
type returns struct {
	srv  *httptest.Server
	mu   sync.Mutex
	urls []*url.URL
}

func newReturns(t *testing.T) *returns {
	r := &returns{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/back" {
			// The browser asks for /favicon.ico after the page, at a time
			// of its choosing: it is no return, and must not look like one.
			http.NotFound(w, req)
			return
		}
		r.mu.Lock()
		u := *req.URL
		r.urls = append(r.urls, &u)
		r.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!DOCTYPE html><title>merchant</title><h1 id="returned">returned</h1>`))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// url is a return_url with a parameter of the merchant's own, which must
// come back untouched.
func (r *returns) url(flow string) string { return r.srv.URL + "/back?flow=" + flow }

func (r *returns) last(t *testing.T) *url.URL {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.NotEmpty(t, r.urls, "nothing came back to the merchant")
	return r.urls[len(r.urls)-1]
}

// returned verifies the redirect the merchant just got, as a merchant
// must, and that its own parameter came back.
func returned(t *testing.T, b *h5.Builder, r *returns, flow string) *h5.Return {
	t.Helper()
	u := r.last(t)
	require.Equal(t, flow, u.Query().Get("flow"), "the merchant's own parameter")
	ret, err := b.VerifyReturn(u)
	require.NoError(t, err)
	return ret
}

func TestBrowserH5Pages(t *testing.T) {
	exe := chromium(t)
	start := time.Now()
	sb := wallettest.NewServer(t)
	client := sb.Client()
	b := h5.New(client)
	back := newReturns(t)
	tab := newTab(t, exe)
	ctx := context.Background()
	p := wallettest.Person()
	common := func(flow string) h5.Common { return h5.Common{UserID: p.UserID, ReturnURL: back.url(flow)} }
	link := func(page h5.Page) string {
		t.Helper()
		l, err := b.URL(ctx, page)
		require.NoError(t, err)
		return l
	}

	// 开户, prefilled from the encrypted data of the link.
	openLink := link(h5.OpenPage{Common: common("open"), Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo})
	tab.open(openLink, http.StatusOK)
	require.Equal(t, string(p.Name), tab.value("name"))
	require.Equal(t, string(p.IDNumber), tab.value("id_number"))
	require.Equal(t, string(p.Mobile), tab.value("mobile"))
	require.Equal(t, string(p.CardNo), tab.value("card_no"))
	tab.press(`button[value="sms"]`)
	require.Contains(t, tab.text(".alert.info"), "验证码已发送")
	tab.press(`button[value="testface"]`)
	require.Contains(t, tab.text(".face-ok"), "已采集人脸照片")
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.typeIn("pin2", wallettest.TestPIN)
	tab.shoot("open")
	tab.press(`.actions button[value="submit"]`)
	r := returned(t, b, back, "open")
	require.Equal(t, "open", r.Page)
	require.Equal(t, h5.ResultSuccess, r.Result)
	acct := r.AccountNo
	require.NotEmpty(t, acct)
	sb.WaitNotification(func(n *notify.Event) bool {
		a, err := n.Account()
		return n.Type == notify.AccountOpened && err == nil && a.AccountNo == acct
	})

	// A reused link and a tampered one get the error page, never the flow.
	tab.open(openLink, http.StatusForbidden)
	require.Equal(t, "链接已被使用", tab.text(".result h2"))
	tampered := strings.Replace(link(h5.WalletPage{Common: common("wallet"), AccountNo: acct}), "account_no="+acct, "account_no=6236889999999999", 1)
	tab.open(tampered, http.StatusForbidden)
	require.Equal(t, "链接签名无效或已被篡改", tab.text(".result h2"))
	tab.shoot("error")

	// 充值: the amount typed on the page.
	order := payment.NewOutTradeNo()
	tab.open(link(h5.RechargePage{Common: common("recharge"), AccountNo: acct, OutTradeNo: order}), http.StatusOK)
	tab.typeIn("amount", "200.00")
	tab.shoot("recharge")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "recharge")
	require.Equal(t, h5.Return{Page: "recharge", Result: h5.ResultSuccess, OutTradeNo: order, Timestamp: r.Timestamp, SignKeyID: r.SignKeyID}, *r)
	sb.WaitNotification(orderNotice(notify.RechargeSucceeded, order))

	// Pay: a wrong PIN first, then the right one.
	order = payment.NewOutTradeNo()
	tab.open(link(h5.PayPage{Common: common("pay"), AccountNo: acct, OutTradeNo: order, Amount: 9900, Subject: "会员月卡 & 礼包"}), http.StatusOK)
	require.Contains(t, tab.text(".order"), "99.00")
	tab.typeIn("pin", "000000")
	tab.press(`.actions button[value="submit"]`)
	require.Contains(t, tab.text(".alert.error"), "密码错误，今日还可尝试 4 次")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.shoot("pay")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "pay")
	require.Equal(t, h5.ResultSuccess, r.Result)
	require.Equal(t, order, r.OutTradeNo)
	sb.WaitNotification(orderNotice(notify.PaymentSucceeded, order))

	// 我的钱包: 101.00 left.
	tab.open(link(h5.WalletPage{Common: common("wallet"), AccountNo: acct}), http.StatusOK)
	require.Contains(t, tab.text(".balance"), "101.00")
	tab.shoot("wallet")
	tab.press(`button[value="return"]`)
	r = returned(t, b, back, "wallet")
	require.Equal(t, h5.Return{Page: "wallet", Result: h5.ResultSuccess, AccountNo: acct, Timestamp: r.Timestamp, SignKeyID: r.SignKeyID}, *r)

	// 提现 all of it, so that the account can be closed.
	order = payment.NewOutTradeNo()
	tab.open(link(h5.WithdrawPage{Common: common("withdraw"), AccountNo: acct, OutTradeNo: order, Amount: 10100}), http.StatusOK)
	require.Equal(t, "101.00", tab.value("amount"))
	tab.typeIn("pin", wallettest.TestPIN)
	tab.shoot("withdraw")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "withdraw")
	require.Equal(t, h5.ResultSuccess, r.Result)
	sb.WaitNotification(orderNotice(notify.WithdrawSucceeded, order))

	// 换卡 to another card of the holder.
	other := wallettest.Person()
	tab.open(link(h5.CardPage{Common: common("card"), AccountNo: acct}), http.StatusOK)
	tab.typeIn("card_no", string(other.CardNo))
	tab.typeIn("mobile", string(other.Mobile))
	tab.press(`button[value="sms"]`)
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", wallettest.TestPIN)
	tab.shoot("card")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "card")
	require.Equal(t, h5.ResultSuccess, r.Result)
	require.Equal(t, acct, r.AccountNo)
	sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.AccountCardChanged })

	// 交易密码重置 with a photo uploaded from the phone.
	photo := filepath.Join(t.TempDir(), "face.jpg")
	require.NoError(t, os.WriteFile(photo, wallettest.Face(), 0o644))
	const newPIN = "246801"
	tab.open(link(h5.PasswordPage{Common: common("password"), AccountNo: acct}), http.StatusOK)
	tab.typeIn("id_number", string(p.IDNumber))
	require.NoError(t, chromedp.Do(tab.ctx, chromedp.SetUploadFiles(chromedp.ID("face"), []string{photo})))
	tab.press(`button[value="sms"]`)
	require.Contains(t, tab.text(".face-ok"), "已上传照片")
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", newPIN)
	tab.typeIn("pin2", newPIN)
	tab.shoot("password")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "password")
	require.Equal(t, h5.ResultSuccess, r.Result)

	// 销户 with the new PIN.
	tab.open(link(h5.ClosePage{Common: common("close"), AccountNo: acct}), http.StatusOK)
	tab.press(`button[value="sms"]`)
	tab.typeIn("sms_code", "123456")
	tab.typeIn("pin", newPIN)
	tab.shoot("close")
	tab.press(`.actions button[value="submit"]`)
	r = returned(t, b, back, "close")
	require.Equal(t, h5.Return{Page: "close", Result: h5.ResultSuccess, AccountNo: acct, Timestamp: r.Timestamp, SignKeyID: r.SignKeyID}, *r)
	sb.WaitNotification(func(n *notify.Event) bool { return n.Type == notify.AccountClosed })

	w, err := client.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: other.Mobile, UserID: p.UserID})
	require.NoError(t, err)
	require.False(t, w.Opened, "closed through the pages")
	// The pages are the bank's and the return is the merchant's: nothing
	// else was asked for.
	tab.onlyOrigins(origin(t, sb.URL), origin(t, back.srv.URL))
	t.Logf("browser journey took %v; screenshots in %s", time.Since(start).Round(time.Millisecond), tab.shots)
}

func orderNotice(typ notify.Type, outTradeNo string) func(*notify.Event) bool {
	return func(n *notify.Event) bool {
		if n.Type != typ {
			return false
		}
		o, err := n.Order()
		return err == nil && o.OutTradeNo == outTradeNo
	}
}

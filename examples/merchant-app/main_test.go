package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The app end to end over HTTP against its embedded sandbox, with the
// sandbox's CompleteH5 standing in for the user on the bank's pages and the
// SDK's EncryptPIN for the PIN pad's script (internal/browser walks the same
// flow in Chromium): every return is verified and confirmed by a query,
// every notification reaches the order, an unknown outcome is resolved
// without paying twice, and the app's log never shows a PIN or the users'
// personal data.
func TestMerchantApp(t *testing.T) {
	ctx := context.Background()
	logs := &wallettest.Logs{}
	a, err := start(ctx, options{addr: "127.0.0.1:0", log: logs.Logger()})
	require.NoError(t, err)
	t.Cleanup(a.close)
	bank := a.sandbox.Server
	require.NotNil(t, bank, "the sandbox is embedded")
	// Mid-morning, so that the journey does not cross midnight: its orders
	// are on one day's statement.
	bank.AdvanceClockTo(10, 0)
	alice, seeded := a.books.users[0], a.books.users[len(a.books.users)-1]

	g := newAgent(t, a)
	_, home := g.get("/")
	require.Contains(t, home, "选择测试用户")
	for _, u := range a.books.users {
		require.Contains(t, home, `value="`+u.ID+`"`)
	}
	g.signIn(alice)
	_, home = g.get("/")
	require.Contains(t, home, `id="who">`+string(alice.Person.Name)+`<`)

	// 我的钱包 without an account: the app offers the bank's open page,
	// prefilled (masked on the app's page, encrypted in the link).
	_, w := g.get("/wallet")
	require.Contains(t, w, `id="no-account"`)
	require.Contains(t, w, alice.Person.IDNumber.String())
	require.NotContains(t, w, string(alice.Person.IDNumber))
	link := g.toBank("/h5/open", nil)
	require.NotContains(t, link, string(alice.Person.IDNumber), "personal data never in clear in a link")
	require.NotContains(t, link, url.QueryEscape(string(alice.Person.Name)))
	res := g.complete(link, wallettest.H5Input{PIN: wallettest.TestPIN})
	require.Equal(t, result{"open", "SUCCESS", "NORMAL"}, res.result)
	require.Contains(t, res.body, "已验签")

	acct, err := a.account(ctx, alice)
	require.NoError(t, err)
	require.NotNil(t, acct)
	_, w = g.get("/wallet")
	require.Contains(t, w, `data-account="`+acct.AccountNo+`"`)
	require.Contains(t, w, `<p class="amount" id="balance">0.00</p>`)
	a.waitNotice(t, "ACCOUNT_OPENED", acct.AccountNo)

	// Recharge ¥200 on the bank's page.
	link = g.toBank("/h5/recharge", url.Values{"amount": {"200"}})
	recharge := outTradeNo(t, link)
	res = g.complete(link, wallettest.H5Input{})
	require.Equal(t, result{"recharge", "SUCCESS", "SUCCESS"}, res.result)
	a.waitNotified(t, recharge)
	a.requireOrder(t, recharge, wallet.StatusSuccess, 200_00)

	// Buy on the bank's pay page.
	link = g.toBank("/shop/buy", url.Values{"item": {"vip"}, "method": {"bank"}})
	vip := outTradeNo(t, link)
	res = g.complete(link, wallettest.H5Input{PIN: wallettest.TestPIN})
	require.Equal(t, result{"pay", "SUCCESS", "SUCCESS"}, res.result)
	a.waitNotified(t, vip)
	_, op := g.get("/orders/" + vip)
	require.Contains(t, op, `data-status="SUCCESS" data-notified="true"`)

	// A pay page the user cancels: the bank has no order, and the app says
	// so after asking.
	link = g.toBank("/shop/buy", url.Values{"item": {"movie"}, "method": {"bank"}})
	cancelled := outTradeNo(t, link)
	res = g.complete(link, wallettest.H5Input{Cancel: true})
	require.Equal(t, result{"pay", "CANCELLED", "NONE"}, res.result)
	o, _ := a.books.order(cancelled)
	require.Equal(t, stCancelled, o.Status)

	// Buy with the PIN pad: a wrong PIN, then the right one.
	coffee := g.toPad("coffee")
	_, pad := g.get("/pin/?order=" + coffee)
	require.Contains(t, pad, `data-ref="`+coffee+`"`)
	require.Contains(t, pad, "18.80")
	reply := g.submitPIN(coffee, "000000")
	require.Equal(t, "PASSWORD_INCORRECT", reply["code"])
	require.Equal(t, true, reply["retry"])
	reply = g.submitPIN(coffee, wallettest.TestPIN)
	require.Equal(t, true, reply["ok"], reply)
	require.Equal(t, "/orders/"+coffee, reply["redirect"])
	a.waitNotified(t, coffee)
	o, _ = a.books.order(coffee)
	require.Len(t, o.Attempts, 2, "each PIN under a msg_id of its own, recorded before the call")
	require.Equal(t, []string{"PASSWORD_INCORRECT", "SUCCESS"}, []string{o.Attempts[0].Outcome, o.Attempts[1].Outcome})
	// Paid: the pad no longer opens for it, and a second submission pays
	// nothing.
	status, _ := g.get("/pin/?order=" + coffee)
	require.Equal(t, http.StatusNotFound, status)
	reply = g.submitPIN(coffee, wallettest.TestPIN)
	require.Equal(t, "/orders/"+coffee, reply["redirect"])

	// Transfer ¥20 to the seeded user, with the pad.
	_, tp := g.get("/transfer")
	require.Contains(t, tp, `data-payee="`+seeded.ID+`"`)
	resp, _ := g.post("/transfer", url.Values{"payee": {seeded.ID}, "amount": {"20.00"}, "remark": {"午饭"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	transfer := strings.TrimPrefix(resp.Header.Get("Location"), "/pin/?order=")
	_, pad = g.get("/pin/?order=" + transfer)
	require.Contains(t, pad, "转账给 "+seeded.Person.Name.String())
	reply = g.submitPIN(transfer, wallettest.TestPIN)
	require.Equal(t, true, reply["ok"], reply)
	a.waitNotified(t, transfer)
	a.requireOrder(t, transfer, wallet.StatusSuccess, 20_00)

	// An answer lost after the bank paid, on the first attempt and on the
	// client's two retries: the app settles it with Resolve under the
	// recorded msg_id, and the money moves once.
	require.NoError(t, a.sandbox.InjectFault(ctx, wallettest.Fault{Kind: wallettest.FaultDropAfterCommit, Path: "payment/pay", Count: 3}))
	lost := g.toPad("movie")
	reply = g.submitPIN(lost, wallettest.TestPIN)
	require.Equal(t, true, reply["ok"], reply)
	require.Equal(t, "结果确认中", reply["message"])
	require.Eventually(t, func() bool {
		o, _ := a.books.order(lost)
		return o.Status == string(wallet.StatusSuccess) && len(o.Attempts) == 1 && o.Attempts[0].Outcome == "SUCCESS"
	}, 30*time.Second, 20*time.Millisecond, "resolved")
	a.waitNotified(t, lost)
	o, _ = a.books.order(lost)
	require.Len(t, o.Attempts, 1)
	require.Equal(t, "SUCCESS", o.Attempts[0].Outcome)
	pays := 0
	for _, e := range bank.Ledger(acct.AccountNo) {
		if e.OutTradeNo == lost {
			pays++
		}
	}
	require.Equal(t, 1, pays, "paid once")

	// A refund of ¥10 of the bank-page order from the admin page; its
	// notification reaches the order.
	events := g.events()
	resp, _ = g.post("/admin/refund", url.Values{"out_trade_no": {vip}, "amount": {"10"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Location"), "/admin?refund=R")
	require.Eventually(t, func() bool {
		rs := a.books.refundsOf(vip)
		return len(rs) == 1 && rs[0].Status == "SUCCESS" && !rs[0].Notified.IsZero()
	}, 5*time.Second, 10*time.Millisecond)
	a.requireOrder(t, vip, wallet.StatusSuccess, 30_00)
	bo, err := a.pay.Query(ctx, vip)
	require.NoError(t, err)
	require.Equal(t, int64(10_00), bo.RefundedAmount)
	o, _ = a.books.order(vip)
	require.Equal(t, int64(10_00), o.Refunded)
	// ...and the open page's event stream said so, without a reload.
	live := events.until(t, func(name string, data []byte) bool {
		var l liveOrder
		return name == "order" && json.Unmarshal(data, &l) == nil && l.No == vip && l.Fields["refunded"] == "¥10.00"
	})
	require.Equal(t, "SUCCESS", live.Status)
	status, _ = g.get("/admin")
	require.Equal(t, http.StatusOK, status)
	resp, _ = g.post("/admin/refund", url.Values{"out_trade_no": {vip}, "amount": {"25"}})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "more than is left")

	// 我的钱包 after all that: 200 - 30 - 18.80 - 20 - 45.50 + 10 = 95.70.
	_, w = g.get("/wallet")
	require.Contains(t, w, `id="balance">95.70<`)

	// The bank's own wallet page, left with 返回商户.
	res = g.complete(g.toBank("/h5/wallet", nil), wallettest.H5Input{})
	require.Equal(t, result{"wallet", "SUCCESS", "NORMAL"}, res.result)
	require.Contains(t, res.body, "余额：¥95.70")

	// 换卡 and 交易密码重置.
	other := wallettest.Person()
	res = g.complete(g.toBank("/h5/card", nil), wallettest.H5Input{CardNo: other.CardNo, Mobile: other.Mobile, PIN: wallettest.TestPIN})
	require.Equal(t, result{"card", "SUCCESS", "NORMAL"}, res.result)
	require.Contains(t, res.body, other.CardNo.String()[len(other.CardNo)-4:])
	const newPIN = "246801"
	res = g.complete(g.toBank("/h5/password", nil), wallettest.H5Input{IDNumber: alice.Person.IDNumber, PIN: newPIN})
	require.Equal(t, result{"password", "SUCCESS", "NORMAL"}, res.result)

	// Withdraw it all (the amount the wallet page fills in), then close.
	require.Contains(t, w, `id="withdraw-amount" inputmode="decimal" value="95.70"`)
	link = g.toBank("/h5/withdraw", url.Values{"amount": {"95.70"}})
	withdraw := outTradeNo(t, link)
	res = g.complete(link, wallettest.H5Input{PIN: newPIN})
	require.Equal(t, result{"withdraw", "SUCCESS", "SUCCESS"}, res.result)
	a.waitNotified(t, withdraw)
	res = g.complete(g.toBank("/h5/close", nil), wallettest.H5Input{PIN: newPIN})
	require.Equal(t, result{"close", "SUCCESS", "CLOSED"}, res.result)
	a.waitNotice(t, "ACCOUNT_CLOSED", acct.AccountNo)
	_, w = g.get("/wallet")
	require.Contains(t, w, `id="no-account"`, "a closed account is no account: the user may open again")

	// The bank's books agree with the app's.
	var ledger []string
	for _, e := range bank.Ledger(acct.AccountNo) {
		ledger = append(ledger, e.Type+" "+yuan(e.Amount))
	}
	require.Equal(t, []string{"RECHARGE 200.00", "PAY -30.00", "PAY -18.80", "TRANSFER_OUT -20.00", "PAY -45.50", "REFUND 10.00", "WITHDRAW -95.70"}, ledger)
	// Every notification reaches the app (the last ones may still be on
	// their way: the test waited only for those it looked at).
	require.Eventually(t, func() bool {
		for _, d := range bank.Deliveries() {
			if d.MerchantID == a.client.MerchantID() && !d.Delivered() {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "every notification delivered")
	for _, d := range bank.Deliveries() {
		if d.MerchantID == a.client.MerchantID() {
			require.Equal(t, a.url+"/notify", d.URL)
		}
	}

	// A recharge the app's books never heard of: made with the app's key
	// while the bank could not notify it, as a lost record would be. Only
	// the statement tells.
	seededAcct, err := a.account(ctx, seeded)
	require.NoError(t, err)
	require.NoError(t, a.sandbox.SetNotifyURL(ctx, ""))
	stray, err := a.pay.Recharge(ctx, payment.RechargeRequest{AccountNo: seededAcct.AccountNo, OutTradeNo: payment.NewOutTradeNo(), Amount: 1_00})
	require.NoError(t, err)
	require.NoError(t, a.sandbox.SetNotifyURL(ctx, a.url+"/notify"))

	// The admin page; the day's statement is not ready until the clock
	// passes midnight.
	_, admin := g.get("/admin")
	for _, no := range []string{recharge, vip, coffee, transfer, lost, withdraw} {
		require.Contains(t, admin, `data-order="`+no+`"`)
	}
	require.Contains(t, admin, "REFUND_SUCCEEDED")
	today := bank.BusinessNow().In(businessZone()).Format(time.DateOnly)
	_, st := g.get("/admin/statement?date=" + today)
	require.Contains(t, st, `id="statement-error"`)
	require.Contains(t, st, "尚未生成")
	before := bank.BusinessNow()
	resp, _ = g.post("/admin/clock", url.Values{"advance": {"24h"}})
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.WithinDuration(t, before.Add(24*time.Hour), bank.BusinessNow(), time.Minute)

	// Yesterday's statement (the page's default day), checked whole, and
	// reconciled: the app's seven movements match; the stray recharge is
	// the bank's only.
	_, st = g.get("/admin/statement")
	require.Contains(t, st, "对账单 "+today)
	require.Contains(t, st, `data-clean="false" data-complete="true"`)
	require.Contains(t, st, `data-matched="7" data-bank="8" data-books="7"`)
	require.Contains(t, st, `data-diff="MISSING_IN_BOOKS"`)
	require.Contains(t, st, stray.OutTradeNo)
	for _, no := range []string{recharge, vip, coffee, transfer, lost, withdraw, a.books.refundsOf(vip)[0].OutRefundNo} {
		require.Contains(t, st, `data-line="`+no+`"`)
	}
	require.NotContains(t, st, cancelled, "a cancelled order is on no statement")

	// Nothing personal and no PIN in the app's log (at debug level).
	text := logs.String()
	require.Contains(t, text, "merchant-app: money call")
	for _, secret := range []string{wallettest.TestPIN, newPIN, "000000", string(alice.Person.IDNumber), string(alice.Person.Mobile),
		string(alice.Person.CardNo), string(alice.Person.Name), string(other.CardNo)} {
		// As a token of its own: an account number may hold 000000.
		require.NotRegexp(t, `(^|[^0-9A-Za-z])`+regexp.QuoteMeta(secret)+`($|[^0-9A-Za-z])`, text)
	}
}

// The app refuses what it must: a return whose signature does not verify,
// someone else's order, a form another site posts, a page without a
// session; and every page carries the CSP.
func TestMerchantAppRefuses(t *testing.T) {
	ctx := context.Background()
	a, err := start(ctx, options{addr: "127.0.0.1:0", log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	t.Cleanup(a.close)
	seeded := a.books.users[len(a.books.users)-1]
	g := newAgent(t, a)
	g.signIn(seeded)

	// A return verified, then the same with its result changed.
	link := g.toBank("/h5/recharge", url.Values{"amount": {"1"}})
	ret, err := a.sandbox.Server.CompleteH5(ctx, link, wallettest.H5Input{})
	require.NoError(t, err)
	forged := *ret
	forged.RawQuery = strings.Replace(ret.RawQuery, "result=SUCCESS", "result=FAILED", 1)
	require.NotEqual(t, ret.RawQuery, forged.RawQuery)
	status, body := g.get(forged.String())
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, body, "无效的返回链接")

	// The genuine return, in another user's session.
	other := newAgent(t, a)
	other.signIn(a.books.users[0])
	status, _ = other.get(ret.String())
	require.Equal(t, http.StatusForbidden, status)
	status, _ = g.get(ret.String())
	require.Equal(t, http.StatusOK, status)

	// A form from another site.
	req, err := http.NewRequest(http.MethodPost, a.url+"/shop/buy", strings.NewReader("item=vip&method=bank"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://evil.example")
	resp, err := g.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	// Without a session, the pages go to the sign-in page.
	anon := newAgent(t, a)
	resp, _ = anon.post("/h5/open", nil)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/", resp.Header.Get("Location"))
	status, _ = anon.get("/events")
	require.Equal(t, http.StatusUnauthorized, status)

	// Every page: CSP, no caching, no referrer.
	resp, err = g.hc.Get(a.url + "/wallet")
	require.NoError(t, err)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self';")
	require.Contains(t, csp, "form-action 'self' "+a.bankOrigin+";")
	require.NotContains(t, csp, "unsafe-inline")
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", resp.Header.Get("Referrer-Policy"))
}

// Plain http is for loopback only: the bank would refuse the app's return
// and notify URLs anywhere else.
func TestMerchantAppLoopbackOnly(t *testing.T) {
	_, err := start(context.Background(), options{addr: "0.0.0.0:0", log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.ErrorContains(t, err, "loopback")
}

func TestParseYuan(t *testing.T) {
	for in, want := range map[string]int64{"1": 100, "0.01": 1, "12.5": 1250, "12.50": 1250, " 3.07 ": 307, "10000000": 1_000_000_000} {
		got, err := parseYuan(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "0.00", "-1", "1.", ".5", "1.234", "1e3", "１", "10000001", "99999999999", "1,000", "¥1"} {
		_, err := parseYuan(in)
		require.Error(t, err, in)
	}
	require.Equal(t, "-0.05", yuan(-5))
	require.Equal(t, "1234.00", yuan(123400))
}

// agent is a browser without JavaScript: a cookie jar, redirects followed
// within the app and stopped at the bank's, an Origin on its posts.
type agent struct {
	t   *testing.T
	a   *app
	hc  *http.Client
	ctx context.Context
}

func newAgent(t *testing.T, a *app) *agent {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if origin(req.URL.String()) != a.url {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	return &agent{t: t, a: a, hc: hc, ctx: context.Background()}
}

func (g *agent) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return g.a.url + path
}

func (g *agent) get(path string) (int, string) {
	g.t.Helper()
	resp, err := g.hc.Get(g.abs(path))
	require.NoError(g.t, err)
	return resp.StatusCode, read(g.t, resp)
}

// post sends a form as the app's own page would, and does not follow the
// answer's redirect.
func (g *agent) post(path string, form url.Values) (*http.Response, string) {
	g.t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.abs(path), strings.NewReader(form.Encode()))
	require.NoError(g.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", g.a.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	hc := *g.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	require.NoError(g.t, err)
	return resp, read(g.t, resp)
}

func (g *agent) signIn(u *user) {
	g.t.Helper()
	resp, _ := g.post("/signin", url.Values{"user": {u.ID}})
	require.Equal(g.t, http.StatusSeeOther, resp.StatusCode)
}

// toBank posts a form whose answer sends the browser to a bank page, and
// returns the signed link.
func (g *agent) toBank(path string, form url.Values) string {
	g.t.Helper()
	resp, body := g.post(path, form)
	require.Equal(g.t, http.StatusSeeOther, resp.StatusCode, body)
	link := resp.Header.Get("Location")
	require.True(g.t, strings.HasPrefix(link, g.a.sandbox.URL+"/h5/"), link)
	return link
}

// toPad buys an item with the PIN pad and returns the order's number.
func (g *agent) toPad(item string) string {
	g.t.Helper()
	resp, _ := g.post("/shop/buy", url.Values{"item": {item}, "method": {"pinpad"}})
	require.Equal(g.t, http.StatusSeeOther, resp.StatusCode)
	loc := resp.Header.Get("Location")
	require.True(g.t, strings.HasPrefix(loc, "/pin/?order="), loc)
	return strings.TrimPrefix(loc, "/pin/?order=")
}

// submitPIN posts what the pad's script posts: the PIN encrypted to the
// client's key (here by the SDK, standing in for sm-crypto).
func (g *agent) submitPIN(ref, pin string) map[string]any {
	g.t.Helper()
	p, err := g.a.client.EncryptPIN(pin)
	require.NoError(g.t, err)
	body, err := json.Marshal(map[string]string{"key_id": p.KeyID, "ciphertext": p.Ciphertext, "ref": ref})
	require.NoError(g.t, err)
	req, err := http.NewRequest(http.MethodPost, g.a.url+"/pin/submit", bytes.NewReader(body))
	require.NoError(g.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.hc.Do(req)
	require.NoError(g.t, err)
	var out map[string]any
	require.NoError(g.t, json.Unmarshal([]byte(read(g.t, resp)), &out))
	return out
}

// result is what the result page says: the bank's page, the redirect's
// result, and what the app's query of the bank confirmed.
type result struct{ page, result, confirmed string }

type resultPage struct {
	result
	body string
}

var resultAttrs = regexp.MustCompile(`id="result" data-page="([^"]*)" data-result="([^"]*)" data-confirmed="([^"]*)"`)

// complete does what the user does on the bank's page, then follows the
// bank's redirect back to the app.
func (g *agent) complete(link string, in wallettest.H5Input) resultPage {
	g.t.Helper()
	ret, err := g.a.sandbox.Server.CompleteH5(g.ctx, link, in)
	require.NoError(g.t, err)
	require.True(g.t, strings.HasPrefix(ret.String(), g.a.url+"/return?"), ret.String())
	status, body := g.get(ret.String())
	require.Equal(g.t, http.StatusOK, status, body)
	m := resultAttrs.FindStringSubmatch(body)
	require.NotNil(g.t, m, body)
	return resultPage{result{m[1], m[2], m[3]}, body}
}

func outTradeNo(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	no := u.Query().Get("out_trade_no")
	require.NotEmpty(t, no, link)
	return no
}

func (a *app) waitNotified(t *testing.T, no string) {
	t.Helper()
	require.Eventually(t, func() bool {
		o, ok := a.books.order(no)
		return ok && !o.Notified.IsZero()
	}, 5*time.Second, 10*time.Millisecond, "the notification of %s", no)
}

func (a *app) waitNotice(t *testing.T, typ, ref string) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, n := range a.books.noticesNewestFirst() {
			if string(n.Type) == typ && n.Ref == ref {
				return true
			}
		}
		return false
	}, 5*time.Second, 10*time.Millisecond, "%s of %s", typ, ref)
}

// requireOrder checks the app's record of an order against the bank's.
func (a *app) requireOrder(t *testing.T, no string, status wallet.OrderStatus, amount int64) {
	t.Helper()
	bank, err := a.pay.Query(context.Background(), no)
	require.NoError(t, err)
	require.Equal(t, status, bank.Status)
	require.Equal(t, amount, bank.Amount)
	o, ok := a.books.order(no)
	require.True(t, ok)
	require.Equal(t, string(status), o.Status)
	require.Equal(t, amount, o.Amount)
	require.Equal(t, bank.TradeNo, o.TradeNo)
}

// stream is an open /events stream.
type stream struct {
	mu     sync.Mutex
	events []sseEvent
	more   chan struct{}
}

type sseEvent struct {
	name string
	data []byte
}

// events opens the event stream of the signed-in user's pages.
func (g *agent) events() *stream {
	g.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.a.url+"/events", nil)
	require.NoError(g.t, err)
	hc := *g.hc
	hc.Timeout = 0
	resp, err := hc.Do(req)
	require.NoError(g.t, err)
	require.Equal(g.t, http.StatusOK, resp.StatusCode)
	require.Equal(g.t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	s := &stream{more: make(chan struct{}, 1)}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				s.mu.Lock()
				s.events = append(s.events, sseEvent{name, []byte(strings.TrimPrefix(line, "data: "))})
				s.mu.Unlock()
				select {
				case s.more <- struct{}{}:
				default:
				}
			}
		}
	}()
	return s
}

// until waits for an event that match accepts and returns its order.
func (s *stream) until(t *testing.T, match func(name string, data []byte) bool) liveOrder {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for seen := 0; ; {
		s.mu.Lock()
		evs := s.events[seen:]
		seen = len(s.events)
		s.mu.Unlock()
		for _, e := range evs {
			if match(e.name, e.data) {
				var l liveOrder
				require.NoError(t, json.Unmarshal(e.data, &l))
				return l
			}
		}
		select {
		case <-s.more:
		case <-deadline:
			t.Fatal("no such event came")
		}
	}
}

func read(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

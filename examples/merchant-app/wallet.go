package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// home is the sign-in page, or the signed-in user's home.
func (a *app) home(w http.ResponseWriter, r *http.Request) {
	u := a.signedIn(r)
	if u == nil {
		var users []userView
		for _, u := range a.books.users {
			users = append(users, *viewUser(u))
		}
		a.render(w, http.StatusOK, "signin", page{Title: "选择测试用户", Data: users})
		return
	}
	a.render(w, http.StatusOK, "home", page{Title: "首页", User: viewUser(u)})
}

// account asks the bank whether the user has an account in the app's
// channel (wallet/query, docs/protocol.md, section 4.2) and, when so, reads
// it with its limits (account/query). nil means none: never opened, or
// closed.
func (a *app) account(ctx context.Context, u *user) (*wallet.Account, error) {
	q, err := a.client.Query(ctx, wallet.QueryRequest{IDNumber: u.Person.IDNumber, Mobile: u.Person.Mobile, UserID: u.ID})
	if err != nil {
		return nil, err
	}
	if !q.Opened {
		return nil, nil
	}
	a.books.setAccount(q.Account.AccountNo, u.ID)
	return a.accounts.Query(ctx, q.Account.AccountNo)
}

// accountOrFail is the user's account for a page (nil without one); when
// the bank cannot be asked it answers the page with an error and false.
func (a *app) accountOrFail(w http.ResponseWriter, r *http.Request, u *user) (*wallet.Account, bool) {
	acct, err := a.account(r.Context(), u)
	if err != nil {
		a.log.Warn("merchant-app: wallet query", "user", u.ID, "err", err)
		a.fail(w, r, http.StatusBadGateway, "暂时无法查询您的钱包，请稍后再试")
		return nil, false
	}
	return acct, true
}

// walletView is 我的钱包 as the app shows it.
type walletView struct {
	AccountNo   string
	Masked      string
	Status      string
	StatusText  string
	Normal      bool
	Balance     string
	Available   string
	BankName    string
	CardMasked  string
	DailyOut    string
	DailyLimit  string
	YearlyOut   string
	YearlyLimit string
	DailyIn     string
}

func viewAccount(acct *wallet.Account) walletView {
	v := walletView{AccountNo: acct.AccountNo, Masked: maskAccount(acct.AccountNo), Status: string(acct.Status),
		StatusText: accountStatusText(acct.Status), Normal: acct.Status == wallet.AccountNormal,
		Balance: yuan(acct.Balance), Available: yuan(acct.AvailableBalance),
		BankName: acct.BoundCard.BankName, CardMasked: acct.BoundCard.CardNoMasked}
	if l := acct.Limits; l != nil {
		v.DailyOut, v.DailyLimit = yuan(l.DailyOutUsed), yuan(l.DailyLimit)
		v.YearlyOut, v.YearlyLimit = yuan(l.YearlyOutUsed), yuan(l.YearlyLimit)
		v.DailyIn = yuan(l.DailyInUsed)
	}
	return v
}

func accountStatusText(s wallet.AccountStatus) string {
	switch s {
	case wallet.AccountNormal:
		return "正常"
	case wallet.AccountFrozen:
		return "已冻结"
	case wallet.AccountClosed:
		return "已销户"
	}
	return string(s)
}

// maskAccount shows an account number as the bank's pages do:
// 6236********0001.
func maskAccount(no string) string {
	if len(no) < 12 {
		return no
	}
	return no[:4] + "********" + no[len(no)-4:]
}

// prefillView is what the open page will be prefilled with, masked: the
// link carries it encrypted.
type prefillView struct{ Name, IDNumber, Mobile, CardNo string }

// walletPage is 我的钱包: the app asks the bank, then shows the account, or
// offers to open one on the bank's page.
func (a *app) walletPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	acct, ok := a.accountOrFail(w, r, u)
	if !ok {
		return
	}
	if acct == nil {
		p := u.Person
		a.render(w, http.StatusOK, "wallet-none", page{Title: "我的钱包", Back: "/", User: viewUser(u),
			Data: prefillView{Name: p.Name.String(), IDNumber: p.IDNumber.String(), Mobile: p.Mobile.String(), CardNo: p.CardNo.String()}})
		return
	}
	a.render(w, http.StatusOK, "wallet", page{Title: "我的钱包", Back: "/", User: viewUser(u), Data: viewAccount(acct)})
}

// returnURL is where every bank page sends the user back: the app's
// /return, which verifies the redirect and asks the bank.
func (a *app) returnURL() string { return a.url + "/return" }

// openBankPage sends the user to one of the bank's pages with a fresh
// signed link (valid 10 minutes, once: docs/protocol.md, section 9.2). A
// recharge or withdrawal is recorded as an order first, under the number
// the link carries.
func (a *app) openBankPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	ctx := r.Context()
	common := h5.Common{UserID: u.ID, ReturnURL: a.returnURL()}
	name := r.PathValue("page")
	var p h5.Page
	if name == "open" {
		// The prefill travels encrypted in the link's data field; the user
		// may correct it on the bank's page.
		pe := u.Person
		p = h5.OpenPage{Common: common, Name: pe.Name, IDNumber: pe.IDNumber, Mobile: pe.Mobile, CardNo: pe.CardNo}
	} else {
		acct, err := a.account(ctx, u)
		if err != nil {
			a.log.Warn("merchant-app: wallet query", "user", u.ID, "err", err)
			a.fail(w, r, http.StatusBadGateway, "暂时无法查询您的钱包，请稍后再试")
			return
		}
		if acct == nil {
			http.Redirect(w, r, "/wallet", http.StatusSeeOther)
			return
		}
		switch name {
		case "wallet":
			p = h5.WalletPage{Common: common, AccountNo: acct.AccountNo}
		case "recharge", "withdraw":
			var amount int64 // none: the user types it on the bank's page
			if s := r.PostFormValue("amount"); s != "" {
				if amount, err = parseYuan(s); err != nil {
					a.fail(w, r, http.StatusBadRequest, err.Error())
					return
				}
			}
			typ := wallet.OrderRecharge
			if name == "withdraw" {
				typ = wallet.OrderWithdraw
			}
			o := a.books.add(order{Type: typ, UserID: u.ID, AccountNo: acct.AccountNo, Amount: amount, Via: viaBankPage})
			a.log.Info("merchant-app: order recorded", "out_trade_no", o.OutTradeNo, "type", typ, "amount", amount)
			if typ == wallet.OrderRecharge {
				p = h5.RechargePage{Common: common, AccountNo: acct.AccountNo, OutTradeNo: o.OutTradeNo, Amount: amount}
			} else {
				p = h5.WithdrawPage{Common: common, AccountNo: acct.AccountNo, OutTradeNo: o.OutTradeNo, Amount: amount}
			}
		case "card":
			p = h5.CardPage{Common: common, AccountNo: acct.AccountNo}
		case "password":
			p = h5.PasswordPage{Common: common, AccountNo: acct.AccountNo}
		case "close":
			p = h5.ClosePage{Common: common, AccountNo: acct.AccountNo}
		default:
			a.fail(w, r, http.StatusNotFound, "没有这个页面")
			return
		}
	}
	a.toBank(w, r, p)
}

// toBank redirects the browser to a bank page.
func (a *app) toBank(w http.ResponseWriter, r *http.Request, p h5.Page) {
	link, err := a.pages.URL(r.Context(), p)
	if err != nil {
		a.log.Error("merchant-app: building a bank link", "err", err)
		a.fail(w, r, http.StatusInternalServerError, "无法打开银行页面")
		return
	}
	http.Redirect(w, r, link, http.StatusSeeOther)
}

// resultView is the page after a return from the bank.
type resultView struct {
	Page       string // the bank's page: open, pay...
	PageName   string
	Result     string // the redirect's result: SUCCESS, FAILED, CANCELLED
	ResultText string
	Confirmed  string // what the bank's books say: SUCCESS, NONE, or the status
	Lines      []string
	Warn       string
	Order      *orderView
	Next       string
	NextText   string
}

// bankReturn is the return_url. The redirect passed through the user's
// browser, so it is only advisory (docs/protocol.md, section 9.4): the app
// verifies its signature (VerifyReturn), checks that the order or account
// it names is the signed-in user's, and then asks the bank what really
// happened before it shows or records anything.
func (a *app) bankReturn(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	ret, err := a.pages.VerifyReturn(r.URL)
	if err != nil {
		a.log.Warn("merchant-app: a return redirect refused", "err", err)
		a.fail(w, r, http.StatusBadRequest, "无效的返回链接")
		return
	}
	v := resultView{Page: ret.Page, PageName: pageName(ret.Page), Result: string(ret.Result), ResultText: resultText(ret.Result)}
	ctx := r.Context()
	switch ret.Page {
	case "recharge", "withdraw", "pay":
		if !a.returnOrder(ctx, w, r, u, ret, &v) {
			return
		}
	case "open":
		a.returnOpen(ctx, u, ret, &v)
	case "wallet", "card", "password", "close":
		if !a.returnAccount(ctx, w, r, u, ret, &v) {
			return
		}
	default:
		a.fail(w, r, http.StatusBadRequest, "无效的返回链接")
		return
	}
	a.log.Info("merchant-app: back from the bank", "page", ret.Page, "result", ret.Result, "confirmed", v.Confirmed,
		"out_trade_no", ret.OutTradeNo, "account_no", ret.AccountNo)
	a.render(w, http.StatusOK, "result", page{Title: v.PageName + "结果", User: viewUser(u), Events: a.streamFor(v.Order), Data: v})
}

// returnOrder confirms the return of a recharge, withdraw or pay page with
// payment/query. It reports false when it has answered already.
func (a *app) returnOrder(ctx context.Context, w http.ResponseWriter, r *http.Request, u *user, ret *h5.Return, v *resultView) bool {
	o, ok := a.books.order(ret.OutTradeNo)
	if !ok || o.UserID != u.ID {
		a.fail(w, r, http.StatusForbidden, "这不是您的订单")
		return false
	}
	bank, err := a.pay.Query(ctx, o.OutTradeNo)
	switch {
	case err == nil:
		o, _ = a.books.confirm(o.OutTradeNo, bank, "查询")
		v.Confirmed = string(bank.Status)
		v.Lines = append(v.Lines, "银行查询："+typeText(bank.Type)+" ¥"+yuan(bank.Amount)+"，"+statusText(string(bank.Status), bank.Type))
	case errors.Is(err, wallet.ErrOrderNotFound):
		v.Confirmed = "NONE"
		if ret.Result == h5.ResultSuccess {
			// Signed by the bank, yet the bank has no order: do not take it
			// as done; the notification or a later query will tell.
			v.Warn = "银行页面返回成功，但银行暂未查到该订单，请稍后在订单中查看"
		} else {
			o, _ = a.books.confirm(o.OutTradeNo, nil, "查询")
			v.Lines = append(v.Lines, "银行查询：无此订单，未发生扣款")
		}
	default:
		a.log.Warn("merchant-app: payment query", "out_trade_no", o.OutTradeNo, "err", err)
		v.Warn = "暂时无法向银行确认结果，请稍后在订单中查看"
	}
	ov := viewOrder(o, a.books)
	v.Order = &ov
	v.Next, v.NextText = "/orders/"+o.OutTradeNo, "查看订单"
	return true
}

// returnOpen confirms the return of the open page with wallet/query: the
// user has an account, and it is the one the redirect names.
func (a *app) returnOpen(ctx context.Context, u *user, ret *h5.Return, v *resultView) {
	v.Next, v.NextText = "/wallet", "进入我的钱包"
	acct, err := a.account(ctx, u)
	switch {
	case err != nil:
		a.log.Warn("merchant-app: wallet query", "user", u.ID, "err", err)
		v.Warn = "暂时无法向银行确认结果，请稍后在我的钱包中查看"
	case acct == nil:
		v.Confirmed = "NONE"
		if ret.Result == h5.ResultSuccess {
			v.Warn = "银行页面返回成功，但银行暂未查到您的账户，请稍后再查看"
		} else {
			v.Lines = append(v.Lines, "银行查询：您还没有电子账户")
		}
	default:
		v.Confirmed = string(acct.Status)
		if ret.AccountNo != "" && ret.AccountNo != acct.AccountNo {
			v.Warn = "返回的账号与银行查询的不一致，以银行查询为准"
		}
		v.Lines = append(v.Lines, "银行查询：II类电子账户 "+maskAccount(acct.AccountNo)+"，"+accountStatusText(acct.Status),
			"绑定银行卡："+acct.BoundCard.BankName+" "+acct.BoundCard.CardNoMasked)
	}
}

// returnAccount confirms the return of the wallet, card, password and
// close pages with account/query. It reports false when it has answered
// already.
func (a *app) returnAccount(ctx context.Context, w http.ResponseWriter, r *http.Request, u *user, ret *h5.Return, v *resultView) bool {
	if !a.owns(ctx, u, ret.AccountNo) {
		a.fail(w, r, http.StatusForbidden, "这不是您的账户")
		return false
	}
	v.Next, v.NextText = "/wallet", "返回我的钱包"
	acct, err := a.accounts.Query(ctx, ret.AccountNo)
	if err != nil {
		a.log.Warn("merchant-app: account query", "account_no", ret.AccountNo, "err", err)
		v.Warn = "暂时无法向银行确认结果，请稍后在我的钱包中查看"
		return true
	}
	v.Confirmed = string(acct.Status)
	v.Lines = append(v.Lines, "银行查询：账户 "+maskAccount(acct.AccountNo)+"，"+accountStatusText(acct.Status))
	switch ret.Page {
	case "close":
		if acct.Status == wallet.AccountClosed {
			v.Lines = append(v.Lines, "销户时间："+inZone(acct.ClosedAt, "2006-01-02 15:04:05"))
		} else if ret.Result == h5.ResultSuccess {
			v.Warn = "银行页面返回销户成功，但银行查询账户仍未销户，以银行查询为准"
		}
	case "card":
		v.Lines = append(v.Lines, "绑定银行卡："+acct.BoundCard.BankName+" "+acct.BoundCard.CardNoMasked)
	case "password":
		// The bank's books do not show a PIN change, and no notification
		// follows one (docs/protocol.md, section 10): the query says only
		// that the account is as it should be.
		v.Lines = append(v.Lines, "交易密码的修改无法查询，下次支付时生效")
	default:
		v.Lines = append(v.Lines, "余额：¥"+yuan(acct.Balance))
	}
	return true
}

// owns reports whether an account is the user's: as the bank said before,
// or as wallet/query says now.
func (a *app) owns(ctx context.Context, u *user, accountNo string) bool {
	if accountNo == "" {
		return false
	}
	if id := a.books.accountUser(accountNo); id != "" {
		return id == u.ID
	}
	acct, err := a.account(ctx, u)
	return err == nil && acct != nil && acct.AccountNo == accountNo
}

func pageName(p string) string {
	switch p {
	case "open":
		return "开户"
	case "wallet":
		return "银行钱包"
	case "recharge":
		return "充值"
	case "withdraw":
		return "提现"
	case "pay":
		return "支付"
	case "card":
		return "换卡"
	case "password":
		return "交易密码重置"
	case "close":
		return "销户"
	}
	return p
}

func resultText(r h5.Result) string {
	switch r {
	case h5.ResultSuccess:
		return "成功"
	case h5.ResultFailed:
		return "未成功"
	case h5.ResultCancelled:
		return "已取消"
	}
	return string(r)
}

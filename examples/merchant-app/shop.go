package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
)

// item is one thing the shop sells.
type item struct {
	ID    string
	Name  string
	Mark  string // one character for its icon
	Price int64  // fen
}

// catalog is the shop's goods.
func catalog() []item {
	return []item{
		{ID: "coffee", Name: "精品咖啡券", Mark: "咖", Price: 18_80},
		{ID: "vip", Name: "会员月卡", Mark: "会", Price: 30_00},
		{ID: "movie", Name: "电影兑换券", Mark: "影", Price: 45_50},
	}
}

func findItem(id string) (item, bool) {
	for _, it := range catalog() {
		if it.ID == id {
			return it, true
		}
	}
	return item{}, false
}

type shopView struct {
	Items   []itemView
	Account *walletView // nil: no account yet
}

type itemView struct {
	ID, Name, Mark, Price string
}

// shopPage lists the goods, with the user's balance.
func (a *app) shopPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	v := shopView{}
	for _, it := range catalog() {
		v.Items = append(v.Items, itemView{ID: it.ID, Name: it.Name, Mark: it.Mark, Price: yuan(it.Price)})
	}
	acct, ok := a.accountOrFail(w, r, u)
	if !ok {
		return
	}
	if acct != nil {
		av := viewAccount(acct)
		v.Account = &av
	}
	a.render(w, http.StatusOK, "shop", page{Title: "商城", Back: "/", User: viewUser(u), Data: v})
}

// buy records a PAY order and sends the user to pay it: on the bank's pay
// page, or on the app's PIN pad.
func (a *app) buy(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	it, ok := findItem(r.PostFormValue("item"))
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "没有这件商品")
		return
	}
	method := r.PostFormValue("method")
	if method != "bank" && method != "pinpad" {
		a.fail(w, r, http.StatusBadRequest, "请选择支付方式")
		return
	}
	acct, ok := a.accountOrFail(w, r, u)
	if !ok {
		return
	}
	if acct == nil {
		http.Redirect(w, r, "/wallet", http.StatusSeeOther)
		return
	}
	via := viaBankPage
	if method == "pinpad" {
		via = viaPINPad
	}
	o := a.books.add(order{Type: wallet.OrderPay, UserID: u.ID, AccountNo: acct.AccountNo, Subject: it.Name, Amount: it.Price, Via: via})
	a.log.Info("merchant-app: order recorded", "out_trade_no", o.OutTradeNo, "type", o.Type, "amount", o.Amount, "via", method)
	if method == "pinpad" {
		http.Redirect(w, r, "/pin/?order="+o.OutTradeNo, http.StatusSeeOther)
		return
	}
	a.toBank(w, r, h5.PayPage{Common: h5.Common{UserID: u.ID, ReturnURL: a.returnURL()},
		AccountNo: acct.AccountNo, OutTradeNo: o.OutTradeNo, Amount: o.Amount, Subject: o.Subject})
}

// payeeView is another user the signed-in one may transfer to.
type payeeView struct {
	ID, Name, Account string // masked
}

type transferView struct {
	Account *walletView
	Payees  []payeeView
	Error   string
	Amount  string
	Remark  string
}

// payees are the other users who have an open account, as the bank says.
func (a *app) payees(ctx context.Context, u *user) ([]payeeView, error) {
	var out []payeeView
	for _, other := range a.books.users {
		if other.ID == u.ID {
			continue
		}
		acct, err := a.account(ctx, other)
		if err != nil {
			return nil, err
		}
		if acct != nil && acct.Status == wallet.AccountNormal {
			out = append(out, payeeView{ID: other.ID, Name: other.Person.Name.String(), Account: maskAccount(acct.AccountNo)})
		}
	}
	return out, nil
}

// transferPage is the transfer form.
func (a *app) transferPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	a.showTransfer(w, r, u, http.StatusOK, transferView{})
}

func (a *app) showTransfer(w http.ResponseWriter, r *http.Request, u *user, status int, v transferView) {
	ctx := r.Context()
	acct, err := a.account(ctx, u)
	if err == nil && acct == nil {
		http.Redirect(w, r, "/wallet", http.StatusSeeOther)
		return
	}
	if err == nil {
		v.Payees, err = a.payees(ctx, u)
	}
	if err != nil {
		a.log.Warn("merchant-app: wallet query", "user", u.ID, "err", err)
		a.fail(w, r, http.StatusBadGateway, "暂时无法查询钱包，请稍后再试")
		return
	}
	av := viewAccount(acct)
	v.Account = &av
	a.render(w, status, "transfer", page{Title: "转账", Back: "/", User: viewUser(u), Data: v})
}

// transfer records a TRANSFER order and sends the user to the PIN pad.
func (a *app) transfer(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	v := transferView{Amount: r.PostFormValue("amount"), Remark: r.PostFormValue("remark")}
	payee, ok := a.books.user(r.PostFormValue("payee"))
	amount, err := parseYuan(v.Amount)
	switch {
	case !ok || payee.ID == u.ID:
		v.Error = "请选择收款人"
	case err != nil:
		v.Error = err.Error()
	case len([]rune(v.Remark)) > 32:
		v.Error = "附言最多 32 个字"
	}
	if v.Error != "" {
		a.showTransfer(w, r, u, http.StatusBadRequest, v)
		return
	}
	ctx := r.Context()
	from, err := a.account(ctx, u)
	var to *wallet.Account
	if err == nil {
		to, err = a.account(ctx, payee)
	}
	if err != nil {
		a.log.Warn("merchant-app: wallet query", "err", err)
		a.fail(w, r, http.StatusBadGateway, "暂时无法查询钱包，请稍后再试")
		return
	}
	switch {
	case from == nil:
		http.Redirect(w, r, "/wallet", http.StatusSeeOther)
		return
	case to == nil || to.Status != wallet.AccountNormal:
		v.Error = "收款人没有可用的电子账户"
		a.showTransfer(w, r, u, http.StatusBadRequest, v)
		return
	}
	o := a.books.add(order{Type: wallet.OrderTransfer, UserID: u.ID, AccountNo: from.AccountNo, PayeeAccountNo: to.AccountNo,
		PayeeUserID: payee.ID, Remark: v.Remark, Amount: amount, Via: viaPINPad})
	a.log.Info("merchant-app: order recorded", "out_trade_no", o.OutTradeNo, "type", o.Type, "amount", o.Amount)
	http.Redirect(w, r, "/pin/?order="+o.OutTradeNo, http.StatusSeeOther)
}

// pinOrder is the order a PIN pad page or submission is for: the
// signed-in user's, to be paid with the pad, and not paid yet.
func (a *app) pinOrder(r *http.Request, no string) (order, *user, error) {
	u := a.signedIn(r)
	if u == nil {
		return order{}, nil, errors.New("not signed in")
	}
	o, ok := a.books.order(no)
	if !ok || o.UserID != u.ID || o.Via != viaPINPad {
		return order{}, nil, fmt.Errorf("no PIN pad order %q for user %s", no, u.ID)
	}
	return o, u, nil
}

// pinPrompt is what the pad shows above the keys. An error makes the pad
// answer 404 with its "link no longer valid" page.
func (a *app) pinPrompt(r *http.Request) (pinpad.Prompt, error) {
	o, _, err := a.pinOrder(r, r.URL.Query().Get("order"))
	if err != nil {
		return pinpad.Prompt{}, err
	}
	if o.Status != stCreated {
		return pinpad.Prompt{}, fmt.Errorf("order %s is %s", o.OutTradeNo, o.Status)
	}
	if o.Type == wallet.OrderTransfer {
		return pinpad.Prompt{Title: "请输入交易密码", Subject: "转账给 " + a.payeeName(o), Amount: o.Amount, Ref: o.OutTradeNo, Cancel: "/transfer"}, nil
	}
	// 取消 leaves the order unsent: nothing was asked of the bank yet.
	return pinpad.Prompt{Title: "请输入支付密码", Subject: o.Subject, Amount: o.Amount, Ref: o.OutTradeNo, Cancel: "/shop"}, nil
}

// payeeName is a transfer's payee as the pages show them, masked.
func (a *app) payeeName(o order) string {
	if p, ok := a.books.user(o.PayeeUserID); ok {
		return p.Person.Name.String()
	}
	return maskAccount(o.PayeeAccountNo)
}

// moneyRequest is the SDK request for a pad order, with the PIN the pad
// encrypted on the device.
func (a *app) moneyRequest(o order, pin wallet.EncryptedPIN) (payment.MoneyRequest, error) {
	switch o.Type {
	case wallet.OrderPay:
		return payment.PayRequest{AccountNo: o.AccountNo, OutTradeNo: o.OutTradeNo, Amount: o.Amount, Subject: o.Subject, Password: pin}, nil
	case wallet.OrderTransfer:
		payee, ok := a.books.user(o.PayeeUserID)
		if !ok {
			return nil, fmt.Errorf("order %s: no payee", o.OutTradeNo)
		}
		return payment.TransferRequest{AccountNo: o.AccountNo, PayeeAccountNo: o.PayeeAccountNo, PayeeName: payee.Person.Name,
			OutTradeNo: o.OutTradeNo, Amount: o.Amount, Password: pin, Remark: o.Remark}, nil
	}
	return nil, fmt.Errorf("order %s: a %s is not paid with a PIN pad", o.OutTradeNo, o.Type)
}

// call makes a pad order's money call under msgID.
func (a *app) call(ctx context.Context, req payment.MoneyRequest, msgID string) (*wallet.Order, error) {
	switch req := req.(type) {
	case payment.PayRequest:
		return a.pay.Pay(ctx, req, wallet.WithMsgID(msgID))
	case payment.TransferRequest:
		return a.pay.Transfer(ctx, req, wallet.WithMsgID(msgID))
	}
	return nil, fmt.Errorf("no call for %T", req)
}

// pinSubmit takes the pad's {key_id, ciphertext, ref} and makes the order's
// call with it. The msg_id is recorded with the order before the call; an
// unknown outcome is settled by Resolve under it, never by a new number.
// The digits never reach this server: only their ciphertext, which prints
// masked.
func (a *app) pinSubmit(w http.ResponseWriter, r *http.Request) {
	sub, err := pinpad.Decode(r)
	if err != nil {
		a.log.Warn("merchant-app: bad PIN submission", "err", err)
		pinpad.Reply(w, pinpad.Failure(err))
		return
	}
	o, _, err := a.pinOrder(r, sub.Ref)
	if err != nil {
		a.log.Warn("merchant-app: PIN submission refused", "submission", sub, "err", err)
		pinpad.Reply(w, pinpad.Result{Message: "订单不存在或已失效"})
		return
	}
	done := "/orders/" + o.OutTradeNo
	msgID := wallet.NewMsgID()
	if _, ok := a.books.begin(o.OutTradeNo, msgID); !ok {
		// Paid, being resolved, or a call still in flight (a double tap).
		cur, _ := a.books.order(o.OutTradeNo)
		if cur.Status == stCreated {
			pinpad.Reply(w, pinpad.Result{Message: "正在处理，请勿重复提交"})
			return
		}
		pinpad.Reply(w, pinpad.Result{OK: true, Message: statusText(cur.Status, cur.Type), Redirect: done})
		return
	}
	req, err := a.moneyRequest(o, sub.PIN)
	if err != nil {
		a.log.Error("merchant-app: pad order", "err", err)
		a.books.outcome(o.OutTradeNo, msgID, "NOT_SENT", nil, stRefused, "", "订单有误")
		pinpad.Reply(w, pinpad.Result{Message: "订单有误"})
		return
	}
	a.log.Info("merchant-app: money call", "type", o.Type, "out_trade_no", o.OutTradeNo, "msg_id", msgID, "submission", sub)
	bank, err := a.call(r.Context(), req, msgID)
	switch {
	case err == nil:
		rec, _ := a.books.outcome(o.OutTradeNo, msgID, "SUCCESS", bank, "", "银行应答", "")
		a.publishOrder(rec)
		pinpad.Reply(w, pinpad.Result{OK: true, Message: statusText(rec.Status, rec.Type), Redirect: done})
	case wallet.IsOutcomeUnknown(err):
		a.log.Warn("merchant-app: outcome unknown, resolving", "out_trade_no", o.OutTradeNo, "msg_id", msgID, "err", err)
		rec, _ := a.books.outcome(o.OutTradeNo, msgID, pinpad.CodeOutcomeUnknown, nil, stResolving, "", "银行应答未知，正在查询确认")
		a.publishOrder(rec)
		a.resolve(rec, req, msgID)
		pinpad.Reply(w, pinpad.Result{OK: true, Message: "结果确认中", Redirect: done})
	default:
		res := pinpad.Failure(err)
		st := stRefused // the order ends here; the user buys again
		if res.Retry {
			st = stCreated // a wrong PIN: the pad lets the user type again, under the same number
		}
		a.log.Info("merchant-app: money call refused", "out_trade_no", o.OutTradeNo, "msg_id", msgID, "err", err)
		code := res.Code
		if code == "" {
			code = "ERROR"
		}
		rec, _ := a.books.outcome(o.OutTradeNo, msgID, code, nil, st, "银行应答", res.Message)
		a.publishOrder(rec)
		pinpad.Reply(w, res)
	}
}

// resolve settles a money call whose outcome is unknown, in the
// background: payment.Service.Resolve queries the order by its number and,
// when the bank has none, sends the same request again under the same
// msg_id. It goes on after the user's request has ended (the money may
// have moved), within payment.ResolveTimeout.
func (a *app) resolve(o order, req payment.MoneyRequest, msgID string) {
	a.resolving.Add(1)
	go func() {
		defer a.resolving.Done()
		bank, err := a.pay.Resolve(context.Background(), req, msgID)
		var rec order
		switch {
		case err == nil:
			rec, _ = a.books.outcome(o.OutTradeNo, msgID, "SUCCESS", bank, "", "查询确认", "")
		case wallet.IsOutcomeUnknown(err):
			a.log.Warn("merchant-app: still unknown", "out_trade_no", o.OutTradeNo, "err", err)
			rec, _ = a.books.outcome(o.OutTradeNo, msgID, pinpad.CodeOutcomeUnknown, nil, stResolving, "", "仍无法确认，等待银行通知")
		default:
			res := pinpad.Failure(err)
			a.log.Info("merchant-app: resolved as refused", "out_trade_no", o.OutTradeNo, "err", err)
			rec, _ = a.books.outcome(o.OutTradeNo, msgID, res.Code, nil, stRefused, "查询确认", res.Message)
		}
		a.publishOrder(rec)
	}()
}

// orderView is an order as the pages show it. Live holds the texts that
// change, by the data-field of the element that shows them: the page's
// script replaces them as events arrive.
type orderView struct {
	No        string
	Href      string
	Type      string
	TypeText  string
	Mark      string // one character for its icon
	Via       string
	Subject   string
	Payee     string
	User      string
	Created   string
	TradeNo   string
	Finished  string
	Attempts  []attempt
	Refunds   []refundView
	CanRefund bool
	Left      string // what is left to refund
	Live      liveOrder
}

// liveOrder is the part of an order that changes, sent as the "order"
// event: the status code and whether a notification arrived (data
// attributes), and the texts of the elements.
type liveOrder struct {
	No       string            `json:"no"`
	Status   string            `json:"status"`
	Notified bool              `json:"notified"`
	Fields   map[string]string `json:"fields"`
}

func viewOrder(o order, b *books) orderView {
	v := orderView{No: o.OutTradeNo, Href: "/orders/" + o.OutTradeNo, Type: string(o.Type), TypeText: typeText(o.Type),
		Mark: first(typeText(o.Type)), Via: o.Via, Subject: o.Subject, Created: inZone(o.Created, "15:04:05"), TradeNo: o.TradeNo,
		Finished: inZone(o.Finished, "2006-01-02 15:04:05"), Attempts: o.Attempts}
	for _, r := range b.refundsOf(o.OutTradeNo) {
		v.Refunds = append(v.Refunds, viewRefund(r))
	}
	if u, ok := b.user(o.UserID); ok {
		v.User = u.Person.Name.String()
	}
	if o.Type == wallet.OrderTransfer {
		v.Payee = maskAccount(o.PayeeAccountNo)
		if p, ok := b.user(o.PayeeUserID); ok {
			v.Payee = p.Person.Name.String() + " " + v.Payee
		}
		v.Subject = o.Remark
	}
	v.CanRefund = o.Type == wallet.OrderPay && o.Status == string(wallet.StatusSuccess) && o.Refunded < o.Amount
	v.Left = yuan(o.Amount - o.Refunded)
	notified := "未收到"
	if !o.Notified.IsZero() {
		notified = "已收到 " + inZone(o.Notified, "15:04:05")
	}
	amount := "¥" + yuan(o.Amount)
	if o.Amount == 0 {
		amount = "在银行页面输入"
	}
	source := ""
	if o.Source != "" {
		source = "依据：" + o.Source
	}
	v.Live = liveOrder{No: o.OutTradeNo, Status: o.Status, Notified: !o.Notified.IsZero(), Fields: map[string]string{
		"status":   statusText(o.Status, o.Type),
		"source":   source,
		"notified": notified,
		"amount":   amount,
		"refunded": "¥" + yuan(o.Refunded),
		"note":     o.Note,
		"trade":    o.TradeNo,
		"finished": inZone(o.Finished, "2006-01-02 15:04:05"),
	}}
	return v
}

// publishOrder tells the order's open pages (and the admin page) its new
// state.
func (a *app) publishOrder(o order) {
	if o.OutTradeNo == "" {
		return
	}
	a.events.publish("order", o.UserID, viewOrder(o, a.books).Live)
}

func typeText(t wallet.OrderType) string {
	switch t {
	case wallet.OrderRecharge:
		return "充值"
	case wallet.OrderWithdraw:
		return "提现"
	case wallet.OrderPay:
		return "消费"
	case wallet.OrderTransfer:
		return "转账"
	}
	return string(t)
}

// statusText is an order's state for the user.
func statusText(status string, t wallet.OrderType) string {
	switch status {
	case stCreated:
		if t == wallet.OrderPay || t == wallet.OrderTransfer {
			return "待支付"
		}
		return "等待银行"
	case stResolving:
		return "结果确认中"
	case stCancelled:
		return "未完成"
	case stRefused:
		return "未成功"
	case string(wallet.StatusProcessing):
		return "处理中"
	case string(wallet.StatusSuccess):
		if t == wallet.OrderPay {
			return "支付成功"
		}
		return typeText(t) + "成功"
	case string(wallet.StatusFailed):
		return "失败"
	case string(wallet.StatusClosed):
		return "已关闭"
	}
	return status
}

// ordersPage lists the user's orders.
func (a *app) ordersPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	var list []orderView
	for _, o := range a.books.list(func(o *order) bool { return o.UserID == u.ID }) {
		list = append(list, viewOrder(o, a.books))
	}
	a.render(w, http.StatusOK, "orders", page{Title: "我的订单", Back: "/", User: viewUser(u), Events: "/events", Data: list})
}

// orderPage shows one of the user's orders; its status follows the bank's
// notifications live.
func (a *app) orderPage(w http.ResponseWriter, r *http.Request) {
	u := a.mustSignIn(w, r)
	if u == nil {
		return
	}
	o, ok := a.books.order(r.PathValue("no"))
	if !ok || o.UserID != u.ID {
		a.fail(w, r, http.StatusNotFound, "没有这个订单")
		return
	}
	a.render(w, http.StatusOK, "order", page{Title: typeText(o.Type) + "订单", Back: "/orders", User: viewUser(u), Events: "/events", Data: viewOrder(o, a.books)})
}

// streamFor is the event stream of a page that shows an order, or "".
func (a *app) streamFor(o *orderView) string {
	if o == nil {
		return ""
	}
	return "/events"
}

// streamEvents is the server-sent event stream of a user's pages (their
// orders), or with ?all=1 of the admin page (everyone's, and the
// notifications).
func (a *app) streamEvents(w http.ResponseWriter, r *http.Request) {
	all := r.URL.Query().Get("all") == "1"
	u := a.signedIn(r)
	if u == nil && !all {
		http.Error(w, "not signed in", http.StatusUnauthorized)
		return
	}
	var userID string
	if u != nil {
		userID = u.ID
	}
	now := func() []sse {
		var out []sse
		for _, o := range a.books.list(func(o *order) bool { return all || o.UserID == userID }) {
			if e, err := event("order", o.UserID, viewOrder(o, a.books).Live); err == nil {
				out = append(out, e)
			}
		}
		return out
	}
	a.events.serve(w, r, userID, all, now)
}

package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// handleEvent is the app's notify.Func: the Handler has verified the
// notification, opened it, and claimed its notify_id in the Deduper, so a
// redelivery of a handled event never reaches here. It records the event
// and tells the open pages. An error makes the bank deliver it again.
func (a *app) handleEvent(_ context.Context, e *notify.Event) error {
	var ref string
	switch {
	case e.Type.IsOrder():
		o, err := e.Order()
		if err != nil {
			return err
		}
		rec, known := a.books.orderNotified(e, o)
		if !known {
			a.log.Info("merchant-app: an order the app did not make (the bank's wallet page)", "out_trade_no", o.OutTradeNo)
		}
		a.publishOrder(rec)
		ref = o.OutTradeNo
	case e.Type == notify.RefundSucceeded:
		r, err := e.Refund()
		if err != nil {
			return err
		}
		if _, o, known := a.books.refundNotified(e, r); known {
			a.publishOrder(o)
		}
		ref = r.OutRefundNo
	case e.Type.IsAccount():
		acct, err := e.Account()
		if err != nil {
			return err
		}
		a.books.accountNotified(e, acct)
		ref = acct.AccountNo
	default:
		a.books.otherNotified(e)
	}
	a.log.Info("merchant-app: notification", "type", e.Type, "notify_id", e.ID, "ref", ref)
	ns := a.books.noticesNewestFirst()
	if len(ns) > 0 {
		a.events.publish("notice", "", viewNotice(ns[0]))
	}
	return nil
}

// noticeView is a notification as the admin page lists it.
type noticeView struct {
	At     string `json:"at"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Ref    string `json:"ref"`
	Amount string `json:"amount"`
	Status string `json:"status"`
	Known  bool   `json:"known"`
}

func viewNotice(n notice) noticeView {
	v := noticeView{At: inZone(n.At, "15:04:05"), ID: n.ID, Type: string(n.Type), Ref: n.Ref, Status: n.Status, Known: n.Known}
	if n.Amount != 0 {
		v.Amount = "¥" + yuan(n.Amount)
	}
	return v
}

type adminView struct {
	BusinessNow string
	Yesterday   string // the last business day whose statement exists
	ClockError  string
	Orders      []orderView
	Refunds     []refundView
	Notices     []noticeView
	Focus       *refundView // the refund just asked for
}

type refundView struct {
	No, OutTradeNo, MsgID, Amount, Reason, Status, StatusText, Note, RefundNo, RefundedAt, Notified string
}

func viewRefund(r refund) refundView {
	v := refundView{No: r.OutRefundNo, OutTradeNo: r.OutTradeNo, MsgID: r.MsgID, Amount: yuan(r.Amount), Reason: r.Reason,
		Status: r.Status, Note: r.Note, RefundNo: r.RefundNo, RefundedAt: inZone(r.RefundedAt, "2006-01-02 15:04:05"),
		Notified: inZone(r.Notified, "15:04:05")}
	switch r.Status {
	case string(wallet.StatusSuccess):
		v.StatusText = "退款成功"
	case stResolving:
		v.StatusText = "结果确认中"
	case stRefused:
		v.StatusText = "未成功"
	default:
		v.StatusText = "处理中"
	}
	return v
}

// adminPage is the merchant's day: the orders, the refunds, the
// notifications received, and the sandbox's business clock. There is no
// admin sign-in: this is a demo on loopback.
func (a *app) adminPage(w http.ResponseWriter, r *http.Request) {
	v := adminView{}
	if now, err := a.clock.Now(r.Context()); err != nil {
		v.ClockError = "无法读取沙箱时钟"
		a.log.Warn("merchant-app: sandbox clock", "err", err)
	} else {
		v.BusinessNow = inZone(now, "2006-01-02 15:04:05")
		v.Yesterday = inZone(now.AddDate(0, 0, -1), time.DateOnly)
	}
	for _, o := range a.books.list(nil) {
		v.Orders = append(v.Orders, viewOrder(o, a.books))
	}
	focus := r.URL.Query().Get("refund")
	for _, rf := range a.books.refundsOf("") {
		rv := viewRefund(rf)
		v.Refunds = append(v.Refunds, rv)
		if rf.OutRefundNo == focus {
			v.Focus = &rv
		}
	}
	for _, n := range a.books.noticesNewestFirst() {
		v.Notices = append(v.Notices, viewNotice(n))
	}
	a.render(w, http.StatusOK, "admin", page{Title: "商户后台", Back: "/", User: viewUser(a.signedIn(r)), Events: "/events?all=1", Data: v})
}

// adminRefund refunds (part of) a paid order. The refund's number and
// msg_id are recorded before the call; an unknown outcome is settled with
// ResolveRefund under that msg_id.
func (a *app) adminRefund(w http.ResponseWriter, r *http.Request) {
	no := r.PostFormValue("out_trade_no")
	amount, err := parseYuan(r.PostFormValue("amount"))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rf, msg := a.books.addRefund(no, amount, r.PostFormValue("reason"))
	if msg != "" {
		a.fail(w, r, http.StatusBadRequest, msg)
		return
	}
	req := payment.RefundRequest{OutTradeNo: rf.OutTradeNo, OutRefundNo: rf.OutRefundNo, Amount: rf.Amount, Reason: rf.Reason}
	a.log.Info("merchant-app: refund call", "out_trade_no", no, "out_refund_no", rf.OutRefundNo, "msg_id", rf.MsgID, "amount", amount)
	bank, err := a.pay.Refund(r.Context(), req, wallet.WithMsgID(rf.MsgID))
	switch {
	case err == nil:
		_, o := a.books.refundOutcome(rf.OutRefundNo, bank, "", "")
		a.publishOrder(o)
		a.confirmOrder(r.Context(), no)
	case wallet.IsOutcomeUnknown(err):
		a.log.Warn("merchant-app: refund outcome unknown, resolving", "out_refund_no", rf.OutRefundNo, "err", err)
		a.books.refundOutcome(rf.OutRefundNo, nil, stResolving, "银行应答未知，正在查询确认")
		a.resolveRefund(req, rf.MsgID)
	default:
		a.log.Info("merchant-app: refund refused", "out_refund_no", rf.OutRefundNo, "err", err)
		a.books.refundOutcome(rf.OutRefundNo, nil, stRefused, refusal(err))
	}
	http.Redirect(w, r, "/admin?refund="+url.QueryEscape(rf.OutRefundNo)+"#refunds", http.StatusSeeOther)
}

// confirmOrder asks the bank for an order (its refunded amount, after a
// refund) and tells the open pages.
func (a *app) confirmOrder(ctx context.Context, no string) {
	bank, err := a.pay.Query(ctx, no)
	if err != nil {
		a.log.Warn("merchant-app: payment query", "out_trade_no", no, "err", err)
		return
	}
	if o, ok := a.books.confirm(no, bank, "查询"); ok {
		a.publishOrder(o)
	}
}

// resolveRefund settles a refund whose outcome is unknown, in the
// background (see resolve).
func (a *app) resolveRefund(req payment.RefundRequest, msgID string) {
	a.resolving.Add(1)
	go func() {
		defer a.resolving.Done()
		bank, err := a.pay.ResolveRefund(context.Background(), req, msgID)
		var o order
		switch {
		case err == nil:
			_, o = a.books.refundOutcome(req.OutRefundNo, bank, "", "")
			a.confirmOrder(context.Background(), req.OutTradeNo)
		case wallet.IsOutcomeUnknown(err):
			_, o = a.books.refundOutcome(req.OutRefundNo, nil, stResolving, "仍无法确认，等待银行通知")
		default:
			_, o = a.books.refundOutcome(req.OutRefundNo, nil, stRefused, refusal(err))
		}
		a.publishOrder(o)
	}()
}

// refusal is the bank's code of a refusal, for the admin.
func refusal(err error) string {
	var api *wallet.APIError
	if errors.As(err, &api) {
		return string(api.Code) + "：" + api.Message
	}
	return "请求未完成"
}

// adminClock moves the sandbox's business clock forward: by an hour, or a
// day, after which the day's statement exists (docs/protocol.md, sections
// 11.5 and 12.1).
func (a *app) adminClock(w http.ResponseWriter, r *http.Request) {
	steps := map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour}
	d, ok := steps[r.PostFormValue("advance")]
	if !ok {
		a.fail(w, r, http.StatusBadRequest, "只能前进 1 小时或 1 天")
		return
	}
	now, err := a.clock.Advance(r.Context(), d)
	if err != nil {
		a.log.Warn("merchant-app: sandbox clock", "err", err)
		a.fail(w, r, http.StatusBadGateway, "无法调整沙箱时钟")
		return
	}
	a.log.Info("merchant-app: business clock moved", "by", d, "now", inZone(now, time.DateTime))
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
}

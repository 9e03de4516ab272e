package sandbox

import (
	"fmt"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
)

// Order types and statuses.
const (
	typeRecharge = "RECHARGE"
	typeWithdraw = "WITHDRAW"
	typePay      = "PAY"
	typeTransfer = "TRANSFER"

	orderSuccess = "SUCCESS"
)

// Ledger entry types (GET /sandbox/accounts/{account_no}/ledger).
const (
	ledgerRecharge    = "RECHARGE"
	ledgerWithdraw    = "WITHDRAW"
	ledgerPay         = "PAY"
	ledgerTransferOut = "TRANSFER_OUT"
	ledgerTransferIn  = "TRANSFER_IN"
	ledgerRefund      = "REFUND"
)

// rechargeArgs is payment/recharge.
type rechargeArgs struct {
	AccountNo  string `json:"account_no"`
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
	NotifyURL  string `json:"notify_url"`
}

// withdrawArgs is payment/withdraw.
type withdrawArgs struct {
	AccountNo  string `json:"account_no"`
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
	Password   string `json:"password"`
	NotifyURL  string `json:"notify_url"`
}

// payArgs is payment/pay.
type payArgs struct {
	AccountNo  string `json:"account_no"`
	OutTradeNo string `json:"out_trade_no"`
	Amount     int64  `json:"amount"`
	Subject    string `json:"subject"`
	Password   string `json:"password"`
	NotifyURL  string `json:"notify_url"`
}

// transferArgs is payment/transfer.
type transferArgs struct {
	AccountNo      string `json:"account_no"`
	PayeeAccountNo string `json:"payee_account_no"`
	PayeeName      string `json:"payee_name"`
	OutTradeNo     string `json:"out_trade_no"`
	Amount         int64  `json:"amount"`
	Password       string `json:"password"`
	Remark         string `json:"remark"`
	NotifyURL      string `json:"notify_url"`
}

// refundArgs is payment/refund.
type refundArgs struct {
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no"`
	Amount      int64  `json:"amount"`
	Reason      string `json:"reason"`
}

// orderQueryArgs is payment/query.
type orderQueryArgs struct {
	OutTradeNo string `json:"out_trade_no"`
}

// refundQueryArgs is payment/refund/query.
type refundQueryArgs struct {
	OutRefundNo string `json:"out_refund_no"`
}

// moneyCall is what the four money calls have in common; one function
// runs them so that the order of checks is written once.
type moneyCall struct {
	typ            string
	accountNo      string
	outTradeNo     string
	amount         int64
	subject        string
	payeeAccountNo string
	payeeName      string
	remark         string
	notifyURL      string
}

func (c *core) recharge(who caller, a rechargeArgs) (orderView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("out_trade_no", a.OutTradeNo, rules.OrderNo),
		amountCheck("amount", a.Amount),
		optional("notify_url", a.NotifyURL, rules.CallbackURL),
	); err != nil {
		return orderView{}, err
	}
	return c.money(who, moneyCall{typ: typeRecharge, accountNo: a.AccountNo, outTradeNo: a.OutTradeNo,
		amount: a.Amount, notifyURL: a.NotifyURL}, pinValue{})
}

func (c *core) withdraw(who caller, a withdrawArgs, pin pinValue) (orderView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("out_trade_no", a.OutTradeNo, rules.OrderNo),
		amountCheck("amount", a.Amount),
		pinGiven(pin),
		optional("notify_url", a.NotifyURL, rules.CallbackURL),
	); err != nil {
		return orderView{}, err
	}
	return c.money(who, moneyCall{typ: typeWithdraw, accountNo: a.AccountNo, outTradeNo: a.OutTradeNo,
		amount: a.Amount, notifyURL: a.NotifyURL}, pin)
}

func (c *core) pay(who caller, a payArgs, pin pinValue) (orderView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("out_trade_no", a.OutTradeNo, rules.OrderNo),
		amountCheck("amount", a.Amount),
		required("subject", a.Subject, text(128)),
		pinGiven(pin),
		optional("notify_url", a.NotifyURL, rules.CallbackURL),
	); err != nil {
		return orderView{}, err
	}
	return c.money(who, moneyCall{typ: typePay, accountNo: a.AccountNo, outTradeNo: a.OutTradeNo,
		amount: a.Amount, subject: a.Subject, notifyURL: a.NotifyURL}, pin)
}

func (c *core) transfer(who caller, a transferArgs, pin pinValue) (orderView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("payee_account_no", a.PayeeAccountNo, rules.AccountNo),
		required("payee_name", a.PayeeName, rules.Name),
		required("out_trade_no", a.OutTradeNo, rules.OrderNo),
		amountCheck("amount", a.Amount),
		pinGiven(pin),
		optional("remark", a.Remark, text(64)),
		optional("notify_url", a.NotifyURL, rules.CallbackURL),
	); err != nil {
		return orderView{}, err
	}
	if a.PayeeAccountNo == a.AccountNo {
		return orderView{}, paramInvalid("payee_account_no", "must not be the paying account")
	}
	return c.money(who, moneyCall{typ: typeTransfer, accountNo: a.AccountNo, outTradeNo: a.OutTradeNo,
		amount: a.Amount, payeeAccountNo: a.PayeeAccountNo, payeeName: a.PayeeName, remark: a.Remark,
		notifyURL: a.NotifyURL}, pin)
}

// money runs a money call. Order (docs/protocol.md): formats (done by the
// caller) → account → out_trade_no already used → status (payer, then
// payee) → PIN → payee name → balance → daily then yearly limit (payer's
// out, then payee's in) → commit. A failed call records no order.
func (c *core) money(who caller, m moneyCall, pin pinValue) (orderView, *apiError) {
	var out orderView
	err := c.run(func(tx *txn) *apiError {
		acct := tx.accountIn(who.MerchantID, m.accountNo)
		if acct == nil {
			return failCode(codeAccountNotFound)
		}
		if o := tx.order(who.MerchantID, m.outTradeNo); o != nil {
			if !o.sameCall(m) {
				return failCode(codeOrderConflict)
			}
			out = o.view()
			return nil
		}
		if err := statusErr(acct); err != nil {
			return err
		}
		var payee *account
		if m.typ == typeTransfer {
			payee = tx.accountIn(who.MerchantID, m.payeeAccountNo)
			if payee == nil || payee.Status == statusClosed {
				return fail(codeAccountNotFound, "payee account not found")
			}
			if payee.Status == statusFrozen {
				return fail(codeAccountFrozen, "payee account is frozen")
			}
		}
		if m.typ != typeRecharge {
			if err := tx.checkPIN(acct, pin); err != nil {
				return err
			}
		}
		if payee != nil && payee.Name != m.payeeName {
			return paramInvalid("payee_name", "does not match the payee account holder")
		}
		if m.typ == typeRecharge {
			if acct.Balance > rules.MaxAmount-m.amount {
				return paramInvalid("amount", "would take the balance over 2^53-1 fen")
			}
		} else if acct.Balance < m.amount {
			return failCode(codeInsufficientBalance)
		}
		k := keysAt(tx.now)
		if m.typ == typePay || m.typ == typeTransfer {
			if err := acct.checkOut(k, m.amount); err != nil {
				return err
			}
		}
		if payee != nil {
			if err := payee.checkIn(k, m.amount); err != nil {
				return err
			}
			if payee.Balance > rules.MaxAmount-m.amount {
				return paramInvalid("amount", "would take the payee's balance over 2^53-1 fen")
			}
		}

		meta := tx.stagedMeta()
		meta.TradeSeq++
		o := &order{
			MerchantID: who.MerchantID, AppID: who.AppID,
			OutTradeNo: m.outTradeNo, TradeNo: fmt.Sprintf("B%s%010d", tx.now.In(wire.Shanghai).Format("20060102"), meta.TradeSeq),
			Type: m.typ, AccountNo: m.accountNo, Amount: m.amount, Status: orderSuccess,
			Subject: m.subject, PayeeAccountNo: m.payeeAccountNo, PayeeName: m.payeeName, Remark: m.remark,
			NotifyURL: m.notifyURL, CreatedAt: tx.now, FinishedAt: tx.now,
		}
		e := tx.edit(acct)
		switch m.typ {
		case typeRecharge:
			e.Balance += m.amount
			tx.post(e, ledgerRecharge, m.amount, m.outTradeNo, "")
		case typeWithdraw:
			e.Balance -= m.amount
			tx.post(e, ledgerWithdraw, -m.amount, m.outTradeNo, "")
		case typePay:
			e.Balance -= m.amount
			e.addOut(k, m.amount)
			tx.post(e, ledgerPay, -m.amount, m.outTradeNo, "")
		case typeTransfer:
			e.Balance -= m.amount
			e.addOut(k, m.amount)
			tx.post(e, ledgerTransferOut, -m.amount, m.outTradeNo, "")
			p := tx.edit(payee)
			p.Balance += m.amount
			p.addIn(k, m.amount)
			tx.post(p, ledgerTransferIn, m.amount, m.outTradeNo, "")
		}
		tx.putOrder(o)
		out = o.view()
		tx.notify(orderEvent(who, o, out))
		return nil
	})
	return out, err
}

// sameCall reports whether a repeated out_trade_no carries the parameters
// of the existing order. The PIN ciphertext (fresh each time) and
// notify_url are not compared.
func (o *order) sameCall(m moneyCall) bool {
	return o.Type == m.typ && o.AccountNo == m.accountNo && o.Amount == m.amount &&
		o.Subject == m.subject && o.PayeeAccountNo == m.payeeAccountNo &&
		o.PayeeName == m.payeeName && o.Remark == m.remark
}

// refund returns money of a PAY order to the paying account. Order: formats
// → order → out_refund_no already used → refundable → account not closed →
// amount → commit. A frozen account still receives refunds.
func (c *core) refund(who caller, a refundArgs) (refundView, *apiError) {
	if err := firstInvalid(
		required("out_trade_no", a.OutTradeNo, rules.OrderNo),
		required("out_refund_no", a.OutRefundNo, rules.OrderNo),
		amountCheck("amount", a.Amount),
		optional("reason", a.Reason, text(128)),
	); err != nil {
		return refundView{}, err
	}
	var out refundView
	err := c.run(func(tx *txn) *apiError {
		o := tx.order(who.MerchantID, a.OutTradeNo)
		if o == nil {
			return failCode(codeOrderNotFound)
		}
		if r := tx.refund(who.MerchantID, a.OutRefundNo); r != nil {
			if r.OutTradeNo != a.OutTradeNo || r.Amount != a.Amount || r.Reason != a.Reason {
				return failCode(codeOrderConflict)
			}
			out = r.view()
			return nil
		}
		if o.Type != typePay || o.Status != orderSuccess {
			return failCode(codeOrderNotRefundable)
		}
		acct := tx.account(o.AccountNo)
		if acct == nil || acct.Status == statusClosed {
			return fail(codeAccountClosed, "the paying account is closed")
		}
		if a.Amount > o.Amount-o.RefundedAmount {
			return fail(codeRefundAmountExceeded, fmt.Sprintf("at most %d fen of this order is left to refund", o.Amount-o.RefundedAmount))
		}
		if acct.Balance > rules.MaxAmount-a.Amount {
			return paramInvalid("amount", "would take the balance over 2^53-1 fen")
		}
		meta := tx.stagedMeta()
		meta.RefundSeq++
		r := &refund{
			MerchantID: who.MerchantID, AppID: who.AppID,
			OutRefundNo: a.OutRefundNo, RefundNo: fmt.Sprintf("R%s%010d", tx.now.In(wire.Shanghai).Format("20060102"), meta.RefundSeq),
			OutTradeNo: a.OutTradeNo, Amount: a.Amount, Reason: a.Reason, Status: orderSuccess, RefundedAt: tx.now,
		}
		oc := *o
		oc.RefundedAmount += a.Amount
		tx.putOrder(&oc)
		e := tx.edit(acct)
		e.Balance += a.Amount
		tx.post(e, ledgerRefund, a.Amount, a.OutTradeNo, a.OutRefundNo)
		tx.putRefund(r)
		out = r.view()
		tx.notify(refundEvent(who, &oc, out))
		return nil
	})
	return out, err
}

// queryOrder is payment/query within the caller's channel.
func (c *core) queryOrder(who caller, a orderQueryArgs) (orderView, *apiError) {
	if err := firstInvalid(required("out_trade_no", a.OutTradeNo, rules.OrderNo)); err != nil {
		return orderView{}, err
	}
	var out orderView
	err := c.run(func(tx *txn) *apiError {
		o := tx.order(who.MerchantID, a.OutTradeNo)
		if o == nil {
			return failCode(codeOrderNotFound)
		}
		out = o.view()
		return nil
	})
	return out, err
}

// queryRefund is payment/refund/query within the caller's channel.
func (c *core) queryRefund(who caller, a refundQueryArgs) (refundView, *apiError) {
	if err := firstInvalid(required("out_refund_no", a.OutRefundNo, rules.OrderNo)); err != nil {
		return refundView{}, err
	}
	var out refundView
	err := c.run(func(tx *txn) *apiError {
		r := tx.refund(who.MerchantID, a.OutRefundNo)
		if r == nil {
			return fail(codeOrderNotFound, "refund not found")
		}
		out = r.view()
		return nil
	})
	return out, err
}

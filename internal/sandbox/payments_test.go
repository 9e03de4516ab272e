package sandbox

import (
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	rechargePath    = "/api/v1/payment/recharge"
	withdrawPath    = "/api/v1/payment/withdraw"
	payPath         = "/api/v1/payment/pay"
	transferPath    = "/api/v1/payment/transfer"
	refundPath      = "/api/v1/payment/refund"
	orderQueryPath  = "/api/v1/payment/query"
	refundQueryPath = "/api/v1/payment/refund/query"
)

func TestRechargeWithdrawPayAndQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()

	r := f.c.ok(rechargePath, map[string]any{"account_no": acct, "out_trade_no": "R-0001", "amount": 50_000})
	var o orderView
	r.decode(t, &o)
	require.Equal(t, orderView{OutTradeNo: "R-0001", TradeNo: o.TradeNo, Type: typeRecharge, AccountNo: acct,
		Amount: 50_000, Status: orderSuccess, CreatedAt: "2026-11-25 16:00:00", FinishedAt: "2026-11-25 16:00:00"}, o)
	require.Regexp(t, `^B20261125\d{10}$`, o.TradeNo)

	r = f.c.ok(withdrawPath, map[string]any{"account_no": acct, "out_trade_no": "W-0001", "amount": 10_000, "password": f.c.pin(goodPIN)})
	require.Equal(t, typeWithdraw, r.obj(t)["type"])

	pay := f.payArgs(f.c, acct, 2_500)
	pay["out_trade_no"] = "P-0001"
	r = f.c.ok(payPath, pay)
	r.decode(t, &o)
	require.Equal(t, typePay, o.Type)
	require.Equal(t, "会员月卡 & 礼包", o.Subject)
	require.Contains(t, string(r.biz), `"会员月卡 & 礼包"`, "no HTML escaping")
	require.Equal(t, int64(37_500), f.balance(f.c, acct))

	r = f.c.ok(orderQueryPath, map[string]any{"out_trade_no": "P-0001"})
	var q orderView
	r.decode(t, &q)
	require.Equal(t, o, q)
	// payment/query is not 🔒.
	r = f.c.do(&treq{path: orderQueryPath, plain: true, biz: bizJSON(t, map[string]any{"out_trade_no": "W-0001"})})
	require.Equal(t, codeSuccess, r.code)
	f.c.fails(codeOrderNotFound, orderQueryPath, map[string]any{"out_trade_no": "P-9999"})

	// Recharge, withdraw and pay do not move the in-limits; pay moves out.
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, int64(2_500), v.Limits.DailyOutUsed)
	require.Equal(t, int64(2_500), v.Limits.YearlyOutUsed)
	require.Equal(t, int64(0), v.Limits.DailyInUsed)

	ledger, err := f.bank.Ledger(acct)
	require.NoError(t, err)
	require.Len(t, ledger, 3)
	require.Equal(t, LedgerEntry{Time: testStart, Type: ledgerPay, Amount: -2_500, BalanceAfter: 37_500, OutTradeNo: "P-0001"}, ledger[2])
}

func TestMoneyCallErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)

	// Formats.
	r := f.c.fails(codeParamInvalid, rechargePath, map[string]any{"account_no": acct, "out_trade_no": "x", "amount": 1})
	require.Equal(t, "out_trade_no: must be 6 to 32 characters", r.msg)
	r = f.c.fails(codeParamInvalid, rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 0})
	require.Equal(t, "amount: must be at least 1 fen", r.msg)
	r = f.c.fails(codeParamInvalid, rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": -5})
	require.Equal(t, "amount: must be at least 1 fen", r.msg)
	r = f.c.fails(codeParamInvalid, rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1, "notify_url": "http://merchant.example/n"})
	require.Equal(t, "notify_url: must use https (http only on a loopback host)", r.msg)
	pay := f.payArgs(f.c, acct, 1)
	delete(pay, "subject")
	r = f.c.fails(codeParamInvalid, payPath, pay)
	require.Equal(t, "subject: is required", r.msg)
	pay = f.payArgs(f.c, acct, 1)
	delete(pay, "password")
	r = f.c.fails(codeParamInvalid, payPath, pay)
	require.Equal(t, "password: is required", r.msg)

	// Account.
	f.c.fails(codeAccountNotFound, payPath, f.payArgs(f.c, "6236880000009999", 1))
	other := f.otherMerchant("other-app", "M200000002")
	other.fails(codeAccountNotFound, rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1})

	// Balance: a failed call records nothing and its out_trade_no stays free.
	pay = f.payArgs(f.c, acct, 1_001)
	f.c.fails(codeInsufficientBalance, payPath, pay)
	f.c.fails(codeOrderNotFound, orderQueryPath, map[string]any{"out_trade_no": pay["out_trade_no"]})
	f.c.fails(codeInsufficientBalance, withdrawPath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1_001, "password": f.c.pin(goodPIN)})
	f.recharge(f.c, acct, 1)
	pay["password"] = f.c.pin(goodPIN)
	f.c.ok(payPath, pay)
	require.Equal(t, int64(0), f.balance(f.c, acct))

	// PIN.
	f.recharge(f.c, acct, 1_000)
	bad := f.payArgs(f.c, acct, 1)
	bad["password"] = f.c.pin("975310")
	f.c.fails(codePasswordIncorrect, payPath, bad)

	// Frozen: nothing moves in or out.
	require.NoError(t, f.bank.Freeze(acct))
	f.c.fails(codeAccountFrozen, payPath, f.payArgs(f.c, acct, 1))
	f.c.fails(codeAccountFrozen, rechargePath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1})
	f.c.fails(codeAccountFrozen, withdrawPath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1, "password": f.c.pin(goodPIN)})
	require.NoError(t, f.bank.Unfreeze(acct))
	f.c.ok(payPath, f.payArgs(f.c, acct, 1))
}

// TestOutTradeNoIdempotency: same out_trade_no and parameters return the
// existing order (a new msg_id, a fresh PIN ciphertext, another notify_url
// are not compared); other parameters get ORDER_CONFLICT.
func TestOutTradeNoIdempotency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	acct2, _ := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	pay := f.payArgs(f.c, acct, 1_000)
	first := f.c.ok(payPath, pay)
	pay["password"] = f.c.pin(goodPIN)
	pay["notify_url"] = "https://merchant.example/other"
	again := f.c.ok(payPath, pay)
	require.JSONEq(t, string(first.biz), string(again.biz))
	require.Equal(t, int64(9_000), f.balance(f.c, acct), "money moved once")

	for field, value := range map[string]any{"amount": 1_001, "subject": "another", "account_no": acct2} {
		p := clone(pay)
		p[field] = value
		r := f.c.fails(codeOrderConflict, payPath, p)
		require.NotEmpty(t, r.msg, field)
	}
	// Another type of call with the same out_trade_no conflicts too.
	f.c.fails(codeOrderConflict, rechargePath, map[string]any{"account_no": acct, "out_trade_no": pay["out_trade_no"], "amount": 1_000})
	// out_trade_no is per merchant: another merchant may use it.
	other := f.otherMerchant("other-app", "M200000002")
	acctO := f.open(other, f.person())
	other.ok(rechargePath, map[string]any{"account_no": acctO, "out_trade_no": pay["out_trade_no"], "amount": 5})
	require.Equal(t, int64(9_000), f.balance(f.c, acct))

	// A repeat returns the order even once the account is frozen.
	require.NoError(t, f.bank.Freeze(acct))
	pay["password"] = f.c.pin(goodPIN)
	f.c.ok(payPath, pay)
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	payer, _ := f.newAccount()
	payee, pp := f.newAccount()
	f.recharge(f.c, payer, 100_000)
	args := func(amount int64) map[string]any {
		return map[string]any{"account_no": payer, "payee_account_no": payee, "payee_name": pp.name,
			"out_trade_no": f.orderNo(), "amount": amount, "password": f.c.pin(goodPIN), "remark": "房租"}
	}
	r := f.c.ok(transferPath, args(30_000))
	var o orderView
	r.decode(t, &o)
	require.Equal(t, typeTransfer, o.Type)
	require.Equal(t, payee, o.PayeeAccountNo)
	require.Equal(t, int64(70_000), f.balance(f.c, payer))
	require.Equal(t, int64(30_000), f.balance(f.c, payee))
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": payee}).decode(t, &v)
	require.Equal(t, int64(30_000), v.Limits.DailyInUsed)
	require.Equal(t, int64(0), v.Limits.DailyOutUsed)
	ledger, err := f.bank.Ledger(payee)
	require.NoError(t, err)
	require.Equal(t, ledgerTransferIn, ledger[0].Type)

	a := args(1)
	a["payee_name"] = "王五"
	r = f.c.fails(codeParamInvalid, transferPath, a)
	require.Equal(t, "payee_name: does not match the payee account holder", r.msg)
	a = args(1)
	a["payee_account_no"] = payer
	r = f.c.fails(codeParamInvalid, transferPath, a)
	require.Equal(t, "payee_account_no: must not be the paying account", r.msg)
	a = args(1)
	a["payee_account_no"] = "6236880000009999"
	f.c.fails(codeAccountNotFound, transferPath, a)
	f.c.fails(codeInsufficientBalance, transferPath, args(70_001))

	// The payee must be of the same channel...
	other := f.otherMerchant("other-app", "M200000002")
	op := f.person()
	foreign := f.open(other, op)
	a = args(1)
	a["payee_account_no"], a["payee_name"] = foreign, op.name
	f.c.fails(codeAccountNotFound, transferPath, a)
	// ...open, and not frozen.
	require.NoError(t, f.bank.Freeze(payee))
	r = f.c.fails(codeAccountFrozen, transferPath, args(1))
	require.Contains(t, r.msg, "payee")
	require.NoError(t, f.bank.Unfreeze(payee))
	f.c.ok(withdrawPath, map[string]any{"account_no": payee, "out_trade_no": f.orderNo(), "amount": 30_000, "password": f.c.pin(goodPIN)})
	f.c.ok(closePath, map[string]any{"account_no": payee, "sms_serial": f.sms(f.c, pp.mobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
	f.c.fails(codeAccountNotFound, transferPath, args(1))
}

func TestRefund(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	pay := f.payArgs(f.c, acct, 3_000)
	f.c.ok(payPath, pay)
	trade := pay["out_trade_no"]

	r := f.c.ok(refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0001", "amount": 1_000, "reason": "不想要了"})
	var rf refundView
	r.decode(t, &rf)
	require.Equal(t, refundView{OutRefundNo: "RF-0001", RefundNo: rf.RefundNo, OutTradeNo: trade.(string), Amount: 1_000,
		Status: orderSuccess, RefundedAt: "2026-11-25 16:00:00"}, rf)
	require.Equal(t, int64(8_000), f.balance(f.c, acct))

	// Idempotent on out_refund_no; other parameters conflict.
	again := f.c.ok(refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0001", "amount": 1_000, "reason": "不想要了"})
	require.JSONEq(t, string(r.biz), string(again.biz))
	f.c.fails(codeOrderConflict, refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0001", "amount": 999, "reason": "不想要了"})
	require.Equal(t, int64(8_000), f.balance(f.c, acct))

	f.c.fails(codeRefundAmountExceeded, refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0002", "amount": 2_001})
	// A frozen account still receives refunds.
	require.NoError(t, f.bank.Freeze(acct))
	f.c.ok(refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0002", "amount": 2_000})
	require.NoError(t, f.bank.Unfreeze(acct))
	var o orderView
	f.c.ok(orderQueryPath, map[string]any{"out_trade_no": trade}).decode(t, &o)
	require.Equal(t, int64(3_000), o.RefundedAmount)
	require.Equal(t, orderSuccess, o.Status, "fully refunded keeps SUCCESS")
	f.c.fails(codeRefundAmountExceeded, refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0003", "amount": 1})

	// Refunds do not give limit back.
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, int64(3_000), v.Limits.DailyOutUsed)

	r = f.c.ok(refundQueryPath, map[string]any{"out_refund_no": "RF-0002"})
	require.Equal(t, float64(2_000), r.obj(t)["amount"])
	f.c.fails(codeOrderNotFound, refundQueryPath, map[string]any{"out_refund_no": "RF-9999"})

	// Only PAY orders are refundable.
	recharge := map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 5}
	f.c.ok(rechargePath, recharge)
	f.c.fails(codeOrderNotRefundable, refundPath, map[string]any{"out_trade_no": recharge["out_trade_no"], "out_refund_no": "RF-0004", "amount": 1})
	f.c.fails(codeOrderNotFound, refundPath, map[string]any{"out_trade_no": "NOPE-0001", "out_refund_no": "RF-0005", "amount": 1})
	// Another channel cannot see the order.
	other := f.otherMerchant("other-app", "M200000002")
	other.fails(codeOrderNotFound, refundPath, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0006", "amount": 1})
	other.fails(codeOrderNotFound, orderQueryPath, map[string]any{"out_trade_no": trade})
	other.fails(codeOrderNotFound, refundQueryPath, map[string]any{"out_refund_no": "RF-0001"})

	// payment/refund is not 🔒.
	r = f.c.do(&treq{path: refundPath, plain: true, biz: bizJSON(t, map[string]any{"out_trade_no": trade, "out_refund_no": "RF-0001", "amount": 1_000, "reason": "不想要了"})})
	require.Equal(t, codeSuccess, r.code)

	// A closed account cannot receive a refund.
	acct2, p2 := f.newAccount()
	f.recharge(f.c, acct2, 100)
	pay2 := f.payArgs(f.c, acct2, 100)
	f.c.ok(payPath, pay2)
	f.c.ok(closePath, map[string]any{"account_no": acct2, "sms_serial": f.sms(f.c, p2.mobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
	f.c.fails(codeAccountClosed, refundPath, map[string]any{"out_trade_no": pay2["out_trade_no"], "out_refund_no": "RF-0007", "amount": 1})
}

// TestCoreWithoutGateway: the business operations take typed arguments and
// a PIN in clear, as the H5 pages will call them, and obey the same rules.
func TestCoreWithoutGateway(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.bank.core
	who := caller{AppID: DefaultAppID, MerchantID: DefaultMerchantID}
	p := f.person()
	v, err := c.verify(who, verifyArgs{Name: p.name, IDNumber: p.id, CardNo: p.card, Mobile: p.mobile})
	require.Nil(t, err)
	s, err := c.sendSMS(who, smsSendArgs{Mobile: p.mobile, Scene: sceneOpen})
	require.Nil(t, err)
	acct, err := c.openAccount(who, openArgs{UserID: "u-h5", VerifyToken: v.VerifyToken, Name: p.name, IDNumber: p.id,
		CardNo: p.card, Mobile: p.mobile, SMSSerial: s.SMSSerial, SMSCode: sandboxCode, FaceImage: f.face()},
		clearPIN("password", goodPIN))
	require.Nil(t, err)
	_, err = c.recharge(who, rechargeArgs{AccountNo: acct.AccountNo, OutTradeNo: "H5-000001", Amount: 500})
	require.Nil(t, err)
	_, err = c.pay(who, payArgs{AccountNo: acct.AccountNo, OutTradeNo: "H5-000002", Amount: 100, Subject: "s"}, clearPIN("password", "975310"))
	require.Equal(t, codePasswordIncorrect, err.code)
	o, err := c.pay(who, payArgs{AccountNo: acct.AccountNo, OutTradeNo: "H5-000002", Amount: 100, Subject: "s"}, clearPIN("password", goodPIN))
	require.Nil(t, err)
	require.Equal(t, orderSuccess, o.Status)
	// And the API sees the same account.
	require.Equal(t, int64(400), f.balance(f.c, acct.AccountNo))
}

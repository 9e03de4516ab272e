package h5site_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
)

// Every flow is driven as a user without JavaScript would: open the link,
// post the forms, land on the merchant's return_url.

func TestH5OpenFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := f.receiver()
	p := f.person()
	data := f.openData(nonce(), p.prefill())
	data["notify_url"] = rcv.srv.URL + "/notify"
	b := f.browser()

	pg := b.open(f.link("open", data))
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, "开通电子账户")
	for _, v := range []string{p.name, p.id, p.mobile, p.card} {
		require.Contains(t, pg.body, `value="`+v+`"`, "the form is prefilled from data")
	}
	require.NotContains(t, pg.url, p.id, "personal data stays out of the session URL")
	csp := pg.header.Get("Content-Security-Policy")
	require.Contains(t, csp, "default-src 'none'")
	require.Contains(t, csp, "form-action 'self' http://127.0.0.1:9", "the form may land on the return_url")
	require.NotContains(t, csp, "script-src")

	typed := p.prefill()
	// Submitting before the SMS and the face asks for them, in form order.
	pg = b.submit("submit", typed)
	require.Contains(t, pg.alert(), "请先获取短信验证码")
	pg = b.submit("sms", typed)
	require.Contains(t, pg.notice(), "验证码已发送至 139****")
	require.Contains(t, pg.body, "123456", "the sandbox hint")
	typed["sms_code"] = "123456"
	pg = b.submit("submit", typed)
	require.Contains(t, pg.alert(), "请上传人脸照片")

	// A grayscale photo is uploaded, and fails the bank's face check.
	pg = b.upload("submit", merge(typed, map[string]string{"pin": goodPIN, "pin2": goodPIN}), jpegOf(t, grayImage(80, 80)))
	require.Contains(t, pg.body, "已上传照片")
	require.Contains(t, pg.alert(), "人脸识别未通过")
	require.NotContains(t, pg.body, goodPIN, "a PIN is never sent back")

	pg = b.submit("testface", typed)
	require.Contains(t, pg.notice(), "已使用沙箱测试人脸")
	pg = b.submit("submit", merge(typed, map[string]string{"pin": goodPIN, "pin2": "135791"}))
	require.Contains(t, pg.alert(), "两次输入的交易密码不一致")
	pg = b.submit("submit", merge(typed, map[string]string{"pin": "12345", "pin2": "12345"}))
	require.Contains(t, pg.alert(), "请设置6位数字交易密码")
	pg = b.submit("submit", merge(typed, map[string]string{"pin": "123456", "pin2": "123456"}))
	require.Contains(t, pg.alert(), "交易密码过于简单")

	// A wrong fact is the user's to correct on the page.
	pg = b.submit("submit", merge(typed, map[string]string{"name": p.name + "不符", "pin": goodPIN, "pin2": goodPIN}))
	require.Contains(t, pg.alert(), "身份信息与银行卡预留信息不符")
	require.Contains(t, pg.body, `value="`+p.name+`不符"`, "what the user typed stays")
	pg = b.submit("submit", merge(typed, map[string]string{"card_no": cardNumber("4", 7), "pin": goodPIN, "pin2": goodPIN}))
	require.Contains(t, pg.alert(), "不是借记卡")
	pg = b.submit("submit", merge(typed, map[string]string{"id_number": p.id[:17] + "0", "pin": goodPIN, "pin2": goodPIN}))
	if p.id[17] != '0' {
		require.Contains(t, pg.alert(), "身份证号校验位不正确")
	}

	formURL := b.formAction()
	b.submit("submit", merge(typed, map[string]string{"pin": goodPIN, "pin2": goodPIN}))
	back := b.back()
	require.Equal(t, "open", back["page"])
	require.Equal(t, "SUCCESS", back["result"])
	require.Regexp(t, `^623688\d{10}$`, back["account_no"])
	require.Empty(t, back["out_trade_no"])

	got := rcv.waitFor(1)
	require.Equal(t, "ACCOUNT_OPENED", got[0].fields["notify_type"], "to the link's notify_url")
	require.Equal(t, back["account_no"], got[0].biz["account_no"])
	require.Equal(t, "NORMAL", got[0].biz["status"])
	require.Equal(t, "u-1001", got[0].biz["user_id"])

	// The PIN set on the page is the account's PIN.
	f.recharge(back["account_no"], 100)
	pay := f.complete(f.link("pay", map[string]string{"account_no": back["account_no"], "out_trade_no": f.orderNo(),
		"amount": "50", "subject": "s"}), sandbox.H5Input{PIN: goodPIN})
	require.Equal(t, "SUCCESS", pay["result"])

	// The flow is over: its session is gone, and so is the link.
	pg = b.keep(b.c.PostForm(formURL, url.Values{"action": {"submit"}}))
	require.Equal(t, "session", pg.errorKind())
	require.Equal(t, http.StatusForbidden, pg.status)
	pg = b.open(f.link("open", data))
	require.Equal(t, "reused", pg.errorKind())

	// A second account for the same person: shown, and the user may leave.
	b2 := f.browser()
	b2.open(f.link("open", f.openData(nonce(), p.prefill())))
	f.clock.Add(time.Minute) // one SMS a minute per mobile and scene
	b2.submit("sms", typed)
	b2.submit("testface", typed)
	pg = b2.submit("submit", merge(typed, map[string]string{"pin": goodPIN, "pin2": goodPIN}))
	require.Contains(t, pg.alert(), "您已在本渠道开立过电子账户")
	b2.submit("cancel", nil)
	back = b2.back()
	require.Equal(t, "CANCELLED", back["result"])
	require.Empty(t, back["account_no"], "open returns no account when it did not finish")
}

func TestH5OpenWithoutPrefill(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b := f.browser()
	pg := b.open(f.link("open", nil))
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.body, `id="name" name="name" type="text" autocomplete="name" placeholder="与身份证一致" value=""`)
	pg = b.submit("sms", map[string]string{"mobile": "12345"})
	require.Contains(t, pg.alert(), "手机号格式不正确")
	b.submit("cancel", nil)
	require.Equal(t, "CANCELLED", b.back()["result"])
}

// The verify limit ends an open flow: nothing typed can pass today.
func TestH5OpenFinalFailure(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	p := f.person()
	b := f.browser()
	b.open(f.link("open", nil))
	typed := map[string]string{"name": "李四不符", "id_number": p.id, "mobile": p.mobile, "card_no": p.card, "sms_code": "123456"}
	b.submit("sms", typed)
	b.submit("testface", typed)
	var pg *page
	for i := 0; i < 5; i++ {
		pg = b.submit("submit", merge(typed, map[string]string{"pin": goodPIN, "pin2": goodPIN}))
		require.Contains(t, pg.alert(), "身份信息与银行卡预留信息不符")
	}
	// The sixth try of the day cannot succeed whatever is typed.
	pg = b.submit("submit", merge(typed, map[string]string{"name": "李四", "pin": goodPIN, "pin2": goodPIN}))
	require.Contains(t, pg.body, "开户失败")
	require.Contains(t, pg.body, "今日身份核验失败次数过多")
	require.Contains(t, pg.body, "返回商户")
	b.submit("finish", nil)
	back := b.back()
	require.Equal(t, "FAILED", back["result"])
	require.Empty(t, back["account_no"])
}

func TestH5RechargeFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	order := f.orderNo()
	b := f.browser()
	pg := b.open(f.link("recharge", map[string]string{"account_no": acct, "out_trade_no": order}))
	require.Contains(t, pg.body, `value=""`, "without an amount on the link the user types one")
	require.Contains(t, pg.body, order)
	require.Contains(t, pg.body, "6222********", "the bound card, masked")

	pg = b.submit("submit", map[string]string{"amount": "12.345"})
	require.Contains(t, pg.alert(), "请输入正确的充值金额")
	pg = b.submit("submit", map[string]string{"amount": "abc"})
	require.Contains(t, pg.alert(), "请输入正确的充值金额")
	b.submit("submit", map[string]string{"amount": "¥1,234.5"})
	back := b.back()
	require.Equal(t, map[string]string{"app_id": sandbox.DefaultAppID, "merchant_id": sandbox.DefaultMerchantID,
		"page": "recharge", "result": "SUCCESS", "out_trade_no": order,
		"timestamp": back["timestamp"], "sign_key_id": sandbox.DefaultBankKeyID, "sign_type": "SM2"}, back)
	require.Equal(t, int64(123450), f.balance(acct))
	require.True(t, f.ledgerHas(acct, "RECHARGE", order))

	// A cancelled recharge still names its order.
	b = f.browser()
	b.open(f.link("recharge", map[string]string{"account_no": acct, "out_trade_no": "T-cancel-1"}))
	b.submit("cancel", nil)
	back = b.back()
	require.Equal(t, "CANCELLED", back["result"])
	require.Equal(t, "T-cancel-1", back["out_trade_no"])
}

// TestH5AmountFixedByLink: a merchant's amount is the flow's amount
// (docs/protocol.md, section 9). A 50 元 recharge link recharges 50 元,
// whatever the form posts; the page shows the amount read-only.
func TestH5AmountFixedByLink(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	for _, pageName := range []string{"recharge", "withdraw"} {
		if pageName == "withdraw" {
			f.recharge(acct, 1_000_000)
		}
		before := f.balance(acct)
		order := f.orderNo()
		b := f.browser()
		pg := b.open(f.link(pageName, map[string]string{"account_no": acct, "out_trade_no": order, "amount": "5000"}))
		require.Contains(t, pg.body, `value="50.00" readonly`, pageName)
		require.Contains(t, pg.body, "金额由商户订单确定，不可修改")
		// A hand-made post of another amount does not change it.
		b.submit("submit", map[string]string{"amount": "9999", "pin": goodPIN})
		require.Equal(t, "SUCCESS", b.back()["result"], pageName)
		want := before + 5000
		if pageName == "withdraw" {
			want = before - 5000
		}
		require.Equal(t, want, f.balance(acct), "%s moved the link's 50 元, not the posted 9,999 元", pageName)

		// And CompleteH5 refuses to type over it.
		in := sandbox.H5Input{Amount: 999_900}
		if pageName == "withdraw" {
			in.PIN = goodPIN
		}
		_, err := f.bank.CompleteH5(t.Context(), f.link(pageName, map[string]string{"account_no": acct,
			"out_trade_no": f.orderNo(), "amount": "5000"}), in)
		require.ErrorContains(t, err, "the link fixes the amount at ¥50.00")
	}
	// The pay page never had a field for it; a post cannot add one.
	order := f.orderNo()
	b := f.browser()
	b.open(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": order, "amount": "990", "subject": "s"}))
	before := f.balance(acct)
	b.submit("submit", map[string]string{"amount": "1", "pin": goodPIN})
	require.Equal(t, "SUCCESS", b.back()["result"])
	require.Equal(t, before-990, f.balance(acct))
}

func TestH5WithdrawFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	acct, _ := f.newAccount()
	f.recharge(acct, 10000)
	b := f.browser()
	pg := b.open(f.link("withdraw", map[string]string{"account_no": acct, "out_trade_no": f.orderNo()}))
	require.Contains(t, pg.body, "可提现 ¥100.00")

	pg = b.submit("submit", map[string]string{"amount": "50", "pin": "975310"})
	require.Contains(t, pg.alert(), "密码错误，今日还可尝试 4 次")
	require.NotContains(t, pg.body, "975310", "a PIN is never sent back")
	pg = b.submit("submit", map[string]string{"amount": "500", "pin": goodPIN})
	require.Contains(t, pg.alert(), "账户余额不足")
	require.Contains(t, pg.body, `value="500"`)
	pg = b.submit("submit", map[string]string{"amount": "50", "pin": "1234"})
	require.Contains(t, pg.alert(), "请输入6位数字交易密码")
	b.submit("submit", map[string]string{"amount": "60.5", "pin": goodPIN})
	back := b.back()
	require.Equal(t, "SUCCESS", back["result"])
	require.Equal(t, "withdraw", back["page"])
	require.Equal(t, int64(3950), f.balance(acct))
}

func TestH5PayFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	rcv := f.receiver()
	acct, _ := f.newAccount()
	f.recharge(acct, 10000)
	order := f.orderNo()
	b := f.browser()
	pg := b.open(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": order, "amount": "990",
		"subject": "会员月卡 & 礼包", "notify_url": rcv.srv.URL}))
	require.Contains(t, pg.body, "会员月卡 &amp; 礼包")
	require.Contains(t, pg.body, "9.90")
	require.Contains(t, pg.body, order)

	pg = b.submit("submit", map[string]string{"pin": "000000"})
	require.Contains(t, pg.alert(), "密码错误，今日还可尝试 4 次")
	b.submit("submit", map[string]string{"pin": goodPIN})
	back := b.back()
	require.Equal(t, map[string]string{"app_id": sandbox.DefaultAppID, "merchant_id": sandbox.DefaultMerchantID,
		"page": "pay", "result": "SUCCESS", "out_trade_no": order,
		"timestamp": back["timestamp"], "sign_key_id": sandbox.DefaultBankKeyID, "sign_type": "SM2"}, back)
	require.Equal(t, int64(9010), f.balance(acct))
	got := rcv.waitFor(1)
	require.Equal(t, "PAYMENT_SUCCEEDED", got[0].fields["notify_type"])
}

func TestH5PayLockedPINFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	rcv := f.receiver()
	acct, _ := f.newAccount()
	f.recharge(acct, 10000)
	order := f.orderNo()
	b := f.browser()
	b.open(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": order, "amount": "990",
		"subject": "月卡", "notify_url": rcv.srv.URL}))
	for left := 4; left > 0; left-- {
		pg := b.submit("submit", map[string]string{"pin": "000000"})
		require.Contains(t, pg.alert(), fmt.Sprintf("今日还可尝试 %d 次", left))
	}
	pg := b.submit("submit", map[string]string{"pin": "000000"})
	require.Contains(t, pg.body, "支付失败")
	require.Contains(t, pg.body, "交易密码已锁定")
	// The result page stays until the user leaves; only 返回商户 works.
	pg = b.submit("submit", map[string]string{"pin": goodPIN})
	require.Contains(t, pg.body, "支付失败")

	got := rcv.waitFor(1)
	require.Equal(t, "PAYMENT_FAILED", got[0].fields["notify_type"])
	o := got[0].biz
	require.Equal(t, "FAILED", o["status"])
	require.Equal(t, order, o["out_trade_no"])
	require.Equal(t, "PAY", o["type"])
	require.Equal(t, float64(990), o["amount"])
	require.Equal(t, acct, o["account_no"])
	require.NotContains(t, o, "trade_no", "no order was recorded")
	require.False(t, f.ledgerHas(acct, "PAY", order), "no order recorded: nothing moved")

	b.submit("finish", nil)
	back := b.back()
	require.Equal(t, "FAILED", back["result"])
	require.Equal(t, order, back["out_trade_no"])
	require.Equal(t, int64(10000), f.balance(acct))

	// A locked PIN ends the next pay at once.
	b = f.browser()
	b.open(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "1", "subject": "s", "notify_url": rcv.srv.URL}))
	pg = b.submit("submit", map[string]string{"pin": goodPIN})
	require.Contains(t, pg.body, "交易密码已锁定")
	rcv.waitFor(2)
}

func TestH5PayInsufficientBalance(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	b := f.browser()
	b.open(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "990", "subject": "月卡"}))
	pg := b.submit("submit", map[string]string{"pin": goodPIN})
	require.Contains(t, pg.body, "支付失败")
	require.Contains(t, pg.body, "账户余额不足")
	b.submit("finish", nil)
	require.Equal(t, "FAILED", b.back()["result"])
	// No notify URL anywhere: nothing is delivered, nothing breaks.
	require.Empty(t, f.bank.Deliveries(""))
}

func TestH5CardFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	acct, _ := f.newAccount()
	newCard := cardNumber("6228", 99)
	b := f.browser()
	pg := b.open(f.link("card", map[string]string{"account_no": acct}))
	require.Contains(t, pg.body, "当前绑定卡")

	typed := map[string]string{"card_no": newCard, "mobile": "13900009999"}
	pg = b.submit("submit", typed)
	require.Contains(t, pg.alert(), "请先获取短信验证码")
	pg = b.submit("sms", typed)
	require.Contains(t, pg.notice(), "139****9999")
	typed["sms_code"] = "123456"
	pg = b.submit("submit", merge(typed, map[string]string{"card_no": cardNumber("5", 3), "pin": goodPIN}))
	require.Contains(t, pg.alert(), "不是借记卡")
	pg = b.submit("submit", merge(typed, map[string]string{"sms_code": "654321", "pin": goodPIN}))
	require.Contains(t, pg.alert(), "短信验证码错误")
	pg = b.submit("submit", merge(typed, map[string]string{"pin": "000000"}))
	require.Contains(t, pg.alert(), "还可尝试 4 次")
	b.submit("submit", merge(typed, map[string]string{"pin": goodPIN}))
	back := b.back()
	require.Equal(t, "card", back["page"])
	require.Equal(t, "SUCCESS", back["result"])
	require.Equal(t, acct, back["account_no"])
	pg = f.browser().open(f.link("wallet", map[string]string{"account_no": acct}))
	require.Contains(t, pg.body, "中国农业银行 "+newCard[:4]+"********"+newCard[len(newCard)-4:])
}

func TestH5PasswordFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	acct, p := f.newAccount()
	f.recharge(acct, 100)
	// Lock the PIN first (five wrong PINs on the withdraw page): the reset
	// lifts the lock.
	for i := 1; i <= 5; i++ {
		to, err := f.bank.CompleteH5(t.Context(), f.link("withdraw", map[string]string{"account_no": acct,
			"out_trade_no": f.orderNo(), "amount": "1"}), sandbox.H5Input{PIN: "000000"})
		if i < 5 {
			var pe *sandbox.H5PageError
			require.ErrorAs(t, err, &pe)
			require.Contains(t, pe.Message, fmt.Sprintf("今日还可尝试 %d 次", 5-i))
			continue
		}
		require.NoError(t, err)
		require.Equal(t, "FAILED", f.verifyReturn(to, sandbox.DefaultAppID, sandbox.DefaultMerchantID)["result"])
	}

	b := f.browser()
	pg := b.open(f.link("password", map[string]string{"account_no": acct}))
	require.Contains(t, pg.body, "验证码将发送至 "+p.mobile[:3]+"****"+p.mobile[7:])
	pg = b.upload("sms", map[string]string{"id_number": p.id}, jpegOf(t, colourImage(80, 80)))
	require.Contains(t, pg.notice(), "验证码已发送至")
	require.Contains(t, pg.body, "已上传照片", "the photo uploaded with the SMS step is kept")
	typed := map[string]string{"id_number": p.id, "sms_code": "123456"}
	pg = b.submit("submit", merge(typed, map[string]string{"id_number": idNumber("19800101", 5), "pin": "246801", "pin2": "246801"}))
	require.Contains(t, pg.alert(), "身份证号与账户持有人不符")
	pg = b.submit("submit", merge(typed, map[string]string{"pin": "111111", "pin2": "111111"}))
	require.Contains(t, pg.alert(), "交易密码过于简单")
	b.submit("submit", merge(typed, map[string]string{"pin": "246801", "pin2": "246801"}))
	back := b.back()
	require.Equal(t, "password", back["page"])
	require.Equal(t, "SUCCESS", back["result"])
	require.Equal(t, acct, back["account_no"])

	pay := f.complete(f.link("pay", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "1", "subject": "s"}),
		sandbox.H5Input{PIN: "246801"})
	require.Equal(t, "SUCCESS", pay["result"], "the new PIN pays")
}

func TestH5CloseFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	rcv := f.receiver()
	acct, _ := f.newAccount()
	f.recharge(acct, 500)
	b := f.browser()
	b.open(f.link("close", map[string]string{"account_no": acct, "notify_url": rcv.srv.URL}))
	pg := b.submit("submit", map[string]string{"pin": goodPIN})
	require.Contains(t, pg.alert(), "请先获取短信验证码")
	b.submit("sms", nil)
	pg = b.submit("submit", map[string]string{"sms_code": "123456", "pin": goodPIN})
	require.Contains(t, pg.alert(), "账户余额不为零")
	require.Contains(t, pg.alert(), "请先将余额全部提现")

	f.complete(f.link("withdraw", map[string]string{"account_no": acct, "out_trade_no": f.orderNo(), "amount": "500"}),
		sandbox.H5Input{PIN: goodPIN})
	b.submit("submit", map[string]string{"sms_code": "123456", "pin": goodPIN})
	back := b.back()
	require.Equal(t, "close", back["page"])
	require.Equal(t, "SUCCESS", back["result"])
	require.Equal(t, acct, back["account_no"])
	got := rcv.waitFor(1)
	require.Equal(t, "ACCOUNT_CLOSED", got[0].fields["notify_type"])
	require.Equal(t, "CLOSED", got[0].biz["status"])

	// A closed account's pages start, and end FAILED at the first step.
	b = f.browser()
	pg = b.open(f.link("withdraw", map[string]string{"account_no": acct, "out_trade_no": f.orderNo()}))
	pg = b.submit("submit", map[string]string{"amount": "1", "pin": goodPIN})
	require.Contains(t, pg.body, "提现失败")
	require.Contains(t, pg.body, "账户已销户")
}

func TestH5WalletSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // PIN tries and verification counts are per business day
	acct, p := f.newAccount()
	f.recharge(acct, 123456)
	b := f.browser()
	pg := b.open(f.link("wallet", map[string]string{"account_no": acct}))
	require.Contains(t, pg.body, "1,234.56")
	require.Contains(t, pg.body, "正常")
	require.Contains(t, pg.body, "*"+string([]rune(p.name)[len([]rune(p.name))-1:]), "the holder's name, masked")
	require.NotContains(t, pg.body, p.card, "the bound card only masked")
	for _, entry := range []string{"充值", "提现", "换卡", "交易密码重置", "销户", "返回商户"} {
		require.Contains(t, pg.body, entry)
	}
	walletURL := pg.url

	// 充值 from the wallet: the bank makes the order, the user types the
	// amount, and the flow comes back to the wallet.
	pg = b.get(strings.Replace(walletURL, "/wallet", "/recharge", 1))
	require.Contains(t, pg.body, "返回我的钱包")
	pg = b.submit("submit", map[string]string{"amount": "100"})
	require.Nil(t, b.returned)
	require.Equal(t, walletURL, pg.url)
	require.Contains(t, pg.notice(), "充值成功：¥100.00")
	require.Contains(t, pg.body, "1,334.56")
	pg = b.get(walletURL)
	require.Empty(t, pg.notice(), "the message is shown once")
	l, err := f.bank.Ledger(acct)
	require.NoError(t, err)
	require.Regexp(t, `^H5[0-9a-f]{24}$`, l[len(l)-1].OutTradeNo, "the bank's own order number")

	// A failed step in a wallet flow offers the wallet, not the merchant.
	b.get(strings.Replace(walletURL, "/wallet", "/withdraw", 1))
	pg = b.submit("submit", map[string]string{"amount": "1", "pin": "000000"})
	require.Contains(t, pg.alert(), "还可尝试 4 次")
	pg = b.submit("cancel", nil)
	require.Equal(t, walletURL, pg.url)

	// A page that is not the wallet's is not in the session.
	pg = b.get(strings.Replace(walletURL, "/wallet", "/pay", 1))
	require.Equal(t, "page", pg.errorKind())

	b.get(walletURL)
	b.submit("return", nil)
	back := b.back()
	require.Equal(t, map[string]string{"app_id": sandbox.DefaultAppID, "merchant_id": sandbox.DefaultMerchantID,
		"page": "wallet", "result": "SUCCESS", "account_no": acct,
		"timestamp": back["timestamp"], "sign_key_id": sandbox.DefaultBankKeyID, "sign_type": "SM2"}, back)
}

func TestH5WalletFrozen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(acct, 100)
	require.NoError(t, f.bank.Freeze(acct))
	b := f.browser()
	pg := b.open(f.link("wallet", map[string]string{"account_no": acct}))
	require.Contains(t, pg.body, "已冻结")
	require.NotContains(t, pg.body, "交易密码重置", "a frozen account offers no entries")
}

func TestH5SessionSecurity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	b := f.browser()
	pg := b.open(f.link("recharge", map[string]string{"account_no": acct, "out_trade_no": f.orderNo()}))
	sessionURL := pg.url

	// The session URL alone, without the browser's cookie, is nothing.
	resp, err := http.Get(sessionURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	resp, err = http.PostForm(sessionURL, url.Values{"action": {"submit"}, "amount": {"1"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	require.Equal(t, int64(0), f.balance(acct))

	// An unknown session, and a session past its 30 minutes.
	pg = b.get(b.srv.URL + "/h5/s/00000000000000000000000000000000/recharge")
	require.Equal(t, "session", pg.errorKind())
	f.clock.Add(30*time.Minute + time.Second)
	pg = b.get(sessionURL)
	require.Equal(t, "session", pg.errorKind())
	require.Contains(t, pg.body, "页面已失效")

	// A form post too large is refused without breaking the session.
	b = f.browser()
	b.open(f.link("open", nil))
	pg = b.upload("sms", nil, bytes.Repeat([]byte{0xFF}, 3<<20))
	require.Equal(t, http.StatusOK, pg.status)
	require.Contains(t, pg.alert(), "提交的内容过大")
	pg = b.upload("testface", nil, []byte("not an image"))
	require.Contains(t, pg.alert(), "请上传 JPEG 或 PNG")
}

// TestH5FaceBombUpload: a photo whose header declares more than 32 MiB of
// pixels is refused at the upload, before anything decodes it
// (docs/protocol.md, section 11), and the flow goes on.
func TestH5FaceBombUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.person()
	b := f.browser()
	b.open(f.link("open", f.openData(nonce(), p.prefill())))
	pg := b.upload("sms", p.prefill(), pngHeader(t, 4096, 4096))
	require.Contains(t, pg.alert(), "照片像素过多")
	require.NotContains(t, pg.body, "已上传照片")
	_, err := f.bank.CompleteH5(t.Context(), f.link("open", f.openData(nonce(), p.prefill())),
		sandbox.H5Input{PIN: goodPIN, Face: pngHeader(t, 4096, 4096)})
	var pe *sandbox.H5PageError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "step", pe.Kind)
	require.Contains(t, pe.Message, "照片像素过多")
}

// pngHeader is a PNG of w×h 16-bit RGBA pixels with an empty image data
// chunk: its header is all the format step reads.
func pngHeader(t *testing.T, w, h uint32) []byte {
	t.Helper()
	var buf bytes.Buffer
	buf.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&buf, binary.BigEndian, uint32(len(data)))
		buf.WriteString(typ)
		buf.Write(data)
		_ = binary.Write(&buf, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, w), h)
	chunk("IHDR", append(ihdr, 16, 6, 0, 0, 0))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	require.NoError(t, zw.Close())
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return buf.Bytes()
}

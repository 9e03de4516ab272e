package sandbox

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	smsSend     = "/api/v1/account/sms/send"
	verifyPath  = "/api/v1/account/verify"
	openPath    = "/api/v1/account/open"
	queryPath   = "/api/v1/account/query"
	cardPath    = "/api/v1/account/card/change"
	resetPath   = "/api/v1/account/password/reset"
	closePath   = "/api/v1/account/close"
	sandboxCode = "123456"
)

func TestOpenAccountAndWalletQuery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.person()
	q := map[string]any{"id_number": p.id, "mobile": p.mobile, "user_id": "u-1"}
	r := f.c.ok(walletQuery, q)
	require.JSONEq(t, `{"opened":false}`, string(r.biz))

	args := f.openArgs(f.c, p)
	args["occupation"] = "工程师"
	args["address"] = "南京市建邺区"
	r = f.c.ok(openPath, args)
	var acct accountView
	r.decode(t, &acct)
	require.Equal(t, "6236880000000001", acct.AccountNo)
	require.Equal(t, statusNormal, acct.Status)
	require.Equal(t, "**"+string([]rune(p.name)[2]), acct.NameMasked)
	require.Equal(t, "中国工商银行", acct.BoundCard.BankName)
	require.Equal(t, p.card[:4]+"********"+p.card[len(p.card)-4:], acct.BoundCard.CardNoMasked)
	require.Equal(t, "2026-11-25 16:00:00", acct.OpenedAt)
	require.Nil(t, acct.Limits, "open answers the account without limits")
	require.NotContains(t, string(r.biz), "closed_at")

	r = f.c.ok(walletQuery, q)
	m := r.obj(t)
	require.Equal(t, true, m["opened"])
	require.Equal(t, acct.AccountNo, m["account_no"])
	require.Equal(t, float64(0), m["balance"])
	require.NotContains(t, m, "limits")

	// wallet/query matches on id_number only.
	q["mobile"], q["user_id"] = "13700000001", "someone-else"
	require.Equal(t, true, f.c.ok(walletQuery, q).obj(t)["opened"])

	r = f.c.ok(queryPath, map[string]any{"account_no": acct.AccountNo})
	var full accountView
	r.decode(t, &full)
	require.Equal(t, &limitsView{DailyLimit: 1_000_000, YearlyLimit: 20_000_000}, full.Limits)
}

func TestOpenAccountErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := f.c

	t.Run("formats in field order", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		for _, tc := range []struct{ field, value, msg string }{
			{"user_id", "bad user", "user_id: "},
			{"verify_token", "", "verify_token: is required"},
			{"name", "  ", "name: is required"},
			{"card_no", "6222021234567890127", "card_no: check digit does not match (Luhn)"},
			{"sms_code", "12345", "sms_code: must be six digits"},
			{"face_image", "not base64!", "face_image: must be standard base64 with padding"},
			{"face_image", base64.StdEncoding.EncodeToString([]byte("GIF89a....")), "face_image: must be a JPEG or PNG image"},
			{"face_image", base64.StdEncoding.EncodeToString(make([]byte, 1<<20+1)), "face_image: is larger than 1 MiB"},
			{"password", "", "password: is required"},
			{"occupation", strings.Repeat("职", 65), "occupation: is longer than 64 characters"},
		} {
			a := clone(args)
			a[tc.field] = tc.value
			r := c.on(t).fails(codeParamInvalid, openPath, a)
			require.True(t, strings.HasPrefix(r.msg, tc.msg), "%s: %q", tc.field, r.msg)
		}
	})

	t.Run("age", func(t *testing.T) {
		minor := person{name: "李四", id: idNumber("20101126", 1), card: cardNumber("6222", 900), mobile: "13900009001"}
		r := c.on(t).fails(codeAgeRestricted, verifyPath, minor.factors())
		require.NotEmpty(t, r.msg)
		// Sixteen on the business clock: the day after, the check passes.
		f.bank.AdvanceClock(24 * time.Hour)
		c.on(t).ok(verifyPath, minor.factors())
	})

	t.Run("credit card", func(t *testing.T) {
		p := f.person()
		p.card = cardNumber("4", 77)
		c.on(t).fails(codeCardNotSupported, verifyPath, p.factors())
		p.card = cardNumber("5", 77)
		c.on(t).fails(codeCardNotSupported, verifyPath, p.factors())
	})

	t.Run("already opened", func(t *testing.T) {
		p := f.person()
		f.open(c, p)
		args := f.openArgsNoSMS(c, p)
		c.on(t).fails(codeAccountAlreadyOpened, openPath, args)
	})

	t.Run("verify token", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		a := clone(args)
		a["verify_token"] = "VT-unknown"
		c.on(t).fails(codeVerifyTokenInvalid, openPath, a)
		// Bound to the four factors: another card of the same person does
		// not ride on the token.
		a = clone(args)
		a["card_no"] = cardNumber("6228", 5)
		c.on(t).fails(codeVerifyTokenInvalid, openPath, a)
		// Another merchant cannot use it.
		other := f.otherMerchant("token-app", "M300000003")
		a = clone(args)
		a["password"] = other.pin(goodPIN)
		other.on(t).fails(codeVerifyTokenInvalid, openPath, a)
		// A failed open does not use it up; a successful one does.
		c.on(t).ok(openPath, args)
		p2 := f.person()
		args2 := f.openArgs(c, p2)
		args2["verify_token"] = args["verify_token"]
		c.on(t).fails(codeVerifyTokenInvalid, openPath, args2)
	})

	t.Run("verify token expires after 15 minutes", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		f.bank.AdvanceClock(15 * time.Minute)
		c.on(t).fails(codeVerifyTokenInvalid, openPath, args)
	})

	t.Run("sms", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		a := clone(args)
		a["sms_code"] = "654321"
		c.on(t).fails(codeSMSCodeInvalid, openPath, a)
		// A serial of another scene is invalid for open.
		a = clone(args)
		a["sms_serial"] = f.sms(c, p.mobile, "CLOSE")
		c.on(t).fails(codeSMSCodeInvalid, openPath, a)
		c.on(t).ok(openPath, args)
	})

	t.Run("face", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		a := clone(args)
		a["face_image"] = encodePNG(t, grayImage(64, 64))
		r := c.on(t).fails(codeFaceMismatch, openPath, a)
		require.Contains(t, r.msg, "grayscale")
		a["face_image"] = encodeJPEG(t, grayImage(80, 80))
		c.on(t).fails(codeFaceMismatch, openPath, a)
		a["face_image"] = encodePNG(t, colourImage(63, 64))
		c.on(t).fails(codeFaceMismatch, openPath, a)
		a["face_image"] = encodeJPEG(t, colourImage(96, 96))
		a["password"] = c.pin("111111")
		c.on(t).failsMsg(codePasswordWeak, openPath, a, "a colour JPEG passes the face step")
	})

	t.Run("weak and undecryptable PIN", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(c, p)
		for _, weak := range []string{"123456", "654321", "888888"} {
			a := clone(args)
			a["password"] = c.pin(weak)
			c.on(t).fails(codePasswordWeak, openPath, a)
		}
		a := clone(args)
		a["password"] = "bm90IGEgUElO"
		c.on(t).fails(codeDecryptFailed, openPath, a)
		// A PIN encrypted to the other bank key than encrypt_key_id names.
		c2 := c.on(t)
		c2.encKeyID = DefaultNextBankKeyID
		a["password"] = c2.pin(goodPIN)
		r := c.on(t).fails(codeDecryptFailed, openPath, a)
		require.True(t, strings.HasPrefix(r.msg, "password: "), r.msg)
	})
}

func (c *tclient) failsMsg(code, path string, biz any, why string) *tresp {
	c.t.Helper()
	r := c.call(path, biz)
	require.Equal(c.t, code, r.code, "%s: %s (%s)", path, r.msg, why)
	return r
}

// openArgsNoSMS is openArgs where the person's OPEN SMS was already sent a
// moment ago: the minute rule would refuse a second one, so the clock moves.
func (f *fixture) openArgsNoSMS(c *tclient, p person) map[string]any {
	f.bank.AdvanceClock(time.Minute)
	return f.openArgs(c, p)
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestVerifyFourFactorsAndLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // five failures in one day
	p := f.person()
	r := f.c.ok(verifyPath, p.factors())
	var v verifyView
	r.decode(t, &v)
	require.Equal(t, "DEBIT", v.CardType)
	require.Equal(t, "中国工商银行", v.BankName)
	require.NotEmpty(t, v.VerifyToken)

	bad := p
	bad.name = "张不符"
	f.c.fails(codeFourFactorMismatch, verifyPath, bad.factors())
	bad = p
	bad.mobile = "13912340000"
	for i := 0; i < 4; i++ {
		f.c.fails(codeFourFactorMismatch, verifyPath, bad.factors())
	}
	// Five failures today for this id_number: even correct data is refused,
	// through any channel.
	f.c.fails(codeVerifyLimitExceeded, verifyPath, p.factors())
	f.otherMerchant("verify-app", "M700000007").fails(codeVerifyLimitExceeded, verifyPath, p.factors())
	// Another person is not affected, and tomorrow this one may try again.
	f.c.ok(verifyPath, f.person().factors())
	f.bank.AdvanceClock(24 * time.Hour)
	f.c.ok(verifyPath, p.factors())

	// Formats first.
	bad = p
	bad.id = p.id[:17] + "Y"
	r = f.c.fails(codeParamInvalid, verifyPath, bad.factors())
	require.Equal(t, "id_number: last character must be a digit or X", r.msg)
	bad = p
	bad.mobile = "12345678901"
	r = f.c.fails(codeParamInvalid, verifyPath, bad.factors())
	require.True(t, strings.HasPrefix(r.msg, "mobile: "))
}

func TestSMSRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sameDay() // ten sends in one day
	mobile := "13911112222"
	f.sms(f.c, mobile, "OPEN")
	f.c.fails(codeSMSTooFrequent, smsSend, map[string]any{"mobile": mobile, "scene": "OPEN"})
	f.sms(f.c, mobile, "CLOSE") // another scene is counted apart
	r := f.c.fails(codeParamInvalid, smsSend, map[string]any{"mobile": mobile, "scene": "LOGIN"})
	require.True(t, strings.HasPrefix(r.msg, "scene: must be one of"), r.msg)
	for i := 0; i < 9; i++ {
		f.bank.AdvanceClock(time.Minute)
		f.sms(f.c, mobile, "OPEN")
	}
	f.bank.AdvanceClock(time.Minute)
	r = f.c.fails(codeSMSTooFrequent, smsSend, map[string]any{"mobile": mobile, "scene": "OPEN"})
	require.Contains(t, r.msg, "ten")
	// The count is per business day (UTC+8).
	f.bank.AdvanceClock(24 * time.Hour)
	f.sms(f.c, mobile, "OPEN")
}

func TestSMSCodeLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	t.Run("expires after 5 minutes", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(f.c, p)
		f.bank.AdvanceClock(5 * time.Minute)
		args["verify_token"] = f.verifyToken(f.c, p)
		f.c.on(t).fails(codeSMSCodeExpired, openPath, args)
	})
	t.Run("five wrong codes void the serial", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(f.c, p)
		wrong := clone(args)
		wrong["sms_code"] = "000000"
		for i := 0; i < 5; i++ {
			f.c.on(t).fails(codeSMSCodeInvalid, openPath, wrong)
		}
		f.c.on(t).fails(codeSMSCodeExpired, openPath, args)
	})
	t.Run("used up by a success, not by a failure", func(t *testing.T) {
		acct, p := f.newAccount()
		reset := map[string]any{"account_no": acct, "id_number": p.id, "sms_serial": f.sms(f.c, p.mobile, "RESET_PASSWORD"),
			"sms_code": sandboxCode, "face_image": f.face(), "new_password": f.c.pin("111111")}
		f.c.on(t).fails(codePasswordWeak, resetPath, reset)
		reset["new_password"] = f.c.pin("246813")
		f.c.on(t).ok(resetPath, reset)
		f.c.on(t).fails(codeSMSCodeExpired, resetPath, reset)
	})
	t.Run("bound to the merchant and the mobile", func(t *testing.T) {
		p := f.person()
		args := f.openArgs(f.c, p)
		other := f.otherMerchant("sms-app", "M400000004")
		p2 := f.person()
		a := f.openArgs(other, p2)
		a["sms_serial"] = args["sms_serial"]
		other.on(t).fails(codeSMSCodeInvalid, openPath, a)
		a = f.openArgsNoSMS(f.c, p2)
		a["sms_serial"] = args["sms_serial"] // sent to p's mobile
		f.c.on(t).fails(codeSMSCodeInvalid, openPath, a)
	})
}

func TestAccountQueryChannelsAndStatus(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, p := f.newAccount()
	other := f.otherMerchant("other-app", "M200000002")
	// Another channel sees nothing, not even that the account exists.
	r := other.fails(codeAccountNotFound, queryPath, map[string]any{"account_no": acct})
	require.Equal(t, defaultMessage(codeAccountNotFound), r.msg)
	other.fails(codeAccountNotFound, queryPath, map[string]any{"account_no": "6236889999999999"})
	require.JSONEq(t, `{"opened":false}`, string(other.ok(walletQuery, map[string]any{"id_number": p.id, "mobile": p.mobile, "user_id": "u"}).biz))
	// The same person may open an account in the other channel (a minute
	// later: the SMS limit is per mobile, whichever merchant asks).
	other.fails(codeSMSTooFrequent, smsSend, map[string]any{"mobile": p.mobile, "scene": "OPEN"})
	f.bank.AdvanceClock(time.Minute)
	f.open(other, p)

	f.recharge(f.c, acct, 500)
	require.NoError(t, f.bank.Freeze(acct))
	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, statusFrozen, v.Status)
	require.Equal(t, int64(500), v.Balance)
	require.Equal(t, int64(0), v.AvailableBalance)
	require.NoError(t, f.bank.Unfreeze(acct))
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, int64(500), v.AvailableBalance)
	require.ErrorIs(t, f.bank.Freeze("6236880000009999"), ErrUnknownAccount)

	r = f.c.fails(codeParamInvalid, queryPath, map[string]any{"account_no": "62368800"})
	require.Equal(t, "account_no: must be 16 to 19 digits", r.msg)
	// account/query is not 🔒: a plain request is fine.
	r = f.c.do(&treq{path: queryPath, plain: true, biz: bizJSON(t, map[string]any{"account_no": acct})})
	require.Equal(t, codeSuccess, r.code)
}

func TestChangeCard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, p := f.newAccount()
	newCard, newMobile := cardNumber("6228", 4242), "13622223333"
	args := func() map[string]any {
		return map[string]any{"account_no": acct, "card_no": newCard, "mobile": newMobile,
			"sms_serial": f.sms(f.c, newMobile, "CHANGE_CARD"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)}
	}
	a := args()
	a["card_no"] = p.card
	r := f.c.fails(codeParamInvalid, cardPath, a)
	require.Equal(t, "card_no: is the card already bound", r.msg)
	a["card_no"] = cardNumber("5", 1)
	f.c.fails(codeCardNotSupported, cardPath, a)
	a["card_no"], a["mobile"] = newCard, "13622220000"
	f.c.fails(codeFourFactorMismatch, cardPath, a)
	a["mobile"] = newMobile
	a["sms_code"] = "111111"
	f.c.fails(codeSMSCodeInvalid, cardPath, a)
	a["sms_code"] = sandboxCode
	a["password"] = f.c.pin("246810")
	f.c.fails(codePasswordIncorrect, cardPath, a)
	f.c.fails(codeAccountNotFound, cardPath, map[string]any{"account_no": "6236880000009999", "card_no": newCard,
		"mobile": newMobile, "sms_serial": "S1", "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})

	a["password"] = f.c.pin(goodPIN)
	r = f.c.ok(cardPath, a)
	var v cardChangeView
	r.decode(t, &v)
	require.Equal(t, "中国农业银行", v.BoundCard.BankName)
	require.Equal(t, "6228********"+newCard[len(newCard)-4:], v.BoundCard.CardNoMasked)

	// The account's mobile is now the new one: a CLOSE SMS must go there.
	bal := f.c.ok(queryPath, map[string]any{"account_no": acct}).obj(t)
	require.Equal(t, v.BoundCard.CardNoMasked, bal["bound_card"].(map[string]any)["card_no_masked"])
	old := f.sms(f.c, p.mobile, "CLOSE")
	f.c.fails(codeSMSCodeInvalid, closePath, map[string]any{"account_no": acct, "sms_serial": old, "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
	f.c.ok(closePath, map[string]any{"account_no": acct, "sms_serial": f.sms(f.c, newMobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})

	// Frozen and closed accounts cannot change.
	acct2, _ := f.newAccount()
	require.NoError(t, f.bank.Freeze(acct2))
	f.bank.AdvanceClock(time.Minute)
	b := args()
	b["account_no"] = acct2
	f.c.fails(codeAccountFrozen, cardPath, b)
	f.bank.AdvanceClock(time.Minute)
	f.c.fails(codeAccountClosed, cardPath, args())
}

func TestPasswordLockAndReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	start := f.sameDay() // five wrong PINs in one day
	midnight := nextTimeOfDay(start, 0, 0)
	acct, p := f.newAccount()
	f.recharge(f.c, acct, 10_000)
	withdraw := func(pin string) map[string]any {
		return map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 100, "password": f.c.pin(pin)}
	}
	for i := 4; i >= 1; i-- {
		r := f.c.fails(codePasswordIncorrect, "/api/v1/payment/withdraw", withdraw("975310"))
		require.Contains(t, r.msg, "attempts left")
	}
	r := f.c.fails(codePasswordIncorrect, "/api/v1/payment/withdraw", withdraw("975310"))
	require.Contains(t, r.msg, "locked", "the fifth wrong PIN still answers PASSWORD_INCORRECT and locks")
	f.c.fails(codePasswordLocked, "/api/v1/payment/withdraw", withdraw(goodPIN))
	f.c.fails(codePasswordLocked, "/api/v1/payment/pay", f.payArgs(f.c, acct, 1))
	require.Equal(t, int64(10_000), f.balance(f.c, acct))

	// The lock lifts at midnight UTC+8, not a minute earlier.
	f.bank.AdvanceClock(midnight.Sub(f.bank.BusinessNow()) - time.Minute)
	f.c.fails(codePasswordLocked, "/api/v1/payment/withdraw", withdraw(goodPIN))
	f.bank.AdvanceClock(time.Minute)
	f.c.ok("/api/v1/payment/withdraw", withdraw(goodPIN))

	// Lock again, then reset.
	for i := 0; i < 5; i++ {
		f.c.fails(codePasswordIncorrect, "/api/v1/payment/withdraw", withdraw("975310"))
	}
	reset := func() map[string]any {
		return map[string]any{"account_no": acct, "id_number": p.id, "sms_serial": f.sms(f.c, p.mobile, "RESET_PASSWORD"),
			"sms_code": sandboxCode, "face_image": f.face(), "new_password": f.c.pin("246813")}
	}
	a := reset()
	a["id_number"] = idNumber("19900307", 999)
	r = f.c.fails(codeParamInvalid, resetPath, a)
	require.Equal(t, "id_number: does not match the account holder", r.msg)
	a["id_number"] = p.id
	a["face_image"] = encodePNG(t, grayImage(64, 64))
	f.c.fails(codeFaceMismatch, resetPath, a)
	a["face_image"] = f.face()
	a["new_password"] = f.c.pin("000000")
	f.c.fails(codePasswordWeak, resetPath, a)
	a["new_password"] = f.c.pin("246813")
	a["sms_code"] = "000000"
	f.c.fails(codeSMSCodeInvalid, resetPath, a)
	a["sms_code"] = sandboxCode
	delete(a, "new_password")
	r = f.c.fails(codeParamInvalid, resetPath, a)
	require.Equal(t, "new_password: is required", r.msg)
	a["new_password"] = f.c.pin("246813")
	r = f.c.ok(resetPath, a)
	require.Equal(t, formatTime(midnight), r.obj(t)["reset_at"])
	f.c.fails(codePasswordIncorrect, "/api/v1/payment/withdraw", withdraw(goodPIN))
	f.c.ok("/api/v1/payment/withdraw", withdraw("246813"))

	require.NoError(t, f.bank.Freeze(acct))
	f.bank.AdvanceClock(time.Minute)
	f.c.fails(codeAccountFrozen, resetPath, reset())
}

func TestCloseAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, p := f.newAccount()
	f.recharge(f.c, acct, 100)
	args := func() map[string]any {
		return map[string]any{"account_no": acct, "sms_serial": f.sms(f.c, p.mobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)}
	}
	a := args()
	f.c.fails(codeBalanceNotZero, closePath, a)
	f.c.ok("/api/v1/payment/withdraw", map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 100, "password": f.c.pin(goodPIN)})
	a["password"] = f.c.pin("975310")
	f.c.fails(codePasswordIncorrect, closePath, a)
	a["password"] = f.c.pin(goodPIN)
	r := f.c.ok(closePath, a)
	require.Equal(t, "2026-11-25 16:00:00", r.obj(t)["closed_at"])

	var v accountView
	f.c.ok(queryPath, map[string]any{"account_no": acct}).decode(t, &v)
	require.Equal(t, statusClosed, v.Status)
	require.Equal(t, "2026-11-25 16:00:00", v.ClosedAt)
	require.JSONEq(t, `{"opened":false}`, string(f.c.ok(walletQuery, map[string]any{"id_number": p.id, "mobile": p.mobile, "user_id": "u"}).biz))
	f.bank.AdvanceClock(time.Minute)
	f.c.fails(codeAccountClosed, closePath, args())
	f.c.fails(codeAccountClosed, "/api/v1/payment/recharge", map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1})
	require.Error(t, f.bank.Freeze(acct))

	// The person may open again, and gets a new account.
	f.bank.AdvanceClock(time.Minute)
	again := f.open(f.c, p)
	require.NotEqual(t, acct, again)

	acct3, p3 := f.newAccount()
	require.NoError(t, f.bank.Freeze(acct3))
	f.c.fails(codeAccountFrozen, closePath, map[string]any{"account_no": acct3, "sms_serial": f.sms(f.c, p3.mobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
}

func TestGrayscaleDetection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, tc := range map[string]struct {
		img  string
		gray bool
	}{
		"colour png":        {encodePNG(t, colourImage(64, 64)), false},
		"gray rgba png":     {encodePNG(t, grayImage(64, 64)), true},
		"gray jpeg (ycbcr)": {encodeJPEG(t, grayImage(200, 120)), true},
		"colour jpeg":       {encodeJPEG(t, colourImage(128, 128)), false},
	} {
		face, err := decodeFaceImage("face_image", tc.img)
		require.Nil(t, err, name)
		verdict := f.bank.core.checkFace("face_image", face)
		if tc.gray {
			require.NotNil(t, verdict, name)
			require.Equal(t, codeFaceMismatch, verdict.code, name)
		} else {
			require.Nil(t, verdict, name)
		}
	}
}

// TestOpenChecksAgeAndCardItself: open repeats the age and card checks of
// verify, before the token, so that a token cannot carry them past.
func TestOpenChecksAgeAndCardItself(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.person()
	args := f.openArgs(f.c, p)
	a := clone(args)
	a["card_no"] = cardNumber("4", 3)
	f.c.fails(codeCardNotSupported, openPath, a)
	a = clone(args)
	a["id_number"] = idNumber("20150101", 3)
	f.c.fails(codeAgeRestricted, openPath, a)
	a["id_number"] = idNumber("20990101", 3)
	r := f.c.fails(codeParamInvalid, openPath, a)
	require.Equal(t, "id_number: birth date is in the future", r.msg)
}

// TestEncryptionRequiredForLockedAPIs: every 🔒 API refuses a plain
// request; the others accept one.
func TestEncryptionRequiredForLockedAPIs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	locked := map[string]bool{
		walletQuery: true, smsSend: true, verifyPath: true, openPath: true, cardPath: true, resetPath: true, closePath: true,
		rechargePath: true, withdrawPath: true, payPath: true, transferPath: true,
	}
	require.Len(t, f.bank.apis, 17)
	for path := range f.bank.apis {
		r := f.c.on(t).do(&treq{path: path, plain: true})
		if locked[path] {
			require.Equal(t, codeEncryptionRequired, r.code, path)
			continue
		}
		if path == "/api/v1/platform/keys" {
			require.Equal(t, codeSuccess, r.code)
			continue
		}
		require.Equal(t, codeParamInvalid, r.code, path)
		require.True(t, strings.HasSuffix(r.msg, ": is required"), "%s: %s", path, r.msg)
	}
}

// TestUnknownAccountEverywhere: every account-scoped call answers
// ACCOUNT_NOT_FOUND for a number the bank never issued.
func TestUnknownAccountEverywhere(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, p := f.newAccount()
	payee, pp := f.newAccount()
	const none = "6236880000009999"
	pin := f.c.pin(goodPIN)
	for path, args := range map[string]map[string]any{
		queryPath:    {"account_no": none},
		rechargePath: {"account_no": none, "out_trade_no": "X-000001", "amount": 1},
		withdrawPath: {"account_no": none, "out_trade_no": "X-000002", "amount": 1, "password": pin},
		payPath:      {"account_no": none, "out_trade_no": "X-000003", "amount": 1, "subject": "s", "password": pin},
		transferPath: {"account_no": none, "payee_account_no": payee, "payee_name": pp.name, "out_trade_no": "X-000004", "amount": 1, "password": pin},
		cardPath:     {"account_no": none, "card_no": cardNumber("6228", 1), "mobile": "13677778888", "sms_serial": "S1", "sms_code": sandboxCode, "password": pin},
		resetPath:    {"account_no": none, "id_number": p.id, "sms_serial": "S1", "sms_code": sandboxCode, "face_image": f.face(), "new_password": f.c.pin("246813")},
		closePath:    {"account_no": none, "sms_serial": "S1", "sms_code": sandboxCode, "password": pin},
	} {
		f.c.on(t).failsMsg(codeAccountNotFound, path, args, path)
	}
	// A closed account answers ACCOUNT_CLOSED to a reset.
	acct, p3 := f.newAccount()
	f.c.ok(closePath, map[string]any{"account_no": acct, "sms_serial": f.sms(f.c, p3.mobile, "CLOSE"), "sms_code": sandboxCode, "password": f.c.pin(goodPIN)})
	f.c.fails(codeAccountClosed, resetPath, map[string]any{"account_no": acct, "id_number": p3.id, "sms_serial": "S1",
		"sms_code": sandboxCode, "face_image": f.face(), "new_password": f.c.pin("246813")})
	f.c.fails(codeAccountClosed, withdrawPath, map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": 1, "password": f.c.pin(goodPIN)})
}

func TestExpiredSerialStaysExpiredAfterSweep(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := f.person()
	args := f.openArgs(f.c, p)
	f.bank.AdvanceClock(2 * time.Hour) // the sweep runs on the next call
	args["verify_token"] = f.verifyToken(f.c, p)
	f.c.fails(codeSMSCodeExpired, openPath, args)
}

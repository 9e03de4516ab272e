package sandbox

import (
	"encoding/base64"
	"errors"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

// The flows of the eight pages. Every business step is a core operation,
// the same one the API runs, so a page can neither skip a rule nor apply one
// the API does not; the pages add only what a form needs (a PIN typed
// twice, an amount in 元, which step comes next).

// h5MaxForm bounds a posted form: a 1 MiB face photo plus its multipart
// overhead and the few text fields.
const h5MaxForm = 2 << 20

// h5Step is what a step tells the user on the page it shows next.
type h5Step struct {
	err    string
	hint   string
	notice string
}

func h5Title(view string) string {
	switch view {
	case "open":
		return "开通电子账户"
	case "wallet":
		return "我的钱包"
	case "recharge":
		return "充值"
	case "withdraw":
		return "提现"
	case "pay":
		return "确认付款"
	case "card":
		return "更换绑定卡"
	case "password":
		return "重置交易密码"
	case "close":
		return "注销电子账户"
	}
	return "办理结果"
}

// show renders a view of the session: its form with what the user typed,
// or the result page of a flow that ended in failure.
func (s *h5Site) show(w http.ResponseWriter, sess *h5Session, view string, st *h5Step) {
	formTo := cspOrigin(sess.link.returnURL)
	if o := sess.outcome; o != nil && o.view == view {
		v := &h5View{Title: h5Title(view), Assets: s.assets(sess.base), Action: sess.url(view),
			Head: o.head, Detail: o.detail, Button: "返回商户"}
		if sess.fromWallet(view) {
			v.Button = "返回我的钱包"
		}
		s.render(w, http.StatusOK, "result", v, formTo)
		return
	}
	f := sess.form(view)
	l := sess.link
	who := l.who(s.b)
	v := &h5View{
		Title:  h5Title(view),
		Assets: s.assets(sess.base),
		Action: sess.url(view),
		V:      maps.Clone(f.values),
		Links:  map[string]string{},
	}
	if sess.fromWallet(view) {
		v.Home = sess.url("wallet")
	}
	if st != nil {
		v.Err, v.Hint, v.Notice = st.err, st.hint, st.notice
	}
	if sess.accountNo != "" && view != "open" {
		if a, err := s.core.queryAccount(who, accountArgs{AccountNo: sess.accountNo}); err == nil {
			v.Account = h5AccountOf(a)
		}
	}
	if f.smsSerial != "" {
		v.SMSSent, v.SMSTo = true, mask.Mobile(f.smsMobile)
	}
	v.FaceReady, v.FaceLabel = len(f.face) > 0, f.faceLabel

	switch view {
	case "wallet":
		v.Flash, sess.flash = sess.flash, ""
		for _, p := range []string{"recharge", "withdraw", "card", "password", "close"} {
			v.Links[p] = sess.url(p)
		}
	case "recharge", "withdraw":
		if !sess.fromWallet(view) {
			v.OutTradeNo = sess.outTradeNo
		}
	case "pay":
		v.AmountFixed, v.Amount, v.Subject, v.OutTradeNo = true, yuan(l.amount), l.subject, l.outTradeNo
	case "password", "close":
		// The SMS goes to the mobile the bank holds for the account; the
		// page shows it masked so the user knows which phone to look at.
		if !v.SMSSent {
			if m, err := s.core.holderMobile(who, sess.accountNo); err == nil {
				v.SMSTo = mask.Mobile(m)
			}
		}
		if sess.fromWallet(view) {
			v.Links["withdraw"] = sess.url("withdraw")
		}
	}
	s.render(w, http.StatusOK, view, v, formTo)
}

func h5AccountOf(a accountView) *h5Account {
	out := &h5Account{
		NoMasked:  mask.Card(a.AccountNo),
		Status:    a.Status,
		Name:      a.NameMasked,
		Balance:   yuan(a.Balance),
		Available: yuan(a.AvailableBalance),
		BankName:  a.BoundCard.BankName,
		CardNo:    a.BoundCard.CardNoMasked,
		Open:      a.Status == statusNormal,
	}
	switch a.Status {
	case statusNormal:
		out.StatusCN = "正常"
	case statusFrozen:
		out.StatusCN = "已冻结"
	case statusClosed:
		out.StatusCN = "已销户"
	}
	return out
}

// post runs one step of a view.
func (s *h5Site) post(w http.ResponseWriter, r *http.Request, sess *h5Session, view string) {
	r.Body = http.MaxBytesReader(w, r.Body, h5MaxForm)
	if err := r.ParseMultipartForm(h5MaxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.show(w, sess, view, &h5Step{err: "提交的内容过大或无法读取，照片请小于 1 MB。"})
		return
	}
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	action := r.PostFormValue("action")

	if o := sess.outcome; o != nil && o.view == view {
		if action != "finish" {
			s.show(w, sess, view, nil)
			return
		}
		sess.outcome = nil
		if sess.fromWallet(view) {
			delete(sess.forms, view)
			http.Redirect(w, r, sess.url("wallet"), http.StatusSeeOther)
			return
		}
		s.finish(w, r, sess, o.result)
		return
	}
	if action == "cancel" {
		if sess.fromWallet(view) {
			delete(sess.forms, view)
			http.Redirect(w, r, sess.url("wallet"), http.StatusSeeOther)
			return
		}
		s.finish(w, r, sess, h5Cancelled)
		return
	}

	f := sess.form(view)
	for _, k := range h5TypedFields(view) {
		f.values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if view == "open" || view == "password" {
		if st := takeFace(r, f); st != nil {
			s.show(w, sess, view, st)
			return
		}
		if action == "testface" {
			f.face, f.faceLabel = s.testFace, "沙箱测试人脸"
			s.show(w, sess, view, &h5Step{notice: "已使用沙箱测试人脸。"})
			return
		}
	}

	switch view {
	case "open":
		s.postOpen(w, r, sess, f, action)
	case "wallet":
		if action == "return" {
			s.finish(w, r, sess, h5Success)
			return
		}
		s.show(w, sess, view, nil)
	case "recharge":
		s.postRecharge(w, r, sess, f)
	case "withdraw":
		s.postWithdraw(w, r, sess, f)
	case "pay":
		s.postPay(w, r, sess)
	case "card":
		s.postCard(w, r, sess, f, action)
	case "password":
		s.postPassword(w, r, sess, f, action)
	case "close":
		s.postClose(w, r, sess, f, action)
	}
}

// h5TypedFields are the fields of a view that are shown again after a
// step, so that the user need not type them twice. PINs are not among them.
func h5TypedFields(view string) []string {
	switch view {
	case "open":
		return []string{"name", "id_number", "mobile", "card_no", "sms_code"}
	case "recharge", "withdraw":
		return []string{"amount"}
	case "card":
		return []string{"card_no", "mobile", "sms_code"}
	case "password":
		return []string{"id_number", "sms_code"}
	case "close":
		return []string{"sms_code"}
	}
	return nil
}

// takeFace keeps an uploaded face photo in the session. Whether it shows a
// face is the bank's face check, at the submit step.
func takeFace(r *http.Request, f *h5Form) *h5Step {
	if r.MultipartForm == nil {
		return nil
	}
	files := r.MultipartForm.File["face"]
	if len(files) == 0 || files[0].Size == 0 {
		return nil // the browser sends an empty part when no file was chosen
	}
	if files[0].Size > rules.MaxImageBytes {
		return &h5Step{err: "人脸照片不能超过 1 MB。"}
	}
	file, err := files[0].Open()
	if err != nil {
		return &h5Step{err: "人脸照片无法读取，请重新上传。"}
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, rules.MaxImageBytes+1))
	if err != nil || len(data) > rules.MaxImageBytes {
		return &h5Step{err: "人脸照片无法读取，请重新上传。"}
	}
	// The bank's format step, headers only: a photo whose pixels would not
	// fit is refused here, before anything decodes it.
	if _, err := faceFormat("face_image", data); err != nil {
		if strings.HasPrefix(err.msg, "face_image: would decode") {
			return &h5Step{err: "照片像素过多，请上传较小的照片。"}
		}
		return &h5Step{err: "请上传 JPEG 或 PNG 格式的照片。"}
	}
	f.face, f.faceLabel = data, "已上传照片"
	return nil
}

// typedPIN is a PIN field of the form, if it is six digits. A PIN of
// another shape never reaches the bank's PIN check, where it would count
// as a wrong PIN: the API refuses it at decryption the same way.
func typedPIN(r *http.Request, name string) (string, bool) {
	p := r.PostFormValue(name)
	if len(p) != 6 {
		return "", false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", false
		}
	}
	return p, true
}

// newPIN reads a new PIN typed twice.
// smsFaceAndNewPIN is what the open and password pages need before they
// call the bank: an SMS sent, a face photo, and a new PIN typed twice.
func smsFaceAndNewPIN(r *http.Request, f *h5Form) (string, *h5Step) {
	pin, pinErr := newPIN(r)
	switch {
	case f.smsSerial == "":
		return "", &h5Step{err: "请先获取短信验证码。"}
	case len(f.face) == 0:
		return "", &h5Step{err: "请上传人脸照片，或使用测试人脸。"}
	case pinErr != nil:
		return "", pinErr
	}
	return pin, nil
}

func newPIN(r *http.Request) (string, *h5Step) {
	p, ok := typedPIN(r, "pin")
	if !ok {
		return "", &h5Step{err: "请设置6位数字交易密码。"}
	}
	if again, _ := typedPIN(r, "pin2"); again != p {
		return "", &h5Step{err: "两次输入的交易密码不一致，请重新输入。"}
	}
	return p, nil
}

func (s *h5Site) sendSMS(w http.ResponseWriter, sess *h5Session, view string, f *h5Form, mobile, scene string) {
	v, err := s.core.sendSMS(sess.link.who(s.b), smsSendArgs{Mobile: mobile, Scene: scene})
	if err != nil {
		s.show(w, sess, view, h5StepOf(err))
		return
	}
	f.smsSerial, f.smsMobile = v.SMSSerial, mobile
	s.show(w, sess, view, &h5Step{notice: "验证码已发送至 " + mask.Mobile(mobile) + "，5分钟内有效。"})
}

// succeed ends a flow that worked: back to the merchant, or to the wallet
// it was opened from, which then says what happened.
func (s *h5Site) succeed(w http.ResponseWriter, r *http.Request, sess *h5Session, view, flash string) {
	if sess.fromWallet(view) {
		delete(sess.forms, view)
		sess.flash = flash
		http.Redirect(w, r, sess.url("wallet"), http.StatusSeeOther)
		return
	}
	s.finish(w, r, sess, h5Success)
}

// fail ends a flow that cannot succeed any more: the result page says why,
// and its button returns FAILED to the merchant. triesLeft is as for
// h5Message.
func (s *h5Site) fail(w http.ResponseWriter, sess *h5Session, view, head string, e *apiError, triesLeft int) {
	msg, hint := h5Message(e, triesLeft)
	detail := msg
	if hint != "" {
		detail += " " + hint
	}
	sess.outcome = &h5Outcome{view: view, head: head, detail: detail, result: h5Failed}
	s.show(w, sess, view, nil)
}

// final reports whether an answer ends a flow: nothing the user can type
// on this page changes it.
func final(e *apiError, triesLeft int) bool {
	switch e.code {
	case codeAccountNotFound, codeAccountFrozen, codeAccountClosed, codePasswordLocked,
		codeOrderConflict, codeVerifyLimitExceeded:
		return true
	case codePasswordIncorrect:
		return triesLeft == 0
	}
	return false
}

// pinAnswer is the step for a refused PIN call: the tries left after a
// wrong PIN, or whatever else the bank said.
func (s *h5Site) pinAnswer(sess *h5Session, e *apiError) (*h5Step, int) {
	left := -1
	if e.code == codePasswordIncorrect {
		left = s.core.pinTriesLeft(sess.link.who(s.b), sess.accountNo)
	}
	st := h5StepOf(e)
	if left >= 0 {
		st.err, st.hint = h5Message(e, left)
	}
	return st, left
}

func (s *h5Site) postOpen(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form, action string) {
	v := f.values
	if action == "sms" {
		s.sendSMS(w, sess, "open", f, v["mobile"], sceneOpen)
		return
	}
	pin, st := smsFaceAndNewPIN(r, f)
	if st != nil {
		s.show(w, sess, "open", st)
		return
	}
	who := sess.link.who(s.b)
	factors := [4]string{v["name"], v["id_number"], v["card_no"], v["mobile"]}
	if f.token == "" || f.tokenFor != factors {
		res, err := s.core.verify(who, verifyArgs{Name: v["name"], IDNumber: v["id_number"], CardNo: v["card_no"], Mobile: v["mobile"]})
		if err != nil {
			if final(err, -1) {
				s.fail(w, sess, "open", "开户失败", err, -1)
				return
			}
			s.show(w, sess, "open", h5StepOf(err))
			return
		}
		f.token, f.tokenFor = res.VerifyToken, factors
	}
	acct, err := s.core.openAccount(who, openArgs{
		UserID: sess.link.userID, VerifyToken: f.token, Name: v["name"], IDNumber: v["id_number"],
		CardNo: v["card_no"], Mobile: v["mobile"], SMSSerial: f.smsSerial, SMSCode: v["sms_code"],
		FaceImage: base64.StdEncoding.EncodeToString(f.face),
	}, clearPIN("password", pin))
	if err != nil {
		if err.code == codeVerifyTokenInvalid {
			f.token = ""
		}
		s.show(w, sess, "open", h5StepOf(err))
		return
	}
	sess.accountNo = acct.AccountNo
	s.finish(w, r, sess, h5Success)
}

// orderNo is the out_trade_no of a money view: the link's (or the one the
// bank fixed for the link), or for a flow opened from the wallet one the
// bank makes for it, kept until the flow ends.
func (s *h5Site) orderNo(sess *h5Session, view string, f *h5Form) string {
	if !sess.fromWallet(view) {
		return sess.outTradeNo
	}
	if f.outTradeNo == "" {
		f.outTradeNo = h5OrderNo()
	}
	return f.outTradeNo
}

func (s *h5Site) postRecharge(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form) {
	amount, ok := parseYuan(f.values["amount"])
	if !ok {
		s.show(w, sess, "recharge", &h5Step{err: "请输入正确的充值金额（单位元，最多两位小数）。"})
		return
	}
	o, err := s.core.recharge(sess.link.who(s.b), rechargeArgs{AccountNo: sess.accountNo,
		OutTradeNo: s.orderNo(sess, "recharge", f), Amount: amount, NotifyURL: sess.link.notifyURL})
	if err != nil {
		if final(err, -1) {
			s.fail(w, sess, "recharge", "充值失败", err, -1)
			return
		}
		s.show(w, sess, "recharge", h5StepOf(err))
		return
	}
	s.succeed(w, r, sess, "recharge", "充值成功：¥"+yuan(o.Amount)+" 已转入电子账户。")
}

func (s *h5Site) postWithdraw(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form) {
	amount, ok := parseYuan(f.values["amount"])
	if !ok {
		s.show(w, sess, "withdraw", &h5Step{err: "请输入正确的提现金额（单位元，最多两位小数）。"})
		return
	}
	pin, ok := typedPIN(r, "pin")
	if !ok {
		s.show(w, sess, "withdraw", &h5Step{err: "请输入6位数字交易密码。"})
		return
	}
	o, err := s.core.withdraw(sess.link.who(s.b), withdrawArgs{AccountNo: sess.accountNo,
		OutTradeNo: s.orderNo(sess, "withdraw", f), Amount: amount, NotifyURL: sess.link.notifyURL}, clearPIN("password", pin))
	if err != nil {
		st, left := s.pinAnswer(sess, err)
		if final(err, left) {
			s.fail(w, sess, "withdraw", "提现失败", err, left)
			return
		}
		s.show(w, sess, "withdraw", st)
		return
	}
	s.succeed(w, r, sess, "withdraw", "提现成功：¥"+yuan(o.Amount)+" 已转入绑定银行卡。")
}

func (s *h5Site) postPay(w http.ResponseWriter, r *http.Request, sess *h5Session) {
	pin, ok := typedPIN(r, "pin")
	if !ok {
		s.show(w, sess, "pay", &h5Step{err: "请输入6位数字交易密码。"})
		return
	}
	l := sess.link
	who := l.who(s.b)
	_, err := s.core.pay(who, payArgs{AccountNo: l.accountNo, OutTradeNo: l.outTradeNo, Amount: l.amount,
		Subject: l.subject, NotifyURL: l.notifyURL}, clearPIN("password", pin))
	if err == nil {
		s.finish(w, r, sess, h5Success)
		return
	}
	st, left := s.pinAnswer(sess, err)
	// The amount and order are the merchant's: beyond a mistyped PIN or a
	// busy bank, nothing on this page can make the payment succeed.
	if (err.code == codePasswordIncorrect && left > 0) || retryable(err.code) {
		s.show(w, sess, "pay", st)
		return
	}
	// ORDER_CONFLICT means the order number belongs to a recorded order:
	// a PAYMENT_FAILED for it would contradict that order.
	if err.code != codeOrderConflict {
		s.core.paymentFailed(who, l)
	}
	s.fail(w, sess, "pay", "支付失败", err, left)
}

func (s *h5Site) postCard(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form, action string) {
	v := f.values
	if action == "sms" {
		s.sendSMS(w, sess, "card", f, v["mobile"], sceneChangeCard)
		return
	}
	if f.smsSerial == "" {
		s.show(w, sess, "card", &h5Step{err: "请先获取短信验证码。"})
		return
	}
	pin, ok := typedPIN(r, "pin")
	if !ok {
		s.show(w, sess, "card", &h5Step{err: "请输入6位数字交易密码。"})
		return
	}
	res, err := s.core.changeCard(sess.link.who(s.b), cardChangeArgs{AccountNo: sess.accountNo, CardNo: v["card_no"],
		Mobile: v["mobile"], SMSSerial: f.smsSerial, SMSCode: v["sms_code"]}, clearPIN("password", pin))
	if err != nil {
		st, left := s.pinAnswer(sess, err)
		if final(err, left) {
			s.fail(w, sess, "card", "换卡失败", err, left)
			return
		}
		s.show(w, sess, "card", st)
		return
	}
	s.succeed(w, r, sess, "card", "换卡成功：已绑定 "+res.BoundCard.BankName+"（"+res.BoundCard.CardNoMasked+"）。")
}

func (s *h5Site) postPassword(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form, action string) {
	who := sess.link.who(s.b)
	if action == "sms" {
		m, err := s.core.holderMobile(who, sess.accountNo)
		if err != nil {
			s.fail(w, sess, "password", "重置失败", err, -1)
			return
		}
		s.sendSMS(w, sess, "password", f, m, sceneResetPassword)
		return
	}
	pin, st := smsFaceAndNewPIN(r, f)
	if st != nil {
		s.show(w, sess, "password", st)
		return
	}
	_, err := s.core.resetPassword(who, resetArgs{AccountNo: sess.accountNo, IDNumber: f.values["id_number"],
		SMSSerial: f.smsSerial, SMSCode: f.values["sms_code"], FaceImage: base64.StdEncoding.EncodeToString(f.face)},
		clearPIN("new_password", pin))
	if err != nil {
		if final(err, -1) {
			s.fail(w, sess, "password", "重置失败", err, -1)
			return
		}
		s.show(w, sess, "password", h5StepOf(err))
		return
	}
	s.succeed(w, r, sess, "password", "交易密码已重置，请使用新密码。")
}

func (s *h5Site) postClose(w http.ResponseWriter, r *http.Request, sess *h5Session, f *h5Form, action string) {
	who := sess.link.who(s.b)
	if action == "sms" {
		m, err := s.core.holderMobile(who, sess.accountNo)
		if err != nil {
			s.fail(w, sess, "close", "销户失败", err, -1)
			return
		}
		s.sendSMS(w, sess, "close", f, m, sceneClose)
		return
	}
	if f.smsSerial == "" {
		s.show(w, sess, "close", &h5Step{err: "请先获取短信验证码。"})
		return
	}
	pin, ok := typedPIN(r, "pin")
	if !ok {
		s.show(w, sess, "close", &h5Step{err: "请输入6位数字交易密码。"})
		return
	}
	_, err := s.core.closeAccount(who, closeArgs{AccountNo: sess.accountNo, SMSSerial: f.smsSerial,
		SMSCode: f.values["sms_code"]}, clearPIN("password", pin))
	if err != nil {
		st, left := s.pinAnswer(sess, err)
		if final(err, left) {
			s.fail(w, sess, "close", "销户失败", err, left)
			return
		}
		s.show(w, sess, "close", st)
		return
	}
	s.succeed(w, r, sess, "close", "电子账户已注销。")
}

// --- answers in Chinese ----------------------------------------------------

func h5StepOf(e *apiError) *h5Step {
	msg, hint := h5Message(e, -1)
	return &h5Step{err: msg, hint: hint}
}

// h5Message is a bank answer as the user reads it: what happened and, where
// there is one, what to do. triesLeft ≥ 0 is the number of PIN attempts
// left after a PASSWORD_INCORRECT.
func h5Message(e *apiError, triesLeft int) (msg, hint string) {
	switch e.code {
	case codeParamInvalid:
		field, reason, _ := strings.Cut(e.msg, ": ")
		return h5FieldLabel(field) + h5Reason(reason) + "。", ""
	case codeFourFactorMismatch:
		return "身份信息与银行卡预留信息不符。", "请核对姓名、身份证号、银行卡号和银行预留手机号。"
	case codeCardNotSupported:
		return "该卡不是借记卡，不支持绑定。", "电子账户只能绑定本人的借记卡（储蓄卡）。"
	case codeVerifyTokenInvalid:
		return "身份核验已失效。", "请重新提交。"
	case codeVerifyLimitExceeded:
		return "今日身份核验失败次数过多。", "请明天再试。"
	case codeSMSCodeInvalid:
		return "短信验证码错误。", "请核对验证码；更换手机号后须重新获取。沙箱环境验证码为 123456。"
	case codeSMSCodeExpired:
		return "短信验证码已失效。", "请重新获取验证码。"
	case codeSMSTooFrequent:
		return "验证码发送过于频繁。", "每个手机号每分钟最多发送1条、每天最多10条，请稍后再试。"
	case codeFaceMismatch:
		return "人脸识别未通过。", "请上传本人清晰的彩色正面照片（至少 64×64 像素）。"
	case codePasswordWeak:
		return "交易密码过于简单。", "不能使用相同的数字或连续的数字（如 111111、123456）。"
	case codePasswordIncorrect:
		if triesLeft == 0 {
			return "密码错误，交易密码已锁定。", "请通过“重置交易密码”解锁，或明天再试。"
		}
		if triesLeft > 0 {
			return "密码错误，今日还可尝试 " + strconv.Itoa(triesLeft) + " 次。", ""
		}
		return "密码错误。", ""
	case codePasswordLocked:
		return "交易密码已锁定（今日错误次数过多）。", "请通过“重置交易密码”解锁，或明天再试。"
	case codeAgeRestricted:
		return "未满16周岁不能开立电子账户。", ""
	case codeAccountAlreadyOpened:
		return "您已在本渠道开立过电子账户。", "每人在同一渠道只能开立一个电子账户。"
	case codeAccountNotFound:
		return "账户不存在。", ""
	case codeAccountFrozen:
		return "账户已冻结，暂不能办理此业务。", "如有疑问请联系银行客服。"
	case codeAccountClosed:
		return "账户已销户。", ""
	case codeBalanceNotZero:
		return "账户余额不为零，不能销户。", "请先将余额全部提现至绑定银行卡，再办理销户。"
	case codeInsufficientBalance:
		return "账户余额不足。", ""
	case codeDailyLimitExceeded:
		return "超出单日交易限额（1万元）。", ""
	case codeYearlyLimitExceeded:
		return "超出年度交易限额（20万元）。", ""
	case codeOrderConflict:
		return "订单号已被其他交易使用。", "请返回商户重新下单。"
	case codeDecryptFailed:
		return "交易密码格式不正确。", ""
	case codeSystemError, codeServiceUnavailable, codeRateLimited:
		return "银行系统繁忙。", "请稍后重试。"
	}
	return "办理失败（" + e.code + "）。", ""
}

func h5FieldLabel(field string) string {
	switch field {
	case "name":
		return "姓名"
	case "id_number":
		return "身份证号"
	case "card_no":
		return "银行卡号"
	case "mobile":
		return "手机号"
	case "sms_code", "sms_serial":
		return "短信验证码"
	case "face_image":
		return "人脸照片"
	case "amount":
		return "金额"
	case "password", "new_password":
		return "交易密码"
	case "subject":
		return "商品名称"
	case "out_trade_no":
		return "订单号"
	case "account_no":
		return "账户号"
	case "user_id":
		return "用户标识"
	}
	return "填写的信息"
}

// h5Reason translates the reasons of internal/rules and the core that a
// user can act on; any other is a format problem.
func h5Reason(reason string) string {
	switch {
	case reason == "is required":
		return "不能为空"
	case strings.Contains(reason, "check digit"):
		return "校验位不正确，请核对"
	case strings.Contains(reason, "birth date"):
		return "中的出生日期不正确"
	case reason == "does not match the account holder":
		return "与账户持有人不符"
	case reason == "is the card already bound":
		return "与当前绑定的银行卡相同"
	case strings.HasPrefix(reason, "would take the balance over"):
		return "超出账户余额上限"
	case strings.HasPrefix(reason, "is larger than"), strings.HasPrefix(reason, "is longer than"):
		return "过大"
	case strings.HasPrefix(reason, "does not decode"), strings.HasPrefix(reason, "must be a JPEG"):
		return "无法识别，请上传 JPEG 或 PNG 图片"
	}
	return "格式不正确"
}

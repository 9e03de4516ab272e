package h5site

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"

	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

// The flows of the eight pages. Every business step is an operation of the
// Bank, the same one the API runs, so a page can neither skip a rule nor
// apply one the API does not; the pages add only what a form needs (a PIN
// typed twice, an amount in 元, which step comes next).

// maxForm bounds a posted form: a 1 MiB face photo plus its multipart
// overhead and the few text fields.
const maxForm = 2 << 20

// Flow results (docs/protocol.md, section 9).
const (
	resultSuccess   = "SUCCESS"
	resultFailed    = "FAILED"
	resultCancelled = "CANCELLED"
)

// step is one request to a page of a session.
type step struct {
	s      *Site
	w      http.ResponseWriter
	r      *http.Request
	sess   *session
	page   *page
	form   *form
	action string
}

// message is what a step tells the user on the page it shows next.
type message struct {
	err    string
	hint   string
	notice string
}

func (st *step) who() Caller { return st.sess.link.who(st.s.bank) }

// show renders the step's page: its form with what the user typed, or the
// result page of a flow that ended in failure.
func (st *step) show(m *message) {
	s, sess, p := st.s, st.sess, st.page
	formTo := cspOrigin(sess.link.returnURL)
	if o := sess.outcome; o != nil && o.view == p.name {
		v := &view{Title: p.title, Assets: assetsURL(sess.base), Action: sess.url(p.name),
			Head: o.head, Detail: o.detail, Button: "返回商户"}
		if sess.fromWallet(p.name) {
			v.Button = "返回我的钱包"
		}
		s.render(st.w, http.StatusOK, "result", v, formTo)
		return
	}
	f := sess.form(p.name)
	v := &view{
		Title:  p.title,
		Assets: assetsURL(sess.base),
		Action: sess.url(p.name),
		V:      maps.Clone(f.values),
		Links:  map[string]string{},
	}
	if sess.fromWallet(p.name) {
		v.Home = sess.url("wallet")
	}
	if m != nil {
		v.Err, v.Hint, v.Notice = m.err, m.hint, m.notice
	}
	if sess.accountNo != "" && p.name != "open" {
		if a, err := s.bank.Account(st.who(), sess.accountNo); err == nil {
			v.Account = accountOf(a)
		}
	}
	if f.smsSerial != "" {
		v.SMSSent, v.SMSTo = true, mask.Mobile(f.smsMobile)
	} else if p.smsToHolder {
		// The page shows, masked, which phone the SMS will go to.
		if m, err := s.bank.HolderMobile(st.who(), sess.accountNo); err == nil {
			v.SMSTo = mask.Mobile(m)
		}
	}
	v.FaceReady, v.FaceLabel = len(f.face) > 0, f.faceLabel
	if p.returns == returnsOrder && !sess.fromWallet(p.name) {
		v.OutTradeNo = sess.outTradeNo
	}
	if fixed := sess.fixedAmount(p.name); fixed > 0 {
		v.AmountFixed, v.Amount = true, yuan(fixed)
		v.V["amount"] = v.Amount
	}
	if p.name == sess.link.page.name {
		v.Subject = sess.link.subject
	}
	if p.show != nil {
		p.show(st, v)
	}
	s.render(st.w, http.StatusOK, p.name, v, formTo)
}

func accountOf(a Account) *accountView {
	out := &accountView{
		NoMasked:  mask.Card(a.AccountNo),
		Status:    a.Status,
		Name:      a.NameMasked,
		Balance:   yuan(a.Balance),
		Available: yuan(a.Available),
		BankName:  a.BankName,
		CardNo:    a.CardNoMasked,
		Open:      a.Status == "NORMAL",
	}
	switch a.Status {
	case "NORMAL":
		out.StatusCN = "正常"
	case "FROZEN":
		out.StatusCN = "已冻结"
	case "CLOSED":
		out.StatusCN = "已销户"
	}
	return out
}

// post runs one step of a page: the actions every page shares (leaving a
// result page, cancel, face photo, SMS), then the page's own.
func (s *Site) post(st *step) {
	w, r, sess, p := st.w, st.r, st.sess, st.page
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseMultipartForm(maxForm); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		st.show(&message{err: "提交的内容过大或无法读取，照片请小于 1 MB。"})
		return
	}
	if r.MultipartForm != nil {
		defer func() { _ = r.MultipartForm.RemoveAll() }()
	}
	st.action = r.PostFormValue("action")

	if o := sess.outcome; o != nil && o.view == p.name {
		if st.action != "finish" {
			st.show(nil)
			return
		}
		sess.outcome = nil
		if sess.fromWallet(p.name) {
			delete(sess.forms, p.name)
			http.Redirect(w, r, sess.url("wallet"), http.StatusSeeOther)
			return
		}
		st.finish(o.result)
		return
	}
	if st.action == "cancel" && p.cancel {
		if sess.fromWallet(p.name) {
			delete(sess.forms, p.name)
			http.Redirect(w, r, sess.url("wallet"), http.StatusSeeOther)
			return
		}
		st.finish(resultCancelled)
		return
	}

	st.form = sess.form(p.name)
	for _, k := range p.typed {
		st.form.values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if sess.fixedAmount(p.name) > 0 {
		// The link's amount is the flow's: nothing typed replaces it.
		delete(st.form.values, "amount")
	}
	if p.face {
		if m := s.takeFace(r, st.form); m != nil {
			st.show(m)
			return
		}
		if st.action == "testface" {
			st.form.face, st.form.faceLabel = s.testFace, "沙箱测试人脸"
			st.show(&message{notice: "已使用沙箱测试人脸。"})
			return
		}
	}
	if p.scene != "" && st.action == "sms" {
		st.sendSMS()
		return
	}
	p.post(st)
}

// takeFace keeps an uploaded face photo in the session, after the bank's
// format step (headers only: a photo whose pixels would not fit is refused
// here, before anything decodes it). Whether it shows a face is the bank's
// face check, at the submit step.
func (s *Site) takeFace(r *http.Request, f *form) *message {
	if r.MultipartForm == nil {
		return nil
	}
	files := r.MultipartForm.File["face"]
	if len(files) == 0 || files[0].Size == 0 {
		return nil // the browser sends an empty part when no file was chosen
	}
	if files[0].Size > rules.MaxImageBytes {
		return &message{err: "人脸照片不能超过 1 MB。"}
	}
	file, err := files[0].Open()
	if err != nil {
		return &message{err: "人脸照片无法读取，请重新上传。"}
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, rules.MaxImageBytes+1))
	if err != nil || len(data) > rules.MaxImageBytes {
		return &message{err: "人脸照片无法读取，请重新上传。"}
	}
	if ref := s.bank.FaceFormat(data); ref != nil {
		if strings.HasPrefix(ref.Reason, "would decode") {
			return &message{err: "照片像素过多，请上传较小的照片。"}
		}
		return &message{err: "请上传 JPEG 或 PNG 格式的照片。"}
	}
	f.face, f.faceLabel = data, "已上传照片"
	return nil
}

// sendSMS is the 发送验证码 button: to the mobile typed on the page, or to
// the one the bank holds for the account.
func (st *step) sendSMS() {
	mobile := st.form.values["mobile"]
	if st.page.smsToHolder {
		m, err := st.s.bank.HolderMobile(st.who(), st.sess.accountNo)
		if err != nil {
			st.fail(err, -1)
			return
		}
		mobile = m
	}
	serial, err := st.s.bank.SendSMS(st.who(), mobile, st.page.scene)
	if err != nil {
		st.show(messageOf(err))
		return
	}
	st.form.smsSerial, st.form.smsMobile = serial, mobile
	st.show(&message{notice: "验证码已发送至 " + mask.Mobile(mobile) + "，5分钟内有效。"})
}

// finish ends a session and sends the browser back to the merchant.
func (st *step) finish(result string) {
	s, sess, l := st.s, st.sess, st.sess.link
	var outTradeNo, accountNo string
	if l.page.returns == returnsOrder {
		outTradeNo = sess.outTradeNo
	} else {
		accountNo = sess.accountNo // open: set only once the account exists
	}
	to, err := s.returnURL(l, result, outTradeNo, accountNo)
	if err != nil {
		// return_url was verified when the session began and the signing
		// key is the bank's own: only a failing random source gets here.
		s.log.Error("sandbox: h5 return not signed", "err", err)
		http.Error(st.w, "银行系统繁忙，请稍后再试", http.StatusInternalServerError)
		return
	}
	sess.done = true
	s.sessions.remove(sess.id)
	http.SetCookie(st.w, sess.cookie(st.r, -1))
	s.log.Info("sandbox: h5 flow ended", "page", l.page.name, "result", result, "app_id", l.appID)
	http.Redirect(st.w, st.r, to, http.StatusSeeOther)
}

// succeed ends a flow that worked: back to the merchant, or to the wallet
// it was opened from, which then says what happened.
func (st *step) succeed(flash string) {
	if st.sess.fromWallet(st.page.name) {
		delete(st.sess.forms, st.page.name)
		st.sess.flash = flash
		http.Redirect(st.w, st.r, st.sess.url("wallet"), http.StatusSeeOther)
		return
	}
	st.finish(resultSuccess)
}

// fail ends a flow that cannot succeed any more: the result page says why,
// and its button returns FAILED to the merchant. triesLeft is as for
// messageText.
func (st *step) fail(e *Refusal, triesLeft int) {
	msg, hint := messageText(e, triesLeft)
	detail := msg
	if hint != "" {
		detail += " " + hint
	}
	st.sess.outcome = &outcome{view: st.page.name, head: st.page.failHead, detail: detail, result: resultFailed}
	st.show(nil)
}

// refused shows a refusal: on the page, for the user to correct, or as
// the end of the flow when nothing on the page can change it.
func (st *step) refused(e *Refusal) {
	left := -1
	if e.Code == "PASSWORD_INCORRECT" {
		left = st.s.bank.PINTriesLeft(st.who(), st.sess.accountNo)
	}
	if final(e, left) {
		st.fail(e, left)
		return
	}
	msg, hint := messageText(e, left)
	st.show(&message{err: msg, hint: hint})
}

// final reports whether an answer ends a flow: nothing the user can type
// on this page changes it.
func final(e *Refusal, triesLeft int) bool {
	switch e.Code {
	case "ACCOUNT_NOT_FOUND", "ACCOUNT_FROZEN", "ACCOUNT_CLOSED", "PASSWORD_LOCKED",
		"ORDER_CONFLICT", "VERIFY_LIMIT_EXCEEDED":
		return true
	case "PASSWORD_INCORRECT":
		return triesLeft == 0
	}
	return false
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

// pinOf reads the page's PIN: the account's (once), or a new one typed
// twice.
func (st *step) pinOf() (string, *message) {
	p, ok := typedPIN(st.r, "pin")
	if st.page.pin == accountPIN {
		if !ok {
			return "", &message{err: "请输入6位数字交易密码。"}
		}
		return p, nil
	}
	if !ok {
		return "", &message{err: "请设置6位数字交易密码。"}
	}
	if again, _ := typedPIN(st.r, "pin2"); again != p {
		return "", &message{err: "两次输入的交易密码不一致，请重新输入。"}
	}
	return p, nil
}

// ready is what a page needs before it calls the bank, in the order of
// its form: an SMS sent, a face photo, a PIN.
func (st *step) ready() (string, *message) {
	switch {
	case st.page.scene != "" && st.form.smsSerial == "":
		return "", &message{err: "请先获取短信验证码。"}
	case st.page.face && len(st.form.face) == 0:
		return "", &message{err: "请上传人脸照片，或使用测试人脸。"}
	case st.page.pin == noPIN:
		return "", nil
	}
	return st.pinOf()
}

// amount is a money page's amount: the link's, or what the user typed.
func (st *step) amount() (int64, bool) {
	if fixed := st.sess.fixedAmount(st.page.name); fixed > 0 {
		return fixed, true
	}
	return parseYuan(st.form.values["amount"])
}

// orderNo is the out_trade_no of a money page: the link's, or for a flow
// opened from the wallet one the bank makes for it, kept until the flow
// ends so that a retried step cannot move money twice.
func (st *step) orderNo() string {
	if !st.sess.fromWallet(st.page.name) {
		return st.sess.outTradeNo
	}
	if st.form.outTradeNo == "" {
		st.form.outTradeNo = orderNo()
	}
	return st.form.outTradeNo
}

// --- the pages' own steps ---------------------------------------------------

func postOpen(st *step) {
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	v, f := st.form.values, st.form
	factors := Factors{Name: v["name"], IDNumber: v["id_number"], CardNo: v["card_no"], Mobile: v["mobile"]}
	key := [4]string{factors.Name, factors.IDNumber, factors.CardNo, factors.Mobile}
	if f.token == "" || f.tokenFor != key {
		token, err := st.s.bank.Verify(st.who(), factors)
		if err != nil {
			st.refused(err)
			return
		}
		f.token, f.tokenFor = token, key
	}
	acct, err := st.s.bank.Open(st.who(), OpenRequest{UserID: st.sess.link.userID, VerifyToken: f.token, Factors: factors,
		SMSSerial: f.smsSerial, SMSCode: v["sms_code"], Face: f.face, PIN: pin})
	if err != nil {
		if err.Code == "VERIFY_TOKEN_INVALID" {
			f.token = ""
		}
		st.refused(err)
		return
	}
	st.sess.accountNo = acct
	st.finish(resultSuccess)
}

func showWallet(st *step, v *view) {
	v.Flash, st.sess.flash = st.sess.flash, ""
	for name, p := range st.s.pages {
		if p.fromWallet {
			v.Links[name] = st.sess.url(name)
		}
	}
}

// postWallet: the wallet's only button is 返回商户.
func postWallet(st *step) {
	if st.action == "return" {
		st.finish(resultSuccess)
		return
	}
	st.show(nil)
}

func postRecharge(st *step) {
	amount, ok := st.amount()
	if !ok {
		st.show(&message{err: "请输入正确的充值金额（单位元，最多两位小数）。"})
		return
	}
	o, err := st.s.bank.Recharge(st.who(), Money{AccountNo: st.sess.accountNo, OutTradeNo: st.orderNo(),
		Amount: amount, NotifyURL: st.sess.link.notifyURL})
	if err != nil {
		st.refused(err)
		return
	}
	st.succeed("充值成功：¥" + yuan(o.Amount) + " 已转入电子账户。")
}

func postWithdraw(st *step) {
	amount, ok := st.amount()
	if !ok {
		st.show(&message{err: "请输入正确的提现金额（单位元，最多两位小数）。"})
		return
	}
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	o, err := st.s.bank.Withdraw(st.who(), Money{AccountNo: st.sess.accountNo, OutTradeNo: st.orderNo(),
		Amount: amount, NotifyURL: st.sess.link.notifyURL}, pin)
	if err != nil {
		st.refused(err)
		return
	}
	st.succeed("提现成功：¥" + yuan(o.Amount) + " 已转入绑定银行卡。")
}

func postPay(st *step) {
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	l := st.sess.link
	money := Money{AccountNo: l.accountNo, OutTradeNo: l.outTradeNo, Amount: l.amount, Subject: l.subject, NotifyURL: l.notifyURL}
	_, err := st.s.bank.Pay(st.who(), money, pin)
	if err == nil {
		st.finish(resultSuccess)
		return
	}
	left := -1
	if err.Code == "PASSWORD_INCORRECT" {
		left = st.s.bank.PINTriesLeft(st.who(), st.sess.accountNo)
	}
	// The amount and order are the merchant's: beyond a mistyped PIN or a
	// busy bank, nothing on this page can make the payment succeed.
	if (err.Code == "PASSWORD_INCORRECT" && left > 0) || retryable(err.Code) {
		msg, hint := messageText(err, left)
		st.show(&message{err: msg, hint: hint})
		return
	}
	// ORDER_CONFLICT means the order number belongs to a recorded order:
	// a PAYMENT_FAILED for it would contradict that order.
	if err.Code != "ORDER_CONFLICT" {
		st.s.bank.PaymentFailed(st.who(), money)
	}
	st.fail(err, left)
}

func postCard(st *step) {
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	v := st.form.values
	card, err := st.s.bank.ChangeCard(st.who(), CardChange{AccountNo: st.sess.accountNo, CardNo: v["card_no"],
		Mobile: v["mobile"], SMSSerial: st.form.smsSerial, SMSCode: v["sms_code"]}, pin)
	if err != nil {
		st.refused(err)
		return
	}
	st.succeed("换卡成功：已绑定 " + card.BankName + "（" + card.CardNoMasked + "）。")
}

func postPassword(st *step) {
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	err := st.s.bank.ResetPassword(st.who(), Reset{AccountNo: st.sess.accountNo, IDNumber: st.form.values["id_number"],
		SMSSerial: st.form.smsSerial, SMSCode: st.form.values["sms_code"], Face: st.form.face}, pin)
	if err != nil {
		st.refused(err)
		return
	}
	st.succeed("交易密码已重置，请使用新密码。")
}

func showClose(st *step, v *view) {
	if st.sess.fromWallet(st.page.name) {
		// A balance left is the usual reason a closure fails: the page
		// offers the way to the withdrawal.
		v.Links["withdraw"] = st.sess.url("withdraw")
	}
}

func postClose(st *step) {
	pin, m := st.ready()
	if m != nil {
		st.show(m)
		return
	}
	err := st.s.bank.Close(st.who(), Closure{AccountNo: st.sess.accountNo, SMSSerial: st.form.smsSerial,
		SMSCode: st.form.values["sms_code"]}, pin)
	if err != nil {
		st.refused(err)
		return
	}
	st.succeed("电子账户已注销。")
}

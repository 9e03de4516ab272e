package sandbox

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/sandbox/h5site"
	"github.com/xinyun-open/ewallet-go/sign"
)

// H5Input is what a user does on an H5 page, for CompleteH5: the PIN, an
// amount where the page asks for one, the SMS code, form values, a face
// photo, or Cancel.
type H5Input = h5site.Input

// H5PageError is what CompleteH5 returns when the bank showed an error
// page for the link, or refused a step of the page (a wrong PIN, say).
type H5PageError = h5site.PageError

// CompleteH5 completes the H5 flow of a signed link without a browser:
// through the pages' own HTTP handlers, exactly as a browser would (GET the
// link, follow to the session page with its cookie, POST its forms), it
// does what in says — send the SMS and type the code, upload the face or
// press 使用测试人脸, type the PIN and the amount, press the main button or
// 取消 — and returns the URL the bank redirects to at the end: the
// merchant's return_url with the signed result. See H5Input and
// H5PageError.
func (b *Bank) CompleteH5(ctx context.Context, link string, in H5Input) (string, error) {
	return h5site.Complete(ctx, b, link, in)
}

// h5Bank is the bank as its H5 pages see it (h5site.Bank): the directory
// (clock, merchants, keys) and the business core, with PINs in clear as
// typed on the bank's own page. It applies no rule of its own.
type h5Bank struct{ b *Bank }

func (h h5Bank) Now() time.Time { return h.b.now() }

func (h h5Bank) Merchant(appID string) (h5site.Merchant, bool) {
	m := h.b.st.merchant(appID)
	if m == nil {
		return h5site.Merchant{}, false
	}
	return h5site.Merchant{AppID: m.AppID, MerchantID: m.MerchantID, PublicKey: m.PublicKey, NotifyURL: m.NotifyURL}, true
}

func (h h5Bank) OpenLinkData(keyID, encryptKey, data, nonce string) ([]byte, error) {
	key, kerr := h.b.keys.decrypter(keyID, h.b.now())
	if kerr != nil {
		return nil, h5site.ErrUnknownKey
	}
	return sign.Open(context.Background(), key, encryptKey, data, nonce)
}

func (h h5Bank) SignReturn(fields map[string]string) error {
	keyID, key := h.b.keys.signer()
	fields["sign_key_id"] = keyID
	sig, err := sign.SignCanonical(context.Background(), key, "/return", fields)
	if err != nil {
		return err
	}
	fields["sign"] = sig
	return nil
}

func (h h5Bank) FaceFormat(photo []byte) *h5site.Refusal {
	_, err := faceFormat("face_image", photo)
	return refusal(err)
}

func (h h5Bank) Account(who h5site.Caller, accountNo string) (h5site.Account, *h5site.Refusal) {
	a, err := h.b.core.queryAccount(callerOf(who), accountArgs{AccountNo: accountNo})
	if err != nil {
		return h5site.Account{}, refusal(err)
	}
	return h5site.Account{AccountNo: a.AccountNo, Status: a.Status, NameMasked: a.NameMasked, Balance: a.Balance,
		Available: a.AvailableBalance, BankName: a.BoundCard.BankName, CardNoMasked: a.BoundCard.CardNoMasked}, nil
}

func (h h5Bank) HolderMobile(who h5site.Caller, accountNo string) (string, *h5site.Refusal) {
	m, err := h.b.core.holderMobile(callerOf(who), accountNo)
	return m, refusal(err)
}

func (h h5Bank) PINTriesLeft(who h5site.Caller, accountNo string) int {
	return h.b.core.pinTriesLeft(callerOf(who), accountNo)
}

func (h h5Bank) SendSMS(who h5site.Caller, mobile, scene string) (string, *h5site.Refusal) {
	v, err := h.b.core.sendSMS(callerOf(who), smsSendArgs{Mobile: mobile, Scene: scene})
	return v.SMSSerial, refusal(err)
}

func (h h5Bank) Verify(who h5site.Caller, f h5site.Factors) (string, *h5site.Refusal) {
	v, err := h.b.core.verify(callerOf(who), verifyArgs{Name: f.Name, IDNumber: f.IDNumber, CardNo: f.CardNo, Mobile: f.Mobile})
	return v.VerifyToken, refusal(err)
}

func (h h5Bank) Open(who h5site.Caller, r h5site.OpenRequest) (string, *h5site.Refusal) {
	a, err := h.b.core.openAccount(callerOf(who), openArgs{
		UserID: r.UserID, VerifyToken: r.VerifyToken, Name: r.Name, IDNumber: r.IDNumber, CardNo: r.CardNo,
		Mobile: r.Mobile, SMSSerial: r.SMSSerial, SMSCode: r.SMSCode, FaceImage: base64.StdEncoding.EncodeToString(r.Face),
	}, clearPIN("password", r.PIN))
	return a.AccountNo, refusal(err)
}

func (h h5Bank) Recharge(who h5site.Caller, m h5site.Money) (h5site.Order, *h5site.Refusal) {
	o, err := h.b.core.recharge(callerOf(who), rechargeArgs{AccountNo: m.AccountNo, OutTradeNo: m.OutTradeNo,
		Amount: m.Amount, NotifyURL: m.NotifyURL})
	return h5site.Order{OutTradeNo: o.OutTradeNo, Amount: o.Amount}, refusal(err)
}

func (h h5Bank) Withdraw(who h5site.Caller, m h5site.Money, pin string) (h5site.Order, *h5site.Refusal) {
	o, err := h.b.core.withdraw(callerOf(who), withdrawArgs{AccountNo: m.AccountNo, OutTradeNo: m.OutTradeNo,
		Amount: m.Amount, NotifyURL: m.NotifyURL}, clearPIN("password", pin))
	return h5site.Order{OutTradeNo: o.OutTradeNo, Amount: o.Amount}, refusal(err)
}

func (h h5Bank) Pay(who h5site.Caller, m h5site.Money, pin string) (h5site.Order, *h5site.Refusal) {
	o, err := h.b.core.pay(callerOf(who), payArgs{AccountNo: m.AccountNo, OutTradeNo: m.OutTradeNo,
		Amount: m.Amount, Subject: m.Subject, NotifyURL: m.NotifyURL}, clearPIN("password", pin))
	return h5site.Order{OutTradeNo: o.OutTradeNo, Amount: o.Amount}, refusal(err)
}

func (h h5Bank) PaymentFailed(who h5site.Caller, m h5site.Money) {
	h.b.core.paymentFailed(callerOf(who), m)
}

func (h h5Bank) ChangeCard(who h5site.Caller, r h5site.CardChange, pin string) (h5site.BoundCard, *h5site.Refusal) {
	v, err := h.b.core.changeCard(callerOf(who), cardChangeArgs{AccountNo: r.AccountNo, CardNo: r.CardNo,
		Mobile: r.Mobile, SMSSerial: r.SMSSerial, SMSCode: r.SMSCode}, clearPIN("password", pin))
	return h5site.BoundCard{BankName: v.BoundCard.BankName, CardNoMasked: v.BoundCard.CardNoMasked}, refusal(err)
}

func (h h5Bank) ResetPassword(who h5site.Caller, r h5site.Reset, newPIN string) *h5site.Refusal {
	_, err := h.b.core.resetPassword(callerOf(who), resetArgs{AccountNo: r.AccountNo, IDNumber: r.IDNumber,
		SMSSerial: r.SMSSerial, SMSCode: r.SMSCode, FaceImage: base64.StdEncoding.EncodeToString(r.Face)},
		clearPIN("new_password", newPIN))
	return refusal(err)
}

func (h h5Bank) Close(who h5site.Caller, r h5site.Closure, pin string) *h5site.Refusal {
	_, err := h.b.core.closeAccount(callerOf(who), closeArgs{AccountNo: r.AccountNo, SMSSerial: r.SMSSerial,
		SMSCode: r.SMSCode}, clearPIN("password", pin))
	return refusal(err)
}

func callerOf(who h5site.Caller) caller {
	return caller{AppID: who.AppID, MerchantID: who.MerchantID, NotifyURL: who.NotifyURL}
}

// refusal is an answer as the pages read it; nil stays nil.
func refusal(e *apiError) *h5site.Refusal {
	if e == nil {
		return nil
	}
	r := &h5site.Refusal{Code: e.code, Reason: e.msg}
	if e.code == codeParamInvalid {
		// The one shape of PARAM_INVALID: a field of the protocol, ": ",
		// the bank's reason.
		r.Field, r.Reason, _ = strings.Cut(e.msg, ": ")
	}
	return r
}

// What the pages need from the core beyond the API's operations: two
// reads the API does not answer (the holder's mobile, the PIN tries left)
// and the PAYMENT_FAILED notification that only a page flow sends. They
// read the same records under the same lock as the operations, and apply
// no rule of their own.

// holderMobile is the mobile the bank holds for an account of the caller's
// channel: the SMS of a password reset or a closure goes there.
func (c *core) holderMobile(who caller, accountNo string) (string, *apiError) {
	var m string
	err := c.run(func(tx *txn) *apiError {
		a := tx.accountIn(who.MerchantID, accountNo)
		if a == nil {
			return failCode(codeAccountNotFound)
		}
		m = a.Mobile
		return nil
	})
	return m, err
}

// pinTriesLeft is how many wrong PINs the account may still take today
// before checkPIN locks it: the page says so after a wrong one.
func (c *core) pinTriesLeft(who caller, accountNo string) int {
	left := maxPINFailures
	_ = c.run(func(tx *txn) *apiError {
		a := tx.accountIn(who.MerchantID, accountNo)
		if a != nil && a.PINFailDay == dayKey(tx.now) {
			left = maxPINFailures - a.PINFails
		}
		return nil
	})
	return max(left, 0)
}

// failedOrderView is the order of a PAYMENT_FAILED notification. No order
// was recorded (a failed money call records nothing, docs/protocol.md
// section 4), so there is no trade_no; the rest reads like the order would
// have.
type failedOrderView struct {
	OutTradeNo     string `json:"out_trade_no"`
	Type           string `json:"type"`
	AccountNo      string `json:"account_no"`
	Subject        string `json:"subject,omitempty"`
	Amount         int64  `json:"amount"`
	RefundedAmount int64  `json:"refunded_amount"`
	Status         string `json:"status"`
	CreatedAt      string `json:"created_at"`
	FinishedAt     string `json:"finished_at"`
}

// paymentFailed notifies the merchant that the pay page ended without
// paying: the order with status FAILED, to the link's notify_url, else the
// merchant's (docs/protocol.md, "Notifications").
func (c *core) paymentFailed(who caller, m h5site.Money) {
	now := formatTime(c.st.businessNow())
	c.notify(event{
		appID: who.AppID, merchantID: who.MerchantID, notifyType: notifyPaymentFailed, url: who.NotifyURL,
		biz: marshalJSON(failedOrderView{
			OutTradeNo: m.OutTradeNo, Type: typePay, AccountNo: m.AccountNo, Subject: m.Subject,
			Amount: m.Amount, Status: "FAILED", CreatedAt: now, FinishedAt: now,
		}),
	})
}

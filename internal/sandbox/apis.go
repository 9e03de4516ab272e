package sandbox

import "github.com/xinyun-open/ewallet-go/sign"

// apiSpec is one API of section 4: whether it must be encrypted (🔒) and how
// its biz_content becomes a core operation.
type apiSpec struct {
	locked bool
	run    func(*call) (any, *apiError)
}

// call is an authenticated request as the API table sees it.
type call struct {
	who   caller
	plain []byte
	// pinKey is the bank key named by encrypt_key_id, under which PIN fields
	// are encrypted (section 5); nil for a plain request.
	pinKey *sign.PrivateKey
}

// apiTable maps every signed path to its API.
func (b *Bank) apiTable() map[string]apiSpec {
	c := b.core
	return map[string]apiSpec{
		"/api/v1/wallet/query":     {locked: true, run: op(c.walletQuery)},
		"/api/v1/account/sms/send": {locked: true, run: op(c.sendSMS)},
		"/api/v1/account/verify":   {locked: true, run: op(c.verify)},
		"/api/v1/account/open": {locked: true, run: pinOp("password",
			func(a *openArgs) string { return a.Password }, c.openAccount)},
		"/api/v1/account/query": {run: op(c.queryAccount)},
		"/api/v1/account/card/change": {locked: true, run: pinOp("password",
			func(a *cardChangeArgs) string { return a.Password }, c.changeCard)},
		"/api/v1/account/password/reset": {locked: true, run: pinOp("new_password",
			func(a *resetArgs) string { return a.NewPassword }, c.resetPassword)},
		"/api/v1/account/close": {locked: true, run: pinOp("password",
			func(a *closeArgs) string { return a.Password }, c.closeAccount)},
		"/api/v1/payment/recharge": {locked: true, run: op(c.recharge)},
		"/api/v1/payment/withdraw": {locked: true, run: pinOp("password",
			func(a *withdrawArgs) string { return a.Password }, c.withdraw)},
		"/api/v1/payment/pay": {locked: true, run: pinOp("password",
			func(a *payArgs) string { return a.Password }, c.pay)},
		"/api/v1/payment/transfer": {locked: true, run: pinOp("password",
			func(a *transferArgs) string { return a.Password }, c.transfer)},
		"/api/v1/payment/refund":       {run: op(c.refund)},
		"/api/v1/payment/query":        {run: op(c.queryOrder)},
		"/api/v1/payment/refund/query": {run: op(c.queryRefund)},
		"/api/v1/platform/keys":        {run: op(b.keys.platformKeys)},
		"/api/v1/bill/download":        {run: op(b.billDownload)},
	}
}

// op adapts an operation without a PIN: decode the arguments strictly, run.
func op[A, R any](f func(caller, A) (R, *apiError)) func(*call) (any, *apiError) {
	return func(c *call) (any, *apiError) {
		var a A
		if err := decodeBiz(c.plain, &a); err != nil {
			return nil, err
		}
		r, err := f(c.who, a)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// pinOp adapts an operation with a PIN field, which is decrypted here,
// outside the store lock, under the bank key the request named.
func pinOp[A, R any](field string, pin func(*A) string, f func(caller, A, pinValue) (R, *apiError)) func(*call) (any, *apiError) {
	return func(c *call) (any, *apiError) {
		var a A
		if err := decodeBiz(c.plain, &a); err != nil {
			return nil, err
		}
		r, err := f(c.who, a, decryptPIN(field, pin(&a), c.pinKey))
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

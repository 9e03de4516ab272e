package sandbox

// What the H5 pages need from the bank beyond the API's operations: two
// reads the API does not answer (the holder's mobile, the PIN tries left)
// and the PAYMENT_FAILED notification that only a page flow sends. They
// read the same records under the same lock as the operations, and apply no
// rule of their own.

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
// was recorded (a failed money call records nothing, PROTOCOL.md section 4),
// so there is no trade_no; the rest reads like the order would have.
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
func (c *core) paymentFailed(who caller, l *h5Link) {
	now := formatTime(c.st.businessNow())
	c.notify(event{
		appID: who.AppID, merchantID: who.MerchantID, notifyType: notifyPaymentFailed, url: who.NotifyURL,
		biz: marshalJSON(failedOrderView{
			OutTradeNo: l.outTradeNo, Type: typePay, AccountNo: l.accountNo, Subject: l.subject,
			Amount: l.amount, Status: "FAILED", CreatedAt: now, FinishedAt: now,
		}),
	})
}

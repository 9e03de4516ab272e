package sandbox

import (
	"fmt"

	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
)

// walletQueryArgs is wallet/query.
type walletQueryArgs struct {
	IDNumber string `json:"id_number"`
	Mobile   string `json:"mobile"`
	UserID   string `json:"user_id"`
}

// openArgs is account/open; the PIN travels separately as a pinValue.
type openArgs struct {
	UserID      string `json:"user_id"`
	VerifyToken string `json:"verify_token"`
	Name        string `json:"name"`
	IDNumber    string `json:"id_number"`
	CardNo      string `json:"card_no"`
	Mobile      string `json:"mobile"`
	SMSSerial   string `json:"sms_serial"`
	SMSCode     string `json:"sms_code"`
	FaceImage   string `json:"face_image"`
	Password    string `json:"password"`
	Occupation  string `json:"occupation"`
	Address     string `json:"address"`
}

// accountArgs is account/query.
type accountArgs struct {
	AccountNo string `json:"account_no"`
}

// cardChangeArgs is account/card/change.
type cardChangeArgs struct {
	AccountNo string `json:"account_no"`
	CardNo    string `json:"card_no"`
	Mobile    string `json:"mobile"`
	SMSSerial string `json:"sms_serial"`
	SMSCode   string `json:"sms_code"`
	Password  string `json:"password"`
}

// resetArgs is account/password/reset.
type resetArgs struct {
	AccountNo   string `json:"account_no"`
	IDNumber    string `json:"id_number"`
	SMSSerial   string `json:"sms_serial"`
	SMSCode     string `json:"sms_code"`
	FaceImage   string `json:"face_image"`
	NewPassword string `json:"new_password"`
}

// closeArgs is account/close.
type closeArgs struct {
	AccountNo string `json:"account_no"`
	SMSSerial string `json:"sms_serial"`
	SMSCode   string `json:"sms_code"`
	Password  string `json:"password"`
}

// walletQuery answers whether the person (matched on id_number; mobile and
// user_id are checked for form only) has an open or frozen account in the
// caller's channel.
func (c *core) walletQuery(who caller, a walletQueryArgs) (any, *apiError) {
	if err := firstInvalid(
		required("id_number", a.IDNumber, rules.IDNumber),
		required("mobile", a.Mobile, rules.Mobile),
		required("user_id", a.UserID, rules.UserID),
	); err != nil {
		return nil, err
	}
	var out any = notOpenedView{Opened: false}
	err := c.run(func(tx *txn) *apiError {
		no, ok := tx.s.people[personKey{who.MerchantID, a.IDNumber}]
		if !ok {
			return nil
		}
		v := tx.account(no).view()
		opened := true
		v.Opened = &opened
		out = v
		return nil
	})
	return out, err
}

// openAccount opens a channel Class II account. Order (docs/protocol.md):
// formats → age → card → ACCOUNT_ALREADY_OPENED → token → SMS → face →
// PIN → open.
//
// The face image is decoded only once everything before the face step has
// passed (section 11): a first transaction runs those steps and changes
// nothing unless one fails (a wrong SMS code still counts), the image is
// decoded outside the store lock, and a second transaction runs the steps
// again — state may have moved in between — then the face verdict, the PIN
// and the opening.
func (c *core) openAccount(who caller, a openArgs, pin pinValue) (accountView, *apiError) {
	if err := firstInvalid(
		required("user_id", a.UserID, rules.UserID),
		required("verify_token", a.VerifyToken, rules.Token),
		required("name", a.Name, rules.Name),
		required("id_number", a.IDNumber, rules.IDNumber),
		required("card_no", a.CardNo, rules.CardNumber),
		required("mobile", a.Mobile, rules.Mobile),
		required("sms_serial", a.SMSSerial, rules.Token),
		required("sms_code", a.SMSCode, rules.SMSCode),
	); err != nil {
		return accountView{}, err
	}
	face, err := decodeFaceImage("face_image", a.FaceImage)
	if err != nil {
		return accountView{}, err
	}
	if err := firstInvalid(
		pinGiven(pin),
		optional("occupation", a.Occupation, text(64)),
		optional("address", a.Address, text(128)),
	); err != nil {
		return accountView{}, err
	}

	beforeFace := func(tx *txn) (*verifyToken, *smsSerial, *apiError) {
		if err := checkApplicant(a.IDNumber, a.CardNo, tx.now); err != nil {
			return nil, nil, err
		}
		if _, ok := tx.s.people[personKey{who.MerchantID, a.IDNumber}]; ok {
			return nil, nil, failCode(codeAccountAlreadyOpened)
		}
		e := &tx.s.eph
		tok := e.tokens[a.VerifyToken]
		if tok == nil || tok.used || !tx.now.Before(tok.expires) || tok.merchantID != who.MerchantID ||
			tok.name != a.Name || tok.idNumber != a.IDNumber || tok.cardNo != a.CardNo || tok.mobile != a.Mobile {
			return nil, nil, failCode(codeVerifyTokenInvalid)
		}
		sms, err := e.checkSMS(who.MerchantID, a.SMSSerial, a.SMSCode, a.Mobile, sceneOpen, tx.now)
		if err != nil {
			return nil, nil, err
		}
		return tok, sms, nil
	}
	if err := c.run(func(tx *txn) *apiError {
		_, _, err := beforeFace(tx)
		return err
	}); err != nil {
		return accountView{}, err
	}
	faceVerdict := c.checkFace("face_image", face)

	var out accountView
	err = c.run(func(tx *txn) *apiError {
		tok, sms, err := beforeFace(tx)
		if err != nil {
			return err
		}
		if faceVerdict != nil {
			return faceVerdict
		}
		if err := checkNewPIN(pin); err != nil {
			return err
		}
		m := tx.stagedMeta()
		m.AccountSeq++
		salt, hash := newPINHash(pin.digits)
		acct := &account{
			No:         fmt.Sprintf("623688%010d", m.AccountSeq),
			MerchantID: who.MerchantID,
			AppID:      who.AppID,
			UserID:     a.UserID,
			Name:       a.Name,
			IDNumber:   a.IDNumber,
			Mobile:     a.Mobile,
			CardNo:     a.CardNo,
			BankName:   bankName(a.CardNo),
			Occupation: a.Occupation,
			Address:    a.Address,
			Status:     statusNormal,
			PINSalt:    salt,
			PINHash:    hash,
			OpenedAt:   tx.now,
		}
		tx.create(acct)
		tx.onCommit(func() { tok.used, sms.used = true, true })
		out = acct.view()
		tx.notify(accountEvent(who, notifyAccountOpened, out))
		return nil
	})
	if err == nil {
		// Masked: the log is no place for a holder's name or full number.
		c.log.Info("sandbox: account opened", "merchant_id", who.MerchantID,
			"account_no", mask.Card(out.AccountNo), "name", out.NameMasked)
	}
	return out, err
}

// queryAccount is account/query: the account with its limits, whatever its
// status.
func (c *core) queryAccount(who caller, a accountArgs) (accountView, *apiError) {
	if err := firstInvalid(required("account_no", a.AccountNo, rules.AccountNo)); err != nil {
		return accountView{}, err
	}
	var out accountView
	err := c.run(func(tx *txn) *apiError {
		acct := tx.accountIn(who.MerchantID, a.AccountNo)
		if acct == nil {
			return failCode(codeAccountNotFound)
		}
		out = acct.view()
		out.Limits = acct.limits(keysAt(tx.now))
		return nil
	})
	return out, err
}

// changeCard binds another debit card of the holder. Order: formats →
// account → status → not the bound card → debit card → four-factor test
// data → SMS (CHANGE_CARD, to the new card's mobile) → PIN → change.
func (c *core) changeCard(who caller, a cardChangeArgs, pin pinValue) (cardChangeView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("card_no", a.CardNo, rules.CardNumber),
		required("mobile", a.Mobile, rules.Mobile),
		required("sms_serial", a.SMSSerial, rules.Token),
		required("sms_code", a.SMSCode, rules.SMSCode),
		pinGiven(pin),
	); err != nil {
		return cardChangeView{}, err
	}
	var out cardChangeView
	err := c.run(func(tx *txn) *apiError {
		acct, err := tx.usableAccount(who.MerchantID, a.AccountNo)
		if err != nil {
			return err
		}
		if a.CardNo == acct.CardNo {
			return paramInvalid("card_no", "is the card already bound")
		}
		if creditCard(a.CardNo) {
			return failCode(codeCardNotSupported)
		}
		// The new card must be the holder's: the bank checks it against the
		// holder's name and id with the new mobile, like account/verify.
		if !fourFactorsMatch(acct.Name, a.Mobile) {
			return failCode(codeFourFactorMismatch)
		}
		sms, err := tx.s.eph.checkSMS(who.MerchantID, a.SMSSerial, a.SMSCode, a.Mobile, sceneChangeCard, tx.now)
		if err != nil {
			return err
		}
		if err := tx.checkPIN(acct, pin); err != nil {
			return err
		}
		e := tx.edit(acct)
		e.CardNo, e.BankName, e.Mobile = a.CardNo, bankName(a.CardNo), a.Mobile
		tx.onCommit(func() { sms.used = true })
		out = cardChangeView{BoundCard: e.boundCard()}
		tx.notify(accountEvent(who, notifyAccountCardChanged, e.view()))
		return nil
	})
	return out, err
}

// resetPassword sets a new PIN and lifts a lock. Order: formats → account →
// status → holder's id_number → SMS (RESET_PASSWORD, the account's mobile)
// → face → new PIN → reset. As in openAccount, the face image is decoded
// only after the steps before it passed.
func (c *core) resetPassword(who caller, a resetArgs, pin pinValue) (resetView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("id_number", a.IDNumber, rules.IDNumber),
		required("sms_serial", a.SMSSerial, rules.Token),
		required("sms_code", a.SMSCode, rules.SMSCode),
	); err != nil {
		return resetView{}, err
	}
	face, err := decodeFaceImage("face_image", a.FaceImage)
	if err != nil {
		return resetView{}, err
	}
	if err := firstInvalid(pinGiven(pin)); err != nil {
		return resetView{}, err
	}

	beforeFace := func(tx *txn) (*account, *smsSerial, *apiError) {
		acct, err := tx.usableAccount(who.MerchantID, a.AccountNo)
		if err != nil {
			return nil, nil, err
		}
		if a.IDNumber != acct.IDNumber {
			return nil, nil, paramInvalid("id_number", "does not match the account holder")
		}
		sms, err := tx.s.eph.checkSMS(who.MerchantID, a.SMSSerial, a.SMSCode, acct.Mobile, sceneResetPassword, tx.now)
		if err != nil {
			return nil, nil, err
		}
		return acct, sms, nil
	}
	if err := c.run(func(tx *txn) *apiError {
		_, _, err := beforeFace(tx)
		return err
	}); err != nil {
		return resetView{}, err
	}
	faceVerdict := c.checkFace("face_image", face)

	var out resetView
	err = c.run(func(tx *txn) *apiError {
		acct, sms, err := beforeFace(tx)
		if err != nil {
			return err
		}
		if faceVerdict != nil {
			return faceVerdict
		}
		if err := checkNewPIN(pin); err != nil {
			return err
		}
		e := tx.edit(acct)
		e.PINSalt, e.PINHash = newPINHash(pin.digits)
		e.PINFailDay, e.PINFails = "", 0
		tx.onCommit(func() { sms.used = true })
		out = resetView{ResetAt: formatTime(tx.now)}
		return nil
	})
	return out, err
}

// closeAccount closes an account with a zero balance. Order: formats →
// account → status → SMS (CLOSE, the account's mobile) → PIN → balance →
// close. The holder may open again later.
func (c *core) closeAccount(who caller, a closeArgs, pin pinValue) (closeView, *apiError) {
	if err := firstInvalid(
		required("account_no", a.AccountNo, rules.AccountNo),
		required("sms_serial", a.SMSSerial, rules.Token),
		required("sms_code", a.SMSCode, rules.SMSCode),
		pinGiven(pin),
	); err != nil {
		return closeView{}, err
	}
	var out closeView
	err := c.run(func(tx *txn) *apiError {
		acct, err := tx.usableAccount(who.MerchantID, a.AccountNo)
		if err != nil {
			return err
		}
		sms, err := tx.s.eph.checkSMS(who.MerchantID, a.SMSSerial, a.SMSCode, acct.Mobile, sceneClose, tx.now)
		if err != nil {
			return err
		}
		if err := tx.checkPIN(acct, pin); err != nil {
			return err
		}
		if acct.Balance != 0 {
			return failCode(codeBalanceNotZero)
		}
		e := tx.edit(acct)
		e.Status, e.ClosedAt = statusClosed, tx.now
		tx.onCommit(func() { sms.used = true })
		out = closeView{ClosedAt: formatTime(tx.now)}
		tx.notify(accountEvent(who, notifyAccountClosed, e.view()))
		return nil
	})
	if err == nil {
		c.log.Info("sandbox: account closed", "merchant_id", who.MerchantID, "account_no", mask.Card(a.AccountNo))
	}
	return out, err
}

// setFrozen is the bank's own freeze and unfreeze (control API only).
func (c *core) setFrozen(accountNo string, frozen bool) (accountView, error) {
	var out accountView
	var bad error
	err := c.run(func(tx *txn) *apiError {
		acct := tx.account(accountNo)
		if acct == nil {
			bad = ErrUnknownAccount
			return nil
		}
		if acct.Status == statusClosed {
			bad = fmt.Errorf("account %s is closed", accountNo)
			return nil
		}
		want := statusNormal
		if frozen {
			want = statusFrozen
		}
		if acct.Status != want {
			acct = tx.edit(acct)
			acct.Status = want
		}
		out = acct.view()
		out.Limits = acct.limits(keysAt(tx.now))
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, bad
}

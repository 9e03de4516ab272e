package sandbox

import (
	"strings"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/rules"
)

// SMS scenes.
const (
	sceneOpen          = "OPEN"
	sceneChangeCard    = "CHANGE_CARD"
	sceneResetPassword = "RESET_PASSWORD"
	sceneClose         = "CLOSE"
)

// smsSendArgs is account/sms/send.
type smsSendArgs struct {
	Mobile string `json:"mobile"`
	Scene  string `json:"scene"`
}

// verifyArgs is account/verify: the four factors.
type verifyArgs struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	CardNo   string `json:"card_no"`
	Mobile   string `json:"mobile"`
}

// sendSMS issues an SMS serial, bound to the merchant, mobile and scene.
// Sends are limited per mobile and scene to one a minute and ten a business
// day.
func (c *core) sendSMS(who caller, a smsSendArgs) (smsView, *apiError) {
	if err := firstInvalid(
		required("mobile", a.Mobile, rules.Mobile),
		required("scene", a.Scene, oneOf(sceneOpen, sceneChangeCard, sceneResetPassword, sceneClose)),
	); err != nil {
		return smsView{}, err
	}
	var out smsView
	err := c.run(func(tx *txn) *apiError {
		e := &tx.s.eph
		k := smsSendKey{a.Mobile, a.Scene}
		cnt := e.smsSends[k]
		today := dayKey(tx.now)
		if cnt == nil || cnt.day != today {
			cnt = &smsSendCounter{day: today}
			e.smsSends[k] = cnt
		}
		if !cnt.last.IsZero() && tx.now.Sub(cnt.last) < smsMinInterval {
			return fail(codeSMSTooFrequent, "one SMS a minute per mobile and scene: wait before sending again")
		}
		if cnt.count >= smsPerDay {
			return fail(codeSMSTooFrequent, "ten SMS a day per mobile and scene: try again tomorrow")
		}
		cnt.count++
		cnt.last = tx.now
		serial := randomID("S")
		e.serials[serial] = &smsSerial{
			merchantID: who.MerchantID, mobile: a.Mobile, scene: a.Scene,
			code: sandboxSMSCode, expires: tx.now.Add(smsCodeTTL),
		}
		out = smsView{SMSSerial: serial, ExpiresIn: int64(smsCodeTTL / time.Second)}
		return nil
	})
	return out, err
}

// verify is the four-factor check. Order (docs/protocol.md): formats → age
// → credit card → five failures today → the sandbox test data, whose
// mismatch counts as a failure.
func (c *core) verify(who caller, a verifyArgs) (verifyView, *apiError) {
	if err := firstInvalid(
		required("name", a.Name, rules.Name),
		required("id_number", a.IDNumber, rules.IDNumber),
		required("card_no", a.CardNo, rules.CardNumber),
		required("mobile", a.Mobile, rules.Mobile),
	); err != nil {
		return verifyView{}, err
	}
	var out verifyView
	err := c.run(func(tx *txn) *apiError {
		if err := checkApplicant(a.IDNumber, a.CardNo, tx.now); err != nil {
			return err
		}
		e := &tx.s.eph
		k := verifyFailKey{a.IDNumber, dayKey(tx.now)}
		if e.verifyFails[k] >= maxVerifyFailures {
			return failCode(codeVerifyLimitExceeded)
		}
		if !fourFactorsMatch(a.Name, a.Mobile) {
			e.verifyFails[k]++
			return failCode(codeFourFactorMismatch)
		}
		token := randomID("VT")
		e.tokens[token] = &verifyToken{
			merchantID: who.MerchantID, name: a.Name, idNumber: a.IDNumber,
			cardNo: a.CardNo, mobile: a.Mobile, expires: tx.now.Add(verifyTokenTTL),
		}
		out = verifyView{VerifyToken: token, BankName: bankName(a.CardNo), CardType: "DEBIT"}
		return nil
	})
	return out, err
}

// checkApplicant is the age and card step shared by verify and open.
func checkApplicant(idNumber, cardNo string, now time.Time) *apiError {
	age, err := rules.Age(idNumber, now)
	if err != nil {
		return paramInvalid("id_number", err.Error())
	}
	if age < rules.MinAge {
		return failCode(codeAgeRestricted)
	}
	if creditCard(cardNo) {
		return failCode(codeCardNotSupported)
	}
	return nil
}

// creditCard is the sandbox test rule: cards starting with 4 or 5 (the
// Visa and Mastercard ranges) are credit cards.
func creditCard(cardNo string) bool {
	return strings.HasPrefix(cardNo, "4") || strings.HasPrefix(cardNo, "5")
}

// fourFactorsMatch is the sandbox test rule for the bank's records: every
// well-formed identity matches except a name containing 不符 ("does not
// match") or a mobile ending in 0000.
func fourFactorsMatch(name, mobile string) bool {
	return !strings.Contains(name, "不符") && !strings.HasSuffix(mobile, "0000")
}

// bankName names the issuer of a debit card from its first digits, as the
// bank's card directory would. The sandbox knows a few well-known prefixes;
// any other card is a generic UnionPay debit card.
func bankName(cardNo string) string {
	switch {
	case strings.HasPrefix(cardNo, "6222"):
		return "中国工商银行"
	case strings.HasPrefix(cardNo, "6228"):
		return "中国农业银行"
	case strings.HasPrefix(cardNo, "6227"):
		return "中国建设银行"
	case strings.HasPrefix(cardNo, "6013"):
		return "中国银行"
	case strings.HasPrefix(cardNo, "6225"):
		return "招商银行"
	}
	return "银联借记卡"
}

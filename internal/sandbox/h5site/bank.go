package h5site

import (
	"errors"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Bank is what the pages need from the bank. internal/sandbox implements
// it over its business core, so that a page runs exactly the operations
// and rules of the API and adds none of its own. It is two small parts:
// the directory (clock, merchants, the bank's keys) and the operations.
type Bank interface {
	Directory
	Operations
}

// Directory is the bank's clock, its merchants and what its keys do for
// the pages.
type Directory interface {
	// Now is the real clock: link windows, sessions, return timestamps.
	Now() time.Time
	// Merchant finds a registered app.
	Merchant(appID string) (Merchant, bool)
	// OpenLinkData decrypts the data of a link: SM4-GCM under the key
	// envelope encryptKey made for the bank key keyID, with AAD = the
	// link's nonce. ErrUnknownKey: the bank holds no current key keyID.
	OpenLinkData(keyID, encryptKey, data, nonce string) ([]byte, error)
	// SignReturn signs a return redirect: it adds sign_key_id, then sign
	// over canonical("/return", fields), with the bank's signing key.
	SignReturn(fields map[string]string) error
	// FaceFormat is the bank's format step of a face photo (type, size,
	// and the size of its pixels from the header): nothing is decoded.
	FaceFormat(photo []byte) *Refusal
}

// Operations are the business operations of docs/protocol.md section 4 as
// the pages call them: for the merchant who, with PINs in clear (typed on
// the bank's own page), answering a Refusal where the API answers an error
// code.
type Operations interface {
	// Account reads an account of who's channel (account/query).
	Account(who Caller, accountNo string) (Account, *Refusal)
	// HolderMobile is the mobile the bank holds for an account: the SMS of
	// a password reset or a closure goes there.
	HolderMobile(who Caller, accountNo string) (string, *Refusal)
	// PINTriesLeft is how many wrong PINs the account may still take today.
	PINTriesLeft(who Caller, accountNo string) int
	// SendSMS sends a code to mobile for scene (account/sms/send).
	SendSMS(who Caller, mobile, scene string) (serial string, _ *Refusal)
	// Verify is the four-factor check (account/verify).
	Verify(who Caller, f Factors) (token string, _ *Refusal)
	// Open opens an account (account/open).
	Open(who Caller, r OpenRequest) (accountNo string, _ *Refusal)
	// Recharge, Withdraw and Pay are the money calls of the same names.
	Recharge(who Caller, m Money) (Order, *Refusal)
	Withdraw(who Caller, m Money, pin string) (Order, *Refusal)
	Pay(who Caller, m Money, pin string) (Order, *Refusal)
	// PaymentFailed notifies the merchant that a pay page ended without
	// paying (PAYMENT_FAILED).
	PaymentFailed(who Caller, m Money)
	// ChangeCard binds another card (account/card/change).
	ChangeCard(who Caller, r CardChange, pin string) (BoundCard, *Refusal)
	// ResetPassword sets a new PIN (account/password/reset).
	ResetPassword(who Caller, r Reset, newPIN string) *Refusal
	// Close closes an account (account/close).
	Close(who Caller, r Closure, pin string) *Refusal
}

// ErrUnknownKey is OpenLinkData's answer for a key id the bank does not
// hold (or has retired).
var ErrUnknownKey = errors.New("h5site: no such bank key")

// Merchant is a registered app as the pages see it.
type Merchant struct {
	AppID      string
	MerchantID string
	PublicKey  *sign.PublicKey
	NotifyURL  string
}

// Caller is the merchant on whose behalf a flow runs; NotifyURL is where
// its notifications go (the link's notify_url, else the merchant's).
type Caller struct {
	AppID      string
	MerchantID string
	NotifyURL  string
}

// Account is an account as the pages show it: masked, amounts in fen.
type Account struct {
	AccountNo    string
	Status       string // NORMAL, FROZEN, CLOSED
	NameMasked   string
	Balance      int64
	Available    int64
	BankName     string
	CardNoMasked string
}

// Factors are the four factors of a verification.
type Factors struct {
	Name     string
	IDNumber string
	CardNo   string
	Mobile   string
}

// OpenRequest is an account opening from the open page.
type OpenRequest struct {
	UserID      string
	VerifyToken string
	Factors
	SMSSerial string
	SMSCode   string
	Face      []byte // the photo as uploaded
	PIN       string
}

// Money is a recharge, withdrawal or payment.
type Money struct {
	AccountNo  string
	OutTradeNo string
	Amount     int64 // fen
	Subject    string
	NotifyURL  string
}

// Order is what the pages read of a recorded order.
type Order struct {
	OutTradeNo string
	Amount     int64
}

// BoundCard is the card bound to an account, masked.
type BoundCard struct {
	BankName     string
	CardNoMasked string
}

// CardChange binds another card.
type CardChange struct {
	AccountNo string
	CardNo    string
	Mobile    string
	SMSSerial string
	SMSCode   string
}

// Reset sets a new PIN.
type Reset struct {
	AccountNo string
	IDNumber  string
	SMSSerial string
	SMSCode   string
	Face      []byte
}

// Closure closes an account.
type Closure struct {
	AccountNo string
	SMSSerial string
	SMSCode   string
}

// Refusal is a bank answer other than SUCCESS: its code of
// docs/protocol.md section 6 and, for PARAM_INVALID, the field (one of the
// protocol's) and the reason (the bank's own words).
type Refusal struct {
	Code   string
	Field  string
	Reason string
}

// Error reads "CODE: field: reason" (or "CODE: reason").
func (r *Refusal) Error() string {
	if r.Field != "" {
		return r.Code + ": " + r.Field + ": " + r.Reason
	}
	return r.Code + ": " + r.Reason
}

package account

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/mask"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Scene is what an SMS code is for; a code works only for its scene.
type Scene string

// SMS scenes.
const (
	SceneOpen          Scene = "OPEN"
	SceneChangeCard    Scene = "CHANGE_CARD"
	SceneResetPassword Scene = "RESET_PASSWORD"
	SceneClose         Scene = "CLOSE"
)

// CardType is the kind of a bank card; only debit cards can be bound.
type CardType string

// CardDebit is the one card type the bank binds.
const CardDebit CardType = "DEBIT"

// SendSMSRequest asks the bank to text a code to a mobile.
type SendSMSRequest struct {
	Mobile wallet.Mobile `json:"mobile"`
	Scene  Scene         `json:"scene"`
}

// LogValue prints the request masked.
func (r SendSMSRequest) LogValue() slog.Value { return mask.Value(r) }

// SMS identifies a sent code: pass Serial with the code the user received.
type SMS struct {
	Serial    string        // sms_serial
	ExpiresIn time.Duration // how long the code is valid (5 minutes at the bank), whole seconds
}

type smsJSON struct {
	Serial    string `json:"sms_serial"`
	ExpiresIn int64  `json:"expires_in"` // seconds
}

// MarshalJSON writes the protocol's form: sms_serial, expires_in (seconds).
func (s SMS) MarshalJSON() ([]byte, error) {
	return json.Marshal(smsJSON{Serial: s.Serial, ExpiresIn: int64(s.ExpiresIn / time.Second)})
}

// UnmarshalJSON reads sms_serial and expires_in (seconds).
func (s *SMS) UnmarshalJSON(b []byte) error {
	var v smsJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	s.Serial, s.ExpiresIn = v.Serial, time.Duration(v.ExpiresIn)*time.Second
	return nil
}

// VerifyRequest carries the four factors (四要素) the bank checks against
// the card issuer: name, identity number, debit card and the mobile reserved
// on that card.
type VerifyRequest struct {
	Name     wallet.Name       `json:"name"`
	IDNumber wallet.IDNumber   `json:"id_number"`
	CardNo   wallet.CardNumber `json:"card_no"`
	Mobile   wallet.Mobile     `json:"mobile"`
}

// LogValue prints the request masked.
func (r VerifyRequest) LogValue() slog.Value { return mask.Value(r) }

// Verification is a passed four-factor check.
type Verification struct {
	Token    wallet.Secret `json:"verify_token"` // valid 15 minutes, used up by a successful Open
	BankName string        `json:"bank_name"`    // the card's issuer
	CardType CardType      `json:"card_type"`    // DEBIT
}

// LogValue prints the verification with its token masked.
func (v Verification) LogValue() slog.Value { return mask.Value(v) }

// OpenRequest opens a Class II e-account. Every field but Occupation and
// Address is required; the four factors must be those that Verify passed.
type OpenRequest struct {
	UserID      string              `json:"user_id"` // the merchant's own user id
	VerifyToken wallet.Secret       `json:"verify_token"`
	Name        wallet.Name         `json:"name"`
	IDNumber    wallet.IDNumber     `json:"id_number"`
	CardNo      wallet.CardNumber   `json:"card_no"`
	Mobile      wallet.Mobile       `json:"mobile"`
	SMSSerial   string              `json:"sms_serial"` // from SendSMS with SceneOpen to Mobile
	SMSCode     wallet.Secret       `json:"sms_code"`
	FaceImage   wallet.FaceImage    `json:"face_image"` // JPEG or PNG, at most 1 MiB
	Password    wallet.EncryptedPIN `json:"password"`   // the new trading PIN, encrypted on the user's device
	Occupation  string              `json:"occupation,omitempty"`
	Address     string              `json:"address,omitempty"`
}

// LogValue prints the request masked.
func (r OpenRequest) LogValue() slog.Value { return mask.Value(r) }

// ChangeCardRequest replaces the bound debit card.
type ChangeCardRequest struct {
	AccountNo string              `json:"account_no"`
	CardNo    wallet.CardNumber   `json:"card_no"` // the new card
	Mobile    wallet.Mobile       `json:"mobile"`  // reserved on the new card; the SMS goes there
	SMSSerial string              `json:"sms_serial"`
	SMSCode   wallet.Secret       `json:"sms_code"`
	Password  wallet.EncryptedPIN `json:"password"`
}

// LogValue prints the request masked.
func (r ChangeCardRequest) LogValue() slog.Value { return mask.Value(r) }

// ResetPasswordRequest sets a new trading PIN after an identity check (ID
// number, SMS to the account's mobile, face); it also lifts a PIN lock.
type ResetPasswordRequest struct {
	AccountNo   string              `json:"account_no"`
	IDNumber    wallet.IDNumber     `json:"id_number"`
	SMSSerial   string              `json:"sms_serial"`
	SMSCode     wallet.Secret       `json:"sms_code"`
	FaceImage   wallet.FaceImage    `json:"face_image"`
	NewPassword wallet.EncryptedPIN `json:"new_password"`
}

// LogValue prints the request masked.
func (r ResetPasswordRequest) LogValue() slog.Value { return mask.Value(r) }

// CloseRequest closes an account whose balance is zero.
type CloseRequest struct {
	AccountNo string              `json:"account_no"`
	SMSSerial string              `json:"sms_serial"`
	SMSCode   wallet.Secret       `json:"sms_code"`
	Password  wallet.EncryptedPIN `json:"password"`
}

// LogValue prints the request masked.
func (r CloseRequest) LogValue() slog.Value { return mask.Value(r) }

type queryRequest struct {
	AccountNo string `json:"account_no"`
}

func (r queryRequest) Validate() error {
	return check.First(check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)})
}

type cardChanged struct {
	BoundCard wallet.BoundCard `json:"bound_card"`
}

type resetDone struct {
	ResetAt wire.Time `json:"reset_at"`
}

type closeDone struct {
	ClosedAt wire.Time `json:"closed_at"`
}

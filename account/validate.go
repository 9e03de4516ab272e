package account

import (
	"github.com/xinyun-open/ewallet-go/internal/check"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/wallet"
)

func face(img wallet.FaceImage) error { return rules.FaceImage(img) }

// Validate checks the request as the bank would, without the network.
func (r SendSMSRequest) Validate() error {
	return check.First(
		check.Field{Name: "mobile", Err: rules.Mobile(string(r.Mobile))},
		check.Field{Name: "scene", Err: check.OneOf(r.Scene, SceneOpen, SceneChangeCard, SceneResetPassword, SceneClose)},
	)
}

// Validate checks the request as the bank would, without the network.
func (r VerifyRequest) Validate() error {
	return check.First(
		check.Field{Name: "name", Err: rules.Name(string(r.Name))},
		check.Field{Name: "id_number", Err: rules.IDNumber(string(r.IDNumber))},
		check.Field{Name: "card_no", Err: rules.CardNumber(string(r.CardNo))},
		check.Field{Name: "mobile", Err: rules.Mobile(string(r.Mobile))},
	)
}

// Validate checks the request as the bank would, without the network.
func (r OpenRequest) Validate() error {
	return check.First(
		check.Field{Name: "user_id", Err: rules.UserID(r.UserID)},
		check.Field{Name: "verify_token", Err: rules.Token(string(r.VerifyToken))},
		check.Field{Name: "name", Err: rules.Name(string(r.Name))},
		check.Field{Name: "id_number", Err: rules.IDNumber(string(r.IDNumber))},
		check.Field{Name: "card_no", Err: rules.CardNumber(string(r.CardNo))},
		check.Field{Name: "mobile", Err: rules.Mobile(string(r.Mobile))},
		check.Field{Name: "sms_serial", Err: rules.Token(r.SMSSerial)},
		check.Field{Name: "sms_code", Err: rules.SMSCode(string(r.SMSCode))},
		check.Field{Name: "face_image", Err: face(r.FaceImage)},
		check.Field{Name: "password", Err: r.Password.Check()},
		check.Field{Name: "occupation", Err: rules.Text(r.Occupation, 64)},
		check.Field{Name: "address", Err: rules.Text(r.Address, 128)},
	)
}

// Validate checks the request as the bank would, without the network.
func (r ChangeCardRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "card_no", Err: rules.CardNumber(string(r.CardNo))},
		check.Field{Name: "mobile", Err: rules.Mobile(string(r.Mobile))},
		check.Field{Name: "sms_serial", Err: rules.Token(r.SMSSerial)},
		check.Field{Name: "sms_code", Err: rules.SMSCode(string(r.SMSCode))},
		check.Field{Name: "password", Err: r.Password.Check()},
	)
}

// Validate checks the request as the bank would, without the network.
func (r ResetPasswordRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "id_number", Err: rules.IDNumber(string(r.IDNumber))},
		check.Field{Name: "sms_serial", Err: rules.Token(r.SMSSerial)},
		check.Field{Name: "sms_code", Err: rules.SMSCode(string(r.SMSCode))},
		check.Field{Name: "face_image", Err: face(r.FaceImage)},
		check.Field{Name: "new_password", Err: r.NewPassword.Check()},
	)
}

// Validate checks the request as the bank would, without the network.
func (r CloseRequest) Validate() error {
	return check.First(
		check.Field{Name: "account_no", Err: rules.AccountNo(r.AccountNo)},
		check.Field{Name: "sms_serial", Err: rules.Token(r.SMSSerial)},
		check.Field{Name: "sms_code", Err: rules.SMSCode(string(r.SMSCode))},
		check.Field{Name: "password", Err: r.Password.Check()},
	)
}

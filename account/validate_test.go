package account_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

var ctx = context.Background()

// badInput is one wrong value and the FieldError it must give.
type badInput struct {
	name   string
	field  string
	reason string
}

func requireField(t *testing.T, err error, field, reason string) {
	t.Helper()
	var fe *wallet.FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, field, fe.Field)
	require.Equal(t, reason, fe.Reason)
	require.ErrorIs(t, err, wallet.ErrParamInvalid)
}

func TestValidationNamesTheField(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	svc := account.New(c)
	p := wallettest.Person()
	pin, err := c.EncryptPIN("135790")
	require.NoError(t, err)
	face := wallettest.Face()
	badPIN := wallet.EncryptedPIN{KeyID: pin.KeyID, Ciphertext: "bm90IGEgcGlu"}

	sms := account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen}
	for _, tc := range []struct {
		badInput
		edit func(*account.SendSMSRequest)
	}{
		{badInput{"mobile", "mobile", "must be 11 digits starting 13 to 19"}, func(r *account.SendSMSRequest) { r.Mobile = "2380013800" }},
		{badInput{"scene", "scene", "must be one of OPEN, CHANGE_CARD, RESET_PASSWORD, CLOSE"}, func(r *account.SendSMSRequest) { r.Scene = "LOGIN" }},
	} {
		r := sms
		tc.edit(&r)
		_, err := svc.SendSMS(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	verify := account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile}
	for _, tc := range []struct {
		badInput
		edit func(*account.VerifyRequest)
	}{
		{badInput{"name", "name", "is required"}, func(r *account.VerifyRequest) { r.Name = " " }},
		{badInput{"name control", "name", "holds a control character"}, func(r *account.VerifyRequest) { r.Name = "张\t三" }},
		{badInput{"id", "id_number", "check digit does not match"}, func(r *account.VerifyRequest) { r.IDNumber = "110101199003074515" }},
		{badInput{"card luhn", "card_no", "check digit does not match (Luhn)"}, func(r *account.VerifyRequest) { r.CardNo = "6222021234567890127" }},
		{badInput{"card short", "card_no", "must be 16 to 19 digits"}, func(r *account.VerifyRequest) { r.CardNo = "622202123456789" }},
		{badInput{"mobile", "mobile", "must be 11 digits starting 13 to 19"}, func(r *account.VerifyRequest) { r.Mobile = "1380013800x" }},
	} {
		r := verify
		tc.edit(&r)
		_, err := svc.Verify(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	open := account.OpenRequest{UserID: p.UserID, VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: pin}
	for _, tc := range []struct {
		badInput
		edit func(*account.OpenRequest)
	}{
		{badInput{"user", "user_id", "must be 1 to 64 characters"}, func(r *account.OpenRequest) { r.UserID = "" }},
		{badInput{"token", "verify_token", "is required"}, func(r *account.OpenRequest) { r.VerifyToken = "" }},
		{badInput{"name", "name", "is required"}, func(r *account.OpenRequest) { r.Name = "" }},
		{badInput{"id", "id_number", "must be 18 characters"}, func(r *account.OpenRequest) { r.IDNumber = "1101011990" }},
		{badInput{"card", "card_no", "must be digits only"}, func(r *account.OpenRequest) { r.CardNo = "6222-0212-3456-7890" }},
		{badInput{"mobile", "mobile", "must be 11 digits starting 13 to 19"}, func(r *account.OpenRequest) { r.Mobile = "" }},
		{badInput{"serial", "sms_serial", "is required"}, func(r *account.OpenRequest) { r.SMSSerial = "" }},
		{badInput{"code", "sms_code", "must be six digits"}, func(r *account.OpenRequest) { r.SMSCode = "12345" }},
		{badInput{"no face", "face_image", "is required"}, func(r *account.OpenRequest) { r.FaceImage = nil }},
		{badInput{"gif face", "face_image", "must be a JPEG or PNG image"}, func(r *account.OpenRequest) { r.FaceImage = []byte("GIF89a....") }},
		{badInput{"huge face", "face_image", "is larger than 1 MiB"}, func(r *account.OpenRequest) { r.FaceImage = append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 1<<20)...) }},
		{badInput{"no pin", "password", "is required (the user's device encrypts it with the key of Client.PINKey)"}, func(r *account.OpenRequest) { r.Password = wallet.EncryptedPIN{} }},
		{badInput{"bad pin", "password", "is not an SM2 C1C3C2 ciphertext of six digits in base64"}, func(r *account.OpenRequest) { r.Password = badPIN }},
		{badInput{"pin without key", "password", "has no bank key id"}, func(r *account.OpenRequest) { r.Password.KeyID = "" }},
		{badInput{"occupation", "occupation", "is longer than 64 characters"}, func(r *account.OpenRequest) { r.Occupation = strings.Repeat("职", 65) }},
		{badInput{"address", "address", "is longer than 128 characters"}, func(r *account.OpenRequest) { r.Address = strings.Repeat("路", 129) }},
	} {
		r := open
		tc.edit(&r)
		_, err := svc.OpenAccount(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	_, err = svc.Query(ctx, "12345")
	requireField(t, err, "account_no", "must be 16 to 19 digits")

	change := account.ChangeCardRequest{AccountNo: "6236880000000001", CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", Password: pin}
	for _, tc := range []struct {
		badInput
		edit func(*account.ChangeCardRequest)
	}{
		{badInput{"account", "account_no", "must be 16 to 19 digits"}, func(r *account.ChangeCardRequest) { r.AccountNo = "" }},
		{badInput{"card", "card_no", "check digit does not match (Luhn)"}, func(r *account.ChangeCardRequest) { r.CardNo = "6222021234567890127" }},
		{badInput{"mobile", "mobile", "must be 11 digits starting 13 to 19"}, func(r *account.ChangeCardRequest) { r.Mobile = "1" }},
		{badInput{"serial", "sms_serial", "must be printable ASCII"}, func(r *account.ChangeCardRequest) { r.SMSSerial = "S 1" }},
		{badInput{"code", "sms_code", "must be six digits"}, func(r *account.ChangeCardRequest) { r.SMSCode = "abcdef" }},
		{badInput{"pin", "password", "is required (the user's device encrypts it with the key of Client.PINKey)"}, func(r *account.ChangeCardRequest) { r.Password = wallet.EncryptedPIN{} }},
	} {
		r := change
		tc.edit(&r)
		_, err := svc.ChangeCard(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	reset := account.ResetPasswordRequest{AccountNo: "6236880000000001", IDNumber: p.IDNumber, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, NewPassword: pin}
	for _, tc := range []struct {
		badInput
		edit func(*account.ResetPasswordRequest)
	}{
		{badInput{"account", "account_no", "must be 16 to 19 digits"}, func(r *account.ResetPasswordRequest) { r.AccountNo = "62368800000000010000" }},
		{badInput{"id", "id_number", "last character must be a digit or X"}, func(r *account.ResetPasswordRequest) { r.IDNumber = "11010119900307451x" }},
		{badInput{"serial", "sms_serial", "is required"}, func(r *account.ResetPasswordRequest) { r.SMSSerial = "" }},
		{badInput{"code", "sms_code", "must be six digits"}, func(r *account.ResetPasswordRequest) { r.SMSCode = "" }},
		{badInput{"face", "face_image", "must be a JPEG or PNG image"}, func(r *account.ResetPasswordRequest) { r.FaceImage = []byte("not an image") }},
		{badInput{"pin", "new_password", "is not an SM2 C1C3C2 ciphertext of six digits in base64"}, func(r *account.ResetPasswordRequest) { r.NewPassword = badPIN }},
	} {
		r := reset
		tc.edit(&r)
		_, err := svc.ResetPassword(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	closeReq := account.CloseRequest{AccountNo: "6236880000000001", SMSSerial: "S1", SMSCode: "123456", Password: pin}
	for _, tc := range []struct {
		badInput
		edit func(*account.CloseRequest)
	}{
		{badInput{"account", "account_no", "must be 16 to 19 digits"}, func(r *account.CloseRequest) { r.AccountNo = "abc" }},
		{badInput{"serial", "sms_serial", "is longer than 64 characters"}, func(r *account.CloseRequest) { r.SMSSerial = strings.Repeat("S", 65) }},
		{badInput{"code", "sms_code", "must be six digits"}, func(r *account.CloseRequest) { r.SMSCode = "1234567" }},
		{badInput{"pin", "password", "has no bank key id"}, func(r *account.CloseRequest) { r.Password.KeyID = "" }},
	} {
		r := closeReq
		tc.edit(&r)
		_, err := svc.CloseAccount(ctx, r)
		requireField(t, err, tc.field, tc.reason)
	}

	require.Empty(t, bank.Requests(), "no bad input reaches the network")
}

func TestRequestsMaskPersonalData(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	p := wallettest.Person()
	pin, err := c.EncryptPIN("135790")
	require.NoError(t, err)
	reqs := []any{
		account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen},
		account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile},
		account.OpenRequest{UserID: p.UserID, VerifyToken: "VTSECRET", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
			Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "654321", FaceImage: wallettest.Face(), Password: pin},
		account.ChangeCardRequest{AccountNo: "6236880000000001", CardNo: p.CardNo, Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "654321", Password: pin},
		account.ResetPasswordRequest{AccountNo: "6236880000000001", IDNumber: p.IDNumber, SMSSerial: "S1", SMSCode: "654321", FaceImage: wallettest.Face(), NewPassword: pin},
		account.CloseRequest{AccountNo: "6236880000000001", SMSSerial: "S1", SMSCode: "654321", Password: pin},
		account.Verification{Token: "VTSECRET", BankName: "b", CardType: account.CardDebit},
	}
	wallettest.RequireMasked(t, reqs, string(p.Name), string(p.IDNumber), string(p.CardNo), string(p.Mobile), "VTSECRET", "654321", pin.Ciphertext)
}

// The wire form carries every value in clear (inside the encrypted body
// only); json.Marshal, as a merchant's logger or audit table would call it,
// shows the same request masked.
func TestRequestsWireFormAndJSONForm(t *testing.T) {
	p := wallettest.Person()
	pin, err := wallettest.NewMockBank(t).Client().EncryptPIN("135790")
	require.NoError(t, err)
	face := wallettest.Face()
	open := account.OpenRequest{UserID: p.UserID, VerifyToken: "VT1", Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: "S1", SMSCode: "123456", FaceImage: face, Password: pin, Address: `"quoted" <&>`}
	wire, err := core.Bridge.MarshalWire(open)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(wire, &m))
	require.Equal(t, base64.StdEncoding.EncodeToString(face), m["face_image"])
	require.Equal(t, string(p.IDNumber), m["id_number"])
	require.Equal(t, string(p.Name), m["name"])
	require.Equal(t, "123456", m["sms_code"])
	require.Equal(t, `"quoted" <&>`, m["address"])
	require.Equal(t, pin.Ciphertext, m["password"])
	require.NotContains(t, m, "occupation", "omitempty still applies")
	require.Len(t, m, 11)

	_, err = json.Marshal(open)
	require.ErrorIs(t, err, wallet.ErrPersonalData, "encoding/json refuses personal data, loudly")

	reset := account.ResetPasswordRequest{AccountNo: "6236880000000001", IDNumber: p.IDNumber, SMSSerial: "S1", SMSCode: "1", FaceImage: face, NewPassword: pin}
	wire, err = core.Bridge.MarshalWire(reset)
	require.NoError(t, err)
	m = nil
	require.NoError(t, json.Unmarshal(wire, &m))
	require.Equal(t, base64.StdEncoding.EncodeToString(face), m["face_image"])
	require.Equal(t, pin.Ciphertext, m["new_password"])
	require.Len(t, m, 6)
}

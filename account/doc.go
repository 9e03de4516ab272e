// Package account opens and manages users' Class II e-accounts
// (渠道II类账户) at the bank: the four-factor check, SMS codes, opening,
// queries, card change, PIN reset and closing.
//
// # Opening an account
//
// The journey is: Verify the four factors (name, identity number, debit
// card, the mobile reserved on that card) → SendSMS with SceneOpen to that
// mobile → OpenAccount with the verify token, the SMS serial and the code
// the user typed, a face photo and the user's new PIN, encrypted on the
// user's device (wallet.Client.PINKey says with which key):
//
//	svc := account.New(client)
//	v, err := svc.Verify(ctx, account.VerifyRequest{Name: "张三", IDNumber: id, CardNo: card, Mobile: mobile})
//	sms, err := svc.SendSMS(ctx, account.SendSMSRequest{Mobile: mobile, Scene: account.SceneOpen})
//	pin := wallet.EncryptedPIN{KeyID: fromApp.KeyID, Ciphertext: fromApp.Ciphertext} // the digits never reach you
//	acct, err := svc.OpenAccount(ctx, account.OpenRequest{UserID: "u1", VerifyToken: v.Token, Name: "张三",
//		IDNumber: id, CardNo: card, Mobile: mobile, SMSSerial: sms.Serial, SMSCode: typedCode,
//		FaceImage: photo, Password: pin})
//
// One person has at most one account per merchant channel
// (ErrAccountAlreadyOpened); applicants must be 16 or older
// (ErrAgeRestricted); only debit cards bind (ErrCardNotSupported). The
// bank-hosted H5 open page (package h5) does the same journey in a webview.
//
// # Errors
//
// Every request is checked before it is sent; a bad field gives a
// *wallet.FieldError naming it. The bank's refusals are *wallet.APIError
// values that match the sentinels of package wallet with errors.Is, for
// example errors.Is(err, wallet.ErrSMSCodeExpired). See each method for the
// codes it can meet, and package wallet for retries and unknown outcomes.
//
// # Personal data
//
// Names, identity numbers, card numbers, mobiles, SMS codes, verify tokens,
// face images and PINs are of types that print masked with fmt and slog,
// and that encoding/json refuses to write (wallet.ErrPersonalData): keep a
// verify token between two steps of your own flow as string(v.Token). They
// travel in clear only inside the encrypted biz_content. A face image is
// checked from its header before it is sent: JPEG or PNG, at most 1 MiB,
// and at most 32 MiB of pixels once decoded.
//
// # Retries and unknown outcomes
//
// The client retries what the protocol allows (see package wallet). When
// OpenAccount ends with wallet.IsOutcomeUnknown(err), ask
// wallet.Client.Query whether the account exists before opening again.
//
// # Testing
//
// wallettest.NewServer(t) runs the sandbox bank with a ready client;
// wallettest.Person() makes a person who passes its four-factor check,
// wallettest.Face() a photo that passes its face check, and
// Server.OpenAccount the whole journey in one call.
package account

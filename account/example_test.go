package account_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// The account-opening journey: four factors, SMS code, face and PIN.
func ExampleService_OpenAccount() {
	ctx := context.Background()
	sb, stop, err := wallettest.StartServer() // the sandbox bank, in-process
	if err != nil {
		panic(err)
	}
	defer stop()
	c := sb.Client()
	svc := account.New(c)
	p := wallettest.Person() // a made-up person the sandbox accepts

	v, err := svc.Verify(ctx, account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile})
	if err != nil {
		panic(err)
	}
	sms, err := svc.SendSMS(ctx, account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen})
	if err != nil {
		panic(err)
	}
	pin, _ := c.EncryptPIN("135790")
	req := account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: "123456", FaceImage: wallettest.Face(), Password: pin}
	a, err := svc.OpenAccount(ctx, req)
	fmt.Println(a.Status, len(a.AccountNo), err)

	_, err = svc.OpenAccount(ctx, req)
	fmt.Println(errors.Is(err, wallet.ErrAccountAlreadyOpened))
	// Output:
	// NORMAL 16 <nil>
	// true
}

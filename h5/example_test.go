package h5_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// A link to 我的钱包, with a fixed clock and nonce so the output is exact (in
// production both are fresh for every link, and the bank takes a nonce
// once). The signature is randomised, so the example verifies it instead of
// printing it.
func ExampleBuilder_URL() {
	merchant, _ := sign.GenerateKey() // TEST KEY
	bank, _ := sign.GenerateKey()     // TEST KEY
	c, _ := wallet.NewClient(wallet.Config{
		BaseURL: "https://sandbox.example", AppID: "sandbox-app", MerchantID: "M100000001",
		PrivateKey: merchant, BankKeys: map[string]*sign.PublicKey{"bank-2026-01": bank.Public()},
	})
	b := h5.New(c,
		h5.WithClock(func() time.Time { return time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) }),
		h5.WithNonce(func() string { return "7995c5dc9cbcbe5e" }))

	link, err := b.URL(context.Background(), h5.WalletPage{
		Common:    h5.Common{UserID: "u-1001", ReturnURL: "https://merchant.example/back?from=wallet"},
		AccountNo: "6236880000000001",
	})
	if err != nil {
		panic(err)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	sig := q.Get("sign")
	q.Del("sign")
	fmt.Println(u.Scheme + "://" + u.Host + u.Path + "?" + q.Encode())

	fields := map[string]string{}
	for k := range q {
		fields[k] = q.Get(k)
	}
	fmt.Println("signature verifies:", merchant.Public().VerifyCanonical(u.Path, fields, sig) == nil)
	// Output:
	// https://sandbox.example/h5/wallet?account_no=6236880000000001&app_id=sandbox-app&merchant_id=M100000001&nonce=7995c5dc9cbcbe5e&return_url=https%3A%2F%2Fmerchant.example%2Fback%3Ffrom%3Dwallet&sign_type=SM2&timestamp=2026-11-25+16%3A00%3A00&user_id=u-1001
	// signature verifies: true
}

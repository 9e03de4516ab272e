package sign_test

import (
	"fmt"

	"github.com/xinyun-open/ewallet-go/sign"
)

func ExampleCanonical() {
	fields := map[string]string{
		"app_id":      "A1",
		"msg_id":      "0123456789abcdef0123456789abcdef",
		"timestamp":   "2026-11-25 16:00:00",
		"biz_content": `{"out_trade_no":"T1"}`,
		"encrypt_key": "",  // empty values are left out
		"sign":        "…", // and so is the signature itself
	}
	fmt.Println(sign.Canonical("/api/v1/payment/query", fields))
	// Output: /api/v1/payment/query?app_id=A1&biz_content={"out_trade_no":"T1"}&msg_id=0123456789abcdef0123456789abcdef&timestamp=2026-11-25 16:00:00
}

func ExampleSeal() {
	merchant, _ := sign.GenerateKey() // a test key
	encryptKey, body, _ := sign.Seal(merchant.Public(), []byte(`{"balance":100}`), "msg-id")
	plain, err := sign.Open(ctx, merchant, encryptKey, body, "msg-id")
	fmt.Println(string(plain), err)
	_, err = sign.Open(ctx, merchant, encryptKey, body, "another-msg-id")
	fmt.Println(err != nil)
	// Output:
	// {"balance":100} <nil>
	// true
}

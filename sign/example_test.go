package sign_test

import (
	"errors"
	"fmt"
	"os"
	"time"

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

// A merchant loads the .sm2 key file CFCA issued with its certificate (here
// a TEST KEY) with the password chosen at download; the certificate tells
// which one it is and when to renew it.
func ExampleParseCFCAKey() {
	data, err := os.ReadFile("testdata/keys/merchant.sm2")
	if err != nil {
		panic(err)
	}
	key, cert, err := sign.ParseCFCAKey(data, []byte("test-password"))
	if err != nil {
		panic(err)
	}
	fmt.Printf("serial %X\n", cert.SerialNumber)
	fmt.Println(cert.Subject)
	fmt.Println("valid until", cert.NotAfter.Format(time.DateOnly))
	fmt.Println("same key:", cert.PublicKey().Equal(key.Public()))

	_, _, err = sign.ParseCFCAKey(data, []byte("not the password"))
	fmt.Println(errors.Is(err, sign.ErrInvalidKey))
	// Output:
	// serial 1040990809AB
	// CN=TEST KEY merchant M100000001,O=ewallet-go tests,C=CN
	// valid until 2036-01-01
	// same key: true
	// true
}

// A certificate and its key in two PEM files load together; a key that is
// not the certificate's is an error at start-up, not a refusal at the bank.
func ExampleParseKeyPair() {
	certPEM, _ := os.ReadFile("testdata/keys/merchant.crt.pem")
	keyPEM, _ := os.ReadFile("testdata/keys/merchant.key.pem") // a TEST KEY
	key, cert, err := sign.ParseKeyPair(certPEM, keyPEM, nil)
	fmt.Println(err, cert.PublicKey().Equal(key.Public()))

	other, _ := sign.GenerateKey()
	otherPEM, _ := other.MarshalPEM()
	_, _, err = sign.ParseKeyPair(certPEM, otherPEM, nil)
	fmt.Println(errors.Is(err, sign.ErrInvalidKey))
	// Output:
	// <nil> true
	// true
}

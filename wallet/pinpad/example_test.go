package pinpad_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/wallet/pinpad"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// A merchant mounts the pad at /pin/ and takes the ciphertext at /pay.
// The merchant's server only ever sees {key_id, ciphertext, ref}.
func Example() {
	sb, stop, err := wallettest.StartServer()
	if err != nil {
		panic(err)
	}
	defer stop()
	client := sb.Client()
	pay := payment.New(client)

	pad, err := pinpad.New(client, "/pay", pinpad.WithPrompt(func(r *http.Request) (pinpad.Prompt, error) {
		// Look the order up in the merchant's own store; here, one order.
		return pinpad.Prompt{Title: "请输入支付密码", Subject: "会员月卡", Amount: 9900, Ref: r.URL.Query().Get("order")}, nil
	}))
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
	mux.HandleFunc("POST /pay", func(w http.ResponseWriter, r *http.Request) {
		sub, err := pinpad.Decode(r)
		if err != nil {
			pinpad.Reply(w, pinpad.Failure(err))
			return
		}
		// Find the order sub.Ref names, check it is the signed-in user's,
		// and pay it with the PIN the device encrypted.
		_, err = pay.Pay(r.Context(), payment.PayRequest{
			AccountNo: "6236880000000000", OutTradeNo: sub.Ref, Amount: 9900, Subject: "会员月卡",
			Password: sub.PIN,
		})
		if err != nil {
			pinpad.Reply(w, pinpad.Failure(err))
			return
		}
		pinpad.Reply(w, pinpad.Result{OK: true, Message: "支付成功"})
	})

	// What a browser gets at /pin/?order=….
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/pin/?order=T1", nil))
	key, _ := client.PINKey()
	fmt.Println(w.Code, strings.Contains(w.Body.String(), `data-key-id="`+key.KeyID+`"`))
	fmt.Println(w.Header().Get("Content-Security-Policy"))

	// A submission with no ciphertext, as a broken page would send it.
	w = httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/pay", strings.NewReader(`{"key_id":"`+key.KeyID+`","ref":"T1"}`))
	r.Header.Set("Content-Type", "application/json")
	mux.ServeHTTP(w, r)
	// A wrong PIN would answer {"ok":false,"code":"PASSWORD_INCORRECT",…,"retry":true}.
	fmt.Println(w.Body.String())
	// Output:
	// 200 true
	// default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'
	// {"ok":false,"code":"PARAM_INVALID","message":"密码提交有误，请刷新页面后重试"}
}

// Package pinpad is a PIN pad web page that encrypts the user's six-digit
// trading PIN (交易密码) in the browser, so that the merchant's servers only
// ever hold its ciphertext (docs/protocol.md, section 5; docs/device-pin.md
// for apps).
//
// The page is one HTML file for a phone screen (375 px and up), in
// Chinese, with digit buttons (and the keyboard's digits), no framework and
// a strict Content-Security-Policy (CSP: no inline script, scripts from its
// own origin only). It carries the bank key to encrypt to — the id and the
// uncompressed point 04‖X‖Y, rendered into data attributes from
// wallet.Client.PINKey at every page view — encrypts the six ASCII digits
// with SM2 in C1C3C2 order using npm sm-crypto 0.5.8 (its dist/sm2.js, MIT,
// shipped in static/sm-crypto with its licence and embedded, so the page
// needs no network beyond its own origin), and posts only
//
//	{"key_id": "bank-2026-07", "ciphertext": "BK3…(140 base64 characters)", "ref": "<Prompt.Ref>"}
//
// to the merchant's endpoint. sm-crypto returns the ciphertext as hex
// without the 04 byte that starts C1; the page adds it before base64, which
// gives the protocol's 103-byte raw C1‖C3‖C2.
//
// # Recipe
//
// Serve the pad, and an endpoint that turns the POST into a
// wallet.EncryptedPIN and makes the call:
//
//	pad, err := pinpad.New(client, "/pay", pinpad.WithPrompt(func(r *http.Request) (pinpad.Prompt, error) {
//		o, err := orders.Get(r.URL.Query().Get("order")) // the merchant's own order, for this user
//		if err != nil {
//			return pinpad.Prompt{}, err
//		}
//		return pinpad.Prompt{Title: "请输入支付密码", Subject: o.Subject, Amount: o.Amount, Ref: o.OutTradeNo}, nil
//	}))
//	if err != nil { … }
//	mux.Handle("/pin/", http.StripPrefix("/pin", pad))
//	mux.HandleFunc("POST /pay", func(w http.ResponseWriter, r *http.Request) {
//		sub, err := pinpad.Decode(r)
//		if err != nil {
//			pinpad.Reply(w, pinpad.Failure(err))
//			return
//		}
//		o, err := orders.Get(sub.Ref) // check it is this user's, and unpaid
//		…
//		_, err = payments.Pay(r.Context(), payment.PayRequest{AccountNo: o.AccountNo, OutTradeNo: o.OutTradeNo,
//			Amount: o.Amount, Subject: o.Subject, Password: sub.PIN})
//		if err != nil {
//			pinpad.Reply(w, pinpad.Failure(err)) // a wrong PIN lets the user type again
//			return
//		}
//		pinpad.Reply(w, pinpad.Result{OK: true, Message: "支付成功"})
//	})
//
// The user opens /pin/?order=…; the page shows the prompt and the pad,
// and after the sixth digit posts the ciphertext. The SDK encrypts the
// request that carries sub.PIN to the PIN's key (sub.PIN.KeyID), and
// refuses it, before sending, if the client does not trust that key or it
// has expired: then Failure asks the user to reload the page, which
// carries the current key.
//
// The page is also a file to copy: static/index.html, pinpad.js,
// pinpad.css and static/sm-crypto/sm2.js, served with the header of CSP,
// with the key id, the key and the endpoint written into the data
// attributes of <main id="pinpad">.
//
// # What it does not do
//
// It does not make the merchant's page trustworthy: whoever serves the
// page can serve other JavaScript that reads the digits. It keeps the
// digits out of the merchant's servers, logs and databases, which is what
// the protocol asks. The merchant must still check that Ref names an order
// of the user who is signed in, and must settle an unknown outcome
// (Result.Code OUTCOME_UNKNOWN) with a query, never by asking for the PIN
// again under a new order number.
package pinpad

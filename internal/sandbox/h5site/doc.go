// Package h5site is the sandbox bank's H5 web app: the eight bank-hosted
// pages of docs/protocol.md section 9 (open, wallet, recharge, withdraw,
// pay, card, password, close), which a merchant's app opens in a webview
// with a signed link.
//
// It holds no business rule. Everything it does to an account is an
// operation of the Bank interface, which internal/sandbox implements over
// the same core that answers the API, so a page can neither skip a rule
// nor apply one the API does not. What the pages add is what a form needs:
// a PIN typed twice, an amount in 元, which step comes next, messages in
// Chinese.
//
// # Pages
//
// Each page is one entry of the page table (pages.go): its link fields,
// the form fields it keeps between steps, whether it takes a face photo,
// which SMS scene and PIN it asks for, how its amount is set, what its
// return redirect carries and whether the wallet page links to it. The
// site, the session, the return and the driver read the table; none of
// them switches on a page name.
//
// # Links and sessions
//
// GET /h5/{page}?{link} verifies the link before anything renders
// (envelope, merchant, 10-minute window on the real clock, signature over
// canonical("/h5/{page}", fields), the page's fields, the encrypted data,
// and last the single-use nonce), then starts a 30-minute server-side
// session and redirects to it. The session id is in the path and a second
// value in an HttpOnly cookie scoped to it; the pages are plain forms
// without JavaScript, under a strict Content-Security-Policy. A refused
// link shows an error page that names at most a field of the protocol.
//
// A merchant's amount on a recharge or withdraw link is the flow's: it is
// shown read-only and nothing posted replaces it. out_trade_no is required
// on recharge, withdraw and pay links.
//
// # Returns
//
// A flow ends with a 303 to the merchant's return_url, with app_id,
// merchant_id, page, result, out_trade_no or account_no, timestamp,
// sign_key_id, sign_type and the bank's sign over canonical("/return",
// those fields), added after the merchant's own query parameters, which
// are kept as they were and are not signed.
//
// # Without a browser
//
// Complete drives a flow through the pages' own handlers as a browser
// does (GET the link, POST the forms with the session cookie) and returns
// the return redirect: the merchant's test kit uses it to finish an H5
// flow in a test.
package h5site

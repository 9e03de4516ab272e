// Package h5 builds signed links to the bank-hosted H5 pages that a
// merchant's app opens in a webview — open an account (开户), 我的钱包,
// recharge (充值), withdraw (提现), pay, change card (换卡), reset the PIN
// (交易密码重置), close (销户) — and verifies the bank's return redirect.
//
//	b := h5.New(client)
//	link, err := b.URL(h5.WalletPage{
//		Common:    h5.Common{UserID: "u1", ReturnURL: "https://merchant.example/back"},
//		AccountNo: acct,
//	})
//
// A link carries app_id, merchant_id, a timestamp and a random nonce and is
// signed with the merchant key over canonical("/h5/{page}", fields). The
// bank accepts it for 10 minutes and once, so build a fresh link every time
// the user opens a page. Personal data (the Open page's prefill) never
// appears in clear: it is encrypted into the data field (SM4-GCM, AAD the
// nonce) to the bank key the client encrypts to.
//
// When the flow ends the page redirects to ReturnURL with the page, the
// result and the order or account, signed by the bank. VerifyReturn checks
// it. The redirect passed through the user's browser, so it is advisory:
// confirm with the notification or a query before acting on it.
//
// Bad fields give a *wallet.FieldError naming the field, before anything is
// signed.
//
// # Testing
//
// The sandbox bank (wallettest.NewServer) serves the eight pages, so a
// test can open a link, follow the flow and verify the return; the
// project's own browser test does so in headless Chromium.
package h5

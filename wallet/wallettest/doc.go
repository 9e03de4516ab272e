// Package wallettest helps merchants test code that uses the wallet SDK.
//
// NewMockBank answers calls in memory through an httpmock transport, signed
// and encrypted like the bank, with the answers each test chooses: canned
// payloads, error codes, transport failures, delays, answers signed by an
// untrusted key or tampered after signing. It verifies and records every
// request, so a test can assert what the SDK sent (decrypted).
//
//	bank := wallettest.NewMockBank(t)
//	bank.ReplyError("payment/pay", wallet.ErrInsufficientBalance, "余额不足")
//	_, err := payment.New(bank.Client()).Pay(ctx, req)
//	// errors.Is(err, wallet.ErrInsufficientBalance)
//
// NewServer runs the whole sandbox bank in-process (httptest) with a ready
// client and helpers for its control API (clock, faults, notifications), for
// end-to-end tests of whole journeys.
//
// Every key this package makes or uses is a TEST KEY.
package wallettest

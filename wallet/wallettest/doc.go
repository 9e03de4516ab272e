// Package wallettest helps merchants test code that uses the wallet SDK,
// in three ways, from the cheapest to the most complete.
//
// NewMockBank answers calls in memory (an http.RoundTripper in the
// client, no network, no third-party mocking library), signed and
// encrypted like the bank, with the answers each test chooses: canned
// payloads, error codes, transport failures, delays, answers signed by an
// untrusted key or tampered after signing. It verifies and records every
// request, so a test can assert what the SDK sent (decrypted).
//
//	bank := wallettest.NewMockBank(t)
//	bank.ReplyError("payment/pay", wallet.ErrInsufficientBalance, "余额不足")
//	_, err := payment.New(bank.Client()).Pay(ctx, req)
//	// errors.Is(err, wallet.ErrInsufficientBalance)
//
// NewServer runs the whole sandbox bank in-process (httptest) with the
// built-in test merchant, a ready client and helpers for its control API
// (business clock, faults, notifications, ledgers), for end-to-end tests of
// whole journeys. StartServer does the same outside a test.
//
// Connect is for programs — examples, demos, a merchant's own tools: it
// starts a sandbox embedded in the program, or reaches a standalone one
// (go run ./examples/sandbox), and registers a merchant of the program's
// own with a fresh key. It links no testing code.
//
// Every key this package makes or uses is a TEST KEY.
package wallettest

// Package e2e holds the module's cross-package end-to-end tests: the SDK's
// typed calls (wallet, account, payment, h5) against the in-process sandbox
// bank (wallettest.NewServer), read side by side with docs/protocol.md.
//
//   - badinput_test.go: every request field of every API refused locally
//     with a *wallet.FieldError before any network call, and by the bank
//     with PARAM_INVALID naming the field when sent raw.
//   - replay_test.go: replayed and tampered requests, stale timestamps,
//     replayed notifications, answers signed by keys the client does not
//     trust.
//   - concurrency_test.go: one client, many goroutines, many accounts, and
//     books that still add up.
//   - privacy_test.go: a whole journey logged at debug level with nothing
//     personal or secret in the log, and every request and response type
//     masked when printed.
//
// The package has no code of its own; docs/SECURITY.md points at these
// tests for the claims it makes.
package e2e

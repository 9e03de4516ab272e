// Package wallet is the client of the bank's e-wallet open platform: the
// signed and encrypted transport every endpoint uses, its errors and
// retries, the bank's key set, notifications, and the wallet/query endpoint.
// The packages account, payment and h5 build on a *Client.
//
//	key, _ := sign.ParsePrivateKey(merchantPEM)
//	bank, _ := sign.ParsePublicKey(bankPEM)
//	c, err := wallet.NewClient(wallet.Config{
//		BaseURL: "https://openapi.bank.example", AppID: "…", MerchantID: "…",
//		PrivateKey: key, BankKeys: map[string]*sign.PublicKey{"bank-2026-01": bank},
//	}, wallet.WithLogger(slog.Default()))
//	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: "…", Mobile: "…", UserID: "u1"})
//
// # Authentication and keys
//
// Every request is signed with the merchant's SM2 key (Config.PrivateKey)
// over the canonical string of its envelope, and its biz_content is
// encrypted (SM4-GCM under a fresh key wrapped for a bank key) — all
// requests by default, and always the APIs that carry personal data. Every
// answer is verified under the bank key its sign_key_id names, which must be
// one the client trusts (Config.BankKeys); an unknown key is a failure, never
// a silent pass. RefreshBankKeys replaces the trusted set with the bank's
// platform/keys list, accepted only because that answer verified under a key
// already trusted; RefreshBankKeysEvery does it in the background.
//
// Give the bank the public half of your key (sign.PublicKey.MarshalPEM);
// keep the private half in a secret store, never in the repository.
//
// # Errors
//
// A call returns one of:
//
//   - *APIError: the bank answered with a code. Match codes with errors.Is:
//     errors.Is(err, wallet.ErrInsufficientBalance). The outcome is known:
//     the bank did not act.
//   - *FieldError: the request broke a rule and was not sent; Field names
//     the protocol field. It also matches ErrParamInvalid.
//   - *TransportError: no trustworthy answer (connection error, timeout,
//     HTTP status other than 200, or an answer that failed verification,
//     ErrUnverifiedResponse). When it may have reached the bank,
//     errors.Is(err, ErrOutcomeUnknown) holds and OutcomeUnknown(err) is true.
//   - the context's error, when it was done before anything was sent;
//     afterwards a TransportError that wraps it.
//
// The client never returns data it could not verify.
//
// # Retries and idempotency
//
// Each call has a msg_id, the bank's idempotency key for 24 hours. The
// client retries, with the same msg_id and a fresh timestamp, envelope and
// signature, only what docs/protocol.md, section 3.4 allows: the retryable codes
// (SYSTEM_ERROR, SERVICE_UNAVAILABLE, RATE_LIMITED), timeouts, connection
// errors and HTTP 429/502/503/504, with exponential backoff and jitter
// (WithRetry, WithBackoff), until the context is done.
//
// Money calls are also idempotent on out_trade_no / out_refund_no. When a
// money call ends with OutcomeUnknown(err), do not send the order again under
// a new number: query it (payment.Query by OutTradeNo), or repeat the same
// request with the same out_trade_no — the bank returns the existing order.
//
// # Notifications
//
// The bank POSTs signed, encrypted events to the merchant's notify URL.
// NotificationHandler verifies them (signature, app, 300 s timestamp
// window), de-duplicates on NotifyID, calls your function and answers the
// bank. The same notify_id may arrive more than once; the handler runs your
// function once per id per Deduper (in memory by default; WithDeduper for a
// shared one). Treat notifications as hints to confirm or as the final word,
// but not both: payment.Query returns the same order.
//
// # Logging
//
// WithLogger logs one line per call (path, msg_id, code, attempts,
// latency). Personal data types (IDNumber, CardNumber, Mobile, Name,
// EncryptedPIN) mask themselves with fmt and slog; no body, key or PIN is
// ever logged.
//
// # Testing
//
// Package wallet/wallettest runs the sandbox bank in-process with a ready
// Client (NewServer), and offers httpmock responders that sign and encrypt
// like the bank (NewMockBank) for unit tests without a server.
package wallet

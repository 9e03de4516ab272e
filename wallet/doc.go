// Package wallet is the client of the bank's e-wallet open platform: the
// signed and encrypted transport every endpoint uses, its errors and
// retries, the bank's key set, the personal data types, and the
// wallet/query endpoint (我的钱包). Package account opens and manages
// accounts, payment moves money, h5 builds links to the bank's pages, and
// wallet/notify receives the bank's notifications; all of them take a
// *Client.
//
//	key, _ := sign.ParsePrivateKey(merchantPEM) // or any sign.Signer: an HSM, a KMS
//	bank, _ := sign.ParsePublicKey(bankPEM)
//	c, err := wallet.NewClient(wallet.Config{
//		BaseURL: "https://openapi.bank.example", AppID: "…", MerchantID: "…",
//		PrivateKey: key, BankKeys: map[string]*sign.PublicKey{"bank-2026-01": bank},
//	}, wallet.WithLogger(slog.Default()))
//	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: "…", Mobile: "…", UserID: "u1"})
//
// # Authentication and keys
//
// Every request is signed with the merchant's SM2 key over the canonical
// string of its envelope (docs/protocol.md, section 2), and its biz_content
// is encrypted (SM4-GCM under a fresh key wrapped for a bank key) — all
// requests by default, and always the APIs that carry personal data.
//
// The merchant's key is Config.PrivateKey, a sign.Signer: a
// *sign.PrivateKey in memory, or a key that never enters the process (an
// HSM, a cloud KMS that signs with SM2, a signing service) behind the same
// three methods. The client signs and decrypts through it and hands the key
// to nobody. A signer that fails is an error matching ErrSigner before
// anything is sent.
//
// Every answer is verified under the bank key its sign_key_id names, which
// must be one the client trusts (Config.BankKeys); an unknown key is a
// failure, never a silent pass. RefreshBankKeys adds the keys of the bank's
// platform/keys list, accepted only because that answer verified under a
// key already trusted; a list can never change the key behind a trusted id,
// and the configured keys stay trusted. RefreshBankKeysEvery does it in the
// background.
//
// Give the bank the public half of your key (sign.PublicKey.MarshalPEM);
// keep the private half in a secret store, never in the repository.
//
// # What an answer must be
//
// Nothing of an answer is trusted before its signature verifies. Then it
// must carry only the fields the protocol signs in an answer, a timestamp
// within 300 s of the client's clock, this client's app_id, the request's
// msg_id, a body only on SUCCESS and encrypted when the request was; and
// the APIs that repeat what they were asked (order and refund numbers,
// account, amount, order type) must repeat exactly that. An answer that
// fails any check is not an answer to this request: the call ends with
// ErrUnverifiedResponse and an unknown outcome.
//
// # Errors
//
// A call returns one of:
//
//   - *APIError: the bank answered with a code. Match codes with errors.Is:
//     errors.Is(err, wallet.ErrInsufficientBalance). The bank did not act
//     (the codes the bank gives before it knows the request is the
//     merchant's also match ErrOutcomeUnknown: see APIError).
//   - *FieldError: the request broke a rule and was not sent; Field names
//     the protocol field. It also matches ErrParamInvalid.
//   - *TransportError: no trustworthy answer (connection error, timeout,
//     HTTP status other than 200, or an answer that failed verification,
//     ErrUnverifiedResponse). When it may have reached the bank,
//     errors.Is(err, ErrOutcomeUnknown) holds and IsOutcomeUnknown(err) is
//     true.
//   - the context's error, when it was done before anything was sent;
//     afterwards a TransportError that wraps it.
//
// The client never returns data it could not verify.
//
// # Retries and idempotency
//
// Each call has a msg_id, the bank's idempotency key for 24 hours. The
// client retries, with the same msg_id and a fresh timestamp, envelope and
// signature, only what docs/protocol.md, section 3.4 allows: the retryable
// codes (SYSTEM_ERROR, SERVICE_UNAVAILABLE, RATE_LIMITED), timeouts,
// connection errors and HTTP 429/502/503/504, with exponential backoff and
// jitter (WithRetry, WithBackoff), until the context is done.
//
// Money calls are also idempotent on out_trade_no / out_refund_no. When a
// money call ends with IsOutcomeUnknown(err), never send the order again
// under a new number: payment.Service.Resolve settles it (a query by the
// number; the same request again, under the same msg_id, when the bank has
// none).
//
// # Personal data
//
// IDNumber, CardNumber, Mobile, Name, Secret and FaceImage print masked
// with fmt and slog, and encoding/json refuses to write them
// (ErrPersonalData): neither a log nor a cache gets them by accident, and
// nothing stored vanishes into a mask. Convert one explicitly where you mean
// to store it. Only the wire encoder, whose output is encrypted at once,
// writes them in clear. The answers of the bank (Account, Order, Refund,
// QueryResponse, ...) round-trip through encoding/json in the protocol's
// own form.
//
// # Logging
//
// WithLogger logs one line per call (path, msg_id, code, attempts,
// latency). No body, key or personal value is ever logged.
//
// # Testing
//
// Package wallet/wallettest runs the sandbox bank in-process with a ready
// Client (NewServer), and a MockBank that signs and encrypts like the bank
// for unit tests without a server.
package wallet

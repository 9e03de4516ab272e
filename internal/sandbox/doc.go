// Package sandbox is the bank side of the e-wallet protocol
// (docs/protocol.md), complete and stateful, as an http.Handler: merchant
// developers run every example against it and merchant CI runs its tests
// against it. It is not a canned mock: it signs, verifies and encrypts like
// the bank, keeps balances, orders and limits, and sends notifications with
// retries.
//
// It depends on sign, gmsm and internal packages only (its own h5site,
// internal/rules, internal/mask, internal/wire, and internal/envelope for
// the statement files' SM4-GCM), never on the client (wallet and the service
// packages), so that the two sides cannot hide each other's mistakes.
//
// # Starting one
//
//	bank, err := sandbox.New(sandbox.Options{})   // built-in TEST merchant and keys
//	defer bank.Close()
//	srv := httptest.NewServer(bank)
//	creds := bank.Credentials()                   // app id, merchant key, bank keys
//
// The zero Options are a working bank: the test merchant "sandbox-app" /
// "M100000001", the two bank keys bank-2026-01 (signing) and bank-2026-07,
// the real clock, memory only. Options.StatePath keeps merchants, accounts,
// orders, refunds, ledgers and the business clock across restarts, in a
// log of JSON lines written with the standard library alone (persist.go).
// Every built-in key is a TEST key (testkeys.go), published on purpose.
//
// # Authentication
//
// The bank signs only for a path of the signed form, read as the client
// sent it (never URL-decoded): /api/v1/ and segments of a-z and _, after
// an optional plain mount prefix. Any other path under /api/v1 gets an
// unsigned HTTP 404; a well-formed path that names no API the signed
// API_NOT_FOUND. Every POST to an API then runs the gateway checks of
// docs/protocol.md in order: envelope form, app, merchant, timestamp
// (±300 s on the real clock), path, SM3withSM2 signature, encryption
// required for the 🔒 APIs, decryption under the bank key named by
// encrypt_key_id. Every answer is signed by the current signing key,
// errors included; a SUCCESS answer to an encrypted request is encrypted
// to the merchant's key. An answer echoes app_id only for a registered
// app and msg_id only in its protocol form, so that nothing the sender
// chose comes back under the bank's signature.
//
// # H5 pages
//
// GET /h5/{page}?{link} serves the eight bank-hosted pages of section 9
// through the h5site package, which talks to the bank only through a small
// interface (h5.go) over the same business core as the API: the link is
// verified (signature, 10-minute window, single-use nonce, fields,
// encrypted prefill) before anything renders, then the flow runs in a
// 30-minute server-side session and ends with a signed 303 to return_url.
// CompleteH5 runs a flow without a browser, through the same handlers.
//
// # Errors
//
// Answers carry the codes of docs/protocol.md section 6. msg is always the
// bank's own text: PARAM_INVALID reads "field: reason" with a field of the
// protocol, never a value; a member the API does not define is refused
// with a fixed text ("biz_content: a member is not a field of this API"),
// as its name is the sender's.
//
// # Retries and idempotency
//
// (app_id, msg_id) is remembered for 24 hours with the fingerprint
// SM3(path ‖ plaintext biz_content): a repeat gets the original answer in a
// fresh envelope, a different request MSG_ID_CONFLICT. Retryable answers
// (SYSTEM_ERROR, SERVICE_UNAVAILABLE, RATE_LIMITED) are not remembered.
// Concurrent twins are serialised. out_trade_no and out_refund_no are
// idempotent per merchant; other parameters get ORDER_CONFLICT.
//
// # Notifications
//
// Every successful money call and account change is notified to the
// order's notify_url, else the merchant's, signed over "/notify" and
// encrypted with AAD notify_id, and retried on the section 10 schedule
// (scaled by Options.NotifyScale) until the receiver answers HTTP 200
// {"code":"SUCCESS"}. Bank.Deliveries and GET /sandbox/notifications show
// every attempt.
//
// # Statements
//
// bill/download answers the descriptor of a day's TRADE or LEDGER
// statement once that day has ended on the sandbox clock (bill*.go); GET
// {base}/bills/{file_id} serves the file, with Range, for 10 minutes of
// the real clock. Files are streamed into a temporary directory of the
// bank's, removed when they expire and on Close.
//
// # Testing with it
//
// Business time (limits and their turnover, SMS and token expiry, order
// times) runs on a clock that AdvanceClock (POST /sandbox/clock) moves
// forward; envelope timestamps stay on the real clock. A test that counts
// on one business day starts with AdvanceClockToNext(10, 0), so that a run
// near midnight UTC+8 cannot see the day turn over. InjectFault (POST
// /sandbox/faults) adds latency, HTTP 503, dropped connections before or
// after the bank acts, bad signatures, and corrupted or cut statement
// downloads. Test data: the SMS code is always
// 123456; a name containing 不符 or a mobile ending 0000 fails the
// four-factor check; cards starting with 4 or 5 are credit cards; a
// grayscale face image fails the face check. A face image is sized from
// its header (more than 32 MiB of pixels is PARAM_INVALID naming
// face_image) and decoded only after every cheaper check of the call has
// passed, two at a time per bank.
//
// # Control API
//
// /sandbox/... is unsigned, so it answers only programs on the machine: a
// request whose Host is not a loopback name or address (or Options.Addr),
// that carries an Origin of another site, or that POSTs anything but
// application/json gets HTTP 403. Merchants (GET /sandbox/merchants) lists
// the registered apps and their notify URLs.
//
// The business operations are methods of an internal core type with typed
// arguments, so that the H5 pages run the same rules as the API.
package sandbox

package wallet

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// Option tunes a Client. Required settings are in Config; options have
// defaults that suit production.
type Option func(*options)

// EncryptionPolicy says which requests the client encrypts.
type EncryptionPolicy int

const (
	// EncryptAll encrypts every request's biz_content (the default).
	EncryptAll EncryptionPolicy = iota
	// EncryptRequired encrypts only the APIs the protocol marks 🔒; the
	// rest travel signed but readable. The 🔒 APIs are always encrypted.
	EncryptRequired
)

type options struct {
	timeout     time.Duration
	retries     int
	backoffMin  time.Duration
	backoffMax  time.Duration
	httpClient  *http.Client
	transport   http.RoundTripper
	logger      *slog.Logger
	clock       func() time.Time
	policy      EncryptionPolicy
	pinnedKeyID string
	deduper     Deduper
	errs        []error
}

func defaultOptions() options {
	return options{
		timeout:    10 * time.Second,
		retries:    2,
		backoffMin: 200 * time.Millisecond,
		backoffMax: 3 * time.Second,
		logger:     slog.New(slog.DiscardHandler),
		clock:      time.Now,
		policy:     EncryptAll,
	}
}

func (o *options) validate() error { return errors.Join(o.errs...) }

// WithTimeout bounds each attempt (connect, send, and read the answer).
// Default 10 s. The context passed to a call bounds the whole call,
// retries included.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.errs = append(o.errs, errors.New("wallet: WithTimeout: must be positive"))
		}
		o.timeout = d
	}
}

// WithRetry sets how many times a call is retried after its first attempt
// when the protocol allows it (retryable codes, timeouts, connection errors,
// HTTP 429/502/503/504), always with the same msg_id. Default 2; 0 turns
// retries off.
func WithRetry(n int) Option {
	return func(o *options) {
		if n < 0 {
			o.errs = append(o.errs, errors.New("wallet: WithRetry: must not be negative"))
		}
		o.retries = n
	}
}

// WithBackoff sets the exponential backoff between retries: the first wait
// is about min, doubling up to max, with jitter. Default 200 ms to 3 s. A
// Retry-After header of the bank is honoured within [min, max].
func WithBackoff(min, max time.Duration) Option {
	return func(o *options) {
		if min <= 0 || max < min {
			o.errs = append(o.errs, errors.New("wallet: WithBackoff: need 0 < min <= max"))
		}
		o.backoffMin, o.backoffMax = min, max
	}
}

// WithHTTPClient makes the client send through a copy of hc (its transport,
// proxy and TLS settings; its Timeout is replaced by WithTimeout's).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc == nil {
			o.errs = append(o.errs, errors.New("wallet: WithHTTPClient: nil client"))
		}
		o.httpClient = hc
	}
}

// WithTransport makes the client send through rt: the seam for tests
// (httpmock) and for instrumentation.
func WithTransport(rt http.RoundTripper) Option {
	return func(o *options) {
		if rt == nil {
			o.errs = append(o.errs, errors.New("wallet: WithTransport: nil transport"))
		}
		o.transport = rt
	}
}

// WithLogger logs one line per call (path, msg_id, code, attempts, latency)
// and a debug line per attempt. No body, key, PIN or personal data is ever
// logged. Default: nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			o.errs = append(o.errs, errors.New("wallet: WithLogger: nil logger"))
		}
		o.logger = l
	}
}

// WithClock replaces time.Now for envelope timestamps and notification
// checks: for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now == nil {
			o.errs = append(o.errs, errors.New("wallet: WithClock: nil clock"))
		}
		o.clock = now
	}
}

// WithEncryption sets which requests are encrypted; see EncryptionPolicy.
func WithEncryption(p EncryptionPolicy) Option {
	return func(o *options) {
		if p != EncryptAll && p != EncryptRequired {
			o.errs = append(o.errs, errors.New("wallet: WithEncryption: unknown policy"))
		}
		o.policy = p
	}
}

// WithEncryptKeyID pins the bank key that requests and PINs are encrypted
// to. Without it the client picks the newest key (by not_before, once
// RefreshBankKeys has listed them), else the key the bank last signed with,
// else the greatest key id.
func WithEncryptKeyID(id string) Option {
	return func(o *options) { o.pinnedKeyID = id }
}

// WithDeduper replaces the in-memory notification de-duplication of
// NotificationHandler, for example with one backed by the merchant's
// database so that several instances share it.
func WithDeduper(d Deduper) Option {
	return func(o *options) {
		if d == nil {
			o.errs = append(o.errs, errors.New("wallet: WithDeduper: nil deduper"))
		}
		o.deduper = d
	}
}

package wallet

import (
	"context"
	"errors"
	"io"
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
	timeout      time.Duration
	retries      int
	backoffMin   time.Duration
	backoffMax   time.Duration
	http         *http.Client
	logger       *slog.Logger
	clock        func() time.Time
	policy       EncryptionPolicy
	pinnedKeyID  string
	insecureHTTP bool
	errs         []error
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

// httpClients returns two copies of the given http.Client (so that the
// caller's is never changed): one whose transport bounds each attempt of a
// call by the timeout, and one without that bound for streams (statement
// downloads), which their context and their own checks bound.
func (o *options) httpClients() (calls, streams *http.Client) {
	streams = &http.Client{}
	if o.http != nil {
		*streams = *o.http
	}
	if streams.Transport == nil {
		streams.Transport = http.DefaultTransport
	}
	streams.Timeout = 0
	calls = &http.Client{}
	*calls = *streams
	calls.Transport = attemptTimeout{next: streams.Transport, d: o.timeout}
	return calls, streams
}

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

// WithHTTPClient makes the client send through a copy of hc: its
// transport (proxy, TLS, instrumentation, or a test double such as
// wallettest.MockBank), its redirect policy and cookie jar. Its Timeout is
// replaced by WithTimeout's per-attempt bound.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc == nil {
			o.errs = append(o.errs, errors.New("wallet: WithHTTPClient: nil client"))
		}
		o.http = hc
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

// WithClock replaces time.Now for envelope timestamps and the checks of
// the bank's timestamps: for tests.
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

// WithEncryptKeyID pins the bank key that requests, PINs and H5 prefills
// are encrypted to. Without it the client picks the newest key (by
// not_before, once RefreshBankKeys has listed them), else the key the bank
// last signed with, else the greatest key id. A request that carries a PIN
// is always encrypted to the PIN's key.
func WithEncryptKeyID(id string) Option {
	return func(o *options) { o.pinnedKeyID = id }
}

// WithInsecureHTTP allows a plain-http BaseURL on a host that is not
// loopback: for a test bank on another machine of a private network, never
// for the bank's production gateway. Loopback hosts (the sandbox on
// 127.0.0.1) need no option.
func WithInsecureHTTP() Option {
	return func(o *options) { o.insecureHTTP = true }
}

// attemptTimeout bounds one attempt (send and read the answer) with a
// context deadline. It does what http.Client.Timeout does, but without the
// goroutine and timer that net/http starts for every request when the
// transport is not a bare *http.Transport (an instrumenting wrapper, a test
// double), which cost a fifth of a call's cryptography on two cores.
type attemptTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

// RoundTrip sends r under the attempt's deadline.
func (t attemptTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(r.Context(), t.d)
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases the attempt's deadline once its answer is read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close closes the body and releases the deadline.
func (b cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

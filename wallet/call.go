package wallet

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/go-resty/resty/v2"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/envelope"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
)

const (
	apiPrefix = "/api/v1/"
	// maxResponseBytes bounds an answer: the largest the protocol has is an
	// account or order, a few KiB; anything near this is not the bank.
	maxResponseBytes = 1 << 20

	encryptType = "SM4-GCM"
	codeSuccess = "SUCCESS"
)

// CallOption tunes one call of Do.
type CallOption func(*call)

// WithMsgID makes the call use msg_id id (32 lowercase hex, see NewMsgID)
// instead of a fresh random one: to record a call's msg_id before it is
// sent, or to repeat a logical request whose outcome is unknown, so that the
// bank answers it from its 24-hour idempotency cache instead of acting
// twice.
func WithMsgID(id string) CallOption { return func(cl *call) { cl.msgID = id } }

// NewMsgID returns a fresh msg_id: 32 lowercase hex characters from
// crypto/rand.
func NewMsgID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (it crashes instead)
	return hex.EncodeToString(b[:])
}

// requiresEncryption lists the 🔒 APIs of docs/protocol.md, section 4.
func requiresEncryption(path string) bool {
	switch path {
	case "wallet/query", "account/sms/send", "account/verify", "account/open",
		"account/card/change", "account/password/reset", "account/close",
		"payment/recharge", "payment/withdraw", "payment/pay", "payment/transfer":
		return true
	}
	return false
}

// Do makes one API call: it marshals req into biz_content, encrypts and
// signs the envelope, posts it to {BaseURL}/api/v1/{path}, verifies the
// answer (signature under the trusted bank key it names, fields, timestamp,
// app_id, msg_id, and for the APIs that echo what was asked — order and
// refund numbers, account, amount, type — that it answers this request),
// opens its biz_content and decodes it into resp (which may be nil). Every
// endpoint of the SDK goes through Do; it also reaches any API the SDK does
// not wrap yet.
//
// path is the API path after /api/v1/, e.g. "payment/query". req is a
// struct or map that encodes to a JSON object (encoding/json's form, with
// the personal data types in clear; nil means {}); a json.RawMessage is sent
// as it is. A request that carries an EncryptedPIN is encrypted to the
// PIN's bank key, which must be trusted and not expired.
//
// The error is:
//   - *APIError when the bank answered with a code (errors.Is matches the
//     code's sentinel, e.g. ErrInsufficientBalance);
//   - *TransportError when no answer could be trusted; if any attempt may
//     have reached the bank, the outcome is unknown (IsOutcomeUnknown);
//   - *FieldError or another error when the request could not be built,
//     or the merchant's key (a remote sign.Signer) failed before anything
//     was sent;
//   - ctx.Err() itself when ctx was done before anything was sent.
//
// Retries follow docs/protocol.md, section 3.4: only retryable codes,
// timeouts, connection errors and HTTP 429/502/503/504, each with the same
// msg_id and a fresh timestamp, key envelope and signature, with
// exponential backoff and jitter, until the retry count is spent or ctx is
// done.
func (c *Client) Do(ctx context.Context, path string, req, resp any, opts ...CallOption) error {
	if c == nil || c.core == nil {
		return errNoClient
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cl, err := c.newCall(path, req, opts)
	if err != nil {
		return err
	}
	start := time.Now()
	// The attempts of one call: each sends a fresh envelope under the same
	// msg_id and records what came back; resty spaces them (exponential
	// backoff with jitter, Retry-After) and asks cl.retry after each
	// whether the protocol allows another.
	_ = resty.Backoff(
		func() (*resty.Response, error) { return cl.attempt(ctx) },
		resty.Retries(c.retries),
		resty.WaitTime(c.backoffMin),
		resty.MaxWaitTime(c.backoffMax),
		resty.RetryConditions([]resty.RetryConditionFunc{cl.retry}),
	)
	err = cl.result(ctx, resp)
	c.logCall(ctx, cl, err, time.Since(start))
	return err
}

// call is one Do: constant across its attempts except for what each attempt
// renews (timestamp, envelope, signature) and what it learns.
type call struct {
	c        *Client
	path     string // "payment/pay"
	signPath string // "/api/v1/payment/pay"
	url      string
	msgID    string
	biz      []byte // plaintext biz_content
	encrypt  bool
	bankKey  core.BankKey // the key biz_content is encrypted to

	attempts     int  // attempts made
	sent         bool // some attempt may have reached the bank
	attemptStart time.Time
	// The outcome of the last attempt: an answer (payload or apiErr), or
	// err with the HTTP status that came with it (0 for none).
	status  int
	payload []byte
	apiErr  *APIError
	err     error
}

func (c *Client) newCall(path string, req any, opts []CallOption) (*call, error) {
	path, err := cleanPath(path)
	if err != nil {
		return nil, err
	}
	cl := &call{c: c, path: path, signPath: apiPrefix + path, url: c.core.BaseURL + apiPrefix + path,
		encrypt: c.policy == EncryptAll || requiresEncryption(path)}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("wallet: nil CallOption")
		}
		o(cl)
	}
	if cl.msgID == "" {
		cl.msgID = NewMsgID()
	} else if err := rules.MsgID(cl.msgID); err != nil {
		return nil, fieldCheck("msg_id", err)
	}
	var pinKeys []string
	if cl.biz, pinKeys, err = marshalBiz(req); err != nil {
		return nil, err
	}
	if len(pinKeys) > 0 {
		// The bank decrypts a PIN with the key encrypt_key_id names, so a
		// request that carries one is encrypted to the PIN's key.
		if cl.bankKey, err = c.pinKey(pinKeys); err != nil {
			return nil, err
		}
		cl.encrypt = true
		return cl, nil
	}
	if cl.encrypt {
		if cl.bankKey, err = c.core.EncryptKey(); err != nil {
			return nil, fmt.Errorf("wallet: %w", err)
		}
	}
	return cl, nil
}

// pinKey is the one bank key the PINs of a request are encrypted to; it
// must be trusted and not past its not_after.
func (c *Client) pinKey(ids []string) (core.BankKey, error) {
	for _, id := range ids[1:] {
		if id != ids[0] {
			return core.BankKey{}, &FieldError{Field: "password", Reason: "the request's PINs are encrypted to different bank keys"}
		}
	}
	k, ok := c.core.Keys.Get(ids[0])
	if !ok {
		return core.BankKey{}, &FieldError{Field: "password", Reason: fmt.Sprintf("is encrypted to bank key %q, which this client does not trust", ids[0])}
	}
	if now := c.core.Now(); !k.NotAfter.IsZero() && now.After(k.NotAfter) {
		return core.BankKey{}, &FieldError{Field: "password", Reason: fmt.Sprintf("is encrypted to bank key %q, which expired at %s", k.ID, wire.Format(k.NotAfter))}
	}
	return k, nil
}

func cleanPath(p string) (string, error) {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "/"), strings.TrimPrefix(apiPrefix, "/"))
	if p == "" || strings.HasSuffix(p, "/") || strings.Contains(p, "//") {
		return "", fmt.Errorf("wallet: API path %q is not group/action", p)
	}
	for i := 0; i < len(p); i++ {
		if ch := p[i]; !(ch >= 'a' && ch <= 'z') && ch != '/' && ch != '_' {
			return "", fmt.Errorf("wallet: API path %q is not group/action", p)
		}
	}
	return p, nil
}

// marshalBiz encodes a request for biz_content and lists the bank key ids
// of the PINs it carries.
func marshalBiz(req any) ([]byte, []string, error) {
	var (
		biz  []byte
		pins []string
	)
	switch v := req.(type) {
	case nil:
		return []byte("{}"), nil, nil
	case json.RawMessage:
		biz = bytes.TrimSpace(v)
		if !json.Valid(biz) || !utf8.Valid(biz) {
			return nil, nil, errors.New("wallet: request must marshal to a JSON object")
		}
	default:
		var err error
		if biz, pins, err = encodeWire(req); err != nil {
			return nil, nil, fmt.Errorf("wallet: request does not marshal to JSON: %w", err)
		}
	}
	if len(biz) == 0 || biz[0] != '{' {
		return nil, nil, errors.New("wallet: request must marshal to a JSON object")
	}
	return biz, pins, nil
}

// attempt sends one envelope and records its outcome in cl.
func (cl *call) attempt(ctx context.Context) (*resty.Response, error) {
	cl.attempts++
	cl.attemptStart = time.Now()
	cl.status, cl.payload, cl.apiErr, cl.err = 0, nil, nil, nil
	body, err := cl.envelope(ctx)
	if err != nil {
		// Nothing of this attempt left: a remote signer failed or timed out.
		cl.err = err
		return nil, err
	}
	// A reader, not the bytes: resty copies a []byte body twice (into its
	// buffer, then again for the request); http.NewRequest takes a
	// *bytes.Reader as it is and sets the length. Retries build a new body.
	r, err := cl.c.http.R().SetContext(ctx).SetBody(bytes.NewReader(body)).Post(cl.url)
	if err != nil {
		cl.err = err
		if mayHaveBeenSent(err) {
			cl.sent = true
		}
		return r, err
	}
	cl.sent = true
	cl.observe(ctx, r.StatusCode(), r.Body())
	return r, nil
}

// retry decides after an attempt whether the protocol allows another:
// retryable codes, timeouts, connection errors, HTTP 429/502/503/504.
func (cl *call) retry(*resty.Response, error) bool {
	retryable := false
	switch {
	case cl.apiErr != nil:
		retryable = cl.apiErr.Retryable()
	case cl.err != nil:
		retryable = retryableTransport(cl.status, cl.err)
	}
	if retryable {
		cl.c.logAttempt(cl)
	}
	return retryable
}

// envelope builds one attempt's request body in a single buffer: the
// biz_content is sealed straight into it, the signature hashes it there,
// and nothing of the body is copied again. For a 1 MiB face image this is
// the difference between one and four copies.
func (cl *call) envelope(ctx context.Context) ([]byte, error) {
	c := cl.c.core
	fields := map[string]string{
		"app_id":      c.AppID,
		"merchant_id": c.MerchantID,
		"msg_id":      cl.msgID,
		"timestamp":   wire.Format(c.Now()),
		"version":     "1.0",
		"sign_type":   "SM2",
	}
	// Room for the envelope's small fields and the signature, plus the body:
	// its exact sealed length, or its plain length and some for escapes.
	size := 512 + len(cl.biz) + len(cl.biz)/8
	if cl.encrypt {
		size = 512 + envelope.SealedLen(len(cl.biz))
	}
	body := make([]byte, 0, size)
	body = append(body, `{"biz_content":"`...)
	if cl.encrypt {
		start := len(body)
		ek, out, err := envelope.SealAppend(body, cl.bankKey.Key.Encrypt, cl.biz, cl.msgID)
		if err != nil {
			return nil, fmt.Errorf("wallet: encrypting biz_content: %w", err)
		}
		body = out
		// The base64 text in the body is the field's value as it is signed;
		// the body is never written there again.
		fields["biz_content"] = unsafe.String(&body[start], len(body)-start)
		fields["encrypt_type"] = encryptType
		fields["encrypt_key"] = ek
		fields["encrypt_key_id"] = cl.bankKey.ID
	} else {
		body = appendJSONString(body, cl.biz)
		fields["biz_content"] = unsafe.String(unsafe.SliceData(cl.biz), len(cl.biz))
	}
	body = append(body, '"')
	for _, k := range [...]string{"app_id", "merchant_id", "msg_id", "timestamp", "version", "sign_type", "encrypt_type", "encrypt_key", "encrypt_key_id"} {
		if v, ok := fields[k]; ok {
			body = appendField(body, k, v)
		}
	}
	sig, err := c.Sign(ctx, cl.signPath, fields)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigner, err)
	}
	body = appendField(body, "sign", sig)
	return append(body, '}'), nil
}

func appendField(dst []byte, k, v string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, k...)
	dst = append(dst, '"', ':', '"')
	dst = appendJSONString(dst, v)
	return append(dst, '"')
}

// appendJSONString appends s escaped for a JSON string: quote, backslash
// and control characters; everything else, UTF-8 included, as it is.
func appendJSONString[T string | []byte](dst []byte, s T) []byte {
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[last:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
		last = i + 1
	}
	return append(dst, s[last:]...)
}

// observe verifies the answer of one attempt and records what it says.
// Nothing of it is trusted until it verifies (docs/protocol.md, section
// 3.2): an answer that does not is a transport failure of unknown outcome.
func (cl *call) observe(ctx context.Context, status int, body []byte) {
	cl.status = status
	if status != http.StatusOK {
		cl.err = fmt.Errorf("HTTP status %d", status)
		return
	}
	code, msg, payload, err := cl.verify(ctx, body)
	if err != nil {
		cl.err = fmt.Errorf("%w: %w", ErrUnverifiedResponse, err)
		return
	}
	if code != codeSuccess {
		cl.apiErr = &APIError{Code: ErrorCode(code), Message: msg, MsgID: cl.msgID, Path: cl.path, HTTPStatus: status}
		return
	}
	cl.payload = payload
}

// verify checks an answer: the one verifier (signature, fields, sign_type,
// timestamp, app_id), then what only an answer has: this msg_id, a code,
// biz_content only on SUCCESS and encrypted iff the request was, and the
// echo of what was asked.
func (cl *call) verify(ctx context.Context, body []byte) (code, msg string, payload []byte, err error) {
	fields, err := wire.ParseFlat(body)
	if err != nil {
		return "", "", nil, fmt.Errorf("body: %w", err)
	}
	c := cl.c.core
	v, err := c.Verify(core.AnswerDoor(cl.signPath), fields)
	if err != nil {
		return "", "", nil, err
	}
	if fields["msg_id"] != cl.msgID {
		return "", "", nil, errors.New("msg_id is not the request's")
	}
	c.Keys.SignedBy(v.KeyID)
	code = fields["code"]
	biz, et := fields["biz_content"], fields["encrypt_type"]
	if code != codeSuccess {
		if biz != "" || et != "" || fields["encrypt_key"] != "" {
			return "", "", nil, errors.New("an error answer carries biz_content")
		}
		return code, fields["msg"], nil, nil
	}
	switch {
	case et == encryptType && cl.encrypt:
		pt, err := c.Open(ctx, fields["encrypt_key"], biz, cl.msgID)
		if err != nil {
			return "", "", nil, fmt.Errorf("biz_content does not open: %w", err)
		}
		payload = pt
	case et == "" && !cl.encrypt && fields["encrypt_key"] == "":
		payload = []byte(biz)
	case et == "" && cl.encrypt:
		// An answer to an encrypted request must be encrypted too: its
		// fields may be personal data.
		return "", "", nil, errors.New("answer to an encrypted request is not encrypted")
	default:
		return "", "", nil, errors.New("encrypt_type does not match the request")
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if err := checkEcho(cl.path, cl.biz, payload); err != nil {
		return "", "", nil, err
	}
	return code, fields["msg"], payload, nil
}

// result turns the outcome of the last attempt into Do's answer.
func (cl *call) result(ctx context.Context, resp any) error {
	switch {
	case cl.apiErr != nil:
		return cl.apiErr
	case errors.Is(cl.err, ErrSigner) && !cl.sent:
		// Known: nothing was sent, because the merchant's key failed.
		return cl.err
	case cl.err != nil:
		err := cl.err
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (after %w)", ctxErr, err)
		}
		return &TransportError{Path: cl.path, MsgID: cl.msgID, Attempts: cl.attempts, HTTPStatus: cl.status, Sent: cl.sent, Err: err}
	case cl.payload == nil:
		// Backoff stopped before an attempt recorded anything (ctx done
		// while waiting): never let that read as success.
		err := ctx.Err()
		if err == nil {
			err = fmt.Errorf("%w: no answer recorded", ErrUnverifiedResponse)
		}
		if !cl.sent {
			return err
		}
		return &TransportError{Path: cl.path, MsgID: cl.msgID, Attempts: cl.attempts, Sent: true, Err: err}
	}
	if resp == nil {
		return nil
	}
	if raw, ok := resp.(*json.RawMessage); ok {
		*raw = append((*raw)[:0], cl.payload...)
		return nil
	}
	if err := json.Unmarshal(cl.payload, resp); err != nil {
		// The bank said SUCCESS, but what it did cannot be read back: treat it
		// as unknown so that the caller queries instead of assuming.
		return &TransportError{Path: cl.path, MsgID: cl.msgID, Attempts: cl.attempts, HTTPStatus: cl.status, Sent: true,
			Err: fmt.Errorf("%w: biz_content does not decode: %v", ErrUnverifiedResponse, err)}
	}
	return nil
}

// mayHaveBeenSent is false only for failures that happen before a byte of
// the request leaves: a failed dial or a refused server certificate.
func mayHaveBeenSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	var cv *tls.CertificateVerificationError
	return !errors.As(err, &cv)
}

// retryAfter honours a Retry-After header in seconds (429, 503); resty
// clamps it into the backoff bounds and falls back to jittered backoff.
func retryAfter(_ *resty.Client, r *resty.Response) (time.Duration, error) {
	if r == nil || r.RawResponse == nil {
		return 0, nil
	}
	if s, err := strconv.Atoi(r.Header().Get("Retry-After")); err == nil && s > 0 {
		return time.Duration(s) * time.Second, nil
	}
	return 0, nil
}

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

	"github.com/xinyun-open/ewallet-go/internal/envelope"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
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

// WithMsgID makes the call use msg_id id (32 lowercase hex) instead of a
// fresh random one: to repeat a logical request whose outcome is unknown
// after a restart, so the bank answers it from its 24-hour idempotency
// cache instead of acting twice.
func WithMsgID(id string) CallOption { return func(cl *call) { cl.msgID = id } }

// UseBankKey makes the call encrypt to the bank key with that id. Requests
// that carry an EncryptedPIN must use the PIN's KeyID, because the bank
// decrypts the PIN with the key the request names.
func UseBankKey(id string) CallOption { return func(cl *call) { cl.keyID = id } }

// requiresEncryption lists the 🔒 APIs of PROTOCOL.md section 4.
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
// answer's signature under the bank key it names, checks that it answers
// this msg_id, opens its biz_content and decodes it into resp (which may be
// nil). Every endpoint of the SDK goes through Do; it also reaches any API
// the SDK does not wrap yet.
//
// path is the API path after /api/v1/, e.g. "payment/query". req is a
// struct or map that MarshalWire turns into a JSON object (encoding/json's
// form, with the personal data types in clear; nil means {}); a
// json.RawMessage is sent as it is.
//
// The error is:
//   - *APIError when the bank answered with a code (errors.Is matches the
//     code's sentinel, e.g. ErrInsufficientBalance);
//   - *TransportError when no answer could be trusted; if any attempt may
//     have reached the bank, the outcome is unknown (OutcomeUnknown);
//   - *FieldError or another error when the request could not be built;
//   - ctx.Err() itself when ctx was done before anything was sent.
//
// Retries follow PROTOCOL.md 3.4: only retryable codes, timeouts, connection
// errors and HTTP 429/502/503/504, each with the same msg_id and a fresh
// timestamp, key envelope and signature, with exponential backoff and jitter,
// until the retry count is spent or ctx is done.
func (c *Client) Do(ctx context.Context, path string, req, resp any, opts ...CallOption) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := cleanPath(path)
	if err != nil {
		return err
	}
	cl := &call{c: c, path: path, signPath: apiPrefix + path, encrypt: c.policy == EncryptAll || requiresEncryption(path)}
	for _, o := range opts {
		o(cl)
	}
	if cl.msgID == "" {
		cl.msgID = newMsgID()
	} else if err := rules.MsgID(cl.msgID); err != nil {
		return fieldCheck("msg_id", err)
	}
	if cl.biz, err = marshalBiz(req); err != nil {
		return err
	}
	if cl.encrypt {
		if cl.keyID, cl.bankKey, err = c.keys.encryptKey(firstNonEmpty(cl.keyID, c.pinnedKeyID), c.now()); err != nil {
			return err
		}
	}

	start := time.Now()
	r := c.http.R().SetContext(context.WithValue(ctx, callKey{}, cl))
	r.AddRetryCondition(cl.retry)
	_, postErr := r.Post(c.base + cl.signPath)
	if postErr != nil && cl.attempts == 0 {
		// Failed before any attempt left (building the envelope).
		return postErr
	}
	cl.settle(postErr)
	err = cl.result(ctx, resp)
	c.logCall(ctx, cl, err, time.Since(start))
	return err
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

func newMsgID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (it crashes instead)
	return hex.EncodeToString(b[:])
}

func marshalBiz(req any) ([]byte, error) {
	var biz []byte
	switch v := req.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		biz = bytes.TrimSpace(v)
		if !json.Valid(biz) || !utf8.Valid(biz) {
			return nil, errors.New("wallet: request must marshal to a JSON object")
		}
	default:
		var err error
		if biz, err = MarshalWire(req); err != nil {
			return nil, fmt.Errorf("wallet: request does not marshal to JSON: %w", err)
		}
	}
	if len(biz) == 0 || biz[0] != '{' {
		return nil, errors.New("wallet: request must marshal to a JSON object")
	}
	return biz, nil
}

type callKey struct{}

// call is the state of one Do: constant across attempts except for what
// each attempt renews (timestamp, envelope, signature).
type call struct {
	c        *Client
	path     string // "payment/pay"
	signPath string // "/api/v1/payment/pay"
	msgID    string
	biz      []byte // plaintext biz_content
	encrypt  bool
	keyID    string
	bankKey  *sign.PublicKey

	attempts     int  // attempts started
	settled      int  // attempts whose outcome is recorded
	sent         bool // some attempt may have reached the bank
	status       int  // HTTP status of the last answer
	payload      []byte
	apiErr       *APIError
	err          error // transport or verification failure of the last attempt
	attemptStart time.Time
}

// prepareAttempt is resty's before-request hook: it builds a fresh envelope
// for every attempt, so a retry carries a new timestamp, key envelope and
// signature under the same msg_id.
func prepareAttempt(_ *resty.Client, r *resty.Request) error {
	cl, ok := r.Context().Value(callKey{}).(*call)
	if !ok {
		return nil
	}
	body, err := cl.envelope()
	if err != nil {
		return err
	}
	cl.attempts++
	cl.attemptStart = time.Now()
	r.SetBody(bytes.NewReader(body))
	return nil
}

// envelope builds one attempt's request body in a single buffer: the
// biz_content is sealed straight into it (sign.SealAppend), the signature
// hashes it there, and nothing of the body is copied again. For a 1 MiB
// face image this is the difference between one and four copies.
func (cl *call) envelope() ([]byte, error) {
	c := cl.c
	fields := map[string]string{
		"app_id":      c.cfg.AppID,
		"merchant_id": c.cfg.MerchantID,
		"msg_id":      cl.msgID,
		"timestamp":   wire.Format(c.now()),
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
		ek, out, err := envelope.SealAppend(body, cl.bankKey.Encrypt, cl.biz, cl.msgID)
		if err != nil {
			return nil, fmt.Errorf("wallet: encrypting biz_content: %w", err)
		}
		body = out
		// The base64 text in the body is the field's value as it is signed;
		// the body is never written there again.
		fields["biz_content"] = unsafe.String(&body[start], len(body)-start)
		fields["encrypt_type"] = encryptType
		fields["encrypt_key"] = ek
		fields["encrypt_key_id"] = cl.keyID
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
	sig, err := sign.SignCanonical(context.Background(), c.cfg.PrivateKey, cl.signPath, fields)
	if err != nil {
		return nil, fmt.Errorf("wallet: signing: %w", err)
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

// observeAttempt is resty's after-response hook: it verifies the answer of
// one attempt and records what it says. It never returns an error, so that
// the retry condition decides alone.
func observeAttempt(_ *resty.Client, r *resty.Response) error {
	cl, ok := r.Request.Context().Value(callKey{}).(*call)
	if !ok {
		return nil
	}
	cl.observe(r.StatusCode(), r.Body())
	return nil
}

func (cl *call) observe(status int, body []byte) {
	cl.settled = cl.attempts
	cl.sent = true
	cl.status = status
	cl.apiErr, cl.payload, cl.err = nil, nil, nil
	if status != http.StatusOK {
		cl.err = fmt.Errorf("HTTP status %d", status)
		return
	}
	code, msg, payload, err := cl.c.verifyResponse(cl, body)
	if err != nil {
		cl.err = err
		return
	}
	if code != codeSuccess {
		cl.apiErr = &APIError{Code: ErrorCode(code), Message: msg, MsgID: cl.msgID, Path: cl.path, HTTPStatus: status}
		return
	}
	cl.payload = payload
}

// settle records the outcome of an attempt that ended in a transport error
// (no answer to observe). It does nothing for an attempt already observed.
func (cl *call) settle(err error) {
	if cl.settled == cl.attempts || err == nil {
		return
	}
	cl.settled = cl.attempts
	cl.apiErr, cl.payload, cl.status = nil, nil, 0
	cl.err = err
	if mayHaveBeenSent(err) {
		cl.sent = true
	}
}

// retry is the retry condition of the request: it decides after every
// attempt whether the protocol allows another.
func (cl *call) retry(_ *resty.Response, err error) bool {
	cl.settle(err)
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

// result turns the recorded outcome of the last attempt into Do's answer.
func (cl *call) result(ctx context.Context, resp any) error {
	switch {
	case cl.apiErr != nil:
		return cl.apiErr
	case cl.err != nil:
		err := cl.err
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (after %v)", ctxErr, err)
		}
		return &TransportError{Path: cl.path, MsgID: cl.msgID, Attempts: cl.attempts, HTTPStatus: cl.status, Sent: cl.sent, Err: err}
	case cl.payload == nil:
		// Not reachable through resty; kept so that a gap can never read as success.
		return &TransportError{Path: cl.path, MsgID: cl.msgID, Attempts: cl.attempts, Sent: cl.sent, Err: fmt.Errorf("%w: no answer recorded", ErrUnverifiedResponse)}
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

// verifyResponse checks an answer in the order PROTOCOL.md 3.2 requires:
// nothing of it is trusted until its signature verifies under a trusted
// bank key and it names this request's msg_id.
func (c *Client) verifyResponse(cl *call, body []byte) (code, msg string, payload []byte, err error) {
	fail := func(format string, a ...any) (string, string, []byte, error) {
		return "", "", nil, fmt.Errorf("%w: "+format, append([]any{ErrUnverifiedResponse}, a...)...)
	}
	var fields map[string]string
	if err := json.Unmarshal(body, &fields); err != nil {
		return fail("body is not a flat JSON object of strings")
	}
	sig := fields["sign"]
	if sig == "" {
		return fail("no sign")
	}
	keyID := fields["sign_key_id"]
	key, ok := c.keys.verifier(keyID)
	if !ok {
		return fail("sign_key_id %q is not a trusted bank key", keyID)
	}
	if err := key.VerifyCanonical(cl.signPath, fields, sig); err != nil {
		return fail("signature does not verify under %s", keyID)
	}
	if fields["msg_id"] != cl.msgID {
		return fail("msg_id is not the request's")
	}
	if fields["app_id"] != c.cfg.AppID {
		return fail("app_id is not ours")
	}
	if st := fields["sign_type"]; st != "SM2" {
		return fail("sign_type %q", st)
	}
	c.keys.signedBy(keyID)
	code = fields["code"]
	if code == "" {
		return fail("no code")
	}
	if code != codeSuccess {
		return code, fields["msg"], nil, nil
	}
	biz := fields["biz_content"]
	switch et := fields["encrypt_type"]; et {
	case encryptType:
		pt, err := sign.Open(context.Background(), c.cfg.PrivateKey, fields["encrypt_key"], biz, cl.msgID)
		if err != nil {
			return fail("biz_content does not open: %v", err)
		}
		payload = pt
	case "":
		if cl.encrypt {
			// An answer to an encrypted request must be encrypted too: its
			// fields may be personal data.
			return fail("answer to an encrypted request is not encrypted")
		}
		payload = []byte(biz)
	default:
		return fail("encrypt_type %q", et)
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	return code, fields["msg"], payload, nil
}

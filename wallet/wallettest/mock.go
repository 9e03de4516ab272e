package wallettest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// MockBank answers API calls in memory through an httpmock transport, signed
// and encrypted exactly like the bank, with answers the test chooses. It
// verifies every request as the bank would (signature, key envelope, msg_id)
// and records it. It holds no global state: each MockBank has its own
// transport, so tests using it can run in parallel.
//
// Its keys are fresh TEST KEYS made for each MockBank.
type MockBank struct {
	Transport   *httpmock.MockTransport
	BaseURL     string
	AppID       string
	MerchantID  string
	MerchantKey *sign.PrivateKey // TEST KEY

	t         testing.TB
	bench     *testing.B // set by Benchmark: bank work off the clock, nothing recorded
	mu        sync.Mutex
	bankKeys  map[string]*sign.PrivateKey
	signingID string
	handlers  map[string]Responder
	requests  []*Request
	attempts  map[string]int
}

// Request is one call as the mock bank received and verified it.
type Request struct {
	Path         string            // "payment/pay"
	MsgID        string            // the request's msg_id
	Attempt      int               // 1 for the first request with this msg_id, 2 for its retry...
	Timestamp    string            // the envelope timestamp
	Encrypted    bool              // whether biz_content was encrypted
	EncryptKeyID string            // the bank key it was encrypted to
	Biz          json.RawMessage   // the plaintext biz_content
	Fields       map[string]string // the envelope as sent (biz_content as sent)
}

// Decode unmarshals the plaintext biz_content into v.
func (r *Request) Decode(v any) error { return json.Unmarshal(r.Biz, v) }

// Reply is how the mock bank answers one request.
type Reply struct {
	Code wallet.ErrorCode // empty means SUCCESS
	Msg  string
	Biz  any // SUCCESS payload: marshalled to JSON ([]byte and json.RawMessage as they are)

	HTTPStatus int           // other than 0 or 200: this status with an unsigned body, as a proxy would
	Err        error         // a transport error instead of an answer (e.g. httpmock.ConnectionFailure's)
	Delay      time.Duration // wait before answering; the request's context still applies

	SignKeyID string                  // sign with this registered bank key instead of the current one
	SignWith  *sign.PrivateKey        // sign with this key (e.g. one the client does not trust)
	Tamper    func(map[string]string) // change the answer's fields after signing
}

// Responder decides the Reply to a verified request.
type Responder func(*Request) Reply

// NewMockBank makes a mock bank with fresh test keys and one bank key,
// "mock-bank-1".
func NewMockBank(t testing.TB) *MockBank {
	t.Helper()
	merchant, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	m := &MockBank{
		Transport:   httpmock.NewMockTransport(),
		BaseURL:     "https://bank.mock",
		AppID:       "mock-app",
		MerchantID:  "M000000001",
		MerchantKey: merchant,
		t:           t,
		bankKeys:    map[string]*sign.PrivateKey{},
		handlers:    map[string]Responder{},
		attempts:    map[string]int{},
	}
	m.AddBankKey("mock-bank-1")
	m.Transport.RegisterNoResponder(m.respond)
	return m
}

// AddBankKey makes a new bank key pair under id and returns its private half.
// The first key added signs answers until UseSigningKey says otherwise.
func (m *MockBank) AddBankKey(id string) *sign.PrivateKey {
	m.t.Helper()
	k, err := sign.GenerateKey()
	if err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bankKeys[id] = k
	if m.signingID == "" {
		m.signingID = id
	}
	return k
}

// UseSigningKey makes the bank key id sign answers from now on.
func (m *MockBank) UseSigningKey(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.bankKeys[id]; !ok {
		m.t.Fatalf("wallettest: no bank key %q", id)
	}
	m.signingID = id
}

// BankKey returns the private half of a bank key (to build answers by hand).
func (m *MockBank) BankKey(id string) *sign.PrivateKey {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bankKeys[id]
}

// Config is a wallet.Config that talks to this mock bank and trusts all its
// bank keys.
func (m *MockBank) Config() wallet.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make(map[string]*sign.PublicKey, len(m.bankKeys))
	for id, k := range m.bankKeys {
		keys[id] = k.Public()
	}
	return wallet.Config{BaseURL: m.BaseURL, AppID: m.AppID, MerchantID: m.MerchantID, PrivateKey: m.MerchantKey, BankKeys: keys}
}

// Client returns a client of this mock bank. Options come after the mock's
// transport and a fast backoff, so they can replace them.
func (m *MockBank) Client(opts ...wallet.Option) *wallet.Client {
	m.t.Helper()
	base := []wallet.Option{wallet.WithTransport(m.Transport), wallet.WithBackoff(time.Millisecond, 5*time.Millisecond)}
	c, err := wallet.NewClient(m.Config(), append(base, opts...)...)
	if err != nil {
		m.t.Fatal(err)
	}
	return c
}

// On sets the responder for an API path ("payment/pay").
func (m *MockBank) On(path string, r Responder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers[strings.TrimPrefix(path, "/api/v1/")] = r
}

// Reply makes path answer SUCCESS with biz.
func (m *MockBank) Reply(path string, biz any) {
	m.On(path, func(*Request) Reply { return Reply{Biz: biz} })
}

// ReplyError makes path answer code with msg.
func (m *MockBank) ReplyError(path string, code wallet.ErrorCode, msg string) {
	m.On(path, func(*Request) Reply { return Reply{Code: code, Msg: msg} })
}

// Requests returns the requests received so far, in order.
func (m *MockBank) Requests() []*Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Request(nil), m.requests...)
}

// RoundTrip answers a request directly, without httpmock's routing (which
// runs each responder in its own goroutine): give the MockBank itself to
// wallet.WithTransport in benchmarks, so that they measure the SDK.
func (m *MockBank) RoundTrip(r *http.Request) (*http.Response, error) { return m.respond(r) }

// Benchmark makes the mock bank's own work (verifying, decrypting,
// signing, encrypting) stop b's timer and memory count, so that a
// benchmark of client calls measures the SDK alone; and it stops recording
// requests, so that long runs do not hold every body. Use it with the
// MockBank as the client's transport (see RoundTrip): the timer may only
// be stopped from the benchmark's goroutine.
func (m *MockBank) Benchmark(b *testing.B) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bench = b
}

func (m *MockBank) respond(hr *http.Request) (*http.Response, error) {
	m.mu.Lock()
	bench := m.bench
	m.mu.Unlock()
	if bench != nil {
		bench.StopTimer()
		defer bench.StartTimer()
	}
	path := strings.TrimPrefix(hr.URL.Path, "/api/v1/")
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, err
	}
	req, gatewayCode, gatewayMsg := m.verify(hr.URL.Path, path, body)
	m.mu.Lock()
	handler := m.handlers[path]
	if req != nil && m.bench == nil {
		m.attempts[req.MsgID]++
		req.Attempt = m.attempts[req.MsgID]
		m.requests = append(m.requests, req)
	}
	m.mu.Unlock()

	var reply Reply
	switch {
	case gatewayCode != "":
		reply = Reply{Code: gatewayCode, Msg: gatewayMsg}
	case handler == nil:
		reply = Reply{Code: wallet.ErrAPINotFound, Msg: "no responder for " + path}
	default:
		reply = handler(req)
	}
	if reply.Delay > 0 {
		select {
		case <-time.After(reply.Delay):
		case <-hr.Context().Done():
			return nil, hr.Context().Err()
		}
	}
	if reply.Err != nil {
		return nil, reply.Err
	}
	if reply.HTTPStatus != 0 && reply.HTTPStatus != http.StatusOK {
		return httpmock.NewStringResponse(reply.HTTPStatus, "<html>gateway error</html>"), nil
	}
	out, err := m.answer(hr.URL.Path, req, reply)
	if err != nil {
		m.t.Errorf("wallettest: building the answer: %v", err)
		return nil, err
	}
	resp := httpmock.NewBytesResponse(http.StatusOK, out)
	resp.Header.Set("Content-Type", "application/json; charset=utf-8")
	return resp, nil
}

// verify does what the bank's gateway does before any business rule.
func (m *MockBank) verify(signPath, path string, body []byte) (*Request, wallet.ErrorCode, string) {
	var f map[string]string
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, wallet.ErrParamInvalid, "body: not a flat JSON object of strings"
	}
	req := &Request{Path: path, MsgID: f["msg_id"], Timestamp: f["timestamp"], Fields: f}
	if f["app_id"] != m.AppID {
		return req, wallet.ErrAppInvalid, "unknown app_id"
	}
	if f["merchant_id"] != m.MerchantID {
		return req, wallet.ErrPermissionDenied, "merchant_id is not the app's"
	}
	if f["version"] != "1.0" || f["sign_type"] != "SM2" {
		return req, wallet.ErrParamInvalid, "version or sign_type"
	}
	if _, err := wire.Parse(f["timestamp"]); err != nil {
		return req, wallet.ErrParamInvalid, "timestamp: " + err.Error()
	}
	if err := m.MerchantKey.Public().VerifyCanonical(signPath, f, f["sign"]); err != nil {
		return req, wallet.ErrSignatureInvalid, "signature does not verify"
	}
	req.Biz = json.RawMessage(f["biz_content"])
	if f["encrypt_type"] != "" {
		m.mu.Lock()
		k := m.bankKeys[f["encrypt_key_id"]]
		m.mu.Unlock()
		if k == nil {
			return req, wallet.ErrDecryptFailed, "unknown encrypt_key_id"
		}
		pt, err := sign.Open(context.Background(), k, f["encrypt_key"], f["biz_content"], f["msg_id"])
		if err != nil {
			return req, wallet.ErrDecryptFailed, "biz_content does not open"
		}
		req.Biz, req.Encrypted, req.EncryptKeyID = pt, true, f["encrypt_key_id"]
	}
	if !json.Valid(req.Biz) {
		return req, wallet.ErrParamInvalid, "biz_content: not JSON"
	}
	return req, "", ""
}

func (m *MockBank) answer(signPath string, req *Request, reply Reply) ([]byte, error) {
	m.mu.Lock()
	keyID, key := m.signingID, m.bankKeys[m.signingID]
	if reply.SignKeyID != "" {
		keyID, key = reply.SignKeyID, m.bankKeys[reply.SignKeyID]
	}
	m.mu.Unlock()
	if reply.SignWith != nil {
		key = reply.SignWith
	}
	if key == nil {
		return nil, fmt.Errorf("no bank key %q", keyID)
	}
	code := string(reply.Code)
	if code == "" {
		code = "SUCCESS"
	}
	f := map[string]string{
		"timestamp":   wire.Format(time.Now()),
		"code":        code,
		"msg":         reply.Msg,
		"sign_key_id": keyID,
		"sign_type":   "SM2",
	}
	if req != nil {
		f["app_id"], f["msg_id"] = req.Fields["app_id"], req.MsgID
	}
	if code == "SUCCESS" {
		if f["msg"] == "" {
			f["msg"] = "ok"
		}
		biz, err := marshalBiz(reply.Biz)
		if err != nil {
			return nil, err
		}
		if req != nil && req.Encrypted {
			ek, ct, err := sign.Seal(m.MerchantKey.Public(), biz, req.MsgID)
			if err != nil {
				return nil, err
			}
			f["encrypt_type"], f["encrypt_key"], f["biz_content"] = "SM4-GCM", ek, ct
		} else {
			f["biz_content"] = string(biz)
		}
	}
	sig, err := sign.SignCanonical(context.Background(), key, signPath, f)
	if err != nil {
		return nil, err
	}
	f["sign"] = sig
	if reply.Tamper != nil {
		reply.Tamper(f)
	}
	return json.Marshal(f)
}

// marshalBiz writes a payload as the bank would put it on the wire: with
// wallet.MarshalWire, so that personal data types in a test's payload come
// out in clear (json.Marshal would mask them).
func marshalBiz(v any) ([]byte, error) {
	switch b := v.(type) {
	case nil:
		return []byte("{}"), nil
	case json.RawMessage:
		return b, nil
	case []byte:
		return b, nil
	case string:
		return []byte(b), nil
	}
	return wallet.MarshalWire(v)
}

// Notification builds the bank's signed, encrypted notification of an event
// as an *http.Request for a notification handler: payload is the order,
// refund or account (any JSON-marshalable value), at is the delivery time.
func (m *MockBank) Notification(typ wallet.NotifyType, notifyID string, payload any, at time.Time) *http.Request {
	m.t.Helper()
	body, err := m.NotificationBody(typ, notifyID, payload, at)
	if err != nil {
		m.t.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodPost, "https://merchant.mock/notify", bytes.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	return r
}

// NotificationBody is the JSON body of Notification.
func (m *MockBank) NotificationBody(typ wallet.NotifyType, notifyID string, payload any, at time.Time) ([]byte, error) {
	biz, err := marshalBiz(payload)
	if err != nil {
		return nil, err
	}
	ek, ct, err := sign.Seal(m.MerchantKey.Public(), biz, notifyID)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	keyID, key := m.signingID, m.bankKeys[m.signingID]
	m.mu.Unlock()
	if key == nil {
		return nil, errors.New("no signing key")
	}
	f := map[string]string{
		"app_id": m.AppID, "merchant_id": m.MerchantID, "notify_id": notifyID, "notify_type": string(typ),
		"timestamp": wire.Format(at), "sign_key_id": keyID, "sign_type": "SM2",
		"encrypt_type": "SM4-GCM", "encrypt_key": ek, "biz_content": ct,
	}
	sig, err := sign.SignCanonical(context.Background(), key, "/notify", f)
	if err != nil {
		return nil, err
	}
	f["sign"] = sig
	return json.Marshal(f)
}

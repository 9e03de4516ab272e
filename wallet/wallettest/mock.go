package wallettest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
)

// MockBank answers API calls in memory, signed and encrypted exactly like
// the bank, with answers the test chooses. It is an http.RoundTripper:
// Client returns a wallet.Client that sends through it, and a test of the
// merchant's own code gives it to that code's wallet.Client with
// wallet.WithHTTPClient(&http.Client{Transport: bank}). It verifies every
// request as the bank would (signature, key envelope, msg_id) and records
// it. It holds no global state, so tests using it can run in parallel.
//
// Its keys are fresh TEST KEYS made for each MockBank.
type MockBank struct {
	BaseURL     string
	AppID       string
	MerchantID  string
	MerchantKey *sign.PrivateKey // TEST KEY

	t         TB
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
	RetryAfter time.Duration // with HTTPStatus: a Retry-After header (whole seconds)
	Body       []byte        // these bytes as the answer, unsigned, as they are (a broken or hostile bank)
	Err        error         // a transport error instead of an answer (a reset connection, say)
	Delay      time.Duration // wait before answering; the request's context still applies

	SignKeyID string                  // sign with this registered bank key instead of the current one
	SignWith  *sign.PrivateKey        // sign with this key (e.g. one the client does not trust)
	Tamper    func(map[string]string) // change the answer's fields after signing
}

// Responder decides the Reply to a verified request.
type Responder func(*Request) Reply

// NewMockBank makes a mock bank with fresh test keys and one bank key,
// "mock-bank-1".
func NewMockBank(t TB) *MockBank {
	t.Helper()
	merchant, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	m := &MockBank{
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
		m.t.Fatal(fmt.Sprintf("wallettest: no bank key %q", id))
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
	base := []wallet.Option{wallet.WithHTTPClient(&http.Client{Transport: m}), wallet.WithBackoff(time.Millisecond, 5*time.Millisecond)}
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

// RoundTrip answers one request of a client, as the bank would.
func (m *MockBank) RoundTrip(hr *http.Request) (*http.Response, error) {
	path := strings.TrimPrefix(hr.URL.Path, "/api/v1/")
	body, err := io.ReadAll(hr.Body)
	if err != nil {
		return nil, err
	}
	req, gatewayCode, gatewayMsg := m.verify(hr.URL.Path, path, body)
	m.mu.Lock()
	handler := m.handlers[path]
	if req != nil {
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
		resp := response(hr, reply.HTTPStatus, "text/html", []byte("<html>gateway error</html>"))
		if reply.RetryAfter > 0 {
			resp.Header.Set("Retry-After", strconv.Itoa(int(reply.RetryAfter/time.Second)))
		}
		return resp, nil
	}
	if reply.Body != nil {
		return response(hr, http.StatusOK, "application/json; charset=utf-8", reply.Body), nil
	}
	out, err := m.answer(hr.URL.Path, req, reply)
	if err != nil {
		m.t.Errorf("wallettest: building the answer: %v", err)
		return nil, err
	}
	return response(hr, http.StatusOK, "application/json; charset=utf-8", out), nil
}

func response(r *http.Request, status int, contentType string, body []byte) *http.Response {
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {contentType}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

// verify does what the bank's gateway does before any business rule.
func (m *MockBank) verify(signPath, path string, body []byte) (*Request, wallet.ErrorCode, string) {
	f, err := wire.ParseFlat(body)
	if err != nil {
		return nil, wallet.ErrParamInvalid, "body: not a flat JSON object of strings, each name once"
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
// the SDK's wire encoder, so that personal data types in a test's payload
// come out in clear (json.Marshal refuses them).
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
	return core.Bridge.MarshalWire(v)
}

// Notification builds the bank's signed, encrypted notification of an event
// as a POST to target — the URL or path of the merchant's notify handler
// ("/wallet/notify", "http://127.0.0.1:8080/notify") — ready for
// handler.ServeHTTP or an http.Client. payload is the order, refund or
// account; at is the delivery time.
func (m *MockBank) Notification(target string, typ notify.Type, notifyID string, payload any, at time.Time) *http.Request {
	m.t.Helper()
	body, err := m.NotificationBody(typ, notifyID, payload, at)
	if err != nil {
		m.t.Fatal(err)
	}
	r, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		m.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	return r
}

// NotificationBody is the JSON body of Notification.
func (m *MockBank) NotificationBody(typ notify.Type, notifyID string, payload any, at time.Time) ([]byte, error) {
	biz, err := marshalBiz(payload)
	if err != nil {
		return nil, err
	}
	ek, ct, err := sign.Seal(m.MerchantKey.Public(), biz, notifyID)
	if err != nil {
		return nil, err
	}
	f := map[string]string{
		"app_id": m.AppID, "merchant_id": m.MerchantID, "notify_id": notifyID, "notify_type": string(typ),
		"timestamp": wire.Format(at), "sign_type": "SM2",
		"encrypt_type": "SM4-GCM", "encrypt_key": ek, "biz_content": ct,
	}
	if err := m.signFields("/notify", f); err != nil {
		return nil, err
	}
	return json.Marshal(f)
}

// Return is the bank's end of an H5 page flow, as the bank signs it into
// the merchant's return_url.
type Return struct {
	Page       string // "pay", "open", ...
	Result     string // SUCCESS, FAILED or CANCELLED
	OutTradeNo string // recharge, withdraw, pay
	AccountNo  string // the other pages
	At         time.Time
}

// ReturnURL signs r into returnURL, keeping the merchant's own parameters
// already in it, as the bank's redirect at the end of a page flow does:
// test a merchant's return handler with it.
func (m *MockBank) ReturnURL(returnURL string, r Return) (*url.URL, error) {
	u, err := url.Parse(returnURL)
	if err != nil {
		return nil, err
	}
	f := map[string]string{"app_id": m.AppID, "merchant_id": m.MerchantID, "page": r.Page, "result": r.Result,
		"out_trade_no": r.OutTradeNo, "account_no": r.AccountNo, "timestamp": wire.Format(r.At), "sign_type": "SM2"}
	if err := m.signFields("/return", f); err != nil {
		return nil, err
	}
	var q strings.Builder
	q.WriteString(u.RawQuery)
	for _, k := range []string{"app_id", "merchant_id", "page", "result", "out_trade_no", "account_no", "timestamp", "sign_key_id", "sign_type", "sign"} {
		if f[k] == "" {
			continue
		}
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(k + "=" + url.QueryEscape(f[k]))
	}
	u.RawQuery = q.String()
	return u, nil
}

// signFields signs f over canonical(path, f) with the current signing key,
// adding sign_key_id and sign.
func (m *MockBank) signFields(path string, f map[string]string) error {
	m.mu.Lock()
	keyID, key := m.signingID, m.bankKeys[m.signingID]
	m.mu.Unlock()
	if key == nil {
		return errors.New("wallettest: no signing key")
	}
	f["sign_key_id"] = keyID
	sig, err := sign.SignCanonical(context.Background(), key, path, f)
	if err != nil {
		return err
	}
	f["sign"] = sig
	return nil
}

// OrderReply answers a money call (payment/recharge, withdraw, pay,
// transfer) with the order the bank would make for it, echoing the
// request's numbers, account and amount as the SDK checks, in status:
// bank.On("payment/pay", wallettest.OrderReply(wallet.StatusSuccess)).
func OrderReply(status wallet.OrderStatus) Responder {
	return func(r *Request) Reply {
		var req struct {
			OutTradeNo     string `json:"out_trade_no"`
			AccountNo      string `json:"account_no"`
			PayeeAccountNo string `json:"payee_account_no"`
			Amount         int64  `json:"amount"`
			Subject        string `json:"subject"`
		}
		if err := json.Unmarshal(r.Biz, &req); err != nil {
			return Reply{Code: wallet.ErrParamInvalid, Msg: "biz_content: not an order request"}
		}
		typ := map[string]wallet.OrderType{"payment/recharge": wallet.OrderRecharge, "payment/withdraw": wallet.OrderWithdraw,
			"payment/pay": wallet.OrderPay, "payment/transfer": wallet.OrderTransfer}[r.Path]
		now := time.Now()
		o := wallet.Order{OutTradeNo: req.OutTradeNo, TradeNo: "B" + r.MsgID[:16], Type: typ, AccountNo: req.AccountNo,
			PayeeAccountNo: req.PayeeAccountNo, Subject: req.Subject, Amount: req.Amount, Status: status, CreatedAt: now}
		if status != wallet.StatusProcessing {
			o.FinishedAt = now
		}
		return Reply{Biz: o}
	}
}

// RefundReply answers payment/refund with the refund the bank would make
// for it, echoing its numbers and amount.
func RefundReply() Responder {
	return func(r *Request) Reply {
		var req struct {
			OutTradeNo  string `json:"out_trade_no"`
			OutRefundNo string `json:"out_refund_no"`
			Amount      int64  `json:"amount"`
		}
		if err := json.Unmarshal(r.Biz, &req); err != nil {
			return Reply{Code: wallet.ErrParamInvalid, Msg: "biz_content: not a refund request"}
		}
		return Reply{Biz: wallet.Refund{OutRefundNo: req.OutRefundNo, RefundNo: "BR" + r.MsgID[:16], OutTradeNo: req.OutTradeNo,
			Amount: req.Amount, Status: wallet.StatusSuccess, RefundedAt: time.Now()}}
	}
}

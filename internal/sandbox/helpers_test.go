package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// The test client below is deliberately independent of package wallet: it
// builds envelopes from docs/protocol.md with the sign package alone, so that the
// sandbox is checked against the protocol, not against the SDK.

// testStart is the real-clock time most tests run at.
var testStart = time.Date(2026, 11, 25, 16, 0, 0, 0, wire.Shanghai)

// fakeClock is a settable real clock shared by the bank and the client.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is a bank with a test client for its built-in merchant.
type fixture struct {
	t     testing.TB
	bank  *Bank
	clock *fakeClock
	c     *tclient
	seq   int
}

type fixtureOption func(*Options)

// sameDay moves the business clock to the next 10:00 UTC+8 and returns
// that time. A test that counts on one business day (a daily limit, a PIN
// lock, SMS or verification counts) starts with it, so that the minutes
// and hours it advances can never cross midnight, whenever it runs.
func (f *fixture) sameDay() time.Time {
	f.t.Helper()
	at, err := f.bank.AdvanceClockToNext(10, 0)
	require.NoError(f.t, err)
	require.Equal(f.t, "10:00:00", at.In(wire.Shanghai).Format("15:04:05"))
	return at
}

func newFixture(t testing.TB, opts ...fixtureOption) *fixture {
	t.Helper()
	clock := newFakeClock(testStart)
	o := Options{Now: clock.Now, NotifyScale: 0.001, NotifyTimeout: 2 * time.Second}
	for _, f := range opts {
		f(&o)
	}
	b, err := New(o)
	require.NoError(t, err)
	t.Cleanup(func() { b.Close() })
	f := &fixture{t: t, bank: b, clock: clock}
	f.c = f.client(DefaultAppID, DefaultMerchantID, mustPrivateKey(t, DefaultMerchantKeyPEM))
	return f
}

func mustPrivateKey(t testing.TB, pem string) *sign.PrivateKey {
	t.Helper()
	k, err := sign.ParsePrivateKey([]byte(pem))
	require.NoError(t, err)
	return k
}

// client makes a test client for an app of this bank, trusting the bank's
// keys as published by Credentials.
func (f *fixture) client(appID, merchantID string, key *sign.PrivateKey) *tclient {
	c := &tclient{
		t: f.t, h: f.bank, now: f.clock.Now, appID: appID, merchantID: merchantID, key: key,
		bankKeys: map[string]*sign.PublicKey{}, encKeyID: DefaultBankKeyID,
	}
	for _, k := range f.bank.Credentials().BankKeys {
		pub, err := sign.ParsePublicKey([]byte(k.PublicKeyPEM))
		require.NoError(f.t, err)
		c.bankKeys[k.KeyID] = pub
	}
	return c
}

// otherMerchant registers a second merchant (another channel) and returns
// its client.
func (f *fixture) otherMerchant(appID, merchantID string) *tclient {
	k, err := sign.GenerateKey()
	require.NoError(f.t, err)
	require.NoError(f.t, f.bank.RegisterMerchant(Merchant{AppID: appID, MerchantID: merchantID, PublicKey: k.Public()}))
	return f.client(appID, merchantID, k)
}

// tclient signs and encrypts requests and verifies and opens answers.
type tclient struct {
	t          testing.TB
	h          http.Handler // in-process, unless url is set
	url        string       // a real server (faults that drop the connection)
	httpClient *http.Client
	now        func() time.Time
	appID      string
	merchantID string
	key        *sign.PrivateKey
	bankKeys   map[string]*sign.PublicKey
	encKeyID   string
}

// on returns a copy of c that reports to t (a subtest).
func (c *tclient) on(t testing.TB) *tclient {
	cp := *c
	cp.t = t
	return &cp
}

// treq is one request; the zero values mean "do it properly".
type treq struct {
	path    string
	biz     []byte
	msgID   string
	plain   bool                    // do not encrypt
	keyID   string                  // bank key to encrypt to (default encKeyID)
	ts      time.Time               // envelope timestamp (default now)
	before  func(map[string]string) // edit fields before signing
	after   func(map[string]string) // edit fields after signing
	rawBody []byte                  // send exactly this
}

// tresp is an answer as the client sees it.
type tresp struct {
	status    int
	raw       []byte
	fields    map[string]string
	code      string
	msg       string
	biz       []byte
	verifyErr error // signature, msg_id or decryption failure
	netErr    error // transport failure (dropped connection)
}

func (r *tresp) decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.biz, v), "biz_content %s", r.biz)
}

func (r *tresp) obj(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.decode(t, &m)
	return m
}

func newMsgID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func bizJSON(t testing.TB, v any) []byte {
	t.Helper()
	if v == nil {
		return []byte("{}")
	}
	if b, ok := v.([]byte); ok {
		return b
	}
	if s, ok := v.(string); ok {
		return []byte(s)
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// body builds the signed envelope of r.
func (c *tclient) body(r *treq) []byte {
	c.t.Helper()
	if r.rawBody != nil {
		return r.rawBody
	}
	if r.msgID == "" {
		r.msgID = newMsgID()
	}
	ts := r.ts
	if ts.IsZero() {
		ts = c.now()
	}
	f := map[string]string{
		"app_id": c.appID, "merchant_id": c.merchantID, "msg_id": r.msgID,
		"timestamp": formatTime(ts), "version": "1.0", "sign_type": "SM2",
	}
	biz := r.biz
	if biz == nil {
		biz = []byte("{}")
	}
	if r.plain {
		f["biz_content"] = string(biz)
	} else {
		id := r.keyID
		if id == "" {
			id = c.encKeyID
		}
		pub := c.bankKeys[id]
		if pub == nil {
			pub = c.bankKeys[DefaultBankKeyID]
		}
		ek, ct, err := sign.Seal(pub, biz, r.msgID)
		require.NoError(c.t, err)
		f["encrypt_type"], f["encrypt_key"], f["encrypt_key_id"], f["biz_content"] = "SM4-GCM", ek, id, ct
	}
	if r.before != nil {
		r.before(f)
		r.msgID = f["msg_id"]
	}
	sig, err := sign.SignCanonical(context.Background(), c.key, r.path, f)
	require.NoError(c.t, err)
	f["sign"] = sig
	if r.after != nil {
		r.after(f)
	}
	b, err := json.Marshal(f)
	require.NoError(c.t, err)
	return b
}

// send posts r and reads the answer without judging it.
func (c *tclient) send(r *treq) *tresp {
	c.t.Helper()
	body := c.body(r)
	var status int
	var raw []byte
	if c.url != "" {
		hc := c.httpClient
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Post(c.url+r.path, "application/json; charset=utf-8", bytes.NewReader(body))
		if err != nil {
			return &tresp{netErr: err}
		}
		defer resp.Body.Close()
		status = resp.StatusCode
		raw, err = io.ReadAll(resp.Body)
		if err != nil {
			return &tresp{status: status, netErr: err}
		}
	} else {
		req := httptest.NewRequest(http.MethodPost, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		rec := httptest.NewRecorder()
		c.h.ServeHTTP(rec, req)
		status, raw = rec.Code, rec.Body.Bytes()
	}
	out := &tresp{status: status, raw: raw}
	if status != http.StatusOK {
		return out
	}
	out.verifyErr = c.open(r.path, r.msgID, raw, out)
	return out
}

// open verifies an answer under the bank key it names and decrypts it.
func (c *tclient) open(path, msgID string, raw []byte, out *tresp) error {
	if err := json.Unmarshal(raw, &out.fields); err != nil {
		return fmt.Errorf("answer is not a flat JSON object of strings: %w", err)
	}
	f := out.fields
	out.code, out.msg = f["code"], f["msg"]
	pub := c.bankKeys[f["sign_key_id"]]
	if pub == nil {
		return fmt.Errorf("unknown sign_key_id %q", f["sign_key_id"])
	}
	if err := pub.VerifyCanonical(path, f, f["sign"]); err != nil {
		return err
	}
	if f["msg_id"] != "" && f["msg_id"] != msgID {
		return fmt.Errorf("msg_id %q does not match the request's %q", f["msg_id"], msgID)
	}
	if f["sign_type"] != "SM2" {
		return fmt.Errorf("sign_type %q", f["sign_type"])
	}
	if _, err := parseTime(f["timestamp"]); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	if f["code"] != codeSuccess {
		if f["biz_content"] != "" || f["encrypt_type"] != "" || f["encrypt_key"] != "" {
			return fmt.Errorf("error answer carries biz_content or encryption fields")
		}
		return nil
	}
	if f["encrypt_type"] == "" {
		out.biz = []byte(f["biz_content"])
		return nil
	}
	pt, err := sign.Open(context.Background(), c.key, f["encrypt_key"], f["biz_content"], f["msg_id"])
	if err != nil {
		return err
	}
	out.biz = pt
	return nil
}

// call sends biz to path (encrypted) and requires a verified answer.
func (c *tclient) call(path string, biz any) *tresp {
	c.t.Helper()
	return c.do(&treq{path: path, biz: bizJSON(c.t, biz)})
}

// do sends r and requires a verified answer.
func (c *tclient) do(r *treq) *tresp {
	c.t.Helper()
	resp := c.send(r)
	require.NoError(c.t, resp.netErr)
	require.Equal(c.t, http.StatusOK, resp.status, "body %s", resp.raw)
	require.NoError(c.t, resp.verifyErr, "answer %s", resp.raw)
	return resp
}

// ok calls and requires SUCCESS.
func (c *tclient) ok(path string, biz any) *tresp {
	c.t.Helper()
	r := c.call(path, biz)
	require.Equal(c.t, codeSuccess, r.code, "%s: %s", path, r.msg)
	return r
}

// fails calls and requires the given code.
func (c *tclient) fails(code, path string, biz any) *tresp {
	c.t.Helper()
	r := c.call(path, biz)
	require.Equal(c.t, code, r.code, "%s: %s", path, r.msg)
	return r
}

// pin encrypts a PIN to the bank key the client encrypts requests to.
func (c *tclient) pin(p string) string {
	c.t.Helper()
	ct, err := sign.EncryptPIN(c.bankKeys[c.encKeyID], p)
	require.NoError(c.t, err)
	return ct
}

// --- test people and images -------------------------------------------------

// person is a set of four factors.
type person struct {
	name, id, card, mobile string
}

const goodPIN = "135790"

// idNumber builds a valid identity number born on birth (yyyymmdd).
func idNumber(birth string, n int) string {
	first := "110101" + birth + fmt.Sprintf("%03d", n%1000)
	return first + string(rules.IDCheckChar(first))
}

// cardNumber builds a valid 19-digit card number with a prefix.
func cardNumber(prefix string, n int) string {
	body := prefix + fmt.Sprintf("%0*d", 18-len(prefix), n)
	return body + string(rules.LuhnDigit(body))
}

// person makes a fresh adult with a debit card and a mobile that passes the
// sandbox's four-factor test data.
func (f *fixture) person() person {
	f.seq++
	n := f.seq
	return person{
		name:   "张三" + string(rune('甲'+n%10)),
		id:     idNumber("19900307", n),
		card:   cardNumber("6222", n),
		mobile: fmt.Sprintf("139%08d", n*10+1),
	}
}

func (p person) factors() map[string]any {
	return map[string]any{"name": p.name, "id_number": p.id, "card_no": p.card, "mobile": p.mobile}
}

func encodePNG(t testing.TB, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

func encodeJPEG(t testing.TB, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}))
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// colourImage is a w×h gradient in colour: it passes the face check.
func colourImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 4), 160, 255})
		}
	}
	return img
}

// grayImage is a gray gradient, as an RGBA image (gray by content, not by
// colour model).
func grayImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8((x + y) * 2)
			img.Set(x, y, color.RGBA{v, v, v, 255})
		}
	}
	return img
}

func (f *fixture) face() string { return encodePNG(f.t, colourImage(64, 64)) }

// sms sends an SMS for a scene and returns its serial.
func (f *fixture) sms(c *tclient, mobile, scene string) string {
	f.t.Helper()
	r := c.ok("/api/v1/account/sms/send", map[string]any{"mobile": mobile, "scene": scene})
	var v struct {
		Serial    string `json:"sms_serial"`
		ExpiresIn int64  `json:"expires_in"`
	}
	r.decode(f.t, &v)
	require.Equal(f.t, int64(300), v.ExpiresIn)
	return v.Serial
}

// verifyToken passes the four-factor check.
func (f *fixture) verifyToken(c *tclient, p person) string {
	f.t.Helper()
	r := c.ok("/api/v1/account/verify", p.factors())
	var v struct {
		Token string `json:"verify_token"`
	}
	r.decode(f.t, &v)
	return v.Token
}

// openArgs are the arguments of account/open for p with fresh token and SMS.
func (f *fixture) openArgs(c *tclient, p person) map[string]any {
	f.t.Helper()
	args := p.factors()
	args["user_id"] = "u-" + p.id[14:]
	args["verify_token"] = f.verifyToken(c, p)
	args["sms_serial"] = f.sms(c, p.mobile, "OPEN")
	args["sms_code"] = "123456"
	args["face_image"] = f.face()
	args["password"] = c.pin(goodPIN)
	return args
}

// open opens an account for p through c and returns its number.
func (f *fixture) open(c *tclient, p person) string {
	f.t.Helper()
	r := c.ok("/api/v1/account/open", f.openArgs(c, p))
	return r.obj(f.t)["account_no"].(string)
}

// newAccount opens an account for a fresh person with the default client.
func (f *fixture) newAccount() (string, person) {
	p := f.person()
	return f.open(f.c, p), p
}

func (f *fixture) orderNo() string {
	f.seq++
	return fmt.Sprintf("T%010d", f.seq)
}

func (f *fixture) recharge(c *tclient, acct string, amount int64) {
	f.t.Helper()
	c.ok("/api/v1/payment/recharge", map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": amount})
}

func (f *fixture) payArgs(c *tclient, acct string, amount int64) map[string]any {
	return map[string]any{"account_no": acct, "out_trade_no": f.orderNo(), "amount": amount,
		"subject": "会员月卡 & 礼包", "password": c.pin(goodPIN)}
}

func (f *fixture) balance(c *tclient, acct string) int64 {
	f.t.Helper()
	r := c.ok("/api/v1/account/query", map[string]any{"account_no": acct})
	var v struct {
		Balance int64 `json:"balance"`
	}
	r.decode(f.t, &v)
	return v.Balance
}

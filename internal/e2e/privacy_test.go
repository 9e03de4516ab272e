package e2e

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/account"
	"github.com/xinyun-open/ewallet-go/h5"
	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/payment"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/notify"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// Privacy (DESIGN.md: "nothing sensitive reaches a log in clear";
// docs/protocol.md: values are never echoed). A whole journey — open an
// account, recharge, pay, refund, transfer, withdraw, change the card,
// reset the PIN, close, build H5 links, receive the notifications, with a
// retried call, a refused one and one of unknown outcome along the way —
// runs on a client logging at debug level through slog's text and JSON
// handlers. The log then holds no identity number, card number, mobile,
// name, PIN, SMS code, verify token, private key, and no value of any
// biz_content. And every request and response type of wallet, account,
// payment and h5, printed with fmt or logged with slog, shows personal
// data masked.

// around is the log near position i, for a failure message.
func around(s string, i int) string {
	return s[max(0, i-80):min(len(s), i+80)]
}

// teeHandler writes every record to each of its handlers.
type teeHandler []slog.Handler

func (h teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, x := range h {
		if x.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (h teeHandler) Handle(ctx context.Context, r slog.Record) error {
	for _, x := range h {
		if x.Enabled(ctx, r.Level) {
			if err := x.Handle(ctx, r.Clone()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (h teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithAttrs(as)
	}
	return out
}

func (h teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(h))
	for i, x := range h {
		out[i] = x.WithGroup(name)
	}
	return out
}

// debugLogger logs at debug level in text and JSON to buf. The time of a
// record is left out: its nanoseconds are digits that can hold a six-digit
// PIN by chance.
func debugLogger(buf *wallettest.Logs) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	return slog.New(teeHandler{slog.NewTextHandler(buf, opts), slog.NewJSONHandler(buf, opts)})
}

// journey is what a merchant does with one user, and everything the test
// needs to check afterwards.
type journey struct {
	p, newCard, payee wallettest.TestPerson
	pins              []string
	pinCiphertexts    []string
	token             string
	smsCode           string
	values            []any    // every request and answer of the journey
	links             []string // H5 links built
	notes             []*notify.Event
	errs              []error
}

func (j *journey) keep(vs ...any) { j.values = append(j.values, vs...) }

func runJourney(t *testing.T, sb *wallettest.Server, c *wallet.Client, notes func() []*notify.Event) *journey {
	ctx := t.Context()
	j := &journey{p: wallettest.Person(), newCard: wallettest.Person(), payee: wallettest.Person(), smsCode: "123456"}
	j.pins = []string{wallettest.TestPIN, "246801", "975318"}
	acct, pay := account.New(c), payment.New(c)
	pinOf := func(digits string) wallet.EncryptedPIN {
		pin, err := c.EncryptPIN(digits)
		require.NoError(t, err)
		j.pinCiphertexts = append(j.pinCiphertexts, pin.Ciphertext)
		return pin
	}
	must := func(v any, err error) any {
		t.Helper()
		require.NoError(t, err)
		j.keep(v)
		return v
	}
	p := j.p
	payeeAcct := sb.OpenAccount(j.payee)

	qreq := wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID}
	j.keep(qreq)
	w := must(c.Query(ctx, qreq)).(*wallet.QueryResponse)
	require.False(t, w.Opened)

	wrongCheck := map[bool]wallet.IDNumber{true: "1", false: "0"}[p.IDNumber[17] == '0'] // any other check character is wrong
	bad := account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber[:17] + wrongCheck, CardNo: p.CardNo, Mobile: p.Mobile}
	_, err := acct.Verify(ctx, bad)
	require.Error(t, err)
	j.errs = append(j.errs, err)

	vreq := account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile}
	v := must(acct.Verify(ctx, vreq)).(*account.Verification)
	j.token = string(v.Token)
	smsReq := account.SendSMSRequest{Mobile: p.Mobile, Scene: account.SceneOpen}
	sms := must(acct.SendSMS(ctx, smsReq)).(*account.SMS)
	openReq := account.OpenRequest{UserID: p.UserID, VerifyToken: v.Token, Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo,
		Mobile: p.Mobile, SMSSerial: sms.Serial, SMSCode: wallet.Secret(j.smsCode), FaceImage: wallettest.Face(), Password: pinOf(j.pins[0]),
		Occupation: "工程师", Address: "北京市东城区"}
	opened := must(acct.OpenAccount(ctx, openReq)).(*wallet.Account)
	no := opened.AccountNo
	j.keep(vreq, smsReq, openReq)
	must(c.Query(ctx, qreq))
	must(acct.Query(ctx, no))

	// A retried call: the bank answers 503 once.
	sb.InjectFault(wallettest.Fault{Kind: wallettest.FaultHTTP503, Path: "payment/recharge"})
	recharge := payment.RechargeRequest{AccountNo: no, OutTradeNo: letters(), Amount: 100_000}
	must(pay.Recharge(ctx, recharge))

	// A refused call: a wrong PIN.
	payReq := payment.PayRequest{AccountNo: no, OutTradeNo: letters(), Amount: 20_000, Subject: "会员年卡", Password: pinOf("864213")}
	_, err = pay.Pay(ctx, payReq)
	require.ErrorIs(t, err, wallet.ErrPasswordIncorrect)
	j.errs = append(j.errs, err)
	payReq.Password = pinOf(j.pins[0])
	must(pay.Pay(ctx, payReq))
	refund := payment.RefundRequest{OutTradeNo: payReq.OutTradeNo, OutRefundNo: letters(), Amount: 5_000, Reason: "七天无理由"}
	must(pay.Refund(ctx, refund))
	must(pay.QueryRefund(ctx, refund.OutRefundNo))
	transfer := payment.TransferRequest{AccountNo: no, PayeeAccountNo: payeeAcct, PayeeName: j.payee.Name, OutTradeNo: letters(),
		Amount: 10_000, Password: pinOf(j.pins[0]), Remark: "房租"}
	must(pay.Transfer(ctx, transfer))

	// A call of unknown outcome: the answer's signature is corrupted.
	sb.InjectFault(wallettest.Fault{Kind: wallettest.FaultBadSignature, Path: "payment/withdraw"})
	withdraw := payment.WithdrawRequest{AccountNo: no, OutTradeNo: letters(), Amount: 30_000, Password: pinOf(j.pins[0])}
	_, err = pay.Withdraw(ctx, withdraw)
	require.True(t, wallet.IsOutcomeUnknown(err))
	j.errs = append(j.errs, err)
	must(pay.Query(ctx, withdraw.OutTradeNo))
	j.keep(recharge, payReq, refund, transfer, withdraw)

	// A new card, a new PIN, and the account closed.
	nc := j.newCard
	sms = must(acct.SendSMS(ctx, account.SendSMSRequest{Mobile: nc.Mobile, Scene: account.SceneChangeCard})).(*account.SMS)
	change := account.ChangeCardRequest{AccountNo: no, CardNo: nc.CardNo, Mobile: nc.Mobile, SMSSerial: sms.Serial, SMSCode: wallet.Secret(j.smsCode), Password: pinOf(j.pins[0])}
	must(acct.ChangeCard(ctx, change))
	sms = must(acct.SendSMS(ctx, account.SendSMSRequest{Mobile: nc.Mobile, Scene: account.SceneResetPassword})).(*account.SMS)
	reset := account.ResetPasswordRequest{AccountNo: no, IDNumber: p.IDNumber, SMSSerial: sms.Serial, SMSCode: wallet.Secret(j.smsCode),
		FaceImage: wallettest.Face(), NewPassword: pinOf(j.pins[1])}
	must(acct.ResetPassword(ctx, reset))
	rest := must(acct.Query(ctx, no)).(*wallet.Account).Balance
	must(pay.Withdraw(ctx, payment.WithdrawRequest{AccountNo: no, OutTradeNo: letters(), Amount: rest, Password: pinOf(j.pins[1])}))
	sms = must(acct.SendSMS(ctx, account.SendSMSRequest{Mobile: nc.Mobile, Scene: account.SceneClose})).(*account.SMS)
	closeReq := account.CloseRequest{AccountNo: no, SMSSerial: sms.Serial, SMSCode: wallet.Secret(j.smsCode), Password: pinOf(j.pins[1])}
	must(acct.CloseAccount(ctx, closeReq))
	j.keep(change, reset, closeReq)

	// H5 links, among them the opening page prefilled with the person.
	b := h5.New(c)
	common := h5.Common{UserID: p.UserID, ReturnURL: "https://merchant.example/back?from=wallet", NotifyURL: "https://merchant.example/notify"}
	for _, page := range []h5.Page{
		h5.OpenPage{Common: common, Name: p.Name, IDNumber: p.IDNumber, Mobile: p.Mobile, CardNo: p.CardNo},
		h5.WalletPage{Common: common, AccountNo: payeeAcct},
		h5.RechargePage{Common: common, AccountNo: payeeAcct, OutTradeNo: letters(), Amount: 100},
		h5.WithdrawPage{Common: common, AccountNo: payeeAcct, OutTradeNo: letters()},
		h5.PayPage{Common: common, AccountNo: payeeAcct, OutTradeNo: letters(), Amount: 990, Subject: "会员月卡"},
		h5.CardPage{Common: common, AccountNo: payeeAcct},
		h5.PasswordPage{Common: common, AccountNo: payeeAcct},
		h5.ClosePage{Common: common, AccountNo: payeeAcct},
	} {
		link, err := b.URL(context.Background(), page)
		require.NoError(t, err)
		j.links = append(j.links, link)
		j.keep(page)
	}

	// The notifications of every step arrive, verified.
	want := []notify.Type{notify.AccountOpened, notify.RechargeSucceeded, notify.PaymentSucceeded,
		notify.RefundSucceeded, notify.TransferSucceeded, notify.WithdrawSucceeded,
		notify.AccountCardChanged, notify.AccountClosed}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := map[notify.Type]bool{}
		for _, n := range notes() {
			got[n.Type] = true
		}
		missing := 0
		for _, typ := range want {
			if !got[typ] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "notifications missing after 5 s: have %v", got)
		time.Sleep(10 * time.Millisecond)
	}
	j.notes = notes()
	return j
}

// letters is an order number of letters only: digits in it could hold a
// six-digit secret by chance.
func letters() string {
	const abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 24)
	for i := range b {
		b[i] = abc[rand.IntN(len(abc))]
	}
	return string(b)
}

// bizValues are the string values of a request or answer as JSON: what
// biz_content carries in the clear. Enums and short values are left out;
// they may appear in a log for another reason ("SUCCESS" is a code too).
func bizValues(t *testing.T, v any) []string {
	raw, err := core.Bridge.MarshalWire(v) // the values in clear, as biz_content carries them
	require.NoError(t, err)
	var m any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	var out []string
	var walk func(key string, x any)
	walk = func(key string, x any) {
		switch x := x.(type) {
		case map[string]any:
			for k, v := range x {
				walk(k, v)
			}
		case []any:
			for _, v := range x {
				walk(key, v)
			}
		case string:
			switch key {
			case "status", "type", "card_type", "scene":
				return
			}
			if len(x) >= 6 {
				out = append(out, x)
			}
		}
	}
	walk("", m)
	return out
}

func TestJourneyLogsNothingPersonal(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	var logs wallettest.Logs
	c := sb.Client(wallet.WithLogger(debugLogger(&logs)))
	var mu sync.Mutex
	var notes []*notify.Event
	rc := newReceiver(t, mustHandler(t, c, func(_ context.Context, n *notify.Event) error {
		mu.Lock()
		notes = append(notes, n)
		mu.Unlock()
		return nil
	}))
	registerNotifyURL(t, sb, rc.URL+"/notify")
	j := runJourney(t, sb, c, func() []*notify.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]*notify.Event(nil), notes...)
	})
	// A forged notification is refused and logged as such.
	forged := parseEnvelope(t, rc.wait(t, 1)[0].body).with("notify_type", "ACCOUNT_CLOSED")
	refused := httptest.NewRecorder()
	mustHandler(t, c, func(context.Context, *notify.Event) error { return nil }).ServeHTTP(refused, notificationRequest(forged))
	require.Equal(t, http.StatusBadRequest, refused.Code)

	out := logs.String()
	for _, want := range []string{"payment/pay", "PASSWORD_INCORRECT", "OUTCOME_UNKNOWN", "retrying", "notification handled", "notification refused"} {
		require.Contains(t, out, want, "the log does record the journey")
	}

	secrets := personal(t, j, c)
	for _, v := range j.values {
		secrets = append(secrets, bizValues(t, v)...)
	}
	for _, n := range j.notes {
		secrets = append(secrets, bizValues(t, json.RawMessage(n.Data))...)
	}
	for _, digits := range append([]string{j.smsCode}, j.pins...) {
		// Six digits alone: a PIN or code written as a value, not as part
		// of a longer number or id.
		if loc := regexp.MustCompile(`(^|[^0-9A-Za-z.])` + digits + `([^0-9A-Za-z]|$)`).FindStringIndex(out); loc != nil {
			t.Errorf("the log holds the six digits %s: …%s…", digits, around(out, loc[0]))
		}
		secrets = append(secrets, hex.EncodeToString([]byte(digits)))
	}
	for _, field := range fieldNames() {
		secrets = append(secrets, `"`+field+`":`, `\"`+field+`\":`) // a biz_content member
	}
	secrets = append(secrets, "biz_content", "PRIVATE KEY")
	for _, s := range secrets {
		if i := strings.Index(out, s); i >= 0 {
			t.Errorf("the log holds %q: …%s…", s, around(out, i))
		}
	}

	for _, link := range j.links {
		q, err := url.Parse(link)
		require.NoError(t, err)
		for _, s := range []string{string(j.p.IDNumber), string(j.p.CardNo), string(j.p.Mobile), string(j.p.Name), url.QueryEscape(string(j.p.Name))} {
			require.NotContains(t, link, s, "personal data never appears in a link")
			require.NotContains(t, q.Query().Encode(), s)
		}
	}
}

// personal lists the journey's personal data and secrets, as they would
// appear if they leaked: clear, and in the forms of key material.
func personal(t *testing.T, j *journey, c *wallet.Client) []string {
	var out []string
	for _, p := range []wallettest.TestPerson{j.p, j.newCard, j.payee} {
		out = append(out, string(p.IDNumber), string(p.CardNo), string(p.Mobile), string(p.Name))
		out = append(out, strings.Trim(strconv.QuoteToASCII(string(p.Name)), `"`)) // \u escaped
	}
	out = append(out, j.token)
	out = append(out, j.pinCiphertexts...)
	// The sandbox's test merchant: the key behind every client of sb.Client.
	key, err := sign.ParsePrivateKey([]byte(sandbox.DefaultMerchantKeyPEM))
	require.NoError(t, err)
	out = append(out, key.Hex())
	d, ok := new(big.Int).SetString(key.Hex(), 16)
	require.True(t, ok)
	out = append(out, d.String())
	pem, err := key.MarshalPEM()
	require.NoError(t, err)
	for _, line := range strings.Split(string(pem), "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

func fieldNames() []string {
	var out []string
	for _, fields := range apiFields {
		out = append(out, fields...)
	}
	return append(out, "trade_no", "refund_no", "verify_token", "sms_serial", "balance", "bound_card")
}

// The values of a real journey, printed with fmt (%v %+v %#v %s %q %x)
// or logged with slog (text and JSON), shows personal data masked: the
// values of a real journey, and pointers to them.
func TestJourneyValuesPrintMasked(t *testing.T) {
	t.Parallel()
	sb := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	c := sb.Client()
	var mu sync.Mutex
	var notes []*notify.Event
	rc := newReceiver(t, mustHandler(t, c, func(_ context.Context, n *notify.Event) error {
		mu.Lock()
		notes = append(notes, n)
		mu.Unlock()
		return nil
	}))
	registerNotifyURL(t, sb, rc.URL+"/notify")
	j := runJourney(t, sb, c, func() []*notify.Event {
		mu.Lock()
		defer mu.Unlock()
		return append([]*notify.Event(nil), notes...)
	})

	p := j.p
	pin, err := c.EncryptPIN(wallettest.TestPIN)
	require.NoError(t, err)
	values := append([]any{}, j.values...)
	for _, n := range j.notes {
		values = append(values, n)
	}
	for _, err := range j.errs {
		values = append(values, err)
	}
	values = append(values,
		p.IDNumber, p.CardNo, p.Mobile, p.Name, wallet.Secret(j.smsCode), wallet.Secret(j.token), pin, wallettest.Face(),
		&wallet.FieldError{Field: "id_number", Reason: "check digit does not match"},
		h5.Common{UserID: p.UserID, ReturnURL: "https://merchant.example/back"},
		h5.Return{Page: "pay", Result: h5.ResultSuccess, OutTradeNo: "T1", Timestamp: time.Now(), SignKeyID: "bank-2026-01"},
	)
	for _, v := range append([]any{}, values...) {
		if rv := reflect.ValueOf(v); rv.Kind() != reflect.Pointer {
			ptr := reflect.New(rv.Type())
			ptr.Elem().Set(rv)
			values = append(values, ptr.Interface()) // merchants log pointers too
		}
	}
	secrets := append(personal(t, j, c), j.smsCode, pin.Ciphertext)
	secrets = append(secrets, j.pins...)
	wallettest.RequireMasked(t, values, secrets...)

	// The client and its configuration hold the merchant's private key:
	// printed, they show its fingerprint only.
	keyOnly := personal(t, &journey{}, c)
	cfg := sb.Config()
	key := cfg.PrivateKey.(*sign.PrivateKey)
	wallettest.RequireMasked(t, []any{c, *c, cfg, c.BankKeys(), key, *key}, keyOnly...)
	t.Logf("%d values of %d types printed and logged masked", len(values), countTypes(values))
}

func countTypes(vs []any) int {
	seen := map[string]bool{}
	for _, v := range vs {
		seen[fmt.Sprintf("%T", v)] = true
	}
	return len(seen)
}

// A request logged inside another value — a field of the merchant's own
// struct, an element of a slice — through slog's JSON handler.
func TestNestedRequestsLogMaskedWithJSON(t *testing.T) {
	// slog's JSON handler consults LogValue only for a top-level attribute;
	// nested values go through encoding/json, so the personal data types
	// mask themselves in MarshalJSON too (the wire uses wallet.MarshalWire).
	p := wallettest.Person()
	pin := wallet.EncryptedPIN{KeyID: "bank-2026-01", Ciphertext: "BASE64PINCIPHERTEXT"}
	transfer := payment.TransferRequest{AccountNo: goodAccount, PayeeAccountNo: goodPayee, PayeeName: p.Name, OutTradeNo: goodTradeNo, Amount: 1, Password: pin}
	verify := account.VerifyRequest{Name: p.Name, IDNumber: p.IDNumber, CardNo: p.CardNo, Mobile: p.Mobile}
	prefill := h5.OpenPage{Common: h5.Common{UserID: p.UserID, ReturnURL: "https://merchant.example/back"}, Name: p.Name, IDNumber: p.IDNumber}
	var buf wallettest.Logs
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("order", "order", struct {
		ID       int
		Transfer payment.TransferRequest
	}{42, transfer})
	log.Info("batch", "reqs", []account.VerifyRequest{verify})
	log.Info("page", "pages", map[string]h5.OpenPage{"open": prefill})
	out := buf.String()
	for _, s := range []string{string(p.Name), string(p.IDNumber), string(p.CardNo), string(p.Mobile), pin.Ciphertext} {
		require.NotContains(t, out, s)
	}
}

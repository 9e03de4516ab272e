package h5site

import (
	"context"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// The site's own pieces, with a bank that only signs. The flows, with the
// sandbox bank behind them, are in flows_test.go (package h5site_test).

// signingBank is a Bank with a clock and a signing key; the operations are
// not there (a test that reaches one panics on the nil interface).
type signingBank struct {
	Operations
	now   time.Time
	keyID string
	key   *sign.PrivateKey
}

func (b *signingBank) Now() time.Time                                 { return b.now }
func (b *signingBank) Merchant(string) (Merchant, bool)               { return Merchant{}, false }
func (b *signingBank) OpenLinkData(_, _, _, _ string) ([]byte, error) { return nil, ErrUnknownKey }
func (b *signingBank) FaceFormat([]byte) *Refusal                     { return nil }
func (b *signingBank) SignReturn(f map[string]string) error {
	f["sign_key_id"] = b.keyID
	sig, err := sign.SignCanonical(context.Background(), b.key, "/return", f)
	f["sign"] = sig
	return err
}

func newSigningSite(t *testing.T) (*Site, *signingBank) {
	t.Helper()
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	b := &signingBank{now: time.Date(2026, 11, 25, 16, 0, 0, 0, wire.Shanghai), keyID: "bank-test", key: k}
	s, err := New(b, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return s, b
}

// TestPageTable: the table is the one place a page is described; every
// page of section 9 is there, with its template, and is consistent.
func TestPageTable(t *testing.T) {
	t.Parallel()
	pages := pageTable()
	require.Len(t, pages, 8)
	for _, name := range pageNames() {
		p := pages[name]
		require.NotNil(t, p, name)
		require.Equal(t, name, p.name)
		require.NotNil(t, p.post, name)
		require.NotEmpty(t, p.title, name)
		_, err := fs.Stat(assets, "assets/"+name+".html")
		require.NoError(t, err, name)
		require.Contains(t, []string{returnsOrder, returnsAccount}, p.returns, name)
		if p.cancel {
			require.NotEmpty(t, p.failHead, name)
		}
		if p.fromWallet {
			require.True(t, p.cancel, "%s: a wallet flow can go back to the wallet", name)
		}
		if p.amount != noAmount {
			require.Equal(t, returnsOrder, p.returns, name)
			require.Contains(t, fieldNames(p), "out_trade_no", name)
		}
		if p.returns == returnsOrder {
			// docs/protocol.md section 9: out_trade_no is required on
			// recharge, withdraw and pay links.
			for _, f := range p.fields {
				if f.name == "out_trade_no" {
					require.True(t, f.required, name)
				}
			}
		}
		if p.smsToHolder {
			require.NotEmpty(t, p.scene, name)
		}
	}
	require.Equal(t, linkOnly, pages["pay"].amount)
	require.Equal(t, linkOrTyped, pages["recharge"].amount)
	require.True(t, pages["open"].data)
	require.False(t, pages["wallet"].cancel)
}

func fieldNames(p *page) []string {
	var out []string
	for _, f := range p.fields {
		out = append(out, f.name)
	}
	return out
}

// A return_url whose query has names of the signed fields: they are
// dropped, never doubled; the merchant's own parameters stay byte for
// byte, a ";" included; the signature covers exactly app_id, merchant_id,
// page, result, out_trade_no or account_no, timestamp, sign_key_id and
// sign_type.
func TestReturnURL(t *testing.T) {
	t.Parallel()
	s, b := newSigningSite(t)
	l := &link{page: s.pages["pay"], appID: "app-1", merchantID: "M1",
		returnURL: "https://m.example/back?a=1&page=x&account_no=9&order=42;x=1&b=%E4%B8%AD+c&app_id=evil&sign=zz#frag"}
	to, err := s.returnURL(l, resultSuccess, "T123456", "")
	require.NoError(t, err)
	u, err := url.Parse(to)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(u.RawQuery, "a=1&order=42;x=1&b=%E4%B8%AD+c&"), u.RawQuery)
	require.Equal(t, "frag", u.Fragment)
	signed := map[string]string{}
	for _, part := range strings.Split(u.RawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k == "a" || k == "order" || k == "b" {
			continue
		}
		v, err := url.QueryUnescape(v)
		require.NoError(t, err)
		_, twice := signed[k]
		require.False(t, twice, k)
		signed[k] = v
	}
	sig := signed["sign"]
	delete(signed, "sign")
	require.Equal(t, map[string]string{"app_id": "app-1", "merchant_id": "M1", "page": "pay", "result": "SUCCESS",
		"out_trade_no": "T123456", "timestamp": "2026-11-25 16:00:00", "sign_key_id": "bank-test", "sign_type": "SM2"}, signed)
	require.NoError(t, b.key.Public().VerifyCanonical("/return", signed, sig))

	// An account page returns account_no, not out_trade_no.
	l = &link{page: s.pages["close"], appID: "app-1", merchantID: "M1", returnURL: "http://127.0.0.1:9/back"}
	to, err = s.returnURL(l, resultCancelled, "", "6236880000000001")
	require.NoError(t, err)
	u, _ = url.Parse(to)
	require.Equal(t, "6236880000000001", u.Query().Get("account_no"))
	require.Empty(t, u.Query()["out_trade_no"])
}

func TestAmounts(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"1": 100, "0.01": 1, "12.3": 1230, "¥ 1,234.56": 123456, " 7.00 ": 700, "90071992547409.91": 9007199254740991} {
		got, ok := parseYuan(in)
		require.True(t, ok, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "0", "0.00", "1.234", "1.", ".5", "-1", "1e3", "abc", "１２", "999999999999999"} {
		_, ok := parseYuan(in)
		require.False(t, ok, in)
	}
	for fen, want := range map[int64]string{0: "0.00", 1: "0.01", 990: "9.90", 123456: "1,234.56", 100000000: "1,000,000.00"} {
		require.Equal(t, want, yuan(fen))
	}
	for _, bad := range []string{"0", "01", "1.5", "-5", "9007199254740992", "", "1e3"} {
		require.Error(t, amountRule(bad), bad)
	}
	require.NoError(t, amountRule("9007199254740991"))
}

// TestNoncesForgotten: a nonce is remembered while its link could be
// valid, and no longer.
func TestNoncesForgotten(t *testing.T) {
	t.Parallel()
	n := newNonces()
	at := time.Date(2026, 11, 25, 16, 0, 0, 0, wire.Shanghai)
	require.True(t, n.spend("a", "n1", at.Add(linkTTL), at))
	require.False(t, n.spend("a", "n1", at.Add(linkTTL), at))
	require.True(t, n.spend("b", "n1", at.Add(linkTTL), at), "per app")
	later := at.Add(linkTTL + time.Minute)
	require.True(t, n.spend("a", "n2", later.Add(linkTTL), later))
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Len(t, n.used, 1, "the nonces of expired links are forgotten")
}

// TestPrefillDecoding: the open page's data is one object of the four
// fields, strings, each once, names exact.
func TestPrefillDecoding(t *testing.T) {
	t.Parallel()
	var p prefill
	require.NoError(t, decodePrefill([]byte(`{"name":"张三","id_number":"x","mobile":"m","card_no":"c"}`), &p))
	require.Equal(t, prefill{Name: "张三", IDNumber: "x", Mobile: "m", CardNo: "c"}, p)
	for _, bad := range []string{`{"Name":"a"}`, `{"name":1}`, `{"name":null}`, `{"name":"a","name":"b"}`, `[]`, `"x"`,
		`{"name":"a"} {}`, `{"age":"3"}`, ``} {
		require.Error(t, decodePrefill([]byte(bad), &prefill{}), bad)
	}
}

// TestReadForm: the driver reads a page's form as a browser holds it.
func TestReadForm(t *testing.T) {
	t.Parallel()
	f, err := readForm(`<form method="post" action="/h5/s/ab/open?x=1&amp;y=2" enctype="multipart/form-data" class="flow">
<input id="name" name="name" type="text" value="张&amp;三">
<input id="pin" name="pin" type="password" class="pin">
<input id="face" type="file" name="face">
<input id="amount" name="amount" type="text" value="50.00" readonly aria-readonly="true">
</form><input name="outside" value="x">`)
	require.NoError(t, err)
	require.Equal(t, "/h5/s/ab/open?x=1&y=2", f.action)
	require.True(t, f.multipart)
	require.Equal(t, map[string]string{"name": "张&三", "amount": "50.00"}, f.values)
	require.True(t, f.readonly["amount"])
	require.False(t, f.readonly["name"])
	_, err = readForm("<p>no form</p>")
	require.Error(t, err)
}

package sandbox

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The bank is no signing oracle (docs/protocol.md, sections 2 and 3.2): it
// signs only for well-formed paths taken as sent, echoes app_id and msg_id
// only when it validated them, and never copies request input into msg.

// rawCall sends body to the raw request target (path as sent, escapes
// kept) in process and returns the status and the answer's fields, nil
// when the body is not a flat JSON object of strings.
func rawCall(t testing.TB, h http.Handler, method, target string, body []byte) (int, map[string]string, []byte) {
	t.Helper()
	// Built by hand, not by httptest.NewRequest, which refuses targets
	// that a sender can still put on the wire ("/%").
	req := &http.Request{Method: method, RequestURI: target, URL: &url.URL{Path: target},
		Host: "127.0.0.1:8360", Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}},
		Body: io.NopCloser(bytes.NewReader(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var fields map[string]string
	if json.Unmarshal(rec.Body.Bytes(), &fields) != nil {
		fields = nil
	}
	return rec.Code, fields, rec.Body.Bytes()
}

// TestMalformedAPIPathsAreNotSigned: a path of any other form than
// /api/v1/ + segments of a-z and _ gets HTTP 404 with an unsigned body,
// whatever it decodes to, in process and over a real connection.
func TestMalformedAPIPathsAreNotSigned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := httptest.NewServer(f.bank)
	t.Cleanup(srv.Close)
	body := f.c.body(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
	for _, target := range []string{
		"/api/v1/wallet%3Fquery",                       // %3F is not ?
		"/api/v1/wallet/query%3Fcode%3DSUCCESS",        // nor is %3D =
		"/api/v1/wallet/query%26code%3DSUCCESS",        // nor %26 &
		"/api/v1/wallet%2Fquery",                       // nor %2F /
		"/api/v1/wallet/qu%65ry",                       // an escaped letter is still an escape
		"/api/v1/wallet/query%00",                      // NUL
		"/api/v1/Wallet/query",                         // uppercase
		"/api/v1/wallet//query",                        // empty segment
		"/api/v1/wallet/query/",                        // trailing slash
		"/api/v1/",                                     // no segment
		"/api/v1/../v1/wallet/query",                   // dot segments
		"/api/v1/wallet/./query",                       //
		"/api/v1/wallet/query;x=1",                     // path parameters
		"/api/v1/wallet-query",                         // other characters
		"/api/v1/wallet2/query",                        // digits
		"/api/v1/wallet/query&code=SUCCESS",            // a literal & in the path
		"/api/v1/wallet/query=x",                       // a literal =
		"/b%61nk/api/v1/wallet/query",                  // an escaped mount prefix
		"/a&b=c/api/v1/wallet/query",                   // a mount prefix with & and =
		"/api/v1/wallet/%E4%B8%AD",                     // non-ASCII
		"/api/v1/wallet/query%3Fmsg%3Dhello%26code%3D", // the attack itself
	} {
		for _, via := range []string{"process", "http"} {
			var status int
			var raw []byte
			if via == "process" {
				status, _, raw = rawCall(t, f.bank, http.MethodPost, target, body)
			} else {
				resp, err := http.Post(srv.URL+target, "application/json", bytes.NewReader(body))
				require.NoError(t, err, target)
				status = resp.StatusCode
				raw = readAll(t, resp)
			}
			require.Equal(t, http.StatusNotFound, status, "%s %s: %s", via, target, raw)
			var m map[string]any
			require.NoError(t, json.Unmarshal(raw, &m), target)
			require.NotContains(t, m, "sign", "%s %s: unsigned", via, target)
			require.NotContains(t, m, "code", target)
			require.NotEmpty(t, m["error"], target)
			require.NotContains(t, string(raw), "SUCCESS", target)
		}
	}
	// The well-formed path itself works, also under a plain mount prefix
	// and with a query string (which is not part of the path).
	for _, target := range []string{walletQuery, "/bank/gw" + walletQuery, walletQuery + "?x=1"} {
		body := f.c.body(&treq{path: walletQuery, biz: bizJSON(t, walletQueryBiz())})
		status, fields, raw := rawCall(t, f.bank, http.MethodPost, target, body)
		require.Equal(t, http.StatusOK, status, target)
		require.Equal(t, codeSuccess, fields["code"], "%s: %s", target, raw)
	}
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err := b.ReadFrom(resp.Body)
	require.NoError(t, err)
	return b.Bytes()
}

// TestWellFormedUnservedPathIsSignedNotFound: a path of the signed form
// that names no API gets the signed API_NOT_FOUND, whose msg does not
// repeat the path.
func TestWellFormedUnservedPathIsSignedNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, path := range []string{"/api/v1/wallet/delete", "/api/v1/x", "/api/v1/zq_attacker/text_here/more"} {
		r := f.c.do(&treq{path: path, biz: bizJSON(t, walletQueryBiz())})
		require.Equal(t, codeAPINotFound, r.code, path)
		require.Equal(t, defaultMessage(codeAPINotFound), r.msg)
		require.Equal(t, DefaultAppID, r.fields["app_id"])
	}
	// A GET with a method of the sender's choosing: signed, fixed text.
	for _, method := range []string{http.MethodGet, "X&code=SUCCESS", "PUT"} {
		req := httptest.NewRequest(http.MethodGet, walletQuery, nil)
		req.Method = method
		rec := httptest.NewRecorder()
		f.bank.ServeHTTP(rec, req)
		out := &tresp{}
		require.NoError(t, f.c.open(walletQuery, "", rec.Body.Bytes(), out), method)
		require.Equal(t, codeAPINotFound, out.code)
		require.Equal(t, "APIs take POST", out.msg)
	}
}

// TestEchoOraclesClosed: app_id is echoed only for a registered app and
// msg_id only in its protocol form; a value with & or = in it comes back
// as "", under a valid signature.
func TestEchoOraclesClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	set := func(k, v string) func(map[string]string) { return func(m map[string]string) { m[k] = v } }
	for name, tc := range map[string]struct {
		req          treq
		code         string
		appID, msgID bool // echoed
	}{
		"unregistered app_id with & and =": {req: treq{before: set("app_id", "x&code=SUCCESS&msg=ok")}, code: codeAppInvalid, msgID: true},
		"unregistered plausible app_id":    {req: treq{before: set("app_id", "other-app")}, code: codeAppInvalid, msgID: true},
		"bad msg_id":                       {req: treq{msgID: "0123&code=SUCCESS"}, code: codeParamInvalid, appID: true},
		"uppercase msg_id":                 {req: treq{msgID: strings.ToUpper(newMsgID())}, code: codeParamInvalid, appID: true},
		"both bad":                         {req: treq{msgID: "m=1", before: set("app_id", "a=1")}, code: codeParamInvalid},
		"registered app, good msg_id":      {req: treq{before: set("merchant_id", "M&x=1")}, code: codePermissionDenied, appID: true, msgID: true},
	} {
		tc.req.path = walletQuery
		tc.req.biz = bizJSON(t, walletQueryBiz())
		msgID := tc.req.msgID
		r := f.c.on(t).send(&tc.req)
		require.Equal(t, http.StatusOK, r.status, name)
		// Verified with the expected msg_id even where none is echoed.
		out := &tresp{}
		require.NoError(t, f.c.open(walletQuery, tc.req.msgID, r.raw, out), name)
		require.Equal(t, tc.code, out.code, "%s: %s", name, out.msg)
		if tc.appID {
			require.Equal(t, DefaultAppID, out.fields["app_id"], name)
		} else {
			require.Empty(t, out.fields["app_id"], name)
		}
		if tc.msgID {
			require.Equal(t, tc.req.msgID, out.fields["msg_id"], name)
		} else {
			require.Empty(t, out.fields["msg_id"], name)
			require.NotEmpty(t, msgID, name)
		}
		for _, v := range out.fields {
			if v == out.fields["sign"] || v == out.fields["timestamp"] {
				continue
			}
			require.NotContains(t, v, "&", "%s: no value of the answer holds the sender's &", name)
			require.NotContains(t, v, "=", name)
		}
	}
}

// TestMsgNeverCopiesInput: whatever the sender puts in the method, the
// path, a member name or a value, msg is the bank's own text.
func TestMsgNeverCopiesInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	const mark = "zqxmark"
	evil := mark + "&code=SUCCESS&msg=" + mark
	set := func(k, v string) func(map[string]string) { return func(m map[string]string) { m[k] = v } }
	cases := map[string]treq{
		"envelope member name, twice":  {rawBody: []byte(`{"` + evil + `":"a","` + evil + `":"b"}`)},
		"envelope member name, number": {rawBody: []byte(`{"` + evil + `":1}`)},
		"envelope value, number":       {rawBody: []byte(`{"app_id":"` + evil + `","version":7}`)},
		"version":                      {before: set("version", evil)},
		"sign_type":                    {before: set("sign_type", evil)},
		"timestamp":                    {before: set("timestamp", evil)},
		"encrypt_type":                 {before: set("encrypt_type", evil)},
		"encrypt_key_id":               {before: set("encrypt_key_id", evil)},
		"merchant_id":                  {before: set("merchant_id", evil)},
		"app_id":                       {before: set("app_id", evil)},
		"unknown envelope member":      {after: set(evil, evil)},
		"unknown biz member":           {biz: []byte(`{"account_no":"` + acct + `","` + evil + `":"x"}`)},
		"unknown biz member, twice":    {biz: []byte(`{"` + evil + `":"x","` + evil + `":"y"}`)},
		"biz member wrong type":        {biz: []byte(`{"account_no":7}`)},
		"biz value":                    {biz: []byte(`{"account_no":"` + evil + `"}`)},
		"biz not an object":            {biz: []byte(`"` + evil + `"`)},
		"unserved path":                {path: "/api/v1/" + mark + "_path"},
	}
	for name, req := range cases {
		if req.path == "" {
			req.path = queryPath
		}
		if req.biz == nil {
			req.biz = bizJSON(t, map[string]any{"account_no": acct})
		}
		r := f.c.on(t).send(&req)
		require.Equal(t, http.StatusOK, r.status, name)
		require.NoError(t, r.verifyErr, name)
		require.NotEqual(t, codeSuccess, r.code, name)
		require.NotContains(t, r.msg, mark, "%s: %s", name, r.msg)
		require.NotContains(t, r.msg, "&", name)
		require.NotContains(t, r.msg, "=", name)
	}
}

// TestResplitAnswersDoNotVerify: a signed answer whose values hold & and =
// (a subject in biz_content, base64 padding) cannot be read as another
// field set: every re-split that the old, unescaped canonical string
// could not tell apart from the original fails verification.
func TestResplitAnswersDoNotVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	acct, _ := f.newAccount()
	f.recharge(f.c, acct, 1_000)
	pay := f.payArgs(f.c, acct, 100)
	pay["subject"] = "会员&c=x=y&zz=1"
	f.c.ok(payPath, pay)

	type signed struct {
		path   string
		fields map[string]string
	}
	var all []signed
	// A plain answer whose biz_content holds the subject, an encrypted one
	// (base64 with padding), and an error.
	r := f.c.do(&treq{path: orderQueryPath, plain: true, biz: bizJSON(t, map[string]any{"out_trade_no": pay["out_trade_no"]})})
	require.Contains(t, r.fields["biz_content"], "会员&c=x=y&zz=1")
	all = append(all, signed{orderQueryPath, r.fields})
	r = f.c.ok(orderQueryPath, map[string]any{"out_trade_no": pay["out_trade_no"]})
	all = append(all, signed{orderQueryPath, r.fields})
	r = f.c.fails(codeOrderNotFound, orderQueryPath, map[string]any{"out_trade_no": "T-none-1"})
	all = append(all, signed{orderQueryPath, r.fields})

	collisions := 0
	for _, s := range all {
		key := f.c.bankKeys[s.fields["sign_key_id"]]
		sig := s.fields["sign"]
		fields := maps2(s.fields)
		delete(fields, "sign")
		require.NoError(t, key.VerifyCanonical(s.path, fields, sig), "the original verifies")
		for _, alt := range resplits(fields) {
			if oldCanonical(s.path, alt) != oldCanonical(s.path, fields) {
				continue
			}
			collisions++
			require.Error(t, key.VerifyCanonical(s.path, alt, sig), "re-split %v verified", alt)
		}
	}
	require.Positive(t, collisions, "the table holds answers that the unescaped rule could not tell from a re-split")
}

func maps2(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// oldCanonical is the canonical string before 2026-11-30: no escapes, so
// & and = inside a value read as separators.
func oldCanonical(path string, fields map[string]string) string {
	var parts []string
	for k, v := range fields {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	slices.Sort(parts)
	return path + "?" + strings.Join(parts, "&")
}

// resplits are the field sets that move a separator inside one value: the
// tail after an & becomes a field of its own, or an = moves the boundary
// between key and value.
func resplits(fields map[string]string) []map[string]string {
	var out []map[string]string
	for k, v := range fields {
		for i := 0; i < len(v); i++ {
			switch v[i] {
			case '&':
				k2, v2, ok := strings.Cut(v[i+1:], "=")
				if !ok || k2 == "" {
					continue
				}
				alt := maps2(fields)
				alt[k] = v[:i]
				if _, taken := alt[k2]; taken {
					continue
				}
				alt[k2] = v2
				out = append(out, alt)
			case '=':
				alt := maps2(fields)
				delete(alt, k)
				alt[k+"="+v[:i]] = v[i+1:]
				out = append(out, alt)
			}
		}
	}
	return out
}

// bankText is every string literal of the bank's source (this package and
// internal/rules): what msg may be made of. A window of the sender's input
// that occurs here is the bank's own text as well, and proves no copy.
func bankText(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, dir := range []string{".", filepath.Join("..", "rules")} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
			require.NoError(t, err)
			ast.Inspect(file, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil {
						b.WriteString(s)
						b.WriteByte(0)
					}
				}
				return true
			})
		}
	}
	return b.String()
}

// copiedInput returns a window of more than 3 bytes of one of the inputs
// that msg holds and that is not the bank's own text, or "".
func copiedInput(msg, own string, inputs ...string) string {
	for _, in := range inputs {
		for i := 0; i+4 <= len(in); i++ {
			w := in[i : i+4]
			if !strings.Contains(msg, w) || strings.Contains(own, w) || numeric(w) {
				continue
			}
			return w
		}
	}
	return ""
}

// numeric reports whether w is digits, spaces and separators only: the
// bank writes numbers of its own (tries left, lengths, limits) that a
// sender may happen to type too.
func numeric(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i]; !(c >= '0' && c <= '9' || c == ' ' || c == ',' || c == '.') {
			return false
		}
	}
	return true
}

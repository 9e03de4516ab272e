package sign_test

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// parseCanonical inverts Canonical: it splits at the first "?" (a signed
// path never holds one), then at every "&" and the first "=" of each pair,
// and undoes the three escapes. A function with a left inverse is
// injective, so two field sets that differ never give the same string.
func parseCanonical(t *testing.T, s string) (string, map[string]string) {
	t.Helper()
	path, rest, ok := strings.Cut(s, "?")
	if !ok {
		t.Fatalf("no ? in %q", s)
	}
	fields := map[string]string{}
	if rest == "" {
		return path, fields
	}
	for _, pair := range strings.Split(rest, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.Contains(v, "=") {
			t.Fatalf("pair %q does not split once at =", pair)
		}
		fields[unescape(t, k)] = unescape(t, v)
	}
	return path, fields
}

func unescape(t *testing.T, s string) string {
	t.Helper()
	r := strings.NewReplacer("%25", "%", "%26", "&", "%3D", "=")
	out := r.Replace(s)
	// Every "%" left in s must have been one of the three escapes.
	if strings.Count(s, "%") != strings.Count(s, "%25")+strings.Count(s, "%26")+strings.Count(s, "%3D") {
		t.Fatalf("%q holds a bare %%", s)
	}
	return out
}

// signedFields is what Canonical covers: no "sign", no empty values.
func signedFields(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != "sign" && v != "" {
			out[k] = v
		}
	}
	return out
}

// fieldsFrom makes a field set from fuzz bytes: pairs separated by 0x00,
// key and value by 0x01, so that keys and values can hold any other byte,
// "&", "=" and "%" included.
func fieldsFrom(data []byte) map[string]string {
	m := map[string]string{}
	for _, pair := range bytes.Split(data, []byte{0}) {
		k, v, _ := bytes.Cut(pair, []byte{1})
		m[string(k)] = string(v)
	}
	return m
}

func FuzzCanonicalInjective(f *testing.F) {
	var cases []vectors.CanonicalCase
	if err := vectors.Load("canonical.json", &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		var b []byte
		for k, v := range c.Fields {
			b = append(append(append(append(b, k...), 1), v...), 0)
		}
		f.Add(b, []byte("code\x01APP_INVALID\x00msg\x01x&code=SUCCESS"))
	}
	f.Add([]byte("a\x01b&c=d"), []byte("a\x01b\x00c\x01d"))
	f.Add([]byte("a\x01%26"), []byte("a\x01&"))
	f.Fuzz(func(t *testing.T, x, y []byte) {
		const path = "/api/v1/payment/query"
		a, b := fieldsFrom(x), fieldsFrom(y)
		ca, cb := sign.Canonical(path, a), sign.Canonical(path, b)
		for _, m := range []map[string]string{a, b} {
			c := sign.Canonical(path, m)
			if p, got := parseCanonical(t, c); p != path || !maps.Equal(got, signedFields(m)) {
				t.Fatalf("canonical %q does not parse back to its fields", c)
			}
		}
		if ca == cb && !maps.Equal(signedFields(a), signedFields(b)) {
			t.Fatalf("two field sets give one canonical string %q", ca)
		}
	})
}

// TestCanonicalOldCollision is the pair that collided before the escapes:
// an error answer whose msg re-split into a SUCCESS code.
func TestCanonicalOldCollision(t *testing.T) {
	const path = "/api/v1/payment/query"
	forged := map[string]string{"code": "APP_INVALID", "msg": "x&code=SUCCESS"}
	genuine := map[string]string{"code": "SUCCESS", "msg": "x", "code2": ""}
	if sign.Canonical(path, forged) == sign.Canonical(path, genuine) {
		t.Fatal("the old collision is back")
	}
	if got := sign.Canonical(path, forged); got != "/api/v1/payment/query?code=APP_INVALID&msg=x%26code%3DSUCCESS" {
		t.Fatalf("got %q", got)
	}
}

// TestCanonicalLargeValues checks the streaming path for values larger
// than the write chunk: SignCanonical over it must verify against the
// canonical string built in one piece, whatever bytes it escapes.
func TestCanonicalLargeValues(t *testing.T) {
	k, err := sign.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("AbC+/", 700) // 3500 bytes
	for _, v := range []string{big, big + "==", "=" + big + "&" + big + "%", strings.Repeat("=", 3000),
		strings.Repeat("a%b&c=", 1000), strings.Repeat("&&%==", 700) + big} {
		fields := map[string]string{"biz_content": v, "msg_id": "m&=%", "x": "1"}
		sig, err := sign.SignCanonical(ctx, k, "/api/v1/account/open", fields)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Public().Verify([]byte(sign.Canonical("/api/v1/account/open", fields)), sig); err != nil {
			t.Fatalf("streamed and built canonical strings differ for a value of %d bytes", len(v))
		}
		_, got := parseCanonical(t, sign.Canonical("/api/v1/account/open", fields))
		if !maps.Equal(got, fields) {
			t.Fatal("large value does not parse back")
		}
	}
}

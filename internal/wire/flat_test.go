package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/wire"
)

func TestParseFlat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want map[string]string
	}{
		{`{}`, map[string]string{}},
		{" \t\r\n{ } \n", map[string]string{}},
		{`{"a":"1","b":""}`, map[string]string{"a": "1", "b": ""}},
		{`{"名":"张三","e":"\"\\\/\b\f\n\r\t"}`, map[string]string{"名": "张三", "e": "\"\\/\b\f\n\r\t"}},
		{`{"u":"\u5f20\u00e9\u0000\ud83d\ude00x"}`, map[string]string{"u": "张é\x00😀x"}},
		{`{ "k" : "v" , "k2" : "v2" }`, map[string]string{"k": "v", "k2": "v2"}},
	} {
		got, err := wire.ParseFlat([]byte(tc.in))
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
	for _, tc := range []struct {
		in   string
		name string
		err  error
	}{
		{``, "", wire.ErrNotFlat},
		{`[]`, "", wire.ErrNotFlat},
		{`{`, "", wire.ErrNotFlat},
		{`{"a":"1"`, "", wire.ErrNotFlat},
		{`{"a":"1",}`, "", wire.ErrNotFlat},
		{`{"a":"1"}{}`, "", wire.ErrNotFlat},
		{`{"a":"1"} x`, "", wire.ErrNotFlat},
		{`{"a":1}`, "a", wire.ErrNotFlat},
		{`{"a":null}`, "a", wire.ErrNotFlat},
		{`{"a":{"b":"c"}}`, "a", wire.ErrNotFlat},
		{`{"a" "1"}`, "a", wire.ErrNotFlat},
		{`{a:"1"}`, "", wire.ErrNotFlat},
		{"{\"a\":\"\x01\"}", "a", wire.ErrNotFlat},
		{"{\"a\":\"\xff\"}", "a", wire.ErrNotFlat},
		{"{\"a\":\"\\n\xff\"}", "a", wire.ErrNotFlat},
		{`{"a":"\x"}`, "a", wire.ErrNotFlat},
		{`{"a":"\u12"}`, "a", wire.ErrNotFlat},
		{`{"a":"\ud83d"}`, "a", wire.ErrNotFlat},
		{`{"a":"\ude00"}`, "a", wire.ErrNotFlat},
		{`{"a":"\ud83d\u0041"}`, "a", wire.ErrNotFlat},
		{`{"sign":"x","sign":"y"}`, "sign", wire.ErrDuplicate},
		{`{"a":"1","b":"2","a":"1"}`, "a", wire.ErrDuplicate},
	} {
		_, err := wire.ParseFlat([]byte(tc.in))
		require.ErrorIs(t, err, tc.err, tc.in)
		var fe *wire.FlatError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, tc.name, fe.Name, tc.in)
	}
}

// loneSurrogate finds an escaped surrogate; whether it is paired is left
// to encoding/json's reading, which turns a lone one into U+FFFD.
var escapedSurrogate = regexp.MustCompile(`(?i)\\u d[89a-f]`)

// FuzzParseFlat holds ParseFlat to encoding/json: what it accepts,
// encoding/json reads to the same map; what it refuses, encoding/json
// refuses too, or it has a name twice, invalid UTF-8, or an escaped
// surrogate (the three things ParseFlat refuses on purpose).
func FuzzParseFlat(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"1","b":"\u00e9\n"}`, `{"a":"1","a":"2"}`, `{"a":1}`, `{"a":"\ud83d\ude00"}`,
		`{"app_id":"sandbox-app","biz_content":"eyJ4IjoxfQ==","sign":"MEUCIQ"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		// Members: what it accepts is a JSON object of as many scalars.
		n := 0
		if wire.Members(body, func(string, wire.Value) error { n++; return nil }) == nil {
			var all map[string]any
			if err := json.Unmarshal(body, &all); err != nil || len(all) != n {
				t.Fatalf("Members accepted %d members of %q; encoding/json: %v, %d", n, body, err, len(all))
			}
			for k, v := range all {
				switch v.(type) {
				case map[string]any, []any:
					t.Fatalf("Members accepted a nested value for %q", k)
				}
			}
		}
		got, err := wire.ParseFlat(body)
		var want map[string]string
		jerr := json.Unmarshal(body, &want)
		if err == nil {
			if jerr != nil {
				t.Fatalf("ParseFlat accepted what encoding/json refuses (%v): %q", jerr, body)
			}
			if len(got) != len(want) {
				t.Fatalf("maps differ: %q\n%v\n%v", body, got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("%q: %q, encoding/json %q", k, got[k], v)
				}
			}
			return
		}
		if !errors.Is(err, wire.ErrNotFlat) && !errors.Is(err, wire.ErrDuplicate) {
			t.Fatalf("unknown error %v", err)
		}
		if jerr == nil && !errors.Is(err, wire.ErrDuplicate) && utf8.Valid(body) &&
			!escapedSurrogate.Match(bytes.ReplaceAll(body, []byte(`\u`), []byte(`\u `))) && want != nil {
			t.Fatalf("ParseFlat refused (%v) what encoding/json reads: %q", err, body)
		}
	})
}

func TestMembers(t *testing.T) {
	var got []string
	err := wire.Members([]byte(`{"s":"a\u00e9","n":-12.5e+3,"z":0,"t":true,"f":false,"x":null}`), func(name string, v wire.Value) error {
		got = append(got, fmt.Sprintf("%s=%s/%v", name, v.Text, v.String))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"s=aé/true", "n=-12.5e+3/false", "z=0/false", "t=true/false", "f=false/false", "x=null/false"}, got)

	for _, bad := range []string{`{"n":01}`, `{"n":1.}`, `{"n":-}`, `{"n":1e}`, `{"n":.5}`, `{"n":+1}`, `{"b":tru}`, `{"o":[]}`, `{"o":{}}`} {
		err := wire.Members([]byte(bad), func(string, wire.Value) error { return nil })
		require.ErrorIs(t, err, wire.ErrNotFlat, bad)
	}
	stop := errors.New("stop")
	err = wire.Members([]byte(`{"a":"1","b":2}`), func(name string, v wire.Value) error {
		if name == "b" {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	var fe *wire.FlatError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, "b", fe.Name)
}

// More names than the parser scans linearly: duplicates are still found.
func TestParseFlatManyNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&b, `"k%d":"v",`, i)
	}
	ok := b.String() + `"last":"v"}`
	m, err := wire.ParseFlat([]byte(ok))
	require.NoError(t, err)
	require.Len(t, m, 41)
	for _, dup := range []string{"k3", "k20", "k39"} {
		_, err = wire.ParseFlat([]byte(b.String() + `"` + dup + `":"again"}`))
		require.ErrorIs(t, err, wire.ErrDuplicate, dup)
	}
}

package envelope

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestEncodeInPlaceMatchesTheStandardEncoder(t *testing.T) {
	for n := 0; n < 600; n++ {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(i*131 + n*7)
		}
		m := base64.StdEncoding.EncodedLen(n)
		buf := make([]byte, m)
		copy(buf[m-n:], src)
		encodeInPlace(buf, m-n)
		if got, want := string(buf), base64.StdEncoding.EncodeToString(src); got != want {
			t.Fatalf("n=%d: got %q, want %q", n, got, want)
		}
	}
}

// identity "wraps" the key in clear, so that the test can open what it
// sealed without SM2.
func identity(key []byte) ([]byte, error) { return append([]byte(nil), key...), nil }

func TestSealAppendInPlace(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 100, 1 << 20} {
		pt := bytes.Repeat([]byte{'z'}, n)
		prefix := []byte(`{"biz_content":"`)
		dst := make([]byte, len(prefix), len(prefix)+SealedLen(n))
		copy(dst, prefix)
		ek, out, err := SealAppend(dst, identity, pt, "aad")
		if err != nil {
			t.Fatal(err)
		}
		if string(out[:len(prefix)]) != string(prefix) || len(out) != len(prefix)+SealedLen(n) {
			t.Fatalf("n=%d: prefix or length wrong", n)
		}
		if &dst[0] != &out[0] {
			t.Fatalf("n=%d: reallocated although dst had room", n)
		}
		key, _ := base64.StdEncoding.DecodeString(ek)
		sealed, _ := base64.StdEncoding.DecodeString(string(out[len(prefix):]))
		got, err := OpenBody(key, sealed, "aad")
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("n=%d: does not open to the plaintext: %v", n, err)
		}
		again, _ := base64.StdEncoding.DecodeString(string(out[len(prefix):]))
		if _, err := OpenBody(key, again, "other"); err == nil {
			t.Fatalf("n=%d: opens under another aad", n)
		}
	}
	// Without room it still works, by growing dst.
	ek, out, err := SealAppend(nil, identity, []byte("x"), "a")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := base64.StdEncoding.DecodeString(ek)
	sealed, _ := base64.StdEncoding.DecodeString(string(out))
	if got, err := OpenBody(key, sealed, "a"); err != nil || string(got) != "x" {
		t.Fatalf("got %q, %v", got, err)
	}
}

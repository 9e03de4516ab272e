package statement

import (
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWordChecks holds the eight-bytes-at-a-time checks of splitPlain to
// the byte-at-a-time definitions, on random words and on every byte value
// in every position.
func TestWordChecks(t *testing.T) {
	check := func(x uint64) {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], x)
		wantSpecial := false
		var wantCommas uint64
		for i, c := range b {
			if special[c] {
				wantSpecial = true
			}
			if c == ',' {
				wantCommas |= 0x80 << (8 * i)
			}
		}
		if got := specialByte(x); got != wantSpecial {
			t.Fatalf("specialByte(%#x) = %v", x, got)
		}
		if got := zeroBytes(x ^ (ones * ',')); got != wantCommas {
			t.Fatalf("commas of %#x: %#x, want %#x", x, got, wantCommas)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200_000; i++ {
		x := rng.Uint64()
		check(x)
		check(x & lows)                 // ASCII only
		check(x&lows | ones*0x20&^lows) // printable-ish
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			base := uint64(ones * 'a')
			check(base&^(0xff<<(8*pos)) | uint64(c)<<(8*pos))
			check(uint64(ones*',')&^(0xff<<(8*pos)) | uint64(c)<<(8*pos))
		}
	}
}

func TestSplitPlain(t *testing.T) {
	c := &csvReader{}
	for _, line := range []string{"", "a", ",", "a,b", "0123456789,abcdefgh,ij", strings.Repeat("x,", 9) + "y"} {
		if !c.splitPlain([]byte(line)) {
			t.Fatalf("%q not plain", line)
		}
		if got := strings.Join(c.fields, ","); got != line || len(c.fields) != strings.Count(line, ",")+1 {
			t.Fatalf("%q split into %q", line, c.fields)
		}
	}
	for _, line := range []string{"a\"b", "abcdefgh\x01", "é,a", "abc\x7f", strings.Repeat(",", 20)} {
		if c.splitPlain([]byte(line)) {
			t.Fatalf("%q taken for plain", line)
		}
	}
}

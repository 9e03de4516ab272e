// Package envelope is the body cipher of the protocol: a fresh 16-byte SM4
// key wrapped for the recipient (the caller supplies the SM2 wrapping) and
// the body sealed with SM4-GCM, 12-byte nonce, 16-byte tag, base64 of
// nonce‖ciphertext‖tag. Package sign builds its public Seal and Open on it;
// the client seals request bodies straight into the request buffer with
// SealAppend.
package envelope

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"github.com/emmansun/gmsm/sm4"
)

const (
	// KeySize is the size of the SM4 key a body is sealed under.
	KeySize = 16
	// NonceSize is the SM4-GCM nonce size of the protocol.
	NonceSize = 12
	// TagSize is the SM4-GCM tag size.
	TagSize = 16
)

var b64 = base64.StdEncoding.Strict()

// NewGCM returns SM4-GCM with the protocol's 12-byte nonce under key.
func NewGCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(block, NonceSize)
}

// SealedLen is how many bytes SealAppend appends for a plaintext of n
// bytes: the base64 length of nonce‖ciphertext‖tag.
func SealedLen(n int) int { return b64.EncodedLen(NonceSize + n + TagSize) }

// SealAppend makes a fresh SM4 key, wraps it with wrap (SM2 encryption to
// the recipient) into encryptKey (base64), and appends the base64 of
// nonce‖SM4-GCM(plaintext, aad)‖tag to dst. When dst has
// SealedLen(len(plaintext)) bytes of spare capacity, the ciphertext is made
// in that room and base64-encoded in place: a 1 MiB face image costs one
// copy of its ciphertext, not four.
func SealAppend(dst []byte, wrap func(key []byte) ([]byte, error), plaintext []byte, aad string) (encryptKey string, out []byte, err error) {
	var key [KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", dst, err
	}
	ek, err := wrap(key[:])
	if err != nil {
		return "", dst, err
	}
	aead, err := NewGCM(key[:])
	if err != nil {
		return "", dst, err
	}
	var nonce [NonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", dst, err
	}
	n := NonceSize + len(plaintext) + TagSize
	m := b64.EncodedLen(n)
	dst = slices.Grow(dst, m)
	region := dst[len(dst) : len(dst)+m]
	// The raw nonce‖ciphertext‖tag goes at the end of the region, where the
	// forward base64 pass never overtakes it (see encodeInPlace).
	raw := append(region[m-n:m-n], nonce[:]...)
	raw = aead.Seal(raw, nonce[:], plaintext, bytesOf(aad))
	if len(raw) != n || &raw[0] != &region[m-n] {
		return "", dst, errors.New("envelope: SM4-GCM output is not where it was placed")
	}
	encodeInPlace(region, m-n)
	return b64.EncodeToString(ek), dst[:len(dst)+m], nil
}

// SealBody returns nonce‖SM4-GCM(plaintext)‖tag under key with a fixed
// nonce: for the conformance vectors, which pin the nonce.
func SealBody(key, nonce, plaintext []byte, aad string) ([]byte, error) {
	if len(nonce) != NonceSize {
		return nil, fmt.Errorf("envelope: nonce must be %d bytes", NonceSize)
	}
	aead, err := NewGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, NonceSize, NonceSize+len(plaintext)+TagSize)
	copy(out, nonce)
	return aead.Seal(out, out[:NonceSize], plaintext, bytesOf(aad)), nil
}

// OpenBody opens nonce‖ciphertext‖tag under key and aad, in place: sealed
// is overwritten.
func OpenBody(key, sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < NonceSize+TagSize {
		return nil, errors.New("ciphertext too short")
	}
	aead, err := NewGCM(key)
	if err != nil {
		return nil, err
	}
	pt, err := aead.Open(sealed[NonceSize:NonceSize], sealed[:NonceSize], sealed[NonceSize:], bytesOf(aad))
	if err != nil {
		return nil, errors.New("authentication failed (wrong key, aad or data)")
	}
	return pt, nil
}

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// encodeInPlace writes the standard, padded base64 of buf[off:] into
// buf[:EncodedLen(len(buf)-off)], which must be all of buf. It reads each
// 3-byte group before it writes the 4 characters of that group, and the
// writes stay behind the reads as long as off ≥ (len(buf)-off)/3, which
// holds when buf is exactly the encoded length.
func encodeInPlace(buf []byte, off int) {
	n := len(buf) - off
	di, si := 0, off
	for ; si+3 <= len(buf); si, di = si+3, di+4 {
		v := uint(buf[si])<<16 | uint(buf[si+1])<<8 | uint(buf[si+2])
		buf[di], buf[di+1], buf[di+2], buf[di+3] = b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], b64Alphabet[v&63]
	}
	switch n % 3 {
	case 1:
		v := uint(buf[si]) << 16
		buf[di], buf[di+1], buf[di+2], buf[di+3] = b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], '=', '='
	case 2:
		v := uint(buf[si])<<16 | uint(buf[si+1])<<8
		buf[di], buf[di+1], buf[di+2], buf[di+3] = b64Alphabet[v>>18&63], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], '='
	}
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

package sign

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
)

// ErrDecrypt is wrapped by every failure of Open and DecryptPIN.
var ErrDecrypt = errors.New("sign: decryption failed")

const (
	sm4KeySize = 16
	nonceSize  = 12
	tagSize    = 16
	// c1c3Size is the SM2 ciphertext overhead: C1 (04‖X‖Y) and C3 (SM3).
	c1c3Size = 65 + 32
)

// plainC1C3C2 is the protocol's SM2 ciphertext form: raw C1‖C3‖C2 with C1
// uncompressed. Both are immutable option values.
var (
	encryptOpts = sm2.NewPlainEncrypterOpts(sm2.MarshalUncompressed, sm2.C1C3C2)
	decryptOpts = sm2.NewPlainDecrypterOpts(sm2.C1C3C2)
)

// Seal encrypts plaintext for the holder of to: a fresh random SM4 key is
// encrypted with SM2 (C1C3C2) into encryptKey, and the plaintext with SM4-GCM
// under that key, a random 12-byte nonce and aad into ciphertext
// (base64 of nonce‖ciphertext‖tag). aad is the message's msg_id or notify_id:
// it binds the body to that message.
func Seal(to *PublicKey, plaintext []byte, aad string) (encryptKey, ciphertext string, err error) {
	var key [sm4KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", "", err
	}
	ek, err := sm2Encrypt(to, key[:])
	if err != nil {
		return "", "", err
	}
	sealed, err := sealBody(key[:], nil, plaintext, aad)
	if err != nil {
		return "", "", err
	}
	return b64.EncodeToString(ek), b64.EncodeToString(sealed), nil
}

// Open reverses Seal with the recipient's private key. Any failure (bad
// base64, wrong key, wrong aad, a flipped bit) returns an error wrapping
// ErrDecrypt and no plaintext.
func Open(k *PrivateKey, encryptKey, ciphertext, aad string) ([]byte, error) {
	ek, err := b64.DecodeString(encryptKey)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypt_key is not base64", ErrDecrypt)
	}
	key, err := sm2Decrypt(k, ek, sm4KeySize)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypt_key: %v", ErrDecrypt, err)
	}
	sealed, err := b64.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrDecrypt)
	}
	pt, err := openBody(key, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// SealedLen is how many bytes SealAppend appends for a plaintext of n
// bytes: the base64 length of nonce‖ciphertext‖tag.
func SealedLen(n int) int { return b64.EncodedLen(nonceSize + n + tagSize) }

// SealAppend is Seal for large bodies: it appends the base64 ciphertext to
// dst instead of returning a string. When dst has SealedLen(len(plaintext))
// bytes of spare capacity, the only allocation is the key envelope: the
// ciphertext is made in that spare room and base64-encoded in place. A 1 MiB
// face image then costs one copy of its ciphertext, not four.
func SealAppend(dst []byte, to *PublicKey, plaintext []byte, aad string) (encryptKey string, out []byte, err error) {
	var key [sm4KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", dst, err
	}
	ek, err := sm2Encrypt(to, key[:])
	if err != nil {
		return "", dst, err
	}
	aead, err := newGCM(key[:])
	if err != nil {
		return "", dst, err
	}
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return "", dst, err
	}
	n := nonceSize + len(plaintext) + tagSize
	m := b64.EncodedLen(n)
	dst = slices.Grow(dst, m)
	region := dst[len(dst) : len(dst)+m]
	// The raw nonce‖ciphertext‖tag goes at the end of the region, where the
	// forward base64 pass never overtakes it (see encodeInPlace).
	raw := append(region[m-n:m-n], nonce[:]...)
	raw = aead.Seal(raw, nonce[:], plaintext, bytesOf(aad))
	if len(raw) != n || &raw[0] != &region[m-n] {
		return "", dst, errors.New("sign: SM4-GCM output is not where it was placed")
	}
	encodeInPlace(region, m-n)
	return b64.EncodeToString(ek), dst[:len(dst)+m], nil
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

func sm2Encrypt(to *PublicKey, msg []byte) ([]byte, error) {
	if to == nil {
		return nil, errors.New("sign: nil public key")
	}
	return sm2.Encrypt(rand.Reader, to.k, msg, encryptOpts)
}

// sm2Decrypt opens a raw C1C3C2 ciphertext whose plaintext must be exactly
// want bytes long. The checks before decryption keep ASN.1 or compressed
// forms, which the library would otherwise accept, out of the protocol.
func sm2Decrypt(k *PrivateKey, ct []byte, want int) ([]byte, error) {
	if len(ct) != c1c3Size+want {
		return nil, fmt.Errorf("SM2 ciphertext is %d bytes, want %d", len(ct), c1c3Size+want)
	}
	if ct[0] != 4 {
		return nil, errors.New("SM2 C1 is not an uncompressed point")
	}
	pt, err := k.k.Decrypt(nil, ct, decryptOpts)
	if err != nil {
		return nil, errors.New("SM2 decryption failed")
	}
	return pt, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := sm4.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithNonceSize(block, nonceSize)
}

// sealBody appends nonce‖SM4-GCM(plaintext)‖tag to dst. A nil nonce means a
// random one; tests pass a fixed nonce to reproduce the vectors.
func sealBody(key, nonce, plaintext []byte, aad string) ([]byte, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if nonce == nil {
		if _, err := rand.Read(out); err != nil {
			return nil, err
		}
	} else {
		if len(nonce) != nonceSize {
			return nil, fmt.Errorf("sign: nonce must be %d bytes", nonceSize)
		}
		copy(out, nonce)
	}
	return aead.Seal(out, out[:nonceSize], plaintext, bytesOf(aad)), nil
}

func openBody(key, sealed []byte, aad string) ([]byte, error) {
	if len(sealed) < nonceSize+tagSize {
		return nil, errors.New("ciphertext too short")
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	// Decrypt in place: the decoded ciphertext is ours and not needed after.
	pt, err := aead.Open(sealed[nonceSize:nonceSize], sealed[:nonceSize], sealed[nonceSize:], bytesOf(aad))
	if err != nil {
		return nil, errors.New("authentication failed (wrong key, aad or data)")
	}
	return pt, nil
}

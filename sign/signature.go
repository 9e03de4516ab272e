package sign

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"unsafe"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
)

// UID is the SM2 signer ID of the protocol (the GM/T 0009 default).
const UID = "1234567812345678"

// ErrInvalidSignature is returned (wrapped) by every failed verification.
var ErrInvalidSignature = errors.New("sign: invalid signature")

// maxSignatureB64 bounds the base64 text of a DER SM2 signature (at most 72
// bytes, so 96 characters); anything longer is rejected before decoding.
const maxSignatureB64 = 96

var b64 = base64.StdEncoding.Strict()

// Sign signs msg with SM3withSM2 under the protocol's signer ID and returns
// the ASN.1 DER signature in standard base64.
func (k *PrivateKey) Sign(msg []byte) (string, error) {
	h := k.pub.hasher()
	h.Write(msg)
	der, err := k.signDigest(h.Sum(nil))
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(der), nil
}

func (k *PrivateKey) signDigest(digest []byte) ([]byte, error) {
	der, err := sm2.SignASN1(rand.Reader, k.k, digest, nil)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return der, nil
}

// Verify checks sig, a base64 DER SM3withSM2 signature, over msg. It returns
// nil or an error wrapping ErrInvalidSignature. Malformed base64, trailing
// bytes after the DER sequence, and out-of-range integers are all rejected.
func (k *PublicKey) Verify(msg []byte, sig string) error {
	der, err := decodeSignature(sig)
	if err != nil {
		return err
	}
	h := k.hasher()
	h.Write(msg)
	return k.verifyDigest(h.Sum(nil), der)
}

// VerifyCanonical checks sig over Canonical(path, fields), hashing the
// canonical string as it is produced.
func (k *PublicKey) VerifyCanonical(path string, fields map[string]string, sig string) error {
	der, err := decodeSignature(sig)
	if err != nil {
		return err
	}
	h := k.hasher()
	writeCanonical(h, path, fields)
	return k.verifyDigest(h.Sum(nil), der)
}

func decodeSignature(sig string) ([]byte, error) {
	if sig == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSignature)
	}
	// The standard decoder skips CR and LF; a signature that needs them is
	// not the one that was sent.
	if len(sig) > maxSignatureB64 || strings.ContainsAny(sig, "\r\n") {
		return nil, fmt.Errorf("%w: malformed", ErrInvalidSignature)
	}
	der, err := b64.DecodeString(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64", ErrInvalidSignature)
	}
	return der, nil
}

func (k *PublicKey) verifyDigest(digest, der []byte) error {
	// sm2.VerifyASN1 parses the DER strictly (one SEQUENCE of two minimal,
	// non-negative INTEGERs and nothing after it) and checks 1 ≤ r, s < n.
	if !sm2.VerifyASN1(k.k, digest, der) {
		return ErrInvalidSignature
	}
	return nil
}

// hasher returns SM3 already fed with Z_A, the signer-ID hash of this key.
func (k *PublicKey) hasher() hash.Hash {
	h := sm3.New()
	h.Write(k.za[:])
	return h
}

// Canonical returns the string that the protocol signs for a message:
//
//	path + "?" + join("&", sorted(esc(key) + "=" + esc(value)))
//
// over every field except "sign", with empty values dropped and keys sorted
// bytewise on their raw form. esc writes "%" as "%25", "&" as "%26" and "="
// as "%3D" and leaves every other byte as it is (no other escaping, no
// trimming). The escapes make the string injective: "&" and "=" occur only
// as separators, so no value can pass for other fields (a value such as
// "x&code=SUCCESS" cannot re-split into a code field).
func Canonical(path string, fields map[string]string) string {
	var b strings.Builder
	n := len(path) + 1
	for k, v := range fields {
		n += len(k) + len(v) + 2
	}
	b.Grow(n)
	writeCanonical(&b, path, fields)
	return b.String()
}

type canonicalWriter interface {
	Write([]byte) (int, error)
}

// canonicalChunk is the size up to which pieces are gathered before a Write;
// a value larger than that goes to the writer directly, uncopied.
const canonicalChunk = 1024

// writeCanonical feeds the canonical string to w in a few large writes.
// Large values without a byte to escape are passed without copying: the
// writers used here (an SM3 hash and a strings.Builder) neither modify nor
// keep the slice.
func writeCanonical(w canonicalWriter, path string, fields map[string]string) {
	var stack [24]string
	keys := stack[:0]
	for k, v := range fields {
		if k == "sign" || v == "" {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf := make([]byte, 0, canonicalChunk)
	buf = append(append(buf, path...), '?')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = appendEscaped(buf, k)
		buf = append(buf, '=')
		v := fields[k]
		if len(buf)+len(v) <= canonicalChunk {
			buf = appendEscaped(buf, v)
			continue
		}
		// A large value (a sealed face image) goes to w in place, between
		// the bytes it escapes (in base64, only the padding). Each of the
		// three is looked for with IndexByte, which is vectorised
		// (IndexAny is not: a tenth of a sealed megabyte's signing time),
		// and each again only after it was found, so that the scan stays
		// linear however many there are.
		var next [len(escaped)]int
		for b := range next {
			next[b] = indexFrom(v, 0, escaped[b])
		}
		pos := 0
		for {
			b := -1
			for i, n := range next {
				if n >= 0 && (b < 0 || n < next[b]) {
					b = i
				}
			}
			if b < 0 {
				break
			}
			j := next[b]
			w.Write(buf)
			w.Write(bytesOf(v[pos:j]))
			buf = appendEscaped(buf[:0], v[j:j+1])
			pos = j + 1
			next[b] = indexFrom(v, pos, escaped[b])
		}
		w.Write(buf)
		buf = buf[:0]
		w.Write(bytesOf(v[pos:]))
	}
	w.Write(buf)
}

// indexFrom is the index in s of the first c at or after from, or -1.
func indexFrom(s string, from int, c byte) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

// escaped are the bytes the canonical string escapes: its two separators
// and the escape character itself.
const escaped = "%&="

// appendEscaped appends s with "%", "&" and "=" written as "%25", "%26"
// and "%3D".
func appendEscaped(dst []byte, s string) []byte {
	for {
		i := strings.IndexAny(s, escaped)
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		switch s[i] {
		case '%':
			dst = append(dst, "%25"...)
		case '&':
			dst = append(dst, "%26"...)
		default:
			dst = append(dst, "%3D"...)
		}
		s = s[i+1:]
	}
}

func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

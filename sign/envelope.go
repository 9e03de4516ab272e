package sign

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"

	"github.com/xinyun-open/ewallet-go/internal/envelope"
)

// ErrDecrypt is wrapped by every failure of Open and Decrypt.
var ErrDecrypt = errors.New("sign: decryption failed")

// c1c3Size is the SM2 ciphertext overhead: C1 (04‖X‖Y) and C3 (SM3).
const c1c3Size = 65 + 32

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
	if to == nil {
		return "", "", errors.New("sign: Seal: nil public key")
	}
	ek, out, err := envelope.SealAppend(nil, to.Encrypt, plaintext, aad)
	if err != nil {
		return "", "", err
	}
	return ek, string(out), nil
}

// Open reverses Seal with the recipient's key, in memory (*PrivateKey) or
// behind a Signer. Any failure (bad base64, wrong key, wrong aad, a flipped
// bit) returns an error wrapping ErrDecrypt and no plaintext; an error of
// the Signer itself (a remote signer that is down) is returned as it is.
func Open(ctx context.Context, k Signer, encryptKey, ciphertext, aad string) ([]byte, error) {
	ek, err := b64.DecodeString(encryptKey)
	if err != nil {
		return nil, fmt.Errorf("%w: encrypt_key is not base64", ErrDecrypt)
	}
	if len(ek) != c1c3Size+envelope.KeySize {
		return nil, fmt.Errorf("%w: encrypt_key is %d bytes, want %d", ErrDecrypt, len(ek), c1c3Size+envelope.KeySize)
	}
	sealed, err := b64.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrDecrypt)
	}
	key, err := k.Decrypt(ctx, ek)
	if err != nil {
		return nil, err
	}
	if len(key) != envelope.KeySize {
		return nil, fmt.Errorf("%w: encrypt_key holds %d bytes, want %d", ErrDecrypt, len(key), envelope.KeySize)
	}
	pt, err := envelope.OpenBody(key, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, nil
}

// Encrypt encrypts msg to k with SM2: the raw C1‖C3‖C2 ciphertext, C1
// uncompressed, as the protocol's key envelopes and PINs carry it.
func (k *PublicKey) Encrypt(msg []byte) ([]byte, error) {
	if k == nil {
		return nil, errors.New("sign: Encrypt: nil public key")
	}
	return sm2.Encrypt(rand.Reader, k.k, msg, encryptOpts)
}

// Decrypt opens a raw C1‖C3‖C2 SM2 ciphertext addressed to k (see
// PublicKey.Encrypt). ASN.1 and compressed forms, which are not the
// protocol's, are refused. It fails with an error wrapping ErrDecrypt; ctx
// is not used (the key is in memory) and is there for the Signer interface.
func (k *PrivateKey) Decrypt(_ context.Context, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) <= c1c3Size {
		return nil, fmt.Errorf("%w: SM2 ciphertext of %d bytes is too short", ErrDecrypt, len(ciphertext))
	}
	if ciphertext[0] != 4 {
		return nil, fmt.Errorf("%w: SM2 C1 is not an uncompressed point", ErrDecrypt)
	}
	pt, err := k.k.Decrypt(nil, ciphertext, decryptOpts)
	if err != nil {
		return nil, fmt.Errorf("%w: SM2 decryption failed", ErrDecrypt)
	}
	return pt, nil
}

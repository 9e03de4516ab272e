package sign

import (
	"context"
	"fmt"
)

// Signer is the merchant's private key as the client uses it: it signs the
// digest of a message and opens the SM2 key envelopes addressed to the
// merchant. It is the seam for keys that never enter the process — an HSM
// (加密机), a cloud KMS that signs with SM2, a separate signing service —
// in the spirit of crypto.Signer and crypto.Decrypter, with a context so
// that a remote call can time out.
//
// *PrivateKey implements it in memory. A remote implementation must be safe
// for concurrent use and should honour ctx.
type Signer interface {
	// Public returns the public half of the key (the one the bank holds).
	Public() *PublicKey
	// SignDigest signs digest, which is e = SM3(Z_A ‖ M) of GB/T 32918.2
	// for the key's Z_A under signer ID UID (what SM2 HSMs and KMS
	// "digest" sign calls take), and returns the ASN.1 DER signature.
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
	// Decrypt opens a raw C1‖C3‖C2 SM2 ciphertext (C1 uncompressed)
	// addressed to the key.
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
}

// SignCanonical signs Canonical(path, fields) with s and returns the
// signature in standard base64. The canonical string is hashed as it is
// produced, never built, so a megabyte-sized field is not copied. A
// signature that comes back from a remote signer is checked before it is
// used, so a broken signer is an error here, not a refusal at the bank.
func SignCanonical(ctx context.Context, s Signer, path string, fields map[string]string) (string, error) {
	pub := s.Public()
	if pub == nil {
		return "", fmt.Errorf("%w: the signer has no public key", ErrInvalidKey)
	}
	h := pub.hasher()
	writeCanonical(h, path, fields)
	digest := h.Sum(nil)
	der, err := s.SignDigest(ctx, digest)
	if err != nil {
		return "", err
	}
	if _, inMemory := s.(*PrivateKey); !inMemory {
		if err := pub.verifyDigest(digest, der); err != nil {
			return "", fmt.Errorf("sign: the signer returned a signature that does not verify under its public key: %w", err)
		}
	}
	return b64.EncodeToString(der), nil
}

// SignDigest signs a digest e = SM3(Z_A ‖ M) and returns the ASN.1 DER
// signature; ctx is not used (the key is in memory). Most callers want
// Sign or SignCanonical.
func (k *PrivateKey) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	return k.signDigest(digest)
}

var _ Signer = (*PrivateKey)(nil)

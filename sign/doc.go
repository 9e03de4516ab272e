// Package sign holds the cryptography of the e-wallet protocol: SM2 keys,
// SM3withSM2 signatures, the canonical string that every signature covers,
// the SM2 key envelope with its SM4-GCM body, and the PIN cipher.
//
// It has no HTTP and no package-level mutable state; every key is safe for
// concurrent use by many goroutines.
//
// # Keys
//
// A merchant holds one SM2 private key and gives the bank its public key
// (SubjectPublicKeyInfo PEM, from [PublicKey.MarshalPEM]). The bank publishes
// one or more public keys, each with an id. Keys load from PEM (PKCS#8,
// SEC1, SPKI, encrypted PKCS#8 through [ParseEncryptedPrivateKey]) or from
// hex (64 hex chars for a private key, 04‖X‖Y for a public key):
//
//	key, err := sign.ParsePrivateKey(pemBytes)
//	bank, err := sign.ParsePublicKey(bankPEM)
//
// Formatting a key with fmt or slog prints only its fingerprint, never the
// key material.
//
// # Signatures
//
// Every message is signed with SM3withSM2 (signer ID 1234567812345678),
// ASN.1 DER, standard base64, over [Canonical]: the path, "?", and the
// fields sorted by key, with empty values and the "sign" field left out,
// "%", "&" and "=" escaped in keys and values so that no value can pass for
// other fields. [SignCanonical] and [PublicKey.VerifyCanonical] hash the
// canonical string as they build it, so a large field is never copied.
//
// # Keys outside the process
//
// The client signs and decrypts through [Signer], which *PrivateKey
// implements in memory. A key kept in an HSM, a cloud KMS or a signing
// service implements the same three methods (Public, SignDigest, Decrypt),
// so the private key never has to enter the merchant's process.
// Verification is strict: a signature with trailing bytes, a non-minimal
// integer or a value out of range is rejected.
//
// # Encryption
//
// [Seal] makes a fresh 16-byte SM4 key, encrypts it to the recipient's SM2
// public key (C1C3C2, C1 uncompressed) and encrypts the body with SM4-GCM
// under a random 12-byte nonce; the additional data binds the body to one
// message (its msg_id or notify_id), so a ciphertext cannot be replayed under
// another. [Open] reverses it through a [Signer]. [EncryptPIN] encrypts a
// six-digit PIN to a bank key.
package sign

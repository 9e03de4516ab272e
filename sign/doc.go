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
// # Key files from a CA
//
// A merchant is often given its key by a CA rather than making it. The two
// forms it comes in load directly, each giving the key and its
// [Certificate] (serial, subject, validity) once it is checked that the two
// belong together; a certificate also loads on its own:
//
//	key, cert, err := sign.ParseCFCAKey(sm2File, password)          // CFCA SADK ".sm2"
//	key, cert, err := sign.ParseKeyPair(certPEM, keyPEM, password)  // certificate + PKCS#8
//	cert, err := sign.ParseCertificate(cerFile)                     // PEM, DER or base64
//
// Only SM2 keys are accepted, whatever signed the certificate; chains and
// validity periods are not checked, since the bank trusts the key it
// registered, not a CA. A key kept in an HSM is checked against its
// certificate with cert.PublicKey().Equal(signer.Public()).
//
// [PrivateKey.MarshalEncryptedPEM] writes PBES2 with PBKDF2-HMAC-SHA256 and
// SM4-CBC, which OpenSSL 3 reads (openssl pkey -in key.pem -passin …);
// [ParseEncryptedPrivateKey] reads that, what OpenSSL writes (AES-256-CBC
// or SM4-CBC), and the PBKDF2-HMAC-SM3 form of GM tools.
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
// Other tools must be given the signer ID, which SM3withSM2 hashes into
// every signature: OpenSSL 3 uses an empty ID by default, and its
// signatures then fail here (and ours there) with nothing else wrong. With
// the ID, they cross both ways:
//
//	openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 \
//	    -in msg -sigfile sig.der -pkeyopt distid:1234567812345678
//	openssl dgst -sm3 -sign key.pem -sigopt distid:1234567812345678 msg
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

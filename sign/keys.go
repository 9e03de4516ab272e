package sign

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/emmansun/gmsm/pkcs"
	"github.com/emmansun/gmsm/pkcs8"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// ErrInvalidKey is wrapped by every error of the key and certificate
// parsers, a key that does not match its certificate included.
var ErrInvalidKey = errors.New("sign: invalid key")

// PrivateKey is an SM2 private key. Its zero value is not usable; get one from
// GenerateKey or ParsePrivateKey.
type PrivateKey struct {
	k   *sm2.PrivateKey
	pub *PublicKey
}

// PublicKey is an SM2 public key on the SM2 curve. Its zero value is not
// usable; get one from ParsePublicKey or PrivateKey.Public.
type PublicKey struct {
	k     *ecdsa.PublicKey
	point [65]byte // 04‖X‖Y
	za    [32]byte // Z_A for the protocol's signer ID, computed once
}

func newPrivateKey(k *sm2.PrivateKey) (*PrivateKey, error) {
	pub, err := newPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{k: k, pub: pub}, nil
}

func newPublicKey(k *ecdsa.PublicKey) (*PublicKey, error) {
	if !sm2.IsSM2PublicKey(k) {
		return nil, fmt.Errorf("%w: not on the SM2 curve", ErrInvalidKey)
	}
	p := &PublicKey{k: k}
	p.point[0] = 4
	k.X.FillBytes(p.point[1:33])
	k.Y.FillBytes(p.point[33:65])
	za, err := sm2.CalculateZA(k, []byte(UID))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	copy(p.za[:], za)
	return p, nil
}

// GenerateKey makes a new SM2 key pair from crypto/rand.
func GenerateKey() (*PrivateKey, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return newPrivateKey(k)
}

// ParsePrivateKey loads an SM2 private key from PEM PKCS#8 ("PRIVATE KEY"),
// PEM SEC1 ("EC PRIVATE KEY", or "SM2 PRIVATE KEY" as OpenSSL 3 writes it)
// or 64 hex characters. Keys of other curves and
// algorithms are rejected. An encrypted PKCS#8 key ("ENCRYPTED PRIVATE KEY")
// needs ParseEncryptedPrivateKey.
func ParsePrivateKey(data []byte) (*PrivateKey, error) {
	return parsePrivateKey(data, nil, false)
}

// ParseEncryptedPrivateKey loads an SM2 private key from PEM encrypted PKCS#8
// ("ENCRYPTED PRIVATE KEY") with its password. It also accepts everything
// ParsePrivateKey does, ignoring the password for unencrypted keys.
//
// It reads PBES2 as MarshalEncryptedPEM writes it, as OpenSSL 3 writes it
// (PBKDF2-HMAC-SHA256 with AES-256-CBC or SM4-CBC: openssl genpkey …
// -aes-256-cbc, openssl pkcs8 -topk8 -v2 sm4-cbc), and with PBKDF2-HMAC-SM3,
// the form earlier builds of this package and GM tools write.
func ParseEncryptedPrivateKey(data, password []byte) (*PrivateKey, error) {
	return parsePrivateKey(data, password, false)
}

// isPrivateKeyType reports the PEM types parsePrivateBlock reads.
func isPrivateKeyType(pemType string) bool {
	switch pemType {
	case "PRIVATE KEY", "EC PRIVATE KEY", "SM2 PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
		return true
	}
	return false
}

// parsePrivateKey reads the first PEM block, or, with anyBlock, the first
// private key block after other blocks (a certificate), or hex.
func parsePrivateKey(data, password []byte, anyBlock bool) (*PrivateKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrInvalidKey)
	}
	if !bytes.Contains(trimmed, []byte("-----BEGIN")) {
		return parsePrivateHex(string(trimmed))
	}
	block, rest := pem.Decode(trimmed)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed PEM", ErrInvalidKey)
	}
	for anyBlock && !isPrivateKeyType(block.Type) {
		next, after := pem.Decode(rest)
		if next == nil {
			return nil, fmt.Errorf("%w: no private key block in the PEM (found %q)", ErrInvalidKey, block.Type)
		}
		block, rest = next, after
	}
	return parsePrivateBlock(block, password)
}

func parsePrivateBlock(block *pem.Block, password []byte) (*PrivateKey, error) {
	var (
		k   *sm2.PrivateKey
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		var any interface{}
		any, err = smx509.ParsePKCS8PrivateKey(block.Bytes)
		if err == nil {
			var ok bool
			if k, ok = any.(*sm2.PrivateKey); !ok {
				return nil, fmt.Errorf("%w: PKCS#8 key is %T, not SM2", ErrInvalidKey, any)
			}
		}
	case "EC PRIVATE KEY", "SM2 PRIVATE KEY": // SEC1; OpenSSL 3 writes the second label
		var any interface{}
		any, err = smx509.ParseTypedECPrivateKey(block.Bytes)
		if err == nil {
			var ok bool
			if k, ok = any.(*sm2.PrivateKey); !ok {
				return nil, fmt.Errorf("%w: EC key is not on the SM2 curve", ErrInvalidKey)
			}
		}
	case "ENCRYPTED PRIVATE KEY":
		if len(password) == 0 {
			return nil, fmt.Errorf("%w: the key is encrypted: use ParseEncryptedPrivateKey with its password", ErrInvalidKey)
		}
		k, err = pkcs8.ParsePKCS8PrivateKeySM2(block.Bytes, password)
	default:
		return nil, fmt.Errorf("%w: PEM type %q is not a private key", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return newPrivateKey(k)
}

func parsePrivateHex(s string) (*PrivateKey, error) {
	if len(s) != 64 {
		return nil, fmt.Errorf("%w: hex private key must be 64 characters, got %d", ErrInvalidKey, len(s))
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidKey)
	}
	k, err := sm2.ParseRawPrivateKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return newPrivateKey(k)
}

// ParsePublicKey loads an SM2 public key from PEM SubjectPublicKeyInfo
// ("PUBLIC KEY"), from the public key of a PEM certificate ("CERTIFICATE",
// as some banks publish their keys; ParseCertificate gives its details too),
// or from the uncompressed point 04‖X‖Y in hex (130 characters). Points not
// on the SM2 curve and keys of other curves are rejected.
func ParsePublicKey(data []byte) (*PublicKey, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrInvalidKey)
	}
	if !bytes.Contains(trimmed, []byte("-----BEGIN")) {
		return parsePublicHex(string(trimmed))
	}
	block, _ := pem.Decode(trimmed)
	if block == nil {
		return nil, fmt.Errorf("%w: malformed PEM", ErrInvalidKey)
	}
	var (
		any interface{}
		err error
	)
	switch block.Type {
	case "PUBLIC KEY":
		any, err = smx509.ParsePKIXPublicKey(block.Bytes)
	case "CERTIFICATE":
		c, err := smx509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %v", ErrInvalidKey, err)
		}
		cert, err := newCertificate(c)
		if err != nil {
			return nil, err
		}
		return cert.key, nil
	default:
		return nil, fmt.Errorf("%w: PEM type %q is not a public key", ErrInvalidKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	k, ok := any.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is %T, not SM2", ErrInvalidKey, any)
	}
	return newPublicKey(k)
}

func parsePublicHex(s string) (*PublicKey, error) {
	if len(s) != 130 || !strings.HasPrefix(s, "04") {
		return nil, fmt.Errorf("%w: hex public key must be 04‖X‖Y, 130 characters", ErrInvalidKey)
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrInvalidKey)
	}
	k, err := sm2.NewPublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKey, err)
	}
	return newPublicKey(k)
}

// Public returns the public half of k.
func (k *PrivateKey) Public() *PublicKey {
	if k == nil {
		return nil
	}
	return k.pub
}

// Hex returns the private scalar as 64 lowercase hex characters, zero padded.
// It is key material: keep it out of logs.
func (k *PrivateKey) Hex() string {
	var d [32]byte
	k.k.D.FillBytes(d[:])
	return hex.EncodeToString(d[:])
}

// MarshalPEM returns the key as unencrypted PEM PKCS#8 ("PRIVATE KEY").
func (k *PrivateKey) MarshalPEM() ([]byte, error) {
	der, err := smx509.MarshalPKCS8PrivateKey(k.k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalEncryptedPEM returns the key as PEM encrypted PKCS#8
// ("ENCRYPTED PRIVATE KEY"): PBES2 with PBKDF2-HMAC-SHA256 (a 16-byte salt,
// pbkdf2Rounds rounds) and SM4-CBC, a form OpenSSL 3 reads
// (openssl pkey -in key.pem -passin …) as well as this package.
//
// The key derivation is HMAC-SHA256, not HMAC-SM3, because OpenSSL 3 does
// not know the HMAC-SM3 PRF OID and refuses such files ("unsupported prf");
// the cipher stays SM4, which it does know. The password only derives the
// file's key, so SHA-256 there takes nothing from the SM2/SM3/SM4 use of the
// key itself.
func (k *PrivateKey) MarshalEncryptedPEM(password []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("sign: empty password")
	}
	opts := &pkcs8.Opts{
		Cipher:  pkcs.SM4CBC,
		KDFOpts: pkcs8.PBKDF2Opts{SaltSize: 16, IterationCount: pbkdf2Rounds, HMACHash: pkcs8.SHA256},
	}
	der, err := pkcs8.MarshalPrivateKey(k.k, password, opts)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}), nil
}

// pbkdf2Rounds is the PBKDF2-HMAC-SHA256 iteration count of
// MarshalEncryptedPEM: OWASP's 2023 figure for that PRF. It costs about
// about a tenth of a second once, when the key is loaded at start-up, and makes
// each guess of the password as dear for an attacker who holds the file.
const pbkdf2Rounds = 600_000

// String describes the key by its public fingerprint, never by its secret.
func (k *PrivateKey) String() string {
	if k == nil || k.pub == nil {
		return "sign.PrivateKey(nil)"
	}
	return "sign.PrivateKey(" + k.pub.Fingerprint() + ")"
}

// GoString is String, so %#v does not print the key material either.
func (k *PrivateKey) GoString() string { return k.String() }

// LogValue makes slog print the fingerprint only.
func (k *PrivateKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Format prints String for every verb, so no formatting verb reaches the secret.
func (k *PrivateKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// Hex returns the uncompressed point 04‖X‖Y as 130 lowercase hex characters.
func (k *PublicKey) Hex() string { return hex.EncodeToString(k.point[:]) }

// Bytes returns the uncompressed point 04‖X‖Y (65 bytes).
func (k *PublicKey) Bytes() []byte { return bytes.Clone(k.point[:]) }

// MarshalPEM returns the key as PEM SubjectPublicKeyInfo ("PUBLIC KEY"),
// the form to give the bank.
func (k *PublicKey) MarshalPEM() ([]byte, error) {
	der, err := smx509.MarshalPKIXPublicKey(k.k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Equal reports whether k and o are the same point.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return k != nil && o != nil && k.point == o.point
}

// Fingerprint is the first 16 hex characters of SM3(04‖X‖Y): enough to tell
// keys apart in logs and docs, useless to an attacker.
func (k *PublicKey) Fingerprint() string {
	sum := sm3.Sum(k.point[:])
	return hex.EncodeToString(sum[:8])
}

// String describes the key by its fingerprint.
func (k *PublicKey) String() string {
	if k == nil {
		return "sign.PublicKey(nil)"
	}
	return "sign.PublicKey(" + k.Fingerprint() + ")"
}

// MarshalJSON writes the key as the JSON string of its 04‖X‖Y hex, so that
// a value holding a public key (a bank key list) can be stored and read
// back.
func (k *PublicKey) MarshalJSON() ([]byte, error) {
	if k == nil {
		return []byte("null"), nil
	}
	return []byte(`"` + k.Hex() + `"`), nil
}

// UnmarshalJSON reads a key from a JSON string in any form ParsePublicKey
// takes (04‖X‖Y hex, or PEM).
func (k *PublicKey) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: a public key in JSON is a string", ErrInvalidKey)
	}
	p, err := ParsePublicKey([]byte(s))
	if err != nil {
		return err
	}
	*k = *p
	return nil
}

// ErrKeyJSON is returned by json.Marshal of a private key.
var ErrKeyJSON = errors.New("sign: a private key is not written by encoding/json (MarshalEncryptedPEM writes a file for a secret store)")

// MarshalJSON refuses: key material never leaves through a JSON encoder
// by accident (a config logged or cached whole).
func (k *PrivateKey) MarshalJSON() ([]byte, error) { return nil, ErrKeyJSON }

package sign_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// keyFile reads a TEST KEY file of testdata/keys (see its README.md).
func keyFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "keys", name))
	require.NoError(t, err)
	return b
}

// certOf issues a certificate for pub, signed by signer under parent (the
// template itself for a self-signed one), with smx509: SM2 keys sign
// SM2-with-SM3, others their usual algorithm.
func certOf(t testing.TB, cn string, pub any, signer crypto.Signer, parent *x509.Certificate) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn, Country: []string{"CN"}},
		NotBefore:             time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  parent == nil,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	require.NoError(t, err)
	return tmpl, der
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseCertificateFixture(t *testing.T) {
	c, err := sign.ParseCertificate(keyFile(t, "merchant.crt.pem"))
	require.NoError(t, err)
	require.Equal(t, "1040990809AB", fmt.Sprintf("%X", c.SerialNumber))
	require.Equal(t, "CN=TEST KEY merchant M100000001,O=ewallet-go tests,C=CN", c.Subject)
	require.Equal(t, "CN=TEST CA ewallet-go,O=ewallet-go tests,C=CN", c.Issuer)
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), c.NotBefore)
	require.Equal(t, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), c.NotAfter)

	key, err := sign.ParsePrivateKey(keyFile(t, "merchant.key.pem"))
	require.NoError(t, err)
	require.True(t, c.PublicKey().Equal(key.Public()))

	// The issuer's SM2-with-SM3 signature is sound (checked here with
	// smx509; ParseCertificate itself does not verify chains).
	ca, err := sign.ParseCertificate(keyFile(t, "test-ca.crt.pem"))
	require.NoError(t, err)
	leaf, err := smx509.ParseCertificate(c.Raw)
	require.NoError(t, err)
	parent, err := smx509.ParseCertificate(ca.Raw)
	require.NoError(t, err)
	require.Equal(t, smx509.SM2WithSM3, leaf.SignatureAlgorithm)
	require.NoError(t, leaf.CheckSignatureFrom(parent))
}

// A certificate loads the same from PEM, DER and base64 text, and a PEM
// file with the chain after the leaf gives the leaf.
func TestParseCertificateForms(t *testing.T) {
	pemCert := keyFile(t, "merchant.crt.pem")
	want, err := sign.ParseCertificate(pemCert)
	require.NoError(t, err)
	der := want.Raw
	b64 := base64.StdEncoding.EncodeToString(der)
	var wrapped strings.Builder
	for s := b64; len(s) > 0; {
		n := min(64, len(s))
		wrapped.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	forms := map[string][]byte{
		"PEM":                       pemCert,
		"DER":                       der,
		"base64":                    []byte(b64),
		"base64, CRLF lines":        []byte(wrapped.String()),
		"PEM, chain after the leaf": append(bytes.Clone(pemCert), keyFile(t, "test-ca.crt.pem")...),
		"PEM, key before the cert":  append(keyFile(t, "merchant.key.pem"), pemCert...),
	}
	for name, in := range forms {
		t.Run(name, func(t *testing.T) {
			got, err := sign.ParseCertificate(in)
			require.NoError(t, err)
			require.Equal(t, want.Raw, got.Raw)
			require.True(t, want.PublicKey().Equal(got.PublicKey()))
		})
	}
}

// DER is taken as it is: a certificate whose last byte is a newline (its
// signature is random, so about one in 256 is) must not lose it to
// whitespace trimming.
func TestParseCertificateDEREndingInNewline(t *testing.T) {
	k, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	var der []byte
	for range 20000 {
		if _, der = certOf(t, "TEST KEY", &k.PublicKey, k, nil); der[len(der)-1] == '\n' {
			break
		}
	}
	require.Equal(t, byte('\n'), der[len(der)-1], "no certificate ending in a newline in 20000 tries")
	c, err := sign.ParseCertificate(der)
	require.NoError(t, err)
	require.Equal(t, der, c.Raw)
}

// sm3Sum is SM3(za ‖ msg), the digest SM3withSM2 signs.
func sm3Sum(za, msg []byte) []byte {
	h := sm3.New()
	h.Write(za)
	h.Write(msg)
	return h.Sum(nil)
}

// An SM2 key in a certificate signed with SM2-with-SM3 is a bank key like
// any other; a certificate of an RSA or P-256 key is refused by both
// ParsePublicKey and ParseCertificate, and says which key it holds.
func TestCertificateKeyMustBeSM2(t *testing.T) {
	caKey, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	caTmpl, _ := certOf(t, "test CA", &caKey.PublicKey, caKey, nil)
	bankKey, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, bankDER := certOf(t, "TEST KEY bank", &bankKey.PublicKey, caKey, caTmpl)

	pub, err := sign.ParsePublicKey(certPEM(bankDER))
	require.NoError(t, err)
	c, err := sign.ParseCertificate(certPEM(bankDER))
	require.NoError(t, err)
	require.True(t, pub.Equal(c.PublicKey()))
	// the same key as its SPKI
	spki, err := smx509.MarshalPKIXPublicKey(&bankKey.PublicKey)
	require.NoError(t, err)
	fromSPKI, err := sign.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}))
	require.NoError(t, err)
	require.True(t, pub.Equal(fromSPKI))
	// and it verifies what that key signs
	msg := []byte("/api/v1/wallet/query?app_id=A1")
	za, err := sm2.CalculateZA(&bankKey.PublicKey, []byte(sign.UID))
	require.NoError(t, err)
	sig, err := sm2.SignASN1(rand.Reader, bankKey, sm3Sum(za, msg), nil)
	require.NoError(t, err)
	require.NoError(t, pub.Verify(msg, base64.StdEncoding.EncodeToString(sig)))

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, rsaDER := certOf(t, "RSA bank", &rsaKey.PublicKey, rsaKey, nil)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, p256DER := certOf(t, "P-256 bank", &p256.PublicKey, p256, nil)
	// An SM2 CA that certified a P-256 key: the key decides, not the issuer.
	_, p256BySM2 := certOf(t, "P-256 under SM2 CA", &p256.PublicKey, caKey, caTmpl)

	for name, tc := range map[string]struct {
		der  []byte
		says string
	}{
		"RSA key":                {rsaDER, "RSA, not SM2"},
		"P-256 key":              {p256DER, "ECDSA on P-256, not SM2"},
		"P-256 key, SM2 issuer":  {p256BySM2, "ECDSA on P-256, not SM2"},
		"truncated":              {bankDER[:len(bankDER)-10], "certificate"},
		"trailing byte after it": {append(bytes.Clone(bankDER), 0), "certificate"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := sign.ParsePublicKey(certPEM(tc.der))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.ErrorContains(t, err, tc.says)
			_, err = sign.ParseCertificate(certPEM(tc.der))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.ErrorContains(t, err, tc.says)
			_, err = sign.ParseCertificate(tc.der)
			require.ErrorIs(t, err, sign.ErrInvalidKey)
		})
	}

	// An SM2 key certified by an RSA CA is an SM2 key: the SDK trusts the
	// key the bank registered, it does not check chains.
	_, sm2ByRSA := certOf(t, "SM2 under RSA CA", &bankKey.PublicKey, rsaKey, nil)
	got, err := sign.ParsePublicKey(certPEM(sm2ByRSA))
	require.NoError(t, err)
	require.True(t, got.Equal(pub))
}

func TestParseCertificateRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":                     "",
		"spaces":                    " \n\t",
		"not base64":                "this is not a certificate",
		"base64, not a certificate": base64.StdEncoding.EncodeToString([]byte("hello")),
		"a public key PEM":          string(keyFile(t, "pbes2-sm3-sm4cbc.pub.pem")),
		"a private key PEM":         string(keyFile(t, "merchant.key.pem")),
		"malformed PEM":             "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
		"empty CERTIFICATE block":   "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
		"a CFCA key file":           string(keyFile(t, "merchant.sm2")),
	} {
		t.Run(name, func(t *testing.T) {
			c, err := sign.ParseCertificate([]byte(in))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.Nil(t, c)
		})
	}
	_, err := sign.ParseCertificate(keyFile(t, "merchant.key.pem"))
	require.ErrorContains(t, err, `no CERTIFICATE block in the PEM (found "PRIVATE KEY")`)
}

func TestParseKeyPair(t *testing.T) {
	certFile, keyPEM := keyFile(t, "merchant.crt.pem"), keyFile(t, "merchant.key.pem")
	want, err := sign.ParsePrivateKey(keyPEM)
	require.NoError(t, err)
	encrypted, err := want.MarshalEncryptedPEM([]byte("pw"))
	require.NoError(t, err)

	for name, tc := range map[string]struct{ cert, key, password []byte }{
		"two PEM files":                {certFile, keyPEM, nil},
		"encrypted key":                {certFile, encrypted, []byte("pw")},
		"hex key":                      {certFile, []byte(want.Hex()), nil},
		"one file, cert first":         {append(bytes.Clone(certFile), keyPEM...), append(bytes.Clone(certFile), keyPEM...), nil},
		"one file, key first":          {append(bytes.Clone(keyPEM), certFile...), append(bytes.Clone(keyPEM), certFile...), nil},
		"DER certificate":              {mustCert(t, certFile).Raw, keyPEM, nil},
		"password for a plain key":     {certFile, keyPEM, []byte("ignored")},
		"cert with its chain, enc key": {append(bytes.Clone(certFile), keyFile(t, "test-ca.crt.pem")...), encrypted, []byte("pw")},
	} {
		t.Run(name, func(t *testing.T) {
			key, cert, err := sign.ParseKeyPair(tc.cert, tc.key, tc.password)
			require.NoError(t, err)
			require.Equal(t, want.Hex(), key.Hex())
			require.True(t, cert.PublicKey().Equal(key.Public()))
			require.Equal(t, "1040990809AB", fmt.Sprintf("%X", cert.SerialNumber))
		})
	}

	other := testKey(t)
	otherPEM, err := other.MarshalPEM()
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		cert, key, password []byte
		says                string
	}{
		"another key":              {certFile, otherPEM, nil, "the certificate (serial 1040990809AB) holds key " + want.Public().Fingerprint() + ", not the private key's " + other.Public().Fingerprint()},
		"wrong password":           {certFile, encrypted, []byte("wrong"), "invalid key"},
		"encrypted, no password":   {certFile, encrypted, nil, "use ParseEncryptedPrivateKey"},
		"the CA's certificate":     {keyFile(t, "test-ca.crt.pem"), keyPEM, nil, "holds key"},
		"no key in the key file":   {certFile, certFile, nil, `no private key block in the PEM (found "CERTIFICATE")`},
		"no cert in the cert file": {keyPEM, keyPEM, nil, "no CERTIFICATE block"},
		"empty key":                {certFile, nil, nil, "empty input"},
	} {
		t.Run(name, func(t *testing.T) {
			key, cert, err := sign.ParseKeyPair(tc.cert, tc.key, tc.password)
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.ErrorContains(t, err, tc.says)
			require.Nil(t, key)
			require.Nil(t, cert)
			require.NotContains(t, err.Error(), want.Hex(), "an error must not carry key material")
		})
	}
}

func mustCert(t testing.TB, data []byte) *sign.Certificate {
	t.Helper()
	c, err := sign.ParseCertificate(data)
	require.NoError(t, err)
	return c
}

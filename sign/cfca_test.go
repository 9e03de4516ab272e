package sign_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/cfca"
	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// The TEST KEY merchant.sm2 was written by cfca.MarshalSM2, as CFCA SADK
// writes a .sm2 file: base64 text of the encrypted key and the certificate.
func TestParseCFCAKey(t *testing.T) {
	key, cert, err := sign.ParseCFCAKey(keyFile(t, "merchant.sm2"), []byte("test-password"))
	require.NoError(t, err)

	want, err := sign.ParsePrivateKey(keyFile(t, "merchant.key.pem"))
	require.NoError(t, err)
	require.Equal(t, want.Hex(), key.Hex())
	require.Equal(t, mustCert(t, keyFile(t, "merchant.crt.pem")).Raw, cert.Raw)
	require.Equal(t, "1040990809AB", fmt.Sprintf("%X", cert.SerialNumber))
	require.Equal(t, "CN=TEST KEY merchant M100000001,O=ewallet-go tests,C=CN", cert.Subject)
	require.Equal(t, time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), cert.NotAfter)
	require.True(t, cert.PublicKey().Equal(key.Public()))

	sig, err := key.Sign([]byte("m"))
	require.NoError(t, err)
	require.NoError(t, cert.PublicKey().Verify([]byte("m"), sig))
}

// A .sm2 file whose certificate CFCA's test CA issued, published with
// gmsm's cfca example: a file from CFCA's side, not one gmsm wrote for
// itself (as far as its provenance can be told).
func TestParseCFCAKeySADKSample(t *testing.T) {
	key, cert, err := sign.ParseCFCAKey(keyFile(t, "cfca-sadk-sample.sm2"), []byte("123456"))
	require.NoError(t, err)
	require.Equal(t, "d3f24d61bb2816882b8474b778dd7c3166d665f9455dc9d551c989c161e76ab0", key.Hex())
	require.Equal(t, "CN=CFCA TEST SM2 OCA1,O=China Financial Certification Authority,C=CN", cert.Issuer)
	require.Equal(t, "1040990809", fmt.Sprintf("%X", cert.SerialNumber))
	require.Equal(t, time.Date(2025, 11, 19, 8, 31, 18, 0, time.UTC), cert.NotAfter.UTC())
	require.True(t, cert.PublicKey().Equal(key.Public()))

	_, _, err = sign.ParseCFCAKey(keyFile(t, "cfca-sadk-sample.sm2"), []byte("654321"))
	require.ErrorIs(t, err, sign.ErrInvalidKey)
	require.ErrorContains(t, err, "wrong password")
}

// The forms a .sm2 file arrives in all load: base64 in lines (LF or CRLF),
// on one line, DER, and PEM.
func TestParseCFCAKeyForms(t *testing.T) {
	text := keyFile(t, "merchant.sm2")
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(text), "\n", ""))
	require.NoError(t, err)
	want, err := sign.ParsePrivateKey(keyFile(t, "merchant.key.pem"))
	require.NoError(t, err)
	for name, in := range map[string][]byte{
		"base64 lines": text,
		"CRLF lines":   bytes.ReplaceAll(text, []byte("\n"), []byte("\r\n")),
		"one line":     []byte(base64.StdEncoding.EncodeToString(der)),
		"DER":          der,
		"PEM":          pem.EncodeToMemory(&pem.Block{Type: "CFCA KEY", Bytes: der}),
	} {
		t.Run(name, func(t *testing.T) {
			key, _, err := sign.ParseCFCAKey(in, []byte("test-password"))
			require.NoError(t, err)
			require.Equal(t, want.Hex(), key.Hex())
		})
	}
}

// cfcaKeyFile is CFCA's .sm2 structure, built by hand so that tests can make
// the files cfca.MarshalSM2 never writes.
type cfcaKeyFile struct {
	Version      int
	EncryptedKey struct {
		ContentType, Algorithm asn1.ObjectIdentifier
		Ciphertext             []byte
	}
	Certificate struct {
		ContentType asn1.ObjectIdentifier
		DER         []byte
	}
}

func decodeCFCA(t *testing.T, text []byte) cfcaKeyFile {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(text), "\n", ""))
	require.NoError(t, err)
	var f cfcaKeyFile
	rest, err := asn1.Unmarshal(der, &f)
	require.NoError(t, err)
	require.Empty(t, rest)
	return f
}

func encodeCFCA(t *testing.T, f cfcaKeyFile) []byte {
	t.Helper()
	der, err := asn1.Marshal(f)
	require.NoError(t, err)
	return der
}

// Fresh keys round-trip through cfca.MarshalSM2, including a scalar with
// leading zero bytes, which CFCA stores short (one SM4 block, not three).
func TestParseCFCAKeyFreshKeys(t *testing.T) {
	caKey, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	caTmpl, _ := certOf(t, "test CA", &caKey.PublicKey, caKey, nil)
	small, err := sm2.NewPrivateKeyFromInt(big.NewInt(0x1234))
	require.NoError(t, err)
	random, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	for name, k := range map[string]*sm2.PrivateKey{"random scalar": random, "scalar of two bytes": small} {
		t.Run(name, func(t *testing.T) {
			_, der := certOf(t, "TEST KEY merchant", &k.PublicKey, caKey, caTmpl)
			c, err := smx509.ParseCertificate(der)
			require.NoError(t, err)
			file, err := cfca.MarshalSM2([]byte("pw"), k, c)
			require.NoError(t, err)
			key, cert, err := sign.ParseCFCAKey(file, []byte("pw"))
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("%064x", k.D), key.Hex())
			require.Equal(t, der, cert.Raw)
		})
	}
}

func TestParseCFCAKeyRejects(t *testing.T) {
	text := keyFile(t, "merchant.sm2")
	good := decodeCFCA(t, text)
	der := encodeCFCA(t, good)
	pw := []byte("test-password")

	// A file whose key and certificate do not belong together.
	other, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, otherCertDER := certOf(t, "TEST KEY other", &other.PublicKey, other, nil)
	mismatched := good
	mismatched.Certificate.DER = otherCertDER

	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, p256Cert := certOf(t, "P-256", &p256.PublicKey, p256, nil)
	notSM2 := good
	notSM2.Certificate.DER = p256Cert

	with := func(edit func(f *cfcaKeyFile)) []byte {
		f := good
		edit(&f)
		return encodeCFCA(t, f)
	}
	privatePEM := keyFile(t, "merchant.key.pem")

	for name, tc := range map[string]struct {
		data, password []byte
		says           string
	}{
		"wrong password":     {text, []byte("test-passwort"), "wrong password"},
		"empty password":     {text, nil, "empty password"},
		"empty file":         {nil, pw, "empty input"},
		"truncated base64":   {text[:len(text)/2], pw, "bad base64"},
		"truncated DER":      {der[:len(der)-1], pw, "not a CFCA SM2 key file"},
		"DER cut in the key": {der[:40], pw, "not a CFCA SM2 key file"},
		"bytes after it":     {append(bytes.Clone(der), 0x05, 0x00), pw, "2 bytes after its structure"},
		"a PKCS#8 key":       {privatePEM, pw, "use ParseEncryptedPrivateKey"},
		"a certificate":      {keyFile(t, "merchant.crt.pem"), pw, "not a CFCA SM2 key file"},
		"plain text":         {[]byte("hello, world"), pw, "bad base64"},
		"base64 of text":     {[]byte(base64.StdEncoding.EncodeToString([]byte("hello, world"))), pw, "not a CFCA SM2 key file"},
		"version 2":          {with(func(f *cfcaKeyFile) { f.Version = 2 }), pw, "version 2"},
		"key content type":   {with(func(f *cfcaKeyFile) { f.EncryptedKey.ContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1} }), pw, "key content type 1.2.840.113549.1.7.1"},
		"cert content type":  {with(func(f *cfcaKeyFile) { f.Certificate.ContentType = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1} }), pw, "certificate content type 1.2.840.113549.1.7.1"},
		"key cipher": {with(func(f *cfcaKeyFile) {
			f.EncryptedKey.Algorithm = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
		}), pw, "key cipher"},
		"partial SM4 block":   {with(func(f *cfcaKeyFile) { f.EncryptedKey.Ciphertext = f.EncryptedKey.Ciphertext[:47] }), pw, "encrypted key of 47 bytes"},
		"no ciphertext":       {with(func(f *cfcaKeyFile) { f.EncryptedKey.Ciphertext = nil }), pw, "encrypted key of 0 bytes"},
		"four blocks":         {with(func(f *cfcaKeyFile) { f.EncryptedKey.Ciphertext = make([]byte, 64) }), pw, "encrypted key of 64 bytes"},
		"damaged ciphertext":  {with(func(f *cfcaKeyFile) { f.EncryptedKey.Ciphertext = bytes.Repeat([]byte{0xA5}, 48) }), pw, "wrong password"},
		"damaged certificate": {with(func(f *cfcaKeyFile) { f.Certificate.DER = f.Certificate.DER[:100] }), pw, "certificate"},
		"another key's cert":  {encodeCFCA(t, mismatched), pw, "do not match"},
		"a P-256 certificate": {encodeCFCA(t, notSM2), pw, "ECDSA on P-256, not SM2"},
		"PEM with no body":    {[]byte("-----BEGIN CFCA KEY-----\n-----END CFCA KEY-----\n"), pw, "not a CFCA SM2 key file"},
		"malformed PEM":       {[]byte("-----BEGIN CFCA KEY-----\n"), pw, "malformed PEM"},
	} {
		t.Run(name, func(t *testing.T) {
			key, cert, err := sign.ParseCFCAKey(tc.data, tc.password)
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.ErrorContains(t, err, tc.says)
			require.Nil(t, key)
			require.Nil(t, cert)
		})
	}
}

package sign_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Interoperability with the openssl command line (OpenSSL 3, which has
// SM2, SM3 and SM4): the key files and signatures a merchant makes with one
// must work with the other. The tests skip when openssl is not installed
// or lacks SM2, unless EWALLET_REQUIRE_OPENSSL=1, as in CI, where a
// missing openssl is a failure.

// openSSL is the openssl binary of a test, with a scratch directory.
type openSSL struct {
	t    *testing.T
	path string
	dir  string
}

func newOpenSSL(t *testing.T) *openSSL {
	t.Helper()
	unavailable := func(why string) {
		t.Helper()
		if os.Getenv("EWALLET_REQUIRE_OPENSSL") == "1" {
			t.Fatalf("%s, and EWALLET_REQUIRE_OPENSSL=1 (install it: apt-get install -y openssl)", why)
		}
		t.Skipf("%s: skipping the OpenSSL interop test (install openssl 3, or set EWALLET_REQUIRE_OPENSSL=1 to make this a failure)", why)
	}
	path, err := exec.LookPath("openssl")
	if err != nil {
		unavailable("openssl not found on PATH")
	}
	o := &openSSL{t: t, path: path, dir: t.TempDir()}
	version, err := exec.Command(path, "version").Output()
	if err != nil {
		unavailable("openssl version failed: " + err.Error())
	}
	algs, _ := exec.Command(path, "list", "-public-key-algorithms").Output()
	ciphers, _ := exec.Command(path, "list", "-cipher-algorithms").Output()
	if !bytes.Contains(algs, []byte("SM2")) || !bytes.Contains(ciphers, []byte("SM4-CBC")) {
		unavailable(strings.TrimSpace(string(version)) + " has no SM2 or no SM4-CBC")
	}
	t.Logf("using %s: %s", path, strings.TrimSpace(string(version)))
	return o
}

// file writes data to a file of the scratch directory and returns its path.
func (o *openSSL) file(name string, data []byte) string {
	o.t.Helper()
	p := filepath.Join(o.dir, name)
	require.NoError(o.t, os.WriteFile(p, data, 0o600))
	return p
}

func (o *openSSL) read(name string) []byte {
	o.t.Helper()
	b, err := os.ReadFile(filepath.Join(o.dir, name))
	require.NoError(o.t, err)
	return b
}

// run runs openssl with args in the scratch directory and returns its
// standard output; it fails the test if openssl fails.
func (o *openSSL) run(args ...string) []byte {
	o.t.Helper()
	out, err := o.try(args...)
	require.NoError(o.t, err, "openssl %s", strings.Join(args, " "))
	return out
}

// try runs openssl and returns its error, with stderr, instead of failing.
func (o *openSSL) try(args ...string) ([]byte, error) {
	cmd := exec.Command(o.path, args...)
	cmd.Dir = o.dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, &opensslError{err: err, stderr: stderr.String()}
	}
	return out, nil
}

type opensslError struct {
	err    error
	stderr string
}

func (e *opensslError) Error() string { return e.err.Error() + ": " + e.stderr }

// A key that MarshalEncryptedPEM writes is read by openssl pkey with its
// password and gives the same public key; the PBKDF2-HMAC-SM3 form that
// earlier builds wrote is the one OpenSSL 3 cannot read.
func TestOpenSSLReadsMarshalEncryptedPEM(t *testing.T) {
	o := newOpenSSL(t)
	k := testKey(t)
	enc, err := k.MarshalEncryptedPEM([]byte("pass word 密码"))
	require.NoError(t, err)
	o.file("pw.txt", []byte("pass word 密码\n"))
	o.file("enc.pem", enc)

	// openssl pkey -in enc.pem -passin file:pw.txt -pubout
	pub, err := sign.ParsePublicKey(o.run("pkey", "-in", "enc.pem", "-passin", "file:pw.txt", "-pubout"))
	require.NoError(t, err)
	require.True(t, pub.Equal(k.Public()))

	// openssl pkey -in enc.pem -passin pass:… (ASCII, as most people type it)
	enc, err = k.MarshalEncryptedPEM([]byte("s3cret"))
	require.NoError(t, err)
	o.file("enc2.pem", enc)
	plain, err := sign.ParsePrivateKey(o.run("pkey", "-in", "enc2.pem", "-passin", "pass:s3cret"))
	require.NoError(t, err)
	require.Equal(t, k.Hex(), plain.Hex())

	// What it is made of, as OpenSSL reads it.
	asn := string(o.run("asn1parse", "-in", "enc2.pem"))
	for _, want := range []string{":PBES2", ":PBKDF2", ":hmacWithSHA256", ":sm4-cbc"} {
		require.Contains(t, asn, want)
	}

	_, err = o.try("pkey", "-in", "enc2.pem", "-passin", "pass:wrong", "-noout")
	require.Error(t, err, "a wrong password must not open the key")

	// The earlier form still loads here, but not in OpenSSL 3.0 (logged, not
	// asserted: a later OpenSSL may learn the HMAC-SM3 PRF).
	old := keyFile(t, "pbes2-sm3-sm4cbc.pem")
	_, err = sign.ParseEncryptedPrivateKey(old, []byte("test-password"))
	require.NoError(t, err)
	o.file("old.pem", old)
	if _, err := o.try("pkey", "-in", "old.pem", "-passin", "pass:test-password", "-noout"); err != nil {
		t.Logf("as expected, OpenSSL cannot read the PBKDF2-HMAC-SM3 form: %s", reason(err.Error()))
	}
}

// The PBKDF2-HMAC-SM3 file written by an earlier MarshalEncryptedPEM still
// loads, to the key next to it.
func TestParseEncryptedPrivateKeySM3Form(t *testing.T) {
	k, err := sign.ParseEncryptedPrivateKey(keyFile(t, "pbes2-sm3-sm4cbc.pem"), []byte("test-password"))
	require.NoError(t, err)
	pub, err := sign.ParsePublicKey(keyFile(t, "pbes2-sm3-sm4cbc.pub.pem"))
	require.NoError(t, err)
	require.True(t, k.Public().Equal(pub))
	_, err = sign.ParseEncryptedPrivateKey(keyFile(t, "pbes2-sm3-sm4cbc.pem"), []byte("test-passwore"))
	require.ErrorIs(t, err, sign.ErrInvalidKey)
}

// Keys that OpenSSL writes encrypted load with ParseEncryptedPrivateKey:
// genpkey with AES-256-CBC and SM4-CBC, and pkcs8 -topk8 -v2 of a plain key.
func TestOpenSSLEncryptedKeysLoad(t *testing.T) {
	o := newOpenSSL(t)
	o.run("genpkey", "-algorithm", "SM2", "-out", "plain.pem")
	// openssl pkey -in plain.pem -pubout: the key every form must give.
	want, err := sign.ParsePublicKey(o.run("pkey", "-in", "plain.pem", "-pubout"))
	require.NoError(t, err)
	// OpenSSL 3 writes unencrypted SM2 keys as PKCS#8 "PRIVATE KEY".
	plain, err := sign.ParsePrivateKey(o.read("plain.pem"))
	require.NoError(t, err)
	require.True(t, plain.Public().Equal(want))

	for name, args := range map[string][]string{
		"pkcs8 -topk8 -v2 aes-256-cbc":                   {"pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "plain.pem", "-passout", "pass:s3cret"},
		"pkcs8 -topk8 -v2 sm4-cbc":                       {"pkcs8", "-topk8", "-v2", "sm4-cbc", "-in", "plain.pem", "-passout", "pass:s3cret"},
		"pkcs8 -topk8 -v2 sm4-cbc -v2prf hmacWithSHA512": {"pkcs8", "-topk8", "-v2", "sm4-cbc", "-v2prf", "hmacWithSHA512", "-in", "plain.pem", "-passout", "pass:s3cret"},
		"pkey -aes-256-cbc":                              {"pkey", "-aes-256-cbc", "-in", "plain.pem", "-passout", "pass:s3cret"},
		"pkey -sm4-cbc":                                  {"pkey", "-sm4-cbc", "-in", "plain.pem", "-passout", "pass:s3cret"},
		"pkcs8 -topk8 -scrypt":                           {"pkcs8", "-topk8", "-scrypt", "-in", "plain.pem", "-passout", "pass:s3cret"},
	} {
		t.Run(name, func(t *testing.T) {
			enc := o.run(args...)
			require.Contains(t, string(enc), "-----BEGIN ENCRYPTED PRIVATE KEY-----")
			k, err := sign.ParseEncryptedPrivateKey(enc, []byte("s3cret"))
			require.NoError(t, err)
			require.Equal(t, plain.Hex(), k.Hex())
			_, err = sign.ParseEncryptedPrivateKey(enc, []byte("s3cre7"))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			_, err = sign.ParsePrivateKey(enc)
			require.ErrorContains(t, err, "use ParseEncryptedPrivateKey")
		})
	}

	// A fresh key generated encrypted, with each cipher.
	for _, cipher := range []string{"-aes-256-cbc", "-sm4-cbc"} {
		t.Run("genpkey "+cipher, func(t *testing.T) {
			// openssl genpkey -algorithm SM2 -aes-256-cbc -pass pass:s3cret -out gen.pem
			o.run("genpkey", "-algorithm", "SM2", cipher, "-pass", "pass:s3cret", "-out", "gen.pem")
			k, err := sign.ParseEncryptedPrivateKey(o.read("gen.pem"), []byte("s3cret"))
			require.NoError(t, err)
			pub, err := sign.ParsePublicKey(o.run("pkey", "-in", "gen.pem", "-passin", "pass:s3cret", "-pubout"))
			require.NoError(t, err)
			require.True(t, k.Public().Equal(pub))
		})
	}
}

// Signatures cross both ways between Sign/Verify and openssl, with the
// signer ID set on the openssl side, in both of its command forms.
//
// The classic interop trap: SM3withSM2 hashes the signer's ID into Z_A.
// The protocol (like GM/T 0009) uses "1234567812345678", but OpenSSL 3
// uses an empty ID unless it is told otherwise, so without
// -pkeyopt distid:… (pkeyutl) or -sigopt distid:… (dgst) every signature
// fails between the two sides, although keys, digest and encoding are all
// right. The test proves that too, and that the empty ID is what OpenSSL
// then uses.
func TestOpenSSLSignatures(t *testing.T) {
	o := newOpenSSL(t)
	k := testKey(t)
	keyPEM, err := k.MarshalPEM()
	require.NoError(t, err)
	pubPEM, err := k.Public().MarshalPEM()
	require.NoError(t, err)
	o.file("key.pem", keyPEM)
	o.file("pub.pem", pubPEM)
	msg := []byte(sign.Canonical("/api/v1/payment/pay", map[string]string{
		"app_id": "A1", "msg_id": "0123456789abcdef0123456789abcdef", "subject": "话费充值 & 流量", "amount": "100",
	}))
	o.file("msg.txt", msg)
	distid := "distid:" + sign.UID

	// Ours → OpenSSL.
	sig, err := k.Sign(msg)
	require.NoError(t, err)
	der, err := base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err)
	o.file("ours.sig", der)
	// openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -digest sm3 -in msg.txt -sigfile ours.sig -pkeyopt distid:1234567812345678
	pkeyutlVerify := []string{"pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-digest", "sm3", "-in", "msg.txt", "-sigfile", "ours.sig"}
	require.Contains(t, string(o.run(append(pkeyutlVerify, "-pkeyopt", distid)...)), "Signature Verified Successfully")
	// openssl dgst -sm3 -verify pub.pem -sigopt distid:1234567812345678 -signature ours.sig msg.txt
	dgstVerify := []string{"dgst", "-sm3", "-verify", "pub.pem", "-signature", "ours.sig"}
	require.Contains(t, string(o.run(append(dgstVerify, "-sigopt", distid, "msg.txt")...)), "Verified OK")
	// Without the ID, OpenSSL does not verify it.
	_, err = o.try(pkeyutlVerify...)
	require.Error(t, err, "pkeyutl without distid must not verify a signature made with the protocol's ID")
	_, err = o.try(append(dgstVerify, "msg.txt")...)
	require.Error(t, err, "dgst without distid must not verify a signature made with the protocol's ID")
	// and a changed message does not verify even with it
	o.file("other.txt", append(bytes.Clone(msg), '!'))
	_, err = o.try("dgst", "-sm3", "-verify", "pub.pem", "-signature", "ours.sig", "-sigopt", distid, "other.txt")
	require.Error(t, err)

	// OpenSSL → ours, with the ID: both command forms.
	// openssl pkeyutl -sign -inkey key.pem -rawin -digest sm3 -in msg.txt -pkeyopt distid:1234567812345678
	bySign := o.run("pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-digest", "sm3", "-in", "msg.txt", "-pkeyopt", distid)
	require.NoError(t, k.Public().Verify(msg, base64.StdEncoding.EncodeToString(bySign)))
	// openssl dgst -sm3 -sign key.pem -sigopt distid:1234567812345678 msg.txt
	byDgst := o.run("dgst", "-sm3", "-sign", "key.pem", "-sigopt", distid, "msg.txt")
	require.NoError(t, k.Public().Verify(msg, base64.StdEncoding.EncodeToString(byDgst)))
	require.ErrorIs(t, k.Public().Verify(append(bytes.Clone(msg), '!'), base64.StdEncoding.EncodeToString(byDgst)), sign.ErrInvalidSignature)

	// OpenSSL → ours, without the ID: refused here; it is a valid
	// signature under the empty ID, which is what OpenSSL fell back to.
	spki, err := smx509.ParsePKIXPublicKey(pubPEMBody(t, pubPEM))
	require.NoError(t, err)
	ecPub := spki.(*ecdsa.PublicKey)
	emptyZA, err := sm2.CalculateZA(ecPub, nil)
	require.NoError(t, err)
	for name, noID := range map[string][]byte{
		"pkeyutl": o.run("pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-digest", "sm3", "-in", "msg.txt"),
		"dgst":    o.run("dgst", "-sm3", "-sign", "key.pem", "msg.txt"),
	} {
		require.ErrorIs(t, k.Public().Verify(msg, base64.StdEncoding.EncodeToString(noID)), sign.ErrInvalidSignature,
			"%s without distid: its signature must not pass under the protocol's ID", name)
		require.True(t, sm2.VerifyASN1(ecPub, sm3Sum(emptyZA, msg), noID),
			"%s without distid: OpenSSL's default ID should be the empty one", name)
	}
}

// OpenSSL reads the certificates smx509 writes: the subject and serial
// are the ones ParseCertificate gives, and the SM2-with-SM3 signature of
// the test CA verifies, once OpenSSL is given the signer ID (the same trap:
// without -vfyopt distid:… OpenSSL 3.0 checks it under the empty ID).
func TestOpenSSLReadsCertificates(t *testing.T) {
	o := newOpenSSL(t)
	o.file("ca.pem", keyFile(t, "test-ca.crt.pem"))
	o.file("merchant.pem", keyFile(t, "merchant.crt.pem"))
	c := mustCert(t, keyFile(t, "merchant.crt.pem"))

	// openssl x509 -in merchant.pem -noout -serial
	require.Equal(t, fmt.Sprintf("serial=%X", c.SerialNumber), strings.TrimSpace(string(o.run("x509", "-in", "merchant.pem", "-noout", "-serial"))))
	// openssl x509 -in merchant.pem -noout -subject -nameopt RFC2253
	require.Equal(t, "subject="+c.Subject, strings.TrimSpace(string(o.run("x509", "-in", "merchant.pem", "-noout", "-subject", "-nameopt", "RFC2253"))))
	// openssl x509 -in merchant.pem -noout -pubkey
	pub, err := sign.ParsePublicKey(o.run("x509", "-in", "merchant.pem", "-noout", "-pubkey"))
	require.NoError(t, err)
	require.True(t, pub.Equal(c.PublicKey()))
	// openssl verify -vfyopt distid:1234567812345678 -CAfile ca.pem merchant.pem
	require.Contains(t, string(o.run("verify", "-vfyopt", "distid:"+sign.UID, "-CAfile", "ca.pem", "merchant.pem")), "merchant.pem: OK")
	_, err = o.try("verify", "-CAfile", "ca.pem", "merchant.pem")
	if err == nil {
		t.Log("this OpenSSL verifies SM2 certificates without -vfyopt distid (it defaults to the GM/T 0009 ID)")
	}
}

func pubPEMBody(t *testing.T, p []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(p)
	require.NotNil(t, block)
	return block.Bytes
}

// reason picks the line of OpenSSL's error output that names the cause.
func reason(stderr string) string {
	for _, line := range strings.Split(stderr, "\n") {
		if i := strings.Index(line, "unsupported prf"); i >= 0 {
			return line[i:]
		}
	}
	return stderr
}

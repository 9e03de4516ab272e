package sign_test

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

var ctx = context.Background()

func testKey(t testing.TB) *sign.PrivateKey {
	t.Helper()
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	return k
}

func TestSignVerifyRoundTrip(t *testing.T) {
	k := testKey(t)
	sig, err := k.Sign([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, k.Public().Verify([]byte("hello"), sig))
	require.ErrorIs(t, k.Public().Verify([]byte("hellO"), sig), sign.ErrInvalidSignature)
	require.ErrorIs(t, testKey(t).Public().Verify([]byte("hello"), sig), sign.ErrInvalidSignature)
}

func TestVerifyRejectsMalformedSignatures(t *testing.T) {
	k := testKey(t)
	msg := []byte("m")
	sig, err := k.Sign(msg)
	require.NoError(t, err)
	der, err := base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err)

	flipped := append([]byte(nil), der...)
	flipped[len(flipped)-1] ^= 1
	// A high-s twin: s' = n - s is a different, invalid signature for SM2.
	cases := map[string]string{
		"empty":             "",
		"not base64":        "!!!!",
		"truncated":         base64.StdEncoding.EncodeToString(der[:len(der)-1]),
		"trailing byte":     base64.StdEncoding.EncodeToString(append(append([]byte(nil), der...), 0)),
		"trailing sequence": base64.StdEncoding.EncodeToString(append(append([]byte(nil), der...), der...)),
		"flipped bit":       base64.StdEncoding.EncodeToString(flipped),
		"raw r||s":          base64.StdEncoding.EncodeToString(make([]byte, 64)),
		"unpadded":          strings.TrimRight(sig, "="),
		"with newline":      sig[:10] + "\n" + sig[10:],
		"url alphabet":      base64.URLEncoding.EncodeToString(der),
		"zero r and s":      base64.StdEncoding.EncodeToString([]byte{0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}),
		"negative r":        base64.StdEncoding.EncodeToString([]byte{0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01}),
		"huge":              strings.Repeat("A", 4096),
	}
	if strings.ContainsAny(sig, "+/") {
		// only then does the URL alphabet differ
	} else {
		delete(cases, "url alphabet")
	}
	if !strings.HasSuffix(sig, "=") {
		delete(cases, "unpadded")
	}
	for name, s := range cases {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, k.Public().Verify(msg, s), sign.ErrInvalidSignature)
		})
	}
}

func TestParseKeyErrors(t *testing.T) {
	keys, err := vectors.LoadKeys()
	require.NoError(t, err)
	p256Priv := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\nOF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n-----END PRIVATE KEY-----\n"
	p256Pub := "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\nq9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==\n-----END PUBLIC KEY-----\n"
	offCurve := "04" + strings.Repeat("11", 64)

	for name, in := range map[string]string{
		"empty":                      "",
		"spaces":                     "   \n",
		"short hex":                  keys.Merchant.PrivateHex[:62],
		"long hex":                   keys.Merchant.PrivateHex + "00",
		"not hex":                    strings.Repeat("zz", 32),
		"zero scalar":                strings.Repeat("00", 32),
		"order n":                    "fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123",
		"public PEM":                 keys.Merchant.PublicPEM,
		"truncated PEM":              keys.Merchant.PrivatePEM[:60],
		"garbled PEM body":           strings.Replace(keys.Merchant.PrivatePEM, "MIGH", "MIGG", 1),
		"P-256 PKCS#8":               p256Priv,
		"encrypted without password": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n",
	} {
		t.Run("private/"+name, func(t *testing.T) {
			k, err := sign.ParsePrivateKey([]byte(in))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.Nil(t, k)
		})
	}
	for name, in := range map[string]string{
		"empty":         "",
		"off curve":     offCurve,
		"compressed":    "02" + keys.Merchant.PublicHex[2:66],
		"no prefix":     keys.Merchant.PublicHex[2:],
		"wrong prefix":  "05" + keys.Merchant.PublicHex[2:],
		"not hex":       "04" + strings.Repeat("zz", 64),
		"private PEM":   keys.Merchant.PrivatePEM,
		"P-256 SPKI":    p256Pub,
		"truncated PEM": keys.Merchant.PublicPEM[:50],
		"infinity":      "04" + strings.Repeat("00", 64),
	} {
		t.Run("public/"+name, func(t *testing.T) {
			k, err := sign.ParsePublicKey([]byte(in))
			require.ErrorIs(t, err, sign.ErrInvalidKey)
			require.Nil(t, k)
		})
	}
}

// MarshalEncryptedPEM writes the PBES2 form OpenSSL 3 reads (proved with
// the openssl CLI in openssl_test.go): PBKDF2 with HMAC-SHA256, a 16-byte
// salt and 600000 rounds, and SM4-CBC. Pinned here too, where openssl may
// be missing.
func TestMarshalEncryptedPEMForm(t *testing.T) {
	enc, err := testKey(t).MarshalEncryptedPEM([]byte("pw"))
	require.NoError(t, err)
	block, _ := pem.Decode(enc)
	require.NotNil(t, block)
	require.Equal(t, "ENCRYPTED PRIVATE KEY", block.Type)
	var info struct {
		Algorithm struct {
			OID    asn1.ObjectIdentifier
			Params struct {
				KDF struct {
					OID    asn1.ObjectIdentifier
					Params struct {
						Salt       []byte
						Iterations int
						KeyLength  int `asn1:"optional"`
						PRF        struct {
							OID  asn1.ObjectIdentifier
							Null asn1.RawValue `asn1:"optional"`
						}
					}
				}
				Cipher struct {
					OID asn1.ObjectIdentifier
					IV  []byte
				}
			}
		}
		Data []byte
	}
	rest, err := asn1.Unmarshal(block.Bytes, &info)
	require.NoError(t, err)
	require.Empty(t, rest)
	alg := info.Algorithm
	require.Equal(t, "1.2.840.113549.1.5.13", alg.OID.String(), "PBES2")
	require.Equal(t, "1.2.840.113549.1.5.12", alg.Params.KDF.OID.String(), "PBKDF2")
	require.Len(t, alg.Params.KDF.Params.Salt, 16)
	require.Equal(t, 600000, alg.Params.KDF.Params.Iterations)
	require.Contains(t, []int{0, 16}, alg.Params.KDF.Params.KeyLength, "SM4's key length, if given")
	require.Equal(t, "1.2.840.113549.2.9", alg.Params.KDF.Params.PRF.OID.String(), "hmacWithSHA256")
	require.Equal(t, "1.2.156.10197.1.104.2", alg.Params.Cipher.OID.String(), "SM4-CBC")
	require.Len(t, alg.Params.Cipher.IV, 16)
}

func TestParseSEC1AndEncryptedPKCS8(t *testing.T) {
	k := testKey(t)
	enc, err := k.MarshalEncryptedPEM([]byte("test password"))
	require.NoError(t, err)
	require.Contains(t, string(enc), "ENCRYPTED PRIVATE KEY")
	_, err = sign.ParsePrivateKey(enc)
	require.ErrorIs(t, err, sign.ErrInvalidKey, "an encrypted key needs its password")
	_, err = sign.ParseEncryptedPrivateKey(enc, []byte("wrong"))
	require.ErrorIs(t, err, sign.ErrInvalidKey)
	back, err := sign.ParseEncryptedPrivateKey(enc, []byte("test password"))
	require.NoError(t, err)
	require.Equal(t, k.Hex(), back.Hex())

	// SEC1, made by OpenSSL 3.0 (`openssl ecparam -name SM2 -genkey | openssl ec`),
	// which labels it "SM2 PRIVATE KEY"; other tools write "EC PRIVATE KEY". TEST KEY.
	const sec1Body = "MHcCAQEEIKZGX5Ta0u8pHEW5T6qf1i+2yuwSZZe13REeOc4Hto7qoAoGCCqBHM9V\n" +
		"AYItoUQDQgAEzNXrn1UF7Lx7/axeY+mH3G/p/3ZLS6tDbTYNv5frKdtnLL3QiZX9\n" +
		"037yvc2mDG9/34N6p0KBTL19YSnN+Mrs3w==\n"
	const sec1Hex = "a6465f94dad2ef291c45b94faa9fd62fb6caec126597b5dd111e39ce07b68eea"
	for _, label := range []string{"EC PRIVATE KEY", "SM2 PRIVATE KEY"} {
		sk, err := sign.ParsePrivateKey([]byte("-----BEGIN " + label + "-----\n" + sec1Body + "-----END " + label + "-----\n"))
		require.NoError(t, err, label)
		require.Equal(t, sec1Hex, sk.Hex())
	}
}

func TestHexIsFixedWidth(t *testing.T) {
	// A scalar with leading zero bytes still prints 64 characters.
	k, err := sign.ParsePrivateKey([]byte("0000000000000000000000000000000000000000000000000000000000000001"))
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("0", 63)+"1", k.Hex())
	require.Len(t, k.Public().Hex(), 130)
}

func TestKeysNeverFormatTheirSecret(t *testing.T) {
	k := testKey(t)
	secret := k.Hex()
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("key", "k", k)
	for _, s := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x %q", k, k, k, k, k, k),
		fmt.Sprintf("%v", struct{ K *sign.PrivateKey }{k}), logs.String(),
	} {
		require.NotContains(t, s, secret)
		require.Contains(t, s, k.Public().Fingerprint())
	}
}

func TestSealOpen(t *testing.T) {
	k := testKey(t)
	for _, n := range []int{0, 1, 15, 16, 17, 1024, 1 << 20} {
		pt := bytes.Repeat([]byte{'a'}, n)
		ek, ct, err := sign.Seal(k.Public(), pt, "0123456789abcdef0123456789abcdef")
		require.NoError(t, err)
		got, err := sign.Open(ctx, k, ek, ct, "0123456789abcdef0123456789abcdef")
		require.NoError(t, err)
		require.Equal(t, len(pt), len(got))
		require.True(t, bytes.Equal(pt, got))
	}
	// two seals of one plaintext differ (fresh key and nonce)
	ek1, ct1, _ := sign.Seal(k.Public(), []byte("x"), "a")
	ek2, ct2, _ := sign.Seal(k.Public(), []byte("x"), "a")
	require.NotEqual(t, ek1, ek2)
	require.NotEqual(t, ct1, ct2)
}

func TestOpenRejectsTampering(t *testing.T) {
	k := testKey(t)
	ek, ct, err := sign.Seal(k.Public(), []byte(`{"amount":100}`), "msg-1")
	require.NoError(t, err)
	ekRaw, _ := base64.StdEncoding.DecodeString(ek)
	ctRaw, _ := base64.StdEncoding.DecodeString(ct)
	flip := func(b []byte, i int) string {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		return base64.StdEncoding.EncodeToString(c)
	}
	ekOther, _, _ := sign.Seal(testKey(t).Public(), []byte("x"), "msg-1")
	cases := map[string][3]string{
		"empty key":            {"", ct, "msg-1"},
		"empty body":           {ek, "", "msg-1"},
		"key not base64":       {"%%%", ct, "msg-1"},
		"body not base64":      {ek, "%%%", "msg-1"},
		"truncated key":        {base64.StdEncoding.EncodeToString(ekRaw[:len(ekRaw)-1]), ct, "msg-1"},
		"truncated body":       {ek, base64.StdEncoding.EncodeToString(ctRaw[:len(ctRaw)-1]), "msg-1"},
		"short body":           {ek, base64.StdEncoding.EncodeToString(ctRaw[:20]), "msg-1"},
		"wrong aad":            {ek, ct, "msg-2"},
		"empty aad":            {ek, ct, ""},
		"flipped key C1":       {flip(ekRaw, 10), ct, "msg-1"},
		"flipped key C3":       {flip(ekRaw, 70), ct, "msg-1"},
		"flipped key C2":       {flip(ekRaw, len(ekRaw)-1), ct, "msg-1"},
		"flipped nonce":        {ek, flip(ctRaw, 0), "msg-1"},
		"flipped ciphertext":   {ek, flip(ctRaw, 13), "msg-1"},
		"flipped tag":          {ek, flip(ctRaw, len(ctRaw)-1), "msg-1"},
		"compressed C1":        {base64.StdEncoding.EncodeToString(append([]byte{2}, ekRaw[1:]...)), ct, "msg-1"},
		"key for someone else": {ekOther, ct, "msg-1"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			pt, err := sign.Open(ctx, k, c[0], c[1], c[2])
			require.ErrorIs(t, err, sign.ErrDecrypt)
			require.Nil(t, pt)
		})
	}
}

func TestPIN(t *testing.T) {
	k := testKey(t)
	ct, err := sign.EncryptPIN(k.Public(), "024680")
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(ct)
	require.NoError(t, err)
	require.Len(t, raw, 65+32+6, "C1‖C3‖C2 of six digits")
	pin, err := k.Decrypt(ctx, raw)
	require.NoError(t, err)
	require.Equal(t, "024680", string(pin))

	for _, bad := range []string{"", "12345", "1234567", "12a456", "１２３４５６", " 12345", "12345\n", "-12345"} {
		_, err := sign.EncryptPIN(k.Public(), bad)
		require.ErrorIs(t, err, sign.ErrPINFormat, "%q", bad)
	}
	_, err = testKey(t).Decrypt(ctx, raw)
	require.ErrorIs(t, err, sign.ErrDecrypt, "another key")
	_, err = k.Decrypt(ctx, raw[:96])
	require.ErrorIs(t, err, sign.ErrDecrypt, "shorter than C1‖C3")
	compressed := append([]byte{2}, raw[1:]...)
	_, err = k.Decrypt(ctx, compressed)
	require.ErrorIs(t, err, sign.ErrDecrypt, "compressed C1")
}

// One key used from many goroutines at once: run under -race.
func TestConcurrentUseOfOneKey(t *testing.T) {
	k := testKey(t)
	other := testKey(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 8; i++ {
				msg := []byte(fmt.Sprintf("g%d-i%d", g, i))
				sig, err := sign.SignCanonical(ctx, k, "/api/v1/x", map[string]string{"m": string(msg)})
				if err == nil {
					err = k.Public().VerifyCanonical("/api/v1/x", map[string]string{"m": string(msg)}, sig)
				}
				if err == nil {
					var ek, ct string
					ek, ct, err = sign.Seal(other.Public(), msg, "aad")
					if err == nil {
						var pt []byte
						pt, err = sign.Open(ctx, other, ek, ct, "aad")
						if err == nil && !bytes.Equal(pt, msg) {
							err = fmt.Errorf("round trip changed the message")
						}
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestKeysInJSON(t *testing.T) {
	k := testKey(t)
	b, err := json.Marshal(struct{ K *sign.PublicKey }{k.Public()})
	require.NoError(t, err)
	require.JSONEq(t, `{"K":"`+k.Public().Hex()+`"}`, string(b))
	var back struct{ K *sign.PublicKey }
	require.NoError(t, json.Unmarshal(b, &back))
	require.True(t, back.K.Equal(k.Public()))
	pem, err := k.Public().MarshalPEM()
	require.NoError(t, err)
	pemJSON, _ := json.Marshal(string(pem))
	require.NoError(t, json.Unmarshal([]byte(`{"K":`+string(pemJSON)+`}`), &back), "PEM reads too")
	require.Error(t, json.Unmarshal([]byte(`{"K":"04ab"}`), &back))
	require.Error(t, json.Unmarshal([]byte(`{"K":7}`), &back))

	_, err = json.Marshal(struct{ K *sign.PrivateKey }{k})
	require.ErrorIs(t, err, sign.ErrKeyJSON, "key material never leaves through encoding/json")
}

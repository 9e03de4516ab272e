package interop_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	tjsm2 "github.com/tjfoc/gmsm/sm2"
	tjx509 "github.com/tjfoc/gmsm/x509"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Interoperability with github.com/tjfoc/gmsm, the library many bank peers
// run: signatures, C1C3C2 ciphertexts and PEM keys must cross both ways.

var ctx = context.Background()

func tjfocPair(t *testing.T) (*tjsm2.PrivateKey, *sign.PrivateKey) {
	t.Helper()
	tk, err := tjsm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pem, err := tjx509.WritePrivateKeyToPem(tk, nil)
	require.NoError(t, err)
	ours, err := sign.ParsePrivateKey(pem)
	require.NoError(t, err, "a tjfoc PKCS#8 PEM must load here")
	return tk, ours
}

func TestInteropKeysPEM(t *testing.T) {
	tk, ours := tjfocPair(t)
	require.Equal(t, pad64(tjx509.WritePrivateKeyToHex(tk)), ours.Hex())

	tjPub, err := tjx509.WritePublicKeyToPem(&tk.PublicKey)
	require.NoError(t, err)
	pub, err := sign.ParsePublicKey(tjPub)
	require.NoError(t, err)
	require.True(t, pub.Equal(ours.Public()))

	// and ours load in tjfoc
	mine, err := sign.GenerateKey()
	require.NoError(t, err)
	privPEM, err := mine.MarshalPEM()
	require.NoError(t, err)
	back, err := tjx509.ReadPrivateKeyFromPem(privPEM, nil)
	require.NoError(t, err)
	require.Equal(t, mine.Hex(), pad64(tjx509.WritePrivateKeyToHex(back)))
	pubPEM, err := mine.Public().MarshalPEM()
	require.NoError(t, err)
	backPub, err := tjx509.ReadPublicKeyFromPem(pubPEM)
	require.NoError(t, err)
	point := mine.Public().Bytes()
	require.Equal(t, point[1:33], backPub.X.FillBytes(make([]byte, 32)))
	require.Equal(t, point[33:], backPub.Y.FillBytes(make([]byte, 32)))
}

// pad64 left-pads tjfoc's hex, which drops leading zero bytes (1 key in
// 256 has one), to the fixed 64-character width this package writes.
func pad64(h string) string { return strings.Repeat("0", 64-len(h)) + h }

func TestInteropSignatures(t *testing.T) {
	tk, ours := tjfocPair(t)
	for _, msg := range []string{"", "abc", "/api/v1/wallet/query?app_id=A1&msg_id=x", "中文字段=值&金额=100"} {
		sig, err := ours.Sign([]byte(msg))
		require.NoError(t, err)
		der, err := base64.StdEncoding.DecodeString(sig)
		require.NoError(t, err)
		require.True(t, tk.PublicKey.Verify([]byte(msg), der), "ours verifies under tjfoc: %q", msg)

		tjSig, err := tk.Sign(rand.Reader, []byte(msg), nil)
		require.NoError(t, err)
		require.NoError(t, ours.Public().Verify([]byte(msg), base64.StdEncoding.EncodeToString(tjSig)), "tjfoc's verifies here: %q", msg)
		require.Error(t, ours.Public().Verify([]byte(msg+"x"), base64.StdEncoding.EncodeToString(tjSig)))
	}
}

func TestInteropPINAndKeyEnvelope(t *testing.T) {
	tk, ours := tjfocPair(t)

	// ours → tjfoc: the PIN cipher and the SM2 half of Seal are the same C1C3C2 form.
	ct, err := sign.EncryptPIN(ours.Public(), "135790")
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(ct)
	require.NoError(t, err)
	pt, err := tjsm2.Decrypt(tk, raw, tjsm2.C1C3C2)
	require.NoError(t, err)
	require.Equal(t, "135790", string(pt))

	// tjfoc → ours
	tjCT, err := tjsm2.Encrypt(&tk.PublicKey, []byte("246801"), rand.Reader, tjsm2.C1C3C2)
	require.NoError(t, err)
	pin, err := ours.Decrypt(ctx, tjCT)
	require.NoError(t, err)
	require.Equal(t, "246801", string(pin))

	// tjfoc's C1C2C3 (the old order) must not pass as C1C3C2.
	old, err := tjsm2.Encrypt(&tk.PublicKey, []byte("246801"), rand.Reader, tjsm2.C1C2C3)
	require.NoError(t, err)
	_, err = ours.Decrypt(ctx, old)
	require.ErrorIs(t, err, sign.ErrDecrypt, "C1C2C3 must not open as C1C3C2")

	// A whole envelope whose SM4 key was wrapped by tjfoc opens here.
	ek, body, err := sign.Seal(ours.Public(), []byte(`{"a":"b"}`), "m1")
	require.NoError(t, err)
	ekRaw, err := base64.StdEncoding.DecodeString(ek)
	require.NoError(t, err)
	key, err := tjsm2.Decrypt(tk, ekRaw, tjsm2.C1C3C2)
	require.NoError(t, err)
	require.Len(t, key, 16)
	rewrapped, err := tjsm2.Encrypt(&tk.PublicKey, key, rand.Reader, tjsm2.C1C3C2)
	require.NoError(t, err)
	got, err := sign.Open(ctx, ours, base64.StdEncoding.EncodeToString(rewrapped), body, "m1")
	require.NoError(t, err)
	require.Equal(t, `{"a":"b"}`, string(got))
}

package sign

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/emmansun/gmsm/sm4"
	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/envelope"
	"github.com/xinyun-open/ewallet-go/internal/vectors"
)

// These tests run every entry of the conformance vectors that concerns the
// primitives (docs/protocol.md, sections 1 and 2). They live inside the package so
// that the SM4-GCM entries can be sealed with their fixed nonce.

func loadKeys(t *testing.T) vectors.Keys {
	t.Helper()
	k, err := vectors.LoadKeys()
	require.NoError(t, err)
	return k
}

func TestVectorKeysPEMAndHexAgree(t *testing.T) {
	keys := loadKeys(t)
	for _, name := range []string{"merchant", "bank", "bank_next"} {
		t.Run(name, func(t *testing.T) {
			p := keys.Pair(name)
			fromPEM, err := ParsePrivateKey([]byte(p.PrivatePEM))
			require.NoError(t, err)
			fromHex, err := ParsePrivateKey([]byte(p.PrivateHex))
			require.NoError(t, err)
			require.Equal(t, p.PrivateHex, fromPEM.Hex())
			require.Equal(t, p.PrivateHex, fromHex.Hex())

			pubPEM, err := ParsePublicKey([]byte(p.PublicPEM))
			require.NoError(t, err)
			pubHex, err := ParsePublicKey([]byte(p.PublicHex))
			require.NoError(t, err)
			require.True(t, pubPEM.Equal(pubHex))
			require.True(t, fromPEM.Public().Equal(pubPEM))
			require.Equal(t, p.PublicHex, pubPEM.Hex())

			// and our own encodings load back to the same key
			pem, err := fromHex.MarshalPEM()
			require.NoError(t, err)
			again, err := ParsePrivateKey(pem)
			require.NoError(t, err)
			require.Equal(t, p.PrivateHex, again.Hex())
			pubOut, err := pubHex.MarshalPEM()
			require.NoError(t, err)
			require.Equal(t, p.PublicPEM, string(pubOut))
		})
	}
	gm, err := ParsePublicKey([]byte(keys.GMT0003.PublicHex))
	require.NoError(t, err)
	require.Equal(t, keys.GMT0003.PublicHex, "04"+hexUpper(gm.Hex()[2:]))
}

func hexUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

func TestVectorSM3(t *testing.T) {
	var cases []vectors.SM3Case
	require.NoError(t, vectors.Load("sm3.json", &cases))
	require.NotEmpty(t, cases)
	for _, c := range cases {
		in, err := hex.DecodeString(c.InputHex)
		require.NoError(t, err)
		require.Equal(t, c.SumHex, SM3Hex(in))
		require.Equal(t, c.SumHex, hex.EncodeToString(SM3(in)))
	}
}

func TestVectorSM4(t *testing.T) {
	var v vectors.SM4
	require.NoError(t, vectors.Load("sm4.json", &v))

	t.Run("block", func(t *testing.T) {
		key := mustHex(t, v.Block.KeyHex)
		c, err := sm4.NewCipher(key)
		require.NoError(t, err)
		out := make([]byte, 16)
		c.Encrypt(out, mustHex(t, v.Block.PlaintextHex))
		require.Equal(t, v.Block.CiphertextHex, hex.EncodeToString(out))
	})
	t.Run("gcm_rfc8998", func(t *testing.T) {
		r := v.GCMRFC8998
		aead, err := envelope.NewGCM(mustHex(t, r.KeyHex))
		require.NoError(t, err)
		got := aead.Seal(nil, mustHex(t, r.NonceHex), mustHex(t, r.PlaintextHex), mustHex(t, r.AADHex))
		require.Equal(t, r.CiphertextAndTagHex, hex.EncodeToString(got))
		pt, err := aead.Open(nil, mustHex(t, r.NonceHex), got, mustHex(t, r.AADHex))
		require.NoError(t, err)
		require.Equal(t, r.PlaintextHex, hex.EncodeToString(pt))
	})
	require.NotEmpty(t, v.GCM)
	for i, g := range v.GCM {
		t.Run("gcm/"+vectors.Name(i, true, ""), func(t *testing.T) {
			key := mustHex(t, g.KeyHex)
			sealed, err := base64.StdEncoding.DecodeString(g.SealedB64)
			require.NoError(t, err)
			pt, err := envelope.OpenBody(key, append([]byte(nil), sealed...), g.AAD)
			require.NoError(t, err)
			require.Equal(t, g.PlaintextHex, hex.EncodeToString(pt))

			again, err := envelope.SealBody(key, mustHex(t, g.NonceHex), mustHex(t, g.PlaintextHex), g.AAD)
			require.NoError(t, err)
			require.Equal(t, g.SealedB64, base64.StdEncoding.EncodeToString(again))

			_, err = envelope.OpenBody(key, append([]byte(nil), sealed...), g.AAD+"x")
			require.Error(t, err, "another AAD must not open it")
		})
	}
}

func TestVectorSM2Sign(t *testing.T) {
	keys := loadKeys(t)
	var cases []vectors.SignCase
	require.NoError(t, vectors.Load("sm2_sign.json", &cases))
	require.NotEmpty(t, cases)
	for i, c := range cases {
		t.Run(vectors.Name(i, c.Valid, c.Key), func(t *testing.T) {
			pub, err := ParsePublicKey([]byte(keys.Pair(c.Key).PublicHex))
			require.NoError(t, err)
			err = pub.Verify([]byte(c.Message), c.SignatureB64)
			if c.Valid {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrInvalidSignature)
			}
		})
	}
}

func TestVectorSM2Encrypt(t *testing.T) {
	keys := loadKeys(t)
	var cases []vectors.EncryptCase
	require.NoError(t, vectors.Load("sm2_encrypt.json", &cases))
	require.NotEmpty(t, cases)
	for i, c := range cases {
		t.Run(vectors.Name(i, true, c.Key), func(t *testing.T) {
			require.Equal(t, "C1C3C2", c.Order)
			k, err := ParsePrivateKey([]byte(keys.Pair(c.Key).PrivatePEM))
			require.NoError(t, err)
			ct, err := base64.StdEncoding.DecodeString(c.CiphertextB64)
			require.NoError(t, err)
			want := mustHex(t, c.PlaintextHex)
			pt, err := k.Decrypt(context.Background(), ct)
			require.NoError(t, err)
			require.Equal(t, hex.EncodeToString(want), hex.EncodeToString(pt))
		})
	}
}

func TestVectorCanonical(t *testing.T) {
	var cases []vectors.CanonicalCase
	require.NoError(t, vectors.Load("canonical.json", &cases))
	require.NotEmpty(t, cases)
	keys := loadKeys(t)
	k, err := ParsePrivateKey([]byte(keys.Merchant.PrivatePEM))
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.Path, func(t *testing.T) {
			require.Equal(t, c.Canonical, Canonical(c.Path, c.Fields))
			// The streaming signer hashes exactly the canonical string.
			sig, err := SignCanonical(context.Background(), k, c.Path, c.Fields)
			require.NoError(t, err)
			require.NoError(t, k.Public().Verify([]byte(c.Canonical), sig))
			sig, err = k.Sign([]byte(c.Canonical))
			require.NoError(t, err)
			require.NoError(t, k.Public().VerifyCanonical(c.Path, c.Fields, sig))
		})
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	require.NoError(t, err)
	return b
}

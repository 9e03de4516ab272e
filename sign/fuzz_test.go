package sign_test

import (
	"encoding/base64"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Fuzz targets for every parser of outside bytes in this package. None may
// panic; whatever they accept must behave like a key or a plaintext.

func fuzzKeys(f *testing.F) vectors.Keys {
	keys, err := vectors.LoadKeys()
	if err != nil {
		f.Fatal(err)
	}
	return keys
}

func FuzzParsePrivateKey(f *testing.F) {
	keys := fuzzKeys(f)
	for _, p := range []vectors.KeyPair{keys.Merchant, keys.Bank, keys.BankNext} {
		f.Add([]byte(p.PrivatePEM))
		f.Add([]byte(p.PrivateHex))
		f.Add([]byte(p.PublicPEM))
	}
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := sign.ParsePrivateKey(data)
		if err != nil {
			if k != nil {
				t.Fatal("key with error")
			}
			return
		}
		if len(k.Hex()) != 64 || len(k.Public().Hex()) != 130 {
			t.Fatalf("accepted key has bad widths")
		}
		sig, err := k.Sign(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Public().Verify(data, sig); err != nil {
			t.Fatal("accepted key does not verify its own signature")
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	keys := fuzzKeys(f)
	for _, p := range []vectors.KeyPair{keys.Merchant, keys.Bank, keys.BankNext, keys.GMT0003} {
		f.Add([]byte(p.PublicPEM))
		f.Add([]byte(p.PublicHex))
	}
	f.Add([]byte("04" + keys.Merchant.PublicHex[4:] + "00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := sign.ParsePublicKey(data)
		if err != nil {
			return
		}
		again, err := sign.ParsePublicKey([]byte(k.Hex()))
		if err != nil || !again.Equal(k) {
			t.Fatalf("accepted key does not round-trip through hex: %v", err)
		}
		pem, err := k.MarshalPEM()
		if err != nil {
			t.Fatal(err)
		}
		if back, err := sign.ParsePublicKey(pem); err != nil || !back.Equal(k) {
			t.Fatalf("accepted key does not round-trip through PEM: %v", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	keys := fuzzKeys(f)
	pub, err := sign.ParsePublicKey([]byte(keys.Merchant.PublicHex))
	if err != nil {
		f.Fatal(err)
	}
	var cases []vectors.SignCase
	if err := vectors.Load("sm2_sign.json", &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add([]byte(c.Message), c.SignatureB64)
	}
	f.Fuzz(func(t *testing.T, msg []byte, sig string) {
		_ = pub.Verify(msg, sig)
	})
}

func FuzzOpen(f *testing.F) {
	keys := fuzzKeys(f)
	k, err := sign.ParsePrivateKey([]byte(keys.Merchant.PrivateHex))
	if err != nil {
		f.Fatal(err)
	}
	ek, ct, err := sign.Seal(k.Public(), []byte(`{"a":1}`), "m")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ek, ct, "m")
	f.Add(ek, ct, "")
	f.Add("", "", "")
	f.Fuzz(func(t *testing.T, encryptKey, ciphertext, aad string) {
		pt, err := sign.Open(ctx, k, encryptKey, ciphertext, aad)
		if err != nil && pt != nil {
			t.Fatal("plaintext with error")
		}
		if raw, err := base64.StdEncoding.DecodeString(encryptKey); err == nil {
			if pt, err := k.Decrypt(ctx, raw); err != nil && pt != nil {
				t.Fatal("plaintext with error")
			}
		}
	})
}

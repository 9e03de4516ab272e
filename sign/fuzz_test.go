package sign_test

import (
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/xinyun-open/ewallet-go/internal/vectors"
	"github.com/xinyun-open/ewallet-go/sign"
)

// Fuzz targets for every parser of outside bytes in this package. None may
// panic; whatever they accept must behave like a key, a certificate of that
// key, or a plaintext.

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

func FuzzParseCFCAKey(f *testing.F) {
	text := keyFile(f, "merchant.sm2")
	der, err := decodeBase64Lines(text)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text, []byte("test-password"))
	f.Add(der, []byte("test-password"))
	f.Add(der, []byte("wrong"))
	f.Add(keyFile(f, "cfca-sadk-sample.sm2"), []byte("123456"))
	f.Add(keyFile(f, "merchant.key.pem"), []byte("test-password"))
	f.Add([]byte("-----BEGIN CFCA KEY-----\nMAA=\n-----END CFCA KEY-----\n"), []byte("x"))
	f.Fuzz(func(t *testing.T, data, password []byte) {
		key, cert, err := sign.ParseCFCAKey(data, password)
		if err != nil {
			if key != nil || cert != nil {
				t.Fatal("key or certificate with an error")
			}
			return
		}
		if !cert.PublicKey().Equal(key.Public()) {
			t.Fatal("accepted a key with another key's certificate")
		}
		sig, err := key.Sign(data)
		if err != nil {
			t.Fatal(err)
		}
		if err := cert.PublicKey().Verify(data, sig); err != nil {
			t.Fatal("the certificate's key does not verify the key's signature")
		}
	})
}

func FuzzParseCertificate(f *testing.F) {
	pemCert := keyFile(f, "merchant.crt.pem")
	f.Add(pemCert)
	f.Add(keyFile(f, "test-ca.crt.pem"))
	if c, err := sign.ParseCertificate(pemCert); err == nil {
		f.Add(c.Raw)
		f.Add([]byte(base64.StdEncoding.EncodeToString(c.Raw)))
	}
	f.Add(append(keyFile(f, "merchant.key.pem"), pemCert...))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := sign.ParseCertificate(data)
		if err != nil {
			if c != nil {
				t.Fatal("certificate with an error")
			}
			return
		}
		if c.PublicKey() == nil || c.SerialNumber == nil {
			t.Fatal("accepted certificate without key or serial")
		}
		again, err := sign.ParseCertificate(c.Raw)
		if err != nil || !bytes.Equal(again.Raw, c.Raw) || !again.PublicKey().Equal(c.PublicKey()) {
			t.Fatalf("accepted certificate does not round-trip through its DER: %v", err)
		}
		if pub, err := sign.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})); err != nil || !pub.Equal(c.PublicKey()) {
			t.Fatalf("ParsePublicKey disagrees with ParseCertificate: %v", err)
		}
	})
}

func FuzzParseKeyPair(f *testing.F) {
	certPEM, keyPEM := keyFile(f, "merchant.crt.pem"), keyFile(f, "merchant.key.pem")
	f.Add(certPEM, keyPEM)
	f.Add(keyFile(f, "test-ca.crt.pem"), keyPEM)
	bundle := append(append([]byte(nil), certPEM...), keyPEM...)
	f.Add(bundle, bundle)
	if k, err := sign.ParsePrivateKey(keyPEM); err == nil {
		f.Add(certPEM, []byte(k.Hex()))
	}
	f.Add([]byte(""), []byte(""))
	f.Fuzz(func(t *testing.T, certData, keyData []byte) {
		// No password: an encrypted key is refused before its key
		// derivation, which would make each run slow.
		key, cert, err := sign.ParseKeyPair(certData, keyData, nil)
		if err != nil {
			if key != nil || cert != nil {
				t.Fatal("key or certificate with an error")
			}
			return
		}
		if !cert.PublicKey().Equal(key.Public()) {
			t.Fatal("accepted a pair that does not match")
		}
	})
}

// decodeBase64Lines decodes base64 text broken into lines.
func decodeBase64Lines(text []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(text)), ""))
}

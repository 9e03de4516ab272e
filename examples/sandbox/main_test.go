package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
	"github.com/xinyun-open/ewallet-go/sign"
)

// TestWriteKeysOverwritesOneFolder: the keys go to one folder, labelled as
// test keys, and a second start overwrites the first's files.
func TestWriteKeysOverwritesOneFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "test-keys")
	bank, err := sandbox.New(sandbox.Options{})
	require.NoError(t, err)
	defer bank.Close()
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merchant_public_key.pem"), []byte("stale"), 0o600))

	require.NoError(t, writeKeys(dir, bank.Credentials()))
	require.NoError(t, writeKeys(dir, bank.Credentials()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"README.txt", "merchant_private_key.pem", "merchant_public_key.pem",
		sandbox.DefaultBankKeyID + ".pem", sandbox.DefaultNextBankKeyID + ".pem"}, names)
	readme, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "TEST KEYS")
	pub, err := os.ReadFile(filepath.Join(dir, "merchant_public_key.pem"))
	require.NoError(t, err)
	require.Equal(t, sandbox.DefaultMerchantPublicKeyPEM, string(pub))

	// Registered again with another key: the old private key goes.
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	require.NoError(t, bank.RegisterMerchant(sandbox.Merchant{AppID: sandbox.DefaultAppID, MerchantID: sandbox.DefaultMerchantID, PublicKey: k.Public()}))
	require.NoError(t, writeKeys(dir, bank.Credentials()))
	require.NoFileExists(t, filepath.Join(dir, "merchant_private_key.pem"))

	d, err := defaultKeysDir()
	require.NoError(t, err)
	require.Equal(t, filepath.Join("ewallet-sandbox", "test-keys"), filepath.Join(filepath.Base(filepath.Dir(d)), filepath.Base(d)))
}

// TestBannerListsMerchants: the banner names every merchant app and where
// its notifications go.
func TestBannerListsMerchants(t *testing.T) {
	k, err := sign.GenerateKey()
	require.NoError(t, err)
	bank, err := sandbox.New(sandbox.Options{Merchants: []sandbox.Merchant{
		{AppID: "shop-app", MerchantID: "M200000002", PublicKey: k.Public(), NotifyURL: "http://127.0.0.1:9001/notify"},
	}})
	require.NoError(t, err)
	defer bank.Close()
	var out bytes.Buffer
	banner(&out, "http://127.0.0.1:8360", "/tmp/keys", bank)
	require.Contains(t, out.String(), "shop-app / M200000002 → http://127.0.0.1:9001/notify")
	require.Contains(t, out.String(), sandbox.DefaultAppID+" / "+sandbox.DefaultMerchantID+" → (none: notifications are not sent)  [built-in test merchant]")
	require.Contains(t, out.String(), "TEST keys     /tmp/keys")
}

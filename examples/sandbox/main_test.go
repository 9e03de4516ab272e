package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

// TestWriteKeysOverwritesOneFolder: the keys go to one folder, labelled as
// test keys, and a second start overwrites the first's files.
func TestWriteKeysOverwritesOneFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "test-keys")
	sb := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	creds, err := sb.Credentials()
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "merchant_public_key.pem"), []byte("stale"), 0o600))

	require.NoError(t, writeKeys(dir, creds))
	require.NoError(t, writeKeys(dir, creds))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{"README.txt", "merchant_private_key.pem", "merchant_public_key.pem",
		"bank-2026-01.pem", "bank-2026-07.pem"}, names)
	readme, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	require.NoError(t, err)
	require.Contains(t, string(readme), "TEST KEYS")
	pub, err := os.ReadFile(filepath.Join(dir, "merchant_public_key.pem"))
	require.NoError(t, err)
	k, err := sign.ParsePublicKey(pub)
	require.NoError(t, err)
	require.True(t, k.Equal(creds.MerchantKey.Public()))

	// Registered again with another key: the old key pair goes.
	other, err := sign.GenerateKey()
	require.NoError(t, err)
	sb.RegisterMerchant(creds.AppID, creds.MerchantID, other.Public(), "")
	creds, err = sb.Credentials()
	require.NoError(t, err)
	require.Nil(t, creds.MerchantKey)
	require.NoError(t, writeKeys(dir, creds))
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
	sb := wallettest.NewServer(t, wallettest.WithoutNotifyReceiver())
	sb.RegisterMerchant("shop-app", "M200000002", k.Public(), "http://127.0.0.1:9001/notify")
	creds, err := sb.Credentials()
	require.NoError(t, err)
	var out bytes.Buffer
	banner(&out, "http://127.0.0.1:8360", "/tmp/keys", creds, sb.Merchants())
	require.Contains(t, out.String(), "shop-app / M200000002 → http://127.0.0.1:9001/notify")
	require.Contains(t, out.String(), creds.AppID+" / "+creds.MerchantID+" → (none: notifications are not sent)  [built-in test merchant]")
	require.Contains(t, out.String(), "TEST keys     /tmp/keys")
}

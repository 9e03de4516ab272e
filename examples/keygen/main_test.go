package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
)

func TestKeygen(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TEST_KEY_PASSWORD", "correct horse battery staple")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-out", dir, "-password-env", "TEST_KEY_PASSWORD"}, &out))
	require.Contains(t, out.String(), "a signed, encrypted wallet/query with the new key answered opened=false")
	require.Contains(t, out.String(), "SIGNATURE_INVALID")

	st, err := os.Stat(filepath.Join(dir, "merchant_private_key.pem"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the private key is for its owner only")
	priv, _ := os.ReadFile(filepath.Join(dir, "merchant_private_key.pem"))
	pub, _ := os.ReadFile(filepath.Join(dir, "merchant_public_key.pem"))
	require.NotContains(t, out.String(), string(priv), "the private key is never printed")
	k, err := sign.ParseEncryptedPrivateKey(priv, []byte("correct horse battery staple"))
	require.NoError(t, err)
	p, err := sign.ParsePublicKey(pub)
	require.NoError(t, err)
	require.True(t, k.Public().Equal(p))
}

func TestKeygenNeverOverwritesAKey(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-out", dir, "-register=false"}, &out))
	before, err := os.ReadFile(filepath.Join(dir, "merchant_private_key.pem"))
	require.NoError(t, err)
	err = run(context.Background(), []string{"-out", dir, "-register=false"}, &out)
	require.ErrorContains(t, err, "exists already")
	after, err := os.ReadFile(filepath.Join(dir, "merchant_private_key.pem"))
	require.NoError(t, err)
	require.Equal(t, before, after)
}

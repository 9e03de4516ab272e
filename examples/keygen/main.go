// Command keygen makes the merchant's SM2 key pair: the private key stays
// with the merchant (PEM PKCS#8, optionally password-encrypted), the public
// key is what to give the bank. It then proves the pair works: it registers
// the public key with a sandbox as a new app and makes a signed, encrypted
// call with the private key.
//
//	go run ./examples/keygen -out ./keys                  # files keys/merchant_private_key.pem, keys/merchant_public_key.pem
//	go run ./examples/keygen -out ./keys -password-env KEY_PASSWORD
//
// Keys made for the sandbox are TEST keys; make production keys on the
// machine that will hold them, and keep them in a secret store.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/xinyun-open/ewallet-go/examples/internal/connect"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() { connect.Main("keygen", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	dir := fs.String("out", "", "folder for the PEM files (default: a new temporary folder)")
	passwordEnv := fs.String("password-env", "", "name of an environment variable holding a password to encrypt the private key with")
	appID := fs.String("register-app-id", "keygen-demo-app", "app id to register the new key under in the sandbox (empty: do not)")
	var f connect.Flags
	f.Register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}

	key, err := sign.GenerateKey()
	if err != nil {
		return err
	}
	var privPEM []byte
	if *passwordEnv != "" {
		pw := os.Getenv(*passwordEnv)
		if pw == "" {
			return fmt.Errorf("environment variable %s is empty", *passwordEnv)
		}
		privPEM, err = key.MarshalEncryptedPEM([]byte(pw))
	} else {
		privPEM, err = key.MarshalPEM()
	}
	if err != nil {
		return err
	}
	pubPEM, err := key.Public().MarshalPEM()
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "ewallet-keys-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	privFile := filepath.Join(*dir, "merchant_private_key.pem")
	pubFile := filepath.Join(*dir, "merchant_public_key.pem")
	// The private key is readable by its owner only.
	if err := os.WriteFile(privFile, privPEM, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(pubFile, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "new SM2 key pair, fingerprint %s\n", key.Public().Fingerprint())
	fmt.Fprintf(out, "  private key  %s (keep it secret; never commit it)\n", privFile)
	fmt.Fprintf(out, "  public key   %s — give this to the bank:\n\n%s\n", pubFile, pubPEM)

	if *appID == "" {
		return nil
	}
	env, err := connect.Open(ctx, f)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Config
	cfg.AppID, cfg.MerchantID, cfg.PrivateKey = *appID, "M900000009", key
	if err := env.RegisterMerchant(ctx, cfg, ""); err != nil {
		return err
	}
	c, err := wallet.NewClient(cfg)
	if err != nil {
		return err
	}
	p := wallettest.Person()
	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	if err != nil {
		return fmt.Errorf("a call with the new key failed: %w", err)
	}
	fmt.Fprintf(out, "registered with the sandbox at %s as app %s; a signed, encrypted wallet/query with the new key answered opened=%v\n", env.BaseURL, cfg.AppID, w.Opened)

	// And a key the bank does not know is refused: the bank verifies every request.
	stranger, _ := sign.GenerateKey()
	cfg.PrivateKey = stranger
	c, _ = wallet.NewClient(cfg)
	_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	if !errors.Is(err, wallet.ErrSignatureInvalid) {
		return fmt.Errorf("a key the bank does not know was not refused: %v", err)
	}
	fmt.Fprintln(out, "a call signed with another key is refused: SIGNATURE_INVALID")
	return nil
}

// Command keygen makes the merchant's SM2 key pair: the private key stays
// with the merchant (PEM PKCS#8, optionally password-encrypted), the public
// key is what to give the bank. It then proves the pair works: it registers
// the public key with a sandbox as a new app of its own and makes a signed,
// encrypted call with the private key.
//
//	go run ./examples/keygen -out ./keys                    # keys/merchant_private_key.pem, keys/merchant_public_key.pem
//	KEY_PASSWORD=… go run ./examples/keygen -out ./keys -password-env KEY_PASSWORD
//	go run ./examples/keygen -out ./keys -base-url http://127.0.0.1:8360   # prove it on a standalone sandbox (go run ./examples/sandbox)
//	go run ./examples/keygen -out ./keys -register=false     # no sandbox at all
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

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "keygen:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	dir := fs.String("out", "", "folder for the PEM files (default: a new temporary folder)")
	passwordEnv := fs.String("password-env", "", "name of an environment variable holding a password to encrypt the private key with")
	register := fs.Bool("register", true, "prove the pair on a sandbox: register the public key as a new app and call with the private key")
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
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
			return fmt.Errorf("-password-env: the environment variable %s is empty", *passwordEnv)
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
	// The private key is readable by its owner only, and never overwritten:
	// a key the bank already holds the public half of must not be lost.
	for _, f := range []string{privFile, pubFile} {
		if _, err := os.Lstat(f); err == nil {
			return fmt.Errorf("%s exists already: move it away, or choose another -out", f)
		}
	}
	if err := writeNew(privFile, privPEM, 0o600); err != nil {
		return err
	}
	if err := writeNew(pubFile, pubPEM, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "new SM2 key pair, fingerprint %s\n", key.Public().Fingerprint())
	fmt.Fprintf(out, "  private key  %s (keep it secret; never commit it)\n", privFile)
	fmt.Fprintf(out, "  public key   %s — give this to the bank:\n\n%s\n", pubFile, pubPEM)

	if !*register {
		return nil
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("keygen"), wallettest.WithMerchantKey(key))
	if err != nil {
		return err
	}
	defer sb.Close()
	c, err := wallet.NewClient(sb.Config)
	if err != nil {
		return err
	}
	p := wallettest.Person()
	w, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	if err != nil {
		return fmt.Errorf("a call with the new key failed: %w", err)
	}
	fmt.Fprintf(out, "registered with the sandbox at %s as app %s; a signed, encrypted wallet/query with the new key answered opened=%v\n", sb.URL, c.AppID(), w.Opened)

	// And a key the bank does not know is refused: the bank verifies every
	// request.
	stranger, err := sign.GenerateKey()
	if err != nil {
		return err
	}
	cfg := sb.Config
	cfg.PrivateKey = stranger
	if c, err = wallet.NewClient(cfg, wallet.WithRetry(0)); err != nil {
		return err
	}
	_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
	if !errors.Is(err, wallet.ErrSignatureInvalid) {
		return fmt.Errorf("a key the bank does not know was not refused: %v", err)
	}
	fmt.Fprintln(out, "a call signed with another key is refused: SIGNATURE_INVALID")
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(name string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s exists already: move it away, or choose another -out", name)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

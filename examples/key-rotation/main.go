// Command key-rotation shows the client following the bank through a key
// rotation: it starts trusting one bank key, learns the next one from
// platform/keys (a list it accepts only because it verifies under the key
// it already trusts), and keeps verifying when the bank switches keys.
//
//	go run ./examples/key-rotation                                 # a sandbox embedded in the program
//	go run ./examples/key-rotation -base-url http://127.0.0.1:8360 # a standalone one (go run ./examples/sandbox)
//
// It registers a merchant of its own with the sandbox (a fresh TEST key, a
// unique app id). The key the bank signs with is the sandbox's, for every
// merchant: on a standalone sandbox it switches it for a moment and puts
// the one it found back at the end, so clients that trust both sandbox
// keys (the sandbox's credentials list both) notice nothing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "key-rotation:", err)
		os.Exit(1)
	}
}

const (
	oldKey = "bank-2026-01"
	newKey = "bank-2026-07"
)

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("key-rotation", flag.ContinueOnError)
	baseURL := fs.String("base-url", "", "a standalone sandbox, e.g. http://127.0.0.1:8360 (default: one embedded in this program)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sb, err := wallettest.Connect(ctx, *baseURL, wallettest.WithAppName("key-rotation"))
	if err != nil {
		return err
	}
	defer sb.Close()
	fmt.Fprintf(out, "on the sandbox at %s as app %s\n", sb.URL, sb.Config.AppID)
	if sb.Config.BankKeys[oldKey] == nil || sb.Config.BankKeys[newKey] == nil {
		return fmt.Errorf("the sandbox at %s does not have the bank keys %s and %s", sb.URL, oldKey, newKey)
	}
	found, err := sb.SetSigningKey(ctx, oldKey)
	if err != nil {
		return err
	}
	defer func() { _, _ = sb.SetSigningKey(context.WithoutCancel(ctx), found) }()

	// A client configured with the old key only, as a merchant's config file
	// from last year would have it.
	cfg := sb.Config
	cfg.BankKeys = map[string]*sign.PublicKey{oldKey: cfg.BankKeys[oldKey]}
	c, err := wallet.NewClient(cfg, wallet.WithRetry(0))
	if err != nil {
		return err
	}
	p := wallettest.Person()
	query := func() error {
		_, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		return err
	}
	printKeys := func(when string) error {
		// The key requests (and the users' PINs) are encrypted to.
		pinKey, err := c.PINKey()
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: trusts", when)
		for _, k := range c.BankKeys() {
			fmt.Fprintf(out, " %s", k.ID)
		}
		fmt.Fprintf(out, "; encrypts to %s\n", pinKey.KeyID)
		return nil
	}
	if err := printKeys("configured"); err != nil {
		return err
	}

	// Had the bank switched now, every answer would be refused: an unknown
	// signing key is a verification failure, never a silent pass.
	if _, err := sb.SetSigningKey(ctx, newKey); err != nil {
		return err
	}
	err = query()
	fmt.Fprintf(out, "bank signs with %s before the client learnt it: unverified=%v\n", newKey, errors.Is(err, wallet.ErrUnverifiedResponse))
	if _, err := sb.SetSigningKey(ctx, oldKey); err != nil {
		return err
	}

	// So the client refreshes ahead of time (RefreshBankKeysEvery in a
	// long-running service; the bank lists a key well before it signs with
	// it).
	stop := c.RefreshBankKeysEvery(time.Hour)
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.BankKeys()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := printKeys("after platform/keys"); err != nil {
		return err
	}

	if _, err := sb.SetSigningKey(ctx, newKey); err != nil {
		return err
	}
	if err := query(); err != nil {
		return fmt.Errorf("after the rotation: %w", err)
	}
	fmt.Fprintf(out, "bank rotated to %s: answers verify, requests are encrypted to the newest key\n", newKey)
	return nil
}

// Command key-rotation shows the client following the bank through a key
// rotation: it starts trusting one bank key, learns the next one from
// platform/keys (a list it accepts only because it verifies under the key
// it already trusts), and keeps verifying when the bank switches keys.
//
//	go run ./examples/key-rotation
//	go run ./examples/key-rotation -base-url http://127.0.0.1:8360
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/xinyun-open/ewallet-go/examples/internal/connect"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func main() { connect.Main("key-rotation", run) }

func run(ctx context.Context, args []string, out io.Writer) error {
	env, err := connect.Setup(ctx, "key-rotation", args, nil)
	if err != nil {
		return err
	}
	defer env.Close()
	if err := env.SetSigningKey(ctx, "bank-2026-01"); err != nil {
		return err
	}
	defer func() { _ = env.SetSigningKey(context.Background(), "bank-2026-01") }()

	// A client configured with the old key only, as a merchant's config file
	// from last year would have it.
	cfg := env.Config
	cfg.BankKeys = map[string]*sign.PublicKey{"bank-2026-01": cfg.BankKeys["bank-2026-01"]}
	c, err := wallet.NewClient(cfg, wallet.WithRetry(0))
	if err != nil {
		return err
	}
	p := wallettest.Person()
	query := func() error {
		_, err := c.Query(ctx, wallet.QueryRequest{IDNumber: p.IDNumber, Mobile: p.Mobile, UserID: p.UserID})
		return err
	}
	printKeys := func(when string) {
		id, _, _ := c.EncryptKey()
		fmt.Fprintf(out, "%s: trusts", when)
		for _, k := range c.BankKeys() {
			fmt.Fprintf(out, " %s", k.ID)
		}
		fmt.Fprintf(out, "; encrypts to %s\n", id)
	}
	printKeys("configured")

	// Had the bank switched now, every answer would be refused: an unknown
	// signing key is a verification failure, never a silent pass.
	if err := env.SetSigningKey(ctx, "bank-2026-07"); err != nil {
		return err
	}
	err = query()
	fmt.Fprintf(out, "bank signs with bank-2026-07 before the client learnt it: unverified=%v\n", errors.Is(err, wallet.ErrUnverifiedResponse))
	if err := env.SetSigningKey(ctx, "bank-2026-01"); err != nil {
		return err
	}

	// So the client refreshes ahead of time (RefreshBankKeysEvery in a
	// long-running service).
	stop := c.RefreshBankKeysEvery(time.Hour)
	defer stop()
	deadline := time.Now().Add(5 * time.Second)
	for len(c.BankKeys()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	printKeys("after platform/keys")

	if err := env.SetSigningKey(ctx, "bank-2026-07"); err != nil {
		return err
	}
	if err := query(); err != nil {
		return fmt.Errorf("after the rotation: %w", err)
	}
	fmt.Fprintln(out, "bank rotated to bank-2026-07: answers verify, requests are encrypted to the newest key")
	return nil
}

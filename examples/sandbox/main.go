// Command sandbox runs the sandbox bank as a standalone server on loopback,
// so that any client (this SDK, curl, another language) can be pointed at
// it:
//
//	go run ./examples/sandbox
//	go run ./examples/sandbox -addr 127.0.0.1:9000 -state sandbox-state.jsonl -notify-scale 0.01
//
// On start it prints the base URL, every registered merchant app with the
// URL its notifications go to, and the folder where it wrote the TEST key
// pair of the built-in merchant and the bank's public keys as PEM files:
// one stable folder (under the user's cache folder unless -keys-dir says
// otherwise), overwritten on each start. Every key is a TEST key. SIGINT or
// SIGTERM shut it down cleanly: in-flight calls finish, then pending
// notifications stop and the state file is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:8360", "listen address")
	state := flag.String("state", "", "file that keeps the bank's state across restarts, JSON lines (default: memory only)")
	scale := flag.Float64("notify-scale", 1, "multiplies the notification retry schedule (0.01 turns 15 s into 150 ms)")
	keysDir := flag.String("keys-dir", "", "folder for the TEST key PEM files, overwritten on start (default: ewallet-sandbox/test-keys in the user's cache folder)")
	verbose := flag.Bool("v", false, "log every API call")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Addr tells the control API which Host besides loopback is this
	// sandbox's own (docs/protocol.md, section 11).
	bank, err := sandbox.New(sandbox.Options{StatePath: *state, NotifyScale: *scale, Logger: logger, Addr: *addr})
	if err != nil {
		return err
	}
	defer bank.Close()

	dir := *keysDir
	if dir == "" {
		if dir, err = defaultKeysDir(); err != nil {
			return err
		}
	}
	if err := writeKeys(dir, bank.Credentials()); err != nil {
		return fmt.Errorf("write the test keys to %s: %w", dir, err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		logger.Warn("listening beyond loopback: the sandbox publishes its test keys to anyone who can reach it", "addr", ln.Addr())
	}
	banner(os.Stdout, "http://"+ln.Addr().String(), dir, bank)

	srv := &http.Server{Handler: bank, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return bank.Close()
}

// banner prints where the sandbox listens, its merchants and their notify
// URLs, and where the test keys are.
func banner(w io.Writer, base, keysDir string, bank *sandbox.Bank) {
	creds := bank.Credentials()
	fmt.Fprintf(w, "sandbox bank listening\n  base URL      %s\n", base)
	fmt.Fprintf(w, "  merchants     (app id / merchant id → notify URL; register more with POST %s/sandbox/merchants)\n", base)
	for _, m := range bank.Merchants() {
		notify := m.NotifyURL
		if notify == "" {
			notify = "(none: notifications are not sent)"
		}
		builtIn := ""
		if m.AppID == creds.AppID {
			builtIn = "  [built-in test merchant]"
		}
		fmt.Fprintf(w, "                %s / %s → %s%s\n", m.AppID, m.MerchantID, notify, builtIn)
	}
	fmt.Fprintf(w, `  TEST keys     %s
                merchant_private_key.pem, merchant_public_key.pem, and one <key_id>.pem per bank key
                (test keys, published on purpose: never use them for anything real)
  signing key   %s
  control API   %s/sandbox/credentials
`, keysDir, creds.SigningKeyID, base)
}

// defaultKeysDir is the one folder the test keys go to on this machine, so
// that each run overwrites the last instead of leaving a new one behind.
func defaultKeysDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the test keys (set -keys-dir): %w", err)
	}
	return filepath.Join(cache, "ewallet-sandbox", "test-keys"), nil
}

// keysReadme labels the folder: what is in it is test data.
const keysReadme = `TEST KEYS of the e-wallet sandbox bank (examples/sandbox).

These are the built-in test merchant's key pair and the sandbox bank's
public keys. They are published on purpose, for tests against the sandbox
only: never use them for anything real. The sandbox overwrites this folder
each time it starts.
`

// writeKeys writes the test credentials as PEM files into dir, replacing
// what an earlier run wrote there.
func writeKeys(dir string, c sandbox.Credentials) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string]string{
		"README.txt":              keysReadme,
		"merchant_public_key.pem": c.MerchantPublicKeyPEM,
	}
	for _, k := range c.BankKeys {
		files[k.KeyID+".pem"] = k.PublicKeyPEM
	}
	priv := filepath.Join(dir, "merchant_private_key.pem")
	if c.MerchantPrivateKeyPEM != "" {
		files["merchant_private_key.pem"] = c.MerchantPrivateKeyPEM
	} else if err := os.Remove(priv); err != nil && !errors.Is(err, os.ErrNotExist) {
		// The test app was registered again with a key the sandbox does
		// not know: an earlier run's private key would no longer match.
		return err
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	return nil
}

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
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
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

	// WithAddr also tells the control API which Host besides loopback is
	// this sandbox's own (docs/protocol.md, section 11).
	sb, stop, err := wallettest.StartServer(wallettest.WithAddr(*addr), wallettest.WithStatePath(*state),
		wallettest.WithNotifyScale(*scale), wallettest.WithLogger(logger), wallettest.WithoutNotifyReceiver())
	if err != nil {
		return err
	}
	creds, err := sb.Credentials()
	if err != nil {
		stop()
		return err
	}
	dir := *keysDir
	if dir == "" {
		if dir, err = defaultKeysDir(); err != nil {
			stop()
			return err
		}
	}
	if err := writeKeys(dir, creds); err != nil {
		stop()
		return fmt.Errorf("write the test keys to %s: %w", dir, err)
	}
	if u, err := url.Parse(sb.URL); err == nil && !isLoopback(u.Hostname()) {
		logger.Warn("listening beyond loopback: the sandbox publishes its test keys to anyone who can reach it", "url", sb.URL)
	}
	banner(os.Stdout, sb.URL, dir, creds, sb.Merchants())

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	<-ctx.Done()
	// Stop waits for calls in flight, then ends pending notifications and
	// closes the state file.
	logger.Info("shutting down")
	stop()
	return nil
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return host == "localhost" || (ip != nil && ip.IsLoopback())
}

// banner prints where the sandbox listens, its merchants and their notify
// URLs, and where the test keys are.
func banner(w io.Writer, base, keysDir string, creds wallettest.Credentials, merchants []wallettest.Merchant) {
	fmt.Fprintf(w, "sandbox bank listening\n  base URL      %s\n", base)
	fmt.Fprintf(w, "  merchants     (app id / merchant id → notify URL; register more with POST %s/sandbox/merchants)\n", base)
	for _, m := range merchants {
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
func writeKeys(dir string, c wallettest.Credentials) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string][]byte{"README.txt": []byte(keysReadme)}
	for id, k := range c.BankKeys {
		pem, err := k.MarshalPEM()
		if err != nil {
			return err
		}
		files[id+".pem"] = pem
	}
	priv := filepath.Join(dir, "merchant_private_key.pem")
	if c.MerchantKey != nil {
		pem, err := c.MerchantKey.MarshalPEM()
		if err != nil {
			return err
		}
		pub, err := c.MerchantKey.Public().MarshalPEM()
		if err != nil {
			return err
		}
		files["merchant_private_key.pem"], files["merchant_public_key.pem"] = pem, pub
	} else {
		// The test app was registered again with a key the sandbox does
		// not know: an earlier run's key pair would no longer match.
		for _, f := range []string{priv, filepath.Join(dir, "merchant_public_key.pem")} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}

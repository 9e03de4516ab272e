// Command sandbox runs the sandbox bank as a standalone server on loopback,
// so that any client (this SDK, curl, another language) can be pointed at
// it:
//
//	go run ./examples/sandbox
//	go run ./examples/sandbox -addr 127.0.0.1:9000 -state sandbox-state.jsonl -notify-scale 0.01
//
// On start it prints the base URL, the test app id and merchant id, and the
// folder where it wrote the test merchant's key pair and the bank's public
// keys as PEM files. Every key is a TEST key. SIGINT or SIGTERM shut it
// down cleanly: in-flight calls finish, then pending notifications stop and
// the state file is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	keysDir := flag.String("keys-dir", "", "folder for the test key PEM files (default: a new temporary folder)")
	verbose := flag.Bool("v", false, "log every API call")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	bank, err := sandbox.New(sandbox.Options{StatePath: *state, NotifyScale: *scale, Logger: logger})
	if err != nil {
		return err
	}
	defer bank.Close()

	dir, err := writeKeys(*keysDir, bank.Credentials())
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		logger.Warn("listening beyond loopback: the sandbox publishes its test keys to anyone who can reach it", "addr", ln.Addr())
	}
	creds := bank.Credentials()
	fmt.Printf(`sandbox bank listening
  base URL      http://%s
  app id        %s
  merchant id   %s
  keys (TEST)   %s
                merchant_private_key.pem, merchant_public_key.pem, and one <key_id>.pem per bank key
  signing key   %s
  control API   http://%s/sandbox/credentials
`, ln.Addr(), creds.AppID, creds.MerchantID, dir, creds.SigningKeyID, ln.Addr())

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

// writeKeys writes the test credentials as PEM files and returns the folder.
func writeKeys(dir string, c sandbox.Credentials) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "ewallet-sandbox-keys-")
		if err != nil {
			return "", err
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{
		"merchant_public_key.pem": c.MerchantPublicKeyPEM,
	}
	if c.MerchantPrivateKeyPEM != "" {
		files["merchant_private_key.pem"] = c.MerchantPrivateKeyPEM
	}
	for _, k := range c.BankKeys {
		files[k.KeyID+".pem"] = k.PublicKeyPEM
	}
	for name, pem := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(pem), 0o600); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// Package core holds the parts of a wallet.Client that the SDK's other
// packages (notifications, H5 links, statements, the test kit) use but a
// merchant must not reach: the merchant's key, the trusted bank keys, the
// one verifier of everything the bank signs, the clock and the logger.
//
// Package wallet fills Bridge in its init, before any code of the SDK can
// run, and never changes it again; a package that needs a client's core
// asks Bridge.Core. This is how the SDK's packages share a client without
// a public accessor for its key (the pattern grpc-go uses for its
// internal hooks).
package core

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// Core is what a client knows and can do, for the SDK's own packages.
type Core struct {
	AppID      string
	MerchantID string
	BaseURL    string // without a trailing slash
	Key        sign.Signer
	Keys       *Keyring
	// PinnedKeyID is the bank key requests are encrypted to when the
	// merchant pinned one (wallet.WithEncryptKeyID); "" lets Keys choose.
	PinnedKeyID string
	Now         func() time.Time
	Log         *slog.Logger
	// HTTP sends requests other than API calls (statement downloads)
	// through the client's transport, without the per-attempt timeout of
	// calls: a stream is bounded by its context and its own checks.
	HTTP *http.Client
}

// ErrNoClient is returned for a nil or zero wallet.Client.
var ErrNoClient = errors.New("the *wallet.Client is nil or was not made by wallet.NewClient")

// Bridge is set once, by package wallet's init.
var Bridge struct {
	// Core returns the core of a *wallet.Client (passed as any, since
	// this package cannot import wallet), or ErrNoClient.
	Core func(client any) (*Core, error)
	// MarshalWire encodes a request or payload for biz_content, with the
	// personal data types in clear.
	MarshalWire func(v any) ([]byte, error)
}

// Sign signs canonical(path, fields) with the merchant's key.
func (c *Core) Sign(ctx context.Context, path string, fields map[string]string) (string, error) {
	return sign.SignCanonical(ctx, c.Key, path, fields)
}

// EncryptKey is the bank key requests, PINs and H5 prefills are
// encrypted to now.
func (c *Core) EncryptKey() (BankKey, error) { return c.Keys.EncryptKey(c.PinnedKeyID, c.Now()) }

// Open opens a key envelope and body addressed to the merchant.
func (c *Core) Open(ctx context.Context, encryptKey, ciphertext, aad string) ([]byte, error) {
	return sign.Open(ctx, c.Key, encryptKey, ciphertext, aad)
}

package h5

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Builder makes signed links to the bank-hosted pages for one client, and
// verifies the bank's return redirects.
type Builder struct {
	c     *wallet.Client
	now   func() time.Time // nil: the client's clock
	nonce func() string
}

// Option tunes a Builder.
type Option func(*Builder)

// WithClock replaces the clock that stamps links and checks returns (the
// client's by default), so examples and tests can show exact output.
func WithClock(now func() time.Time) Option { return func(b *Builder) { b.now = now } }

// WithNonce replaces the random nonce (32 hex characters from crypto/rand)
// with a fixed source, for examples and tests only: the bank accepts a nonce
// once.
func WithNonce(nonce func() string) Option { return func(b *Builder) { b.nonce = nonce } }

// New returns a link builder for the client's app, merchant and keys. A nil
// client gives a Builder whose methods fail with an error saying so.
func New(c *wallet.Client, opts ...Option) *Builder {
	b := &Builder{c: c, nonce: randomNonce}
	for _, o := range opts {
		if o != nil {
			o(b)
		}
	}
	return b
}

func randomNonce() string {
	var n [16]byte
	_, _ = rand.Read(n[:])
	return hex.EncodeToString(n[:])
}

// core returns the client's core and the builder's clock.
func (b *Builder) core() (*core.Core, func() time.Time, error) {
	cc, err := core.Bridge.Core(b.c)
	if err != nil {
		return nil, nil, fmt.Errorf("h5: %w", err)
	}
	if b.now != nil {
		return cc, b.now, nil
	}
	return cc, cc.Now, nil
}

// URL returns the signed link that opens page p, valid for 10 minutes and
// once: build a fresh one each time the user opens the page. Personal data
// (the OpenPage prefill) is encrypted into the data field to the bank key
// the client encrypts to; the link names that key. A bad field gives a
// *wallet.FieldError naming it. ctx bounds the signature (a remote
// sign.Signer).
func (b *Builder) URL(ctx context.Context, p Page) (string, error) {
	if p == nil {
		return "", errors.New("h5: nil page")
	}
	cc, now, err := b.core()
	if err != nil {
		return "", err
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	vals, err := query.Values(p)
	if err != nil {
		return "", fmt.Errorf("h5: encoding %s: %w", p.name(), err)
	}
	nonce := b.nonce()
	if err := rules.Nonce(nonce); err != nil {
		return "", &wallet.FieldError{Field: "nonce", Reason: err.Error()}
	}
	vals.Set("app_id", cc.AppID)
	vals.Set("merchant_id", cc.MerchantID)
	vals.Set("timestamp", wire.Format(now()))
	vals.Set("nonce", nonce)
	vals.Set("sign_type", "SM2")
	if data := p.prefill(); data != nil {
		plain, err := core.Bridge.MarshalWire(data)
		if err != nil {
			return "", fmt.Errorf("h5: encoding data: %w", err)
		}
		k, err := cc.EncryptKey()
		if err != nil {
			return "", fmt.Errorf("h5: %w", err)
		}
		// AAD = nonce binds the data to this one link.
		ek, ct, err := sign.Seal(k.Key, plain, nonce)
		if err != nil {
			return "", fmt.Errorf("h5: encrypting data: %w", err)
		}
		vals.Set("data", ct)
		vals.Set("encrypt_type", "SM4-GCM")
		vals.Set("encrypt_key", ek)
		vals.Set("encrypt_key_id", k.ID)
	}
	fields := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return "", fmt.Errorf("h5: field %s has %d values", k, len(v))
		}
		fields[k] = v[0]
	}
	path := "/h5/" + p.name()
	sig, err := cc.Sign(ctx, path, fields)
	if err != nil {
		return "", fmt.Errorf("h5: signing: %w", err)
	}
	vals.Set("sign", sig)
	return cc.BaseURL + path + "?" + vals.Encode(), nil
}

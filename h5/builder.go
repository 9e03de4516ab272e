package h5

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/xinyun-open/ewallet-go/internal/rules"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
)

// Builder makes signed links to the bank-hosted pages for one client.
type Builder struct {
	c     *wallet.Client
	now   func() time.Time
	nonce func() string
}

// Option tunes a Builder.
type Option func(*Builder)

// WithClock replaces the clock that stamps links (the client's by default),
// so examples and tests can show exact output.
func WithClock(now func() time.Time) Option { return func(b *Builder) { b.now = now } }

// WithNonce replaces the random nonce (32 hex characters from crypto/rand)
// with a fixed source, for examples and tests only: the bank accepts a nonce
// once.
func WithNonce(nonce func() string) Option { return func(b *Builder) { b.nonce = nonce } }

// New returns a link builder for the client's app, merchant and keys.
func New(c *wallet.Client, opts ...Option) *Builder {
	b := &Builder{c: c, now: c.Now, nonce: randomNonce}
	for _, o := range opts {
		o(b)
	}
	return b
}

func randomNonce() string {
	var n [16]byte
	_, _ = rand.Read(n[:])
	return hex.EncodeToString(n[:])
}

// URL returns the signed link that opens page p, valid for 10 minutes and
// once: build a fresh one each time the user opens the page. Personal data
// (the Open page's prefill) is encrypted into the data field to the bank
// key the client encrypts to; the link names that key. A bad field gives a
// *wallet.FieldError naming it.
func (b *Builder) URL(p Page) (string, error) {
	if p == nil {
		return "", errors.New("h5: nil page")
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
		return "", wallet.NewFieldError("nonce", err.Error())
	}
	vals.Set("app_id", b.c.AppID())
	vals.Set("merchant_id", b.c.MerchantID())
	vals.Set("timestamp", wire.Format(b.now()))
	vals.Set("nonce", nonce)
	vals.Set("sign_type", "SM2")
	if data := p.prefill(); data != nil {
		plain, err := wallet.MarshalWire(data)
		if err != nil {
			return "", fmt.Errorf("h5: encoding data: %w", err)
		}
		keyID, key, err := b.c.EncryptKey()
		if err != nil {
			return "", err
		}
		// AAD = nonce binds the data to this one link.
		ek, ct, err := sign.Seal(key, plain, nonce)
		if err != nil {
			return "", fmt.Errorf("h5: encrypting data: %w", err)
		}
		vals.Set("data", ct)
		vals.Set("encrypt_type", "SM4-GCM")
		vals.Set("encrypt_key", ek)
		vals.Set("encrypt_key_id", keyID)
	}
	fields := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) != 1 {
			return "", fmt.Errorf("h5: field %s has %d values", k, len(v))
		}
		fields[k] = v[0]
	}
	path := "/h5/" + p.name()
	sig, err := sign.SignCanonical(context.Background(), b.c.PrivateKey(), path, fields)
	if err != nil {
		return "", fmt.Errorf("h5: signing: %w", err)
	}
	vals.Set("sign", sig)
	return b.c.BaseURL() + path + "?" + vals.Encode(), nil
}

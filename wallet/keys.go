package wallet

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/core"
	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// BankKey is one public key of the bank the client trusts.
type BankKey struct {
	ID        string
	Key       *sign.PublicKey
	NotBefore time.Time // zero when unknown (a configured key the bank has not listed yet)
	NotAfter  time.Time // zero when unknown
	// Configured says the key came from Config.BankKeys: an anchor of
	// trust that a refresh never drops.
	Configured bool
}

func publicKey(k core.BankKey) BankKey {
	return BankKey{ID: k.ID, Key: k.Key, NotBefore: k.NotBefore, NotAfter: k.NotAfter, Configured: k.Anchor}
}

// BankKeys returns the bank keys the client trusts now, sorted by id.
func (c *Client) BankKeys() []BankKey {
	if c == nil || c.core == nil {
		return nil
	}
	list := c.core.Keys.List()
	out := make([]BankKey, len(list))
	for i, k := range list {
		out[i] = publicKey(k)
	}
	return out
}

// PINKey is what the user's device needs to encrypt a PIN for this client
// (docs/protocol.md, section 5): the bank key's id, its public key in the
// forms mobile and JavaScript SM2 libraries take, and until when the bank
// accepts it. Its JSON form is what to send to the merchant's app.
type PINKey struct {
	KeyID string `json:"key_id"`
	// Hex is the uncompressed point 04‖X‖Y, 130 hex characters (sm-crypto,
	// BouncyCastle's ECPoint decoding, GMObjC).
	Hex string `json:"public_key_hex"`
	// PEM is the SubjectPublicKeyInfo PEM.
	PEM string `json:"public_key_pem"`
	// NotAfter is when the bank stops accepting the key; zero when the
	// client has not learnt it (call RefreshBankKeys). Ask again before it.
	NotAfter time.Time `json:"-"`
}

// MarshalJSON writes not_after in the protocol's time format (omitted when
// unknown).
func (k PINKey) MarshalJSON() ([]byte, error) {
	type plain PINKey
	v := struct {
		plain
		NotAfter *wire.Time `json:"not_after,omitempty"`
	}{plain: plain(k)}
	if !k.NotAfter.IsZero() {
		v.NotAfter = &wire.Time{Time: k.NotAfter}
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (k *PINKey) UnmarshalJSON(b []byte) error {
	type plain PINKey
	v := struct {
		*plain
		NotAfter wire.Time `json:"not_after"`
	}{plain: (*plain)(k)}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	k.NotAfter = v.NotAfter.Time
	return nil
}

// PINKey returns the bank key the user's device should encrypt a PIN to:
// the key this client encrypts requests to. The device encrypts the six
// ASCII digits with SM2 (C1C3C2, C1 uncompressed, raw) and base64, and the
// merchant's server passes the result on as EncryptedPIN{KeyID,
// Ciphertext}: the digits never reach the merchant's servers.
func (c *Client) PINKey() (PINKey, error) {
	if c == nil || c.core == nil {
		return PINKey{}, errNoClient
	}
	k, err := c.core.EncryptKey()
	if err != nil {
		return PINKey{}, fmt.Errorf("wallet: %w", err)
	}
	pem, err := k.Key.MarshalPEM()
	if err != nil {
		return PINKey{}, err
	}
	return PINKey{KeyID: k.ID, Hex: k.Key.Hex(), PEM: string(pem), NotAfter: k.NotAfter}, nil
}

const pathPlatformKeys = "platform/keys"

type keysResponse struct {
	Keys []struct {
		KeyID     string    `json:"key_id"`
		PublicKey string    `json:"public_key"`
		NotBefore wire.Time `json:"not_before"`
		NotAfter  wire.Time `json:"not_after"`
	} `json:"keys"`
}

// RefreshBankKeys asks the bank for its current keys (platform/keys) and
// trusts that list, under three rules (docs/protocol.md, section 7): the
// answer is accepted only because it verified under a key the client
// already trusted, like every answer; a list that maps an id the client
// already trusts to another key is refused whole (a key behind a trusted
// id never changes, whoever signed the list); and the keys of
// Config.BankKeys stay trusted whether listed or not. A list that is
// empty, names an id twice or holds a key that does not parse is refused
// too, and the trusted set stays as it was.
func (c *Client) RefreshBankKeys(ctx context.Context) error {
	if c == nil || c.core == nil {
		return errNoClient
	}
	var resp keysResponse
	if err := c.Do(ctx, pathPlatformKeys, nil, &resp); err != nil {
		return err
	}
	if len(resp.Keys) == 0 {
		return fmt.Errorf("wallet: %s: the bank listed no keys; keeping the trusted set", pathPlatformKeys)
	}
	keys := make([]core.BankKey, 0, len(resp.Keys))
	for i, k := range resp.Keys {
		if err := checkID("BankKeys key id", k.KeyID); err != nil {
			return fmt.Errorf("wallet: %s: key %d: bad key_id; keeping the trusted set", pathPlatformKeys, i)
		}
		pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
		if err != nil {
			return fmt.Errorf("wallet: %s: key %q: %w; keeping the trusted set", pathPlatformKeys, k.KeyID, err)
		}
		keys = append(keys, core.BankKey{ID: k.KeyID, Key: pub, NotBefore: k.NotBefore.Time, NotAfter: k.NotAfter.Time})
	}
	if err := c.core.Keys.Replace(keys); err != nil {
		c.core.Log.LogAttrs(ctx, levelWarn, "wallet: bank key list refused", errAttr(err))
		return fmt.Errorf("wallet: %s: %w; keeping the trusted set", pathPlatformKeys, err)
	}
	c.core.Log.LogAttrs(ctx, levelInfo, "wallet: bank keys refreshed", attrKeys(keys))
	return nil
}

// RefreshBankKeysEvery refreshes the bank keys now and then every interval
// in the background, logging failures (the trusted set is kept when a
// refresh fails). An interval of zero or less means every six hours. It
// returns a function that stops the refreshing; call it before you drop the
// Client.
func (c *Client) RefreshBankKeysEvery(interval time.Duration) (stop func()) {
	if interval <= 0 {
		interval = 6 * time.Hour
	}
	if c == nil || c.core == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			rctx, rcancel := context.WithTimeout(ctx, interval)
			if err := c.RefreshBankKeys(rctx); err != nil && ctx.Err() == nil {
				c.core.Log.LogAttrs(ctx, levelWarn, "wallet: bank key refresh failed", errAttr(err))
			}
			rcancel()
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}

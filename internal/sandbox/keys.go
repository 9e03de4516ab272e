package sandbox

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// BankKey is one of the bank's SM2 key pairs (section 7). Every bank key
// signs and decrypts; requests encrypted to a key whose NotAfter has passed
// (on the real clock) get DECRYPT_FAILED. A zero NotAfter never expires.
type BankKey struct {
	ID        string
	Key       *sign.PrivateKey
	NotBefore time.Time
	NotAfter  time.Time
}

// PublicBankKey is a bank key as merchants see it.
type PublicBankKey struct {
	KeyID        string `json:"key_id"`
	PublicKeyPEM string `json:"public_key"`
}

// DefaultBankKeys returns the two built-in TEST bank keys: bank-2026-01
// (from 2026-01-01) and bank-2026-07 (from 2026-07-01), both valid until
// 2036-01-01 00:00:00 UTC+8.
func DefaultBankKeys() ([]BankKey, error) {
	until := time.Date(2036, 1, 1, 0, 0, 0, 0, wire.Shanghai)
	var keys []BankKey
	for _, k := range []struct {
		id   string
		pem  string
		from time.Time
	}{
		{DefaultBankKeyID, DefaultBankKeyPEM, time.Date(2026, 1, 1, 0, 0, 0, 0, wire.Shanghai)},
		{DefaultNextBankKeyID, DefaultNextBankKeyPEM, time.Date(2026, 7, 1, 0, 0, 0, 0, wire.Shanghai)},
	} {
		priv, err := sign.ParsePrivateKey([]byte(k.pem))
		if err != nil {
			return nil, fmt.Errorf("sandbox: built-in bank key %s: %w", k.id, err)
		}
		keys = append(keys, BankKey{ID: k.id, Key: priv, NotBefore: k.from, NotAfter: until})
	}
	return keys, nil
}

// keyring holds the bank keys and which one signs.
type keyring struct {
	keys   []BankKey // fixed after New
	pubPEM map[string]string

	mu      sync.RWMutex
	signing string
}

func newKeyring(keys []BankKey, signing string) (*keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("sandbox: no bank keys")
	}
	r := &keyring{pubPEM: map[string]string{}}
	for _, k := range keys {
		if k.ID == "" || k.Key == nil {
			return nil, errors.New("sandbox: a bank key needs an ID and a Key")
		}
		if _, dup := r.pubPEM[k.ID]; dup {
			return nil, fmt.Errorf("sandbox: bank key id %q appears twice", k.ID)
		}
		pem, err := k.Key.Public().MarshalPEM()
		if err != nil {
			return nil, fmt.Errorf("sandbox: bank key %q: %w", k.ID, err)
		}
		r.pubPEM[k.ID] = string(pem)
		r.keys = append(r.keys, k)
	}
	if signing == "" {
		signing = keys[0].ID
	}
	if err := r.setSigning(signing); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *keyring) find(id string) *BankKey {
	for i := range r.keys {
		if r.keys[i].ID == id {
			return &r.keys[i]
		}
	}
	return nil
}

func (r *keyring) setSigning(id string) error {
	if r.find(id) == nil {
		return fmt.Errorf("sandbox: no bank key %q", id)
	}
	r.mu.Lock()
	r.signing = id
	r.mu.Unlock()
	return nil
}

// signer returns the key that signs answers, notifications and returns now.
func (r *keyring) signer() (string, *sign.PrivateKey) {
	r.mu.RLock()
	id := r.signing
	r.mu.RUnlock()
	return id, r.find(id).Key
}

func (r *keyring) signingID() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.signing
}

// decrypter is the key a request names in encrypt_key_id, if the bank holds
// it and it has not passed its not_after (section 7).
func (r *keyring) decrypter(id string, now time.Time) (*sign.PrivateKey, *apiError) {
	k := r.find(id)
	if k == nil {
		return nil, fail(codeDecryptFailed, "encrypt_key_id names no key of this bank: fetch platform/keys")
	}
	if !k.NotAfter.IsZero() && now.After(k.NotAfter) {
		return nil, fail(codeDecryptFailed, "encrypt_key_id names a retired bank key: encrypt to a current one")
	}
	return k.Key, nil
}

func (r *keyring) public() []PublicBankKey {
	out := make([]PublicBankKey, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, PublicBankKey{KeyID: k.ID, PublicKeyPEM: r.pubPEM[k.ID]})
	}
	return out
}

// platformKey is one entry of the platform/keys answer.
type platformKey struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	NotBefore string `json:"not_before,omitempty"`
	NotAfter  string `json:"not_after,omitempty"`
}

type platformKeysView struct {
	Keys []platformKey `json:"keys"`
}

// platformKeysArgs is platform/keys: no fields.
type platformKeysArgs struct{}

func (r *keyring) platformKeys(caller, platformKeysArgs) (platformKeysView, *apiError) {
	out := platformKeysView{Keys: []platformKey{}}
	for _, k := range r.keys {
		out.Keys = append(out.Keys, platformKey{
			KeyID: k.ID, PublicKey: r.pubPEM[k.ID],
			NotBefore: formatTime(k.NotBefore), NotAfter: formatTime(k.NotAfter),
		})
	}
	return out, nil
}

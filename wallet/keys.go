package wallet

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/internal/wire"
	"github.com/xinyun-open/ewallet-go/sign"
)

// BankKey is one public key of the bank, as platform/keys lists it.
type BankKey struct {
	ID        string
	Key       *sign.PublicKey
	NotBefore time.Time // zero when unknown (keys given in Config)
	NotAfter  time.Time // zero when unknown
}

// keyring is the set of bank keys a client trusts. It is the one part of a
// Client that changes after NewClient: a refresh replaces the set as a whole.
type keyring struct {
	mu         sync.RWMutex
	keys       map[string]BankKey
	lastSigner string // the key id the bank last signed an answer with
}

func newKeyring(keys map[string]*sign.PublicKey) *keyring {
	r := &keyring{keys: make(map[string]BankKey, len(keys))}
	for id, k := range keys {
		r.keys[id] = BankKey{ID: id, Key: k}
	}
	return r
}

// verifier returns the trusted key with that id.
func (r *keyring) verifier(id string) (*sign.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k.Key, ok
}

func (r *keyring) signedBy(id string) {
	r.mu.Lock()
	r.lastSigner = id
	r.mu.Unlock()
}

// encryptKey picks the bank key a request is encrypted to: the pinned id if
// any, else the newest not_before among keys valid now, else the key the bank
// last signed with, else the greatest id (ids such as bank-2026-07 sort by
// date).
func (r *keyring) encryptKey(pinned string, now time.Time) (string, *sign.PublicKey, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if pinned != "" {
		k, ok := r.keys[pinned]
		if !ok {
			return "", nil, fmt.Errorf("wallet: bank key %q is not trusted", pinned)
		}
		return k.ID, k.Key, nil
	}
	var best *BankKey
	for _, k := range r.keys {
		if k.NotBefore.IsZero() || now.Before(k.NotBefore) || (!k.NotAfter.IsZero() && now.After(k.NotAfter)) {
			continue
		}
		if best == nil || k.NotBefore.After(best.NotBefore) || (k.NotBefore.Equal(best.NotBefore) && k.ID > best.ID) {
			best = &k
		}
	}
	if best != nil {
		return best.ID, best.Key, nil
	}
	if k, ok := r.keys[r.lastSigner]; ok {
		return k.ID, k.Key, nil
	}
	ids := make([]string, 0, len(r.keys))
	for id := range r.keys {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return "", nil, errors.New("wallet: no trusted bank key")
	}
	id := slices.Max(ids)
	return id, r.keys[id].Key, nil
}

func (r *keyring) list() []BankKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]BankKey, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b BankKey) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (r *keyring) replace(keys []BankKey) {
	m := make(map[string]BankKey, len(keys))
	for _, k := range keys {
		m[k.ID] = k
	}
	r.mu.Lock()
	r.keys = m
	r.mu.Unlock()
}

// BankKeys returns the bank keys the client trusts now, sorted by id.
func (c *Client) BankKeys() []BankKey { return c.keys.list() }

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
// trusts exactly that list from now on. The list is accepted only because
// the answer verified under a key the client already trusted, like every
// answer; a list that is empty or holds a key that does not parse is
// refused and the trusted set stays as it was.
func (c *Client) RefreshBankKeys(ctx context.Context) error {
	var resp keysResponse
	if err := c.Do(ctx, pathPlatformKeys, nil, &resp); err != nil {
		return err
	}
	if len(resp.Keys) == 0 {
		return fmt.Errorf("wallet: %s: the bank listed no keys; keeping the trusted set", pathPlatformKeys)
	}
	keys := make([]BankKey, 0, len(resp.Keys))
	for i, k := range resp.Keys {
		if k.KeyID == "" {
			return fmt.Errorf("wallet: %s: key %d has no key_id; keeping the trusted set", pathPlatformKeys, i)
		}
		pub, err := sign.ParsePublicKey([]byte(k.PublicKey))
		if err != nil {
			return fmt.Errorf("wallet: %s: key %q: %w; keeping the trusted set", pathPlatformKeys, k.KeyID, err)
		}
		keys = append(keys, BankKey{ID: k.KeyID, Key: pub, NotBefore: k.NotBefore.Time, NotAfter: k.NotAfter.Time})
	}
	c.keys.replace(keys)
	c.log.LogAttrs(ctx, levelInfo, "wallet: bank keys refreshed", attrKeys(keys))
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			rctx, rcancel := context.WithTimeout(ctx, interval)
			if err := c.RefreshBankKeys(rctx); err != nil && ctx.Err() == nil {
				c.log.LogAttrs(ctx, levelWarn, "wallet: bank key refresh failed", errAttr(err))
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

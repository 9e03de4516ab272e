package core

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xinyun-open/ewallet-go/sign"
)

// BankKey is one public key of the bank the client trusts.
type BankKey struct {
	ID        string
	Key       *sign.PublicKey
	NotBefore time.Time // zero when unknown (a configured key not yet listed by the bank)
	NotAfter  time.Time // zero when unknown
	Anchor    bool      // given in the client's configuration
}

// Keyring is the set of bank keys a client trusts. It is the one part of a
// client that changes after it is made: a refresh from platform/keys
// replaces the listed keys as a whole, under two rules (docs/protocol.md,
// section 7): an id already trusted never changes its key, and the keys
// the client was configured with (its anchors) stay trusted.
type Keyring struct {
	mu         sync.RWMutex
	keys       map[string]BankKey
	lastSigner string // the key id the bank last signed an answer with
}

// NewKeyring trusts the configured keys as anchors.
func NewKeyring(anchors map[string]*sign.PublicKey) *Keyring {
	r := &Keyring{keys: make(map[string]BankKey, len(anchors))}
	for id, k := range anchors {
		r.keys[id] = BankKey{ID: id, Key: k, Anchor: true}
	}
	return r
}

// Verifier returns the trusted key with that id.
func (r *Keyring) Verifier(id string) (*sign.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k.Key, ok
}

// Get returns the trusted key with that id.
func (r *Keyring) Get(id string) (BankKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.keys[id]
	return k, ok
}

// SignedBy records the key id of a verified answer.
func (r *Keyring) SignedBy(id string) {
	r.mu.Lock()
	r.lastSigner = id
	r.mu.Unlock()
}

// EncryptKey picks the bank key a request is encrypted to: the pinned id
// if any, else the newest not_before among keys valid now, else the key the
// bank last signed with, else the greatest id (ids such as bank-2026-07
// sort by date).
func (r *Keyring) EncryptKey(pinned string, now time.Time) (BankKey, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if pinned != "" {
		k, ok := r.keys[pinned]
		if !ok {
			return BankKey{}, fmt.Errorf("bank key %q is not trusted", pinned)
		}
		return k, nil
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
		return *best, nil
	}
	if k, ok := r.keys[r.lastSigner]; ok {
		return k, nil
	}
	if len(r.keys) == 0 {
		return BankKey{}, errors.New("no trusted bank key")
	}
	var id string
	for k := range r.keys {
		id = max(id, k)
	}
	return r.keys[id], nil
}

// List returns the trusted keys sorted by id.
func (r *Keyring) List() []BankKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]BankKey, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b BankKey) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Replace trusts exactly the listed keys plus the anchors. It refuses the
// whole list, changing nothing, when it maps an id already trusted to
// another key: a key behind a trusted id never changes, whoever signed the
// list. An anchor the list names takes the list's validity dates.
func (r *Keyring) Replace(listed []BankKey) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	next := make(map[string]BankKey, len(listed)+len(r.keys))
	for _, k := range listed {
		if old, ok := r.keys[k.ID]; ok && !old.Key.Equal(k.Key) {
			return fmt.Errorf("the list maps the trusted id %q to another key", k.ID)
		}
		if _, dup := next[k.ID]; dup {
			return fmt.Errorf("the list names %q twice", k.ID)
		}
		k.Anchor = false
		next[k.ID] = k
	}
	for id, k := range r.keys {
		if !k.Anchor {
			continue
		}
		if listed, ok := next[id]; ok {
			listed.Anchor = true
			next[id] = listed
			continue
		}
		next[id] = k
	}
	r.keys = next
	return nil
}

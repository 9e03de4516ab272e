package wallet_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

type keyEntry struct {
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"`
	NotBefore string `json:"not_before,omitempty"`
	NotAfter  string `json:"not_after,omitempty"`
}

func pemOf(t *testing.T, k *sign.PrivateKey) string {
	p, err := k.Public().MarshalPEM()
	require.NoError(t, err)
	return string(p)
}

func TestRefreshBankKeysRotation(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client() // trusts mock-bank-1 only
	next := bank.AddBankKey("mock-bank-2")
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{
		{KeyID: "mock-bank-1", PublicKey: pemOf(t, bank.BankKey("mock-bank-1")), NotBefore: "2026-01-01 00:00:00", NotAfter: "2036-01-01 00:00:00"},
		{KeyID: "mock-bank-2", PublicKey: pemOf(t, next), NotBefore: "2026-07-01 00:00:00", NotAfter: "2036-01-01 00:00:00"},
	}})
	bank.Reply("payment/query", map[string]any{})

	// Before the refresh an answer signed by the new key is refused.
	bank.UseSigningKey("mock-bank-2")
	require.ErrorIs(t, c.Do(ctx, "payment/query", nil, nil), wallet.ErrUnverifiedResponse)

	// The list itself must verify under a key already trusted.
	require.ErrorIs(t, c.RefreshBankKeys(ctx), wallet.ErrUnverifiedResponse)
	require.Len(t, c.BankKeys(), 1)

	bank.UseSigningKey("mock-bank-1")
	require.NoError(t, c.RefreshBankKeys(ctx))
	keys := c.BankKeys()
	require.Len(t, keys, 2)
	require.Equal(t, "mock-bank-2", keys[1].ID)
	require.Equal(t, 2026, keys[1].NotBefore.Year())

	// Now the new key is trusted, and the newest key is the one encrypted to.
	bank.UseSigningKey("mock-bank-2")
	require.NoError(t, c.Do(ctx, "payment/query", nil, nil))
	reqs := bank.Requests()
	require.Equal(t, "mock-bank-2", reqs[len(reqs)-1].EncryptKeyID)
	pin, err := c.EncryptPIN("135790")
	require.NoError(t, err)
	require.Equal(t, "mock-bank-2", pin.KeyID)
	raw, err := base64.StdEncoding.DecodeString(pin.Ciphertext)
	require.NoError(t, err)
	got, err := next.Decrypt(ctx, raw)
	require.NoError(t, err)
	require.Equal(t, "135790", string(got))
}

func TestRefreshBankKeysRefusesBadLists(t *testing.T) {
	t.Parallel()
	stranger, err := sign.GenerateKey()
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		biz   any
		reply func(*wallettest.MockBank) wallettest.Reply
	}{
		"empty list":       {biz: map[string]any{"keys": []keyEntry{}}},
		"key without id":   {biz: map[string]any{"keys": []keyEntry{{PublicKey: pemOf(t, stranger)}}}},
		"key that is junk": {biz: map[string]any{"keys": []keyEntry{{KeyID: "x", PublicKey: "junk"}}}},
		"signed by a stranger": {reply: func(*wallettest.MockBank) wallettest.Reply {
			return wallettest.Reply{SignWith: stranger, Biz: map[string]any{"keys": []keyEntry{{KeyID: "evil", PublicKey: pemOf(t, stranger)}}}}
		}},
	} {
		t.Run(name, func(t *testing.T) {
			bank := wallettest.NewMockBank(t)
			if tc.reply != nil {
				bank.On("platform/keys", func(*wallettest.Request) wallettest.Reply { return tc.reply(bank) })
			} else {
				bank.Reply("platform/keys", tc.biz)
			}
			c := bank.Client()
			require.Error(t, c.RefreshBankKeys(ctx))
			keys := c.BankKeys()
			require.Len(t, keys, 1)
			require.Equal(t, "mock-bank-1", keys[0].ID, "the trusted set stays as it was")
		})
	}
}

func TestRefreshBankKeysEvery(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	next := bank.AddBankKey("mock-bank-2")
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{
		{KeyID: "mock-bank-1", PublicKey: pemOf(t, bank.BankKey("mock-bank-1"))},
		{KeyID: "mock-bank-2", PublicKey: pemOf(t, next)},
	}})
	cfg := bank.Config()
	delete(cfg.BankKeys, "mock-bank-2")
	c, err := wallet.NewClient(cfg, wallet.WithHTTPClient(&http.Client{Transport: bank}))
	require.NoError(t, err)
	stop := c.RefreshBankKeysEvery(10 * time.Millisecond)
	require.Eventually(t, func() bool { return len(bank.Requests()) >= 3 }, 2*time.Second, 5*time.Millisecond)
	stop()
	stop() // idempotent
	n := len(bank.Requests())
	time.Sleep(40 * time.Millisecond)
	require.Equal(t, n, len(bank.Requests()), "no refresh after stop")
	require.Len(t, c.BankKeys(), 2)
}

func TestEncryptKeyChoice(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.AddBankKey("mock-bank-0")
	bank.Reply("payment/query", map[string]any{})
	// Without metadata and before any answer: the greatest id.
	c := bank.Client()
	k, err := c.PINKey()
	require.NoError(t, err)
	require.Equal(t, "mock-bank-1", k.KeyID)
	// After an answer: the key the bank last signed with.
	bank.UseSigningKey("mock-bank-0")
	require.NoError(t, c.Do(ctx, "payment/query", nil, nil))
	k, _ = c.PINKey()
	require.Equal(t, "mock-bank-0", k.KeyID)
	// Pinned wins.
	pinned := bank.Client(wallet.WithEncryptKeyID("mock-bank-1"))
	require.NoError(t, pinned.Do(ctx, "payment/query", nil, nil))
	k, _ = pinned.PINKey()
	require.Equal(t, "mock-bank-1", k.KeyID)
}

// A man in the middle with a signed key list (section 7): the list can
// add keys, but never change the key behind an id the client trusts, and
// never drop a configured key.
func TestRefreshBankKeysKeepsTrustedKeys(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	attacker, err := sign.GenerateKey()
	require.NoError(t, err)
	c := bank.Client()
	// A list (signed by the trusted key, as the bank's own signature over a
	// forged answer once was) that maps the trusted id to another key.
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{{KeyID: "mock-bank-1", PublicKey: pemOf(t, attacker)}}})
	err = c.RefreshBankKeys(ctx)
	require.ErrorContains(t, err, "maps the trusted id")
	keys := c.BankKeys()
	require.Len(t, keys, 1)
	require.True(t, keys[0].Key.Equal(bank.BankKey("mock-bank-1").Public()), "the trusted key did not change")

	// A list that names only a new key adds it and keeps the configured one.
	next := bank.AddBankKey("mock-bank-2")
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{{KeyID: "mock-bank-2", PublicKey: pemOf(t, next), NotBefore: "2026-07-01 00:00:00"}}})
	require.NoError(t, c.RefreshBankKeys(ctx))
	keys = c.BankKeys()
	require.Len(t, keys, 2)
	require.True(t, keys[0].Configured, "a configured key stays an anchor")
	require.False(t, keys[1].Configured)

	// A later list that drops mock-bank-2 drops it; it cannot drop the anchor.
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{{KeyID: "mock-bank-3", PublicKey: pemOf(t, bank.AddBankKey("mock-bank-3"))}}})
	require.NoError(t, c.RefreshBankKeys(ctx))
	var ids []string
	for _, k := range c.BankKeys() {
		ids = append(ids, k.ID)
	}
	require.Equal(t, []string{"mock-bank-1", "mock-bank-3"}, ids)
}

func TestPINKeyDescribesTheKeyForTheDevice(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	c := bank.Client()
	k, err := c.PINKey()
	require.NoError(t, err)
	pub := bank.BankKey("mock-bank-1").Public()
	require.Equal(t, pub.Hex(), k.Hex)
	fromPEM, err := sign.ParsePublicKey([]byte(k.PEM))
	require.NoError(t, err)
	require.True(t, fromPEM.Equal(pub))
	require.True(t, k.NotAfter.IsZero(), "a configured key's not_after is unknown until the bank lists it")
	b, err := json.Marshal(k)
	require.NoError(t, err)
	var back wallet.PINKey
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, k, back)
}

func TestEncryptPINRejectsNonPINs(t *testing.T) {
	t.Parallel()
	c := wallettest.NewMockBank(t).Client()
	for _, bad := range []string{"", "12345", "1234567", "12a456"} {
		_, err := c.EncryptPIN(bad)
		var fe *wallet.FieldError
		require.ErrorAs(t, err, &fe)
		require.Equal(t, "password", fe.Field)
	}
}

func TestRefreshBankKeysEveryTakesAnyInterval(t *testing.T) {
	t.Parallel()
	bank := wallettest.NewMockBank(t)
	bank.Reply("platform/keys", map[string]any{"keys": []keyEntry{{KeyID: "mock-bank-1", PublicKey: pemOf(t, bank.BankKey("mock-bank-1"))}}})
	c := bank.Client()
	for _, d := range []time.Duration{0, -time.Second} {
		stop := c.RefreshBankKeysEvery(d) // never a panic: a default interval
		require.Eventually(t, func() bool { return len(bank.Requests()) > 0 }, time.Second, time.Millisecond)
		stop()
	}
}

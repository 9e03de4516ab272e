package wallet_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/xinyun-open/ewallet-go/sign"
	"github.com/xinyun-open/ewallet-go/wallet"
	"github.com/xinyun-open/ewallet-go/wallet/wallettest"
)

func TestNewClientNamesTheBadField(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	good := bank.Config()
	for name, tc := range map[string]struct {
		edit func(*wallet.Config)
		want string
	}{
		"no base url":       {func(c *wallet.Config) { c.BaseURL = "" }, "Config.BaseURL is required"},
		"relative base url": {func(c *wallet.Config) { c.BaseURL = "/api" }, "Config.BaseURL must be an absolute http or https URL"},
		"ftp base url":      {func(c *wallet.Config) { c.BaseURL = "ftp://bank" }, "Config.BaseURL must be an absolute http or https URL"},
		"query in base url": {func(c *wallet.Config) { c.BaseURL = "https://bank/?x=1" }, "Config.BaseURL must not carry"},
		"no app id":         {func(c *wallet.Config) { c.AppID = "" }, "Config.AppID is required"},
		"app id with space": {func(c *wallet.Config) { c.AppID = "a b" }, "Config.AppID must be printable ASCII"},
		"no merchant id":    {func(c *wallet.Config) { c.MerchantID = "" }, "Config.MerchantID is required"},
		"no private key":    {func(c *wallet.Config) { c.PrivateKey = nil }, "Config.PrivateKey is required"},
		"nil private key":   {func(c *wallet.Config) { c.PrivateKey = (*sign.PrivateKey)(nil) }, "Config.PrivateKey is required"},
		"plain http":        {func(c *wallet.Config) { c.BaseURL = "http://bank.example" }, "plain http on a host that is not loopback"},
		"no bank keys":      {func(c *wallet.Config) { c.BankKeys = nil }, "Config.BankKeys needs at least one"},
		"nil bank key": {func(c *wallet.Config) {
			c.BankKeys = map[string]*sign.PublicKey{"k": nil}
		}, `Config.BankKeys["k"] is nil`},
		"empty key id": {func(c *wallet.Config) {
			c.BankKeys = map[string]*sign.PublicKey{"": good.PrivateKey.Public()}
		}, "Config.BankKeys key id is required"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := bank.Config()
			tc.edit(&cfg)
			c, err := wallet.NewClient(cfg)
			require.Nil(t, c)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	for name, tc := range map[string]struct {
		opt  wallet.Option
		want string
	}{
		"timeout":    {wallet.WithTimeout(0), "WithTimeout"},
		"retry":      {wallet.WithRetry(-1), "WithRetry"},
		"backoff":    {wallet.WithBackoff(time.Second, time.Millisecond), "WithBackoff"},
		"http":       {wallet.WithHTTPClient(nil), "WithHTTPClient"},
		"logger":     {wallet.WithLogger(nil), "WithLogger"},
		"clock":      {wallet.WithClock(nil), "WithClock"},
		"encryption": {wallet.WithEncryption(7), "WithEncryption"},
		"key id":     {wallet.WithEncryptKeyID("nope"), "WithEncryptKeyID"},
		"nil option": {nil, "nil Option"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := wallet.NewClient(bank.Config(), tc.opt)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestNewClientCopiesWhatItIsGiven(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	cfg := bank.Config()
	bank.Reply("payment/query", map[string]any{})
	hc := &http.Client{Timeout: time.Hour, Transport: bank}
	c, err := wallet.NewClient(cfg, wallet.WithHTTPClient(hc), wallet.WithTimeout(time.Second))
	require.NoError(t, err)
	require.Equal(t, time.Hour, hc.Timeout, "the caller's http.Client must not be changed")
	require.Equal(t, http.RoundTripper(bank), hc.Transport, "the caller's http.Client must not be changed")
	require.NoError(t, c.Do(ctx, "payment/query", nil, nil), "the copy sends through the caller's transport")
	delete(cfg.BankKeys, "mock-bank-1")
	require.Len(t, c.BankKeys(), 1, "changing the caller's map must not change the client")
	require.Equal(t, strings.TrimRight(cfg.BaseURL, "/"), c.BaseURL())
}

func TestPlainHTTPNeedsLoopbackOrConsent(t *testing.T) {
	bank := wallettest.NewMockBank(t)
	for _, u := range []string{"http://127.0.0.1:8360", "http://localhost:8360/bank", "http://[::1]:8360", "https://bank.example"} {
		cfg := bank.Config()
		cfg.BaseURL = u
		_, err := wallet.NewClient(cfg)
		require.NoError(t, err, u)
	}
	cfg := bank.Config()
	cfg.BaseURL = "http://10.0.0.8:8360"
	_, err := wallet.NewClient(cfg)
	require.ErrorContains(t, err, "WithInsecureHTTP")
	_, err = wallet.NewClient(cfg, wallet.WithInsecureHTTP())
	require.NoError(t, err)
}

func TestZeroClientFailsClearly(t *testing.T) {
	var zero wallet.Client
	var nilClient *wallet.Client
	for _, c := range []*wallet.Client{&zero, nilClient} {
		err := c.Do(ctx, "payment/query", nil, nil)
		require.ErrorContains(t, err, "not made by wallet.NewClient")
		_, err = c.Query(ctx, wallet.QueryRequest{IDNumber: "110101199003074514", Mobile: "13800138000", UserID: "u1"})
		require.ErrorContains(t, err, "not made by wallet.NewClient")
		_, err = c.EncryptPIN("135790")
		require.Error(t, err)
		_, err = c.PINKey()
		require.Error(t, err)
		require.Error(t, c.RefreshBankKeys(ctx))
		require.Nil(t, c.BankKeys())
		require.Empty(t, c.AppID())
		c.RefreshBankKeysEvery(time.Hour)()
	}
}
